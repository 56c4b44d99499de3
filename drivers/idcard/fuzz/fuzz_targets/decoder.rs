//! Fuzzes the GA 467 streaming decoders and everything a reply feeds: any bytes, split into
//! chunks of any sizes, must never panic; every frame the decoder accepts must re-encode to
//! the same bytes; read payloads go on through identity decoding and JSON.
//!
//! `cd drivers/idcard/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run decoder -- -max_total_time=300`
#![no_main]

use kiosk_idcard::identity::Identity;
use kiosk_idcard::protocol::{self, Command, Decoder, Reply, SamId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunking, bytes)) = data.split_first() else {
        return;
    };
    // Chunk sizes 1..=32 (or everything at once when 0).
    let chunk = usize::from(chunking % 33);
    let chunks: Vec<&[u8]> = if chunk == 0 {
        vec![bytes]
    } else {
        bytes.chunks(chunk).collect()
    };

    let mut replies = Decoder::replies();
    let mut commands = Decoder::commands();
    for piece in chunks {
        replies.push(piece);
        commands.push(piece);
        while let Some(next) = replies.next_frame() {
            let Ok(frame) = next else { continue };
            let body = frame.body().to_vec();
            let mut again = Vec::new();
            protocol::encode_frame(&body, &mut again).unwrap();
            let mut check = Decoder::replies();
            check.push(&again);
            assert_eq!(check.next_frame().unwrap().unwrap().body(), &body[..]);
            let Some(reply) = Reply::from_frame(frame) else {
                continue;
            };
            let _ = reply.status().to_string();
            let _ = SamId::parse(reply.data());
            for parsed in [
                protocol::parse_read_base(reply.data()),
                protocol::parse_read_with_fingerprint(reply.data()),
            ] {
                if let Ok(p) = parsed {
                    if let Ok(identity) = Identity::decode(p.text, p.photo, p.fingerprint) {
                        let _ = serde_json::to_string(&identity).unwrap();
                        let _ = format!("{identity:?}");
                    }
                }
            }
        }
        while let Some(next) = commands.next_frame() {
            if let Ok(frame) = next
                && let Some(command) = Command::from_body(frame.body())
            {
                assert_eq!(&command.encode()[7..command.encode().len() - 1], frame.body());
            }
        }
        assert!(replies.buffered() <= 7 + usize::from(protocol::MAX_REPLY_LEN) + 32);
    }
    // Text blocks straight from the input, too.
    if bytes.len() >= 256 {
        let _ = Identity::decode(&bytes[..256], &bytes[256..], &[]);
    }
});
