//! The JPEG header reader (used to check stored pages and size PDF pages) must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = kiosk_scanner::jpeg_header::parse(data) {
        assert!(info.width > 0 && info.height > 0);
    }
});
