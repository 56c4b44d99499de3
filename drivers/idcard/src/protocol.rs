//! The GA 467 `SAM_V` wire protocol (reference A.2, A.3): frames, checksums, commands, status
//! words and reply payloads. Pure: no I/O, no clocks, never panics on any input.
//!
//! Every frame is `AA AA AA 96 69 | Len1 Len2 | body | CHK`, where `Len` counts the body and
//! the checksum, and `CHK` is the XOR of every byte from `Len1` to the last body byte. A
//! command body is `CMD Para Data…`; a reply body is `SW1 SW2 SW3 Data…`.

use std::fmt;

/// Frame start: three sync bytes and the `96 69` start mark.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// Preamble plus the two length bytes.
pub const HEADER_LEN: usize = 7;

/// Smallest `Len` of a reply: `SW1 SW2 SW3 CHK`.
pub const MIN_REPLY_LEN: u16 = 4;
/// Largest `Len` of any reply the reader sends: `30 10` with a 1024-byte fingerprint block
/// (`0x090A`, reference A.2). Anything longer is taken as line noise, not waited for.
pub const MAX_REPLY_LEN: u16 = 0x090A;
/// Smallest `Len` of a command: `CMD Para CHK`.
pub const MIN_COMMAND_LEN: u16 = 3;
/// Largest `Len` of a command a reader accepts. The longest known command is 4 (`61 FF 50`);
/// a little room is left for vendor commands.
pub const MAX_COMMAND_LEN: u16 = 64;

/// Bytes in the text block of every card type (reference A.4).
pub const TEXT_LEN: usize = 256;
/// Bytes in the WLT photo (reference A.6).
pub const PHOTO_LEN: usize = 1024;
/// Bytes in a whole successful `30 01` reply frame.
pub const READ_BASE_REPLY_LEN: usize = 1295;

/// XOR of all bytes (the frame checksum rule, applied to `Len1 … last body byte`).
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Why a body cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a frame body of {0} bytes does not fit the 16-bit length field")]
pub struct BodyTooLong(pub usize);

/// Appends one whole frame around `body` (`CMD Para Data` or `SW1 SW2 SW3 Data`) to `out`.
pub fn encode_frame(body: &[u8], out: &mut Vec<u8>) -> Result<(), BodyTooLong> {
    let len = u16::try_from(body.len() + 1).map_err(|_| BodyTooLong(body.len()))?;
    out.reserve(HEADER_LEN + body.len() + 1);
    out.extend_from_slice(&PREAMBLE);
    let start = out.len();
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    let chk = checksum(out.get(start..).unwrap_or_default());
    out.push(chk);
    Ok(())
}

/// UART speeds the reader can be switched to with `60 xx` (reference A.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Baud {
    B115200,
    B57600,
    B38400,
    B19200,
    B9600,
}

impl Baud {
    /// The `Para` byte of the set-baud command.
    pub fn para(self) -> u8 {
        match self {
            Baud::B115200 => 0x00,
            Baud::B57600 => 0x01,
            Baud::B38400 => 0x02,
            Baud::B19200 => 0x03,
            Baud::B9600 => 0x04,
        }
    }

    pub fn from_para(para: u8) -> Option<Self> {
        Some(match para {
            0x00 => Baud::B115200,
            0x01 => Baud::B57600,
            0x02 => Baud::B38400,
            0x03 => Baud::B19200,
            0x04 => Baud::B9600,
            _ => return None,
        })
    }

    pub fn bits_per_second(self) -> u32 {
        match self {
            Baud::B115200 => 115_200,
            Baud::B57600 => 57_600,
            Baud::B38400 => 38_400,
            Baud::B19200 => 19_200,
            Baud::B9600 => 9_600,
        }
    }

    pub fn from_bits_per_second(bps: u32) -> Option<Self> {
        [
            Baud::B115200,
            Baud::B57600,
            Baud::B38400,
            Baud::B19200,
            Baud::B9600,
        ]
        .into_iter()
        .find(|b| b.bits_per_second() == bps)
    }
}

/// The commands of reference A.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// `10 FF` 复位SAM.
    ResetSam,
    /// `11 FF` SAM状态检测.
    SamStatus,
    /// `12 FF` 读SAM管理信息 (the SAM id).
    SamId,
    /// `20 01` 寻找证/卡.
    FindCard,
    /// `20 02` 选取证/卡.
    SelectCard,
    /// `30 01` 读基本信息: text and photo.
    ReadBase,
    /// `30 03` 读最新追加住址.
    ReadAppendedAddress,
    /// `30 10` text, photo and fingerprint.
    ReadWithFingerprint,
    /// `60 xx` set the UART speed.
    SetBaud(Baud),
    /// `61 FF n` "set max RF byte" (sent once at start-up by one implementation; single source).
    SetMaxRfByte(u8),
}

