//! ESC/POS bytes the kiosk sends and the printer's replies: command constants, cut variants,
//! the real-time status bit tables (DLE EOT 1–4, Epson layout), `GS r 1`, Automatic Status
//! Back, and a streaming reply demultiplexer. Pure: no I/O, never panics on any input.
//!
//! Facts from `reference/id-reader-and-escpos.md` part B.2 and the Epson/Citizen command
//! references for `DLE DC4 fn=8` and `DLE ENQ n`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `ESC @`: initialise (clears the print buffer and modes, not the receive buffer).
pub const ESC_INIT: [u8; 2] = [0x1B, 0x40];
/// `FS &`: Chinese character mode on (two-byte GB codes print as one character).
pub const FS_CHINESE_ON: [u8; 2] = [0x1C, 0x26];
/// `FS .`: Chinese character mode off.
pub const FS_CHINESE_OFF: [u8; 2] = [0x1C, 0x2E];
/// `GS a 0`: Automatic Status Back off, so the read side only carries answers we asked for.
pub const GS_ASB_OFF: [u8; 3] = [0x1D, 0x61, 0x00];
/// `GS r 1`: paper sensor status. It is processed *in order*, after everything received
/// before it, and not while the printer is stopped for paper end, so the driver uses its
/// answer as the "everything before this has printed" barrier of a job.
pub const GS_R_PAPER: [u8; 3] = [0x1D, 0x72, 0x01];
/// `DLE DC4 fn=8 1 3 20 1 6 2 8`: real-time "clear buffer(s)": throws away the receive and
/// print buffers and answers [`CLEAR_RESPONSE`] (Epson TM-T20/T88/T81/T90…, Citizen CT-S).
pub const DLE_DC4_CLEAR: [u8; 10] = [0x10, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08];
/// The answer to [`DLE_DC4_CLEAR`]: header `37`, identifier `25`, `NUL`.
pub const CLEAR_RESPONSE: [u8; 3] = [0x37, 0x25, 0x00];
/// `DLE ENQ 2`: real-time "clear the receive and print buffers and recover from the error".
/// Epson and Citizen act on it only after a recoverable error (e.g. autocutter); some models
/// (Custom P80C) clear unconditionally. It has no answer, so it cannot be confirmed.
pub const DLE_ENQ_CLEAR: [u8; 3] = [0x10, 0x05, 0x02];

/// Which real-time status `DLE EOT n` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusRequest {
    /// n = 1: printer status (offline bit).
    Printer = 1,
    /// n = 2: offline cause (cover open, stopped by paper end, error).
    OfflineCause = 2,
    /// n = 3: error cause (autocutter, unrecoverable, auto-recoverable).
    ErrorCause = 3,
    /// n = 4: roll paper sensor (near end, end).
    PaperSensor = 4,
}

impl StatusRequest {
    pub const ALL: [StatusRequest; 4] = [
        StatusRequest::Printer,
        StatusRequest::OfflineCause,
        StatusRequest::ErrorCause,
        StatusRequest::PaperSensor,
    ];

    /// The exact 3-byte `DLE EOT n` (`10 04 n`). The `escpos` crate appends a stray `00`
    /// (`10 04 n 00`); we never do.
    pub fn command(self) -> [u8; 3] {
        [0x10, 0x04, self as u8]
    }

    pub fn from_n(n: u8) -> Option<Self> {
        match n {
            1 => Some(StatusRequest::Printer),
            2 => Some(StatusRequest::OfflineCause),
            3 => Some(StatusRequest::ErrorCause),
            4 => Some(StatusRequest::PaperSensor),
            _ => None,
        }
    }
}

/// Fixed bits of a `DLE EOT` reply: `0xx1xx10`.
pub const REALTIME_FIXED_MASK: u8 = 0b1001_0011;
pub const REALTIME_FIXED_VALUE: u8 = 0b0001_0010;
/// Fixed bits of the first byte of an ASB message: `0xx1xx00`.
pub const ASB_FIXED_VALUE: u8 = 0b0001_0000;

