//! The page the flows do not have yet: staff mode. The runtime fills these views and shows them with [`super::SlintView::show_extra`];
//! the pages' callbacks arrive at [`ExtraHooks`]. When the flows gain these journeys, the
//! views become a mapping from their states, like the others in `render.rs`.

use std::rc::Rc;

use kiosk_ui as ui;
use slint::ComponentHandle;

use super::render::Models;
use super::sync;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLine {
    pub id: String,
    pub name: String,
    pub ok: bool,
    pub state: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumableLine {
    pub name: String,
    pub percent: u8,
    pub text: String,
    pub low: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompartmentLine {
    pub label: String,
    pub size: String,
    pub state: String,
    /// What is in it (application number and document), empty when free.
    pub item: String,
    pub overdue: bool,
}

/// Staff mode. The PIN typed so far is never shown; only whether the staff member is in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaffView {
    pub signed_in: bool,
    pub devices: Vec<DeviceLine>,
    pub consumables: Vec<ConsumableLine>,
    pub outbox_pending: u32,
    pub sync_state: String,
    pub platform_ok: bool,
    pub compartments: Vec<CompartmentLine>,
    /// A line at the top (a self-test result, a wrong PIN).
    pub notice: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraPage {
    Staff(StaffView),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffAction {
    Open,
    SetPin(String),
    SignIn,
    SelfTest(String),
    SyncNow,
    Load(String),
    Recall(String),
    SignOut,
}

/// Where the staff page's taps go. The runtime implements it (devices,
/// store, authentication) and answers by showing an updated [`ExtraPage`].
pub trait ExtraHooks {
    fn staff(&self, action: StaffAction);
}

/// Until the runtime has these journeys: each tile opens its page at the first step, and
/// "back"/"done" returns home. Nothing else happens.
pub struct FirstStepOnly {
    pub view: super::SlintView,
}

impl ExtraHooks for FirstStepOnly {
    fn staff(&self, action: StaffAction) {
        match action {
            StaffAction::Open => self
                .view
                .show_extra(Some(ExtraPage::Staff(StaffView::default()))),
            StaffAction::SignOut => self.view.show_extra(None),
            // The PIN is not logged, not even its length.
            _ => tracing::info!("staff mode is not connected yet"),
        }
    }
}

pub(super) fn connect(window: &ui::MainWindow, hooks: &Rc<dyn ExtraHooks>) {
    let s = window.global::<ui::StaffPage>();
    let h = hooks.clone();
    s.on_set_pin(move |p| h.staff(StaffAction::SetPin(p.into())));
    let h = hooks.clone();
    s.on_sign_in(move || h.staff(StaffAction::SignIn));
    let h = hooks.clone();
    s.on_self_test(move |d| h.staff(StaffAction::SelfTest(d.into())));
    let h = hooks.clone();
    s.on_sync_now(move || h.staff(StaffAction::SyncNow));
    let h = hooks.clone();
    s.on_load(move |c| h.staff(StaffAction::Load(c.into())));
    let h = hooks.clone();
    s.on_recall(move |c| h.staff(StaffAction::Recall(c.into())));
    let h = hooks.clone();
    s.on_sign_out(move || h.staff(StaffAction::SignOut));
}

/// Writes `page` into its global, and empties the others' lists (nothing of one resident
/// stays in a page that is not shown).
#[allow(clippy::too_many_lines)] // one block per page, each a plain copy of its view
pub(super) fn fill(window: &ui::MainWindow, models: &Models, page: Option<&ExtraPage>) {
    let staff = match page {
        Some(ExtraPage::Staff(v)) => v.clone(),
        _ => StaffView::default(),
    };
    let s = window.global::<ui::StaffPage>();
    s.set_signed_in(staff.signed_in);
    s.set_outbox_pending(i32::try_from(staff.outbox_pending).unwrap_or(i32::MAX));
    s.set_sync_state(staff.sync_state.as_str().into());
    s.set_platform_ok(staff.platform_ok);
    s.set_notice(staff.notice.as_str().into());
    sync(
        &models.staff_devices,
        staff
            .devices
            .iter()
            .map(|d| ui::DeviceRow {
                id: d.id.as_str().into(),
                name: d.name.as_str().into(),
                ok: d.ok,
                state: d.state.as_str().into(),
                detail: d.detail.as_str().into(),
            })
            .collect(),
    );
    sync(
        &models.consumables,
        staff
            .consumables
            .iter()
            .map(|c| ui::Consumable {
                name: c.name.as_str().into(),
                percent: i32::from(c.percent),
                text: c.text.as_str().into(),
                low: c.low,
            })
            .collect(),
    );
    sync(
        &models.compartments,
        staff
            .compartments
            .iter()
            .map(|c| ui::Compartment {
                label: c.label.as_str().into(),
                size: c.size.as_str().into(),
                state: c.state.as_str().into(),
                item: c.item.as_str().into(),
                overdue: c.overdue,
            })
            .collect(),
    );
}
