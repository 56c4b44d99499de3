//! The dispenser's device task: one OS thread owns the [`Driver`]; the app holds a cloneable
//! [`Handle`]. Commands go in over a channel and each answers with a typed result; status
//! changes (hopper low/empty, reject bin full, jam, card taken) come out as [`Event`]s on a
//! broadcast channel; the device state is on a watch channel. A lost link makes the task go
//! offline and reconnect with back-off, then come back online without a restart.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use kiosk_link::{Backoff, DeviceState, DeviceStatus, Link, LinkError, Port};
use tokio::sync::{broadcast, oneshot, watch};

use crate::driver::{
    ChipActivation, ChipReader, DeviceInfo, DispenserError, Driver, SensorStatus, Timeouts,
};
use crate::protocol::{
    CardPosition, ErrorCode, HopperLevel, InitMode, MoveTarget, RejectBin, Status, Vcc,
};

/// Opens the link to the dispenser (again, after it was lost).
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn Link>, LinkError> + Send>;

/// How the device task runs.
#[derive(Debug, Clone)]
pub struct HandleConfig {
    /// DIP-switch address of the unit (from config).
    pub address: u8,
    pub timeouts: Timeouts,
    /// Status poll while idle (to see a card taken at the gate, hopper and bin changes).
    pub poll_interval: Duration,
    /// First and longest wait between reconnection attempts.
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
}

impl Default for HandleConfig {
    fn default() -> Self {
        HandleConfig {
            address: 0,
            timeouts: Timeouts::default(),
            poll_interval: Duration::from_millis(500),
            reconnect_initial: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
        }
    }
}

/// Something the maintenance UI, the staff alerts or a journey reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Connected and initialised (again).
    Online { firmware: String },
    /// The link failed or the device went silent; reconnecting in the background.
    Offline { reason: String },
    /// Any change of the three status characters.
    StatusChanged(Status),
    /// Few cards left: alert staff.
    HopperLow,
    /// No cards left: the issuing journey is switched off.
    HopperEmpty,
    /// The hopper was refilled above the low mark.
    HopperOk,
    /// The reject bin is full: the issuing journey is switched off (a failed card could not
    /// be captured).
    RejectBinFull,
    /// The reject bin was emptied.
    RejectBinOk,
    /// A card jam or other mechanical fault (needs a person).
    Jam { code: ErrorCode },
    /// The card held at the gate was taken (st0 went from "at gate" to "no card" while no
    /// command was moving it).
    CardTaken,
}

#[derive(Clone)]
enum Request {
    Status,
    SensorStatus,
    Initialize(InitMode, bool),
    Move(MoveTarget),
    GateEntry(bool),
    RejectCount,
    SetRejectCount(u16),
    ChipPowerOn(Vcc),
    ChipPowerOff,
    ChipApdu(Vec<u8>),
}

enum Answer {
    Status(Status),
    Sensors(SensorStatus),
    Info(DeviceInfo),
    Count(u16),
    Chip(ChipActivation),
    Bytes(Vec<u8>),
    Done,
}

type Reply = Result<Answer, DispenserError>;

struct Job {
    request: Request,
    reply: oneshot::Sender<Reply>,
}

/// The app's handle on the dispenser task. Clone it freely; the task stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Handle {
    jobs: std_mpsc::Sender<Job>,
    events: broadcast::Sender<Event>,
    state: watch::Receiver<DeviceStatus>,
    status: watch::Receiver<Option<Status>>,
}

impl Handle {
    /// Starts the device task with an opener for its link.
    pub fn spawn(opener: Opener, config: HandleConfig) -> Handle {
        let (jobs_tx, jobs_rx) = std_mpsc::channel();
        let (events, _) = broadcast::channel(64);
        let (state_tx, state_rx) =
            watch::channel(DeviceStatus::new(DeviceState::Offline, "connecting"));
        let (status_tx, status_rx) = watch::channel(None);
        let task = Task {
            opener,
            config,
            jobs: jobs_rx,
            events: events.clone(),
            state: state_tx,
            status: status_tx,
            driver: None,
            last: None,
            jammed: None,
        };
        std::thread::spawn(move || task.run());
        Handle {
            jobs: jobs_tx,
            events,
            state: state_rx,
            status: status_rx,
        }
    }

