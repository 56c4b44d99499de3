//! Issuing a social security card on the spot (社保卡即时制卡).
//!
//! Identify by ID card (the person, or a parent for a child's card from an accepted
//! application) → eligibility and card data from the platform → the data on screen, masked,
//! for the resident to confirm → a card from the hopper to the chip encoder → the chip
//! personalised (challenge, the platform's cryptogram, the records) → the face printed → the
//! card held at the gate → taken, or not taken within [`Delays::card_take`] and captured.
//!
//! Any failure after a card left the hopper captures it into the reject bin; the attempt is
//! recorded failed with the reason, the resident is told in plain words and may try again
//! with a new card. The effects write every step to the store before carrying it out (see
//! `io/cards.rs`), so a crash never loses a card without a record.
//!
//! [`Delays::card_take`]: super::Delays::card_take

use kiosk_platform::wire::{CardData, CardPhoto, CardRequest};
use zeroize::Zeroizing;

use super::apply::{Exit, Out};
use super::effect::{Effect, TimerId};
use super::event::LookupFailure;
use super::{Ctx, SessionId};
use crate::bi;
use crate::catalogue::Delivery;
use crate::domain::person::{Person, mask_name};
use crate::domain::text::Bilingual;

/// The catalogue item that is the social security card.
pub const CARD_ITEM: &str = "social-security-card";

#[derive(Debug, Clone, Copy)]
pub enum CardAction {
    /// Whose card: `None` for the resident's own, `Some(i)` for the child of application
    /// `i` in [`IssueCard::candidates`].
    ChooseHolder(Option<usize>),
    /// The data on screen are right: make the card.
    Confirm,
    /// Back one screen (only before a card is taken from the hopper).
    Back,
    /// After a failure: try again with a new card.
    Retry,
    /// Leave the journey.
    Finish,
}

/// A step of making the card, as the resident sees it and the effects carry it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MakeStep {
    /// A blank card from the hopper to the chip encoder.
    Dispense,
    /// The chip: challenge, the platform's cryptogram, the records written and read back.
    Personalise,
    /// The card face.
    Print,
    /// The card held at the gate.
    Present,
}

impl MakeStep {
    fn next(self) -> Option<MakeStep> {
        match self {
            MakeStep::Dispense => Some(MakeStep::Personalise),
            MakeStep::Personalise => Some(MakeStep::Print),
            MakeStep::Print => Some(MakeStep::Present),
            MakeStep::Present => None,
        }
    }
}

/// Where a failed step left the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardWhere {
    /// No card left the hopper.
    Hopper,
    Inside,
    Gate,
    /// The device could not say: capture anyway.
    Unknown,
}

/// A step that failed: what the resident is told, what is recorded, where the card is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub told: Bilingual,
    /// For the attempt record and the platform: no personal data.
    pub record: String,
    pub card: CardWhere,
    /// Trying again with a new card may work now (a chip or print fault), or not (the
    /// machine needs staff).
    pub retry: bool,
}

/// How a capture ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureEnd {
    /// In the reject bin; the attempt is recorded failed.
    Captured,
    /// The resident took the card before the capture (recorded issued).
    Taken,
    /// The capture failed: the card is stuck or missing; staff are alerted.
    Stuck(Bilingual),
}

/// The platform's answer, as the journey needs it.
#[derive(Debug, Clone)]
pub struct CardAnswer {
    pub request_id: String,
    pub eligibility: CardEligibility,
    pub card: Option<Box<CardData>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEligibility {
    Eligible,
    NotYet {
        waiting_for: Vec<String>,
        message: String,
    },
    AlreadyHasCard {
        card_number_masked: String,
    },
    NotEligible {
        reason: String,
    },
}

/// An accepted application of this kiosk with a card item, for the person identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub application_id: uuid::Uuid,
    pub application_number: String,
}

#[derive(Debug, Clone)]
pub enum CardCompletion {
    /// Applications of this kiosk with a card item for the person identified.
    Candidates(Vec<Candidate>),
    /// Eligibility and card data.
    Answer(Result<CardAnswer, LookupFailure>),
    /// The attempt is recorded (or why it could not be).
    Begun(Result<(), Bilingual>),
    StepDone {
        step: MakeStep,
        result: Result<(), StepFailure>,
    },
    /// The resident took the card at the gate; the attempt is recorded issued.
    Taken,
    Captured(CaptureEnd),
    /// A failure before any card left the hopper is recorded.
    Abandoned,
}

