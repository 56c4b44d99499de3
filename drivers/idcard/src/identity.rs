//! The 256-byte text block of the four card types (reference A.4, A.5), decoded into an
//! [`Identity`].
//!
//! Fields are UCS-2/UTF-16LE, right-padded with `20 00`. The card type is told by bytes
//! 248..250 (`'I'`, `'J'`, `'Y'`, or padding for a resident card) before anything else is
//! read. Dates become [`jiff::civil::Date`]; `长期` becomes [`ValidUntil::LongTerm`].
//!
//! An [`Identity`] never shows personal data in `Debug` and wipes its text, photo and strings
//! from memory when dropped. Its `serde` form is the JSON of `kiosk device idcard … read`.

use std::fmt;

use jiff::civil::Date;
use serde::{Serialize, Serializer};
use zeroize::Zeroize;

use crate::id_number::{self, IdNumberError};
use crate::protocol::TEXT_LEN;

/// Byte ranges `(offset, length)` inside the text block, per card type (reference A.4).
pub mod layout {
    /// Bytes 248..250: the card-type marker.
    pub const MARKER: (usize, usize) = (248, 2);

    /// 居民身份证.
    pub mod resident {
        pub const NAME: (usize, usize) = (0, 30);
        pub const GENDER: (usize, usize) = (30, 2);
        pub const NATION: (usize, usize) = (32, 4);
        pub const BIRTH: (usize, usize) = (36, 16);
        pub const ADDRESS: (usize, usize) = (52, 70);
        pub const ID_NUMBER: (usize, usize) = (122, 36);
        pub const AUTHORITY: (usize, usize) = (158, 30);
        pub const VALID_FROM: (usize, usize) = (188, 16);
        pub const VALID_UNTIL: (usize, usize) = (204, 16);
    }

    /// 港澳台居民居住证, type `'J'`: the resident layout without a nation, plus these.
    pub mod permit {
        pub const PASS_NUMBER: (usize, usize) = (220, 18);
        pub const ISSUE_COUNT: (usize, usize) = (238, 4);
    }

    /// 外国人永久居留身份证 2017, type `'I'`.
    pub mod foreign2017 {
        pub const NAME_EN: (usize, usize) = (0, 120);
        pub const GENDER: (usize, usize) = (120, 2);
        pub const NUMBER: (usize, usize) = (122, 30);
        pub const NATIONALITY: (usize, usize) = (152, 6);
        pub const NAME_ZH: (usize, usize) = (158, 30);
        pub const VALID_FROM: (usize, usize) = (188, 16);
        pub const VALID_UNTIL: (usize, usize) = (204, 16);
        pub const BIRTH: (usize, usize) = (220, 16);
        pub const VERSION: (usize, usize) = (236, 4);
        pub const AUTHORITY_CODE: (usize, usize) = (240, 8);
    }

    /// 外国人永久居留身份证 2023, type `'Y'`.
    pub mod foreign2023 {
        pub const NAME_ZH: (usize, usize) = (0, 30);
        pub const GENDER: (usize, usize) = (30, 2);
        pub const RENEWAL_COUNT: (usize, usize) = (32, 4);
        pub const BIRTH: (usize, usize) = (36, 16);
        pub const NAME_EN_1: (usize, usize) = (52, 70);
        pub const NUMBER: (usize, usize) = (122, 36);
        pub const RESERVED_AUTHORITY: (usize, usize) = (158, 30);
        pub const VALID_FROM: (usize, usize) = (188, 16);
        pub const VALID_UNTIL: (usize, usize) = (204, 16);
        pub const NAME_EN_2: (usize, usize) = (220, 22);
        pub const NATIONALITY: (usize, usize) = (242, 6);
        pub const PREVIOUS_NUMBER: (usize, usize) = (250, 6);
    }
}

/// The four card types, told apart by bytes 248..250.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardType {
    /// 居民身份证 (marker: padding).
    Resident,
    /// 外国人永久居留身份证, 2017 edition (`'I'`).
    ForeignPermanent2017,
    /// 外国人永久居留身份证, 2023 edition (`'Y'`).
    ForeignPermanent2023,
    /// 港澳台居民居住证 (`'J'`).
    HkMoTwPermit,
}

impl CardType {
    /// Reads the marker. Padding (`20 00`, or `00 00` from readers that pad with zeros)
    /// means a resident card.
    pub fn from_marker(marker: [u8; 2]) -> Option<CardType> {
        match marker {
            [0x20 | 0x00, 0x00] => Some(CardType::Resident),
            [b'I', 0x00] => Some(CardType::ForeignPermanent2017),
            [b'Y', 0x00] => Some(CardType::ForeignPermanent2023),
            [b'J', 0x00] => Some(CardType::HkMoTwPermit),
            _ => None,
        }
    }

