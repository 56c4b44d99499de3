//! The device task end to end: polling, events, the "same card once" rule, going offline on
//! unplug and coming back by itself, over the pluggable in-memory simulator and a real pty.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{card, eventually, fast_options, sample_json};
use kiosk_idcard::handle::{Event, Handle};
use kiosk_idcard::identity::IdentityError;
use kiosk_idcard::protocol::Status;
use kiosk_idcard::sim::{Fault, On, SimCard, SimControl, SimOptions, Simulator};
use kiosk_idcard::{Error, transport};
use kiosk_link::{DeviceState, Port};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(5);

fn next_event(rx: &mut broadcast::Receiver<Event>) -> Event {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        match rx.try_recv() {
            Ok(e) => return e,
            Err(broadcast::error::TryRecvError::Empty) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("no event: {e:?}"),
        }
    }
}

fn no_event_for(rx: &mut broadcast::Receiver<Event>, d: Duration) {
    std::thread::sleep(d);
    if let Ok(e) = rx.try_recv() {
        panic!("unexpected event {e:?}");
    }
}

fn state(handle: &Handle) -> DeviceState {
    handle.status().borrow().state
}

fn online(handle: &Handle) -> bool {
    eventually(WAIT, || state(handle) == DeviceState::Online)
}

fn memory_rig(options: SimOptions) -> (SimControl, Handle) {
    let sim = Simulator::spawn_in_memory(options);
    let handle = Handle::spawn(sim.opener(), fast_options());
    (sim, handle)
}

#[test]
fn card_is_presented_once_then_removed() {
    let (sim, handle) = memory_rig(SimOptions::default());
    let mut events = handle.subscribe();
    assert!(online(&handle));
    sim.present(card("resident_han"));
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    let Event::CardPresented(identity) = next_event(&mut events) else {
        panic!("expected CardPresented")
    };
    assert_eq!(identity.id_number, "360426199101010071");
    // A real reader answers "no card" after a read: the task reports the card done.
    assert!(matches!(next_event(&mut events), Event::CardRemoved));
    no_event_for(&mut events, Duration::from_millis(100));
    assert_eq!(sim.stats().reads, 1);
}

#[test]
fn the_same_card_is_not_read_twice_while_it_stays() {
    let options = SimOptions {
        halt_after_read: false,
        ..SimOptions::default()
    };
    let (sim, handle) = memory_rig(options);
    let mut events = handle.subscribe();
    assert!(online(&handle));
    sim.present(card("permit_taiwan"));
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    assert!(matches!(next_event(&mut events), Event::CardPresented(_)));
    let finds = sim.stats().finds;
    assert!(sim.wait_for(WAIT, |s| s.finds >= finds + 10));
    no_event_for(&mut events, Duration::ZERO);
    assert_eq!(sim.stats().reads, 1);
    sim.remove();
    assert!(matches!(next_event(&mut events), Event::CardRemoved));
    sim.present(card("permit_taiwan"));
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    assert!(matches!(next_event(&mut events), Event::CardPresented(_)));
    assert_eq!(sim.stats().reads, 2);
}

#[test]
fn unplug_goes_offline_and_replug_comes_back_online_in_memory() {
    let (sim, handle) = memory_rig(SimOptions::default());
    let mut events = handle.subscribe();
    assert!(online(&handle));
    sim.unplug();
    assert!(eventually(WAIT, || state(&handle) == DeviceState::Offline));
    sim.replug();
    assert!(online(&handle));
    assert!(sim.stats().connections >= 2);
    sim.present(card("foreign_permanent_2017"));
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    let Event::CardPresented(identity) = next_event(&mut events) else {
        panic!("expected CardPresented")
    };
    assert_eq!(identity.nationality.as_deref(), Some("CAN"));
}

#[test]
fn unplug_and_replug_over_a_real_pty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyIDCARD");
    let sim = Simulator::spawn_on_pty(&path, SimOptions::default()).unwrap();
    let port: Port = format!("serial:{}@115200", path.display()).parse().unwrap();
    let options = fast_options();
    let handle = Handle::spawn(transport::opener(port, &options), options);
    let mut events = handle.subscribe();
    assert!(online(&handle));
    sim.present(card("resident_rare_name"));
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    let Event::CardPresented(identity) = next_event(&mut events) else {
        panic!("expected CardPresented")
    };
    assert_eq!(identity.name, "韦龘𠮷");
    assert!(matches!(next_event(&mut events), Event::CardRemoved));

    sim.unplug();
    assert!(eventually(WAIT, || state(&handle) == DeviceState::Offline));
    let detail = handle.status().borrow().detail.clone().unwrap_or_default();
    assert!(!detail.contains("韦"), "no personal data in the status");
    sim.replug();
    assert!(online(&handle));
    sim.present(card("resident_han"));
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    assert!(matches!(next_event(&mut events), Event::CardPresented(_)));
}