/// Everything the effects need to make one card. `Debug` shows no personal data.
#[derive(Clone)]
pub struct CardJob {
    /// The attempt id: also the platform request's idempotency key.
    pub attempt: uuid::Uuid,
    pub request_id: String,
    pub application_id: Option<uuid::Uuid>,
    pub application_number: Option<String>,
    pub card: Box<CardData>,
    /// The holder's ID-card photo (WLT bytes) when the face shows it.
    pub photo_wlt: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for CardJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardJob")
            .field("attempt", &self.attempt)
            .field("request_id", &self.request_id)
            .field("application_id", &self.application_id)
            .field("card", &self.card)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub enum CardEffect {
    /// Accepted applications of this kiosk with a card item for this person.
    FindApplications {
        session: SessionId,
        id_number: String,
    },
    /// Eligibility and card data (one platform request per attempt; `attempt` is its key).
    Request {
        session: SessionId,
        attempt: uuid::Uuid,
        request: Box<CardRequest>,
    },
    /// Record the attempt before anything moves.
    Begin {
        session: SessionId,
        job: Box<CardJob>,
    },
    /// Record the step, then carry it out. `Present` answers when the card is at the gate,
    /// and again with `Taken` when the resident takes it.
    Step {
        session: SessionId,
        step: MakeStep,
        job: Box<CardJob>,
    },
    /// Record, then capture the card into the reject bin; the attempt ends failed.
    Capture {
        session: SessionId,
        attempt: uuid::Uuid,
        reason: String,
    },
    /// Record the attempt failed when no card left the hopper.
    Abandon {
        session: SessionId,
        attempt: uuid::Uuid,
        reason: String,
    },
}

/// Who the card is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The person identified.
    Own,
    /// The holder of an application's card item (a newborn in the birth one-thing).
    Application {
        application_id: uuid::Uuid,
        application_number: String,
    },
}

/// Why no card is made now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotNow {
    /// The platform says other steps come first; the card is then made centrally.
    NotYet {
        waiting_for: Vec<String>,
    },
    AlreadyHasCard,
    NotEligible,
    /// The platform does not know the application yet (it is on its way): made centrally.
    NotKnownYet,
    NoRecord,
    PlatformUnavailable,
    /// A photo is needed and the ID card's photo cannot be used here.
    NoPhoto,
    /// The card unit is out of service (stock, reject bin, device): made centrally.
    OutOfService,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardStage {
    /// Waiting for an ID card.
    Identify,
    /// Looking for applications with a card item.
    Looking,
    /// Whose card: own or a child's (see `candidates`).
    ChooseHolder,
    /// Asking the platform.
    Checking,
    /// The card data on screen (masked) for the resident to confirm.
    Confirm,
    /// No card now; `message` says why and what happens instead.
    NotNow(NotNow),
    /// The card is being made.
    Making(MakeStep),
    /// At the gate: please take your card.
    Present,
    /// A failure: the card is being captured.
    Capturing,
    Issued,
    /// Making failed; `message` says why; `can_retry` whether a new card may be tried now.
    Failed {
        can_retry: bool,
    },
}

/// The data to confirm, masked as every screen shows personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPreview {
    pub name: String,
    pub id_number: String,
    pub card_number: String,
    pub issue_date: jiff::civil::Date,
    pub photo: PreviewPhoto,
    /// For a child's card: the application it belongs to.
    pub application_number: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewPhoto {
    /// Under 7: no photo.
    None,
    /// The photo from the ID card just read.
    IdCard,
    /// A stored photo.
    Stored,
}

/// One line of the step list the UI shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLine {
    pub label: Bilingual,
    pub state: LineState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    Waiting,
    Active,
    Done,
    Failed,
}

