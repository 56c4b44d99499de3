//! The card-issuing journey: every transition, each failure, the stock switching it off.

use kiosk_dispenser::{HopperLevel, RejectBin};
use kiosk_link::{DeviceState, DeviceStatus};
use kiosk_platform::sim::card::{Holder as SimHolder, card_data};
use kiosk_platform::wire::{CardData, CardRequest, Gender};

use super::{Harness, card};
use crate::flows::availability::DeviceClass;
use crate::flows::effect::TimerId;
use crate::flows::event::{Completion, Event, JourneyKind, LookupFailure, UserAction};
use crate::flows::issue_card::{
    Candidate, CaptureEnd, CardAction, CardAnswer, CardCompletion, CardEffect, CardEligibility,
    CardStage, CardWhere, Holder, IssueCard, LineState, MakeStep, NotNow, PreviewPhoto,
    StepFailure,
};
use crate::flows::{Effect, Journey};

const HOLDER: &str = "resident_rare_name.json";

fn journey(h: &Harness) -> &IssueCard {
    match &h.session.journey {
        Journey::CardIssue(c) => c,
        other => panic!("not issuing a card: {other:?}"),
    }
}

fn stage(h: &Harness) -> CardStage {
    journey(h).stage.clone()
}

fn cards(effects: &[Effect]) -> Vec<CardEffect> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Card(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// The one card effect among `effects`.
fn one(effects: &[Effect]) -> CardEffect {
    let mut all = cards(effects);
    assert_eq!(all.len(), 1, "{effects:?}");
    all.remove(0)
}

fn done(h: &mut Harness, c: CardCompletion) -> Vec<Effect> {
    h.done(Completion::Card(c))
}

fn act(h: &mut Harness, a: CardAction) -> Vec<Effect> {
    h.user(UserAction::Card(a))
}

fn adult_card() -> Box<CardData> {
    let holder = SimHolder {
        name: "韦龘𠮷",
        id_number: "45010220000229008X",
        gender: Gender::Female,
        nation_code: "12",
        birth_date: jiff::civil::date(2000, 2, 29),
    };
    Box::new(card_data(&holder, "SIM000001", jiff::civil::date(2026, 11, 20)).unwrap())
}

fn newborn_card() -> Box<CardData> {
    let holder = SimHolder {
        name: "王小测",
        id_number: "360426202611080011",
        gender: Gender::Male,
        nation_code: "01",
        birth_date: jiff::civil::date(2026, 11, 8),
    };
    Box::new(card_data(&holder, "SIM000002", jiff::civil::date(2026, 11, 20)).unwrap())
}

fn eligible(card: Box<CardData>) -> CardCompletion {
    CardCompletion::Answer(Ok(CardAnswer {
        request_id: "CR000001".into(),
        eligibility: CardEligibility::Eligible,
        card: Some(card),
    }))
}

/// Home tile → ID card → no applications → platform → the confirm screen.
fn to_confirm(h: &mut Harness) -> uuid::Uuid {
    h.start(JourneyKind::CardIssue);
    assert_eq!(stage(h), CardStage::Identify);
    let effects = h.send(Event::CardPresented(card(HOLDER)));
    assert_eq!(stage(h), CardStage::Looking);
    assert!(matches!(
        cards(&effects).as_slice(),
        [CardEffect::FindApplications { id_number, .. }] if id_number == "45010220000229008X"
    ));
    let effects = done(h, CardCompletion::Candidates(Vec::new()));
    assert_eq!(stage(h), CardStage::Checking);
    let CardEffect::Request {
        attempt, request, ..
    } = one(&effects)
    else {
        panic!("no request: {effects:?}")
    };
    assert!(matches!(request.as_ref(), CardRequest::Person { name, .. } if name == "韦龘𠮷"));
    done(h, eligible(adult_card()));
    assert_eq!(stage(h), CardStage::Confirm);
    attempt
}

/// Confirm → begun → the three steps up to the gate.
fn to_gate(h: &mut Harness) {
    let effects = act(h, CardAction::Confirm);
    assert_eq!(stage(h), CardStage::Making(MakeStep::Dispense));
    let CardEffect::Begin { job, .. } = one(&effects) else {
        panic!("not begun: {effects:?}")
    };
    assert!(
        job.photo_wlt.is_some(),
        "an adult's card shows the ID card photo"
    );
    assert!(!format!("{job:?}").contains("45010220000229008X"));
    let mut effects = done(h, CardCompletion::Begun(Ok(())));
    for step in [
        MakeStep::Dispense,
        MakeStep::Personalise,
        MakeStep::Print,
        MakeStep::Present,
    ] {
        assert!(
            matches!(cards(&effects).as_slice(), [CardEffect::Step { step: s, .. }] if *s == step),
            "{step:?} not asked: {effects:?}"
        );
        assert_eq!(stage(h), CardStage::Making(step));
        effects = done(
            h,
            CardCompletion::StepDone {
                step,
                result: Ok(()),
            },
        );
    }
    assert_eq!(stage(h), CardStage::Present);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::StartTimer { id: TimerId::CardNotTaken, after } if *after == h.delays.card_take
    )));
}

