//! The technician command line against the simulator on a real pty.

use std::process::ExitCode;

use clap::Parser;
use kiosk_locker::cli::{DeviceArgs, SimArgs, run_device, sim_from_args};

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

fn device(args: &[&str]) -> DeviceArgs {
    let mut command_line = vec!["kiosk", "device"];
    command_line.extend_from_slice(args);
    match Kiosk::parse_from(command_line).cmd {
        Top::Device(d) => d,
        Top::Sim(_) => unreachable!(),
    }
}

fn sim(args: &[&str]) -> SimArgs {
    let mut command_line = vec!["kiosk", "sim"];
    command_line.extend_from_slice(args);
    match Kiosk::parse_from(command_line).cmd {
        Top::Sim(s) => s,
        Top::Device(_) => unreachable!(),
    }
}

#[test]
fn open_and_status_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyLOCKER");
    let p = path.to_str().unwrap();
    let control = sim_from_args(&sim(&[
        "--link",
        p,
        "--boards",
        "2",
        "--jam",
        "1:5",
        "--unlock-delay-ms",
        "0",
        "--close-after-secs",
        "0",
    ]))
    .unwrap();
    let (_guard, _thread) = control.serve_pty(Some(&path)).unwrap();

    let opened = run_device(device(&[
        "--port", p, "--boards", "2", "open", "--board", "2", "--lock", "3",
    ]))
    .unwrap();
    assert_eq!(opened, ExitCode::SUCCESS);
    assert_eq!(control.is_open(2, 3), Some(true));

    let jammed = run_device(device(&[
        "--port",
        p,
        "--confirm-ms",
        "200",
        "open",
        "--board",
        "1",
        "--lock",
        "5",
    ]))
    .unwrap();
    assert_eq!(jammed, ExitCode::FAILURE);
    assert_eq!(control.unlocks(1, 5), 1);

    let status = run_device(device(&["--port", p, "--boards", "2", "status"])).unwrap();
    assert_eq!(status, ExitCode::SUCCESS);
    let one = run_device(device(&["--port", p, "status", "--board", "2"])).unwrap();
    assert_eq!(one, ExitCode::SUCCESS);
}

#[test]
fn the_sample_bank_drives_both_ends() {
    let bank = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../resources/sim/locker/bank.toml"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyLOCKER");
    let p = path.to_str().unwrap();
    let control =
        sim_from_args(&sim(&["--link", p, "--bank", bank, "--reply-header", "80"])).unwrap();
    let (_guard, _thread) = control.serve_pty(Some(&path)).unwrap();
    let code = run_device(device(&[
        "--port", p, "--bank", bank, "open", "--board", "2", "--lock", "8",
    ]))
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    // A stuck sensor: the door "did not open" (it already read open), so non-zero.
    control.set_stuck_open(1, 1, true);
    let code = run_device(device(&[
        "--port", p, "--bank", bank, "open", "--board", "1", "--lock", "1",
    ]))
    .unwrap();
    assert_eq!(code, ExitCode::FAILURE);
    assert_eq!(control.unlocks(1, 1), 0);
}

#[test]
fn a_missing_port_is_an_error() {
    let err = run_device(device(&["--port", "/nonexistent/ttyNOPE", "status"])).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/ttyNOPE"), "{err}");
}
