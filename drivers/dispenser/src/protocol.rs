//! The Creator CRT-591 family "F2" wire protocol: frames, BCC, status characters and the
//! e1e0 error table. Pure functions and a streaming decoder; no I/O.
//!
//! ```text
//! command : F2 | ADDR | LENH LENL | 43 ('C') | CM | PM | DATA(0..512) | 03 | BCC
//! positive: F2 | ADDR | LENH LENL | 50 ('P') | CM | PM | st0 st1 st2 | DATA | 03 | BCC
//! negative: F2 | ADDR | LENH LENL | EMT      | CM | PM | e1 e0       | DATA | 03 | BCC
//! ```
//! LEN counts the text from CMT/PMT/EMT through the end of DATA; BCC is the XOR of every byte
//! from STX through ETX. The vendor text gives EMT as both 0x45 and 0x4E, so both are
//! accepted as a negative reply (reference §1.2, device-defaults.md).

use std::fmt;

/// Start of a frame.
pub const STX: u8 = 0xF2;
/// End of the text.
pub const ETX: u8 = 0x03;
/// Positive acknowledgement (device after a command, host after a response).
pub const ACK: u8 = 0x06;
/// Negative acknowledgement: the receiver wants the frame again.
pub const NAK: u8 = 0x15;
/// Host cancels a command.
pub const EOT: u8 = 0x04;
/// Command text marker `'C'`.
pub const CMT: u8 = 0x43;
/// Positive reply marker `'P'`.
pub const PMT: u8 = 0x50;
/// Negative reply marker as the frame table writes it (`'E'`).
pub const EMT_E: u8 = 0x45;
/// Negative reply marker as every command section writes it (`'N'`).
pub const EMT_N: u8 = 0x4E;
/// Most DATA bytes a command may carry.
pub const MAX_COMMAND_DATA: usize = 512;
/// Largest packet the device sends or accepts (CRT591-DOC §1.2).
pub const MAX_PACKET: usize = 1024;
/// Largest LEN value that fits a packet (STX, ADDR, LENH, LENL, ETX and BCC take 6 bytes).
pub const MAX_TEXT: usize = MAX_PACKET - 6;
/// Highest address a unit's DIP switch can set.
pub const MAX_ADDRESS: u8 = 0x0F;

/// XOR of every byte given (callers pass STX through ETX).
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// What the card should do when `initialize` finds one inside (CM 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InitMode {
    /// PM 30: move a card inside to the holding position at the gate.
    HoldAtGate,
    /// PM 31: capture a card inside into the reject (error card) bin.
    Capture,
    /// PM 33: leave a card where it is (the kiosk's start-up default, device-defaults.md).
    LeaveInPlace,
}

impl InitMode {
    /// The PM byte; with `count_retracts` the device's retract counter counts a capture
    /// (PM 34/35/37 instead of 30/31/33).
    pub fn pm(self, count_retracts: bool) -> u8 {
        match (self, count_retracts) {
            (InitMode::HoldAtGate, false) => 0x30,
            (InitMode::Capture, false) => 0x31,
            (InitMode::LeaveInPlace, false) => 0x33,
            (InitMode::HoldAtGate, true) => 0x34,
            (InitMode::Capture, true) => 0x35,
            (InitMode::LeaveInPlace, true) => 0x37,
        }
    }

    /// The mode and counter flag a PM byte stands for.
    pub fn from_pm(pm: u8) -> Option<(InitMode, bool)> {
        Some(match pm {
            0x30 => (InitMode::HoldAtGate, false),
            0x31 => (InitMode::Capture, false),
            0x33 => (InitMode::LeaveInPlace, false),
            0x34 => (InitMode::HoldAtGate, true),
            0x35 => (InitMode::Capture, true),
            0x37 => (InitMode::LeaveInPlace, true),
            _ => return None,
        })
    }
}

/// Where a move command (CM 32) sends the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoveTarget {
    /// PM 30: hold the card at the gate, where the resident can take it.
    Gate,
    /// PM 31: the IC contact position; dispenses from the stacker when no card is inside.
    IcContact,
    /// PM 32: the RF (contactless) position.
    Rf,
    /// PM 33: capture into the reject (error card) bin.
    Capture,
    /// PM 39: move the card out of the gate.
    EjectOut,
}

impl MoveTarget {
    pub fn pm(self) -> u8 {
        match self {
            MoveTarget::Gate => 0x30,
            MoveTarget::IcContact => 0x31,
            MoveTarget::Rf => 0x32,
            MoveTarget::Capture => 0x33,
            MoveTarget::EjectOut => 0x39,
        }
    }