#[derive(Debug, Clone)]
pub struct IssueCard {
    pub stage: CardStage,
    /// The person identified (the resident, or the parent).
    pub person: Option<Person>,
    photo_wlt: Option<Zeroizing<Vec<u8>>>,
    pub candidates: Vec<Candidate>,
    pub holder: Option<Holder>,
    /// For a child's card offered after an application: how its results are delivered.
    pub delivery: Option<Delivery>,
    /// The attempt under way (a fresh id per platform request and card).
    pub attempt: Option<uuid::Uuid>,
    answer: Option<CardAnswer>,
    /// The step that failed, for the step list.
    failed_step: Option<MakeStep>,
    failure: Option<StepFailure>,
    /// A message for the current screen.
    pub message: Option<Bilingual>,
    /// Cards tried in this journey (each a new card and a new record).
    pub attempts: u32,
}

/// What the session passes in besides the context.
#[derive(Debug, Clone, Copy)]
pub struct CardCtx<'a> {
    pub session: SessionId,
    pub elder: bool,
    /// Why card issuing is switched off now, if it is.
    pub blocked: Option<&'a Bilingual>,
}

fn out(effects: Vec<Effect>) -> Out {
    Out {
        effects,
        exit: None,
    }
}

fn card(effect: CardEffect) -> Out {
    out(vec![Effect::Card(effect)])
}

impl Default for IssueCard {
    fn default() -> Self {
        IssueCard {
            stage: CardStage::Identify,
            person: None,
            photo_wlt: None,
            candidates: Vec::new(),
            holder: None,
            delivery: None,
            attempt: None,
            answer: None,
            failed_step: None,
            failure: None,
            message: None,
            attempts: 0,
        }
    }
}

impl IssueCard {
    /// From the home tile: waiting for an ID card.
    pub fn new() -> IssueCard {
        IssueCard::default()
    }

    /// After an accepted application whose items include the card: ask the platform at once
    /// whether the card can be made now; if not, say plainly how it will be made instead.
    pub fn for_application(
        application_id: uuid::Uuid,
        application_number: String,
        delivery: Delivery,
        ctx: &Ctx<'_>,
        cc: CardCtx<'_>,
    ) -> (IssueCard, Out) {
        let mut journey = IssueCard {
            holder: Some(Holder::Application {
                application_id,
                application_number,
            }),
            delivery: Some(delivery),
            ..IssueCard::default()
        };
        if cc.blocked.is_some() {
            journey.not_now(NotNow::OutOfService, None);
            return (journey, Out::default());
        }
        let out = journey.ask_platform(ctx, cc);
        (journey, out)
    }

    /// True while the kiosk works for the resident (the idle warning waits).
    pub fn is_busy(&self) -> bool {
        matches!(
            self.stage,
            CardStage::Looking
                | CardStage::Checking
                | CardStage::Making(_)
                | CardStage::Present
                | CardStage::Capturing
        )
    }

    /// True while a card is out of the hopper for this journey: the journey must not be left
    /// (home, idle reset) until the card is taken or captured.
    pub fn holds_card(&self) -> bool {
        matches!(
            self.stage,
            CardStage::Making(_) | CardStage::Present | CardStage::Capturing
        )
    }

    /// The data to confirm, masked.
    pub fn preview(&self) -> Option<CardPreview> {
        let card = self.answer.as_ref()?.card.as_deref()?;
        Some(CardPreview {
            name: mask_name(&card.name),
            id_number: kiosk_idcard::id_number::mask(&card.social_security_number),
            card_number: kiosk_platform::mask::mask_id_number(&card.card_number),
            issue_date: card.issue_date,
            photo: match card.photo {
                CardPhoto::NoneUnder7 => PreviewPhoto::None,
                CardPhoto::IdCardPhoto => PreviewPhoto::IdCard,
                CardPhoto::Jpeg { .. } => PreviewPhoto::Stored,
            },
            application_number: match &self.holder {
                Some(Holder::Application {
                    application_number, ..
                }) => Some(application_number.clone()),
                _ => None,
            },
        })
    }

