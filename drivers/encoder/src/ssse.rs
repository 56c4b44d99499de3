//! The social security application (SSSE) personalisation flow at the level open software
//! can carry out (reference §2.2): select the application, read the card identification,
//! get a challenge, relay it to the card bureau and send back the cryptogram it returns
//! (EXTERNAL AUTHENTICATE), write the records the platform provides (UPDATE RECORD), and read
//! them back. The keys stay with the card bureau; the kiosk only relays.
//!
//! Every step is one function with a typed outcome; [`personalise`] runs them in order.

use std::fmt;

use crate::apdu::{Apdu, Response, SwError};
use crate::transport::{ApduTransport, TransportError, exchange};

/// DF name of the social security environment: "sx1.sh.社会保障" in GBK.
pub const SSSE_AID: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];
/// Master file.
pub const MF: u16 = 0x3F00;
/// Issuer data (card id, type, version, institution, issue/expiry date, card number).
pub const EF05: u16 = 0xEF05;
/// Holder basics (SSN, name, sex, ethnicity, birth date).
pub const EF06: u16 = 0xEF06;

/// Record → tag map (Z390 `WriteFile()`, reference §2.2).
pub mod tags {
    /// EF05 record 1: card identification code (卡识别码), 16 bytes.
    pub const CARD_ID: (u8, u8) = (1, 0x01);
    /// EF05 record 2: card type.
    pub const CARD_TYPE: (u8, u8) = (2, 0x02);
    /// EF05 record 3: specification version, e.g. "3.00".
    pub const SPEC_VERSION: (u8, u8) = (3, 0x03);
    /// EF05 record 4: initialising institution.
    pub const INSTITUTION: (u8, u8) = (4, 0x04);
    /// EF05 record 5: issue date.
    pub const ISSUE_DATE: (u8, u8) = (5, 0x05);
    /// EF05 record 6: expiry date.
    pub const EXPIRY_DATE: (u8, u8) = (6, 0x06);
    /// EF05 record 7: card number.
    pub const CARD_NUMBER: (u8, u8) = (7, 0x07);
    /// EF06 record 1: social security number (18 characters).
    pub const SSN: (u8, u8) = (1, 0x08);
    /// EF06 record 2: name (GBK, padded with 00 to 30 bytes).
    pub const NAME: (u8, u8) = (2, 0x09);
    /// EF06 record 4: sex.
    pub const SEX: (u8, u8) = (4, 0x0A);
    /// EF06 record 5: ethnicity.
    pub const ETHNICITY: (u8, u8) = (5, 0x0B);
    /// EF06 record 7: birth date.
    pub const BIRTH_DATE: (u8, u8) = (7, 0x0D);
}

/// One step of the flow, carried by every error so the record says where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    PowerOn,
    SelectMf,
    SelectSsse,
    SelectEf(u16),
    ReadCardId,
    GetChallenge,
    Bureau,
    ExternalAuthenticate,
    UpdateRecord { ef: u16, record: u8 },
    ReadBack { ef: u16, record: u8 },
    PowerOff,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::PowerOn => write!(f, "power on"),
            Step::SelectMf => write!(f, "select MF"),
            Step::SelectSsse => write!(f, "select SSSE"),
            Step::SelectEf(ef) => write!(f, "select EF {ef:04X}"),
            Step::ReadCardId => write!(f, "read card identification"),
            Step::GetChallenge => write!(f, "get challenge"),
            Step::Bureau => write!(f, "card bureau"),
            Step::ExternalAuthenticate => write!(f, "external authenticate"),
            Step::UpdateRecord { ef, record } => {
                write!(f, "update record {record} of EF {ef:04X}")
            }
            Step::ReadBack { ef, record } => write!(f, "read back record {record} of EF {ef:04X}"),
            Step::PowerOff => write!(f, "power off"),
        }
    }
}

/// Why the card bureau gave no cryptogram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BureauError(pub String);

