//! Crash tests: a real `kiosk` process is killed with SIGKILL at each point between accepting
//! an application and its delivery, restarted, and the platform (a separate simulator process
//! with a state file, as the real platform outlives a kiosk) must count every accepted
//! application exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_platform::sim::admin::SimAdminClient;

const KIOSK: &str = env!("CARGO_BIN_EXE_kiosk");

fn config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config/kiosk.toml")
        .display()
        .to_string()
}

/// The platform simulator as its own process; killed when dropped.
struct Platform {
    child: Child,
    url: String,
}

impl Platform {
    fn start(state: &Path) -> Platform {
        let mut child = Command::new(KIOSK)
            .args([
                "platform-sim",
                "--listen",
                "127.0.0.1:0",
                "--day-length",
                "0",
                "--state-file",
            ])
            .arg(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        Platform {
            child,
            url: json["url"].as_str().unwrap().to_owned(),
        }
    }

    fn stats(&self) -> kiosk_platform::wire::SimStats {
        let admin = SimAdminClient::new(&self.url).unwrap();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(admin.stats())
            .unwrap()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `kiosk outbox load-test` until it pauses at `point`, then kills it with SIGKILL.
fn kill_at(point: &str, data: &Path, platform: &str, count: u32) {
    let mut child = Command::new(KIOSK)
        .args([
            "outbox",
            "load-test",
            "--config",
            &config(),
            "--platform",
            platform,
            "--count",
            &count.to_string(),
            "--data-dir",
        ])
        .arg(data)
        .env("KIOSK_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_mins(1);
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains(&format!("paused at {point}")) {
            break;
        }
        assert!(Instant::now() < deadline, "never reached {point}");
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn drain(data: &Path, platform: &str) {
    let out = Command::new(KIOSK)
        .args([
            "outbox",
            "drain",
            "--config",
            &config(),
            "--platform",
            platform,
            "--data-dir",
        ])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "drain failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn accepted_in_store(data: &Path) -> u64 {
    let store = kiosk_app::store::Store::open(data).unwrap();
    assert_eq!(
        store.outbox_stats().unwrap().pending,
        0,
        "everything delivered"
    );
    store.application_count().unwrap()
}

#[test]
fn killed_at_every_point_between_accept_and_delivery_each_application_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(&dir.path().join("platform.state"));
    let data = dir.path().join("kiosk");
    let mut expected_min = 0;
    for (i, point) in [
        "accept.before-commit",
        "accept.after-commit",
        "outbox.after-send",
        "outbox.after-mark",
    ]
    .iter()
    .enumerate()
    {
        kill_at(point, &data, &platform.url, 3);
        // Restart: the kiosk delivers what it had accepted before the crash.
        drain(&data, &platform.url);
        let accepted = accepted_in_store(&data);
        let stats = platform.stats().applications;
        assert_eq!(
            stats.distinct, accepted,
            "after a kill at {point}: the platform has each accepted application once"
        );
        assert_eq!(stats.conflicts, 0);
        assert!(
            accepted >= expected_min,
            "{point}: nothing accepted was lost"
        );
        expected_min = accepted;
        eprintln!(
            "kill {i} at {point}: accepted {accepted}, platform distinct {}, duplicates {}",
            stats.distinct, stats.duplicates
        );
    }
    // A kill after sending but before recording it makes the platform see a repeat, which it
    // recognises by its idempotency key.
    assert!(platform.stats().applications.duplicates >= 1);
}

#[test]
fn the_platform_down_for_a_while_then_back_gets_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let state = dir.path().join("platform.state");
    // Accept with the platform unreachable (nothing listens on this port).
    let out = Command::new(KIOSK)
        .args([
            "outbox",
            "drain",
            "--config",
            &config(),
            "--platform",
            "http://127.0.0.1:9",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "an empty outbox drains even with the platform down"
    );
    kill_at("outbox.after-send", &data, "http://127.0.0.1:9", 5);
    let store_count = accepted_in_store_pending(&data);
    assert!(
        store_count > 0,
        "applications were accepted while the platform was down"
    );
    let platform = Platform::start(&state);
    drain(&data, &platform.url);
    assert_eq!(
        platform.stats().applications.distinct,
        accepted_in_store(&data)
    );
}

fn accepted_in_store_pending(data: &Path) -> u64 {
    kiosk_app::store::Store::open(data)
        .unwrap()
        .application_count()
        .unwrap()
}
