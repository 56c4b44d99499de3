//! The blocking driver against the wire-level simulator, over memory links and a real pty.

mod common;

use std::thread;
use std::time::Duration;

use common::{bank, fast, mem_driver};
use kiosk_link::Port;
use kiosk_locker::bank::CompartmentId;
use kiosk_locker::driver::{CloseOutcome, Driver, DriverError, NoReplyAt, OpenOutcome, TxError};
use kiosk_locker::protocol::{Command, Door, Polarity, Reply, Switch};
use kiosk_locker::sim::{SimConfig, SimControl};

fn id(s: &str) -> CompartmentId {
    CompartmentId::from(s)
}

#[test]
fn open_is_confirmed_by_the_sensor_and_sends_one_unlock() {
    let (mut d, sim) = mem_driver(1, 24);
    assert_eq!(d.open(&id("B1-05")).unwrap(), OpenOutcome::Opened);
    assert_eq!(sim.is_open(1, 5), Some(true));
    assert_eq!(sim.unlocks(1, 5), 1);
    let cmds = sim.commands();
    assert_eq!(cmds[0], Command::QueryLock { board: 1, lock: 5 });
    assert_eq!(cmds[1], Command::Unlock { board: 1, lock: 5 });
    assert_eq!(cmds[2], Command::QueryLock { board: 1, lock: 5 });
    assert_eq!(d.door(&id("B1-05")).unwrap(), Door::Open);
    assert_eq!(sim.skipped_bytes(), 0);
}

#[test]
fn a_jammed_lock_is_reported_and_never_retried() {
    let (mut d, sim) = mem_driver(1, 24);
    sim.set_jammed(1, 7, true);
    assert_eq!(d.open(&id("B1-07")).unwrap(), OpenOutcome::Jammed);
    assert_eq!(sim.unlocks(1, 7), 1, "the unlock is not re-sent");
    assert_eq!(sim.is_open(1, 7), Some(false));
    let unlocks = sim
        .commands()
        .iter()
        .filter(|c| matches!(c, Command::Unlock { .. }))
        .count();
    assert_eq!(unlocks, 1);
}

#[test]
fn a_door_stuck_open_is_already_open_and_no_unlock_is_sent() {
    let (mut d, sim) = mem_driver(1, 8);
    sim.set_stuck_open(1, 2, true);
    assert_eq!(d.open(&id("B1-02")).unwrap(), OpenOutcome::AlreadyOpen);
    assert_eq!(sim.unlocks(1, 2), 0);
}

#[test]
fn an_absent_board_is_no_reply_before_anything_is_fired() {
    let (mut d, sim) = mem_driver(2, 8);
    sim.set_present(2, false);
    assert_eq!(
        d.open(&id("B2-01")).unwrap(),
        OpenOutcome::NoReply {
            at: NoReplyAt::Check
        }
    );
    assert_eq!(sim.unlocks(2, 1), 0);
    // The other board is fine.
    assert_eq!(d.open(&id("B1-01")).unwrap(), OpenOutcome::Opened);
}

#[test]
fn an_unanswered_unlock_that_opened_the_door_is_still_opened() {
    // "Relay fired" and "door opened" are separate facts: the sensor decides.
    let (mut d, sim) = mem_driver(1, 8);
    sim.set_mute_unlock(1, true);
    assert_eq!(d.open(&id("B1-03")).unwrap(), OpenOutcome::Opened);
    assert_eq!(sim.unlocks(1, 3), 1);
}

#[test]
fn an_unanswered_unlock_with_a_closed_door_is_no_reply_at_unlock() {
    let (mut d, sim) = mem_driver(1, 8);
    sim.set_mute_unlock(1, true);
    sim.set_jammed(1, 3, true);
    assert_eq!(
        d.open(&id("B1-03")).unwrap(),
        OpenOutcome::NoReply {
            at: NoReplyAt::Unlock
        }
    );
    assert_eq!(sim.unlocks(1, 3), 1, "not re-sent");
}

#[test]
fn a_board_that_falls_silent_after_the_unlock_is_no_reply_at_confirm() {
    let (mut d, sim) = mem_driver(1, 8);
    sim.silence_after(1, Some(2)); // answers the check and the unlock, then nothing
    assert_eq!(
        d.open(&id("B1-04")).unwrap(),
        OpenOutcome::NoReply {
            at: NoReplyAt::Confirm
        }
    );
    assert_eq!(sim.unlocks(1, 4), 1);
}

