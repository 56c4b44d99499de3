//! Scans against SANE's `test` backend: a real SANE device, enabled through the project's own
//! `resources/sane` (`SANE_CONFIG_DIR`), with faults from its own options.
//!
//! SANE is process-global and `SANE_CONFIG_DIR` is read once, so every test in this binary calls
//! `setup()`, which sets the directory exactly once before any SANE call. Option values stick
//! to a device until `sane_exit`, so each test uses its own device number (`test:N`, see the
//! table below) and tests may run in parallel: the binding serialises the SANE calls.
//!
//! | device | test |
//! |---|---|
//! | test:0 | gray flatbed page: hash, dedup, thumbnail |
//! | test:1 | colour flatbed page |
//! | test:2 | feeder batch of 10 pages |
//! | test:3 | jam, cover open, busy, no documents from `sane_read` |
//! | test:4 | feeder emptied, then empty feeder |
//! | test:5 | cancel from inside a scan |
//! | test:6 | device gone mid-scan, reconnect (device task) |
//! | test:7 | progress events and cancel through the device task |
//! | test:8 | page of unknown length (hand-scanner mode) |
//! | test:9 | command line |
//! | test:10 | jam and recovery through the device task |
//! | test:11 | list, busy on double open, not found, options |
//! | test:12 | SIGPIPE stays harmless after scans |

// Helpers shared by the tests unwrap like the tests do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::fs;
use std::sync::Once;

use kiosk_link::DeviceState;
use kiosk_scanner::cli::{ModeArg, ScanArgs, ScannerAction, ScannerArgs, run_device_to};
use kiosk_scanner::sim::{self, Fault, TestPicture};
use kiosk_scanner::{
    CancelToken, ColorMode, EncodeOptions, ErrorKind, Handle, HandleConfig, Material, PageSize,
    PageStore, ScanError, ScanEvent, ScanSettings, Scanner, Source,
};
use sha2::{Digest, Sha256};

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        sim::use_test_backend(&sim::repo_config_dir()).expect("SANE_CONFIG_DIR");
    });
}

fn settings(mode: ColorMode, source: Source, w: f64, h: f64, dpi: u16) -> ScanSettings {
    ScanSettings {
        dpi,
        mode,
        source,
        page: PageSize {
            width_mm: w,
            height_mm: h,
        },
        max_pages: 50,
    }
}

fn open(name: &str, picture: TestPicture) -> Scanner {
    setup();
    let mut s = Scanner::open(name).unwrap();
    s.set_test_picture(picture).unwrap();
    s.inject_fault(Fault::None).unwrap();
    s
}

fn scan(
    s: &mut Scanner,
    settings: &ScanSettings,
    store: &PageStore,
) -> Result<Vec<kiosk_scanner::StoredPage>, ScanError> {
    s.scan(
        settings,
        store,
        &EncodeOptions::default(),
        &CancelToken::new(),
        &mut |_| {},
    )
}

