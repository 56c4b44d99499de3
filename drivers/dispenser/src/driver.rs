//! The blocking CRT-591 driver: the ACK/NAK/response/ACK handshake, resends, named
//! timeouts and one call per device action with a typed outcome.
//!
//! Link control (CRT591-DOC §1.4): host sends a command; the device answers `06` (ACK) or
//! `15` (NAK), then the response; the host answers the response with `06`. Without an ACK
//! within 300 ms the command is sent again, once. A command that moves a card (or talks to
//! the chip) is never re-sent blindly: the driver first listens for a late reply, then asks
//! for the status, and only re-sends when the card is not already where it was sent.

use std::time::{Duration, Instant};

use kiosk_link::{Link, LinkError, Port};

use crate::protocol::{
    ACK, Command, CommandKind, DecodeError, Decoder, EncodeError, ErrorCode, InitMode, MoveTarget,
    NAK, Reply, Status, Token, Vcc, encode_command, parse_three_digits,
};

/// Default serial speed of the family (CRT591-DOC §1.1.1).
pub const DEFAULT_BAUD: u32 = 9600;

/// How long each step of a command may take. The defaults are the vendor's and SWTEST's
/// starting values; tests use [`Timeouts::short`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// ACK or NAK after a command (CRT591-DOC §1.4: 300 ms, then resend).
    pub ack: Duration,
    /// Response to a query (status, counters, gate entry).
    pub query_reply: Duration,
    /// Response after a move (SWTEST waits 2000 ms).
    pub move_reply: Duration,
    /// Response after a capture into the reject bin (SWTEST waits 2100 ms).
    pub capture_reply: Duration,
    /// Response to a chip command (activation or an APDU through the contact reader).
    pub chip_reply: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            ack: Duration::from_millis(300),
            query_reply: Duration::from_secs(1),
            move_reply: Duration::from_secs(2),
            capture_reply: Duration::from_millis(2100),
            chip_reply: Duration::from_secs(3),
        }
    }
}

impl Timeouts {
    /// Short timeouts for tests against the simulator (which answers at once). Generous
    /// enough for a loaded CI machine; only fault paths ever wait them out.
    pub fn short() -> Self {
        Timeouts {
            ack: Duration::from_millis(250),
            query_reply: Duration::from_millis(600),
            move_reply: Duration::from_millis(600),
            capture_reply: Duration::from_millis(600),
            chip_reply: Duration::from_millis(600),
        }
    }

    /// The response deadline for a kind of command.
    pub fn reply_for(&self, kind: CommandKind) -> Duration {
        match kind {
            CommandKind::Query => self.query_reply,
            CommandKind::Motion => self.move_reply,
            CommandKind::Capture => self.capture_reply,
            CommandKind::Chip => self.chip_reply,
        }
    }
}

