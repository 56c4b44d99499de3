//! The device task: one OS thread owns the driver; the app holds a cloneable [`Handle`].
//!
//! While online and idle the task sends find card every [`Options::poll_interval`]. A found
//! card is selected and read once; [`Event::CardPresented`] carries the identity. The same
//! card is not read again until find has answered "no card" (`80`) at least once, which is
//! when [`Event::CardRemoved`] is sent. Note that real readers answer `80` right after a read
//! even while the card still lies there (reference A.3), so `CardRemoved` means "the reader
//! is done with that card", not necessarily "the card was lifted".
//!
//! When the link fails (unplugged adapter, closed pty) or the reader stops answering, the
//! status goes `Offline` and the task reopens the port through the opener with
//! [`kiosk_link::Backoff`], coming back `Online` by itself.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kiosk_link::{Backoff, DeviceState, DeviceStatus, Link, LinkError};
use tokio::sync::{broadcast, oneshot, watch};

use crate::driver::{Driver, ReadOptions, Timeouts, deadline_after};
use crate::error::Error;
use crate::identity::Identity;
use crate::protocol::SamId;

/// Opens (and after a failure, reopens) the link to the reader.
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn Link>, LinkError> + Send>;

/// Default time between two find commands while idle (the 200 ms; [G-HEV] uses 1 s).
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Default number of attempts to read a card that was found, before giving up on it.
pub const READ_ATTEMPTS: u32 = 3;
/// Consecutive failed finds (no reply, cut short, bad checksum) after which the reader is
/// taken as gone and the port is reopened.
pub const OFFLINE_AFTER_FAILURES: u32 = 3;
/// First delay before reopening the port.
pub const RECONNECT_INITIAL: Duration = Duration::from_millis(250);
/// Longest delay between two attempts to reopen the port.
pub const RECONNECT_MAX: Duration = Duration::from_secs(10);
/// Capacity of the event channel (a slow subscriber loses the oldest events).
pub const EVENT_CAPACITY: usize = 32;

/// How the device task behaves. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Per-command deadlines.
    pub timeouts: Timeouts,
    /// Time between two finds while idle.
    pub poll_interval: Duration,
    /// What a read fetches.
    pub read: ReadOptions,
    /// Attempts to read one presented card before [`Event::CardReadFailed`].
    pub read_attempts: u32,
    /// Consecutive transport failures of find before going offline and reconnecting.
    pub offline_after_failures: u32,
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
    /// Serial speed when the port does not say (`serial:PATH@BAUD` overrides it).
    pub baud: u32,
    /// Start polling at once (the app can pause with [`Handle::set_polling`]).
    pub polling: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeouts: Timeouts::default(),
            poll_interval: POLL_INTERVAL,
            read: ReadOptions::default(),
            read_attempts: READ_ATTEMPTS,
            offline_after_failures: OFFLINE_AFTER_FAILURES,
            reconnect_initial: RECONNECT_INITIAL,
            reconnect_max: RECONNECT_MAX,
            baud: crate::transport::DEFAULT_BAUD,
            polling: true,
        }
    }
}

/// What the reader reports to the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// A card was found and is being read (show "keep the card still").
    CardDetected,
    /// A card was read and checked. Shared, and wiped from memory when the last copy drops.
    CardPresented(Arc<Identity>),
    /// A found card could not be read after all attempts, or left before it was read. The
    /// error carries no card text.
    CardReadFailed(Arc<Error>),
    /// The reader reports no card after one was detected (see the module notes).
    CardRemoved,
}

enum Request {
    SamId(oneshot::Sender<Result<SamId, Error>>),
    SelfTest(oneshot::Sender<Result<(), Error>>),
    Reset(oneshot::Sender<Result<(), Error>>),
    SetPolling(bool, oneshot::Sender<Result<(), Error>>),
}

