//! The technician command line:
//!
//! - `kiosk device locker --port PORT status [--board N]`: the door states as JSON;
//! - `kiosk device locker --port PORT open --board N --lock M`: open one lock, confirm with
//!   its sensor, print the outcome as JSON; exits non-zero when the door did not open;
//! - `kiosk sim locker --link PATH [--boards N] [--jam BOARD:LOCK]`: a simulated bank on a
//!   pseudo-terminal, until killed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use kiosk_link::Port;
use serde::Serialize;

use crate::bank::{BankConfig, DEFAULT_CHANNELS};
use crate::driver::{Driver, OpenOutcome, Target, Timeouts};
use crate::handle::DEFAULT_BAUD;
use crate::protocol::Polarity;
use crate::sim::{SimConfig, SimControl, parse_header};

/// `BOARD:LOCK`, e.g. `1:5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardLock {
    pub board: u8,
    pub lock: u8,
}

impl FromStr for BoardLock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (b, l) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?} is not BOARD:LOCK (e.g. 1:5)"))?;
        let board = b
            .trim()
            .parse()
            .map_err(|_| format!("board {b:?} is not a number 1-254"))?;
        let lock = l
            .trim()
            .parse()
            .map_err(|_| format!("lock {l:?} is not a number 1-32"))?;
        Ok(BoardLock { board, lock })
    }
}

fn parse_polarity(s: &str) -> Result<Polarity, String> {
    match s.trim().replace('-', "_").as_str() {
        "door_closing" => Ok(Polarity::DoorClosing),
        "door_opening" => Ok(Polarity::DoorOpening),
        _ => Err(format!(
            "{s:?}: expected door_closing (11 = closed) or door_opening (11 = open)"
        )),
    }
}

fn parse_header_arg(s: &str) -> Result<u8, String> {
    parse_header(s).ok_or_else(|| format!("{s:?}: expected 8a or 80"))
}

/// `kiosk device locker …`
#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// The RS485 adapter: `/dev/ttyUSB0` or `serial:/dev/ttyUSB0@9600` (9600 baud by default).
    #[arg(long)]
    pub port: Port,
    /// The locker bank configuration (TOML: boards and compartments). Without it, boards
    /// 1..=--boards with --channels locks each and --polarity sensors are assumed.
    #[arg(long)]
    pub bank: Option<PathBuf>,
    /// Boards on the bus, addresses 1..=N (without --bank).
    #[arg(long, default_value_t = 1)]
    pub boards: u8,
    /// Locks per board (without --bank).
    #[arg(long, default_value_t = DEFAULT_CHANNELS)]
    pub channels: u8,
    /// What the door switch means: `door_closing` (11 = closed) or `door_opening` (11 = open).
    #[arg(long, default_value = "door_closing", value_parser = parse_polarity)]
    pub polarity: Polarity,
    /// Milliseconds the door sensor has to say "open" after the unlock.
    #[arg(long, default_value_t = 10_000)]
    pub confirm_ms: u64,
    #[command(subcommand)]
    pub action: DeviceAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum DeviceAction {
    /// Print every door's state as JSON.
    Status {
        /// Only this board.
        #[arg(long)]
        board: Option<u8>,
    },
    /// Open one lock and confirm with its door sensor (exit code 1 unless it opened).
    Open {
        #[arg(long)]
        board: u8,
        #[arg(long)]
        lock: u8,
    },
}

#[derive(Serialize)]
struct OpenReport {
    board: u8,
    lock: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    compartment: Option<String>,
    #[serde(flatten)]
    outcome: OpenOutcome,
}

