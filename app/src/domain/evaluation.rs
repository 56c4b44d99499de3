//! 好差评: five levels (国办发〔2019〕51号), reasons for the two lowest, never forced
//! (GB/T 39734 4.1).

use serde::{Deserialize, Serialize};

use crate::bi;
use crate::domain::text::Bilingual;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub id: uuid::Uuid,
    /// The application rated, when the evaluation follows one.
    pub application_number: Option<String>,
    /// 1 非常满意 … 5 非常不满意.
    pub level: u8,
    /// Chosen from [`LOW_RATING_REASONS`] (levels 4 and 5 only).
    pub reasons: Vec<String>,
    pub at: jiff::Timestamp,
}

/// The five levels, best first.
pub fn levels() -> [Bilingual; 5] {
    [
        bi!("非常满意", "Very satisfied"),
        bi!("满意", "Satisfied"),
        bi!("基本满意", "Fairly satisfied"),
        bi!("不满意", "Dissatisfied"),
        bi!("非常不满意", "Very dissatisfied"),
    ]
}

/// Levels 4 and 5 are 差评; the resident says why (several may apply).
pub const LOW_RATING_REASONS: &[(&str, &str, &str)] = &[
    ("too-slow", "办理太慢", "Too slow"),
    ("hard-to-use", "机器不好操作", "Hard to use"),
    ("unclear", "说明看不懂", "Instructions unclear"),
    ("device-fault", "设备出故障", "A device failed"),
    (
        "too-many-materials",
        "要的材料太多",
        "Too many documents asked",
    ),
    ("other", "其他问题", "Something else"),
];

pub fn is_low(level: u8) -> bool {
    level >= 4
}
