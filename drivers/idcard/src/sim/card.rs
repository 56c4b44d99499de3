//! Sample cards for the simulator: a JSON file in the shape of `kiosk device idcard … read`
//! output (plus a few optional extras), turned into the 256-byte text block a reader sends.
//!
//! ```json
//! {
//!   "card_type": "resident",
//!   "name": "王测试", "gender": "male", "nation": "汉", "birth_date": "1991-01-01",
//!   "address": "…", "id_number": "360426199101010071", "issuing_authority": "…",
//!   "valid_from": "2015-01-01", "valid_until": "long-term"
//! }
//! ```
//!
//! Extras (all optional): `edition` (`2017` or `2023`, for `foreign_permanent`; without it
//! a 15-character number means 2017 and an 18-digit one 2023), `pass_number` and
//! `issue_count` (permits), `card_version` (2017), `renewal_count` and
//! `previous_number_link` (2023), `fingerprint_len` (0, 512 or 1024), `note` (free text).
//! An address longer than the 35 characters of the text block continues in the appended
//! address (`30 03`), as reference A.4 describes.
//!
//! The simulator does not check the ID number: a file with a wrong check digit is how the
//! driver's refusal is tested.

use std::fmt;
use std::path::Path;

use jiff::civil::Date;
use serde::Deserialize;
use zeroize::Zeroize;

use crate::identity::{
    CardType, EncodeError, Gender, ValidUntil, date_digits, encode_field, layout, nation_code,
};
use crate::protocol::{PHOTO_LEN, TEXT_LEN};

/// UTF-16 units of address in the text block.
const ADDRESS_UNITS: usize = 35;

/// A sample card file.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardFile {
    pub card_type: String,
    #[serde(default)]
    pub edition: Option<u16>,
    pub name: String,
    pub gender: Gender,
    #[serde(default)]
    pub nation: Option<String>,
    pub birth_date: Date,
    #[serde(default)]
    pub address: Option<String>,
    pub id_number: String,
    #[serde(default)]
    pub issuing_authority: Option<String>,
    pub valid_from: Date,
    pub valid_until: ValidUntil,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub pass_number: Option<String>,
    #[serde(default)]
    pub issue_count: Option<String>,
    #[serde(default)]
    pub card_version: Option<String>,
    #[serde(default)]
    pub renewal_count: Option<String>,
    #[serde(default)]
    pub previous_number_link: Option<String>,
    #[serde(default)]
    pub fingerprint_len: Option<usize>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Why a card file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CardFileError {
    #[error("cannot read card file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("card file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("card file {path}: {message}")]
    Invalid { path: String, message: String },
}

/// A card the simulator can present: the bytes a reader would send.
#[derive(Clone)]
pub struct SimCard {
    /// A label for logs (the file name); never card text.
    pub label: String,
    /// The 256-byte text block.
    pub text: Vec<u8>,
    /// 1024 photo bytes. Not a real WLT image (no encoder exists outside vendor SDKs): a
    /// fixed pattern derived from the label, so tests can check the bytes travel intact.
    pub photo: Vec<u8>,
    /// Fingerprint bytes served to `30 10` (empty: `FL = 0`).
    pub fingerprint: Vec<u8>,
    /// Appended address (`30 03`) as UTF-16LE, or `None` (the reader answers `91`).
    pub appended_address: Option<Vec<u8>>,
}

