//! Social security card making (社保卡即时制卡): `POST /v1/cards/requests`,
//! `POST /v1/cards/{request_id}/cryptogram`, `POST /v1/cards/{request_id}/result`.
//!
//! The kiosk never holds card keys: it relays the chip's challenge to the card bureau through
//! the platform and replays the cryptogram in EXTERNAL AUTHENTICATE
//! (reference/dispenser-locker-scanner-pcsc.md §2.2).

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Gender, Masked};

/// A card request (schema `CardRequest`), sent with an `Idempotency-Key` chosen by the kiosk
/// for this attempt (a UUID).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum CardRequest {
    /// The social security card item of an application (e.g. a newborn in the birth
    /// one-thing): the holder is the person the item is for.
    Application { application_id: Uuid },
    /// A person applying for their own card (个人零星申领), identified by ID card.
    Person { id_number: String, name: String },
}

impl fmt::Debug for CardRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardRequest::Application { application_id } => f
                .debug_struct("CardRequest::Application")
                .field("application_id", application_id)
                .finish(),
            CardRequest::Person { .. } => f.write_str("CardRequest::Person(<masked>)"),
        }
    }
}

/// The answer to a card request (schema `CardRequestResponse`). `card` is present only when
/// eligible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardRequestResponse {
    /// The request id used in the cryptogram and result routes.
    pub request_id: String,
    pub eligibility: Eligibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardData>,
}

/// Whether a card can be made now (schema `Eligibility`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Eligibility {
    /// A card can be made now; `card` holds the data.
    Eligible,
    /// Not yet: steps that must be done first (e.g. household registration and insurance
    /// enrolment of a newborn). `waiting_for` names them in plain words.
    NotYet {
        waiting_for: Vec<String>,
        message: String,
    },
    /// The person already has a valid card (a replacement is a different service).
    AlreadyHasCard { card_number_masked: String },
    /// No card can be made for this request (e.g. the card item was refused).
    NotEligible { reason: String },
}

/// Everything to print on the card face and write to the chip (schema `CardData`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardData {
    pub name: String,
    /// The social security number: the holder's 18-character citizen ID number.
    pub social_security_number: String,
    /// The card number printed on the face (9 characters).
    pub card_number: String,
    pub gender: Gender,
    /// Two-digit GB 3304 ethnic group code, e.g. `01` for 汉.
    pub nation_code: String,
    pub birth_date: Date,
    pub issue_date: Date,
    pub expiry_date: Date,
    pub photo: CardPhoto,
    /// The chip personalisation records, in the order to write them.
    pub records: Vec<PersonalisationRecord>,
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardData")
            .field("name", &Masked)
            .field("social_security_number", &Masked)
            .field("card_number", &Masked)
            .field("issue_date", &self.issue_date)
            .field("photo", &self.photo)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

/// The photo for the card face (schema `CardPhoto`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CardPhoto {
    /// No photo: the holder is under 7 years old.
    #[serde(rename = "none_under_7")]
    NoneUnder7,
    /// Use the photo read from the holder's ID card at the kiosk.
    IdCardPhoto,
    /// A stored photo (358×441 JPEG, white background), base64.
    Jpeg { base64: String },
}

impl fmt::Debug for CardPhoto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardPhoto::NoneUnder7 => f.write_str("NoneUnder7"),
            CardPhoto::IdCardPhoto => f.write_str("IdCardPhoto"),
            CardPhoto::Jpeg { base64 } => write!(f, "Jpeg({} base64 chars)", base64.len()),
        }
    }
}

/// An elementary file of the SSSE application (schema `ElementaryFile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ElementaryFile {
    /// Issuer data: card id, type, version, institution, dates, card number.
    #[serde(rename = "EF05")]
    Ef05,
    /// Holder basics: SSN, name, sex, ethnicity, birth date.
    #[serde(rename = "EF06")]
    Ef06,
}

impl ElementaryFile {
    /// The file id (`0xEF05`, `0xEF06`).
    pub fn file_id(self) -> u16 {
        match self {
            ElementaryFile::Ef05 => 0xEF05,
            ElementaryFile::Ef06 => 0xEF06,
        }
    }
}

/// One chip record to write with UPDATE RECORD `00 DC <record> 04 <Lc> <tag> <len> <value>`
/// (schema `PersonalisationRecord`). Record→tag map per
/// reference/dispenser-locker-scanner-pcsc.md §2.2: EF05 5/05 issue date, 6/06 expiry date,
/// 7/07 card number; EF06 1/08 SSN, 2/09 name, 4/0A sex, 5/0B ethnicity, 7/0D birth date.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalisationRecord {
    pub ef: ElementaryFile,
    pub record: u8,
    pub tag: u8,
    /// What the record holds, e.g. `issue_date` (for people; the chip does not see it).
    pub field: String,
    /// The value bytes (without tag and length), lower-case hex. Dates are 4 BCD bytes
    /// `YYYYMMDD`; the SSN, card number, sex and ethnicity are ASCII; the name is GBK
    /// (GB18030 for characters outside GBK) padded with 00 to 30 bytes.
    pub value_hex: String,
}

impl fmt::Debug for PersonalisationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PersonalisationRecord({:?} record {} tag {:02X} {}, {} hex chars)",
            self.ef,
            self.record,
            self.tag,
            self.field,
            self.value_hex.len()
        )
    }
}

/// A challenge to relay to the card bureau (schema `CryptogramRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CryptogramRequest {
    /// The card identification code (EF05 record 1 value, 16 bytes), hex.
    pub card_id_hex: String,
    /// The chip's GET CHALLENGE random, hex (4 or 8 bytes).
    pub challenge_hex: String,
    /// The file about to be written; the bureau chooses the key id for it. Default EF05.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ef: Option<ElementaryFile>,
}

/// The card bureau's cryptogram (schema `CryptogramResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CryptogramResponse {
    /// 16 bytes, hex: the data of EXTERNAL AUTHENTICATE.
    pub cryptogram_hex: String,
    /// P2 of EXTERNAL AUTHENTICATE: `0x0A` for EF05, `0x04` for EF06.
    pub key_id: u8,
}

/// How making the card ended (schema `CardResult`), sent with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CardResult {
    /// The card was made and handed to the holder.
    Issued { card_number: String },
    /// Making failed (chip write, printing, stock); the card was captured into the reject
    /// bin. The platform falls back to central card making (制卡失败 is a visible state).
    Failed {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card_number: Option<String>,
    },
}

/// The answer to a card result (schema `CardResultAck`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardResultAck {
    pub request_id: String,
    pub outcome: String,
}