    pub fn from_pm(pm: u8) -> Option<MoveTarget> {
        Some(match pm {
            0x30 => MoveTarget::Gate,
            0x31 => MoveTarget::IcContact,
            0x32 => MoveTarget::Rf,
            0x33 => MoveTarget::Capture,
            0x39 => MoveTarget::EjectOut,
            _ => return None,
        })
    }

    /// Where the status reports the card once the move has been carried out.
    pub fn resulting_position(self) -> CardPosition {
        match self {
            MoveTarget::Gate => CardPosition::AtGate,
            MoveTarget::IcContact | MoveTarget::Rf => CardPosition::Inside,
            MoveTarget::Capture | MoveTarget::EjectOut => CardPosition::None,
        }
    }
}

/// The supply voltage and activation rules for a contact CPU card cold reset (CM 51 PM 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Vcc {
    /// 30: EMV activation at 5 V.
    Emv5V,
    /// 33: ISO 7816-3 activation at 5 V.
    #[default]
    Iso5V,
    /// 35: ISO 7816-3 activation at 3 V.
    Iso3V,
}

impl Vcc {
    pub fn byte(self) -> u8 {
        match self {
            Vcc::Emv5V => 0x30,
            Vcc::Iso5V => 0x33,
            Vcc::Iso3V => 0x35,
        }
    }

    pub fn from_byte(b: u8) -> Option<Vcc> {
        Some(match b {
            0x30 => Vcc::Emv5V,
            0x33 => Vcc::Iso5V,
            0x35 => Vcc::Iso3V,
            _ => return None,
        })
    }
}

/// Command codes (CM) this crate sends.
pub mod cm {
    pub const INITIALIZE: u8 = 0x30;
    pub const STATUS: u8 = 0x31;
    pub const MOVE: u8 = 0x32;
    pub const GATE_ENTRY: u8 = 0x33;
    pub const CARD_TYPE: u8 = 0x50;
    pub const CPU_CARD: u8 = 0x51;
    pub const REJECT_COUNTER: u8 = 0xA5;
}

/// Parameter codes (PM) of the contact CPU card command (CM 51).
pub mod cpu_pm {
    pub const COLD_RESET: u8 = 0x30;
    pub const POWER_OFF: u8 = 0x31;
    pub const STATUS: u8 = 0x32;
    pub const APDU_T0: u8 = 0x33;
    pub const APDU_T1: u8 = 0x34;
    pub const WARM_RESET: u8 = 0x38;
    pub const APDU_AUTO: u8 = 0x39;
}

/// A command frame's content: CM, PM and DATA.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command {
    pub cm: u8,
    pub pm: u8,
    pub data: Vec<u8>,
}

/// How a command may be repeated when its acknowledgement was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    /// Reads state only: safe to send again.
    Query,
    /// Moves a card (or initialises, which may move one): never re-run blindly.
    Motion,
    /// A capture into the reject bin (a move with its own, longer timeout).
    Capture,
    /// Talks to the chip in the IC position: an APDU is never re-sent blindly either.
    Chip,
}

impl Command {
    pub fn new(cm: u8, pm: u8) -> Self {
        Command {
            cm,
            pm,
            data: Vec::new(),
        }
    }

    pub fn with_data(cm: u8, pm: u8, data: impl Into<Vec<u8>>) -> Self {
        Command {
            cm,
            pm,
            data: data.into(),
        }
    }

    pub fn initialize(mode: InitMode, count_retracts: bool) -> Self {
        Command::new(cm::INITIALIZE, mode.pm(count_retracts))
    }

    pub fn status() -> Self {
        Command::new(cm::STATUS, 0x30)
    }

    pub fn sensor_status() -> Self {
        Command::new(cm::STATUS, 0x31)
    }

    pub fn move_card(target: MoveTarget) -> Self {
        Command::new(cm::MOVE, target.pm())
    }

    /// Gate entry: `true` lets a card be inserted from the gate (PM 30), `false` refuses it.
    pub fn gate_entry(enable: bool) -> Self {
        Command::new(cm::GATE_ENTRY, if enable { 0x30 } else { 0x31 })
    }

    pub fn cpu_cold_reset(vcc: Vcc) -> Self {
        Command::with_data(cm::CPU_CARD, cpu_pm::COLD_RESET, vec![vcc.byte()])
    }

    pub fn cpu_power_off() -> Self {
        Command::new(cm::CPU_CARD, cpu_pm::POWER_OFF)
    }

