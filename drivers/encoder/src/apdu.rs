//! ISO 7816-4 command and response APDUs (short form), and status words with names.

use std::fmt;

/// A short command APDU: CLA INS P1 P2 [Lc data] [Le].
#[derive(Clone, PartialEq, Eq)]
pub struct Apdu {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    /// Command data (at most 255 bytes in the short form).
    pub data: Vec<u8>,
    /// Expected response length: `Some(0)` is written as Le = 00 (up to 256 bytes).
    pub le: Option<u8>,
}

impl fmt::Debug for Apdu {
    // The data may carry personal data (a name being written): show only its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Apdu({:02X} {:02X} {:02X} {:02X}, {} data bytes, le {:?})",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len(),
            self.le
        )
    }
}

/// Why bytes are not a short command APDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduParseError {
    #[error("a command APDU has at least 4 bytes, got {0}")]
    TooShort(usize),
    #[error("extended-length APDUs are not supported")]
    Extended,
    #[error("Lc says {lc} data bytes but {rest} bytes follow the header")]
    BadLength { lc: usize, rest: usize },
}

impl Apdu {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Apdu {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    #[must_use]
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    #[must_use]
    pub fn with_le(mut self, le: u8) -> Self {
        self.le = Some(le);
        self
    }

    /// The bytes to send. Data longer than 255 bytes is cut (callers never build one; the
    /// personalisation records are far shorter).
    pub fn to_bytes(&self) -> Vec<u8> {
        let data = self
            .data
            .get(..self.data.len().min(255))
            .unwrap_or_default();
        let mut out = Vec::with_capacity(6 + data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !data.is_empty() {
            out.push(u8::try_from(data.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(data);
        }
        if let Some(le) = self.le {
            out.push(le);
        }
        out
    }

    /// Parses a short command APDU (cases 1 to 4).
    pub fn parse(bytes: &[u8]) -> Result<Apdu, ApduParseError> {
        let Some((&[cla, ins, p1, p2], body)) = bytes.split_first_chunk::<4>() else {
            return Err(ApduParseError::TooShort(bytes.len()));
        };
        let mut apdu = Apdu::new(cla, ins, p1, p2);
        match body {
            [] => {}
            [le] => apdu.le = Some(*le),
            [0, _, ..] => return Err(ApduParseError::Extended),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len() {
                    n if n == lc => apdu.data = rest.to_vec(),
                    n if n == lc + 1 => {
                        apdu.data = rest.get(..lc).unwrap_or_default().to_vec();
                        apdu.le = rest.last().copied();
                    }
                    n => {
                        return Err(ApduParseError::BadLength { lc, rest: n });
                    }
                }
            }
        }
        Ok(apdu)
    }

    /// Le as a number of bytes (00 = 256), or `None` when absent.
    pub fn expected_len(&self) -> Option<usize> {
        self.le
            .map(|le| if le == 0 { 256 } else { usize::from(le) })
    }
}

/// A status word SW1 SW2.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sw(pub u16);

impl Sw {
    pub const OK: Sw = Sw(0x9000);

    pub fn from_bytes(sw1: u8, sw2: u8) -> Sw {
        Sw(u16::from_be_bytes([sw1, sw2]))
    }

    pub fn sw1(self) -> u8 {
        self.0.to_be_bytes()[0]
    }

    pub fn sw2(self) -> u8 {
        self.0.to_be_bytes()[1]
    }

    pub fn is_ok(self) -> bool {
        self.0 == 0x9000
    }

    /// What the status word means, in plain words.
    pub fn meaning(self) -> String {
        let fixed = match self.0 {
            0x9000 => "success",
            0x6281 => "part of the returned data may be corrupted",
            0x6282 => "end of file or record reached before Le bytes",
            0x6283 => "selected file invalidated",
            0x6300 => "verification failed (wrong cryptogram or key)",
            0x6581 => "memory failure (the chip could not write)",
            0x6700 => "wrong length",
            0x6882 => "secure messaging not supported",
            0x6981 => "command incompatible with the file structure",
            0x6982 => "security status not satisfied (authenticate first)",
            0x6983 => "authentication method blocked",
            0x6984 => "reference data not usable",
            0x6985 => "conditions of use not satisfied",
            0x6986 => "command not allowed (no current file)",
            0x6A80 => "incorrect data",
            0x6A81 => "function not supported",
            0x6A82 => "file or application not found",
            0x6A83 => "record not found",
            0x6A84 => "not enough memory space in the file",
            0x6A86 => "incorrect parameters P1-P2",
            0x6A88 => "referenced data not found",
            0x6B00 => "wrong parameters P1-P2",
            0x6D00 => "instruction not supported",
            0x6E00 => "class not supported",
            0x6F00 => "no precise diagnosis",
            _ => "",
        };
        if !fixed.is_empty() {
            return fixed.to_owned();
        }
        match self.sw1() {
            0x61 => format!("{} more response bytes available", self.sw2()),
            0x6C => format!("wrong Le; the exact length is {}", self.sw2()),
            0x63 if self.sw2() & 0xF0 == 0xC0 => {
                format!("verification failed, {} tries left", self.sw2() & 0x0F)
            }
            0x64 => "execution error, memory unchanged".to_owned(),
            0x65 => "execution error, memory changed".to_owned(),
            _ => "unknown status word".to_owned(),
        }
    }
}

impl fmt::Debug for Sw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sw({:04X})", self.0)
    }
}

impl fmt::Display for Sw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X} ({})", self.0, self.meaning())
    }
}

