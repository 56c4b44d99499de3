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
    crate::logging::init(log.as_ref().map_or(LogFormat::Text, |l| l.format), log.as_ref().map_or("info", |l| l.level.as_str()));
    let mut options = Options::new(args.config.clone());
    options.simulate = args.simulate;
    options.data_dir.clone_from(&args.data_dir);
    let kiosk = assemble(&options)?;
    tracing::info!(kiosk = %kiosk.loaded.config.kiosk_id, simulate = args.simulate, "kiosk assembled");
    crate::ui_bridge::run(kiosk, args, started)
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
}

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    #[arg(long, default_value = "config/kiosk.toml")]
    pub config: PathBuf,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    fn open(&self) -> anyhow::Result<Arc<Store>> {
        let dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => KioskConfig::load(&self.config).map_err(|e| anyhow::anyhow!("{e}"))?.storage.data_dir,
        };
        Ok(Arc::new(Store::open(&dir).with_context(|| format!("cannot open the store in {}", dir.display()))?))
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
            for (seq, at_ms, kind, actor, subject, details) in store.open()?.audit_tail(*last)?.into_iter().rev() {
                let line = serde_json::json!({ "seq": seq, "at_ms": at_ms, "kind": kind, "actor": actor, "subject": subject, "details": details });
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn outbox(command: &OutboxCommand) -> anyhow::Result<ExitCode> {
    match command {
        OutboxCommand::Status(args) => {
            let stats = args.open()?.outbox_stats()?;
            let oldest = stats.oldest_pending_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()).map(|t| t.to_string());
            let json = serde_json::json!({ "pending": stats.pending, "retrying": stats.retrying, "delivered": stats.delivered, "oldest_pending": oldest });
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