    /// An APDU with automatic T=0/T=1 handling (CM 51 PM 39).
    pub fn cpu_apdu(apdu: &[u8]) -> Self {
        Command::with_data(cm::CPU_CARD, cpu_pm::APDU_AUTO, apdu.to_vec())
    }

    pub fn reject_counter_read() -> Self {
        Command::new(cm::REJECT_COUNTER, 0x30)
    }

    /// Sets the reject-bin counter; `None` when the value is over 999.
    pub fn reject_counter_set(value: u16) -> Option<Self> {
        let digits = three_digits(value)?;
        Some(Command::with_data(
            cm::REJECT_COUNTER,
            0x31,
            digits.to_vec(),
        ))
    }

    /// How the driver may retry this command.
    pub fn kind(&self) -> CommandKind {
        match (self.cm, self.pm) {
            (cm::MOVE, 0x33) => CommandKind::Capture,
            (cm::MOVE | cm::INITIALIZE, _) => CommandKind::Motion,
            (cm::CPU_CARD, _) => CommandKind::Chip,
            _ => CommandKind::Query,
        }
    }

    /// A short technician-facing name (for logs and errors; never data).
    pub fn name(&self) -> &'static str {
        match (self.cm, self.pm) {
            (cm::INITIALIZE, _) => "initialize",
            (cm::STATUS, 0x30) => "status",
            (cm::STATUS, _) => "sensor status",
            (cm::MOVE, 0x30) => "move to gate",
            (cm::MOVE, 0x31) => "move to IC contact position",
            (cm::MOVE, 0x32) => "move to RF position",
            (cm::MOVE, 0x33) => "capture to reject bin",
            (cm::MOVE, 0x39) => "eject out of gate",
            (cm::MOVE, _) => "move",
            (cm::GATE_ENTRY, _) => "gate entry",
            (cm::CARD_TYPE, _) => "card type check",
            (cm::CPU_CARD, cpu_pm::COLD_RESET) => "chip cold reset",
            (cm::CPU_CARD, cpu_pm::POWER_OFF) => "chip power off",
            (cm::CPU_CARD, cpu_pm::STATUS) => "chip status",
            (cm::CPU_CARD, _) => "chip APDU",
            (cm::REJECT_COUNTER, 0x30) => "read reject-bin counter",
            (cm::REJECT_COUNTER, _) => "set reject-bin counter",
            _ => "command",
        }
    }
}

/// Three ASCII digits for a value 0–999.
pub fn three_digits(value: u16) -> Option<[u8; 3]> {
    if value > 999 {
        return None;
    }
    let v = u8::try_from(value / 100).ok()?;
    let t = u8::try_from(value / 10 % 10).ok()?;
    let u = u8::try_from(value % 10).ok()?;
    Some([b'0' + v, b'0' + t, b'0' + u])
}

/// Parses three ASCII digits "000"–"999".
pub fn parse_three_digits(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// Why a frame could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("address {0:#04x} is above 0x0F")]
    Address(u8),
    #[error("{0} data bytes do not fit a command (at most 512)")]
    TooLong(usize),
}

/// Builds a complete command frame for the device at `addr`.
pub fn encode_command(addr: u8, cmd: &Command) -> Result<Vec<u8>, EncodeError> {
    if addr > MAX_ADDRESS {
        return Err(EncodeError::Address(addr));
    }
    if cmd.data.len() > MAX_COMMAND_DATA {
        return Err(EncodeError::TooLong(cmd.data.len()));
    }
    let mut text = Vec::with_capacity(3 + cmd.data.len());
    text.extend_from_slice(&[CMT, cmd.cm, cmd.pm]);
    text.extend_from_slice(&cmd.data);
    Ok(frame(addr, &text))
}

/// Wraps a text (marker byte onwards) into `F2 ADDR LENH LENL text 03 BCC`.
///
/// The caller keeps the text within [`MAX_TEXT`]; a longer one has its length field
/// truncated (the simulator and encoders never build one).
pub fn frame(addr: u8, text: &[u8]) -> Vec<u8> {
    let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
    let [lh, ll] = len.to_be_bytes();
    let mut out = Vec::with_capacity(text.len() + 6);
    out.extend_from_slice(&[STX, addr, lh, ll]);
    out.extend_from_slice(text);
    out.push(ETX);
    out.push(bcc(&out));
    out
}

/// Card position as st0 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardPosition {
    /// '0': no card inside.
    None,
    /// '1': a card is held at the gate.
    AtGate,
    /// '2': a card is inside at the RF or IC contact position.
    Inside,
}

