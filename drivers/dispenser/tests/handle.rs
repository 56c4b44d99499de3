//! The device task: commands through the handle, status events, offline and reconnect.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kiosk_dispenser::cli::{Action, StatusJson, run_action};
use kiosk_dispenser::driver::{Driver, Timeouts};
use kiosk_dispenser::handle::{Event, Handle, HandleConfig};
use kiosk_dispenser::protocol::{CardPosition, ErrorCode};
use kiosk_dispenser::sim::{SimConfig, SimControl, Simulator};
use kiosk_link::{DeviceState, LinkError, memory};
use tokio::sync::broadcast;

fn config() -> HandleConfig {
    HandleConfig {
        address: 0,
        timeouts: Timeouts::short(),
        poll_interval: Duration::from_millis(20),
        reconnect_initial: Duration::from_millis(10),
        reconnect_max: Duration::from_millis(50),
    }
}

/// A handle whose opener plugs a fresh memory link into the same simulated machine; the
/// flag says whether the cable is in.
fn handle_with(sim_config: SimConfig) -> (Handle, SimControl, Arc<AtomicBool>) {
    let sim = Simulator::new(sim_config);
    let control = sim.control();
    let plugged = Arc::new(AtomicBool::new(true));
    let flag = plugged.clone();
    let opener = Box::new(move || {
        if !flag.load(Ordering::SeqCst) {
            return Err(LinkError::Open {
                port: "memory".into(),
                reason: "unplugged".into(),
            });
        }
        let (a, b) = memory::pair();
        sim.clone().spawn(Box::new(b));
        Ok(Box::new(a) as Box<dyn kiosk_link::Link>)
    });
    (Handle::spawn(opener, config()), control, plugged)
}

