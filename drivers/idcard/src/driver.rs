//! The blocking driver: one command at a time over a [`Link`], each with its own deadline.
//!
//! Before every command the link's input is drained, so a late answer to an earlier command
//! is never taken for this one. A reply with a bad checksum (or a reader complaint that our
//! frame arrived damaged, SW3 `10`/`11`) makes the driver re-send the command once; a second
//! failure is [`Error::BadChecksum`] and the data is never used (device-defaults.md).

use std::time::{Duration, Instant};

use kiosk_link::Link;

use crate::error::Error;
use crate::identity::{AppendedAddress, Identity, decode_field};
use crate::protocol::{
    self, Baud, Command, DecodeError, Decoder, PayloadError, Reply, SamId, Status,
};

/// Deadline for find card (`20 01`). Reference A.9 suggests 800–1000 ms.
pub const FIND_TIMEOUT: Duration = Duration::from_secs(1);
/// Deadline for select card (`20 02`). Reference A.9: 500 ms.
pub const SELECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Deadline for reading text and photo (`30 01`). Reference A.9: up to 2000 ms.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Deadline for reading with fingerprint (`30 10`). Reference A.9: up to 3000 ms.
pub const READ_FINGERPRINT_TIMEOUT: Duration = Duration::from_secs(3);
/// Deadline for the appended address (`30 03`): a short RF read, given the select budget
/// twice over (inferred; no source times it).
pub const APPENDED_ADDRESS_TIMEOUT: Duration = Duration::from_secs(1);
/// Deadline for SAM status and SAM id (`11 FF`, `12 FF`): no RF work. [G-HEV] allows 5 s per
/// command; 1 s is ample for a local answer.
pub const SAM_TIMEOUT: Duration = Duration::from_secs(1);
/// Deadline for the SAM reset (`10 FF`): the SAM re-runs its self test (inferred).
pub const RESET_TIMEOUT: Duration = Duration::from_secs(3);
/// Deadline for set baud (`60 xx`) and set max RF byte (`61 FF`).
pub const SETTING_TIMEOUT: Duration = Duration::from_millis(500);

/// `start + d`, saturating far in the future instead of overflowing (a configured duration
/// may be absurdly large).
pub fn deadline_after(start: Instant, d: Duration) -> Instant {
    start
        .checked_add(d)
        .or_else(|| start.checked_add(Duration::from_hours(24 * 365)))
        .unwrap_or(start)
}

/// Per-command deadlines. `Default` uses the named constants above; tests use short ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub find: Duration,
    pub select: Duration,
    pub read: Duration,
    pub read_fingerprint: Duration,
    pub appended_address: Duration,
    pub sam: Duration,
    pub reset: Duration,
    pub setting: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            find: FIND_TIMEOUT,
            select: SELECT_TIMEOUT,
            read: READ_TIMEOUT,
            read_fingerprint: READ_FINGERPRINT_TIMEOUT,
            appended_address: APPENDED_ADDRESS_TIMEOUT,
            sam: SAM_TIMEOUT,
            reset: RESET_TIMEOUT,
            setting: SETTING_TIMEOUT,
        }
    }
}

impl Timeouts {
    /// The same deadline for every command (tests).
    pub fn uniform(d: Duration) -> Self {
        Timeouts {
            find: d,
            select: d,
            read: d,
            read_fingerprint: d,
            appended_address: d,
            sam: d,
            reset: d,
            setting: d,
        }
    }

    pub fn for_command(&self, command: Command) -> Duration {
        match command {
            Command::FindCard => self.find,
            Command::SelectCard => self.select,
            Command::ReadBase => self.read,
            Command::ReadWithFingerprint => self.read_fingerprint,
            Command::ReadAppendedAddress => self.appended_address,
            Command::SamStatus | Command::SamId => self.sam,
            Command::ResetSam => self.reset,
            Command::SetBaud(_) | Command::SetMaxRfByte(_) => self.setting,
        }
    }
}

/// What a card read fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// Read with `30 10` (text, photo and fingerprint) instead of `30 01`.
    pub fingerprint: bool,
    /// What to do with the appended address (`30 03`); [`AppendedAddress::Ignore`] skips it.
    pub appended_address: AppendedAddress,
}

