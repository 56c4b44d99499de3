//! vpcd's length-prefixed messages on arbitrary bytes, answered by a virtual card: never a
//! panic, whatever vpcd (or a broken socket) sends.
#![no_main]

use kiosk_encoder::vpcd::{Decoder, answer};
use kiosk_encoder::{CardProfile, VirtualCard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let card = VirtualCard::new(CardProfile {
        t0_get_response: data.first().is_some_and(|b| b & 1 == 1),
        ..CardProfile::default()
    });
    let mut d = Decoder::default();
    for piece in data.chunks(5) {
        d.push(piece);
        while let Some(m) = d.next_message() {
            let _ = answer(&card, &m);
        }
    }
});