fn failure(card: CardWhere, retry: bool) -> StepFailure {
    StepFailure {
        told: crate::bi!("制卡没有成功", "The card could not be made"),
        record: "chip: update record: 6581 memory failure".into(),
        card,
        retry,
    }
}

#[test]
fn a_card_is_made_confirmed_masked_and_taken() {
    let mut h = Harness::new();
    to_confirm(&mut h);
    let preview = journey(&h).preview().unwrap();
    assert_eq!(preview.name, "韦**");
    assert_eq!(preview.id_number, "4501**********008X");
    assert_eq!(preview.card_number, "SIM0*0001");
    assert_eq!(preview.photo, PreviewPhoto::IdCard);
    assert_eq!(journey(&h).progress(), 28);
    to_gate(&mut h);
    assert!(journey(&h).holds_card());
    let effects = done(&mut h, CardCompletion::Taken);
    assert_eq!(stage(&h), CardStage::Issued);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CancelTimer(TimerId::CardNotTaken)))
    );
    assert_eq!(journey(&h).progress(), 100);
    assert!(
        journey(&h)
            .steps()
            .iter()
            .all(|l| l.state == LineState::Done)
    );
    act(&mut h, CardAction::Finish);
    assert!(
        matches!(h.session.journey, Journey::Evaluate(_)),
        "evaluation offered"
    );
}

#[test]
fn a_chip_error_captures_the_card_tells_the_resident_and_a_retry_makes_a_new_card() {
    let mut h = Harness::new();
    let first = to_confirm(&mut h);
    act(&mut h, CardAction::Confirm);
    done(&mut h, CardCompletion::Begun(Ok(())));
    done(
        &mut h,
        CardCompletion::StepDone {
            step: MakeStep::Dispense,
            result: Ok(()),
        },
    );
    let effects = done(
        &mut h,
        CardCompletion::StepDone {
            step: MakeStep::Personalise,
            result: Err(failure(CardWhere::Inside, true)),
        },
    );
    assert_eq!(stage(&h), CardStage::Capturing);
    let CardEffect::Capture {
        attempt, reason, ..
    } = one(&effects)
    else {
        panic!("not captured: {effects:?}")
    };
    assert_eq!(attempt, first);
    assert!(reason.starts_with("personalise: chip"));
    assert!(journey(&h).holds_card());
    let lines = journey(&h).steps();
    assert_eq!(lines[4].state, LineState::Failed, "the chip line is marked");
    done(&mut h, CardCompletion::Captured(CaptureEnd::Captured));
    assert_eq!(stage(&h), CardStage::Failed { can_retry: true });
    assert_eq!(journey(&h).message.as_ref().unwrap().zh, "制卡没有成功");
    assert!(!journey(&h).holds_card());

    // A retry is a new attempt: a new platform request (a new card number) and a new record.
    let effects = act(&mut h, CardAction::Retry);
    assert_eq!(stage(&h), CardStage::Checking);
    let CardEffect::Request {
        attempt: second, ..
    } = one(&effects)
    else {
        panic!("no new request")
    };
    assert_ne!(second, first);
    done(&mut h, eligible(adult_card()));
    to_gate(&mut h);
    done(&mut h, CardCompletion::Taken);
    assert_eq!(stage(&h), CardStage::Issued);
    assert_eq!(journey(&h).attempts, 2);
}