    /// The marker bytes written at 248..250.
    pub fn marker(self) -> [u8; 2] {
        match self {
            CardType::Resident => [0x20, 0x00],
            CardType::ForeignPermanent2017 => [b'I', 0x00],
            CardType::ForeignPermanent2023 => [b'Y', 0x00],
            CardType::HkMoTwPermit => [b'J', 0x00],
        }
    }

    /// The JSON word: `resident`, `foreign_permanent` (both editions) or `hk_mo_tw_permit`.
    pub fn as_str(self) -> &'static str {
        match self {
            CardType::Resident => "resident",
            CardType::ForeignPermanent2017 | CardType::ForeignPermanent2023 => "foreign_permanent",
            CardType::HkMoTwPermit => "hk_mo_tw_permit",
        }
    }

    pub fn is_foreign(self) -> bool {
        matches!(
            self,
            CardType::ForeignPermanent2017 | CardType::ForeignPermanent2023
        )
    }
}

impl Serialize for CardType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Gender codes of GB/T 2261.1 (reference A.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// `0` 未知.
    Unknown,
    /// `1` 男.
    Male,
    /// `2` 女.
    Female,
    /// `9` 未说明.
    Unspecified,
}

impl Gender {
    /// From the code digit; any other character is taken as unknown.
    pub fn from_code(c: char) -> Gender {
        match c {
            '1' => Gender::Male,
            '2' => Gender::Female,
            '9' => Gender::Unspecified,
            _ => Gender::Unknown,
        }
    }

    pub fn code(self) -> char {
        match self {
            Gender::Unknown => '0',
            Gender::Male => '1',
            Gender::Female => '2',
            Gender::Unspecified => '9',
        }
    }
}

/// 民族 names of GB 3304 by code (reference A.5); index 0 is code 01.
const NATIONS: [&str; 56] = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

/// The 民族 name for a GB 3304 code (`1` → `汉`, `97` → `其他`).
pub fn nation_name(code: u8) -> Option<&'static str> {
    match code {
        97 => Some("其他"),
        98 => Some("外国血统中国籍人士"),
        1..=56 => NATIONS.get(usize::from(code) - 1).copied(),
        _ => None,
    }
}

/// The GB 3304 code for a 民族 name (with or without the trailing `族`).
pub fn nation_code(name: &str) -> Option<u8> {
    let name = name.strip_suffix('族').unwrap_or(name);
    (1..=98).find(|&c| nation_name(c) == Some(name))
}

/// The end of a card's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidUntil {
    Date(Date),
    /// `长期`: no end date (cards of people aged 46 and over).
    LongTerm,
}

impl fmt::Display for ValidUntil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidUntil::Date(d) => write!(f, "{d}"),
            ValidUntil::LongTerm => f.write_str("long-term"),
        }
    }
}

impl Serialize for ValidUntil {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for ValidUntil {
    type Err = jiff::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "long-term" || s == "长期" {
            Ok(ValidUntil::LongTerm)
        } else {
            s.parse().map(ValidUntil::Date)
        }
    }
}