/// Why a dispenser call failed. Each variant says what the kiosk may assume about the card.
#[derive(Debug, thiserror::Error)]
pub enum DispenserError {
    /// The port failed or went away; the device task goes offline and reconnects.
    #[error("dispenser link: {0}")]
    Link(#[from] LinkError),
    /// Neither the command nor its single resend was acknowledged: the device is silent.
    #[error("the dispenser did not answer {command}")]
    NoAnswer { command: &'static str },
    /// The device refused the command and its resend with NAK (it did not carry it out).
    #[error("the dispenser refused {command} (NAK twice)")]
    Refused { command: &'static str },
    /// The device acknowledged the command but sent no response in time. A move may or may
    /// not have happened: ask for the status.
    #[error("the dispenser acknowledged {command} but gave no response within {waited:?}")]
    NoReply {
        command: &'static str,
        waited: Duration,
    },
    /// The response could not be read (checksum twice bad, unknown status characters, too
    /// short). A move may or may not have happened: ask for the status.
    #[error("unreadable response to {command}: {reason}")]
    BadReply {
        command: &'static str,
        reason: String,
    },
    /// The device answered with a negative reply: the command was not carried out.
    #[error("{command} failed: {code}")]
    Device {
        command: &'static str,
        code: ErrorCode,
    },
    /// The acknowledgement of a move was lost and the status after it does not show the
    /// card where it was sent; the move was sent again and that also failed to confirm.
    #[error("{command} could not be confirmed; the dispenser now reports {status:?}")]
    Unconfirmed {
        command: &'static str,
        status: Status,
    },
    /// The device task is offline (reconnecting in the background).
    #[error("the dispenser is offline: {0}")]
    Offline(String),
    /// The device task has stopped.
    #[error("the dispenser task has stopped")]
    Stopped,
    /// A caller error (address, data too long, counter out of range).
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl From<EncodeError> for DispenserError {
    fn from(e: EncodeError) -> Self {
        DispenserError::Invalid(e.to_string())
    }
}

impl DispenserError {
    /// The device's error code, for a negative reply.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            DispenserError::Device { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True when the device is gone or silent: the device task reconnects.
    pub fn is_offline(&self) -> bool {
        match self {
            DispenserError::Link(e) => e.is_disconnect(),
            DispenserError::NoAnswer { .. } | DispenserError::Offline(_) => true,
            _ => false,
        }
    }

    /// True for a card jam or another fault that needs a person at the machine.
    pub fn is_jam(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_mechanical)
    }

    /// True when the outcome of a move is unknown and the caller should read the status.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            DispenserError::NoReply { .. }
                | DispenserError::BadReply { .. }
                | DispenserError::Unconfirmed { .. }
        )
    }
}

/// What the device reported when it was initialised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Firmware string, e.g. "CRT-591-M001" (printable ASCII only).
    pub firmware: String,
    pub status: Status,
}

/// The status with the per-sensor bytes (CM 31 PM 31).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorStatus {
    pub status: Status,
    /// S1.. in order: `true` when the sensor sees a card.
    pub sensors: Vec<bool>,
}

/// The transmission protocol the chip chose at activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChipProtocol {
    T0,
    T1,
}

/// A chip activated in the IC contact position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipActivation {
    pub protocol: ChipProtocol,
    pub atr: Vec<u8>,
}

/// The contact CPU-card reader built into the dispenser (CM 51): the chip encoder's
/// transport for cards that are written in the dispenser's IC position. Implemented by the
/// [`Driver`] and by the device task's [`crate::Handle`] (blocking calls).
pub trait ChipReader {
    /// Cold reset with the given supply; returns the protocol and ATR.
    fn chip_power_on(&mut self, vcc: Vcc) -> Result<ChipActivation, DispenserError>;
    fn chip_power_off(&mut self) -> Result<(), DispenserError>;
    /// One APDU with automatic T=0/T=1 handling (CM 51 PM 39); returns the R-APDU with SW.
    fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, DispenserError>;
}

/// The CRT-591 driver over one link.
pub struct Driver {
    link: Box<dyn Link>,
    address: u8,
    timeouts: Timeouts,
    decoder: Decoder,
    last_status: Option<Status>,
}

enum AckOutcome {
    Ack,
    Nak,
    Silence,
    /// The device skipped the ACK and answered straight away.
    Reply(Reply),
}

impl Driver {
    /// A driver for the device at `address` (0x00–0x0F, the unit's DIP switch).
    pub fn new(
        link: Box<dyn Link>,
        address: u8,
        timeouts: Timeouts,
    ) -> Result<Self, DispenserError> {
        if address > crate::protocol::MAX_ADDRESS {
            return Err(DispenserError::Invalid(format!(
                "address {address} is above 15"
            )));
        }
        Ok(Driver {
            link,
            address,
            timeouts,
            decoder: Decoder::new(),
            last_status: None,
        })
    }

    /// Opens a port (9600 baud unless the port says otherwise).
    pub fn open(port: &Port, address: u8, timeouts: Timeouts) -> Result<Self, DispenserError> {
        let link = kiosk_link::open(port, DEFAULT_BAUD)?;
        Driver::new(link, address, timeouts)
    }

