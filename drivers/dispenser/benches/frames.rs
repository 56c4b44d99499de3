//! Software time of the dispenser part per card: frame building and decoding, and the whole
//! handshake for one issuing sequence against the simulator over an in-memory link (no
//! device delays: what is measured is our code and thread hand-offs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kiosk_dispenser::protocol::{Command, Decoder, MoveTarget, encode_command, frame};
use kiosk_dispenser::sim::{SimConfig, Simulator};
use kiosk_dispenser::{Driver, Timeouts};

fn frames(c: &mut Criterion) {
    let apdu = [0u8; 40];
    c.bench_function("encode status + move + 40-byte APDU", |b| {
        b.iter(|| {
            let a = encode_command(0, &Command::status()).unwrap();
            let m = encode_command(0, &Command::move_card(MoveTarget::IcContact)).unwrap();
            let p = encode_command(0, &Command::cpu_apdu(black_box(&apdu))).unwrap();
            black_box((a, m, p))
        });
    });
    let reply = frame(0, &[0x50, 0x32, 0x31, b'2', b'2', b'0']);
    c.bench_function("decode ACK + reply", |b| {
        let mut d = Decoder::new();
        b.iter(|| {
            d.push(&[0x06]);
            d.push(black_box(&reply));
            let t1 = d.next_token();
            let t2 = d.next_token().unwrap().unwrap();
            black_box((t1, t2.clone()))
        });
    });
}

fn issue_sequence(c: &mut Criterion) {
    let sim = Simulator::new(SimConfig {
        hopper: u32::MAX,
        reject_capacity: u32::MAX,
        ..SimConfig::default()
    });
    let control = sim.control();
    let (a, b) = kiosk_link::memory::pair();
    sim.spawn(Box::new(b));
    let mut d = Driver::new(Box::new(a), 0, Timeouts::default()).unwrap();
    d.start().unwrap();
    c.bench_function(
        "issue sequence over memory link (to IC, status, to gate, taken, status)",
        |b| {
            b.iter(|| {
                d.to_encoder().unwrap();
                d.status().unwrap();
                d.to_gate().unwrap();
                control.take_card();
                black_box(d.status().unwrap())
            });
        },
    );
}

criterion_group!(benches, frames, issue_sequence);
criterion_main!(benches);
