//! The card journey through the kiosk's real effects: the dispenser simulator in memory with
//! a virtual chip on each card, the card-printer simulator writing PNGs, the platform
//! simulator on loopback, a store on disk, the runtime core stepping the session. Each
//! failure the effects handle is made to happen here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::many_single_char_names
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kiosk_app::card_command::{CardKiosk, Headless, IssueReport, recorded, sample_identity};
use kiosk_app::flows::Journey;
use kiosk_app::flows::availability::DeviceClass;
use kiosk_app::flows::event::{Event, JourneyKind, UserAction};
use kiosk_app::flows::issue_card::CardStage;
use kiosk_app::store::{AttemptState, CardPlace};
use kiosk_dispenser::sim::{Fault, SimCardPlace};
use kiosk_dispenser::{ErrorCode, SimControl};

const HOLDER: &str = "45010220000229008X";
const WITHIN: Duration = Duration::from_mins(1);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn kiosk() -> (tempfile::TempDir, CardKiosk) {
    let dir = tempfile::tempdir().unwrap();
    let mut loaded = kiosk_app::check::load_all(&repo().join("config/kiosk.toml")).unwrap();
    loaded.config.simulate_everything();
    dir.path().clone_into(&mut loaded.config.storage.data_dir);
    let kiosk = CardKiosk::build(loaded, repo().join("resources")).unwrap();
    (dir, kiosk)
}

fn dispenser(k: &CardKiosk) -> SimControl {
    k.sims.dispenser.clone().unwrap()
}

/// A resident at the gate who takes every card held there; stops when dropped.
struct Resident(Arc<AtomicBool>);

