//! The composition root: configuration → store → platform (client, or the embedded
//! simulator) → outbox worker → devices (real or simulated) → the services the journeys'
//! effects use. `kiosk run` and the end-to-end tests assemble the kiosk here, the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;

use crate::check::{Loaded, load_all};
use crate::devices::{self, Devices};
use crate::io::Services;
use crate::outbox::{SyncState, Worker, WorkerOptions};
use crate::platform::PlatformDeliver;
use crate::runtime::system::{DailySequence, centre_time_zone};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct Options {
    pub config: PathBuf,
    /// Every device simulated and the platform simulator embedded, whatever the config says.
    pub simulate: bool,
    /// Overrides `storage.data_dir`.
    pub data_dir: Option<PathBuf>,
    /// Where `resources/` is (simulator data, SANE config, translations).
    pub resources: PathBuf,
    /// Settings for the embedded platform simulator.
    pub platform_sim: kiosk_platform::SimConfig,
}

impl Options {
    pub fn new(config: PathBuf) -> Options {
        Options {
            config,
            simulate: false,
            data_dir: None,
            resources: default_resources(),
            platform_sim: kiosk_platform::SimConfig::default(),
        }
    }
}

/// `resources/` next to the config folder in a checkout, or the installed location.
pub fn default_resources() -> PathBuf {
    for candidate in [
        Path::new("resources"),
        Path::new("/usr/share/kiosk/resources"),
    ] {
        if candidate.is_dir() {
            return candidate.to_owned();
        }
    }
    PathBuf::from("resources")
}

/// Everything that lives while the kiosk runs.
pub struct Kiosk {
    pub loaded: Arc<Loaded>,
    pub store: Arc<Store>,
    pub services: Arc<Services>,
    pub devices: Devices,
    pub platform_sim: Option<kiosk_platform::SimHandle>,
    pub sync: watch::Receiver<SyncState>,
    /// Whether the platform answered the last heartbeat.
    pub heartbeat: watch::Receiver<bool>,
    pub data_dir: PathBuf,
    /// Kept last so that it is dropped after the tasks above stop using it.
    pub tokio: tokio::runtime::Runtime,
}

