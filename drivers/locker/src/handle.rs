//! The locker device task. One OS thread owns the bus; the app holds a cloneable
//! [`LockerHandle`] with async `open`, `wait_closed` and `status`, the monitor's events on a
//! broadcast, and the device status and the bank's doors on watches.
//!
//! Several operations run at once (two residents at two doors, a staff member waiting for a
//! door to close, the monitor reading every board), interleaved one transaction at a time so
//! that commands never interleave on the wire. A silent board costs one reply timeout per
//! try and is then retried with back-off, so it degrades only its own compartments. When the
//! port fails the task goes offline and reconnects in the background with [`Backoff`].

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use kiosk_link::{Backoff, DeviceState, DeviceStatus, Link, LinkError, Port};
use tokio::sync::{broadcast, oneshot, watch};

use crate::bank::{Bank, CompartmentId};
use crate::driver::{
    BankStatus, Bus, CloseOutcome, OpenOp, OpenOutcome, Operation, Step, Target, Timeouts, TxError,
    WaitClosedOp, board_status,
};
use crate::monitor::{LockerEvent, MonitorConfig, Tracker};
use crate::protocol::{Command, Reply};

/// Serial speed of KR-style boards.
pub const DEFAULT_BAUD: u32 = 9600;

/// Opens the link to the bus (called again after every disconnect).
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn Link>, LinkError> + Send>;

/// Why a locker request could not be carried out at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockerError {
    #[error("the locker bus is offline")]
    Offline,
    #[error("no compartment {0} in the locker bank")]
    UnknownCompartment(CompartmentId),
    #[error("compartment {0} is already being opened")]
    Busy(CompartmentId),
    #[error("the locker device task has stopped")]
    Stopped,
}

/// Everything the device task needs besides the bank and the opener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleOptions {
    pub timeouts: Timeouts,
    pub monitor: MonitorConfig,
    /// First delay before reconnecting after the port failed. Default 500 ms.
    pub reconnect_initial: Duration,
    /// Longest delay between reconnection attempts. Default 30 s.
    pub reconnect_max: Duration,
}

impl Default for HandleOptions {
    fn default() -> Self {
        HandleOptions {
            timeouts: Timeouts::default(),
            monitor: MonitorConfig::default(),
            reconnect_initial: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
        }
    }
}

enum Request {
    Open {
        id: CompartmentId,
        reply: oneshot::Sender<Result<OpenOutcome, LockerError>>,
    },
    WaitClosed {
        id: CompartmentId,
        timeout: Duration,
        reply: oneshot::Sender<Result<CloseOutcome, LockerError>>,
    },
    Status {
        reply: oneshot::Sender<Result<BankStatus, LockerError>>,
    },
    Shutdown,
}

/// The app's handle on the locker bank. Cheap to clone.
#[derive(Clone)]
pub struct LockerHandle {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<LockerEvent>,
    status: watch::Receiver<DeviceStatus>,
    doors: watch::Receiver<BankStatus>,
    bank: Bank,
}

impl std::fmt::Debug for LockerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockerHandle")
            .field("status", &*self.status.borrow())
            .finish_non_exhaustive()
    }
}