/// Why a personalisation step failed. Any of these means the card must be captured.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The chip answered with a status word other than 9000.
    #[error("{step}: {error}")]
    Card { step: Step, error: SwError },
    /// The chip or reader could not be reached.
    #[error("{step}: {error}")]
    Transport {
        step: Step,
        #[source]
        error: TransportError,
    },
    /// The card bureau refused or could not be reached.
    #[error("{step}: {error}")]
    Bureau { step: Step, error: BureauError },
    /// The chip answered 9000 with data of the wrong shape.
    #[error("{step}: {reason}")]
    Malformed { step: Step, reason: String },
    /// A record read back differs from what was written.
    #[error("record {record} of EF {ef:04X} reads back differently")]
    VerifyMismatch { ef: u16, record: u8 },
}

impl EncodeError {
    pub fn step(&self) -> Step {
        match self {
            EncodeError::Card { step, .. }
            | EncodeError::Transport { step, .. }
            | EncodeError::Bureau { step, .. }
            | EncodeError::Malformed { step, .. } => *step,
            EncodeError::VerifyMismatch { ef, record } => Step::ReadBack {
                ef: *ef,
                record: *record,
            },
        }
    }

    /// The status word's name when the chip refused.
    pub fn sw_error(&self) -> Option<SwError> {
        match self {
            EncodeError::Card { error, .. } => Some(*error),
            _ => None,
        }
    }

    /// True when the card (or chip) went away or stayed silent.
    pub fn is_card_gone(&self) -> bool {
        matches!(
            self,
            EncodeError::Transport {
                error: TransportError::CardRemoved
                    | TransportError::NoCard
                    | TransportError::NoAnswer,
                ..
            }
        )
    }
}

/// What is sent to the card bureau for one EXTERNAL AUTHENTICATE.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    pub atr: &'a [u8],
    /// The card identification code (EF05 record 1 value, 16 bytes).
    pub card_id: &'a [u8],
    /// The card's random from GET CHALLENGE.
    pub challenge: &'a [u8],
    /// The file about to be written (the bureau chooses the key for it).
    pub ef: u16,
}

/// The cryptogram the card bureau returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cryptogram {
    /// Key id, sent as P2 of EXTERNAL AUTHENTICATE (e.g. 0A or 04).
    pub key_id: u8,
    pub bytes: Vec<u8>,
}

/// The card bureau as the flow sees it: given a challenge, return a cryptogram. The app
/// implements this over the platform API (blocking: call the flow from a blocking thread).
pub trait CardBureau {
    fn external_auth(&mut self, req: &AuthRequest<'_>) -> Result<Cryptogram, BureauError>;
}

impl<F> CardBureau for F
where
    F: FnMut(&AuthRequest<'_>) -> Result<Cryptogram, BureauError>,
{
    fn external_auth(&mut self, req: &AuthRequest<'_>) -> Result<Cryptogram, BureauError> {
        self(req)
    }
}

/// One record to write: `tag len value` as the record body.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordWrite {
    pub ef: u16,
    pub record: u8,
    pub tag: u8,
    pub value: Vec<u8>,
}

impl fmt::Debug for RecordWrite {
    // The value is personal data (name, SSN): never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RecordWrite(EF {:04X} record {} tag {:02X}, {} bytes)",
            self.ef,
            self.record,
            self.tag,
            self.value.len()
        )
    }
}

impl RecordWrite {
    /// The record body as written: tag, length, value.
    pub fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.value.len() + 2);
        b.push(self.tag);
        b.push(u8::try_from(self.value.len()).unwrap_or(u8::MAX));
        b.extend_from_slice(
            self.value
                .get(..self.value.len().min(253))
                .unwrap_or_default(),
        );
        b
    }
}

/// The personalisation data the platform provides, as records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Personalisation {
    pub records: Vec<RecordWrite>,
}

/// Holder and card data in plain form, for building a [`Personalisation`].
#[derive(Clone, Default)]
pub struct HolderData {
    /// Social security number (the 18-character citizen ID number).
    pub ssn: String,
    pub name: String,
    /// "1" male, "2" female (GB/T 2261.1 codes).
    pub sex: String,
    /// Two-digit ethnicity code (GB 3304), e.g. "01".
    pub ethnicity: String,
    /// Birth date "YYYYMMDD".
    pub birth_date: String,
    /// Card number printed on the face (e.g. 9 characters).
    pub card_number: String,
    /// Issue and expiry dates "YYYYMMDD".
    pub issue_date: String,
    pub expiry_date: String,
}

impl fmt::Debug for HolderData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HolderData(<masked>)")
    }
}

