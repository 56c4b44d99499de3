//! The session, written into the globals of `ui/api.slint`.

use std::rc::Rc;

use kiosk_ui as ui;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::fonts::FontCoverage;
use super::{State, images, sync};
use crate::catalogue::{Delivery, FieldType, Importance, MaterialSource, OneThing};
use crate::domain::application::ValueSource;
use crate::domain::evaluation::{LOW_RATING_REASONS, is_low, levels};
use crate::domain::progress::ItemState;
use crate::domain::text::Bilingual;
use crate::flows::apply::{Apply, MaterialStatus, PrintState, Stage};
use crate::flows::evaluate::{Evaluate, EvaluateStage};
use crate::flows::event::JourneyKind;
use crate::flows::guide::{Guide, GuideStage};
use crate::flows::progress::{Progress, ProgressStage};
use crate::flows::session::Idle;
use crate::flows::{Ctx, Journey, Session};

/// The lists shown on screen, created once and updated in place.
pub(super) struct Models {
    pub life_stages: Rc<VecModel<ui::Choice>>,
    pub one_things: Rc<VecModel<ui::Choice>>,
    pub notice_items: Rc<VecModel<ui::NoticeItem>>,
    pub notice_materials: Rc<VecModel<ui::NoticeMaterial>>,
    pub applicants: Rc<VecModel<ui::Applicant>>,
    pub answers: Rc<VecModel<ui::Choice>>,
    pub item_choices: Rc<VecModel<ui::Choice>>,
    pub fields: Rc<VecModel<ui::FormField>>,
    pub material_rows: Rc<VecModel<ui::MaterialRow>>,
    pub review: Rc<VecModel<ui::Fact>>,
    pub deliveries: Rc<VecModel<ui::Choice>>,
    pub committed: Rc<VecModel<ui::NoticeMaterial>>,
    pub missing: Rc<VecModel<ui::NoticeMaterial>>,
    pub records: Rc<VecModel<ui::ProgressRecord>>,
    pub guide_life_stages: Rc<VecModel<ui::Choice>>,
    pub guide_one_things: Rc<VecModel<ui::Choice>>,
    pub guide_items: Rc<VecModel<ui::NoticeItem>>,
    pub guide_materials: Rc<VecModel<ui::NoticeMaterial>>,
    pub guide_facts: Rc<VecModel<ui::Fact>>,
    pub levels: Rc<VecModel<ui::Choice>>,
    pub reasons: Rc<VecModel<ui::Choice>>,
    pub candidates: Rc<VecModel<SharedString>>,
    pub locker_contents: Rc<VecModel<SharedString>>,
    pub card_steps: Rc<VecModel<ui::Step>>,
    pub card_facts: Rc<VecModel<ui::CardFact>>,
    pub card_candidates: Rc<VecModel<SharedString>>,
    pub staff_devices: Rc<VecModel<ui::DeviceRow>>,
    pub consumables: Rc<VecModel<ui::Consumable>>,
    pub compartments: Rc<VecModel<ui::Compartment>>,
    pub staff_alerts: Rc<VecModel<SharedString>>,
    pub staff_ready: Rc<VecModel<SharedString>>,
}

fn model<T: Clone + 'static>() -> Rc<VecModel<T>> {
    Rc::new(VecModel::default())
}

fn rc<T: Clone + 'static>(m: &Rc<VecModel<T>>) -> ModelRc<T> {
    ModelRc::from(m.clone())
}

impl Models {
    pub fn install(window: &ui::MainWindow) -> Models {
        let models = Models {
            life_stages: model(),
            one_things: model(),
            notice_items: model(),
            notice_materials: model(),
            applicants: model(),
            answers: model(),
            item_choices: model(),
            fields: model(),
            material_rows: model(),
            review: model(),
            deliveries: model(),
            committed: model(),
            missing: model(),
            records: model(),
            guide_life_stages: model(),
            guide_one_things: model(),
            guide_items: model(),
            guide_materials: model(),
            guide_facts: model(),
            levels: model(),
            reasons: model(),
            candidates: model(),
            locker_contents: model(),
            card_steps: model(),
            card_facts: model(),
            card_candidates: model(),
            staff_devices: model(),
            consumables: model(),
            compartments: model(),
            staff_alerts: model(),
            staff_ready: model(),
        };
        let apply = window.global::<ui::ApplyPage>();
        apply.set_life_stages(rc(&models.life_stages));
        apply.set_one_things(rc(&models.one_things));
        apply.set_items(rc(&models.notice_items));
        apply.set_materials(rc(&models.notice_materials));
        apply.set_applicants(rc(&models.applicants));
        apply.set_answers(rc(&models.answers));
        apply.set_item_choices(rc(&models.item_choices));
        apply.set_fields(rc(&models.fields));
        apply.set_material_rows(rc(&models.material_rows));
        apply.set_review(rc(&models.review));
        apply.set_deliveries(rc(&models.deliveries));
        apply.set_committed(rc(&models.committed));
        apply.set_missing(rc(&models.missing));
        window
            .global::<ui::ProgressPage>()
            .set_records(rc(&models.records));
        let guide = window.global::<ui::GuidePage>();
        guide.set_life_stages(rc(&models.guide_life_stages));
        guide.set_one_things(rc(&models.guide_one_things));
        guide.set_items(rc(&models.guide_items));
        guide.set_materials(rc(&models.guide_materials));
        guide.set_facts(rc(&models.guide_facts));
        let evaluate = window.global::<ui::EvaluatePage>();
        evaluate.set_levels(rc(&models.levels));
        evaluate.set_reasons(rc(&models.reasons));
        window
            .global::<ui::Keyboard>()
            .set_candidates(rc(&models.candidates));
        window
            .global::<ui::LockerPage>()
            .set_contents(rc(&models.locker_contents));
        let card = window.global::<ui::CardIssuePage>();
        card.set_steps(rc(&models.card_steps));
        card.set_facts(rc(&models.card_facts));
        card.set_candidates(rc(&models.card_candidates));
        let staff = window.global::<ui::StaffPage>();
        staff.set_devices(rc(&models.staff_devices));
        staff.set_consumables(rc(&models.consumables));
        staff.set_compartments(rc(&models.compartments));
        staff.set_alerts(rc(&models.staff_alerts));
        staff.set_ready(rc(&models.staff_ready));
        models
    }
}

