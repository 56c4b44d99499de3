//! Collecting finished documents from the locker: by ID card (the applicant, or a proxy named
//! on the application) or by the 8-digit code from the SMS. The door opens only when its
//! sensor says so; a door that does not open is told plainly and sent to staff, never retried.
//! Several items (several applications) open one after the other.

use kiosk_idcard::identity::Identity;

use kiosk_printer::slips::{Document, LockerPickupReceipt, MaskedNumber, PersonName};

use super::apply::{Exit, Out};
use super::{Ctx, SessionId};
use crate::bi;
use crate::domain::locker::{Actor, CODE_DIGITS, LockerItem, OpenResult, PickupKey, PickupLookup};
use crate::domain::text::Bilingual;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickupStage {
    /// By ID card or by code?
    Choose,
    WaitCard,
    EnterCode,
    /// Asking the store.
    Looking,
    /// The unlock is on its way; waiting for the sensor.
    Opening,
    /// The door is open: take the documents, close the door.
    Open,
    /// Everything collected.
    Done,
    /// Nothing waits for this card or code (`message` says what to do).
    Nothing,
    /// A door did not open, or staff must look first (`message` says why).
    Fault,
}

#[derive(Debug, Clone)]
pub enum PickupAction {
    ByCard,
    ByCode,
    SetCode(String),
    Submit,
    Back,
    Finish,
}

#[derive(Debug, Clone)]
pub enum LockerEffect {
    /// Find the resident's items (a code counts against the wrong-code limit).
    Lookup { session: SessionId, key: PickupKey },
    /// Write down the pickup, open the door and wait for its sensor; answer `Opened`, then
    /// `Closed` when the door is shut again (the pickup is then recorded and the platform
    /// told).
    Open {
        session: SessionId,
        item: uuid::Uuid,
        compartment: String,
        actor: Actor,
    },
}

#[derive(Debug, Clone)]
pub enum LockerCompletion {
    Looked(Result<PickupLookup, Bilingual>),
    Opened {
        item: uuid::Uuid,
        result: OpenResult,
    },
    Closed {
        item: uuid::Uuid,
    },
}

#[derive(Debug, Clone)]
pub struct Pickup {
    pub stage: PickupStage,
    /// The code typed so far (digits only).
    pub code: String,
    key: Option<PickupKey>,
    /// What was found, in compartment order; `current` is the one being opened or open.
    pub items: Vec<LockerItem>,
    pub current: usize,
    pub message: Option<Bilingual>,
}

impl Default for Pickup {
    fn default() -> Self {
        Pickup {
            stage: PickupStage::Choose,
            code: String::new(),
            key: None,
            items: Vec::new(),
            current: 0,
            message: None,
        }
    }
}

fn out(effects: Vec<super::Effect>) -> Out {
    Out {
        effects,
        exit: None,
    }
}

fn effect(e: LockerEffect) -> Out {
    out(vec![super::Effect::Locker(e)])
}

impl Pickup {
    /// Waiting for the store or for a door to open: the idle warning waits.
    pub fn is_busy(&self) -> bool {
        matches!(self.stage, PickupStage::Looking | PickupStage::Opening)
    }

    /// The item whose door is opening or open.
    pub fn current_item(&self) -> Option<&LockerItem> {
        self.items.get(self.current)
    }