/// True when `b` has the fixed bits of a `DLE EOT` reply.
pub fn is_realtime_reply(b: u8) -> bool {
    b & REALTIME_FIXED_MASK == REALTIME_FIXED_VALUE
}

// DLE EOT 1
pub const RT1_DRAWER_PIN3: u8 = 0x04;
pub const RT1_OFFLINE: u8 = 0x08;
pub const RT1_WAITING_RECOVERY: u8 = 0x20;
pub const RT1_FEED_BUTTON: u8 = 0x40;
// DLE EOT 2
pub const RT2_COVER_OPEN: u8 = 0x04;
pub const RT2_FEEDING_BY_BUTTON: u8 = 0x08;
pub const RT2_PAPER_END_STOP: u8 = 0x20;
pub const RT2_ERROR: u8 = 0x40;
// DLE EOT 3
pub const RT3_RECOVERABLE: u8 = 0x04;
pub const RT3_AUTOCUTTER: u8 = 0x08;
pub const RT3_UNRECOVERABLE: u8 = 0x20;
pub const RT3_AUTO_RECOVERABLE: u8 = 0x40;
// DLE EOT 4 (each condition is two bits; Epson sets both, some clones only one)
pub const RT4_NEAR_END: u8 = 0x0C;
pub const RT4_PAPER_END: u8 = 0x60;
// GS r 1 (bit 4 fixed 0)
pub const GSR_NEAR_END: u8 = 0x03;
pub const GSR_PAPER_END: u8 = 0x0C;

/// One condition a printer can report. Serialised in `snake_case` for the CLI's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Paper out (roll end sensor): not ready.
    PaperOut,
    /// Cover open: not ready.
    CoverOpen,
    /// Autocutter error: not ready.
    CutterError,
    /// Unrecoverable, recoverable or auto-recoverable error other than the cutter.
    OtherError,
    /// Offline with no cause reported in the other bytes (or alongside one that is).
    Offline,
    /// Paper near end: still ready; staff should change the roll soon.
    PaperNearEnd,
}

impl Condition {
    /// Whether the printer can print with this condition present.
    pub fn blocks_printing(self) -> bool {
        !matches!(self, Condition::PaperNearEnd)
    }

    /// Plain-language message a resident can be shown (Chinese, the kiosk's default).
    pub fn message_zh(self) -> &'static str {
        match self {
            Condition::PaperOut => "打印机缺纸，暂时无法打印，请联系工作人员",
            Condition::CoverOpen => "打印机盖未关好，暂时无法打印，请联系工作人员",
            Condition::CutterError => "打印机切纸故障，暂时无法打印，请联系工作人员",
            Condition::OtherError => "打印机故障，暂时无法打印，请联系工作人员",
            Condition::Offline => "打印机未就绪，暂时无法打印，请联系工作人员",
            Condition::PaperNearEnd => "打印纸即将用完",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::PaperOut => "paper_out",
            Condition::CoverOpen => "cover_open",
            Condition::CutterError => "cutter_error",
            Condition::OtherError => "other_error",
            Condition::Offline => "offline",
            Condition::PaperNearEnd => "paper_near_end",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The four raw `DLE EOT` answers, in request order 1..4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RawStatus {
    pub printer: u8,
    pub offline_cause: u8,
    pub error_cause: u8,
    pub paper: u8,
}

impl RawStatus {
    pub const ALL_CLEAR: RawStatus = RawStatus {
        printer: 0x12,
        offline_cause: 0x12,
        error_cause: 0x12,
        paper: 0x12,
    };

    pub fn set(&mut self, request: StatusRequest, byte: u8) {
        match request {
            StatusRequest::Printer => self.printer = byte,
            StatusRequest::OfflineCause => self.offline_cause = byte,
            StatusRequest::ErrorCause => self.error_cause = byte,
            StatusRequest::PaperSensor => self.paper = byte,
        }
    }

    pub fn get(&self, request: StatusRequest) -> u8 {
        match request {
            StatusRequest::Printer => self.printer,
            StatusRequest::OfflineCause => self.offline_cause,
            StatusRequest::ErrorCause => self.error_cause,
            StatusRequest::PaperSensor => self.paper,
        }
    }
}

/// A printer's state as the kiosk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterStatus {
    /// True when a job may be sent: nothing but "paper near end" is reported.
    pub ready: bool,
    /// Every condition found, most serious first, no duplicates.
    pub conditions: Vec<Condition>,
    /// The raw answers, for technicians.
    pub raw: RawStatus,
}

impl PrinterStatus {
    /// Interprets the four raw answers with the Epson bit tables. Either bit of a two-bit
    /// paper-sensor pair counts (Epson sets both, some clones only one).
    pub fn from_raw(raw: RawStatus) -> Self {
        let mut conditions = Vec::new();
        let paper_out =
            raw.paper & RT4_PAPER_END != 0 || raw.offline_cause & RT2_PAPER_END_STOP != 0;
        if paper_out {
            conditions.push(Condition::PaperOut);
        }
        if raw.offline_cause & RT2_COVER_OPEN != 0 {
            conditions.push(Condition::CoverOpen);
        }
        if raw.error_cause & RT3_AUTOCUTTER != 0 {
            conditions.push(Condition::CutterError);
        }
        if raw.error_cause & (RT3_RECOVERABLE | RT3_UNRECOVERABLE | RT3_AUTO_RECOVERABLE) != 0
            || (raw.offline_cause & RT2_ERROR != 0 && raw.error_cause & RT3_AUTOCUTTER == 0)
        {
            conditions.push(Condition::OtherError);
        }
        if raw.printer & RT1_OFFLINE != 0 {
            conditions.push(Condition::Offline);
        }
        if !paper_out && raw.paper & RT4_NEAR_END != 0 {
            conditions.push(Condition::PaperNearEnd);
        }
        let ready = conditions.iter().all(|c| !c.blocks_printing());
        PrinterStatus {
            ready,
            conditions,
            raw,
        }
    }