/// Empties every list and every text a resident's session may have filled: called when a
/// session ends, so that nothing of a resident stays in the UI's memory either.
pub(super) fn clear(window: &ui::MainWindow, models: &Models) {
    fn empty<T: Clone + PartialEq + 'static>(m: &VecModel<T>) {
        sync(m, Vec::new());
    }
    empty(&models.life_stages);
    empty(&models.one_things);
    empty(&models.notice_items);
    empty(&models.notice_materials);
    empty(&models.applicants);
    empty(&models.answers);
    empty(&models.item_choices);
    empty(&models.fields);
    empty(&models.material_rows);
    empty(&models.review);
    empty(&models.deliveries);
    empty(&models.committed);
    empty(&models.missing);
    empty(&models.records);
    empty(&models.guide_life_stages);
    empty(&models.guide_one_things);
    empty(&models.guide_items);
    empty(&models.guide_materials);
    empty(&models.guide_facts);
    empty(&models.levels);
    empty(&models.reasons);
    empty(&models.candidates);
    let none = SharedString::new;
    let a = window.global::<ui::ApplyPage>();
    a.set_title(none());
    a.set_life_stage(none());
    a.set_summary(none());
    a.set_awaited_role(none());
    a.set_question(none());
    a.set_question_id(none());
    a.set_not_eligible_reason(none());
    a.set_scanning_name(none());
    a.set_mailing_address(none());
    a.set_number(none());
    a.set_code(none());
    a.set_due_date(none());
    a.set_qr(slint::Image::default());
    a.set_print_error(none());
    a.set_print(ui::PrintState::Idle);
    a.set_guide_print(ui::PrintState::Idle);
    a.set_editing(-1);
    let p = window.global::<ui::ProgressPage>();
    p.set_number(none());
    p.set_code(none());
    let g = window.global::<ui::GuidePage>();
    g.set_name(none());
    g.set_qr(slint::Image::default());
    g.set_print(ui::PrintState::Idle);
    window
        .global::<ui::EvaluatePage>()
        .set_application_number(none());
    let k = window.global::<ui::Kiosk>();
    k.set_message(none());
    k.set_idle_warning(false);
    window.global::<ui::Keyboard>().set_pinyin(none());
    super::render_staff::clear(window, models);
    super::render_card::clear(window, models);
    super::render_locker::clear(window, models);
}

/// Text in the session's language.
#[derive(Clone, Copy)]
pub(super) struct Lang(bool);

impl Lang {
    pub(super) fn t(self, zh: &str, en: &str) -> SharedString {
        if self.0 { en.into() } else { zh.into() }
    }

    pub(super) fn bi(self, b: &Bilingual) -> SharedString {
        b.get(self.0).into()
    }

    pub(super) fn date(self, d: jiff::civil::Date) -> SharedString {
        if self.0 {
            d.strftime("%-d %b %Y").to_string().into()
        } else {
            format!("{}年{}月{}日", d.year(), d.month(), d.day()).into()
        }
    }
}

fn choice(id: &str, label: impl Into<SharedString>, detail: impl Into<SharedString>) -> ui::Choice {
    ui::Choice {
        id: id.into(),
        label: label.into(),
        detail: detail.into(),
        selected: false,
        enabled: true,
    }
}

pub(super) fn session(
    window: &ui::MainWindow,
    models: &Models,
    state: &mut State,
    session: &Session,
    ctx: &Ctx<'_>,
) {
    let lang = Lang(session.english);
    let kiosk = window.global::<ui::Kiosk>();
    kiosk.set_english(session.english);
    kiosk.set_elder(session.elder);
    window.global::<ui::Theme>().set_elder(session.elder);
    kiosk.set_centre_name(ctx.centre.name.as_str().into());
    kiosk.set_help_phone(ctx.centre.consultation_phone.as_str().into());
    match session.idle {
        Idle::Active => kiosk.set_idle_warning(false),
        Idle::Warning { remaining } => {
            kiosk.set_idle_warning(true);
            kiosk.set_idle_remaining(i32::try_from(remaining).unwrap_or(i32::MAX));
        }
    }
    home(window, session, ctx);

    let (screen, message) = match &session.journey {
        Journey::Home => (ui::Screen::Home, None),
        Journey::Staff(st) => (
            super::render_staff::staff(window, models, lang, st, &session.availability),
            None,
        ),
        Journey::OutOfService { journey, reason } => {
            kiosk.set_out_of_service_title(out_of_service_title(lang, *journey));
            kiosk.set_out_of_service_reason(lang.bi(reason));
            (ui::Screen::OutOfService, None)
        }
        Journey::Apply(a) => (
            apply(window, models, state, lang, a, ctx),
            a.message.as_ref().map(|m| (m, message_kind(a, m))),
        ),
        Journey::Progress(p) => (
            progress(window, models, lang, p),
            p.message.as_ref().map(|m| (m, ui::MessageKind::Error)),
        ),
        Journey::Guide(g) => (guide(window, models, state, lang, g, ctx), None),
        Journey::Evaluate(e) => (
            evaluate(window, models, lang, e),
            e.message.as_ref().map(|m| (m, ui::MessageKind::Error)),
        ),
        Journey::Locker(l) => {
            let (screen, message) = super::render_locker::locker(window, models, lang, l);
            (screen, message.map(|m| (m, ui::MessageKind::Error)))
        }
        Journey::CardIssue(c) => {
            let (screen, message) = super::render_card::card_issue(window, models, lang, c);
            (screen, message.map(|m| (m, ui::MessageKind::Error)))
        }
    };
    match message {
        Some((m, kind)) => {
            kiosk.set_message(lang.bi(m));
            kiosk.set_message_kind(kind);
        }
        None => kiosk.set_message(SharedString::new()),
    }
    if screen != ui::Screen::ApplyForm {
        window.global::<ui::ApplyPage>().set_editing(-1);
    }
    kiosk.set_screen(screen);
}

