//! The `kiosk` subcommands that belong to the app itself (the device and simulator commands
//! come from the driver crates).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::assemble::{Options, assemble};
use crate::check;
use crate::config::kiosk::{KioskConfig, LogFormat};
use crate::store::Store;

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[arg(long, default_value = "config/kiosk.toml")]
    pub config: PathBuf,
    /// Simulate every device and embed the platform simulator (with a developer panel).
    #[arg(long)]
    pub simulate: bool,
    /// Where the database, scanned pages and keys live (overrides `storage.data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Print the time from start to the first frame and exit (a smoke test).
    #[arg(long)]
    pub quit_after_first_frame: bool,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let log = KioskConfig::load(&args.config).ok().and_then(|c| c.logging);
    crate::logging::init(
        log.as_ref().map_or(LogFormat::Text, |l| l.format),
        log.as_ref().map_or("info", |l| l.level.as_str()),
    );
    let mut options = Options::new(args.config.clone());
    options.simulate = args.simulate;
    options.data_dir.clone_from(&args.data_dir);
    let kiosk = assemble(&options)?;
    tracing::info!(kiosk = %kiosk.loaded.config.kiosk_id, simulate = args.simulate, "kiosk assembled");
    crate::ui_bridge::launch::run(kiosk, args, started)
}

/// Staff accounts for staff mode.
#[derive(Subcommand, Debug, Clone)]
pub enum StaffCommand {
    /// Create a staff account or change its name and PIN; the PIN is read from standard input
    /// (6 to 12 digits), never from the command line.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// The work id staff type in (letters and digits).
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
    },
}

/// `kiosk staff add`.
pub fn staff(command: &StaffCommand) -> anyhow::Result<ExitCode> {
    match command {
        StaffCommand::Add { store, id, name } => {
            let store = store.open()?;
            let mut pin = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_line(&mut pin)
                .context("cannot read the PIN from standard input")?;
            store.set_staff_pin(
                id,
                name,
                pin.trim(),
                jiff::Timestamp::now().as_millisecond(),
            )?;
            println!("staff {id} saved");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ScreensArgs {
    #[arg(long, default_value = "config/kiosk.toml")]
    pub config: PathBuf,
    /// Folder for the PNG files (`<screen>-<lang>[-elder].png`).
    #[arg(long)]
    pub out: PathBuf,
    /// The sample ID cards the screens use.
    #[arg(long, default_value = "resources/sim/idcard")]
    pub cards: PathBuf,
    /// Only the screens whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
}

/// `kiosk screens`: every screen to PNG, no display needed.
pub fn screens(args: ScreensArgs) -> anyhow::Result<ExitCode> {
    let loaded = check::load_all(&args.config).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let written = crate::screens::render_all(
        loaded,
        &crate::screens::ScreensOptions {
            out: args.out,
            cards: args.cards,
            only: args.only,
        },
    )?;
    println!("{} screens written", written.len());
    Ok(ExitCode::SUCCESS)
}

pub fn check(config: &Path) -> ExitCode {
    match check::load_all(config) {
        Ok(loaded) => {
            print!("{}", check::summary(&loaded));
            println!("OK");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} problem(s) found", errors.0.len());
            ExitCode::FAILURE
        }
    }
}

#[derive(Subcommand, Debug, Clone)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits non-zero where it is broken.
    Verify(StoreArgs),
    /// Print the newest entries as JSON lines (for log export).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value_t = 1000)]
        last: usize,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum OutboxCommand {
    /// How much is waiting for the platform, and since when.
    Status(StoreArgs),
    /// Deliver everything waiting now, then exit (non-zero if something could not be sent).
    Drain {
        #[command(flatten)]
        store: StoreArgs,
        /// The platform's base URL (default: `platform.endpoint` of the config).
        #[arg(long)]
        platform: Option<String>,
    },
    /// Accept COUNT sample applications (each one durable transaction), then drain them to
    /// the platform; prints the acceptance latency and the delivery rate as JSON.
    LoadTest {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        platform: Option<String>,
        #[arg(long, default_value_t = 1000)]
        count: u32,
        /// Rows sent at once.
        #[arg(long, default_value_t = 16)]
        in_flight: usize,
    },
}

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    #[arg(long, default_value = "config/kiosk.toml")]
    pub config: PathBuf,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    /// The store, the platform URL and the kiosk id, for the outbox tools.
    fn target(
        &self,
        platform: Option<&String>,
    ) -> anyhow::Result<(crate::outbox::tools::Target, String)> {
        let loaded = check::load_all(&self.config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| loaded.config.storage.data_dir.clone());
        let url = match platform {
            Some(url) => url.clone(),
            None if loaded.config.uses_embedded_platform() => {
                anyhow::bail!(
                    "the configuration embeds the platform simulator; give --platform URL"
                )
            }
            None => loaded.config.platform.endpoint.clone(),
        };
        let kiosk_id = loaded.config.kiosk_id.clone();
        Ok((
            crate::outbox::tools::Target::open(&dir, &url, &kiosk_id, loaded.catalogue)?,
            kiosk_id,
        ))
    }

    fn open(&self) -> anyhow::Result<Arc<Store>> {
        let dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => {
                KioskConfig::load(&self.config)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .storage
                    .data_dir
            }
        };
        Ok(Arc::new(Store::open(&dir).with_context(|| {
            format!("cannot open the store in {}", dir.display())
        })?))
    }
}

pub fn audit(command: &AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify(args) => match args.open()?.verify_audit()? {
            Ok(n) => {
                println!("audit log intact: {n} entries");
                Ok(ExitCode::SUCCESS)
            }
            Err(broken) => {
                println!("audit log BROKEN: {broken}");
                Ok(ExitCode::FAILURE)
            }
        },
        AuditCommand::Export { store, last } => {
            for entry in store.open()?.audit_tail(*last)?.into_iter().rev() {
                println!("{}", serde_json::to_string(&entry)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn outbox(command: &OutboxCommand) -> anyhow::Result<ExitCode> {
    match command {
        OutboxCommand::Status(args) => {
            let stats = args.open()?.outbox_stats()?;
            let oldest = stats
                .oldest_pending_ms
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .map(|t| t.to_string());
            let json = serde_json::json!({ "pending": stats.pending, "retrying": stats.retrying, "delivered": stats.delivered, "oldest_pending": oldest });
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
        OutboxCommand::Drain { store, platform } => {
            let (target, _) = store.target(platform.as_ref())?;
            let rt = tokio::runtime::Runtime::new()?;
            let delivered = rt.block_on(target.drain(16, std::time::Duration::from_secs(20)))?;
            println!(
                "{}",
                serde_json::json!({ "drained": true, "delivered_total": delivered })
            );
            Ok(ExitCode::SUCCESS)
        }
        OutboxCommand::LoadTest {
            store,
            platform,
            count,
            in_flight,
        } => {
            let (target, kiosk_id) = store.target(platform.as_ref())?;
            let rt = tokio::runtime::Runtime::new()?;
            let report = rt.block_on(crate::outbox::tools::load_test(
                &target, &kiosk_id, *count, *in_flight,
            ))?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
