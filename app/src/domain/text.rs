//! Text shown to residents in both languages. Static screen text lives in the `.slint` files
//! (translated with `@tr`); text made in Rust (catalogue names, validation messages, device
//! faults) travels as a pair and the UI picks the session's language.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Bilingual {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, english: bool) -> &str {
        if english { &self.en } else { &self.zh }
    }
}

/// Builds a [`Bilingual`] from two string literals or format strings.
#[macro_export]
macro_rules! bi {
    ($zh:expr, $en:expr $(,)?) => {
        $crate::domain::text::Bilingual::new($zh, $en)
    };
}
