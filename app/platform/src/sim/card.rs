//! The card bureau STAND-IN: test cryptograms and card personalisation data. Real cards use
//! keys held by the card bureau's encryption machine; nothing here is a real key or algorithm.

use hmac::{Hmac, KeyInit, Mac};
use jiff::civil::Date;
use sha2::Sha256;

use crate::wire::{CardData, CardPhoto, ElementaryFile, Gender, PersonalisationRecord};

/// The card bureau stand-in's test key: the 30 ASCII bytes of `kiosk-sim-card-bureau-test-key`.
/// Published on purpose; it protects nothing.
pub const CARD_BUREAU_TEST_KEY: &[u8] = b"kiosk-sim-card-bureau-test-key";

/// Key id (P2 of EXTERNAL AUTHENTICATE) the stand-in answers for writing EF05.
pub const KEY_ID_EF05: u8 = 0x0A;
/// Key id the stand-in answers for writing EF06.
pub const KEY_ID_EF06: u8 = 0x04;

/// The stand-in's cryptogram: the first 16 bytes of
/// HMAC-SHA256(key = [`CARD_BUREAU_TEST_KEY`], message = card id ‖ challenge).
/// The key id does not change the cryptogram.
pub fn card_bureau_cryptogram(card_id: &[u8], challenge: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    // HMAC takes keys of any length, so this cannot fail; keep the zero answer if it did.
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(CARD_BUREAU_TEST_KEY) {
        mac.update(card_id);
        mac.update(challenge);
        let full = mac.finalize().into_bytes();
        for (o, b) in out.iter_mut().zip(full.iter()) {
            *o = *b;
        }
    }
    out
}

/// The key id the stand-in uses for a file.
pub fn key_id_for(ef: ElementaryFile) -> u8 {
    match ef {
        ElementaryFile::Ef05 => KEY_ID_EF05,
        ElementaryFile::Ef06 => KEY_ID_EF06,
    }
}

/// The plain holder and card data the records are made from.
pub struct Holder<'a> {
    pub name: &'a str,
    pub id_number: &'a str,
    pub gender: Gender,
    pub nation_code: &'a str,
    pub birth_date: Date,
}

/// "YYYYMMDD" as 4 BCD bytes.
fn bcd_date(date: Date) -> Vec<u8> {
    let text = date.strftime("%Y%m%d").to_string();
    text.as_bytes()
        .chunks(2)
        .map(|p| match p {
            [hi, lo] => ((hi.wrapping_sub(b'0')) << 4) | (lo.wrapping_sub(b'0') & 0x0F),
            _ => 0,
        })
        .collect()
}

/// The name as written to the chip: GBK, or GB18030 where a character is outside GBK, padded
/// with 00 to 30 bytes. `None` when it does not fit 30 bytes.
pub fn chip_name(name: &str) -> Option<Vec<u8>> {
    let (bytes, _, _) = encoding_rs::GB18030.encode(name);
    if bytes.len() > 30 {
        return None;
    }
    let mut v = bytes.into_owned();
    v.resize(30, 0);
    Some(v)
}

/// Whole years between two dates.
pub fn age_on(birth: Date, on: Date) -> i16 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

/// Builds the card data; `None` when the name does not fit the chip.
pub fn card_data(holder: &Holder<'_>, card_number: &str, issue_date: Date) -> Option<CardData> {
    use ElementaryFile::{Ef05, Ef06};
    let expiry_date = issue_date
        .checked_add(jiff::Span::new().years(10))
        .unwrap_or(issue_date);
    let rec = |ef, record, tag, field: &str, value: &[u8]| PersonalisationRecord {
        ef,
        record,
        tag,
        field: field.to_owned(),
        value_hex: hex::encode(value),
    };
    let records = vec![
        rec(Ef05, 5, 0x05, "issue_date", &bcd_date(issue_date)),
        rec(Ef05, 6, 0x06, "expiry_date", &bcd_date(expiry_date)),
        rec(Ef05, 7, 0x07, "card_number", card_number.as_bytes()),
        rec(
            Ef06,
            1,
            0x08,
            "social_security_number",
            holder.id_number.as_bytes(),
        ),
        rec(Ef06, 2, 0x09, "name", &chip_name(holder.name)?),
        rec(Ef06, 4, 0x0A, "sex", holder.gender.code().as_bytes()),
        rec(Ef06, 5, 0x0B, "ethnicity", holder.nation_code.as_bytes()),
        rec(Ef06, 7, 0x0D, "birth_date", &bcd_date(holder.birth_date)),
    ];
    let photo = if age_on(holder.birth_date, issue_date) < 7 {
        CardPhoto::NoneUnder7
    } else {
        CardPhoto::IdCardPhoto
    };
    Some(CardData {
        name: holder.name.to_owned(),
        social_security_number: holder.id_number.to_owned(),
        card_number: card_number.to_owned(),
        gender: holder.gender,
        nation_code: holder.nation_code.to_owned(),
        birth_date: holder.birth_date,
        issue_date,
        expiry_date,
        photo,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn cryptogram_is_truncated_hmac_sha256_of_card_id_and_challenge() {
        // Checked against a second implementation (Python: hmac.new(key, id + ch, sha256)).
        let card_id = hex::decode("330300D15600000599110145FFFFFFFF").unwrap();
        let challenge = hex::decode("0102030405060708").unwrap();
        let c = card_bureau_cryptogram(&card_id, &challenge);
        assert_eq!(hex::encode(c), "0961883cd9e8d7df8aa70b685b05ceca");
    }

    #[test]
    fn records_follow_the_tag_map() {
        let holder = Holder {
            name: "王小测",
            id_number: "450102202611080017",
            gender: Gender::Male,
            nation_code: "01",
            birth_date: date(2026, 11, 8),
        };
        let card = card_data(&holder, "SIM000001", date(2026, 11, 20)).unwrap();
        assert!(matches!(card.photo, CardPhoto::NoneUnder7));
        let find = |f: &str| card.records.iter().find(|r| r.field == f).unwrap();
        assert_eq!(find("issue_date").value_hex, "20261120");
        assert_eq!(find("expiry_date").value_hex, "20361120");
        assert_eq!(find("birth_date").tag, 0x0D);
        assert_eq!(find("name").value_hex.len(), 60);
        assert!(find("name").value_hex.starts_with("cdf5d0a1b2e2"));
        assert_eq!(find("sex").value_hex, "31");
        assert_eq!(card.records.len(), 8);
    }

    #[test]
    fn names_outside_gbk_use_gb18030_and_long_names_do_not_fit() {
        let v = chip_name("韦龘𠮷").unwrap();
        assert_eq!(v.len(), 30);
        assert!(chip_name(&"测".repeat(16)).is_none());
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(date(2000, 2, 29), date(2026, 2, 28)), 25);
        assert_eq!(age_on(date(2000, 2, 29), date(2026, 3, 1)), 26);
        assert_eq!(age_on(date(2019, 11, 23), date(2026, 11, 22)), 6);
    }
}
