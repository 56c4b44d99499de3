//! The client against the simulator over loopback: every endpoint, idempotency, errors,
//! items moving on the simulated clock.

// Helpers of an integration test are test code: they may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::too_many_lines)]

mod common;

use common::*;
use kiosk_platform::mask::{id_number_hash, mask_name, sha256_hex};
use kiosk_platform::sim::{CARD_BUREAU_TEST_KEY, card_bureau_cryptogram};
use kiosk_platform::wire::*;
use kiosk_platform::{PlatformError, Unavailable};
use uuid::Uuid;

fn item_state<'a>(p: &'a ApplicationProgress, id: &str) -> &'a ItemState {
    &p.items.iter().find(|i| i.item_id == id).unwrap().state
}

fn state_names(p: &ApplicationProgress) -> Vec<&'static str> {
    p.items.iter().map(|i| i.state.name()).collect()
}

async fn progress(c: &kiosk_platform::PlatformClient, number: &str) -> ApplicationProgress {
    c.progress_by_code(&ProgressByCodeRequest {
        application_number: number.into(),
        query_code: QUERY_CODE.into(),
    })
    .await
    .unwrap()
    .unwrap()
    .applications
    .remove(0)
}

#[tokio::test]
async fn submit_once_then_again_is_one_application() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    let first = c.submit_application(&s).await.unwrap();
    assert!(first.first_time);
    assert_eq!(first.body.application_id, s.application_id);
    let again = c.submit_application(&s).await.unwrap();
    assert!(!again.first_time);
    assert_eq!(again.body, first.body, "the same answer both times");
    let stats = sim.stats().applications;
    assert_eq!(
        (stats.received, stats.distinct, stats.duplicates),
        (2, 1, 1)
    );
    let stored = sim.application(s.application_id).unwrap();
    assert_eq!(stored.submission, s);
    assert_eq!(stored.case_number, first.body.case_number);
    assert_eq!(first.body.case_number, s.application_number);
}

#[tokio::test]
async fn an_application_number_used_by_another_application_is_a_conflict() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();
    let mut reused = birth_submission();
    reused.application_number = s.application_number.clone();
    let err = c.submit_application(&reused).await.unwrap_err();
    assert!(matches!(
        err,
        PlatformError::Conflict {
            code: ErrorCode::Conflict,
            ..
        }
    ));
    assert!(!err.is_retryable());
    assert!(sim.application(reused.application_id).is_none());
    let stats = sim.stats().applications;
    assert_eq!((stats.distinct, stats.conflicts), (1, 1));
    // The number still finds the first application, and the first can still be resent.
    assert_eq!(
        progress(&c, &s.application_number).await.application_id,
        s.application_id
    );
    assert!(!c.submit_application(&s).await.unwrap().first_time);
    // With a number of its own the second one goes through.
    reused.application_number = next_application_number();
    assert!(c.submit_application(&reused).await.unwrap().first_time);
}

#[tokio::test]
async fn same_key_with_another_body_is_a_conflict() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();
    let mut changed = s.clone();
    changed.contact_phone = "13900000000".into();
    let err = c.submit_application(&changed).await.unwrap_err();
    assert!(matches!(
        err,
        PlatformError::Conflict {
            code: ErrorCode::Conflict,
            ..
        }
    ));
    assert!(!err.is_retryable());
    let stats = sim.stats().applications;
    assert_eq!((stats.distinct, stats.conflicts), (1, 1));
    assert_eq!(sim.application(s.application_id).unwrap().submission, s);
}

#[tokio::test]
async fn invalid_submissions_are_rejected_not_retried() {
    let sim = sim().await;
    let c = client(&sim);
    let mut s = birth_submission();
    s.items.swap(0, 2); // household registration before the item it depends on
    let err = c.submit_application(&s).await.unwrap_err();
    assert!(matches!(
        err,
        PlatformError::Rejected {
            status: 422,
            code: ErrorCode::Invalid,
            ..
        }
    ));
    assert!(!err.is_retryable());
    let mut s = birth_submission();
    s.application_id = Uuid::from_u128(0x0190_0000_0000_4000_8000_0000_0000_0001); // a v4 id
    assert!(matches!(
        c.submit_application(&s).await.unwrap_err(),
        PlatformError::Rejected { status: 422, .. }
    ));
    let mut s = birth_submission();
    s.materials[1].primary = true;
    s.materials[1].state = MaterialState::CommittedLater {
        deadline: jiff::civil::date(2026, 12, 1),
    };
    assert!(matches!(
        c.submit_application(&s).await.unwrap_err(),
        PlatformError::Rejected { status: 422, .. }
    ));
    for number in [
        "261120-33010601-07",
        "261120-33010699-0007",
        "20261120-0007",
    ] {
        let mut s = birth_submission();
        s.application_number = number.into();
        assert!(
            matches!(
                c.submit_application(&s).await.unwrap_err(),
                PlatformError::Rejected { status: 422, .. }
            ),
            "{number}"
        );
    }
    let mut s = birth_submission();
    s.kiosk_id = "ANOTHER-KIOSK".into();
    assert!(matches!(
        c.submit_application(&s).await.unwrap_err(),
        PlatformError::Rejected {
            status: 400,
            code: ErrorCode::MissingKioskId,
            ..
        }
    ));
    let stats = sim.stats().applications;
    assert_eq!((stats.rejected, stats.distinct), (7, 0));
}

