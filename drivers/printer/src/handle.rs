//! The device task: one OS thread owns the [`PrinterDriver`]; the app holds a cloneable
//! [`Handle`] with async methods. Events (status changes such as paper near end, jobs
//! printed or failed, offline/online) go out on a broadcast channel; the device state is on
//! a watch channel.
//!
//! Jobs belong to a session. The app says which session is current
//! ([`Handle::begin_session`] / [`Handle::end_session`]); a job is printed only if its owner
//! is still the current session at the moment its bytes are released to the printer, if
//! its caller is still waiting for it, and if it has not waited in the queue longer than
//! [`HandleConfig::max_queue_wait`]. There is no spool: a job that cannot print now fails
//! with a reason and is gone.
//!
//! When the link fails the state goes `Offline` and the task reopens the port through the
//! opener with [`Backoff`], coming back `Online` without a restart. While idle it reads the
//! printer's status every [`HandleConfig::poll_interval`] so staff hear about paper near end
//! before a resident is affected.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk_link::{Backoff, DeviceState, DeviceStatus, Link, LinkError};
use serde::Serialize;
use tokio::sync::{broadcast, oneshot, watch};

use crate::driver::{PrinterDriver, Timeouts};
use crate::font::{CjkFont, FontError};
use crate::job::{JobReport, PrintError, ResidentReason, SessionId};
use crate::profile::PrinterProfile;
use crate::protocol::{Condition, PrinterStatus};
use crate::slips::Document;

/// Opens (and after a failure, reopens) the link to the printer.
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn Link>, LinkError> + Send>;

/// Capacity of the event channel (a slow subscriber loses the oldest events).
pub const EVENT_CAPACITY: usize = 32;

/// How the device task behaves.
#[derive(Debug, Clone)]
pub struct HandleConfig {
    pub profile: PrinterProfile,
    pub timeouts: Timeouts,
    /// Status read while idle. 10 s.
    pub poll_interval: Duration,
    /// A job that waited this long behind another one is dropped, not printed. 15 s.
    pub max_queue_wait: Duration,
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
}

impl Default for HandleConfig {
    fn default() -> Self {
        HandleConfig {
            profile: PrinterProfile::default(),
            timeouts: Timeouts::default(),
            poll_interval: Duration::from_secs(10),
            max_queue_wait: Duration::from_secs(15),
            reconnect_initial: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(10),
        }
    }
}

/// What the printer task reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PrinterEvent {
    /// The printer answers again (after start or a reconnect).
    Online,
    /// The link is gone; the task is reconnecting.
    Offline { detail: String },
    /// The printer's conditions changed (e.g. paper near end: alert staff).
    StatusChanged { status: PrinterStatus },
    JobPrinted {
        job_id: u64,
        owner: SessionId,
        kind: String,
    },
    JobFailed {
        owner: SessionId,
        kind: String,
        reason: ResidentReason,
        detail: String,
    },
    /// A failed job could not be cleared from the printer: staff must check it and call
    /// [`Handle::acknowledge_staff_check`].
    StaffCheckNeeded,
}

enum Command {
    Print {
        owner: SessionId,
        doc: Box<Document>,
        submitted: Instant,
        reply: oneshot::Sender<Result<JobReport, PrintError>>,
    },
    Status {
        reply: oneshot::Sender<Result<PrinterStatus, PrintError>>,
    },
    AcknowledgeStaffCheck {
        reply: oneshot::Sender<Result<(), PrintError>>,
    },
}

/// The app's side of the printer task. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<PrinterEvent>,
    state: watch::Receiver<DeviceStatus>,
    printer: watch::Receiver<Option<PrinterStatus>>,
    session: Arc<Mutex<Option<SessionId>>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

