//! The real driver against the wire-level simulator, over in-memory links and a pty.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::thread;
use std::time::{Duration, Instant};

use kiosk_dispenser::driver::{ChipProtocol, ChipReader, DispenserError, Driver, Timeouts};
use kiosk_dispenser::protocol::{
    self, CardPosition, Command, ErrorCode, HopperLevel, InitMode, RejectBin, Vcc, cm,
};
use kiosk_dispenser::sim::{Chip, Fault, SimCardPlace, SimConfig, SimControl, Simulator};
use kiosk_link::memory;
use kiosk_link::{Link, LinkError};

fn sim_with(config: SimConfig) -> (Driver, SimControl) {
    let address = config.address;
    let sim = Simulator::new(config);
    let control = sim.control();
    let (a, b) = memory::pair();
    sim.spawn(Box::new(b));
    let driver = Driver::new(Box::new(a), address, Timeouts::short()).unwrap();
    (driver, control)
}

fn started(config: SimConfig) -> (Driver, SimControl) {
    let (mut d, c) = sim_with(config);
    d.start().unwrap();
    (d, c)
}

fn count(log: &[(u8, u8)], cmd: (u8, u8)) -> usize {
    log.iter().filter(|c| **c == cmd).count()
}

const TO_IC: (u8, u8) = (cm::MOVE, 0x31);

#[test]
fn start_initialises_leaving_the_card_then_reads_status() {
    let (mut d, control) = sim_with(SimConfig::default());
    let info = d.start().unwrap();
    assert_eq!(info.firmware, "CRT-591-M001");
    assert_eq!(info.status.card, CardPosition::None);
    assert_eq!(info.status.hopper, HopperLevel::Ok);
    assert_eq!(control.command_log(), vec![(0x30, 0x33), (0x31, 0x30)]);
}

#[test]
fn a_move_before_initialise_is_refused_with_b0() {
    let (mut d, _c) = sim_with(SimConfig::default());
    let err = d.to_encoder().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotInitialized));
    assert!(!err.is_jam());
}

#[test]
fn issue_path_dispense_to_encoder_gate_and_taken() {
    let (mut d, control) = started(SimConfig {
        hopper: 3,
        hopper_low: 1,
        ..SimConfig::default()
    });
    let st = d.to_encoder().unwrap();
    assert_eq!(st.card, CardPosition::Inside);
    assert_eq!(control.card_place(), SimCardPlace::IcContact);
    assert_eq!(control.hopper(), 2);
    // A second "to encoder" with the card inside does not dispense another.
    d.to_encoder().unwrap();
    assert_eq!(control.dispensed(), 1);
    assert_eq!(d.to_gate().unwrap().card, CardPosition::AtGate);
    assert!(control.take_card());
    assert_eq!(d.status().unwrap().card, CardPosition::None);
    assert_eq!(control.taken(), 1);
}

#[test]
fn eject_rf_and_gate_entry() {
    let (mut d, control) = started(SimConfig::default());
    d.to_encoder().unwrap();
    assert_eq!(d.to_rf().unwrap().card, CardPosition::Inside);
    assert_eq!(control.card_place(), SimCardPlace::Rf);
    assert_eq!(d.eject().unwrap().card, CardPosition::None);
    assert_eq!(control.ejected(), 1);
    d.gate_entry(false).unwrap();
    d.gate_entry(true).unwrap();
}

#[test]
fn hopper_low_then_empty_is_reported_and_empty_refuses_to_dispense() {
    let (mut d, control) = started(SimConfig {
        hopper: 2,
        hopper_low: 1,
        ..SimConfig::default()
    });
    assert_eq!(d.status().unwrap().hopper, HopperLevel::Ok);
    d.to_encoder().unwrap();
    assert_eq!(d.capture().unwrap().hopper, HopperLevel::Low);
    d.to_encoder().unwrap();
    assert_eq!(d.capture().unwrap().hopper, HopperLevel::Empty);
    let err = d.to_encoder().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::StackerEmpty));
    assert_eq!(control.dispensed(), 2);
}

