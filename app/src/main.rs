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
    /// Run the kiosk: the touch screen, its devices and the platform.
    Run {
        #[arg(long, default_value = "config/kiosk.toml")]
        config: PathBuf,
        /// Every device simulated, the platform simulator embedded, and the developer panel.
        #[arg(long)]
        simulate: bool,
        /// Render the first frame, print the time since the process started, and exit.
        #[arg(long)]
        quit_after_first_frame: bool,
    },
    /// Render every screen to PNG (Chinese and English, normal and elder mode), no display
    /// needed.
    Screens {
        #[arg(long, default_value = "config/kiosk.toml")]
        config: PathBuf,
        /// Folder for the PNG files (`<screen>-<lang>[-elder].png`).
        #[arg(long)]
        out: PathBuf,
        /// The sample ID cards the screens use.
        #[arg(long, default_value = "resources/sim/idcard")]
        cards: PathBuf,
        /// Only the screens whose name contains this.
        #[arg(long)]
        only: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            simulate,
            quit_after_first_frame,
        } => report(run(&config, simulate, quit_after_first_frame)),
        Command::Screens {
            config,
            out,
            cards,
            only,
        } => report(screens(&config, out, cards, only)),
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

/// Prints a failure as one line and turns it into the exit code.
fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kiosk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(config: &std::path::Path) -> anyhow::Result<check::Loaded> {
    check::load_all(config).map_err(|errors| anyhow::anyhow!("{errors}"))
}

fn run(
    config: &std::path::Path,
    simulate: bool,
    quit_after_first_frame: bool,
) -> anyhow::Result<ExitCode> {
    use kiosk_app::ui_bridge::run as ui;
    let loaded = std::rc::Rc::new(load(config)?);
    let inbox = std::rc::Rc::new(kiosk_app::runtime::Inbox::default());
    // TODO(lead): the production I/O, clock, fresh ids, locker/card/staff hooks and the
    // developer panel's hooks come from the composition root.
    let wiring = ui::Wiring {
        io: Box::new(ui::UnwiredIo),
        clock: Box::new(ui::SystemClock),
        fresh: Box::new(ui::RandomFresh),
        hooks: None,
        options: kiosk_app::ui_bridge::ViewOptions {
            simulation: simulate,
            ..Default::default()
        },
    };
    let options = ui::RunOptions {
        simulate,
        quit_after_first_frame,
        sample_cards: PathBuf::from("resources/sim/idcard"),
    };
    ui::run(loaded, inbox, wiring, None, &options)
}

fn screens(
    config: &std::path::Path,
    out: PathBuf,
    cards: PathBuf,
    only: Option<String>,
) -> anyhow::Result<ExitCode> {
    let loaded = load(config)?;
    let written = kiosk_app::screens::render_all(
        loaded,
        &kiosk_app::screens::ScreensOptions { out, cards, only },
    )?;
    println!("{} screens written", written.len());
    Ok(ExitCode::SUCCESS)
}
