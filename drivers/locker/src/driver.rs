//! The lock-board driver: one RS485 bus, several boards, one transaction at a time.
//!
//! [`Bus`] owns the link and does one command/reply transaction (input drained first, its
//! own reply deadline, replies checked against the board and lock asked). The operations a
//! journey needs ([`OpenOp`], [`WaitClosedOp`]) are small state machines over transactions,
//! so that the device task can interleave several of them on the bus (two residents at two
//! doors) without ever interleaving bytes on the wire. [`Driver`] runs them one at a time,
//! blocking, for the technician command line.
//!
//! The rules from the field (Open-Locker, `reference/kiosk-products.md` §7 #9–#11):
//! "relay fired" is not "door opened" (only the door sensor says so), an unlock is never
//! re-sent automatically, and a silent board only affects its own compartments.

use std::thread;
use std::time::{Duration, Instant};

use kiosk_link::{Link, LinkError};
use serde::Serialize;

use crate::bank::{Bank, CompartmentId};
use crate::protocol::{
    Command, Decoded, Door, Expect, Polarity, Reply, ReplyDecoder, StatusBits, Switch,
};

/// The deadlines of the driver. Defaults are the field values; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long to wait for a board's reply to any command. Default 1500 ms (Open-Locker's
    /// response timeout; the unlock reply comes about 1 s after the command, DP2).
    pub reply: Duration,
    /// Line silence that ends a frame. Default 25 ms (Open-Locker).
    pub frame_gap: Duration,
    /// Quiet time on the bus between two transactions. Default 5 ms (Open-Locker).
    pub turnaround: Duration,
    /// How long after the unlock the door sensor has to say "open" before the attempt is
    /// "jammed". Default 10 s (Open-Locker).
    pub open_confirm: Duration,
    /// How often the door sensor is read while confirming an open or waiting for a close.
    /// Default 500 ms (Open-Locker).
    pub poll_interval: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            reply: Duration::from_millis(1500),
            frame_gap: Duration::from_millis(25),
            turnaround: Duration::from_millis(5),
            open_confirm: Duration::from_secs(10),
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// Why one transaction failed.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// No valid reply before the deadline.
    #[error("board {board} did not answer")]
    NoReply { board: u8 },
    /// Only replies with a wrong checksum arrived (a noisy line or a failing board).
    #[error("board {board} answered with a bad checksum")]
    BadChecksum { board: u8 },
    /// The port itself failed (unplugged adapter): the whole bus is offline.
    #[error(transparent)]
    Link(#[from] LinkError),
}

impl TxError {
    /// True when the board was silent or garbled, false when the link itself failed.
    pub fn is_board_fault(&self) -> bool {
        !matches!(self, TxError::Link(_))
    }
}

/// Errors of the blocking driver calls.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("no compartment {0} in the locker bank")]
    UnknownCompartment(CompartmentId),
    #[error("board {0} is not in the locker bank")]
    UnknownBoard(u8),
    #[error("board {board}'s status reply does not cover lock {lock}")]
    NotReported { board: u8, lock: u8 },
    #[error(transparent)]
    Tx(#[from] TxError),
}

impl From<LinkError> for DriverError {
    fn from(e: LinkError) -> Self {
        DriverError::Tx(TxError::Link(e))
    }
}

/// The bus: one link, one transaction at a time.
pub struct Bus {
    link: Box<dyn Link>,
    decoder: ReplyDecoder,
    timeouts: Timeouts,
    last_end: Option<Instant>,
    stray_replies: u64,
    bad_checksums: u64,
}

fn expect_for(cmd: Command) -> Expect {
    match cmd {
        Command::Unlock { .. } | Command::UnlockAll { .. } | Command::QueryLock { .. } => {
            Expect::Lock
        }
        Command::QueryAll { .. } => Expect::All,
        Command::FindAddress => Expect::Address,
    }
}

