//! The F2 stream decoder and frame parsers on arbitrary bytes, fed in arbitrary pieces:
//! never a panic, and every frame it returns re-encodes to a frame that decodes the same.
#![no_main]

use kiosk_dispenser::protocol::{Decoder, Token, frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new();
    let (cuts, bytes) = data.split_at(data.len().min(4));
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = usize::from(cuts.get(i % cuts.len().max(1)).copied().unwrap_or(7)).max(1);
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        d.push(piece);
        rest = tail;
        i += 1;
        while let Some(t) = d.next_token() {
            if let Ok(Token::Frame(f)) = t {
                let _ = f.parse_reply();
                let _ = f.parse_command();
                if f.text.len() <= 1018 {
                    let mut again = Decoder::new();
                    again.push(&frame(f.addr, &f.text));
                    assert_eq!(again.next_token(), Some(Ok(Token::Frame(f))));
                }
            }
        }
    }
    d.skip_partial();
    while d.next_token().is_some() {}
});