/// Messages carry no kind; the flows' only good news is a card read.
fn message_kind(a: &Apply, m: &Bilingual) -> ui::MessageKind {
    if a.stage == Stage::Identify && m.zh.starts_with("已读取") {
        ui::MessageKind::Success
    } else if a.stage == Stage::Form && m.zh.contains("平台") {
        ui::MessageKind::Info
    } else {
        ui::MessageKind::Error
    }
}

fn out_of_service_title(lang: Lang, journey: JourneyKind) -> SharedString {
    let (zh, en) = match journey {
        JourneyKind::Apply => ("办理“一件事”", "Applying"),
        JourneyKind::Progress => ("查询办理进度", "Progress inquiry"),
        JourneyKind::Guide => ("办事指南", "Guides"),
        JourneyKind::Evaluate => ("服务评价", "Rating the service"),
        JourneyKind::CardIssue => ("社保卡即时制卡", "Making a social security card"),
        JourneyKind::Locker => ("取件柜取件", "Collecting from the locker"),
        JourneyKind::Staff => ("工作人员模式", "Staff mode"),
    };
    lang.t(
        &format!("{zh}暂时停用"),
        &format!("{en} is not available right now"),
    )
}

fn home(window: &ui::MainWindow, session: &Session, ctx: &Ctx<'_>) {
    let a = &session.availability;
    let h = window.global::<ui::HomePage>();
    h.set_apply_paused(a.blocked(JourneyKind::Apply).is_some());
    h.set_progress_paused(a.blocked(JourneyKind::Progress).is_some());
    h.set_guide_paused(a.blocked(JourneyKind::Guide).is_some());
    h.set_locker_paused(a.blocked(JourneyKind::Locker).is_some());
    h.set_card_paused(a.blocked(JourneyKind::CardIssue).is_some());
    h.set_opening_hours(ctx.centre.opening_hours.as_str().into());
}

// ---------------------------------------------------------------------------------------------
// Applying

fn life_stage_choices(lang: Lang, ctx: &Ctx<'_>) -> Vec<ui::Choice> {
    ctx.catalogue
        .life_stages_in_order()
        .into_iter()
        .map(|(id, stage)| {
            let count = ctx.catalogue.for_life_stage(id).len();
            let enterprise = stage.audience == crate::catalogue::Audience::Enterprise;
            choice(
                id,
                lang.t(&stage.name, &stage.name_en),
                lang.t(
                    &format!("{}{count}件事", if enterprise { "企业 · " } else { "" }),
                    &format!(
                        "{}{count} one-thing{}",
                        if enterprise { "Businesses · " } else { "" },
                        if count == 1 { "" } else { "s" }
                    ),
                ),
            )
        })
        .collect()
}

fn one_thing_choices(lang: Lang, ctx: &Ctx<'_>, stage: &str) -> Vec<ui::Choice> {
    ctx.catalogue
        .for_life_stage(stage)
        .into_iter()
        .map(|o| {
            choice(
                &o.id,
                lang.t(&o.name, &o.name_en),
                lang.t(&o.summary, &o.summary_en),
            )
        })
        .collect()
}

fn life_stage_name(lang: Lang, ctx: &Ctx<'_>, stage: &str) -> SharedString {
    ctx.catalogue
        .life_stages
        .get(stage)
        .map_or_else(SharedString::new, |s| lang.t(&s.name, &s.name_en))
}

fn source_words(lang: Lang, source: MaterialSource) -> SharedString {
    match source {
        MaterialSource::IdCard => lang.t("在本机读取身份证", "Read from the ID card here"),
        MaterialSource::Shared => lang.t(
            "通过数据共享获取，一般不用带",
            "Fetched by data sharing; usually no need to bring it",
        ),
        MaterialSource::Scan => lang.t("带原件，在本机扫描", "Bring the original to scan here"),
        MaterialSource::SignedForm => lang.t("在本机确认签名", "Confirmed and signed here"),
        MaterialSource::MergedForm => lang.t(
            "本机根据您的信息自动生成",
            "Made by the kiosk from your details",
        ),
    }
}

