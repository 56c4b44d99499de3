//! Progress inquiry (办件进度): `POST /v1/progress/by-code` and `POST /v1/progress/by-id-number`.
//! Progress is told per item with its department (DB33 出生一件事 4.2, 6.3); a refused item
//! carries its whole reason at once (6.3.5 一次性告知).

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Masked;

/// Progress of one application by the application number and the query code printed on the
/// acceptance notice (schema `ProgressByCodeRequest`). A wrong code or an unknown number both
/// give 404, with no hint which.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressByCodeRequest {
    /// The application number as the resident typed it, e.g. `261120-33010601-0007` (the
    /// submission's `application_number`; white space around it is ignored).
    pub application_number: String,
    /// The code as the resident typed it (the platform compares its SHA-256).
    pub query_code: String,
}

impl fmt::Debug for ProgressByCodeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressByCodeRequest")
            .field("application_number", &self.application_number)
            .field("query_code", &Masked)
            .finish()
    }
}

/// Progress of every application in which a person (read from their ID card at the kiosk)
/// is an applicant (schema `ProgressByIdNumberRequest`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressByIdNumberRequest {
    pub id_number: String,
}

impl fmt::Debug for ProgressByIdNumberRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressByIdNumberRequest(<masked>)")
    }
}

/// The answer to both progress queries (schema `ProgressResponse`): newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressResponse {
    pub applications: Vec<ApplicationProgress>,
}

/// One application's progress (schema `ApplicationProgress`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationProgress {
    pub application_id: Uuid,
    pub case_number: String,
    pub one_thing_id: String,
    pub one_thing_name: String,
    pub accepted_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Date>,
    /// Every item, in the order they were submitted (dependency order).
    pub items: Vec<ItemProgress>,
    /// True when every item is done or refused.
    pub finished: bool,
    /// Where and when to collect the results.
    pub collection: Collection,
}

/// One item's progress (schema `ItemProgress`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemProgress {
    pub item_id: String,
    pub name: String,
    pub department: String,
    pub state: ItemState,
    /// Since when the item is in this state.
    pub since: Timestamp,
}

/// An item's state (schema `ItemState`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// Received by its department, work not started yet (收件).
    Accepted,
    /// Waiting for an item it depends on to be done.
    Waiting {
        for_item_id: String,
        /// The name of that item, for the resident ("等待出生户口登记办结").
        for_item_name: String,
    },
    /// Being handled (受理/办理中). `detail` is a finer plain stage when the department gives
    /// one, e.g. `制卡中` for a social security card.
    InProgress {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// Done (办结). `result` names what was produced, e.g. `居民户口簿`.
    Done {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<String>,
    },
    /// Not accepted or refused (不予受理). `reason` is the whole reason in plain words, told
    /// once and completely (一次性告知). `because_of` names the item id whose refusal stopped
    /// this one, when it was stopped by a refused item it depends on.
    Refused {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        because_of: Option<String>,
    },
}

impl ItemState {
    /// True for done and refused: nothing more will happen.
    pub fn is_final(&self) -> bool {
        matches!(self, ItemState::Done { .. } | ItemState::Refused { .. })
    }

    /// The state's name on the wire (`accepted`, `waiting`, …).
    pub fn name(&self) -> &'static str {
        match self {
            ItemState::Accepted => "accepted",
            ItemState::Waiting { .. } => "waiting",
            ItemState::InProgress { .. } => "in_progress",
            ItemState::Done { .. } => "done",
            ItemState::Refused { .. } => "refused",
        }
    }
}

/// Where the results of an application are and when they can be collected
/// (schema `Collection`; DB33 出生一件事 6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Collection {
    /// Items are still being handled.
    NotReady,
    /// Finished, with nothing physical to collect (everything electronic or refused).
    NothingToCollect,
    /// Finished; staff will put the results into this kiosk's locker.
    ReadyForLocker { kiosk_id: String },
    /// In a locker compartment; the pickup code was sent by SMS.
    InLocker {
        kiosk_id: String,
        compartment_label: String,
        since: Timestamp,
    },
    /// Taken out of the locker by the resident.
    Collected { at: Timestamp },
    /// Taken back from the locker by staff (overdue): now at the service window.
    Recalled { at: Timestamp },
    /// Posted.
    Mailed {
        carrier: String,
        tracking_number: String,
        at: Timestamp,
    },
    /// Ready at a service window.
    AtWindow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<String>,
    },
    /// Handed over at the kiosk when the application was made.
    HandedOver,
}
