//! A person as the application records them: the ID-card fields an application needs.
//! Personal data: masked in `Debug`, wiped from memory on drop, encrypted at rest by the store.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use kiosk_idcard::identity::{Gender, Identity};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub id_number: String,
    /// `male` / `female` / `unknown`.
    pub gender: String,
    pub nation: Option<String>,
    pub birth_date: Date,
    pub address: Option<String>,
    pub issuing_authority: Option<String>,
    /// How the identity was established: `card` (read from the chip) or `scan`.
    pub verified_by: String,
}

impl Person {
    pub fn from_card(identity: &Identity) -> Person {
        Person {
            name: identity.name.clone(),
            id_number: identity.id_number.clone(),
            gender: match identity.gender {
                Gender::Male => "male",
                Gender::Female => "female",
                _ => "unknown",
            }
            .to_owned(),
            nation: identity.nation.clone(),
            birth_date: identity.birth_date,
            address: identity.address.clone(),
            issuing_authority: identity.issuing_authority.clone(),
            verified_by: "card".to_owned(),
        }
    }

    /// The ID number with only the first 4 and last 4 characters shown (screen and paper).
    pub fn masked_id(&self) -> String {
        kiosk_idcard::id_number::mask(&self.id_number)
    }

    /// The name with all but the first character hidden, for notices read by others
    /// (e.g. the platform's SMS: 王**).
    pub fn masked_name(&self) -> String {
        mask_name(&self.name)
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: Date) -> i16 {
        let mut age = on.year() - self.birth_date.year();
        if (on.month(), on.day()) < (self.birth_date.month(), self.birth_date.day()) {
            age -= 1;
        }
        age
    }
}

/// Keeps the first character and hides the rest (张** for 张三丰).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("id_number", &self.masked_id())
            .finish_non_exhaustive()
    }
}

impl Drop for Person {
    fn drop(&mut self) {
        self.name.zeroize();
        self.id_number.zeroize();
        self.gender.zeroize();
        self.nation.zeroize();
        self.address.zeroize();
        self.issuing_authority.zeroize();
        self.birth_date = Date::default();
        std::hint::black_box(&self.birth_date);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_names_and_numbers() {
        assert_eq!(mask_name("韦龘𠮷"), "韦**");
        assert_eq!(mask_name(""), "");
        let p = Person {
            name: "王测试".into(),
            id_number: "360426199101010071".into(),
            gender: "male".into(),
            nation: Some("汉".into()),
            birth_date: jiff::civil::date(1991, 1, 1),
            address: None,
            issuing_authority: None,
            verified_by: "card".into(),
        };
        assert_eq!(p.masked_id(), "3604**********0071");
        assert!(!format!("{p:?}").contains("王"));
        assert!(!format!("{p:?}").contains("360426199101010071"));
        assert_eq!(p.age_on(jiff::civil::date(2026, 1, 1)), 35);
        assert_eq!(p.age_on(jiff::civil::date(2025, 12, 31)), 34);
    }
}
