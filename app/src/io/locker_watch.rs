//! The locker outside any journey: what a restart finds, and the monitor's alerts (a door
//! opened without a command, a door left open) written down for staff.

use std::sync::Arc;
use std::time::Duration;

use kiosk_locker::{CompartmentId, Door, LockerEvent, LockerHandle};
use tokio::sync::broadcast::error::RecvError;

use crate::domain::locker::AlertKind;
use crate::outbox::now_ms;
use crate::store::Store;

/// At start-up: items whose door was being opened or was open are marked for staff to check,
/// with the door as the sensors say now (unknown when the bus does not answer in time).
pub fn reconcile(rt: &tokio::runtime::Runtime, locker: &LockerHandle, store: &Arc<Store>) {
    let status = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), locker.status())
            .await
            .ok()
            .and_then(Result::ok)
    });
    let door = |label: &str| {
        status
            .as_ref()
            .and_then(|s| s.door(&CompartmentId::new(label)))
            .map(|d| d == Door::Open)
    };
    match store.locker_reconcile(&door, now_ms()) {
        Ok(marked) if !marked.is_empty() => {
            tracing::warn!(
                items = marked.len(),
                "locker items interrupted by a restart: staff must check"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "locker reconciliation failed"),
    }
}

/// Records the monitor's staff alerts in the store (with their audit entries).
pub fn record_alerts(rt: &tokio::runtime::Runtime, locker: &LockerHandle, store: &Arc<Store>) {
    let mut events = locker.subscribe();
    let store = store.clone();
    rt.spawn(async move {
        loop {
            let (kind, compartment, detail) = match events.recv().await {
                Ok(LockerEvent::UncommandedOpen { compartment }) => (
                    AlertKind::UncommandedOpen,
                    compartment,
                    "a door opened without a command from the kiosk".to_owned(),
                ),
                Ok(LockerEvent::DoorLeftOpen {
                    compartment,
                    open_for_secs,
                }) => (
                    AlertKind::DoorLeftOpen,
                    compartment,
                    format!("the door has been open for {open_for_secs} s"),
                ),
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            tracing::warn!(compartment = %compartment.0, alert = kind.as_str(), "locker alert");
            let store = store.clone();
            let written = tokio::task::spawn_blocking(move || {
                store.locker_alert(kind, &compartment.0, &detail, now_ms())
            })
            .await;
            if !matches!(written, Ok(Ok(_))) {
                tracing::error!("could not record a locker alert");
            }
        }
    });
}
