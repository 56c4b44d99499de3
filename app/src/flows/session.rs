//! A resident's session: the home screen, the journey under way, language and elder mode, and
//! the idle warning that, when nobody answers it, clears everything.

use super::apply::{Apply, Exit, Out};
use super::availability::Availability;
use super::effect::{Effect, TimerId};
use super::evaluate::Evaluate;
use super::event::{Event, JourneyKind, UserAction};
use super::guide::{Guide, GuideExit};
use super::issue_card::{CardCtx, IssueCard};
use super::locker::Pickup;
use super::progress::Progress;
use super::staff::StaffMode;
use super::{Ctx, SessionId};
use crate::domain::text::Bilingual;

/// Several parts of one step may re-arm the idle timer; only the last one counts.
fn keep_last_idle_timer(mut effects: Vec<Effect>) -> Vec<Effect> {
    let is_arm = |e: &Effect| {
        matches!(
            e,
            Effect::StartTimer {
                id: TimerId::IdleWarning,
                ..
            }
        )
    };
    if let Some(last) = effects.iter().rposition(is_arm) {
        let mut i = 0;
        effects.retain(|e| {
            let keep = !is_arm(e) || i == last;
            i += 1;
            keep
        });
    }
    effects
}

#[derive(Debug, Clone)]
pub enum Journey {
    Home,
    Apply(Box<Apply>),
    Progress(Progress),
    Guide(Guide),
    Evaluate(Evaluate),
    CardIssue(Box<IssueCard>),
    Locker(Pickup),
    Staff(Box<StaffMode>),
    /// The journey cannot run now; the reason in plain words.
    OutOfService {
        journey: JourneyKind,
        reason: Bilingual,
    },
}