#[test]
fn a_card_not_taken_in_time_is_captured() {
    let mut h = Harness::new();
    let attempt = to_confirm(&mut h);
    to_gate(&mut h);
    // The resident walks away; the idle warning waits for the card.
    let effects = h.send(Event::Timer(TimerId::IdleWarning));
    assert!(matches!(
        effects.as_slice(),
        [Effect::StartTimer {
            id: TimerId::IdleWarning,
            ..
        }]
    ));
    assert_eq!(stage(&h), CardStage::Present);
    let effects = h.send(Event::Timer(TimerId::CardNotTaken));
    assert!(matches!(
        cards(&effects).as_slice(),
        [CardEffect::Capture { attempt: a, reason, .. }] if *a == attempt && reason.contains("not taken")
    ));
    done(&mut h, CardCompletion::Captured(CaptureEnd::Captured));
    assert_eq!(stage(&h), CardStage::Failed { can_retry: true });
    assert!(journey(&h).message.as_ref().unwrap().zh.contains("收回"));
}

#[test]
fn a_card_taken_as_the_capture_starts_counts_as_issued() {
    let mut h = Harness::new();
    to_confirm(&mut h);
    to_gate(&mut h);
    h.send(Event::Timer(TimerId::CardNotTaken));
    done(&mut h, CardCompletion::Captured(CaptureEnd::Taken));
    assert_eq!(stage(&h), CardStage::Issued);

    let mut h = Harness::new();
    to_confirm(&mut h);
    to_gate(&mut h);
    h.send(Event::Timer(TimerId::CardNotTaken));
    done(&mut h, CardCompletion::Taken);
    assert_eq!(stage(&h), CardStage::Issued);
    done(&mut h, CardCompletion::Captured(CaptureEnd::Taken));
    assert_eq!(
        stage(&h),
        CardStage::Issued,
        "a late answer changes nothing"
    );
}

#[test]
fn ribbon_out_captures_the_card_and_offers_no_retry() {
    let mut h = Harness::new();
    to_confirm(&mut h);
    act(&mut h, CardAction::Confirm);
    done(&mut h, CardCompletion::Begun(Ok(())));
    done(
        &mut h,
        CardCompletion::StepDone {
            step: MakeStep::Dispense,
            result: Ok(()),
        },
    );
    done(
        &mut h,
        CardCompletion::StepDone {
            step: MakeStep::Personalise,
            result: Ok(()),
        },
    );
    let effects = done(
        &mut h,
        CardCompletion::StepDone {
            step: MakeStep::Print,
            result: Err(StepFailure {
                told: crate::bi!("卡片打印机色带用完", "The card printer's ribbon is used up"),
                record: "card printer ribbon is out".into(),
                card: CardWhere::Inside,
                retry: false,
            }),
        },
    );
    assert!(
        matches!(cards(&effects).as_slice(), [CardEffect::Capture { reason, .. }] if reason == "print: card printer ribbon is out")
    );
    done(&mut h, CardCompletion::Captured(CaptureEnd::Captured));
    assert_eq!(stage(&h), CardStage::Failed { can_retry: false });
    assert!(
        act(&mut h, CardAction::Retry).is_empty()
            || stage(&h) == CardStage::Failed { can_retry: false }
    );
    assert_eq!(stage(&h), CardStage::Failed { can_retry: false });
}

