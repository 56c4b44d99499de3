//! Reply decoder throughput: a realistic bus capture (lock replies, query-all replies of 3
//! and 4 status bytes, bad checksums and line noise), fed all at once and byte by byte.
#![allow(clippy::unwrap_used, reason = "benchmark set-up on constant data")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kiosk_locker::protocol::{Expect, Reply, ReplyDecoder, StatusBits, Switch};

fn capture() -> Vec<u8> {
    let mut out = Vec::new();
    let mut seed = 0x2545_f491_u32;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for i in 0..1000u32 {
        let r = rand();
        let board = u8::try_from(r % 8).unwrap() + 1;
        let lock = u8::try_from((r >> 8) % 24).unwrap() + 1;
        match i % 5 {
            0 | 1 => out.extend(
                Reply::Lock {
                    header: if r & 1 == 0 { 0x8A } else { 0x80 },
                    board,
                    lock,
                    switch: if r & 2 == 0 {
                        Switch::Set
                    } else {
                        Switch::Clear
                    },
                }
                .encode(),
            ),
            2 => {
                let status = StatusBits::from_wire(&r.to_be_bytes()[1..]).unwrap();
                out.extend(Reply::All { board, status }.encode());
            }
            3 => {
                let status = StatusBits::from_wire(&r.to_be_bytes()).unwrap();
                out.extend(Reply::All { board, status }.encode());
            }
            _ => {
                // Noise, and a frame with a broken checksum.
                out.extend([0x00, 0xFF, 0x13, 0x8A]);
                let mut bad = Reply::Lock {
                    header: 0x8A,
                    board,
                    lock,
                    switch: Switch::Set,
                }
                .encode();
                if let Some(last) = bad.last_mut() {
                    *last ^= 0x55;
                }
                out.extend(bad);
            }
        }
    }
    out
}

fn decode(c: &mut Criterion) {
    let bytes = capture();
    let mut group = c.benchmark_group("reply_decoder");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("whole_capture", |b| {
        b.iter(|| {
            let mut dec = ReplyDecoder::new(Expect::Any);
            dec.push(black_box(&bytes));
            let mut frames = 0usize;
            while let Some(e) = dec.next_event(true) {
                frames += usize::from(matches!(e, kiosk_locker::protocol::Decoded::Frame(_)));
            }
            frames
        });
    });
    group.bench_function("byte_by_byte", |b| {
        b.iter(|| {
            let mut dec = ReplyDecoder::new(Expect::Any);
            let mut frames = 0usize;
            for byte in black_box(&bytes) {
                dec.push(std::slice::from_ref(byte));
                while let Some(e) = dec.next_event(false) {
                    frames += usize::from(matches!(e, kiosk_locker::protocol::Decoded::Frame(_)));
                }
            }
            while let Some(e) = dec.next_event(true) {
                frames += usize::from(matches!(e, kiosk_locker::protocol::Decoded::Frame(_)));
            }
            frames
        });
    });
    // One transaction's reply as the driver sees it: a 4-status-byte query-all.
    let one = Reply::All {
        board: 1,
        status: StatusBits::from_wire(&[0xFF, 0x00, 0x0F, 0xF0]).unwrap(),
    }
    .encode();
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_query_all_reply", |b| {
        b.iter(|| {
            let mut dec = ReplyDecoder::new(Expect::All);
            dec.push(black_box(&one));
            dec.next_event(true)
        });
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