/// Card stacker (hopper) level as st1 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HopperLevel {
    /// '0': stacker empty.
    Empty,
    /// '1': few cards left.
    Low,
    /// '2': enough cards.
    Ok,
}

/// Reject (error card) bin as st2 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectBin {
    /// '0': not full.
    Ok,
    /// '1': full.
    Full,
}

/// The three status characters every positive reply carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Status {
    pub card: CardPosition,
    pub hopper: HopperLevel,
    pub reject_bin: RejectBin,
}

impl Status {
    /// Decodes st0 st1 st2; `None` for a character outside the table.
    pub fn from_bytes(st0: u8, st1: u8, st2: u8) -> Option<Status> {
        let card = match st0 {
            b'0' => CardPosition::None,
            b'1' => CardPosition::AtGate,
            b'2' => CardPosition::Inside,
            _ => return None,
        };
        let hopper = match st1 {
            b'0' => HopperLevel::Empty,
            b'1' => HopperLevel::Low,
            b'2' => HopperLevel::Ok,
            _ => return None,
        };
        let reject_bin = match st2 {
            b'0' => RejectBin::Ok,
            b'1' => RejectBin::Full,
            _ => return None,
        };
        Some(Status {
            card,
            hopper,
            reject_bin,
        })
    }

    pub fn to_bytes(self) -> [u8; 3] {
        [
            match self.card {
                CardPosition::None => b'0',
                CardPosition::AtGate => b'1',
                CardPosition::Inside => b'2',
            },
            match self.hopper {
                HopperLevel::Empty => b'0',
                HopperLevel::Low => b'1',
                HopperLevel::Ok => b'2',
            },
            match self.reject_bin {
                RejectBin::Ok => b'0',
                RejectBin::Full => b'1',
            },
        ]
    }
}

macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $text:literal; )*) => {
        /// The device's e1e0 error codes (CRT591-DOC §2.2), named.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( #[doc = $text] $variant, )*
            /// A code the table does not list (the two ASCII characters as sent).
            Other([u8; 2]),
        }

        impl ErrorCode {
            /// Decodes the two ASCII characters e1 e0.
            pub fn from_bytes(e1: u8, e0: u8) -> ErrorCode {
                match [e1, e0] {
                    $( x if x == *$code => ErrorCode::$variant, )*
                    other => ErrorCode::Other(other),
                }
            }

            /// The two ASCII characters e1 e0.
            pub fn to_bytes(self) -> [u8; 2] {
                match self {
                    $( ErrorCode::$variant => *$code, )*
                    ErrorCode::Other(b) => b,
                }
            }

            /// What the code means, in plain words.
            pub fn meaning(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $text, )*
                    ErrorCode::Other(_) => "error code not in the vendor table",
                }
            }
        }
    };
}

error_codes! {
    UndefinedCommand = b"00", "undefined command";
    ParameterError = b"01", "command parameter error";
    SequenceError = b"02", "command sequence error";
    NotSupportedByHardware = b"03", "command not supported by the hardware";
    DataError = b"04", "command data error";
    IcContactNotReleased = b"05", "IC contact not released";
    CardJam = b"10", "card jam";
    SensorError = b"12", "sensor error";
    CardTooLong = b"13", "card too long";
    CardTooShort = b"14", "card too short";
    RecyclingDisabled = b"40", "recycling (capture) disabled";
    IcMagnetError = b"41", "IC magnet error";
    MoveToIcDisabled = b"43", "moving the card to the IC position is disabled";
    CardMovedManually = b"45", "card moved by hand";
    CounterOverflow = b"50", "counter overflow";
    MotorError = b"51", "motor error";
    IcSupplyShortCircuit = b"60", "IC card supply short circuit";
    IcActivationFailed = b"61", "IC card activation failed";
    CommandNotSupportedByCard = b"62", "command not supported by the card";
    IcCardNotActivated = b"65", "IC card disabled or not activated";
    NotSupportedNow = b"66", "command not supported in the current state";
    IcTransmissionError = b"67", "IC card transmission error";
    IcTransmissionTimeout = b"68", "IC card transmission timeout";
    NotEmvCompliant = b"69", "CPU/SAM card not EMV compliant";
    StackerEmpty = b"A0", "card stacker (hopper) empty";
    RejectBinFull = b"A1", "error card (reject) bin full";
    NotInitialized = b"B0", "device not initialized";
}

impl ErrorCode {
    /// The code as its two characters, e.g. "10".
    pub fn code(self) -> String {
        let [a, b] = self.to_bytes();
        let printable = |c: u8| {
            if c.is_ascii_graphic() {
                char::from(c)
            } else {
                '?'
            }
        };
        format!("{}{}", printable(a), printable(b))
    }