/// Is `reply` the answer to `cmd`? (A late answer to an earlier command, or another
/// board's, is not.)
fn answers(cmd: Command, reply: Reply) -> bool {
    match (cmd, reply) {
        (
            Command::Unlock { board, lock } | Command::QueryLock { board, lock },
            Reply::Lock {
                board: b, lock: l, ..
            },
        ) => board == b && lock == l,
        (Command::UnlockAll { board }, Reply::Lock { board: b, .. })
        | (Command::QueryAll { board }, Reply::All { board: b, .. }) => board == b,
        (Command::FindAddress, Reply::Address { .. }) => true,
        _ => false,
    }
}

impl Bus {
    pub fn new(link: Box<dyn Link>, timeouts: Timeouts) -> Bus {
        Bus {
            link,
            decoder: ReplyDecoder::default(),
            timeouts,
            last_end: None,
            stray_replies: 0,
            bad_checksums: 0,
        }
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// The port, for logs.
    pub fn describe(&self) -> String {
        self.link.describe()
    }

    /// Replies that answered nothing asked (late or foreign), since the bus was opened.
    pub fn stray_replies(&self) -> u64 {
        self.stray_replies
    }

    /// Frames with a bad checksum seen since the bus was opened.
    pub fn bad_checksums(&self) -> u64 {
        self.bad_checksums
    }

    /// Sends `cmd` and waits for its reply. Exactly one command is on the wire at a time.
    pub fn transact(&mut self, cmd: Command) -> Result<Reply, TxError> {
        if let Some(end) = self.last_end {
            let quiet = end + self.timeouts.turnaround;
            let now = Instant::now();
            if quiet > now {
                thread::sleep(quiet - now);
            }
        }
        let result = self.exchange(cmd);
        self.last_end = Some(Instant::now());
        match &result {
            Ok(_) => tracing::trace!(?cmd, "board answered"),
            Err(e) => tracing::debug!(?cmd, error = %e, "transaction failed"),
        }
        result
    }

    fn exchange(&mut self, cmd: Command) -> Result<Reply, TxError> {
        let board = cmd.board().unwrap_or(0);
        self.link.drain()?;
        self.decoder.clear();
        self.decoder.expect(expect_for(cmd));
        self.link.send(&cmd.encode())?;
        let deadline = Instant::now() + self.timeouts.reply;
        let mut bad = false;
        let mut buf = [0u8; 64];
        let mut idle = false;
        loop {
            while let Some(event) = self.decoder.next_event(idle) {
                match event {
                    Decoded::Frame(reply) if answers(cmd, reply) => return Ok(reply),
                    Decoded::Frame(reply) => {
                        self.stray_replies += 1;
                        tracing::debug!(?cmd, ?reply, "ignored a reply to something else");
                    }
                    Decoded::BadChecksum { .. } => {
                        self.bad_checksums += 1;
                        bad = true;
                    }
                    Decoded::Noise { .. } => {}
                }
            }
            let now = Instant::now();
            if now >= deadline {
                if !idle && self.decoder.pending() > 0 {
                    idle = true;
                    continue;
                }
                return Err(if bad {
                    TxError::BadChecksum { board }
                } else {
                    TxError::NoReply { board }
                });
            }
            let left = deadline - now;
            let partial = self.decoder.pending() > 0;
            let wait = if partial {
                self.timeouts.frame_gap.min(left)
            } else {
                left
            };
            let n = self.link.recv(&mut buf, wait)?;
            idle = n == 0 && partial;
            self.decoder.push(buf.get(..n).unwrap_or(&[]));
        }
    }

    /// Reads one lock's feedback switch.
    pub fn query_lock(&mut self, board: u8, lock: u8) -> Result<Switch, TxError> {
        match self.transact(Command::QueryLock { board, lock })? {
            Reply::Lock { switch, .. } => Ok(switch),
            _ => Err(TxError::NoReply { board }),
        }
    }

    /// Reads every lock's feedback switch of one board.
    pub fn query_all(&mut self, board: u8) -> Result<StatusBits, TxError> {
        match self.transact(Command::QueryAll { board })? {
            Reply::All { status, .. } => Ok(status),
            _ => Err(TxError::NoReply { board }),
        }
    }

    /// Pulses one lock. The reply only says that the board fired its relay.
    pub fn unlock(&mut self, board: u8, lock: u8) -> Result<Switch, TxError> {
        match self.transact(Command::Unlock { board, lock })? {
            Reply::Lock { switch, .. } => Ok(switch),
            _ => Err(TxError::NoReply { board }),
        }
    }

    /// Pulses every lock of a board (technicians only: empties a whole board).
    pub fn unlock_all(&mut self, board: u8) -> Result<(), TxError> {
        self.transact(Command::UnlockAll { board }).map(|_| ())
    }

    /// Asks the only board on the bus for its address.
    pub fn find_address(&mut self) -> Result<u8, TxError> {
        match self.transact(Command::FindAddress)? {
            Reply::Address { address } => Ok(address),
            _ => Err(TxError::NoReply { board: 0 }),
        }
    }
}

/// Where a door is wired and how its sensor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Target {
    pub board: u8,
    pub lock: u8,
    pub polarity: Polarity,
}

