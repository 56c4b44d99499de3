//! The whole simulated printer's receive path: real-time filter, decoder, print engine and
//! slip rendering must survive any byte stream.
#![no_main]

use std::sync::{Arc, OnceLock};

use kiosk_printer::sim::{SimConfig, SimPrinter};
use kiosk_printer::{CjkFont, FontSource};
use libfuzzer_sys::fuzz_target;

fn font() -> Arc<CjkFont> {
    static FONT: OnceLock<Arc<CjkFont>> = OnceLock::new();
    FONT.get_or_init(|| CjkFont::load(&FontSource::default()).expect("font")).clone()
}

fuzz_target!(|data: &[u8]| {
    let sim = SimPrinter::with_font(SimConfig { keep_slips: 2, ..SimConfig::default() }, font());
    for chunk in data.chunks(7) {
        sim.feed_bytes(chunk);
    }
    let _ = sim.slips();
});
