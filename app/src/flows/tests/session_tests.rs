use kiosk_link::{DeviceState, DeviceStatus};

use super::{FATHER, Harness, card};
use crate::domain::progress::{ItemProgress, ItemState, ProgressRecord};
use crate::flows::apply::{ApplyAction, Stage};
use crate::flows::availability::DeviceClass;
use crate::flows::effect::{Effect, ProgressQuery, TimerId};
use crate::flows::evaluate::EvaluateAction;
use crate::flows::event::{Completion, Event, JourneyKind, LookupFailure, UserAction};
use crate::flows::progress::{ProgressAction, ProgressStage};
use crate::flows::session::{Idle, Journey};

fn idle_armed(effects: &[Effect]) -> Option<std::time::Duration> {
    effects.iter().find_map(|e| match e {
        Effect::StartTimer {
            id: TimerId::IdleWarning,
            after,
        } => Some(*after),
        _ => None,
    })
}

#[test]
fn idle_warning_counts_down_then_clears_everything() {
    let mut h = Harness::new();
    let effects = h.start(JourneyKind::Apply);
    assert_eq!(idle_armed(&effects), Some(h.delays.idle_warning));
    h.user(UserAction::SetEnglish(true));
    h.user(UserAction::Apply(ApplyAction::ChooseLifeStage(
        "birth".into(),
    )));
    h.user(UserAction::Apply(ApplyAction::ChooseOneThing(
        "newborn".into(),
    )));
    h.user(UserAction::Apply(ApplyAction::Continue));
    h.send(Event::CardPresented(card(FATHER)));
    let before = h.session.id;

    let effects = h.send(Event::Timer(TimerId::IdleWarning));
    assert_eq!(h.session.idle, Idle::Warning { remaining: 30 });
    assert!(matches!(
        effects[..],
        [Effect::StartTimer {
            id: TimerId::IdleTick,
            ..
        }]
    ));
    for left in (1..30).rev() {
        h.send(Event::Timer(TimerId::IdleTick));
        assert_eq!(h.session.idle, Idle::Warning { remaining: left });
    }
    let effects = h.send(Event::Timer(TimerId::IdleTick));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::EndSession { session } if *session == before))
    );
    assert!(
        matches!(h.session.journey, Journey::Home),
        "nothing of the resident is kept"
    );
    assert!(!h.session.english, "back to the default language");
    assert_ne!(h.session.id, before);

    // An answer started before the reset is not shown to the next resident.
    h.start(JourneyKind::Progress);
    let effects = h.done_for(before, Completion::Progress(Ok(vec![])));
    assert!(effects.is_empty());
    let Journey::Progress(p) = &h.session.journey else {
        panic!()
    };
    assert_eq!(p.stage, ProgressStage::Choose);
}

#[test]
fn a_touch_during_the_warning_keeps_the_session() {
    let mut h = Harness::new();
    h.start(JourneyKind::Guide);
    h.send(Event::Timer(TimerId::IdleWarning));
    h.send(Event::Timer(TimerId::IdleTick));
    let effects = h.user(UserAction::StillHere);
    assert_eq!(h.session.idle, Idle::Active);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CancelTimer(TimerId::IdleTick)))
    );
    assert!(idle_armed(&effects).is_some());
    assert!(matches!(h.session.journey, Journey::Guide(_)));
}

#[test]
fn elder_mode_gives_more_time() {
    let mut h = Harness::new();
    h.start(JourneyKind::Guide);
    let effects = h.user(UserAction::SetElder(true));
    assert_eq!(idle_armed(&effects), Some(h.delays.elder_idle_warning));
    h.send(Event::Timer(TimerId::IdleWarning));
    assert_eq!(h.session.idle, Idle::Warning { remaining: 60 });
}

#[test]
fn the_warning_waits_while_a_device_works_for_the_resident() {
    let mut h = Harness::new();
    h.start(JourneyKind::Progress);
    h.user(UserAction::Progress(ProgressAction::ByCard));
    h.send(Event::CardPresented(card(FATHER)));
    let effects = h.send(Event::Timer(TimerId::IdleWarning));
    assert_eq!(h.session.idle, Idle::Active);
    assert!(idle_armed(&effects).is_some());
}

#[test]
fn a_journey_whose_device_is_down_says_so_and_others_keep_working() {
    let mut h = Harness::new();
    h.send(Event::DeviceChanged {
        device: DeviceClass::Printer,
        status: DeviceStatus::new(DeviceState::HardwareError, "paper out"),
    });
    h.start(JourneyKind::Apply);
    let Journey::OutOfService { reason, .. } = &h.session.journey else {
        panic!()
    };
    assert_eq!(reason.zh, "打印机暂时不能打印");
    h.user(UserAction::Home);
    h.start(JourneyKind::Progress);
    assert!(matches!(h.session.journey, Journey::Progress(_)));
    h.user(UserAction::Home);
    h.send(Event::PlatformChanged { reachable: false });
    h.start(JourneyKind::Progress);
    let Journey::OutOfService { reason, .. } = &h.session.journey else {
        panic!()
    };
    assert!(reason.zh.contains("查不了进度"));
}

