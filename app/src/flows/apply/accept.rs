//! Accepting: the application is built from the session, stored durably with its outbox row,
//! and the acceptance notice printed (or, when primary materials are missing, the one notice
//! of everything to supply).

use kiosk_printer::slips::{
    AcceptanceNotice, AcceptedBy, CommittedMaterial, Document, ItemLine, MaskedNumber,
    MissingMaterial, MissingMaterialsNotice, PersonName,
};

use super::{AcceptedInfo, Apply, MaterialStatus, Out, PrintState, Stage};
use crate::bi;
use crate::catalogue::{Delivery, FieldType, Importance, MaterialSource, OneThing};
use crate::domain::application::{
    Application, FormValue, MaterialRecord, MaterialState, ValueSource, application_number,
    hash_query_code,
};
use crate::domain::text::Bilingual;
use crate::flows::effect::Effect;
use crate::flows::{Ctx, SessionId};

impl Apply {
    pub(super) fn accept(&mut self, ctx: &Ctx<'_>, session: SessionId) -> Out {
        let Some(one) = self.one_thing(ctx) else {
            return Out::default();
        };
        let Some(delivery) = self.delivery else {
            self.message = Some(bi!(
                "请选择取件方式",
                "Please choose how to receive the results"
            ));
            return Out::default();
        };
        if delivery == Delivery::Mail && self.mailing_address.chars().count() < 6 {
            self.message = Some(bi!(
                "请填写完整的邮寄地址",
                "Please enter the full mailing address"
            ));
            return Out::default();
        }
        let application = self.build_application(one, delivery, ctx);
        self.accepted = Some(AcceptedInfo {
            number: application.number.clone(),
            query_code: ctx.fresh.query_code.clone(),
            due_date: application.due_date,
            progress_url: progress_url(ctx, &application.number, &ctx.fresh.query_code),
        });
        self.pending = Some(Box::new(application.clone()));
        self.stage = Stage::Accepting;
        Out::effect(Effect::Accept {
            session,
            application: Box::new(application),
        })
    }

    fn build_application(&self, one: &OneThing, delivery: Delivery, ctx: &Ctx<'_>) -> Application {
        let today = ctx.now.date();
        let time_limit = one.body.time_limit.working_days;
        let form = self
            .form
            .iter()
            .filter(|e| !e.value.trim().is_empty())
            .map(|e| {
                let source = e.source.clone().unwrap_or(ValueSource::Typed);
                (
                    e.field.clone(),
                    FormValue {
                        value: e.value.clone(),
                        source,
                    },
                )
            })
            .collect();
        let materials = self
            .materials
            .iter()
            .map(|m| {
                let commit_days = one
                    .body
                    .materials
                    .iter()
                    .find(|d| d.id == m.id)
                    .and_then(|d| d.commit_days);
                let state = match &m.status {
                    MaterialStatus::FromCard { person } => MaterialState::FromCard {
                        person: person.clone(),
                    },
                    MaterialStatus::MergedForm => MaterialState::MergedForm,
                    MaterialStatus::Shared { dataset } => MaterialState::Shared {
                        dataset: dataset.clone(),
                    },
                    MaterialStatus::Scanned { pages } => MaterialState::Scanned {
                        pages: pages.iter().map(|p| p.sha256.clone()).collect(),
                    },
                    MaterialStatus::Signed => MaterialState::Signed,
                    MaterialStatus::CommittedLater
                    | MaterialStatus::NeedsScan { .. }
                    | MaterialStatus::NeedsSignature => MaterialState::CommittedLater {
                        deadline: commit_days.and_then(|d| ctx.calendar.due_date(today, d).ok()),
                    },
                };
                MaterialRecord {
                    id: m.id.clone(),
                    state,
                }
            })
            .collect();
        let phone_fields: Vec<&str> = one
            .body
            .fields
            .iter()
            .filter(|f| f.kind == FieldType::Phone)
            .map(|f| f.id.as_str())
            .collect();
        let contact_phone = self
            .form
            .iter()
            .find(|e| phone_fields.contains(&e.field.as_str()))
            .map(|e| e.value.clone());
        let situations = one
            .body
            .questions
            .iter()
            .filter_map(|q| {
                let value = self.answers.get(&q.id)?;
                q.options
                    .iter()
                    .find(|o| &o.value == value)?
                    .situation
                    .clone()
            })
            .collect();
        Application {
            id: ctx.fresh.application_id,
            number: application_number(today, ctx.kiosk_id, ctx.fresh.sequence),
            kiosk_id: ctx.kiosk_id.to_owned(),
            window: ctx.centre.window_number.clone(),
            one_thing_id: one.id.clone(),
            situations,
            answers: self.answers.clone(),
            items: self.chosen.clone(),
            applicants: self.applicants.clone(),
            form,
            materials,
            delivery,
            mailing_address: (delivery == Delivery::Mail).then(|| self.mailing_address.clone()),
            contact_phone,
            accepted_at: ctx.now.timestamp(),
            due_date: ctx.calendar.due_date(today, time_limit).ok(),
            time_limit_days: time_limit,
            query_code_hash: hash_query_code(&ctx.fresh.query_code),
        }
    }