    /// The step list for the screen: identify, check, confirm, the four making steps.
    pub fn steps(&self) -> Vec<StepLine> {
        let labels = [
            bi!("读取身份证", "Read ID card"),
            bi!("查询制卡信息", "Check card data"),
            bi!("核对信息", "Confirm details"),
            bi!("出卡", "Take a blank card"),
            bi!("写入芯片", "Write the chip"),
            bi!("打印卡面", "Print the card"),
            bi!("取卡", "Take your card"),
        ];
        let (active, failed) = self.position();
        labels
            .into_iter()
            .enumerate()
            .map(|(i, label)| {
                let state = if failed == Some(i) {
                    LineState::Failed
                } else if i < active {
                    LineState::Done
                } else if i == active {
                    LineState::Active
                } else {
                    LineState::Waiting
                };
                StepLine { label, state }
            })
            .collect()
    }

    /// Progress for the screen, 0–100.
    pub fn progress(&self) -> u8 {
        let (active, _) = self.position();
        u8::try_from((active.min(7) * 100) / 7).unwrap_or(100)
    }

    /// The index of the active line (7 = all done) and of a failed one.
    fn position(&self) -> (usize, Option<usize>) {
        let step_index = |s: MakeStep| match s {
            MakeStep::Dispense => 3,
            MakeStep::Personalise => 4,
            MakeStep::Print => 5,
            MakeStep::Present => 6,
        };
        match &self.stage {
            CardStage::Identify => (0, None),
            CardStage::Looking | CardStage::ChooseHolder | CardStage::Checking => (1, None),
            CardStage::NotNow(_) => (1, Some(1)),
            CardStage::Confirm => (2, None),
            CardStage::Making(s) => (step_index(*s), None),
            CardStage::Present => (6, None),
            CardStage::Issued => (7, None),
            CardStage::Capturing | CardStage::Failed { .. } => {
                let i = self.failed_step.map_or(3, step_index);
                (i, Some(i))
            }
        }
    }

    pub fn on_card(
        &mut self,
        identity: &kiosk_idcard::identity::Identity,
        ctx: &Ctx<'_>,
        session: SessionId,
    ) -> Out {
        if self.stage != CardStage::Identify {
            return Out::default();
        }
        if let kiosk_idcard::identity::ValidUntil::Date(until) = identity.valid_until
            && until < ctx.now.date()
        {
            self.message = Some(bi!(
                "这张身份证已过期，不能用于办理。请到综合窗口办理，或换一张有效证件。",
                "This ID card has expired and cannot be used. Please go to the service window or use a valid card."
            ));
            return Out::default();
        }
        let person = Person::from_card(identity);
        let id_number = person.id_number.clone();
        self.person = Some(person);
        self.photo_wlt =
            (!identity.photo_wlt.is_empty()).then(|| Zeroizing::new(identity.photo_wlt.clone()));
        self.message = None;
        self.stage = CardStage::Looking;
        card(CardEffect::FindApplications { session, id_number })
    }

    pub fn on_action(&mut self, action: CardAction, ctx: &Ctx<'_>, cc: CardCtx<'_>) -> Out {
        self.message = None;
        match action {
            CardAction::ChooseHolder(choice) if self.stage == CardStage::ChooseHolder => {
                let holder = match choice {
                    None => Holder::Own,
                    Some(i) => match self.candidates.get(i) {
                        Some(c) => Holder::Application {
                            application_id: c.application_id,
                            application_number: c.application_number.clone(),
                        },
                        None => return Out::default(),
                    },
                };
                self.holder = Some(holder);
                return self.ask_platform(ctx, cc);
            }
            CardAction::Confirm if self.stage == CardStage::Confirm => {
                return self.begin(cc);
            }
            CardAction::Retry if matches!(self.stage, CardStage::Failed { can_retry: true }) => {
                if let Some(reason) = cc.blocked {
                    self.message = Some(reason.clone());
                    self.stage = CardStage::Failed { can_retry: false };
                    return Out::default();
                }
                self.failed_step = None;
                self.failure = None;
                return self.ask_platform(ctx, cc);
            }
            CardAction::Back => return self.back(),
            CardAction::Finish if !self.holds_card() && !self.is_busy() => {
                let application_number = match &self.holder {
                    Some(Holder::Application {
                        application_number, ..
                    }) => Some(application_number.clone()),
                    _ => None,
                };
                return Out {
                    effects: Vec::new(),
                    exit: Some(Exit::OfferEvaluation { application_number }),
                };
            }
            _ => {}
        }
        Out::default()
    }

