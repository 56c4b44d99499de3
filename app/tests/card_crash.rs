//! Crash tests of card issuing: a real `kiosk card issue` process is killed with SIGKILL at
//! each step in turn (before and after each step's store write and device action), then
//! `kiosk card recover` runs as a new process, as the kiosk does at start-up. The dispenser
//! simulator and the platform simulator run as their own processes, as real hardware and the
//! real platform outlive a crashed kiosk, so the restarted kiosk finds the card where the
//! killed one left it.
//!
//! Checked each time: the recorded outcome of the interrupted attempt and where its card
//! ended up, that no attempt is left unfinished, that the dispenser holds no card and its
//! reject bin exactly the captured ones, that the platform received exactly one result per
//! attempt, and that the resident can then try again with a new card.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_app::store::{AttemptState, CardPlace, Store};
use kiosk_platform::sim::admin::SimAdminClient;

const KIOSK: &str = env!("CARGO_BIN_EXE_kiosk");
/// 韦龘𠮷 (`resources/sim/idcard/resident_rare_name.json`): eligible for her own card.
const HOLDER: &str = "45010220000229008X";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads `child`'s stderr until a line contains `needle`; the rest of it is drained in the
/// background so the child never writes into a closed pipe.
fn wait_for_line(child: &mut Child, needle: &str) {
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr piped")).lines();
    let deadline = Instant::now() + Duration::from_secs(90);
    for line in stderr.by_ref() {
        let line = line.expect("stderr line");
        if line.contains(needle) {
            std::thread::spawn(move || stderr.for_each(drop));
            return;
        }
        assert!(Instant::now() < deadline, "never saw {needle:?}");
    }
    panic!("the process ended before {needle:?}");
}

struct Rig {
    dir: tempfile::TempDir,
    url: String,
    _platform: Proc,
    _dispenser: Proc,
}