impl Command {
    /// `(CMD, Para)`.
    pub fn code(self) -> (u8, u8) {
        match self {
            Command::ResetSam => (0x10, 0xFF),
            Command::SamStatus => (0x11, 0xFF),
            Command::SamId => (0x12, 0xFF),
            Command::FindCard => (0x20, 0x01),
            Command::SelectCard => (0x20, 0x02),
            Command::ReadBase => (0x30, 0x01),
            Command::ReadAppendedAddress => (0x30, 0x03),
            Command::ReadWithFingerprint => (0x30, 0x10),
            Command::SetBaud(b) => (0x60, b.para()),
            Command::SetMaxRfByte(_) => (0x61, 0xFF),
        }
    }

    /// Recognises a command body (`CMD Para Data…`), as a reader does.
    pub fn from_body(body: &[u8]) -> Option<Command> {
        let (&cmd, rest) = body.split_first()?;
        let (&para, data) = rest.split_first()?;
        let simple = |c: Command| data.is_empty().then_some(c);
        match (cmd, para) {
            (0x10, 0xFF) => simple(Command::ResetSam),
            (0x11, 0xFF) => simple(Command::SamStatus),
            (0x12, 0xFF) => simple(Command::SamId),
            (0x20, 0x01) => simple(Command::FindCard),
            (0x20, 0x02) => simple(Command::SelectCard),
            (0x30, 0x01) => simple(Command::ReadBase),
            (0x30, 0x03) => simple(Command::ReadAppendedAddress),
            (0x30, 0x10) => simple(Command::ReadWithFingerprint),
            (0x60, p) => Baud::from_para(p).and_then(|b| simple(Command::SetBaud(b))),
            (0x61, 0xFF) => match data {
                [n] => Some(Command::SetMaxRfByte(*n)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Appends the whole command frame to `out`.
    pub fn encode_into(self, out: &mut Vec<u8>) {
        let (cmd, para) = self.code();
        let mut body = [cmd, para, 0];
        let used = match self {
            Command::SetMaxRfByte(n) => {
                body[2] = n;
                3
            }
            _ => 2,
        };
        // At most three body bytes: always fits the length field.
        let _ = encode_frame(body.get(..used).unwrap_or_default(), out);
    }

    /// The whole command frame.
    pub fn encode(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(11);
        self.encode_into(&mut out);
        out
    }

    /// A short English name for logs and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Command::ResetSam => "reset SAM",
            Command::SamStatus => "SAM status",
            Command::SamId => "read SAM id",
            Command::FindCard => "find card",
            Command::SelectCard => "select card",
            Command::ReadBase => "read card",
            Command::ReadAppendedAddress => "read appended address",
            Command::ReadWithFingerprint => "read card with fingerprint",
            Command::SetBaud(_) => "set baud rate",
            Command::SetMaxRfByte(_) => "set max RF byte",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SW3, the reader's own status word: every row of reference table A.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `90` 操作成功.
    Success,
    /// `9F` 寻找证/卡成功.
    FindSuccess,
    /// `91` 证/卡中此项无内容 (e.g. no appended address).
    NoContent,
    /// `10` 接收业务终端数据的校验和错: the reader got our frame with a bad checksum.
    HostChecksumError,
    /// `11` 接收业务终端数据的长度错.
    HostLengthError,
    /// `21` 接收业务终端的命令错误.
    BadCommand,
    /// `23` 越权操作.
    Unauthorized,
    /// `24` 无法识别的错误.
    Unrecognized,
    /// `31` 证/卡认证SAM失败.
    CardRejectedSam,
    /// `32` SAM认证证/卡失败.
    SamRejectedCard,
    /// `33` 信息验证错误.
    VerificationFailed,
    /// `40` 无法识别的卡类型 / 错误的卡.
    WrongCardType,
    /// `41` 读证/卡操作失败.
    ReadFailed,
    /// `47` 取随机数失败.
    ChallengeFailed,
    /// `60` SAM自检失败: the SAM accepts no commands.
    SamSelfTestFailed,
    /// `66` SAM未经授权.
    SamNotAuthorized,
    /// `80` 寻找证/卡失败: no card in the field (normal while idle).
    NoCard,
    /// `81` 选取证/卡失败.
    SelectFailed,
    /// Any other SW3.
    Unknown(u8),
}

impl Status {
    /// Every named status, in table order.
    pub const ALL: [Status; 18] = [
        Status::Success,
        Status::FindSuccess,
        Status::NoContent,
        Status::HostChecksumError,
        Status::HostLengthError,
        Status::BadCommand,
        Status::Unauthorized,
        Status::Unrecognized,
        Status::CardRejectedSam,
        Status::SamRejectedCard,
        Status::VerificationFailed,
        Status::WrongCardType,
        Status::ReadFailed,
        Status::ChallengeFailed,
        Status::SamSelfTestFailed,
        Status::SamNotAuthorized,
        Status::NoCard,
        Status::SelectFailed,
    ];

    pub fn from_sw3(sw3: u8) -> Status {
        match sw3 {
            0x90 => Status::Success,
            0x9F => Status::FindSuccess,
            0x91 => Status::NoContent,
            0x10 => Status::HostChecksumError,
            0x11 => Status::HostLengthError,
            0x21 => Status::BadCommand,
            0x23 => Status::Unauthorized,
            0x24 => Status::Unrecognized,
            0x31 => Status::CardRejectedSam,
            0x32 => Status::SamRejectedCard,
            0x33 => Status::VerificationFailed,
            0x40 => Status::WrongCardType,
            0x41 => Status::ReadFailed,
            0x47 => Status::ChallengeFailed,
            0x60 => Status::SamSelfTestFailed,
            0x66 => Status::SamNotAuthorized,
            0x80 => Status::NoCard,
            0x81 => Status::SelectFailed,
            other => Status::Unknown(other),
        }
    }

    pub fn sw3(self) -> u8 {
        match self {
            Status::Success => 0x90,
            Status::FindSuccess => 0x9F,
            Status::NoContent => 0x91,
            Status::HostChecksumError => 0x10,
            Status::HostLengthError => 0x11,
            Status::BadCommand => 0x21,
            Status::Unauthorized => 0x23,
            Status::Unrecognized => 0x24,
            Status::CardRejectedSam => 0x31,
            Status::SamRejectedCard => 0x32,
            Status::VerificationFailed => 0x33,
            Status::WrongCardType => 0x40,
            Status::ReadFailed => 0x41,
            Status::ChallengeFailed => 0x47,
            Status::SamSelfTestFailed => 0x60,
            Status::SamNotAuthorized => 0x66,
            Status::NoCard => 0x80,
            Status::SelectFailed => 0x81,
            Status::Unknown(b) => b,
        }
    }

    /// `true` for `90`, `9F` and `91`: the command did what it was asked.
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            Status::Success | Status::FindSuccess | Status::NoContent
        )
    }

    /// The meaning in Chinese as the protocol texts give it.
    pub fn meaning_zh(self) -> &'static str {
        match self {
            Status::Success => "操作成功",
            Status::FindSuccess => "寻找证/卡成功",
            Status::NoContent => "证/卡中此项无内容",
            Status::HostChecksumError => "接收业务终端数据的校验和错",
            Status::HostLengthError => "接收业务终端数据的长度错",
            Status::BadCommand => "接收业务终端的命令错误",
            Status::Unauthorized => "越权操作",
            Status::Unrecognized => "无法识别的错误",
            Status::CardRejectedSam => "证/卡认证SAM失败",
            Status::SamRejectedCard => "SAM认证证/卡失败",
            Status::VerificationFailed => "信息验证错误",
            Status::WrongCardType => "无法识别的卡类型",
            Status::ReadFailed => "读证/卡操作失败",
            Status::ChallengeFailed => "取随机数失败",
            Status::SamSelfTestFailed => "SAM自检失败",
            Status::SamNotAuthorized => "SAM未经授权",
            Status::NoCard => "寻找证/卡失败",
            Status::SelectFailed => "选取证/卡失败",
            Status::Unknown(_) => "未知状态",
        }
    }

    /// The meaning in plain English.
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::FindSuccess => "card found",
            Status::NoContent => "this item is empty on the card",
            Status::HostChecksumError => "the reader received a frame with a bad checksum",
            Status::HostLengthError => "the reader received a frame with a bad length",
            Status::BadCommand => "the reader does not know this command",
            Status::Unauthorized => "operation not allowed",
            Status::Unrecognized => "unrecognised error in the reader",
            Status::CardRejectedSam => "the card failed to authenticate the SAM",
            Status::SamRejectedCard => "the SAM failed to authenticate the card",
            Status::VerificationFailed => "information verification failed",
            Status::WrongCardType => "not an ID card, or an unknown card type",
            Status::ReadFailed => "reading the card failed",
            Status::ChallengeFailed => "getting a challenge from the card failed",
            Status::SamSelfTestFailed => "the SAM self-test failed; it accepts no commands",
            Status::SamNotAuthorized => "the SAM is not authorised",
            Status::NoCard => "no card on the reader",
            Status::SelectFailed => "selecting the card failed",
            Status::Unknown(_) => "unknown status",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, SW3={:02X})",
            self.meaning(),
            self.meaning_zh(),
            self.sw3()
        )
    }
}