    pub fn address(&self) -> u8 {
        self.address
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// The status carried by the last positive reply.
    pub fn last_status(&self) -> Option<Status> {
        self.last_status
    }

    pub fn describe(&self) -> String {
        self.link.describe()
    }

    /// What the kiosk does first after opening the port (device-defaults.md): initialise with
    /// "leave the card where it is" (30 33), then read the status.
    pub fn start(&mut self) -> Result<DeviceInfo, DispenserError> {
        let mut info = self.initialize(InitMode::LeaveInPlace, false)?;
        info.status = self.status()?;
        Ok(info)
    }

    /// CM 30: clears errors, disables gate entry; `mode` says what happens to a card inside.
    pub fn initialize(
        &mut self,
        mode: InitMode,
        count_retracts: bool,
    ) -> Result<DeviceInfo, DispenserError> {
        let cmd = Command::initialize(mode, count_retracts);
        let (status, data) = self.positive(&cmd)?;
        let firmware: String = data
            .iter()
            .copied()
            .filter(u8::is_ascii_graphic)
            .map(char::from)
            .collect();
        Ok(DeviceInfo { firmware, status })
    }

    /// CM 31 PM 30: card position, hopper level, reject bin.
    pub fn status(&mut self) -> Result<Status, DispenserError> {
        Ok(self.positive(&Command::status())?.0)
    }

    /// CM 31 PM 31: status plus the sensor bytes.
    pub fn sensor_status(&mut self) -> Result<SensorStatus, DispenserError> {
        let cmd = Command::sensor_status();
        let (status, data) = self.positive(&cmd)?;
        let mut sensors = Vec::with_capacity(data.len());
        for b in data {
            match b {
                b'0' => sensors.push(false),
                b'1' => sensors.push(true),
                other => {
                    return Err(DispenserError::BadReply {
                        command: cmd.name(),
                        reason: format!("sensor byte {other:#04x}"),
                    });
                }
            }
        }
        Ok(SensorStatus { status, sensors })
    }

    /// CM 32: moves the card; returns the status after the move.
    pub fn move_card(&mut self, target: MoveTarget) -> Result<Status, DispenserError> {
        Ok(self.positive(&Command::move_card(target))?.0)
    }

    /// "To the encoder": the IC contact position (32 31). Dispenses a card from the hopper
    /// when none is inside. Hopper empty fails with [`ErrorCode::StackerEmpty`].
    pub fn to_encoder(&mut self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::IcContact)
    }