impl<'de> serde::Deserialize<'de> for ValidUntil {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a text block cannot be turned into an identity. No message carries card text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the text block has {0} bytes, not 256")]
    TextLength(usize),
    #[error("unknown card type marker {0:02X?}")]
    UnknownCardType([u8; 2]),
    #[error("the {0} on the card is not a date")]
    BadDate(&'static str),
    #[error("the {0} on the card is empty")]
    MissingField(&'static str),
    /// The ID number fails GB 11643 (length, digits, birth date or check digit). Almost
    /// always a read or parse fault, not a forged card (reference A.7); the data is not used.
    #[error("the ID number on the card is not valid: {0}")]
    IdNumber(#[from] IdNumberError),
    /// A 2017 foreign permanent resident number is not 3 letters and 12 digits.
    #[error("the permanent residence number on the card is not 3 letters and 12 digits")]
    ForeignNumber,
}

/// A person's identity as read from a card.
///
/// The `serde` form has exactly the keys of `kiosk device idcard … read`: `card_type`,
/// `name`, `gender`, `nation`, `birth_date`, `address`, `id_number`, `issuing_authority`,
/// `valid_from`, `valid_until`, plus `name_en` and `nationality` for foreign cards. Fields a
/// card type does not carry are `null`. Everything else (raw bytes, photo, card-specific
/// extras) is only on the struct.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub card_type: CardType,
    /// The Chinese name; on a foreign card without a Chinese name, the English name.
    pub name: String,
    pub gender: Gender,
    /// 民族 name (`汉`, `蒙古`, …) on resident cards; `null` on others. An unknown code is
    /// shown as its two digits.
    pub nation: Option<String>,
    pub birth_date: Date,
    /// The address (resident cards and permits; `null` on foreign cards). When the reader
    /// gives an appended address it is joined per [`crate::AppendedAddress`].
    pub address: Option<String>,
    /// The ID number (upper-case `X`), or the 15-character number of a 2017 foreign card.
    pub id_number: String,
    /// 签发机关; on a 2017 foreign card the code of the accepting authority.
    pub issuing_authority: Option<String>,
    pub valid_from: Date,
    pub valid_until: ValidUntil,
    /// The English name (foreign cards only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// GB/T 2659 three-letter nationality code (foreign cards only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,

    /// The nation code as on the card (resident cards).
    #[serde(skip)]
    pub nation_code: Option<u8>,
    /// The address in the text block alone.
    #[serde(skip)]
    pub address_on_card: Option<String>,
    /// The appended address (`30 03`) if the reader returned one.
    #[serde(skip)]
    pub appended_address: Option<String>,
    /// 通行证号码 (permits).
    #[serde(skip)]
    pub pass_number: Option<String>,
    /// 签发次数 (permits) or 换证次数 (2023 foreign cards).
    #[serde(skip)]
    pub issue_count: Option<String>,
    /// 证件版本号 (2017 foreign cards).
    #[serde(skip)]
    pub card_version: Option<String>,
    /// 既往版本永居证号码关联项 (2023 foreign cards).
    #[serde(skip)]
    pub previous_number_link: Option<String>,
    /// The 256 text bytes as read, for audit.
    #[serde(skip)]
    pub raw_text: Vec<u8>,
    /// The WLT photo bytes as read (1024 on every known card); decode with a
    /// [`crate::photo::PhotoDecoder`].
    #[serde(skip)]
    pub photo_wlt: Vec<u8>,
    /// Fingerprint data when read with `30 10` (0, 512 or 1024 bytes).
    #[serde(skip)]
    pub fingerprint: Vec<u8>,
}

impl fmt::Debug for Identity {
    // Masked: never the name, address, dates or the whole number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("card_type", &self.card_type)
            .field("id_number", &id_number::mask(&self.id_number))
            .field("name_chars", &self.name.chars().count())
            .field("photo_len", &self.photo_wlt.len())
            .field("fingerprint_len", &self.fingerprint.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        self.name.zeroize();
        self.nation.zeroize();
        self.address.zeroize();
        self.id_number.zeroize();
        self.issuing_authority.zeroize();
        self.name_en.zeroize();
        self.nationality.zeroize();
        self.nation_code.zeroize();
        self.address_on_card.zeroize();
        self.appended_address.zeroize();
        self.pass_number.zeroize();
        self.issue_count.zeroize();
        self.card_version.zeroize();
        self.previous_number_link.zeroize();
        self.raw_text.zeroize();
        self.photo_wlt.zeroize();
        self.fingerprint.zeroize();
        // jiff dates have no Zeroize; overwrite them and keep the stores alive.
        self.birth_date = Date::default();
        self.valid_from = Date::default();
        self.valid_until = ValidUntil::LongTerm;
        std::hint::black_box(&self.birth_date);
        std::hint::black_box(&self.valid_from);
        std::hint::black_box(&self.valid_until);
    }
}

/// Decodes one UTF-16LE field and trims its padding (trailing spaces and NULs). Lone
/// surrogates become U+FFFD.
pub fn decode_field(text: &[u8], (offset, len): (usize, usize)) -> String {
    let bytes = text.get(offset..offset + len).unwrap_or_default();
    let units = bytes.chunks_exact(2).map(|p| {
        u16::from_le_bytes([
            p.first().copied().unwrap_or(0),
            p.get(1).copied().unwrap_or(0),
        ])
    });
    let mut s: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    let trimmed = s.trim_end_matches([' ', '\0']).len();
    s.truncate(trimmed);
    s
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// `YYYYMMDD` → date.
fn parse_date(s: &str, field: &'static str) -> Result<Date, IdentityError> {
    let err = IdentityError::BadDate(field);
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return Err(err);
    }
    let num = |r: std::ops::Range<usize>| -> i32 {
        b.get(r)
            .unwrap_or_default()
            .iter()
            .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'))
    };
    let year = i16::try_from(num(0..4)).map_err(|_| err.clone())?;
    let month = i8::try_from(num(4..6)).map_err(|_| err.clone())?;
    let day = i8::try_from(num(6..8)).map_err(|_| err.clone())?;
    Date::new(year, month, day).map_err(|_| err)
}

fn parse_valid_until(s: &str) -> Result<ValidUntil, IdentityError> {
    if s == "长期" {
        Ok(ValidUntil::LongTerm)
    } else {
        parse_date(s, "end of validity").map(ValidUntil::Date)
    }
}

fn gender_at(text: &[u8], at: (usize, usize)) -> Gender {
    decode_field(text, at)
        .chars()
        .next()
        .map_or(Gender::Unknown, Gender::from_code)
}

/// 3 ASCII letters and 12 digits.
fn is_foreign_2017_number(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 15
        && b.get(..3)
            .is_some_and(|p| p.iter().all(u8::is_ascii_uppercase))
        && b.get(3..).is_some_and(|p| p.iter().all(u8::is_ascii_digit))
}

impl Identity {
    /// Decodes a text block and keeps the photo and fingerprint bytes.
    ///
    /// Checks the ID number (GB 11643 check digit and birth date; shape for 2017 foreign
    /// cards) and every date. Any failure is an error: the data is never used half-checked.
    pub fn decode(
        text: &[u8],
        photo: &[u8],
        fingerprint: &[u8],
    ) -> Result<Identity, IdentityError> {
        if text.len() != TEXT_LEN {
            return Err(IdentityError::TextLength(text.len()));
        }
        let marker = [
            text.get(248).copied().unwrap_or(0),
            text.get(249).copied().unwrap_or(0),
        ];
        let card_type =
            CardType::from_marker(marker).ok_or(IdentityError::UnknownCardType(marker))?;
        let mut id = match card_type {
            CardType::Resident | CardType::HkMoTwPermit => {
                Self::decode_resident_like(text, card_type)?
            }
            CardType::ForeignPermanent2017 => Self::decode_foreign_2017(text)?,
            CardType::ForeignPermanent2023 => Self::decode_foreign_2023(text)?,
        };
        id.raw_text = text.to_vec();
        id.photo_wlt = photo.to_vec();
        id.fingerprint = fingerprint.to_vec();
        Ok(id)
    }

    fn blank(card_type: CardType) -> Identity {
        Identity {
            card_type,
            name: String::new(),
            gender: Gender::Unknown,
            nation: None,
            birth_date: Date::default(),
            address: None,
            id_number: String::new(),
            issuing_authority: None,
            valid_from: Date::default(),
            valid_until: ValidUntil::LongTerm,
            name_en: None,
            nationality: None,
            nation_code: None,
            address_on_card: None,
            appended_address: None,
            pass_number: None,
            issue_count: None,
            card_version: None,
            previous_number_link: None,
            raw_text: Vec::new(),
            photo_wlt: Vec::new(),
            fingerprint: Vec::new(),
        }
    }

    fn decode_resident_like(text: &[u8], card_type: CardType) -> Result<Identity, IdentityError> {
        use layout::{permit, resident as r};
        let mut id = Identity::blank(card_type);
        id.name = decode_field(text, r::NAME);
        if id.name.is_empty() {
            return Err(IdentityError::MissingField("name"));
        }
        id.gender = gender_at(text, r::GENDER);
        if card_type == CardType::Resident {
            let code = decode_field(text, r::NATION);
            let num = code.parse::<u8>().ok();
            id.nation_code = num;
            id.nation = match num.and_then(nation_name) {
                Some(n) => Some(n.to_owned()),
                None => non_empty(code),
            };
        }
        id.birth_date = parse_date(&decode_field(text, r::BIRTH), "birth date")?;
        id.address_on_card = non_empty(decode_field(text, r::ADDRESS));
        id.address.clone_from(&id.address_on_card);
        let number = decode_field(text, r::ID_NUMBER);
        if number.is_empty() {
            return Err(IdentityError::MissingField("ID number"));
        }
        id.id_number = id_number::normalize(&number)?;
        id.issuing_authority = non_empty(decode_field(text, r::AUTHORITY));
        id.valid_from = parse_date(&decode_field(text, r::VALID_FROM), "start of validity")?;
        id.valid_until = parse_valid_until(&decode_field(text, r::VALID_UNTIL))?;
        if card_type == CardType::HkMoTwPermit {
            id.pass_number = non_empty(decode_field(text, permit::PASS_NUMBER));
            id.issue_count = non_empty(decode_field(text, permit::ISSUE_COUNT));
        }
        Ok(id)
    }

    fn decode_foreign_2017(text: &[u8]) -> Result<Identity, IdentityError> {
        use layout::foreign2017 as f;
        let mut id = Identity::blank(CardType::ForeignPermanent2017);
        let name_en = decode_field(text, f::NAME_EN);
        let name_zh = decode_field(text, f::NAME_ZH);
        id.name = if name_zh.is_empty() {
            name_en.clone()
        } else {
            name_zh
        };
        if id.name.is_empty() {
            return Err(IdentityError::MissingField("name"));
        }
        id.name_en = Some(name_en);
        id.gender = gender_at(text, f::GENDER);
        let number = decode_field(text, f::NUMBER);
        if !is_foreign_2017_number(&number) {
            return Err(IdentityError::ForeignNumber);
        }
        id.id_number = number;
        id.nationality = Some(decode_field(text, f::NATIONALITY));
        id.valid_from = parse_date(&decode_field(text, f::VALID_FROM), "start of validity")?;
        id.valid_until = parse_valid_until(&decode_field(text, f::VALID_UNTIL))?;
        id.birth_date = parse_date(&decode_field(text, f::BIRTH), "birth date")?;
        id.card_version = non_empty(decode_field(text, f::VERSION));
        id.issuing_authority = non_empty(decode_field(text, f::AUTHORITY_CODE));
        Ok(id)
    }

    fn decode_foreign_2023(text: &[u8]) -> Result<Identity, IdentityError> {
        use layout::foreign2023 as f;
        let mut id = Identity::blank(CardType::ForeignPermanent2023);
        // The English name is split over two fields: join the raw halves, then trim.
        let mut joined = text
            .get(f::NAME_EN_1.0..f::NAME_EN_1.0 + f::NAME_EN_1.1)
            .unwrap_or_default()
            .to_vec();
        joined.extend_from_slice(
            text.get(f::NAME_EN_2.0..f::NAME_EN_2.0 + f::NAME_EN_2.1)
                .unwrap_or_default(),
        );
        let name_en = decode_field(&joined, (0, joined.len()));
        joined.zeroize();
        let name_zh = decode_field(text, f::NAME_ZH);
        id.name = if name_zh.is_empty() {
            name_en.clone()
        } else {
            name_zh
        };
        if id.name.is_empty() {
            return Err(IdentityError::MissingField("name"));
        }
        id.name_en = Some(name_en);
        id.gender = gender_at(text, f::GENDER);
        id.issue_count = non_empty(decode_field(text, f::RENEWAL_COUNT));
        id.birth_date = parse_date(&decode_field(text, f::BIRTH), "birth date")?;
        let number = decode_field(text, f::NUMBER);
        if number.is_empty() {
            return Err(IdentityError::MissingField("ID number"));
        }
        id.id_number = id_number::normalize(&number)?;
        id.issuing_authority = non_empty(decode_field(text, f::RESERVED_AUTHORITY));
        id.valid_from = parse_date(&decode_field(text, f::VALID_FROM), "start of validity")?;
        id.valid_until = parse_valid_until(&decode_field(text, f::VALID_UNTIL))?;
        id.nationality = Some(decode_field(text, f::NATIONALITY));
        id.previous_number_link = non_empty(decode_field(text, f::PREVIOUS_NUMBER));
        Ok(id)
    }

    /// Adds the appended address (`30 03`) per `policy`.
    pub fn set_appended_address(&mut self, appended: String, policy: AppendedAddress) {
        if appended.is_empty() {
            return;
        }
        match policy {
            AppendedAddress::Append => {
                let mut full = self.address_on_card.clone().unwrap_or_default();
                full.push_str(&appended);
                self.address = Some(full);
            }
            AppendedAddress::Replace => self.address = Some(appended.clone()),
            AppendedAddress::Ignore => {}
        }
        self.appended_address = Some(appended);
    }

    /// `true` for cards whose holder is a foreigner.
    pub fn is_foreign(&self) -> bool {
        self.card_type.is_foreign()
    }

    /// The ID number masked for screens and paper (`3604**********0071`).
    pub fn masked_id_number(&self) -> String {
        id_number::mask(&self.id_number)
    }
}

/// What to do with the appended address (`30 03`).
///
/// Reference A.4 says the text block holds 35 address characters and that the overflow is in
/// the appended-address item; on some cards that item holds a changed address instead. The
/// default joins the two; an installation that sees the other reading can replace or ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppendedAddress {
    /// The address is the text-block address followed by the appended text.
    #[default]
    Append,
    /// The appended text replaces the text-block address.
    Replace,
    /// Do not read it at all (`30 03` is not sent).
    Ignore,
}

/// Why fields cannot be written into a text block (simulator side).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("the {field} has {chars} UTF-16 units, the card holds {max}")]
    TooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
}

