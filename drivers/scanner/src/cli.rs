//! The technician command line:
//!
//! ```text
//! kiosk device scanner list
//! kiosk device scanner --device NAME scan --out FILE [--dpi N] [--mode color|gray]
//! ```
//!
//! Output is one JSON document on stdout. SANE reads its configuration from `/etc/sane.d`
//! unless `SANE_CONFIG_DIR` says otherwise; `SANE_CONFIG_DIR=resources/sane` shows the `test`
//! backend's devices (`test:0` …).
//!
//! `list` prints `[{"name":"test:0","vendor":"Noname","model":"frontend-tester","type":"virtual device"}, …]`.
//! `scan` prints `{"device":…,"out":…,"format":"jpeg"|"pdf","sha256":…,"width":…,"height":…,
//! "dpi":…,"mode":"color"|"gray","bytes":…}`; the file is a JPEG, or a one-page PDF when
//! FILE ends in `.pdf`. `sha256` is the hash of the page's JPEG.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::driver::{CancelToken, Scanner};
use crate::encode::EncodeOptions;
use crate::material::Material;
use crate::options::{ColorMode, ScanSettings, Source};
use crate::store::PageStore;

/// `kiosk device scanner …`
#[derive(Debug, Clone, Args)]
pub struct ScannerArgs {
    /// SANE device name (from `list`), e.g. `test:0`.
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    #[command(subcommand)]
    pub action: ScannerAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ScannerAction {
    /// List the scanners SANE can see.
    List,
    /// Scan one page from the flatbed to a file (JPEG, or PDF if FILE ends in .pdf).
    Scan(ScanArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Where to write the page.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Resolution in dots per inch.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub dpi: u16,
    /// Colour or gray.
    #[arg(long, value_enum, default_value_t = ModeArg::Color)]
    pub mode: ModeArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Color,
    Gray,
}

impl From<ModeArg> for ColorMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Color => ColorMode::Color,
            ModeArg::Gray => ColorMode::Gray,
        }
    }
}

/// Runs `kiosk device scanner …`, printing JSON on stdout.
pub fn run_device(args: ScannerArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_device_to(args, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

/// Like [`run_device`], writing the JSON to `out`.
pub fn run_device_to(args: ScannerArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let value = match args.action {
        ScannerAction::List => {
            let devices = Scanner::list_devices().context("listing scanners")?;
            serde_json::to_value(devices)?
        }
        ScannerAction::Scan(scan) => {
            let Some(device) = args.device else {
                bail!("scan needs --device NAME (see `kiosk device scanner list`)");
            };
            scan_to_file(&device, &scan)?
        }
    };
    serde_json::to_writer(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}

fn scan_to_file(device: &str, args: &ScanArgs) -> anyhow::Result<serde_json::Value> {
    let parent = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Pages go through a private store beside the output, so the file appears complete.
    let work = parent.join(format!(".kiosk-scan-{}", std::process::id()));
    let result = scan_with_store(device, args, &work);
    let _ = fs::remove_dir_all(&work);
    result
}

fn scan_with_store(
    device: &str,
    args: &ScanArgs,
    work: &Path,
) -> anyhow::Result<serde_json::Value> {
    let store = PageStore::open(work)?;
    let mut scanner = Scanner::open(device).with_context(|| format!("opening {device}"))?;
    let settings = ScanSettings {
        dpi: args.dpi,
        mode: args.mode.into(),
        source: Source::Flatbed,
        ..ScanSettings::default()
    };
    let pages = scanner.scan(
        &settings,
        &store,
        &EncodeOptions::default(),
        &CancelToken::new(),
        &mut |_| {},
    )?;
    let Some(page) = pages.into_iter().next() else {
        bail!("the scanner returned no page");
    };
    let is_pdf = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    let bytes = if is_pdf {
        let material = Material {
            pages: vec![page.clone()],
        };
        material.export_pdf(&args.out)?.bytes
    } else {
        let temp = work.join("out.partial");
        fs::copy(&page.path, &temp).context("copying the page")?;
        fs::rename(&temp, &args.out)
            .or_else(|_| fs::copy(&temp, &args.out).map(|_| ()))
            .with_context(|| format!("writing {}", args.out.display()))?;
        page.bytes
    };
    Ok(json!({
        "device": device,
        "out": args.out,
        "format": if is_pdf { "pdf" } else { "jpeg" },
        "sha256": page.sha256,
        "width": page.width,
        "height": page.height,
        "dpi": page.dpi,
        "mode": if page.channels == 1 { "gray" } else { "color" },
        "bytes": bytes,
    }))
}