/// Appends a whole reply frame to `out` (the reader side; used by the simulator and tests).
pub fn encode_reply(
    sw1: u8,
    sw2: u8,
    status: Status,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), BodyTooLong> {
    let mut body = Vec::with_capacity(3 + data.len());
    body.extend_from_slice(&[sw1, sw2, status.sw3()]);
    body.extend_from_slice(data);
    encode_frame(&body, out)
}

/// One checked frame: the bytes between the length field and the checksum.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    body: Vec<u8>,
}

impl fmt::Debug for Frame {
    // The body may be card text: show its size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Frame {
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub fn into_body(mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.body.zeroize();
    }
}

/// A reply from the reader: `SW1 SW2 SW3 Data…`.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    body: Vec<u8>,
}

impl fmt::Debug for Reply {
    // The data may be card text: show the status words and the size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("sw1", &self.sw1())
            .field("sw2", &self.sw2())
            .field("status", &self.status())
            .field("data_len", &self.data().len())
            .finish()
    }
}

impl Reply {
    /// A reply from a frame body; `None` if the body is shorter than the three status words.
    pub fn from_frame(mut frame: Frame) -> Option<Reply> {
        (frame.body.len() >= 3).then(|| Reply {
            body: std::mem::take(&mut frame.body),
        })
    }

