//! Locker pickup through the kiosk's real effects: the store on disk, the lock-board driver
//! over an in-memory link to the board simulator. Documents are loaded as staff would (the
//! store's deposit steps), then collected by code and by ID card: wrong codes up to the
//! cool-down, a jammed lock, two pickups at once on different doors, a restart while a door
//! is open; staff loading and recall through the staff effects, and the PIN lock-out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kiosk_app::domain::locker::{
    Actor, CodeLimits, ItemState, OpenResult, Operation, PickupKey, PickupLookup, ReadyApplication,
    Size,
};
use kiosk_app::flows::event::{Completion, Event};
use kiosk_app::flows::locker::{LockerCompletion, LockerEffect};
use kiosk_app::flows::staff::{StaffCompletion, StaffEffect};
use kiosk_app::flows::{Effect, SessionId};
use kiosk_app::io::{KioskIo, Services};
use kiosk_app::runtime::{Io, Mailbox, mailbox};
use kiosk_app::store::{SignIn, Store};
use kiosk_locker::{
    BankConfig, CompartmentId, HandleOptions, LockerHandle, Polarity, SimConfig, SimControl,
    Timeouts,
};
use sha2::Digest as _;

const KIOSK: &str = "ZJ-330106-XH-01";
const FATHER_ID: &str = "360426199101010071";
const SESSION: SessionId = SessionId(1);

