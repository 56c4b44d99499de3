//! A wire-level ID-card reader simulator: the READER side of the same GA 467 protocol, on
//! the other end of any [`Link`] (an in-memory pair or a pseudo-terminal). It is not a mock
//! of the driver: the real driver code talks to it byte for byte.
//!
//! The reader model follows reference A.3: find (`20 01`) answers `9F` while a card is in the
//! field and not yet read, select (`20 02`) needs a found card, a read (`30 01`/`30 10`)
//! needs a selected card, and after a read the card is "halted": find answers `80` until the
//! card is taken away and put back ([`SimOptions::halt_after_read`]). Reading again without
//! a new find (the driver's one re-send after a bad checksum) returns the data again.
//!
//! A cloneable, thread-safe [`SimControl`] changes the state at run time: present a card,
//! remove it, queue faults, unplug and replug. The simulator stops when the last control
//! handle (and every opener made from one) is dropped, or on [`SimControl::stop`].
//!
//! ```no_run
//! use kiosk_idcard::sim::{Fault, On, SimCard, SimOptions, Simulator};
//! let sim = Simulator::spawn_in_memory(SimOptions::default());
//! let opener = sim.opener(); // give this to `Handle::spawn`
//! sim.present(SimCard::from_file("resources/sim/idcard/resident_han.json".as_ref()).unwrap());
//! sim.inject(On::Read, Fault::BadChecksum);
//! ```

pub mod card;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kiosk_link::pty::PtyGuard;
use kiosk_link::{Link, LinkError, memory};

pub use card::{CardFile, CardFileError, SimCard, load_samples};

use crate::handle::Opener;
use crate::protocol::{self, Command, DecodeError, Decoder, Status};

/// How the simulated reader behaves.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// After a read, find answers `80` until the card is removed and presented again (the
    /// protective behaviour of real readers, reference A.3). `false`: find keeps answering
    /// `9F` while the card lies there.
    pub halt_after_read: bool,
    /// Time the simulated RF/SAM work takes before each reply (zero for tests).
    pub reply_delay: Duration,
    /// Re-present a halted card by itself after this long (for hand testing on a pty, where
    /// nobody can lift the card). `None`: only [`SimControl::present`] does it.
    pub represent_after: Option<Duration>,
    /// The 16 bytes answered to `12 FF`.
    pub sam_id: [u8; 16],
}

impl Default for SimOptions {
    fn default() -> Self {
        let mut sam_id = [0u8; 16];
        sam_id[0] = 5;
        sam_id[2] = 1;
        sam_id[4..8].copy_from_slice(&20_240_101u32.to_le_bytes());
        sam_id[8..12].copy_from_slice(&1u32.to_le_bytes());
        sam_id[12..16].copy_from_slice(&123_456_789u32.to_le_bytes());
        SimOptions {
            halt_after_read: true,
            reply_delay: Duration::ZERO,
            represent_after: None,
            sam_id,
        }
    }
}

/// Which command a queued fault waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum On {
    /// The next command of any kind.
    Any,
    FindCard,
    SelectCard,
    /// `30 01` or `30 10`.
    Read,
    AppendedAddress,
    SamStatus,
    SamId,
    ResetSam,
}

impl On {
    fn matches(self, command: Option<Command>) -> bool {
        matches!(
            (self, command),
            (On::Any, _)
                | (On::FindCard, Some(Command::FindCard))
                | (On::SelectCard, Some(Command::SelectCard))
                | (
                    On::Read,
                    Some(Command::ReadBase | Command::ReadWithFingerprint)
                )
                | (On::AppendedAddress, Some(Command::ReadAppendedAddress))
                | (On::SamStatus, Some(Command::SamStatus))
                | (On::SamId, Some(Command::SamId))
                | (On::ResetSam, Some(Command::ResetSam))
        )
    }
}

/// A scripted fault, applied once to the reply of the command it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This many noise bytes (with false preamble starts) before the reply.
    Noise(usize),
    /// The reply's checksum byte is wrong.
    BadChecksum,
    /// Only the first half of the reply is sent.
    Truncated,
    /// No reply at all.
    NoReply,
    /// The reply comes after this delay.
    SlowReply(Duration),
    /// The card leaves the field as the read starts: the reader answers `41` (read failed)
    /// and the card is gone.
    RemoveCardDuringRead,
    /// The reader answers with this status word and no data.
    Status(Status),
}

