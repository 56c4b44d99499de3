//! The scanner's device task: one OS thread owns the SANE device and does every scan, so the
//! UI thread never waits on the scanner. The app holds a cloneable [`Handle`]: commands go in
//! over a channel (async methods returning `Result`), progress and page events come out on a
//! broadcast, and the current [`DeviceStatus`] is on a watch.
//!
//! When the device cannot be opened, or is lost in the middle of a page, the task goes
//! Offline, closes it and reopens it in the background with [`Backoff`], coming back Online
//! without a restart. A jam or open cover leaves it in `HardwareError` until a scan works.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kiosk_link::{Backoff, DeviceState, DeviceStatus};
use tokio::sync::{broadcast, oneshot, watch};

use crate::driver::{CancelToken, ScanEvent, Scanner};
use crate::encode::EncodeOptions;
use crate::error::ScanError;
use crate::options::ScanSettings;
use crate::sim::Fault;
use crate::store::{PageStore, StoredPage};

/// How the device task is set up.
#[derive(Debug, Clone)]
pub struct HandleConfig {
    /// SANE device name, e.g. `test:0` or `genesys:libusb:001:004`.
    pub device: String,
    /// Where pages are stored (by content hash).
    pub store_dir: PathBuf,
    pub encode: EncodeOptions,
    /// First delay before reopening a lost device; doubles up to `reconnect_max`.
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
}

impl HandleConfig {
    /// Defaults: reconnect after 0.5 s, backing off to 30 s.
    pub fn new(device: impl Into<String>, store_dir: impl Into<PathBuf>) -> Self {
        HandleConfig {
            device: device.into(),
            store_dir: store_dir.into(),
            encode: EncodeOptions::default(),
            reconnect_initial: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, ScanError>>;

enum Command {
    Scan {
        settings: ScanSettings,
        cancel: CancelToken,
        reply: Reply<Vec<StoredPage>>,
    },
    SetOption {
        name: String,
        value: String,
        reply: Reply<()>,
    },
    Shutdown,
}

/// The app's side of the scanner task. Cheap to clone; the task stops when the last clone is
/// dropped (or on [`Handle::shutdown`]).
#[derive(Clone)]
pub struct Handle {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<ScanEvent>,
    status: watch::Receiver<DeviceStatus>,
    /// Scans requested and not finished, so that `cancel` reaches queued ones too.
    active: Arc<Mutex<Vec<CancelToken>>>,
    store: PageStore,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("status", &*self.status.borrow())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// Starts the device task. The device is opened in the background; watch
    /// [`Handle::status`] for it to come Online.
    pub fn spawn(config: HandleConfig) -> Result<Handle, ScanError> {
        let store = PageStore::open(&config.store_dir)?;
        let (commands, rx) = mpsc::channel();
        let (events, _) = broadcast::channel(256);
        let (status_tx, status) =
            watch::channel(DeviceStatus::new(DeviceState::Offline, "starting"));
        let task = Task {
            config,
            store: store.clone(),
            events: events.clone(),
            status: status_tx,
        };
        std::thread::Builder::new()
            .name("scanner".into())
            .spawn(move || task.run(&rx))
            .map_err(|e| ScanError::Unavailable {
                detail: format!("cannot start the scanner thread: {e}"),
            })?;
        Ok(Handle {
            commands,
            events,
            status,
            active: Arc::default(),
            store,
        })
    }

    /// Page, progress and status events.
    pub fn subscribe(&self) -> broadcast::Receiver<ScanEvent> {
        self.events.subscribe()
    }

    /// The device status (watch it for changes).
    pub fn status(&self) -> watch::Receiver<DeviceStatus> {
        self.status.clone()
    }

    /// The page store the task writes into.
    pub fn store(&self) -> &PageStore {
        &self.store
    }

    /// Scans one flatbed page or a feeder batch. See [`Scanner::scan`].
    pub async fn scan(&self, settings: ScanSettings) -> Result<Vec<StoredPage>, ScanError> {
        let cancel = CancelToken::new();
        self.active_list().push(cancel.clone());
        // Forgets the token however this future ends (finished, or dropped by the caller; a
        // dropped scan still runs to its end on the device thread).
        let _forget = Forget {
            active: &self.active,
            token: &cancel,
        };
        let (reply, answer) = oneshot::channel();
        let sent = self.commands.send(Command::Scan {
            settings,
            cancel: cancel.clone(),
            reply,
        });
        match sent {
            Ok(()) => answer.await.unwrap_or(Err(ScanError::Stopped)),
            Err(_) => Err(ScanError::Stopped),
        }
    }

    /// Cancels the scan in progress and any scan waiting for it. The scan ends with
    /// [`ScanError::Cancelled`]; pages already stored stay.
    pub fn cancel(&self) {
        for token in self.active_list().iter() {
            token.cancel();
        }
    }

    /// Sets a backend option from text (technician use and the `test` backend's knobs).
    pub async fn set_option(&self, name: &str, value: &str) -> Result<(), ScanError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::SetOption {
                name: name.to_owned(),
                value: value.to_owned(),
                reply,
            })
            .map_err(|_| ScanError::Stopped)?;
        answer.await.unwrap_or(Err(ScanError::Stopped))
    }

    /// Makes the `test` backend fail every read with `fault` (simulator control).
    pub async fn inject_fault(&self, fault: Fault) -> Result<(), ScanError> {
        self.set_option(
            crate::sim::options::READ_RETURN_VALUE,
            fault.read_return_value(),
        )
        .await
    }

    /// Stops the task (the device is closed).
    pub fn shutdown(&self) {
        self.cancel();
        let _ = self.commands.send(Command::Shutdown);
    }

    fn active_list(&self) -> std::sync::MutexGuard<'_, Vec<CancelToken>> {
        self.active.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Forget<'a> {
    active: &'a Mutex<Vec<CancelToken>>,
    token: &'a CancelToken,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|t| !t.same(self.token));
    }
}

