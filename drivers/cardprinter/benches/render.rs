//! Software time of the card face per card: layout and rasterising the text and photo, and
//! PNG encoding (what is sent to the printer). Fonts are loaded once, as in the kiosk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use image::{DynamicImage, Rgb, RgbImage};
use kiosk_cardprinter::{CardFace, FaceConfig, FaceRenderer, to_png};

fn photo() -> DynamicImage {
    let mut img = RgbImage::from_pixel(358, 441, Rgb([0xF4, 0xF6, 0xFA]));
    for y in 100..300 {
        for x in 90..270 {
            img.put_pixel(x, y, Rgb([0xE8, 0xC3, 0xA4]));
        }
    }
    DynamicImage::ImageRgb8(img)
}

fn render(c: &mut Criterion) {
    if !kiosk_cardprinter::text::default_font_present() {
        eprintln!("fonts-noto-cjk missing: no render benchmark");
        return;
    }
    let r = FaceRenderer::new(FaceConfig::default()).unwrap();
    let face = CardFace {
        name: "欧阳娜娜".into(),
        ssn: "11010120240101003X".into(),
        card_number: "A12345678".into(),
        issue_date: jiff::civil::date(2026, 3, 1),
        photo: Some(photo()),
    };
    c.bench_function("render face with photo", |b| {
        b.iter(|| black_box(r.render(black_box(&face)).unwrap()));
    });
    let img = r.render(&face).unwrap();
    c.bench_function("encode face as PNG", |b| {
        b.iter(|| black_box(to_png(black_box(&img)).unwrap()));
    });
    c.bench_function("render + PNG, no photo", |b| {
        let mut f = face.clone();
        f.photo = None;
        b.iter(|| black_box(to_png(&r.render(&f).unwrap()).unwrap()));
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