#[test]
fn capture_counts_and_a_full_bin_refuses() {
    let (mut d, control) = started(SimConfig {
        reject_capacity: 2,
        reject_count: 1,
        ..SimConfig::default()
    });
    assert_eq!(d.reject_count().unwrap(), 1);
    d.to_encoder().unwrap();
    let st = d.capture().unwrap();
    assert_eq!(st.card, CardPosition::None);
    assert_eq!(st.reject_bin, RejectBin::Full);
    assert_eq!(d.reject_count().unwrap(), 2);
    d.to_encoder().unwrap();
    let err = d.capture().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::RejectBinFull));
    assert_eq!(
        control.card_place(),
        SimCardPlace::IcContact,
        "card stays inside"
    );
    // Staff empty the bin and reset the counter.
    control.set_reject_count(0);
    d.set_reject_count(0).unwrap();
    assert_eq!(d.reject_count().unwrap(), 0);
    assert_eq!(d.capture().unwrap().reject_bin, RejectBin::Ok);
    assert!(matches!(
        d.set_reject_count(1000),
        Err(DispenserError::Invalid(_))
    ));
}

#[test]
fn jam_is_a_named_mechanical_error_until_cleared() {
    let (mut d, control) = started(SimConfig {
        jam: true,
        ..SimConfig::default()
    });
    let err = d.to_encoder().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::CardJam));
    assert!(err.is_jam());
    assert_eq!(
        err.to_string(),
        "move to IC contact position failed: card jam (10)"
    );
    control.set_jam(false);
    d.to_encoder().unwrap();
}

#[test]
fn every_device_error_code_comes_back_named() {
    let (mut d, control) = started(SimConfig::default());
    let codes = [
        "00", "01", "02", "03", "04", "05", "10", "12", "13", "14", "40", "41", "43", "45", "50",
        "51", "60", "61", "62", "65", "66", "67", "68", "69", "A0", "A1", "B0", "Z9",
    ];
    for code in codes {
        let b = code.as_bytes();
        let expected = ErrorCode::from_bytes(b[0], b[1]);
        control.fail_next(Fault::Error(expected));
        let err = d.to_encoder().unwrap_err();
        assert_eq!(err.code(), Some(expected), "{code}");
        assert!(matches!(err, DispenserError::Device { .. }));
        assert_eq!(expected.code(), code);
    }
}

#[test]
fn a_nak_is_resent_once_and_two_are_refused() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next_on(cm::MOVE, Some(0x31), Fault::Nak);
    d.to_encoder().unwrap();
    assert_eq!(count(&control.command_log(), TO_IC), 2);
    assert_eq!(control.dispensed(), 1);
    control.fail_next(Fault::Nak);
    control.fail_next(Fault::Nak);
    assert!(matches!(
        d.status().unwrap_err(),
        DispenserError::Refused { command: "status" }
    ));
}

#[test]
fn a_query_without_ack_is_resent_and_a_mute_device_is_no_answer() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next(Fault::NoAck);
    d.status().unwrap();
    assert_eq!(count(&control.command_log(), (0x31, 0x30)), 3);
    control.set_mute(true);
    let err = d.status().unwrap_err();
    assert!(matches!(err, DispenserError::NoAnswer { .. }));
    assert!(err.is_offline());
    control.set_mute(false);
    d.status().unwrap();
}

#[test]
fn a_move_whose_ack_was_lost_is_not_sent_again_when_its_reply_comes() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next_on(cm::MOVE, None, Fault::LoseAck);
    assert_eq!(d.to_encoder().unwrap().card, CardPosition::Inside);
    assert_eq!(count(&control.command_log(), TO_IC), 1);
    assert_eq!(control.dispensed(), 1);
}