    pub fn on_action(&mut self, action: PickupAction, session: SessionId) -> Out {
        self.message = None;
        match (action, self.stage) {
            (PickupAction::ByCard, PickupStage::Choose) => self.stage = PickupStage::WaitCard,
            (PickupAction::ByCode, PickupStage::Choose) => self.stage = PickupStage::EnterCode,
            (PickupAction::SetCode(code), PickupStage::EnterCode) => {
                self.code = code
                    .chars()
                    .filter(char::is_ascii_digit)
                    .take(CODE_DIGITS)
                    .collect();
            }
            (PickupAction::Submit, PickupStage::EnterCode) => {
                if self.code.len() != CODE_DIGITS {
                    self.message = Some(bi!(
                        "取件码是8位数字，请核对短信后重新输入。",
                        "The pickup code has 8 digits. Please check the text message and type it again."
                    ));
                    return Out::default();
                }
                let key = PickupKey::Code(std::mem::take(&mut self.code));
                return self.look_up(key, session);
            }
            (
                PickupAction::Back,
                PickupStage::WaitCard | PickupStage::EnterCode | PickupStage::Nothing,
            ) => {
                self.code.clear();
                self.stage = PickupStage::Choose;
            }
            (PickupAction::Back, PickupStage::Choose) => {
                return Out {
                    effects: Vec::new(),
                    exit: Some(Exit::Home),
                };
            }
            (PickupAction::Finish, PickupStage::Done) => {
                return Out {
                    effects: Vec::new(),
                    exit: Some(Exit::OfferEvaluation {
                        application_number: self.items.first().map(|i| i.case_number.clone()),
                    }),
                };
            }
            (
                PickupAction::Finish,
                PickupStage::Nothing | PickupStage::Fault | PickupStage::Choose,
            ) => {
                return Out {
                    effects: Vec::new(),
                    exit: Some(Exit::Home),
                };
            }
            _ => {}
        }
        Out::default()
    }

    /// An ID card on the reader while waiting for one.
    pub fn on_card(&mut self, identity: &Identity, session: SessionId) -> Out {
        if !matches!(self.stage, PickupStage::WaitCard | PickupStage::Choose) {
            return Out::default();
        }
        self.message = None;
        let key = PickupKey::Card {
            id_number: identity.id_number.clone(),
            name: identity.name.clone(),
        };
        self.look_up(key, session)
    }

    fn look_up(&mut self, key: PickupKey, session: SessionId) -> Out {
        self.stage = PickupStage::Looking;
        self.key = Some(key.clone());
        effect(LockerEffect::Lookup { session, key })
    }

    /// The pickup receipt after the last door shut: printed or not, the documents are
    /// collected; a receipt that did not print is said, not retried.
    pub fn on_printed(&mut self, result: &Result<(), Bilingual>) {
        if self.stage == PickupStage::Done && result.is_err() {
            self.message = Some(bi!(
                "取件凭条没有打印出来，证件已取走，取件记录已保存",
                "The pickup receipt did not print; your documents are collected and the pickup is recorded"
            ));
        }
    }

