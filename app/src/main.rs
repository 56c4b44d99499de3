//! `kiosk`: the kiosk itself (`run`) and the commands technicians and tests use. Parsing only;
//! each command is carried out by the module that owns it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiosk_app::commands;

#[derive(Parser)]
#[command(
    name = "kiosk",
    version,
    about = "Town service-centre self-service kiosk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the kiosk.
    Run(commands::RunArgs),
    /// Check the configuration, the one-thing catalogue and the calendar; list what is offered.
    Check {
        #[arg(long, default_value = "config/kiosk.toml")]
        config: PathBuf,
    },
    /// Technician commands for one device.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Run a device simulator on a pseudo-terminal (or TCP) for hand testing.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Run the platform simulator (a stand-in for the provincial platform) on its own.
    PlatformSim(kiosk_platform::PlatformSimArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(commands::AuditCommand),
    /// What is waiting to be sent to the platform.
    #[command(subcommand)]
    Outbox(commands::OutboxCommand),
    /// Social security cards: issue one non-interactively, recover after a crash, records.
    #[command(subcommand)]
    Card(kiosk_app::card_command::CardCommand),
    /// Staff accounts for staff mode (PINs are kept as argon2 hashes).
    #[command(subcommand)]
    Staff(commands::StaffCommand),
    /// Render every screen to PNG (Chinese and English, normal and elder mode); no display needed.
    Screens(commands::ScreensArgs),
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// The ID-card reader.
    Idcard(kiosk_idcard::cli::DeviceArgs),
    /// The receipt printer.
    Printer(kiosk_printer::cli::DeviceArgs),
    /// The document scanner (SANE).
    Scanner(kiosk_scanner::cli::ScannerArgs),
    /// The locker boards.
    Locker(kiosk_locker::cli::DeviceArgs),
    /// The card dispenser (Creator CRT-591 family).
    Dispenser(kiosk_dispenser::cli::DeviceArgs),
    /// The chip encoder (a PC/SC reader).
    Encoder(kiosk_encoder::cli::DeviceArgs),
}

#[derive(Subcommand)]
enum SimCommand {
    Idcard(kiosk_idcard::cli::SimArgs),
    Printer(kiosk_printer::cli::SimArgs),
    Locker(kiosk_locker::cli::SimArgs),
    /// A card dispenser whose cards carry virtual chips (and a resident who takes them).
    Dispenser(kiosk_app::card_command::SimDispenserArgs),
    /// A virtual social security card on vsmartcard's virtual reader (needs pcscd).
    Card(kiosk_encoder::cli::SimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => commands::run(&args),
        Command::Check { config } => Ok(commands::check(&config)),
        Command::Device(DeviceCommand::Idcard(a)) => kiosk_idcard::cli::run_device(a),
        Command::Device(DeviceCommand::Printer(a)) => kiosk_printer::cli::run_device(a),
        Command::Device(DeviceCommand::Scanner(a)) => kiosk_scanner::cli::run_device(a),
        Command::Device(DeviceCommand::Locker(a)) => kiosk_locker::cli::run_device(a),
        Command::Device(DeviceCommand::Dispenser(a)) => kiosk_dispenser::cli::run_device(a),
        Command::Device(DeviceCommand::Encoder(a)) => kiosk_encoder::cli::run_device(a),
        Command::Sim(SimCommand::Idcard(a)) => kiosk_idcard::cli::run_sim(a),
        Command::Sim(SimCommand::Printer(a)) => kiosk_printer::cli::run_sim(a),
        Command::Sim(SimCommand::Locker(a)) => kiosk_locker::cli::run_sim(a),
        Command::Sim(SimCommand::Dispenser(a)) => kiosk_app::card_command::run_sim_dispenser(&a),
        Command::Sim(SimCommand::Card(a)) => kiosk_encoder::cli::run_sim(a),
        Command::PlatformSim(a) => kiosk_platform::run_platform_sim(a),
        Command::Audit(c) => commands::audit(&c),
        Command::Outbox(c) => commands::outbox(&c),
        Command::Card(c) => kiosk_app::card_command::run(&c),
        Command::Screens(a) => commands::screens(a),
        Command::Staff(c) => commands::staff(&c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace: technicians read this on a terminal.
            eprintln!("kiosk: {}", kiosk_app::privacy::redact(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