/// The ID-card reader driver on one link.
pub struct Driver {
    link: Box<dyn Link>,
    timeouts: Timeouts,
    decoder: Decoder,
    tx: Vec<u8>,
    rx: Vec<u8>,
}

impl Driver {
    pub fn new(link: Box<dyn Link>, timeouts: Timeouts) -> Self {
        Driver {
            link,
            timeouts,
            decoder: Decoder::replies(),
            tx: Vec::with_capacity(16),
            rx: vec![0; 4096],
        }
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// A description of the link for logs.
    pub fn describe(&self) -> String {
        self.link.describe()
    }

    /// Sends `command` and returns the reply whatever its status, re-sending once after a
    /// damaged reply or a reader complaint about a damaged command.
    pub fn transact(&mut self, command: Command) -> Result<Reply, Error> {
        match self.exchange(command) {
            Err(Error::BadChecksum { .. }) => {
                tracing::warn!(
                    command = command.name(),
                    "bad checksum in reply; re-sending once"
                );
                self.exchange(command)
            }
            Ok(reply)
                if matches!(
                    reply.status(),
                    Status::HostChecksumError | Status::HostLengthError
                ) =>
            {
                tracing::warn!(
                    command = command.name(),
                    sw3 = reply.sw3(),
                    "reader received a damaged command; re-sending once"
                );
                self.exchange(command)
            }
            other => other,
        }
    }

    /// One command, one reply.
    fn exchange(&mut self, command: Command) -> Result<Reply, Error> {
        self.link.drain()?;
        self.decoder.clear();
        self.tx.clear();
        command.encode_into(&mut self.tx);
        self.link.send(&self.tx)?;
        let waited = self.timeouts.for_command(command);
        let started = Instant::now();
        let deadline = deadline_after(started, waited);
        loop {
            while let Some(next) = self.decoder.next_frame() {
                match next {
                    Ok(frame) => {
                        return Reply::from_frame(frame).ok_or(Error::Malformed {
                            command,
                            reason: PayloadError("reply shorter than its status words"),
                        });
                    }
                    Err(DecodeError::BadChecksum { .. }) => {
                        return Err(Error::BadChecksum { command });
                    }
                    Err(e @ DecodeError::BadLength(_)) => {
                        tracing::debug!(command = command.name(), error = %e, "skipping noise");
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(if self.decoder.in_frame() {
                    Error::Truncated {
                        command,
                        got: self.decoder.buffered(),
                    }
                } else {
                    Error::NoReply { command, waited }
                });
            }
            let n = self.link.recv(&mut self.rx, deadline - now)?;
            if let Some(bytes) = self.rx.get(..n) {
                self.decoder.push(bytes);
            }
        }
    }

    /// Sends `command` and requires one of `ok` statuses.
    fn expect(&mut self, command: Command, ok: &[Status]) -> Result<Reply, Error> {
        let reply = self.transact(command)?;
        let status = reply.status();
        if ok.contains(&status) {
            Ok(reply)
        } else {
            Err(Error::Status {
                command,
                status,
                sw1: reply.sw1(),
                sw2: reply.sw2(),
            })
        }
    }

    /// Find card (`20 01`): `Ok(true)` when a card is in the field, `Ok(false)` for "no card"
    /// (`80`, the normal idle answer, and also the answer while a card that was just read
    /// still lies on the reader).
    pub fn find_card(&mut self) -> Result<bool, Error> {
        let reply = self.expect(Command::FindCard, &[Status::FindSuccess, Status::NoCard])?;
        Ok(reply.status() == Status::FindSuccess)
    }

    /// Select card (`20 02`).
    pub fn select_card(&mut self) -> Result<(), Error> {
        self.expect(Command::SelectCard, &[Status::Success])
            .map(drop)
    }

    /// Read text and photo (`30 01`), or with fingerprint (`30 10`), and decode them.
    pub fn read_card(&mut self, fingerprint: bool) -> Result<Identity, Error> {
        let command = if fingerprint {
            Command::ReadWithFingerprint
        } else {
            Command::ReadBase
        };
        // A read is idempotent: after no reply or a cut-short one, ask once more (a bad
        // checksum was already re-sent once inside `transact`).
        let reply = match self.expect(command, &[Status::Success]) {
            Err(e @ (Error::NoReply { .. } | Error::Truncated { .. })) => {
                tracing::warn!(error = %e, "re-sending the read once");
                self.expect(command, &[Status::Success])?
            }
            other => other?,
        };
        let payload = if fingerprint {
            protocol::parse_read_with_fingerprint(reply.data())
        } else {
            protocol::parse_read_base(reply.data())
        }
        .map_err(|reason| Error::Malformed { command, reason })?;
        Ok(Identity::decode(
            payload.text,
            payload.photo,
            payload.fingerprint,
        )?)
    }

    /// Read the appended address (`30 03`): `None` when the card has none (`91`).
    pub fn read_appended_address(&mut self) -> Result<Option<String>, Error> {
        let reply = self.expect(
            Command::ReadAppendedAddress,
            &[Status::Success, Status::NoContent],
        )?;
        if reply.status() == Status::NoContent {
            return Ok(None);
        }
        let text = decode_field(reply.data(), (0, reply.data().len()));
        Ok((!text.is_empty()).then_some(text))
    }

    /// Select, read, and (unless told not to) fetch the appended address.
    ///
    /// A reader that does not know `30 03` (it answers `21`, `23` or `24`) is read without
    /// it; any other failure of `30 03` fails the read, since the card may have left.
    pub fn read_identity(&mut self, options: &ReadOptions) -> Result<Identity, Error> {
        self.select_card()?;
        let mut identity = self.read_card(options.fingerprint)?;
        if options.appended_address != AppendedAddress::Ignore {
            match self.read_appended_address() {
                Ok(Some(extra)) => identity.set_appended_address(extra, options.appended_address),
                Ok(None) => {}
                Err(Error::Status {
                    status:
                        status @ (Status::BadCommand | Status::Unauthorized | Status::Unrecognized),
                    ..
                }) => {
                    tracing::info!(
                        sw3 = status.sw3(),
                        "reader does not give the appended address"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Ok(identity)
    }

    /// SAM status check (`11 FF`).
    pub fn sam_status(&mut self) -> Result<(), Error> {
        self.expect(Command::SamStatus, &[Status::Success])
            .map(drop)
    }

    /// The SAM id (`12 FF`).
    pub fn sam_id(&mut self) -> Result<SamId, Error> {
        let command = Command::SamId;
        let reply = self.expect(command, &[Status::Success])?;
        SamId::parse(reply.data()).map_err(|reason| Error::Malformed { command, reason })
    }

    /// Reset the SAM (`10 FF`).
    pub fn reset_sam(&mut self) -> Result<(), Error> {
        self.expect(Command::ResetSam, &[Status::Success]).map(drop)
    }

    /// Switch the reader's UART speed (`60 xx`). The port must then be reopened at the new
    /// speed; the driver does not do that itself.
    pub fn set_baud(&mut self, baud: Baud) -> Result<(), Error> {
        self.expect(Command::SetBaud(baud), &[Status::Success])
            .map(drop)
    }

    /// Polls find card until a card is in the field or `within` has passed.
    pub fn wait_for_card(&mut self, within: Duration, poll: Duration) -> Result<(), Error> {
        let deadline = deadline_after(Instant::now(), within);
        loop {
            if self.find_card()? {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::NoCardPresented(within));
            }
            std::thread::sleep(poll.min(deadline - now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_durations_do_not_overflow() {
        let now = Instant::now();
        assert!(deadline_after(now, Duration::MAX) > now);
        assert_eq!(deadline_after(now, Duration::ZERO), now);
    }

    #[test]
    fn every_command_has_its_deadline() {
        let t = Timeouts::default();
        assert_eq!(t.for_command(Command::FindCard), FIND_TIMEOUT);
        assert_eq!(t.for_command(Command::SelectCard), SELECT_TIMEOUT);
        assert_eq!(t.for_command(Command::ReadBase), READ_TIMEOUT);
        assert_eq!(
            t.for_command(Command::ReadWithFingerprint),
            READ_FINGERPRINT_TIMEOUT
        );
        assert_eq!(
            t.for_command(Command::ReadAppendedAddress),
            APPENDED_ADDRESS_TIMEOUT
        );
        assert_eq!(t.for_command(Command::SamId), SAM_TIMEOUT);
        assert_eq!(t.for_command(Command::ResetSam), RESET_TIMEOUT);
        assert_eq!(
            t.for_command(Command::SetBaud(Baud::B9600)),
            SETTING_TIMEOUT
        );
    }
}