fn importance_words(lang: Lang, importance: Importance) -> SharedString {
    match importance {
        Importance::Primary => lang.t("必须提供", "Required"),
        Importance::Secondary => lang.t(
            "缺少时可承诺以后补交（容缺受理）",
            "May be supplied later on a written commitment",
        ),
    }
}

fn delivery_words(lang: Lang, d: Delivery) -> SharedString {
    match d {
        Delivery::Locker => lang.t(
            "到本中心24小时智能取件柜自取",
            "Collect from this centre's 24-hour locker",
        ),
        Delivery::Mail => lang.t("邮寄到家", "Posted to you"),
        Delivery::Window => lang.t("到综合窗口领取", "Collect at the service window"),
        Delivery::OnTheSpot => lang.t("在本机现场领取", "Here, on the spot"),
    }
}

fn delivery_detail(lang: Lang, d: Delivery) -> SharedString {
    match d {
        Delivery::Locker => lang.t(
            "办好后短信通知，凭身份证或取件码取件",
            "A text message tells you when; open it with your ID card or the code",
        ),
        Delivery::Mail => lang.t("邮费由您支付", "Postage is paid by you"),
        Delivery::Window => lang.t("请在办公时间来取", "During opening hours"),
        Delivery::OnTheSpot => SharedString::new(),
    }
}

fn time_limit_words(lang: Lang, one: &OneThing) -> SharedString {
    let t = &one.body.time_limit;
    let excludes = t
        .excludes
        .as_deref()
        .map(|e| format!("（{e}）"))
        .unwrap_or_default();
    lang.t(
        &format!("{}个工作日{excludes}", t.working_days),
        &format!("{} working days", t.working_days),
    )
}

fn notice_items(lang: Lang, one: &OneThing, ctx: &Ctx<'_>) -> Vec<ui::NoticeItem> {
    one.items_in_order()
        .into_iter()
        .map(|i| {
            let department = ctx.catalogue.departments.get(&i.department);
            ui::NoticeItem {
                name: lang.t(&i.name, &i.name_en),
                department: department.map_or_else(
                    || i.department.as_str().into(),
                    |d| lang.t(&d.name, &d.name_en),
                ),
                detail: lang.t(
                    &format!("{}个工作日", i.time_limit_days),
                    &format!(
                        "{} working day{}",
                        i.time_limit_days,
                        if i.time_limit_days == 1 { "" } else { "s" }
                    ),
                ),
            }
        })
        .collect()
}

fn notice_materials(lang: Lang, one: &OneThing) -> Vec<ui::NoticeMaterial> {
    one.body
        .materials
        .iter()
        .map(|m| ui::NoticeMaterial {
            name: lang.t(&m.name, &m.name_en),
            source: source_words(lang, m.source),
            importance: importance_words(lang, m.importance),
        })
        .collect()
}

fn print_state(p: &PrintState) -> ui::PrintState {
    match p {
        PrintState::Idle => ui::PrintState::Idle,
        PrintState::Printing => ui::PrintState::Printing,
        PrintState::Printed => ui::PrintState::Printed,
        PrintState::Failed(_) => ui::PrintState::Failed,
    }
}

fn print_error(lang: Lang, p: &PrintState) -> SharedString {
    match p {
        PrintState::Failed(reason) => lang.bi(reason),
        _ => SharedString::new(),
    }
}

fn role_label(lang: Lang, one: &OneThing, role: &str) -> SharedString {
    one.body
        .applicants
        .iter()
        .find(|a| a.role == role)
        .map_or_else(|| role.into(), |a| lang.t(&a.label, &a.label_en))
}

/// Text from a card or shared data, with characters no font can draw shown as □.
fn shown(text: &str) -> (SharedString, bool) {
    let (s, replaced) = FontCoverage::system().displayable(text);
    (s.into(), replaced)
}