#[test]
fn a_move_done_silently_is_confirmed_by_status_and_never_repeated() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next_on(cm::MOVE, None, Fault::ExecuteSilently);
    assert_eq!(d.to_encoder().unwrap().card, CardPosition::Inside);
    let log = control.command_log();
    assert_eq!(count(&log, TO_IC), 1, "never a second card: {log:02X?}");
    assert_eq!(control.dispensed(), 1);
    assert_eq!(log.last(), Some(&(0x31, 0x30)), "status was polled");
}

#[test]
fn a_move_the_device_never_got_is_sent_again_after_a_status_check() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next_on(cm::MOVE, None, Fault::NoAck);
    assert_eq!(d.to_encoder().unwrap().card, CardPosition::Inside);
    let log = control.command_log();
    let n = log.len();
    assert_eq!(&log[n - 3..], &[TO_IC, (0x31, 0x30), TO_IC]);
    assert_eq!(control.dispensed(), 1);
}

#[test]
fn a_move_that_cannot_be_confirmed_is_unconfirmed_with_the_status() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next_on(cm::MOVE, None, Fault::NoAck);
    control.fail_next_on(cm::MOVE, None, Fault::NoAck);
    let err = d.to_encoder().unwrap_err();
    let DispenserError::Unconfirmed { status, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.card, CardPosition::None);
    assert!(
        DispenserError::Unconfirmed {
            command: "x",
            status
        }
        .outcome_unknown()
    );
    assert_eq!(control.dispensed(), 0);
}

#[test]
fn a_bad_checksum_is_asked_again_and_twice_is_a_bad_reply() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next(Fault::BadBccOnce);
    d.status().unwrap();
    control.fail_next_on(cm::MOVE, None, Fault::BadBcc);
    let err = d.to_encoder().unwrap_err();
    assert!(matches!(err, DispenserError::BadReply { .. }), "{err:?}");
    assert!(err.outcome_unknown());
    // The move did happen: the status says so.
    assert_eq!(d.status().unwrap().card, CardPosition::Inside);
}

#[test]
fn noise_before_a_reply_is_skipped() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next(Fault::Noise);
    assert_eq!(d.status().unwrap().card, CardPosition::None);
}

#[test]
fn an_acknowledged_command_without_reply_is_no_reply() {
    let (mut d, control) = started(SimConfig::default());
    control.fail_next_on(cm::MOVE, None, Fault::NoReply);
    let err = d.capture().unwrap_err();
    assert!(matches!(
        err,
        DispenserError::NoReply {
            command: "capture to reject bin",
            ..
        }
    ));
    assert!(err.outcome_unknown());
}

#[test]
fn the_address_comes_from_config() {
    let (mut d, _c) = started(SimConfig {
        address: 5,
        ..SimConfig::default()
    });
    assert_eq!(d.address(), 5);
    d.status().unwrap();
    // A driver for another address gets no answer from this unit.
    let sim = Simulator::new(SimConfig {
        address: 5,
        ..SimConfig::default()
    });
    let (a, b) = memory::pair();
    sim.spawn(Box::new(b));
    let mut other = Driver::new(Box::new(a), 3, Timeouts::short()).unwrap();
    assert!(matches!(
        other.status().unwrap_err(),
        DispenserError::NoAnswer { .. }
    ));
    assert!(Driver::new(Box::new(memory::pair().0), 16, Timeouts::short()).is_err());
}

#[test]
fn sensor_status_lists_the_sensors() {
    let (mut d, _c) = started(SimConfig::default());
    d.to_encoder().unwrap();
    let s = d.sensor_status().unwrap();
    assert_eq!(s.status.card, CardPosition::Inside);
    assert_eq!(s.sensors.len(), 8);
    assert!(s.sensors[3], "IC sensor sees the card");
}

