//! Shared test helpers: short timeouts, a simulated bank on memory links or a pty.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, reason = "test helpers")]

use std::time::Duration;

use kiosk_link::memory;
use kiosk_locker::bank::{Bank, BankConfig};
use kiosk_locker::driver::{Driver, Timeouts};
use kiosk_locker::handle::{HandleOptions, LockerHandle};
use kiosk_locker::monitor::{LockerEvent, MonitorConfig};
use kiosk_locker::protocol::Polarity;
use kiosk_locker::sim::{SimConfig, SimControl};
use tokio::sync::broadcast;

/// Device deadlines short enough for fast tests (the defaults are the field values).
pub fn fast() -> Timeouts {
    Timeouts {
        reply: Duration::from_millis(400),
        frame_gap: Duration::from_millis(5),
        turnaround: Duration::ZERO,
        open_confirm: Duration::from_millis(300),
        poll_interval: Duration::from_millis(20),
    }
}

pub fn bank(boards: u8, channels: u8, polarity: Polarity) -> Bank {
    BankConfig::uniform(boards, channels, polarity)
        .validate()
        .unwrap()
}

/// A blocking driver on a memory link to a simulated bank of the same shape.
pub fn mem_driver(boards: u8, channels: u8) -> (Driver, SimControl) {
    let control = SimControl::new(&SimConfig::uniform(boards, channels));
    let (a, b) = memory::pair();
    control.serve(Box::new(b));
    (
        Driver::new(
            Box::new(a),
            bank(boards, channels, Polarity::DoorClosing),
            fast(),
        ),
        control,
    )
}

pub fn options() -> HandleOptions {
    HandleOptions {
        timeouts: fast(),
        monitor: MonitorConfig {
            interval: Duration::from_millis(20),
            left_open_after: Duration::from_hours(1),
            offline_after: 1,
            offline_retry_max: Duration::from_millis(200),
        },
        reconnect_initial: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(100),
    }
}

/// A handle on a simulated bank over memory links.
pub fn mem_handle(
    sim: &SimConfig,
    bank: Bank,
    options: HandleOptions,
) -> (LockerHandle, SimControl) {
    let control = SimControl::new(sim);
    let handle = LockerHandle::spawn(bank, control.opener(), options);
    (handle, control)
}

/// Waits (5 s at most, a safety net, not a timing assert) for an event matching `pred`.
pub async fn wait_event(
    rx: &mut broadcast::Receiver<LockerEvent>,
    pred: impl Fn(&LockerEvent) -> bool,
) -> LockerEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(e)) if pred(&e) => return e,
            Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event channel closed: {e}"),
            Err(elapsed) => panic!("no matching event within 5 s ({elapsed})"),
        }
    }
}

/// Waits (5 s at most, a safety net) for the handle to report the bus online.
pub async fn online(handle: &kiosk_locker::LockerHandle) {
    let mut st = handle.device_status();
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| s.state == kiosk_link::DeviceState::Online),
    )
    .await
    .unwrap()
    .unwrap();
}