/// Packs "YYYYMMDD" as 4 BCD bytes; `None` when not 8 digits.
pub fn bcd_date(date: &str) -> Option<Vec<u8>> {
    let d = date.as_bytes();
    if d.len() != 8 || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        d.chunks(2)
            .map(|p| ((p[0] - b'0') << 4) | (p[1] - b'0'))
            .collect(),
    )
}

impl Personalisation {
    /// Builds the common records from holder data: SSN (ASCII), name (GBK, or GB18030 for
    /// characters outside GBK, padded with 00 to 30 bytes; as the platform does), sex,
    /// ethnicity, birth/issue/expiry dates (BCD YYYYMMDD), card number. `None` when a date is
    /// not 8 digits or the name does not fit 30 bytes.
    pub fn from_holder(h: &HolderData) -> Option<Personalisation> {
        let (name, _, _) = encoding_rs::GB18030.encode(&h.name);
        if name.len() > 30 {
            return None;
        }
        let mut name = name.into_owned();
        name.resize(30, 0);
        let rec = |ef, (record, tag): (u8, u8), value: Vec<u8>| RecordWrite {
            ef,
            record,
            tag,
            value,
        };
        Some(Personalisation {
            records: vec![
                rec(EF05, tags::ISSUE_DATE, bcd_date(&h.issue_date)?),
                rec(EF05, tags::EXPIRY_DATE, bcd_date(&h.expiry_date)?),
                rec(EF05, tags::CARD_NUMBER, h.card_number.as_bytes().to_vec()),
                rec(EF06, tags::SSN, h.ssn.as_bytes().to_vec()),
                rec(EF06, tags::NAME, name),
                rec(EF06, tags::SEX, h.sex.as_bytes().to_vec()),
                rec(EF06, tags::ETHNICITY, h.ethnicity.as_bytes().to_vec()),
                rec(EF06, tags::BIRTH_DATE, bcd_date(&h.birth_date)?),
            ],
        })
    }

    /// The files written, in order of first appearance.
    pub fn files(&self) -> Vec<u16> {
        let mut files = Vec::new();
        for r in &self.records {
            if !files.contains(&r.ef) {
                files.push(r.ef);
            }
        }
        files
    }
}

/// Options of the flow for card makes that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowOptions {
    /// Select the MF before the SSSE (needed on some card makes, e.g. Henbao in Z390).
    pub select_mf_first: bool,
    /// P1 of SELECT for an EF by file id: 00 (most code) or 02 (some code).
    pub select_ef_p1: u8,
    /// Length asked for in GET CHALLENGE (4 or 8).
    pub challenge_len: u8,
}

impl Default for FlowOptions {
    fn default() -> Self {
        FlowOptions {
            select_mf_first: false,
            select_ef_p1: 0x00,
            challenge_len: 8,
        }
    }
}

fn run(t: &mut dyn ApduTransport, step: Step, apdu: &Apdu) -> Result<Vec<u8>, EncodeError> {
    let response: Response =
        exchange(t, apdu).map_err(|error| EncodeError::Transport { step, error })?;
    response
        .ok()
        .map_err(|error| EncodeError::Card { step, error })
}

/// Powers the chip up; returns the ATR.
pub fn power_on(t: &mut dyn ApduTransport) -> Result<Vec<u8>, EncodeError> {
    t.connect().map_err(|error| EncodeError::Transport {
        step: Step::PowerOn,
        error,
    })
}

/// Powers the chip down.
pub fn power_off(t: &mut dyn ApduTransport) -> Result<(), EncodeError> {
    t.disconnect().map_err(|error| EncodeError::Transport {
        step: Step::PowerOff,
        error,
    })
}

/// `00 A4 00 00 02 3F 00`
pub fn select_mf(t: &mut dyn ApduTransport) -> Result<(), EncodeError> {
    let apdu = Apdu::new(0x00, 0xA4, 0x00, 0x00).with_data(MF.to_be_bytes());
    run(t, Step::SelectMf, &apdu).map(|_| ())
}

/// `00 A4 04 00 0F <SSSE>`
pub fn select_ssse(t: &mut dyn ApduTransport) -> Result<(), EncodeError> {
    let apdu = Apdu::new(0x00, 0xA4, 0x04, 0x00).with_data(SSSE_AID);
    run(t, Step::SelectSsse, &apdu).map(|_| ())
}

