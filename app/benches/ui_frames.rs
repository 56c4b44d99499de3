//! Screen speed with the software renderer at the configured resolution (1080 × 1920), no
//! display: the time from process start to the first rendered frame of the home screen, the
//! resident set size after it, then a full repaint of each screen (criterion).
//!
//! `cargo bench -p kiosk-app --bench ui_frames` (release profile). The first lines printed
//! are the start-up figures; criterion's table follows.

#![allow(clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use criterion::Criterion;
use kiosk_app::check::load_all;
use kiosk_app::screens::HeadlessKiosk;
use kiosk_app::ui_bridge::run::{proc_status, process_age};

fn main() {
    let started = Instant::now();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let loaded = load_all(&repo.join("config/kiosk.toml")).expect("configuration");
    let kiosk =
        HeadlessKiosk::new(loaded, repo.join("resources/sim/idcard")).expect("headless kiosk");
    let (w, h) = kiosk.size();
    let mut buffer = vec![slint::Rgb8Pixel::default(); (w * h) as usize];
    kiosk.show("home", false, false).expect("home");
    kiosk.repaint(&mut buffer);
    let since_main = started.elapsed();
    println!(
        "first frame (home, zh, {w}x{h}): {:.1} ms after main, {} after exec; VmRSS {} kB, VmHWM {} kB",
        since_main.as_secs_f64() * 1000.0,
        process_age().map_or("?".to_owned(), |d| format!("{} ms", d.as_millis())),
        proc_status("VmRSS:").unwrap_or(0),
        proc_status("VmHWM:").unwrap_or(0),
    );

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("full_repaint_1080x1920");
    for name in [
        "home",
        "apply-notice",
        "apply-identify",
        "apply-form",
        "apply-form-keyboard",
        "apply-materials-scanned",
        "apply-accepted-print-failed",
        "progress-results",
        "guide-view",
        "evaluate",
        "idle-warning",
        "staff",
    ] {
        for (english, elder) in [(false, false), (false, true), (true, false)] {
            kiosk.show(name, english, elder).expect("screen");
            kiosk.repaint(&mut buffer);
            let id = format!(
                "{name}-{}{}",
                if english { "en" } else { "zh" },
                if elder { "-elder" } else { "" }
            );
            group.bench_function(id, |b| b.iter(|| kiosk.repaint(&mut buffer)));
        }
    }
    group.finish();
    c.final_summary();
    println!(
        "after all screens: VmRSS {} kB, VmHWM {} kB",
        proc_status("VmRSS:").unwrap_or(0),
        proc_status("VmHWM:").unwrap_or(0),
    );
}