/// The stage at which a board stopped answering during an open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoReplyAt {
    /// The door could not be read before the unlock, so nothing was sent to the lock.
    Check,
    /// The unlock got no acknowledgement and the door was never seen open: the relay may or
    /// may not have fired. It is not re-sent.
    Unlock,
    /// The unlock was acknowledged, then the board stopped answering door queries.
    Confirm,
}

/// The truthful result of asking a door to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpenOutcome {
    /// The unlock was sent and the door sensor then said "open".
    Opened,
    /// The door sensor said "open" before anything was sent; no unlock was sent (a door
    /// left open, or a sensor stuck open: staff should look).
    AlreadyOpen,
    /// The board acknowledged the unlock but the sensor kept saying "closed" for the whole
    /// confirmation window. The lock is not retried.
    Jammed,
    /// The board did not answer (see [`NoReplyAt`]).
    NoReply { at: NoReplyAt },
}

impl OpenOutcome {
    /// True when the door is open now (opened by us, or already open).
    pub fn door_is_open(self) -> bool {
        matches!(self, OpenOutcome::Opened | OpenOutcome::AlreadyOpen)
    }

    /// True when an unlock command went on the wire (the lock may have moved).
    pub fn unlock_sent(self) -> bool {
        !matches!(
            self,
            OpenOutcome::AlreadyOpen
                | OpenOutcome::NoReply {
                    at: NoReplyAt::Check
                }
        )
    }
}

/// The result of waiting for a door to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseOutcome {
    /// The sensor said "closed".
    Closed,
    /// The sensor still said "open" when the time ran out.
    StillOpen,
    /// The board never answered while waiting.
    NoReply,
}

/// What an operation wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<T> {
    /// Run this transaction now.
    Send(Command),
    /// Nothing to do before this time.
    WaitUntil(Instant),
    /// Finished.
    Done(T),
}

impl<T> Step<T> {
    /// Maps the outcome of a finished step.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Step::Send(c) => Step::Send(c),
            Step::WaitUntil(t) => Step::WaitUntil(t),
            Step::Done(t) => Step::Done(f(t)),
        }
    }
}

