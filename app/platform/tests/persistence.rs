//! The optional state file: a restarted simulator keeps its state (for kiosk crash tests).

// Helpers of an integration test are test code: they may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::too_many_lines)]

mod common;

use std::io::Write;

use common::*;
use kiosk_platform::sim::{SimConfig, Simulator};
use kiosk_platform::wire::{ItemState, ProgressByCodeRequest};

fn config(path: &std::path::Path) -> SimConfig {
    SimConfig {
        state_file: Some(path.to_owned()),
        ..SimConfig::frozen()
    }
}

#[tokio::test]
async fn a_restarted_simulator_keeps_applications_counts_and_clock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform-sim.jsonl");
    let s = birth_submission();
    let receipt = {
        let sim = Simulator::start_with("127.0.0.1:0", config(&path))
            .await
            .unwrap();
        let c = client(&sim);
        let r = c.submit_application(&s).await.unwrap().body;
        c.submit_application(&s).await.unwrap();
        sim.advance_days(1.0);
        sim.shutdown().await;
        r
    };
    let sim = Simulator::start_with("127.0.0.1:0", config(&path))
        .await
        .unwrap();
    let c = client(&sim);
    let stats = sim.stats();
    assert_eq!(
        (stats.applications.distinct, stats.applications.duplicates),
        (1, 1)
    );
    assert!((stats.clock.working_days_elapsed - 1.0).abs() < 1e-9);
    // The resent application is still the same one.
    let again = c.submit_application(&s).await.unwrap();
    assert!(!again.first_time);
    assert_eq!(again.body, receipt);
    let p = c
        .progress_by_code(&ProgressByCodeRequest {
            application_number: s.application_number.clone(),
            query_code: QUERY_CODE.into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        p.applications[0].items[0].state,
        ItemState::Done { .. }
    ));
    assert_eq!(sim.stats().applications.distinct, 1);
    // Its number is still taken.
    let mut reused = birth_submission();
    reused.application_number = s.application_number.clone();
    assert!(matches!(
        c.submit_application(&reused).await.unwrap_err(),
        kiosk_platform::PlatformError::Conflict { .. }
    ));
}

#[tokio::test]
async fn a_line_torn_by_a_kill_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform-sim.jsonl");
    {
        let sim = Simulator::start_with("127.0.0.1:0", config(&path))
            .await
            .unwrap();
        client(&sim)
            .submit_application(&birth_submission())
            .await
            .unwrap();
        sim.shutdown().await;
    }
    // A kill in the middle of writing the next op.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"{\"op\":\"submit\",\"key\":\"0190").unwrap();
    drop(f);
    let sim = Simulator::start_with("127.0.0.1:0", config(&path))
        .await
        .unwrap();
    assert_eq!(sim.stats().applications.distinct, 1);
    client(&sim)
        .submit_application(&birth_submission())
        .await
        .unwrap();
    sim.shutdown().await;
    let sim = Simulator::start_with("127.0.0.1:0", config(&path))
        .await
        .unwrap();
    assert_eq!(sim.stats().applications.distinct, 2);
}

#[tokio::test]
async fn a_state_file_of_another_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform-sim.jsonl");
    std::fs::write(
        &path,
        "{\"journal\":\"kiosk-platform-sim\",\"version\":1,\"epoch\":\"2026-11-20T00:00:00Z\"}\n",
    )
    .unwrap();
    let err = Simulator::start_with("127.0.0.1:0", config(&path))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has format 1"), "{err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello\n").unwrap();
    let err = Simulator::start_with("127.0.0.1:0", config(&path))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not a platform simulator state file"),
        "{err}"
    );
}