async fn wait_for(
    events: &mut broadcast::Receiver<Event>,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Ok(e) if wanted(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("event in time")
}

async fn online(handle: &Handle) {
    let mut state = handle.device_status();
    tokio::time::timeout(
        Duration::from_secs(5),
        state.wait_for(|s| s.state == DeviceState::Online),
    )
    .await
    .expect("online in time")
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_steps_through_the_handle_and_card_taken_event() {
    let (handle, control, _p) = handle_with(SimConfig::default());
    let mut events = handle.subscribe();
    online(&handle).await;
    assert_eq!(
        handle.to_encoder().await.unwrap().card,
        CardPosition::Inside
    );
    assert_eq!(handle.to_gate().await.unwrap().card, CardPosition::AtGate);
    control.take_card();
    wait_for(&mut events, |e| *e == Event::CardTaken).await;
    assert_eq!(handle.status().await.unwrap().card, CardPosition::None);
    // Ejecting on command is not "taken".
    handle.to_encoder().await.unwrap();
    handle.to_gate().await.unwrap();
    handle.eject().await.unwrap();
    handle.status().await.unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    while let Ok(e) = events.try_recv() {
        assert_ne!(e, Event::CardTaken);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hopper_low_empty_and_bin_full_are_events() {
    let (handle, control, _p) = handle_with(SimConfig {
        hopper: 2,
        hopper_low: 1,
        reject_capacity: 1,
        ..SimConfig::default()
    });
    let mut events = handle.subscribe();
    online(&handle).await;
    handle.to_encoder().await.unwrap();
    wait_for(&mut events, |e| *e == Event::HopperLow).await;
    handle.capture().await.unwrap();
    wait_for(&mut events, |e| *e == Event::RejectBinFull).await;
    handle.to_encoder().await.unwrap();
    wait_for(&mut events, |e| *e == Event::HopperEmpty).await;
    let err = handle.capture().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::RejectBinFull));
    let last = (*handle.last_status().borrow()).unwrap();
    assert_eq!(last.card, CardPosition::Inside);
    // Staff empty the bin and refill the hopper: the poll sees it.
    control.set_reject_count(0);
    control.set_hopper(50);
    let (mut bin_ok, mut hopper_ok) = (false, false);
    while !(bin_ok && hopper_ok) {
        match wait_for(&mut events, |e| {
            matches!(e, Event::RejectBinOk | Event::HopperOk)
        })
        .await
        {
            Event::RejectBinOk => bin_ok = true,
            _ => hopper_ok = true,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jam_is_a_hardware_error_until_a_move_succeeds() {
    let (handle, control, _p) = handle_with(SimConfig::default());
    let mut events = handle.subscribe();
    online(&handle).await;
    control.set_jam(true);
    let err = handle.to_encoder().await.unwrap_err();
    assert!(err.is_jam());
    assert_eq!(
        wait_for(&mut events, |e| matches!(e, Event::Jam { .. })).await,
        Event::Jam {
            code: ErrorCode::CardJam
        }
    );
    assert_eq!(
        handle.device_status().borrow().state,
        DeviceState::HardwareError
    );
    control.set_jam(false);
    handle.to_encoder().await.unwrap();
    assert_eq!(handle.device_status().borrow().state, DeviceState::Online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cycled_device_is_initialised_again_and_the_command_goes_through() {
    let (handle, control, _p) = handle_with(SimConfig::default());
    online(&handle).await;
    control.power_cycle();
    assert_eq!(
        handle.to_encoder().await.unwrap().card,
        CardPosition::Inside
    );
    let log = control.command_log();
    let n = log.len();
    assert_eq!(
        &log[n - 4..],
        &[(0x32, 0x31), (0x30, 0x33), (0x31, 0x30), (0x32, 0x31)],
        "refused move, initialise, status, move again"
    );
    assert_eq!(control.dispensed(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplug_goes_offline_and_replug_comes_back_online() {
    let (handle, control, plugged) = handle_with(SimConfig::default());
    let mut events = handle.subscribe();
    online(&handle).await;
    plugged.store(false, Ordering::SeqCst);
    control.unplug();
    wait_for(&mut events, |e| matches!(e, Event::Offline { .. })).await;
    let err = handle.status().await.unwrap_err();
    assert!(err.is_offline(), "{err}");
    plugged.store(true, Ordering::SeqCst);
    wait_for(&mut events, |e| matches!(e, Event::Online { .. })).await;
    handle.status().await.unwrap();
    // A device that stops answering is offline too.
    control.set_mute(true);
    wait_for(&mut events, |e| matches!(e, Event::Offline { .. })).await;
    control.set_mute(false);
    wait_for(&mut events, |e| matches!(e, Event::Online { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_opener_serves_the_handle_in_process() {
    let sim = Simulator::new(SimConfig::default());
    let handle = Handle::spawn(sim.opener(), config());
    online(&handle).await;
    handle.to_encoder().await.unwrap();
    assert_eq!(sim.control().dispensed(), 1);
}

#[test]
fn cli_status_json_has_exactly_the_issue_fields() {
    let sim = Simulator::new(SimConfig {
        hopper: 3,
        hopper_low: 5,
        reject_count: 4,
        ..SimConfig::default()
    });
    let (a, b) = memory::pair();
    sim.spawn(Box::new(b));
    let mut d = Driver::new(Box::new(a), 0, Timeouts::short()).unwrap();
    let json = run_action(&mut d, &Action::Status).unwrap();
    assert_eq!(
        serde_json::to_string(&json).unwrap(),
        r#"{"card_position":"none","hopper":"low","reject_bin":"ok","reject_bin_count":4}"#
    );
    let json = run_action(&mut d, &Action::ToEncoder).unwrap();
    assert_eq!(json.card_position, "inside");
    assert_eq!(
        run_action(&mut d, &Action::ToGate).unwrap().card_position,
        "gate"
    );
    assert_eq!(
        run_action(&mut d, &Action::Eject).unwrap().card_position,
        "none"
    );
    run_action(&mut d, &Action::ToEncoder).unwrap();
    let json = run_action(&mut d, &Action::Capture).unwrap();
    assert_eq!(json.reject_bin_count, Some(5));
    run_action(&mut d, &Action::ToEncoder).unwrap();
    let json = run_action(
        &mut d,
        &Action::Reset {
            capture: true,
            to_gate: false,
        },
    )
    .unwrap();
    assert_eq!(json.card_position, "none");
    let no_count = StatusJson::new(
        kiosk_dispenser::Status {
            card: CardPosition::AtGate,
            hopper: kiosk_dispenser::HopperLevel::Empty,
            reject_bin: kiosk_dispenser::RejectBin::Full,
        },
        None,
    );
    assert_eq!(
        serde_json::to_string(&no_count).unwrap(),
        r#"{"card_position":"gate","hopper":"empty","reject_bin":"full"}"#
    );
}