struct Rig {
    rt: tokio::runtime::Runtime,
    store: Arc<Store>,
    sim: SimControl,
    locker: LockerHandle,
    io: KioskIo,
    answers: Mailbox,
    dir: tempfile::TempDir,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn handle(sim: &SimControl) -> LockerHandle {
    let bank = BankConfig::uniform(2, 8, Polarity::DoorClosing)
        .validate()
        .unwrap();
    let options = HandleOptions {
        timeouts: Timeouts {
            reply: Duration::from_millis(400),
            frame_gap: Duration::from_millis(5),
            turnaround: Duration::ZERO,
            open_confirm: Duration::from_millis(300),
            poll_interval: Duration::from_millis(20),
        },
        ..HandleOptions::default()
    };
    LockerHandle::spawn(bank, sim.opener(), options)
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    rig_in(dir)
}

fn rig_in(dir: tempfile::TempDir) -> Rig {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let sim = SimControl::new(&SimConfig::uniform(2, 8));
    let locker = {
        let _enter = rt.enter();
        handle(&sim)
    };
    let loaded = kiosk_app::check::load_all(&repo().join("config/kiosk.toml")).unwrap();
    let scans = dir.path().join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    let services = Arc::new(Services {
        store: store.clone(),
        // Never asked: locker effects only use the store and the doors.
        platform: Arc::new(
            kiosk_platform::PlatformClient::new(&kiosk_platform::ClientConfig::new(
                "http://127.0.0.1:9",
                KIOSK,
            ))
            .unwrap(),
        ),
        catalogue: Arc::new(loaded.catalogue.clone()),
        printer: None,
        scanner: None,
        scans_dir: scans,
        outbox: Arc::new(tokio::sync::Notify::new()),
        retention_days: 30,
        sequence: kiosk_app::runtime::system::DailySequence::starting_after(
            jiff::civil::date(2026, 1, 1),
            0,
        ),
        cards: kiosk_app::io::cards::CardUnit::default(),
        locker: Some(locker.clone()),
        kiosk_id: KIOSK.into(),
        locker_door_alert: Duration::from_mins(2),
        overdue_after_days: 7,
    });
    let (poster, answers) = mailbox(Arc::new(|| {}));
    let io = KioskIo::new(rt.handle().clone(), poster, services);
    let rig = Rig {
        rt,
        store,
        sim,
        locker,
        io,
        answers,
        dir,
    };
    rig.online();
    rig
}

fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sha256_hex(s: &str) -> String {
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

impl Rig {
    fn online(&self) {
        let locker = self.locker.clone();
        self.rt.block_on(async move {
            for _ in 0..100 {
                if locker.status().await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the simulated bank never answered");
        });
    }

    /// Staff loads an application's documents into `compartment` with pickup `code`.
    fn deposit(&self, compartment: &str, code: &str) -> uuid::Uuid {
        let item = uuid::Uuid::now_v7();
        let ready = ReadyApplication {
            application_id: uuid::Uuid::now_v7(),
            case_number: format!("260210-33010601-{}", &compartment[1..2]),
            applicant_masked: "韩**".into(),
            holder_hashes: vec![sha256_hex(FATHER_ID)],
            documents: vec!["出生医学证明".into(), "居民户口簿".into()],
            size: Size::M,
            ready_since_ms: now_ms(),
        };
        self.store
            .locker_begin_deposit(item, &ready, compartment, "S001", now_ms())
            .unwrap();
        self.store
            .locker_opened(item, OpenResult::Opened, now_ms())
            .unwrap();
        self.store
            .locker_closed(item, code, KIOSK, now_ms())
            .unwrap()
            .expect("deposit finished");
        assert_eq!(self.state(item), ItemState::InLocker);
        item
    }

    fn state(&self, item: uuid::Uuid) -> ItemState {
        self.store.locker_item(item).unwrap().unwrap().state
    }

    fn run(&self, effect: LockerEffect) {
        self.io.run(Effect::Locker(effect));
    }

    fn next(&self) -> LockerCompletion {
        match self.answers.recv_timeout(Duration::from_secs(10)) {
            Some(Event::Done {
                completion: Completion::Locker(c),
                ..
            }) => c,
            other => panic!("expected a locker answer, got {other:?}"),
        }
    }

    fn lookup(&self, key: PickupKey) -> PickupLookup {
        self.run(LockerEffect::Lookup {
            session: SESSION,
            key,
        });
        match self.next() {
            LockerCompletion::Looked(Ok(found)) => found,
            other => panic!("expected a look-up, got {other:?}"),
        }
    }

    fn open(&self, item: uuid::Uuid, compartment: &str, actor: Actor) {
        self.run(LockerEffect::Open {
            session: SESSION,
            item,
            compartment: compartment.into(),
            actor,
        });
    }

    fn audit_kinds(&self) -> Vec<(String, String)> {
        self.store
            .audit_tail(200)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.actor))
            .collect()
    }
}

fn code_actor() -> Actor {
    Actor::Resident { masked_id: None }
}

fn card_key() -> PickupKey {
    PickupKey::Card {
        id_number: FATHER_ID.into(),
        name: "韩测试".into(),
    }
}

#[test]
fn a_code_opens_the_door_and_the_pickup_is_recorded_when_it_shuts() {
    let r = rig();
    let item = r.deposit("B1-03", "12345678");
    let PickupLookup::Found(items) = r.lookup(PickupKey::Code("12345678".into())) else {
        panic!("the code finds the item");
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].compartment, "B1-03");
    r.open(item, "B1-03", code_actor());
    match r.next() {
        LockerCompletion::Opened { result, .. } => assert_eq!(result, OpenResult::Opened),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.sim.is_open(1, 3), Some(true), "the sensor says open");
    assert_eq!(r.state(item), ItemState::Collecting);
    r.sim.close(1, 3);
    match r.next() {
        LockerCompletion::Closed { item: closed } => assert_eq!(closed, item),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.state(item), ItemState::Collected);
    assert_eq!(r.sim.unlocks(1, 3), 1);
    let audit = r.audit_kinds();
    assert!(
        audit
            .iter()
            .any(|(k, a)| k.contains("pickup") && a == "resident:code"),
        "{audit:?}"
    );
    assert!(r.store.verify_audit().unwrap().is_ok());
    assert!(
        r.store.outbox_stats().unwrap().pending >= 1,
        "the platform is told"
    );
    // The code is used up.
    assert!(matches!(
        r.lookup(PickupKey::Code("12345678".into())),
        PickupLookup::NotFound { .. }
    ));
}