#[test]
fn bad_checksums_are_rejected_and_named() {
    let (mut d, sim) = mem_driver(1, 8);
    sim.set_bad_checksum(1, true);
    let err = d.door(&id("B1-01")).unwrap_err();
    assert!(
        matches!(err, DriverError::Tx(TxError::BadChecksum { board: 1 })),
        "{err:?}"
    );
    assert_eq!(
        d.open(&id("B1-01")).unwrap(),
        OpenOutcome::NoReply {
            at: NoReplyAt::Check
        }
    );
    assert!(d.bus().bad_checksums() >= 2);
    sim.set_bad_checksum(1, false);
    assert_eq!(d.door(&id("B1-01")).unwrap(), Door::Closed);
}

#[test]
fn noise_and_stray_replies_do_not_fool_the_driver() {
    let (mut d, sim) = mem_driver(1, 8);
    sim.open_by_hand(1, 6);
    // Line noise, then a reply about another lock, then the real one.
    let mut junk = vec![0x00, 0xFF, 0x8A, 0x13, 0x80];
    junk.extend(
        Reply::Lock {
            header: 0x8A,
            board: 1,
            lock: 2,
            switch: Switch::Set,
        }
        .encode(),
    );
    sim.inject_noise(&junk);
    assert_eq!(d.door(&id("B1-06")).unwrap(), Door::Open);
    assert_eq!(d.bus().stray_replies(), 1);
}

#[test]
fn unknown_compartments_are_named() {
    let (mut d, _sim) = mem_driver(1, 8);
    assert!(matches!(
        d.open(&id("Z9")),
        Err(DriverError::UnknownCompartment(_))
    ));
}

#[test]
fn both_reply_headers_are_accepted() {
    for header in [0x8A, 0x80] {
        let (mut d, sim) = mem_driver(1, 8);
        sim.set_reply_header(1, header);
        assert_eq!(
            d.open(&id("B1-01")).unwrap(),
            OpenOutcome::Opened,
            "{header:02X}"
        );
    }
}

#[test]
fn polarity_both_ways() {
    for polarity in [Polarity::DoorClosing, Polarity::DoorOpening] {
        let mut cfg = SimConfig::uniform(1, 8);
        cfg.boards[0].polarity = polarity;
        let sim = SimControl::new(&cfg);
        let (a, b) = kiosk_link::memory::pair();
        sim.serve(Box::new(b));
        let mut d = Driver::new(Box::new(a), bank(1, 8, polarity), fast());
        assert_eq!(d.door(&id("B1-01")).unwrap(), Door::Closed, "{polarity:?}");
        assert_eq!(d.open(&id("B1-01")).unwrap(), OpenOutcome::Opened);
        sim.close(1, 1);
        assert_eq!(d.door(&id("B1-01")).unwrap(), Door::Closed);
        let status = d.status(None).unwrap();
        assert!(
            status.boards[0]
                .doors
                .iter()
                .all(|d| d.door == Some(Door::Closed))
        );
    }
}

#[test]
fn wrongly_configured_polarity_shows_up_as_already_open() {
    // Sensors wired "door opening" but configured "door closing": a closed door reads open.
    // The kiosk sends no unlock and reports it, rather than believing a door opened.
    let mut cfg = SimConfig::uniform(1, 8);
    cfg.boards[0].polarity = Polarity::DoorOpening;
    let sim = SimControl::new(&cfg);
    let (a, b) = kiosk_link::memory::pair();
    sim.serve(Box::new(b));
    let mut d = Driver::new(Box::new(a), bank(1, 8, Polarity::DoorClosing), fast());
    assert_eq!(d.open(&id("B1-01")).unwrap(), OpenOutcome::AlreadyOpen);
    assert_eq!(sim.unlocks(1, 1), 0);
}

#[test]
fn per_compartment_polarity() {
    let toml = r#"
[[boards]]
address = 1
channels = 8
[[compartments]]
id = "A"
board = 1
lock = 1
size = "S"
[[compartments]]
id = "B"
board = 1
lock = 2
size = "L"
polarity = "door_opening"
"#;
    let bank = toml::from_str::<kiosk_locker::BankConfig>(toml)
        .unwrap()
        .validate()
        .unwrap();
    let sim = SimControl::new(&SimConfig::from_bank(&bank));
    sim.set_polarity(1, 2, Polarity::DoorOpening);
    let (a, b) = kiosk_link::memory::pair();
    sim.serve(Box::new(b));
    let mut d = Driver::new(Box::new(a), bank, fast());
    assert_eq!(d.door(&id("A")).unwrap(), Door::Closed);
    assert_eq!(d.door(&id("B")).unwrap(), Door::Closed);
    assert_eq!(d.open(&id("B")).unwrap(), OpenOutcome::Opened);
    let status = d.status(Some(1)).unwrap();
    let doors: Vec<_> = status.boards[0].doors.iter().map(|d| d.door).collect();
    assert_eq!(doors[0], Some(Door::Closed));
    assert_eq!(doors[1], Some(Door::Open));
}

