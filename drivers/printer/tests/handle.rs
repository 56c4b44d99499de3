//! The device task: session-bound jobs, status events for staff, offline and reconnect.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_link::{DeviceState, LinkError, memory};
use kiosk_printer::{
    Condition, Document, Handle, HandleConfig, PaperWidth, PrintError, PrinterEvent, SessionId,
    SimPrinter, Timeouts, samples,
};
use tokio::sync::broadcast;

fn config() -> HandleConfig {
    HandleConfig {
        profile: common::profile(PaperWidth::Mm80),
        timeouts: Timeouts::fast(),
        poll_interval: Duration::from_millis(50),
        max_queue_wait: Duration::from_secs(5),
        reconnect_initial: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(100),
    }
}

/// A handle whose opener plugs a fresh memory link into `sim` (refused while unplugged).
fn handle_for(sim: &SimPrinter) -> Handle {
    let sim = sim.clone();
    let opener = Box::new(move || {
        if !sim.is_plugged() {
            return Err(LinkError::Open {
                port: "memory".into(),
                reason: "unplugged".into(),
            });
        }
        let (host, device) = memory::pair();
        sim.spawn(Box::new(device));
        Ok(Box::new(host) as Box<dyn kiosk_link::Link>)
    });
    Handle::spawn_with_font(opener, config(), common::font())
}

async fn wait_for(
    events: &mut broadcast::Receiver<PrinterEvent>,
    pred: impl Fn(&PrinterEvent) -> bool,
) -> PrinterEvent {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Ok(e) if pred(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("event in time")
}

async fn wait_state(handle: &Handle, state: DeviceState) {
    let mut rx = handle.status();
    tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|s| s.state == state))
        .await
        .expect("state in time")
        .unwrap();
}

fn acceptance() -> Document {
    Document::Acceptance(samples::acceptance_notice())
}

#[tokio::test]
async fn prints_for_the_current_session_only() {
    let sim = common::sim_80();
    let handle = handle_for(&sim);
    wait_state(&handle, DeviceState::Online).await;
    let a = SessionId::new("a");
    let b = SessionId::new("b");

    // no session: refused
    assert!(matches!(
        handle.print(a.clone(), acceptance()).await,
        Err(PrintError::NotCurrentSession)
    ));
    handle.begin_session(a.clone());
    let mut events = handle.subscribe();
    let report = handle.print(a.clone(), acceptance()).await.unwrap();
    assert_eq!(report.owner, a);
    wait_for(
        &mut events,
        |e| matches!(e, PrinterEvent::JobPrinted { owner, .. } if *owner == a),
    )
    .await;
    // another session's job, or one after the session ended, never prints
    assert!(matches!(
        handle.print(b.clone(), acceptance()).await,
        Err(PrintError::NotCurrentSession)
    ));
    handle.end_session(&a);
    assert!(matches!(
        handle.print(a.clone(), acceptance()).await,
        Err(PrintError::NotCurrentSession)
    ));
    assert_eq!(sim.slips().len(), 1);
}

#[tokio::test]
async fn a_job_whose_session_ends_while_queued_is_dropped() {
    let sim = common::sim_80();
    let handle = handle_for(&sim);
    wait_state(&handle, DeviceState::Online).await;
    let a = SessionId::new("a");
    handle.begin_session(a.clone());
    // Two jobs submitted at once: the second waits behind the first; the session ends
    // while it waits.
    let h2 = handle.clone();
    let first = tokio::spawn({
        let a = a.clone();
        async move { h2.print(a, Document::Guide(samples::guide_slip())).await }
    });
    let h3 = handle.clone();
    let second = tokio::spawn({
        let a = a.clone();
        async move { h3.print(a, acceptance()).await }
    });
    tokio::task::yield_now().await;
    handle.end_session(&a);
    let results = [first.await.unwrap(), second.await.unwrap()];
    let printed = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(PrintError::NotCurrentSession)))
    );
    assert_eq!(
        sim.slips().len(),
        printed,
        "nothing printed for an ended session"
    );
}

