//! The SSSE flow against the virtual card in memory and in the dispenser simulator's IC slot
//! (CM 51 through the real dispenser driver and device task).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kiosk_dispenser::sim::{SimConfig, Simulator};
use kiosk_dispenser::{CardPosition, Driver, Timeouts, Vcc};
use kiosk_encoder::apdu::{Apdu, Sw, SwError};
use kiosk_encoder::ssse::{self, EF05, EF06, tags};
use kiosk_encoder::standin::StandInBureau;
use kiosk_encoder::{
    ApduTransport, BureauError, CardProfile, CardStock, CardTransport, ChipFault, Crt591Transport,
    EncodeError, FlowOptions, HolderData, Personalisation, Step, TransportError, VirtualCard,
    exchange, personalise,
};

fn holder() -> Personalisation {
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

fn memory_card(profile: CardProfile) -> (CardTransport, VirtualCard) {
    let card = VirtualCard::new(profile);
    (CardTransport { card: card.clone() }, card)
}

#[test]
fn personalise_writes_every_record_and_reads_it_back() {
    let (mut t, card) = memory_card(CardProfile::default());
    let mut bureau = StandInBureau::default();
    let data = holder();
    let done = personalise(&mut t, &mut bureau, &data, &FlowOptions::default()).unwrap();
    assert_eq!(done.card_id, card.card_id().to_vec());
    assert_eq!(done.records_written, 8);
    assert_eq!(bureau.requests.len(), 2, "one authentication per file");
    assert_eq!(bureau.requests[0].0, EF05);
    assert_eq!(bureau.requests[1].0, EF06);
    let name = card.record(EF06, tags::NAME.0).unwrap();
    assert_eq!(name[..2], [0x09, 30]);
    assert_eq!(&name[2..6], &[0xC5, 0xB7, 0xD1, 0xF4], "GBK 欧阳");
}

#[test]
fn select_mf_first_and_t0_get_response_work_too() {
    let (mut t, _card) = memory_card(CardProfile {
        t0_get_response: true,
        ..CardProfile::default()
    });
    let options = FlowOptions {
        select_mf_first: true,
        select_ef_p1: 0x02,
        challenge_len: 4,
    };
    personalise(&mut t, &mut StandInBureau::default(), &holder(), &options).unwrap();
}

#[test]
fn exchange_follows_61xx_and_6cxx() {
    let (mut t, _card) = memory_card(CardProfile {
        t0_get_response: true,
        ..CardProfile::default()
    });
    t.connect().unwrap();
    let select = Apdu::new(0, 0xA4, 4, 0).with_data(ssse::SSSE_AID);
    assert!(exchange(&mut t, &select).unwrap().sw.is_ok());
    exchange(&mut t, &Apdu::new(0, 0xA4, 0, 0).with_data([0xEF, 0x05])).unwrap();
    // Wrong Le: the card answers 6C12, the exchange re-sends with Le 12, then 61 12 → GET
    // RESPONSE.
    let r = exchange(&mut t, &Apdu::new(0, 0xB2, 1, 4).with_le(5)).unwrap();
    assert_eq!(r.sw, Sw::OK);
    assert_eq!(r.data.len(), 18);
}

fn failing(fault_ins: Option<u8>, fault: ChipFault) -> EncodeError {
    let (mut t, card) = memory_card(CardProfile::default());
    match fault_ins {
        Some(ins) => card.fail_next_ins(ins, fault),
        None => card.fail_next(fault),
    }
    personalise(
        &mut t,
        &mut StandInBureau::default(),
        &holder(),
        &FlowOptions::default(),
    )
    .unwrap_err()
}

#[test]
fn every_scripted_chip_error_is_a_named_step_error() {
    let e = failing(Some(0xA4), ChipFault::Status(0x6A82));
    assert_eq!(e.step(), Step::SelectSsse);
    assert_eq!(e.sw_error(), Some(SwError::FileNotFound));

    let e = failing(Some(0xDC), ChipFault::Status(0x6982));
    assert_eq!(
        e.step(),
        Step::UpdateRecord {
            ef: EF05,
            record: 5
        }
    );
    assert_eq!(e.sw_error(), Some(SwError::SecurityStatusNotSatisfied));

    let e = failing(Some(0xDC), ChipFault::Status(0x6581));
    assert_eq!(e.sw_error(), Some(SwError::MemoryFailure));
    assert_eq!(
        e.to_string(),
        "update record 5 of EF EF05: memory failure (6581)"
    );

    let e = failing(Some(0x84), ChipFault::NoAnswer);
    assert_eq!(e.step(), Step::GetChallenge);
    assert!(matches!(
        e,
        EncodeError::Transport {
            error: TransportError::NoAnswer,
            ..
        }
    ));
    assert!(e.is_card_gone());

    let e = failing(Some(0xB2), ChipFault::Removed);
    assert_eq!(e.step(), Step::ReadCardId);
    assert!(matches!(
        e,
        EncodeError::Transport {
            error: TransportError::CardRemoved,
            ..
        }
    ));
}

#[test]
fn a_wrong_cryptogram_is_verification_failed_and_blocks_after_three() {
    let (mut t, _card) = memory_card(CardProfile::default());
    let mut bureau = StandInBureau {
        wrong_key: true,
        ..StandInBureau::default()
    };
    for left in [2, 1, 0] {
        let e = personalise(&mut t, &mut bureau, &holder(), &FlowOptions::default()).unwrap_err();
        assert_eq!(e.step(), Step::ExternalAuthenticate);
        assert_eq!(
            e.sw_error(),
            Some(SwError::VerificationFailed {
                tries_left: Some(left)
            })
        );
    }
    let e = personalise(&mut t, &mut bureau, &holder(), &FlowOptions::default()).unwrap_err();
    assert_eq!(e.sw_error(), Some(SwError::AuthenticationBlocked));
}

#[test]
fn a_bureau_failure_stops_before_anything_is_written() {
    let (mut t, card) = memory_card(CardProfile::default());
    let mut bureau =
        |_: &kiosk_encoder::AuthRequest<'_>| -> Result<kiosk_encoder::Cryptogram, BureauError> {
            Err(BureauError("card bureau unreachable".into()))
        };
    let e = personalise(&mut t, &mut bureau, &holder(), &FlowOptions::default()).unwrap_err();
    assert_eq!(e.step(), Step::Bureau);
    assert!(card.record(EF05, 5).is_none());
}

