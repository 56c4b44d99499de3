//! Service evaluation (好差评, GB/T 39734): `POST /v1/evaluations`. Always voluntary: the
//! kiosk offers it and a resident may skip it.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One evaluation (schema `Evaluation`), idempotent by `evaluation_id` (also the
/// `Idempotency-Key`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub evaluation_id: Uuid,
    pub kiosk_id: String,
    /// The application rated, when the rating is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Uuid>,
    pub level: Level,
    /// Reasons, only for the two lowest levels (4, 5); may be empty there too.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Free text, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: Timestamp,
}

impl fmt::Debug for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evaluation")
            .field("evaluation_id", &self.evaluation_id)
            .field("application_id", &self.application_id)
            .field("level", &self.level)
            .field("reasons", &self.reasons.len())
            .field("comment", &self.comment.as_ref().map(String::len))
            .finish_non_exhaustive()
    }
}

/// The five levels (schema `Level`), sent as the numbers 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Level {
    /// 1 非常满意.
    VerySatisfied,
    /// 2 满意.
    Satisfied,
    /// 3 基本满意.
    FairlySatisfied,
    /// 4 不满意.
    Dissatisfied,
    /// 5 非常不满意.
    VeryDissatisfied,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::VerySatisfied,
        Level::Satisfied,
        Level::FairlySatisfied,
        Level::Dissatisfied,
        Level::VeryDissatisfied,
    ];

    /// 1 to 5.
    pub fn number(self) -> u8 {
        match self {
            Level::VerySatisfied => 1,
            Level::Satisfied => 2,
            Level::FairlySatisfied => 3,
            Level::Dissatisfied => 4,
            Level::VeryDissatisfied => 5,
        }
    }

    /// The Chinese words (非常满意 … 非常不满意).
    pub fn zh(self) -> &'static str {
        match self {
            Level::VerySatisfied => "非常满意",
            Level::Satisfied => "满意",
            Level::FairlySatisfied => "基本满意",
            Level::Dissatisfied => "不满意",
            Level::VeryDissatisfied => "非常不满意",
        }
    }

    /// True for 4 and 5: the levels that may carry reasons (差评).
    pub fn is_poor(self) -> bool {
        matches!(self, Level::Dissatisfied | Level::VeryDissatisfied)
    }
}

/// A level number outside 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("evaluation level must be 1 to 5, got {0}")]
pub struct BadLevel(pub u8);

impl TryFrom<u8> for Level {
    type Error = BadLevel;

    fn try_from(n: u8) -> Result<Self, Self::Error> {
        Level::ALL
            .into_iter()
            .find(|l| l.number() == n)
            .ok_or(BadLevel(n))
    }
}

impl From<Level> for u8 {
    fn from(l: Level) -> u8 {
        l.number()
    }
}
