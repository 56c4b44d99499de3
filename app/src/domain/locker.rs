//! Certificate lockers as the service sees them: what is in a compartment and in what state,
//! how a resident identifies themselves to it, what an attempt to open a door came to, and
//! which free compartment fits an item. No I/O here.

use std::fmt;
use std::time::Duration;

pub use kiosk_locker::Size;
use serde::{Deserialize, Serialize};

/// Pickup codes are this many random digits.
pub const CODE_DIGITS: usize = 8;

/// Where an item stands. Final states (`Collected`, `Recalled`, `Cancelled`) free the
/// compartment; the others hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemState {
    /// Staff is loading it: the door is being opened or is open.
    Depositing,
    /// In the compartment; the pickup code is valid.
    InLocker,
    /// A resident is collecting it: the door is being opened or is open.
    Collecting,
    Collected,
    /// Staff is taking it back: the door is being opened or is open.
    Recalling,
    Recalled,
    /// The door did not open when asked: staff must look (never retried by itself).
    Jammed,
    /// Something was under way when the kiosk stopped, or a board stopped answering after
    /// an unlock: staff must look.
    Check,
    /// A loading that never happened (the door did not open, or staff emptied it after a
    /// restart): the compartment is free again.
    Cancelled,
}

impl ItemState {
    pub const ALL: [ItemState; 9] = [
        ItemState::Depositing,
        ItemState::InLocker,
        ItemState::Collecting,
        ItemState::Collected,
        ItemState::Recalling,
        ItemState::Recalled,
        ItemState::Jammed,
        ItemState::Check,
        ItemState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Depositing => "depositing",
            ItemState::InLocker => "in_locker",
            ItemState::Collecting => "collecting",
            ItemState::Collected => "collected",
            ItemState::Recalling => "recalling",
            ItemState::Recalled => "recalled",
            ItemState::Jammed => "jammed",
            ItemState::Check => "check",
            ItemState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True while an operation on the door is under way.
    pub fn is_in_progress(self) -> bool {
        matches!(
            self,
            ItemState::Depositing | ItemState::Collecting | ItemState::Recalling
        )
    }

    /// True when staff must look at it.
    pub fn needs_staff(self) -> bool {
        matches!(self, ItemState::Jammed | ItemState::Check)
    }
}

/// An item in (or once in) a compartment. No personal data: the applicant's name is masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockerItem {
    pub id: uuid::Uuid,
    pub application_id: uuid::Uuid,
    pub case_number: String,
    /// The compartment's label, e.g. `A03`.
    pub compartment: String,
    pub state: ItemState,
    pub applicant_masked: String,
    /// What is in it (e.g. `居民户口簿`).
    pub documents: Vec<String>,
    pub size: Size,
    pub deposited_ms: Option<i64>,
    /// Why staff must look, or what happened last (plain words for staff).
    pub note: Option<String>,
}

/// A finished application the platform says should go into this kiosk's locker.
#[derive(Clone, PartialEq, Eq)]
pub struct ReadyApplication {
    pub application_id: uuid::Uuid,
    pub case_number: String,
    pub applicant_masked: String,
    /// The platform's SHA-256 of every applicant's and proxy's ID number.
    pub holder_hashes: Vec<String>,
    pub documents: Vec<String>,
    pub size: Size,
    pub ready_since_ms: i64,
}

impl fmt::Debug for ReadyApplication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyApplication")
            .field("application_id", &self.application_id)
            .field("case_number", &self.case_number)
            .field("documents", &self.documents.len())
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// How a resident asks for their documents.
#[derive(Clone, PartialEq, Eq)]
pub enum PickupKey {
    /// An ID card was read: the applicant or a proxy named on the application.
    Card { id_number: String, name: String },
    /// The 8-digit code from the SMS.
    Code(String),
}

impl fmt::Debug for PickupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PickupKey::Card { id_number, .. } => {
                write!(
                    f,
                    "Card({})",
                    kiosk_platform::mask::mask_id_number(id_number)
                )
            }
            PickupKey::Code(_) => f.write_str("Code(********)"),
        }
    }
}

impl PickupKey {
    /// Who is asking, as the audit log names them.
    pub fn actor(&self) -> Actor {
        match self {
            PickupKey::Card { id_number, .. } => Actor::Resident {
                masked_id: Some(kiosk_platform::mask::mask_id_number(id_number)),
            },
            PickupKey::Code(_) => Actor::Resident { masked_id: None },
        }
    }
}

/// What a pickup look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupLookup {
    /// The resident's items (each in its own compartment).
    Found(Vec<LockerItem>),
    /// Nothing for this card or code. For codes: how many more wrong codes before the
    /// cool-down.
    NotFound { attempts_left: Option<u32> },
    /// Too many wrong codes: no code is checked until then (Unix ms).
    CoolDown { until_ms: i64 },
    /// There is an item, but its compartment needs staff first (jammed, or being checked).
    NeedsStaff,
}

/// Who does something at the locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    /// `masked_id` when identified by ID card; `None` when by pickup code.
    Resident {
        masked_id: Option<String>,
    },
    Staff {
        id: String,
    },
}

impl Actor {
    /// The audit log's name: `resident:3604**********0071`, `resident:code`, `staff:S001`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Resident { masked_id: Some(m) } => format!("resident:{m}"),
            Actor::Resident { masked_id: None } => "resident:code".to_owned(),
            Actor::Staff { id } => format!("staff:{id}"),
        }
    }
}