#[tokio::test]
async fn a_caller_that_gave_up_gets_nothing_printed() {
    let sim = common::sim_80();
    let handle = handle_for(&sim);
    wait_state(&handle, DeviceState::Online).await;
    let a = SessionId::new("a");
    handle.begin_session(a.clone());
    // The caller drops its future at once (a UI timeout); the task must not print it.
    let fut = handle.print(a.clone(), acceptance());
    drop(tokio::time::timeout(Duration::from_nanos(1), fut).await);
    // A later status round trip proves the task has handled the dropped job.
    handle.read_status().await.unwrap();
    assert!(sim.slips().len() <= 1);
    // ... and when it did print (it may have started before the drop), it printed once.
    let report = handle.print(a.clone(), acceptance()).await.unwrap();
    assert!(report.job_id >= 1);
}

#[tokio::test]
async fn paper_status_reaches_staff_as_events() {
    let sim = common::sim_80();
    let handle = handle_for(&sim);
    wait_state(&handle, DeviceState::Online).await;
    let mut events = handle.subscribe();
    sim.set_near_end(true);
    // The first status after going online may still be on its way: wait for the one that
    // reports the paper.
    let e = wait_for(&mut events, |e| {
        matches!(e, PrinterEvent::StatusChanged { status } if status.has(Condition::PaperNearEnd))
    })
    .await;
    let PrinterEvent::StatusChanged { status } = e else {
        unreachable!()
    };
    assert!(status.ready && status.has(Condition::PaperNearEnd));
    assert_eq!(
        handle.status().borrow().detail.as_deref(),
        Some("paper_near_end")
    );

    sim.set_paper_out(true);
    wait_state(&handle, DeviceState::HardwareError).await;
    assert_eq!(
        handle.status().borrow().detail.as_deref(),
        Some("paper_out")
    );
    let a = SessionId::new("a");
    handle.begin_session(a.clone());
    let err = handle.print(a, acceptance()).await.unwrap_err();
    assert_eq!(
        err.resident_reason(),
        kiosk_printer::ResidentReason::PaperOut
    );
    sim.load_paper();
    wait_state(&handle, DeviceState::Online).await;
    assert!(sim.slips().is_empty());
}

#[tokio::test]
async fn mid_job_failure_without_clear_raises_a_staff_check() {
    let sim = common::sim(kiosk_printer::SimConfig {
        supports_clear: false,
        ..kiosk_printer::SimConfig::default()
    });
    let handle = handle_for(&sim);
    wait_state(&handle, DeviceState::Online).await;
    let mut events = handle.subscribe();
    let a = SessionId::new("a");
    handle.begin_session(a.clone());
    sim.paper_out_after_lines(Some(6));
    assert!(handle.print(a.clone(), acceptance()).await.is_err());
    wait_for(&mut events, |e| matches!(e, PrinterEvent::StaffCheckNeeded)).await;
    assert!(matches!(
        handle.print(a.clone(), acceptance()).await,
        Err(PrintError::StaffCheckNeeded)
    ));
    sim.load_paper();
    handle.acknowledge_staff_check().await.unwrap();
    handle.print(a, acceptance()).await.unwrap();
}

#[tokio::test]
async fn goes_offline_when_unplugged_and_comes_back() {
    let sim = common::sim_80();
    let handle = handle_for(&sim);
    wait_state(&handle, DeviceState::Online).await;
    let mut events = handle.subscribe();
    sim.unplug();
    wait_for(&mut events, |e| matches!(e, PrinterEvent::Offline { .. })).await;
    wait_state(&handle, DeviceState::Offline).await;
    let a = SessionId::new("a");
    handle.begin_session(a.clone());
    let err = handle.print(a.clone(), acceptance()).await.unwrap_err();
    assert_eq!(
        err.resident_reason(),
        kiosk_printer::ResidentReason::PrinterOffline
    );
    sim.plug();
    wait_for(&mut events, |e| matches!(e, PrinterEvent::Online)).await;
    handle.print(a, acceptance()).await.unwrap();
    assert_eq!(sim.slips().len(), 1);
}

#[tokio::test]
async fn spawn_fails_cleanly_without_the_font() {
    let mut cfg = config();
    cfg.profile.font = kiosk_printer::FontSource::from_path("/nonexistent.ttc");
    let open_calls = Arc::new(Mutex::new(0));
    let count = open_calls.clone();
    let opener = Box::new(move || {
        *count.lock().unwrap() += 1;
        Err(LinkError::Disconnected("none".into()))
    });
    assert!(Handle::spawn(opener, cfg).is_err());
    assert_eq!(*open_calls.lock().unwrap(), 0);
}
