//! Command/response APDU parsing and the virtual card's command handling on arbitrary bytes
//! (each 0xFF-separated piece is one APDU): never a panic, and every parsed APDU re-encodes
//! to the same bytes.
#![no_main]

use kiosk_encoder::apdu::{Apdu, Response};
use kiosk_encoder::{CardProfile, VirtualCard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let card = VirtualCard::new(CardProfile::default());
    card.power_on();
    for piece in data.split(|b| *b == 0xFF) {
        if let Ok(apdu) = Apdu::parse(piece) {
            assert_eq!(apdu.to_bytes(), piece);
        }
        let _ = Response::from_bytes(piece);
        let _ = card.process(piece);
    }
});