    /// The application is stored: show the number and print the notice.
    pub(super) fn on_accepted(&mut self, ctx: &Ctx<'_>, session: SessionId) -> Out {
        if self.stage != Stage::Accepting {
            return Out::default();
        }
        self.stage = Stage::Accepted;
        self.print_acceptance(ctx, session)
    }

    pub(super) fn on_accept_failed(&mut self, reason: Bilingual) {
        if self.stage == Stage::Accepting {
            self.stage = Stage::Review;
            self.pending = None;
            self.accepted = None;
            self.message = Some(reason);
        }
    }

    pub(super) fn print_acceptance(&mut self, ctx: &Ctx<'_>, session: SessionId) -> Out {
        let (Some(one), Some(app), Some(info)) = (
            self.one_thing(ctx),
            self.pending.as_deref(),
            self.accepted.as_ref(),
        ) else {
            return Out::default();
        };
        let document = acceptance_notice(one, app, info, ctx);
        self.print = PrintState::Printing;
        Out::effect(Effect::Print {
            session,
            document: Box::new(document),
        })
    }

    pub(super) fn print_missing(&mut self, ctx: &Ctx<'_>, session: SessionId) -> Out {
        let Some(one) = self.one_thing(ctx) else {
            return Out::default();
        };
        let missing: Vec<MissingMaterial> = self
            .missing(one)
            .into_iter()
            .map(|m| MissingMaterial {
                name: m.name.clone(),
                reason: match m.importance {
                    Importance::Primary => "主要材料，缺少时不能受理".to_owned(),
                    Importance::Secondary => "次要材料，可承诺后补交（容缺受理）".to_owned(),
                },
                how_to_supply: match m.source {
                    MaterialSource::Shared | MaterialSource::Scan | MaterialSource::IdCard => {
                        "带原件到自助终端扫描，或到综合窗口提交".to_owned()
                    }
                    _ => "到综合窗口提交".to_owned(),
                },
            })
            .collect();
        let main = self.applicants.first().map(|(_, p)| p);
        let document = Document::MissingMaterials(MissingMaterialsNotice {
            centre_name: ctx.centre.name.clone(),
            one_thing: one.name.clone(),
            application_no: None,
            applicant_name: PersonName(main.map(|p| p.name.clone()).unwrap_or_default()),
            masked_id_number: MaskedNumber(
                main.map(crate::domain::person::Person::masked_id)
                    .unwrap_or_default(),
            ),
            missing,
            deadline: "材料备齐后即可办理".to_owned(),
            where_to_supply: format!("{}（{}）", ctx.centre.address, ctx.centre.opening_hours),
            issued_by: accepted_by(ctx),
            issued_at: ctx.now.strftime("%Y-%m-%d %H:%M").to_string(),
            consultation_phone: ctx.centre.consultation_phone.clone(),
            guide_url: Some(format!(
                "{}/{}",
                ctx.centre.guide_url, one.body.guide.full_guide_path
            )),
            next_step: "备齐上面列出的全部材料后，再来办理".to_owned(),
        });
        self.print = PrintState::Printing;
        Out::effect(Effect::Print {
            session,
            document: Box::new(document),
        })
    }
}

