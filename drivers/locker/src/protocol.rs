//! The "KR"-style RS485 lock-board protocol: 5-byte commands, replies with an XOR checksum.
//!
//! Pure: no I/O. Facts from `reference/dispenser-locker-scanner-pcsc.md` §3.1:
//!
//! | frame | bytes |
//! |---|---|
//! | unlock lock *n* on board *b* | `8A b n 11 BCC` (open board 1 lock 5 = `8A 01 05 11 9F`) |
//! | unlock all locks of board *b* | `8A b 00 11 BCC` |
//! | query one lock | `80 b n 33 BCC` → `80 b n 11 BCC` or `80 b n 00 BCC` |
//! | query all locks | `80 b 00 33 BCC` → `80 b S… 33 BCC`, status bytes highest group first |
//! | find the board address | `80 01 00 99 18` → `80 01 <addr> 99 BCC` |
//!
//! BCC is the XOR of every byte before it. Replies come with header `8A` or `80` (vendors
//! disagree), so both are accepted for every kind of reply. The reply to a lock command carries the raw
//! feedback switch (`11` set / `00` clear); what that means for the door depends on the
//! lock's [`Polarity`].
//!
//! Replies have no length field. [`ReplyDecoder`] finds frames by their header, terminator
//! and checksum, resynchronises after noise one byte at a time, and for a query-all reply
//! (1 to [`MAX_STATUS_BYTES`] status bytes) takes the longest valid frame once the line has
//! been idle (the driver says when).

use serde::{Deserialize, Serialize};

/// Header of unlock commands (and of some boards' replies).
pub const HEADER_UNLOCK: u8 = 0x8A;
/// Header of query commands (and of the other boards' replies).
pub const HEADER_QUERY: u8 = 0x80;
/// Command byte of an unlock.
pub const CMD_UNLOCK: u8 = 0x11;
/// Command byte of a status query (and terminator of a query-all reply).
pub const CMD_QUERY: u8 = 0x33;
/// Command byte of "find board address".
pub const CMD_FIND_ADDRESS: u8 = 0x99;
/// Raw feedback value "switch set" in a lock reply.
pub const SWITCH_SET: u8 = 0x11;
/// Raw feedback value "switch clear" in a lock reply.
pub const SWITCH_CLEAR: u8 = 0x00;
/// Every command is five bytes.
pub const COMMAND_LEN: usize = 5;
/// A query-all reply carries at most this many status bytes (32 channels).
pub const MAX_STATUS_BYTES: usize = 4;
/// The longest reply frame: header, board, 4 status bytes, terminator, BCC.
pub const MAX_REPLY_LEN: usize = 4 + MAX_STATUS_BYTES;
/// The highest lock number a reply can describe.
pub const MAX_CHANNELS: u8 = 32;

/// XOR of all bytes (the block check character).
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// A command from the host to the boards on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Pulse the lock `lock` (1-based) of board `board`.
    Unlock { board: u8, lock: u8 },
    /// Pulse every lock of `board`, one after another.
    UnlockAll { board: u8 },
    /// Read the feedback switch of one lock.
    QueryLock { board: u8, lock: u8 },
    /// Read the feedback switches of every lock of `board`.
    QueryAll { board: u8 },
    /// Ask the only board on the bus for its address.
    FindAddress,
}

impl Command {
    /// The five bytes on the wire.
    pub fn encode(self) -> [u8; COMMAND_LEN] {
        let (h, b, n, c) = match self {
            Command::Unlock { board, lock } => (HEADER_UNLOCK, board, lock, CMD_UNLOCK),
            Command::UnlockAll { board } => (HEADER_UNLOCK, board, 0, CMD_UNLOCK),
            Command::QueryLock { board, lock } => (HEADER_QUERY, board, lock, CMD_QUERY),
            Command::QueryAll { board } => (HEADER_QUERY, board, 0, CMD_QUERY),
            Command::FindAddress => (HEADER_QUERY, 1, 0, CMD_FIND_ADDRESS),
        };
        [h, b, n, c, h ^ b ^ n ^ c]
    }

