//! The flow through a REAL pcscd: the virtual card speaks vpcd's socket protocol, the
//! encoder talks PC/SC to "Virtual PCD 00 00". Each test holds the cross-process vpcd lock
//! (only one card can attach to the reader, and other test binaries use it too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kiosk_encoder::apdu::SwError;
use kiosk_encoder::cli::apdu_json;
use kiosk_encoder::ssse::{EF06, tags};
use kiosk_encoder::standin::StandInBureau;
use kiosk_encoder::vpcd::testing::{
    VpcdLock, attach_and_wait, detach_and_wait, ensure_pcscd, lock_vpcd,
};
use kiosk_encoder::vpcd::{Attachment, READER_NAME};
use kiosk_encoder::{
    ApduTransport, CardProfile, ChipFault, FlowOptions, HolderData, PcscTransport, Personalisation,
    Step, TransportError, VirtualCard, personalise,
};

struct Rig {
    card: VirtualCard,
    transport: PcscTransport,
    attachment: Option<Attachment>,
    _lock: VpcdLock,
}

/// Locks the reader, makes sure pcscd runs, plugs a fresh virtual card in (with its own
/// ATR) and waits until pcscd shows it.
fn rig(mut profile: CardProfile) -> Rig {
    let lock = lock_vpcd().unwrap();
    ensure_pcscd(READER_NAME, Duration::from_secs(15)).unwrap();
    let tag: [u8; 4] = rand_bytes();
    profile.historical = [b"SSSE".as_slice(), &tag].concat();
    let card = VirtualCard::new(profile);
    let attachment = attach_and_wait(&card, READER_NAME, Duration::from_secs(20)).unwrap();
    let transport = PcscTransport::open(READER_NAME)
        .unwrap()
        .with_card_wait(Duration::from_secs(5));
    Rig {
        card,
        transport,
        attachment: Some(attachment),
        _lock: lock,
    }
}

fn rand_bytes() -> [u8; 4] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    (nanos ^ std::process::id().rotate_left(16)).to_be_bytes()
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = self.transport.disconnect();
        if let Some(a) = self.attachment.take() {
            // Let pcscd notice the card is gone before the next test attaches one.
            detach_and_wait(a, READER_NAME, Duration::from_secs(10));
        }
    }
}

fn wait_until_absent() {
    let Ok(ctx) = pcsc::Context::establish(pcsc::Scope::User) else {
        return;
    };
    let name = std::ffi::CString::new(READER_NAME).unwrap();
    let mut states = [pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
    for _ in 0..100 {
        if ctx
            .get_status_change(Duration::from_millis(0), &mut states)
            .is_err()
        {
            return;
        }
        if !states[0].event_state().contains(pcsc::State::PRESENT) {
            return;
        }
        states[0].sync_current_state();
        let _ = ctx.get_status_change(Duration::from_millis(100), &mut states);
    }
}

fn data() -> Personalisation {
    Personalisation::from_holder(&HolderData {
        ssn: "110101195001010012".into(),
        name: "王小明".into(),
        sex: "1".into(),
        ethnicity: "01".into(),
        birth_date: "19500101".into(),
        card_number: "B98765432".into(),
        issue_date: "20260301".into(),
        expiry_date: "20360301".into(),
    })
    .unwrap()
}

#[test]
fn personalise_through_pcscd_and_vpcd() {
    let mut rig = rig(CardProfile::default());
    let done = personalise(
        &mut rig.transport,
        &mut StandInBureau::default(),
        &data(),
        &FlowOptions::default(),
    )
    .unwrap();
    assert_eq!(done.atr, rig.card.atr());
    assert_eq!(done.card_id, rig.card.card_id().to_vec());
    assert!(rig.card.record(EF06, tags::NAME.0).is_some());
}

#[test]
fn t0_get_response_through_pcscd() {
    let mut rig = rig(CardProfile {
        t0_get_response: true,
        ..CardProfile::default()
    });
    personalise(
        &mut rig.transport,
        &mut StandInBureau::default(),
        &data(),
        &FlowOptions::default(),
    )
    .unwrap();
}

#[test]
fn chip_errors_through_pcscd() {
    let mut rig = rig(CardProfile::default());
    let run = |rig: &mut Rig, bureau: &mut StandInBureau| {
        personalise(&mut rig.transport, bureau, &data(), &FlowOptions::default()).unwrap_err()
    };
    let mut good = StandInBureau::default();

    rig.card.fail_next_ins(0xA4, ChipFault::Status(0x6A82));
    let e = run(&mut rig, &mut good);
    assert_eq!(
        (e.step(), e.sw_error()),
        (Step::SelectSsse, Some(SwError::FileNotFound)),
        "{e:?}"
    );

    rig.card.fail_next_ins(0xDC, ChipFault::Status(0x6982));
    let e = run(&mut rig, &mut good);
    assert_eq!(e.sw_error(), Some(SwError::SecurityStatusNotSatisfied));

    rig.card.fail_next_ins(0xDC, ChipFault::Status(0x6581));
    let e = run(&mut rig, &mut good);
    assert_eq!(e.sw_error(), Some(SwError::MemoryFailure));

    let e = run(
        &mut rig,
        &mut StandInBureau {
            wrong_key: true,
            ..StandInBureau::default()
        },
    );
    assert_eq!(e.step(), Step::ExternalAuthenticate);
    assert!(matches!(
        e.sw_error(),
        Some(SwError::VerificationFailed { .. })
    ));

    // The technician command line shows the status word's meaning.
    rig.transport.connect().unwrap();
    let json = apdu_json(&mut rig.transport, "00A4040002DEAD").unwrap();
    assert_eq!(json.sw, "6A82");
    assert_eq!(json.meaning, "file or application not found");
    let json = apdu_json(&mut rig.transport, "00 84 00 00 08").unwrap();
    assert_eq!((json.sw.as_str(), json.data.len()), ("9000", 16));
}

#[test]
fn a_silent_chip_through_pcscd_is_no_answer() {
    let mut rig = rig(CardProfile::default());
    rig.card.fail_next_ins(0x84, ChipFault::NoAnswer);
    let e = personalise(
        &mut rig.transport,
        &mut StandInBureau::default(),
        &data(),
        &FlowOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.step(), Step::GetChallenge);
    assert!(e.is_card_gone(), "{e:?}");
}

#[test]
fn a_card_removed_mid_flow_through_pcscd() {
    let mut rig = rig(CardProfile::default());
    rig.card.fail_next_ins(0xDC, ChipFault::Removed);
    let e = personalise(
        &mut rig.transport,
        &mut StandInBureau::default(),
        &data(),
        &FlowOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e.step(), Step::UpdateRecord { .. }), "{e}");
    assert!(e.is_card_gone(), "{e:?}");
    // And a connect now finds no card.
    let mut t = PcscTransport::open(READER_NAME)
        .unwrap()
        .with_card_wait(Duration::from_millis(300));
    wait_until_absent();
    assert!(matches!(t.connect(), Err(TransportError::NoCard)));
}

#[test]
fn an_unknown_reader_is_named_with_the_ones_there_are() {
    let _lock = lock_vpcd().unwrap();
    ensure_pcscd(READER_NAME, Duration::from_secs(15)).unwrap();
    let err = PcscTransport::open("No Such Reader 99").unwrap_err();
    let TransportError::NoReader { available, .. } = err else {
        panic!("{err}")
    };
    assert!(available.contains(READER_NAME));
}
