//! Applying for a one-thing: life event → one-thing → one-time notice → ID cards → situation
//! questions → items → the merged form (prefilled) → materials (shared, scanned, or committed
//! for later) → review → accept → acceptance notice printed → evaluation offered.
//!
//! Rules carried out here: a missing primary material means no acceptance and one notice
//! listing everything missing (DB33/T 2036.2 6.1.3); a missing secondary material may be
//! committed for later with a deadline (容缺, 3.3); the resident keeps all or part of the items
//! (国办发〔2022〕32号 三(二)), except items the law joins (`must_go_with`).

mod accept;
mod form;
mod identify;
mod materials;

use std::collections::BTreeMap;

use super::effect::Effect;
use super::event::{Completion, LookupFailure, ScannedPage};
use super::{Ctx, SessionId};
use crate::bi;
use crate::catalogue::{Delivery, OneThing};
use crate::domain::application::{Application, ValueSource};
use crate::domain::person::Person;
use crate::domain::text::Bilingual;

#[derive(Debug, Clone)]
pub enum ApplyAction {
    ChooseLifeStage(String),
    ChooseOneThing(String),
    Continue,
    Back,
    PrintGuide,
    Answer {
        question: String,
        value: String,
    },
    ToggleItem(String),
    SetField {
        field: String,
        value: String,
    },
    Scan(String),
    StopScan,
    CommitLater(String),
    UndoCommit(String),
    /// The resident confirms a form to be signed (signed-form materials).
    Sign(String),
    ChooseDelivery(Delivery),
    SetMailingAddress(String),
    Accept,
    PrintMissingNotice,
    RetryPrint,
    /// Leave the journey (after acceptance, or after the missing-materials notice).
    Finish,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    LifeStage,
    OneThing {
        life_stage: String,
    },
    /// The one-time notice (一次告知) of items, materials, time limit, fees and delivery.
    Notice,
    /// Waiting for the ID card of the first applicant not yet identified.
    Identify,
    Question(usize),
    /// An answer means the kiosk cannot take this application; the reason in plain words.
    NotEligible(Bilingual),
    Items,
    /// Fetching shared data for the form and the materials.
    Fetching,
    Form,
    Materials,
    Scanning(String),
    Review,
    Accepting,
    Accepted,
    /// Refused for missing primary materials; the one notice lists everything missing.
    Missing,
}

/// Shared data for one dataset and person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedState {
    Pending,
    Found(BTreeMap<String, String>),
    Failed(LookupFailure),
}

#[derive(Debug, Clone)]
pub struct FormEntry {
    pub field: String,
    pub value: String,
    pub source: Option<ValueSource>,
    /// Read from an ID card chip: shown, marked, not editable.
    pub locked: bool,
    pub error: Option<Bilingual>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaterialStatus {
    FromCard {
        person: String,
    },
    MergedForm,
    Shared {
        dataset: String,
    },
    /// Must be scanned: why (sharing failed, or it is a paper-only material).
    NeedsScan {
        why: Bilingual,
    },
    Scanned {
        pages: Vec<ScannedPage>,
    },
    CommittedLater,
    NeedsSignature,
    Signed,
}

impl MaterialStatus {
    pub fn is_supplied(&self) -> bool {
        matches!(
            self,
            MaterialStatus::FromCard { .. }
                | MaterialStatus::MergedForm
                | MaterialStatus::Shared { .. }
                | MaterialStatus::Scanned { .. }
                | MaterialStatus::Signed
        )
    }
}

#[derive(Debug, Clone)]
pub struct MaterialEntry {
    pub id: String,
    pub status: MaterialStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintState {
    Idle,
    Printing,
    Printed,
    Failed(Bilingual),
}

/// What the resident needs after acceptance: the number and code on screen too, in case
/// the notice cannot print.
#[derive(Debug, Clone)]
pub struct AcceptedInfo {
    pub number: String,
    pub query_code: String,
    pub due_date: Option<jiff::civil::Date>,
    pub progress_url: String,
}

/// How a journey ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Back to the home screen.
    Home,
    /// Offer the evaluation for this application (never forced).
    OfferEvaluation { application_number: Option<String> },
    /// The accepted application includes the social security card: check at once whether it
    /// can be made on the spot, and say plainly how it will be made if not.
    OfferCard {
        application_id: uuid::Uuid,
        application_number: String,
        delivery: Delivery,
    },
}

#[derive(Debug, Default)]
pub struct Out {
    pub effects: Vec<Effect>,
    pub exit: Option<Exit>,
}

impl Out {
    fn effect(effect: Effect) -> Out {
        Out {
            effects: vec![effect],
            exit: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Apply {
    pub stage: Stage,
    pub one_thing: Option<String>,
    pub applicants: Vec<(String, Person)>,
    pub answers: BTreeMap<String, String>,
    pub chosen: Vec<String>,
    pub shared: BTreeMap<(String, String), SharedState>,
    pub form: Vec<FormEntry>,
    pub materials: Vec<MaterialEntry>,
    pub delivery: Option<Delivery>,
    pub mailing_address: String,
    /// A message for the current screen (a card problem, a field to fix, a device fault).
    pub message: Option<Bilingual>,
    pub pending: Option<Box<Application>>,
    pub accepted: Option<AcceptedInfo>,
    pub print: PrintState,
    pub scan_percent: u8,
}

impl Default for Apply {
    fn default() -> Self {
        Apply {
            stage: Stage::LifeStage,
            one_thing: None,
            applicants: Vec::new(),
            answers: BTreeMap::new(),
            chosen: Vec::new(),
            shared: BTreeMap::new(),
            form: Vec::new(),
            materials: Vec::new(),
            delivery: None,
            mailing_address: String::new(),
            message: None,
            pending: None,
            accepted: None,
            print: PrintState::Idle,
            scan_percent: 0,
        }
    }
}

impl Apply {
    /// Starts directly at a one-thing's notice (e.g. from the guide browser).
    pub fn for_one_thing(id: &str) -> Apply {
        Apply {
            stage: Stage::Notice,
            one_thing: Some(id.to_owned()),
            ..Apply::default()
        }
    }

    /// True while a device is working for this journey (the idle warning waits).
    pub fn is_busy(&self) -> bool {
        matches!(
            self.stage,
            Stage::Scanning(_) | Stage::Fetching | Stage::Accepting
        ) || self.print == PrintState::Printing
    }

    pub fn one_thing<'c>(&self, ctx: &Ctx<'c>) -> Option<&'c OneThing> {
        self.one_thing
            .as_deref()
            .and_then(|id| ctx.catalogue.one_thing(id))
    }

    /// The role whose card is awaited, if any.
    pub fn awaited_role<'c>(&self, ctx: &Ctx<'c>) -> Option<&'c crate::catalogue::Applicant> {
        let one = self.one_thing(ctx)?;
        one.body
            .applicants
            .iter()
            .find(|a| !self.applicants.iter().any(|(r, _)| r == &a.role))
    }

