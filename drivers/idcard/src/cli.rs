//! The technician command line: `kiosk device idcard --port PORT read` and
//! `kiosk sim idcard --link PATH [--card FILE]`. The app owns the `kiosk` binary and calls
//! [`run_device`] and [`run_sim`] with these `clap` argument structs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use kiosk_link::Port;

use crate::driver::{Driver, ReadOptions};
use crate::handle::Options;
use crate::sim::{SimCard, SimOptions, Simulator};

/// How long `read` waits for a card to be put on the reader.
pub const READ_WAIT: Duration = Duration::from_secs(15);
/// Time between finds while `read` waits.
pub const READ_POLL: Duration = Duration::from_millis(200);
/// The simulator on a pty answers after this long, like a real reader's RF and SAM work,
/// so that "reading…" screens can be seen.
pub const SIM_REPLY_DELAY: Duration = Duration::from_millis(60);
/// The simulator on a pty puts its card back this long after a read, as if lifted and
/// placed again, so the same card can be read repeatedly by hand.
pub const SIM_REPRESENT_AFTER: Duration = Duration::from_secs(3);

/// The sample card served when `--card` is not given.
const DEFAULT_CARD: &str = include_str!("../../../resources/sim/idcard/resident_han.json");

/// `kiosk device idcard …`
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArgs {
    /// The reader's port: `/dev/ttyX`, `serial:/dev/ttyX@BAUD` (default 115200) or `usb:VID:PID`.
    #[arg(long)]
    pub port: Port,
    #[command(subcommand)]
    pub action: DeviceAction,
}

/// What to do with the reader.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeviceAction {
    /// Wait for a card, read it, and print it as one JSON object.
    Read {
        /// Seconds to wait for a card.
        #[arg(long, default_value_t = READ_WAIT.as_secs())]
        wait: u64,
    },
    /// Print the SAM id as JSON.
    SamId,
    /// Check that the SAM answers (SAM status); prints {"sam":"ok"}.
    Status,
}

/// `kiosk sim idcard …`
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Path of the symlink to create for the simulated reader's pseudo-terminal.
    #[arg(long)]
    pub link: PathBuf,
    /// A card file (JSON, see resources/sim/idcard/); a sample resident card otherwise.
    #[arg(long)]
    pub card: Option<PathBuf>,
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Runs one technician action on a real (or simulated) reader.
pub fn run_device(args: DeviceArgs) -> anyhow::Result<ExitCode> {
    let DeviceArgs { port, action } = args;
    let options = Options::default();
    let link = crate::transport::open_port(&port, &options)
        .with_context(|| format!("cannot open the ID-card reader at {port}"))?;
    let mut driver = Driver::new(link, options.timeouts);
    match action {
        DeviceAction::Read { wait } => {
            driver.wait_for_card(Duration::from_secs(wait), READ_POLL)?;
            let identity = driver.read_identity(&ReadOptions::default())?;
            // Serialised straight from the struct, so the keys keep the order.
            print_json(&identity)?;
        }
        DeviceAction::SamId => {
            let id = driver.sam_id()?;
            print_json(&serde_json::json!({ "sam_id": id.formatted }))?;
        }
        DeviceAction::Status => {
            driver.sam_status()?;
            print_json(&serde_json::json!({ "sam": "ok" }))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the simulator on a pseudo-terminal at `--link` until SIGINT or SIGTERM.
pub fn run_sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let SimArgs { link, card } = args;
    let card = match card {
        Some(path) => SimCard::from_file(&path)?,
        None => SimCard::from_json("resident_han", DEFAULT_CARD)?,
    };
    let label = card.label.clone();
    let options = SimOptions {
        reply_delay: SIM_REPLY_DELAY,
        represent_after: Some(SIM_REPRESENT_AFTER),
        ..SimOptions::default()
    };
    let sim = Simulator::spawn_on_pty(&link, options)
        .with_context(|| format!("cannot create the pseudo-terminal at {}", link.display()))?;
    sim.present(card);
    eprintln!(
        "ID-card reader simulator on {} with card {label}; Ctrl-C to stop",
        link.display()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })?;
    sim.stop();
    // Let the simulator thread drop the pty and remove the symlink.
    sim.wait_finished(Duration::from_secs(1));
    Ok(ExitCode::SUCCESS)
}
