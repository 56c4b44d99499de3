//! Criterion: our processing of one A4 page at 300 dpi (gray and colour), from rows in memory
//! to a stored JPEG with thumbnail and SHA-256. Run: `cargo bench -p kiosk-scanner --bench encode`.

// A benchmark: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use criterion::{Criterion, criterion_group, criterion_main};
use kiosk_scanner::encode::{MemoryRows, PageGeometry};
use kiosk_scanner::{EncodeOptions, PageStore};

/// A printed-page-like picture: black 1-pixel strokes every few pixels on white, with a
/// 118-pixel (10 mm) grid like the test backend's.
fn page(width: u32, height: u32, channels: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(width as usize * height as usize * usize::from(channels));
    for y in 0..height {
        for x in 0..width {
            let ink = (x / 118 + y / 118) % 2 == 0 || (x % 7 == 0 && y % 11 < 6);
            for c in 0..channels {
                v.push(if ink { 20 + c * 30 } else { 250 });
            }
        }
    }
    v
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let encode = EncodeOptions::default();
    let mut group = c.benchmark_group("a4_300dpi_to_store");
    group.sample_size(10);
    for (name, channels) in [("gray", 1u8), ("color", 3u8)] {
        let geometry = PageGeometry {
            width: 2480,
            height: 3507,
            channels,
            dpi: 300,
        };
        let data = page(2480, 3507, channels);
        group.bench_function(name, |b| {
            b.iter(|| {
                store
                    .store(
                        &geometry,
                        &mut MemoryRows::new(&data, geometry.row_len()),
                        &encode,
                    )
                    .unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