/// Counters, for tests and the developer panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Frames received that were recognised as commands.
    pub commands: u64,
    pub finds: u64,
    /// Successful read replies built (`30 01`/`30 10`), whether or not a fault spoiled them.
    pub reads: u64,
    /// Replies actually sent.
    pub replies: u64,
    /// Times a link was connected (a driver opened the port).
    pub connections: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Fresh,
    Found,
    Selected,
    Read,
}

struct State {
    card: Option<SimCard>,
    phase: Phase,
    read_at: Option<Instant>,
    faults: VecDeque<(On, Fault)>,
    plugged: bool,
    generation: u64,
    stop: bool,
    finished: bool,
    pending_link: Option<Box<dyn Link>>,
    stats: SimStats,
    last_reply_at: Option<Instant>,
    device_path: Option<PathBuf>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain state: carrying on after a panicked test thread is sound.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Stops the simulator when the last control handle goes.
struct Token(Arc<Shared>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.lock().stop = true;
        self.0.changed.notify_all();
    }
}

/// The control handle: cloneable, thread-safe.
#[derive(Clone)]
pub struct SimControl {
    shared: Arc<Shared>,
    _token: Arc<Token>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("SimControl")
            .field("plugged", &st.plugged)
            .field("card", &st.card.as_ref().map(|c| c.label.clone()))
            .field("stats", &st.stats)
            .finish_non_exhaustive()
    }
}