/// A multi-transaction operation, driven by whoever owns the bus.
pub trait Operation {
    type Outcome;
    /// What to do at `now`.
    fn step(&mut self, now: Instant) -> Step<Self::Outcome>;
    /// The result of the transaction last asked for by [`Operation::step`].
    fn reply(&mut self, result: Result<&Reply, &TxError>, now: Instant);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenPhase {
    Check,
    Unlock,
    Confirm {
        acknowledged: bool,
        seen_closed: bool,
        deadline: Instant,
        next: Instant,
    },
    Done(OpenOutcome),
}

/// Open one door: read the sensor (already open → done), pulse the lock once, then read the
/// sensor every `poll_interval` until it says open or `open_confirm` has passed.
#[derive(Debug, Clone)]
pub struct OpenOp {
    target: Target,
    timeouts: Timeouts,
    phase: OpenPhase,
}

impl OpenOp {
    pub fn new(target: Target, timeouts: Timeouts) -> OpenOp {
        OpenOp {
            target,
            timeouts,
            phase: OpenPhase::Check,
        }
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// True once the unlock command has been asked for (whether or not it was answered).
    pub fn unlock_sent(&self) -> bool {
        matches!(self.phase, OpenPhase::Confirm { .. })
            || matches!(self.phase, OpenPhase::Done(o) if o.unlock_sent())
    }

    /// The outcome as of now when the bus is lost in the middle: what is known about the
    /// unlock is kept (a request being sent when the port failed counts as sent).
    pub fn abort(&mut self) -> OpenOutcome {
        let outcome = match self.phase {
            OpenPhase::Done(outcome) => outcome,
            OpenPhase::Check => OpenOutcome::NoReply {
                at: NoReplyAt::Check,
            },
            OpenPhase::Unlock
            | OpenPhase::Confirm {
                acknowledged: false,
                ..
            } => OpenOutcome::NoReply {
                at: NoReplyAt::Unlock,
            },
            OpenPhase::Confirm {
                acknowledged: true, ..
            } => OpenOutcome::NoReply {
                at: NoReplyAt::Confirm,
            },
        };
        self.phase = OpenPhase::Done(outcome);
        outcome
    }

    fn door(&self, reply: Reply) -> Option<Door> {
        match reply {
            Reply::Lock { switch, .. } => Some(self.target.polarity.door(switch)),
            Reply::All { status, .. } => status
                .switch(self.target.lock)
                .map(|s| self.target.polarity.door(s)),
            Reply::Address { .. } => None,
        }
    }
}

impl Operation for OpenOp {
    type Outcome = OpenOutcome;

    fn step(&mut self, now: Instant) -> Step<OpenOutcome> {
        let Target { board, lock, .. } = self.target;
        match self.phase {
            OpenPhase::Confirm { next, .. } if next > now => Step::WaitUntil(next),
            OpenPhase::Check | OpenPhase::Confirm { .. } => {
                Step::Send(Command::QueryLock { board, lock })
            }
            OpenPhase::Unlock => Step::Send(Command::Unlock { board, lock }),
            OpenPhase::Done(outcome) => Step::Done(outcome),
        }
    }

    fn reply(&mut self, result: Result<&Reply, &TxError>, now: Instant) {
        let door = result.ok().and_then(|r| self.door(*r));
        self.phase = match self.phase {
            OpenPhase::Check => match door {
                Some(Door::Open) => OpenPhase::Done(OpenOutcome::AlreadyOpen),
                Some(Door::Closed) => OpenPhase::Unlock,
                None => OpenPhase::Done(OpenOutcome::NoReply {
                    at: NoReplyAt::Check,
                }),
            },
            // The unlock reply carries the switch, but it may show the state before the
            // relay fired: only a sensor read after it counts as the door observation.
            OpenPhase::Unlock => OpenPhase::Confirm {
                acknowledged: result.is_ok(),
                seen_closed: false,
                deadline: now + self.timeouts.open_confirm,
                next: now,
            },
            OpenPhase::Confirm {
                acknowledged,
                seen_closed,
                deadline,
                ..
            } => {
                let seen_closed = seen_closed || door == Some(Door::Closed);
                if door == Some(Door::Open) {
                    OpenPhase::Done(OpenOutcome::Opened)
                } else if now >= deadline {
                    OpenPhase::Done(match (acknowledged, seen_closed) {
                        (true, true) => OpenOutcome::Jammed,
                        (true, false) => OpenOutcome::NoReply {
                            at: NoReplyAt::Confirm,
                        },
                        (false, _) => OpenOutcome::NoReply {
                            at: NoReplyAt::Unlock,
                        },
                    })
                } else {
                    OpenPhase::Confirm {
                        acknowledged,
                        seen_closed,
                        deadline,
                        next: (now + self.timeouts.poll_interval).min(deadline),
                    }
                }
            }
            done @ OpenPhase::Done(_) => done,
        };
    }
}

/// Wait for one door to close: read its sensor every `poll_interval` until it says closed
/// or the time is up.
#[derive(Debug, Clone)]
pub struct WaitClosedOp {
    target: Target,
    poll: Duration,
    deadline: Instant,
    next: Instant,
    seen_open: bool,
    done: Option<CloseOutcome>,
}

impl WaitClosedOp {
    pub fn new(target: Target, timeout: Duration, poll: Duration, now: Instant) -> WaitClosedOp {
        WaitClosedOp {
            target,
            poll,
            deadline: now + timeout,
            next: now,
            seen_open: false,
            done: None,
        }
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// The outcome as of now when the bus is lost: "still open" if the door was last seen
    /// open, else "no reply".
    pub fn abort(&self) -> CloseOutcome {
        self.done.unwrap_or(if self.seen_open {
            CloseOutcome::StillOpen
        } else {
            CloseOutcome::NoReply
        })
    }
}

impl Operation for WaitClosedOp {
    type Outcome = CloseOutcome;

