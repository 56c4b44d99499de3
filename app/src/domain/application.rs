//! An accepted application: what the store keeps and what the platform receives.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::Delivery;
use crate::domain::person::Person;

/// Where a form value came from; the review screen marks prefilled values as such.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum ValueSource {
    /// An applicant's ID card.
    Card { person: String },
    /// Shared data (电子证照 / 数据共享).
    Shared { dataset: String },
    /// The answer to a situation question.
    Answer,
    /// Typed at the kiosk.
    Typed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormValue {
    pub value: String,
    pub source: ValueSource,
}

/// How a material was supplied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum MaterialState {
    /// Read from an applicant's ID card at the kiosk.
    FromCard { person: String },
    /// The merged form itself.
    MergedForm,
    /// Fetched by data sharing.
    Shared { dataset: String },
    /// Scanned at the kiosk: page files by SHA-256 of their JPEG bytes.
    Scanned { pages: Vec<String> },
    /// Missing, accepted on a written commitment to supply it by `deadline` (容缺).
    CommittedLater { deadline: Option<Date> },
    /// Signed at the kiosk.
    Signed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialRecord {
    pub id: String,
    pub state: MaterialState,
}

/// An accepted application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// Unique across all kiosks (UUID v7); also the platform's idempotency key.
    pub id: uuid::Uuid,
    /// The number printed on the notice and typed for progress inquiries (受理编号).
    pub number: String,
    pub kiosk_id: String,
    pub window: String,
    pub one_thing_id: String,
    pub situations: Vec<String>,
    pub answers: BTreeMap<String, String>,
    /// Chosen items, in dependency order.
    pub items: Vec<String>,
    pub applicants: Vec<(String, Person)>,
    pub form: BTreeMap<String, FormValue>,
    pub materials: Vec<MaterialRecord>,
    pub delivery: Delivery,
    pub mailing_address: Option<String>,
    pub contact_phone: Option<String>,
    pub accepted_at: jiff::Timestamp,
    /// `None` when the working-day calendar does not cover the dates (staff are alerted).
    pub due_date: Option<Date>,
    pub time_limit_days: u32,
    /// SHA-256 of the query code; the code itself is only printed on the notice.
    pub query_code_hash: String,
}

impl Application {
    /// The applicant whose contact and locker pickup this application uses (the first).
    pub fn main_applicant(&self) -> Option<&Person> {
        self.applicants.first().map(|(_, p)| p)
    }
}

/// The printed application number: date, the digits of the kiosk id, and the kiosk's daily
/// sequence, e.g. `261122-33010601-0007`. Unique across kiosks as long as kiosk ids are.
pub fn application_number(accepted_on: Date, kiosk_id: &str, sequence: u32) -> String {
    let kiosk_digits: String = kiosk_id.chars().filter(char::is_ascii_digit).collect();
    format!(
        "{:02}{:02}{:02}-{kiosk_digits}-{sequence:04}",
        accepted_on.year() % 100,
        accepted_on.month(),
        accepted_on.day()
    )
}

/// The hash stored and sent for a query code.
pub fn hash_query_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_code_hashes() {
        let n = application_number(jiff::civil::date(2026, 11, 22), "ZJ-330106-XH-01", 7);
        assert_eq!(n, "261122-33010601-0007");
        assert_eq!(hash_query_code("123456").len(), 64);
        assert_ne!(hash_query_code("123456"), hash_query_code("123457"));
    }
}
