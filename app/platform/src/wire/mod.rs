//! The wire types of the platform API: what the kiosk and the provincial platform
//! (一体化政务服务中台) exchange as JSON. `openapi.yaml` beside `Cargo.toml` is the same contract
//! written for people and other tools; every type here says which schema it is.
//!
//! Conventions:
//! - Every request carries the kiosk id in the `X-Kiosk-Id` header ([`KIOSK_ID_HEADER`]).
//! - Every write carries an `Idempotency-Key` header ([`IDEMPOTENCY_KEY_HEADER`]); sending the
//!   same key with the same body again gives the same answer and never a second effect; the
//!   same key with a different body is refused with 409.
//! - Personal data (names, ID numbers, addresses, phones, codes) travels only in bodies, never
//!   in URLs or query strings: URLs end up in proxy logs.
//! - Times are RFC 3339 instants in UTC (`2026-11-22T08:00:00Z`), dates are `YYYY-MM-DD`.
//! - `Debug` of every type that carries personal data masks it.

mod application;
mod card;
mod catalogue;
mod evaluation;
mod heartbeat;
mod locker;
mod progress;
mod shared;
mod sim;

pub use application::*;
pub use card::*;
pub use catalogue::*;
pub use evaluation::*;
pub use heartbeat::*;
pub use locker::*;
pub use progress::*;
pub use shared::*;
pub use sim::*;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The version prefix of every route of the real API.
pub const API_PREFIX: &str = "/v1";
/// The header naming the kiosk that sends a request (e.g. `ZJ-330106-XH-01`).
pub const KIOSK_ID_HEADER: &str = "X-Kiosk-Id";
/// The header carrying the idempotency key of a write.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The body of every answer that is not a success (schema `Error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable machine code.
    pub error: ErrorCode,
    /// Plain words for a technician. Never contains personal data.
    pub message: String,
}

impl ApiError {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            error,
            message: message.into(),
        }
    }
}

/// Machine codes of [`ApiError`] (schema `ErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be read (bad JSON, a missing header, a bad path parameter).
    BadRequest,
    /// The `X-Kiosk-Id` header is missing or does not match the body.
    MissingKioskId,
    /// The `Idempotency-Key` header is missing or does not match the body.
    MissingIdempotencyKey,
    /// The request was read but its content is not acceptable (a field out of range…).
    Invalid,
    /// Nothing matches (also used for a wrong query code, with no hint whether the id exists).
    NotFound,
    /// The idempotency key was already used with a different body, or the state forbids it.
    Conflict,
    /// An uploaded page's SHA-256 is not the one in its URL.
    HashMismatch,
    /// An uploaded page is not a JPEG.
    UnsupportedMediaType,
    /// The request is too large.
    TooLarge,
    /// The platform (or the data source behind it) is unavailable for now: retry later.
    Unavailable,
    /// A code this version of the kiosk does not know.
    #[serde(other)]
    Unknown,
}

/// Who a person is in an application (schema `Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person applying for themselves.
    Applicant,
    Father,
    Mother,
    Spouse,
    Child,
    Guardian,
    /// Someone applying on another person's behalf (代办).
    Agent,
    /// The person a death one-thing is about.
    Deceased,
    /// The legal representative of a business.
    LegalRepresentative,
}

/// Gender as on the ID card (schema `Gender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// The GB/T 2261.1 code: `1` male, `2` female.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "1",
            Gender::Female => "2",
        }
    }

    /// The Chinese word (男/女) as printed on cards and shared records.
    pub fn zh(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }
}

/// Writes `Type { field: <masked>, … }`-style output for types that carry personal data.
pub(crate) struct Masked;

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<masked>")
    }
}