fn lock(session: &Mutex<Option<SessionId>>) -> std::sync::MutexGuard<'_, Option<SessionId>> {
    session
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Handle {
    /// Loads the profile's CJK font and starts the task.
    pub fn spawn(opener: Opener, config: HandleConfig) -> Result<Handle, FontError> {
        let font = CjkFont::load(&config.profile.font)?;
        Ok(Self::spawn_with_font(opener, config, font))
    }

    /// Starts the task with a font already loaded (tests share one).
    pub fn spawn_with_font(opener: Opener, config: HandleConfig, font: Arc<CjkFont>) -> Handle {
        let (commands, rx) = mpsc::channel();
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (state_tx, state) =
            watch::channel(DeviceStatus::new(DeviceState::Offline, "connecting"));
        let (printer_tx, printer) = watch::channel(None);
        let session = Arc::new(Mutex::new(None));
        let task = Task {
            opener,
            config,
            font,
            driver: None,
            events: events.clone(),
            state: state_tx,
            printer: printer_tx,
            session: session.clone(),
            last_status: None,
        };
        let spawned = std::thread::Builder::new()
            .name("printer".into())
            .spawn(move || task.run(&rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the printer task");
        }
        Handle {
            commands,
            events,
            state,
            printer,
            session,
        }
    }

    /// Events: status changes, jobs, offline/online.
    pub fn subscribe(&self) -> broadcast::Receiver<PrinterEvent> {
        self.events.subscribe()
    }

    /// The device state (online, offline, hardware error) with a short detail.
    pub fn status(&self) -> watch::Receiver<DeviceStatus> {
        self.state.clone()
    }

    /// The printer's last known conditions (`None` until first read).
    pub fn printer_status(&self) -> watch::Receiver<Option<PrinterStatus>> {
        self.printer.clone()
    }

    /// Makes `id` the current session: only its jobs print.
    pub fn begin_session(&self, id: SessionId) {
        *lock(&self.session) = Some(id);
    }

    /// Ends `id` if it is current. Its jobs still queued fail with
    /// [`PrintError::NotCurrentSession`].
    pub fn end_session(&self, id: &SessionId) {
        let mut current = lock(&self.session);
        if current.as_ref() == Some(id) {
            *current = None;
        }
    }

    pub fn current_session(&self) -> Option<SessionId> {
        lock(&self.session).clone()
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, PrintError>>) -> Command,
    ) -> Result<T, PrintError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .map_err(|_| PrintError::TaskGone)?;
        rx.await.unwrap_or(Err(PrintError::TaskGone))
    }

    /// Prints `doc` for `owner` now, or fails with the reason. Never queued for later: if
    /// the caller stops waiting (drops the future), the job is not printed.
    pub async fn print(&self, owner: SessionId, doc: Document) -> Result<JobReport, PrintError> {
        if lock(&self.session).as_ref() != Some(&owner) {
            return Err(PrintError::NotCurrentSession);
        }
        let submitted = Instant::now();
        self.call(|reply| Command::Print {
            owner,
            doc: Box::new(doc),
            submitted,
            reply,
        })
        .await
    }

    /// Reads the printer's status now.
    pub async fn read_status(&self) -> Result<PrinterStatus, PrintError> {
        self.call(|reply| Command::Status { reply }).await
    }

    /// Staff have checked the printer after [`PrinterEvent::StaffCheckNeeded`].
    pub async fn acknowledge_staff_check(&self) -> Result<(), PrintError> {
        self.call(|reply| Command::AcknowledgeStaffCheck { reply })
            .await
    }
}

struct Task {
    opener: Opener,
    config: HandleConfig,
    font: Arc<CjkFont>,
    driver: Option<PrinterDriver>,
    events: broadcast::Sender<PrinterEvent>,
    state: watch::Sender<DeviceStatus>,
    printer: watch::Sender<Option<PrinterStatus>>,
    session: Arc<Mutex<Option<SessionId>>>,
    last_status: Option<PrinterStatus>,
}

fn offline_error() -> PrintError {
    PrintError::Link(LinkError::Disconnected("printer offline".into()))
}

