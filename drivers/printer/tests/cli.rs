//! `kiosk device printer --port PORT status|test-slip` against the simulator on TCP and on
//! a pty, in-process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::ExitCode;

use clap::Parser;
use kiosk_printer::cli::{DeviceArgs, run_device};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: DeviceArgs,
}

fn args(port: &str, action: &str) -> DeviceArgs {
    Cli::try_parse_from(["kiosk", "--port", port, action])
        .unwrap()
        .args
}

#[test]
fn status_exit_code_follows_readiness() {
    let sim = common::sim_80();
    let (addr, _t) = sim.listen_tcp("127.0.0.1:0").unwrap();
    let port = format!("tcp:{addr}");
    assert_eq!(
        run_device(args(&port, "status")).unwrap(),
        ExitCode::SUCCESS
    );
    sim.set_near_end(true);
    assert_eq!(
        run_device(args(&port, "status")).unwrap(),
        ExitCode::SUCCESS
    );
    sim.set_paper_out(true);
    assert_eq!(
        run_device(args(&port, "status")).unwrap(),
        ExitCode::from(1)
    );
}

#[test]
fn test_slip_refuses_and_prints_nothing_when_not_ready() {
    let sim = common::sim_80();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyPRN");
    let (_guard, _t) = sim.serve_pty(Some(&path)).unwrap();
    let port = format!("serial:{}@115200", path.display());
    sim.set_cover_open(true);
    let err = run_device(args(&port, "test-slip")).unwrap_err();
    assert!(err.to_string().contains("cover_open"), "{err}");
    sim.set_cover_open(false);
    assert!(
        sim.slips().is_empty(),
        "nothing printed once the cover is closed"
    );
    assert_eq!(
        run_device(args(&port, "test-slip")).unwrap(),
        ExitCode::SUCCESS
    );
    let slips = sim.slips();
    assert_eq!(slips.len(), 1);
    assert!(slips[0].text.contains("打印测试"));
    assert_eq!(
        slips[0].qr_payloads,
        vec!["kiosk-printer-test:KIOSK".to_owned()]
    );
}

#[test]
fn unreachable_printer_is_an_error() {
    let err = run_device(args("tcp:127.0.0.1:1", "status")).unwrap_err();
    assert!(err.to_string().contains("cannot open printer"), "{err}");
}
