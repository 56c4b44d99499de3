//! `kiosk card …`: one card issuance run non-interactively through the same journey and the
//! same effects as the kiosk (technicians on site, the crash test, the benchmark), start-up
//! recovery on its own, and the card unit's records. Also `kiosk sim dispenser` with a
//! simulated resident who takes the card from the gate.
//!
//! The card unit is built the way the kiosk builds it (`devices::start_card_unit`), the
//! session is stepped by the runtime [`Core`] with the production [`KioskIo`], real timers
//! and the system clock; only the screen is missing: the resident's choices are made by
//! [`Headless::issue`] (own card, or the card of a given application; confirm).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use kiosk_idcard::identity::Identity;

use crate::check::Loaded;
use crate::config::kiosk::DeviceMode;
use crate::devices::{Devices, SimControls};
use crate::flows::event::{Event, JourneyKind, UserAction};
use crate::flows::issue_card::{CardAction, CardStage};
use crate::flows::{Ctx, Journey, Session, TimerId};
use crate::io::cards::Recovery;
use crate::io::{KioskIo, Services};
use crate::outbox::{Worker, WorkerOptions};
use crate::platform::PlatformDeliver;
use crate::runtime::system::{DailySequence, RandomFresh, SystemClock, centre_time_zone};
use crate::runtime::{Clock as _, Core, Inbox, Mailbox, Parts, Poster, Timers, View, mailbox};
use crate::store::{CardAttempt, Store};

#[derive(Subcommand, Debug, Clone)]
pub enum CardCommand {
    /// Issue one social security card for the holder of a sample ID card, non-interactively
    /// (recovery runs first, as at start-up); prints the outcome as JSON.
    Issue(IssueArgs),
    /// Start-up recovery on its own: finish an attempt a crash interrupted (capture the card
    /// if it is inside or at the gate, record it failed "interrupted", tell the platform).
    Recover(UnitArgs),
    /// The card attempts and open staff alerts, as JSON.
    Status(UnitArgs),
}