#[test]
fn wait_closed_sees_the_door_shut() {
    let (mut d, sim) = mem_driver(1, 8);
    assert_eq!(d.open(&id("B1-02")).unwrap(), OpenOutcome::Opened);
    let closer = {
        let sim = sim.clone();
        thread::spawn(move || {
            // The resident takes the papers and shuts the door while the driver polls.
            while sim.commands().len() < 6 {
                thread::sleep(Duration::from_millis(1));
            }
            sim.close(1, 2);
        })
    };
    assert_eq!(
        d.wait_closed(&id("B1-02"), Duration::from_secs(5)).unwrap(),
        CloseOutcome::Closed
    );
    closer.join().unwrap();
    sim.open_by_hand(1, 2);
    assert_eq!(
        d.wait_closed(&id("B1-02"), Duration::from_millis(50))
            .unwrap(),
        CloseOutcome::StillOpen
    );
    sim.set_present(1, false);
    assert_eq!(
        d.wait_closed(&id("B1-02"), Duration::from_millis(50))
            .unwrap(),
        CloseOutcome::NoReply
    );
}

#[test]
fn status_degrades_only_the_silent_board() {
    let (mut d, sim) = mem_driver(3, 8);
    sim.set_silent(2, true);
    sim.open_by_hand(3, 8);
    let status = d.status(None).unwrap();
    assert_eq!(status.boards.len(), 3);
    assert!(status.boards[0].online && status.boards[2].online);
    assert!(!status.boards[1].online);
    assert!(status.boards[1].doors.iter().all(|d| d.door.is_none()));
    assert_eq!(status.door(&id("B3-08")), Some(Door::Open));
    assert_eq!(status.door(&id("B1-08")), Some(Door::Closed));
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["boards"][1]["error"], "board 2 did not answer");
    assert_eq!(json["boards"][2]["doors"][7]["door"], "open");
    assert_eq!(json["boards"][2]["doors"][7]["compartment"], "B3-08");
}

#[test]
fn query_all_with_three_status_bytes_on_an_eight_lock_board() {
    // Open-Locker's captured reply: 8-channel board, 3 status bytes.
    let mut cfg = SimConfig::uniform(1, 8);
    cfg.boards[0].status_bytes = 3;
    let sim = SimControl::new(&cfg);
    let (a, b) = kiosk_link::memory::pair();
    sim.serve(Box::new(b));
    let mut d = Driver::new(Box::new(a), bank(1, 8, Polarity::DoorClosing), fast());
    sim.open_by_hand(1, 8);
    let bits = d.bus().query_all(1).unwrap();
    assert_eq!(bits.wire().len(), 3);
    assert_eq!(bits.switch(8), Some(Switch::Clear));
    assert_eq!(bits.switch(1), Some(Switch::Set));
}

#[test]
fn unlock_all_and_find_address() {
    let (mut d, sim) = mem_driver(1, 4);
    assert_eq!(d.bus().find_address().unwrap(), 1);
    d.bus().unlock_all(1).unwrap();
    assert!((1..=4).all(|l| sim.is_open(1, l) == Some(true)));
}

#[test]
fn the_driver_works_over_a_real_pty_opened_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyLOCKER");
    let sim = SimControl::new(&SimConfig::uniform(2, 16));
    let (guard, thread) = sim.serve_pty(Some(&path)).unwrap();
    let port: Port = format!("serial:{}@9600", path.display()).parse().unwrap();
    let link = kiosk_link::open(&port, 9600).unwrap();
    let mut d = Driver::new(link, bank(2, 16, Polarity::DoorClosing), fast());
    assert_eq!(d.open(&id("B2-16")).unwrap(), OpenOutcome::Opened);
    sim.set_jammed(1, 1, true);
    assert_eq!(d.open(&id("B1-01")).unwrap(), OpenOutcome::Jammed);
    sim.set_reply_header(1, 0x80);
    let status = d.status(None).unwrap();
    assert_eq!(status.door(&id("B2-16")), Some(Door::Open));
    assert_eq!(status.door(&id("B1-01")), Some(Door::Closed));
    assert_eq!(sim.skipped_bytes(), 0);
    // Unplug: the driver sees the port go away.
    sim.unplug();
    thread.join().unwrap();
    drop(guard);
    let err = d.door(&id("B1-01")).unwrap_err();
    assert!(
        matches!(&err, DriverError::Tx(TxError::Link(e)) if e.is_disconnect()),
        "{err:?}"
    );
}