/// Runs `kiosk device locker …`: prints JSON on stdout.
#[allow(
    clippy::needless_pass_by_value,
    reason = "every device crate's entry point takes its Args by value"
)]
pub fn run_device(args: DeviceArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.bank {
        Some(path) => read_bank(path)?,
        None => BankConfig::uniform(args.boards, args.channels, args.polarity),
    };
    let bank = config.validate()?;
    let link = kiosk_link::open(&args.port, DEFAULT_BAUD)?;
    let timeouts = Timeouts {
        open_confirm: Duration::from_millis(args.confirm_ms),
        ..Timeouts::default()
    };
    let mut driver = Driver::new(link, bank, timeouts);
    match args.action {
        DeviceAction::Status { board } => {
            let status = driver.status(board)?;
            println!("{}", serde_json::to_string_pretty(&status)?);
            Ok(ExitCode::SUCCESS)
        }
        DeviceAction::Open { board, lock } => {
            let compartment = driver.bank().at(board, lock).cloned();
            let polarity = compartment.as_ref().map_or_else(
                || {
                    driver
                        .bank()
                        .board(board)
                        .map_or(driver.bank().polarity(), |b| b.polarity)
                },
                |c| c.polarity,
            );
            let outcome = driver.open_target(Target {
                board,
                lock,
                polarity,
            })?;
            let report = OpenReport {
                board,
                lock,
                compartment: compartment.map(|c| c.id.0),
                outcome,
            };
            println!("{}", serde_json::to_string(&report)?);
            Ok(if outcome == OpenOutcome::Opened {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// `kiosk sim locker …`
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Where to put the symlink to the simulator's pseudo-terminal (the driver's --port).
    #[arg(long)]
    pub link: PathBuf,
    /// Boards on the simulated bus, addresses 1..=N.
    #[arg(long, default_value_t = 1)]
    pub boards: u8,
    /// Simulate the boards a bank configuration (TOML) names, with its sensor polarity,
    /// instead of --boards/--channels/--polarity.
    #[arg(long)]
    pub bank: Option<PathBuf>,
    /// Jam a lock: its pulses never open the door (repeatable), e.g. --jam 1:5.
    #[arg(long, value_name = "BOARD:LOCK")]
    pub jam: Vec<BoardLock>,
    /// Stick a door's sensor on "open" (repeatable).
    #[arg(long, value_name = "BOARD:LOCK")]
    pub stuck_open: Vec<BoardLock>,
    /// A board that is configured but never answers (repeatable).
    #[arg(long, value_name = "BOARD")]
    pub absent: Vec<u8>,
    /// Locks per board.
    #[arg(long, default_value_t = DEFAULT_CHANNELS)]
    pub channels: u8,
    /// How the simulated sensors are wired: `door_closing` or `door_opening`.
    #[arg(long, default_value = "door_closing", value_parser = parse_polarity)]
    pub polarity: Polarity,
    /// Header of the boards' lock replies: 8a or 80.
    #[arg(long, default_value = "8a", value_parser = parse_header_arg)]
    pub reply_header: u8,
    /// An opened door swings shut by itself after this many seconds (0: never).
    #[arg(long, default_value_t = 5)]
    pub close_after_secs: u64,
    /// Delay before a board answers an unlock, in milliseconds (real boards: about 1000).
    #[arg(long, default_value_t = 300)]
    pub unlock_delay_ms: u64,
}

/// Builds the simulated bank an invocation of `kiosk sim locker` describes.
pub fn sim_from_args(args: &SimArgs) -> anyhow::Result<SimControl> {
    let mut config = if let Some(path) = &args.bank {
        SimConfig::from_bank(&read_bank(path)?.validate()?)
    } else {
        let mut config = SimConfig::uniform(args.boards, args.channels);
        for b in &mut config.boards {
            b.polarity = args.polarity;
        }
        config
    };
    for b in &mut config.boards {
        b.reply_header = args.reply_header;
    }
    config.spring_shut =
        (args.close_after_secs > 0).then(|| Duration::from_secs(args.close_after_secs));
    config.unlock_reply_delay = Duration::from_millis(args.unlock_delay_ms);
    let control = SimControl::new(&config);
    for j in &args.jam {
        control.set_jammed(j.board, j.lock, true);
    }
    for s in &args.stuck_open {
        control.set_stuck_open(s.board, s.lock, true);
    }
    for b in &args.absent {
        control.set_present(*b, false);
    }
    Ok(control)
}

/// Reads a bank configuration file (TOML).
pub fn read_bank(path: &std::path::Path) -> anyhow::Result<BankConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str::<BankConfig>(&text).with_context(|| format!("cannot parse {}", path.display()))
}

/// Runs `kiosk sim locker …` until killed.
#[allow(
    clippy::needless_pass_by_value,
    reason = "every device crate's entry point takes its Args by value"
)]
pub fn run_sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let control = sim_from_args(&args)?;
    let (guard, thread) = control
        .serve_pty(Some(&args.link))
        .with_context(|| format!("cannot create the pty at {}", args.link.display()))?;
    eprintln!(
        "locker simulator on {} (-> {})",
        args.link.display(),
        guard.slave_path().display()
    );
    let _ = thread.join();
    drop(guard);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Kiosk {
        #[command(subcommand)]
        cmd: Top,
    }
    #[derive(clap::Subcommand)]
    enum Top {
        Device(DeviceArgs),
        Sim(SimArgs),
    }

    #[test]
    fn flags_parse_as_the_issue_writes_them() {
        let k = Kiosk::parse_from([
            "kiosk",
            "device",
            "--port",
            "/dev/ttyUSB0",
            "open",
            "--board",
            "1",
            "--lock",
            "5",
        ]);
        let Top::Device(d) = k.cmd else { panic!() };
        assert!(matches!(d.action, DeviceAction::Open { board: 1, lock: 5 }));
        let k = Kiosk::parse_from([
            "kiosk",
            "device",
            "--port",
            "/dev/ttyS0",
            "status",
            "--board",
            "2",
        ]);
        let Top::Device(d) = k.cmd else { panic!() };
        assert!(matches!(d.action, DeviceAction::Status { board: Some(2) }));
        let k = Kiosk::parse_from([
            "kiosk", "sim", "--link", "/tmp/x", "--boards", "3", "--jam", "2:7", "--jam", "1:1",
        ]);
        let Top::Sim(s) = k.cmd else { panic!() };
        assert_eq!(s.boards, 3);
        assert_eq!(
            s.jam,
            vec![
                BoardLock { board: 2, lock: 7 },
                BoardLock { board: 1, lock: 1 }
            ]
        );
        assert!("5".parse::<BoardLock>().is_err());
        assert!(parse_polarity("door-opening").is_ok());
        assert!(parse_header_arg("0x80").is_ok());
    }
}