    pub fn sw1(&self) -> u8 {
        self.body.first().copied().unwrap_or(0)
    }

    pub fn sw2(&self) -> u8 {
        self.body.get(1).copied().unwrap_or(0)
    }

    pub fn sw3(&self) -> u8 {
        self.body.get(2).copied().unwrap_or(0)
    }

    pub fn status(&self) -> Status {
        Status::from_sw3(self.sw3())
    }

    pub fn data(&self) -> &[u8] {
        self.body.get(3..).unwrap_or_default()
    }

    /// Overwrites the bytes in memory (replies carry personal data).
    pub fn wipe(&mut self) {
        use zeroize::Zeroize;
        self.body.zeroize();
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Why the decoder threw bytes away. The decoder resynchronises by itself; these are
/// reported so a driver can count them and re-send on a bad checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The checksum byte does not match the frame.
    #[error("frame checksum is {received:02X}, the bytes give {computed:02X}")]
    BadChecksum { computed: u8, received: u8 },
    /// The length field is outside what this direction of the protocol can carry.
    #[error("impossible frame length {0}")]
    BadLength(u16),
}

/// A streaming frame decoder: push bytes as they arrive, take frames out.
///
/// Bytes before a preamble are noise and are skipped (counted in [`Decoder::skipped`]). A
/// length outside the allowed range or a wrong checksum yields one [`DecodeError`]; the
/// decoder then looks for the next preamble one byte further on, so a real frame hidden
/// behind a false start is still found. Never panics; memory stays bounded by what the
/// caller pushes.
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    pos: usize,
    min_len: u16,
    max_len: u16,
    skipped: u64,
}

impl Decoder {
    /// A decoder for the host side: frames from the reader.
    pub fn replies() -> Self {
        Self::with_limits(MIN_REPLY_LEN, MAX_REPLY_LEN)
    }

    /// A decoder for the reader side: frames from the host (used by the simulator).
    pub fn commands() -> Self {
        Self::with_limits(MIN_COMMAND_LEN, MAX_COMMAND_LEN)
    }

    /// A decoder that accepts `Len` in `min_len..=max_len` (at least 1, the checksum).
    pub fn with_limits(min_len: u16, max_len: u16) -> Self {
        let min_len = min_len.max(1);
        Decoder {
            buf: Vec::with_capacity(HEADER_LEN + usize::from(max_len.max(min_len))),
            pos: 0,
            min_len,
            max_len: max_len.max(min_len),
            skipped: 0,
        }
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Forgets everything buffered (before a new command).
    pub fn clear(&mut self) {
        use zeroize::Zeroize;
        self.buf.zeroize();
        self.pos = 0;
    }

    /// Bytes held that are not yet part of a returned frame.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// `true` when a preamble has been seen and the rest of its frame is still awaited.
    pub fn in_frame(&self) -> bool {
        self.rest().starts_with(&PREAMBLE)
    }

    /// Noise bytes skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn rest(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn skip(&mut self, n: usize) {
        let n = n.min(self.buffered());
        self.pos += n;
        self.skipped += n as u64;
    }

    /// The next complete frame, an error for a rejected candidate, or `None` when more
    /// bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, DecodeError>> {
        let rest = self.rest();
        if let Some(at) = find_preamble(rest) {
            self.skip(at);
        } else {
            // Keep only a tail that may be the start of a preamble.
            let keep = partial_preamble_suffix(rest);
            let drop = rest.len() - keep;
            self.skip(drop);
            self.compact();
            return None;
        }
        let rest = self.rest();
        let (Some(&hi), Some(&lo)) = (rest.get(5), rest.get(6)) else {
            self.compact();
            return None;
        };
        let len = u16::from_be_bytes([hi, lo]);
        if len < self.min_len || len > self.max_len {
            self.skip(1);
            return Some(Err(DecodeError::BadLength(len)));
        }
        let total = HEADER_LEN + usize::from(len);
        let Some(frame) = rest.get(..total) else {
            self.compact();
            return None;
        };
        let (covered, received) = frame.get(5..total - 1).zip(frame.last())?;
        let computed = checksum(covered);
        if computed != *received {
            let received = *received;
            self.skip(1);
            return Some(Err(DecodeError::BadChecksum { computed, received }));
        }
        let body = frame
            .get(HEADER_LEN..total - 1)
            .unwrap_or_default()
            .to_vec();
        self.pos += total;
        self.compact();
        Some(Ok(Frame { body }))
    }

    /// Drops consumed bytes once they are a large part of the buffer.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        if self.pos >= self.buf.len() {
            // Wipe rather than clear: the bytes were card data.
            zeroize::Zeroize::zeroize(&mut self.buf);
            self.pos = 0;
        } else if self.pos >= 4096 || self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::replies()
    }
}

