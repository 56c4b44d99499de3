//! A busy day: residents one after another through mixed journeys on the whole kiosk (every
//! device simulated on the wire, the platform simulator's compressed clock). Reports the
//! resident set size at the start, the middle and the end, the journeys completed and the
//! errors. Not part of the default run (a few minutes in a release build):
//!
//! ```sh
//! BUSY_DAY_RESIDENTS=300 cargo test --release -p kiosk-tests --test busy_day -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use kiosk_tests::WholeKiosk;
use kiosk_ui as ui;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn home(k: &WholeKiosk) {
    if k.screen() != ui::Screen::Home {
        k.tap("回首页");
    }
    k.wait_screen(ui::Screen::Home);
}

fn guide(k: &WholeKiosk) {
    k.tap("办事指南");
    k.tap("出生");
    k.tap("新生儿出生“一件事”");
    k.wait_screen(ui::Screen::GuideView);
    k.tap("打印办事指南");
    k.wait_shows("已打印，请取走");
}

fn progress(k: &WholeKiosk) {
    k.tap("查询办理进度");
    k.tap("刷身份证查询");
    k.present_card("resident_han.json");
    k.wait_until("an answer", Duration::from_secs(20), |k| {
        matches!(
            k.screen(),
            ui::Screen::ProgressResults | ui::Screen::ProgressNotFound
        )
    });
    k.remove_card();
}

fn apply(k: &WholeKiosk) {
    kiosk_tests::apply_with(k, "resident_han.json", |_| {}, |_| {});
    k.wait_shows("受理通知已打印");
}

fn evaluate(k: &WholeKiosk) {
    k.tap("服务评价");
    k.tap("满意");
    k.tap("提交评价");
    k.wait_screen(ui::Screen::EvaluateThanks);
}

#[test]
#[ignore = "a busy day takes minutes; run it by name (see the module comment)"]
fn a_busy_day_keeps_memory_flat() {
    let residents: usize = std::env::var("BUSY_DAY_RESIDENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let k = WholeKiosk::start();
    k.wait_screen(ui::Screen::Home);
    let started = Instant::now();
    let start_rss = rss_kb();
    let mut middle_rss = start_rss;
    let mut done = [0usize; 4];
    let mut errors = 0usize;
    for i in 0..residents {
        let journey = i % 4;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match journey {
                0 => apply(&k),
                1 => guide(&k),
                2 => progress(&k),
                _ => evaluate(&k),
            }
            home(&k);
        }));
        if result.is_ok() {
            done[journey] += 1;
        } else {
            errors += 1;
            k.remove_card();
            home(&k);
        }
        if i == residents / 2 {
            middle_rss = rss_kb();
        }
    }
    let end_rss = rss_kb();
    let delivered = k.kiosk.store.outbox_stats().map_or(0, |s| s.delivered);
    println!(
        "busy day: {residents} residents in {:.0} s; applied {}, guides {}, progress {}, ratings {}; errors {errors}",
        started.elapsed().as_secs_f64(),
        done[0],
        done[1],
        done[2],
        done[3],
    );
    println!(
        "VmRSS: start {start_rss} kB, middle {middle_rss} kB, end {end_rss} kB; outbox rows delivered {delivered}"
    );
    assert_eq!(errors, 0, "every resident got through");
    // Flat: the second half of the day adds no more than a small allowance.
    assert!(
        end_rss <= middle_rss + middle_rss / 10,
        "memory grows with residents: middle {middle_rss} kB, end {end_rss} kB"
    );
}