fn files_in(store: &PageStore) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(store.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn flatbed_gray_page_is_stored_by_hash_with_a_matching_thumbnail() {
    let mut s = open("test:0", TestPicture::Grid);
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let request = settings(ColorMode::Gray, Source::Flatbed, 100.0, 150.0, 100);
    let applied = s.configure(&request).unwrap();
    assert_eq!(applied.dpi, 100);
    assert_eq!(applied.mode, "Gray");
    assert_eq!(applied.source.as_deref(), Some("Flatbed"));
    assert!((applied.width_mm - 100.0).abs() < 0.01 && (applied.height_mm - 150.0).abs() < 0.01);

    let pages = scan(&mut s, &request, &store).unwrap();
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    // The backend computes (int)(dpi * mm / 25.4): 393 × 590.
    assert_eq!(
        (page.width, page.height, page.channels, page.dpi),
        (393, 590, 1, 100)
    );

    // The file is named by the SHA-256 of its content.
    let jpeg = fs::read(&page.path).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&jpeg)), page.sha256);
    assert_eq!(page.path, store.page_path(&page.sha256));
    assert_eq!(page.bytes, jpeg.len() as u64);
    let decoded = image::load_from_memory(&jpeg).unwrap().to_luma8();
    assert_eq!(decoded.dimensions(), (393, 590));

    // Thumbnail: long side 240, same aspect, and it looks like the page.
    assert_eq!((page.thumbnail_width, page.thumbnail_height), (160, 240));
    let thumb = image::open(&page.thumbnail).unwrap().to_luma8();
    assert_eq!(thumb.dimensions(), (160, 240));
    let mut worst = 0i32;
    for ty in (10..230).step_by(37) {
        for tx in (10..150).step_by(29) {
            // Average the page area this thumbnail pixel covers.
            let (x0, x1) = (tx * 393 / 160, (tx + 1) * 393 / 160);
            let (y0, y1) = (ty * 590 / 240, (ty + 1) * 590 / 240);
            let mut sum = 0u32;
            let mut n = 0u32;
            for y in y0..y1 {
                for x in x0..x1 {
                    sum += u32::from(decoded.get_pixel(x, y)[0]);
                    n += 1;
                }
            }
            let expected = i32::try_from(sum / n).unwrap();
            let got = i32::from(thumb.get_pixel(tx, ty)[0]);
            worst = worst.max((expected - got).abs());
        }
    }
    assert!(worst <= 40, "thumbnail differs from the page by {worst}");
    // The grid has black and white squares: the thumbnail is not flat.
    let (min, max) = thumb
        .pixels()
        .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
    assert!(min < 64 && max > 192, "{min}..{max}");

    // Scanning the same page again gives the same hash and no second file.
    let again = scan(&mut s, &request, &store).unwrap();
    assert_eq!(again[0].sha256, page.sha256);
    assert_eq!(
        files_in(&store),
        vec![
            format!("{}.jpg", page.sha256),
            format!("{}.thumb.jpg", page.sha256)
        ]
    );
    // And it loads back from the store by hash alone.
    assert_eq!(store.load(&page.sha256).unwrap(), *page);
}

#[test]
fn flatbed_colour_page() {
    let mut s = open("test:1", TestPicture::ColorPattern);
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let request = settings(ColorMode::Color, Source::Flatbed, 60.0, 40.0, 100);
    let pages = scan(&mut s, &request, &store).unwrap();
    let page = &pages[0];
    assert_eq!((page.width, page.height, page.channels), (236, 157, 3));
    let img = image::open(&page.path).unwrap().to_rgb8();
    // The colour pattern has strongly coloured pixels.
    let colourful = img
        .pixels()
        .filter(|p| {
            let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
            (r - g).abs() > 100 || (g - b).abs() > 100
        })
        .count();
    assert!(colourful > 1000, "{colourful}");
    let thumb = image::open(&page.thumbnail).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (236, 157)); // small page: not enlarged
    // A material of this page exports as a PDF.
    let mut material = Material::new();
    material.push(page.clone());
    let pdf = material.to_pdf().unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn feeder_batch_scans_every_sheet_until_the_feeder_is_empty() {
    let mut s = open("test:2", TestPicture::Grid);
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let request = settings(ColorMode::Gray, Source::Adf, 40.0, 30.0, 100);
    let mut events = Vec::new();
    let pages = s
        .scan(
            &request,
            &store,
            &EncodeOptions::default(),
            &CancelToken::new(),
            &mut |e| events.push(e),
        )
        .unwrap();
    // The test backend's feeder holds 10 sheets.
    assert_eq!(pages.len(), 10);
    let started: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            ScanEvent::PageStarted { page, .. } => Some(*page),
            _ => None,
        })
        .collect();
    assert_eq!(started, (1..=10).collect::<Vec<_>>());
    let stored = events
        .iter()
        .filter(|e| matches!(e, ScanEvent::PageStored { .. }))
        .count();
    assert_eq!(stored, 10);
    // Identical sheets: one file, ten references.
    let hashes: HashSet<_> = pages.iter().map(|p| p.sha256.clone()).collect();
    assert_eq!(hashes.len(), 1);
    assert_eq!(files_in(&store).len(), 2);
    // Ten pages make one material, one PDF.
    let material = Material {
        pages: pages.clone(),
    };
    let out = dir.path().join("material.pdf");
    assert_eq!(material.export_pdf(&out).unwrap().pages, 10);
    let text = String::from_utf8_lossy(&fs::read(&out).unwrap()).into_owned();
    assert!(text.contains("/Count 10"));
}