fn find_preamble(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(rel) = bytes.get(from..)?.iter().position(|&b| b == 0xAA) {
        let at = from + rel;
        let window = bytes.get(at..)?;
        if window.starts_with(&PREAMBLE) {
            return Some(at);
        }
        if window.len() < PREAMBLE.len() && PREAMBLE.starts_with(window) {
            // A preamble may be arriving; not found yet.
            return None;
        }
        from = at + 1;
    }
    None
}

/// Length of the longest tail of `bytes` that is a proper prefix of the preamble.
fn partial_preamble_suffix(bytes: &[u8]) -> usize {
    (1..PREAMBLE.len())
        .rev()
        .find(|&n| {
            bytes
                .len()
                .checked_sub(n)
                .and_then(|start| bytes.get(start..))
                .is_some_and(|tail| PREAMBLE.starts_with(tail))
        })
        .unwrap_or(0)
}

/// Why a reply's data does not have the shape its command promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed reply data: {0}")]
pub struct PayloadError(pub &'static str);

/// The data of a successful read (`30 01` or `30 10`), borrowed from the reply.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ReadPayload<'a> {
    /// The 256-byte text block.
    pub text: &'a [u8],
    /// The WLT photo (1024 bytes on every known card).
    pub photo: &'a [u8],
    /// Fingerprint data (0, 512 or 1024 bytes; empty for `30 01`).
    pub fingerprint: &'a [u8],
}

impl fmt::Debug for ReadPayload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadPayload")
            .field("text_len", &self.text.len())
            .field("photo_len", &self.photo.len())
            .field("fingerprint_len", &self.fingerprint.len())
            .finish()
    }
}

fn be16(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
}

/// Splits the data of a `30 01` reply: `TL(2) PL(2) text photo`, lengths big-endian.
pub fn parse_read_base(data: &[u8]) -> Result<ReadPayload<'_>, PayloadError> {
    let tl = be16(data, 0).ok_or(PayloadError("shorter than its length header"))?;
    let pl = be16(data, 2).ok_or(PayloadError("shorter than its length header"))?;
    split_read(data, 4, tl, pl, 0)
}

/// Splits the data of a `30 10` reply: `TL(2) PL(2) FL(2) text photo fingerprint`.
pub fn parse_read_with_fingerprint(data: &[u8]) -> Result<ReadPayload<'_>, PayloadError> {
    let tl = be16(data, 0).ok_or(PayloadError("shorter than its length header"))?;
    let pl = be16(data, 2).ok_or(PayloadError("shorter than its length header"))?;
    let fl = be16(data, 4).ok_or(PayloadError("shorter than its length header"))?;
    split_read(data, 6, tl, pl, fl)
}

fn split_read(
    data: &[u8],
    header: usize,
    tl: usize,
    pl: usize,
    fl: usize,
) -> Result<ReadPayload<'_>, PayloadError> {
    if tl != TEXT_LEN {
        return Err(PayloadError("text block is not 256 bytes"));
    }
    if data.len() != header + tl + pl + fl {
        return Err(PayloadError(
            "lengths in the header do not add up to the data",
        ));
    }
    let body = data.get(header..).unwrap_or_default();
    let (text, rest) = body
        .split_at_checked(tl)
        .ok_or(PayloadError("short text"))?;
    let (photo, fingerprint) = rest
        .split_at_checked(pl)
        .ok_or(PayloadError("short photo"))?;
    Ok(ReadPayload {
        text,
        photo,
        fingerprint,
    })
}

/// Builds the data of a `30 01` reply (reader side).
pub fn build_read_base(text: &[u8], photo: &[u8]) -> Option<Vec<u8>> {
    let tl = u16::try_from(text.len()).ok()?;
    let pl = u16::try_from(photo.len()).ok()?;
    let mut out = Vec::with_capacity(4 + text.len() + photo.len());
    out.extend_from_slice(&tl.to_be_bytes());
    out.extend_from_slice(&pl.to_be_bytes());
    out.extend_from_slice(text);
    out.extend_from_slice(photo);
    Some(out)
}

