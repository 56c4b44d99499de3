//! The real driver against the wire-level simulator, over an in-memory link and over a real
//! pseudo-terminal pair: every card type, every scripted fault, every status word.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Rig, SHORT, Via, assert_matches_sample, card, rig, sample_files, sample_json};
use kiosk_idcard::identity::IdentityError;
use kiosk_idcard::protocol::Status;
use kiosk_idcard::sim::{Fault, On, SimCard, SimOptions};
use kiosk_idcard::{AppendedAddress, CardType, Error, ReadOptions, ValidUntil};

/// Generates one test per transport from a body taking `via: Via`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn memory() {
                let body: fn(Via) = $body;
                body(Via::Memory);
            }
            #[test]
            fn pty() {
                let body: fn(Via) = $body;
                body(Via::Pty);
            }
        }
    };
}

fn presented(via: Via, name: &str) -> Rig {
    let r = rig(via, SimOptions::default());
    r.sim.present(card(name));
    r
}

fn read(r: &mut Rig) -> Result<kiosk_idcard::Identity, Error> {
    assert!(r.driver.find_card()?, "card found");
    r.driver.read_identity(&ReadOptions::default())
}

both!(every_sample_card_reads_back_as_its_file, |via| {
    let files = sample_files();
    assert!(files.len() >= 8);
    let mut r = rig(via, SimOptions::default());
    let mut types = std::collections::HashSet::new();
    for file in files {
        r.sim
            .present(kiosk_idcard::sim::SimCard::from_file(&file).unwrap());
        let identity = read(&mut r).unwrap();
        types.insert(identity.card_type);
        let sample: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_matches_sample(&serde_json::to_value(&identity).unwrap(), &sample);
        assert_eq!(identity.raw_text.len(), 256);
        assert_eq!(identity.photo_wlt.len(), 1024);
        assert!(identity.photo_wlt.starts_with(b"WLT-SIMULATED"));
        if identity.card_type != CardType::ForeignPermanent2017 {
            assert!(kiosk_idcard::id_number::is_valid(&identity.id_number));
        }
    }
    assert_eq!(types.len(), 4, "all four card types");
});

#[test]
fn load_samples_finds_every_card_file() {
    let cards = kiosk_idcard::sim::load_samples(&common::samples_dir()).unwrap();
    assert_eq!(cards.len(), sample_files().len());
    assert!(cards.iter().any(|c| c.label == "resident_han"));
}

both!(long_address_is_joined_from_the_appended_address, |via| {
    let mut r = presented(via, "resident_mongol_long_address");
    let identity = read(&mut r).unwrap();
    let sample = sample_json("resident_mongol_long_address");
    assert_eq!(identity.address.as_deref(), sample["address"].as_str());
    assert_eq!(
        identity.address_on_card.as_ref().unwrap().chars().count(),
        35
    );
    assert!(identity.appended_address.is_some());
    assert_eq!(identity.nation.as_deref(), Some("蒙古"));
    assert_eq!(identity.nation_code, Some(2));
});

both!(appended_address_policies, |via| {
    let mut r = presented(via, "resident_mongol_long_address");
    let options = ReadOptions {
        appended_address: AppendedAddress::Ignore,
        ..ReadOptions::default()
    };
    assert!(r.driver.find_card().unwrap());
    let identity = r.driver.read_identity(&options).unwrap();
    assert_eq!(identity.appended_address, None);
    assert_eq!(identity.address.as_ref().unwrap().chars().count(), 35);
});

both!(rare_characters_and_long_term_validity, |via| {
    let mut r = presented(via, "resident_rare_name");
    let identity = read(&mut r).unwrap();
    assert_eq!(identity.name, "韦龘𠮷");
    assert_eq!(identity.id_number, "45010220000229008X");
    r.sim.present(card("resident_long_term"));
    let identity = read(&mut r).unwrap();
    assert_eq!(identity.valid_until, ValidUntil::LongTerm);
});

