//! The social security card journey, written into `CardIssuePage`. Everything personal on
//! this page comes masked from the flow ([`IssueCard::preview`]).

use kiosk_ui as ui;
use slint::{ComponentHandle, SharedString};

use super::render::{Lang, Models};
use super::sync;
use crate::domain::text::Bilingual;
use crate::flows::issue_card::{CardStage, IssueCard, LineState, PreviewPhoto};

/// Fills the page; returns the screen and the message for the message bar (a message that
/// the page shows as its reason is not repeated there).
pub(super) fn card_issue<'a>(
    window: &ui::MainWindow,
    models: &Models,
    lang: Lang,
    c: &'a IssueCard,
) -> (ui::Screen, Option<&'a Bilingual>) {
    let g = window.global::<ui::CardIssuePage>();
    let (stage, can_retry) = match &c.stage {
        CardStage::Identify => (ui::CardStage::Identify, false),
        CardStage::Looking | CardStage::Checking => (ui::CardStage::Checking, false),
        CardStage::ChooseHolder => (ui::CardStage::ChooseHolder, false),
        CardStage::Confirm => (ui::CardStage::Confirm, false),
        CardStage::NotNow(_) => (ui::CardStage::NotNow, false),
        CardStage::Making(_) => (ui::CardStage::Working, false),
        CardStage::Present => (ui::CardStage::Present, false),
        // The card is being taken back in: the failure is shown while it happens.
        CardStage::Capturing => (ui::CardStage::Failed, false),
        CardStage::Issued => (ui::CardStage::Done, false),
        CardStage::Failed { can_retry } => (ui::CardStage::Failed, *can_retry),
    };
    g.set_stage(stage);
    g.set_can_retry(can_retry);
    g.set_percent(i32::from(c.progress()));
    let steps = c
        .steps()
        .iter()
        .map(|line| ui::Step {
            label: lang.bi(&line.label),
            state: match line.state {
                LineState::Waiting => ui::StepState::Pending,
                LineState::Active => ui::StepState::Active,
                LineState::Done => ui::StepState::Done,
                LineState::Failed => ui::StepState::Failed,
            },
        })
        .collect();
    sync(&models.card_steps, steps);
    let candidates = if c.stage == CardStage::ChooseHolder {
        c.candidates
            .iter()
            .map(|x| SharedString::from(x.application_number.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    sync(&models.card_candidates, candidates);
    let preview = c.preview();
    g.set_holder(
        preview
            .as_ref()
            .map(|p| p.name.as_str())
            .unwrap_or_default()
            .into(),
    );
    let facts = match (&c.stage, &preview) {
        (CardStage::Confirm, Some(p)) => {
            let fact = |zh: &str, en: &str, value: SharedString| ui::CardFact {
                label: lang.t(zh, en),
                value,
            };
            let mut rows = vec![
                fact("姓名", "Name", p.name.as_str().into()),
                fact(
                    "社会保障号码",
                    "Social security number",
                    p.id_number.as_str().into(),
                ),
                fact("卡号", "Card number", p.card_number.as_str().into()),
                fact("发卡日期", "Issue date", lang.date(p.issue_date)),
                fact(
                    "照片",
                    "Photo",
                    match p.photo {
                        PreviewPhoto::None => lang.t("不满7岁，卡面无照片", "Under 7: no photo"),
                        PreviewPhoto::IdCard => lang.t("使用身份证照片", "From the ID card"),
                        PreviewPhoto::Stored => lang.t("使用已登记的照片", "The photo on record"),
                    },
                ),
            ];
            if let Some(n) = &p.application_number {
                rows.push(fact("申请编号", "Application number", n.as_str().into()));
            }
            rows
        }
        _ => Vec::new(),
    };
    sync(&models.card_facts, facts);
    let shown_as_reason = matches!(
        c.stage,
        CardStage::NotNow(_) | CardStage::Failed { .. } | CardStage::Capturing
    );
    let reason = if shown_as_reason {
        c.message.as_ref().map(|m| lang.bi(m)).unwrap_or_default()
    } else {
        SharedString::new()
    };
    g.set_reason(reason);
    let message = if shown_as_reason {
        None
    } else {
        c.message.as_ref()
    };
    (ui::Screen::CardIssue, message)
}

/// Leaves nothing of a resident's card on the page.
pub(super) fn clear(window: &ui::MainWindow, models: &Models) {
    sync(&models.card_steps, Vec::new());
    sync(&models.card_candidates, Vec::new());
    sync(&models.card_facts, Vec::new());
    let g = window.global::<ui::CardIssuePage>();
    g.set_holder(SharedString::new());
    g.set_reason(SharedString::new());
    g.set_stage(ui::CardStage::Identify);
    g.set_percent(0);
}
