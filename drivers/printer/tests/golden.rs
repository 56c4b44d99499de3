//! Byte-exact slips for fixed data.
//!
//! Every sample slip at both paper widths is compared byte for byte with a listing in
//! `tests/golden/` (one command per line: hex, then what it means). After a deliberate
//! layout change, regenerate with `UPDATE_GOLDEN=1 cargo test -p kiosk-printer --test golden`
//! and review the diff. The acceptance notice's key parts are also checked against bytes
//! written out by hand from the reference tables.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use kiosk_printer::sim::SimConfig;
use kiosk_printer::sim::decoder::{listing, listing_bytes};
use kiosk_printer::{CutCommand, Document, PaperWidth, PrinterProfile, samples, text};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn gb(s: &str) -> Vec<u8> {
    text::encode(s)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn every_sample_slip_matches_its_golden_listing() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let font = common::font();
    let mut mismatches = Vec::new();
    for paper in [PaperWidth::Mm80, PaperWidth::Mm58] {
        let profile = common::profile(paper);
        for (stem, doc) in samples::all() {
            let bytes = doc.build(&profile, &font).unwrap().bytes;
            let path = golden_dir().join(format!("{paper}mm-{stem}.txt"));
            let got = listing(&bytes);
            assert_eq!(listing_bytes(&got), bytes, "listing is byte-exact");
            if update {
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
            if listing_bytes(&want) != bytes {
                mismatches.push(path.display().to_string());
            }
        }
    }
    assert!(mismatches.is_empty(), "slip bytes changed: {mismatches:?}");
}

#[test]
fn acceptance_notice_key_bytes_by_hand() {
    let font = common::font();
    let notice = samples::acceptance_notice();
    let profile = PrinterProfile::new(PaperWidth::Mm80, CutCommand::FullB(0));
    let bytes = Document::Acceptance(notice.clone())
        .build(&profile, &font)
        .unwrap()
        .bytes;

    // ESC @, FS & (Chinese mode), ESC 3 36 (1.5 line pitch), then the title: centre, bold,
    // GS ! 0x11 (double width and height) with ESC 3 60, 受理通知 in GB18030, ESC d 1.
    let mut head = vec![0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x33, 36];
    head.extend([
        0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01, 0x1D, 0x21, 0x11, 0x1B, 0x33, 60,
    ]);
    head.extend([0xCA, 0xDC, 0xC0, 0xED, 0xCD, 0xA8, 0xD6, 0xAA]);
    head.extend([0x1B, 0x64, 0x01]);
    head.extend([0x1D, 0x21, 0x00, 0x1B, 0x33, 36]);
    head.extend(gb("城南街道便民服务中心"));
    head.extend([0x1B, 0x64, 0x01]);
    assert_eq!(&bytes[..head.len()], &head[..]);
    assert_eq!(
        gb("受理通知"),
        [0xCA, 0xDC, 0xC0, 0xED, 0xCD, 0xA8, 0xD6, 0xAA]
    );

    // The QR code: model 2 (50), module 8 on 80 mm, error correction M (49), the payload,
    // print. Centred first.
    let url = notice.progress_url.as_bytes();
    let mut qr = vec![0x1B, 0x61, 0x01];
    qr.extend([0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
    qr.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x08]);
    qr.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]);
    let len = u16::try_from(url.len() + 3).unwrap().to_le_bytes();
    qr.extend([0x1D, 0x28, 0x6B, len[0], len[1], 0x31, 0x50, 0x30]);
    qr.extend(url);
    qr.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    assert!(find(&bytes, &qr).is_some(), "QR block");

    // The masked ID as given, the name line with 𫖯 as a GS v 0 raster image one text line
    // high (24 dots) followed by ESC J 12 to complete the 36-dot line pitch.
    assert!(find(&bytes, &gb("身份证号：3301**********1234")).is_some());
    let raster =
        find(&bytes, &[0x1D, 0x76, 0x30, 0x00]).expect("raster image for the rare character");
    let width_bytes = u16::from_le_bytes([bytes[raster + 4], bytes[raster + 5]]);
    let height = u16::from_le_bytes([bytes[raster + 6], bytes[raster + 7]]);
    assert_eq!(height, 24);
    assert_eq!(
        width_bytes,
        u16::try_from(text::width("姓名：王𫖯") * 12)
            .unwrap()
            .div_ceil(8)
    );
    let after = raster + 8 + usize::from(width_bytes) * usize::from(height);
    assert_eq!(&bytes[after..after + 3], &[0x1B, 0x4A, 12]);
    assert!(
        find(&bytes, &gb("王𫖯")).is_none(),
        "the four-byte character is never sent as text"
    );

    // Feed one line past the cutter, cut (function B, full).
    assert!(bytes.ends_with(&[0x1B, 0x64, 0x01, 0x1D, 0x56, 0x41, 0x00]));
    // Never a real-time command sequence inside the slip.
    assert!(
        bytes
            .windows(2)
            .all(|w| !(w[0] == 0x10 && matches!(w[1], 0x04 | 0x05 | 0x14)))
    );
}