#[allow(clippy::too_many_lines)] // one arm per stage, in the order of the journey
fn apply(
    window: &ui::MainWindow,
    models: &Models,
    state: &mut State,
    lang: Lang,
    a: &Apply,
    ctx: &Ctx<'_>,
) -> ui::Screen {
    let g = window.global::<ui::ApplyPage>();
    let one = a.one_thing(ctx);
    g.set_title(one.map_or_else(SharedString::new, |o| lang.t(&o.name, &o.name_en)));
    match &a.stage {
        Stage::LifeStage => {
            sync(&models.life_stages, life_stage_choices(lang, ctx));
            ui::Screen::ApplyLifeStage
        }
        Stage::OneThing { life_stage } => {
            g.set_life_stage(life_stage_name(lang, ctx, life_stage));
            sync(&models.one_things, one_thing_choices(lang, ctx, life_stage));
            ui::Screen::ApplyOneThing
        }
        Stage::Notice => {
            if let Some(one) = one {
                g.set_summary(lang.t(&one.summary, &one.summary_en));
                sync(&models.notice_items, notice_items(lang, one, ctx));
                sync(&models.notice_materials, notice_materials(lang, one));
                g.set_time_limit(time_limit_words(lang, one));
                g.set_fee(lang.t(&one.body.fee, &one.body.fee_en));
                let ways: Vec<String> = one
                    .body
                    .delivery
                    .iter()
                    .map(|d| delivery_words(lang, *d).to_string())
                    .collect();
                g.set_delivery(ways.join(if lang.0 { "; or " } else { "；或" }).into());
            }
            g.set_guide_print(print_state(&a.print));
            ui::Screen::ApplyNotice
        }
        Stage::Identify => {
            if let Some(one) = one {
                identify(&g, models, lang, a, one, ctx);
            }
            ui::Screen::ApplyIdentify
        }
        Stage::Question(i) => {
            if let Some(q) = one.and_then(|o| o.body.questions.get(*i)) {
                g.set_question_id(q.id.as_str().into());
                g.set_question(lang.t(&q.text, &q.text_en));
                let answered = a.answers.get(&q.id);
                let answers = q
                    .options
                    .iter()
                    .map(|o| ui::Choice {
                        selected: answered == Some(&o.value),
                        ..choice(&o.value, lang.t(&o.label, &o.label_en), "")
                    })
                    .collect();
                sync(&models.answers, answers);
                g.set_question_number(i32::try_from(*i + 1).unwrap_or(0));
                g.set_question_count(
                    i32::try_from(one.map_or(0, |o| o.body.questions.len())).unwrap_or(0),
                );
            }
            ui::Screen::ApplyQuestion
        }
        Stage::NotEligible(reason) => {
            g.set_not_eligible_reason(lang.bi(reason));
            ui::Screen::ApplyNotEligible
        }
        Stage::Items => {
            if let Some(one) = one {
                let items = notice_items(lang, one, ctx);
                let rows = one
                    .items_in_order()
                    .into_iter()
                    .zip(items)
                    .map(|(i, n)| ui::Choice {
                        selected: a.chosen.contains(&i.id),
                        ..choice(&i.id, n.name, format!("{}  ·  {}", n.department, n.detail))
                    })
                    .collect();
                sync(&models.item_choices, rows);
            }
            ui::Screen::ApplyItems
        }
        Stage::Fetching => ui::Screen::ApplyFetching,
        Stage::Form => {
            if let Some(one) = one {
                form(&g, models, lang, a, one, ctx);
            }
            ui::Screen::ApplyForm
        }
        Stage::Materials | Stage::Scanning(_) => {
            if let Some(one) = one {
                materials(models, state, lang, a, one, ctx);
            }
            if let Stage::Scanning(id) = &a.stage {
                let name = one
                    .and_then(|o| o.body.materials.iter().find(|m| &m.id == id))
                    .map_or_else(SharedString::new, |m| lang.t(&m.name, &m.name_en));
                g.set_scanning_name(name);
                g.set_scan_percent(i32::from(a.scan_percent));
                ui::Screen::ApplyScanning
            } else {
                ui::Screen::ApplyMaterials
            }
        }
        Stage::Review => {
            if let Some(one) = one {
                review(&g, models, lang, a, one, ctx);
            }
            ui::Screen::ApplyReview
        }
        Stage::Accepting => ui::Screen::ApplyAccepting,
        Stage::Accepted => {
            accepted(&g, models, state, lang, a, ctx);
            ui::Screen::ApplyAccepted
        }
        Stage::Missing => {
            if let Some(one) = one {
                let missing = a
                    .missing(one)
                    .into_iter()
                    .map(|m| ui::NoticeMaterial {
                        name: lang.t(&m.name, &m.name_en),
                        source: match m.source {
                            MaterialSource::Shared
                            | MaterialSource::Scan
                            | MaterialSource::IdCard => lang.t(
                                "带原件到本机扫描，或交到综合窗口",
                                "Bring the original to scan here, or hand it in at the window",
                            ),
                            _ => lang.t("交到综合窗口", "Hand it in at the service window"),
                        },
                        importance: importance_words(lang, m.importance),
                    })
                    .collect();
                sync(&models.missing, missing);
            }
            g.set_print(print_state(&a.print));
            g.set_print_error(print_error(lang, &a.print));
            ui::Screen::ApplyMissing
        }
    }
}

fn identify(
    g: &ui::ApplyPage<'_>,
    models: &Models,
    lang: Lang,
    a: &Apply,
    one: &OneThing,
    ctx: &Ctx<'_>,
) {
    let awaited = a.awaited_role(ctx);
    g.set_awaited_role(awaited.map_or_else(SharedString::new, |r| {
        lang.t(&r.label, &r.label_en.to_lowercase())
    }));
    let rows = one
        .body
        .applicants
        .iter()
        .map(|role| {
            let read = a.applicants.iter().find(|(r, _)| *r == role.role);
            let state = if read.is_some() {
                ui::PersonState::Read
            } else if awaited.is_some_and(|w| w.role == role.role) {
                ui::PersonState::Awaited
            } else {
                ui::PersonState::Later
            };
            ui::Applicant {
                role: lang.t(&role.label, &role.label_en),
                state,
                name: read.map_or_else(SharedString::new, |(_, p)| shown(&p.masked_name()).0),
                id_number: read.map_or_else(SharedString::new, |(_, p)| p.masked_id().into()),
            }
        })
        .collect();
    sync(&models.applicants, rows);
}

fn keyboard_for(kind: FieldType) -> ui::KeyboardMode {
    match kind {
        FieldType::ChineseName | FieldType::Text | FieldType::Address | FieldType::Choice => {
            ui::KeyboardMode::Pinyin
        }
        FieldType::IdNumber => ui::KeyboardMode::IdNumber,
        FieldType::Phone | FieldType::Number => ui::KeyboardMode::Phone,
        FieldType::Date => ui::KeyboardMode::Date,
    }
}

