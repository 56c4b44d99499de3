//! The device task: concurrent opens on one bus, the monitor's alerts, per-board
//! degradation, unplug and reconnect; over memory links and a real pty.

mod common;

use std::time::Duration;

use common::{bank, mem_handle, online, options, wait_event};
use kiosk_link::{DeviceState, Port};
use kiosk_locker::bank::CompartmentId;
use kiosk_locker::driver::{CloseOutcome, NoReplyAt, OpenOutcome};
use kiosk_locker::handle::{LockerError, LockerHandle};
use kiosk_locker::monitor::{LockerEvent, MonitorConfig};
use kiosk_locker::protocol::{Command, Door, Polarity};
use kiosk_locker::sim::{SimConfig, SimControl};

fn id(s: &str) -> CompartmentId {
    CompartmentId::from(s)
}

#[tokio::test]
async fn open_then_close_with_events() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(1, 8),
        bank(1, 8, Polarity::DoorClosing),
        options(),
    );
    let mut events = h.subscribe();
    online(&h).await;
    assert_eq!(h.open(&id("B1-03")).await.unwrap(), OpenOutcome::Opened);
    wait_event(&mut events, |e| {
        *e == LockerEvent::DoorOpened {
            compartment: id("B1-03"),
        }
    })
    .await;
    let waiting = {
        let h = h.clone();
        tokio::spawn(async move { h.wait_closed(&id("B1-03"), Duration::from_secs(5)).await })
    };
    sim.close(1, 3);
    assert_eq!(waiting.await.unwrap().unwrap(), CloseOutcome::Closed);
    wait_event(&mut events, |e| {
        *e == LockerEvent::DoorClosed {
            compartment: id("B1-03"),
        }
    })
    .await;
    assert_eq!(sim.unlocks(1, 3), 1);
    h.shutdown();
}

#[tokio::test]
async fn two_opens_at_once_share_the_bus_without_interleaving_bytes() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(2, 8),
        bank(2, 8, Polarity::DoorClosing),
        options(),
    );
    let mut events = h.subscribe();
    online(&h).await;
    // Door A is jammed: its open polls for the whole confirmation window. Door B must not
    // wait for that: it opens in the meantime.
    sim.set_jammed(1, 1, true);
    let (a, b) = tokio::join!(h.open(&id("B1-01")), h.open(&id("B2-05")));
    assert_eq!(a.unwrap(), OpenOutcome::Jammed);
    assert_eq!(b.unwrap(), OpenOutcome::Opened);
    let first = wait_event(&mut events, |e| {
        matches!(e, LockerEvent::OpenFinished { .. })
    })
    .await;
    assert_eq!(
        first,
        LockerEvent::OpenFinished {
            compartment: id("B2-05"),
            outcome: OpenOutcome::Opened
        },
        "the second open finished while the first was still confirming"
    );
    // Every byte the boards received parsed as a whole command.
    assert_eq!(sim.skipped_bytes(), 0);
    assert_eq!(sim.unlocks(1, 1), 1);
    assert_eq!(sim.unlocks(2, 5), 1);
    // The two opens really overlapped on the bus.
    let cmds = sim.commands();
    let unlock_b = cmds
        .iter()
        .position(|c| *c == Command::Unlock { board: 2, lock: 5 })
        .unwrap();
    let last_poll_a = cmds
        .iter()
        .rposition(|c| *c == Command::QueryLock { board: 1, lock: 1 })
        .unwrap();
    assert!(unlock_b < last_poll_a);
}

#[tokio::test]
async fn the_same_door_cannot_be_opened_twice_at_once() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(1, 8),
        bank(1, 8, Polarity::DoorClosing),
        options(),
    );
    online(&h).await;
    sim.set_jammed(1, 2, true);
    let (a, b) = tokio::join!(h.open(&id("B1-02")), h.open(&id("B1-02")));
    assert_eq!(a.unwrap(), OpenOutcome::Jammed);
    assert_eq!(b.unwrap_err(), LockerError::Busy(id("B1-02")));
    assert_eq!(sim.unlocks(1, 2), 1);
    assert_eq!(
        h.open(&id("nope")).await.unwrap_err(),
        LockerError::UnknownCompartment(id("nope"))
    );
}

