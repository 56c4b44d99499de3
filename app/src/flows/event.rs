//! What happens to a session: the resident's taps, the card reader, device and platform
//! states, timers, and the answers to effects.

use std::collections::BTreeMap;

use kiosk_idcard::identity::Identity;
use kiosk_link::DeviceStatus;

use super::SessionId;
use super::apply::ApplyAction;
use super::availability::DeviceClass;
use super::effect::TimerId;
use super::evaluate::EvaluateAction;
use super::guide::GuideAction;
use super::issue_card::{CardAction, CardCompletion};
use super::progress::ProgressAction;
use crate::domain::progress::ProgressRecord;
use crate::domain::text::Bilingual;

#[derive(Debug, Clone)]
pub enum Event {
    User(UserAction),
    /// An ID card was read (validated by the reader driver).
    CardPresented(Box<Identity>),
    CardRemoved,
    /// A card was on the reader but could not be read; the reason in plain words.
    CardUnreadable(Bilingual),
    DeviceChanged {
        device: DeviceClass,
        status: DeviceStatus,
    },
    PlatformChanged {
        reachable: bool,
    },
    Timer(TimerId),
    /// The card unit's stock as the dispenser last reported it.
    CardStock {
        hopper: kiosk_dispenser::HopperLevel,
        reject_bin: kiosk_dispenser::RejectBin,
    },
    /// The answer to an effect started in `session`.
    Done {
        session: SessionId,
        completion: Completion,
    },
}

/// The journeys a resident can start from the home screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JourneyKind {
    Apply,
    Progress,
    Guide,
    Evaluate,
    /// A social security card made on the spot.
    CardIssue,
    /// Collecting finished documents from the locker.
    Locker,
    /// Staff mode (behind a PIN).
    Staff,
}

#[derive(Debug, Clone)]
pub enum UserAction {
    Start(JourneyKind),
    /// Back to the home screen (ends the journey, keeps nothing).
    Home,
    SetEnglish(bool),
    SetElder(bool),
    /// "I need more time" on the idle warning.
    StillHere,
    Apply(ApplyAction),
    Progress(ProgressAction),
    Guide(GuideAction),
    Evaluate(EvaluateAction),
    Card(CardAction),
    Locker(crate::flows::locker::PickupAction),
    Staff(crate::flows::staff::StaffAction),
}

/// Why a platform look-up gave nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupFailure {
    /// The platform answered that it has no such record.
    NotFound,
    /// The platform could not be reached or did not answer in time.
    Unavailable,
}

#[derive(Debug, Clone)]
pub enum Completion {
    Shared {
        dataset: String,
        role: String,
        result: Result<BTreeMap<String, String>, LookupFailure>,
    },
    Progress(Result<Vec<ProgressRecord>, LookupFailure>),
    /// The application and its outbox row are durably stored.
    Accepted {
        number: String,
    },
    /// It could not be stored (disk full, database damaged): nothing was accepted.
    AcceptFailed(Bilingual),
    Printed(Result<(), Bilingual>),
    ScanProgress {
        material: String,
        percent: u8,
    },
    ScanPage {
        material: String,
        page: ScannedPage,
    },
    ScanFailed {
        material: String,
        reason: Bilingual,
    },
    EvaluationSaved,
    Card(CardCompletion),
    Locker(crate::flows::locker::LockerCompletion),
    Staff(crate::flows::staff::StaffCompletion),
}

/// A scanned page: its content hash and the thumbnail to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedPage {
    pub sha256: String,
    pub thumbnail: std::path::PathBuf,
}