    fn back(&mut self) -> Out {
        self.stage = match self.stage {
            CardStage::Identify => {
                return Out {
                    effects: Vec::new(),
                    exit: Some(Exit::Home),
                };
            }
            CardStage::ChooseHolder => CardStage::Identify,
            CardStage::Confirm if !self.candidates.is_empty() => CardStage::ChooseHolder,
            CardStage::Confirm => CardStage::Identify,
            ref other => other.clone(),
        };
        Out::default()
    }

    /// A new attempt: a fresh id (the platform request's key) and a new request.
    fn ask_platform(&mut self, ctx: &Ctx<'_>, cc: CardCtx<'_>) -> Out {
        let request = match (&self.holder, &self.person) {
            (Some(Holder::Application { application_id, .. }), _) => CardRequest::Application {
                application_id: *application_id,
            },
            (Some(Holder::Own), Some(p)) => CardRequest::Person {
                id_number: p.id_number.clone(),
                name: p.name.clone(),
            },
            _ => return Out::default(),
        };
        // `Fresh::application_id` is a new UUID v7 at every step: it names this attempt.
        let attempt = ctx.fresh.application_id;
        self.attempt = Some(attempt);
        self.answer = None;
        self.stage = CardStage::Checking;
        card(CardEffect::Request {
            session: cc.session,
            attempt,
            request: Box::new(request),
        })
    }

    fn begin(&mut self, cc: CardCtx<'_>) -> Out {
        if let Some(reason) = cc.blocked {
            self.stage = CardStage::NotNow(NotNow::OutOfService);
            self.message = Some(self.central_text(reason));
            return Out::default();
        }
        let Some(job) = self.job() else {
            return Out::default();
        };
        self.attempts += 1;
        self.stage = CardStage::Making(MakeStep::Dispense);
        card(CardEffect::Begin {
            session: cc.session,
            job: Box::new(job),
        })
    }

    fn job(&self) -> Option<CardJob> {
        let answer = self.answer.as_ref()?;
        let card = answer.card.clone()?;
        let (application_id, application_number) = match &self.holder {
            Some(Holder::Application {
                application_id,
                application_number,
            }) => (Some(*application_id), Some(application_number.clone())),
            _ => (None, None),
        };
        let photo_wlt = match card.photo {
            CardPhoto::IdCardPhoto => self.photo_wlt.clone(),
            _ => None,
        };
        Some(CardJob {
            attempt: self.attempt?,
            request_id: answer.request_id.clone(),
            application_id,
            application_number,
            card,
            photo_wlt,
        })
    }

    pub fn on_timer(&mut self, id: TimerId, cc: CardCtx<'_>) -> Out {
        if id != TimerId::CardNotTaken || self.stage != CardStage::Present {
            return Out::default();
        }
        let Some(attempt) = self.attempt else {
            return Out::default();
        };
        self.failed_step = Some(MakeStep::Present);
        self.failure = Some(StepFailure {
            told: bi!(
                "您没有及时取走社保卡，为了安全，卡片已被收回。请点“重新制卡”再做一张。",
                "The card was not taken in time, so it was taken back for safety. Tap \"Try again\" to make a new one."
            ),
            record: "not taken at the gate in time".into(),
            card: CardWhere::Gate,
            retry: true,
        });
        self.stage = CardStage::Capturing;
        card(CardEffect::Capture {
            session: cc.session,
            attempt,
            reason: "not taken at the gate in time".into(),
        })
    }

