//! Progress of an application as the platform reports it: each item with its department and
//! state (出生“一件事”联办服务规范 4.2, 6.3), a refusal told once with its reason (6.3.5).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRecord {
    pub number: String,
    pub one_thing: String,
    pub accepted_on: String,
    pub items: Vec<ItemProgress>,
    /// Where and how to collect the results, once there is something to collect.
    pub collect: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemProgress {
    pub name: String,
    pub department: String,
    pub state: ItemState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ItemState {
    Accepted,
    /// Waiting for another item to finish first (e.g. the social security card waits for
    /// household registration).
    Waiting {
        for_item: String,
    },
    InProgress,
    Done,
    Refused {
        reason: String,
    },
}