    fn receipt(&self, ctx: &Ctx<'_>) -> Document {
        let (name, id) = match &self.key {
            Some(PickupKey::Card { id_number, name }) => (
                crate::domain::person::mask_name(name),
                kiosk_platform::mask::mask_id_number(id_number),
            ),
            _ => (
                self.items
                    .first()
                    .map(|i| i.applicant_masked.clone())
                    .unwrap_or_default(),
                String::new(),
            ),
        };
        Document::LockerPickup(LockerPickupReceipt {
            centre_name: ctx.centre.name.clone(),
            application_no: self
                .items
                .iter()
                .map(|i| i.case_number.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            one_thing: String::new(),
            documents: self
                .items
                .iter()
                .flat_map(|i| i.documents.iter().cloned())
                .collect(),
            locker: self
                .items
                .iter()
                .map(|i| i.compartment.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            collected_by: PersonName(name),
            masked_id_number: MaskedNumber(id),
            collected_at: ctx.now.strftime("%Y-%m-%d %H:%M").to_string(),
            consultation_phone: ctx.centre.consultation_phone.clone(),
            evaluation_url: None,
            next_step: "请妥善保管您的证件。".to_owned(),
        })
    }

    pub fn on_completion(
        &mut self,
        done: LockerCompletion,
        ctx: &Ctx<'_>,
        session: SessionId,
    ) -> Out {
        match done {
            LockerCompletion::Looked(result) if self.stage == PickupStage::Looking => {
                self.on_looked(result, session)
            }
            LockerCompletion::Opened { item, result }
                if self.stage == PickupStage::Opening
                    && self.current_item().is_some_and(|i| i.id == item) =>
            {
                if result.door_open() {
                    self.stage = PickupStage::Open;
                } else {
                    self.stage = PickupStage::Fault;
                    self.message = Some(match result {
                        OpenResult::Unavailable => bi!(
                            "取件柜暂时不能使用，您的证件还在柜中，安全无虞",
                            "The locker cannot be used right now; your documents are still safe inside"
                        ),
                        _ => bi!(
                            "柜门没有打开，已通知工作人员",
                            "The door did not open; staff have been told"
                        ),
                    });
                }
                Out::default()
            }
            LockerCompletion::Closed { item }
                if self.stage == PickupStage::Open
                    && self.current_item().is_some_and(|i| i.id == item) =>
            {
                self.current += 1;
                if self.current < self.items.len() {
                    self.open_current(session)
                } else {
                    self.stage = PickupStage::Done;
                    out(vec![super::Effect::Print {
                        session,
                        document: Box::new(self.receipt(ctx)),
                    }])
                }
            }
            _ => Out::default(),
        }
    }

    fn on_looked(&mut self, result: Result<PickupLookup, Bilingual>, session: SessionId) -> Out {
        let by_code = matches!(self.key, Some(PickupKey::Code(_)));
        match result {
            Err(reason) => {
                self.stage = PickupStage::Fault;
                self.message = Some(reason);
            }
            Ok(PickupLookup::Found(items)) if !items.is_empty() => {
                self.items = items;
                self.current = 0;
                return self.open_current(session);
            }
            Ok(PickupLookup::Found(_) | PickupLookup::NotFound { .. }) if !by_code => {
                self.stage = PickupStage::Nothing;
                self.message = Some(bi!(
                    "没有找到这张身份证的待取件。证件办好放入取件柜后会有短信通知。",
                    "Nothing is waiting for this ID card. You will get a text message when your documents are in the locker."
                ));
            }
            Ok(
                PickupLookup::Found(_)
                | PickupLookup::NotFound {
                    attempts_left: None,
                },
            ) => {
                self.stage = PickupStage::EnterCode;
                self.message = Some(bi!(
                    "取件码不对，请核对短信后重新输入。",
                    "That pickup code is not right. Please check the text message and try again."
                ));
            }
            Ok(PickupLookup::NotFound {
                attempts_left: Some(left),
            }) => {
                self.stage = PickupStage::EnterCode;
                self.message = Some(Bilingual {
                    zh: format!("取件码不对，请核对短信后重新输入。还可以再试{left}次。"),
                    en: format!(
                        "That pickup code is not right. Please check the text message; {left} more tries."
                    ),
                });
            }
            Ok(PickupLookup::CoolDown { .. }) => {
                self.stage = PickupStage::Fault;
                self.message = Some(bi!(
                    "取件码输错次数太多，请15分钟后再试，或刷身份证取件，或到综合窗口领取",
                    "Too many wrong codes. Please try again in 15 minutes, use your ID card, or go to the service window"
                ));
            }
            Ok(PickupLookup::NeedsStaff) => {
                self.stage = PickupStage::Fault;
                self.message = Some(bi!(
                    "您的证件所在柜门需要工作人员先检查",
                    "The door of your documents needs a staff check first"
                ));
            }
        }
        Out::default()
    }

    fn open_current(&mut self, session: SessionId) -> Out {
        let Some(item) = self.current_item() else {
            self.stage = PickupStage::Done;
            return Out::default();
        };
        let actor = self
            .key
            .as_ref()
            .map_or(Actor::Resident { masked_id: None }, PickupKey::actor);
        let e = LockerEffect::Open {
            session,
            item: item.id,
            compartment: item.compartment.clone(),
            actor,
        };
        self.stage = PickupStage::Opening;
        effect(e)
    }
}