#[tokio::test]
async fn requests_without_headers_are_refused() {
    let sim = sim().await;
    let http = http();
    let s = birth_submission();
    let no_kiosk = http
        .post(format!("{}/v1/applications", sim.url()))
        .header(IDEMPOTENCY_KEY_HEADER, s.application_id.to_string())
        .json(&s)
        .send()
        .await
        .unwrap();
    assert_eq!(no_kiosk.status(), 400);
    let body: ApiError = no_kiosk.json().await.unwrap();
    assert_eq!(body.error, ErrorCode::MissingKioskId);
    let no_key = http
        .post(format!("{}/v1/applications", sim.url()))
        .header(KIOSK_ID_HEADER, KIOSK)
        .json(&s)
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 400);
    let body: ApiError = no_key.json().await.unwrap();
    assert_eq!(body.error, ErrorCode::MissingIdempotencyKey);
    let bad_json = http
        .post(format!("{}/v1/applications", sim.url()))
        .header(KIOSK_ID_HEADER, KIOSK)
        .header(IDEMPOTENCY_KEY_HEADER, "x")
        .body("{\"application_id\": 3")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    assert_eq!(sim.stats().applications.rejected, 2);
    assert_eq!(sim.stats().applications.received, 2);
}

#[tokio::test]
async fn pages_are_checked_by_hash_and_idempotent() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    let jpeg = sample_jpeg(1);
    let sha = sha256_hex(&jpeg);
    // Before the application: not found.
    let err = c
        .upload_page(s.application_id, "marriage-certificate", &sha, jpeg.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Rejected { status: 404, .. }));
    c.submit_application(&s).await.unwrap();
    // The body does not hash to the name in the URL.
    let err = c
        .upload_page(
            s.application_id,
            "marriage-certificate",
            &sha,
            sample_jpeg(2),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        PlatformError::Rejected {
            status: 422,
            code: ErrorCode::HashMismatch,
            ..
        }
    ));
    // Not a JPEG.
    let err = c
        .upload_page(
            s.application_id,
            "marriage-certificate",
            &sha,
            b"%PDF-1.7".to_vec(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        PlatformError::Rejected {
            status: 415,
            code: ErrorCode::UnsupportedMediaType,
            ..
        }
    ));
    // A page that is not in the submission.
    let other = sample_jpeg(3);
    let err = c
        .upload_page(
            s.application_id,
            "marriage-certificate",
            &sha256_hex(&other),
            other,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Rejected { status: 404, .. }));
    // The right page, twice.
    let first = c
        .upload_page(s.application_id, "marriage-certificate", &sha, jpeg.clone())
        .await
        .unwrap();
    assert!(first.first_time);
    assert_eq!(first.body.bytes, jpeg.len() as u64);
    let again = c
        .upload_page(s.application_id, "marriage-certificate", &sha, jpeg)
        .await
        .unwrap();
    assert!(!again.first_time);
    let stats = sim.stats().pages;
    assert_eq!(
        (stats.distinct, stats.duplicates, stats.rejected),
        (1, 1, 4)
    );
    assert_eq!(sim.application(s.application_id).unwrap().pages.len(), 1);
}

