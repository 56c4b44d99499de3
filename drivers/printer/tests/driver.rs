//! The real driver against the wire-level simulator, over in-memory links, a real pty pair
//! and TCP: every status condition, not-ready refusal, paper out mid-job (job failed,
//! buffers cleared, nothing printed after paper is loaded), demultiplexing, stale input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use kiosk_link::serial::SerialLink;
use kiosk_link::tcp::TcpLink;
use kiosk_printer::sim::{EnqClear, SimConfig};
use kiosk_printer::{
    ClearOutcome, Condition, Document, PaperWidth, PrintError, PrinterDriver, ResidentReason,
    SessionId, Timeouts, samples,
};

fn owner() -> SessionId {
    SessionId::new("session-1")
}

fn acceptance() -> Document {
    Document::Acceptance(samples::acceptance_notice())
}

#[test]
fn ready_printer_prints_and_reports_status_after() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    let status = d.status().unwrap();
    assert!(status.ready);
    assert!(status.conditions.is_empty());
    let report = d.print(&owner(), &acceptance()).unwrap();
    assert_eq!(report.owner, owner());
    assert!(report.status_after.ready);
    let slips = sim.slips();
    assert_eq!(slips.len(), 1);
    assert!(slips[0].complete);
    assert!(slips[0].text.contains("受理通知"));
    assert_eq!(
        slips[0].qr_payloads,
        vec![samples::acceptance_notice().progress_url]
    );
    assert_eq!(sim.pending_bytes(), 0);
}

#[test]
fn status_queries_are_exact_three_byte_dle_eot() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    d.status().unwrap();
    let log = sim.realtime_log();
    assert_eq!(
        log,
        vec![
            vec![0x10, 0x04, 0x01],
            vec![0x10, 0x04, 0x02],
            vec![0x10, 0x04, 0x03],
            vec![0x10, 0x04, 0x04]
        ]
    );
    d.print(&owner(), &acceptance()).unwrap();
    assert_eq!(
        sim.stray_nuls_after_realtime(),
        0,
        "no `10 04 n 00` as the escpos crate sends"
    );
}

#[test]
fn every_status_condition() {
    type Set = fn(&kiosk_printer::SimPrinter, bool);
    let cases: [(Set, Condition, bool); 6] = [
        (|s, on| s.set_near_end(on), Condition::PaperNearEnd, true),
        (|s, on| s.set_paper_out(on), Condition::PaperOut, false),
        (|s, on| s.set_cover_open(on), Condition::CoverOpen, false),
        (|s, on| s.set_offline(on), Condition::Offline, false),
        (
            |s, on| s.set_cutter_error(on),
            Condition::CutterError,
            false,
        ),
        (
            |s, on| s.set_unrecoverable_error(on),
            Condition::OtherError,
            false,
        ),
    ];
    for (set, condition, ready) in cases {
        let sim = common::sim_80();
        let mut d = common::driver_for(&sim, PaperWidth::Mm80);
        set(&sim, true);
        let status = d.status().unwrap();
        assert_eq!(status.ready, ready, "{condition}");
        assert!(status.has(condition), "{condition}: {status:?}");
        if !ready {
            assert!(
                status.has(Condition::Offline),
                "{condition} takes the printer offline"
            );
            assert_eq!(status.blocking_reason(), Some(condition));
        }
        set(&sim, false);
        let status = d.status().unwrap();
        assert!(
            status.ready && status.conditions.is_empty(),
            "{condition} cleared"
        );
    }
}

#[test]
fn paper_out_values_match_the_reference() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.set_paper_out(true);
    let s = d.status().unwrap();
    assert_eq!(
        (s.raw.printer, s.raw.offline_cause, s.raw.paper),
        (0x1A, 0x32, 0x7E)
    );
}

#[test]
fn a_printer_that_is_not_ready_gets_no_job() {
    for (fault, reason, resident) in [
        ("paper", Condition::PaperOut, ResidentReason::PaperOut),
        ("cover", Condition::CoverOpen, ResidentReason::CoverOpen),
        (
            "offline",
            Condition::Offline,
            ResidentReason::PrinterOffline,
        ),
        (
            "cutter",
            Condition::CutterError,
            ResidentReason::PrinterFault,
        ),
    ] {
        let sim = common::sim_80();
        let mut d = common::driver_for(&sim, PaperWidth::Mm80);
        d.status().unwrap(); // the printer has taken `GS a 0` before the fault
        match fault {
            "paper" => sim.set_paper_out(true),
            "cover" => sim.set_cover_open(true),
            "offline" => sim.set_offline(true),
            _ => sim.set_cutter_error(true),
        }
        let err = d.print(&owner(), &acceptance()).unwrap_err();
        match &err {
            PrintError::NotReady { reason: r, .. } => assert_eq!(*r, reason),
            other => panic!("{fault}: {other}"),
        }
        assert_eq!(err.resident_reason(), resident);
        // Nothing of the job reached the printer, so nothing can print when it is fixed.
        assert_eq!(sim.pending_bytes(), 0, "{fault}");
        match fault {
            "paper" => sim.set_paper_out(false),
            "cover" => sim.set_cover_open(false),
            "offline" => sim.set_offline(false),
            _ => sim.set_cutter_error(false),
        }
        assert!(
            sim.slips().is_empty(),
            "{fault}: nothing printed after the fault is fixed"
        );
    }
}

