//! `kiosk`: the composition root. Parses the command line and hands each command to the
//! module that does it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiosk_app::check;

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
    /// Check the configuration, the one-thing catalogue and the calendar; list what is offered.
    Check {
        #[arg(long, default_value = "config/kiosk.toml")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => {
            // No logger: the problems are printed once, below, for the operator.
            match check::load_all(&config) {
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
    }
}
