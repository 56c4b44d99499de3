//! A simulated locker bank: the BOARD side of the same RS485 protocol, at the other end of
//! any [`Link`] (an in-memory pair or a pty master). Not a mock of the driver.
//!
//! Boards have doors with feedback sensors (polarity per board or per door, as wired in the
//! installation). An unlock pulse opens the door unless it is jammed; an open door stays
//! open until a control call closes it (the resident or staff shutting it), or springs shut
//! after a set time. Faults are scripted at run time through [`SimControl`], a cloneable,
//! thread-safe handle: jam, stuck-open sensor, uncommanded open, a silent board, an absent
//! board, bad checksums, noise on the line, unplug/replug.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use kiosk_link::pty::{self, PtyGuard};
use kiosk_link::{Link, LinkError};

use crate::bank::Bank;
use crate::protocol::{
    Command, CommandDecoder, Door, HEADER_QUERY, HEADER_UNLOCK, MAX_STATUS_BYTES, Polarity, Reply,
    StatusBits, Switch,
};

/// One simulated board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBoardConfig {
    pub address: u8,
    pub channels: u8,
    /// Sensor polarity of every door on the board (see [`SimControl::set_polarity`] for one
    /// door).
    pub polarity: Polarity,
    /// Header of this board's lock replies: `8A` or `80` (vendors differ).
    pub reply_header: u8,
    /// Status bytes in a query-all reply (Open-Locker's 8-channel board sends 3).
    pub status_bytes: usize,
}

impl SimBoardConfig {
    pub fn new(address: u8, channels: u8) -> SimBoardConfig {
        SimBoardConfig {
            address,
            channels,
            polarity: Polarity::default(),
            reply_header: HEADER_UNLOCK,
            status_bytes: usize::from(channels).div_ceil(8).clamp(1, MAX_STATUS_BYTES),
        }
    }
}

/// The simulated bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    pub boards: Vec<SimBoardConfig>,
    /// An opened door closes by itself after this long (`None`: it stays open until closed
    /// through [`SimControl::close`]).
    pub spring_shut: Option<Duration>,
    /// Delay before answering an unlock (real boards: about 1 s).
    pub unlock_reply_delay: Duration,
    /// Delay before answering a query.
    pub reply_delay: Duration,
}

impl SimConfig {
    /// `boards` boards, addresses 1..=boards, `channels` locks each, all doors closed.
    pub fn uniform(boards: u8, channels: u8) -> SimConfig {
        SimConfig {
            boards: (1..=boards)
                .map(|a| SimBoardConfig::new(a, channels))
                .collect(),
            spring_shut: None,
            unlock_reply_delay: Duration::ZERO,
            reply_delay: Duration::ZERO,
        }
    }

    /// The hardware a bank configuration describes (sensors wired with the configured
    /// polarity).
    pub fn from_bank(bank: &Bank) -> SimConfig {
        SimConfig {
            boards: bank
                .boards()
                .iter()
                .map(|b| SimBoardConfig {
                    polarity: b.polarity,
                    ..SimBoardConfig::new(b.address, b.channels)
                })
                .collect(),
            spring_shut: None,
            unlock_reply_delay: Duration::ZERO,
            reply_delay: Duration::ZERO,
        }
    }
}

#[derive(Debug, Clone)]
struct SimDoor {
    open: bool,
    opened_at: Option<Instant>,
    jammed: bool,
    stuck_open: bool,
    polarity: Polarity,
    unlocks: u32,
}

impl SimDoor {
    fn sensor(&self) -> Switch {
        let door = if self.open || self.stuck_open {
            Door::Open
        } else {
            Door::Closed
        };
        self.polarity.switch(door)
    }

    fn pulse(&mut self, now: Instant) {
        self.unlocks = self.unlocks.saturating_add(1);
        if !self.jammed && !self.open {
            self.open = true;
            self.opened_at = Some(now);
        }
    }
}

#[derive(Debug)]
#[allow(clippy::struct_excessive_bools, reason = "independent fault switches")]
struct SimBoard {
    config: SimBoardConfig,
    present: bool,
    silent: bool,
    bad_checksum: bool,
    mute_unlock: bool,
    replies_left: Option<u32>,
    doors: Vec<SimDoor>,
}

/// Commands kept in the log for tests (the oldest are dropped beyond this).
const COMMAND_LOG_MAX: usize = 4096;