impl fmt::Debug for SimCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimCard")
            .field("label", &self.label)
            .field("has_appended_address", &self.appended_address.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for SimCard {
    fn drop(&mut self) {
        self.text.zeroize();
        self.appended_address.zeroize();
    }
}

impl SimCard {
    /// Loads a card file (`.json`).
    pub fn from_file(path: &Path) -> Result<SimCard, CardFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CardFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let label = path
            .file_stem()
            .map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
        Self::from_json(&label, &text).map_err(|e| match e {
            CardFileError::Parse { message, .. } => CardFileError::Parse {
                path: shown.clone(),
                message,
            },
            CardFileError::Invalid { message, .. } => CardFileError::Invalid {
                path: shown.clone(),
                message,
            },
            other @ CardFileError::Read { .. } => other,
        })
    }

    /// Parses a card file's JSON; `label` names it in errors and logs.
    pub fn from_json(label: &str, json: &str) -> Result<SimCard, CardFileError> {
        let file: CardFile = serde_json::from_str(json).map_err(|e| CardFileError::Parse {
            path: label.to_owned(),
            message: e.to_string(),
        })?;
        Self::from_card_file(label, &file)
    }

    /// Builds the reader's bytes from a parsed card file.
    pub fn from_card_file(label: &str, file: &CardFile) -> Result<SimCard, CardFileError> {
        let invalid = |message: String| CardFileError::Invalid {
            path: label.to_owned(),
            message,
        };
        let card_type = card_type_of(file).map_err(invalid)?;
        let mut text = vec![0u8; TEXT_LEN];
        encode_field(&mut text, (0, TEXT_LEN), "", "text").map_err(|e| invalid(e.to_string()))?;
        let appended = match card_type {
            CardType::Resident | CardType::HkMoTwPermit => {
                encode_resident_like(&mut text, file, card_type)
            }
            CardType::ForeignPermanent2017 => encode_foreign_2017(&mut text, file).map(|()| None),
            CardType::ForeignPermanent2023 => encode_foreign_2023(&mut text, file).map(|()| None),
        }
        .map_err(invalid)?;
        let marker = card_type.marker();
        if let Some(slot) = text.get_mut(layout::MARKER.0..layout::MARKER.0 + 2) {
            slot.copy_from_slice(&marker);
        }
        let fingerprint_len = file.fingerprint_len.unwrap_or(0);
        if ![0, 512, 1024].contains(&fingerprint_len) {
            return Err(invalid("fingerprint_len must be 0, 512 or 1024".into()));
        }
        Ok(SimCard {
            label: label.to_owned(),
            text,
            photo: fake_photo(label),
            fingerprint: (0..fingerprint_len)
                .map(|i| u8::try_from(i % 251).unwrap_or(0))
                .collect(),
            appended_address: appended,
        })
    }
}

/// Writes one field, with the error as a message.
fn put(
    text: &mut [u8],
    at: (usize, usize),
    value: &str,
    field: &'static str,
) -> Result<(), String> {
    encode_field(text, at, value, field).map_err(|e: EncodeError| e.to_string())
}

/// Resident cards and permits; returns the appended address bytes if the address overflows.
fn encode_resident_like(
    text: &mut [u8],
    file: &CardFile,
    card_type: CardType,
) -> Result<Option<Vec<u8>>, String> {
    use layout::{permit, resident as r};
    put(text, r::NAME, &file.name, "name")?;
    put(text, r::GENDER, &file.gender.code().to_string(), "gender")?;
    if card_type == CardType::Resident {
        let nation = file.nation.as_deref().unwrap_or("汉");
        let code = nation_code(nation)
            .or_else(|| nation.parse::<u8>().ok())
            .ok_or_else(|| format!("unknown nation {nation:?}"))?;
        put(text, r::NATION, &format!("{code:02}"), "nation")?;
    }
    put(text, r::BIRTH, &date_digits(file.birth_date), "birth date")?;
    let (on_card, rest) = split_address(file.address.as_deref().unwrap_or_default());
    put(text, r::ADDRESS, &on_card, "address")?;
    let appended = (!rest.is_empty()).then(|| {
        let mut bytes: Vec<u8> = rest.encode_utf16().flat_map(u16::to_le_bytes).collect();
        // Pad to whole 35-character items, as the text block pads.
        while !bytes.len().is_multiple_of(ADDRESS_UNITS * 2) {
            bytes.extend_from_slice(&[0x20, 0x00]);
        }
        bytes
    });
    put(text, r::ID_NUMBER, &file.id_number, "ID number")?;
    let authority = file.issuing_authority.as_deref().unwrap_or_default();
    put(text, r::AUTHORITY, authority, "issuing authority")?;
    put(
        text,
        r::VALID_FROM,
        &date_digits(file.valid_from),
        "start of validity",
    )?;
    put(
        text,
        r::VALID_UNTIL,
        &until(file.valid_until),
        "end of validity",
    )?;
    if card_type == CardType::HkMoTwPermit {
        let pass = file.pass_number.as_deref().unwrap_or_default();
        put(text, permit::PASS_NUMBER, pass, "pass number")?;
        let count = file.issue_count.as_deref().unwrap_or("01");
        put(text, permit::ISSUE_COUNT, count, "issue count")?;
    }
    Ok(appended)
}