    /// Parses one 5-byte command (what a board does). `None` for anything that is not a
    /// well-formed command with a good checksum.
    pub fn parse(frame: &[u8]) -> Option<Command> {
        let &[header, board, lock, code, check] = frame else {
            return None;
        };
        if header ^ board ^ lock ^ code != check {
            return None;
        }
        match (header, lock, code) {
            (HEADER_UNLOCK, 0, CMD_UNLOCK) => Some(Command::UnlockAll { board }),
            (HEADER_UNLOCK, lock, CMD_UNLOCK) => Some(Command::Unlock { board, lock }),
            (HEADER_QUERY, 0, CMD_QUERY) => Some(Command::QueryAll { board }),
            (HEADER_QUERY, lock, CMD_QUERY) => Some(Command::QueryLock { board, lock }),
            (HEADER_QUERY, 0, CMD_FIND_ADDRESS) if board == 1 => Some(Command::FindAddress),
            _ => None,
        }
    }

    /// The board this command is addressed to (`None` for [`Command::FindAddress`]).
    pub fn board(self) -> Option<u8> {
        match self {
            Command::Unlock { board, .. }
            | Command::UnlockAll { board }
            | Command::QueryLock { board, .. }
            | Command::QueryAll { board } => Some(board),
            Command::FindAddress => None,
        }
    }
}

/// The raw level of a lock's feedback switch, as the board reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Switch {
    /// `11` in a lock reply, bit 1 in a query-all reply.
    Set,
    /// `00` in a lock reply, bit 0 in a query-all reply.
    Clear,
}

impl Switch {
    fn from_byte(b: u8) -> Option<Switch> {
        match b {
            SWITCH_SET => Some(Switch::Set),
            SWITCH_CLEAR => Some(Switch::Clear),
            _ => None,
        }
    }

    fn from_bit(set: bool) -> Switch {
        if set { Switch::Set } else { Switch::Clear }
    }

    /// The byte a lock reply carries for this level.
    pub fn byte(self) -> u8 {
        match self {
            Switch::Set => SWITCH_SET,
            Switch::Clear => SWITCH_CLEAR,
        }
    }
}

/// Whether a door is open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Door {
    Open,
    Closed,
}

/// What the feedback switch means, which depends on the lock fitted (CSDN-LOCK: "上锁短路" vs
/// "开锁短路"). Open-Locker calls this `feedback_type`; the default is theirs and DP2's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// The "door closing" switch: set (`11`, bit 1) = closed, clear (`00`, bit 0) = open.
    #[default]
    DoorClosing,
    /// The "door opening" switch: set = open, clear = closed.
    DoorOpening,
}

impl Polarity {
    /// The door state a raw switch level means.
    pub fn door(self, switch: Switch) -> Door {
        match (self, switch) {
            (Polarity::DoorClosing, Switch::Set) | (Polarity::DoorOpening, Switch::Clear) => {
                Door::Closed
            }
            (Polarity::DoorClosing, Switch::Clear) | (Polarity::DoorOpening, Switch::Set) => {
                Door::Open
            }
        }
    }

    /// The raw switch level that reports `door` (what a simulated sensor sends).
    pub fn switch(self, door: Door) -> Switch {
        match (self, door) {
            (Polarity::DoorClosing, Door::Closed) | (Polarity::DoorOpening, Door::Open) => {
                Switch::Set
            }
            (Polarity::DoorClosing, Door::Open) | (Polarity::DoorOpening, Door::Closed) => {
                Switch::Clear
            }
        }
    }
}

/// The status bytes of a query-all reply, in wire order (highest group first).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusBits {
    bytes: [u8; MAX_STATUS_BYTES],
    len: u8,
}

impl std::fmt::Debug for StatusBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StatusBits(")?;
        for b in self.wire() {
            write!(f, "{b:02X}")?;
        }
        write!(f, ")")
    }
}