#[derive(Debug)]
struct SimState {
    boards: Vec<SimBoard>,
    spring_shut: Option<Duration>,
    unlock_reply_delay: Duration,
    reply_delay: Duration,
    noise: Vec<u8>,
    commands: Vec<Command>,
    skipped: u64,
    generation: u64,
    plugged: bool,
}

impl SimState {
    fn board_mut(&mut self, address: u8) -> Option<&mut SimBoard> {
        self.boards.iter_mut().find(|b| b.config.address == address)
    }

    fn door_mut(&mut self, board: u8, lock: u8) -> Option<&mut SimDoor> {
        let index = usize::from(lock).checked_sub(1)?;
        self.board_mut(board)?.doors.get_mut(index)
    }

    fn tick(&mut self, now: Instant) {
        let Some(after) = self.spring_shut else {
            return;
        };
        for door in self.boards.iter_mut().flat_map(|b| b.doors.iter_mut()) {
            if door.open && door.opened_at.is_some_and(|t| now >= t + after) {
                door.open = false;
                door.opened_at = None;
            }
        }
    }

    /// What the bus carries back for `cmd`: the reply bytes and the delay before them.
    fn handle(&mut self, cmd: Command, now: Instant) -> Option<(Vec<u8>, Duration)> {
        if self.commands.len() >= COMMAND_LOG_MAX {
            self.commands.remove(0);
        }
        self.commands.push(cmd);
        let (reply_delay, unlock_delay) = (self.reply_delay, self.unlock_reply_delay);
        let board = match cmd.board() {
            Some(address) => self.board_mut(address)?,
            None => self.boards.iter_mut().find(|b| b.present && !b.silent)?,
        };
        if !board.present || board.silent || board.replies_left == Some(0) {
            return None;
        }
        let header = board.config.reply_header;
        let address = board.config.address;
        let (reply, delay) = match cmd {
            Command::Unlock { lock, .. } => {
                let door = board.doors.get_mut(usize::from(lock).checked_sub(1)?)?;
                door.pulse(now);
                let reply = Reply::Lock {
                    header,
                    board: address,
                    lock,
                    switch: door.sensor(),
                };
                (reply, unlock_delay)
            }
            Command::UnlockAll { .. } => {
                for door in &mut board.doors {
                    door.pulse(now);
                }
                let reply = Reply::Lock {
                    header,
                    board: address,
                    lock: 0,
                    switch: Switch::Set,
                };
                (reply, unlock_delay)
            }
            Command::QueryLock { lock, .. } => {
                let door = board.doors.get(usize::from(lock).checked_sub(1)?)?;
                let reply = Reply::Lock {
                    header,
                    board: address,
                    lock,
                    switch: door.sensor(),
                };
                (reply, reply_delay)
            }
            Command::QueryAll { .. } => {
                let levels: Vec<Switch> = board.doors.iter().map(SimDoor::sensor).collect();
                let status = StatusBits::from_levels(&levels, board.config.status_bytes)?;
                (
                    Reply::All {
                        board: address,
                        status,
                    },
                    reply_delay,
                )
            }
            Command::FindAddress => (Reply::Address { address }, reply_delay),
        };
        if board.mute_unlock && matches!(cmd, Command::Unlock { .. } | Command::UnlockAll { .. }) {
            return None;
        }
        if let Some(left) = &mut board.replies_left {
            *left = left.saturating_sub(1);
        }
        let mut bytes = reply.encode();
        if board.bad_checksum
            && let Some(last) = bytes.last_mut()
        {
            *last ^= 0x5A;
        }
        let mut out = std::mem::take(&mut self.noise);
        out.extend_from_slice(&bytes);
        Some((out, delay))
    }
}

/// Run-time control of a simulated bank. Cheap to clone; every clone controls the same
/// boards, and every link served by it (after a replug, too) sees the same doors.
#[derive(Clone)]
pub struct SimControl {
    state: Arc<Mutex<SimState>>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimControl").finish_non_exhaustive()
    }
}