/// `00 A4 <p1> 00 02 <fid>`
pub fn select_ef(t: &mut dyn ApduTransport, ef: u16, p1: u8) -> Result<(), EncodeError> {
    let apdu = Apdu::new(0x00, 0xA4, p1, 0x00).with_data(ef.to_be_bytes());
    run(t, Step::SelectEf(ef), &apdu).map(|_| ())
}

/// `00 B2 <record> 04 00`: a record of the current EF, as stored (tag, length, value).
pub fn read_record(
    t: &mut dyn ApduTransport,
    step: Step,
    record: u8,
) -> Result<Vec<u8>, EncodeError> {
    let apdu = Apdu::new(0x00, 0xB2, record, 0x04).with_le(0);
    run(t, step, &apdu)
}

/// Splits a record body `tag len value`; checks the tag.
pub fn tlv_value(step: Step, body: &[u8], tag: u8) -> Result<Vec<u8>, EncodeError> {
    match body {
        [t, len, value @ ..] if *t == tag && usize::from(*len) <= value.len() => {
            Ok(value.get(..usize::from(*len)).unwrap_or_default().to_vec())
        }
        [t, ..] if *t != tag => Err(EncodeError::Malformed {
            step,
            reason: format!("tag {t:02X}, expected {tag:02X}"),
        }),
        _ => Err(EncodeError::Malformed {
            step,
            reason: format!("record of {} bytes is not tag-length-value", body.len()),
        }),
    }
}

/// Selects EF05 and reads record 1, the card identification code (`01 10 <16 bytes>`).
pub fn read_card_id(
    t: &mut dyn ApduTransport,
    options: &FlowOptions,
) -> Result<Vec<u8>, EncodeError> {
    select_ef(t, EF05, options.select_ef_p1)?;
    let body = read_record(t, Step::ReadCardId, tags::CARD_ID.0)?;
    let id = tlv_value(Step::ReadCardId, &body, tags::CARD_ID.1)?;
    if id.len() != 16 {
        return Err(EncodeError::Malformed {
            step: Step::ReadCardId,
            reason: format!("card id of {} bytes, expected 16", id.len()),
        });
    }
    Ok(id)
}

/// `00 84 00 00 <len>`: the card's random.
pub fn get_challenge(t: &mut dyn ApduTransport, len: u8) -> Result<Vec<u8>, EncodeError> {
    let apdu = Apdu::new(0x00, 0x84, 0x00, 0x00).with_le(len);
    let challenge = run(t, Step::GetChallenge, &apdu)?;
    if challenge.len() != usize::from(len) {
        return Err(EncodeError::Malformed {
            step: Step::GetChallenge,
            reason: format!("{} bytes, asked for {len}", challenge.len()),
        });
    }
    Ok(challenge)
}

/// Hands the challenge to the card bureau and returns its cryptogram.
pub fn ask_bureau(
    bureau: &mut dyn CardBureau,
    req: &AuthRequest<'_>,
) -> Result<Cryptogram, EncodeError> {
    bureau
        .external_auth(req)
        .map_err(|error| EncodeError::Bureau {
            step: Step::Bureau,
            error,
        })
}

/// `00 82 00 <key id> <len> <cryptogram>`. A wrong cryptogram is
/// [`SwError::VerificationFailed`].
pub fn external_authenticate(
    t: &mut dyn ApduTransport,
    cryptogram: &Cryptogram,
) -> Result<(), EncodeError> {
    let apdu = Apdu::new(0x00, 0x82, 0x00, cryptogram.key_id).with_data(cryptogram.bytes.clone());
    run(t, Step::ExternalAuthenticate, &apdu).map(|_| ())
}

/// `00 DC <record> 04 <Lc> <tag> <len> <value>` into the current EF.
pub fn update_record(t: &mut dyn ApduTransport, w: &RecordWrite) -> Result<(), EncodeError> {
    let apdu = Apdu::new(0x00, 0xDC, w.record, 0x04).with_data(w.body());
    run(
        t,
        Step::UpdateRecord {
            ef: w.ef,
            record: w.record,
        },
        &apdu,
    )
    .map(|_| ())
}

