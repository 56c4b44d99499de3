use std::collections::BTreeMap;

use kiosk_printer::slips::Document;

use super::{FATHER, Harness, card};
use crate::catalogue::Delivery;
use crate::domain::application::{MaterialState, ValueSource};
use crate::flows::apply::{ApplyAction, MaterialStatus, PrintState, Stage};
use crate::flows::effect::Effect;
use crate::flows::evaluate::{EvaluateAction, EvaluateStage};
use crate::flows::event::{Completion, Event, JourneyKind, LookupFailure, ScannedPage, UserAction};
use crate::flows::session::Journey;

/// The mother of the platform simulator's sample newborn (a name outside GB2312).
const MOTHER_VALID: &str = "resident_rare_name.json";

fn act(h: &mut Harness, a: ApplyAction) -> Vec<Effect> {
    h.user(UserAction::Apply(a))
}

fn apply(h: &Harness) -> &crate::flows::apply::Apply {
    match &h.session.journey {
        Journey::Apply(a) => a,
        other => panic!("not applying: {other:?}"),
    }
}

fn stage(h: &Harness) -> Stage {
    apply(h).stage.clone()
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Drives the birth one-thing up to the items screen: both parents identified, questions
/// answered (registered with the father, mother insured).
fn to_items(h: &mut Harness) {
    h.start(JourneyKind::Apply);
    act(h, ApplyAction::ChooseLifeStage("birth".into()));
    act(h, ApplyAction::ChooseOneThing("newborn".into()));
    assert_eq!(stage(h), Stage::Notice);
    act(h, ApplyAction::Continue);
    assert_eq!(stage(h), Stage::Identify);
    h.send(Event::CardPresented(card(FATHER)));
    assert_eq!(stage(h), Stage::Identify, "waits for the second parent");
    h.send(Event::CardPresented(card(MOTHER_VALID)));
    assert_eq!(stage(h), Stage::Question(0));
    for (q, v) in [
        ("born-in-province", "yes"),
        ("settle-with", "father"),
        ("maternity-insurance", "yes"),
    ] {
        act(
            h,
            ApplyAction::Answer {
                question: q.into(),
                value: v.into(),
            },
        );
    }
    assert_eq!(stage(h), Stage::Items);
}

/// Answers every shared-data look-up the effects asked for.
fn answer_shared(
    h: &mut Harness,
    effects: Vec<Effect>,
    marriage: Result<(), LookupFailure>,
    household: Result<(), LookupFailure>,
) {
    let mut asked = Vec::new();
    for e in effects {
        if let Effect::FetchShared {
            dataset,
            role,
            id_number,
            ..
        } = e
        {
            asked.push((dataset.clone(), role.clone()));
            let result = match dataset.as_str() {
                "household-register" => household.map(|()| {
                    fields(&[
                        ("address", "江西省示例市示例县测试镇样例路1号"),
                        ("household_number", "360426001234"),
                    ])
                }),
                "marriage-certificate" => {
                    marriage.map(|()| fields(&[("certificate_number", "J360426-2024-000123")]))
                }
                "birth-medical-certificate" => Ok(fields(&[
                    ("child_gender", "女"),
                    ("birth_date", "2026-11-10"),
                    ("institution", "示例市妇幼保健院"),
                ])),
                other => panic!("unexpected dataset {other} for {id_number}"),
            };
            h.done(Completion::Shared {
                dataset,
                role,
                result,
            });
        }
    }
    asked.sort();
    assert_eq!(
        asked,
        [
            ("birth-medical-certificate".to_owned(), "mother".to_owned()),
            ("household-register".to_owned(), "father".to_owned()),
            ("marriage-certificate".to_owned(), "father".to_owned()),
        ]
    );
}

fn fill_typed(h: &mut Harness) {
    for (f, v) in [
        ("child.name", "王小样"),
        ("child.nation", "随父亲"),
        ("contact.phone", "138 0013 8000"),
    ] {
        act(
            h,
            ApplyAction::SetField {
                field: f.into(),
                value: v.into(),
            },
        );
    }
}

#[test]
fn birth_one_thing_from_notice_to_evaluation() {
    let mut h = Harness::new();
    to_items(&mut h);
    let chosen = apply(&h).chosen.clone();
    assert_eq!(chosen.len(), 6);
    assert!(
        chosen.contains(&"maternity-benefit".to_owned()),
        "the situation added it"
    );
    assert!(
        chosen.iter().position(|c| c == "social-security-card")
            > chosen.iter().position(|c| c == "household-registration")
    );

    let effects = act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Fetching);
    answer_shared(&mut h, effects, Ok(()), Ok(()));
    assert_eq!(stage(&h), Stage::Form);

    // Prefilled from the cards (locked) and from shared data (marked as shared).
    let form = &apply(&h).form;
    let entry = |id: &str| form.iter().find(|e| e.field == id).unwrap();
    assert_eq!(entry("father.name").value, "王测试");
    assert!(entry("father.name").locked);
    assert_eq!(
        entry("father.id_number").source,
        Some(ValueSource::Card {
            person: "father".into()
        })
    );
    assert_eq!(entry("child.gender").value, "女");
    assert_eq!(
        entry("child.gender").source,
        Some(ValueSource::Shared {
            dataset: "birth-medical-certificate".into()
        })
    );
    assert_eq!(
        entry("household.address").value,
        "江西省示例市示例县测试镇样例路1号"
    );
    assert!(
        entry("child.name").value.is_empty(),
        "only the rest is typed"
    );

    // Missing typed fields keep the resident on the form, marked.
    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Form);
    assert!(apply(&h).message.as_ref().unwrap().zh.contains("还有3项"));
    act(
        &mut h,
        ApplyAction::SetField {
            field: "father.name".into(),
            value: "改名".into(),
        },
    );
    assert_eq!(
        apply(&h)
            .form
            .iter()
            .find(|e| e.field == "father.name")
            .unwrap()
            .value,
        "王测试",
        "card data cannot be edited"
    );
    fill_typed(&mut h);
    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Materials);
    let m = &apply(&h).materials;
    let status = |id: &str| m.iter().find(|x| x.id == id).unwrap().status.clone();
    assert_eq!(
        status("father-id-card"),
        MaterialStatus::FromCard {
            person: "father".into()
        }
    );
    assert_eq!(
        status("marriage-certificate"),
        MaterialStatus::Shared {
            dataset: "marriage-certificate".into()
        }
    );

    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Review);
    assert_eq!(apply(&h).delivery, Some(Delivery::Locker));
    let effects = act(&mut h, ApplyAction::Accept);
    assert_eq!(stage(&h), Stage::Accepting);
    let Some(Effect::Accept { application, .. }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::Accept { .. }))
    else {
        panic!("no accept effect")
    };
    assert_eq!(application.number, "261120-33010601-0007");
    assert_eq!(application.one_thing_id, "newborn");
    assert_eq!(application.applicants.len(), 2);
    assert_eq!(application.situations, ["mother-insured"]);
    // Accepted on Friday 2026-11-20: four working days are Mon 23 to Thu 26.
    assert_eq!(application.due_date, Some(jiff::civil::date(2026, 11, 26)));
    assert_eq!(application.contact_phone.as_deref(), Some("13800138000"));
    assert_eq!(application.form["child.name"].source, ValueSource::Typed);
    assert_eq!(application.query_code_hash.len(), 64);

    let effects = h.done(Completion::Accepted {
        number: application.number.clone(),
    });
    assert_eq!(stage(&h), Stage::Accepted);
    let Some(Effect::Print { document, .. }) = effects.first() else {
        panic!("notice not printed: {effects:?}")
    };
    let Document::Acceptance(notice) = document.as_ref() else {
        panic!("wrong document")
    };
    assert_eq!(notice.application_no, "261120-33010601-0007");
    assert_eq!(notice.masked_id_number.0, "3604**********0071");
    assert_eq!(notice.items.len(), 6);
    assert!(
        notice
            .items
            .iter()
            .any(|i| i.name == "社会保障卡申领" && i.department == "人力资源社会保障部门")
    );
    assert_eq!(notice.due_date, "2026年11月26日");
    assert!(notice.time_limit.starts_with("4个工作日"));
    assert_eq!(notice.accepted_by.window_no, "自助终端 1 号");
    assert!(notice.progress_url.contains("no=261120-33010601-0007"));
    assert!(notice.materials_committed.is_empty());
    h.done(Completion::Printed(Ok(())));
    assert_eq!(apply(&h).print, PrintState::Printed);

    // The application includes the social security card: the platform is asked at once
    // whether it can be made here; it does not know the application yet, so the resident is
    // told plainly that it will be made centrally.
    let effects = act(&mut h, ApplyAction::Finish);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Card(crate::flows::issue_card::CardEffect::Request { .. })
    )));
    h.done(Completion::Card(
        crate::flows::issue_card::CardCompletion::Answer(Err(
            crate::flows::event::LookupFailure::NotFound,
        )),
    ));
    let Journey::CardIssue(c) = &h.session.journey else {
        panic!("card checked")
    };
    assert!(c.message.as_ref().unwrap().zh.contains("取件柜"));
    h.user(UserAction::Card(
        crate::flows::issue_card::CardAction::Finish,
    ));
    let Journey::Evaluate(e) = &h.session.journey else {
        panic!("evaluation offered")
    };
    assert_eq!(
        e.application_number.as_deref(),
        Some("261120-33010601-0007")
    );
    h.user(UserAction::Evaluate(EvaluateAction::Level(1)));
    let effects = h.user(UserAction::Evaluate(EvaluateAction::Submit));
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::SaveEvaluation { evaluation, .. } if evaluation.level == 1)
        )
    );
    h.done(Completion::EvaluationSaved);
    let Journey::Evaluate(e) = &h.session.journey else {
        panic!()
    };
    assert_eq!(e.stage, EvaluateStage::Thanks);
    let effects = h.user(UserAction::Home);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::EndSession { .. }))
    );
    assert!(matches!(h.session.journey, Journey::Home));
}