impl Resident {
    fn at(control: SimControl) -> Resident {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if control.card_place() == SimCardPlace::Gate {
                    control.take_card();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Resident(stop)
    }
}

impl Drop for Resident {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn issue(k: &CardKiosk, h: &mut Headless) -> IssueReport {
    let identity = sample_identity(&k.resources, HOLDER).unwrap();
    h.issue(identity, None, WITHIN)
}

fn alerts(k: &CardKiosk) -> Vec<String> {
    k.services
        .store
        .staff_alerts(50)
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect()
}

fn stage(h: &Headless) -> Option<CardStage> {
    match &h.session().journey {
        Journey::CardIssue(c) => Some(c.stage.clone()),
        _ => None,
    }
}

#[test]
fn a_card_is_issued_through_the_real_effects() {
    let (_dir, k) = kiosk();
    let _resident = Resident::at(dispenser(&k));
    let mut h = k.headless();
    let report = issue(&k, &mut h);
    assert_eq!(report.outcome, "issued", "{report:?}");
    let a = recorded(&k, &report).unwrap();
    assert_eq!(
        (a.state, a.position),
        (AttemptState::Issued, CardPlace::Taken)
    );
    let steps = k.services.store.card_steps(a.id).unwrap();
    // Every step written before (started) and after (done).
    let started: Vec<_> = steps
        .iter()
        .filter(|s| s.status == kiosk_app::store::StepStatus::Started)
        .map(|s| s.step.as_str())
        .collect();
    assert_eq!(started, ["dispense", "personalise", "print", "present"]);
    assert_eq!(k.sims.card_printer.as_ref().unwrap().printed().len(), 1);
    assert_eq!(dispenser(&k).taken(), 1);
    // The chip holds what the platform sent.
    let chip = k.sims.card_stock.as_ref().unwrap().last().unwrap();
    assert_eq!(
        chip.record(0xEF06, 1).unwrap()[2..],
        *HOLDER.as_bytes(),
        "SSN written"
    );
    assert_eq!(
        k.drain(Duration::from_secs(10)),
        1,
        "the result reaches the platform"
    );
}

#[test]
fn a_chip_error_captures_the_card_and_a_retry_makes_a_new_one() {
    let (_dir, k) = kiosk();
    let _resident = Resident::at(dispenser(&k));
    // The contact reader reports a transmission error on the first APDU.
    dispenser(&k).fail_next_on(
        0x51,
        Some(0x39),
        Fault::Error(ErrorCode::IcTransmissionError),
    );
    let mut h = k.headless();
    let first = issue(&k, &mut h);
    assert_eq!(first.outcome, "failed", "{first:?}");
    assert_eq!(stage(&h), Some(CardStage::Failed { can_retry: true }));
    assert!(
        first
            .message
            .as_ref()
            .unwrap()
            .contains("chip could not be written")
    );
    let a = recorded(&k, &first).unwrap();
    assert_eq!(
        (a.state, a.position),
        (AttemptState::Failed, CardPlace::RejectBin)
    );
    assert!(
        a.reason
            .as_deref()
            .unwrap()
            .starts_with("personalise: chip"),
        "{a:?}"
    );
    assert_eq!(dispenser(&k).reject_count(), 1);
    assert!(
        k.sims.card_printer.as_ref().unwrap().printed().is_empty(),
        "never printed"
    );

    let second = h.retry(WITHIN);
    assert_eq!(second.outcome, "issued", "{second:?}");
    let b = recorded(&k, &second).unwrap();
    assert_ne!(a.id, b.id);
    assert_ne!(
        a.request_id, b.request_id,
        "a new platform request: a new card"
    );
    assert_eq!(dispenser(&k).dispensed(), 2);
    assert_eq!(
        k.services.store.card_attempts(10).unwrap().len(),
        2,
        "both cards recorded"
    );
}

#[test]
fn a_card_not_taken_in_time_is_captured() {
    let (_dir, k) = kiosk();
    let mut h = k.headless();
    h.core.delays_mut().card_take = Duration::from_millis(300);
    let report = issue(&k, &mut h);
    assert_eq!(report.outcome, "failed");
    assert!(report.stages.contains(&"present".to_owned()));
    let a = recorded(&k, &report).unwrap();
    assert_eq!(a.position, CardPlace::RejectBin);
    assert_eq!(a.reason.as_deref(), Some("not taken at the gate in time"));
    assert_eq!(dispenser(&k).reject_count(), 1);
    assert_eq!(dispenser(&k).card_place(), SimCardPlace::None);
}

#[test]
fn ribbon_out_captures_the_card_and_switches_issuing_off() {
    let (_dir, k) = kiosk();
    let mut h = k.headless();
    // Ribbon for one more card: the first card is printed (and, not taken, captured); the
    // ribbon runs out on the retry's card.
    k.sims.card_printer.as_ref().unwrap().set_ribbon_left(1);
    h.core.delays_mut().card_take = Duration::from_millis(300);
    let first = issue(&k, &mut h);
    assert_eq!(first.outcome, "failed", "{first:?}");
    assert_eq!(k.sims.card_printer.as_ref().unwrap().printed().len(), 1);
    let report = h.retry(WITHIN);
    assert_eq!(report.outcome, "failed", "{report:?}");
    assert_eq!(stage(&h), Some(CardStage::Failed { can_retry: false }));
    assert!(report.message.as_ref().unwrap().contains("ribbon"));
    let a = recorded(&k, &report).unwrap();
    assert_eq!(a.position, CardPlace::RejectBin);
    assert_eq!(
        a.reason.as_deref(),
        Some("print: card printer ribbon is out")
    );
    assert!(alerts(&k).contains(&"card.printer".to_owned()));
    h.post(Event::User(UserAction::Home));
    h.post(Event::User(UserAction::Start(JourneyKind::CardIssue)));
    assert!(matches!(h.session().journey, Journey::OutOfService { .. }));
}

#[test]
fn an_empty_hopper_at_dispense_records_the_attempt_and_alerts_staff() {
    let (_dir, k) = kiosk();
    dispenser(&k).fail_next_on(0x32, Some(0x31), Fault::Error(ErrorCode::StackerEmpty));
    let mut h = k.headless();
    let report = issue(&k, &mut h);
    assert_eq!(report.outcome, "failed", "{report:?}");
    let a = recorded(&k, &report).unwrap();
    assert_eq!(
        (a.state, a.position),
        (AttemptState::Failed, CardPlace::Hopper)
    );
    assert!(
        report
            .message
            .as_ref()
            .unwrap()
            .contains("run out of blank cards")
    );
    assert!(alerts(&k).contains(&"card.hopper-empty".to_owned()));
    assert_eq!(dispenser(&k).reject_count(), 0);
}

#[test]
fn hopper_low_alerts_staff_and_cards_are_still_made() {
    let (_dir, k) = kiosk();
    dispenser(&k).set_hopper(5);
    let _resident = Resident::at(dispenser(&k));
    let mut h = k.headless();
    assert!(h.run_until(WITHIN, |_| {
        alerts(&k).contains(&"card.hopper-low".to_owned())
    }));
    assert_eq!(issue(&k, &mut h).outcome, "issued");
}

#[test]
fn hopper_empty_or_reject_bin_full_switch_issuing_off_until_staff_act() {
    let (_dir, k) = kiosk();
    let d = dispenser(&k);
    let mut h = k.headless();
    let blocked = |h: &Headless| {
        h.session()
            .availability
            .blocked(JourneyKind::CardIssue)
            .map(|r| r.en)
    };
    d.set_hopper(0);
    assert!(h.run_until(WITHIN, |h| blocked(h).is_some()));
    assert!(blocked(&h).unwrap().contains("run out of blank cards"));
    h.post(Event::User(UserAction::Start(JourneyKind::CardIssue)));
    assert!(matches!(h.session().journey, Journey::OutOfService { .. }));
    assert!(h.run_until(WITHIN, |_| {
        alerts(&k).contains(&"card.hopper-empty".to_owned())
    }));
    h.post(Event::User(UserAction::Home));

    d.set_hopper(100);
    d.set_reject_count(50);
    assert!(h.run_until(WITHIN, |h| {
        blocked(h).is_some_and(|r| r.contains("staff attention"))
    }));
    assert!(h.run_until(WITHIN, |_| {
        alerts(&k).contains(&"card.reject-bin-full".to_owned())
    }));

    d.set_reject_count(0);
    assert!(
        h.run_until(WITHIN, |h| blocked(h).is_none()),
        "back on once emptied"
    );
}

#[test]
fn a_jam_on_dispense_alerts_staff_and_switches_issuing_off() {
    let (_dir, k) = kiosk();
    dispenser(&k).set_jam(true);
    let mut h = k.headless();
    let report = issue(&k, &mut h);
    assert_eq!(report.outcome, "failed", "{report:?}");
    assert!(alerts(&k).contains(&"card.jam".to_owned()));
    assert!(h.run_until(WITHIN, |h| {
        !h.session().availability.device_ok(DeviceClass::Dispenser)
    }));
}

#[test]
fn a_capture_that_fails_is_recorded_and_no_card_is_dispensed_onto_it() {
    let (_dir, k) = kiosk();
    let d = dispenser(&k);
    d.fail_next_on(0x32, Some(0x33), Fault::Error(ErrorCode::RejectBinFull));
    let mut h = k.headless();
    h.core.delays_mut().card_take = Duration::from_millis(300);
    let report = issue(&k, &mut h);
    assert_eq!(report.outcome, "failed");
    assert_eq!(stage(&h), Some(CardStage::Failed { can_retry: false }));
    let a = recorded(&k, &report).unwrap();
    assert_eq!(
        (a.state, a.position),
        (AttemptState::Failed, CardPlace::Gate)
    );
    assert!(alerts(&k).contains(&"card.stuck".to_owned()));
    assert_eq!(d.card_place(), SimCardPlace::Gate);

    // The next resident: nothing is dispensed while a card is still in the machine.
    h.post(Event::User(UserAction::Home));
    let next = issue(&k, &mut h);
    assert_eq!(next.outcome, "failed");
    let b = recorded(&k, &next).unwrap();
    assert_eq!(b.position, CardPlace::Hopper);
    assert_eq!(d.dispensed(), 1);
    assert!(alerts(&k).contains(&"card.machine-not-clear".to_owned()));
}

#[test]
fn recovery_in_process_captures_a_card_left_inside_by_an_attempt() {
    let (_dir, k) = kiosk();
    let d = dispenser(&k);
    // An attempt that stopped after the dispense (as a crash leaves it).
    let store = &k.services.store;
    let id = uuid::Uuid::now_v7();
    store
        .begin_card_attempt(
            &kiosk_app::store::NewCardAttempt {
                id,
                request_id: "CR9".into(),
                application_id: None,
                application_number: None,
                holder_name: "韦龘𠮷".into(),
                holder_id_number: HOLDER.into(),
                card_number: "SIM000009".into(),
                retention_days: 180,
            },
            1,
        )
        .unwrap();
    store
        .card_step(
            id,
            kiosk_app::store::CardStep::Dispense,
            kiosk_app::store::StepStatus::Done,
            CardPlace::Inside,
            None,
            2,
        )
        .unwrap();
    k.rt.block_on(k.services.cards.dispenser.as_ref().unwrap().to_encoder())
        .unwrap();
    let recovery = k.recover();
    assert_eq!(recovery.action, "captured");
    assert_eq!(recovery.position.as_deref(), Some("reject-bin"));
    let a = store.card_attempt(id).unwrap().unwrap();
    assert_eq!(
        (a.state, a.reason.as_deref()),
        (AttemptState::Failed, Some("interrupted"))
    );
    assert_eq!(d.reject_count(), 1);
    // A card found with no attempt at all is captured too, and staff told.
    k.rt.block_on(k.services.cards.dispenser.as_ref().unwrap().to_encoder())
        .unwrap();
    let orphan = k.recover();
    assert_eq!((orphan.attempt, orphan.action.as_str()), (None, "captured"));
    assert!(alerts(&k).contains(&"card.orphan".to_owned()));
}

#[test]
fn the_kiosk_finishes_an_interrupted_attempt_as_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let id = uuid::Uuid::now_v7();
    {
        let store = kiosk_app::store::Store::open(dir.path()).unwrap();
        store
            .begin_card_attempt(
                &kiosk_app::store::NewCardAttempt {
                    id,
                    request_id: "CR1".into(),
                    application_id: None,
                    application_number: None,
                    holder_name: "韦龘𠮷".into(),
                    holder_id_number: HOLDER.into(),
                    card_number: "SIM000001".into(),
                    retention_days: 180,
                },
                1,
            )
            .unwrap();
    }
    let mut options = kiosk_app::assemble::Options::new(repo().join("config/kiosk.toml"));
    options.simulate = true;
    options.data_dir = Some(dir.path().to_owned());
    options.resources = repo().join("resources");
    let kiosk = kiosk_app::assemble::assemble(&options).unwrap();
    let a = kiosk.store.card_attempt(id).unwrap().unwrap();
    assert_eq!(
        (a.state, a.position, a.reason.as_deref()),
        (AttemptState::Failed, CardPlace::Hopper, Some("interrupted"))
    );
    assert!(kiosk.store.open_card_attempt().unwrap().is_none());
}