/// What a finished personalisation reports (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Personalised {
    pub atr: Vec<u8>,
    /// The card identification code, for the issuance record.
    pub card_id: Vec<u8>,
    pub records_written: usize,
}

/// Authenticates with the bureau for one file and writes its records (the EF is selected).
pub fn write_file(
    t: &mut dyn ApduTransport,
    bureau: &mut dyn CardBureau,
    atr: &[u8],
    card_id: &[u8],
    ef: u16,
    records: &[&RecordWrite],
    options: &FlowOptions,
) -> Result<(), EncodeError> {
    select_ef(t, ef, options.select_ef_p1)?;
    let challenge = get_challenge(t, options.challenge_len)?;
    let cryptogram = ask_bureau(
        bureau,
        &AuthRequest {
            atr,
            card_id,
            challenge: &challenge,
            ef,
        },
    )?;
    external_authenticate(t, &cryptogram)?;
    for w in records {
        update_record(t, w)?;
    }
    Ok(())
}

/// Reads every written record back and compares.
pub fn verify(
    t: &mut dyn ApduTransport,
    data: &Personalisation,
    options: &FlowOptions,
) -> Result<(), EncodeError> {
    for ef in data.files() {
        select_ef(t, ef, options.select_ef_p1)?;
        for w in data.records.iter().filter(|w| w.ef == ef) {
            let step = Step::ReadBack {
                ef,
                record: w.record,
            };
            let body = read_record(t, step, w.record)?;
            if body != w.body() {
                return Err(EncodeError::VerifyMismatch {
                    ef,
                    record: w.record,
                });
            }
        }
    }
    Ok(())
}

/// The whole dialogue: power on, select, read the card id, per file authenticate with the
/// bureau and write, read back, power off. On error the chip is left powered (the caller
/// captures the card anyway).
pub fn personalise(
    t: &mut dyn ApduTransport,
    bureau: &mut dyn CardBureau,
    data: &Personalisation,
    options: &FlowOptions,
) -> Result<Personalised, EncodeError> {
    let atr = power_on(t)?;
    if options.select_mf_first {
        select_mf(t)?;
    }
    select_ssse(t)?;
    let card_id = read_card_id(t, options)?;
    for ef in data.files() {
        let records: Vec<&RecordWrite> = data.records.iter().filter(|w| w.ef == ef).collect();
        write_file(t, bureau, &atr, &card_id, ef, &records, options)?;
    }
    verify(t, data, options)?;
    power_off(t)?;
    tracing::info!(records = data.records.len(), "chip personalised");
    Ok(Personalised {
        atr,
        card_id,
        records_written: data.records.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_data_becomes_records() {
        let p = Personalisation::from_holder(&HolderData {
            ssn: "110101202401010011".into(),
            name: "张三".into(),
            sex: "1".into(),
            ethnicity: "01".into(),
            birth_date: "20240101".into(),
            card_number: "A12345678".into(),
            issue_date: "20260301".into(),
            expiry_date: "20360301".into(),
        })
        .unwrap();
        let name = p.records.iter().find(|r| r.tag == 0x09).unwrap();
        assert_eq!(name.value.len(), 30);
        assert_eq!(&name.value[..4], &[0xD5, 0xC5, 0xC8, 0xFD], "GBK 张三");
        assert_eq!(name.body()[..2], [0x09, 30]);
        let birth = p.records.iter().find(|r| r.tag == 0x0D).unwrap();
        assert_eq!(birth.value, vec![0x20, 0x24, 0x01, 0x01]);
        assert_eq!(p.files(), vec![EF05, EF06]);
        assert!(format!("{name:?}").contains("30 bytes"));
        assert!(!format!("{:?}", HolderData::default()).contains("ssn"));
        assert!(bcd_date("2024-1-1").is_none());
    }

    #[test]
    fn tlv_checks_tag_and_length() {
        assert_eq!(
            tlv_value(Step::ReadCardId, &[1, 2, 9, 9, 0], 1).unwrap(),
            vec![9, 9]
        );
        assert!(tlv_value(Step::ReadCardId, &[2, 1, 0], 1).is_err());
        assert!(tlv_value(Step::ReadCardId, &[1, 5, 0], 1).is_err());
        assert!(tlv_value(Step::ReadCardId, &[], 1).is_err());
    }
}