    /// Errors of the chip in the IC position (a chip problem, not a mechanical one).
    pub fn is_chip_error(self) -> bool {
        matches!(
            self,
            ErrorCode::IcSupplyShortCircuit
                | ErrorCode::IcActivationFailed
                | ErrorCode::CommandNotSupportedByCard
                | ErrorCode::IcCardNotActivated
                | ErrorCode::IcTransmissionError
                | ErrorCode::IcTransmissionTimeout
                | ErrorCode::NotEmvCompliant
        )
    }

    /// Errors that need a person at the machine (jam, motor, sensors).
    pub fn is_mechanical(self) -> bool {
        matches!(
            self,
            ErrorCode::CardJam
                | ErrorCode::SensorError
                | ErrorCode::CardTooLong
                | ErrorCode::CardTooShort
                | ErrorCode::MotorError
                | ErrorCode::IcMagnetError
                | ErrorCode::CardMovedManually
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.meaning(), self.code())
    }
}

/// A decoded reply from the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Positive {
        cm: u8,
        pm: u8,
        status: Status,
        data: Vec<u8>,
    },
    Negative {
        cm: u8,
        pm: u8,
        error: ErrorCode,
        /// The marker byte as received (0x45 or 0x4E).
        marker: u8,
        data: Vec<u8>,
    },
}

impl Reply {
    pub fn cm(&self) -> u8 {
        match self {
            Reply::Positive { cm, .. } | Reply::Negative { cm, .. } => *cm,
        }
    }

    pub fn pm(&self) -> u8 {
        match self {
            Reply::Positive { pm, .. } | Reply::Negative { pm, .. } => *pm,
        }
    }

    /// The text (marker onwards) of this reply, for the simulator.
    pub fn to_text(&self) -> Vec<u8> {
        match self {
            Reply::Positive {
                cm,
                pm,
                status,
                data,
            } => {
                let mut t = vec![PMT, *cm, *pm];
                t.extend_from_slice(&status.to_bytes());
                t.extend_from_slice(data);
                t
            }
            Reply::Negative {
                cm,
                pm,
                error,
                marker,
                data,
            } => {
                let mut t = vec![*marker, *cm, *pm];
                t.extend_from_slice(&error.to_bytes());
                t.extend_from_slice(data);
                t
            }
        }
    }
}

/// A frame cut from the byte stream: its address and text (marker through DATA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub addr: u8,
    pub text: Vec<u8>,
}

/// Why a frame's text is not a valid command or reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("frame text is {0} bytes, too short")]
    TooShort(usize),
    #[error("marker byte {0:#04x} is not a command ('C')")]
    NotACommand(u8),
    #[error("marker byte {0:#04x} is not a reply ('P', 'E' or 'N')")]
    NotAReply(u8),
    #[error("status characters {0:02X?} are not in the table")]
    BadStatus([u8; 3]),
}

impl RawFrame {
    /// Reads the text as a command (the simulator's side).
    pub fn parse_command(&self) -> Result<Command, ParseError> {
        match self.text.as_slice() {
            [CMT, cm, pm, data @ ..] => Ok(Command::with_data(*cm, *pm, data.to_vec())),
            [marker, _, _, ..] => Err(ParseError::NotACommand(*marker)),
            _ => Err(ParseError::TooShort(self.text.len())),
        }
    }

    /// Reads the text as a reply (the driver's side); both negative markers are accepted.
    pub fn parse_reply(&self) -> Result<Reply, ParseError> {
        match self.text.as_slice() {
            [PMT, cm, pm, s0, s1, s2, data @ ..] => {
                let status = Status::from_bytes(*s0, *s1, *s2)
                    .ok_or(ParseError::BadStatus([*s0, *s1, *s2]))?;
                Ok(Reply::Positive {
                    cm: *cm,
                    pm: *pm,
                    status,
                    data: data.to_vec(),
                })
            }
            [marker @ (EMT_E | EMT_N), cm, pm, e1, e0, data @ ..] => Ok(Reply::Negative {
                cm: *cm,
                pm: *pm,
                error: ErrorCode::from_bytes(*e1, *e0),
                marker: *marker,
                data: data.to_vec(),
            }),
            [PMT | EMT_E | EMT_N, ..] => Err(ParseError::TooShort(self.text.len())),
            [marker, ..] => Err(ParseError::NotAReply(*marker)),
            [] => Err(ParseError::TooShort(0)),
        }
    }
}

/// One thing cut from the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Ack,
    Nak,
    Eot,
    Frame(RawFrame),
}

