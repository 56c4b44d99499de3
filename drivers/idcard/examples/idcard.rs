//! A stand-alone front for the technician command line, for trying the crate without the
//! `kiosk` binary (which wires the same `run_device`/`run_sim` into `kiosk device idcard …`
//! and `kiosk sim idcard …`):
//!
//! ```text
//! cargo run -p kiosk-idcard --example idcard -- sim --link /tmp/ttyIDCARD &
//! cargo run -p kiosk-idcard --example idcard -- device --port /tmp/ttyIDCARD read
//! ```

use std::process::ExitCode;

use clap::Parser;
use kiosk_idcard::cli::{DeviceArgs, SimArgs, run_device, run_sim};

#[derive(Debug, Parser)]
enum Top {
    /// `kiosk device idcard …`
    Device(DeviceArgs),
    /// `kiosk sim idcard …`
    Sim(SimArgs),
}

fn main() -> ExitCode {
    let result = match Top::parse() {
        Top::Device(args) => run_device(args),
        Top::Sim(args) => run_sim(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}