fn form(
    g: &ui::ApplyPage<'_>,
    models: &Models,
    lang: Lang,
    a: &Apply,
    one: &OneThing,
    ctx: &Ctx<'_>,
) {
    let mut prefilled = 0;
    let rows = a
        .form
        .iter()
        .filter_map(|entry| {
            let def = one.body.fields.iter().find(|f| f.id == entry.field)?;
            let empty = entry.value.trim().is_empty();
            let (source, source_text) = match (&entry.source, empty) {
                (_, true) => (
                    ui::FieldSource::Empty,
                    if def.required {
                        lang.t("请填写", "Please fill in")
                    } else {
                        SharedString::new()
                    },
                ),
                (Some(ValueSource::Card { person }), false) => (
                    ui::FieldSource::Card,
                    lang.t(
                        &format!("来自{}身份证", role_label(Lang(false), one, person)),
                        &format!(
                            "From the {}'s ID card",
                            role_label(Lang(true), one, person).to_lowercase()
                        ),
                    ),
                ),
                (Some(ValueSource::Shared { dataset }), false) => {
                    let (zh, en) = ctx.catalogue.datasets.get(dataset).map_or_else(
                        || (dataset.clone(), dataset.clone()),
                        |d| (d.name.clone(), d.name_en.clone()),
                    );
                    (
                        ui::FieldSource::Shared,
                        lang.t(&format!("数据共享：{zh}"), &format!("Shared data: {en}")),
                    )
                }
                (Some(ValueSource::Answer), false) => (
                    ui::FieldSource::Answer,
                    lang.t("根据您的回答", "From your answer"),
                ),
                (Some(ValueSource::Typed) | None, false) => {
                    (ui::FieldSource::Typed, lang.t("您填写的", "Typed by you"))
                }
            };
            if matches!(
                source,
                ui::FieldSource::Card | ui::FieldSource::Shared | ui::FieldSource::Answer
            ) {
                prefilled += 1;
            }
            // ID numbers read from a card are masked on screen (first 4 and last 4 shown).
            let value = if def.kind == FieldType::IdNumber && entry.locked {
                kiosk_idcard::id_number::mask(&entry.value)
            } else {
                entry.value.clone()
            };
            let (value, font_warning) = shown(&value);
            Some(ui::FormField {
                id: entry.field.as_str().into(),
                label: lang.t(&def.label, &def.label_en),
                value,
                source,
                source_text,
                locked: entry.locked,
                required: def.required,
                error: entry
                    .error
                    .as_ref()
                    .map_or_else(SharedString::new, |e| lang.bi(e)),
                keyboard: keyboard_for(def.kind),
                options: if def.kind == FieldType::Choice {
                    ModelRc::new(VecModel::from(
                        def.options
                            .iter()
                            .map(|o| SharedString::from(o.as_str()))
                            .collect::<Vec<_>>(),
                    ))
                } else {
                    ModelRc::default()
                },
                font_warning,
            })
        })
        .collect();
    sync(&models.fields, rows);
    g.set_prefilled_count(prefilled);
}

fn material_state(s: &MaterialStatus) -> ui::MaterialState {
    match s {
        MaterialStatus::FromCard { .. } => ui::MaterialState::FromCard,
        MaterialStatus::MergedForm => ui::MaterialState::MergedForm,
        MaterialStatus::Shared { .. } => ui::MaterialState::Shared,
        MaterialStatus::NeedsScan { .. } => ui::MaterialState::NeedsScan,
        MaterialStatus::Scanned { .. } => ui::MaterialState::Scanned,
        MaterialStatus::CommittedLater => ui::MaterialState::Committed,
        MaterialStatus::NeedsSignature => ui::MaterialState::NeedsSignature,
        MaterialStatus::Signed => ui::MaterialState::Signed,
    }
}

fn commit_deadline(lang: Lang, days: Option<u32>, ctx: &Ctx<'_>) -> SharedString {
    days.and_then(|d| ctx.calendar.due_date(ctx.now.date(), d).ok())
        .map_or_else(
            || lang.t("窗口通知的期限", "the date the window gives you"),
            |d| lang.date(d),
        )
}

fn materials(
    models: &Models,
    state: &mut State,
    lang: Lang,
    a: &Apply,
    one: &OneThing,
    ctx: &Ctx<'_>,
) {
    let rows = a
        .materials
        .iter()
        .filter_map(|m| {
            let def = one.body.materials.iter().find(|d| d.id == m.id)?;
            let detail = match &m.status {
                MaterialStatus::FromCard { person } => lang.t(
                    &format!(
                        "{}的身份证已在本机读取",
                        role_label(Lang(false), one, person)
                    ),
                    &format!(
                        "The {}'s ID card was read here",
                        role_label(Lang(true), one, person).to_lowercase()
                    ),
                ),
                MaterialStatus::NeedsScan { why } => lang.bi(why),
                _ => SharedString::new(),
            };
            let (thumbnail, pages) = match &m.status {
                MaterialStatus::Scanned { pages } => {
                    let image = pages.last().map_or_else(slint::Image::default, |p| {
                        state
                            .thumbnails
                            .entry(p.thumbnail.clone())
                            .or_insert_with(|| images::thumbnail(&p.thumbnail))
                            .clone()
                    });
                    (image, i32::try_from(pages.len()).unwrap_or(i32::MAX))
                }
                _ => (slint::Image::default(), 0),
            };
            Some(ui::MaterialRow {
                id: m.id.as_str().into(),
                name: lang.t(&def.name, &def.name_en),
                state: material_state(&m.status),
                detail,
                thumbnail,
                pages,
                can_commit: def.importance == Importance::Secondary,
                deadline: commit_deadline(lang, def.commit_days, ctx),
                importance: importance_words(lang, def.importance),
            })
        })
        .collect();
    sync(&models.material_rows, rows);
}