#[test]
fn empty_feeder_is_reported_not_swallowed() {
    let mut s = open("test:4", TestPicture::SolidWhite);
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let mut request = settings(ColorMode::Gray, Source::Adf, 30.0, 30.0, 75);
    request.max_pages = 10;
    assert_eq!(scan(&mut s, &request, &store).unwrap().len(), 10);
    // All ten sheets are used up: the next batch finds the feeder empty at once.
    let err = scan(&mut s, &request, &store).unwrap_err();
    assert_eq!(err, ScanError::NoDocuments);
    assert!(err.resident_message_zh().contains("没有检测到纸张"));
    assert_eq!(err.device_state(), DeviceState::Online);
}

#[test]
fn read_faults_become_named_errors_and_leave_no_files() {
    let mut s = open("test:3", TestPicture::Grid);
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let request = settings(ColorMode::Gray, Source::Flatbed, 50.0, 50.0, 75);
    let cases = [
        (Fault::Jammed, ErrorKind::Jammed),
        (Fault::NoDocuments, ErrorKind::NoDocuments),
        (Fault::CoverOpen, ErrorKind::CoverOpen),
        (Fault::Busy, ErrorKind::Busy),
        (Fault::IoError, ErrorKind::DeviceGone),
    ];
    for (fault, kind) in cases {
        s.inject_fault(fault).unwrap();
        let err = scan(&mut s, &request, &store).unwrap_err();
        assert_eq!(err.kind(), kind, "{fault:?}: {err}");
        assert!(!err.resident_message_zh().is_empty());
        assert!(!err.resident_message_en().is_empty());
        assert!(files_in(&store).is_empty(), "{fault:?} left files");
    }
    assert_eq!(
        scan(&mut s, &request, &store).unwrap_err(),
        ScanError::DeviceGone {
            detail: "SANE_STATUS_IO_ERROR while reading the page".into()
        }
    );
    s.inject_fault(Fault::Jammed).unwrap();
    let jam = scan(&mut s, &request, &store).unwrap_err();
    assert_eq!(jam, ScanError::Jammed);
    assert_eq!(jam.device_state(), DeviceState::HardwareError);
    assert!(jam.resident_message_zh().contains("卡"));
    s.inject_fault(Fault::None).unwrap();
    assert_eq!(scan(&mut s, &request, &store).unwrap().len(), 1);
}

#[test]
fn cancel_mid_page_stops_the_scan_and_the_scanner_stays_usable() {
    let mut s = open("test:5", TestPicture::Grid);
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    // 393 × 393 gray bytes: more than two 64 KiB reads.
    let request = settings(ColorMode::Gray, Source::Flatbed, 100.0, 100.0, 100);
    let cancel = CancelToken::new();
    let mut progress = Vec::new();
    let err = s
        .scan(
            &request,
            &store,
            &EncodeOptions::default(),
            &cancel,
            &mut |e| {
                if let ScanEvent::Progress { bytes_read, .. } = e {
                    progress.push(bytes_read);
                    // Cancel as soon as the first data arrived: deterministic, no timing.
                    cancel.cancel();
                }
            },
        )
        .unwrap_err();
    assert_eq!(err, ScanError::Cancelled);
    assert_eq!(progress.len(), 1);
    assert!(progress[0] < 393 * 393);
    assert!(files_in(&store).is_empty());
    // sane_cancel left the device ready for the next scan.
    assert_eq!(scan(&mut s, &request, &store).unwrap().len(), 1);
}