/// What a door is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    Deposit,
    Pickup,
    Recall,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Deposit => "deposit",
            Operation::Pickup => "pickup",
            Operation::Recall => "recall",
        }
    }

    /// The state an item is in while the door is open for this operation.
    pub fn state(self) -> ItemState {
        match self {
            Operation::Deposit => ItemState::Depositing,
            Operation::Pickup => ItemState::Collecting,
            Operation::Recall => ItemState::Recalling,
        }
    }
}

/// What asking a door to open came to (the driver's outcome, or why nothing was sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpenResult {
    /// The sensor said open after the unlock.
    Opened,
    /// The door was already open; nothing was sent.
    AlreadyOpen,
    /// Unlocked, but the sensor kept saying closed: jammed.
    Jammed,
    /// The board stopped answering; `unlock_sent` when the lock may have moved.
    NoReply { unlock_sent: bool },
    /// The locker could not be asked (offline, not fitted, the door busy): nothing sent.
    Unavailable,
}

impl OpenResult {
    pub fn door_open(self) -> bool {
        matches!(self, OpenResult::Opened | OpenResult::AlreadyOpen)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OpenResult::Opened => "opened",
            OpenResult::AlreadyOpen => "already_open",
            OpenResult::Jammed => "jammed",
            OpenResult::NoReply { unlock_sent: true } => "no_reply_after_unlock",
            OpenResult::NoReply { unlock_sent: false } => "no_reply",
            OpenResult::Unavailable => "unavailable",
        }
    }
}

impl From<kiosk_locker::OpenOutcome> for OpenResult {
    fn from(o: kiosk_locker::OpenOutcome) -> Self {
        use kiosk_locker::OpenOutcome as O;
        match o {
            O::Opened => OpenResult::Opened,
            O::AlreadyOpen => OpenResult::AlreadyOpen,
            O::Jammed => OpenResult::Jammed,
            O::NoReply { .. } => OpenResult::NoReply {
                unlock_sent: o.unlock_sent(),
            },
        }
    }
}

/// The wrong-code limit (kiosk-wide: a code carries no identity to count per person).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimits {
    /// Wrong codes allowed within `window`; the next one starts the cool-down.
    pub attempts_per_window: u32,
    pub window: Duration,
    pub cooldown: Duration,
}

impl Default for CodeLimits {
    fn default() -> Self {
        CodeLimits {
            attempts_per_window: 5,
            window: Duration::from_mins(10),
            cooldown: Duration::from_mins(15),
        }
    }
}

/// Kinds of staff alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertKind {
    /// A door opened without an unlock from the kiosk (forced, or found open at start).
    UncommandedOpen,
    /// A door stayed open too long.
    DoorLeftOpen,
    /// An unlock did not open the door.
    Jammed,
    /// A board stopped answering during an open.
    NoReply,
    /// The kiosk restarted while a door was being opened or was open.
    RestartCheck,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::UncommandedOpen => "uncommanded_open",
            AlertKind::DoorLeftOpen => "door_left_open",
            AlertKind::Jammed => "jammed",
            AlertKind::NoReply => "no_reply",
            AlertKind::RestartCheck => "restart_check",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        [
            AlertKind::UncommandedOpen,
            AlertKind::DoorLeftOpen,
            AlertKind::Jammed,
            AlertKind::NoReply,
            AlertKind::RestartCheck,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An open staff alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockerAlert {
    pub id: i64,
    pub at_ms: i64,
    pub kind: AlertKind,
    pub compartment: String,
    /// Plain words for staff (no personal data).
    pub detail: String,
}

/// One compartment as the deposit assignment sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompartmentView {
    pub label: String,
    pub size: Size,
    /// No item in it, its door reads closed on an answering board, and no jam is open.
    pub free: bool,
}

/// The free compartment for an item of size `need`: the smallest size that fits, then the
/// first in bank order. `None` when nothing fits.
pub fn choose_compartment(need: Size, compartments: &[CompartmentView]) -> Option<String> {
    compartments
        .iter()
        .filter(|c| c.free && c.size >= need)
        .min_by_key(|c| c.size)
        .map(|c| c.label.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(label: &str, size: Size, free: bool) -> CompartmentView {
        CompartmentView {
            label: label.into(),
            size,
            free,
        }
    }

    #[test]
    fn the_smallest_free_compartment_that_fits_is_chosen() {
        let bank = [
            c("A01", Size::S, false),
            c("A02", Size::S, true),
            c("A05", Size::M, true),
            c("A07", Size::L, true),
        ];
        assert_eq!(choose_compartment(Size::S, &bank).as_deref(), Some("A02"));
        assert_eq!(choose_compartment(Size::M, &bank).as_deref(), Some("A05"));
        assert_eq!(choose_compartment(Size::L, &bank).as_deref(), Some("A07"));
        let full = [c("A01", Size::S, true), c("A05", Size::M, false)];
        assert_eq!(choose_compartment(Size::M, &full), None);
    }

    #[test]
    fn keys_and_actors_never_show_the_number_or_code() {
        let card = PickupKey::Card {
            id_number: "360426199101010071".into(),
            name: "王测试".into(),
        };
        assert_eq!(format!("{card:?}"), "Card(3604**********0071)");
        assert_eq!(card.actor().audit_name(), "resident:3604**********0071");
        let code = PickupKey::Code("12345678".into());
        assert!(!format!("{code:?}").contains("1234"));
        assert_eq!(code.actor().audit_name(), "resident:code");
        for s in ItemState::ALL {
            assert_eq!(ItemState::parse(s.as_str()), Some(s));
        }
    }
}
