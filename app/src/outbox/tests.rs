use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::store::OutboxKind;
use crate::store::tests_support::application;

/// A platform stand-in: records what it received; down for the first `down_for` calls.
#[derive(Default)]
struct Fake {
    calls: AtomicUsize,
    down_for: usize,
    received: Mutex<Vec<(OutboxKind, String)>>,
}

impl Deliver for Arc<Fake> {
    fn deliver(&self, row: OutboxRow, _store: Arc<Store>) -> impl Future<Output = Outcome> + Send {
        let me = self.clone();
        async move {
            let n = me.calls.fetch_add(1, Ordering::SeqCst);
            if n < me.down_for {
                return Outcome::Retry("connection refused".into());
            }
            me.received
                .lock()
                .unwrap()
                .push((row.kind, row.idempotency_key));
            Outcome::Delivered
        }
    }
}

fn fast() -> WorkerOptions {
    WorkerOptions {
        in_flight: 16,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        idle_poll: Duration::from_millis(20),
        rejected_delay: Duration::from_hours(1),
    }
}

fn accept(store: &Store, n: u32, scans: &std::path::Path, with_page: bool) -> String {
    let mut pages = Vec::new();
    if with_page {
        let content = format!("page of {n}");
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content.as_bytes()));
        std::fs::write(scans.join(format!("{sha}.jpg")), content).unwrap();
        pages.push(sha);
    }
    let mut app = application(n, pages);
    app.accepted_at = jiff::Timestamp::now();
    store.accept(&app, scans, 180).unwrap();
    app.id.to_string()
}

async fn drain_all<D: Deliver>(worker: &Worker<D>) {
    for _ in 0..500 {
        if worker.store.outbox_stats().unwrap().pending == 0 {
            return;
        }
        if worker.drain_once().await.unwrap() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    panic!("outbox did not drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// The platform takes pages only for an application it already has (openapi.yaml: "Submit
/// the application first").
async fn delivers_each_submission_before_its_pages_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let scans = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let ids: Vec<String> = (1..=3)
        .map(|n| accept(&store, n, scans.path(), true))
        .collect();
    let fake = Arc::new(Fake::default());
    let worker = Worker::new(store.clone(), fake.clone(), fast());
    drain_all(&worker).await;
    let received = fake.received.lock().unwrap().clone();
    assert_eq!(received.len(), 6);
    for id in &ids {
        let page = received
            .iter()
            .position(|(k, key)| *k == OutboxKind::UploadPage && key.contains(id.as_str()))
            .unwrap();
        let submit = received
            .iter()
            .position(|(k, key)| *k == OutboxKind::SubmitApplication && key == id)
            .unwrap();
        assert!(submit < page, "the submission goes before its pages");
    }
    assert_eq!(
        worker.drain_once().await.unwrap(),
        0,
        "nothing is sent twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_outage_is_retried_with_back_off_then_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let scans = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    accept(&store, 1, scans.path(), false);
    let fake = Arc::new(Fake {
        down_for: 3,
        ..Fake::default()
    });
    let options = WorkerOptions {
        base_delay: Duration::from_millis(300),
        max_delay: Duration::from_millis(300),
        ..fast()
    };
    let worker = Worker::new(store.clone(), fake.clone(), options);
    let state = worker.state();
    worker.drain_once().await.unwrap();
    assert!(!state.borrow().reachable);
    assert_eq!(
        worker.drain_once().await.unwrap(),
        0,
        "the retry waits for its back-off"
    );
    assert_eq!(store.outbox_stats().unwrap().retrying, 1);
    drain_all(&worker).await;
    assert!(state.borrow().reachable);
    assert_eq!(fake.received.lock().unwrap().len(), 1);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_continues_where_the_last_run_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let scans = tempfile::tempdir().unwrap();
    let fake = Arc::new(Fake::default());
    {
        let store = Arc::new(Store::open(dir.path()).unwrap());
        for n in 1..=4 {
            accept(&store, n, scans.path(), false);
        }
        let worker = Worker::new(
            store.clone(),
            fake.clone(),
            WorkerOptions {
                in_flight: 2,
                ..fast()
            },
        );
        worker.drain_once().await.unwrap();
    }
    // The process stopped with two rows delivered; a new process picks up the rest.
    let store = Arc::new(Store::open(dir.path()).unwrap());
    assert_eq!(store.outbox_stats().unwrap().pending, 2);
    let worker = Worker::new(store.clone(), fake.clone(), fast());
    drain_all(&worker).await;
    let mut keys: Vec<String> = fake
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, k)| k.clone())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 4);
    assert_eq!(fake.received.lock().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_queued_applications_drain() {
    // In memory: this test is about the draining, not the disk (see the benchmark).
    let scans = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::in_memory(scans.path()).unwrap());
    for n in 1..=1000 {
        accept(&store, n, scans.path(), false);
    }
    let fake = Arc::new(Fake::default());
    let worker = Worker::new(
        store.clone(),
        fake.clone(),
        WorkerOptions {
            in_flight: 64,
            ..fast()
        },
    );
    drain_all(&worker).await;
    assert_eq!(fake.received.lock().unwrap().len(), 1000);
    assert_eq!(store.outbox_stats().unwrap().delivered, 1000);
}

#[test]
fn retry_delays_double_up_to_the_cap() {
    let o = WorkerOptions {
        base_delay: Duration::from_secs(2),
        max_delay: Duration::from_mins(1),
        ..WorkerOptions::default()
    };
    let d = |a| retry_delay(a, &o);
    assert!(d(0) >= Duration::from_secs(2) && d(0) <= Duration::from_millis(2400));
    assert!(d(3) >= Duration::from_secs(16) && d(3) <= Duration::from_millis(19_200));
    assert!(d(30) >= Duration::from_mins(1) && d(30) <= Duration::from_secs(72));
}