impl StatusBits {
    /// From the status bytes as they appear on the wire. `None` for 0 or more than
    /// [`MAX_STATUS_BYTES`] bytes.
    pub fn from_wire(wire: &[u8]) -> Option<StatusBits> {
        if wire.is_empty() || wire.len() > MAX_STATUS_BYTES {
            return None;
        }
        let mut bytes = [0u8; MAX_STATUS_BYTES];
        bytes.get_mut(..wire.len())?.copy_from_slice(wire);
        Some(StatusBits {
            bytes,
            len: u8::try_from(wire.len()).ok()?,
        })
    }

    /// Builds the wire bytes for `status_bytes` bytes from per-lock levels (`levels[0]` is
    /// lock 1). Locks beyond `levels` read as clear. `None` if `status_bytes` is 0 or too big.
    pub fn from_levels(levels: &[Switch], status_bytes: usize) -> Option<StatusBits> {
        if status_bytes == 0 || status_bytes > MAX_STATUS_BYTES {
            return None;
        }
        let mut wire = [0u8; MAX_STATUS_BYTES];
        for (i, level) in levels.iter().enumerate().take(status_bytes * 8) {
            if *level == Switch::Set
                && let Some(byte) = wire.get_mut(status_bytes - 1 - i / 8)
            {
                *byte |= 1 << (i % 8);
            }
        }
        StatusBits::from_wire(wire.get(..status_bytes)?)
    }

    /// The status bytes as on the wire.
    pub fn wire(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// How many locks this reply describes (8 per status byte).
    pub fn channels(&self) -> u8 {
        self.len * 8
    }

    /// The switch of lock `lock` (1-based); `None` if the reply does not cover it.
    pub fn switch(&self, lock: u8) -> Option<Switch> {
        if lock == 0 || lock > self.channels() {
            return None;
        }
        let i = usize::from(lock - 1);
        let byte = self.wire().get(usize::from(self.len) - 1 - i / 8)?;
        Some(Switch::from_bit(byte & (1 << (i % 8)) != 0))
    }
}

/// A decoded reply from a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reply {
    /// The answer to an unlock or a single-lock query: the lock's feedback switch.
    Lock {
        header: u8,
        board: u8,
        lock: u8,
        switch: Switch,
    },
    /// The answer to a query-all.
    All { board: u8, status: StatusBits },
    /// The answer to "find address".
    Address { address: u8 },
}

impl Reply {
    /// Encodes a reply as a board would send it (`header` is `8A` or `80`; for
    /// [`Reply::All`] and [`Reply::Address`] boards always use `80`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = match *self {
            Reply::Lock {
                header,
                board,
                lock,
                switch,
            } => vec![header, board, lock, switch.byte()],
            Reply::All { board, status } => {
                let mut v = vec![HEADER_QUERY, board];
                v.extend_from_slice(status.wire());
                v.push(CMD_QUERY);
                v
            }
            Reply::Address { address } => vec![HEADER_QUERY, 1, address, CMD_FIND_ADDRESS],
        };
        out.push(bcc(&out));
        out
    }

    /// The board that sent this reply (for a find-address reply: the address found).
    pub fn board(&self) -> u8 {
        match *self {
            Reply::Lock { board, .. } | Reply::All { board, .. } => board,
            Reply::Address { address } => address,
        }
    }
}

/// Which reply the driver is waiting for; the decoder only accepts that kind, which removes
/// the ambiguities of a protocol without a length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expect {
    /// A lock reply (`h b n 11|00 BCC`).
    Lock,
    /// A query-all reply (`80 b S… 33 BCC`).
    All,
    /// A find-address reply (`80 01 a 99 BCC`).
    Address,
    /// Any of them (lock and address replies first, then query-all).
    Any,
}

/// What the decoder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A complete, checked reply.
    Frame(Reply),
    /// A frame of the right shape whose checksum is wrong. Only its header byte was
    /// consumed, so a real frame starting inside it is still found.
    BadChecksum { len: usize },
    /// Bytes that belong to no frame (line noise, a truncated frame, a reply of the wrong
    /// kind) were skipped.
    Noise { skipped: usize },
}

/// A streaming decoder for board replies. Push bytes as they arrive, then call
/// [`ReplyDecoder::next_event`] until it returns `None`. Never panics; memory stays bounded by
/// what was pushed and not yet consumed.
#[derive(Debug, Clone)]
pub struct ReplyDecoder {
    buf: Vec<u8>,
    pos: usize,
    expect: Expect,
}

