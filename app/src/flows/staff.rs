//! Staff mode, behind a work id and PIN (checked against an argon2 hash, locked after repeated
//! failures): the state of the devices, the outbox and the platform, and the lockers. Loading
//! a finished application: staff choose it from the platform's list, the kiosk assigns the
//! smallest free compartment that fits and opens it; when the door shuts the deposit is
//! recorded and the platform texts the resident a pickup code. Recall empties a compartment
//! under the same door checks.

use zeroize::Zeroizing;

use super::SessionId;
use super::apply::{Exit, Out};
use crate::bi;
use crate::domain::locker::{ReadyApplication, Size};
use crate::domain::text::Bilingual;
use crate::store::{SignIn, StaffMember};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffStage {
    SignIn,
    /// The PIN is being checked.
    Checking,
    Overview,
    /// Which finished application goes into the locker?
    ChooseReady,
    /// A door is open for loading or recall; waiting for it to shut.
    Working,
}

#[derive(Debug, Clone)]
pub enum StaffAction {
    SetId(String),
    SetPin(String),
    SignIn,
    Refresh,
    SelfTest(String),
    SyncNow,
    /// Start loading: list the applications ready for this locker.
    Load,
    ChooseReady(usize),
    Recall(String),
    Cancel,
    SignOut,
}

/// One compartment as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompartmentView {
    pub label: String,
    pub size: Size,
    /// The case number and masked applicant of what is inside; `None` when free.
    pub item: Option<String>,
    /// Overdue for recall, or needing a check (jammed, interrupted).
    pub attention: Option<String>,
}

/// What staff see besides the devices (which the session's availability already knows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffOverview {
    pub outbox_pending: u64,
    pub outbox_failing: u64,
    pub compartments: Vec<CompartmentView>,
    /// Open locker alerts, in plain words.
    pub alerts: Vec<String>,
}

#[derive(Clone)]
pub enum StaffEffect {
    SignIn {
        session: SessionId,
        id: String,
        pin: Zeroizing<String>,
    },
    Overview {
        session: SessionId,
    },
    SelfTest {
        session: SessionId,
        device: String,
    },
    SyncNow {
        session: SessionId,
    },
    FetchReady {
        session: SessionId,
    },
    Deposit {
        session: SessionId,
        staff: String,
        compartment: String,
        ready: Box<ReadyApplication>,
    },
    Recall {
        session: SessionId,
        staff: String,
        compartment: String,
    },
}

impl std::fmt::Debug for StaffEffect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the PIN.
        let name = match self {
            StaffEffect::SignIn { .. } => "SignIn",
            StaffEffect::Overview { .. } => "Overview",
            StaffEffect::SelfTest { .. } => "SelfTest",
            StaffEffect::SyncNow { .. } => "SyncNow",
            StaffEffect::FetchReady { .. } => "FetchReady",
            StaffEffect::Deposit { .. } => "Deposit",
            StaffEffect::Recall { .. } => "Recall",
        };
        f.write_str(name)
    }
}

#[derive(Debug, Clone)]
pub enum StaffCompletion {
    SignedIn(Result<SignIn, Bilingual>),
    Overview(Result<StaffOverview, Bilingual>),
    /// A self-test, a sync, a deposit or a recall ended; what happened, for staff.
    Notice(Bilingual),
    Ready(Result<Vec<ReadyApplication>, Bilingual>),
}

#[derive(Debug, Clone)]
pub struct StaffMode {
    pub stage: StaffStage,
    pub staff_id: String,
    pin: Zeroizing<String>,
    pub member: Option<StaffMember>,
    pub overview: StaffOverview,
    pub ready: Vec<ReadyApplication>,
    /// A line at the top: a wrong PIN, a self-test result, a deposit done.
    pub notice: Option<Bilingual>,
}

impl Default for StaffMode {
    fn default() -> Self {
        StaffMode {
            stage: StaffStage::SignIn,
            staff_id: String::new(),
            pin: Zeroizing::new(String::new()),
            member: None,
            overview: StaffOverview::default(),
            ready: Vec::new(),
            notice: None,
        }
    }
}

fn out(e: StaffEffect) -> Out {
    Out {
        effects: vec![super::Effect::Staff(e)],
        exit: None,
    }
}

fn size_rank(s: Size) -> u8 {
    match s {
        Size::S => 0,
        Size::M => 1,
        Size::L => 2,
    }
}

/// The smallest free compartment that fits `need` (then by label), if any.
pub fn assign(compartments: &[CompartmentView], need: Size) -> Option<&CompartmentView> {
    compartments
        .iter()
        .filter(|c| c.item.is_none() && size_rank(c.size) >= size_rank(need))
        .min_by(|a, b| {
            size_rank(a.size)
                .cmp(&size_rank(b.size))
                .then_with(|| a.label.cmp(&b.label))
        })
}

impl StaffMode {
    pub fn is_busy(&self) -> bool {
        self.stage == StaffStage::Checking
    }