#[test]
fn a_missing_secondary_material_is_accepted_on_a_commitment() {
    let mut h = Harness::new();
    to_items(&mut h);
    let effects = act(&mut h, ApplyAction::Continue);
    answer_shared(&mut h, effects, Err(LookupFailure::NotFound), Ok(()));
    fill_typed(&mut h);
    act(&mut h, ApplyAction::Continue);
    assert!(matches!(
        apply(&h)
            .materials
            .iter()
            .find(|m| m.id == "marriage-certificate")
            .unwrap()
            .status,
        MaterialStatus::NeedsScan { .. }
    ));
    act(&mut h, ApplyAction::Continue);
    assert_eq!(
        stage(&h),
        Stage::Materials,
        "an undecided secondary material needs a decision"
    );
    assert!(apply(&h).message.as_ref().unwrap().zh.contains("以后补交"));
    act(
        &mut h,
        ApplyAction::CommitLater("marriage-certificate".into()),
    );
    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Review);
    let effects = act(&mut h, ApplyAction::Accept);
    let Some(Effect::Accept { application, .. }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::Accept { .. }))
    else {
        panic!()
    };
    let marriage = application
        .materials
        .iter()
        .find(|m| m.id == "marriage-certificate")
        .unwrap();
    // Five working days after Friday 2026-11-20.
    assert_eq!(
        marriage.state,
        MaterialState::CommittedLater {
            deadline: Some(jiff::civil::date(2026, 11, 27))
        }
    );
    let effects = h.done(Completion::Accepted {
        number: application.number.clone(),
    });
    let Some(Effect::Print { document, .. }) =
        effects.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!()
    };
    let Document::Acceptance(notice) = document.as_ref() else {
        panic!()
    };
    assert_eq!(notice.materials_committed.len(), 1);
    assert_eq!(notice.materials_committed[0].deadline, "2026年11月27日前");
}

