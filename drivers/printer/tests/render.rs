//! Every slip type through the real driver and the simulator to PNG; the QR payload read
//! back from the PNG with `rqrr`. Renderings go to a temporary directory, or to
//! `$PRINTER_SAMPLES_DIR` when set (e.g. `PRINTER_SAMPLES_DIR=/tmp/slips cargo test -p
//! kiosk-printer --test render`); `cargo run -p kiosk-printer --example render_samples`
//! writes the same slips without a driver.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use kiosk_printer::sim::SimConfig;
use kiosk_printer::{PaperWidth, SessionId, samples};

fn decode_qr(png: &std::path::Path) -> Vec<String> {
    let img = image::open(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

fn out_dir(tmp: &tempfile::TempDir, paper: PaperWidth) -> PathBuf {
    let base = std::env::var_os("PRINTER_SAMPLES_DIR")
        .map_or_else(|| tmp.path().to_owned(), PathBuf::from);
    let dir = base.join(format!("{paper}mm"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_slip_type_renders_and_its_qr_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    for paper in [PaperWidth::Mm80, PaperWidth::Mm58] {
        let dir = out_dir(&tmp, paper);
        let sim = common::sim(SimConfig {
            paper,
            out_dir: Some(dir.clone()),
            ..SimConfig::default()
        });
        let mut d = common::driver_for(&sim, paper);
        let owner = SessionId::new("render");
        let all = samples::all();
        for (stem, doc) in &all {
            let built = doc.build(d.profile(), &common::font()).unwrap();
            d.print(&owner, doc).unwrap();
            let slip = sim.slips().pop().unwrap();
            let png = slip.png.clone().expect("PNG written");
            assert!(png.exists(), "{stem}");
            assert!(
                slip.complete && slip.junk_chars == 0 && slip.overflowed_lines == 0,
                "{stem}"
            );
            assert_eq!(
                slip.qr_payloads, built.qr_payloads,
                "{stem}: payloads stored"
            );
            let decoded = decode_qr(&png);
            assert_eq!(
                decoded, built.qr_payloads,
                "{stem} {paper}mm: QR read back from the PNG"
            );
            assert_eq!(slip.image.width(), paper.dots());
            let text_dump = png.with_extension("txt");
            assert!(
                std::fs::read_to_string(text_dump)
                    .unwrap()
                    .contains("[全切]")
            );
            if *stem == "1-acceptance-notice" {
                assert_eq!(slip.raster_images, 1, "the rare name character is an image");
                assert_eq!(built.raster_lines, 1);
            }
        }
        assert_eq!(sim.slips().len(), all.len());
    }
}

#[test]
fn the_rare_character_image_is_drawn_where_the_name_is() {
    // Render the acceptance notice and check the name line has ink across both characters.
    let sim = common::sim(SimConfig::default());
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    d.print(
        &SessionId::new("s"),
        &kiosk_printer::Document::Acceptance(samples::acceptance_notice()),
    )
    .unwrap();
    let slip = sim.slips().pop().unwrap();
    let line = slip
        .text
        .lines()
        .position(|l| l.starts_with("[图像"))
        .unwrap();
    assert!(
        slip.text.lines().nth(line - 1).unwrap().contains("申请人"),
        "{}",
        slip.text
    );
}

#[test]
fn a_pickup_by_code_prints_without_an_id_number_line() {
    let sim = common::sim(SimConfig::default());
    let mut d = common::driver_for(&sim, PaperWidth::Mm80);
    let mut receipt = samples::locker_pickup_receipt();
    receipt.masked_id_number = kiosk_printer::slips::MaskedNumber(String::new());
    receipt.one_thing = String::new();
    d.print(
        &SessionId::new("code"),
        &kiosk_printer::slips::Document::LockerPickup(receipt.clone()),
    )
    .unwrap();
    let slip = sim.slips().pop().unwrap();
    assert!(slip.complete);
    assert!(slip.text.contains(&receipt.application_no));
    assert!(!slip.text.contains("身份证号"), "{}", slip.text);
    assert!(!slip.text.contains("办理事项"), "{}", slip.text);
    // A number that is given must still be masked.
    receipt.masked_id_number = kiosk_printer::slips::MaskedNumber("360426199101010071".into());
    assert!(
        kiosk_printer::slips::Document::LockerPickup(receipt)
            .build(d.profile(), &common::font())
            .is_err()
    );
}