/// A status word that is not success, named where the flow must react to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SwError {
    #[error("file or application not found (6A82)")]
    FileNotFound,
    #[error("record not found (6A83)")]
    RecordNotFound,
    #[error("security status not satisfied (6982)")]
    SecurityStatusNotSatisfied,
    #[error("authentication blocked (6983)")]
    AuthenticationBlocked,
    #[error("conditions of use not satisfied (6985)")]
    ConditionsNotSatisfied,
    #[error("no current file (6986)")]
    NoCurrentFile,
    #[error("memory failure (6581)")]
    MemoryFailure,
    /// 6300 or 63Cx: the cryptogram (or key) was wrong.
    #[error("verification failed{}", match .tries_left { Some(n) => format!(", {n} tries left"), None => String::new() })]
    VerificationFailed { tries_left: Option<u8> },
    #[error("wrong length (6700)")]
    WrongLength,
    #[error("incorrect parameters ({0:?})")]
    WrongParameters(Sw),
    #[error("incorrect data (6A80)")]
    IncorrectData,
    #[error("not enough memory in the file (6A84)")]
    NotEnoughMemory,
    #[error("instruction not supported (6D00)")]
    InsNotSupported,
    #[error("class not supported (6E00)")]
    ClaNotSupported,
    #[error("card answered {0}")]
    Other(Sw),
}

impl SwError {
    /// Names a non-success status word; `None` for 9000.
    pub fn from_sw(sw: Sw) -> Option<SwError> {
        Some(match sw.0 {
            0x9000 => return None,
            0x6A82 => SwError::FileNotFound,
            0x6A83 => SwError::RecordNotFound,
            0x6982 => SwError::SecurityStatusNotSatisfied,
            0x6983 => SwError::AuthenticationBlocked,
            0x6985 => SwError::ConditionsNotSatisfied,
            0x6986 => SwError::NoCurrentFile,
            0x6581 => SwError::MemoryFailure,
            0x6300 => SwError::VerificationFailed { tries_left: None },
            x if x & 0xFFF0 == 0x63C0 => SwError::VerificationFailed {
                tries_left: Some(sw.sw2() & 0x0F),
            },
            0x6700 => SwError::WrongLength,
            0x6A86 | 0x6B00 => SwError::WrongParameters(sw),
            0x6A80 => SwError::IncorrectData,
            0x6A84 => SwError::NotEnoughMemory,
            0x6D00 => SwError::InsNotSupported,
            0x6E00 => SwError::ClaNotSupported,
            _ => SwError::Other(sw),
        })
    }