#[test]
fn a_missing_primary_material_refuses_with_one_notice_of_everything_missing() {
    let mut h = Harness::new();
    to_items(&mut h);
    let effects = act(&mut h, ApplyAction::Continue);
    answer_shared(
        &mut h,
        effects,
        Err(LookupFailure::Unavailable),
        Err(LookupFailure::Unavailable),
    );
    assert!(
        apply(&h)
            .message
            .as_ref()
            .unwrap()
            .zh
            .contains("平台暂时连不上")
    );
    fill_typed(&mut h);
    // The household address could not be prefilled: the resident types it.
    act(
        &mut h,
        ApplyAction::SetField {
            field: "household.address".into(),
            value: "江西省示例市示例县测试镇样例路1号".into(),
        },
    );
    act(
        &mut h,
        ApplyAction::SetField {
            field: "household.number".into(),
            value: "360426001234".into(),
        },
    );
    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Materials);
    // A primary material cannot be committed for later.
    act(
        &mut h,
        ApplyAction::CommitLater("household-register".into()),
    );
    assert!(
        apply(&h)
            .message
            .as_ref()
            .unwrap()
            .zh
            .contains("不能以后补交")
    );
    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Missing);
    let effects = act(&mut h, ApplyAction::PrintMissingNotice);
    let Some(Effect::Print { document, .. }) =
        effects.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!()
    };
    let Document::MissingMaterials(notice) = document.as_ref() else {
        panic!()
    };
    let names: Vec<_> = notice.missing.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["新生儿拟落户方居民户口簿", "新生儿父母结婚证"],
        "everything missing, in one notice"
    );
    assert!(notice.application_no.is_none(), "nothing was accepted");
    act(&mut h, ApplyAction::Accept);
    assert_eq!(stage(&h), Stage::Missing, "no acceptance");
}