fn accepted_by(ctx: &Ctx<'_>) -> AcceptedBy {
    AcceptedBy {
        kiosk_id: ctx.kiosk_id.to_owned(),
        window_no: ctx.centre.window_number.clone(),
    }
}

fn progress_url(ctx: &Ctx<'_>, number: &str, code: &str) -> String {
    format!("{}?no={number}&code={code}", ctx.centre.progress_url)
}

fn date_zh(date: jiff::civil::Date) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

fn delivery_text(delivery: Delivery, address: Option<&str>) -> String {
    match delivery {
        Delivery::Locker => {
            "办结后凭身份证或取件码到本中心24小时智能取件柜自取（取件通知以短信发送）".to_owned()
        }
        Delivery::Mail => format!("邮寄送达：{}", address.unwrap_or_default()),
        Delivery::Window => "办结后到本中心综合窗口领取".to_owned(),
        Delivery::OnTheSpot => "在本机现场领取".to_owned(),
    }
}

/// 受理通知 (DB33/T 2304 6.2.3): window number, materials received, who accepted it, time
/// limit, pickup method; plus what was committed for later and the code for progress.
fn acceptance_notice(
    one: &OneThing,
    app: &Application,
    info: &AcceptedInfo,
    ctx: &Ctx<'_>,
) -> Document {
    let names = |id: &str| {
        one.body
            .materials
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.name.clone())
            .unwrap_or_default()
    };
    let received = app
        .materials
        .iter()
        .filter(|m| !matches!(m.state, MaterialState::CommittedLater { .. }))
        .map(|m| names(&m.id))
        .collect();
    let committed = app
        .materials
        .iter()
        .filter_map(|m| match m.state {
            MaterialState::CommittedLater { deadline } => Some(CommittedMaterial {
                name: names(&m.id),
                deadline: deadline.map_or_else(
                    || "按窗口通知的期限".to_owned(),
                    |d| format!("{}前", date_zh(d)),
                ),
            }),
            _ => None,
        })
        .collect();
    let items = app
        .items
        .iter()
        .filter_map(|id| one.item(id))
        .map(|i| ItemLine {
            name: i.name.clone(),
            department: ctx.catalogue.department_name(&i.department).to_owned(),
        })
        .collect();
    let main = app.main_applicant();
    let excludes = one
        .body
        .time_limit
        .excludes
        .as_deref()
        .map(|e| format!("（{e}）"))
        .unwrap_or_default();
    Document::Acceptance(AcceptanceNotice {
        centre_name: ctx.centre.name.clone(),
        application_no: app.number.clone(),
        one_thing: one.name.clone(),
        items,
        applicant_name: PersonName(main.map(|p| p.name.clone()).unwrap_or_default()),
        masked_id_number: MaskedNumber(
            main.map(crate::domain::person::Person::masked_id)
                .unwrap_or_default(),
        ),
        materials_received: received,
        materials_committed: committed,
        accepted_by: accepted_by(ctx),
        accepted_at: ctx.now.strftime("%Y-%m-%d %H:%M").to_string(),
        time_limit: format!("{}个工作日{excludes}", app.time_limit_days),
        due_date: info
            .due_date
            .map_or_else(|| "以部门通知为准".to_owned(), date_zh),
        pickup_method: delivery_text(app.delivery, app.mailing_address.as_deref()),
        consultation_phone: ctx.centre.consultation_phone.clone(),
        progress_url: info.progress_url.clone(),
        next_step: format!("凭受理编号和查询码{}查进度，或扫码查询", info.query_code),
    })
}