#[test]
fn near_end_prints_with_a_warning() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.set_near_end(true);
    let report = d.print(&owner(), &acceptance()).unwrap();
    assert!(report.status_after.has(Condition::PaperNearEnd));
    assert_eq!(sim.slips().len(), 1);
}

#[test]
fn paper_out_mid_job_fails_the_job_and_nothing_prints_after_reload() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.paper_out_after_lines(Some(10));
    let err = d.print(&owner(), &acceptance()).unwrap_err();
    match err {
        PrintError::FailedMidJob { reason, cleared } => {
            assert_eq!(reason, Condition::PaperOut);
            assert_eq!(cleared, ClearOutcome::Confirmed);
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        PrintError::FailedMidJob {
            reason: Condition::PaperOut,
            cleared: ClearOutcome::Confirmed
        }
        .resident_reason(),
        ResidentReason::PaperOut
    );
    // What printed before the paper ran out is on the old roll, uncut.
    let before = sim.slips();
    assert_eq!(before.len(), 1);
    assert!(!before[0].complete);
    assert_eq!(sim.pending_bytes(), 0, "the receive buffer was cleared");
    assert!(
        sim.realtime_log().iter().any(|c| c.len() == 10),
        "DLE DC4 fn=8 sent"
    );

    // Staff load paper: nothing of the failed job prints.
    sim.load_paper();
    assert_eq!(sim.slips().len(), 1, "no backlog after reload");
    assert!(!d.needs_staff_check());

    // The next resident's slip contains only their document.
    let next = Document::LockerPickup(samples::locker_pickup_receipt());
    d.print(&SessionId::new("session-2"), &next).unwrap();
    let slips = sim.slips();
    assert_eq!(slips.len(), 2);
    assert!(slips[1].text.contains("取件凭证"));
    assert!(!slips[1].text.contains("受理通知"));
    assert!(!slips[1].text.contains("已收材料"));
}

#[test]
fn without_a_buffer_clear_the_printer_would_print_the_backlog_so_the_driver_locks_it() {
    // A model that ignores DLE DC4 fn=8 (and DLE ENQ 2 while not in an error state).
    let sim = common::sim(SimConfig {
        supports_clear: false,
        enq_clear: EnqClear::OnRecoverableError,
        ..SimConfig::default()
    });
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.paper_out_after_lines(Some(10));
    let err = d.print(&owner(), &acceptance()).unwrap_err();
    assert!(matches!(
        err,
        PrintError::FailedMidJob {
            reason: Condition::PaperOut,
            cleared: ClearOutcome::Unconfirmed
        }
    ));
    assert!(d.needs_staff_check());
    assert!(
        sim.pending_bytes() > 0,
        "the rest of the job is still in the printer"
    );
    assert!(matches!(
        d.print(&SessionId::new("session-2"), &acceptance()),
        Err(PrintError::StaffCheckNeeded)
    ));
    // This is what the clear prevents: loading paper prints the rest of the old job.
    sim.load_paper();
    let slips = sim.slips();
    assert_eq!(slips.len(), 2);
    assert!(slips[1].complete);
    assert!(slips[1].text.contains("手机扫码"), "{}", slips[1].text);
    d.acknowledge_staff_check();
    d.print(&SessionId::new("session-2"), &acceptance())
        .unwrap();
}

#[test]
fn enq_clear_models_clear_silently_and_the_driver_still_asks_for_a_check() {
    let sim = common::sim(SimConfig {
        supports_clear: false,
        enq_clear: EnqClear::Always,
        ..SimConfig::default()
    });
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.paper_out_after_lines(Some(5));
    let err = d.print(&owner(), &acceptance()).unwrap_err();
    assert!(matches!(
        err,
        PrintError::FailedMidJob {
            cleared: ClearOutcome::Unconfirmed,
            ..
        }
    ));
    d.status().unwrap(); // a round trip: the printer has received DLE ENQ 2
    assert_eq!(sim.pending_bytes(), 0, "DLE ENQ 2 cleared it");
    sim.load_paper();
    assert_eq!(sim.slips().len(), 1);
    assert!(d.needs_staff_check(), "unconfirmed: a person must look");
}

#[test]
fn cover_opened_mid_job_fails_it_too() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.paper_out_after_lines(Some(3));
    let err = d
        .print(&owner(), &Document::Guide(samples::guide_slip()))
        .unwrap_err();
    assert!(matches!(err, PrintError::FailedMidJob { .. }));
    sim.load_paper();
    assert_eq!(sim.pending_bytes(), 0);
}

