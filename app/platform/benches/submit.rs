//! Submissions per second from the client to the simulator over loopback (the goal for
//! the kiosk's outbox drain: at least 500 applications per second). Sequential (one at a time,
//! as a simple outbox worker sends) and with 8 in flight.
//!
//! `cargo bench -p kiosk-platform --bench submit`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;
use kiosk_platform::mask::query_code_hash;
use kiosk_platform::sim::{SimConfig, Simulator};
use kiosk_platform::wire::{
    Applicant, ApplicationSubmission, Delivery, FormValue, IdKind, IdentifiedBy, ItemResult,
    Material, MaterialState, ResultKind, Role, SubmittedItem, ValueSource,
};
use kiosk_platform::{ClientConfig, PlatformClient};
use uuid::Uuid;

/// A realistic birth application: 5 items, 2 applicants, a dozen form fields, 3 materials.
fn template() -> ApplicationSubmission {
    let item = |id: &str, deps: &[&str], kind| SubmittedItem {
        item_id: id.into(),
        name: format!("事项{id}"),
        department: "示例部门".into(),
        time_limit_working_days: 1,
        depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
        result: Some(ItemResult {
            name: "结果".into(),
            kind,
        }),
    };
    let applicant = |role, name: &str, id: &str| Applicant {
        role,
        name: name.into(),
        id_number: id.into(),
        id_kind: IdKind::Resident,
        gender: None,
        birth_date: None,
        nation: Some("汉".into()),
        address: Some("江西省示例市示例县测试镇样例路1号".into()),
        identified_by: IdentifiedBy::IdCard,
    };
    ApplicationSubmission {
        application_id: Uuid::now_v7(),
        application_number: String::new(),
        kiosk_id: "BENCH-99000001".into(),
        one_thing_id: "birth".into(),
        one_thing_name: "出生一件事".into(),
        catalogue_version: Some("1".into()),
        items: vec![
            item("a", &[], ResultKind::Document),
            item("b", &[], ResultKind::Document),
            item("c", &["a"], ResultKind::Document),
            item("d", &["c"], ResultKind::Electronic),
            item("e", &["c", "d"], ResultKind::SocialSecurityCard),
        ],
        applicants: vec![
            applicant(Role::Mother, "韦龘𠮷", "45010220000229008X"),
            applicant(Role::Father, "王测试", "360426199101010071"),
        ],
        form: (0..12)
            .map(|i| {
                (
                    format!("field_{i}"),
                    FormValue {
                        value: format!("值{i}"),
                        source: ValueSource::Typed,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
        materials: vec![
            Material {
                material_id: "form".into(),
                name: "登记表".into(),
                primary: true,
                state: MaterialState::Form,
            },
            Material {
                material_id: "id".into(),
                name: "身份证".into(),
                primary: true,
                state: MaterialState::FromCard { role: None },
            },
            Material {
                material_id: "later".into(),
                name: "其他".into(),
                primary: false,
                state: MaterialState::CommittedLater {
                    deadline: jiff::civil::date(2026, 12, 31),
                },
            },
        ],
        delivery: Delivery::Locker {
            kiosk_id: "BENCH-99000001".into(),
        },
        contact_phone: "13800000000".into(),
        accepted_at: Timestamp::now(),
        due_date: None,
        query_code_sha256: query_code_hash("135790"),
    }
}

/// Requests in flight at once in the concurrent case.
const IN_FLIGHT: usize = 8;

/// A new application: a new id and a new number (the sequence grows past four digits here,
/// which the simulator accepts).
fn fresh(t: &ApplicationSubmission) -> ApplicationSubmission {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut s = t.clone();
    s.application_id = Uuid::now_v7();
    s.application_number = format!(
        "261120-99000001-{:04}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    s
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime
        .block_on(Simulator::start_with("127.0.0.1:0", SimConfig::frozen()))
        .unwrap();
    let client = PlatformClient::new(&ClientConfig::new(sim.url(), "BENCH-99000001")).unwrap();
    let t = template();

    let mut group = c.benchmark_group("submit_application");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential", |b| {
        b.iter_batched(
            || fresh(&t),
            |s| runtime.block_on(client.submit_application(&s)).unwrap(),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("resend_duplicate", |b| {
        let s = fresh(&t);
        runtime.block_on(client.submit_application(&s)).unwrap();
        b.iter(|| {
            let w = runtime.block_on(client.submit_application(&s)).unwrap();
            assert!(!w.first_time);
        });
    });
    group.throughput(Throughput::Elements(IN_FLIGHT as u64));
    group.bench_function("8_in_flight", |b| {
        b.iter_batched(
            || (0..IN_FLIGHT).map(|_| fresh(&t)).collect::<Vec<_>>(),
            |batch| {
                runtime.block_on(async {
                    let mut set = tokio::task::JoinSet::new();
                    for s in batch {
                        let c = client.clone();
                        set.spawn(async move { c.submit_application(&s).await });
                    }
                    while let Some(r) = set.join_next().await {
                        r.unwrap().unwrap();
                    }
                });
            },
            BatchSize::SmallInput,
        );
    });
    // The same, against a simulator that journals every op to a state file.
    let dir = tempfile::tempdir().unwrap();
    let journaled = runtime
        .block_on(Simulator::start_with(
            "127.0.0.1:0",
            SimConfig {
                state_file: Some(dir.path().join("platform-sim.jsonl")),
                ..SimConfig::frozen()
            },
        ))
        .unwrap();
    let journaled_client =
        PlatformClient::new(&ClientConfig::new(journaled.url(), "BENCH-99000001")).unwrap();
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential_with_state_file", |b| {
        b.iter_batched(
            || fresh(&t),
            |s| {
                runtime
                    .block_on(journaled_client.submit_application(&s))
                    .unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
    let stats = sim.stats().applications;
    assert_eq!(stats.conflicts + stats.rejected, 0);
    eprintln!(
        "simulator counted {} distinct applications, {} duplicates",
        stats.distinct, stats.duplicates
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