#[test]
fn page_of_unknown_length_uses_one_page_buffer() {
    let mut s = open("test:8", TestPicture::Grid);
    s.set_option_text(sim::options::HAND_SCANNER, "yes")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let request = settings(ColorMode::Gray, Source::Flatbed, 210.0, 297.0, 100);
    let mut heights = Vec::new();
    let pages = s
        .scan(
            &request,
            &store,
            &EncodeOptions::default(),
            &CancelToken::new(),
            &mut |e| {
                if let ScanEvent::PageStarted { height, .. } = e {
                    heights.push(height);
                }
            },
        )
        .unwrap();
    assert_eq!(heights, vec![None]);
    // Hand-scanner mode: 110 mm wide, 170 mm long, at 100 dpi.
    assert_eq!((pages[0].width, pages[0].height), (433, 669));
    let img = image::open(&pages[0].path).unwrap();
    assert_eq!((img.width(), img.height()), (433, 669));
    s.set_option_text(sim::options::HAND_SCANNER, "no").unwrap();
}

#[test]
fn list_open_twice_not_found_and_options() {
    setup();
    let devices = Scanner::list_devices().unwrap();
    let names: Vec<_> = devices.iter().map(|d| d.name.as_str()).collect();
    for i in 0..12 {
        assert!(names.contains(&format!("test:{i}").as_str()), "{names:?}");
    }
    assert!(devices.iter().all(|d| d.vendor == "Noname"));

    let mut s = Scanner::open("test:11").unwrap();
    // The test backend allows one open per device.
    assert_eq!(
        Scanner::open("test:11").unwrap_err().kind(),
        ErrorKind::Busy
    );
    assert_eq!(
        Scanner::open("test:99").unwrap_err(),
        ScanError::NotFound {
            name: "test:99".into()
        }
    );
    let options = s.options().unwrap();
    for name in [
        "mode",
        "resolution",
        "source",
        "tl-x",
        "tl-y",
        "br-x",
        "br-y",
    ] {
        assert!(options.iter().any(|o| o.name == name), "missing {name}");
    }
    // Geometry reaches A4 with the project's test.conf.
    let applied = s
        .configure(&settings(ColorMode::Color, Source::Adf, 210.0, 297.0, 300))
        .unwrap();
    assert_eq!(applied.mode, "Color");
    assert_eq!(applied.source.as_deref(), Some("Automatic Document Feeder"));
    assert!((applied.height_mm - 297.0).abs() < 0.01);
    // A resolution out of range is clamped to what the device can do.
    let applied = s
        .configure(&settings(
            ColorMode::Gray,
            Source::Flatbed,
            10.0,
            10.0,
            5000,
        ))
        .unwrap();
    assert_eq!(applied.dpi, 1200);
    assert_eq!(
        s.set_option_text("no-such-option", "1").unwrap_err().kind(),
        ErrorKind::Option
    );
    assert_eq!(
        s.set_option_text(sim::options::READ_RETURN_VALUE, "SANE_STATUS_NONSENSE")
            .unwrap_err()
            .kind(),
        ErrorKind::Option
    );
}