    pub fn all_clear() -> Self {
        PrinterStatus::from_raw(RawStatus::ALL_CLEAR)
    }

    /// The condition to tell a resident about: the most serious blocking one.
    pub fn blocking_reason(&self) -> Option<Condition> {
        self.conditions
            .iter()
            .copied()
            .find(|c| c.blocks_printing())
    }

    pub fn has(&self, condition: Condition) -> bool {
        self.conditions.contains(&condition)
    }
}

/// What `GS r 1` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaperSensor {
    pub near_end: bool,
    pub end: bool,
}

impl PaperSensor {
    pub fn from_gs_r(byte: u8) -> Self {
        PaperSensor {
            near_end: byte & GSR_NEAR_END != 0,
            end: byte & GSR_PAPER_END != 0,
        }
    }
}

/// The cut command for a printer model. Function A cuts where the paper is (feed first);
/// function B feeds to the cutter and then `n` motion units before cutting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CutCommand {
    /// `GS V 0` (`1D 56 00`).
    FullA,
    /// `GS V 1` (`1D 56 01`); e.g. Zijiang ZJ-58 accepts only partial cuts.
    PartialA,
    /// `GS V A n` (`1D 56 41 n`), what `escpos::Printer::cut` sends with n = 0.
    FullB(u8),
    /// `GS V B n` (`1D 56 42 n`).
    PartialB(u8),
}

impl CutCommand {
    pub fn bytes(self) -> Vec<u8> {
        match self {
            CutCommand::FullA => vec![0x1D, 0x56, 0x00],
            CutCommand::PartialA => vec![0x1D, 0x56, 0x01],
            CutCommand::FullB(n) => vec![0x1D, 0x56, 0x41, n],
            CutCommand::PartialB(n) => vec![0x1D, 0x56, 0x42, n],
        }
    }

    /// Lines to feed before a function-A cut so the last printed line clears the cutter
    /// (function B feeds by itself).
    pub fn default_feed_lines(self) -> u8 {
        match self {
            CutCommand::FullA | CutCommand::PartialA => 5,
            CutCommand::FullB(_) | CutCommand::PartialB(_) => 1,
        }
    }

    pub fn is_partial(self) -> bool {
        matches!(self, CutCommand::PartialA | CutCommand::PartialB(_))
    }
}