#[test]
fn yen_is_sent_full_width_and_cut_follows_the_model() {
    let font = common::font();
    let mut doc = samples::guide_slip();
    doc.fees = "工本费¥20".into();
    for (cut, tail, feed) in [
        (CutCommand::FullA, vec![0x1D, 0x56, 0x00], 5u8),
        (CutCommand::PartialA, vec![0x1D, 0x56, 0x01], 5),
        (CutCommand::PartialB(3), vec![0x1D, 0x56, 0x42, 0x03], 1),
    ] {
        let profile = PrinterProfile::new(PaperWidth::Mm58, cut);
        let bytes = Document::Guide(doc.clone())
            .build(&profile, &font)
            .unwrap()
            .bytes;
        let mut end = vec![0x1B, 0x64, feed];
        end.extend(&tail);
        assert!(bytes.ends_with(&end), "{cut}");
        assert!(find(&bytes, &gb("工本费￥20")).is_some());
        assert!(
            find(&bytes, &[0x81, 0x30, 0x84, 0x36]).is_none(),
            "no four-byte ¥"
        );
    }
}

#[test]
fn rendered_samples_have_no_junk_and_no_overflow() {
    // Columns are counted the printer's way: if any line were wider than the paper the
    // simulated printer would have to wrap it itself.
    let font = common::font();
    for paper in [PaperWidth::Mm80, PaperWidth::Mm58] {
        let profile = common::profile(paper);
        for (stem, doc) in samples::all() {
            let sim = common::sim(SimConfig {
                paper,
                ..SimConfig::default()
            });
            sim.feed_bytes(&doc.build(&profile, &font).unwrap().bytes);
            let slips = sim.slips();
            assert_eq!(slips.len(), 1, "{stem}");
            let slip = &slips[0];
            assert!(slip.complete);
            assert_eq!(slip.junk_chars, 0, "{stem} {paper}mm:\n{}", slip.text);
            assert_eq!(slip.overflowed_lines, 0, "{stem} {paper}mm:\n{}", slip.text);
            assert!(slip.warnings.is_empty(), "{stem}: {:?}", slip.warnings);
        }
    }
}

#[test]
fn unmasked_id_numbers_are_refused() {
    let font = common::font();
    let mut notice = samples::acceptance_notice();
    notice.masked_id_number = "330106199001011234".into();
    let err = Document::Acceptance(notice)
        .build(&common::profile(PaperWidth::Mm80), &font)
        .unwrap_err();
    assert!(matches!(err, kiosk_printer::SlipError::UnmaskedId));
}

#[test]
fn control_characters_in_data_cannot_inject_commands() {
    let font = common::font();
    let mut notice = samples::acceptance_notice();
    notice.centre_name = "中心\x1d\x56\x00\x1b@".into();
    let bytes = Document::Acceptance(notice)
        .build(&common::profile(PaperWidth::Mm80), &font)
        .unwrap()
        .bytes;
    assert_eq!(
        bytes
            .windows(3)
            .filter(|w| *w == [0x1D, 0x56, 0x41])
            .count(),
        1,
        "one cut only"
    );
    assert!(find(&bytes, &gb("中心V@")).is_some());
}