impl Journey {
    fn is_busy(&self) -> bool {
        match self {
            Journey::Apply(a) => a.is_busy(),
            Journey::Progress(p) => p.is_busy(),
            Journey::Guide(g) => g.is_busy(),
            Journey::CardIssue(c) => c.is_busy(),
            Journey::Locker(l) => l.is_busy(),
            Journey::Staff(s) => s.is_busy(),
            Journey::Home | Journey::Evaluate(_) | Journey::OutOfService { .. } => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    Active,
    /// The warning is on screen; seconds left before everything is cleared.
    Warning {
        remaining: u32,
    },
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub english: bool,
    pub elder: bool,
    pub journey: Journey,
    pub idle: Idle,
    pub availability: Availability,
    default_english: bool,
}

impl Session {
    pub fn new(default_english: bool) -> Self {
        Session {
            id: SessionId(1),
            english: default_english,
            elder: false,
            journey: Journey::Home,
            idle: Idle::Active,
            availability: Availability::all_up(),
            default_english,
        }
    }

    pub fn step(&mut self, event: Event, ctx: &Ctx<'_>) -> Vec<Effect> {
        match event {
            Event::Done {
                session,
                completion,
            } => {
                if session != self.id {
                    // Started by a previous resident: never show or print it now.
                    return Vec::new();
                }
                let out = match &mut self.journey {
                    Journey::Apply(a) => a.on_completion(completion, ctx, self.id),
                    Journey::Progress(p) => {
                        p.on_completion(completion, ctx);
                        Out::default()
                    }
                    Journey::Guide(g) => {
                        g.on_completion(completion);
                        Out::default()
                    }
                    Journey::Evaluate(e) => {
                        e.on_completion(&completion);
                        Out::default()
                    }
                    Journey::CardIssue(c) => match completion {
                        crate::flows::event::Completion::Card(done) => {
                            let blocked = self.availability.blocked(JourneyKind::CardIssue);
                            let cc = CardCtx {
                                session: self.id,
                                elder: self.elder,
                                blocked: blocked.as_ref(),
                            };
                            c.on_completion(done, ctx, cc)
                        }
                        _ => Out::default(),
                    },
                    Journey::Locker(l) => match completion {
                        crate::flows::event::Completion::Locker(done) => {
                            l.on_completion(done, ctx, self.id)
                        }
                        crate::flows::event::Completion::Printed(result) => {
                            l.on_printed(&result);
                            Out::default()
                        }
                        _ => Out::default(),
                    },
                    Journey::Staff(s) => match completion {
                        crate::flows::event::Completion::Staff(done) => {
                            s.on_completion(done, self.id)
                        }
                        _ => Out::default(),
                    },
                    Journey::Home | Journey::OutOfService { .. } => Out::default(),
                };
                self.finish(out, ctx)
            }
            Event::DeviceChanged { device, status } => {
                self.availability.set_device(device, status);
                Vec::new()
            }
            Event::PlatformChanged { reachable } => {
                self.availability.set_platform(reachable);
                Vec::new()
            }
            Event::Timer(TimerId::IdleWarning) => self.on_idle_timer(ctx),
            Event::Timer(TimerId::IdleTick) => self.on_tick(ctx),
            Event::Timer(id @ TimerId::CardNotTaken) => {
                let out = match &mut self.journey {
                    Journey::CardIssue(c) => {
                        let cc = CardCtx {
                            session: self.id,
                            elder: self.elder,
                            blocked: None,
                        };
                        c.on_timer(id, cc)
                    }
                    _ => Out::default(),
                };
                self.finish(out, ctx)
            }
            Event::CardStock { hopper, reject_bin } => {
                self.availability.set_card_stock(hopper, reject_bin);
                Vec::new()
            }
            Event::CardPresented(identity) => {
                let mut effects = self.touched(ctx);
                let out = match &mut self.journey {
                    Journey::Apply(a) => a.on_card(&identity, ctx),
                    Journey::Progress(p) => p.on_card(&identity.id_number, self.id),
                    Journey::CardIssue(c) => c.on_card(&identity, ctx, self.id),
                    Journey::Locker(l) => l.on_card(&identity, self.id),
                    _ => Out::default(),
                };
                effects.extend(self.finish(out, ctx));
                effects
            }
            Event::CardRemoved => Vec::new(),
            Event::CardUnreadable(reason) => {
                match &mut self.journey {
                    Journey::Apply(a) => a.message = Some(reason),
                    Journey::CardIssue(c) => c.message = Some(reason),
                    Journey::Locker(l) => l.message = Some(reason),
                    _ => {}
                }
                Vec::new()
            }
            Event::User(action) => self.on_user(action, ctx),
        }
    }

    fn on_user(&mut self, action: UserAction, ctx: &Ctx<'_>) -> Vec<Effect> {
        let mut effects = self.touched(ctx);
        let out = match action {
            UserAction::Start(kind) => {
                self.start(kind, None);
                effects.extend(self.arm_idle(ctx));
                Out::default()
            }
            // A card out of the hopper is taken or captured first: never abandoned.
            UserAction::Home if self.holds_card() => Out::default(),
            UserAction::Home => return self.reset(),
            UserAction::SetEnglish(english) => {
                self.english = english;
                Out::default()
            }
            UserAction::SetElder(elder) => {
                self.elder = elder;
                effects.extend(self.arm_idle(ctx));
                Out::default()
            }
            UserAction::StillHere => Out::default(),
            UserAction::Apply(a) => match &mut self.journey {
                Journey::Apply(apply) => apply.on_action(a, ctx, self.id),
                _ => Out::default(),
            },
            UserAction::Progress(a) => match &mut self.journey {
                Journey::Progress(p) => p.on_action(a, self.id),
                _ => Out::default(),
            },
            UserAction::Guide(a) => match &mut self.journey {
                Journey::Guide(g) => {
                    let (out, exit) = g.on_action(a, ctx, self.id);
                    if let Some(GuideExit::Apply { one_thing }) = exit {
                        self.start(JourneyKind::Apply, Some(&one_thing));
                    }
                    out
                }
                _ => Out::default(),
            },
            UserAction::Evaluate(a) => match &mut self.journey {
                Journey::Evaluate(e) => e.on_action(a, ctx, self.id),
                _ => Out::default(),
            },
            UserAction::Card(a) => {
                let blocked = self.availability.blocked(JourneyKind::CardIssue);
                let cc = CardCtx {
                    session: self.id,
                    elder: self.elder,
                    blocked: blocked.as_ref(),
                };
                match &mut self.journey {
                    Journey::CardIssue(c) => c.on_action(a, ctx, cc),
                    _ => Out::default(),
                }
            }
            UserAction::Locker(a) => match &mut self.journey {
                Journey::Locker(l) => l.on_action(a, self.id),
                _ => Out::default(),
            },
            UserAction::Staff(a) => match &mut self.journey {
                Journey::Staff(s) => s.on_action(a, self.id),
                _ => Out::default(),
            },
        };
        effects.extend(self.finish(out, ctx));
        keep_last_idle_timer(effects)
    }

    fn start(&mut self, kind: JourneyKind, one_thing: Option<&str>) {
        if let Some(reason) = self.availability.blocked(kind) {
            self.journey = Journey::OutOfService {
                journey: kind,
                reason,
            };
            return;
        }
        self.journey = match kind {
            JourneyKind::Apply => Journey::Apply(Box::new(
                one_thing.map_or_else(Apply::default, Apply::for_one_thing),
            )),
            JourneyKind::Progress => Journey::Progress(Progress::default()),
            JourneyKind::Guide => Journey::Guide(Guide::default()),
            JourneyKind::Evaluate => Journey::Evaluate(Evaluate::new(None)),
            JourneyKind::CardIssue => Journey::CardIssue(Box::new(IssueCard::new())),
            JourneyKind::Locker => Journey::Locker(Pickup::default()),
            JourneyKind::Staff => Journey::Staff(Box::default()),
        };
    }

    /// Applies a journey's exit, if it asked for one.
    fn finish(&mut self, out: Out, ctx: &Ctx<'_>) -> Vec<Effect> {
        let mut effects = out.effects;
        match out.exit {
            None => {}
            Some(Exit::Home) => effects.extend(self.reset()),
            Some(Exit::OfferEvaluation { application_number }) => {
                self.journey = Journey::Evaluate(Evaluate::new(application_number));
                effects.extend(self.arm_idle(ctx));
            }
            Some(Exit::OfferCard {
                application_id,
                application_number,
                delivery,
            }) => {
                let blocked = self.availability.blocked(JourneyKind::CardIssue);
                let cc = CardCtx {
                    session: self.id,
                    elder: self.elder,
                    blocked: blocked.as_ref(),
                };
                let (journey, out) = IssueCard::for_application(
                    application_id,
                    application_number,
                    delivery,
                    ctx,
                    cc,
                );
                self.journey = Journey::CardIssue(Box::new(journey));
                effects.extend(out.effects);
                effects.extend(self.arm_idle(ctx));
            }
        }
        effects
    }

    /// True while a card is out of the hopper for the journey under way.
    fn holds_card(&self) -> bool {
        matches!(&self.journey, Journey::CardIssue(c) if c.holds_card())
    }

    /// Any touch: leave the warning, and restart the idle delay.
    fn touched(&mut self, ctx: &Ctx<'_>) -> Vec<Effect> {
        let mut effects = Vec::new();
        if let Idle::Warning { .. } = self.idle {
            self.idle = Idle::Active;
            effects.push(Effect::CancelTimer(TimerId::IdleTick));
        }
        if !matches!(self.journey, Journey::Home) {
            effects.extend(self.arm_idle(ctx));
        }
        effects
    }

    fn arm_idle(&self, ctx: &Ctx<'_>) -> Vec<Effect> {
        vec![Effect::StartTimer {
            id: TimerId::IdleWarning,
            after: ctx.delays.warning(self.elder),
        }]
    }

    fn on_idle_timer(&mut self, ctx: &Ctx<'_>) -> Vec<Effect> {
        if matches!(self.journey, Journey::Home) {
            return Vec::new();
        }
        if self.journey.is_busy() {
            // A device is working for the resident: wait for it, then start counting again.
            return self.arm_idle(ctx);
        }
        let seconds = u32::try_from(ctx.delays.reset(self.elder).as_secs())
            .unwrap_or(u32::MAX)
            .max(1);
        self.idle = Idle::Warning { remaining: seconds };
        vec![Effect::StartTimer {
            id: TimerId::IdleTick,
            after: ctx.delays.countdown_tick,
        }]
    }

    fn on_tick(&mut self, ctx: &Ctx<'_>) -> Vec<Effect> {
        let Idle::Warning { remaining } = self.idle else {
            return Vec::new();
        };
        let left = remaining.saturating_sub(1);
        if left == 0 {
            return self.reset();
        }
        self.idle = Idle::Warning { remaining: left };
        vec![Effect::StartTimer {
            id: TimerId::IdleTick,
            after: ctx.delays.countdown_tick,
        }]
    }

    /// Ends the session: everything of this resident is dropped (personal data is wiped from
    /// memory as it drops), the screen returns home in the default language, and the runtime
    /// clears scans, print jobs and every UI model.
    fn reset(&mut self) -> Vec<Effect> {
        let ended = self.id;
        self.id = SessionId(self.id.0 + 1);
        self.journey = Journey::Home;
        self.idle = Idle::Active;
        self.english = self.default_english;
        self.elder = false;
        vec![
            Effect::CancelTimer(TimerId::IdleWarning),
            Effect::CancelTimer(TimerId::IdleTick),
            Effect::EndSession { session: ended },
        ]
    }
}