#[tokio::test]
async fn shared_data_found_not_found_and_outage() {
    let sim = sim().await;
    let c = client(&sim);
    let ask = |dataset, id: &str| SharedDataRequest {
        dataset,
        id_number: id.into(),
        role: None,
    };
    let marriage = c
        .lookup_shared_data(&ask(Dataset::MarriageCertificate, FATHER_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(marriage.fields["spouse_name"], "韦龘𠮷");
    let birth = c
        .lookup_shared_data(&ask(Dataset::BirthMedicalCertificate, MOTHER_ID))
        .await
        .unwrap()
        .unwrap();
    for field in Dataset::BirthMedicalCertificate.fields() {
        assert!(birth.fields.contains_key(*field), "{field}");
    }
    assert!(birth.fields["birth_date"].starts_with("2026-"));
    // Lower-case x in the ID number is the same person.
    let household = c
        .lookup_shared_data(&ask(Dataset::HouseholdRegister, &MOTHER_ID.to_lowercase()))
        .await
        .unwrap();
    assert!(household.is_some());
    // 李样例 has no marriage and no household record: the kiosk falls back to scanning.
    for d in [Dataset::MarriageCertificate, Dataset::HouseholdRegister] {
        assert!(
            c.lookup_shared_data(&ask(d, LI_ID))
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(
        c.lookup_shared_data(&ask(Dataset::HouseholdRegister, BATER_ID))
            .await
            .unwrap()
            .is_some()
    );
    sim.set_outage(true);
    let err = c
        .lookup_shared_data(&ask(Dataset::MarriageCertificate, FATHER_ID))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        PlatformError::Unavailable(Unavailable::Server { status: 503 })
    ));
    assert!(err.is_retryable() && err.is_unavailable());
    sim.set_outage(false);
    assert!(
        c.lookup_shared_data(&ask(Dataset::MarriageCertificate, FATHER_ID))
            .await
            .unwrap()
            .is_some()
    );
    let stats = sim.stats();
    assert_eq!(stats.lookups_found, 5);
    assert_eq!(stats.lookups_not_found, 2);
    assert_eq!(stats.refused_during_outage, 1);
}

#[tokio::test]
async fn an_unreachable_platform_is_unavailable_and_retryable() {
    let sim = sim().await;
    let url = sim.url();
    sim.shutdown().await;
    let c = client_for(&url);
    let err = c.submit_application(&birth_submission()).await.unwrap_err();
    assert!(matches!(
        err,
        PlatformError::Unavailable(Unavailable::Unreachable)
    ));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn writes_during_an_outage_are_retried_and_counted_once() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    sim.set_outage(true);
    for _ in 0..3 {
        assert!(c.submit_application(&s).await.unwrap_err().is_retryable());
    }
    sim.set_outage(false);
    assert!(c.submit_application(&s).await.unwrap().first_time);
    let stats = sim.stats();
    assert_eq!(stats.applications.distinct, 1);
    assert_eq!(stats.applications.received, 1);
    assert_eq!(stats.refused_during_outage, 3);
}

#[tokio::test]
async fn progress_by_code_and_by_id_number() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    let receipt = c.submit_application(&s).await.unwrap().body;
    let p = progress(&c, &s.application_number).await;
    assert_eq!(p.case_number, receipt.case_number);
    assert_eq!(p.one_thing_name, "出生一件事");
    assert_eq!(p.items.len(), 5);
    assert_eq!(p.items[2].department, "落户地公安派出所");
    assert!(!p.finished);
    assert_eq!(p.collection, Collection::NotReady);
    assert_eq!(p.case_number, s.application_number, "the kiosk's number");
    // White space around the typed number is ignored.
    let spaced = c
        .progress_by_code(&ProgressByCodeRequest {
            application_number: format!(" {} ", s.application_number),
            query_code: QUERY_CODE.into(),
        })
        .await
        .unwrap();
    assert_eq!(
        spaced.unwrap().applications[0].application_id,
        s.application_id
    );
    // A wrong code and an unknown number look the same.
    let wrong = c
        .progress_by_code(&ProgressByCodeRequest {
            application_number: s.application_number.clone(),
            query_code: "000000".into(),
        })
        .await
        .unwrap();
    assert!(wrong.is_none());
    let unknown = c
        .progress_by_code(&ProgressByCodeRequest {
            application_number: next_application_number(),
            query_code: QUERY_CODE.into(),
        })
        .await
        .unwrap();
    assert!(unknown.is_none());
    // By ID number: both parents see it, others see nothing.
    let other = birth_submission();
    c.submit_application(&other).await.unwrap();
    for id in [FATHER_ID, MOTHER_ID] {
        let list = c
            .progress_by_id_number(&ProgressByIdNumberRequest {
                id_number: id.into(),
            })
            .await
            .unwrap();
        assert_eq!(list.applications.len(), 2);
        assert_eq!(
            list.applications[0].application_id, other.application_id,
            "newest first"
        );
    }
    let none = c
        .progress_by_id_number(&ProgressByIdNumberRequest {
            id_number: LI_ID.into(),
        })
        .await
        .unwrap();
    assert!(none.applications.is_empty());
    assert_eq!(sim.stats().progress_queries, 7);
}

#[tokio::test]
async fn items_advance_with_the_clock_in_dependency_order() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        state_names(&p),
        ["accepted", "accepted", "waiting", "waiting", "waiting"]
    );
    assert_eq!(
        item_state(&p, "household-registration"),
        &ItemState::Waiting {
            for_item_id: "birth-medical-certificate".into(),
            for_item_name: "出生医学证明出具".into(),
        }
    );
    sim.advance(&ClockAdvance {
        hours: 2.0,
        working_days: 0.0,
    });
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        state_names(&p),
        [
            "in_progress",
            "in_progress",
            "waiting",
            "waiting",
            "waiting"
        ]
    );
    sim.advance_days(1.0);
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        state_names(&p),
        ["done", "done", "in_progress", "waiting", "waiting"]
    );
    assert_eq!(
        item_state(&p, "birth-medical-certificate"),
        &ItemState::Done {
            result: Some("出生医学证明".into())
        }
    );
    sim.advance_days(1.0);
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        state_names(&p),
        ["done", "done", "done", "in_progress", "waiting"]
    );
    assert!(matches!(
        item_state(&p, "social-security-card"),
        ItemState::Waiting { for_item_id, .. } if for_item_id == "medical-insurance"
    ));
    sim.advance_days(1.0);
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        state_names(&p),
        ["done", "done", "done", "done", "in_progress"]
    );
    assert_eq!(
        item_state(&p, "social-security-card"),
        &ItemState::InProgress {
            detail: Some("制卡中".into())
        }
    );
    assert!(!p.finished);
    sim.advance_days(1.0);
    let p = progress(&c, &s.application_number).await;
    assert_eq!(state_names(&p), ["done"; 5]);
    assert!(p.finished, "the birth one-thing takes 4 working days");
    assert_eq!(
        p.collection,
        Collection::ReadyForLocker {
            kiosk_id: KIOSK.into()
        }
    );
    // The card is the last item to finish.
    let card = p
        .items
        .iter()
        .find(|i| i.item_id == "social-security-card")
        .unwrap();
    assert!(p.items.iter().all(|i| i.since <= card.since));
}