#[derive(Args, Debug, Clone)]
pub struct UnitArgs {
    #[arg(long, default_value = "config/kiosk.toml")]
    pub config: PathBuf,
    /// Where the database and keys live (overrides `storage.data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Use the real dispenser driver on this port (e.g. a simulator's pty) whatever the
    /// configuration says.
    #[arg(long)]
    pub dispenser: Option<kiosk_link::Port>,
    /// The platform's base URL (default: `platform.endpoint`; the embedded simulator starts
    /// in this process when the configuration embeds it).
    #[arg(long)]
    pub platform: Option<String>,
    /// Where `resources/` is (sample ID cards).
    #[arg(long)]
    pub resources: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct IssueArgs {
    #[command(flatten)]
    pub unit: UnitArgs,
    /// The ID number on the sample ID card to present (resources/sim/idcard).
    #[arg(long)]
    pub id_number: String,
    /// Make the card of this accepted application (a parent's child) instead of the person's
    /// own.
    #[arg(long)]
    pub application: Option<uuid::Uuid>,
    /// Seconds the card waits at the gate before it is captured (default: the kiosk's).
    #[arg(long)]
    pub take_timeout: Option<u64>,
}

/// Runs a `kiosk card` command.
pub fn run(command: &CardCommand) -> anyhow::Result<ExitCode> {
    match command {
        CardCommand::Issue(args) => {
            let kiosk = CardKiosk::open(&args.unit)?;
            let identity = sample_identity(&kiosk.resources, &args.id_number)?;
            let recovery = kiosk.recover();
            let mut headless = kiosk.headless();
            if let Some(secs) = args.take_timeout {
                let d = headless.core.delays_mut();
                d.card_take = Duration::from_secs(secs);
                d.elder_card_take = Duration::from_secs(secs);
            }
            let report = headless.issue(identity, args.application, Duration::from_mins(10));
            drop(headless);
            let delivered = kiosk.drain(Duration::from_secs(10));
            let attempt = match report.attempt {
                Some(id) => kiosk.services.store.card_attempt(id)?,
                None => None,
            };
            let json = serde_json::json!({
                "outcome": report.outcome,
                "message": report.message,
                "stages": report.stages,
                "attempt": attempt,
                "recovery": recovery,
                "delivered": delivered,
            });
            println!("{json}");
            Ok(if report.outcome == "issued" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        CardCommand::Recover(args) => {
            let kiosk = CardKiosk::open(args)?;
            let recovery = kiosk.recover();
            let delivered = kiosk.drain(Duration::from_secs(10));
            println!(
                "{}",
                serde_json::json!({ "recovery": recovery, "delivered": delivered })
            );
            Ok(ExitCode::SUCCESS)
        }
        CardCommand::Status(args) => {
            let store = open_store(args)?;
            let attempts = store.card_attempts(100)?;
            let alerts = store.staff_alerts(100)?;
            let stats = store.outbox_stats()?;
            println!(
                "{}",
                serde_json::json!({ "attempts": attempts, "alerts": alerts, "outbox_pending": stats.pending })
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(args: &UnitArgs) -> anyhow::Result<Loaded> {
    let mut loaded = crate::check::load_all(&args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = &args.data_dir {
        loaded.config.storage.data_dir.clone_from(dir);
    }
    if let Some(port) = &args.dispenser {
        let d = &mut loaded.config.devices.dispenser;
        d.mode = DeviceMode::Real;
        d.port = Some(port.clone());
    }
    if let Some(url) = &args.platform {
        loaded.config.platform.endpoint.clone_from(url);
    }
    Ok(loaded)
}

fn open_store(args: &UnitArgs) -> anyhow::Result<Arc<Store>> {
    let loaded = load(args)?;
    let dir = loaded.config.storage.data_dir;
    Ok(Arc::new(Store::open(&dir).with_context(|| {
        format!("cannot open the store in {}", dir.display())
    })?))
}

/// The sample ID card with this number, decoded as the reader driver decodes it.
pub fn sample_identity(resources: &Path, id_number: &str) -> anyhow::Result<Identity> {
    let samples = kiosk_idcard::sim::load_samples(&resources.join("sim/idcard"))?;
    for sample in samples {
        let Ok(identity) = Identity::decode(&sample.text, &sample.photo, &[]) else {
            continue;
        };
        if identity.id_number.eq_ignore_ascii_case(id_number) {
            return Ok(identity);
        }
    }
    anyhow::bail!(
        "no sample ID card with that number in {}",
        resources.display()
    )
}

/// What the kiosk needs to make cards: store, platform, outbox, the card unit.
pub struct CardKiosk {
    pub loaded: Rc<Loaded>,
    pub services: Arc<Services>,
    pub sims: SimControls,
    pub resources: PathBuf,
    worker: Worker<PlatformDeliver>,
    _platform_sim: Option<kiosk_platform::SimHandle>,
    /// Kept last: dropped after everything that uses it.
    pub rt: tokio::runtime::Runtime,
}

impl CardKiosk {
    /// Builds the card unit from the configuration and the command's overrides.
    pub fn open(args: &UnitArgs) -> anyhow::Result<CardKiosk> {
        let loaded = load(args)?;
        let resources = args
            .resources
            .clone()
            .unwrap_or_else(crate::assemble::default_resources);
        CardKiosk::build(loaded, resources)
    }

    pub fn build(loaded: Loaded, resources: PathBuf) -> anyhow::Result<CardKiosk> {
        let config = &loaded.config;
        let data_dir = config.storage.data_dir.clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiosk-card")
            .enable_all()
            .build()?;
        let store = Arc::new(
            Store::open(&data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?,
        );
        let (platform_sim, base_url) = if config.uses_embedded_platform() {
            let sim = rt.block_on(kiosk_platform::Simulator::start_with(
                "127.0.0.1:0",
                kiosk_platform::SimConfig::default(),
            ))?;
            let url = sim.url().clone();
            (Some(sim), url)
        } else {
            (None, config.platform.endpoint.clone())
        };
        let client = Arc::new(kiosk_platform::PlatformClient::new(
            &kiosk_platform::ClientConfig {
                connect_timeout: config.platform.connect_timeout,
                request_timeout: config.platform.request_timeout,
                ..kiosk_platform::ClientConfig::new(base_url, config.kiosk_id.clone())
            },
        )?);
        let catalogue = Arc::new(loaded.catalogue.clone());
        let worker = Worker::new(
            store.clone(),
            PlatformDeliver {
                client: client.clone(),
                catalogue: catalogue.clone(),
            },
            WorkerOptions::default(),
        );
        let mut devices = Devices::default();
        {
            let _enter = rt.enter();
            crate::devices::start_card_unit(config, &data_dir.join("simulators"), &mut devices)?;
        }
        let scans_dir = data_dir.join("session-scans");
        std::fs::create_dir_all(&scans_dir)?;
        let today = SystemClock.now().date();
        let services = Arc::new(Services {
            store,
            platform: client,
            catalogue,
            printer: None,
            scanner: None,
            scans_dir,
            outbox: worker.waker(),
            retention_days: config.storage.retention_days,
            sequence: DailySequence::starting_after(today, 0),
            cards: devices.cards.clone(),
            locker: None,
            kiosk_id: config.kiosk_id.clone(),
            locker_door_alert: config.devices.locker.door_open_alert_after,
            overdue_after_days: config.devices.locker.overdue_after_days,
        });
        Ok(CardKiosk {
            loaded: Rc::new(loaded),
            services,
            sims: devices.sims,
            resources,
            worker,
            _platform_sim: platform_sim,
            rt,
        })
    }

    /// Start-up recovery (see `io::cards::recover`).
    pub fn recover(&self) -> Recovery {
        self.rt.block_on(crate::io::cards::recover(
            &self.services.cards,
            &self.services.store,
        ))
    }

    /// Delivers what is due to the platform, for at most `within`; returns rows attempted.
    pub fn drain(&self, within: Duration) -> usize {
        let until = Instant::now() + within;
        let mut total = 0;
        while Instant::now() < until {
            match self.rt.block_on(self.worker.drain_once()) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
            let pending = self.services.store.outbox_stats().map_or(0, |s| s.pending);
            if pending == 0 {
                break;
            }
        }
        total
    }

    /// A session stepped by the runtime core with the production I/O, without a screen.
    pub fn headless(&self) -> Headless {
        let signal = Arc::new((Mutex::new(false), Condvar::new()));
        let wake = {
            let signal = signal.clone();
            Arc::new(move || {
                let (flag, cv) = &*signal;
                if let Ok(mut f) = flag.lock() {
                    *f = true;
                }
                cv.notify_all();
            })
        };
        let (poster, mailbox) = mailbox(wake);
        let inbox = Rc::new(Inbox::default());
        let log = Rc::new(RefCell::new(Vec::new()));
        let parts = Parts {
            clock: Box::new(SystemClock),
            fresh: Box::new(RandomFresh {
                sequence: self.services.sequence.clone(),
            }),
            timers: Box::new(TokioTimers {
                rt: self.rt.handle().clone(),
                poster: poster.clone(),
                running: RefCell::new(HashMap::new()),
            }),
            io: Box::new(KioskIo::new(
                self.rt.handle().clone(),
                poster.clone(),
                self.services.clone(),
            )),
            view: Box::new(StageLog(log.clone())),
        };
        // The card unit's news (state, stock, alerts) reaches the session as in the kiosk.
        crate::io::cards::forward(
            self.rt.handle(),
            &self.services.cards,
            &self.services.store,
            &poster,
        );
        let core = Core::new(self.loaded.clone(), parts, inbox);
        Headless {
            core,
            mailbox,
            signal,
            poster,
            log,
        }
    }
}

/// Timers on the runtime: a fired timer comes back as `Event::Timer`.
struct TokioTimers {
    rt: tokio::runtime::Handle,
    poster: Poster,
    running: RefCell<HashMap<TimerId, tokio::task::JoinHandle<()>>>,
}

impl Timers for TokioTimers {
    fn start(&self, id: TimerId, after: Duration) {
        let poster = self.poster.clone();
        let task = self.rt.spawn(async move {
            tokio::time::sleep(after).await;
            poster.post(Event::Timer(id));
        });
        if let Some(old) = self.running.borrow_mut().insert(id, task) {
            old.abort();
        }
    }

    fn cancel(&self, id: TimerId) {
        if let Some(old) = self.running.borrow_mut().remove(&id) {
            old.abort();
        }
    }
}

/// Records the card journey's stages as they change (no personal data).
struct StageLog(Rc<RefCell<Vec<String>>>);

impl View for StageLog {
    fn render(&self, session: &Session, _ctx: &Ctx<'_>) {
        let stage = describe(&session.journey);
        let mut log = self.0.borrow_mut();
        if log.last() != Some(&stage) {
            log.push(stage);
        }
    }
}

fn describe(journey: &Journey) -> String {
    match journey {
        Journey::CardIssue(c) => match &c.stage {
            CardStage::Making(step) => {
                format!("making:{}", crate::flows::issue_card::step_name(*step))
            }
            CardStage::NotNow(why) => format!("not-now:{why:?}"),
            CardStage::Failed { can_retry } => format!("failed:retry={can_retry}"),
            other => format!("{other:?}").to_lowercase(),
        },
        Journey::OutOfService { .. } => "out-of-service".into(),
        Journey::Home => "home".into(),
        Journey::Evaluate(_) => "evaluate".into(),
        _ => "other".into(),
    }
}

/// How one headless issuance ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssueReport {
    /// `issued`, `failed`, `not-now`, `out-of-service`, `refused` or `timed-out`.
    pub outcome: String,
    /// What the resident would have been told (English).
    pub message: Option<String>,
    pub attempt: Option<uuid::Uuid>,
    /// The journey's stages in order.
    pub stages: Vec<String>,
}

pub struct Headless {
    pub core: Core,
    mailbox: Mailbox,
    signal: Arc<(Mutex<bool>, Condvar)>,
    poster: Poster,
    log: Rc<RefCell<Vec<String>>>,
}

impl Headless {
    pub fn post(&mut self, event: Event) {
        self.core.handle(event);
    }

    /// A poster for events from other threads (tests: a resident taking the card).
    pub fn poster(&self) -> Poster {
        self.poster.clone()
    }

    /// Handles events until `done` says so or `within` passes; true when done.
    pub fn run_until(&mut self, within: Duration, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        let until = Instant::now() + within;
        loop {
            self.mailbox.drain_into(&self.core.inbox());
            self.core.pump();
            if done(self) {
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            let (flag, cv) = &*self.signal;
            let Ok(mut woken) = flag.lock() else {
                return false;
            };
            if !*woken {
                woken = match cv.wait_timeout(woken, (until - now).min(Duration::from_millis(100)))
                {
                    Ok((w, _)) => w,
                    Err(_) => return false,
                };
            }
            *woken = false;
        }
    }

    pub fn session(&self) -> &Session {
        &self.core.session
    }

    /// Runs the card journey for `identity`: the home tile, the card on the reader, the
    /// person's own card (or `application`'s), confirm, and whatever the devices do.
    pub fn issue(
        &mut self,
        identity: Identity,
        application: Option<uuid::Uuid>,
        within: Duration,
    ) -> IssueReport {
        self.post(Event::User(UserAction::Start(JourneyKind::CardIssue)));
        self.post(Event::CardPresented(Box::new(identity)));
        self.drive(application, within)
    }

    /// After a failure: "Try again" (a new card), then as [`Headless::issue`].
    pub fn retry(&mut self, within: Duration) -> IssueReport {
        self.post(Event::User(UserAction::Card(CardAction::Retry)));
        self.drive(None, within)
    }

    /// Makes the resident's choices until the journey ends.
    pub fn drive(&mut self, application: Option<uuid::Uuid>, within: Duration) -> IssueReport {
        self.log.borrow_mut().clear();
        let mut outcome = "timed-out";
        let finished = self.run_until(within, |h| {
            let act = match &h.core.session.journey {
                Journey::OutOfService { .. } => {
                    outcome = "out-of-service";
                    return true;
                }
                Journey::CardIssue(c) => match &c.stage {
                    CardStage::Identify if c.message.is_some() => {
                        outcome = "refused";
                        return true;
                    }
                    CardStage::ChooseHolder => {
                        let pick = application
                            .and_then(|a| c.candidates.iter().position(|x| x.application_id == a));
                        CardAction::ChooseHolder(pick)
                    }
                    CardStage::Confirm => CardAction::Confirm,
                    CardStage::Issued => {
                        outcome = "issued";
                        return true;
                    }
                    CardStage::Failed { .. } => {
                        outcome = "failed";
                        return true;
                    }
                    CardStage::NotNow(_) => {
                        outcome = "not-now";
                        return true;
                    }
                    _ => return false,
                },
                _ => return false,
            };
            h.post(Event::User(UserAction::Card(act)));
            false
        });
        if !finished {
            outcome = "timed-out";
        }
        let (message, attempt) = match &self.core.session.journey {
            Journey::CardIssue(c) => (c.message.as_ref().map(|m| m.en.clone()), c.attempt),
            Journey::OutOfService { reason, .. } => (Some(reason.en.clone()), None),
            _ => (None, None),
        };
        IssueReport {
            outcome: outcome.into(),
            message,
            attempt,
            stages: self.log.borrow().clone(),
        }
    }
}

/// The attempt of a report, as recorded.
pub fn recorded(kiosk: &CardKiosk, report: &IssueReport) -> Option<CardAttempt> {
    report
        .attempt
        .and_then(|id| kiosk.services.store.card_attempt(id).ok().flatten())
}

// ----- the dispenser simulator with a resident ----------------------------------------------

/// `kiosk sim dispenser`: the dispenser simulator on a pty, a virtual social security chip on
/// every card, and optionally a resident who takes a card held at the gate.
#[derive(Args, Debug, Clone)]
pub struct SimDispenserArgs {
    #[command(flatten)]
    pub base: kiosk_dispenser::cli::SimArgs,
    /// A resident takes a card held at the gate after this many milliseconds.
    #[arg(long)]
    pub take_after_ms: Option<u64>,
}

pub fn run_sim_dispenser(args: &SimDispenserArgs) -> anyhow::Result<ExitCode> {
    let sim = kiosk_dispenser::Simulator::new(args.base.config());
    let stock = kiosk_encoder::CardStock::new(kiosk_encoder::CardProfile::default());
    let control = sim.control();
    control.set_chip_factory(stock.factory());
    let link = &args.base.link;
    let (guard, thread) = sim
        .spawn_on_pty(link)
        .with_context(|| format!("cannot create the pty at {}", link.display()))?;
    if let Some(ms) = args.take_after_ms {
        let control = control.clone();
        std::thread::spawn(move || {
            let mut at_gate_since: Option<Instant> = None;
            loop {
                std::thread::sleep(Duration::from_millis(20));
                if control.card_place() == kiosk_dispenser::sim::SimCardPlace::Gate {
                    let since = *at_gate_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= Duration::from_millis(ms) && control.take_card() {
                        // Nobody may be reading any more: never fail on it.
                        let _ = writeln!(std::io::stderr(), "resident took the card");
                        at_gate_since = None;
                    }
                } else {
                    at_gate_since = None;
                }
            }
        });
    }
    eprintln!(
        "dispenser simulator on {} ({} cards)",
        guard.device_path().display(),
        args.base.hopper
    );
    let result = thread
        .join()
        .map_err(|_| anyhow::anyhow!("the simulator thread panicked"))?;
    drop(guard);
    result.context("simulator link failed")?;
    Ok(ExitCode::SUCCESS)
}

/// Today in the centre's time zone (for tests).
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(centre_time_zone()).date()
}