impl LockerHandle {
    /// Starts the device task on its own thread.
    pub fn spawn(bank: Bank, opener: Opener, options: HandleOptions) -> LockerHandle {
        let (requests, rx) = mpsc::channel();
        let (events, _) = broadcast::channel(256);
        let (status_tx, status) =
            watch::channel(DeviceStatus::new(DeviceState::Offline, "starting"));
        let now = Instant::now();
        let tracker = Tracker::new(bank.clone(), options.monitor, now);
        let (doors_tx, doors) = watch::channel(tracker.snapshot(false));
        let task = Task {
            opener,
            options,
            requests: rx,
            events: events.clone(),
            status: status_tx,
            doors: doors_tx,
            tracker,
            bus: None,
            jobs: Vec::new(),
            backoff: Backoff::new(options.reconnect_initial, options.reconnect_max),
            next_connect: now,
        };
        let spawned = thread::Builder::new()
            .name("locker".into())
            .spawn(move || task.run());
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the locker task");
        }
        LockerHandle {
            requests,
            events,
            status,
            doors,
            bank,
        }
    }

    /// Starts the device task on a configured port (9600 baud unless the port says).
    pub fn for_port(bank: Bank, port: Port, options: HandleOptions) -> LockerHandle {
        let opener: Opener = Box::new(move || kiosk_link::open(&port, DEFAULT_BAUD));
        LockerHandle::spawn(bank, opener, options)
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    /// Opens a compartment: reads its door, pulses the lock once, and waits for the sensor
    /// to say open (see [`OpenOutcome`]). The unlock is never re-sent. The request is queued
    /// when this is called; the future only waits for the outcome.
    pub fn open(
        &self,
        id: &CompartmentId,
    ) -> impl Future<Output = Result<OpenOutcome, LockerError>> + Send + 'static {
        let (reply, rx) = oneshot::channel();
        let sent = self.send(Request::Open {
            id: id.clone(),
            reply,
        });
        answer(sent, rx)
    }

    /// Waits up to `timeout` for a compartment's door to be closed.
    pub fn wait_closed(
        &self,
        id: &CompartmentId,
        timeout: Duration,
    ) -> impl Future<Output = Result<CloseOutcome, LockerError>> + Send + 'static {
        let (reply, rx) = oneshot::channel();
        let sent = self.send(Request::WaitClosed {
            id: id.clone(),
            timeout,
            reply,
        });
        answer(sent, rx)
    }

    /// Reads every board now (one query-all each) and returns the doors.
    pub fn status(&self) -> impl Future<Output = Result<BankStatus, LockerError>> + Send + 'static {
        let (reply, rx) = oneshot::channel();
        let sent = self.send(Request::Status { reply });
        answer(sent, rx)
    }

    /// The monitor's events (staff alerts, door changes, boards offline/online).
    pub fn subscribe(&self) -> broadcast::Receiver<LockerEvent> {
        self.events.subscribe()
    }

    /// The device state (offline while the port is down; detail names silent boards).
    pub fn device_status(&self) -> watch::Receiver<DeviceStatus> {
        self.status.clone()
    }

    /// The doors as last seen by the monitor (no bus traffic).
    pub fn doors(&self) -> watch::Receiver<BankStatus> {
        self.doors.clone()
    }

    /// Stops the device task (also happens when every handle is dropped).
    pub fn shutdown(&self) {
        let _ = self.requests.send(Request::Shutdown);
    }

    fn send(&self, request: Request) -> Result<(), LockerError> {
        self.requests
            .send(request)
            .map_err(|_| LockerError::Stopped)
    }
}

async fn answer<T>(
    sent: Result<(), LockerError>,
    rx: oneshot::Receiver<Result<T, LockerError>>,
) -> Result<T, LockerError> {
    sent?;
    rx.await.map_err(|_| LockerError::Stopped)?
}

enum Job {
    Open {
        op: OpenOp,
        id: CompartmentId,
        reply: oneshot::Sender<Result<OpenOutcome, LockerError>>,
    },
    WaitClosed {
        op: WaitClosedOp,
        reply: oneshot::Sender<Result<CloseOutcome, LockerError>>,
    },
    Status {
        boards: Vec<u8>,
        done: BankStatus,
        reply: oneshot::Sender<Result<BankStatus, LockerError>>,
    },
}

/// What the task will do next.
enum Next {
    Job(usize, Command),
    Monitor(u8),
    Wait(Instant),
}

struct Task {
    opener: Opener,
    options: HandleOptions,
    requests: mpsc::Receiver<Request>,
    events: broadcast::Sender<LockerEvent>,
    status: watch::Sender<DeviceStatus>,
    doors: watch::Sender<BankStatus>,
    tracker: Tracker,
    bus: Option<Bus>,
    jobs: Vec<Job>,
    backoff: Backoff,
    next_connect: Instant,
}