fn review(
    g: &ui::ApplyPage<'_>,
    models: &Models,
    lang: Lang,
    a: &Apply,
    one: &OneThing,
    ctx: &Ctx<'_>,
) {
    let items: Vec<String> = a
        .chosen
        .iter()
        .filter_map(|id| one.item(id))
        .map(|i| lang.t(&i.name, &i.name_en).to_string())
        .collect();
    let people: Vec<String> = a
        .applicants
        .iter()
        .map(|(role, p)| {
            format!(
                "{}：{}（{}）",
                role_label(lang, one, role),
                shown(&p.masked_name()).0,
                p.masked_id()
            )
        })
        .collect();
    let supplied = a
        .materials
        .iter()
        .filter(|m| m.status.is_supplied())
        .count();
    let later = a
        .materials
        .iter()
        .filter(|m| m.status == MaterialStatus::CommittedLater)
        .count();
    let due = ctx
        .calendar
        .due_date(ctx.now.date(), one.body.time_limit.working_days)
        .ok();
    let mut facts = vec![
        ui::Fact {
            label: lang.t("申请", "Applying for"),
            value: lang.t(&one.name, &one.name_en),
        },
        ui::Fact {
            label: lang.t(
                &format!("办理事项（{}项）", items.len()),
                &format!("Items ({})", items.len()),
            ),
            value: items.join(if lang.0 { "; " } else { "、" }).into(),
        },
        ui::Fact {
            label: lang.t("申请人", "Applicants"),
            value: people.join("\n").into(),
        },
        ui::Fact {
            label: lang.t("材料", "Documents"),
            value: if later > 0 {
                lang.t(
                    &format!("已提供{supplied}份，承诺以后补交{later}份"),
                    &format!("{supplied} supplied, {later} to be supplied later"),
                )
            } else {
                lang.t(
                    &format!("已提供{supplied}份，材料齐全"),
                    &format!("All {supplied} supplied"),
                )
            },
        },
    ];
    if let Some(due) = due {
        facts.push(ui::Fact {
            label: lang.t("预计办好", "Expected by"),
            value: lang.date(due),
        });
    }
    sync(&models.review, facts);
    let deliveries = one
        .body
        .delivery
        .iter()
        .map(|d| ui::Choice {
            selected: a.delivery == Some(*d),
            ..choice(
                d.as_str(),
                delivery_words(lang, *d),
                delivery_detail(lang, *d),
            )
        })
        .collect();
    sync(&models.deliveries, deliveries);
    g.set_needs_address(a.delivery == Some(Delivery::Mail));
    g.set_mailing_address(a.mailing_address.as_str().into());
}

fn accepted(
    g: &ui::ApplyPage<'_>,
    models: &Models,
    state: &mut State,
    lang: Lang,
    a: &Apply,
    ctx: &Ctx<'_>,
) {
    if let Some(info) = &a.accepted {
        g.set_number(info.number.as_str().into());
        g.set_code(info.query_code.as_str().into());
        g.set_due_date(info.due_date.map_or_else(
            || lang.t("部门通知的日期", "the date the departments give"),
            |d| lang.date(d),
        ));
        let qr = match &state.qr {
            Some((url, image)) if *url == info.progress_url => image.clone(),
            _ => {
                let image = images::qr(&info.progress_url).unwrap_or_default();
                state.qr = Some((info.progress_url.clone(), image.clone()));
                image
            }
        };
        g.set_qr(qr);
    }
    g.set_print(print_state(&a.print));
    g.set_print_error(print_error(lang, &a.print));
    let committed = a
        .one_thing(ctx)
        .map(|one| {
            a.materials
                .iter()
                .filter(|m| m.status == MaterialStatus::CommittedLater)
                .filter_map(|m| one.body.materials.iter().find(|d| d.id == m.id))
                .map(|d| ui::NoticeMaterial {
                    name: lang.t(&d.name, &d.name_en),
                    source: lang.t(
                        &format!(
                            "{}前交到综合窗口",
                            commit_deadline(Lang(false), d.commit_days, ctx)
                        ),
                        &format!(
                            "Hand it in at the service window by {}",
                            commit_deadline(Lang(true), d.commit_days, ctx)
                        ),
                    ),
                    importance: importance_words(lang, d.importance),
                })
                .collect()
        })
        .unwrap_or_default();
    sync(&models.committed, committed);
}

// ---------------------------------------------------------------------------------------------
// Progress, guides, evaluation

fn item_state(lang: Lang, s: &ItemState) -> (ui::ItemStage, SharedString) {
    match s {
        ItemState::Accepted => (ui::ItemStage::Accepted, lang.t("已受理", "Accepted")),
        ItemState::Waiting { for_item } => (
            ui::ItemStage::Waiting,
            lang.t(
                &format!("等“{for_item}”办好后开始"),
                &format!("Starts after \"{for_item}\""),
            ),
        ),
        ItemState::InProgress => (ui::ItemStage::InProgress, lang.t("正在办理", "In progress")),
        ItemState::Done => (ui::ItemStage::Done, lang.t("已办好", "Done")),
        ItemState::Refused { reason } => (
            ui::ItemStage::Refused,
            lang.t(&format!("未通过：{reason}"), &format!("Refused: {reason}")),
        ),
    }
}