#[test]
fn a_record_that_reads_back_differently_is_a_mismatch() {
    let (mut t, _card) = memory_card(CardProfile::default());
    let mut bureau = StandInBureau::default();
    let data = holder();
    personalise(&mut t, &mut bureau, &data, &FlowOptions::default()).unwrap();
    let mut other = data.clone();
    other.records[0].value[0] ^= 1;
    t.connect().unwrap();
    ssse::select_ssse(&mut t).unwrap();
    let e = ssse::verify(&mut t, &other, &FlowOptions::default()).unwrap_err();
    assert!(matches!(
        e,
        EncodeError::VerifyMismatch {
            ef: EF05,
            record: 5
        }
    ));
}

/// Dispense → personalise through CM 51 → gate, all over the wire protocol.
#[test]
fn the_chip_in_the_dispenser_is_personalised_through_cm_51() {
    let sim = Simulator::new(SimConfig::default());
    let control = sim.control();
    let stock = CardStock::new(CardProfile::default());
    control.set_chip_factory(stock.factory());
    let (a, b) = kiosk_link::memory::pair();
    sim.spawn(Box::new(b));
    let mut driver = Driver::new(Box::new(a), 0, Timeouts::short()).unwrap();
    driver.start().unwrap();
    assert_eq!(driver.to_encoder().unwrap().card, CardPosition::Inside);
    let card = stock.last().unwrap();
    let mut t = Crt591Transport::new(driver, Vcc::Iso5V);
    let done = personalise(
        &mut t,
        &mut StandInBureau::default(),
        &holder(),
        &FlowOptions::default(),
    )
    .unwrap();
    assert_eq!(done.card_id, card.card_id().to_vec());
    assert!(card.record(EF06, tags::SSN.0).is_some());
    let mut driver = t.into_inner();
    assert_eq!(driver.to_gate().unwrap().card, CardPosition::AtGate);

    assert!(control.take_card());
    // The next card's chip fails to write: the error names the step; capture it.
    assert_eq!(driver.to_encoder().unwrap().card, CardPosition::Inside);
    let card2 = stock.last().unwrap();
    assert_ne!(card2.card_id(), card.card_id());
    card2.fail_next_ins(0xDC, ChipFault::Status(0x6581));
    let mut t = Crt591Transport::new(driver, Vcc::Iso5V);
    let e = personalise(
        &mut t,
        &mut StandInBureau::default(),
        &holder(),
        &FlowOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.sw_error(), Some(SwError::MemoryFailure));
    let mut driver = t.into_inner();
    assert_eq!(driver.capture().unwrap().card, CardPosition::None);

    // A chip that stays silent is "no answer" (the reader's transmission timeout, 68).
    driver.to_encoder().unwrap();
    stock
        .last()
        .unwrap()
        .fail_next_ins(0x84, ChipFault::NoAnswer);
    let mut t = Crt591Transport::new(driver, Vcc::Iso5V);
    let e = personalise(
        &mut t,
        &mut StandInBureau::default(),
        &holder(),
        &FlowOptions::default(),
    )
    .unwrap_err();
    assert!(e.is_card_gone(), "{e}");
}