impl Task {
    fn run(mut self) {
        loop {
            let now = Instant::now();
            if self.bus.is_none() && now >= self.next_connect {
                self.connect(now);
            }
            // Take every waiting request without blocking.
            loop {
                match self.requests.try_recv() {
                    Ok(Request::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => return,
                    Ok(request) => self.accept(request),
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            let wake = if self.bus.is_some() {
                match self.next(Instant::now()) {
                    Next::Job(i, cmd) => {
                        self.run_job(i, cmd);
                        continue;
                    }
                    Next::Monitor(board) => {
                        self.run_monitor(board);
                        continue;
                    }
                    Next::Wait(t) => t,
                }
            } else {
                self.next_connect
            };
            let wait = wake.saturating_duration_since(Instant::now());
            match self.requests.recv_timeout(wait) {
                Ok(Request::Shutdown) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(request) => self.accept(request),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn connect(&mut self, now: Instant) {
        match (self.opener)() {
            Ok(link) => {
                tracing::info!(port = %link.describe(), "locker bus connected");
                self.bus = Some(Bus::new(link, self.options.timeouts));
                self.backoff.reset();
                self.tracker.poll_all_now(now);
                self.publish();
            }
            Err(e) => {
                let delay = self.backoff.next_delay();
                tracing::warn!(error = %e, retry_in = ?delay, "locker bus unavailable");
                self.next_connect = now + delay;
                self.status
                    .send_replace(DeviceStatus::new(DeviceState::Offline, e.to_string()));
            }
        }
    }

    fn disconnect(&mut self, error: &LinkError) {
        tracing::warn!(error = %error, "locker bus lost");
        self.bus = None;
        let now = Instant::now();
        self.next_connect = now + self.backoff.next_delay();
        for job in self.jobs.drain(..) {
            match job {
                Job::Open { mut op, id, reply } => {
                    let outcome = op.abort();
                    let _ = self.events.send(LockerEvent::OpenFinished {
                        compartment: id,
                        outcome,
                    });
                    let _ = reply.send(Ok(outcome));
                }
                Job::WaitClosed { op, reply } => {
                    let _ = reply.send(Ok(op.abort()));
                }
                Job::Status { reply, .. } => {
                    let _ = reply.send(Err(LockerError::Offline));
                }
            }
        }
        self.status
            .send_replace(DeviceStatus::new(DeviceState::Offline, error.to_string()));
        self.doors.send_replace(self.tracker.snapshot(false));
    }

    fn accept(&mut self, request: Request) {
        let bank = self.tracker.bank();
        let target = |id: &CompartmentId| {
            bank.compartment(id)
                .map(|c| Target {
                    board: c.board,
                    lock: c.lock,
                    polarity: c.polarity,
                })
                .ok_or_else(|| LockerError::UnknownCompartment(id.clone()))
        };
        let online = self.bus.is_some();
        match request {
            Request::Open { id, reply } => {
                let busy = self
                    .jobs
                    .iter()
                    .any(|j| matches!(j, Job::Open { id: other, .. } if *other == id));
                let result = target(&id).and_then(|t| {
                    if !online {
                        Err(LockerError::Offline)
                    } else if busy {
                        Err(LockerError::Busy(id.clone()))
                    } else {
                        Ok(t)
                    }
                });
                match result {
                    Ok(t) => self.jobs.push(Job::Open {
                        op: OpenOp::new(t, self.options.timeouts),
                        id,
                        reply,
                    }),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Request::WaitClosed { id, timeout, reply } => match target(&id) {
                Ok(_) if !online => {
                    let _ = reply.send(Err(LockerError::Offline));
                }
                Ok(t) => self.jobs.push(Job::WaitClosed {
                    op: WaitClosedOp::new(
                        t,
                        timeout,
                        self.options.timeouts.poll_interval,
                        Instant::now(),
                    ),
                    reply,
                }),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Request::Status { reply } => {
                if online {
                    let mut boards: Vec<u8> = bank.boards().iter().map(|b| b.address).collect();
                    boards.reverse();
                    self.jobs.push(Job::Status {
                        boards,
                        done: BankStatus::default(),
                        reply,
                    });
                } else {
                    let _ = reply.send(Err(LockerError::Offline));
                }
            }
            Request::Shutdown => {}
        }
    }

    /// Finishes done jobs and picks the next transaction: the earliest due job (in arrival
    /// order), else the earliest due monitor poll, else the time to wake up.
    fn next(&mut self, now: Instant) -> Next {
        let mut wake: Option<Instant> = None;
        let mut i = 0;
        let mut ready = None;
        while i < self.jobs.len() {
            let step = match self.jobs.get_mut(i) {
                Some(Job::Open { op, .. }) => op.step(now).map(|_| ()),
                Some(Job::WaitClosed { op, .. }) => op.step(now).map(|_| ()),
                Some(Job::Status { boards, .. }) => match boards.last() {
                    Some(&board) => Step::Send(Command::QueryAll { board }),
                    None => Step::Done(()),
                },
                None => break,
            };
            match step {
                Step::Done(()) => {
                    self.finish(i, now);
                    continue;
                }
                Step::Send(cmd) => {
                    if ready.is_none() {
                        ready = Some((i, cmd));
                    }
                }
                Step::WaitUntil(t) => wake = Some(wake.map_or(t, |w| w.min(t))),
            }
            i += 1;
        }
        if let Some((i, cmd)) = ready {
            return Next::Job(i, cmd);
        }
        match self.tracker.next_poll() {
            Some((board, due)) if due <= now => Next::Monitor(board),
            Some((_, due)) => Next::Wait(wake.map_or(due, |w| w.min(due))),
            None => Next::Wait(wake.unwrap_or(now + Duration::from_mins(1))),
        }
    }

    fn finish(&mut self, i: usize, now: Instant) {
        if i >= self.jobs.len() {
            return;
        }
        match self.jobs.remove(i) {
            Job::Open { mut op, id, reply } => {
                if let Step::Done(outcome) = op.step(now) {
                    tracing::info!(compartment = %id, ?outcome, "locker open finished");
                    let _ = self.events.send(LockerEvent::OpenFinished {
                        compartment: id,
                        outcome,
                    });
                    let _ = reply.send(Ok(outcome));
                }
            }
            Job::WaitClosed { mut op, reply } => {
                if let Step::Done(outcome) = op.step(now) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Job::Status {
                mut done, reply, ..
            } => {
                done.boards.sort_by_key(|b| b.board);
                let _ = reply.send(Ok(done));
            }
        }
    }

    /// One transaction on the bus, with everything learnt from it fed to the tracker.
    /// `None` when the link failed (the task is then offline).
    fn transact(&mut self, cmd: Command) -> Option<Result<Reply, TxError>> {
        let bus = self.bus.as_mut()?;
        let result = bus.transact(cmd);
        let now = Instant::now();
        if let Err(TxError::Link(e)) = &result {
            self.disconnect(e);
            return None;
        }
        let mut events = Vec::new();
        if let Some(board) = cmd.board() {
            events.extend(self.tracker.board_result(board, result.is_ok()));
        }
        match (&cmd, &result) {
            (Command::QueryLock { board, lock }, Ok(Reply::Lock { switch, .. })) => {
                if let Some(c) = self.tracker.bank().at(*board, *lock) {
                    let (id, door) = (c.id.clone(), c.polarity.door(*switch));
                    events.extend(self.tracker.observe(&id, door, now));
                }
            }
            (Command::QueryAll { board }, Ok(Reply::All { status, .. })) => {
                events.extend(self.tracker.observe_all(*board, status, now));
            }
            _ => {}
        }
        for event in events {
            tracing::info!(?event, "locker event");
            let _ = self.events.send(event);
        }
        self.publish();
        Some(result)
    }

    fn run_job(&mut self, i: usize, cmd: Command) {
        if let (Command::Unlock { .. }, Some(Job::Open { id, .. })) = (cmd, self.jobs.get(i)) {
            // Mark before sending: a door seen open from now on is the kiosk's doing.
            let t = self.options.timeouts;
            let until = Instant::now() + t.reply + t.open_confirm + self.options.monitor.interval;
            let id = id.clone();
            self.tracker.commanded(&id, until);
        }
        let Some(result) = self.transact(cmd) else {
            return;
        };
        let now = Instant::now();
        match self.jobs.get_mut(i) {
            Some(Job::Open { op, .. }) => op.reply(result.as_ref(), now),
            Some(Job::WaitClosed { op, .. }) => op.reply(result.as_ref(), now),
            Some(Job::Status { boards, done, .. }) => {
                if let Some(board) = boards.pop() {
                    let fallback = TxError::NoReply { board };
                    let status = match &result {
                        Ok(Reply::All { status, .. }) => Ok(status),
                        Ok(_) => Err(&fallback),
                        Err(e) => Err(e),
                    };
                    let bank = self.tracker.bank();
                    done.boards
                        .push(board_status(bank, board, bank.polarity(), status));
                }
            }
            None => {}
        }
    }

    fn run_monitor(&mut self, board: u8) {
        if self.transact(Command::QueryAll { board }).is_some() {
            self.tracker.polled(board, Instant::now());
        }
    }

    fn publish(&mut self) {
        if self.bus.is_none() {
            return;
        }
        let offline = self.tracker.offline_boards();
        let total = self.tracker.bank().boards().len();
        let status = if offline.is_empty() {
            DeviceStatus::online()
        } else if offline.len() >= total {
            DeviceStatus::new(DeviceState::Offline, "no lock board answers")
        } else {
            let list: Vec<String> = offline.iter().map(ToString::to_string).collect();
            DeviceStatus::new(
                DeviceState::Online,
                format!("board {} not answering", list.join(", ")),
            )
        };
        self.status.send_if_modified(|s| {
            if *s == status {
                false
            } else {
                *s = status;
                true
            }
        });
        let snapshot = self.tracker.snapshot(true);
        self.doors.send_if_modified(|d| {
            if *d == snapshot {
                false
            } else {
                *d = snapshot;
                true
            }
        });
    }
}