#[test]
fn initialise_modes_handle_a_card_left_inside() {
    let (mut d, control) = started(SimConfig::default());
    d.to_encoder().unwrap();
    let info = d.initialize(InitMode::HoldAtGate, false).unwrap();
    assert_eq!(info.status.card, CardPosition::AtGate);
    d.to_encoder().unwrap();
    d.initialize(InitMode::Capture, false).unwrap();
    assert_eq!(control.card_place(), SimCardPlace::None);
    assert_eq!(control.reject_count(), 1);
    assert_eq!(d.reject_count().unwrap(), 0, "PM 31 does not count");
    d.to_encoder().unwrap();
    d.initialize(InitMode::Capture, true).unwrap();
    assert_eq!(d.reject_count().unwrap(), 1, "PM 35 counts");
}

struct TestChip {
    answer: bool,
}

impl Chip for TestChip {
    fn power_on(&mut self) -> Option<(ChipProtocol, Vec<u8>)> {
        self.answer
            .then(|| (ChipProtocol::T1, vec![0x3B, 0x80, 0x80, 0x01, 0x01]))
    }
    fn power_off(&mut self) {}
    fn transmit(&mut self, apdu: &[u8]) -> Option<Vec<u8>> {
        if !self.answer || apdu[1] == 0xFF {
            return None;
        }
        let mut r = apdu.to_vec();
        r.extend_from_slice(&[0x90, 0x00]);
        Some(r)
    }
}

#[test]
fn the_chip_is_reached_through_cm_51() {
    let (mut d, control) = started(SimConfig::default());
    control.set_chip_factory(Box::new(|| Box::new(TestChip { answer: true })));
    // No card at the IC position yet.
    assert_eq!(
        d.chip_power_on(Vcc::Iso5V).unwrap_err().code(),
        Some(ErrorCode::IcActivationFailed)
    );
    d.to_encoder().unwrap();
    assert_eq!(
        d.chip_apdu(&[0, 0x84, 0, 0, 8]).unwrap_err().code(),
        Some(ErrorCode::IcCardNotActivated)
    );
    let act = d.chip_power_on(Vcc::Iso5V).unwrap();
    assert_eq!(act.protocol, ChipProtocol::T1);
    assert_eq!(act.atr[0], 0x3B);
    assert_eq!(
        d.chip_apdu(&[0, 0x84, 0, 0, 8]).unwrap(),
        vec![0, 0x84, 0, 0, 8, 0x90, 0x00]
    );
    assert_eq!(
        d.chip_apdu(&[0, 0xFF, 0, 0]).unwrap_err().code(),
        Some(ErrorCode::IcTransmissionTimeout)
    );
    assert!(matches!(
        d.chip_apdu(&[0, 1]),
        Err(DispenserError::Invalid(_))
    ));
    d.chip_power_off().unwrap();
    // A dead chip does not activate.
    assert!(control.replace_chip(Box::new(TestChip { answer: false })));
    assert_eq!(
        d.chip_power_on(Vcc::Emv5V).unwrap_err().code(),
        Some(ErrorCode::IcActivationFailed)
    );
}

#[test]
fn an_apdu_whose_ack_was_lost_is_never_sent_again() {
    let (mut d, control) = started(SimConfig::default());
    control.set_chip_factory(Box::new(|| Box::new(TestChip { answer: true })));
    d.to_encoder().unwrap();
    d.chip_power_on(Vcc::Iso5V).unwrap();
    control.fail_next_on(cm::CPU_CARD, Some(0x39), Fault::NoAck);
    assert!(matches!(
        d.chip_apdu(&[0, 0x84, 0, 0, 8]).unwrap_err(),
        DispenserError::NoAnswer { .. }
    ));
    assert_eq!(count(&control.command_log(), (cm::CPU_CARD, 0x39)), 1);
}

#[test]
fn an_unplugged_device_is_a_disconnect() {
    let (mut d, control) = started(SimConfig::default());
    control.unplug();
    thread::sleep(Duration::from_millis(50));
    let err = d.status().unwrap_err();
    assert!(
        matches!(err, DispenserError::Link(LinkError::Disconnected(_))),
        "{err:?}"
    );
    assert!(err.is_offline());
}