#[test]
fn an_empty_hopper_on_dispense_records_the_attempt_without_a_capture() {
    let mut h = Harness::new();
    let attempt = to_confirm(&mut h);
    act(&mut h, CardAction::Confirm);
    done(&mut h, CardCompletion::Begun(Ok(())));
    let effects = done(
        &mut h,
        CardCompletion::StepDone {
            step: MakeStep::Dispense,
            result: Err(failure(CardWhere::Hopper, false)),
        },
    );
    assert!(
        matches!(cards(&effects).as_slice(), [CardEffect::Abandon { attempt: a, .. }] if *a == attempt)
    );
    done(&mut h, CardCompletion::Abandoned);
    assert_eq!(stage(&h), CardStage::Failed { can_retry: false });
}

#[test]
fn a_capture_that_fails_says_staff_are_coming() {
    let mut h = Harness::new();
    to_confirm(&mut h);
    to_gate(&mut h);
    h.send(Event::Timer(TimerId::CardNotTaken));
    done(
        &mut h,
        CardCompletion::Captured(CaptureEnd::Stuck(crate::bi!(
            "请联系工作人员",
            "Please ask staff"
        ))),
    );
    assert_eq!(stage(&h), CardStage::Failed { can_retry: false });
}

#[test]
fn an_attempt_that_cannot_be_recorded_moves_nothing() {
    let mut h = Harness::new();
    to_confirm(&mut h);
    act(&mut h, CardAction::Confirm);
    let effects = done(
        &mut h,
        CardCompletion::Begun(Err(crate::bi!("不能开始", "Cannot start"))),
    );
    assert!(cards(&effects).is_empty());
    assert_eq!(stage(&h), CardStage::Failed { can_retry: false });
}

#[test]
fn home_and_the_idle_reset_never_abandon_a_card_in_the_machine() {
    let mut h = Harness::new();
    to_confirm(&mut h);
    act(&mut h, CardAction::Confirm);
    done(&mut h, CardCompletion::Begun(Ok(())));
    let effects = h.user(UserAction::Home);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::EndSession { .. }))
    );
    assert_eq!(stage(&h), CardStage::Making(MakeStep::Dispense));
    act(&mut h, CardAction::Finish);
    act(&mut h, CardAction::Back);
    assert_eq!(stage(&h), CardStage::Making(MakeStep::Dispense));
    for _ in 0..3 {
        let effects = h.send(Event::Timer(TimerId::IdleWarning));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::EndSession { .. }))
        );
    }
    // Answers for an earlier session are dropped.
    let old = crate::flows::SessionId(h.session.id.0 + 7);
    h.done_for(
        old,
        Completion::Card(CardCompletion::StepDone {
            step: MakeStep::Dispense,
            result: Ok(()),
        }),
    );
    assert_eq!(stage(&h), CardStage::Making(MakeStep::Dispense));
}

#[test]
fn hopper_empty_or_reject_bin_full_switch_the_journey_off_and_low_does_not() {
    let mut h = Harness::new();
    h.send(Event::CardStock {
        hopper: HopperLevel::Low,
        reject_bin: RejectBin::Ok,
    });
    h.start(JourneyKind::CardIssue);
    assert_eq!(
        stage(&h),
        CardStage::Identify,
        "a low hopper only alerts staff"
    );
    h.user(UserAction::Home);

    h.send(Event::CardStock {
        hopper: HopperLevel::Empty,
        reject_bin: RejectBin::Ok,
    });
    h.start(JourneyKind::CardIssue);
    let Journey::OutOfService { reason, .. } = &h.session.journey else {
        panic!()
    };
    assert!(reason.zh.contains("空白社保卡已用完"));
    h.user(UserAction::Home);

    h.send(Event::CardStock {
        hopper: HopperLevel::Ok,
        reject_bin: RejectBin::Full,
    });
    h.start(JourneyKind::CardIssue);
    let Journey::OutOfService { reason, .. } = &h.session.journey else {
        panic!()
    };
    assert!(reason.en.contains("needs staff attention"));
    h.user(UserAction::Home);

    h.send(Event::CardStock {
        hopper: HopperLevel::Ok,
        reject_bin: RejectBin::Ok,
    });
    h.send(Event::DeviceChanged {
        device: DeviceClass::Dispenser,
        status: DeviceStatus::new(DeviceState::HardwareError, "10"),
    });
    h.start(JourneyKind::CardIssue);
    assert!(
        matches!(h.session.journey, Journey::OutOfService { .. }),
        "a jammed dispenser too"
    );
}