/// The app's handle on the ID-card reader task. Cheap to clone; the task stops when the last
/// handle is dropped.
#[derive(Clone)]
pub struct Handle {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<Event>,
    status: watch::Receiver<DeviceStatus>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("status", &*self.status.borrow())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// Starts the device task on its own thread. `opener` is called to open the port, and
    /// again after every failure (see [`crate::transport::opener`] for a real port and
    /// [`crate::sim::SimControl::opener`] for the simulator).
    pub fn spawn(opener: Opener, options: Options) -> Handle {
        let (req_tx, req_rx) = mpsc::channel();
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (status_tx, status_rx) =
            watch::channel(DeviceStatus::new(DeviceState::Offline, "starting"));
        let task = Task {
            backoff: Backoff::new(options.reconnect_initial, options.reconnect_max),
            polling: options.polling,
            opener,
            options,
            requests: req_rx,
            events: events.clone(),
            status: status_tx,
            driver: None,
            card: CardState::Idle,
            failures: 0,
        };
        let spawned = std::thread::Builder::new()
            .name("idcard".into())
            .spawn(move || task.run());
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the ID-card reader thread");
        }
        Handle {
            requests: req_tx,
            events,
            status: status_rx,
        }
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The device status (online, offline, hardware error), updated as it changes.
    pub fn status(&self) -> watch::Receiver<DeviceStatus> {
        self.status.clone()
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, Error>>) -> Request,
    ) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(make(tx)).map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// The SAM id (`12 FF`), for the technician screen.
    pub async fn sam_id(&self) -> Result<SamId, Error> {
        self.call(Request::SamId).await
    }

    /// SAM status check (`11 FF`).
    pub async fn self_test(&self) -> Result<(), Error> {
        self.call(Request::SelfTest).await
    }

    /// Resets the SAM (`10 FF`); a card on the reader will be found and read again.
    pub async fn reset(&self) -> Result<(), Error> {
        self.call(Request::Reset).await
    }

    /// Pauses or resumes polling for cards (e.g. on screens that do not take a card).
    pub async fn set_polling(&self, on: bool) -> Result<(), Error> {
        self.call(|tx| Request::SetPolling(on, tx)).await
    }
}

enum CardState {
    /// No card known.
    Idle,
    /// Found; reading (attempts so far, last failure).
    Reading { attempts: u32, last: Option<Error> },
    /// Read (or given up on); waiting for "no card".
    Done,
}

struct Task {
    opener: Opener,
    options: Options,
    requests: mpsc::Receiver<Request>,
    events: broadcast::Sender<Event>,
    status: watch::Sender<DeviceStatus>,
    driver: Option<Driver>,
    card: CardState,
    failures: u32,
    backoff: Backoff,
    polling: bool,
}

impl Task {
    fn run(mut self) {
        tracing::debug!("idcard task started");
        loop {
            if self.driver.is_none() && !self.connect() {
                let delay = self.backoff.next_delay();
                if !self.serve_requests_until(deadline_after(Instant::now(), delay)) {
                    break;
                }
                continue;
            }
            if self.polling {
                self.poll_once();
            }
            let next = deadline_after(Instant::now(), self.options.poll_interval);
            if !self.serve_requests_until(next) {
                break;
            }
        }
        tracing::debug!("idcard task stopped");
    }

