//! The technician command line against the simulator on a real pseudo-terminal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::ExitCode;

use kiosk_idcard::cli::{DeviceAction, DeviceArgs, run_device};
use kiosk_idcard::sim::{SimOptions, Simulator};
use kiosk_link::Port;

fn args(port: &str, action: DeviceAction) -> DeviceArgs {
    DeviceArgs {
        port: port.parse::<Port>().unwrap(),
        action,
    }
}

#[test]
fn read_sam_id_and_status_succeed_on_a_simulated_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyIDCARD");
    let sim = Simulator::spawn_on_pty(&path, SimOptions::default()).unwrap();
    sim.present(common::card("foreign_permanent_2023"));
    let port = format!("serial:{}@115200", path.display());
    assert_eq!(
        run_device(args(&port, DeviceAction::Read { wait: 2 })).unwrap(),
        ExitCode::SUCCESS
    );
    assert_eq!(sim.stats().reads, 1);
    assert_eq!(
        run_device(args(&port, DeviceAction::SamId)).unwrap(),
        ExitCode::SUCCESS
    );
    assert_eq!(
        run_device(args(&port, DeviceAction::Status)).unwrap(),
        ExitCode::SUCCESS
    );
}

#[test]
fn failures_are_plain_one_line_errors() {
    let err = run_device(args("/nonexistent/ttyIDCARD", DeviceAction::Status)).unwrap_err();
    let line = format!("{err:#}");
    assert!(
        line.contains("cannot open the ID-card reader at /nonexistent/ttyIDCARD"),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");

    // No card within the wait.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyIDCARD");
    let _sim = Simulator::spawn_on_pty(&path, SimOptions::default()).unwrap();
    let err = run_device(args(path.to_str().unwrap(), DeviceAction::Read { wait: 0 })).unwrap_err();
    assert!(
        format!("{err:#}").contains("no card was placed on the reader"),
        "{err:#}"
    );
}

#[test]
fn clap_parses_the_issue_command_lines() {
    use clap::Parser;
    #[derive(Debug, clap::Parser)]
    enum Top {
        Device(DeviceArgs),
        Sim(kiosk_idcard::cli::SimArgs),
    }
    let top = Top::try_parse_from(["kiosk", "device", "--port", "usb:0400:C35A", "read"]).unwrap();
    let Top::Device(d) = top else { panic!() };
    assert_eq!(
        d.port,
        Port::Usb {
            vid: 0x0400,
            pid: 0xC35A
        }
    );
    assert!(matches!(d.action, DeviceAction::Read { wait: 15 }));
    let top =
        Top::try_parse_from(["kiosk", "sim", "--link", "/tmp/ttyID", "--card", "x.json"]).unwrap();
    let Top::Sim(s) = top else { panic!() };
    assert_eq!(s.link, std::path::PathBuf::from("/tmp/ttyID"));
    assert!(Top::try_parse_from(["kiosk", "device", "--port", "COM3", "read"]).is_err());
}