#[tokio::test]
async fn a_refusal_stops_the_items_that_depend_on_it() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();
    let reason = "出生医学证明信息与户籍信息不一致：请携带出生医学证明原件、父母双方身份证到落户地派出所核实。";
    let refused = sim
        .refuse(&RefuseItem {
            application_id: s.application_id,
            item_id: "household-registration".into(),
            reason: reason.into(),
        })
        .unwrap();
    assert_eq!(
        item_state(&refused, "household-registration"),
        &ItemState::Refused {
            reason: reason.into(),
            because_of: None
        }
    );
    for dependant in ["medical-insurance", "social-security-card"] {
        match item_state(&refused, dependant) {
            ItemState::Refused { reason, because_of } => {
                assert_eq!(because_of.as_deref(), Some("household-registration"));
                assert!(reason.contains("出生户口登记"), "{reason}");
            }
            other => panic!("{dependant} is {other:?}"),
        }
    }
    // Refusing it again, or an unknown item, is refused.
    let again = sim.refuse(&RefuseItem {
        application_id: s.application_id,
        item_id: "social-security-card".into(),
        reason: "x".into(),
    });
    assert_eq!(again.unwrap_err().error, ErrorCode::Conflict);
    let unknown = sim.refuse(&RefuseItem {
        application_id: s.application_id,
        item_id: "nothing".into(),
        reason: "x".into(),
    });
    assert_eq!(unknown.unwrap_err().error, ErrorCode::NotFound);
    // The independent items carry on; when they are done the application is finished.
    sim.advance_days(1.0);
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        state_names(&p),
        ["done", "done", "refused", "refused", "refused"]
    );
    assert!(p.finished);
    let ready = c.lockers_ready().await.unwrap();
    assert_eq!(ready.applications.len(), 1);
    assert_eq!(ready.applications[0].items.len(), 2);
    assert_eq!(ready.applications[0].size_hint, SizeHint::S);
    // A done item cannot be refused.
    let done = sim.refuse(&RefuseItem {
        application_id: s.application_id,
        item_id: "birth-medical-certificate".into(),
        reason: "x".into(),
    });
    assert_eq!(done.unwrap_err().error, ErrorCode::Conflict);
}

