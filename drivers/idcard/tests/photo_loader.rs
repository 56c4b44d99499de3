//! The run-time vendor decoder loader against a stand-in shared library compiled from C
//! in this test (no vendor code anywhere). Skipped when no C compiler is installed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kiosk_idcard::photo::{self, OutputLayout, PhotoConfig, PhotoError};

/// A fake decoder with the documented signature: writes a 102 x 126 BMP whose every pixel
/// is (wlt[0], wlt[1], flags), or fails with -3 when wlt[0] == 0xFF.
const FAKE_C: &str = r"
#include <string.h>
static void put32(unsigned char *p, unsigned v) { p[0]=v; p[1]=v>>8; p[2]=v>>16; p[3]=v>>24; }
int fake_wlt2bmp(const unsigned char *wlt, unsigned char *out, int flags) {
    if (wlt[0] == 0xFF) return -3;
    const int w = 102, h = 126, stride = 308;
    memset(out, 0, 54 + stride * h);
    out[0] = 'B'; out[1] = 'M';
    put32(out + 2, 54 + stride * h);
    put32(out + 10, 54); put32(out + 14, 40);
    put32(out + 18, w); put32(out + 22, h);
    out[26] = 1; out[28] = 24;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *px = out + 54 + y * stride + x * 3;
            px[0] = (unsigned char)flags; px[1] = wlt[1]; px[2] = wlt[0];
        }
    return 1;
}
";

fn build_fake(dir: &Path) -> Option<PathBuf> {
    let src = dir.join("fake.c");
    std::fs::write(&src, FAKE_C).unwrap();
    let lib = dir.join("libfakewlt.so");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .ok()?;
    status.success().then_some(lib)
}

#[test]
fn loads_a_library_and_decodes_through_the_configured_symbol() {
    let dir = tempfile::tempdir().unwrap();
    let Some(lib) = build_fake(dir.path()) else {
        eprintln!("no C compiler: skipping the loader test");
        return;
    };
    let config = PhotoConfig {
        library: Some(lib.clone()),
        symbol: "fake_wlt2bmp".into(),
        success_code: 1,
        output: OutputLayout::Auto,
    };
    let decoder = photo::load(&config).unwrap().expect("a decoder");
    let mut wlt = vec![0u8; 1024];
    wlt[0] = 200;
    wlt[1] = 100;
    let p = decoder.decode(&wlt).unwrap();
    assert_eq!((p.width, p.height), (102, 126));
    // RGB from BGR, flags passed as 0 (never "save a file").
    assert_eq!(&p.rgb[..3], &[200, 100, 0]);
    let last = p.rgb.len() - 3;
    assert_eq!(&p.rgb[last..], &[200, 100, 0]);

    // The library's failure code is reported.
    wlt[0] = 0xFF;
    assert!(matches!(
        decoder.decode(&wlt),
        Err(PhotoError::DecoderFailed(-3))
    ));
    // Wrong input length never reaches the library.
    assert!(matches!(
        decoder.decode(&wlt[..10]),
        Err(PhotoError::WrongInputLength(10))
    ));

    // A missing symbol is a clear error.
    let missing = PhotoConfig {
        symbol: "no_such_function".into(),
        ..config
    };
    assert!(matches!(
        photo::load(&missing),
        Err(PhotoError::Symbol { .. })
    ));
}

#[test]
fn a_missing_library_is_a_clear_error() {
    let config = PhotoConfig {
        library: Some("/nonexistent/libwlt2bmp.so".into()),
        ..PhotoConfig::default()
    };
    let err = photo::load(&config).err().unwrap();
    assert!(
        err.to_string().contains("/nonexistent/libwlt2bmp.so"),
        "{err}"
    );
}