#[test]
fn a_retry_after_the_stock_ran_out_says_so_instead() {
    let mut h = Harness::new();
    to_confirm(&mut h);
    act(&mut h, CardAction::Confirm);
    done(&mut h, CardCompletion::Begun(Ok(())));
    done(
        &mut h,
        CardCompletion::StepDone {
            step: MakeStep::Dispense,
            result: Err(failure(CardWhere::Inside, true)),
        },
    );
    done(&mut h, CardCompletion::Captured(CaptureEnd::Captured));
    h.send(Event::CardStock {
        hopper: HopperLevel::Ok,
        reject_bin: RejectBin::Full,
    });
    let effects = act(&mut h, CardAction::Retry);
    assert!(cards(&effects).is_empty());
    assert_eq!(stage(&h), CardStage::Failed { can_retry: false });
    assert!(journey(&h).message.as_ref().unwrap().zh.contains("维护"));
}

#[test]
fn a_parent_chooses_the_childs_card_from_an_application_of_this_kiosk() {
    let mut h = Harness::new();
    h.start(JourneyKind::CardIssue);
    h.send(Event::CardPresented(card(HOLDER)));
    let app = uuid::Uuid::from_u128(42);
    done(
        &mut h,
        CardCompletion::Candidates(vec![Candidate {
            application_id: app,
            application_number: "261120-33010601-0007".into(),
        }]),
    );
    assert_eq!(stage(&h), CardStage::ChooseHolder);
    let effects = act(&mut h, CardAction::ChooseHolder(Some(0)));
    assert!(matches!(
        cards(&effects).as_slice(),
        [CardEffect::Request { request, .. }] if **request == CardRequest::Application { application_id: app }
    ));
    done(&mut h, eligible(newborn_card()));
    assert_eq!(stage(&h), CardStage::Confirm);
    let preview = journey(&h).preview().unwrap();
    assert_eq!(preview.photo, PreviewPhoto::None, "no photo under 7");
    assert_eq!(
        preview.application_number.as_deref(),
        Some("261120-33010601-0007")
    );
    let effects = act(&mut h, CardAction::Confirm);
    let CardEffect::Begin { job, .. } = one(&effects) else {
        panic!()
    };
    assert!(job.photo_wlt.is_none());
    assert_eq!(job.application_id, Some(app));
    act(&mut h, CardAction::Back);
    assert_eq!(
        stage(&h),
        CardStage::Making(MakeStep::Dispense),
        "no way back once begun"
    );
}

#[test]
fn not_now_answers_say_why_in_plain_words() {
    let cases = [
        (
            CardCompletion::Answer(Ok(CardAnswer {
                request_id: "CR1".into(),
                eligibility: CardEligibility::NotYet {
                    waiting_for: vec!["参保登记".into()],
                    message: "需先完成参保登记，才能申领社会保障卡。".into(),
                },
                card: None,
            })),
            "参保登记",
        ),
        (
            CardCompletion::Answer(Ok(CardAnswer {
                request_id: "CR1".into(),
                eligibility: CardEligibility::AlreadyHasCard {
                    card_number_masked: "SIM0*0071".into(),
                },
                card: None,
            })),
            "SIM0*0071",
        ),
        (
            CardCompletion::Answer(Err(LookupFailure::Unavailable)),
            "连不上",
        ),
        (
            CardCompletion::Answer(Err(LookupFailure::NotFound)),
            "没有查到",
        ),
    ];
    for (answer, words) in cases {
        let mut h = Harness::new();
        h.start(JourneyKind::CardIssue);
        h.send(Event::CardPresented(card(HOLDER)));
        done(&mut h, CardCompletion::Candidates(Vec::new()));
        done(&mut h, answer);
        assert!(matches!(stage(&h), CardStage::NotNow(_)));
        let message = journey(&h).message.clone().unwrap();
        assert!(message.zh.contains(words), "{} lacks {words}", message.zh);
        act(&mut h, CardAction::Finish);
        assert!(matches!(h.session.journey, Journey::Evaluate(_)));
    }
}

