//! Shared helpers for the integration tests: sample cards, short deadlines, and a driver
//! connected to a simulator over an in-memory link or a real pseudo-terminal.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kiosk_idcard::handle::Options;
use kiosk_idcard::sim::{SimCard, SimControl, SimOptions, Simulator};
use kiosk_idcard::{Driver, Timeouts};
use kiosk_link::memory;
use kiosk_link::serial::SerialLink;

/// Short deadlines so that "no reply" tests stay fast.
pub const SHORT: Duration = Duration::from_millis(150);

pub fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../resources/sim/idcard")
}

pub fn sample_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

pub fn card(name: &str) -> SimCard {
    SimCard::from_file(&samples_dir().join(format!("{name}.json"))).unwrap()
}

pub fn sample_json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(samples_dir().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn timeouts() -> Timeouts {
    Timeouts::uniform(SHORT)
}

/// How the driver reaches the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Memory,
    Pty,
}

/// A driver talking to a simulator; keeps the temp dir of a pty alive.
pub struct Rig {
    pub sim: SimControl,
    pub driver: Driver,
    pub path: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

pub fn rig(via: Via, options: SimOptions) -> Rig {
    match via {
        Via::Memory => {
            let (driver_end, device_end) = memory::pair();
            let sim = Simulator::spawn_on_link(Box::new(device_end), options);
            Rig {
                sim,
                driver: Driver::new(Box::new(driver_end), timeouts()),
                path: None,
                _dir: None,
            }
        }
        Via::Pty => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ttyIDCARD");
            let sim = Simulator::spawn_on_pty(&path, options).unwrap();
            let link = SerialLink::open(&path, 115_200).unwrap();
            Rig {
                sim,
                driver: Driver::new(Box::new(link), timeouts()),
                path: Some(path),
                _dir: Some(dir),
            }
        }
    }
}

/// Device-task options with fast polling and reconnects.
pub fn fast_options() -> Options {
    Options {
        timeouts: timeouts(),
        poll_interval: Duration::from_millis(10),
        reconnect_initial: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(100),
        ..Options::default()
    }
}

/// Waits for a condition, polling.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The keys `kiosk device idcard read` prints, and their values in a sample file.
pub const CLI_KEYS: [&str; 12] = [
    "card_type",
    "name",
    "gender",
    "nation",
    "birth_date",
    "address",
    "id_number",
    "issuing_authority",
    "valid_from",
    "valid_until",
    "name_en",
    "nationality",
];

/// Checks an identity's JSON against the sample file it came from.
pub fn assert_matches_sample(identity_json: &serde_json::Value, sample: &serde_json::Value) {
    let obj = identity_json.as_object().unwrap();
    for key in obj.keys() {
        assert!(CLI_KEYS.contains(&key.as_str()), "unexpected key {key}");
    }
    for key in &CLI_KEYS[..10] {
        assert!(obj.contains_key(*key), "missing key {key}");
    }
    for key in CLI_KEYS {
        if let Some(expected) = sample.get(key) {
            let got = &obj[key];
            // The CLI prints X upper case; files are written that way too.
            assert_eq!(got, expected, "{key}");
        }
    }
    let foreign = sample["card_type"] == "foreign_permanent";
    assert_eq!(obj.contains_key("name_en"), foreign);
    assert_eq!(obj.contains_key("nationality"), foreign);
}