fn encode_foreign_2017(text: &mut [u8], file: &CardFile) -> Result<(), String> {
    use layout::foreign2017 as f;
    let name_en = file.name_en.as_deref().unwrap_or_default();
    put(text, f::NAME_EN, name_en, "English name")?;
    put(text, f::GENDER, &file.gender.code().to_string(), "gender")?;
    put(text, f::NUMBER, &file.id_number, "number")?;
    put(
        text,
        f::NATIONALITY,
        file.nationality.as_deref().unwrap_or_default(),
        "nationality",
    )?;
    let zh = if file.name == name_en { "" } else { &file.name };
    put(text, f::NAME_ZH, zh, "Chinese name")?;
    put(
        text,
        f::VALID_FROM,
        &date_digits(file.valid_from),
        "start of validity",
    )?;
    put(
        text,
        f::VALID_UNTIL,
        &until(file.valid_until),
        "end of validity",
    )?;
    put(text, f::BIRTH, &date_digits(file.birth_date), "birth date")?;
    put(
        text,
        f::VERSION,
        file.card_version.as_deref().unwrap_or("01"),
        "version",
    )?;
    let authority = file.issuing_authority.as_deref().unwrap_or_default();
    put(text, f::AUTHORITY_CODE, authority, "authority code")
}

fn encode_foreign_2023(text: &mut [u8], file: &CardFile) -> Result<(), String> {
    use layout::foreign2023 as f;
    let name_en = file.name_en.as_deref().unwrap_or_default();
    let zh = if file.name == name_en { "" } else { &file.name };
    put(text, f::NAME_ZH, zh, "Chinese name")?;
    put(text, f::GENDER, &file.gender.code().to_string(), "gender")?;
    let renewals = file.renewal_count.as_deref().unwrap_or("00");
    put(text, f::RENEWAL_COUNT, renewals, "renewal count")?;
    put(text, f::BIRTH, &date_digits(file.birth_date), "birth date")?;
    let units: Vec<u16> = name_en.encode_utf16().collect();
    let split = units.len().min(f::NAME_EN_1.1 / 2);
    let first = String::from_utf16_lossy(units.get(..split).unwrap_or_default());
    let second = String::from_utf16_lossy(units.get(split..).unwrap_or_default());
    put(text, f::NAME_EN_1, &first, "English name")?;
    put(text, f::NAME_EN_2, &second, "English name (continued)")?;
    put(text, f::NUMBER, &file.id_number, "number")?;
    let authority = file.issuing_authority.as_deref().unwrap_or_default();
    put(text, f::RESERVED_AUTHORITY, authority, "authority")?;
    put(
        text,
        f::VALID_FROM,
        &date_digits(file.valid_from),
        "start of validity",
    )?;
    put(
        text,
        f::VALID_UNTIL,
        &until(file.valid_until),
        "end of validity",
    )?;
    put(
        text,
        f::NATIONALITY,
        file.nationality.as_deref().unwrap_or_default(),
        "nationality",
    )?;
    let link = file.previous_number_link.as_deref().unwrap_or_default();
    put(text, f::PREVIOUS_NUMBER, link, "previous number link")
}