struct Task {
    config: HandleConfig,
    store: PageStore,
    events: broadcast::Sender<ScanEvent>,
    status: watch::Sender<DeviceStatus>,
}

impl Task {
    fn set_status(&self, status: DeviceStatus) {
        if *self.status.borrow() != status {
            tracing::info!(device = %self.config.device, state = ?status.state, detail = ?status.detail, "scanner status");
            self.status.send_replace(status.clone());
            let _ = self.events.send(ScanEvent::Status { status });
        }
    }

    fn run(self, rx: &mpsc::Receiver<Command>) {
        let mut backoff = Backoff::new(self.config.reconnect_initial, self.config.reconnect_max);
        let mut scanner: Option<Scanner> = None;
        loop {
            let Some(device) = scanner.as_mut() else {
                match Scanner::open(&self.config.device) {
                    Ok(s) => {
                        scanner = Some(s);
                        backoff.reset();
                        self.set_status(DeviceStatus::online());
                    }
                    Err(e) => {
                        let state = match e.device_state() {
                            DeviceState::NoDevice => DeviceState::NoDevice,
                            _ => DeviceState::Offline,
                        };
                        self.set_status(DeviceStatus::new(state, e.to_string()));
                        // Wait before the next attempt, answering commands meanwhile.
                        match rx.recv_timeout(backoff.next_delay()) {
                            Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                            Ok(cmd) => refuse(cmd, &e),
                            Err(RecvTimeoutError::Timeout) => {}
                        }
                    }
                }
                continue;
            };
            let Ok(cmd) = rx.recv() else { return };
            let failed = match cmd {
                Command::Shutdown => return,
                Command::Scan {
                    settings,
                    cancel,
                    reply,
                } => {
                    self.set_status(DeviceStatus::new(DeviceState::Busy, "scanning"));
                    let events = &self.events;
                    let result = device.scan(
                        &settings,
                        &self.store,
                        &self.config.encode,
                        &cancel,
                        &mut |event| {
                            let _ = events.send(event);
                        },
                    );
                    let failed = result.as_ref().err().cloned();
                    if failed.is_none() {
                        self.set_status(DeviceStatus::online());
                    }
                    let failed = failed.inspect(|e| self.after_error(e));
                    let _ = reply.send(result);
                    failed
                }
                Command::SetOption { name, value, reply } => {
                    let result = device.set_option_text(&name, &value);
                    let failed = result.as_ref().err().cloned();
                    let _ = reply.send(result);
                    failed
                }
            };
            if failed.is_some_and(|e| e.needs_reconnect()) {
                // Close the device (and SANE with it if nothing else uses it) and open again.
                scanner = None;
            }
        }
    }

    fn after_error(&self, e: &ScanError) {
        let status = match e.device_state() {
            DeviceState::HardwareError => {
                DeviceStatus::new(DeviceState::HardwareError, e.to_string())
            }
            DeviceState::Offline | DeviceState::NoDevice if e.needs_reconnect() => {
                DeviceStatus::new(DeviceState::Offline, e.to_string())
            }
            _ => DeviceStatus::online(),
        };
        self.set_status(status);
    }
}

/// Answers a command that arrived while the device is not open.
fn refuse(cmd: Command, why: &ScanError) {
    let err = ScanError::Unavailable {
        detail: why.to_string(),
    };
    match cmd {
        Command::Scan { reply, .. } => {
            let _ = reply.send(Err(err));
        }
        Command::SetOption { reply, .. } => {
            let _ = reply.send(Err(err));
        }
        Command::Shutdown => {}
    }
}
