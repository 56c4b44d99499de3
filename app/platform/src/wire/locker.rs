//! Certificate lockers: `POST /v1/lockers/ready` (what staff should load into this kiosk's
//! locker) and `POST /v1/lockers/events` (deposit, pickup, recall).

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Masked;

/// Which finished applications are waiting to be loaded into this kiosk's locker
/// (schema `LockerReadyRequest`; a read, sent as POST so that nothing is in the URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockerReadyRequest {
    pub kiosk_id: String,
}

/// The answer (schema `LockerReadyResponse`), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockerReadyResponse {
    pub applications: Vec<ReadyForLocker>,
}

/// One finished application whose results go into the locker (schema `ReadyForLocker`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyForLocker {
    pub application_id: Uuid,
    pub case_number: String,
    /// The first applicant's name, masked (`王*试`), for the staff screen.
    pub applicant_masked: String,
    /// SHA-256 (see [`crate::mask::id_number_hash`]) of every applicant's ID number, so that
    /// the kiosk can match a resident who taps an ID card without receiving the numbers.
    pub applicant_id_sha256: Vec<String>,
    /// The items with something to collect.
    pub items: Vec<ReadyItem>,
    /// The compartment size the results need.
    pub size_hint: SizeHint,
    /// Since when the results are ready.
    pub ready_since: Timestamp,
}

impl fmt::Debug for ReadyForLocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyForLocker")
            .field("application_id", &self.application_id)
            .field("case_number", &self.case_number)
            .field("applicant_masked", &self.applicant_masked)
            .field("items", &self.items)
            .field("size_hint", &self.size_hint)
            .finish_non_exhaustive()
    }
}

/// One item's result to collect (schema `ReadyItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyItem {
    pub item_id: String,
    pub name: String,
    /// What to collect, e.g. `居民户口簿`.
    pub result: String,
}

/// Compartment size (schema `SizeHint`): S up to 2 documents or cards, M up to 4, L more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SizeHint {
    S,
    M,
    L,
}

impl SizeHint {
    /// The size for a number of documents and cards.
    pub fn for_count(count: usize) -> SizeHint {
        match count {
            0..=2 => SizeHint::S,
            3..=4 => SizeHint::M,
            _ => SizeHint::L,
        }
    }
}

/// A locker event (schema `LockerEvent`), idempotent by `event_id` (also the
/// `Idempotency-Key`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockerEvent {
    /// A UUID the kiosk made when the event happened: stable across resends.
    pub event_id: Uuid,
    pub kiosk_id: String,
    pub kind: LockerEventKind,
    pub application_id: Uuid,
    /// The compartment, e.g. `A03`.
    pub compartment_label: String,
    pub at: Timestamp,
    /// On deposit: the pickup code the locker generated. The platform sends it to the
    /// resident by SMS (DB33 出生一件事 6.4.2). Absent on pickup and recall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code: Option<String>,
}

impl fmt::Debug for LockerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockerEvent")
            .field("event_id", &self.event_id)
            .field("kiosk_id", &self.kiosk_id)
            .field("kind", &self.kind)
            .field("application_id", &self.application_id)
            .field("compartment_label", &self.compartment_label)
            .field("at", &self.at)
            .field("pickup_code", &self.pickup_code.as_ref().map(|_| Masked))
            .finish()
    }
}

/// What happened at the locker (schema `LockerEventKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockerEventKind {
    /// Staff put the results in.
    Deposit,
    /// The resident took them out.
    Pickup,
    /// Staff took them back (overdue).
    Recall,
}

/// The answer to a locker event or an evaluation (schema `EventAck`): 201 the first time,
/// 200 on a repeat with the same id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAck {
    pub id: Uuid,
    pub recorded_at: Timestamp,
}