    /// Starts the device task for a port (serial or TCP) from config.
    pub fn from_port(port: Port, config: HandleConfig) -> Handle {
        Handle::spawn(
            Box::new(move || kiosk_link::open(&port, crate::driver::DEFAULT_BAUD)),
            config,
        )
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Online / offline / hardware error, as the journeys see it.
    pub fn device_status(&self) -> watch::Receiver<DeviceStatus> {
        self.state.clone()
    }

    /// The last status characters read (None until the first one).
    pub fn last_status(&self) -> watch::Receiver<Option<Status>> {
        self.status.clone()
    }

    fn submit(&self, request: Request) -> Result<oneshot::Receiver<Reply>, DispenserError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job { request, reply: tx })
            .map_err(|_| DispenserError::Stopped)?;
        Ok(rx)
    }

    async fn call(&self, request: Request) -> Reply {
        self.submit(request)?
            .await
            .map_err(|_| DispenserError::Stopped)?
    }

    fn call_blocking(&self, request: Request) -> Reply {
        self.submit(request)?
            .blocking_recv()
            .map_err(|_| DispenserError::Stopped)?
    }

    pub async fn status(&self) -> Result<Status, DispenserError> {
        expect_status(self.call(Request::Status).await)
    }

    pub async fn sensor_status(&self) -> Result<SensorStatus, DispenserError> {
        match self.call(Request::SensorStatus).await? {
            Answer::Sensors(s) => Ok(s),
            _ => Err(unexpected()),
        }
    }

    /// Initialise with a chosen mode (e.g. capture a leftover card after a crash).
    pub async fn initialize(
        &self,
        mode: InitMode,
        count_retracts: bool,
    ) -> Result<DeviceInfo, DispenserError> {
        match self.call(Request::Initialize(mode, count_retracts)).await? {
            Answer::Info(i) => Ok(i),
            _ => Err(unexpected()),
        }
    }

    pub async fn move_card(&self, target: MoveTarget) -> Result<Status, DispenserError> {
        expect_status(self.call(Request::Move(target)).await)
    }

    /// Dispense (if needed) and move the card to the IC contact position.
    pub async fn to_encoder(&self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::IcContact).await
    }

    pub async fn to_rf(&self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::Rf).await
    }

    /// Hold the card at the gate for the resident.
    pub async fn to_gate(&self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::Gate).await
    }

    pub async fn eject(&self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::EjectOut).await
    }

    /// Capture the card into the reject bin.
    pub async fn capture(&self) -> Result<Status, DispenserError> {
        self.move_card(MoveTarget::Capture).await
    }

    pub async fn gate_entry(&self, enable: bool) -> Result<Status, DispenserError> {
        expect_status(self.call(Request::GateEntry(enable)).await)
    }

    pub async fn reject_count(&self) -> Result<u16, DispenserError> {
        match self.call(Request::RejectCount).await? {
            Answer::Count(n) => Ok(n),
            _ => Err(unexpected()),
        }
    }

    pub async fn set_reject_count(&self, value: u16) -> Result<(), DispenserError> {
        self.call(Request::SetRejectCount(value)).await.map(|_| ())
    }

    pub async fn chip_power_on(&self, vcc: Vcc) -> Result<ChipActivation, DispenserError> {
        expect_chip(self.call(Request::ChipPowerOn(vcc)).await)
    }

    pub async fn chip_power_off(&self) -> Result<(), DispenserError> {
        self.call(Request::ChipPowerOff).await.map(|_| ())
    }

    pub async fn chip_apdu(&self, apdu: Vec<u8>) -> Result<Vec<u8>, DispenserError> {
        match self.call(Request::ChipApdu(apdu)).await? {
            Answer::Bytes(b) => Ok(b),
            _ => Err(unexpected()),
        }
    }

    /// Blocking status call (for a thread that is not async, e.g. a CLI or the encoder).
    pub fn status_blocking(&self) -> Result<Status, DispenserError> {
        expect_status(self.call_blocking(Request::Status))
    }
}

/// The handle is also the dispenser's contact reader for the chip encoder. These calls block:
/// use them from a blocking thread (`spawn_blocking`), never inside an async task.
impl ChipReader for Handle {
    fn chip_power_on(&mut self, vcc: Vcc) -> Result<ChipActivation, DispenserError> {
        expect_chip(self.call_blocking(Request::ChipPowerOn(vcc)))
    }