/// A device that answers with the 0x45 negative marker (the frame table's reading).
#[test]
fn the_driver_accepts_the_e_negative_marker_too() {
    let (a, mut b) = memory::pair();
    let device = thread::spawn(move || {
        let mut buf = [0u8; 64];
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut got = Vec::new();
        while got.len() < 9 && Instant::now() < deadline {
            let n = b.recv(&mut buf, Duration::from_millis(50)).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(
            protocol::hex_spaced(&got),
            "F2 00 00 03 43 32 31 03 B2",
            "move to IC, byte for byte"
        );
        b.send(&[protocol::ACK]).unwrap();
        b.send(&protocol::frame(0, &[0x45, 0x32, 0x31, b'A', b'0']))
            .unwrap();
        let n = b.recv(&mut buf, Duration::from_secs(1)).unwrap();
        assert_eq!(&buf[..n], &[protocol::ACK], "host acknowledges the reply");
    });
    let mut d = Driver::new(Box::new(a), 0, Timeouts::short()).unwrap();
    let err = d.to_encoder().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::StackerEmpty));
    device.join().unwrap();
}

#[test]
fn over_a_real_pty_opened_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyCRT");
    let sim = Simulator::new(SimConfig {
        hopper: 5,
        hopper_low: 5,
        ..SimConfig::default()
    });
    let control = sim.control();
    let (guard, _thread) = sim.spawn_on_pty(&path).unwrap();
    let port: kiosk_link::Port = format!("serial:{}@9600", path.display()).parse().unwrap();
    let mut d = Driver::open(&port, 0, Timeouts::short()).unwrap();
    let info = d.start().unwrap();
    assert_eq!(info.status.hopper, HopperLevel::Low);
    assert_eq!(d.to_encoder().unwrap().card, CardPosition::Inside);
    control.fail_next(Fault::BadBccOnce);
    assert_eq!(d.to_gate().unwrap().card, CardPosition::AtGate);
    assert!(control.take_card());
    assert_eq!(d.status().unwrap().card, CardPosition::None);
    control.stop();
    drop(guard);
}

#[test]
fn transact_gives_raw_replies() {
    let (mut d, _c) = started(SimConfig::default());
    let reply = d.transact(&Command::new(0x99, 0x30)).unwrap();
    assert!(matches!(
        reply,
        protocol::Reply::Negative {
            error: ErrorCode::UndefinedCommand,
            marker: protocol::EMT_N,
            ..
        }
    ));
}

#[test]
fn the_cli_runs_against_a_simulator_on_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyCLI");
    let sim = Simulator::new(SimConfig::default());
    let control = sim.control();
    let (guard, _thread) = sim.spawn_on_pty(&path).unwrap();
    let port: kiosk_link::Port = path.display().to_string().parse().unwrap();
    for action in [
        kiosk_dispenser::cli::Action::ToEncoder,
        kiosk_dispenser::cli::Action::Status,
        kiosk_dispenser::cli::Action::Capture,
    ] {
        let args = kiosk_dispenser::cli::DeviceArgs {
            port: port.clone(),
            address: 0,
            action,
        };
        assert_eq!(
            kiosk_dispenser::cli::run_device(args).unwrap(),
            std::process::ExitCode::SUCCESS
        );
    }
    assert_eq!(control.reject_count(), 1);
    control.set_mute(true);
    let args = kiosk_dispenser::cli::DeviceArgs {
        port,
        address: 0,
        action: kiosk_dispenser::cli::Action::Status,
    };
    let err = kiosk_dispenser::cli::run_device(args).unwrap_err();
    assert!(format!("{err:#}").contains("did not answer"), "{err:#}");
    control.stop();
    drop(guard);
}