/// The device task's handle is a chip reader too (blocking calls from a plain thread).
#[test]
fn the_handle_carries_apdus_to_the_chip() {
    let sim = Simulator::new(SimConfig::default());
    let stock = CardStock::new(CardProfile::default());
    sim.control().set_chip_factory(stock.factory());
    let opener = Box::new(move || {
        let (a, b) = kiosk_link::memory::pair();
        sim.clone().spawn(Box::new(b));
        Ok(Box::new(a) as Box<dyn kiosk_link::Link>)
    });
    let handle = kiosk_dispenser::Handle::spawn(
        opener,
        kiosk_dispenser::HandleConfig {
            timeouts: Timeouts::short(),
            poll_interval: Duration::from_millis(50),
            ..kiosk_dispenser::HandleConfig::default()
        },
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut state = handle.device_status();
        tokio::time::timeout(
            Duration::from_secs(5),
            state.wait_for(|s| s.state == kiosk_link::DeviceState::Online),
        )
        .await
        .unwrap()
        .unwrap();
        handle.to_encoder().await.unwrap();
    });
    let mut t = Crt591Transport::new(handle.clone(), Vcc::Iso5V);
    personalise(
        &mut t,
        &mut StandInBureau::default(),
        &holder(),
        &FlowOptions::default(),
    )
    .unwrap();
    assert!(
        stock
            .last()
            .unwrap()
            .record(EF05, tags::CARD_NUMBER.0)
            .is_some()
    );
}

/// The technician command line through the dispenser's contact reader on a real pty.
#[test]
fn cli_apdu_through_the_dispenser_contact_reader_over_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyCRT");
    let sim = Simulator::new(SimConfig::default());
    let control = sim.control();
    control.set_chip_factory(CardStock::new(CardProfile::default()).factory());
    let (guard, _thread) = sim.spawn_on_pty(&path).unwrap();
    let port: kiosk_link::Port = path.display().to_string().parse().unwrap();
    let mut d = Driver::open(&port, 0, Timeouts::short()).unwrap();
    d.start().unwrap();
    d.to_encoder().unwrap();
    drop(d);
    let args = kiosk_encoder::cli::DeviceArgs {
        reader: None,
        dispenser: Some(port),
        address: 0,
        action: kiosk_encoder::cli::Action::Apdu {
            hex: "00A404000F7378312E73682EC9E7BBE1B1A3D5CF".into(),
        },
    };
    assert_eq!(
        kiosk_encoder::cli::run_device(args).unwrap(),
        std::process::ExitCode::SUCCESS
    );
    // The card stayed where it was (initialise leaves it in place).
    assert_eq!(
        control.card_place(),
        kiosk_dispenser::sim::SimCardPlace::IcContact
    );
    control.stop();
    drop(guard);
}