#[test]
fn a_scanned_page_supplies_a_material_and_scan_faults_are_told() {
    let mut h = Harness::new();
    to_items(&mut h);
    let effects = act(&mut h, ApplyAction::Continue);
    answer_shared(&mut h, effects, Err(LookupFailure::NotFound), Ok(()));
    fill_typed(&mut h);
    act(&mut h, ApplyAction::Continue);
    let effects = act(&mut h, ApplyAction::Scan("marriage-certificate".into()));
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::Scan { material, .. } if material == "marriage-certificate")
        )
    );
    assert!(apply(&h).is_busy());
    h.done(Completion::ScanFailed {
        material: "marriage-certificate".into(),
        reason: crate::bi!(
            "扫描仪卡纸了，请联系工作人员",
            "The scanner jammed; please ask staff"
        ),
    });
    assert_eq!(stage(&h), Stage::Materials);
    assert!(apply(&h).message.as_ref().unwrap().zh.contains("卡纸"));
    act(&mut h, ApplyAction::Scan("marriage-certificate".into()));
    h.done(Completion::ScanProgress {
        material: "marriage-certificate".into(),
        percent: 40,
    });
    assert_eq!(apply(&h).scan_percent, 40);
    let page = ScannedPage {
        sha256: "ab".repeat(32),
        thumbnail: "/tmp/t.jpg".into(),
    };
    h.done(Completion::ScanPage {
        material: "marriage-certificate".into(),
        page: page.clone(),
    });
    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Review);
    let effects = act(&mut h, ApplyAction::Accept);
    let Some(Effect::Accept { application, .. }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::Accept { .. }))
    else {
        panic!()
    };
    let marriage = application
        .materials
        .iter()
        .find(|m| m.id == "marriage-certificate")
        .unwrap();
    assert_eq!(
        marriage.state,
        MaterialState::Scanned {
            pages: vec![page.sha256]
        }
    );
}

#[test]
fn cards_are_checked_before_they_are_used() {
    let mut h = Harness::new();
    h.start(JourneyKind::Apply);
    act(&mut h, ApplyAction::ChooseLifeStage("birth".into()));
    act(&mut h, ApplyAction::ChooseOneThing("newborn".into()));
    act(&mut h, ApplyAction::Continue);
    h.send(Event::CardPresented(card("resident_expired.json")));
    assert!(
        apply(&h).applicants.is_empty(),
        "an expired card is refused"
    );
    assert!(apply(&h).message.as_ref().unwrap().zh.contains("已过期"));
    h.send(Event::CardPresented(card(FATHER)));
    h.send(Event::CardPresented(card(FATHER)));
    assert_eq!(
        apply(&h).applicants.len(),
        1,
        "the same card twice is one person"
    );
    assert!(
        apply(&h)
            .message
            .as_ref()
            .unwrap()
            .zh
            .contains("已经读过了（新生儿父亲）")
    );
    act(&mut h, ApplyAction::Continue);
    assert!(
        apply(&h)
            .message
            .as_ref()
            .unwrap()
            .zh
            .contains("请先放新生儿母亲的身份证")
    );
}