    pub fn on_action(&mut self, action: ApplyAction, ctx: &Ctx<'_>, session: SessionId) -> Out {
        self.message = None;
        match action {
            ApplyAction::ChooseLifeStage(stage)
                if self.stage == Stage::LifeStage
                    && ctx.catalogue.life_stages.contains_key(&stage) =>
            {
                self.stage = Stage::OneThing { life_stage: stage };
            }
            ApplyAction::ChooseOneThing(id)
                if matches!(self.stage, Stage::OneThing { .. })
                    && ctx.catalogue.one_thing(&id).is_some() =>
            {
                self.one_thing = Some(id);
                self.stage = Stage::Notice;
            }
            ApplyAction::Continue => return self.continue_from(ctx, session),
            ApplyAction::Back => return self.back(ctx, session),
            ApplyAction::PrintGuide => {
                if let Some(one) = self.one_thing(ctx) {
                    self.print = PrintState::Printing;
                    let document = super::guide::guide_slip(one, ctx);
                    return Out::effect(Effect::Print {
                        session,
                        document: Box::new(document),
                    });
                }
            }
            ApplyAction::Answer { question, value } => return self.answer(&question, &value, ctx),
            ApplyAction::ToggleItem(item) if self.stage == Stage::Items => self.toggle(&item, ctx),
            ApplyAction::SetField { field, value } if self.stage == Stage::Form => {
                self.set_field(&field, &value, ctx);
            }
            ApplyAction::Scan(material)
                if self.stage == Stage::Materials
                    && self.materials.iter().any(|m| m.id == material) =>
            {
                self.scan_percent = 0;
                self.stage = Stage::Scanning(material.clone());
                return Out::effect(Effect::Scan { session, material });
            }
            ApplyAction::StopScan => {
                if matches!(self.stage, Stage::Scanning(_)) {
                    self.stage = Stage::Materials;
                    return Out::effect(Effect::CancelScan { session });
                }
            }
            ApplyAction::CommitLater(material) if self.stage == Stage::Materials => {
                self.commit_later(&material, ctx);
            }
            ApplyAction::UndoCommit(material) if self.stage == Stage::Materials => {
                self.undo_commit(&material, ctx);
            }
            ApplyAction::Sign(material) if self.stage == Stage::Materials => {
                if let Some(m) = self.materials.iter_mut().find(|m| m.id == material) {
                    m.status = MaterialStatus::Signed;
                }
            }
            ApplyAction::ChooseDelivery(delivery)
                if self.stage == Stage::Review
                    && self
                        .one_thing(ctx)
                        .is_some_and(|o| o.body.delivery.contains(&delivery)) =>
            {
                self.delivery = Some(delivery);
            }
            ApplyAction::SetMailingAddress(address) if self.stage == Stage::Review => {
                address.trim().clone_into(&mut self.mailing_address);
            }
            ApplyAction::Accept if self.stage == Stage::Review => return self.accept(ctx, session),
            ApplyAction::PrintMissingNotice if self.stage == Stage::Missing => {
                return self.print_missing(ctx, session);
            }
            ApplyAction::RetryPrint if self.stage == Stage::Accepted => {
                return self.print_acceptance(ctx, session);
            }
            ApplyAction::Finish => {
                let exit = match (&self.stage, self.pending.as_deref()) {
                    (Stage::Accepted, Some(app))
                        if app.items.iter().any(|i| i == super::issue_card::CARD_ITEM) =>
                    {
                        Exit::OfferCard {
                            application_id: app.id,
                            application_number: app.number.clone(),
                            delivery: app.delivery,
                        }
                    }
                    (Stage::Accepted, _) => Exit::OfferEvaluation {
                        application_number: self.accepted.as_ref().map(|a| a.number.clone()),
                    },
                    (Stage::Missing | Stage::NotEligible(_), _) => Exit::OfferEvaluation {
                        application_number: None,
                    },
                    _ => Exit::Home,
                };
                return Out {
                    effects: Vec::new(),
                    exit: Some(exit),
                };
            }
            _ => {}
        }
        Out::default()
    }