/// Writes `value` as UTF-16LE into `text[offset..offset+len]`, padding with `20 00`.
pub fn encode_field(
    text: &mut [u8],
    (offset, len): (usize, usize),
    value: &str,
    field: &'static str,
) -> Result<(), EncodeError> {
    let units: Vec<u16> = value.encode_utf16().collect();
    let max = len / 2;
    if units.len() > max {
        return Err(EncodeError::TooLong {
            field,
            chars: units.len(),
            max,
        });
    }
    let Some(slot) = text.get_mut(offset..offset + len) else {
        return Err(EncodeError::TooLong {
            field,
            chars: units.len(),
            max: 0,
        });
    };
    for (i, pair) in slot.chunks_exact_mut(2).enumerate() {
        let unit = units.get(i).copied().unwrap_or(0x0020);
        pair.copy_from_slice(&unit.to_le_bytes());
    }
    Ok(())
}

/// `YYYYMMDD` for a date.
pub fn date_digits(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn resident_block() -> Vec<u8> {
        use layout::resident as r;
        let mut t = vec![0u8; TEXT_LEN];
        encode_field(&mut t, (0, TEXT_LEN), "", "all").unwrap();
        encode_field(&mut t, r::NAME, "张三", "name").unwrap();
        encode_field(&mut t, r::GENDER, "1", "gender").unwrap();
        encode_field(&mut t, r::NATION, "01", "nation").unwrap();
        encode_field(&mut t, r::BIRTH, "19910101", "birth").unwrap();
        encode_field(&mut t, r::ADDRESS, "江西省赣州市测试路1号", "address").unwrap();
        encode_field(&mut t, r::ID_NUMBER, "360426199101010071", "id").unwrap();
        encode_field(&mut t, r::AUTHORITY, "测试县公安局", "authority").unwrap();
        encode_field(&mut t, r::VALID_FROM, "20150101", "from").unwrap();
        encode_field(&mut t, r::VALID_UNTIL, "20350101", "until").unwrap();
        t
    }

    #[test]
    fn resident_card_decodes_with_dates_and_nation() {
        let t = resident_block();
        // Marker bytes are padding.
        assert_eq!(&t[248..250], &[0x20, 0x00]);
        let id = Identity::decode(&t, &[7; 1024], &[]).unwrap();
        assert_eq!(id.card_type, CardType::Resident);
        assert_eq!(id.name, "张三");
        assert_eq!(id.gender, Gender::Male);
        assert_eq!(id.nation.as_deref(), Some("汉"));
        assert_eq!(id.nation_code, Some(1));
        assert_eq!(id.birth_date, date(1991, 1, 1));
        assert_eq!(id.address.as_deref(), Some("江西省赣州市测试路1号"));
        assert_eq!(id.id_number, "360426199101010071");
        assert_eq!(id.issuing_authority.as_deref(), Some("测试县公安局"));
        assert_eq!(id.valid_from, date(2015, 1, 1));
        assert_eq!(id.valid_until, ValidUntil::Date(date(2035, 1, 1)));
        assert_eq!(id.raw_text, t);
        assert_eq!(id.photo_wlt.len(), 1024);
        let json = serde_json::to_value(&id).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        let mut expected = [
            "card_type",
            "name",
            "gender",
            "nation",
            "birth_date",
            "address",
            "id_number",
            "issuing_authority",
            "valid_from",
            "valid_until",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(json["birth_date"], "1991-01-01");
        assert_eq!(json["gender"], "male");
        assert_eq!(json["card_type"], "resident");
    }

    #[test]
    fn long_term_validity_is_decoded() {
        let mut t = resident_block();
        encode_field(&mut t, layout::resident::VALID_UNTIL, "长期", "until").unwrap();
        assert_eq!(&t[204..208], &[0x7F, 0x95, 0x1F, 0x67]);
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert_eq!(id.valid_until, ValidUntil::LongTerm);
        assert_eq!(
            serde_json::to_value(&id).unwrap()["valid_until"],
            "long-term"
        );
    }

    #[test]
    fn wrong_check_digit_is_an_error() {
        let mut t = resident_block();
        encode_field(
            &mut t,
            layout::resident::ID_NUMBER,
            "360426199101010072",
            "id",
        )
        .unwrap();
        assert!(matches!(
            Identity::decode(&t, &[], &[]),
            Err(IdentityError::IdNumber(
                IdNumberError::CheckDigitMismatch { .. }
            ))
        ));
    }

    #[test]
    fn lower_case_x_is_normalised() {
        let mut t = resident_block();
        encode_field(
            &mut t,
            layout::resident::ID_NUMBER,
            "11010519491231002x",
            "id",
        )
        .unwrap();
        encode_field(&mut t, layout::resident::BIRTH, "19491231", "birth").unwrap();
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert_eq!(id.id_number, "11010519491231002X");
    }

    #[test]
    fn bad_dates_and_markers_are_errors() {
        let mut t = resident_block();
        encode_field(&mut t, layout::resident::BIRTH, "19910230", "birth").unwrap();
        assert_eq!(
            Identity::decode(&t, &[], &[]),
            Err(IdentityError::BadDate("birth date"))
        );
        let mut t = resident_block();
        encode_field(&mut t, layout::resident::VALID_UNTIL, "永久", "until").unwrap();
        assert_eq!(
            Identity::decode(&t, &[], &[]),
            Err(IdentityError::BadDate("end of validity"))
        );
        let mut t = resident_block();
        t[248] = b'Q';
        assert_eq!(
            Identity::decode(&t, &[], &[]),
            Err(IdentityError::UnknownCardType([b'Q', 0]))
        );
        assert_eq!(
            Identity::decode(&t[..200], &[], &[]),
            Err(IdentityError::TextLength(200))
        );
    }

    #[test]
    fn unknown_nation_code_is_kept_as_digits() {
        let mut t = resident_block();
        encode_field(&mut t, layout::resident::NATION, "77", "nation").unwrap();
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert_eq!(id.nation.as_deref(), Some("77"));
    }

    #[test]
    fn nation_table() {
        assert_eq!(nation_name(1), Some("汉"));
        assert_eq!(nation_name(46), Some("德昂"));
        assert_eq!(nation_name(56), Some("基诺"));
        assert_eq!(nation_name(97), Some("其他"));
        assert_eq!(nation_name(98), Some("外国血统中国籍人士"));
        assert_eq!(nation_name(0), None);
        assert_eq!(nation_name(57), None);
        assert_eq!(nation_code("维吾尔族"), Some(5));
        assert_eq!(nation_code("蒙古"), Some(2));
        for code in (1..=56).chain([97, 98]) {
            assert_eq!(nation_code(nation_name(code).unwrap()), Some(code));
        }
    }

    #[test]
    fn permit_card_has_no_nation_and_keeps_pass_number() {
        let mut t = resident_block();
        encode_field(&mut t, layout::resident::NATION, "", "nation").unwrap();
        let number = {
            let first17 = "81000019910101002";
            format!("{first17}{}", id_number::check_char(first17).unwrap())
        };
        encode_field(&mut t, layout::resident::ID_NUMBER, &number, "id").unwrap();
        encode_field(&mut t, layout::permit::PASS_NUMBER, "H12345678", "pass").unwrap();
        encode_field(&mut t, layout::permit::ISSUE_COUNT, "01", "count").unwrap();
        t[248] = b'J';
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert_eq!(id.card_type, CardType::HkMoTwPermit);
        assert_eq!(id.nation, None);
        assert_eq!(id.pass_number.as_deref(), Some("H12345678"));
        assert_eq!(id.issue_count.as_deref(), Some("01"));
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json["card_type"], "hk_mo_tw_permit");
        assert!(json["nation"].is_null());
        assert!(json.get("name_en").is_none());
        assert!(json.get("pass_number").is_none());
    }

    #[test]
    fn foreign_2017_card() {
        use layout::foreign2017 as f;
        let mut t = vec![0u8; TEXT_LEN];
        encode_field(&mut t, (0, TEXT_LEN), "", "all").unwrap();
        encode_field(&mut t, f::NAME_EN, "TESTPERSON, ALICE", "en").unwrap();
        encode_field(&mut t, f::GENDER, "2", "g").unwrap();
        encode_field(&mut t, f::NUMBER, "CAN110090010101", "n").unwrap();
        encode_field(&mut t, f::NATIONALITY, "CAN", "nat").unwrap();
        encode_field(&mut t, f::NAME_ZH, "爱丽丝", "zh").unwrap();
        encode_field(&mut t, f::VALID_FROM, "20180301", "from").unwrap();
        encode_field(&mut t, f::VALID_UNTIL, "20280301", "until").unwrap();
        encode_field(&mut t, f::BIRTH, "19900101", "birth").unwrap();
        encode_field(&mut t, f::VERSION, "01", "v").unwrap();
        encode_field(&mut t, f::AUTHORITY_CODE, "1100", "auth").unwrap();
        t[248] = b'I';
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert_eq!(id.card_type, CardType::ForeignPermanent2017);
        assert_eq!(id.name, "爱丽丝");
        assert_eq!(id.name_en.as_deref(), Some("TESTPERSON, ALICE"));
        assert_eq!(id.nationality.as_deref(), Some("CAN"));
        assert_eq!(id.gender, Gender::Female);
        assert_eq!(id.birth_date, date(1990, 1, 1));
        assert_eq!(id.id_number, "CAN110090010101");
        assert_eq!(id.issuing_authority.as_deref(), Some("1100"));
        assert_eq!(id.address, None);
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json["card_type"], "foreign_permanent");
        assert_eq!(json["name_en"], "TESTPERSON, ALICE");
        assert_eq!(json["nationality"], "CAN");
        assert_eq!(json.as_object().unwrap().len(), 12);
        // A malformed number is rejected.
        encode_field(&mut t, f::NUMBER, "CA1110090010101", "n").unwrap();
        assert_eq!(
            Identity::decode(&t, &[], &[]),
            Err(IdentityError::ForeignNumber)
        );
    }

    #[test]
    fn foreign_2023_card_joins_the_split_english_name() {
        use layout::foreign2023 as f;
        let mut t = vec![0u8; TEXT_LEN];
        encode_field(&mut t, (0, TEXT_LEN), "", "all").unwrap();
        let long = "TESTPERSON-LONGNAME, BARTHOLOMEW ALEXANDER";
        assert!(long.len() > 35);
        let (a, b) = long.split_at(35);
        encode_field(&mut t, f::NAME_EN_1, a, "en1").unwrap();
        encode_field(&mut t, f::NAME_EN_2, b, "en2").unwrap();
        encode_field(&mut t, f::GENDER, "1", "g").unwrap();
        encode_field(&mut t, f::RENEWAL_COUNT, "00", "r").unwrap();
        encode_field(&mut t, f::BIRTH, "19850615", "birth").unwrap();
        let number = {
            let first17 = "93312419850615001";
            format!("{first17}{}", id_number::check_char(first17).unwrap())
        };
        encode_field(&mut t, f::NUMBER, &number, "n").unwrap();
        encode_field(&mut t, f::VALID_FROM, "20240101", "from").unwrap();
        encode_field(&mut t, f::VALID_UNTIL, "20340101", "until").unwrap();
        encode_field(&mut t, f::NATIONALITY, "GBR", "nat").unwrap();
        t[248] = b'Y';
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert_eq!(id.card_type, CardType::ForeignPermanent2023);
        assert_eq!(id.name_en.as_deref(), Some(long));
        // No Chinese name: the English one is the name.
        assert_eq!(id.name, long);
        assert_eq!(id.nationality.as_deref(), Some("GBR"));
        assert_eq!(id.id_number, number);
        assert_eq!(id.issuing_authority, None);
    }

    #[test]
    fn characters_outside_the_bmp_and_gb2312_survive() {
        let mut t = resident_block();
        encode_field(&mut t, layout::resident::NAME, "吉𠮷龘", "name").unwrap();
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert_eq!(id.name, "吉𠮷龘");
        // A lone surrogate becomes U+FFFD instead of failing.
        t[0..2].copy_from_slice(&0xD800u16.to_le_bytes());
        let id = Identity::decode(&t, &[], &[]).unwrap();
        assert!(id.name.starts_with('\u{FFFD}'));
    }

    #[test]
    fn appended_address_policies() {
        let t = resident_block();
        let mut id = Identity::decode(&t, &[], &[]).unwrap();
        id.set_appended_address("二单元".into(), AppendedAddress::Append);
        assert_eq!(id.address.as_deref(), Some("江西省赣州市测试路1号二单元"));
        let mut id = Identity::decode(&t, &[], &[]).unwrap();
        id.set_appended_address("新地址".into(), AppendedAddress::Replace);
        assert_eq!(id.address.as_deref(), Some("新地址"));
        assert_eq!(id.address_on_card.as_deref(), Some("江西省赣州市测试路1号"));
    }

    #[test]
    fn debug_is_masked() {
        let id = Identity::decode(&resident_block(), &[], &[]).unwrap();
        let dbg = format!("{id:?}");
        assert!(dbg.contains("3604**********0071"), "{dbg}");
        assert!(!dbg.contains("张三"));
        assert!(!dbg.contains("1991"));
        assert!(!dbg.contains("测试"));
    }

    #[test]
    fn field_encoding_refuses_overflow() {
        let mut t = vec![0u8; TEXT_LEN];
        assert!(matches!(
            encode_field(&mut t, layout::resident::NAME, &"名".repeat(16), "name"),
            Err(EncodeError::TooLong { max: 15, .. })
        ));
    }
}
