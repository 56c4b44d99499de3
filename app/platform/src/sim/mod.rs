//! THE PLATFORM SIMULATOR: a stand-in for the provincial platform (一体化政务服务中台), not the
//! platform. A real HTTP server (axum) that serves the whole API of `openapi.yaml` from memory:
//! shared data from the fictitious people of `resources/sim/platform/people.toml`, items
//! moving through departments on a compressed clock, de-duplication by idempotency key with
//! counts, a card bureau stand-in with a published test key, and admin routes under `/sim/`
//! (not part of the real API) for tests and the developer panel.
//!
//! Used by `kiosk platform-sim --listen ADDR` ([`crate::cli`]), embedded in
//! `kiosk run --simulate` ([`Simulator::start_with`] inside the app's runtime), and by tests
//! ([`Simulator::start`] on `127.0.0.1:0`).
//!
//! How items move: an item starts when every item it depends on is done (at once for the
//! others), is `accepted` for its first simulated hour, then `in_progress`, and `done` after
//! its time limit in working days. A refused item stops every item that depends on it. The
//! clock runs one working day per [`SimConfig::day_length`] of real time (frozen when `None`)
//! and jumps with [`SimControl::advance`] or `POST /sim/clock/advance`.

pub mod admin;
pub mod card;
pub mod clock;
pub mod data;
mod journal;
mod routes;
pub mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::oneshot;
use uuid::Uuid;

pub use card::{CARD_BUREAU_TEST_KEY, card_bureau_cryptogram};
pub use data::{People, PeopleError};
pub use journal::JournalError;
pub use routes::{ROUTES, Route, RouteId};

use crate::wire::{
    ApiError, ApplicationProgress, CatalogueUpdate, ClockAdvance, ErrorCode, Heartbeat, RefuseItem,
    SimApplication, SimStats, SmsRecord,
};
use clock::{At, Clock};
use journal::Journal;
use state::{Op, Reply, SimState};

/// How the simulator runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Real time of one simulated working day; `None` freezes the clock (it then moves only
    /// when advanced). Default 10 s.
    pub day_length: Option<Duration>,
    /// A state file (journal) so that a restarted simulator keeps its state. Default none:
    /// state in memory only.
    pub state_file: Option<PathBuf>,
    /// The people and shared data served. Default: the built-in sample file.
    pub people: Option<People>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            day_length: Some(Duration::from_secs(10)),
            state_file: None,
            people: None,
        }
    }
}

impl SimConfig {
    /// A frozen clock, in memory, built-in people: what most tests want.
    pub fn frozen() -> Self {
        SimConfig {
            day_length: None,
            ..SimConfig::default()
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    People(#[from] PeopleError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the simulator thread could not start: {0}")]
    Thread(String),
}

struct Inner {
    state: SimState,
    journal: Option<Journal>,
}

/// The state shared by the server's handlers and the control handle.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the state half-changed in a way that
        // matters more than stopping the simulator would; keep serving.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the time, makes the op, journals it, applies it.
    pub(crate) fn execute(&self, make: impl FnOnce(At) -> Op) -> Reply {
        let mut inner = self.lock();
        let at = inner.state.clock.now();
        let op = make(at);
        if let Some(journal) = inner.journal.as_mut()
            && let Err(e) = journal.append(&op)
        {
            tracing::error!(path = %journal.path().display(), error = %e, "platform simulator: state file write failed");
            return Reply::error(
                503,
                ErrorCode::Unavailable,
                "the simulator could not write its state file",
            );
        }
        inner.state.apply(&op)
    }

    pub(crate) fn read<R>(&self, f: impl FnOnce(&SimState) -> R) -> R {
        f(&self.lock().state)
    }

    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut SimState) -> R) -> R {
        f(&mut self.lock().state)
    }
}

/// Controls a running simulator from the same process (tests, the developer panel):
/// the same powers as the `/sim/` routes. Cheap to clone.
#[derive(Clone)]
pub struct SimControl {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimControl")
    }
}

fn api_error(reply: &Reply) -> ApiError {
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|_| ApiError::new(ErrorCode::Unknown, "unreadable simulator answer"))
}

impl SimControl {
    /// Counts per endpoint, SMS sent, the clock.
    pub fn stats(&self) -> SimStats {
        self.shared.read(SimState::stats)
    }

    /// Jumps the clock forward.
    pub fn advance(&self, by: &ClockAdvance) {
        let ms = clock::advance_ms(by.working_days, by.hours);
        self.shared.execute(|_| Op::Advance { ms });
    }

    /// Jumps the clock forward by working days.
    pub fn advance_days(&self, working_days: f64) {
        self.advance(&ClockAdvance {
            hours: 0.0,
            working_days,
        });
    }

