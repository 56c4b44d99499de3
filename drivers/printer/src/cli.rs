//! Technician command line: `kiosk device printer --port PORT status|test-slip` and
//! `kiosk sim printer --listen tcp:HOST:PORT|pty:PATH --out DIR`.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context;
use kiosk_link::Port;
use serde_json::json;

use crate::driver::{PrinterDriver, Timeouts};
use crate::font::{CjkFont, FontSource};
use crate::job::{PrintError, SessionId};
use crate::profile::{PaperWidth, PrinterProfile};
use crate::protocol::{CutCommand, PrinterStatus};
use crate::sim::{EnqClear, SimConfig, SimPrinter};
use crate::slips::{Document, TestSlip};

/// Font options shared by both commands.
#[derive(Debug, Clone, clap::Args)]
pub struct FontArgs {
    /// CJK font for characters outside GB18030's two-byte area.
    #[arg(long, default_value = crate::font::DEFAULT_FONT_PATH)]
    pub font: PathBuf,
    /// Face index in a font collection (default: Noto Sans Mono CJK SC in the default file, else 0).
    #[arg(long)]
    pub font_index: Option<u32>,
}

impl FontArgs {
    pub fn source(&self) -> FontSource {
        let mut source = FontSource::from_path(self.font.clone());
        if let Some(i) = self.font_index {
            source.index = i;
        }
        source
    }
}

/// `kiosk device printer …`
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArgs {
    /// Printer port: `usb:VID:PID`, `/dev/ttyUSB0`, `serial:/dev/ttyS0@9600` or `tcp:HOST:9100`.
    #[arg(long)]
    pub port: Port,
    /// Paper width in mm: 58 or 80.
    #[arg(long, default_value = "80")]
    pub paper: PaperWidth,
    /// Cut command of this model: full-a, partial-a, full-b[:N], partial-b[:N].
    #[arg(long, default_value = "full-b")]
    pub cut: CutCommand,
    #[command(flatten)]
    pub font: FontArgs,
    /// Kiosk id printed on the test slip.
    #[arg(long, default_value = "KIOSK")]
    pub kiosk_id: String,
    #[command(subcommand)]
    pub action: DeviceAction,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeviceAction {
    /// Print the printer's status as JSON; exit code 1 when it is not ready.
    Status,
    /// Check status, then print a test slip (nothing is printed when not ready).
    TestSlip,
}

fn status_json(status: &PrinterStatus) -> serde_json::Value {
    json!({
        "ready": status.ready,
        "conditions": status.conditions,
        "raw": {
            "printer": format!("{:#04x}", status.raw.printer),
            "offline_cause": format!("{:#04x}", status.raw.offline_cause),
            "error_cause": format!("{:#04x}", status.raw.error_cause),
            "paper": format!("{:#04x}", status.raw.paper),
        },
    })
}

fn now_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("unix {secs}")
}

/// Runs a device command. Takes its arguments by value, like every device crate's CLI.
#[allow(clippy::needless_pass_by_value)]
pub fn run_device(args: DeviceArgs) -> anyhow::Result<ExitCode> {
    let mut profile = PrinterProfile::new(args.paper, args.cut);
    profile.font = args.font.source();
    let font = CjkFont::load(&profile.font)?;
    let mut driver = PrinterDriver::open(&args.port, profile, font, Timeouts::default())
        .with_context(|| format!("cannot open printer at {}", args.port))?;
    match args.action {
        DeviceAction::Status => {
            let status = driver
                .status()
                .context("printer did not answer its status")?;
            println!("{}", status_json(&status));
            Ok(if status.ready {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        DeviceAction::TestSlip => {
            let doc = Document::Test(TestSlip {
                kiosk_id: args.kiosk_id.clone(),
                printed_at: now_text(),
                qr_payload: format!("kiosk-printer-test:{}", args.kiosk_id),
            });
            match driver.print(&SessionId::new("technician-cli"), &doc) {
                Ok(report) => {
                    println!(
                        "{}",
                        json!({
                            "printed": true,
                            "job_id": report.job_id,
                            "bytes": report.bytes,
                            "status_after": status_json(&report.status_after),
                        })
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(PrintError::NotReady { reason, status }) => Err(anyhow::anyhow!(
                    "printer not ready ({reason}; conditions {:?}): nothing printed",
                    status
                        .conditions
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                )),
                Err(e) => Err(anyhow::Error::new(e).context("test slip not printed")),
            }
        }
    }
}

/// Where the simulator listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(String),
    Pty(PathBuf),
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(addr) => write!(f, "tcp:{addr}"),
            Listen::Pty(path) => write!(f, "pty:{}", path.display()),
        }
    }
}

impl FromStr for Listen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(addr) = s.strip_prefix("tcp:") {
            return Ok(Listen::Tcp(addr.to_owned()));
        }
        if let Some(path) = s.strip_prefix("pty:") {
            return Ok(Listen::Pty(PathBuf::from(path)));
        }
        Err(format!(
            "bad listen address {s:?} (expected tcp:HOST:PORT or pty:PATH)"
        ))
    }
}