/// Loads every `.json` card file in `dir` (e.g. `resources/sim/idcard`), sorted by name, for
/// a developer panel that offers "present card X".
pub fn load_samples(dir: &Path) -> Result<Vec<SimCard>, CardFileError> {
    let read_err = |source| CardFileError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| SimCard::from_file(p)).collect()
}

fn card_type_of(file: &CardFile) -> Result<CardType, String> {
    match file.card_type.as_str() {
        "resident" => Ok(CardType::Resident),
        "hk_mo_tw_permit" => Ok(CardType::HkMoTwPermit),
        "foreign_permanent" => match file.edition {
            Some(2017) => Ok(CardType::ForeignPermanent2017),
            Some(2023) => Ok(CardType::ForeignPermanent2023),
            Some(other) => Err(format!("edition {other} is not 2017 or 2023")),
            None if file.id_number.chars().count() == 15 => Ok(CardType::ForeignPermanent2017),
            None => Ok(CardType::ForeignPermanent2023),
        },
        other => Err(format!(
            "card_type {other:?} is not resident, foreign_permanent or hk_mo_tw_permit"
        )),
    }
}

fn until(v: ValidUntil) -> String {
    match v {
        ValidUntil::Date(d) => date_digits(d),
        ValidUntil::LongTerm => "长期".to_owned(),
    }
}

/// Splits an address into what fits the text block and the rest, at a UTF-16 unit boundary
/// that does not cut a surrogate pair.
fn split_address(address: &str) -> (String, String) {
    let mut units = 0;
    let mut cut = address.len();
    for (i, c) in address.char_indices() {
        if units + c.len_utf16() > ADDRESS_UNITS {
            cut = i;
            break;
        }
        units += c.len_utf16();
    }
    let (a, b) = address.split_at(cut);
    (a.to_owned(), b.to_owned())
}

fn fake_photo(label: &str) -> Vec<u8> {
    // "WLT" marker plus a label-seeded pattern; deliberately not an image.
    let seed = label.bytes().fold(0x9Eu8, |acc, b| acc.rotate_left(3) ^ b);
    let mut photo = Vec::with_capacity(PHOTO_LEN);
    photo.extend_from_slice(b"WLT-SIMULATED");
    let mut x = seed;
    while photo.len() < PHOTO_LEN {
        x = x.wrapping_mul(29).wrapping_add(17);
        photo.push(x);
    }
    photo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_split_respects_surrogates() {
        let long = "一".repeat(34) + "𠮷尾";
        let (a, b) = split_address(&long);
        assert_eq!(a.chars().count(), 34);
        assert_eq!(b, "𠮷尾");
        let (a, b) = split_address("短地址");
        assert_eq!((a.as_str(), b.as_str()), ("短地址", ""));
    }

    #[test]
    fn unknown_card_type_and_nation_are_refused() {
        let base = r#""name":"王测试","gender":"male","birth_date":"1991-01-01","id_number":"360426199101010071","valid_from":"2015-01-01","valid_until":"long-term""#;
        let bad_type = format!(r#"{{"card_type":"passport",{base}}}"#);
        assert!(matches!(
            SimCard::from_json("t", &bad_type),
            Err(CardFileError::Invalid { .. })
        ));
        let bad_nation = format!(r#"{{"card_type":"resident","nation":"火星",{base}}}"#);
        assert!(matches!(
            SimCard::from_json("t", &bad_nation),
            Err(CardFileError::Invalid { .. })
        ));
        let unknown_key = format!(r#"{{"card_type":"resident","shoe_size":44,{base}}}"#);
        assert!(matches!(
            SimCard::from_json("t", &unknown_key),
            Err(CardFileError::Parse { .. })
        ));
    }
}