impl Default for ReplyDecoder {
    fn default() -> Self {
        ReplyDecoder::new(Expect::Any)
    }
}

enum Candidate {
    Valid(Reply, usize),
    BadChecksum(usize),
    Pending,
    None,
}

impl ReplyDecoder {
    pub fn new(expect: Expect) -> Self {
        ReplyDecoder {
            buf: Vec::with_capacity(64),
            pos: 0,
            expect,
        }
    }

    /// Changes the kind of reply awaited (the driver sets it before each command).
    pub fn expect(&mut self, expect: Expect) {
        self.expect = expect;
    }

    /// Forgets every buffered byte.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
    }

    /// Bytes buffered and not yet consumed.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next thing found in the buffered bytes. `line_idle` says that no more bytes of a
    /// frame in progress are coming (the line has been silent for the inter-frame gap): a
    /// shorter valid query-all frame is then taken even though a longer one could still have
    /// completed, and an incomplete frame is discarded as noise.
    pub fn next_event(&mut self, line_idle: bool) -> Option<Decoded> {
        let data = self.buf.get(self.pos..).unwrap_or(&[]);
        if data.is_empty() {
            return None;
        }
        let skipped = data
            .iter()
            .position(|b| *b == HEADER_QUERY || *b == HEADER_UNLOCK)
            .unwrap_or(data.len());
        if skipped > 0 {
            self.pos += skipped;
            return Some(Decoded::Noise { skipped });
        }
        match self.candidate(data, line_idle) {
            Candidate::Valid(reply, len) => {
                self.pos += len;
                Some(Decoded::Frame(reply))
            }
            Candidate::Pending => None,
            Candidate::BadChecksum(len) => {
                self.pos += 1;
                Some(Decoded::BadChecksum { len })
            }
            Candidate::None => {
                self.pos += 1;
                Some(Decoded::Noise { skipped: 1 })
            }
        }
    }

    /// Examines the frame candidates starting at `data[0]` (a header byte).
    fn candidate(&self, data: &[u8], line_idle: bool) -> Candidate {
        let lock_or_address = matches!(self.expect, Expect::Lock | Expect::Address | Expect::Any);
        let mut bad_checksum = None;
        let mut pending = false;
        if lock_or_address {
            match data.get(..5) {
                None => pending = true,
                Some(frame) => match self.parse_short(frame) {
                    Short::Valid(reply) => return Candidate::Valid(reply, 5),
                    Short::BadChecksum => bad_checksum = Some(5),
                    Short::None => {}
                },
            }
        }
        if matches!(self.expect, Expect::All | Expect::Any) {
            let mut best = None;
            let mut longer_pending = false;
            for len in 5..=MAX_REPLY_LEN {
                let Some(frame) = data.get(..len) else {
                    longer_pending = true;
                    break;
                };
                let (Some(&term), Some(&check)) = (frame.get(len - 2), frame.get(len - 1)) else {
                    continue;
                };
                if term != CMD_QUERY {
                    continue;
                }
                let body = frame.get(..len - 1).unwrap_or(&[]);
                if bcc(body) == check {
                    best = Some(len);
                } else if bad_checksum.is_none() {
                    bad_checksum = Some(len);
                }
            }
            match best {
                Some(_) if longer_pending && !line_idle => pending = true,
                Some(len) => {
                    let board = data.get(1).copied().unwrap_or(0);
                    if let Some(status) = data.get(2..len - 2).and_then(StatusBits::from_wire) {
                        return Candidate::Valid(Reply::All { board, status }, len);
                    }
                }
                None if longer_pending => pending = true,
                None => {}
            }
        }
        if pending && !line_idle {
            Candidate::Pending
        } else if let Some(len) = bad_checksum {
            Candidate::BadChecksum(len)
        } else {
            Candidate::None
        }
    }

    fn parse_short(&self, frame: &[u8]) -> Short {
        let &[header, board, lock, state, check] = frame else {
            return Short::None;
        };
        let good = header ^ board ^ lock ^ state == check;
        if state == CMD_FIND_ADDRESS {
            if !matches!(self.expect, Expect::Address | Expect::Any) {
                return Short::None;
            }
            return if good {
                Short::Valid(Reply::Address { address: lock })
            } else {
                Short::BadChecksum
            };
        }
        if !matches!(self.expect, Expect::Lock | Expect::Any) {
            return Short::None;
        }
        let Some(switch) = Switch::from_byte(state) else {
            return Short::None;
        };
        if good {
            Short::Valid(Reply::Lock {
                header,
                board,
                lock,
                switch,
            })
        } else {
            Short::BadChecksum
        }
    }
}