#[test]
fn a_silent_reader_goes_offline_and_is_reconnected() {
    let (sim, handle) = memory_rig(SimOptions::default());
    assert!(online(&handle));
    let connections = sim.stats().connections;
    for _ in 0..3 {
        sim.inject(On::FindCard, Fault::NoReply);
    }
    assert!(eventually(WAIT, || state(&handle) == DeviceState::Offline));
    assert!(online(&handle));
    assert!(sim.stats().connections > connections);
}

#[test]
fn a_wrong_check_digit_is_reported_not_presented() {
    let (sim, handle) = memory_rig(SimOptions::default());
    let mut events = handle.subscribe();
    assert!(online(&handle));
    let mut json = sample_json("resident_han");
    json["id_number"] = "360426199101010079".into();
    sim.present(SimCard::from_json("bad", &json.to_string()).unwrap());
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    let Event::CardReadFailed(err) = next_event(&mut events) else {
        panic!("expected CardReadFailed")
    };
    assert!(
        matches!(*err, Error::Identity(IdentityError::IdNumber(_))),
        "{err}"
    );
    assert!(matches!(next_event(&mut events), Event::CardRemoved));
}

#[test]
fn a_card_removed_mid_read_is_reported() {
    let (sim, handle) = memory_rig(SimOptions::default());
    let mut events = handle.subscribe();
    assert!(online(&handle));
    sim.inject(On::Read, Fault::RemoveCardDuringRead);
    sim.present(card("resident_han"));
    assert!(matches!(next_event(&mut events), Event::CardDetected));
    let Event::CardReadFailed(err) = next_event(&mut events) else {
        panic!("expected CardReadFailed")
    };
    assert_eq!(err.status(), Some(Status::ReadFailed));
    assert!(matches!(next_event(&mut events), Event::CardRemoved));
}

#[test]
fn a_sam_fault_is_a_hardware_error_until_it_clears() {
    let (sim, handle) = memory_rig(SimOptions::default());
    assert!(online(&handle));
    sim.inject(On::FindCard, Fault::Status(Status::SamSelfTestFailed));
    assert!(eventually(WAIT, || state(&handle) == DeviceState::HardwareError));
    assert!(online(&handle));
}

#[tokio::test]
async fn requests_from_the_app() {
    let (sim, handle) = memory_rig(SimOptions::default());
    let mut status = handle.status();
    status
        .wait_for(|s| s.state == DeviceState::Online)
        .await
        .unwrap();
    let id = handle.sam_id().await.unwrap();
    assert_eq!(id.formatted, "05.01-20240101-000000001-123456789");
    handle.self_test().await.unwrap();
    handle.reset().await.unwrap();

    // Paused: a card is not read.
    handle.set_polling(false).await.unwrap();
    let mut events = handle.subscribe();
    sim.present(card("resident_han"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.stats().reads, 0);
    handle.set_polling(true).await.unwrap();
    let event = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(event, Event::CardDetected));

    // Offline: requests fail plainly.
    sim.unplug();
    status
        .wait_for(|s| s.state == DeviceState::Offline)
        .await
        .unwrap();
    assert!(matches!(handle.sam_id().await, Err(Error::Offline)));
}

#[test]
fn dropping_the_last_handle_stops_the_task() {
    let (_sim, handle) = memory_rig(SimOptions::default());
    let status = handle.status();
    let clone = handle.clone();
    drop(handle);
    assert!(online(&clone));
    drop(clone);
    assert!(eventually(WAIT, || status.has_changed().is_err()));
}

#[test]
fn debug_output_of_events_is_masked() {
    let (sim, handle) = memory_rig(SimOptions::default());
    let mut events = handle.subscribe();
    assert!(online(&handle));
    sim.present(card("resident_long_term"));
    let _ = next_event(&mut events);
    let event = next_event(&mut events);
    let shown = format!("{event:?}");
    assert!(shown.contains("1101**********002X"), "{shown}");
    assert!(!shown.contains("李样例"), "{shown}");
    assert!(!shown.contains("1949"), "{shown}");
}