fn progress(window: &ui::MainWindow, models: &Models, lang: Lang, p: &Progress) -> ui::Screen {
    let g = window.global::<ui::ProgressPage>();
    g.set_number(p.number.as_str().into());
    g.set_code(p.code.as_str().into());
    match &p.stage {
        ProgressStage::Choose => ui::Screen::ProgressChoose,
        ProgressStage::WaitCard => ui::Screen::ProgressWaitCard,
        ProgressStage::EnterNumber => ui::Screen::ProgressEnterNumber,
        ProgressStage::Loading => ui::Screen::ProgressLoading,
        ProgressStage::NotFound => ui::Screen::ProgressNotFound,
        ProgressStage::Unavailable => ui::Screen::ProgressUnavailable,
        ProgressStage::Results(records) => {
            let rows = records
                .iter()
                .map(|r| ui::ProgressRecord {
                    number: r.number.as_str().into(),
                    one_thing: r.one_thing.as_str().into(),
                    accepted_on: r.accepted_on.as_str().into(),
                    collect: r.collect.as_deref().unwrap_or_default().into(),
                    items: ModelRc::new(VecModel::from(
                        r.items
                            .iter()
                            .map(|i| {
                                let (stage, state_text) = item_state(lang, &i.state);
                                ui::ItemProgress {
                                    name: i.name.as_str().into(),
                                    department: i.department.as_str().into(),
                                    stage,
                                    state_text,
                                }
                            })
                            .collect::<Vec<_>>(),
                    )),
                })
                .collect();
            sync(&models.records, rows);
            ui::Screen::ProgressResults
        }
    }
}

fn guide(
    window: &ui::MainWindow,
    models: &Models,
    state: &mut State,
    lang: Lang,
    guide: &Guide,
    ctx: &Ctx<'_>,
) -> ui::Screen {
    let g = window.global::<ui::GuidePage>();
    g.set_print(print_state(&guide.print));
    g.set_print_error(print_error(lang, &guide.print));
    match &guide.stage {
        GuideStage::LifeStage => {
            sync(&models.guide_life_stages, life_stage_choices(lang, ctx));
            ui::Screen::GuideLifeStage
        }
        GuideStage::OneThing { life_stage } => {
            g.set_life_stage(life_stage_name(lang, ctx, life_stage));
            sync(
                &models.guide_one_things,
                one_thing_choices(lang, ctx, life_stage),
            );
            ui::Screen::GuideOneThing
        }
        GuideStage::View { one_thing } => {
            if let Some(one) = ctx.catalogue.one_thing(one_thing) {
                g.set_name(lang.t(&one.name, &one.name_en));
                g.set_summary(lang.t(&one.summary, &one.summary_en));
                sync(&models.guide_items, notice_items(lang, one, ctx));
                sync(&models.guide_materials, notice_materials(lang, one));
                let b = &one.body;
                let ways: Vec<String> = b
                    .delivery
                    .iter()
                    .map(|d| delivery_words(lang, *d).to_string())
                    .collect();
                let fact = |zh: &str, en: &str, value: SharedString| ui::Fact {
                    label: lang.t(zh, en),
                    value,
                };
                sync(
                    &models.guide_facts,
                    vec![
                        fact(
                            "适用范围",
                            "Who can apply",
                            lang.t(&b.guide.scope, &b.guide.scope_en),
                        ),
                        fact("办理时限", "Time limit", time_limit_words(lang, one)),
                        fact("收费", "Fees", lang.t(&b.fee, &b.fee_en)),
                        fact(
                            "怎么拿到结果",
                            "How you receive the results",
                            ways.join(if lang.0 { "; or " } else { "；或" }).into(),
                        ),
                        fact(
                            "咨询",
                            "Questions",
                            format!(
                                "{} {}",
                                lang.t(&b.guide.consultation, &b.guide.consultation_en),
                                ctx.centre.consultation_phone
                            )
                            .into(),
                        ),
                        fact(
                            "办理地点和时间",
                            "Where and when",
                            format!("{}；{}", ctx.centre.address, ctx.centre.opening_hours).into(),
                        ),
                    ],
                );
                let url = format!("{}/{}", ctx.centre.guide_url, b.guide.full_guide_path);
                let qr = match &state.guide_qr {
                    Some((u, image)) if *u == url => image.clone(),
                    _ => {
                        let image = images::qr(&url).unwrap_or_default();
                        state.guide_qr = Some((url, image.clone()));
                        image
                    }
                };
                g.set_qr(qr);
            }
            ui::Screen::GuideView
        }
    }
}

fn evaluate(window: &ui::MainWindow, models: &Models, lang: Lang, e: &Evaluate) -> ui::Screen {
    let g = window.global::<ui::EvaluatePage>();
    let rows = levels()
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let level = u8::try_from(i + 1).unwrap_or(0);
            ui::Choice {
                selected: e.level == Some(level),
                ..choice(&level.to_string(), lang.bi(l), "")
            }
        })
        .collect();
    sync(&models.levels, rows);
    let low = e.level.is_some_and(is_low);
    g.set_show_reasons(low);
    let reasons = if low {
        LOW_RATING_REASONS
            .iter()
            .map(|(id, zh, en)| ui::Choice {
                selected: e.reasons.iter().any(|r| r == id),
                ..choice(id, lang.t(zh, en), "")
            })
            .collect()
    } else {
        Vec::new()
    };
    sync(&models.reasons, reasons);
    g.set_application_number(e.application_number.as_deref().unwrap_or_default().into());
    g.set_saving(e.stage == EvaluateStage::Saving);
    if e.stage == EvaluateStage::Thanks {
        ui::Screen::EvaluateThanks
    } else {
        ui::Screen::Evaluate
    }
}