impl SimControl {
    pub fn new(config: &SimConfig) -> SimControl {
        let boards = config
            .boards
            .iter()
            .map(|b| SimBoard {
                config: b.clone(),
                present: true,
                silent: false,
                bad_checksum: false,
                mute_unlock: false,
                replies_left: None,
                doors: (0..b.channels)
                    .map(|_| SimDoor {
                        open: false,
                        opened_at: None,
                        jammed: false,
                        stuck_open: false,
                        polarity: b.polarity,
                        unlocks: 0,
                    })
                    .collect(),
            })
            .collect();
        SimControl {
            state: Arc::new(Mutex::new(SimState {
                boards,
                spring_shut: config.spring_shut,
                unlock_reply_delay: config.unlock_reply_delay,
                reply_delay: config.reply_delay,
                noise: Vec::new(),
                commands: Vec::new(),
                skipped: 0,
                generation: 0,
                plugged: true,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // Plain data; a panicking test thread cannot leave it half-updated in a way that
        // matters to the simulation.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_door<T>(&self, board: u8, lock: u8, f: impl FnOnce(&mut SimDoor) -> T) -> Option<T> {
        self.lock().door_mut(board, lock).map(f)
    }

    fn with_board(&self, board: u8, f: impl FnOnce(&mut SimBoard)) -> bool {
        self.lock().board_mut(board).map(f).is_some()
    }

    /// Jams a lock: its pulses no longer open the door (the board still acknowledges them).
    /// Returns false if there is no such lock.
    pub fn set_jammed(&self, board: u8, lock: u8, jammed: bool) -> bool {
        self.with_door(board, lock, |d| d.jammed = jammed).is_some()
    }

    /// Sticks a door's sensor on "open" whatever the door does.
    pub fn set_stuck_open(&self, board: u8, lock: u8, stuck: bool) -> bool {
        self.with_door(board, lock, |d| d.stuck_open = stuck)
            .is_some()
    }

    /// Opens a door with no command (forced, or a latch that let go).
    pub fn open_by_hand(&self, board: u8, lock: u8) -> bool {
        self.with_door(board, lock, |d| {
            if !d.open {
                d.open = true;
                d.opened_at = Some(Instant::now());
            }
        })
        .is_some()
    }

    /// Shuts a door (the resident or staff pushing it closed).
    pub fn close(&self, board: u8, lock: u8) -> bool {
        self.with_door(board, lock, |d| {
            d.open = false;
            d.opened_at = None;
        })
        .is_some()
    }

    /// Whether a door is physically open (`None` if there is no such lock).
    pub fn is_open(&self, board: u8, lock: u8) -> Option<bool> {
        self.with_door(board, lock, |d| d.open)
    }

    /// How many unlock pulses a lock has received.
    pub fn unlocks(&self, board: u8, lock: u8) -> u32 {
        self.with_door(board, lock, |d| d.unlocks).unwrap_or(0)
    }

    /// Rewires one door's sensor (per-compartment polarity).
    pub fn set_polarity(&self, board: u8, lock: u8, polarity: Polarity) -> bool {
        self.with_door(board, lock, |d| d.polarity = polarity)
            .is_some()
    }

    /// Takes a board off the bus (absent) or puts it back.
    pub fn set_present(&self, board: u8, present: bool) -> bool {
        self.with_board(board, |b| b.present = present)
    }

    /// Makes a present board stop answering (powered but hung) or answer again.
    pub fn set_silent(&self, board: u8, silent: bool) -> bool {
        self.with_board(board, |b| b.silent = silent)
    }

    /// The board fires its relays on unlock commands but does not answer them (queries
    /// are still answered): the kiosk cannot tell whether the relay fired.
    pub fn set_mute_unlock(&self, board: u8, mute: bool) -> bool {
        self.with_board(board, |b| b.mute_unlock = mute)
    }

    /// The board answers `replies` more commands, then goes silent (`None`: no limit).
    pub fn silence_after(&self, board: u8, replies: Option<u32>) -> bool {
        self.with_board(board, |b| b.replies_left = replies)
    }

    /// Makes a board's replies carry a wrong checksum.
    pub fn set_bad_checksum(&self, board: u8, bad: bool) -> bool {
        self.with_board(board, |b| b.bad_checksum = bad)
    }

    /// Sets which header a board's lock replies use (`8A` or `80`).
    pub fn set_reply_header(&self, board: u8, header: u8) -> bool {
        self.with_board(board, |b| b.config.reply_header = header)
    }

    /// Line noise sent just before the next reply.
    pub fn inject_noise(&self, bytes: &[u8]) {
        self.lock().noise.extend_from_slice(bytes);
    }

    /// Opened doors close by themselves after `after` (`None`: only [`SimControl::close`]).
    pub fn set_spring_shut(&self, after: Option<Duration>) {
        self.lock().spring_shut = after;
    }

    /// Every command the boards received, in order (the last 4096).
    pub fn commands(&self) -> Vec<Command> {
        self.lock().commands.clone()
    }

    /// Bytes the boards could not parse as a command (noise, garbled or interleaved frames).
    pub fn skipped_bytes(&self) -> u64 {
        self.lock().skipped
    }

    /// Pulls the cable: every link being served is dropped (the driver sees a disconnect)
    /// and [`SimControl::is_plugged`] says false until [`SimControl::replug`].
    pub fn unplug(&self) {
        let mut s = self.lock();
        s.generation += 1;
        s.plugged = false;
    }

    /// Plugs the cable back in (a new link can then be served).
    pub fn replug(&self) {
        self.lock().plugged = true;
    }

    pub fn is_plugged(&self) -> bool {
        self.lock().plugged
    }

    /// Serves the boards on `link` in a new thread until the link closes or
    /// [`SimControl::unplug`] is called.
    pub fn serve(&self, link: Box<dyn Link>) -> JoinHandle<()> {
        let control = self.clone();
        let generation = self.lock().generation;
        thread::Builder::new()
            .name("locker-sim".into())
            .spawn(move || control.serve_loop(link, generation))
            .unwrap_or_else(|_| thread::spawn(|| ()))
    }

    fn serve_loop(&self, mut link: Box<dyn Link>, generation: u64) {
        let mut decoder = CommandDecoder::default();
        let mut buf = [0u8; 256];
        let mut skipped_before = 0;
        loop {
            if self.lock().generation != generation {
                return;
            }
            let n = match link.recv(&mut buf, Duration::from_millis(5)) {
                Ok(n) => n,
                Err(e) if e.is_disconnect() => return,
                Err(e) => {
                    tracing::warn!(error = %e, "locker simulator: link error");
                    return;
                }
            };
            decoder.push(buf.get(..n).unwrap_or(&[]));
            let now = Instant::now();
            self.lock().tick(now);
            while let Some(cmd) = decoder.next_command() {
                let answer = {
                    let mut state = self.lock();
                    if state.generation != generation {
                        return;
                    }
                    state.handle(cmd, Instant::now())
                };
                if let Some((bytes, delay)) = answer {
                    if !delay.is_zero() {
                        thread::sleep(delay);
                    }
                    if link.send(&bytes).is_err() {
                        return;
                    }
                }
            }
            let skipped = decoder.skipped();
            if skipped != skipped_before {
                self.lock().skipped += skipped - skipped_before;
                skipped_before = skipped;
            }
        }
    }

    /// An opener for [`crate::handle::LockerHandle::spawn`] that plugs a fresh in-memory link
    /// into this simulator on every (re)connection, and fails while it is unplugged: the
    /// in-process simulated locker of `kiosk run --simulate` and of tests.
    pub fn opener(&self) -> crate::handle::Opener {
        let control = self.clone();
        Box::new(move || {
            if !control.is_plugged() {
                return Err(LinkError::Open {
                    port: "locker-sim".into(),
                    reason: "simulator unplugged".into(),
                });
            }
            let (driver_end, board_end) = kiosk_link::memory::pair();
            control.serve(Box::new(board_end));
            Ok(Box::new(driver_end) as Box<dyn Link>)
        })
    }

    /// Serves the boards on a new pseudo-terminal. With `path`, a symlink there points at
    /// the terminal a driver opens (an existing symlink is replaced). Keep the guard alive
    /// as long as the simulator should run.
    pub fn serve_pty(&self, path: Option<&Path>) -> Result<(PtyGuard, JoinHandle<()>), LinkError> {
        let (master, guard) = pty::open_pair(path)?;
        let handle = self.serve(Box::new(master));
        Ok((guard, handle))
    }
}

/// Header of replies boards use when asked for it by name on the command line.
pub fn parse_header(text: &str) -> Option<u8> {
    match text.trim().to_ascii_lowercase().trim_start_matches("0x") {
        "8a" => Some(HEADER_UNLOCK),
        "80" => Some(HEADER_QUERY),
        _ => None,
    }
}
