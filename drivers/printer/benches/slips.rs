//! Building slip bytes (goal: the acceptance notice, QR included, under 1 ms).
//!
//! `cargo bench -p kiosk-printer --bench slips`

#![allow(clippy::expect_used)] // a benchmark with no font or a broken sample has nothing to measure

use criterion::{Criterion, criterion_group, criterion_main};
use kiosk_printer::sim::decoder::{Decoded, decode};
use kiosk_printer::slips::PersonName;
use kiosk_printer::{CjkFont, Document, FontSource, PaperWidth, PrinterProfile, samples};

fn bench(c: &mut Criterion) {
    let font = CjkFont::load(&FontSource::default()).expect("font");
    let profile = PrinterProfile {
        paper: PaperWidth::Mm80,
        ..PrinterProfile::default()
    };
    // The sample's name has a rare character, so this includes drawing one raster line.
    let with_rare = Document::Acceptance(samples::acceptance_notice());
    let mut plain = samples::acceptance_notice();
    plain.applicant_name = PersonName::from("王小明");
    let plain = Document::Acceptance(plain);
    c.bench_function("acceptance_notice_bytes", |b| {
        b.iter(|| std::hint::black_box(plain.build(&profile, &font).expect("build")));
    });
    c.bench_function("acceptance_notice_bytes_rare_name", |b| {
        b.iter(|| std::hint::black_box(with_rare.build(&profile, &font).expect("build")));
    });
    let bytes = with_rare.build(&profile, &font).expect("build").bytes;
    c.bench_function("decode_acceptance_notice", |b| {
        b.iter(|| {
            let mut rest = &bytes[..];
            let mut n_ops = 0usize;
            while let Decoded::Op(_, n) = decode(rest, true) {
                rest = &rest[n..];
                n_ops += 1;
            }
            std::hint::black_box(n_ops)
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
