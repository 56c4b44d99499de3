//! The simulator's ESC/POS decoder: never panics, always makes progress, and its listing is
//! byte-exact, in and out of Chinese mode.
#![no_main]

use kiosk_printer::sim::decoder::{Decoded, decode, listing, listing_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for chinese in [false, true] {
        let mut rest = data;
        while let Decoded::Op(_, n) = decode(rest, chinese) {
            assert!(n >= 1 && n <= rest.len());
            rest = &rest[n..];
        }
    }
    assert_eq!(listing_bytes(&listing(data)), data);
});