impl fmt::Display for CutCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CutCommand::FullA => f.write_str("full-a"),
            CutCommand::PartialA => f.write_str("partial-a"),
            CutCommand::FullB(0) => f.write_str("full-b"),
            CutCommand::PartialB(0) => f.write_str("partial-b"),
            CutCommand::FullB(n) => write!(f, "full-b:{n}"),
            CutCommand::PartialB(n) => write!(f, "partial-b:{n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad cut {0:?} (expected full-a, partial-a, full-b[:N] or partial-b[:N])")]
pub struct CutParseError(pub String);

impl FromStr for CutCommand {
    type Err = CutParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CutParseError(s.to_owned());
        let (kind, n) = match s.trim().split_once(':') {
            Some((k, n)) => (k, Some(n.parse::<u8>().map_err(|_| err())?)),
            None => (s.trim(), None),
        };
        match (kind, n) {
            ("full-a", None) => Ok(CutCommand::FullA),
            ("partial-a", None) => Ok(CutCommand::PartialA),
            ("full-b", n) => Ok(CutCommand::FullB(n.unwrap_or(0))),
            ("partial-b", n) => Ok(CutCommand::PartialB(n.unwrap_or(0))),
            _ => Err(err()),
        }
    }
}

impl Serialize for CutCommand {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CutCommand {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One message from the printer, told apart by the fixed bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A `DLE EOT n` answer (`0xx1xx10`).
    RealTime(u8),
    /// A `GS r` answer (bit 4 = 0).
    GsR(u8),
    /// An unsolicited Automatic Status Back message (first byte `0xx1xx00`, then 3 bytes).
    Asb([u8; 4]),
    /// The `DLE DC4 fn=8` clear response (`37 25 00`).
    ClearResponse,
    /// A byte that fits none of the patterns (line noise, XON/XOFF, a broken message).
    Unknown(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum DemuxState {
    #[default]
    Idle,
    Asb {
        bytes: [u8; 4],
        got: u8,
    },
    Clear {
        got: u8,
    },
}

/// Streaming demultiplexer for everything a printer sends back. Feed it bytes in any
/// chunks; it never panics and never needs more than 4 bytes of memory.
#[derive(Debug, Clone, Default)]
pub struct ReplyDecoder {
    state: DemuxState,
}

impl ReplyDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets a partly received message (after draining the input).
    pub fn reset(&mut self) {
        self.state = DemuxState::Idle;
    }

    /// Takes one byte and appends any message it completes to `out` (at most two: a broken
    /// clear response is reported as noise and the byte that broke it is read afresh).
    pub fn push(&mut self, b: u8, out: &mut Vec<Reply>) {
        match self.state {
            DemuxState::Idle => {
                if let Some(reply) = Self::start(&mut self.state, b) {
                    out.push(reply);
                }
            }
            DemuxState::Asb { mut bytes, got } => {
                if let Some(slot) = bytes.get_mut(usize::from(got)) {
                    *slot = b;
                }
                if got >= 3 {
                    self.state = DemuxState::Idle;
                    out.push(Reply::Asb(bytes));
                } else {
                    self.state = DemuxState::Asb {
                        bytes,
                        got: got + 1,
                    };
                }
            }
            DemuxState::Clear { got } => {
                let got = usize::from(got);
                if CLEAR_RESPONSE.get(got) == Some(&b) {
                    if got + 1 == CLEAR_RESPONSE.len() {
                        self.state = DemuxState::Idle;
                        out.push(Reply::ClearResponse);
                    } else {
                        self.state = DemuxState::Clear {
                            got: u8::try_from(got + 1).unwrap_or(u8::MAX),
                        };
                    }
                } else {
                    out.extend(CLEAR_RESPONSE.iter().take(got).map(|&x| Reply::Unknown(x)));
                    self.state = DemuxState::Idle;
                    if let Some(reply) = Self::start(&mut self.state, b) {
                        out.push(reply);
                    }
                }
            }
        }
    }

    fn start(state: &mut DemuxState, b: u8) -> Option<Reply> {
        if b == CLEAR_RESPONSE[0] {
            *state = DemuxState::Clear { got: 1 };
            return None;
        }
        if is_realtime_reply(b) {
            return Some(Reply::RealTime(b));
        }
        if b & REALTIME_FIXED_MASK == ASB_FIXED_VALUE {
            *state = DemuxState::Asb {
                bytes: [b, 0, 0, 0],
                got: 1,
            };
            return None;
        }
        if b & 0x90 == 0 {
            return Some(Reply::GsR(b));
        }
        Some(Reply::Unknown(b))
    }

    /// Feeds a whole buffer and collects the messages.
    pub fn push_all(&mut self, bytes: &[u8]) -> Vec<Reply> {
        let mut out = Vec::new();
        for &b in bytes {
            self.push(b, &mut out);
        }
        out
    }
}

/// Interprets an ASB message with the same meanings as the four real-time bytes.
pub fn status_from_asb(asb: [u8; 4]) -> PrinterStatus {
    let [b1, b2, b3, _] = asb;
    let mut raw = RawStatus::ALL_CLEAR;
    if b1 & 0x08 != 0 {
        raw.printer |= RT1_OFFLINE;
    }
    if b1 & 0x20 != 0 {
        raw.offline_cause |= RT2_COVER_OPEN;
    }
    if b2 & 0x08 != 0 {
        raw.error_cause |= RT3_AUTOCUTTER;
    }
    if b2 & 0x20 != 0 {
        raw.error_cause |= RT3_UNRECOVERABLE;
    }
    if b2 & 0x04 != 0 {
        raw.error_cause |= RT3_RECOVERABLE;
    }
    if b2 & 0x40 != 0 {
        raw.error_cause |= RT3_AUTO_RECOVERABLE;
    }
    if b3 & 0x03 != 0 {
        raw.paper |= RT4_NEAR_END;
    }
    if b3 & 0x0C != 0 {
        raw.paper |= RT4_PAPER_END;
    }
    PrinterStatus::from_raw(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dle_eot_is_exactly_three_bytes() {
        assert_eq!(StatusRequest::Printer.command(), [0x10, 0x04, 0x01]);
        assert_eq!(StatusRequest::OfflineCause.command(), [0x10, 0x04, 0x02]);
        assert_eq!(StatusRequest::ErrorCause.command(), [0x10, 0x04, 0x03]);
        assert_eq!(StatusRequest::PaperSensor.command(), [0x10, 0x04, 0x04]);
    }

    #[test]
    fn typical_replies_from_the_reference() {
        // all clear
        let s = PrinterStatus::from_raw(RawStatus::ALL_CLEAR);
        assert!(s.ready);
        assert!(s.conditions.is_empty());
        // 0x16 to DLE EOT 1 = online with drawer pin high: still ready
        let s = PrinterStatus::from_raw(RawStatus {
            printer: 0x16,
            ..RawStatus::ALL_CLEAR
        });
        assert!(s.ready);
        // paper out: n=1 0x1A, n=2 0x32, n=4 0x7E
        let s = PrinterStatus::from_raw(RawStatus {
            printer: 0x1A,
            offline_cause: 0x32,
            error_cause: 0x12,
            paper: 0x7E,
        });
        assert!(!s.ready);
        assert_eq!(s.conditions, vec![Condition::PaperOut, Condition::Offline]);
        assert_eq!(s.blocking_reason(), Some(Condition::PaperOut));
    }

    #[test]
    fn near_end_is_ready_with_a_warning_even_if_only_one_bit_is_set() {
        for paper in [0x1E, 0x16, 0x1A] {
            let s = PrinterStatus::from_raw(RawStatus {
                paper,
                ..RawStatus::ALL_CLEAR
            });
            assert!(s.ready, "{paper:#x}");
            assert_eq!(s.conditions, vec![Condition::PaperNearEnd]);
        }
    }

    #[test]
    fn cover_cutter_other_and_plain_offline() {
        let cover = PrinterStatus::from_raw(RawStatus {
            printer: 0x1A,
            offline_cause: 0x16,
            ..RawStatus::ALL_CLEAR
        });
        assert_eq!(cover.blocking_reason(), Some(Condition::CoverOpen));
        let cutter = PrinterStatus::from_raw(RawStatus {
            printer: 0x1A,
            offline_cause: 0x52,
            error_cause: 0x1A,
            paper: 0x12,
        });
        assert_eq!(
            cutter.conditions,
            vec![Condition::CutterError, Condition::Offline]
        );
        let other = PrinterStatus::from_raw(RawStatus {
            printer: 0x1A,
            offline_cause: 0x52,
            error_cause: 0x32,
            paper: 0x12,
        });
        assert_eq!(other.blocking_reason(), Some(Condition::OtherError));
        let offline = PrinterStatus::from_raw(RawStatus {
            printer: 0x1A,
            ..RawStatus::ALL_CLEAR
        });
        assert_eq!(offline.conditions, vec![Condition::Offline]);
        assert!(!offline.ready);
    }

    #[test]
    fn demultiplexes_realtime_gsr_asb_and_clear_replies() {
        let mut d = ReplyDecoder::new();
        let stream = [
            0x14, 0x00, 0x0F, 0x00, // ASB: byte 1 = 0x14 (0xx1xx00)
            0x12, // DLE EOT reply
            0x03, // GS r: near end
            0x37, 0x25, 0x00, // clear response
            0x11, // XON: noise
            0x7E, // DLE EOT 4 paper out
        ];
        let got = d.push_all(&stream);
        assert_eq!(
            got,
            vec![
                Reply::Asb([0x14, 0x00, 0x0F, 0x00]),
                Reply::RealTime(0x12),
                Reply::GsR(0x03),
                Reply::ClearResponse,
                Reply::Unknown(0x11),
                Reply::RealTime(0x7E),
            ]
        );
    }

    #[test]
    fn demux_survives_split_chunks_and_broken_clear_response() {
        let mut d = ReplyDecoder::new();
        assert!(d.push_all(&[0x10, 0x08, 0x0C]).is_empty());
        assert_eq!(
            d.push_all(&[0x00]),
            vec![Reply::Asb([0x10, 0x08, 0x0C, 0x00])]
        );
        assert!(d.push_all(&[0x37, 0x25]).is_empty());
        // the byte that broke the clear response is still read as the reply it is
        assert_eq!(
            d.push_all(&[0x12]),
            vec![
                Reply::Unknown(0x37),
                Reply::Unknown(0x25),
                Reply::RealTime(0x12)
            ]
        );
        assert_eq!(d.push_all(&[0x12]), vec![Reply::RealTime(0x12)]);
    }

    #[test]
    fn asb_means_the_same_as_realtime() {
        let s = status_from_asb([0x18, 0x00, 0x0C, 0x00]);
        assert!(s.has(Condition::PaperOut));
        assert!(!s.ready);
        let s = status_from_asb([0x10, 0x00, 0x03, 0x00]);
        assert!(s.ready);
        assert!(s.has(Condition::PaperNearEnd));
    }

    #[test]
    fn cut_commands_and_names() {
        assert_eq!(CutCommand::FullA.bytes(), [0x1D, 0x56, 0x00]);
        assert_eq!(CutCommand::PartialA.bytes(), [0x1D, 0x56, 0x01]);
        assert_eq!(CutCommand::FullB(0).bytes(), [0x1D, 0x56, 0x41, 0x00]);
        assert_eq!(CutCommand::PartialB(3).bytes(), [0x1D, 0x56, 0x42, 0x03]);
        for text in ["full-a", "partial-a", "full-b", "partial-b", "full-b:5"] {
            assert_eq!(text.parse::<CutCommand>().unwrap().to_string(), text);
        }
        assert!("half".parse::<CutCommand>().is_err());
        assert!("full-a:3".parse::<CutCommand>().is_err());
    }

    #[test]
    fn gs_r_paper_bits() {
        assert_eq!(
            PaperSensor::from_gs_r(0x00),
            PaperSensor {
                near_end: false,
                end: false
            }
        );
        assert!(PaperSensor::from_gs_r(0x03).near_end);
        assert!(PaperSensor::from_gs_r(0x0C).end);
    }
}