#[test]
fn progress_by_number_and_code() {
    let mut h = Harness::new();
    h.start(JourneyKind::Progress);
    h.user(UserAction::Progress(ProgressAction::ByNumber));
    h.user(UserAction::Progress(ProgressAction::SetNumber(
        "261120 33010601 0007".into(),
    )));
    h.user(UserAction::Progress(ProgressAction::SetCode("42".into())));
    let effects = h.user(UserAction::Progress(ProgressAction::Search));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchProgress { .. })),
        "a short code is refused"
    );
    h.user(UserAction::Progress(ProgressAction::SetCode(
        "424243".into(),
    )));
    let effects = h.user(UserAction::Progress(ProgressAction::Search));
    let query = effects.iter().find_map(|e| match e {
        Effect::FetchProgress { query, .. } => Some(query.clone()),
        _ => None,
    });
    assert_eq!(
        query,
        Some(ProgressQuery::Number {
            number: "261120-33010601-0007".into(),
            code: "424243".into()
        })
    );
    let record = ProgressRecord {
        number: "261120-33010601-0007".into(),
        one_thing: "新生儿出生“一件事”".into(),
        accepted_on: "2026-11-20".into(),
        items: vec![
            ItemProgress {
                name: "户口登记".into(),
                department: "公安部门".into(),
                state: ItemState::Done,
            },
            ItemProgress {
                name: "社会保障卡申领".into(),
                department: "人力资源社会保障部门".into(),
                state: ItemState::Refused {
                    reason: "照片不符合要求".into(),
                },
            },
        ],
        collect: None,
    };
    h.done(Completion::Progress(Ok(vec![record.clone()])));
    let Journey::Progress(p) = &h.session.journey else {
        panic!()
    };
    assert_eq!(p.stage, ProgressStage::Results(vec![record]));

    h.user(UserAction::Progress(ProgressAction::Back));
    h.user(UserAction::Progress(ProgressAction::ByCard));
    let effects = h.send(Event::CardPresented(card(FATHER)));
    assert!(effects.iter().any(|e| matches!(e, Effect::FetchProgress { query: ProgressQuery::IdNumber(n), .. } if n == "360426199101010071")));
    h.done(Completion::Progress(Err(LookupFailure::Unavailable)));
    let Journey::Progress(p) = &h.session.journey else {
        panic!()
    };
    assert_eq!(p.stage, ProgressStage::Unavailable);
}

#[test]
fn low_ratings_ask_why_and_the_resident_may_skip() {
    let mut h = Harness::new();
    h.start(JourneyKind::Evaluate);
    h.user(UserAction::Evaluate(EvaluateAction::Level(5)));
    let effects = h.user(UserAction::Evaluate(EvaluateAction::Submit));
    assert!(
        effects
            .iter()
            .all(|e| !matches!(e, Effect::SaveEvaluation { .. }))
    );
    h.user(UserAction::Evaluate(EvaluateAction::ToggleReason(
        "too-slow".into(),
    )));
    let effects = h.user(UserAction::Evaluate(EvaluateAction::Submit));
    assert!(effects.iter().any(|e| matches!(e, Effect::SaveEvaluation { evaluation, .. } if evaluation.reasons == ["too-slow"])));

    h.user(UserAction::Home);
    h.start(JourneyKind::Evaluate);
    let effects = h.user(UserAction::Evaluate(EvaluateAction::Skip));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::EndSession { .. }))
    );
    assert!(matches!(h.session.journey, Journey::Home));
}

#[test]
fn back_walks_the_apply_journey_in_reverse() {
    let mut h = Harness::new();
    h.start(JourneyKind::Apply);
    h.user(UserAction::Apply(ApplyAction::ChooseLifeStage(
        "birth".into(),
    )));
    h.user(UserAction::Apply(ApplyAction::ChooseOneThing(
        "newborn".into(),
    )));
    h.user(UserAction::Apply(ApplyAction::Back));
    let Journey::Apply(a) = &h.session.journey else {
        panic!()
    };
    assert_eq!(
        a.stage,
        Stage::OneThing {
            life_stage: "birth".into()
        }
    );
    h.user(UserAction::Apply(ApplyAction::Back));
    let Journey::Apply(a) = &h.session.journey else {
        panic!()
    };
    assert_eq!(a.stage, Stage::LifeStage);
}