both!(read_with_fingerprint, |via| {
    let r0 = rig(via, SimOptions::default());
    let mut r = r0;
    let mut json = sample_json("resident_han");
    json["fingerprint_len"] = 1024.into();
    r.sim
        .present(SimCard::from_json("fp", &json.to_string()).unwrap());
    assert!(r.driver.find_card().unwrap());
    let options = ReadOptions {
        fingerprint: true,
        ..ReadOptions::default()
    };
    let identity = r.driver.read_identity(&options).unwrap();
    assert_eq!(identity.fingerprint.len(), 1024);
    assert_eq!(identity.id_number, "360426199101010071");
});

both!(no_card_is_not_an_error, |via| {
    let mut r = rig(via, SimOptions::default());
    assert!(!r.driver.find_card().unwrap());
    let err = r.driver.select_card().unwrap_err();
    assert_eq!(err.status(), Some(Status::SelectFailed));
});

both!(
    a_read_card_is_not_found_again_until_it_is_presented_again,
    |via| {
        let mut r = presented(via, "resident_han");
        read(&mut r).unwrap();
        assert!(!r.driver.find_card().unwrap(), "halted after the read");
        r.sim.present(card("resident_han"));
        assert!(r.driver.find_card().unwrap());
    }
);

both!(wrong_check_digit_is_refused, |via| {
    let mut r = rig(via, SimOptions::default());
    let mut json = sample_json("resident_han");
    json["id_number"] = "360426199101010072".into();
    r.sim
        .present(SimCard::from_json("bad", &json.to_string()).unwrap());
    let err = read(&mut r).unwrap_err();
    assert!(
        matches!(err, Error::Identity(IdentityError::IdNumber(_))),
        "{err}"
    );
    // The message names the problem and no personal data.
    let msg = err.to_string();
    assert!(msg.contains("check digit"), "{msg}");
    assert!(!msg.contains("3604"), "{msg}");
});

both!(fault_noise_is_skipped, |via| {
    let mut r = presented(via, "resident_han");
    r.sim.inject(On::FindCard, Fault::Noise(40));
    r.sim.inject(On::Read, Fault::Noise(300));
    assert_eq!(read(&mut r).unwrap().id_number, "360426199101010071");
    assert_eq!(r.sim.pending_faults(), 0);
});

both!(fault_bad_checksum_is_resent_once, |via| {
    let mut r = presented(via, "resident_han");
    r.sim.inject(On::Read, Fault::BadChecksum);
    assert_eq!(read(&mut r).unwrap().id_number, "360426199101010071");
    assert_eq!(r.sim.stats().reads, 2, "the read was sent twice");
});

both!(fault_bad_checksum_twice_is_an_error, |via| {
    let mut r = presented(via, "resident_han");
    r.sim.inject(On::Read, Fault::BadChecksum);
    r.sim.inject(On::Read, Fault::BadChecksum);
    let err = read(&mut r).unwrap_err();
    assert!(matches!(err, Error::BadChecksum { .. }), "{err}");
    assert!(err.to_string().contains("nothing was used"));
});

both!(fault_truncated_frame, |via| {
    let mut r = presented(via, "resident_han");
    r.sim.inject(On::FindCard, Fault::Truncated);
    let err = r.driver.find_card().unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    // A truncated read is asked for once more and succeeds.
    r.sim.inject(On::Read, Fault::Truncated);
    assert_eq!(read(&mut r).unwrap().name, "王测试");
});

both!(fault_no_reply, |via| {
    let mut r = presented(via, "resident_han");
    r.sim.inject(On::FindCard, Fault::NoReply);
    let err = r.driver.find_card().unwrap_err();
    assert!(matches!(err, Error::NoReply { .. }), "{err}");
    assert!(err.is_transport() && !err.is_disconnect());
    r.sim.inject(On::Read, Fault::NoReply);
    assert_eq!(read(&mut r).unwrap().name, "王测试");
    r.sim.inject(On::Read, Fault::NoReply);
    r.sim.inject(On::Read, Fault::NoReply);
    r.sim.present(card("resident_han"));
    let err = read(&mut r).unwrap_err();
    assert!(matches!(err, Error::NoReply { .. }), "{err}");
});