#[tokio::test]
async fn an_uncommanded_open_raises_an_alert() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(1, 8),
        bank(1, 8, Polarity::DoorClosing),
        options(),
    );
    let mut events = h.subscribe();
    online(&h).await;
    // Let the monitor see the door closed first.
    let mut doors = h.doors();
    doors
        .wait_for(|s| s.door(&id("B1-04")) == Some(Door::Closed))
        .await
        .unwrap();
    sim.open_by_hand(1, 4);
    wait_event(&mut events, |e| {
        *e == LockerEvent::UncommandedOpen {
            compartment: id("B1-04"),
        }
    })
    .await;
    sim.close(1, 4);
    wait_event(&mut events, |e| {
        *e == LockerEvent::DoorClosed {
            compartment: id("B1-04"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_door_left_open_raises_an_alert_once() {
    let mut opts = options();
    opts.monitor.left_open_after = Duration::from_millis(100);
    let (h, _sim) = mem_handle(
        &SimConfig::uniform(1, 8),
        bank(1, 8, Polarity::DoorClosing),
        opts,
    );
    let mut events = h.subscribe();
    online(&h).await;
    assert_eq!(h.open(&id("B1-08")).await.unwrap(), OpenOutcome::Opened);
    let e = wait_event(&mut events, |e| {
        matches!(e, LockerEvent::DoorLeftOpen { .. })
    })
    .await;
    assert!(
        matches!(e, LockerEvent::DoorLeftOpen { compartment, .. } if compartment == id("B1-08"))
    );
}

#[tokio::test]
async fn a_stuck_sensor_is_already_open_and_alerted() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(1, 8),
        bank(1, 8, Polarity::DoorClosing),
        options(),
    );
    sim.set_stuck_open(1, 6, true);
    let mut events = h.subscribe();
    online(&h).await;
    wait_event(&mut events, |e| {
        *e == LockerEvent::UncommandedOpen {
            compartment: id("B1-06"),
        }
    })
    .await;
    assert_eq!(
        h.open(&id("B1-06")).await.unwrap(),
        OpenOutcome::AlreadyOpen
    );
    assert_eq!(sim.unlocks(1, 6), 0);
}

#[tokio::test]
async fn an_offline_board_degrades_only_its_compartments() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(3, 8),
        bank(3, 8, Polarity::DoorClosing),
        options(),
    );
    sim.set_present(2, false);
    let mut events = h.subscribe();
    wait_event(&mut events, |e| {
        *e == LockerEvent::BoardOffline { board: 2 }
    })
    .await;
    let mut st = h.device_status();
    let status = st
        .wait_for(|s| s.detail.as_deref() == Some("board 2 not answering"))
        .await
        .unwrap()
        .clone();
    assert_eq!(status.state, DeviceState::Online);
    assert_eq!(h.open(&id("B1-01")).await.unwrap(), OpenOutcome::Opened);
    assert_eq!(h.open(&id("B3-02")).await.unwrap(), OpenOutcome::Opened);
    assert_eq!(
        h.open(&id("B2-01")).await.unwrap(),
        OpenOutcome::NoReply {
            at: NoReplyAt::Check
        }
    );
    assert_eq!(sim.unlocks(2, 1), 0);
    let snapshot = h.doors().borrow().clone();
    assert!(snapshot.boards[0].online && snapshot.boards[2].online);
    assert!(!snapshot.boards[1].online);
    let fresh = h.status().await.unwrap();
    assert_eq!(fresh.door(&id("B1-01")), Some(Door::Open));
    assert!(!fresh.boards[1].online);
    // The board comes back.
    sim.set_present(2, true);
    wait_event(&mut events, |e| *e == LockerEvent::BoardOnline { board: 2 }).await;
    assert_eq!(h.open(&id("B2-01")).await.unwrap(), OpenOutcome::Opened);
}