    fn set_status(&self, status: DeviceStatus) {
        self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                tracing::info!(state = ?status.state, detail = ?status.detail, "idcard status");
                *current = status;
                true
            }
        });
    }

    fn emit(&self, event: Event) {
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    /// Opens the port and checks the SAM answers. `false` when still offline.
    fn connect(&mut self) -> bool {
        let link = match (self.opener)() {
            Ok(link) => link,
            Err(e) => {
                tracing::debug!(error = %e, "idcard: cannot open port");
                self.set_status(DeviceStatus::new(DeviceState::Offline, e.to_string()));
                return false;
            }
        };
        let mut driver = Driver::new(link, self.options.timeouts);
        match driver.sam_status() {
            Ok(()) => {
                tracing::info!(port = %driver.describe(), "idcard reader online");
                self.driver = Some(driver);
                self.backoff.reset();
                self.failures = 0;
                self.set_status(DeviceStatus::online());
                true
            }
            Err(e @ Error::Status { .. }) => {
                // Answering, but the SAM is unwell: keep the link and keep checking.
                self.driver = Some(driver);
                self.backoff.reset();
                self.set_status(DeviceStatus::new(DeviceState::HardwareError, e.to_string()));
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "idcard: reader not answering after open");
                self.set_status(DeviceStatus::new(DeviceState::Offline, e.to_string()));
                false
            }
        }
    }

    fn go_offline(&mut self, error: &Error) {
        tracing::warn!(error = %error, "idcard reader offline; reconnecting");
        self.driver = None;
        self.failures = 0;
        if !matches!(self.card, CardState::Idle) {
            self.card = CardState::Idle;
            self.emit(Event::CardRemoved);
        }
        self.set_status(DeviceStatus::new(DeviceState::Offline, error.to_string()));
    }

    /// Serves requests until `deadline`. `false` when every handle is gone.
    fn serve_requests_until(&mut self, deadline: Instant) -> bool {
        loop {
            let now = Instant::now();
            let wait = deadline.saturating_duration_since(now);
            match self.requests.recv_timeout(wait) {
                Ok(request) => self.handle_request(request),
                Err(mpsc::RecvTimeoutError::Timeout) => return true,
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
            if Instant::now() >= deadline {
                return true;
            }
        }
    }

    fn with_driver<T>(
        &mut self,
        f: impl FnOnce(&mut Driver) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let Some(driver) = self.driver.as_mut() else {
            return Err(Error::Offline);
        };
        let result = f(driver);
        if let Err(e) = &result
            && e.is_disconnect()
        {
            let e = Error::Offline;
            self.go_offline(&e);
        }
        result
    }

    fn handle_request(&mut self, request: Request) {
        match request {
            Request::SamId(reply) => {
                let r = self.with_driver(Driver::sam_id);
                let _ = reply.send(r);
            }
            Request::SelfTest(reply) => {
                let r = self.with_driver(Driver::sam_status);
                if r.is_ok() && self.driver.is_some() {
                    self.set_status(DeviceStatus::online());
                }
                let _ = reply.send(r);
            }
            Request::Reset(reply) => {
                let r = self.with_driver(Driver::reset_sam);
                if r.is_ok() {
                    self.card = CardState::Idle;
                }
                let _ = reply.send(r);
            }
            Request::SetPolling(on, reply) => {
                self.polling = on;
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn poll_once(&mut self) {
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        if self.status.borrow().state == DeviceState::HardwareError {
            // Wait for the SAM to recover before looking for cards.
            match driver.sam_status() {
                Ok(()) => self.set_status(DeviceStatus::online()),
                Err(e) if e.is_disconnect() || e.is_transport() => self.go_offline(&e),
                Err(_) => {}
            }
            return;
        }
        match driver.find_card() {
            Ok(true) => {
                self.failures = 0;
                match self.card {
                    CardState::Idle => {
                        self.emit(Event::CardDetected);
                        self.card = CardState::Reading {
                            attempts: 0,
                            last: None,
                        };
                        self.try_read();
                    }
                    CardState::Reading { .. } => self.try_read(),
                    CardState::Done => {}
                }
            }
            Ok(false) => {
                self.failures = 0;
                match std::mem::replace(&mut self.card, CardState::Idle) {
                    CardState::Idle => {}
                    CardState::Reading { last, .. } => {
                        let error = last.unwrap_or(Error::Status {
                            command: crate::protocol::Command::FindCard,
                            status: crate::protocol::Status::NoCard,
                            sw1: 0,
                            sw2: 0,
                        });
                        self.emit(Event::CardReadFailed(Arc::new(error)));
                        self.emit(Event::CardRemoved);
                    }
                    CardState::Done => self.emit(Event::CardRemoved),
                }
            }
            Err(e) if e.is_disconnect() => self.go_offline(&e),
            Err(e @ Error::Status { .. }) => {
                tracing::warn!(error = %e, "idcard: find refused");
                self.set_status(DeviceStatus::new(DeviceState::HardwareError, e.to_string()));
            }
            Err(e) => {
                self.failures += 1;
                tracing::debug!(error = %e, failures = self.failures, "idcard: find failed");
                if self.failures >= self.options.offline_after_failures {
                    self.go_offline(&e);
                }
            }
        }
    }

    fn try_read(&mut self) {
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        let CardState::Reading { attempts, .. } = self.card else {
            return;
        };
        match driver.read_identity(&self.options.read) {
            Ok(identity) => {
                tracing::info!(card_type = identity.card_type.as_str(), "idcard: card read");
                self.card = CardState::Done;
                self.emit(Event::CardPresented(Arc::new(identity)));
            }
            Err(e) if e.is_disconnect() => self.go_offline(&e),
            Err(e) => {
                let attempts = attempts + 1;
                tracing::info!(error = %e, attempts, "idcard: read failed");
                // Bad card data does not improve by reading again.
                let hopeless = matches!(e, Error::Identity(_) | Error::Malformed { .. });
                if hopeless || attempts >= self.options.read_attempts {
                    self.card = CardState::Done;
                    self.emit(Event::CardReadFailed(Arc::new(e)));
                } else {
                    self.card = CardState::Reading {
                        attempts,
                        last: Some(e),
                    };
                }
            }
        }
    }
}