#[test]
fn a_job_that_is_never_confirmed_is_cancelled_and_cleared() {
    let sim = common::sim(SimConfig {
        answers_gs_r: false,
        ..SimConfig::default()
    });
    let (host, device) = kiosk_link::memory::pair();
    sim.spawn(Box::new(device));
    let timeouts = Timeouts {
        job: Duration::from_millis(200),
        ..Timeouts::fast()
    };
    let mut d = PrinterDriver::connect(
        Box::new(host),
        common::profile(PaperWidth::Mm80),
        common::font(),
        timeouts,
    )
    .unwrap();
    let err = d.print(&owner(), &acceptance()).unwrap_err();
    assert!(
        matches!(
            err,
            PrintError::NotConfirmed {
                cleared: ClearOutcome::Confirmed,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.resident_reason(), ResidentReason::NotPrinted);
}

#[test]
fn status_only_completion_for_printers_without_gs_r() {
    let sim = common::sim(SimConfig {
        answers_gs_r: false,
        ..SimConfig::default()
    });
    let (host, device) = kiosk_link::memory::pair();
    sim.spawn(Box::new(device));
    let mut profile = common::profile(PaperWidth::Mm58);
    profile.completion = kiosk_printer::Completion::StatusOnly;
    let mut d =
        PrinterDriver::connect(Box::new(host), profile, common::font(), Timeouts::fast()).unwrap();
    d.print(&owner(), &acceptance()).unwrap();
    assert_eq!(sim.slips().len(), 1);
}

#[test]
fn stale_answers_are_drained_before_each_query() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    d.status().unwrap();
    // A late "offline, paper out" answer to some earlier request sits in the input.
    sim.inject_output(&[0x1A, 0x32, 0x7E]);
    std::thread::sleep(Duration::from_millis(30));
    let s = d.status().unwrap();
    assert!(s.ready, "{s:?}");
}

#[test]
fn automatic_status_back_is_demultiplexed_and_turned_off() {
    let sim = common::sim(SimConfig {
        asb_at_power_on: true,
        ..SimConfig::default()
    });
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.set_near_end(true); // would send an ASB message if still enabled
    let s = d.status().unwrap();
    assert!(s.ready && s.has(Condition::PaperNearEnd));
    d.print(&owner(), &acceptance()).unwrap();
}

#[test]
fn a_silent_printer_is_no_answer() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.set_mute(true);
    assert!(matches!(d.status(), Err(PrintError::NoAnswer(1))));
    assert!(matches!(
        d.print(&owner(), &acceptance()),
        Err(PrintError::NoAnswer(1))
    ));
    assert_eq!(sim.pending_bytes(), 0);
}

#[test]
fn unplugged_printer_is_a_disconnect() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    sim.unplug();
    std::thread::sleep(Duration::from_millis(30));
    let err = d.status().unwrap_err();
    assert!(err.is_disconnect(), "{err}");
}

#[test]
fn works_over_a_real_pty_pair() {
    let sim = common::sim_80();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyPRN");
    let (guard, _thread) = sim.serve_pty(Some(&path)).unwrap();
    let link = SerialLink::open(guard.device_path(), 9600).unwrap();
    let mut d = PrinterDriver::connect(
        Box::new(link),
        common::profile(PaperWidth::Mm58),
        common::font(),
        Timeouts::fast(),
    )
    .unwrap();
    assert!(d.status().unwrap().ready);
    d.print(&owner(), &Document::Test(samples::test_slip()))
        .unwrap();
    sim.set_cover_open(true);
    assert!(matches!(
        d.print(&owner(), &acceptance()),
        Err(PrintError::NotReady {
            reason: Condition::CoverOpen,
            ..
        })
    ));
    let slips = sim.slips();
    assert_eq!(slips.len(), 1);
    assert_eq!(slips[0].junk_chars, 0);
    // paper out mid-job over the pty as well
    sim.set_cover_open(false);
    sim.paper_out_after_lines(Some(8));
    assert!(matches!(
        d.print(&owner(), &acceptance()),
        Err(PrintError::FailedMidJob {
            cleared: ClearOutcome::Confirmed,
            ..
        })
    ));
    sim.load_paper();
    assert_eq!(sim.slips().iter().filter(|s| s.complete).count(), 1);
}

#[test]
fn works_over_tcp_like_a_network_printer() {
    let sim = common::sim_80();
    let (addr, _thread) = sim.listen_tcp("127.0.0.1:0").unwrap();
    let link =
        TcpLink::connect(&addr.ip().to_string(), addr.port(), Duration::from_secs(2)).unwrap();
    let mut d = PrinterDriver::connect(
        Box::new(link),
        common::profile(PaperWidth::Mm80),
        common::font(),
        Timeouts::fast(),
    )
    .unwrap();
    d.print(&owner(), &acceptance()).unwrap();
    assert_eq!(sim.slips().len(), 1);
}

#[test]
fn a_session_that_ended_is_never_printed() {
    let sim = common::sim_80();
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    let err = d
        .print_checked(&owner(), &acceptance(), &|_| false)
        .unwrap_err();
    assert!(matches!(err, PrintError::NotCurrentSession));
    assert_eq!(sim.pending_bytes(), 0);
    assert!(sim.slips().is_empty());
}