#[tokio::test]
async fn every_board_silent_is_offline() {
    let mut opts = options();
    opts.monitor = MonitorConfig {
        offline_after: 2,
        ..opts.monitor
    };
    let (h, sim) = mem_handle(
        &SimConfig::uniform(2, 8),
        bank(2, 8, Polarity::DoorClosing),
        opts,
    );
    online(&h).await;
    sim.set_silent(1, true);
    sim.set_silent(2, true);
    let mut st = h.device_status();
    st.wait_for(|s| s.state == DeviceState::Offline)
        .await
        .unwrap();
}

#[tokio::test]
async fn unplug_goes_offline_and_replug_comes_back() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(1, 8),
        bank(1, 8, Polarity::DoorClosing),
        options(),
    );
    online(&h).await;
    sim.unplug();
    let mut st = h.device_status();
    st.wait_for(|s| s.state == DeviceState::Offline)
        .await
        .unwrap();
    assert_eq!(
        h.open(&id("B1-01")).await.unwrap_err(),
        LockerError::Offline
    );
    assert_eq!(h.status().await.unwrap_err(), LockerError::Offline);
    assert!(!h.doors().borrow().boards[0].online);
    sim.replug();
    online(&h).await;
    assert_eq!(h.open(&id("B1-01")).await.unwrap(), OpenOutcome::Opened);
}

#[tokio::test]
async fn an_open_in_flight_when_the_bus_dies_says_what_was_sent() {
    let (h, sim) = mem_handle(
        &SimConfig::uniform(1, 8),
        bank(1, 8, Polarity::DoorClosing),
        options(),
    );
    online(&h).await;
    sim.set_jammed(1, 1, true);
    let open = {
        let h = h.clone();
        tokio::spawn(async move { h.open(&id("B1-01")).await })
    };
    // Pull the cable once the unlock is on the wire.
    while !sim
        .commands()
        .contains(&Command::Unlock { board: 1, lock: 1 })
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    sim.unplug();
    assert_eq!(
        open.await.unwrap().unwrap(),
        OpenOutcome::NoReply {
            at: NoReplyAt::Confirm
        }
    );
    assert_eq!(sim.unlocks(1, 1), 1);
}

#[tokio::test]
async fn the_handle_works_over_a_pty_and_reconnects_after_replug() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyLOCKER");
    let sim = SimControl::new(&SimConfig::uniform(2, 24));
    let (guard, thread) = sim.serve_pty(Some(&path)).unwrap();
    let port: Port = path.display().to_string().parse().unwrap();
    let h = LockerHandle::for_port(bank(2, 24, Polarity::DoorClosing), port, options());
    online(&h).await;
    let (a, b) = tokio::join!(h.open(&id("B1-24")), h.open(&id("B2-01")));
    assert_eq!(
        (a.unwrap(), b.unwrap()),
        (OpenOutcome::Opened, OpenOutcome::Opened)
    );
    assert_eq!(sim.skipped_bytes(), 0);
    // Unplug: the pty goes away.
    sim.unplug();
    thread.join().unwrap();
    drop(guard);
    let mut st = h.device_status();
    st.wait_for(|s| s.state == DeviceState::Offline)
        .await
        .unwrap();
    // Replug under the same name.
    sim.replug();
    let (_guard, _thread) = sim.serve_pty(Some(&path)).unwrap();
    online(&h).await;
    let status = h.status().await.unwrap();
    assert_eq!(status.door(&id("B1-24")), Some(Door::Open));
    assert_eq!(status.door(&id("B2-02")), Some(Door::Closed));
    h.shutdown();
}