    pub fn to_rf(&mut self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::Rf)
    }

    /// Holds the card at the gate where the resident can take it (32 30).
    pub fn to_gate(&mut self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::Gate)
    }

    /// Moves the card out of the gate (32 39).
    pub fn eject(&mut self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::EjectOut)
    }

    /// Captures the card into the reject bin (32 33). A full bin fails with
    /// [`ErrorCode::RejectBinFull`].
    pub fn capture(&mut self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::Capture)
    }

    /// CM 33: allow (`true`) or refuse card insertion from the gate.
    pub fn gate_entry(&mut self, enable: bool) -> Result<Status, DispenserError> {
        Ok(self.positive(&Command::gate_entry(enable))?.0)
    }

    /// CM A5 PM 30: the reject-bin counter ("000"–"999").
    pub fn reject_count(&mut self) -> Result<u16, DispenserError> {
        let cmd = Command::reject_counter_read();
        let (_, data) = self.positive(&cmd)?;
        parse_three_digits(&data).ok_or_else(|| DispenserError::BadReply {
            command: cmd.name(),
            reason: format!("counter is {} bytes, not three digits", data.len()),
        })
    }

    /// CM A5 PM 31: sets the reject-bin counter (after staff empty the bin).
    pub fn set_reject_count(&mut self, value: u16) -> Result<(), DispenserError> {
        let cmd = Command::reject_counter_set(value)
            .ok_or_else(|| DispenserError::Invalid(format!("counter {value} is above 999")))?;
        self.positive(&cmd)?;
        Ok(())
    }

    /// Sends a command and returns status and data of a positive reply; a negative reply
    /// becomes [`DispenserError::Device`].
    pub fn positive(&mut self, cmd: &Command) -> Result<(Status, Vec<u8>), DispenserError> {
        match self.transact(cmd)? {
            Reply::Positive { status, data, .. } => Ok((status, data)),
            Reply::Negative { error, .. } => {
                tracing::info!(command = cmd.name(), code = %error.code(), "dispenser negative reply");
                Err(DispenserError::Device {
                    command: cmd.name(),
                    code: error,
                })
            }
        }
    }

    /// One command through the full handshake; returns the decoded reply.
    pub fn transact(&mut self, cmd: &Command) -> Result<Reply, DispenserError> {
        let frame = encode_command(self.address, cmd)?;
        self.link.drain()?;
        self.decoder.reset();
        let mut sent = 0;
        loop {
            self.link.send(&frame)?;
            sent += 1;
            match self.wait_ack()? {
                AckOutcome::Ack => break,
                AckOutcome::Reply(reply) => return Ok(self.accept(cmd, reply)),
                AckOutcome::Nak if sent < 2 => {
                    tracing::debug!(command = cmd.name(), "NAK, resending");
                }
                AckOutcome::Nak => {
                    return Err(DispenserError::Refused {
                        command: cmd.name(),
                    });
                }
                AckOutcome::Silence if sent >= 2 => {
                    return Err(DispenserError::NoAnswer {
                        command: cmd.name(),
                    });
                }
                AckOutcome::Silence => match cmd.kind() {
                    CommandKind::Query => {
                        tracing::debug!(command = cmd.name(), "no ACK, resending");
                    }
                    CommandKind::Motion | CommandKind::Capture | CommandKind::Chip => {
                        return self.recover_lost_ack(cmd, &frame);
                    }
                },
            }
        }
        let reply = self.wait_reply(cmd)?;
        Ok(self.accept(cmd, reply))
    }

    fn accept(&mut self, cmd: &Command, reply: Reply) -> Reply {
        if let Reply::Positive { status, .. } = &reply {
            self.last_status = Some(*status);
        }
        tracing::trace!(command = cmd.name(), "reply accepted");
        reply
    }

    /// A command that may have moved a card got no ACK. Its reply may still come (only the
    /// ACK was lost); if not, the status tells whether the move happened; only when it did
    /// not is the command sent once more.
    fn recover_lost_ack(&mut self, cmd: &Command, frame: &[u8]) -> Result<Reply, DispenserError> {
        tracing::warn!(
            command = cmd.name(),
            "no ACK for a command that moves the card; checking before any resend"
        );
        match self.wait_reply(cmd) {
            Ok(reply) => return Ok(self.accept(cmd, reply)),
            Err(DispenserError::NoReply { .. }) => {}
            Err(e) => return Err(e),
        }
        if cmd.kind() == CommandKind::Chip {
            // An APDU changes the chip's state (a challenge, a record): never repeat it.
            return Err(DispenserError::NoAnswer {
                command: cmd.name(),
            });
        }
        let status = self.status()?;
        let arrived = match MoveTarget::from_pm(cmd.pm) {
            Some(target) if cmd.cm == crate::protocol::cm::MOVE => {
                status.card == target.resulting_position()
            }
            // Initialising again is harmless: a card already captured or held stays so.
            _ => false,
        };
        if arrived {
            tracing::info!(
                command = cmd.name(),
                "status shows the card already there; not resending"
            );
            return Ok(Reply::Positive {
                cm: cmd.cm,
                pm: cmd.pm,
                status,
                data: Vec::new(),
            });
        }
        self.decoder.reset();
        self.link.send(frame)?;
        match self.wait_ack()? {
            AckOutcome::Ack => {
                let reply = self.wait_reply(cmd)?;
                Ok(self.accept(cmd, reply))
            }
            AckOutcome::Reply(reply) => Ok(self.accept(cmd, reply)),
            AckOutcome::Nak => Err(DispenserError::Refused {
                command: cmd.name(),
            }),
            AckOutcome::Silence => Err(DispenserError::Unconfirmed {
                command: cmd.name(),
                status,
            }),
        }
    }

    fn next_token(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<Result<Token, DecodeError>>, LinkError> {
        let mut buf = [0u8; 256];
        loop {
            if let Some(t) = self.decoder.next_token() {
                return Ok(Some(t));
            }
            let now = Instant::now();
            if now >= deadline {
                if self.decoder.pending() > 0 {
                    // A frame start whose rest never came: skip it and look again.
                    self.decoder.skip_partial();
                    continue;
                }
                return Ok(None);
            }
            let n = self.link.recv(&mut buf, deadline - now)?;
            self.decoder.push(buf.get(..n).unwrap_or_default());
        }
    }

    fn wait_ack(&mut self) -> Result<AckOutcome, DispenserError> {
        let deadline = Instant::now() + self.timeouts.ack;
        loop {
            match self.next_token(deadline)? {
                None => return Ok(AckOutcome::Silence),
                Some(Ok(Token::Ack)) => return Ok(AckOutcome::Ack),
                Some(Ok(Token::Nak)) => return Ok(AckOutcome::Nak),
                Some(Ok(Token::Frame(f))) if f.addr == self.address => {
                    if let Ok(reply) = f.parse_reply() {
                        self.link.send(&[ACK])?;
                        return Ok(AckOutcome::Reply(reply));
                    }
                }
                Some(Ok(_) | Err(_)) => {}
            }
        }
    }

    fn wait_reply(&mut self, cmd: &Command) -> Result<Reply, DispenserError> {
        let waited = self.timeouts.reply_for(cmd.kind());
        let deadline = Instant::now() + waited;
        let mut naks = 0;
        loop {
            match self.next_token(deadline)? {
                None => {
                    return Err(DispenserError::NoReply {
                        command: cmd.name(),
                        waited,
                    });
                }
                Some(Ok(Token::Frame(f))) => {
                    if f.addr != self.address {
                        continue;
                    }
                    match f.parse_reply() {
                        Ok(reply) => {
                            self.link.send(&[ACK])?;
                            if reply.cm() != cmd.cm || reply.pm() != cmd.pm {
                                tracing::debug!(
                                    command = cmd.name(),
                                    "reply to another command ignored"
                                );
                                continue;
                            }
                            return Ok(reply);
                        }
                        Err(e) => {
                            self.link.send(&[ACK])?;
                            return Err(DispenserError::BadReply {
                                command: cmd.name(),
                                reason: e.to_string(),
                            });
                        }
                    }
                }
                Some(Err(DecodeError::BadBcc { expected, got })) => {
                    naks += 1;
                    if naks > 1 {
                        return Err(DispenserError::BadReply {
                            command: cmd.name(),
                            reason: format!("checksum {got:#04x}, expected {expected:#04x}, twice"),
                        });
                    }
                    tracing::debug!(command = cmd.name(), "bad checksum, asking again");
                    self.link.send(&[NAK])?;
                }
                Some(Ok(_) | Err(_)) => {}
            }
        }
    }
}