    pub fn on_completion(
        &mut self,
        completion: CardCompletion,
        ctx: &Ctx<'_>,
        cc: CardCtx<'_>,
    ) -> Out {
        match completion {
            CardCompletion::Candidates(list) if self.stage == CardStage::Looking => {
                self.candidates = list;
                if self.candidates.is_empty() {
                    self.holder = Some(Holder::Own);
                    return self.ask_platform(ctx, cc);
                }
                self.stage = CardStage::ChooseHolder;
            }
            CardCompletion::Answer(result) if self.stage == CardStage::Checking => {
                self.on_answer(result);
            }
            CardCompletion::Begun(result)
                if self.stage == CardStage::Making(MakeStep::Dispense) =>
            {
                return match result {
                    Ok(()) => self.step(MakeStep::Dispense, cc),
                    Err(told) => {
                        self.message = Some(told);
                        self.stage = CardStage::Failed { can_retry: false };
                        Out::default()
                    }
                };
            }
            CardCompletion::StepDone { step, result } if self.stage == CardStage::Making(step) => {
                return match result {
                    Ok(()) => {
                        if let Some(next) = step.next() {
                            self.step(next, cc)
                        } else {
                            self.stage = CardStage::Present;
                            out(vec![Effect::StartTimer {
                                id: TimerId::CardNotTaken,
                                after: ctx.delays.card_take(cc.elder),
                            }])
                        }
                    }
                    Err(failure) => self.fail(step, failure, cc),
                };
            }
            CardCompletion::Taken
                if matches!(self.stage, CardStage::Present | CardStage::Capturing) =>
            {
                // Taken at the gate (or in the instant before the capture began).
                self.stage = CardStage::Issued;
                self.failure = None;
                self.failed_step = None;
                self.message = Some(bi!(
                    "社保卡制作完成，请收好。",
                    "Your social security card is ready. Please keep it safe."
                ));
                return out(vec![Effect::CancelTimer(TimerId::CardNotTaken)]);
            }
            CardCompletion::Captured(end) if self.stage == CardStage::Capturing => {
                self.on_captured(end);
            }
            CardCompletion::Abandoned if self.stage == CardStage::Capturing => {
                self.finish_failed();
            }
            _ => {}
        }
        Out::default()
    }

    fn on_answer(&mut self, result: Result<CardAnswer, LookupFailure>) {
        match result {
            Ok(answer) => match (&answer.eligibility, answer.card.is_some()) {
                (CardEligibility::Eligible, true) => {
                    let photo_ok = match answer.card.as_deref().map(|c| &c.photo) {
                        Some(CardPhoto::IdCardPhoto) => {
                            self.holder == Some(Holder::Own) && self.photo_wlt.is_some()
                        }
                        _ => true,
                    };
                    self.answer = Some(answer);
                    if photo_ok {
                        self.stage = CardStage::Confirm;
                    } else {
                        self.not_now(NotNow::NoPhoto, None);
                    }
                }
                (
                    CardEligibility::NotYet {
                        waiting_for,
                        message,
                    },
                    _,
                ) => {
                    let (waiting_for, message) = (waiting_for.clone(), message.clone());
                    self.not_now(NotNow::NotYet { waiting_for }, Some(message));
                }
                (CardEligibility::AlreadyHasCard { card_number_masked }, _) => {
                    let masked = card_number_masked.clone();
                    self.stage = CardStage::NotNow(NotNow::AlreadyHasCard);
                    self.message = Some(Bilingual::new(
                        format!(
                            "已有一张有效的社会保障卡（卡号 {masked}），不能重复申领。补卡、换卡请到综合窗口办理。"
                        ),
                        format!(
                            "There is already a valid social security card (number {masked}). For a replacement, please go to the service window."
                        ),
                    ));
                }
                (CardEligibility::NotEligible { .. }, _) | (CardEligibility::Eligible, false) => {
                    let reason = match &answer.eligibility {
                        CardEligibility::NotEligible { reason } => reason.clone(),
                        _ => String::new(),
                    };
                    self.stage = CardStage::NotNow(NotNow::NotEligible);
                    self.message = Some(Bilingual::new(
                        format!("现在不能在本机制卡：{reason}"),
                        format!("The card cannot be made at this kiosk: {reason}"),
                    ));
                }
            },
            Err(LookupFailure::NotFound) => {
                if let Some(Holder::Application { .. }) = self.holder {
                    self.not_now(NotNow::NotKnownYet, None);
                } else {
                    self.stage = CardStage::NotNow(NotNow::NoRecord);
                    self.message = Some(bi!(
                        "没有查到您的制卡信息，请到综合窗口办理。",
                        "No card record was found for you. Please go to the service window."
                    ));
                }
            }
            Err(LookupFailure::Unavailable) => {
                self.stage = CardStage::NotNow(NotNow::PlatformUnavailable);
                self.message = Some(bi!(
                    "暂时连不上社保制卡系统，现在不能制卡。请稍后再试，或到综合窗口办理。",
                    "The card system cannot be reached, so no card can be made now. Please try later or go to the service window."
                ));
            }
        }
    }