pub fn assemble(options: &Options) -> anyhow::Result<Kiosk> {
    let mut loaded = load_all(&options.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    if options.simulate {
        loaded.config.simulate_everything();
    }
    if let Some(dir) = &options.data_dir {
        loaded.config.storage.data_dir.clone_from(dir);
    }
    let config = &loaded.config;
    // SANE reads its config folder from the environment once; set it before any thread
    // starts (setenv is not safe while other threads read the environment).
    if config.devices.scanner.mode == crate::config::kiosk::DeviceMode::Simulated {
        kiosk_scanner::sim::use_test_backend(&options.resources.join("sane"))?;
    }
    let data_dir = config.storage.data_dir.clone();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kiosk-io")
        .enable_all()
        .build()
        .context("cannot start the I/O runtime")?;

    let store = Arc::new(
        Store::open(&data_dir)
            .with_context(|| format!("cannot open the store in {}", data_dir.display()))?,
    );
    let purged = store.purge_expired(jiff::Timestamp::now().as_millisecond())?;
    if purged.applications > 0 {
        tracing::info!(
            applications = purged.applications,
            pages = purged.pages,
            "personal data past retention purged"
        );
    }

    // The platform: the real one, or the simulator inside this process.
    let (platform_sim, base_url) = if config.uses_embedded_platform() {
        let sim = tokio
            .block_on(kiosk_platform::Simulator::start_with(
                "127.0.0.1:0",
                options.platform_sim.clone(),
            ))
            .context("cannot start the embedded platform simulator")?;
        let url = sim.url().clone();
        (Some(sim), url)
    } else {
        (None, config.platform.endpoint.clone())
    };
    let client_config = kiosk_platform::ClientConfig {
        connect_timeout: config.platform.connect_timeout,
        request_timeout: config.platform.request_timeout,
        ..kiosk_platform::ClientConfig::new(base_url, config.kiosk_id.clone())
    };
    let client = Arc::new(
        kiosk_platform::PlatformClient::new(&client_config)
            .context("cannot set up the platform client")?,
    );
    let catalogue = Arc::new(loaded.catalogue.clone());

    let worker = Worker::new(
        store.clone(),
        PlatformDeliver {
            client: client.clone(),
            catalogue: catalogue.clone(),
        },
        WorkerOptions::default(),
    );
    let sync = worker.state();
    let outbox = worker.waker();
    tokio.spawn(worker.run());

    let scans_dir = data_dir.join("session-scans");
    std::fs::create_dir_all(&scans_dir)?;
    // Pages left by a session that a crash interrupted: never reused.
    crate::io::clear_dir(&scans_dir);
    let sim_out = data_dir.join("simulators");
    let devices = {
        let _enter = tokio.enter();
        devices::start(config, &options.resources, &scans_dir, &sim_out)?
    };

    let today = jiff::Timestamp::now().to_zoned(centre_time_zone()).date();
    let used = store.max_sequence(&today.strftime("%y%m%d").to_string())?;
    let services = Arc::new(Services {
        store: store.clone(),
        platform: client,
        catalogue,
        printer: devices.printer.clone(),
        scanner: devices.scanner.clone(),
        scans_dir,
        outbox,
        retention_days: config.storage.retention_days,
        sequence: DailySequence::starting_after(today, used),
        cards: devices.cards.clone(),
        locker: devices.locker.clone(),
        kiosk_id: config.kiosk_id.clone(),
        locker_door_alert: config.devices.locker.door_open_alert_after,
        overdue_after_days: config.devices.locker.overdue_after_days,
    });
    // A card attempt a crash interrupted is finished before anyone can start another (the
    // start waits for it); without one, a card left in the machine is looked for meanwhile.
    let report = |r: &crate::io::cards::Recovery| {
        if r.attempt.is_some() || r.action != "nothing" {
            tracing::warn!(recovery = ?r, "card unit recovered after an interruption");
        }
    };
    if store.open_card_attempt()?.is_some() {
        report(&tokio.block_on(crate::io::cards::recover(&devices.cards, &store)));
    } else {
        let cards = devices.cards.clone();
        let store = store.clone();
        tokio.spawn(async move { report(&crate::io::cards::recover(&cards, &store).await) });
    }
    if options.simulate && store.staff_count()? == 0 {
        // Simulation only: a known account so staff mode can be tried (README).
        store.set_staff_pin(
            "1001",
            "模拟值班员",
            "246810",
            jiff::Timestamp::now().as_millisecond(),
        )?;
    }
    if let Some(locker) = &devices.locker {
        // A door that was being opened, or stood open, when the kiosk stopped goes to staff
        // before anyone can use the lockers; from then on the monitor's alerts are recorded.
        crate::io::locker_watch::reconcile(&tokio, locker, &store);
        crate::io::locker_watch::record_alerts(&tokio, locker, &store);
    }
    spawn_purge(&tokio, store.clone());
    let heartbeat = spawn_heartbeat(
        &tokio,
        &loaded,
        &options.config,
        &devices,
        &store,
        services.platform.clone(),
    );
    Ok(Kiosk {
        loaded: Arc::new(loaded),
        store,
        services,
        devices,
        platform_sim,
        sync,
        heartbeat,
        data_dir,
        tokio,
    })
}

fn spawn_heartbeat(
    tokio: &tokio::runtime::Runtime,
    loaded: &Loaded,
    config_path: &Path,
    devices: &Devices,
    store: &Arc<Store>,
    client: Arc<kiosk_platform::PlatformClient>,
) -> watch::Receiver<bool> {
    let mut statuses = Vec::new();
    if let Some(d) = &devices.idcard {
        statuses.push(("idcard", d.status()));
    }
    if let Some(d) = &devices.printer {
        statuses.push(("printer", d.status()));
    }
    if let Some(d) = &devices.scanner {
        statuses.push(("scanner", d.status()));
    }
    if let Some(d) = &devices.locker {
        statuses.push(("locker", d.device_status()));
    }
    if let Some(d) = &devices.cards.dispenser {
        statuses.push(("dispenser", d.device_status()));
    }
    let sources = crate::heartbeat::Sources {
        kiosk_id: loaded.config.kiosk_id.clone(),
        config_hash: crate::heartbeat::config_hash(config_path),
        catalogue_version: loaded.catalogue.version.clone(),
        devices: statuses,
        printer: devices
            .printer
            .as_ref()
            .map(kiosk_printer::Handle::printer_status),
        store: store.clone(),
    };
    let (tx, rx) = watch::channel(true);
    tokio.spawn(crate::heartbeat::run(
        client,
        sources,
        loaded.config.platform.heartbeat_every,
        tx,
    ));
    rx
}

/// Purges personal data past retention once an hour.
fn spawn_purge(tokio: &tokio::runtime::Runtime, store: Arc<Store>) {
    tokio.spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_hours(1)).await;
            let store = store.clone();
            let result = crate::outbox::blocking(move || {
                store.purge_expired(jiff::Timestamp::now().as_millisecond())
            })
            .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "retention purge failed");
            }
        }
    });
}
