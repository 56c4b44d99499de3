//! The kiosk's own time per social security card (issue 5's goal: under 100 ms for
//! everything but the device's moves, the chip's answers and printing).
//!
//! Measured through the same journey and effects as the kiosk (`card_command::Headless`): the
//! runtime core steps the session, the production I/O carries out the effects, the store is
//! on disk (`synchronous=FULL`, so every step's record is fsynced) and holds 300 accepted
//! birth applications with a card item (the parent look-up decrypts them all). The devices
//! are the simulators with no delays, so their moves and the virtual chip's answers cost
//! (almost) nothing; the platform simulator answers the card request and both cryptograms
//! over loopback; the card-printer simulator writes the face's PNG.
//!
//! - `card/to-the-gate`: from the ID card on the reader to the card held at the gate
//!   (look-up, platform request, confirm, 10 step records, dispense, personalise, face
//!   rendered and printed, to the gate). An upper bound of the software's time: it also holds
//!   the simulated devices' protocol exchanges, the platform's answers and the PNG encoding.
//! - `card/record-taken`: what runs after the resident takes the card (the attempt recorded
//!   issued with its platform report and audit entry, one transaction).
//! - `card/face-render-png`: the face alone (part of printing), for the breakdown.
//!
//! `cargo bench -p kiosk-app --bench card_issue`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kiosk_app::card_command::{CardKiosk, Headless, sample_identity};
use kiosk_app::flows::Journey;
use kiosk_app::flows::effect::TimerId;
use kiosk_app::flows::event::{Event, JourneyKind, UserAction};
use kiosk_app::flows::issue_card::{CardAction, CardStage};
use kiosk_app::store::NewCardAttempt;

const HOLDER: &str = "45010220000229008X";
const WITHIN: Duration = Duration::from_secs(30);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stage(h: &Headless) -> Option<CardStage> {
    match &h.session().journey {
        Journey::CardIssue(c) => Some(c.stage.clone()),
        _ => None,
    }
}

/// One card up to the gate; returns the time it took. The card is then captured as not
/// taken (not timed) so the next run finds the machine clear and the holder still eligible.
fn one_card(
    k: &CardKiosk,
    h: &mut Headless,
    identity: &kiosk_idcard::identity::Identity,
) -> Duration {
    let d = k.sims.dispenser.as_ref().unwrap();
    d.set_reject_count(0);
    d.set_hopper(100);
    k.sims.card_printer.as_ref().unwrap().replace_ribbon();
    let start = Instant::now();
    h.post(Event::User(UserAction::Start(JourneyKind::CardIssue)));
    h.post(Event::CardPresented(Box::new(identity.clone())));
    let reached = h.run_until(WITHIN, |h| match stage(h) {
        Some(CardStage::Confirm) => {
            h.post(Event::User(UserAction::Card(CardAction::Confirm)));
            false
        }
        Some(CardStage::ChooseHolder) => {
            h.post(Event::User(UserAction::Card(CardAction::ChooseHolder(
                None,
            ))));
            false
        }
        Some(CardStage::Present) => true,
        Some(CardStage::Failed { .. } | CardStage::NotNow(_)) => match &h.session().journey {
            Journey::CardIssue(c) => panic!("{:?}: {:?}", c.stage, c.message),
            _ => unreachable!(),
        },
        _ => false,
    });
    let took = start.elapsed();
    assert!(reached, "the card never reached the gate");
    h.post(Event::Timer(TimerId::CardNotTaken));
    assert!(h.run_until(WITHIN, |h| matches!(
        stage(h),
        Some(CardStage::Failed { .. })
    )));
    h.post(Event::User(UserAction::Home));
    took
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut loaded = kiosk_app::check::load_all(&repo().join("config/kiosk.toml")).unwrap();
    loaded.config.simulate_everything();
    dir.path().clone_into(&mut loaded.config.storage.data_dir);
    let k = CardKiosk::build(loaded, repo().join("resources")).unwrap();
    let scans = dir.path().join("session-scans");
    let day = jiff::civil::date(2026, 11, 20);
    for n in 1..=300 {
        let app = kiosk_app::outbox::tools::sample_application(
            "ZJ-330106-XH-01",
            day,
            n,
            jiff::Timestamp::now(),
        );
        k.services.store.accept(&app, &scans, 180).unwrap();
    }
    let identity = sample_identity(&k.resources, HOLDER).unwrap();
    let mut h = k.headless();
    // Warm up: fonts touched, connections open.
    one_card(&k, &mut h, &identity);

    let mut group = c.benchmark_group("card");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("to-the-gate", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| one_card(&k, &mut h, &identity)).sum());
    });

    let store = k.services.store.clone();
    group.bench_function("record-taken", |b| {
        b.iter_batched(
            || {
                let id = uuid::Uuid::now_v7();
                store
                    .begin_card_attempt(
                        &NewCardAttempt {
                            id,
                            request_id: "CR-bench".into(),
                            application_id: None,
                            application_number: None,
                            holder_name: "韦龘𠮷".into(),
                            holder_id_number: "11010519491231002X".into(),
                            card_number: "SIM999999".into(),
                            retention_days: 180,
                        },
                        0,
                    )
                    .unwrap();
                id
            },
            // One open attempt at a time: set up and finished one by one.
            |id| assert!(store.finish_card_issued(id, 1).unwrap()),
            BatchSize::PerIteration,
        );
    });

    let faces = k.services.cards.faces.clone().unwrap();
    let face = kiosk_cardprinter::CardFace {
        name: "韦龘𠮷".into(),
        ssn: HOLDER.into(),
        card_number: "SIM000001".into(),
        issue_date: day,
        photo: Some(image::DynamicImage::new_rgb8(102, 126)),
    };
    group.bench_function("face-render-png", |b| {
        b.iter(|| kiosk_cardprinter::to_png(&faces.render(&face).unwrap()).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
