//! Speed goals of issue 3:
//! - decoding a full 1295-byte read response: under 5 µs;
//! - from the last byte of the response to `CardPresented` delivered through the handle:
//!   under 1 ms.
//!
//! `cargo bench -p kiosk-idcard --bench idcard`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kiosk_idcard::handle::{Event, Handle, Options};
use kiosk_idcard::identity::{Identity, encode_field, layout};
use kiosk_idcard::protocol::{self, Decoder, Reply, Status};
use kiosk_idcard::sim::{SimCard, SimControl, SimOptions, Simulator};
use kiosk_idcard::{AppendedAddress, ReadOptions, Timeouts, transport};
use kiosk_link::{DeviceState, Port};

fn read_response() -> Vec<u8> {
    use layout::resident as r;
    let mut text = vec![0u8; 256];
    encode_field(&mut text, (0, 256), "", "all").unwrap();
    encode_field(&mut text, r::NAME, "王测试", "name").unwrap();
    encode_field(&mut text, r::GENDER, "1", "gender").unwrap();
    encode_field(&mut text, r::NATION, "01", "nation").unwrap();
    encode_field(&mut text, r::BIRTH, "19910101", "birth").unwrap();
    encode_field(
        &mut text,
        r::ADDRESS,
        "江西省示例市示例县测试镇样例路1号",
        "address",
    )
    .unwrap();
    encode_field(&mut text, r::ID_NUMBER, "360426199101010071", "id").unwrap();
    encode_field(&mut text, r::AUTHORITY, "示例县公安局", "authority").unwrap();
    encode_field(&mut text, r::VALID_FROM, "20150301", "from").unwrap();
    encode_field(&mut text, r::VALID_UNTIL, "20350301", "until").unwrap();
    let data = protocol::build_read_base(&text, &[0x5A; 1024]).unwrap();
    let mut frame = Vec::new();
    protocol::encode_reply(0, 0, Status::Success, &data, &mut frame).unwrap();
    assert_eq!(frame.len(), protocol::READ_BASE_REPLY_LEN);
    frame
}

fn decoding(c: &mut Criterion) {
    let frame = read_response();
    let mut group = c.benchmark_group("decode_1295_byte_read_response");
    let mut decoder = Decoder::replies();
    group.bench_function("frame_only", |b| {
        b.iter(|| {
            decoder.push(std::hint::black_box(&frame));
            let reply = Reply::from_frame(decoder.next_frame().unwrap().unwrap()).unwrap();
            std::hint::black_box(reply.status())
        });
    });
    group.bench_function("frame_to_identity", |b| {
        b.iter(|| {
            decoder.push(std::hint::black_box(&frame));
            let reply = Reply::from_frame(decoder.next_frame().unwrap().unwrap()).unwrap();
            let payload = protocol::parse_read_base(reply.data()).unwrap();
            let identity =
                Identity::decode(payload.text, payload.photo, payload.fingerprint).unwrap();
            std::hint::black_box(identity.birth_date)
        });
    });
    group.finish();
}

fn card() -> SimCard {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../resources/sim/idcard/resident_han.json"
    );
    SimCard::from_file(path.as_ref()).unwrap()
}

/// With `appended`, the read is followed by `30 03`, whose reply is then the last one.
fn options(appended: bool) -> Options {
    Options {
        timeouts: Timeouts::uniform(Duration::from_millis(500)),
        poll_interval: Duration::from_millis(1),
        read: ReadOptions {
            appended_address: if appended {
                AppendedAddress::Append
            } else {
                AppendedAddress::Ignore
            },
            ..ReadOptions::default()
        },
        ..Options::default()
    }
}

/// Presents the card, waits for `CardPresented`, and returns the time from the simulator's
/// last reply to the event; then waits for the card to be done.
fn one_presentation(
    sim: &SimControl,
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    card: &SimCard,
) -> Duration {
    sim.present(card.clone());
    let latency = loop {
        match events.blocking_recv().unwrap() {
            Event::CardPresented(_) => {
                let now = Instant::now();
                break now.saturating_duration_since(sim.last_reply_at().unwrap());
            }
            Event::CardDetected => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    loop {
        if matches!(events.blocking_recv().unwrap(), Event::CardRemoved) {
            break;
        }
    }
    latency
}

fn wait_online(handle: &Handle) {
    let status = handle.status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while status.borrow().state != DeviceState::Online {
        assert!(Instant::now() < deadline, "reader not online");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn bench_memory(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    appended: bool,
    card: &SimCard,
) {
    let sim = Simulator::spawn_in_memory(SimOptions::default());
    let handle = Handle::spawn(sim.opener(), options(appended));
    wait_online(&handle);
    let mut events = handle.subscribe();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| one_presentation(&sim, &mut events, card))
                .sum()
        });
    });
    drop(handle);
    sim.stop();
}

fn latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("last_reply_byte_to_card_presented");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(50))
        .measurement_time(Duration::from_millis(300));
    let card = card();

    // The measure: the last reply is the 1295-byte read response.
    bench_memory(&mut group, "memory_link", false, &card);
    // With the appended-address read after it, the last reply is the `30 03` answer.
    bench_memory(&mut group, "memory_link_with_appended_address", true, &card);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyBENCH");
    let sim = Simulator::spawn_on_pty(&path, SimOptions::default()).unwrap();
    let port: Port = path.to_str().unwrap().parse().unwrap();
    let opts = options(false);
    let handle = Handle::spawn(transport::opener(port, &opts), opts);
    wait_online(&handle);
    let mut events = handle.subscribe();
    group.bench_function("pty", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| one_presentation(&sim, &mut events, &card))
                .sum()
        });
    });
    group.finish();
}

criterion_group!(benches, decoding, latency);
criterion_main!(benches);