    fn chip_power_off(&mut self) -> Result<(), DispenserError> {
        self.call_blocking(Request::ChipPowerOff).map(|_| ())
    }

    fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, DispenserError> {
        match self.call_blocking(Request::ChipApdu(apdu.to_vec()))? {
            Answer::Bytes(b) => Ok(b),
            _ => Err(unexpected()),
        }
    }
}

fn unexpected() -> DispenserError {
    DispenserError::Invalid("device task answered with the wrong kind of result".into())
}

fn expect_status(reply: Reply) -> Result<Status, DispenserError> {
    match reply? {
        Answer::Status(s) => Ok(s),
        _ => Err(unexpected()),
    }
}

fn expect_chip(reply: Reply) -> Result<ChipActivation, DispenserError> {
    match reply? {
        Answer::Chip(c) => Ok(c),
        _ => Err(unexpected()),
    }
}

struct Task {
    opener: Opener,
    config: HandleConfig,
    jobs: std_mpsc::Receiver<Job>,
    events: broadcast::Sender<Event>,
    state: watch::Sender<DeviceStatus>,
    status: watch::Sender<Option<Status>>,
    driver: Option<Driver>,
    last: Option<Status>,
    jammed: Option<ErrorCode>,
}

impl Task {
    fn run(mut self) {
        let mut backoff = Backoff::new(self.config.reconnect_initial, self.config.reconnect_max);
        let mut offline_reported = false;
        loop {
            if self.driver.is_none() {
                match self.connect() {
                    Ok(()) => {
                        backoff.reset();
                        offline_reported = false;
                    }
                    Err(e) => {
                        if !offline_reported {
                            self.go_offline(&e);
                            offline_reported = true;
                        }
                        // Wait before the next attempt, answering commands meanwhile.
                        let wait = backoff.next_delay();
                        if !self.serve_offline(wait) {
                            return;
                        }
                        continue;
                    }
                }
            }
            match self.jobs.recv_timeout(self.config.poll_interval) {
                Ok(job) => {
                    let result = self.execute(job.request);
                    if let Err(e) = &result
                        && e.is_offline()
                    {
                        self.drop_driver(e);
                    }
                    let _ = job.reply.send(result);
                }
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    let polled = self.with_driver(false, Driver::status);
                    if let Err(e) = polled
                        && e.is_offline()
                    {
                        self.drop_driver(&e);
                    }
                }
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn connect(&mut self) -> Result<(), DispenserError> {
        let link = (self.opener)()?;
        let mut driver = Driver::new(link, self.config.address, self.config.timeouts)?;
        let info = driver.start()?;
        tracing::info!(link = %driver.describe(), "dispenser online");
        self.driver = Some(driver);
        self.jammed = None;
        let _ = self.state.send(DeviceStatus::online());
        let _ = self.events.send(Event::Online {
            firmware: info.firmware,
        });
        self.observe(info.status, false);
        Ok(())
    }

    fn go_offline(&mut self, e: &DispenserError) {
        tracing::warn!(error = %e, "dispenser offline");
        let _ = self
            .state
            .send(DeviceStatus::new(DeviceState::Offline, e.to_string()));
        let _ = self.events.send(Event::Offline {
            reason: e.to_string(),
        });
    }

    fn drop_driver(&mut self, e: &DispenserError) {
        self.driver = None;
        self.go_offline(e);
    }

    /// While offline: answers every command with `Offline` for `wait`. False when the last
    /// handle is gone.
    fn serve_offline(&mut self, wait: Duration) -> bool {
        let until = std::time::Instant::now() + wait;
        loop {
            let now = std::time::Instant::now();
            if now >= until {
                return true;
            }
            match self.jobs.recv_timeout(until - now) {
                Ok(job) => {
                    let detail = self.state.borrow().detail.clone().unwrap_or_default();
                    let _ = job.reply.send(Err(DispenserError::Offline(detail)));
                }
                Err(std_mpsc::RecvTimeoutError::Timeout) => return true,
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Runs `f` on the driver and looks at the status it left; `commanded` says whether the
    /// command itself moves the card (so a card leaving the gate is not "taken").
    fn with_driver<T>(
        &mut self,
        commanded: bool,
        f: impl FnOnce(&mut Driver) -> Result<T, DispenserError>,
    ) -> Result<T, DispenserError> {
        let driver = self
            .driver
            .as_mut()
            .ok_or_else(|| DispenserError::Offline("not connected".into()))?;
        let result = f(driver);
        let status = driver.last_status();
        if let Some(status) = status {
            self.observe(status, commanded);
        }
        result
    }

    /// Runs a request. A device that lost power in between refuses with "not initialised"
    /// (B0) without doing anything: it is initialised again (leaving any card in place) and
    /// the request is sent once more.
    fn execute(&mut self, request: Request) -> Reply {
        let result = self.execute_once(request.clone());
        match &result {
            Err(e) if e.code() == Some(ErrorCode::NotInitialized) => {
                tracing::warn!(
                    "dispenser lost its initialisation (power cycle?); initialising again"
                );
                match self.with_driver(true, Driver::start) {
                    Ok(_) => self.execute_once(request),
                    Err(_) => result,
                }
            }
            _ => result,
        }
    }

    fn execute_once(&mut self, request: Request) -> Reply {
        let moving = matches!(request, Request::Move(_) | Request::Initialize(..));
        let m = moving;
        let result = match request {
            Request::Status => self.with_driver(m, Driver::status).map(Answer::Status),
            Request::SensorStatus => self
                .with_driver(m, Driver::sensor_status)
                .map(Answer::Sensors),
            Request::Initialize(mode, count) => self
                .with_driver(m, |d| d.initialize(mode, count))
                .map(Answer::Info),
            Request::Move(target) => self
                .with_driver(m, |d| d.move_card(target))
                .map(Answer::Status),
            Request::GateEntry(enable) => self
                .with_driver(m, |d| d.gate_entry(enable))
                .map(Answer::Status),
            Request::RejectCount => self.with_driver(m, Driver::reject_count).map(Answer::Count),
            Request::SetRejectCount(v) => self
                .with_driver(m, |d| d.set_reject_count(v))
                .map(|()| Answer::Done),
            Request::ChipPowerOn(vcc) => self
                .with_driver(m, |d| d.chip_power_on(vcc))
                .map(Answer::Chip),
            Request::ChipPowerOff => self
                .with_driver(m, ChipReader::chip_power_off)
                .map(|()| Answer::Done),
            Request::ChipApdu(apdu) => self
                .with_driver(m, |d| d.chip_apdu(&apdu))
                .map(Answer::Bytes),
        };
        match &result {
            Err(e) if e.is_jam() => {
                if let Some(code) = e.code()
                    && self.jammed != Some(code)
                {
                    self.jammed = Some(code);
                    let _ = self.state.send(DeviceStatus::new(
                        DeviceState::HardwareError,
                        code.to_string(),
                    ));
                    let _ = self.events.send(Event::Jam { code });
                }
            }
            Ok(_) if moving && self.jammed.is_some() => {
                self.jammed = None;
                let _ = self.state.send(DeviceStatus::online());
            }
            _ => {}
        }
        result
    }

    /// Compares a fresh status with the last one and sends the events for the changes.
    fn observe(&mut self, status: Status, commanded: bool) {
        let previous = self.last.replace(status);
        if previous == Some(status) {
            return;
        }
        let _ = self.status.send(Some(status));
        let _ = self.events.send(Event::StatusChanged(status));
        let before_hopper = previous.map(|p| p.hopper);
        if before_hopper != Some(status.hopper) {
            let event = match status.hopper {
                HopperLevel::Empty => Event::HopperEmpty,
                HopperLevel::Low => Event::HopperLow,
                HopperLevel::Ok => Event::HopperOk,
            };
            // "Ok" at start-up is not news.
            if !(previous.is_none() && status.hopper == HopperLevel::Ok) {
                let _ = self.events.send(event);
            }
        }
        let before_bin = previous.map(|p| p.reject_bin);
        if before_bin != Some(status.reject_bin) {
            match status.reject_bin {
                RejectBin::Full => {
                    let _ = self.events.send(Event::RejectBinFull);
                }
                RejectBin::Ok if previous.is_some() => {
                    let _ = self.events.send(Event::RejectBinOk);
                }
                RejectBin::Ok => {}
            }
        }
        if !commanded
            && previous.is_some_and(|p| p.card == CardPosition::AtGate)
            && status.card == CardPosition::None
        {
            let _ = self.events.send(Event::CardTaken);
        }
    }
}
