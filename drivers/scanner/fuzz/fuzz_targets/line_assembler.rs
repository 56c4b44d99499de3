//! SANE parameters plus a byte stream cut at arbitrary places: the parameter checks, the
//! line assembler (every depth, padding, partial lines) and the thumbnail downscaler must
//! never panic, and every completed row must have the announced length.
#![no_main]

use kiosk_scanner::protocol::{LineAssembler, PageFormat, Parameters};
use kiosk_scanner::thumb::Downscaler;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let word = |i: usize| i32::from(i16::from_le_bytes([data[i], data[i + 1]]));
    let params = Parameters {
        format: word(0) % 8,
        last_frame: data[2] & 1 == 1,
        bytes_per_line: word(3),
        pixels_per_line: word(5),
        lines: word(7),
        depth: i32::from(data[9]),
    };
    let cut = usize::from(data[10]).max(1);
    let long_side = u32::from(data[11]).max(1);
    let stream = &data[12..];
    let Ok(format) = PageFormat::from_parameters(&params) else {
        return;
    };
    let mut asm = LineAssembler::new(format);
    let mut thumb = Downscaler::new(
        format.width,
        format.height.unwrap_or(64),
        format.channels,
        long_side,
    );
    let mut rows = 0u64;
    for chunk in stream.chunks(cut) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let (n, done) = asm.push(rest);
            assert!(n > 0 && n <= rest.len());
            rest = &rest[n..];
            if done {
                rows += 1;
                assert_eq!(asm.row().len(), format.row_len());
                thumb.push_row(asm.row());
            }
        }
    }
    assert_eq!(rows, asm.lines());
    let t = thumb.finish();
    assert_eq!(
        t.pixels.len(),
        t.width as usize * t.height as usize * usize::from(t.channels)
    );
});