/// `kiosk sim printer …`
#[allow(clippy::struct_excessive_bools)] // one flag per scripted fault
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// tcp:HOST:PORT (like a network printer on 9100) or pty:PATH (a serial printer).
    #[arg(long, conflicts_with = "link")]
    pub listen: Option<Listen>,
    /// Same as --listen pty:PATH.
    #[arg(long)]
    pub link: Option<PathBuf>,
    /// Directory for the PNG and text of every slip.
    #[arg(long)]
    pub out: PathBuf,
    /// Paper width in mm: 58 or 80.
    #[arg(long, default_value = "80")]
    pub paper: PaperWidth,
    #[command(flatten)]
    pub font: FontArgs,
    /// Start with paper out.
    #[arg(long)]
    pub paper_out: bool,
    /// Start with paper near end.
    #[arg(long)]
    pub near_end: bool,
    /// Start with the cover open.
    #[arg(long)]
    pub cover_open: bool,
    /// Start offline.
    #[arg(long)]
    pub offline: bool,
    /// Simulate a model without `DLE DC4 fn=8` (buffer clear) support.
    #[arg(long)]
    pub no_clear: bool,
}

/// Runs the simulator until killed.
#[allow(clippy::needless_pass_by_value)]
pub fn run_sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let listen = match (args.listen, args.link) {
        (Some(l), _) => l,
        (None, Some(path)) => Listen::Pty(path),
        (None, None) => Listen::Tcp("127.0.0.1:9100".into()),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let sim = SimPrinter::new(SimConfig {
        paper: args.paper,
        font: args.font.source(),
        out_dir: Some(args.out.clone()),
        supports_clear: !args.no_clear,
        enq_clear: EnqClear::OnRecoverableError,
        ..SimConfig::default()
    })?;
    sim.set_paper_out(args.paper_out);
    sim.set_near_end(args.near_end);
    sim.set_cover_open(args.cover_open);
    sim.set_offline(args.offline);
    let ready = |at: String| {
        println!(
            "{}",
            json!({ "listening": at, "out": args.out.display().to_string() })
        );
    };
    match listen {
        Listen::Tcp(addr) => {
            let (local, thread) = sim
                .listen_tcp(&addr)
                .with_context(|| format!("cannot listen on {addr}"))?;
            ready(format!("tcp:{local}"));
            let _ = thread.join();
        }
        Listen::Pty(path) => {
            // Serve the pty for ever; a driver that closes and reopens the slave finds the
            // simulator still there.
            let (guard, thread) = sim
                .serve_pty(Some(&path))
                .with_context(|| format!("cannot create a pty at {}", path.display()))?;
            ready(format!("pty:{}", guard.device_path().display()));
            let _ = thread.join();
            drop(guard);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Device {
        #[command(flatten)]
        args: DeviceArgs,
    }

    #[derive(Debug, Parser)]
    struct Sim {
        #[command(flatten)]
        args: SimArgs,
    }

    #[test]
    fn parses_the_issue_command_lines() {
        let d = Device::try_parse_from(["x", "--port", "tcp:127.0.0.1:9100", "status"]).unwrap();
        assert!(matches!(d.args.action, DeviceAction::Status));
        let d = Device::try_parse_from([
            "x",
            "--port",
            "/dev/ttyUSB0",
            "--paper",
            "58",
            "--cut",
            "partial-a",
            "test-slip",
        ])
        .unwrap();
        assert!(matches!(d.args.action, DeviceAction::TestSlip));
        assert_eq!(d.args.paper, PaperWidth::Mm58);
        let s = Sim::try_parse_from(["x", "--listen", "tcp:127.0.0.1:9100", "--out", "/tmp/x"])
            .unwrap();
        assert_eq!(s.args.listen, Some(Listen::Tcp("127.0.0.1:9100".into())));
        let s =
            Sim::try_parse_from(["x", "--listen", "pty:/tmp/ttyPRN", "--out", "/tmp/x"]).unwrap();
        assert_eq!(s.args.listen, Some(Listen::Pty("/tmp/ttyPRN".into())));
        let s = Sim::try_parse_from(["x", "--link", "/tmp/ttyPRN", "--out", "/tmp/x"]).unwrap();
        assert_eq!(s.args.link, Some(PathBuf::from("/tmp/ttyPRN")));
        assert!(Sim::try_parse_from(["x", "--listen", "udp:1", "--out", "/tmp/x"]).is_err());
    }
}