#[test]
fn wrong_codes_are_limited_then_cooled_down_and_each_refusal_is_audited() {
    let r = rig();
    r.deposit("B1-02", "12345678");
    let limits = CodeLimits::default();
    // Each wrong code says how many tries are left; the last allowed one starts the cool-down.
    for try_ in 1..limits.attempts_per_window {
        match r.lookup(PickupKey::Code("00000000".into())) {
            PickupLookup::NotFound { attempts_left } => {
                assert_eq!(attempts_left, Some(limits.attempts_per_window - try_));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        r.lookup(PickupKey::Code("00000000".into())),
        PickupLookup::CoolDown { .. }
    ));
    // Even the right code waits out the cool-down; the ID card still works.
    assert!(matches!(
        r.lookup(PickupKey::Code("12345678".into())),
        PickupLookup::CoolDown { .. }
    ));
    assert!(matches!(r.lookup(card_key()), PickupLookup::Found(_)));
    let denied = r
        .audit_kinds()
        .iter()
        .filter(|(k, _)| k == "locker.denied")
        .count();
    // Every wrong code and the right one refused during the cool-down.
    assert_eq!(
        denied,
        usize::try_from(limits.attempts_per_window).unwrap() + 1
    );
}

#[test]
fn a_jammed_lock_is_recorded_alerted_and_not_retried() {
    let r = rig();
    let item = r.deposit("B1-04", "22334455");
    r.sim.set_jammed(1, 4, true);
    let PickupLookup::Found(_) = r.lookup(card_key()) else {
        panic!("found by card");
    };
    r.open(
        item,
        "B1-04",
        Actor::Resident {
            masked_id: Some("3604**********0071".into()),
        },
    );
    match r.next() {
        LockerCompletion::Opened { result, .. } => assert_eq!(result, OpenResult::Jammed),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.state(item), ItemState::Jammed);
    assert_eq!(r.sim.unlocks(1, 4), 1, "one unlock, never retried");
    assert!(
        r.store
            .locker_open_alerts()
            .unwrap()
            .iter()
            .any(|a| a.compartment == "B1-04")
    );
    // Until staff have looked, the resident is sent to the window.
    assert_eq!(r.lookup(card_key()), PickupLookup::NeedsStaff);
}

#[test]
fn two_pickups_at_once_on_different_doors() {
    let r = rig();
    let a = r.deposit("B1-05", "11110000");
    let b = r.deposit("B2-02", "22220000");
    r.open(a, "B1-05", code_actor());
    r.open(b, "B2-02", code_actor());
    for _ in 0..2 {
        match r.next() {
            LockerCompletion::Opened { result, .. } => assert_eq!(result, OpenResult::Opened),
            other => panic!("{other:?}"),
        }
    }
    r.sim.close(2, 2);
    r.sim.close(1, 5);
    let mut closed = vec![];
    for _ in 0..2 {
        match r.next() {
            LockerCompletion::Closed { item } => closed.push(item),
            other => panic!("{other:?}"),
        }
    }
    closed.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(closed, both);
    assert_eq!(r.state(a), ItemState::Collected);
    assert_eq!(r.state(b), ItemState::Collected);
}

#[test]
fn a_restart_with_a_door_open_leaves_a_record_of_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let item;
    {
        let r = rig_in(dir);
        item = r.deposit("B1-06", "33445566");
        // The pickup is written down and the door opens; the kiosk stops before it shuts.
        r.store
            .locker_begin(item, Operation::Pickup, &code_actor(), now_ms())
            .unwrap()
            .unwrap();
        let locker = r.locker.clone();
        let outcome =
            r.rt.block_on(async move { locker.open(&CompartmentId::new("B1-06")).await })
                .unwrap();
        r.store
            .locker_opened(item, OpenResult::from(outcome), now_ms())
            .unwrap();
        assert_eq!(r.sim.is_open(1, 6), Some(true));
        // Keep the data: the "restart" opens the same folder.
        let _ = r.dir.keep();
    }
    let store = Store::open(&path).unwrap();
    let marked = store
        .locker_reconcile(&|c| (c == "B1-06").then_some(true), now_ms())
        .unwrap();
    assert_eq!(marked.len(), 1);
    let after = store.locker_item(item).unwrap().unwrap();
    assert_eq!(after.state, ItemState::Check, "staff must look");
    assert!(after.note.is_some(), "the record says what happened");
    assert!(
        store
            .locker_open_alerts()
            .unwrap()
            .iter()
            .any(|a| a.compartment == "B1-06")
    );
    assert!(store.verify_audit().unwrap().is_ok());
    std::fs::remove_dir_all(&path).ok();
}