#[tokio::test]
async fn the_newborns_card_waits_for_household_registration_then_is_made() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();
    let by_app = CardRequest::Application {
        application_id: s.application_id,
    };
    let early = c.request_card(Uuid::now_v7(), &by_app).await.unwrap();
    assert!(early.first_time);
    match &early.body.eligibility {
        Eligibility::NotYet { waiting_for, .. } => {
            assert_eq!(waiting_for, &["出生户口登记", "城乡居民参保登记（医保）"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(early.body.card.is_none());
    // No cryptogram for a request that cannot make a card.
    let err = c
        .card_cryptogram(
            &early.body.request_id,
            &CryptogramRequest {
                card_id_hex: "00".repeat(16),
                challenge_hex: "11".repeat(8),
                ef: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Conflict { .. }));
    sim.advance_days(2.0);
    let middle = c.request_card(Uuid::now_v7(), &by_app).await.unwrap().body;
    assert!(matches!(
        &middle.eligibility,
        Eligibility::NotYet { waiting_for, .. } if waiting_for == &["城乡居民参保登记（医保）"]
    ));
    sim.advance_days(1.0);
    let key = Uuid::now_v7();
    let ready = c.request_card(key, &by_app).await.unwrap();
    assert_eq!(ready.body.eligibility, Eligibility::Eligible);
    let card = ready.body.card.clone().unwrap();
    assert_eq!(card.name, "王小测");
    assert_eq!(card.birth_date, jiff::civil::date(2026, 11, 8));
    assert_eq!(card.photo, CardPhoto::NoneUnder7);
    assert!(card.social_security_number.starts_with("45010220261108"));
    assert_eq!(card.records.len(), 8);
    assert_eq!(card.nation_code, "08", "the mother's nation, 壮");
    // The same key gives the same answer.
    let repeat = c.request_card(key, &by_app).await.unwrap();
    assert!(!repeat.first_time);
    assert_eq!(repeat.body, ready.body);
    // Another request with the same key is a conflict.
    let err = c
        .request_card(
            key,
            &CardRequest::Person {
                id_number: MOTHER_ID.into(),
                name: "韦龘𠮷".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Conflict { .. }));

    // The cryptogram is the documented stand-in: first 16 bytes of
    // HMAC-SHA256("kiosk-sim-card-bureau-test-key", card id ‖ challenge).
    let card_id = hex::decode("330300D15600000599110145FFFFFFFF").unwrap();
    let challenge = hex::decode("0102030405060708").unwrap();
    let answer = c
        .card_cryptogram(
            &ready.body.request_id,
            &CryptogramRequest {
                card_id_hex: hex::encode(&card_id),
                challenge_hex: hex::encode(&challenge),
                ef: Some(ElementaryFile::Ef06),
            },
        )
        .await
        .unwrap();
    assert_eq!(answer.key_id, 0x04);
    assert_eq!(
        answer.cryptogram_hex,
        hex::encode(hmac_sha256_16(&card_id, &challenge))
    );
    assert_eq!(
        answer.cryptogram_hex,
        hex::encode(card_bureau_cryptogram(&card_id, &challenge))
    );
    assert_eq!(answer.cryptogram_hex, "0961883cd9e8d7df8aa70b685b05ceca");
    let ef05 = c
        .card_cryptogram(
            &ready.body.request_id,
            &CryptogramRequest {
                card_id_hex: hex::encode(&card_id),
                challenge_hex: hex::encode(&challenge),
                ef: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(ef05.key_id, 0x0A);
    assert_eq!(ef05.cryptogram_hex, answer.cryptogram_hex);
    let bad = c
        .card_cryptogram(
            &ready.body.request_id,
            &CryptogramRequest {
                card_id_hex: "zz".into(),
                challenge_hex: "00".into(),
                ef: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(bad, PlatformError::Rejected { status: 422, .. }));
    assert_eq!(sim.stats().cryptograms, 2);

    // Made on the spot: the card item is done at once and not collected from the locker.
    let result = CardResult::Issued {
        card_number: card.card_number.clone(),
    };
    let result_key = Uuid::now_v7();
    let ack = c
        .report_card_result(&ready.body.request_id, result_key, &result)
        .await
        .unwrap();
    assert!(ack.first_time);
    assert_eq!(ack.body.outcome, "issued");
    let again = c
        .report_card_result(&ready.body.request_id, result_key, &result)
        .await
        .unwrap();
    assert!(!again.first_time);
    let twice = c
        .report_card_result(&ready.body.request_id, Uuid::now_v7(), &result)
        .await
        .unwrap_err();
    assert!(matches!(twice, PlatformError::Conflict { .. }));
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        item_state(&p, "social-security-card"),
        &ItemState::Done {
            result: Some("社会保障卡（已当场制发）".into())
        }
    );
    assert!(p.finished);
    let ready_list = c.lockers_ready().await.unwrap();
    assert_eq!(
        ready_list.applications[0].items.len(),
        3,
        "no card in the locker"
    );
    let after = c.request_card(Uuid::now_v7(), &by_app).await.unwrap().body;
    assert!(matches!(
        after.eligibility,
        Eligibility::AlreadyHasCard { .. }
    ));
}

#[tokio::test]
async fn a_failed_card_falls_back_to_central_making() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();
    sim.advance_days(3.0);
    let request = c
        .request_card(
            Uuid::now_v7(),
            &CardRequest::Application {
                application_id: s.application_id,
            },
        )
        .await
        .unwrap()
        .body;
    let ack = c
        .report_card_result(
            &request.request_id,
            Uuid::now_v7(),
            &CardResult::Failed {
                reason: "chip write failed".into(),
                card_number: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(ack.body.outcome, "failed");
    sim.advance(&ClockAdvance {
        hours: 2.0,
        working_days: 0.0,
    });
    let p = progress(&c, &s.application_number).await;
    assert_eq!(
        item_state(&p, "social-security-card"),
        &ItemState::InProgress {
            detail: Some("制卡失败，改为集中制卡".into())
        }
    );
    sim.advance_days(1.0);
    let ready = c.lockers_ready().await.unwrap();
    assert_eq!(
        ready.applications[0].items.len(),
        4,
        "the card made centrally goes to the locker"
    );
    assert_eq!(ready.applications[0].size_hint, SizeHint::M);
}

#[tokio::test]
async fn card_requests_by_person() {
    let sim = sim().await;
    let c = client(&sim);
    let ask = |id: &str, name: &str| CardRequest::Person {
        id_number: id.into(),
        name: name.into(),
    };
    let has = c
        .request_card(Uuid::now_v7(), &ask(FATHER_ID, "王测试"))
        .await
        .unwrap()
        .body;
    assert!(matches!(
        has.eligibility,
        Eligibility::AlreadyHasCard { .. }
    ));
    let no_insurance = c
        .request_card(Uuid::now_v7(), &ask(BATER_ID, "巴特尔测试"))
        .await
        .unwrap()
        .body;
    assert!(matches!(
        &no_insurance.eligibility,
        Eligibility::NotYet { waiting_for, .. } if waiting_for == &["参保登记"]
    ));
    let no_household = c
        .request_card(Uuid::now_v7(), &ask(LI_ID, "李样例"))
        .await
        .unwrap()
        .body;
    assert!(matches!(
        &no_household.eligibility,
        Eligibility::NotYet { waiting_for, .. } if waiting_for == &["户籍登记"]
    ));
    let mother = c
        .request_card(Uuid::now_v7(), &ask(MOTHER_ID, "韦龘𠮷"))
        .await
        .unwrap()
        .body;
    assert_eq!(mother.eligibility, Eligibility::Eligible);
    let card = mother.card.unwrap();
    assert_eq!(card.photo, CardPhoto::IdCardPhoto);
    assert_eq!(card.gender, Gender::Female);
    assert_eq!(card.social_security_number, MOTHER_ID);
    let name = card.records.iter().find(|r| r.field == "name").unwrap();
    assert_eq!(name.value_hex.len(), 60, "30 bytes, GB18030 for 𠮷");
    // Issued: a second request says she has a card now.
    c.report_card_result(
        &mother.request_id,
        Uuid::now_v7(),
        &CardResult::Issued {
            card_number: card.card_number,
        },
    )
    .await
    .unwrap();
    let after = c
        .request_card(Uuid::now_v7(), &ask(MOTHER_ID, "韦龘𠮷"))
        .await
        .unwrap()
        .body;
    assert!(matches!(
        after.eligibility,
        Eligibility::AlreadyHasCard { .. }
    ));
    // A wrong name is "not found", like an unknown person.
    let err = c
        .request_card(Uuid::now_v7(), &ask(MOTHER_ID, "别人"))
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Rejected { status: 404, .. }));
    let stats = sim.stats().card_requests;
    assert_eq!((stats.distinct, stats.rejected), (5, 1));
}

#[tokio::test]
async fn lockers_list_finished_applications_and_events_are_idempotent() {
    let sim = sim().await;
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();
    let mut mailed = birth_submission();
    mailed.delivery = Delivery::Mail {
        address: MailingAddress {
            recipient: "王测试".into(),
            phone: "13800000000".into(),
            province: "江西省".into(),
            city: "示例市".into(),
            district: "示例县".into(),
            detail: "测试镇样例路1号".into(),
            postcode: None,
        },
    };
    c.submit_application(&mailed).await.unwrap();
    assert!(c.lockers_ready().await.unwrap().applications.is_empty());
    let deposit = LockerEvent {
        event_id: Uuid::now_v7(),
        kiosk_id: KIOSK.into(),
        kind: LockerEventKind::Deposit,
        application_id: s.application_id,
        compartment_label: "A05".into(),
        at: jiff::Timestamp::now(),
        pickup_code: Some("804512".into()),
    };
    // Not finished yet: nothing to deposit.
    assert!(matches!(
        c.report_locker_event(&deposit).await.unwrap_err(),
        PlatformError::Conflict { .. }
    ));
    sim.advance_days(4.0);
    let ready = c.lockers_ready().await.unwrap().applications;
    assert_eq!(ready.len(), 1, "the mailed one is not for the locker");
    let r = &ready[0];
    assert_eq!(r.application_id, s.application_id);
    assert_eq!(r.applicant_masked, mask_name("韦龘𠮷"));
    assert!(r.applicant_id_sha256.contains(&id_number_hash(MOTHER_ID)));
    assert_eq!(r.items.len(), 4);
    assert_eq!(r.size_hint, SizeHint::M);
    let results: Vec<&str> = r.items.iter().map(|i| i.result.as_str()).collect();
    assert_eq!(
        results,
        ["出生医学证明", "预防接种证", "居民户口簿", "社会保障卡"]
    );
    let mailed_progress = c
        .progress_by_code(&ProgressByCodeRequest {
            application_number: mailed.application_number.clone(),
            query_code: QUERY_CODE.into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        &mailed_progress.applications[0].collection,
        Collection::Mailed { tracking_number, .. } if tracking_number.starts_with("SIM")
    ));

    let first = c.report_locker_event(&deposit).await.unwrap();
    assert!(first.first_time);
    let again = c.report_locker_event(&deposit).await.unwrap();
    assert!(!again.first_time);
    assert_eq!(again.body, first.body);
    let stats = sim.stats();
    assert_eq!(
        (stats.locker_events.distinct, stats.locker_events.duplicates),
        (1, 1)
    );
    assert_eq!(stats.sms_sent, 1, "one SMS for one deposit, not two");
    let sms = sim.sms();
    assert!(sms[0].text.contains("韦*𠮷") && sms[0].text.contains("804512"));
    assert!(sms[0].text.contains("A05"));
    assert!(!sms[0].text.contains("韦龘𠮷"));
    assert_eq!(sms[0].to_masked, "138****0000");
    assert!(c.lockers_ready().await.unwrap().applications.is_empty());
    let p = progress(&c, &s.application_number).await;
    assert!(
        matches!(&p.collection, Collection::InLocker { compartment_label, .. } if compartment_label == "A05")
    );

    // The same event id with another body is a conflict; a deposit needs a code.
    let mut changed = deposit.clone();
    changed.compartment_label = "A06".into();
    assert!(matches!(
        c.report_locker_event(&changed).await.unwrap_err(),
        PlatformError::Conflict { .. }
    ));
    let pickup = LockerEvent {
        event_id: Uuid::now_v7(),
        kind: LockerEventKind::Pickup,
        pickup_code: None,
        ..deposit.clone()
    };
    assert!(c.report_locker_event(&pickup).await.unwrap().first_time);
    let p = progress(&c, &s.application_number).await;
    assert!(matches!(p.collection, Collection::Collected { .. }));
    let recall = LockerEvent {
        event_id: Uuid::now_v7(),
        kind: LockerEventKind::Recall,
        pickup_code: None,
        ..deposit
    };
    assert!(matches!(
        c.report_locker_event(&recall).await.unwrap_err(),
        PlatformError::Conflict { .. }
    ));
    assert_eq!(
        sim.application(s.application_id)
            .unwrap()
            .locker_events
            .len(),
        2
    );
}

#[tokio::test]
async fn evaluations_are_idempotent_and_checked() {
    let sim = sim().await;
    let c = client(&sim);
    let e = Evaluation {
        evaluation_id: Uuid::now_v7(),
        kiosk_id: KIOSK.into(),
        application_id: None,
        level: Level::Dissatisfied,
        reasons: vec!["等候时间长".into()],
        comment: Some("屏幕反光".into()),
        at: jiff::Timestamp::now(),
    };
    assert!(c.submit_evaluation(&e).await.unwrap().first_time);
    assert!(!c.submit_evaluation(&e).await.unwrap().first_time);
    let happy_with_reasons = Evaluation {
        evaluation_id: Uuid::now_v7(),
        level: Level::VerySatisfied,
        ..e.clone()
    };
    assert!(matches!(
        c.submit_evaluation(&happy_with_reasons).await.unwrap_err(),
        PlatformError::Rejected { status: 422, .. }
    ));
    let skipped_reasons = Evaluation {
        evaluation_id: Uuid::now_v7(),
        level: Level::VeryDissatisfied,
        reasons: vec![],
        comment: None,
        ..e
    };
    assert!(
        c.submit_evaluation(&skipped_reasons)
            .await
            .unwrap()
            .first_time
    );
    let stats = sim.stats().evaluations;
    assert_eq!(
        (
            stats.received,
            stats.distinct,
            stats.duplicates,
            stats.rejected
        ),
        (4, 2, 1, 1)
    );
    // Levels are the numbers 1 to 5 on the wire.
    let json = serde_json::to_value(Level::VeryDissatisfied).unwrap();
    assert_eq!(json, 5);
    assert!(serde_json::from_value::<Level>(serde_json::json!(6)).is_err());
}

#[tokio::test]
async fn heartbeat_and_catalogue() {
    let sim = sim().await;
    let c = client(&sim);
    let hb = Heartbeat {
        kiosk_id: KIOSK.into(),
        app_version: "0.1.0".into(),
        config_hash: sha256_hex(b"config"),
        catalogue_version: "2026.1".into(),
        devices: vec![
            DeviceReport {
                class: "printer".into(),
                state: DeviceState::Online,
                detail: None,
            },
            DeviceReport {
                class: "locker".into(),
                state: DeviceState::HardwareError,
                detail: Some("board 2 not answering".into()),
            },
        ],
        consumables: vec![ConsumableReport {
            name: "receipt_paper".into(),
            level: ConsumableLevel::Low,
        }],
        outbox_depth: 3,
        oldest_undelivered_age_s: Some(42),
        at: jiff::Timestamp::now(),
    };
    let ack = c.heartbeat(&hb).await.unwrap();
    assert!(ack.catalogue_version.is_none());
    assert_eq!(sim.last_heartbeats()[KIOSK], hb);
    assert_eq!(sim.stats().heartbeats.distinct, 1);

    assert!(c.catalogue_since(None).await.unwrap().is_none());
    assert!(c.catalogue_since(Some("2026.1")).await.unwrap().is_none());
    let update = CatalogueUpdate {
        version: "2026.2".into(),
        files: std::collections::BTreeMap::from([(
            "one-things/birth.toml".into(),
            "id = \"birth\"\n".into(),
        )]),
    };
    sim.set_catalogue(update.clone());
    assert_eq!(
        c.catalogue_since(Some("2026.1")).await.unwrap(),
        Some(update.clone())
    );
    assert_eq!(c.catalogue_since(None).await.unwrap(), Some(update));
    assert!(c.catalogue_since(Some("2026.2")).await.unwrap().is_none());
    assert_eq!(
        c.heartbeat(&hb).await.unwrap().catalogue_version.as_deref(),
        Some("2026.2")
    );
}

#[tokio::test]
async fn a_thousand_submissions_in_a_row_are_a_thousand_applications() {
    let sim = sim().await;
    let c = client(&sim);
    for n in 0..1000 {
        let w = c.submit_application(&simple_submission(n)).await.unwrap();
        assert!(w.first_time);
    }
    let stats = sim.stats().applications;
    assert_eq!(
        (stats.received, stats.distinct, stats.duplicates),
        (1000, 1000, 0)
    );
}

#[tokio::test]
async fn debug_output_masks_personal_data() {
    let s = birth_submission();
    let text = format!("{s:?}");
    for secret in [
        FATHER_ID,
        MOTHER_ID,
        "韦龘𠮷",
        "王测试",
        "13800000000",
        "王小测",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let req = SharedDataRequest {
        dataset: Dataset::HouseholdRegister,
        id_number: FATHER_ID.into(),
        role: None,
    };
    assert!(!format!("{req:?}").contains(FATHER_ID));
    let card = CardRequest::Person {
        id_number: FATHER_ID.into(),
        name: "王测试".into(),
    };
    assert!(!format!("{card:?}").contains("王测试"));
    let code = ProgressByCodeRequest {
        application_number: s.application_number.clone(),
        query_code: QUERY_CODE.into(),
    };
    let shown = format!("{code:?}");
    assert!(!shown.contains(QUERY_CODE));
    assert!(shown.contains(&s.application_number));
}

#[test]
fn the_simulator_runs_on_its_own_thread_without_a_runtime() {
    let sim = kiosk_platform::Simulator::start_in_thread(
        "127.0.0.1:0",
        kiosk_platform::SimConfig::frozen(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = client(&sim);
    let s = birth_submission();
    assert!(
        runtime
            .block_on(c.submit_application(&s))
            .unwrap()
            .first_time
    );
    assert_eq!(sim.stats().applications.distinct, 1);
    let url = sim.url();
    sim.stop();
    let err = runtime
        .block_on(client_for(&url).submit_application(&s))
        .unwrap_err();
    assert!(err.is_unavailable());
}

/// HMAC-SHA256 written out from RFC 2104, independent of the crate's, truncated to 16 bytes.
fn hmac_sha256_16(card_id: &[u8], challenge: &[u8]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    k[..CARD_BUREAU_TEST_KEY.len()].copy_from_slice(CARD_BUREAU_TEST_KEY);
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(card_id);
    inner.update(challenge);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    let full = outer.finalize();
    full[..16].try_into().unwrap()
}

#[tokio::test]
async fn a_platform_that_never_answers_times_out() {
    // Connections complete in the kernel's backlog, but nothing ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = kiosk_platform::ClientConfig::new(
        format!("http://{}", silent.local_addr().unwrap()),
        KIOSK,
    );
    config.request_timeout = std::time::Duration::from_millis(200);
    let c = kiosk_platform::PlatformClient::new(&config).unwrap();
    let err = c.submit_application(&birth_submission()).await.unwrap_err();
    assert!(
        matches!(err, PlatformError::Unavailable(Unavailable::TimedOut)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    drop(silent);
}

#[test]
fn bad_client_configurations_are_refused() {
    use kiosk_platform::{ClientBuildError, ClientConfig, PlatformClient};
    let bad_url = PlatformClient::new(&ClientConfig::new("ftp://x", KIOSK)).unwrap_err();
    assert!(matches!(bad_url, ClientBuildError::BadBaseUrl));
    let not_url = PlatformClient::new(&ClientConfig::new("not a url", KIOSK)).unwrap_err();
    assert!(matches!(not_url, ClientBuildError::BadBaseUrl));
    let no_kiosk = PlatformClient::new(&ClientConfig::new("http://127.0.0.1:1", " ")).unwrap_err();
    assert!(matches!(no_kiosk, ClientBuildError::BadKioskId));
    let bad_kiosk =
        PlatformClient::new(&ClientConfig::new("http://127.0.0.1:1", "a\nb")).unwrap_err();
    assert!(matches!(bad_kiosk, ClientBuildError::BadKioskId));
    // A base URL with a path keeps it: the API sits under it.
    assert!(PlatformClient::new(&ClientConfig::new("https://gw.example/zwfw/", KIOSK)).is_ok());
}
