//! Locker pickup effects: look-ups in the store, and a door opened only after the pickup is
//! written down, confirmed by its sensor, and recorded collected (with the platform's event
//! in the same transaction) only when the sensor says the door is shut again.

use std::time::Duration;

use kiosk_locker::{CloseOutcome, CompartmentId};

use super::KioskIo;
use crate::bi;
use crate::domain::locker::{AlertKind, CodeLimits, OpenResult, Operation};
use crate::flows::event::Completion;
use crate::flows::locker::{LockerCompletion, LockerEffect};
use crate::outbox::now_ms;

pub(super) fn run(io: &KioskIo, effect: LockerEffect) {
    let s = io.services.clone();
    match effect {
        LockerEffect::Lookup { session, key } => {
            let done = io.done(session);
            io.tokio.spawn_blocking(move || {
                let result = s
                    .store
                    .locker_lookup(&key, &CodeLimits::default(), now_ms())
                    .map_err(|e| {
                        tracing::error!(error = %e, "locker look-up failed");
                        bi!(
                            "系统暂时查不到取件信息，请到综合窗口领取",
                            "The pickup records cannot be read right now; please go to the service window"
                        )
                    });
                done(Completion::Locker(LockerCompletion::Looked(result)));
            });
        }
        LockerEffect::Open {
            session,
            item,
            compartment,
            actor,
        } => {
            let done = io.done(session);
            io.tokio.spawn(async move {
                let opened = |result| {
                    done(Completion::Locker(LockerCompletion::Opened {
                        item,
                        result,
                    }));
                };
                let Some(locker) = s.locker.clone() else {
                    opened(OpenResult::Unavailable);
                    return;
                };
                // Written down before the unlock, so a restart knows a door may be open.
                let store = s.store.clone();
                let begun = tokio::task::spawn_blocking(move || {
                    store.locker_begin(item, Operation::Pickup, &actor, now_ms())
                })
                .await;
                if !matches!(begun, Ok(Ok(Some(_)))) {
                    tracing::warn!(
                        compartment,
                        "pickup not begun: the item is not in the locker"
                    );
                    opened(OpenResult::Unavailable);
                    return;
                }
                let result = open_door(&s, &locker, item, &compartment).await;
                opened(result);
                if result.door_open() {
                    finish_when_shut(&s, &locker, &compartment, item, "").await;
                    done(Completion::Locker(LockerCompletion::Closed { item }));
                }
            });
        }
    }
}

/// Opens an item's door (its operation already written down) and records what the sensor
/// said: opened, jammed (alerted, never retried), or nothing sent.
pub(super) async fn open_door(
    s: &super::Services,
    locker: &kiosk_locker::LockerHandle,
    item: uuid::Uuid,
    compartment: &str,
) -> OpenResult {
    let id = CompartmentId::new(compartment);
    let result = match locker.open(&id).await {
        Ok(outcome) => OpenResult::from(outcome),
        Err(e) => {
            tracing::warn!(compartment, error = %e, "locker open failed");
            OpenResult::Unavailable
        }
    };
    tracing::info!(compartment, result = result.as_str(), "locker door");
    let store = s.store.clone();
    let recorded =
        tokio::task::spawn_blocking(move || store.locker_opened(item, result, now_ms())).await;
    if !matches!(recorded, Ok(Ok(_))) {
        tracing::error!(compartment, "could not record the door's answer");
    }
    result
}

/// Waits for the door to shut, alerting staff once if it stands open too long, then records
/// the operation done (deposit with its pickup `code`, pickup or recall; the audit entry and
/// the platform's event in the same transaction). Returns whether it was recorded.
pub(super) async fn finish_when_shut(
    s: &super::Services,
    locker: &kiosk_locker::LockerHandle,
    compartment: &str,
    item: uuid::Uuid,
    code: &str,
) -> bool {
    let id = &CompartmentId::new(compartment);
    let mut alerted = false;
    loop {
        match locker.wait_closed(id, s.locker_door_alert).await {
            Ok(CloseOutcome::Closed) => break,
            outcome => {
                if !alerted {
                    alerted = true;
                    let store = s.store.clone();
                    let label = id.0.clone();
                    let detail = format!("door open after pickup ({outcome:?})");
                    let _ = tokio::task::spawn_blocking(move || {
                        store.locker_alert(AlertKind::DoorLeftOpen, &label, &detail, now_ms())
                    })
                    .await;
                }
                if outcome.is_err() {
                    // The bus is down: try again a little later rather than spin.
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    }
    let store = s.store.clone();
    let kiosk_id = s.kiosk_id.clone();
    let code = code.to_owned();
    let closed =
        tokio::task::spawn_blocking(move || store.locker_closed(item, &code, &kiosk_id, now_ms()))
            .await;
    if let Ok(Ok(Some(_))) = closed {
        s.outbox.notify_one();
        tracing::info!(compartment = %id.0, "locker operation recorded");
        true
    } else {
        tracing::error!(compartment = %id.0, "could not record the locker operation");
        false
    }
}