#[test]
fn an_ineligible_answer_says_why_and_ends_without_accepting() {
    let mut h = Harness::new();
    h.start(JourneyKind::Apply);
    act(&mut h, ApplyAction::ChooseLifeStage("birth".into()));
    act(&mut h, ApplyAction::ChooseOneThing("newborn".into()));
    act(&mut h, ApplyAction::Continue);
    h.send(Event::CardPresented(card(FATHER)));
    h.send(Event::CardPresented(card(MOTHER_VALID)));
    act(
        &mut h,
        ApplyAction::Answer {
            question: "born-in-province".into(),
            value: "no".into(),
        },
    );
    let Stage::NotEligible(reason) = stage(&h) else {
        panic!()
    };
    assert!(reason.zh.contains("综合窗口"));
    act(&mut h, ApplyAction::Finish);
    assert!(
        matches!(h.session.journey, Journey::Evaluate(_)),
        "evaluation is offered, not forced"
    );
}

#[test]
fn items_joined_by_law_move_together_and_the_rest_may_be_dropped() {
    let mut h = Harness::new();
    h.start(JourneyKind::Apply);
    act(&mut h, ApplyAction::ChooseLifeStage("housing".into()));
    act(
        &mut h,
        ApplyAction::ChooseOneThing("second-hand-home".into()),
    );
    act(&mut h, ApplyAction::Continue);
    h.send(Event::CardPresented(card(FATHER)));
    h.send(Event::CardPresented(card(MOTHER_VALID)));
    assert_eq!(stage(&h), Stage::Items);
    assert_eq!(apply(&h).chosen.len(), 6);
    act(&mut h, ApplyAction::ToggleItem("transaction-tax".into()));
    assert_eq!(
        apply(&h).chosen,
        ["electricity-transfer", "water-transfer", "gas-transfer"],
        "the three parallel items went together"
    );
    act(
        &mut h,
        ApplyAction::ToggleItem("property-registration".into()),
    );
    assert_eq!(apply(&h).chosen.len(), 6);
    for item in [
        "electricity-transfer",
        "water-transfer",
        "gas-transfer",
        "contract-filing",
    ] {
        act(&mut h, ApplyAction::ToggleItem(item.into()));
    }
    assert!(apply(&h).chosen.is_empty());
    act(&mut h, ApplyAction::Continue);
    assert_eq!(stage(&h), Stage::Items, "at least one item");
}

#[test]
fn the_guide_leads_to_printing_and_to_applying() {
    use crate::flows::guide::{GuideAction, GuideStage};
    let mut h = Harness::new();
    h.start(JourneyKind::Guide);
    h.user(UserAction::Guide(GuideAction::ChooseLifeStage(
        "birth".into(),
    )));
    h.user(UserAction::Guide(GuideAction::ChooseOneThing(
        "newborn".into(),
    )));
    let effects = h.user(UserAction::Guide(GuideAction::Print));
    let Some(Effect::Print { document, .. }) =
        effects.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!()
    };
    let Document::Guide(slip) = document.as_ref() else {
        panic!()
    };
    assert_eq!(slip.scope, "在助产机构内出生且符合省内落户政策的新生儿。");
    assert_eq!(slip.fees, "不收费（不包括医保缴纳费用、邮寄费用）");
    assert!(slip.time_limit.contains("4个工作日"));
    assert_eq!(
        slip.full_guide_url,
        "https://zwfw.example.gov.cn/guide/newborn"
    );
    assert_eq!(slip.materials.len(), 5);
    let Journey::Guide(g) = &h.session.journey else {
        panic!()
    };
    assert_eq!(
        g.stage,
        GuideStage::View {
            one_thing: "newborn".into()
        }
    );
    h.user(UserAction::Guide(GuideAction::ApplyNow));
    assert_eq!(stage(&h), Stage::Notice);
}