#[test]
fn command_line_lists_and_scans_to_jpeg_and_pdf() {
    setup();
    {
        let mut s = Scanner::open("test:9").unwrap();
        s.set_test_picture(TestPicture::Grid).unwrap();
    }
    let mut out = Vec::new();
    run_device_to(
        ScannerArgs {
            device: None,
            action: ScannerAction::List,
        },
        &mut out,
    )
    .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "test:9" && d["type"] == "virtual device")
    );

    let dir = tempfile::tempdir().unwrap();
    for (file, format) in [("page.jpg", "jpeg"), ("page.pdf", "pdf")] {
        let path = dir.path().join(file);
        let mut out = Vec::new();
        run_device_to(
            ScannerArgs {
                device: Some("test:9".into()),
                action: ScannerAction::Scan(ScanArgs {
                    out: path.clone(),
                    dpi: 50,
                    mode: ModeArg::Gray,
                }),
            },
            &mut out,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["format"], format);
        assert_eq!(v["device"], "test:9");
        assert_eq!(v["mode"], "gray");
        assert_eq!(v["dpi"], 50);
        // A4 at 50 dpi.
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(413), Some(584))
        );
        let bytes = fs::read(&path).unwrap();
        assert_eq!(v["bytes"].as_u64(), Some(bytes.len() as u64));
        if format == "jpeg" {
            assert_eq!(v["sha256"], hex::encode(Sha256::digest(&bytes)));
        } else {
            assert!(bytes.starts_with(b"%PDF-"));
        }
    }
    // No work directory left behind.
    let mut left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, vec!["page.jpg", "page.pdf"]);

    let err = run_device_to(
        ScannerArgs {
            device: None,
            action: ScannerAction::Scan(ScanArgs {
                out: dir.path().join("x.jpg"),
                dpi: 50,
                mode: ModeArg::Gray,
            }),
        },
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("--device"));
}

// ---- the device task ----

async fn wait_for_state(handle: &Handle, state: DeviceState) {
    let mut rx = handle.status();
    rx.wait_for(|s| s.state == state).await.unwrap();
}

fn handle_for(device: &str) -> (Handle, tempfile::TempDir) {
    setup();
    let dir = tempfile::tempdir().unwrap();
    let mut config = HandleConfig::new(device, dir.path().join("pages"));
    config.reconnect_initial = std::time::Duration::from_millis(20);
    config.reconnect_max = std::time::Duration::from_millis(100);
    (Handle::spawn(config).unwrap(), dir)
}

#[tokio::test]
async fn device_task_reports_progress_and_cancels_a_slow_scan() {
    let (handle, _dir) = handle_for("test:7");
    wait_for_state(&handle, DeviceState::Online).await;
    handle.set_option("test-picture", "Grid").await.unwrap();
    handle.inject_fault(Fault::None).await.unwrap();
    let request = settings(ColorMode::Gray, Source::Flatbed, 100.0, 100.0, 100);

    // A normal scan: progress climbs to exactly the announced size.
    let mut events = handle.subscribe();
    let pages = handle.scan(request).await.unwrap();
    assert_eq!(pages.len(), 1);
    let mut last = 0;
    let mut stored = false;
    while let Ok(e) = events.try_recv() {
        match e {
            ScanEvent::Progress {
                bytes_read,
                bytes_expected,
                page,
            } => {
                assert_eq!(page, 1);
                assert_eq!(bytes_expected, Some(393 * 393));
                assert!(bytes_read > last);
                last = bytes_read;
            }
            ScanEvent::PageStored { stored: p, .. } => {
                assert_eq!(p, pages[0]);
                stored = true;
            }
            _ => {}
        }
    }
    assert_eq!(last, 393 * 393);
    assert!(stored);

    // A slow scanner (512 bytes per read, 1 ms apart: at least 300 reads for this page),
    // cancelled from the app's side as soon as data flows.
    handle.set_option("read-limit", "yes").await.unwrap();
    handle.set_option("read-limit-size", "512").await.unwrap();
    handle.set_option("read-delay", "yes").await.unwrap();
    handle
        .set_option("read-delay-duration", "1000")
        .await
        .unwrap();
    let mut events = handle.subscribe();
    let scanning = {
        let h = handle.clone();
        tokio::spawn(async move { h.scan(request).await })
    };
    loop {
        if let ScanEvent::Progress { .. } = events.recv().await.unwrap() {
            handle.cancel();
            break;
        }
    }
    assert_eq!(scanning.await.unwrap().unwrap_err(), ScanError::Cancelled);
    wait_for_state(&handle, DeviceState::Online).await;
    handle.set_option("read-limit", "no").await.unwrap();
    handle.set_option("read-delay", "no").await.unwrap();
    assert_eq!(handle.scan(request).await.unwrap().len(), 1);
    handle.shutdown();
}