/// Builds the data of a `30 10` reply (reader side).
pub fn build_read_with_fingerprint(text: &[u8], photo: &[u8], fp: &[u8]) -> Option<Vec<u8>> {
    let tl = u16::try_from(text.len()).ok()?;
    let pl = u16::try_from(photo.len()).ok()?;
    let fl = u16::try_from(fp.len()).ok()?;
    let mut out = Vec::with_capacity(6 + text.len() + photo.len() + fp.len());
    out.extend_from_slice(&tl.to_be_bytes());
    out.extend_from_slice(&pl.to_be_bytes());
    out.extend_from_slice(&fl.to_be_bytes());
    out.extend_from_slice(text);
    out.extend_from_slice(photo);
    out.extend_from_slice(fp);
    Some(out)
}

/// The SAM id (`12 FF` reply data), raw and formatted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SamId {
    /// The reply data as received.
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// `AA.BB-CCCCCCCC-DDDDDDDDD-EEEEEEEEE`, the dotted/dashed style vendors print. This is
    /// one implementation's formatting (reference A.2); confirm against a real reader.
    pub formatted: String,
}

impl SamId {
    /// Formats the 16 data bytes the way [G-HSL-SAMSERIAL] does (frame offsets 10, 12,
    /// 14..18, 18..22, 22..26 are data offsets 0, 2, 4..8, 8..12, 12..16).
    pub fn parse(data: &[u8]) -> Result<SamId, PayloadError> {
        let short = PayloadError("SAM id is shorter than 16 bytes");
        let le32 = |at: usize| -> Result<u32, PayloadError> {
            let b = data.get(at..at + 4).ok_or(short)?;
            let mut a = [0u8; 4];
            a.copy_from_slice(b);
            Ok(u32::from_le_bytes(a))
        };
        let first = *data.first().ok_or(short)?;
        let second = *data.get(2).ok_or(short)?;
        let formatted = format!(
            "{first:02}.{second:02}-{}-{:09}-{:09}",
            le32(4)?,
            le32(8)?,
            le32(12)?
        );
        Ok(SamId {
            raw: data.to_vec(),
            formatted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn command_frames_match_the_reference_table() {
        let table = [
            (Command::ResetSam, "AA AA AA 96 69 00 03 10 FF EC"),
            (Command::SamStatus, "AA AA AA 96 69 00 03 11 FF ED"),
            (Command::SamId, "AA AA AA 96 69 00 03 12 FF EE"),
            (Command::FindCard, "AA AA AA 96 69 00 03 20 01 22"),
            (Command::SelectCard, "AA AA AA 96 69 00 03 20 02 21"),
            (Command::ReadBase, "AA AA AA 96 69 00 03 30 01 32"),
            (
                Command::ReadAppendedAddress,
                "AA AA AA 96 69 00 03 30 03 30",
            ),
            (
                Command::ReadWithFingerprint,
                "AA AA AA 96 69 00 03 30 10 23",
            ),
            (
                Command::SetBaud(Baud::B115200),
                "AA AA AA 96 69 00 03 60 00 63",
            ),
            (
                Command::SetBaud(Baud::B57600),
                "AA AA AA 96 69 00 03 60 01 62",
            ),
            (
                Command::SetBaud(Baud::B38400),
                "AA AA AA 96 69 00 03 60 02 61",
            ),
            (
                Command::SetBaud(Baud::B19200),
                "AA AA AA 96 69 00 03 60 03 60",
            ),
            (
                Command::SetBaud(Baud::B9600),
                "AA AA AA 96 69 00 03 60 04 67",
            ),
            (
                Command::SetMaxRfByte(0x50),
                "AA AA AA 96 69 00 04 61 FF 50 CA",
            ),
        ];
        for (cmd, frame) in table {
            assert_eq!(cmd.encode(), hex(frame), "{cmd:?}");
            // And the reader side recognises it.
            let mut d = Decoder::commands();
            d.push(&hex(frame));
            let body = d.next_frame().unwrap().unwrap();
            assert_eq!(Command::from_body(body.body()), Some(cmd));
        }
    }

    #[test]
    fn reply_frames_match_the_reference_table() {
        let table: [(&str, Status, usize); 5] = [
            (
                "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97",
                Status::FindSuccess,
                4,
            ),
            ("AA AA AA 96 69 00 04 00 00 80 84", Status::NoCard, 0),
            (
                "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C",
                Status::Success,
                8,
            ),
            ("AA AA AA 96 69 00 04 00 00 81 85", Status::SelectFailed, 0),
            ("AA AA AA 96 69 00 04 00 00 41 45", Status::ReadFailed, 0),
        ];
        for (frame, status, data_len) in table {
            let bytes = hex(frame);
            let mut d = Decoder::replies();
            d.push(&bytes);
            let reply = Reply::from_frame(d.next_frame().unwrap().unwrap()).unwrap();
            assert_eq!(reply.status(), status, "{frame}");
            assert_eq!(reply.data().len(), data_len);
            assert!(d.next_frame().is_none());
            // Encoding the same reply gives the same bytes.
            let mut out = Vec::new();
            encode_reply(0, 0, status, reply.data(), &mut out).unwrap();
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn read_base_reply_is_1295_bytes_with_the_reference_header() {
        let text = [0x20u8; TEXT_LEN];
        let photo = [0x55u8; PHOTO_LEN];
        let data = build_read_base(&text, &photo).unwrap();
        let mut frame = Vec::new();
        encode_reply(0, 0, Status::Success, &data, &mut frame).unwrap();
        assert_eq!(frame.len(), READ_BASE_REPLY_LEN);
        assert_eq!(
            frame.get(..14).unwrap(),
            hex("AA AA AA 96 69 05 08 00 00 90 01 00 04 00")
        );
        let mut d = Decoder::replies();
        d.push(&frame);
        let reply = Reply::from_frame(d.next_frame().unwrap().unwrap()).unwrap();
        let p = parse_read_base(reply.data()).unwrap();
        assert_eq!(p.text, &text);
        assert_eq!(p.photo, &photo);
        assert!(p.fingerprint.is_empty());
    }

    #[test]
    fn read_with_fingerprint_lengths() {
        for (fp_len, total, len_field) in [
            (0usize, 1297usize, 0x050Au16),
            (512, 1809, 0x070A),
            (1024, 2321, 0x090A),
        ] {
            let data =
                build_read_with_fingerprint(&[0x20; TEXT_LEN], &[1; PHOTO_LEN], &vec![7; fp_len])
                    .unwrap();
            let mut frame = Vec::new();
            encode_reply(0, 0, Status::Success, &data, &mut frame).unwrap();
            assert_eq!(frame.len(), total);
            assert_eq!(frame.get(5..7).unwrap(), len_field.to_be_bytes());
            let mut d = Decoder::replies();
            d.push(&frame);
            let reply = Reply::from_frame(d.next_frame().unwrap().unwrap()).unwrap();
            let p = parse_read_with_fingerprint(reply.data()).unwrap();
            assert_eq!(p.fingerprint.len(), fp_len);
            assert_eq!(p.photo.len(), PHOTO_LEN);
            // Text starts at frame offset 16.
            assert_eq!(frame.get(16), Some(&0x20));
        }
    }

    #[test]
    fn malformed_read_payloads_are_rejected() {
        assert!(parse_read_base(&[]).is_err());
        assert!(parse_read_base(&[1, 0, 4]).is_err());
        let mut data = build_read_base(&[0x20; TEXT_LEN], &[0; PHOTO_LEN]).unwrap();
        data.pop();
        assert_eq!(
            parse_read_base(&data),
            Err(PayloadError(
                "lengths in the header do not add up to the data"
            ))
        );
        let data = build_read_base(&[0x20; 200], &[0; PHOTO_LEN]).unwrap();
        assert_eq!(
            parse_read_base(&data),
            Err(PayloadError("text block is not 256 bytes"))
        );
    }

    #[test]
    fn every_status_word_round_trips_with_a_name() {
        let codes = [
            0x90, 0x9F, 0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47,
            0x60, 0x66, 0x80, 0x81,
        ];
        assert_eq!(codes.len(), Status::ALL.len());
        for (code, status) in codes.into_iter().zip(Status::ALL) {
            assert_eq!(Status::from_sw3(code), status);
            assert_eq!(status.sw3(), code);
            assert!(!matches!(status, Status::Unknown(_)));
            assert!(status.to_string().contains(&format!("{code:02X}")));
        }
        assert_eq!(Status::from_sw3(0x55), Status::Unknown(0x55));
        assert!(Status::Success.is_ok() && Status::FindSuccess.is_ok());
        assert!(!Status::NoCard.is_ok());
    }

    #[test]
    fn decoder_takes_bytes_one_at_a_time() {
        let frame = hex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97");
        let mut d = Decoder::replies();
        for (i, b) in frame.iter().enumerate() {
            assert!(d.next_frame().is_none(), "byte {i}");
            d.push(&[*b]);
        }
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(f.body(), hex("00 00 9F 00 00 00 00"));
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn decoder_resyncs_after_noise_and_partial_preambles() {
        let frame = hex("AA AA AA 96 69 00 04 00 00 80 84");
        let mut input = hex("00 FF AA AA 96 AA AA AA 69 13 AA");
        input.extend_from_slice(&frame);
        input.extend_from_slice(&hex("AA AA"));
        input.extend_from_slice(&frame);
        let mut d = Decoder::replies();
        d.push(&input);
        let mut frames = 0;
        while let Some(r) = d.next_frame() {
            assert_eq!(
                Reply::from_frame(r.unwrap()).unwrap().status(),
                Status::NoCard
            );
            frames += 1;
        }
        assert_eq!(frames, 2);
        assert_eq!(d.skipped(), 13);
    }

    #[test]
    fn bad_checksum_is_reported_and_the_next_frame_still_decodes() {
        let mut bad = hex("AA AA AA 96 69 00 04 00 00 80 84");
        *bad.last_mut().unwrap() ^= 0x01;
        let good = hex("AA AA AA 96 69 00 04 00 00 81 85");
        let mut d = Decoder::replies();
        d.push(&bad);
        d.push(&good);
        assert_eq!(
            d.next_frame(),
            Some(Err(DecodeError::BadChecksum {
                computed: 0x84,
                received: 0x85
            }))
        );
        let reply = Reply::from_frame(d.next_frame().unwrap().unwrap()).unwrap();
        assert_eq!(reply.status(), Status::SelectFailed);
        assert!(d.next_frame().is_none());
    }

    #[test]
    fn impossible_lengths_are_rejected_without_waiting() {
        for len in [[0x00, 0x00], [0x00, 0x03], [0x09, 0x0B], [0xFF, 0xFF]] {
            let mut d = Decoder::replies();
            let mut input = PREAMBLE.to_vec();
            input.extend_from_slice(&len);
            d.push(&input);
            assert_eq!(
                d.next_frame(),
                Some(Err(DecodeError::BadLength(u16::from_be_bytes(len))))
            );
            assert!(d.next_frame().is_none());
        }
        // And a command decoder refuses reply-sized frames.
        let mut d = Decoder::commands();
        d.push(&hex("AA AA AA 96 69 05 08"));
        assert_eq!(d.next_frame(), Some(Err(DecodeError::BadLength(0x0508))));
    }

    #[test]
    fn a_frame_hidden_behind_a_false_start_is_found() {
        // A false preamble claiming 8 bytes swallows the start of a real frame; the
        // checksum fails, and the decoder finds the real one inside.
        let real = hex("AA AA AA 96 69 00 04 00 00 80 84");
        let mut input = hex("AA AA AA 96 69 00 08 01");
        input.extend_from_slice(&real);
        input.extend_from_slice(&[0; 8]);
        let mut d = Decoder::replies();
        d.push(&input);
        assert!(matches!(
            d.next_frame(),
            Some(Err(DecodeError::BadChecksum { .. }))
        ));
        let reply = Reply::from_frame(d.next_frame().unwrap().unwrap()).unwrap();
        assert_eq!(reply.status(), Status::NoCard);
    }

    #[test]
    fn sam_id_formatting() {
        let mut data = vec![0u8; 16];
        data[0] = 5;
        data[2] = 1;
        data[4..8].copy_from_slice(&20_230_101u32.to_le_bytes());
        data[8..12].copy_from_slice(&1234u32.to_le_bytes());
        data[12..16].copy_from_slice(&987_654_321u32.to_le_bytes());
        let id = SamId::parse(&data).unwrap();
        assert_eq!(id.formatted, "05.01-20230101-000001234-987654321");
        assert!(SamId::parse(&data[..15]).is_err());
    }

    #[test]
    fn baud_rates() {
        for bps in [115_200, 57_600, 38_400, 19_200, 9_600] {
            let b = Baud::from_bits_per_second(bps).unwrap();
            assert_eq!(b.bits_per_second(), bps);
            assert_eq!(Baud::from_para(b.para()), Some(b));
        }
        assert_eq!(Baud::from_bits_per_second(4800), None);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn decoder_never_panics_and_stays_bounded(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
                let mut d = Decoder::replies();
                for chunk in &chunks {
                    d.push(chunk);
                    while d.next_frame().is_some() {}
                    // After draining, at most one incomplete frame is held.
                    prop_assert!(d.buffered() <= HEADER_LEN + usize::from(MAX_REPLY_LEN));
                }
            }

            #[test]
            fn frames_survive_any_noise_prefix_and_any_split(noise in proptest::collection::vec(any::<u8>(), 0..64), data in proptest::collection::vec(any::<u8>(), 0..64), split in 0usize..200) {
                // Noise that contains no 0xAA cannot fake a preamble.
                let noise: Vec<u8> = noise.into_iter().map(|b| if b == 0xAA { 0 } else { b }).collect();
                let mut frame = Vec::new();
                encode_reply(0x12, 0x34, Status::Success, &data, &mut frame).unwrap();
                let mut input = noise.clone();
                input.extend_from_slice(&frame);
                let split = split.min(input.len());
                let mut d = Decoder::replies();
                d.push(&input[..split]);
                let mut got = Vec::new();
                while let Some(r) = d.next_frame() { got.push(r); }
                d.push(&input[split..]);
                while let Some(r) = d.next_frame() { got.push(r); }
                prop_assert_eq!(got.len(), 1);
                let reply = Reply::from_frame(got.pop().unwrap().unwrap()).unwrap();
                prop_assert_eq!(reply.sw1(), 0x12);
                prop_assert_eq!(reply.sw2(), 0x34);
                prop_assert_eq!(reply.data(), &data[..]);
            }
        }
    }
}