enum Short {
    Valid(Reply),
    BadChecksum,
    None,
}

/// A streaming decoder for commands, used by the simulator (the board side). Resyncs on
/// noise one byte at a time; a frame with a bad checksum is skipped like noise (a real board
/// stays silent).
#[derive(Debug, Clone, Default)]
pub struct CommandDecoder {
    buf: Vec<u8>,
    pos: usize,
    skipped: u64,
}

impl CommandDecoder {
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next valid command, skipping anything else.
    pub fn next_command(&mut self) -> Option<Command> {
        loop {
            let data = self.buf.get(self.pos..)?;
            let frame = data.get(..COMMAND_LEN)?;
            if let Some(cmd) = Command::parse(frame) {
                self.pos += COMMAND_LEN;
                return Some(cmd);
            }
            self.pos += 1;
            self.skipped += 1;
        }
    }

    /// How many bytes were skipped as not part of any valid command, ever.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    }

    fn decode_all(dec: &mut ReplyDecoder, idle: bool) -> Vec<Decoded> {
        std::iter::from_fn(|| dec.next_event(idle)).collect()
    }

    fn frames(events: &[Decoded]) -> Vec<Reply> {
        events
            .iter()
            .filter_map(|e| match e {
                Decoded::Frame(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn commands_are_byte_exact() {
        let cases = [
            (Command::Unlock { board: 1, lock: 5 }, "8A 01 05 11 9F"),
            (Command::Unlock { board: 1, lock: 1 }, "8A 01 01 11 9B"),
            (Command::Unlock { board: 1, lock: 2 }, "8A 01 02 11 98"),
            (Command::Unlock { board: 2, lock: 10 }, "8A 02 0A 11 93"),
            (Command::UnlockAll { board: 1 }, "8A 01 00 11 9A"),
            (Command::QueryLock { board: 1, lock: 1 }, "80 01 01 33 B3"),
            (Command::QueryAll { board: 1 }, "80 01 00 33 B2"),
            (Command::FindAddress, "80 01 00 99 18"),
        ];
        for (cmd, bytes) in cases {
            assert_eq!(cmd.encode().to_vec(), hex(bytes), "{cmd:?}");
            assert_eq!(Command::parse(&hex(bytes)), Some(cmd), "{bytes}");
        }
    }

    #[test]
    fn command_parse_rejects_bad_checksum_and_shape() {
        assert_eq!(Command::parse(&hex("8A 01 05 11 9E")), None);
        assert_eq!(Command::parse(&hex("8A 01 05 11")), None);
        assert_eq!(Command::parse(&hex("81 01 05 11 94")), None);
        assert_eq!(Command::parse(&hex("80 02 00 99 1B")), None);
    }

    #[test]
    fn lock_replies_with_either_header() {
        for (bytes, header, switch) in [
            ("8A 01 01 00 8A", 0x8A, Switch::Clear),
            ("8A 01 01 11 9B", 0x8A, Switch::Set),
            ("80 01 01 11 91", 0x80, Switch::Set),
            ("80 01 01 00 80", 0x80, Switch::Clear),
        ] {
            let mut dec = ReplyDecoder::new(Expect::Lock);
            dec.push(&hex(bytes));
            let reply = Reply::Lock {
                header,
                board: 1,
                lock: 1,
                switch,
            };
            assert_eq!(decode_all(&mut dec, false), vec![Decoded::Frame(reply)]);
            assert_eq!(reply.encode(), hex(bytes));
        }
    }

    #[test]
    fn query_all_replies_derive_their_length() {
        // DP2's 32-channel board: 4 status bytes.
        let mut dec = ReplyDecoder::new(Expect::All);
        dec.push(&hex("80 01 FF FF FF FF 33 B2"));
        let got = frames(&decode_all(&mut dec, false));
        let Reply::All { board: 1, status } = got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(status.channels(), 32);
        assert!((1..=32).all(|l| status.switch(l) == Some(Switch::Set)));
        // Open-Locker's captured 8-channel reply: 3 status bytes. A 7-byte frame could still
        // grow to 8 bytes, so it is taken once the line is idle.
        let mut dec = ReplyDecoder::new(Expect::All);
        dec.push(&hex("80 01 00 00 00 33 B2"));
        assert_eq!(dec.next_event(false), None);
        let got = frames(&decode_all(&mut dec, true));
        let Reply::All { status, .. } = got[0] else {
            panic!()
        };
        assert_eq!(status.wire(), &[0, 0, 0]);
        assert_eq!(status.switch(24), Some(Switch::Clear));
        assert_eq!(status.switch(25), None);
    }

    #[test]
    fn query_all_and_address_replies_accept_header_8a_too() {
        let mut frame = hex("8A 01 00 00 04 33");
        frame.push(bcc(&frame));
        let mut dec = ReplyDecoder::new(Expect::All);
        dec.push(&frame);
        let got = frames(&decode_all(&mut dec, true));
        let Reply::All { board: 1, status } = got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(status.switch(3), Some(Switch::Set));
        let mut dec = ReplyDecoder::new(Expect::Address);
        dec.push(&hex("8A 01 07 99 15"));
        assert_eq!(
            frames(&decode_all(&mut dec, true)),
            vec![Reply::Address { address: 7 }]
        );
    }

    #[test]
    fn status_bits_are_highest_group_first() {
        // byte 2 = channels 17-24, byte 3 = 9-16, byte 4 = 1-8; bit 0 = lowest channel.
        let status = StatusBits::from_wire(&[0x80, 0x02, 0x01]).unwrap();
        let set: Vec<u8> = (1..=24)
            .filter(|l| status.switch(*l) == Some(Switch::Set))
            .collect();
        assert_eq!(set, vec![1, 10, 24]);
        let mut levels = vec![Switch::Clear; 24];
        for l in [1, 10, 24] {
            levels[l - 1] = Switch::Set;
        }
        assert_eq!(StatusBits::from_levels(&levels, 3), Some(status));
        assert_eq!(
            Reply::All { board: 2, status }.encode(),
            hex("80 02 80 02 01 33 32")
        );
    }

    #[test]
    fn address_reply() {
        let mut dec = ReplyDecoder::new(Expect::Address);
        let bytes = Reply::Address { address: 7 }.encode();
        assert_eq!(bytes, hex("80 01 07 99 1F"));
        dec.push(&bytes);
        assert_eq!(
            frames(&decode_all(&mut dec, false)),
            vec![Reply::Address { address: 7 }]
        );
    }

    #[test]
    fn resyncs_after_noise_and_reports_bad_checksums() {
        let mut dec = ReplyDecoder::new(Expect::Lock);
        let mut stream = hex("00 FF 8A 13");
        stream.extend(hex("80 01 05 00 85")); // bad checksum (the right one is 84)
        stream.extend(hex("8A 01 05 00 8E"));
        dec.push(&stream);
        let events = decode_all(&mut dec, true);
        assert!(
            events.contains(&Decoded::BadChecksum { len: 5 }),
            "{events:?}"
        );
        assert_eq!(
            frames(&events),
            vec![Reply::Lock {
                header: 0x8A,
                board: 1,
                lock: 5,
                switch: Switch::Clear
            }]
        );
        assert_eq!(dec.pending(), 0);
    }

    #[test]
    fn byte_by_byte_equals_all_at_once() {
        let mut stream = hex("11 22 80 01 00 00 00 33 B2 8A 01 02 11 98 80 01 FF FF FF FF 33 B2");
        stream.extend(hex("80 01 00 33 B2"));
        let mut whole = ReplyDecoder::new(Expect::Any);
        whole.push(&stream);
        let a = frames(&decode_all(&mut whole, true));
        let mut split = ReplyDecoder::new(Expect::Any);
        let mut b = Vec::new();
        for byte in &stream {
            split.push(&[*byte]);
            b.extend(frames(&decode_all(&mut split, false)));
        }
        b.extend(frames(&decode_all(&mut split, true)));
        assert_eq!(a, b);
        assert_eq!(a.len(), 4, "{a:?}");
    }

    #[test]
    fn expectation_filters_other_kinds() {
        let mut dec = ReplyDecoder::new(Expect::Lock);
        dec.push(&hex("80 01 00 99 18"));
        assert!(frames(&decode_all(&mut dec, true)).is_empty());
        let mut dec = ReplyDecoder::new(Expect::All);
        dec.push(&hex("80 01 01 11 91"));
        assert!(frames(&decode_all(&mut dec, true)).is_empty());
    }

    #[test]
    fn truncated_frames_are_noise_once_idle() {
        let mut dec = ReplyDecoder::new(Expect::Lock);
        dec.push(&hex("8A 01 05"));
        assert_eq!(dec.next_event(false), None);
        let events = decode_all(&mut dec, true);
        assert!(frames(&events).is_empty());
        assert_eq!(dec.pending(), 0);
    }

    #[test]
    fn command_decoder_resyncs() {
        let mut dec = CommandDecoder::default();
        let mut stream = hex("FF 8A 01");
        stream.extend(Command::Unlock { board: 1, lock: 5 }.encode());
        stream.extend(hex("8A 01 05 11 00"));
        stream.extend(Command::QueryAll { board: 3 }.encode());
        dec.push(&stream);
        let got: Vec<Command> = std::iter::from_fn(|| dec.next_command()).collect();
        assert_eq!(
            got,
            vec![
                Command::Unlock { board: 1, lock: 5 },
                Command::QueryAll { board: 3 }
            ]
        );
        assert_eq!(dec.skipped(), 8);
    }

    #[test]
    fn polarity_both_ways() {
        assert_eq!(Polarity::default(), Polarity::DoorClosing);
        assert_eq!(Polarity::DoorClosing.door(Switch::Clear), Door::Open);
        assert_eq!(Polarity::DoorClosing.door(Switch::Set), Door::Closed);
        assert_eq!(Polarity::DoorOpening.door(Switch::Set), Door::Open);
        assert_eq!(Polarity::DoorOpening.door(Switch::Clear), Door::Closed);
        for p in [Polarity::DoorClosing, Polarity::DoorOpening] {
            for d in [Door::Open, Door::Closed] {
                assert_eq!(p.door(p.switch(d)), d);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_consumes_everything(
            chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..20), 0..20),
            expect in 0u8..4,
        ) {
            let expect = [Expect::Lock, Expect::All, Expect::Address, Expect::Any][usize::from(expect)];
            let mut dec = ReplyDecoder::new(expect);
            for chunk in &chunks {
                dec.push(chunk);
                while dec.next_event(false).is_some() {}
            }
            while dec.next_event(true).is_some() {}
            proptest::prop_assert_eq!(dec.pending(), 0);
        }

        #[test]
        fn encoded_replies_survive_noise(
            noise in proptest::collection::vec(0u8..0x80, 0..10),
            board in 1u8..=99, lock in 1u8..=32, set in proptest::bool::ANY,
            header in proptest::bool::ANY,
        ) {
            let reply = Reply::Lock {
                header: if header { 0x8A } else { 0x80 },
                board, lock,
                switch: if set { Switch::Set } else { Switch::Clear },
            };
            let mut dec = ReplyDecoder::new(Expect::Lock);
            dec.push(&noise);
            dec.push(&reply.encode());
            let got = frames(&decode_all(&mut dec, true));
            proptest::prop_assert_eq!(got, vec![reply]);
        }
    }
}