    /// Starts or ends a simulated outage: every route except `/sim/` answers 503.
    pub fn set_outage(&self, down: bool) {
        self.shared.write(|s| s.outage = down);
    }

    /// The department refuses an item (and so every item depending on it).
    pub fn refuse(&self, refuse: &RefuseItem) -> Result<ApplicationProgress, ApiError> {
        let reply = self.shared.execute(|at| Op::Refuse {
            refuse: refuse.clone(),
            at,
        });
        if reply.is_success() {
            serde_json::from_slice(&reply.body).map_err(|_| api_error(&reply))
        } else {
            Err(api_error(&reply))
        }
    }

    /// Sets the catalogue served by `GET /v1/catalogue`.
    pub fn set_catalogue(&self, catalogue: CatalogueUpdate) {
        self.shared.execute(|_| Op::SetCatalogue { catalogue });
    }

    /// The full stored record of an application.
    pub fn application(&self, id: Uuid) -> Option<SimApplication> {
        self.shared.read(|s| s.sim_application(id))
    }

    /// Every SMS "sent".
    pub fn sms(&self) -> Vec<SmsRecord> {
        self.shared.read(SimState::sms)
    }

    /// The last heartbeat of each kiosk.
    pub fn last_heartbeats(&self) -> std::collections::BTreeMap<String, Heartbeat> {
        self.shared.read(SimState::last_heartbeats)
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    control: SimControl,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for SimHandle {
    type Target = SimControl;

    fn deref(&self) -> &SimControl {
        &self.control
    }
}

impl SimHandle {
    /// The base URL, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A cloneable control handle.
    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    /// Stops the server and waits for it (in-runtime simulators).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops the server and waits for its thread (simulators from [`Simulator::start_in_thread`]).
    /// Do not call from inside an async task.
    pub fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts platform simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Starts a simulator with the default configuration (10 s working days, in memory, the
    /// built-in people) on `addr` (`127.0.0.1:0` for an ephemeral port) inside the current
    /// tokio runtime.
    pub async fn start(addr: &str) -> Result<SimHandle, SimError> {
        Simulator::start_with(addr, SimConfig::default()).await
    }

    /// Starts a simulator inside the current tokio runtime.
    pub async fn start_with(addr: &str, config: SimConfig) -> Result<SimHandle, SimError> {
        let shared = Arc::new(build_state(config)?);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Listen {
                addr: addr.to_owned(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SimError::Listen {
            addr: addr.to_owned(),
            source,
        })?;
        let (tx, rx) = oneshot::channel();
        let app = routes::router(shared.clone());
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "platform simulator stopped");
            }
        });
        tracing::info!(%local, "platform simulator (a stand-in, not the platform) listening");
        Ok(SimHandle {
            addr: local,
            control: SimControl { shared },
            shutdown: Some(tx),
            task: Some(task),
            thread: None,
        })
    }

    /// Starts a simulator on its own thread with its own runtime: for callers without a
    /// tokio runtime (blocking tests, tools).
    pub fn start_in_thread(addr: &str, config: SimConfig) -> Result<SimHandle, SimError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let addr_owned = addr.to_owned();
        let thread = std::thread::Builder::new()
            .name("platform-sim".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(SimError::Thread(e.to_string())));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Simulator::start_with(&addr_owned, config).await {
                        Ok(handle) => {
                            if ready_tx.send(Ok((handle.addr, handle.control()))).is_err() {
                                return;
                            }
                            // Sent by stop() or by dropping the handle.
                            let _ = stop_rx.await;
                            handle.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| SimError::Thread(e.to_string()))?;
        let (addr, control) = match ready_rx.recv() {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(SimError::Thread(e.to_string())),
        };
        Ok(SimHandle {
            addr,
            control,
            shutdown: Some(stop_tx),
            task: None,
            thread: Some(thread),
        })
    }
}

fn build_state(config: SimConfig) -> Result<Shared, SimError> {
    let people = match config.people {
        Some(p) => p,
        None => People::builtin()?,
    };
    let now = Timestamp::now();
    let (journal, epoch, ops) = match &config.state_file {
        Some(path) => {
            let (journal, replay) = Journal::open(path, now)?;
            (Some(journal), replay.epoch, replay.ops)
        }
        None => (None, now, Vec::new()),
    };
    let mut state = SimState::new(Clock::new(epoch, config.day_length), people);
    let replayed = ops.len();
    for op in &ops {
        state.apply(op);
    }
    if replayed > 0 {
        tracing::info!(
            replayed,
            "platform simulator: state restored from its state file"
        );
    }
    Ok(Shared {
        inner: Mutex::new(Inner { state, journal }),
    })
}