impl SimControl {
    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.shared.lock());
        self.shared.changed.notify_all();
    }

    /// Puts a card on the reader (replacing any card there).
    pub fn present(&self, card: SimCard) {
        tracing::debug!(card = %card.label, "sim: card presented");
        self.update(|st| {
            st.card = Some(card);
            st.phase = Phase::Fresh;
            st.read_at = None;
        });
    }

    /// Takes the card away.
    pub fn remove(&self) {
        self.update(|st| {
            st.card = None;
            st.phase = Phase::Fresh;
        });
    }

    /// `true` while a card lies on the reader.
    pub fn has_card(&self) -> bool {
        self.shared.lock().card.is_some()
    }

    /// Queues a fault for the next command that `on` matches.
    pub fn inject(&self, on: On, fault: Fault) {
        self.update(|st| st.faults.push_back((on, fault)));
    }

    /// Drops all queued faults.
    pub fn clear_faults(&self) {
        self.update(|st| st.faults.clear());
    }

    /// Faults still waiting for their command.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.len()
    }

    /// Pulls the cable: the link is closed (a pty's symlink disappears; an in-memory
    /// opener fails) until [`SimControl::replug`].
    pub fn unplug(&self) {
        self.update(|st| {
            st.plugged = false;
            st.pending_link = None;
        });
    }

    /// Plugs the cable back in.
    pub fn replug(&self) {
        self.update(|st| {
            st.plugged = true;
            st.generation += 1;
        });
    }

    pub fn is_plugged(&self) -> bool {
        self.shared.lock().plugged
    }

    /// Stops the simulator thread.
    pub fn stop(&self) {
        self.update(|st| st.stop = true);
    }

    pub fn stats(&self) -> SimStats {
        self.shared.lock().stats
    }

    /// When the latest reply was handed to the link (stamped just before the send, so for
    /// an in-memory link it is at most the copy time before its last byte is readable).
    pub fn last_reply_at(&self) -> Option<Instant> {
        self.shared.lock().last_reply_at
    }

    /// The path a driver opens (pty simulators only): the symlink.
    pub fn device_path(&self) -> Option<PathBuf> {
        self.shared.lock().device_path.clone()
    }

    /// Waits until `pred` holds for the counters, or `timeout` passes. Returns whether it held.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&SimStats) -> bool) -> bool {
        let deadline = crate::driver::deadline_after(Instant::now(), timeout);
        let mut st = self.shared.lock();
        loop {
            if pred(&st.stats) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .shared
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// An opener for [`crate::Handle::spawn`] on an in-memory simulator
    /// ([`Simulator::spawn_in_memory`]): each call connects a fresh in-memory link, and
    /// fails while the simulator is unplugged. It keeps the simulator alive.
    pub fn opener(&self) -> Opener {
        let control = self.clone();
        Box::new(move || {
            let (driver_end, device_end) = memory::pair();
            let mut st = control.shared.lock();
            if st.stop || !st.plugged {
                return Err(LinkError::Open {
                    port: "memory:idcard-sim".into(),
                    reason: "simulated reader is unplugged".into(),
                });
            }
            st.pending_link = Some(Box::new(device_end));
            drop(st);
            control.shared.changed.notify_all();
            Ok(Box::new(driver_end) as Box<dyn Link>)
        })
    }

    /// Waits up to `timeout` for the simulator thread to end (after [`SimControl::stop`]);
    /// by then a pty is closed and its symlink removed. Returns whether it ended.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        let deadline = crate::driver::deadline_after(Instant::now(), timeout);
        let mut st = self.shared.lock();
        while !st.finished {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .shared
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Blocks until the simulator is stopped.
    pub fn wait_stopped(&self) {
        let mut st = self.shared.lock();
        while !st.stop {
            st = self
                .shared
                .changed
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

enum Source {
    /// One link given by the caller; unplugging closes it for good.
    Once(Option<Box<dyn Link>>),
    /// Links handed over by [`SimControl::opener`].
    Slot,
    /// A pty re-created under the same symlink after each replug.
    Pty {
        path: PathBuf,
        first: Option<(Box<dyn Link>, PtyGuard)>,
    },
}

/// Starts simulators.
pub struct Simulator;

impl Simulator {
    /// Runs the reader on one end of a link (e.g. a [`memory::pair`]). Unplugging closes that
    /// link for good; use [`Simulator::spawn_in_memory`] to replug.
    pub fn spawn_on_link(link: Box<dyn Link>, options: SimOptions) -> SimControl {
        Self::spawn(Source::Once(Some(link)), options, None)
    }

    /// An in-memory reader that can be unplugged and replugged; connect drivers through
    /// [`SimControl::opener`].
    pub fn spawn_in_memory(options: SimOptions) -> SimControl {
        Self::spawn(Source::Slot, options, None)
    }

    /// Runs the reader on a pseudo-terminal whose slave is reachable at the symlink `path`
    /// (replaced if it exists). Unplugging closes the pty and removes the symlink; replugging
    /// makes a new pty under the same name.
    pub fn spawn_on_pty(path: &Path, options: SimOptions) -> Result<SimControl, LinkError> {
        let (master, guard) = kiosk_link::pty::open_pair(Some(path))?;
        let source = Source::Pty {
            path: path.to_owned(),
            first: Some((Box::new(master), guard)),
        };
        Ok(Self::spawn(source, options, Some(path.to_owned())))
    }

    fn spawn(source: Source, options: SimOptions, device_path: Option<PathBuf>) -> SimControl {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                card: None,
                phase: Phase::Fresh,
                read_at: None,
                faults: VecDeque::new(),
                plugged: true,
                generation: 0,
                stop: false,
                finished: false,
                pending_link: None,
                stats: SimStats::default(),
                last_reply_at: None,
                device_path,
            }),
            changed: Condvar::new(),
        });
        let thread_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("idcard-sim".into())
            .spawn(move || run(&thread_shared, source, &options));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the ID-card simulator thread");
            let mut st = shared.lock();
            st.stop = true;
            st.finished = true;
        }
        SimControl {
            _token: Arc::new(Token(shared.clone())),
            shared,
        }
    }
}

fn run(shared: &Arc<Shared>, source: Source, options: &SimOptions) {
    run_until_stopped(shared, source, options);
    shared.lock().finished = true;
    shared.changed.notify_all();
}

fn run_until_stopped(shared: &Arc<Shared>, mut source: Source, options: &SimOptions) {
    loop {
        let Some((link, guard)) = next_link(shared, &mut source) else {
            return;
        };
        shared.lock().stats.connections += 1;
        shared.changed.notify_all();
        let mut link = link;
        serve(shared, link.as_mut(), options);
        // The device node goes first, then the line: a driver that sees the hang-up finds
        // no port to reopen until the replug.
        drop(guard);
        drop(link);
        if shared.lock().stop {
            return;
        }
    }
}