/// Something in the byte stream that is not a valid token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{0} stray bytes skipped")]
    Noise(usize),
    #[error("frame length {0} is above the 1024-byte packet limit")]
    BadLength(usize),
    #[error("frame has no ETX where its length says ({0:#04x} found)")]
    NoEtx(u8),
    #[error("frame checksum {got:#04x}, expected {expected:#04x}")]
    BadBcc { expected: u8, got: u8 },
}

/// Cuts tokens from a byte stream. Bytes are fed with [`Decoder::push`] as they arrive;
/// [`Decoder::next_token`] returns complete tokens or the reason bytes were thrown away.
/// It resynchronises on the next STX after anything malformed and never panics.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        // A stream of noise must not grow the buffer without bound: anything before the
        // last possible frame start is only ever skipped.
        if self.buf.len() > 4 * MAX_PACKET
            && let Some(start) = self.buf.iter().rposition(|&b| b == STX)
            && start > 0
        {
            self.buf.drain(..start);
        }
    }

    /// Forgets everything buffered (after a timeout, before a new command).
    pub fn reset(&mut self) {
        self.buf.clear();
    }

    /// Gives up on a frame start whose rest never came (called after a deadline): the STX
    /// is skipped, so a complete frame behind a truncated one can still be found.
    pub fn skip_partial(&mut self) {
        if !self.buf.is_empty() {
            self.buf.drain(..1);
        }
    }

    /// Bytes waiting for the rest of a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete token, an error for skipped bytes, or `None` when more bytes are
    /// needed.
    pub fn next_token(&mut self) -> Option<Result<Token, DecodeError>> {
        let first = *self.buf.first()?;
        match first {
            ACK => {
                self.buf.drain(..1);
                Some(Ok(Token::Ack))
            }
            NAK => {
                self.buf.drain(..1);
                Some(Ok(Token::Nak))
            }
            EOT => {
                self.buf.drain(..1);
                Some(Ok(Token::Eot))
            }
            STX => self.try_frame(),
            _ => {
                let skip = self
                    .buf
                    .iter()
                    .position(|b| matches!(*b, STX | ACK | NAK | EOT))
                    .unwrap_or(self.buf.len());
                self.buf.drain(..skip);
                Some(Err(DecodeError::Noise(skip)))
            }
        }
    }

    fn try_frame(&mut self) -> Option<Result<Token, DecodeError>> {
        let Some(&[addr, lh, ll]) = self.buf.get(1..4) else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([lh, ll]));
        if len > MAX_TEXT {
            self.buf.drain(..1);
            return Some(Err(DecodeError::BadLength(len)));
        }
        let total = len + 6;
        let whole = self.buf.get(..total)?;
        let etx_at = total - 2;
        let etx = whole.get(etx_at).copied().unwrap_or(0);
        if etx != ETX {
            // The length is wrong: this STX was not a frame start (or the frame is broken);
            // look for the next one.
            self.buf.drain(..1);
            return Some(Err(DecodeError::NoEtx(etx)));
        }
        let expected = bcc(whole.get(..total - 1).unwrap_or_default());
        let got = whole.get(total - 1).copied().unwrap_or(0);
        let text = whole.get(4..etx_at).unwrap_or_default().to_vec();
        // With STX, length and ETX all in place only the checksum is bad: drop the whole
        // frame so that data bytes inside it are not mistaken for ACK/NAK.
        self.buf.drain(..total);
        if expected != got {
            return Some(Err(DecodeError::BadBcc { expected, got }));
        }
        Some(Ok(Token::Frame(RawFrame { addr, text })))
    }
}