impl ChipReader for Driver {
    fn chip_power_on(&mut self, vcc: Vcc) -> Result<ChipActivation, DispenserError> {
        let cmd = Command::cpu_cold_reset(vcc);
        let (_, data) = self.positive(&cmd)?;
        let (protocol, atr) = match data.split_first() {
            Some((0x30, atr)) => (ChipProtocol::T0, atr),
            Some((0x31, atr)) => (ChipProtocol::T1, atr),
            _ => {
                return Err(DispenserError::BadReply {
                    command: cmd.name(),
                    reason: "no protocol type byte before the ATR".into(),
                });
            }
        };
        Ok(ChipActivation {
            protocol,
            atr: atr.to_vec(),
        })
    }

    fn chip_power_off(&mut self) -> Result<(), DispenserError> {
        self.positive(&Command::cpu_power_off())?;
        Ok(())
    }

    fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, DispenserError> {
        if !(4..=261).contains(&apdu.len()) {
            return Err(DispenserError::Invalid(format!(
                "a C-APDU is 4 to 261 bytes, not {}",
                apdu.len()
            )));
        }
        let cmd = Command::cpu_apdu(apdu);
        let (_, data) = self.positive(&cmd)?;
        if data.len() < 2 {
            return Err(DispenserError::BadReply {
                command: cmd.name(),
                reason: format!("R-APDU of {} bytes has no status word", data.len()),
            });
        }
        Ok(data)
    }
}
