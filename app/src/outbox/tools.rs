//! Outbox commands for technicians and tests: deliver everything now (`kiosk outbox drain`)
//! and a load test that accepts many applications and drains them, measuring both
//! (`kiosk outbox load-test`). They use the same store, worker and platform client as the
//! running kiosk.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::{Worker, WorkerOptions, blocking};
use crate::catalogue::{Catalogue, Delivery};
use crate::domain::application::{
    Application, FormValue, MaterialRecord, MaterialState, ValueSource, application_number,
    hash_query_code,
};
use crate::domain::person::Person;
use crate::platform::PlatformDeliver;
use crate::store::Store;

/// A realistic accepted birth application (fictitious people from the simulator's cards).
pub fn sample_application(
    kiosk_id: &str,
    day: jiff::civil::Date,
    sequence: u32,
    at: jiff::Timestamp,
) -> Application {
    let person = |name: &str, id: &str, gender: &str| Person {
        name: name.into(),
        id_number: id.into(),
        gender: gender.into(),
        nation: Some("汉".into()),
        birth_date: jiff::civil::date(1991, 1, 1),
        address: Some("江西省示例市示例县测试镇样例路1号".into()),
        issuing_authority: Some("示例县公安局".into()),
        verified_by: "card".into(),
    };
    let typed = |v: &str| FormValue {
        value: v.into(),
        source: ValueSource::Typed,
    };
    Application {
        id: uuid::Uuid::now_v7(),
        number: application_number(day, kiosk_id, sequence),
        kiosk_id: kiosk_id.into(),
        window: "自助终端 1 号".into(),
        one_thing_id: "newborn".into(),
        situations: vec![],
        answers: [("settle-with".to_owned(), "father".to_owned())].into(),
        items: [
            "birth-certificate",
            "vaccination-certificate",
            "household-registration",
            "medical-insurance-enrolment",
            "social-security-card",
        ]
        .map(String::from)
        .to_vec(),
        applicants: vec![
            (
                "father".into(),
                person("王测试", "360426199101010071", "male"),
            ),
            (
                "mother".into(),
                person("李样例", "11010519491231002X", "female"),
            ),
        ],
        form: [
            ("child.name".to_owned(), typed("王小样")),
            ("contact.phone".to_owned(), typed("13800138000")),
        ]
        .into(),
        materials: vec![
            MaterialRecord {
                id: "registration-form".into(),
                state: MaterialState::MergedForm,
            },
            MaterialRecord {
                id: "father-id-card".into(),
                state: MaterialState::FromCard {
                    person: "father".into(),
                },
            },
            MaterialRecord {
                id: "mother-id-card".into(),
                state: MaterialState::FromCard {
                    person: "mother".into(),
                },
            },
            MaterialRecord {
                id: "household-register".into(),
                state: MaterialState::Shared {
                    dataset: "household-register".into(),
                },
            },
        ],
        delivery: Delivery::Locker,
        mailing_address: None,
        contact_phone: Some("13800138000".into()),
        accepted_at: at,
        due_date: None,
        time_limit_days: 4,
        query_code_hash: hash_query_code("424242"),
    }
}

pub struct Target {
    pub store: Arc<Store>,
    pub client: Arc<kiosk_platform::PlatformClient>,
    pub catalogue: Arc<Catalogue>,
}

impl Target {
    pub fn open(
        data_dir: &Path,
        platform_url: &str,
        kiosk_id: &str,
        catalogue: Catalogue,
    ) -> anyhow::Result<Target> {
        let store = Arc::new(
            Store::open(data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?,
        );
        let client = Arc::new(kiosk_platform::PlatformClient::new(
            &kiosk_platform::ClientConfig::new(platform_url.to_owned(), kiosk_id.to_owned()),
        )?);
        Ok(Target {
            store,
            client,
            catalogue: Arc::new(catalogue),
        })
    }

    fn worker(&self, in_flight: usize) -> Worker<PlatformDeliver> {
        let options = WorkerOptions {
            in_flight,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            ..WorkerOptions::default()
        };
        Worker::new(
            self.store.clone(),
            PlatformDeliver {
                client: self.client.clone(),
                catalogue: self.catalogue.clone(),
            },
            options,
        )
    }

    /// Delivers until nothing is due; gives up after `patience` without progress.
    pub async fn drain(&self, in_flight: usize, patience: Duration) -> anyhow::Result<u64> {
        let worker = self.worker(in_flight);
        let mut idle_since = Instant::now();
        loop {
            let store = self.store.clone();
            let pending = blocking(move || store.outbox_stats()).await?.pending;
            if pending == 0 {
                let store = self.store.clone();
                return Ok(blocking(move || store.outbox_stats()).await?.delivered);
            }
            if worker.drain_once().await? > 0 {
                idle_since = Instant::now();
            } else if idle_since.elapsed() > patience {
                anyhow::bail!(
                    "{pending} row(s) could not be delivered (is the platform reachable?)"
                );
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// What a load test measured.
#[derive(Debug, serde::Serialize)]
pub struct LoadReport {
    pub accepted: u32,
    pub accept_p50_ms: f64,
    pub accept_p99_ms: f64,
    pub accept_max_ms: f64,
    pub drain_seconds: f64,
    pub delivered_per_second: f64,
}

/// Accepts `count` applications one by one (each a durable transaction), then drains the
/// outbox to the platform.
pub async fn load_test(
    target: &Target,
    kiosk_id: &str,
    count: u32,
    in_flight: usize,
) -> anyhow::Result<LoadReport> {
    let now = jiff::Timestamp::now();
    let day = now
        .to_zoned(crate::runtime::system::centre_time_zone())
        .date();
    let prefix = day.strftime("%y%m%d").to_string();
    let store = target.store.clone();
    let first = blocking(move || store.max_sequence(&prefix)).await? + 1;
    let scans = tempfile_dir()?;
    let mut times = Vec::with_capacity(count as usize);
    for i in 0..count {
        let app = sample_application(kiosk_id, day, first + i, jiff::Timestamp::now());
        let store = target.store.clone();
        let dir = scans.clone();
        let started = Instant::now();
        blocking(move || store.accept(&app, &dir, 180)).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let started = Instant::now();
    target.drain(in_flight, Duration::from_secs(30)).await?;
    let drain = started.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    // The value at `permille` of the sorted latencies (nearest rank).
    let at = |permille: usize| {
        let index = (times.len().saturating_sub(1) * permille + 500) / 1000;
        times.get(index).copied().unwrap_or(0.0)
    };
    Ok(LoadReport {
        accepted: count,
        accept_p50_ms: at(500),
        accept_p99_ms: at(990),
        accept_max_ms: times.last().copied().unwrap_or(0.0),
        drain_seconds: drain,
        delivered_per_second: f64::from(count) / drain.max(1e-9),
    })
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("kiosk-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