/// Waits for the next link to serve; `None` when the simulator stops.
fn next_link(shared: &Shared, source: &mut Source) -> Option<(Box<dyn Link>, Option<PtyGuard>)> {
    let mut st = shared.lock();
    loop {
        if st.stop {
            return None;
        }
        if !st.plugged {
            // Unplugged before the first link was served: close it now, as a pulled cable.
            match source {
                Source::Once(link) => {
                    // A single link cannot be plugged back in.
                    drop(link.take());
                    return None;
                }
                Source::Pty { first, .. } => drop(first.take()),
                Source::Slot => {}
            }
        }
        if st.plugged {
            match source {
                Source::Once(link) => return link.take().map(|l| (l, None)),
                Source::Slot => {
                    if let Some(link) = st.pending_link.take() {
                        return Some((link, None));
                    }
                }
                Source::Pty { path, first } => {
                    if let Some((link, guard)) = first.take() {
                        return Some((link, Some(guard)));
                    }
                    drop(st);
                    match kiosk_link::pty::open_pair(Some(path)) {
                        Ok((master, guard)) => return Some((Box::new(master), Some(guard))),
                        Err(e) => {
                            tracing::warn!(error = %e, "sim: cannot re-create the pty");
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                    st = shared.lock();
                    continue;
                }
            }
        }
        st = shared
            .changed
            .wait_timeout(st, Duration::from_millis(50))
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
    }
}

/// Serves one link until it closes, the simulator is unplugged or stopped.
fn serve(shared: &Shared, link: &mut dyn Link, options: &SimOptions) {
    let generation = shared.lock().generation;
    let mut decoder = Decoder::commands();
    let mut buf = [0u8; 512];
    loop {
        {
            let mut st = shared.lock();
            if st.stop || !st.plugged || st.generation != generation {
                return;
            }
            if let (Some(after), Some(at), Phase::Read) =
                (options.represent_after, st.read_at, st.phase)
                && at.elapsed() >= after
                && st.card.is_some()
            {
                st.phase = Phase::Fresh;
                st.read_at = None;
            }
        }
        let n = match link.recv(&mut buf, Duration::from_millis(10)) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "sim: link closed");
                return;
            }
        };
        decoder.push(buf.get(..n).unwrap_or_default());
        while let Some(frame) = decoder.next_frame() {
            let (command, reply) = match frame {
                Ok(frame) => match Command::from_body(frame.body()) {
                    Some(command) => (Some(command), None),
                    None => (None, Some(Status::BadCommand)),
                },
                Err(DecodeError::BadChecksum { .. }) => (None, Some(Status::HostChecksumError)),
                Err(DecodeError::BadLength(_)) => (None, Some(Status::HostLengthError)),
            };
            let (bytes, fault) = {
                let mut st = shared.lock();
                let fault = take_fault(&mut st, command);
                let bytes = match (command, reply) {
                    (Some(command), _) => answer(&mut st, command, fault.as_ref(), options),
                    (None, Some(status)) => status_frame(status),
                    (None, None) => Vec::new(),
                };
                (bytes, fault)
            };
            if !options.reply_delay.is_zero() {
                std::thread::sleep(options.reply_delay);
            }
            if let Err(e) = deliver(shared, link, bytes, fault.as_ref()) {
                tracing::debug!(error = %e, "sim: cannot send reply");
                return;
            }
        }
    }
}

fn take_fault(st: &mut State, command: Option<Command>) -> Option<Fault> {
    let at = st.faults.iter().position(|(on, _)| on.matches(command))?;
    st.faults.remove(at).map(|(_, f)| f)
}

fn status_frame(status: Status) -> Vec<u8> {
    let mut out = Vec::with_capacity(11);
    let _ = protocol::encode_reply(0, 0, status, &[], &mut out);
    out
}

fn data_frame(status: Status, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(11 + data.len());
    let _ = protocol::encode_reply(0, 0, status, data, &mut out);
    out
}