#[test]
fn an_adult_card_needs_the_id_card_photo() {
    let mut h = Harness::new();
    h.start(JourneyKind::CardIssue);
    h.send(Event::CardPresented(card(HOLDER)));
    done(
        &mut h,
        CardCompletion::Candidates(vec![Candidate {
            application_id: uuid::Uuid::from_u128(1),
            application_number: "N".into(),
        }]),
    );
    act(&mut h, CardAction::ChooseHolder(Some(0)));
    // The application's card holder is an adult whose photo was not read here.
    done(&mut h, eligible(adult_card()));
    assert_eq!(stage(&h), CardStage::NotNow(NotNow::NoPhoto));
    assert!(journey(&h).message.as_ref().unwrap().zh.contains("照片"));
}

#[test]
fn after_an_accepted_birth_application_the_card_is_checked_and_explained() {
    let mut h = Harness::new();
    let (journey_, out) = {
        let ctx = h.ctx();
        let cc = crate::flows::issue_card::CardCtx {
            session: h.session.id,
            elder: false,
            blocked: None,
        };
        IssueCard::for_application(
            uuid::Uuid::from_u128(9),
            "261120-33010601-0007".into(),
            crate::catalogue::Delivery::Locker,
            &ctx,
            cc,
        )
    };
    assert_eq!(journey_.stage, CardStage::Checking);
    assert!(matches!(
        cards(&out.effects).as_slice(),
        [CardEffect::Request { request, .. }] if matches!(**request, CardRequest::Application { .. })
    ));
    h.session.journey = Journey::CardIssue(Box::new(journey_));
    done(
        &mut h,
        CardCompletion::Answer(Ok(CardAnswer {
            request_id: "CR1".into(),
            eligibility: CardEligibility::NotYet {
                waiting_for: vec!["户口登记".into()],
                message: "需等待户口登记办结后才能制卡。".into(),
            },
            card: None,
        })),
    );
    assert!(matches!(
        stage(&h),
        CardStage::NotNow(NotNow::NotYet { .. })
    ));
    let message = journey(&h).message.clone().unwrap();
    assert!(
        message.zh.contains("户口登记") && message.zh.contains("取件柜"),
        "{}",
        message.zh
    );
    assert!(message.en.contains("made centrally"));
    assert_eq!(
        journey(&h)
            .holder
            .as_ref()
            .map(|h| matches!(h, Holder::Application { .. })),
        Some(true)
    );
    act(&mut h, CardAction::Finish);
    let Journey::Evaluate(e) = &h.session.journey else {
        panic!()
    };
    assert_eq!(
        e.application_number.as_deref(),
        Some("261120-33010601-0007")
    );

    // With the card unit out of service, it says so at once.
    let h = Harness::new();
    let reason = crate::bi!("x", "y");
    let ctx = h.ctx();
    let cc = crate::flows::issue_card::CardCtx {
        session: h.session.id,
        elder: false,
        blocked: Some(&reason),
    };
    let (j, out) = IssueCard::for_application(
        uuid::Uuid::from_u128(9),
        "N".into(),
        crate::catalogue::Delivery::Mail,
        &ctx,
        cc,
    );
    assert!(out.effects.is_empty());
    assert_eq!(j.stage, CardStage::NotNow(NotNow::OutOfService));
    assert!(j.message.unwrap().zh.contains("邮寄"));
}
