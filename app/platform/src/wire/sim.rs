//! Types of the simulator's admin routes under `/sim/`. NOT part of the real platform API:
//! they exist only in the stand-in simulator, for tests and the developer panel.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ApplicationProgress, ApplicationSubmission, CatalogueUpdate, Heartbeat, PageReceipt};

/// `GET /sim/stats` (schema `SimStats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    /// `POST /v1/applications`.
    pub applications: EndpointStats,
    /// `PUT …/pages/{sha256}`.
    pub pages: EndpointStats,
    /// `POST /v1/cards/requests`.
    pub card_requests: EndpointStats,
    /// `POST /v1/cards/{request_id}/result`.
    pub card_results: EndpointStats,
    /// `POST /v1/lockers/events`.
    pub locker_events: EndpointStats,
    /// `POST /v1/evaluations`.
    pub evaluations: EndpointStats,
    /// `POST /v1/heartbeat`.
    pub heartbeats: EndpointStats,
    /// Shared-data look-ups answered 200.
    pub lookups_found: u64,
    /// Shared-data look-ups answered 404.
    pub lookups_not_found: u64,
    /// Progress queries answered (200 or 404).
    pub progress_queries: u64,
    /// Cryptograms computed.
    pub cryptograms: u64,
    /// SMS "sent" (recorded; see `GET /sim/sms`).
    pub sms_sent: u64,
    /// Requests answered 503 because of a simulated outage.
    pub refused_during_outage: u64,
    /// Whether a simulated outage is on.
    pub outage: bool,
    pub clock: SimClock,
}

/// Counts for one write endpoint (schema `EndpointStats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// Every request answered: `distinct + duplicates + conflicts + rejected`.
    pub received: u64,
    /// Distinct keys accepted: each counted once.
    pub distinct: u64,
    /// Repeats of an accepted key with the same body (answered 200, no second effect).
    pub duplicates: u64,
    /// Repeats of a key with a different body (answered 409).
    pub conflicts: u64,
    /// Requests refused as invalid (4xx other than 409).
    pub rejected: u64,
}

/// The simulated clock (schema `SimClock`). The simulator counts every day as a working day
/// of 24 hours; it starts at the real time the simulator first started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimClock {
    /// Simulated working days since the start.
    pub working_days_elapsed: f64,
    /// The simulated "now".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<Timestamp>,
    /// Real seconds per simulated working day.
    pub day_length_s: f64,
}

/// `POST /sim/clock/advance` (schema `ClockAdvance`): jump the clock by hours and/or working
/// days (one working day = 24 simulated hours).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClockAdvance {
    #[serde(default)]
    pub hours: f64,
    #[serde(default)]
    pub working_days: f64,
}

/// `POST /sim/outage` (schema `Outage`): while down, every route except `/sim/` answers 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    pub down: bool,
}

/// `POST /sim/refuse` (schema `RefuseItem`): the department refuses an item; every item that
/// depends on it (directly or not) is refused "because X was refused".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefuseItem {
    pub application_id: Uuid,
    pub item_id: String,
    /// The whole reason in plain words (told once).
    pub reason: String,
}

/// `POST /sim/catalogue` (schema `CatalogueUpdate`): the catalogue the simulator serves.
pub type SetCatalogue = CatalogueUpdate;

/// One recorded SMS (schema `SmsRecord`): what the platform would have sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRecord {
    pub application_id: Uuid,
    /// The phone number, masked (`138****0000`).
    pub to_masked: String,
    /// The text, with the resident's name masked and the pickup code.
    pub text: String,
    pub at: Timestamp,
}

/// `GET /sim/sms` (schema `SmsList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsList {
    pub sms: Vec<SmsRecord>,
}

/// `GET /sim/applications/{id}` (schema `SimApplication`): the full stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimApplication {
    pub submission: ApplicationSubmission,
    pub case_number: String,
    pub received_at: Timestamp,
    pub progress: ApplicationProgress,
    pub pages: Vec<PageReceipt>,
    /// Card requests made for this application (request ids).
    pub card_requests: Vec<String>,
    /// Locker event ids in the order received.
    pub locker_events: Vec<Uuid>,
}

/// `GET /sim/heartbeats` (schema `SimHeartbeats`): the last heartbeat of each kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimHeartbeats {
    pub kiosks: BTreeMap<String, Heartbeat>,
}
