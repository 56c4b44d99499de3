//! Locker pickup, written into `LockerPage`. Only the compartment label and the names of
//! the documents are shown; nothing personal.

use kiosk_ui as ui;
use slint::{ComponentHandle, SharedString};

use super::render::{Lang, Models};
use super::sync;
use crate::domain::text::Bilingual;
use crate::flows::locker::{Pickup, PickupStage};

/// Fills the page; returns the screen and the message for the message bar (a message the
/// page shows as its reason is not repeated there).
pub(super) fn locker<'a>(
    window: &ui::MainWindow,
    models: &Models,
    lang: Lang,
    l: &'a Pickup,
) -> (ui::Screen, Option<&'a Bilingual>) {
    let g = window.global::<ui::LockerPage>();
    let stage = match l.stage {
        PickupStage::Choose => ui::LockerStage::Choose,
        PickupStage::WaitCard => ui::LockerStage::WaitCard,
        PickupStage::EnterCode => ui::LockerStage::EnterCode,
        PickupStage::Looking | PickupStage::Opening => ui::LockerStage::Opening,
        PickupStage::Open => ui::LockerStage::Opened,
        PickupStage::Done => ui::LockerStage::Done,
        PickupStage::Nothing => ui::LockerStage::Nothing,
        PickupStage::Fault => ui::LockerStage::Fault,
    };
    g.set_stage(stage);
    g.set_code(l.code.as_str().into());
    let (compartment, contents) = match (l.stage, l.current_item()) {
        (PickupStage::Open | PickupStage::Opening, Some(item)) => (
            SharedString::from(item.compartment.as_str()),
            item.documents
                .iter()
                .map(|d| SharedString::from(d.as_str()))
                .collect(),
        ),
        _ => (SharedString::new(), Vec::new()),
    };
    g.set_compartment(compartment);
    sync(&models.locker_contents, contents);
    let as_reason = matches!(l.stage, PickupStage::Nothing | PickupStage::Fault);
    g.set_reason(if as_reason {
        l.message.as_ref().map(|m| lang.bi(m)).unwrap_or_default()
    } else {
        SharedString::new()
    });
    (
        ui::Screen::Locker,
        if as_reason { None } else { l.message.as_ref() },
    )
}

/// Leaves nothing of a pickup on the page.
pub(super) fn clear(window: &ui::MainWindow, models: &Models) {
    sync(&models.locker_contents, Vec::new());
    let g = window.global::<ui::LockerPage>();
    g.set_code(SharedString::new());
    g.set_compartment(SharedString::new());
    g.set_reason(SharedString::new());
    g.set_stage(ui::LockerStage::Choose);
}