both!(fault_slow_reply, |via| {
    let mut r = presented(via, "resident_han");
    // Within the deadline: fine.
    r.sim.inject(On::SamStatus, Fault::SlowReply(SHORT / 3));
    r.driver.sam_status().unwrap();
    // Past the deadline: no reply, and the late answer is not taken for the next command.
    r.sim.inject(On::SamId, Fault::SlowReply(SHORT * 2));
    let err = r.driver.sam_id().unwrap_err();
    assert!(matches!(err, Error::NoReply { .. }), "{err}");
    std::thread::sleep(SHORT * 2);
    assert!(r.driver.find_card().unwrap());
});

both!(fault_card_removed_mid_read, |via| {
    let mut r = presented(via, "resident_han");
    r.sim.inject(On::Read, Fault::RemoveCardDuringRead);
    let err = read(&mut r).unwrap_err();
    assert_eq!(err.status(), Some(Status::ReadFailed), "{err}");
    assert!(!r.sim.has_card());
    assert!(!r.driver.find_card().unwrap());
});

both!(fault_unplug, |via| {
    let mut r = presented(via, "resident_han");
    r.driver.sam_status().unwrap();
    r.sim.unplug();
    let mut last = None;
    assert!(
        common::eventually(Duration::from_secs(2), || {
            match r.driver.sam_status() {
                Err(e) if e.is_disconnect() => true,
                other => {
                    last = Some(format!("{other:?}"));
                    false
                }
            }
        }),
        "{last:?}"
    );
    if let Some(path) = &r.path {
        assert!(
            common::eventually(Duration::from_secs(1), || std::fs::symlink_metadata(path)
                .is_err()),
            "symlink gone while unplugged"
        );
    }
});

both!(every_status_word_becomes_a_named_error, |via| {
    let mut r = rig(via, SimOptions::default());
    for status in Status::ALL.into_iter().chain([Status::Unknown(0x55)]) {
        if status == Status::Success {
            continue;
        }
        r.sim.inject(On::SamStatus, Fault::Status(status));
        let result = r.driver.sam_status();
        match status {
            // A damaged-command complaint is answered by re-sending once.
            Status::HostChecksumError | Status::HostLengthError => {
                assert!(result.is_ok(), "{status:?}");
                r.sim.inject(On::SamStatus, Fault::Status(status));
                r.sim.inject(On::SamStatus, Fault::Status(status));
                let err = r.driver.sam_status().unwrap_err();
                assert_eq!(err.status(), Some(status));
            }
            _ => {
                let err = result.unwrap_err();
                assert_eq!(err.status(), Some(status), "{err}");
                assert!(err.to_string().contains(status.meaning()), "{err}");
            }
        }
    }
});

both!(sam_commands, |via| {
    let mut r = rig(via, SimOptions::default());
    assert_eq!(
        r.driver.sam_id().unwrap().formatted,
        "05.01-20240101-000000001-123456789"
    );
    r.driver.reset_sam().unwrap();
    r.driver
        .set_baud(kiosk_idcard::protocol::Baud::B115200)
        .unwrap();
});

both!(replug_lets_a_new_link_work, |via| {
    if via == Via::Memory {
        // A single in-memory link cannot be replugged; see the handle tests for the
        // pluggable in-memory simulator.
        return;
    }
    let mut r = presented(via, "resident_han");
    r.sim.unplug();
    assert!(common::eventually(Duration::from_secs(2), || r
        .driver
        .sam_status()
        .is_err_and(|e| e.is_disconnect())));
    r.sim.replug();
    let path = r.path.clone().unwrap();
    assert!(common::eventually(Duration::from_secs(2), || path.exists()));
    let link = kiosk_link::serial::SerialLink::open(&path, 115_200).unwrap();
    let mut driver = kiosk_idcard::Driver::new(Box::new(link), common::timeouts());
    assert!(driver.find_card().unwrap());
    assert_eq!(
        driver.read_identity(&ReadOptions::default()).unwrap().name,
        "王测试"
    );
});