    /// The status word this error stands for (`Other` keeps its own).
    pub fn sw(self) -> Sw {
        Sw(match self {
            SwError::FileNotFound => 0x6A82,
            SwError::RecordNotFound => 0x6A83,
            SwError::SecurityStatusNotSatisfied => 0x6982,
            SwError::AuthenticationBlocked => 0x6983,
            SwError::ConditionsNotSatisfied => 0x6985,
            SwError::NoCurrentFile => 0x6986,
            SwError::MemoryFailure => 0x6581,
            SwError::VerificationFailed { tries_left: None } => 0x6300,
            SwError::VerificationFailed {
                tries_left: Some(n),
            } => 0x63C0 | u16::from(n & 0x0F),
            SwError::WrongLength => 0x6700,
            SwError::IncorrectData => 0x6A80,
            SwError::NotEnoughMemory => 0x6A84,
            SwError::InsNotSupported => 0x6D00,
            SwError::ClaNotSupported => 0x6E00,
            SwError::WrongParameters(sw) | SwError::Other(sw) => return sw,
        })
    }
}

/// A response APDU: data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: Sw,
}

impl fmt::Debug for Response {
    // Records read back carry personal data: show only the length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response({} data bytes, {:?})", self.data.len(), self.sw)
    }
}

impl Response {
    /// Splits raw response bytes; `None` when there is no status word.
    pub fn from_bytes(bytes: &[u8]) -> Option<Response> {
        let (data, sw) = bytes.split_last_chunk::<2>()?;
        Some(Response {
            data: data.to_vec(),
            sw: Sw::from_bytes(sw[0], sw[1]),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.0.to_be_bytes());
        out
    }

    /// The data when the status word is 9000, else the named error.
    pub fn ok(self) -> Result<Vec<u8>, SwError> {
        match SwError::from_sw(self.sw) {
            None => Ok(self.data),
            Some(e) => Err(e),
        }
    }
}

/// Parses hex with optional spaces, e.g. "00 A4 04 00".
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(&clean).map_err(|e| format!("not hex: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apdu_cases_round_trip() {
        let cases: [&[u8]; 5] = [
            &[0x00, 0xA4, 0x00, 0x00],
            &[0x00, 0x84, 0x00, 0x00, 0x08],
            &[0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00],
            &[0x00, 0xB2, 0x01, 0x04, 0x00],
            &[0x00, 0xA4, 0x04, 0x00, 0x02, 0xEF, 0x05, 0x00],
        ];
        for bytes in cases {
            let apdu = Apdu::parse(bytes).unwrap();
            assert_eq!(apdu.to_bytes(), bytes);
        }
        assert_eq!(Apdu::parse(&[0, 1]), Err(ApduParseError::TooShort(2)));
        assert_eq!(
            Apdu::parse(&[0, 0xA4, 0, 0, 5, 1]),
            Err(ApduParseError::BadLength { lc: 5, rest: 1 })
        );
        assert_eq!(
            Apdu::parse(&[0, 0xA4, 0, 0, 0, 1, 2]),
            Err(ApduParseError::Extended)
        );
    }

    #[test]
    fn status_words_are_named() {
        for (sw, err) in [
            (0x6A82, SwError::FileNotFound),
            (0x6982, SwError::SecurityStatusNotSatisfied),
            (0x6581, SwError::MemoryFailure),
            (0x6300, SwError::VerificationFailed { tries_left: None }),
            (
                0x63C2,
                SwError::VerificationFailed {
                    tries_left: Some(2),
                },
            ),
            (0x6A83, SwError::RecordNotFound),
        ] {
            assert_eq!(SwError::from_sw(Sw(sw)), Some(err));
            assert_eq!(err.sw(), Sw(sw));
        }
        assert_eq!(SwError::from_sw(Sw::OK), None);
        assert_eq!(
            Sw(0x6A82).to_string(),
            "6A82 (file or application not found)"
        );
        assert_eq!(Sw(0x6110).meaning(), "16 more response bytes available");
        assert_eq!(Sw(0x6C12).meaning(), "wrong Le; the exact length is 18");
        assert_eq!(Sw(0x63C1).meaning(), "verification failed, 1 tries left");
    }

    #[test]
    fn responses_split_and_debug_hides_data() {
        let r = Response::from_bytes(&[0x41, 0x42, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, b"AB");
        assert!(r.sw.is_ok());
        assert_eq!(format!("{r:?}"), "Response(2 data bytes, Sw(9000))");
        assert!(Response::from_bytes(&[0x90]).is_none());
        assert_eq!(parse_hex("00 a4 0400").unwrap(), vec![0, 0xA4, 4, 0]);
        assert!(parse_hex("0g").is_err());
    }
}
