//! Card faces rendered with the real CJK font. Set `KIOSK_FACE_OUT=/some/dir` to keep the
//! PNGs for a look.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use image::{DynamicImage, Rgb, RgbImage};
use kiosk_cardprinter::face::{CHIP_KEEP_OUT, HEIGHT, PHOTO, WIDTH};
use kiosk_cardprinter::{CardFace, FaceConfig, FaceRenderer, RenderError, to_png};

fn renderer(config: FaceConfig) -> Option<FaceRenderer> {
    if !kiosk_cardprinter::text::default_font_present() {
        eprintln!("fonts-noto-cjk is not installed; skipping");
        return None;
    }
    Some(FaceRenderer::new(config).unwrap())
}

/// A stand-in ID photo: 358 × 441 (the online-application size), light background, a face.
pub fn sample_photo() -> DynamicImage {
    let (w, h) = (358u32, 441u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([0xF4, 0xF6, 0xFA]));
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (f64::from(x) - 179.0, f64::from(y));
            let head = (fx / 95.0).powi(2) + ((fy - 170.0) / 120.0).powi(2) <= 1.0;
            let hair = (fx / 105.0).powi(2) + ((fy - 140.0) / 110.0).powi(2) <= 1.0 && fy < 150.0;
            let body = (fx / 175.0).powi(2) + ((fy - 470.0) / 170.0).powi(2) <= 1.0;
            if hair {
                img.put_pixel(x, y, Rgb([0x2B, 0x22, 0x1E]));
            } else if head {
                img.put_pixel(x, y, Rgb([0xE8, 0xC3, 0xA4]));
            } else if body {
                img.put_pixel(x, y, Rgb([0x24, 0x3B, 0x63]));
            }
        }
    }
    DynamicImage::ImageRgb8(img)
}

fn face(name: &str, photo: Option<DynamicImage>) -> CardFace {
    CardFace {
        name: name.into(),
        ssn: "11010120240101003X".into(),
        card_number: "A12345678".into(),
        issue_date: jiff::civil::date(2026, 3, 1),
        photo,
    }
}

fn keep(name: &str, img: &RgbImage) {
    if let Some(dir) = std::env::var_os("KIOSK_FACE_OUT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), to_png(img).unwrap()).unwrap();
    }
}

fn ink_in(img: &RgbImage, x0: u32, y0: u32, w: u32, h: u32) -> usize {
    let mut n = 0;
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            if img.get_pixel(x, y).0.iter().any(|c| *c < 200) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn a_face_with_a_photo_is_cr80_at_300_dpi() {
    let Some(r) = renderer(FaceConfig::default()) else {
        return;
    };
    let img = r.render(&face("张三丰", Some(sample_photo()))).unwrap();
    assert_eq!((img.width(), img.height()), (WIDTH, HEIGHT));
    assert_eq!((WIDTH, HEIGHT), (1011, 638));
    // The photo fills its box: its centre is skin colour, not the white card.
    let c = img.get_pixel(PHOTO.x + PHOTO.w / 2, PHOTO.y + PHOTO.h / 3);
    assert_ne!(c.0, [255, 255, 255]);
    // Text was drawn in the value column and nothing is printed on the chip.
    assert!(ink_in(&img, 250, 392, 390, 40) > 100, "name drawn");
    assert_eq!(
        ink_in(
            &img,
            CHIP_KEEP_OUT.x,
            CHIP_KEEP_OUT.y,
            CHIP_KEEP_OUT.w,
            CHIP_KEEP_OUT.h
        ),
        0,
        "chip area stays blank"
    );
    keep("face-photo.png", &img);
    let png = to_png(&img).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn a_long_name_shrinks_to_fit_and_an_absurd_one_is_refused() {
    let Some(r) = renderer(FaceConfig::default()) else {
        return;
    };
    let long = "阿卜杜热合曼·买买提依明·艾合买提江";
    let img = r.render(&face(long, Some(sample_photo()))).unwrap();
    // Nothing spills into the gap before the photo.
    assert_eq!(ink_in(&img, 641, 392, 20, 40), 0);
    keep("face-long-name.png", &img);
    let absurd = "张".repeat(40);
    assert_eq!(
        r.render(&face(&absurd, None)).unwrap_err(),
        RenderError::NameTooLong(40)
    );
}

#[test]
fn no_photo_draws_a_silhouette() {
    let Some(r) = renderer(FaceConfig {
        chip_outline: true,
        ..FaceConfig::default()
    }) else {
        return;
    };
    let img = r.render(&face("李小宝", None)).unwrap();
    let bg = img.get_pixel(PHOTO.x + 10, PHOTO.y + 10);
    assert_eq!(bg.0, [0xEE, 0xF0, 0xF3]);
    let head = img.get_pixel(PHOTO.x + PHOTO.w / 2, PHOTO.y + PHOTO.h * 38 / 100);
    assert_eq!(head.0, [0xB8, 0xC0, 0xCC]);
    keep("face-no-photo.png", &img);
}

#[test]
fn a_rare_character_prints_when_a_font_has_it_and_is_refused_when_none_does() {
    let Some(r) = renderer(FaceConfig::default()) else {
        return;
    };
    // 䶮 (U+4DAE, CJK Extension A, as in 刘䶮) is in Noto Sans CJK.
    let img = r.render(&face("刘䶮", Some(sample_photo()))).unwrap();
    keep("face-rare-char.png", &img);
    // A private-use character stands for a name character no font has.
    let err = r.render(&face("王\u{E000}", None)).unwrap_err();
    assert_eq!(
        err,
        RenderError::MissingGlyphs {
            field: "name",
            chars: vec!['\u{E000}']
        }
    );
    assert_eq!(err.to_string(), "no font can print U+E000 in the name");
}

#[test]
fn pre_printed_stock_gets_only_the_personal_data() {
    let Some(r) = renderer(FaceConfig {
        print_static: false,
        ..FaceConfig::default()
    }) else {
        return;
    };
    let img = r.render(&face("张三", Some(sample_photo()))).unwrap();
    assert_eq!(ink_in(&img, 40, 30, 900, 100), 0, "no title");
    assert_eq!(ink_in(&img, 40, 392, 200, 240), 0, "no labels");
    assert!(ink_in(&img, 250, 392, 390, 40) > 0);
    keep("face-preprinted.png", &img);
}

#[test]
fn photos_of_any_shape_fill_the_box() {
    let Some(r) = renderer(FaceConfig::default()) else {
        return;
    };
    for (w, h) in [(1, 20_000), (20_000, 1), (3, 3), (1, 1), (5000, 4000)] {
        let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Rgb([10, 20, 30])));
        let img = r.render(&face("张三", Some(photo))).unwrap();
        for (x, y) in [
            (PHOTO.x + 1, PHOTO.y + 1),
            (PHOTO.x + PHOTO.w - 1, PHOTO.y + PHOTO.h - 1),
        ] {
            assert_eq!(img.get_pixel(x, y).0, [10, 20, 30], "{w}x{h}");
        }
    }
}

#[test]
fn debug_masks_personal_data() {
    let f = face("张三", None);
    let s = format!("{f:?}");
    assert!(!s.contains("张三") && !s.contains("1101"), "{s}");
}