impl Rig {
    fn start(resident: bool) -> Rig {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut platform = Command::new(KIOSK)
            .args(["platform-sim", "--listen", "127.0.0.1:0", "--state-file"])
            .arg(dir.path().join("platform.json"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("platform simulator");
        let mut line = String::new();
        BufReader::new(platform.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("platform URL");
        let json: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        let url = json["url"].as_str().expect("url").to_owned();
        let mut dispenser = Command::new(KIOSK);
        dispenser
            .args(["sim", "dispenser", "--hopper", "20", "--link"])
            .arg(dir.path().join("ttyCRT"));
        if resident {
            dispenser.args(["--take-after-ms", "300"]);
        }
        let mut dispenser = dispenser
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dispenser simulator");
        wait_for_line(&mut dispenser, "dispenser simulator on");
        Rig {
            dir,
            url,
            _platform: Proc(platform),
            _dispenser: Proc(dispenser),
        }
    }

    fn tty(&self) -> PathBuf {
        self.dir.path().join("ttyCRT")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn card(&self, action: &str) -> Command {
        let mut c = Command::new(KIOSK);
        c.args(["card", action, "--config"])
            .arg(repo().join("config/kiosk.toml"))
            .arg("--resources")
            .arg(repo().join("resources"))
            .arg("--data-dir")
            .arg(self.data())
            .arg("--dispenser")
            .arg(self.tty())
            .args(["--platform", &self.url]);
        c
    }

    fn issue(&self, take_timeout: Option<u64>) -> Command {
        let mut c = self.card("issue");
        c.args(["--id-number", HOLDER]);
        if let Some(t) = take_timeout {
            c.args(["--take-timeout", &t.to_string()]);
        }
        c
    }

    fn recover(&self) -> serde_json::Value {
        run_json(self.card("recover"))
    }

    /// The dispenser's status as the technician command reads it.
    fn dispenser(&self) -> serde_json::Value {
        let mut c = Command::new(KIOSK);
        c.args(["device", "dispenser", "--port"])
            .arg(self.tty())
            .arg("status");
        run_json(c)
    }

    fn store(&self) -> Store {
        Store::open(&self.data()).expect("store")
    }

    fn card_results(&self) -> u64 {
        let admin = SimAdminClient::new(&self.url).expect("admin");
        let stats = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(admin.stats())
            .expect("stats");
        assert_eq!(stats.card_results.conflicts, 0);
        stats.card_results.distinct
    }
}

/// Runs `command` until it pauses at `point`, then kills it with SIGKILL.
fn kill_at(mut command: Command, point: &str) {
    let mut child = command
        .env("KIOSK_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kiosk");
    wait_for_line(&mut child, &format!("paused at {point}"));
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

fn run_json(mut command: Command) -> serde_json::Value {
    let out = command.output().expect("kiosk");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text} / {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[derive(Clone, Copy)]
struct Case {
    point: &'static str,
    /// A resident takes the card 300 ms after it reaches the gate.
    resident: bool,
    take_timeout: Option<u64>,
    /// The interrupted attempt as recovery leaves it: `None` when none was recorded.
    expect: Option<(AttemptState, CardPlace, &'static str)>,
}

const fn case(point: &'static str, place: CardPlace) -> Case {
    Case {
        point,
        resident: false,
        take_timeout: None,
        expect: Some((AttemptState::Failed, place, "interrupted")),
    }
}

fn cases() -> Vec<Case> {
    use CardPlace::{Hopper, Missing, RejectBin};
    let mut all = vec![Case {
        point: "card.begin.before-store",
        resident: false,
        take_timeout: None,
        expect: None,
    }];
    all.push(case("card.begin.after-store", Hopper));
    all.push(case("card.dispense.before-store", Hopper));
    all.push(case("card.dispense.after-store", Hopper));
    for step in ["dispense", "personalise", "print", "present"] {
        for at in ["after-device", "after-done"] {
            all.push(case(leak(format!("card.{step}.{at}")), RejectBin));
        }
    }
    for step in ["personalise", "print", "present"] {
        for at in ["before-store", "after-store"] {
            all.push(case(leak(format!("card.{step}.{at}")), RejectBin));
        }
    }
    // The resident takes the card while the kiosk is down, or before it could record it:
    // the card is gone, recorded as missing (probably taken) and staff are alerted.
    for point in [
        "card.present.after-device",
        "card.taken.before-store",
        "card.finish.before-commit",
    ] {
        all.push(Case {
            resident: true,
            ..case(point, Missing)
        });
    }
    // Not taken in time: crashes around the capture.
    for point in [
        "card.capture.before-store",
        "card.capture.after-store",
        "card.capture.after-device",
    ] {
        all.push(Case {
            take_timeout: Some(1),
            ..case(point, RejectBin)
        });
    }
    all.push(Case {
        point: "card.capture.after-done",
        resident: false,
        take_timeout: Some(1),
        expect: Some((AttemptState::Failed, RejectBin, "not taken")),
    });
    all
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn check_case(c: Case) {
    let rig = Rig::start(c.resident);
    kill_at(rig.issue(c.take_timeout), c.point);
    if c.resident {
        // The card at the gate is taken while nobody records it.
        let deadline = Instant::now() + Duration::from_secs(30);
        while rig.dispenser()["card_position"] != "none" {
            assert!(
                Instant::now() < deadline,
                "{}: the resident never took the card",
                c.point
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let recovery = rig.recover();
    let store = rig.store();
    assert!(
        store.open_card_attempt().expect("read").is_none(),
        "{}: an attempt is left unfinished",
        c.point
    );
    let attempts = store.card_attempts(10).expect("attempts");
    match c.expect {
        None => assert!(attempts.is_empty(), "{}: {attempts:?}", c.point),
        Some((state, place, reason)) => {
            let [a] = attempts.as_slice() else {
                panic!("{}: {attempts:?}", c.point)
            };
            assert_eq!(
                (a.state, a.position),
                (state, place),
                "{}: {recovery} {a:?}",
                c.point
            );
            assert!(
                a.reason.as_deref().is_some_and(|r| r.contains(reason)),
                "{}: {a:?}",
                c.point
            );
            if place == CardPlace::Missing {
                let alerts = store.staff_alerts(10).expect("alerts");
                assert!(
                    alerts.iter().any(|x| x.kind == "card.missing"),
                    "{}: staff not alerted",
                    c.point
                );
            }
        }
    }
    let captured = |store: &Store| {
        store
            .card_attempts(10)
            .expect("attempts")
            .iter()
            .filter(|a| a.position == CardPlace::RejectBin)
            .count()
    };
    let status = rig.dispenser();
    assert_eq!(status["card_position"], "none", "{}: {status}", c.point);
    assert_eq!(
        status["reject_bin_count"].as_u64(),
        Some(captured(&store) as u64),
        "{}: {status}",
        c.point
    );
    drop(store);

    // The resident tries again: a new card, a new record.
    // Without a resident the new card is not taken either (captured after a second).
    let timeout = if c.resident { None } else { Some(1) };
    let retry = run_json(rig.issue(timeout));
    let expected = if c.resident { "issued" } else { "failed" };
    assert_eq!(retry["outcome"], expected, "{}: retry {retry}", c.point);
    let store = rig.store();
    let attempts = store.card_attempts(10).expect("attempts");
    assert_eq!(
        attempts.len(),
        usize::from(c.expect.is_some()) + 1,
        "{}: {attempts:?}",
        c.point
    );
    assert!(attempts.iter().all(|a| a.state != AttemptState::Open));
    assert_eq!(
        store.outbox_stats().expect("outbox").pending,
        0,
        "{}: results not delivered",
        c.point
    );
    assert_eq!(
        rig.card_results(),
        attempts.len() as u64,
        "{}: one result per card at the platform",
        c.point
    );
    let status = rig.dispenser();
    assert_eq!(status["card_position"], "none");
    assert_eq!(
        status["reject_bin_count"].as_u64(),
        Some(captured(&store) as u64),
        "{}",
        c.point
    );
}

#[test]
fn a_crash_at_any_step_loses_no_card_and_the_resident_can_retry() {
    let all = cases();
    // A few rigs at a time: each is three processes.
    for chunk in all.chunks(4) {
        std::thread::scope(|s| {
            for c in chunk {
                s.spawn(move || check_case(*c));
            }
        });
    }
}

#[test]
fn a_crash_during_recovery_is_recovered_by_the_next_start() {
    let rig = Rig::start(false);
    kill_at(rig.issue(None), "card.print.after-store");
    kill_at(rig.card("recover"), "card.recover.before-capture");
    let recovery = rig.recover();
    assert_eq!(recovery["recovery"]["action"], "captured", "{recovery}");
    let store = rig.store();
    let attempts = store.card_attempts(10).expect("attempts");
    let [a] = attempts.as_slice() else {
        panic!("{attempts:?}")
    };
    assert_eq!(
        (a.state, a.position),
        (AttemptState::Failed, CardPlace::RejectBin)
    );
    assert_eq!(a.reason.as_deref(), Some("interrupted"));
    assert_eq!(rig.dispenser()["reject_bin_count"].as_u64(), Some(1));
}

#[test]
fn an_uninterrupted_run_issues_the_card_and_reports_it() {
    let rig = Rig::start(true);
    let report = run_json(rig.issue(None));
    assert_eq!(report["outcome"], "issued", "{report}");
    assert_eq!(report["attempt"]["position"], "taken");
    assert_eq!(report["attempt"]["holder_masked"], "4501**********008X");
    assert!(
        !report.to_string().contains(HOLDER),
        "no ID number in the output"
    );
    assert_eq!(rig.card_results(), 1);
    // The face was printed (by the simulator, as a PNG).
    let faces: Vec<_> = std::fs::read_dir(rig.data().join("simulators/card-printer"))
        .expect("faces")
        .collect();
    assert_eq!(faces.len(), 1);
    // The platform now knows the card: a second request is refused as already issued.
    let again = run_json(rig.issue(None));
    assert_eq!(again["outcome"], "not-now", "{again}");
}