    /// No card now: say why and, for a child's card, how it will be made instead.
    fn not_now(&mut self, why: NotNow, platform_message: Option<String>) {
        let central = self.central_text(&platform_message.map_or_else(
            || match &why {
                NotNow::NoPhoto => bi!(
                    "制卡需要照片，本机暂时不能使用身份证照片。",
                    "The card needs a photo and the ID card's photo cannot be used here."
                ),
                NotNow::NotKnownYet => bi!(
                    "您的申请正在报送。",
                    "Your application is on its way to the departments."
                ),
                _ => bi!(
                    "本机暂时不能制卡。",
                    "This kiosk cannot make cards right now."
                ),
            },
            |m| Bilingual::new(m, "Other steps must be finished first."),
        ));
        self.message = Some(central);
        self.stage = CardStage::NotNow(why);
    }

    /// "It will be made centrally" in the words for this holder and delivery.
    fn central_text(&self, why: &Bilingual) -> Bilingual {
        match (&self.holder, self.delivery) {
            (Some(Holder::Application { .. }), Some(Delivery::Mail)) => Bilingual::new(
                format!(
                    "{}社保卡将由社保部门统一制作，做好后邮寄给您，不需要再来办理。",
                    why.zh
                ),
                format!(
                    "{} The card will be made centrally and sent to you by post; you need not come back for it.",
                    why.en
                ),
            ),
            (Some(Holder::Application { .. }), _) => Bilingual::new(
                format!(
                    "{}社保卡将由社保部门统一制作，做好后放入本中心智能取件柜，短信通知您凭身份证领取。",
                    why.zh
                ),
                format!(
                    "{} The card will be made centrally and put in this centre's locker; a text message will tell you when to collect it with your ID card.",
                    why.en
                ),
            ),
            _ => Bilingual::new(
                format!("{}请到综合窗口申领，社保卡将统一制作后领取。", why.zh),
                format!(
                    "{} Please apply at the service window; the card will be made centrally.",
                    why.en
                ),
            ),
        }
    }

    fn step(&mut self, step: MakeStep, cc: CardCtx<'_>) -> Out {
        let Some(job) = self.job() else {
            return Out::default();
        };
        self.stage = CardStage::Making(step);
        card(CardEffect::Step {
            session: cc.session,
            step,
            job: Box::new(job),
        })
    }

    fn fail(&mut self, step: MakeStep, failure: StepFailure, cc: CardCtx<'_>) -> Out {
        let Some(attempt) = self.attempt else {
            return Out::default();
        };
        self.failed_step = Some(step);
        let reason = format!("{}: {}", step_name(step), failure.record);
        let nothing_out = failure.card == CardWhere::Hopper;
        self.failure = Some(failure);
        self.stage = CardStage::Capturing;
        if nothing_out {
            card(CardEffect::Abandon {
                session: cc.session,
                attempt,
                reason,
            })
        } else {
            card(CardEffect::Capture {
                session: cc.session,
                attempt,
                reason,
            })
        }
    }

    fn on_captured(&mut self, end: CaptureEnd) {
        match end {
            CaptureEnd::Captured => self.finish_failed(),
            CaptureEnd::Taken => {
                self.stage = CardStage::Issued;
                self.failure = None;
                self.failed_step = None;
                self.message = Some(bi!(
                    "社保卡制作完成，请收好。",
                    "Your social security card is ready. Please keep it safe."
                ));
            }
            CaptureEnd::Stuck(told) => {
                self.message = Some(told);
                self.stage = CardStage::Failed { can_retry: false };
            }
        }
    }

    fn finish_failed(&mut self) {
        let (told, retry) = self.failure.as_ref().map_or_else(
            || (bi!("制卡没有成功。", "The card could not be made."), false),
            |f| (f.told.clone(), f.retry),
        );
        self.message = Some(told);
        self.stage = CardStage::Failed { can_retry: retry };
    }
}

/// The step's name in records.
pub fn step_name(step: MakeStep) -> &'static str {
    match step {
        MakeStep::Dispense => "dispense",
        MakeStep::Personalise => "personalise",
        MakeStep::Print => "print",
        MakeStep::Present => "present",
    }
}