/// Formats bytes as spaced upper-case hex, e.g. `F2 00 00 03`.
pub fn hex_spaced(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    }

    /// Every command example in the reference table (address 00), byte for byte.
    #[test]
    fn command_frames_match_the_reference_table() {
        let select_ssse = hex("00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF");
        let cases: Vec<(Command, &str)> = vec![
            (
                Command::initialize(InitMode::LeaveInPlace, false),
                "F2 00 00 03 43 30 33 03 B2",
            ),
            (
                Command::initialize(InitMode::Capture, false),
                "F2 00 00 03 43 30 31 03 B0",
            ),
            (Command::status(), "F2 00 00 03 43 31 30 03 B0"),
            (Command::sensor_status(), "F2 00 00 03 43 31 31 03 B1"),
            (
                Command::move_card(MoveTarget::IcContact),
                "F2 00 00 03 43 32 31 03 B2",
            ),
            (
                Command::move_card(MoveTarget::Rf),
                "F2 00 00 03 43 32 32 03 B1",
            ),
            (
                Command::move_card(MoveTarget::Capture),
                "F2 00 00 03 43 32 33 03 B0",
            ),
            (
                Command::move_card(MoveTarget::Gate),
                "F2 00 00 03 43 32 30 03 B3",
            ),
            (
                Command::move_card(MoveTarget::EjectOut),
                "F2 00 00 03 43 32 39 03 BA",
            ),
            (Command::gate_entry(false), "F2 00 00 03 43 33 31 03 B3"),
            (
                Command::cpu_cold_reset(Vcc::Iso5V),
                "F2 00 00 04 43 51 30 33 03 E4",
            ),
            (Command::cpu_power_off(), "F2 00 00 03 43 51 31 03 D1"),
            (
                Command::cpu_apdu(&select_ssse),
                "F2 00 00 17 43 51 39 00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF 03 3F",
            ),
        ];
        for (cmd, expected) in cases {
            assert_eq!(
                hex_spaced(&encode_command(0, &cmd).unwrap()),
                expected,
                "{}",
                cmd.name()
            );
        }
    }

    #[test]
    fn reply_examples_decode() {
        let mut d = Decoder::new();
        d.push(&hex("F2 00 00 06 50 31 30 30 32 30 03 94"));
        let Some(Ok(Token::Frame(f))) = d.next_token() else {
            panic!()
        };
        assert_eq!(
            f.parse_reply().unwrap(),
            Reply::Positive {
                cm: 0x31,
                pm: 0x30,
                status: Status {
                    card: CardPosition::None,
                    hopper: HopperLevel::Ok,
                    reject_bin: RejectBin::Ok
                },
                data: vec![]
            }
        );
        d.push(&hex("F2 00 00 05 4E 32 31 31 30 03 B8"));
        let Some(Ok(Token::Frame(f))) = d.next_token() else {
            panic!()
        };
        let reply = f.parse_reply().unwrap();
        assert!(matches!(
            reply,
            Reply::Negative {
                cm: 0x32,
                pm: 0x31,
                error: ErrorCode::CardJam,
                marker: EMT_N,
                ..
            }
        ));
        assert!(d.next_token().is_none());
    }

    #[test]
    fn both_negative_markers_are_accepted() {
        for marker in [EMT_E, EMT_N] {
            let bytes = frame(0, &[marker, 0x32, 0x33, b'A', b'1']);
            let mut d = Decoder::new();
            d.push(&bytes);
            let Some(Ok(Token::Frame(f))) = d.next_token() else {
                panic!()
            };
            assert!(matches!(
                f.parse_reply().unwrap(),
                Reply::Negative { error: ErrorCode::RejectBinFull, marker: m, .. } if m == marker
            ));
        }
    }

    #[test]
    fn reply_to_text_round_trips_the_reference_reply() {
        let reply = Reply::Negative {
            cm: 0x32,
            pm: 0x31,
            error: ErrorCode::CardJam,
            marker: EMT_N,
            data: vec![],
        };
        assert_eq!(
            hex_spaced(&frame(0, &reply.to_text())),
            "F2 00 00 05 4E 32 31 31 30 03 B8"
        );
    }

    #[test]
    fn every_error_code_round_trips_and_has_a_meaning() {
        let codes = [
            "00", "01", "02", "03", "04", "05", "10", "12", "13", "14", "40", "41", "43", "45",
            "50", "51", "60", "61", "62", "65", "66", "67", "68", "69", "A0", "A1", "B0",
        ];
        for code in codes {
            let b = code.as_bytes();
            let e = ErrorCode::from_bytes(b[0], b[1]);
            assert!(!matches!(e, ErrorCode::Other(_)), "{code}");
            assert_eq!(e.code(), code);
            assert_ne!(e.meaning(), ErrorCode::Other(*b"ZZ").meaning());
        }
        assert_eq!(ErrorCode::from_bytes(b'9', b'9'), ErrorCode::Other(*b"99"));
        assert_eq!(ErrorCode::CardJam.to_string(), "card jam (10)");
    }

    #[test]
    fn status_characters_round_trip() {
        for s0 in *b"012" {
            for s1 in *b"012" {
                for s2 in *b"01" {
                    let st = Status::from_bytes(s0, s1, s2).unwrap();
                    assert_eq!(st.to_bytes(), [s0, s1, s2]);
                }
            }
        }
        assert!(Status::from_bytes(b'3', b'0', b'0').is_none());
        let f = RawFrame {
            addr: 0,
            text: vec![PMT, 0x31, 0x30, b'9', b'0', b'0'],
        };
        assert_eq!(f.parse_reply(), Err(ParseError::BadStatus(*b"900")));
    }

    #[test]
    fn decoder_resyncs_after_noise_bad_bcc_and_bad_length() {
        let good = hex("F2 00 00 06 50 31 30 30 32 30 03 94");
        let mut bad_bcc = good.clone();
        *bad_bcc.last_mut().unwrap() ^= 0xFF;
        let mut stream = vec![0x00, 0x41, 0x42];
        stream.extend_from_slice(&bad_bcc);
        stream.extend_from_slice(&[STX, 0x00, 0xFF, 0xFF]); // impossible length
        stream.extend_from_slice(&[STX, 0x00, 0x00, 0x01, 0x50, 0x99, 0x00]); // no ETX
        stream.push(ACK);
        stream.extend_from_slice(&good);
        let mut d = Decoder::new();
        // Byte by byte, as a slow serial line would deliver them.
        let mut tokens = Vec::new();
        for b in stream {
            d.push(&[b]);
            while let Some(t) = d.next_token() {
                tokens.push(t);
            }
        }
        let noise: usize = tokens
            .iter()
            .map(|t| match t {
                Err(DecodeError::Noise(n)) => *n,
                _ => 0,
            })
            .sum();
        assert!(noise >= 3, "{tokens:?}");
        let tokens: Vec<_> = tokens
            .into_iter()
            .filter(|t| !matches!(t, Err(DecodeError::Noise(_))))
            .collect();
        assert!(matches!(tokens[0], Err(DecodeError::BadBcc { .. })));
        assert_eq!(tokens[1], Err(DecodeError::BadLength(0xFFFF)));
        assert!(tokens.contains(&Ok(Token::Ack)));
        assert!(matches!(tokens.last(), Some(Ok(Token::Frame(_)))));
        assert!(
            tokens
                .iter()
                .any(|t| matches!(t, Err(DecodeError::NoEtx(_))))
        );
    }

    #[test]
    fn command_frames_parse_back() {
        let cmd = Command::cpu_apdu(&[0x00, 0x84, 0x00, 0x00, 0x08]);
        let bytes = encode_command(5, &cmd).unwrap();
        let mut d = Decoder::new();
        d.push(&bytes);
        let Some(Ok(Token::Frame(f))) = d.next_token() else {
            panic!()
        };
        assert_eq!(f.addr, 5);
        assert_eq!(f.parse_command().unwrap(), cmd);
    }

    #[test]
    fn limits_are_enforced() {
        assert_eq!(
            encode_command(0x10, &Command::status()),
            Err(EncodeError::Address(0x10))
        );
        assert_eq!(
            encode_command(0, &Command::cpu_apdu(&[0; 513])),
            Err(EncodeError::TooLong(513))
        );
        assert!(encode_command(0, &Command::cpu_apdu(&[0; 512])).is_ok());
        assert_eq!(three_digits(7), Some(*b"007"));
        assert_eq!(three_digits(1000), None);
        assert_eq!(parse_three_digits(b"123"), Some(123));
        assert_eq!(parse_three_digits(b"12a"), None);
        assert_eq!(
            hex_spaced(
                &encode_command(0, &Command::reject_counter_set(42).unwrap()).unwrap()[4..9]
            ),
            "43 A5 31 30 34"
        );
    }

    #[test]
    fn command_kinds_guard_retries() {
        assert_eq!(Command::status().kind(), CommandKind::Query);
        assert_eq!(
            Command::move_card(MoveTarget::IcContact).kind(),
            CommandKind::Motion
        );
        assert_eq!(
            Command::move_card(MoveTarget::Capture).kind(),
            CommandKind::Capture
        );
        assert_eq!(
            Command::initialize(InitMode::LeaveInPlace, false).kind(),
            CommandKind::Motion
        );
        assert_eq!(Command::cpu_apdu(&[0; 5]).kind(), CommandKind::Chip);
        for pm in [0x30, 0x31, 0x33, 0x34, 0x35, 0x37] {
            let (mode, count) = InitMode::from_pm(pm).unwrap();
            assert_eq!(mode.pm(count), pm);
        }
    }

    #[test]
    fn noise_never_grows_the_buffer_without_bound() {
        let mut d = Decoder::new();
        for _ in 0..100 {
            d.push(&[STX, 0x00, 0x03, 0xF0]);
            d.push(&[0x41; 64]);
        }
        while d.next_token().is_some() {}
        assert!(d.pending() < 6 * MAX_PACKET);
    }
}