/// The reader's answer to `command`, updating the card state.
fn answer(
    st: &mut State,
    command: Command,
    fault: Option<&Fault>,
    options: &SimOptions,
) -> Vec<u8> {
    st.stats.commands += 1;
    if let Some(Fault::Status(status)) = fault {
        return status_frame(*status);
    }
    if matches!(fault, Some(Fault::RemoveCardDuringRead)) {
        st.card = None;
        st.phase = Phase::Fresh;
        if matches!(
            command,
            Command::ReadBase | Command::ReadWithFingerprint | Command::ReadAppendedAddress
        ) {
            return status_frame(Status::ReadFailed);
        }
    }
    let has_card = st.card.is_some();
    match command {
        Command::FindCard => {
            st.stats.finds += 1;
            let findable = match st.phase {
                Phase::Fresh | Phase::Found | Phase::Selected => true,
                Phase::Read => !options.halt_after_read,
            };
            if has_card && findable {
                st.phase = Phase::Found;
                data_frame(Status::FindSuccess, &[0; 4])
            } else {
                status_frame(Status::NoCard)
            }
        }
        Command::SelectCard => {
            if has_card && matches!(st.phase, Phase::Found | Phase::Selected) {
                st.phase = Phase::Selected;
                data_frame(Status::Success, &[0; 8])
            } else {
                status_frame(Status::SelectFailed)
            }
        }
        Command::ReadBase | Command::ReadWithFingerprint => {
            let (Some(card), Phase::Selected | Phase::Read) = (&st.card, st.phase) else {
                return status_frame(Status::ReadFailed);
            };
            let data = if command == Command::ReadBase {
                protocol::build_read_base(&card.text, &card.photo)
            } else {
                protocol::build_read_with_fingerprint(&card.text, &card.photo, &card.fingerprint)
            };
            let Some(mut data) = data else {
                return status_frame(Status::ReadFailed);
            };
            let frame = data_frame(Status::Success, &data);
            zeroize::Zeroize::zeroize(&mut data);
            st.phase = Phase::Read;
            st.read_at = Some(Instant::now());
            st.stats.reads += 1;
            frame
        }
        Command::ReadAppendedAddress => match (&st.card, st.phase) {
            (Some(card), Phase::Selected | Phase::Read) => match &card.appended_address {
                Some(bytes) => data_frame(Status::Success, bytes),
                None => status_frame(Status::NoContent),
            },
            _ => status_frame(Status::ReadFailed),
        },
        Command::SamStatus | Command::SetBaud(_) | Command::SetMaxRfByte(_) => {
            status_frame(Status::Success)
        }
        Command::SamId => data_frame(Status::Success, &options.sam_id),
        Command::ResetSam => {
            st.phase = Phase::Fresh;
            status_frame(Status::Success)
        }
    }
}

/// Noise with false preamble starts but never a whole preamble.
fn noise(n: usize) -> Vec<u8> {
    const PATTERN: [u8; 14] = [
        0x00, 0xFF, 0xAA, 0xAA, 0x96, 0x13, 0xAA, 0x55, 0x69, 0xAA, 0xAA, 0xAA, 0x96, 0x00,
    ];
    PATTERN.iter().copied().cycle().take(n).collect()
}

/// Sends a reply with its fault applied.
fn deliver(
    shared: &Shared,
    link: &mut dyn Link,
    mut bytes: Vec<u8>,
    fault: Option<&Fault>,
) -> Result<(), LinkError> {
    match fault {
        Some(Fault::NoReply) => bytes.clear(),
        Some(Fault::Noise(n)) => {
            let mut out = noise(*n);
            out.append(&mut bytes);
            bytes = out;
        }
        Some(Fault::BadChecksum) => {
            if let Some(last) = bytes.last_mut() {
                *last ^= 0x5A;
            }
        }
        Some(Fault::Truncated) => {
            let half = bytes.len() / 2;
            bytes.truncate(half);
        }
        Some(Fault::SlowReply(d)) => std::thread::sleep(*d),
        Some(Fault::RemoveCardDuringRead | Fault::Status(_)) | None => {}
    }
    if !bytes.is_empty() {
        {
            // Stamped just before the bytes go, so a reader of the stamp who has already
            // seen the reply never gets an older one.
            let mut st = shared.lock();
            st.stats.replies += 1;
            st.last_reply_at = Some(Instant::now());
        }
        link.send(&bytes)?;
        zeroize::Zeroize::zeroize(&mut bytes);
    }
    shared.changed.notify_all();
    Ok(())
}