    pub fn on_action(&mut self, action: StaffAction, session: SessionId) -> Out {
        let signed_in = self.member.clone();
        match (action, self.stage, signed_in) {
            (StaffAction::SetId(id), StaffStage::SignIn, _) => {
                self.staff_id = id
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(32)
                    .collect();
            }
            (StaffAction::SetPin(pin), StaffStage::SignIn, _) => {
                self.pin =
                    Zeroizing::new(pin.chars().filter(char::is_ascii_digit).take(12).collect());
            }
            (StaffAction::SignIn, StaffStage::SignIn, _) => {
                if self.staff_id.is_empty() || self.pin.len() < 6 {
                    self.notice = Some(bi!(
                        "请输入工号和6至12位数字密码",
                        "Enter your staff number and your 6 to 12 digit PIN"
                    ));
                    return Out::default();
                }
                self.stage = StaffStage::Checking;
                self.notice = None;
                let pin = std::mem::replace(&mut self.pin, Zeroizing::new(String::new()));
                return out(StaffEffect::SignIn {
                    session,
                    id: self.staff_id.clone(),
                    pin,
                });
            }
            (StaffAction::Refresh, StaffStage::Overview, Some(_)) => {
                return out(StaffEffect::Overview { session });
            }
            (StaffAction::SelfTest(device), StaffStage::Overview, Some(_)) => {
                return out(StaffEffect::SelfTest { session, device });
            }
            (StaffAction::SyncNow, StaffStage::Overview, Some(_)) => {
                return out(StaffEffect::SyncNow { session });
            }
            (StaffAction::Load, StaffStage::Overview, Some(_)) => {
                self.notice = None;
                return out(StaffEffect::FetchReady { session });
            }
            (StaffAction::ChooseReady(i), StaffStage::ChooseReady, Some(member)) => {
                let Some(ready) = self.ready.get(i).cloned() else {
                    return Out::default();
                };
                let Some(target) = assign(&self.overview.compartments, ready.size) else {
                    self.notice = Some(bi!(
                        "没有大小合适的空柜门，请先取回超期的证件",
                        "No free compartment of that size: recall overdue items first"
                    ));
                    self.stage = StaffStage::Overview;
                    return Out::default();
                };
                let compartment = target.label.clone();
                self.stage = StaffStage::Working;
                self.notice = Some(Bilingual {
                    zh: format!("{compartment} 号柜门正在打开：放入证件后请关好柜门"),
                    en: format!("Door {compartment} is opening: put the documents in and shut it"),
                });
                return out(StaffEffect::Deposit {
                    session,
                    staff: member.id,
                    compartment,
                    ready: Box::new(ready),
                });
            }
            (StaffAction::Recall(compartment), StaffStage::Overview, Some(member)) => {
                let occupied = self
                    .overview
                    .compartments
                    .iter()
                    .any(|c| c.label == compartment && c.item.is_some());
                if !occupied {
                    return Out::default();
                }
                self.stage = StaffStage::Working;
                self.notice = Some(Bilingual {
                    zh: format!("{compartment} 号柜门正在打开：取出证件后请关好柜门"),
                    en: format!(
                        "Door {compartment} is opening: take the documents out and shut it"
                    ),
                });
                return out(StaffEffect::Recall {
                    session,
                    staff: member.id,
                    compartment,
                });
            }
            (StaffAction::Cancel, StaffStage::ChooseReady, _) => {
                self.ready.clear();
                self.stage = StaffStage::Overview;
            }
            (StaffAction::SignOut, stage, _) if stage != StaffStage::Working => {
                return Out {
                    effects: Vec::new(),
                    exit: Some(Exit::Home),
                };
            }
            _ => {}
        }
        Out::default()
    }

    pub fn on_completion(&mut self, done: StaffCompletion, session: SessionId) -> Out {
        match done {
            StaffCompletion::SignedIn(result) if self.stage == StaffStage::Checking => match result
            {
                Ok(SignIn::Ok(member)) => {
                    self.member = Some(member);
                    self.stage = StaffStage::Overview;
                    return out(StaffEffect::Overview { session });
                }
                Ok(SignIn::Denied { attempts_left }) => {
                    self.stage = StaffStage::SignIn;
                    self.notice = Some(Bilingual {
                        zh: format!("工号或密码不对，还可以再试{attempts_left}次"),
                        en: format!("Wrong staff number or PIN; {attempts_left} more tries"),
                    });
                }
                Ok(SignIn::LockedOut { .. }) => {
                    self.stage = StaffStage::SignIn;
                    self.notice = Some(bi!(
                        "密码输错次数太多，账号已暂时锁定，请15分钟后再试",
                        "Too many wrong PINs: the account is locked for 15 minutes"
                    ));
                }
                Err(reason) => {
                    self.stage = StaffStage::SignIn;
                    self.notice = Some(reason);
                }
            },
            StaffCompletion::Overview(Ok(overview)) if self.member.is_some() => {
                self.overview = overview;
            }
            StaffCompletion::Overview(Err(reason)) if self.member.is_some() => {
                self.notice = Some(reason);
            }
            StaffCompletion::Notice(text) if self.member.is_some() => {
                self.notice = Some(text);
                if self.stage == StaffStage::Working {
                    self.stage = StaffStage::Overview;
                }
                return out(StaffEffect::Overview { session });
            }
            StaffCompletion::Ready(result) if self.stage == StaffStage::Overview => match result {
                Ok(list) if list.is_empty() => {
                    self.notice = Some(bi!(
                        "平台上没有待放入本机取件柜的证件",
                        "The platform has nothing to load into this locker"
                    ));
                }
                Ok(list) => {
                    self.ready = list;
                    self.stage = StaffStage::ChooseReady;
                }
                Err(reason) => self.notice = Some(reason),
            },
            _ => {}
        }
        Out::default()
    }
}