    fn step(&mut self, now: Instant) -> Step<CloseOutcome> {
        match self.done {
            Some(outcome) => Step::Done(outcome),
            None if self.next > now => Step::WaitUntil(self.next),
            None => Step::Send(Command::QueryLock {
                board: self.target.board,
                lock: self.target.lock,
            }),
        }
    }

    fn reply(&mut self, result: Result<&Reply, &TxError>, now: Instant) {
        let door = match result {
            Ok(Reply::Lock { switch, .. }) => Some(self.target.polarity.door(*switch)),
            _ => None,
        };
        match door {
            Some(Door::Closed) => self.done = Some(CloseOutcome::Closed),
            Some(Door::Open) => self.seen_open = true,
            None => {}
        }
        if self.done.is_none() {
            if now >= self.deadline {
                self.done = Some(if self.seen_open {
                    CloseOutcome::StillOpen
                } else {
                    CloseOutcome::NoReply
                });
            } else {
                self.next = (now + self.poll).min(self.deadline);
            }
        }
    }
}

/// Runs an operation to completion on a bus, sleeping between its steps. A link failure
/// ends it with the error (the operation is not finished: the bus is gone).
pub fn run<O: Operation>(bus: &mut Bus, op: &mut O) -> Result<O::Outcome, LinkError> {
    loop {
        let now = Instant::now();
        match op.step(now) {
            Step::Done(outcome) => return Ok(outcome),
            Step::WaitUntil(t) => thread::sleep(t.saturating_duration_since(now)),
            Step::Send(cmd) => match bus.transact(cmd) {
                Ok(reply) => op.reply(Ok(&reply), Instant::now()),
                Err(TxError::Link(e)) => return Err(e),
                Err(e) => op.reply(Err(&e), Instant::now()),
            },
        }
    }
}

/// One door's state in a status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoorStatus {
    pub lock: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compartment: Option<CompartmentId>,
    /// `None` (JSON null) when the board did not answer or did not report this lock.
    pub door: Option<Door>,
}

/// One board's state in a status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardStatus {
    pub board: u8,
    pub online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub doors: Vec<DoorStatus>,
}

/// The doors of a bank (or of some of its boards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct BankStatus {
    pub boards: Vec<BoardStatus>,
}

impl BankStatus {
    /// The door of compartment `id`, if known.
    pub fn door(&self, id: &CompartmentId) -> Option<Door> {
        self.boards
            .iter()
            .flat_map(|b| b.doors.iter())
            .find(|d| d.compartment.as_ref() == Some(id))
            .and_then(|d| d.door)
    }
}

