//! Software time of the chip part per card: the whole SSSE dialogue (power on, select, read
//! the card id, two challenge/authenticate rounds with the stand-in bureau, eight UPDATE
//! RECORDs, read back, power off) against the virtual card in memory, and the same through
//! the dispenser's CM 51 contact reader with the dispenser simulator on a memory link.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kiosk_dispenser::sim::{SimConfig, Simulator};
use kiosk_dispenser::{Driver, Timeouts, Vcc};
use kiosk_encoder::standin::StandInBureau;
use kiosk_encoder::{
    CardProfile, CardStock, CardTransport, Crt591Transport, FlowOptions, HolderData,
    Personalisation, VirtualCard, personalise,
};

fn data() -> Personalisation {
    Personalisation::from_holder(&HolderData {
        ssn: "110101202401010011".into(),
        name: "欧阳娜娜".into(),
        sex: "2".into(),
        ethnicity: "01".into(),
        birth_date: "20240101".into(),
        card_number: "A12345678".into(),
        issue_date: "20260301".into(),
        expiry_date: "20360301".into(),
    })
    .unwrap()
}

fn in_memory(c: &mut Criterion) {
    let data = data();
    c.bench_function("personalise: virtual card in memory", |b| {
        b.iter(|| {
            let mut t = CardTransport {
                card: VirtualCard::new(CardProfile::default()),
            };
            let mut bureau = StandInBureau::default();
            black_box(personalise(&mut t, &mut bureau, &data, &FlowOptions::default()).unwrap())
        });
    });
}

fn through_dispenser(c: &mut Criterion) {
    let data = data();
    let sim = Simulator::new(SimConfig {
        hopper: u32::MAX,
        reject_capacity: u32::MAX,
        ..SimConfig::default()
    });
    let stock = CardStock::new(CardProfile::default());
    sim.control().set_chip_factory(stock.factory());
    let (a, b) = kiosk_link::memory::pair();
    sim.spawn(Box::new(b));
    let mut driver = Driver::new(Box::new(a), 0, Timeouts::default()).unwrap();
    driver.start().unwrap();
    driver.to_encoder().unwrap();
    let mut t = Crt591Transport::new(driver, Vcc::Iso5V);
    c.bench_function(
        "personalise: through CM 51 and the dispenser simulator",
        |b| {
            b.iter(|| {
                let mut bureau = StandInBureau::default();
                black_box(personalise(&mut t, &mut bureau, &data, &FlowOptions::default()).unwrap())
            });
        },
    );
}

criterion_group!(benches, in_memory, through_dispenser);
criterion_main!(benches);
