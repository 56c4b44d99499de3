//! The printer-reply demultiplexer and the status bit tables: never panic, whatever the
//! printer sends, in whatever chunks.
#![no_main]

use kiosk_printer::protocol::{PaperSensor, PrinterStatus, RawStatus, Reply, ReplyDecoder, status_from_asb};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = ReplyDecoder::new().push_all(data);
    // the same bytes one at a time give the same messages
    let mut d = ReplyDecoder::new();
    let mut out = Vec::new();
    for &b in data {
        d.push(b, &mut out);
    }
    assert_eq!(whole, out);
    for r in &whole {
        match *r {
            Reply::Asb(bytes) => {
                let _ = status_from_asb(bytes);
            }
            Reply::GsR(b) => {
                let _ = PaperSensor::from_gs_r(b);
            }
            _ => {}
        }
    }
    if let [a, b, c, e, ..] = *data {
        let s = PrinterStatus::from_raw(RawStatus {
            printer: a,
            offline_cause: b,
            error_cause: c,
            paper: e,
        });
        assert_eq!(s.ready, s.blocking_reason().is_none());
    }
});