    pub fn on_completion(
        &mut self,
        completion: Completion,
        ctx: &Ctx<'_>,
        session: SessionId,
    ) -> Out {
        match completion {
            Completion::Shared {
                dataset,
                role,
                result,
            } => self.on_shared(dataset, role, result, ctx),
            Completion::Accepted { .. } => return self.on_accepted(ctx, session),
            Completion::AcceptFailed(reason) => self.on_accept_failed(reason),
            Completion::Printed(result) => {
                self.print = match result {
                    Ok(()) => PrintState::Printed,
                    Err(reason) => PrintState::Failed(reason),
                };
            }
            Completion::ScanProgress { material, percent } => {
                if self.stage == Stage::Scanning(material) {
                    self.scan_percent = percent;
                }
            }
            Completion::ScanPage { material, page } => self.on_scan_page(&material, page),
            Completion::ScanFailed { material, reason } => self.on_scan_failed(&material, reason),
            Completion::Progress(_)
            | Completion::EvaluationSaved
            | Completion::Card(_)
            | Completion::Locker(_)
            | Completion::Staff(_) => {}
        }
        Out::default()
    }

    fn continue_from(&mut self, ctx: &Ctx<'_>, session: SessionId) -> Out {
        let Some(one) = self.one_thing(ctx) else {
            return Out::default();
        };
        match self.stage {
            Stage::Notice => self.stage = Stage::Identify,
            Stage::Identify => {
                if let Some(role) = self.awaited_role(ctx) {
                    self.message = Some(Bilingual::new(
                        format!("请先放{}的身份证", role.label),
                        format!(
                            "Please place the ID card of the {} first",
                            role.label_en.to_lowercase()
                        ),
                    ));
                } else {
                    self.after_identify(one);
                }
            }
            Stage::Question(i) => {
                if let Some(q) = one.body.questions.get(i)
                    && !self.answers.contains_key(&q.id)
                {
                    self.message = Some(bi!("请先选择一个答案", "Please choose an answer first"));
                } else {
                    self.next_question(one, i + 1);
                }
            }
            Stage::Items => {
                if self.chosen.is_empty() {
                    self.message = Some(bi!("请至少选择一项", "Please keep at least one item"));
                } else {
                    return self.start_fetching(one, session);
                }
            }
            Stage::Form => self.finish_form(one, ctx),
            Stage::Materials => self.finish_materials(one),
            _ => {}
        }
        Out::default()
    }

    fn back(&mut self, ctx: &Ctx<'_>, session: SessionId) -> Out {
        let life_stage = self.one_thing(ctx).map(|o| o.life_stage.clone());
        self.stage = match std::mem::replace(&mut self.stage, Stage::LifeStage) {
            Stage::OneThing { .. } | Stage::LifeStage => Stage::LifeStage,
            Stage::Notice => {
                self.one_thing = None;
                self.applicants.clear();
                match life_stage {
                    Some(life_stage) => Stage::OneThing { life_stage },
                    None => Stage::LifeStage,
                }
            }
            Stage::Identify => Stage::Notice,
            Stage::Question(0) | Stage::NotEligible(_) => Stage::Identify,
            Stage::Question(i) => Stage::Question(i - 1),
            Stage::Items => Stage::Identify,
            Stage::Form | Stage::Fetching => Stage::Items,
            Stage::Materials => Stage::Form,
            Stage::Scanning(_) => {
                self.stage = Stage::Materials;
                return Out::effect(Effect::CancelScan { session });
            }
            Stage::Review => Stage::Materials,
            other @ (Stage::Accepting | Stage::Accepted | Stage::Missing) => other,
        };
        Out::default()
    }
}