/// Builds a board's status from a query-all result. Doors listed: the board's channels
/// from the bank (or every channel the reply covers when the board is not in the bank).
pub fn board_status(
    bank: &Bank,
    board: u8,
    default_polarity: Polarity,
    result: Result<&StatusBits, &TxError>,
) -> BoardStatus {
    let configured = bank.board(board);
    let channels = match (configured, result) {
        (Some(b), _) => b.channels,
        (None, Ok(status)) => status.channels(),
        (None, Err(_)) => 0,
    };
    let board_polarity = configured.map_or(default_polarity, |b| b.polarity);
    let doors = (1..=channels)
        .map(|lock| {
            let compartment = bank.at(board, lock);
            let polarity = compartment.map_or(board_polarity, |c| c.polarity);
            DoorStatus {
                lock,
                compartment: compartment.map(|c| c.id.clone()),
                door: result
                    .ok()
                    .and_then(|s| s.switch(lock))
                    .map(|s| polarity.door(s)),
            }
        })
        .collect();
    BoardStatus {
        board,
        online: result.is_ok(),
        error: result.err().map(ToString::to_string),
        doors,
    }
}

/// The blocking driver: a bus and the bank wired to it.
pub struct Driver {
    bus: Bus,
    bank: Bank,
}

impl Driver {
    pub fn new(link: Box<dyn Link>, bank: Bank, timeouts: Timeouts) -> Driver {
        Driver {
            bus: Bus::new(link, timeouts),
            bank,
        }
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    pub fn bus(&mut self) -> &mut Bus {
        &mut self.bus
    }

    /// Where compartment `id` is wired.
    pub fn target(&self, id: &CompartmentId) -> Result<Target, DriverError> {
        let c = self
            .bank
            .compartment(id)
            .ok_or_else(|| DriverError::UnknownCompartment(id.clone()))?;
        Ok(Target {
            board: c.board,
            lock: c.lock,
            polarity: c.polarity,
        })
    }

    /// Reads one compartment's door.
    pub fn door(&mut self, id: &CompartmentId) -> Result<Door, DriverError> {
        let t = self.target(id)?;
        Ok(t.polarity.door(self.bus.query_lock(t.board, t.lock)?))
    }

    /// Opens a compartment and confirms with its sensor (see [`OpenOp`]). Never retries the
    /// unlock.
    pub fn open(&mut self, id: &CompartmentId) -> Result<OpenOutcome, DriverError> {
        let target = self.target(id)?;
        self.open_target(target)
    }

    /// Opens a lock given by board and lock number (technicians).
    pub fn open_target(&mut self, target: Target) -> Result<OpenOutcome, DriverError> {
        let timeouts = *self.bus.timeouts();
        let outcome = run(&mut self.bus, &mut OpenOp::new(target, timeouts))?;
        tracing::info!(
            board = target.board,
            lock = target.lock,
            ?outcome,
            "open finished"
        );
        Ok(outcome)
    }

    /// Waits up to `timeout` for a compartment's door to close.
    pub fn wait_closed(
        &mut self,
        id: &CompartmentId,
        timeout: Duration,
    ) -> Result<CloseOutcome, DriverError> {
        let target = self.target(id)?;
        let poll = self.bus.timeouts().poll_interval;
        let mut op = WaitClosedOp::new(target, timeout, poll, Instant::now());
        Ok(run(&mut self.bus, &mut op)?)
    }

    /// Reads every board (or one), one query-all each. A silent board is reported offline
    /// and the others are still read; only a link failure is an error.
    pub fn status(&mut self, board: Option<u8>) -> Result<BankStatus, DriverError> {
        let boards: Vec<u8> = match board {
            Some(b) => vec![b],
            None => self.bank.boards().iter().map(|b| b.address).collect(),
        };
        let mut out = BankStatus::default();
        for b in boards {
            let result = self.bus.query_all(b);
            if let Err(TxError::Link(e)) = result {
                return Err(e.into());
            }
            out.boards.push(board_status(
                &self.bank,
                b,
                self.bank.polarity(),
                result.as_ref(),
            ));
        }
        Ok(out)
    }
}
