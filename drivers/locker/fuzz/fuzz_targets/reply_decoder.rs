//! Feeds arbitrary bytes, in arbitrary chunks with arbitrary "line idle" signals, to the
//! lock-board reply decoder (and the simulator's command decoder). It must never panic, must
//! consume everything once the line is idle, and every frame it returns must re-encode to
//! bytes that decode to the same frame.
#![no_main]

use kiosk_locker::protocol::{CommandDecoder, Decoded, Expect, Reply, ReplyDecoder};
use libfuzzer_sys::fuzz_target;

fn expect_for(reply: &Reply) -> Expect {
    match reply {
        Reply::Lock { .. } => Expect::Lock,
        Reply::All { .. } => Expect::All,
        Reply::Address { .. } => Expect::Address,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let expect =
        [Expect::Lock, Expect::All, Expect::Address, Expect::Any][usize::from(control & 3)];
    let chunk = usize::from(control >> 2).max(1);
    let mut dec = ReplyDecoder::new(expect);
    let mut frames = Vec::new();
    for (i, piece) in rest.chunks(chunk).enumerate() {
        dec.push(piece);
        let idle = piece
            .first()
            .is_some_and(|b| (b ^ u8::try_from(i % 256).unwrap_or(0)) & 1 == 1);
        while let Some(event) = dec.next_event(idle) {
            if let Decoded::Frame(reply) = event {
                frames.push(reply);
            }
        }
    }
    while let Some(event) = dec.next_event(true) {
        if let Decoded::Frame(reply) = event {
            frames.push(reply);
        }
    }
    assert_eq!(dec.pending(), 0);
    for reply in frames {
        let mut again = ReplyDecoder::new(expect_for(&reply));
        again.push(&reply.encode());
        assert_eq!(again.next_event(true), Some(Decoded::Frame(reply)));
    }

    let mut commands = CommandDecoder::default();
    commands.push(rest);
    while let Some(cmd) = commands.next_command() {
        assert_eq!(
            kiosk_locker::protocol::Command::parse(&cmd.encode()),
            Some(cmd)
        );
    }
});