impl Task {
    fn run(mut self, rx: &mpsc::Receiver<Command>) {
        let mut backoff = Backoff::new(self.config.reconnect_initial, self.config.reconnect_max);
        let mut next_attempt = Instant::now();
        let mut next_poll = Instant::now() + self.config.poll_interval;
        loop {
            let now = Instant::now();
            if self.driver.is_none() && now >= next_attempt {
                if self.connect() {
                    backoff.reset();
                    next_poll = Instant::now() + self.config.poll_interval;
                } else {
                    next_attempt = Instant::now() + backoff.next_delay();
                }
            }
            let wake = if self.driver.is_some() {
                next_poll
            } else {
                next_attempt
            };
            let timeout = wake.saturating_duration_since(Instant::now());
            let was_connected = self.driver.is_some();
            match rx.recv_timeout(timeout) {
                Ok(cmd) => self.command(cmd),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.driver.is_some() {
                        self.poll();
                        next_poll = Instant::now() + self.config.poll_interval;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if was_connected && self.driver.is_none() {
                // just went offline: wait a little before the first reconnect attempt
                next_attempt = Instant::now() + backoff.next_delay();
            }
        }
    }

    fn connect(&mut self) -> bool {
        let link = match (self.opener)() {
            Ok(link) => link,
            Err(e) => {
                self.set_offline(&e.to_string());
                return false;
            }
        };
        let described = link.describe();
        let driver = PrinterDriver::connect(
            link,
            self.config.profile.clone(),
            self.font.clone(),
            self.config.timeouts,
        );
        match driver {
            Ok(driver) => {
                self.driver = Some(driver);
                match self.read_status() {
                    Ok(_) => {
                        tracing::info!(port = %described, "printer online");
                        let _ = self.events.send(PrinterEvent::Online);
                        true
                    }
                    Err(e) => {
                        self.drop_driver(&e.to_string());
                        false
                    }
                }
            }
            Err(e) => {
                self.set_offline(&e.to_string());
                false
            }
        }
    }

    fn set_offline(&mut self, detail: &str) {
        let was_online = self.state.borrow().state != DeviceState::Offline;
        self.state
            .send_replace(DeviceStatus::new(DeviceState::Offline, detail));
        if was_online {
            tracing::warn!(detail, "printer offline");
            let _ = self.events.send(PrinterEvent::Offline {
                detail: detail.to_owned(),
            });
        }
    }

    fn drop_driver(&mut self, detail: &str) {
        self.driver = None;
        self.last_status = None;
        self.printer.send_replace(None);
        self.set_offline(detail);
    }

    /// Publishes a fresh status: watch, device state, and an event when it changed.
    fn publish(&mut self, status: &PrinterStatus) {
        let staff_check = self
            .driver
            .as_ref()
            .is_some_and(PrinterDriver::needs_staff_check);
        let device = if staff_check {
            DeviceStatus::new(DeviceState::HardwareError, "staff_check_needed")
        } else if let Some(reason) = status.blocking_reason() {
            DeviceStatus::new(DeviceState::HardwareError, reason.as_str())
        } else if status.has(Condition::PaperNearEnd) {
            DeviceStatus::new(DeviceState::Online, Condition::PaperNearEnd.as_str())
        } else {
            DeviceStatus::online()
        };
        self.state.send_replace(device);
        let changed = self
            .last_status
            .as_ref()
            .is_none_or(|last| last.conditions != status.conditions);
        if changed {
            let _ = self.events.send(PrinterEvent::StatusChanged {
                status: status.clone(),
            });
        }
        self.last_status = Some(status.clone());
        self.printer.send_replace(Some(status.clone()));
    }

    fn read_status(&mut self) -> Result<PrinterStatus, PrintError> {
        let driver = self.driver.as_mut().ok_or_else(offline_error)?;
        let status = driver.status()?;
        self.publish(&status);
        Ok(status)
    }

    fn poll(&mut self) {
        if let Err(e) = self.read_status() {
            self.after_error(&e);
        }
    }

    /// Drops the driver when the printer is gone or silent, so the task reconnects.
    fn after_error(&mut self, e: &PrintError) {
        if e.is_disconnect() || matches!(e, PrintError::NoAnswer(_) | PrintError::Link(_)) {
            self.drop_driver(&e.to_string());
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Status { reply } => {
                let result = self.read_status();
                if let Err(e) = &result {
                    self.after_error(e);
                }
                let _ = reply.send(result);
            }
            Command::AcknowledgeStaffCheck { reply } => {
                if let Some(d) = self.driver.as_mut() {
                    d.acknowledge_staff_check();
                }
                let _ = reply.send(Ok(()));
                self.poll();
            }
            Command::Print {
                owner,
                doc,
                submitted,
                reply,
            } => {
                let kind = doc.kind().to_owned();
                let result = self.print(&owner, &doc, submitted, &reply);
                match &result {
                    Ok(report) => {
                        let _ = self.events.send(PrinterEvent::JobPrinted {
                            job_id: report.job_id,
                            owner: owner.clone(),
                            kind,
                        });
                        let status = report.status_after.clone();
                        self.publish(&status);
                    }
                    Err(e) => {
                        let _ = self.events.send(PrinterEvent::JobFailed {
                            owner: owner.clone(),
                            kind,
                            reason: e.resident_reason(),
                            detail: e.to_string(),
                        });
                        if self
                            .driver
                            .as_ref()
                            .is_some_and(PrinterDriver::needs_staff_check)
                        {
                            let _ = self.events.send(PrinterEvent::StaffCheckNeeded);
                        }
                        if let PrintError::NotReady { status, .. } = e {
                            let status = status.clone();
                            self.publish(&status);
                        }
                        self.after_error(e);
                    }
                }
                let _ = reply.send(result);
            }
        }
    }

    fn print(
        &mut self,
        owner: &SessionId,
        doc: &Document,
        submitted: Instant,
        reply: &oneshot::Sender<Result<JobReport, PrintError>>,
    ) -> Result<JobReport, PrintError> {
        if reply.is_closed() {
            // the caller gave up: never print for nobody
            return Err(PrintError::Expired);
        }
        if submitted.elapsed() > self.config.max_queue_wait {
            return Err(PrintError::Expired);
        }
        let session = self.session.clone();
        let still_current = move |o: &SessionId| lock(&session).as_ref() == Some(o);
        if !still_current(owner) {
            return Err(PrintError::NotCurrentSession);
        }
        let driver = self.driver.as_mut().ok_or_else(offline_error)?;
        driver.print_checked(owner, doc, &still_current)
    }
}