fn staff_answer(r: &Rig) -> StaffCompletion {
    match r.answers.recv_timeout(Duration::from_secs(20)) {
        Some(Event::Done {
            completion: Completion::Staff(c),
            ..
        }) => c,
        other => panic!("expected a staff answer, got {other:?}"),
    }
}

fn wait_open(r: &Rig, board: u8, lock: u8) {
    for _ in 0..200 {
        if r.sim.is_open(board, lock) == Some(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("door {board}-{lock} never opened");
}

#[test]
fn staff_load_a_compartment_and_recall_it_under_the_same_door_checks() {
    let r = rig();
    let ready = ReadyApplication {
        application_id: uuid::Uuid::now_v7(),
        case_number: "260210-33010601-0099".into(),
        applicant_masked: "韩**".into(),
        holder_hashes: vec![sha256_hex(FATHER_ID)],
        documents: vec!["居民户口簿".into()],
        size: Size::S,
        ready_since_ms: now_ms(),
    };
    r.io.run(Effect::Staff(StaffEffect::Deposit {
        session: SESSION,
        staff: "1001".into(),
        compartment: "B1-07".into(),
        ready: Box::new(ready),
    }));
    wait_open(&r, 1, 7);
    r.sim.close(1, 7);
    match staff_answer(&r) {
        StaffCompletion::Notice(text) => assert!(text.zh.contains("已放入 B1-07"), "{text:?}"),
        other => panic!("{other:?}"),
    }
    let PickupLookup::Found(items) = r.lookup(card_key()) else {
        panic!("the applicant's card finds the deposit");
    };
    assert_eq!(items[0].compartment, "B1-07");
    assert!(
        r.audit_kinds()
            .iter()
            .any(|(k, a)| k.contains("deposit") && a == "staff:1001"),
        "{:?}",
        r.audit_kinds()
    );
    // The resident does not come: staff take it back.
    r.io.run(Effect::Staff(StaffEffect::Recall {
        session: SESSION,
        staff: "1001".into(),
        compartment: "B1-07".into(),
    }));
    wait_open(&r, 1, 7);
    r.sim.close(1, 7);
    match staff_answer(&r) {
        StaffCompletion::Notice(text) => assert!(text.zh.contains("取回"), "{text:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.state(items[0].id), ItemState::Recalled);
    assert!(matches!(
        r.lookup(card_key()),
        PickupLookup::NotFound { .. }
    ));
}

#[test]
fn a_staff_pin_is_checked_against_its_hash_and_locks_after_repeated_failures() {
    let r = rig();
    r.store
        .set_staff_pin("1001", "值班员", "246810", now_ms())
        .unwrap();
    let sign_in = |pin: &str| {
        r.io.run(Effect::Staff(StaffEffect::SignIn {
            session: SESSION,
            id: "1001".into(),
            pin: zeroize::Zeroizing::new(pin.into()),
        }));
        match staff_answer(&r) {
            StaffCompletion::SignedIn(Ok(answer)) => answer,
            other => panic!("{other:?}"),
        }
    };
    assert!(matches!(sign_in("246810"), SignIn::Ok(_)));
    for left in (1..5).rev() {
        assert_eq!(
            sign_in("000000"),
            SignIn::Denied {
                attempts_left: left
            }
        );
    }
    assert!(matches!(sign_in("000000"), SignIn::LockedOut { .. }));
    assert!(
        matches!(sign_in("246810"), SignIn::LockedOut { .. }),
        "even the right PIN waits"
    );
    let denied = r
        .audit_kinds()
        .iter()
        .filter(|(k, _)| k == "staff.signin_denied")
        .count();
    assert_eq!(denied, 6);
}