#[tokio::test]
async fn device_gone_mid_scan_goes_offline_and_reconnects() {
    let (handle, _dir) = handle_for("test:6");
    wait_for_state(&handle, DeviceState::Online).await;
    handle.inject_fault(Fault::None).await.unwrap();
    let request = settings(ColorMode::Gray, Source::Flatbed, 40.0, 40.0, 75);
    assert_eq!(handle.scan(request).await.unwrap().len(), 1);

    // The scan starts, then the first sane_read fails with SANE_STATUS_IO_ERROR, as a USB
    // scanner does when unplugged in the middle of a page.
    handle.inject_fault(Fault::IoError).await.unwrap();
    let mut events = handle.subscribe();
    let err = handle.scan(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeviceGone);
    assert!(err.resident_message_en().contains("stopped responding"));
    // The task closed the device, went Offline and opened it again.
    let mut states = Vec::new();
    while states.last() != Some(&DeviceState::Online) || !states.contains(&DeviceState::Offline) {
        if let ScanEvent::Status { status } = events.recv().await.unwrap() {
            states.push(status.state);
        }
    }
    assert_eq!(
        states,
        vec![DeviceState::Busy, DeviceState::Offline, DeviceState::Online]
    );
    // Back Online without a restart (the fault option may survive the reopen: clear it).
    handle.inject_fault(Fault::None).await.unwrap();
    assert_eq!(handle.scan(request).await.unwrap().len(), 1);
}

#[tokio::test]
async fn device_task_jam_then_recovery() {
    let (handle, _dir) = handle_for("test:10");
    wait_for_state(&handle, DeviceState::Online).await;
    handle.inject_fault(Fault::Jammed).await.unwrap();
    let request = settings(ColorMode::Gray, Source::Flatbed, 40.0, 40.0, 75);
    assert_eq!(handle.scan(request).await.unwrap_err(), ScanError::Jammed);
    let status = handle.status().borrow().clone();
    assert_eq!(status.state, DeviceState::HardwareError);
    assert!(status.detail.unwrap().contains("jammed"));
    handle.inject_fault(Fault::CoverOpen).await.unwrap();
    assert_eq!(
        handle.scan(request).await.unwrap_err(),
        ScanError::CoverOpen
    );
    handle.inject_fault(Fault::None).await.unwrap();
    assert_eq!(handle.scan(request).await.unwrap().len(), 1);
    assert_eq!(handle.status().borrow().state, DeviceState::Online);
    // Pages are in the task's store.
    assert_eq!(fs::read_dir(handle.store().dir()).unwrap().count(), 2);
}

#[tokio::test]
async fn device_task_without_its_device_says_so() {
    let (handle, _dir) = handle_for("test:99");
    wait_for_state(&handle, DeviceState::NoDevice).await;
    let err = handle.scan(ScanSettings::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.resident_message_zh().contains("工作人员"));
    handle.shutdown();
}

#[test]
fn after_scans_a_broken_pipe_is_an_error_not_the_end_of_the_kiosk() {
    // libsane sets SIGPIPE back to "terminate" after each scan's reader thread; the binding
    // keeps a do-nothing handler installed so a write to a closed pipe just fails.
    let mut s = open("test:12", TestPicture::SolidWhite);
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::open(dir.path()).unwrap();
    let request = settings(ColorMode::Gray, Source::Flatbed, 20.0, 20.0, 75);
    for _ in 0..3 {
        scan(&mut s, &request, &store).unwrap();
    }
    drop(s);
    let (reader, mut writer) = std::io::pipe().unwrap();
    drop(reader);
    let err = std::io::Write::write_all(&mut writer, b"x").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
}
