//! Technician command line: `kiosk device dispenser --port PORT <action>` and
//! `kiosk sim dispenser --link PATH [--hopper N] [--jam]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use kiosk_link::Port;

use crate::driver::{Driver, Timeouts};
use crate::protocol::{CardPosition, HopperLevel, InitMode, RejectBin, Status};
use crate::sim::{ChipFactory, SimConfig, Simulator};

/// `kiosk device dispenser …`
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArgs {
    /// Port of the dispenser: `/dev/ttyX`, `serial:/dev/ttyX@BAUD` or `tcp:HOST:PORT`.
    #[arg(long)]
    pub port: Port,
    /// Unit address set on its DIP switch (0–15).
    #[arg(long, default_value_t = 0)]
    pub address: u8,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Action {
    /// Print card position, hopper, reject bin and the reject-bin count as JSON.
    Status,
    /// Move the card to the IC contact position (dispenses one when none is inside).
    ToEncoder,
    /// Hold the card at the gate.
    ToGate,
    /// Move the card out of the gate.
    Eject,
    /// Capture the card into the reject bin.
    Capture,
    /// Initialise the device (clears errors).
    Reset {
        /// Capture a card found inside instead of leaving it where it is.
        #[arg(long, conflicts_with = "to_gate")]
        capture: bool,
        /// Move a card found inside to the gate instead of leaving it where it is.
        #[arg(long)]
        to_gate: bool,
    },
}

/// The JSON `status` prints (and every action prints after it has run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusJson {
    /// "none", "gate" or "inside" (at the IC/RF position).
    pub card_position: &'static str,
    /// "ok", "low" or "empty".
    pub hopper: &'static str,
    /// "ok" or "full".
    pub reject_bin: &'static str,
    /// The device's reject-bin counter, when the device reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_bin_count: Option<u16>,
}

impl StatusJson {
    pub fn new(status: Status, reject_bin_count: Option<u16>) -> Self {
        StatusJson {
            card_position: match status.card {
                CardPosition::None => "none",
                CardPosition::AtGate => "gate",
                CardPosition::Inside => "inside",
            },
            hopper: match status.hopper {
                HopperLevel::Ok => "ok",
                HopperLevel::Low => "low",
                HopperLevel::Empty => "empty",
            },
            reject_bin: match status.reject_bin {
                RejectBin::Ok => "ok",
                RejectBin::Full => "full",
            },
            reject_bin_count,
        }
    }
}

/// Runs one technician action and prints the resulting status as JSON on stdout.
pub fn run_device(args: DeviceArgs) -> anyhow::Result<ExitCode> {
    let DeviceArgs {
        port,
        address,
        action,
    } = args;
    let mut driver = Driver::open(&port, address, Timeouts::default())
        .with_context(|| format!("cannot open the dispenser at {port}"))?;
    let json = run_action(&mut driver, &action)?;
    println!("{}", serde_json::to_string(&json)?);
    Ok(ExitCode::SUCCESS)
}

/// The action on an open driver (separate so tests can run it over a memory link).
pub fn run_action(driver: &mut Driver, action: &Action) -> anyhow::Result<StatusJson> {
    // First command after opening: initialise, leaving any card where it is
    // (device-defaults.md); `reset` chooses its own mode.
    let mode = match action {
        Action::Reset { capture: true, .. } => InitMode::Capture,
        Action::Reset { to_gate: true, .. } => InitMode::HoldAtGate,
        _ => InitMode::LeaveInPlace,
    };
    driver
        .initialize(mode, false)
        .context("initialising the dispenser")?;
    let status = match action {
        Action::Status | Action::Reset { .. } => driver.status(),
        Action::ToEncoder => driver.to_encoder(),
        Action::ToGate => driver.to_gate(),
        Action::Eject => driver.eject(),
        Action::Capture => driver.capture(),
    }?;
    // Not every unit has the counter: leave it out when the device refuses.
    let count = driver.reject_count().ok();
    Ok(StatusJson::new(status, count))
}

/// `kiosk sim dispenser …`
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Where to put the symlink to the simulator's serial port.
    #[arg(long)]
    pub link: PathBuf,
    /// Cards in the hopper.
    #[arg(long, default_value_t = 100)]
    pub hopper: u32,
    /// Start with a card jam: every move fails with error 10.
    #[arg(long)]
    pub jam: bool,
    /// Low-hopper threshold.
    #[arg(long, default_value_t = 10)]
    pub hopper_low: u32,
    /// Reject bin capacity.
    #[arg(long, default_value_t = 50)]
    pub reject_capacity: u32,
    /// Unit address (0–15).
    #[arg(long, default_value_t = 0)]
    pub address: u8,
}

impl SimArgs {
    pub fn config(&self) -> SimConfig {
        SimConfig {
            address: self.address,
            hopper: self.hopper,
            hopper_low: self.hopper_low,
            reject_capacity: self.reject_capacity,
            jam: self.jam,
            ..SimConfig::default()
        }
    }
}

/// Runs the simulator on a pty until killed (cards carry no chip).
pub fn run_sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    run_sim_with_chips(args, None)
}

/// Runs the simulator on a pty until killed; each card from the hopper gets a chip from
/// `chips` (the app passes the chip encoder's virtual card here).
pub fn run_sim_with_chips(args: SimArgs, chips: Option<ChipFactory>) -> anyhow::Result<ExitCode> {
    let sim = Simulator::new(args.config());
    if let Some(f) = chips {
        sim.control().set_chip_factory(f);
    }
    let link = args.link;
    let (guard, thread) = sim
        .spawn_on_pty(&link)
        .with_context(|| format!("cannot create the pty at {}", link.display()))?;
    eprintln!(
        "dispenser simulator on {} ({} cards)",
        guard.device_path().display(),
        args.hopper
    );
    let result = thread
        .join()
        .map_err(|_| anyhow::anyhow!("the simulator thread panicked"))?;
    drop(guard);
    result.context("simulator link failed")?;
    Ok(ExitCode::SUCCESS)
}
