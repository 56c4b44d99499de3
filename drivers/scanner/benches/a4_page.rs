//! One A4 page at 300 dpi from SANE's `test` backend to a stored JPEG and thumbnail: wall
//! time and peak memory.
//!
//! Run: `cargo bench -p kiosk-scanner --bench a4_page` (release profile). It prints, per mode:
//! - `backend read`: start + read the whole frame and discard it (the backend's own time to
//!   generate and pipe the page; not our processing);
//! - `scan to store`: the full path (configure, read, line assembly, JPEG encode, thumbnail,
//!   SHA-256, write, fsync, rename);
//! - `our processing` = scan to store − backend read (medians);
//! - `encode only`: the same page from memory through the store (our processing alone);
//! - peak RSS (`VmHWM` from /proc/self/status) measured right after the scans, before the
//!   in-memory page used by `encode only` is allocated.

// A benchmark: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use kiosk_scanner::encode::{MemoryRows, PageGeometry};
use kiosk_scanner::sim::{self, TestPicture};
use kiosk_scanner::{
    CancelToken, ColorMode, EncodeOptions, PageSize, PageStore, ScanSettings, Scanner, Source,
};

const RUNS: usize = 9;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    sim::use_test_backend(&sim::repo_config_dir()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let encode = EncodeOptions::default();
    let mut scanner = Scanner::open("test:0").unwrap();
    scanner.set_test_picture(TestPicture::Grid).unwrap();
    println!("A4 (210 x 297 mm) at 300 dpi from SANE's test backend, {RUNS} runs each, medians");
    let mut results = Vec::new();
    for mode in [ColorMode::Gray, ColorMode::Color] {
        let settings = ScanSettings {
            dpi: 300,
            mode,
            source: Source::Flatbed,
            page: PageSize::A4,
            max_pages: 1,
        };
        let mut read = Vec::new();
        let mut full = Vec::new();
        let mut page = None;
        for _ in 0..RUNS {
            let t = Instant::now();
            let bytes = scanner.read_frame_discarding(&settings).unwrap();
            read.push(t.elapsed());
            assert!(bytes > 0);
            let t = Instant::now();
            let pages = scanner
                .scan(&settings, &store, &encode, &CancelToken::new(), &mut |_| {})
                .unwrap();
            full.push(t.elapsed());
            page = pages.into_iter().next();
        }
        let page = page.unwrap();
        let (read, full) = (median(read), median(full));
        println!(
            "{mode}: {}x{} px, JPEG {} KiB, thumbnail {}x{}",
            page.width,
            page.height,
            page.bytes / 1024,
            page.thumbnail_width,
            page.thumbnail_height
        );
        println!("  backend read      {:8.1} ms", ms(read));
        println!("  scan to store     {:8.1} ms", ms(full));
        println!(
            "  our processing    {:8.1} ms  (scan to store - backend read)",
            ms(full.saturating_sub(read))
        );
        results.push((mode, page));
    }
    println!(
        "peak RSS after the scans: {:.1} MiB (VmHWM)",
        vm_hwm_kib() as f64 / 1024.0
    );
    for (mode, page) in results {
        // Decode the stored page back into memory once, then time our processing alone.
        let img = image::open(&page.path).unwrap();
        let (data, channels) = match mode {
            ColorMode::Gray => (img.to_luma8().into_raw(), 1u8),
            ColorMode::Color => (img.to_rgb8().into_raw(), 3u8),
        };
        let geometry = PageGeometry {
            width: page.width,
            height: page.height,
            channels,
            dpi: 300,
        };
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            store
                .store(
                    &geometry,
                    &mut MemoryRows::new(&data, geometry.row_len()),
                    &encode,
                )
                .unwrap();
            times.push(t.elapsed());
        }
        println!(
            "{mode}: encode only (memory -> JPEG + thumbnail + hash + store) {:8.1} ms",
            ms(median(times))
        );
    }
}
