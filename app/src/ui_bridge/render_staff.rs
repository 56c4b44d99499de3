//! Staff mode, written into `StaffPage`: the devices from the session's availability, the
//! rest from the flow's overview. Staff mode is the one place that shows case numbers next to
//! masked names; nothing else personal.

use kiosk_dispenser::{HopperLevel, RejectBin};
use kiosk_link::DeviceState;
use kiosk_ui as ui;
use slint::{ComponentHandle, SharedString};

use super::render::{Lang, Models};
use super::sync;
use crate::domain::locker::Size;
use crate::flows::availability::{Availability, DeviceClass};
use crate::flows::staff::{StaffMode, StaffStage};

fn device_id(d: DeviceClass) -> (&'static str, &'static str, &'static str) {
    match d {
        DeviceClass::IdCard => ("idcard", "身份证阅读器", "ID card reader"),
        DeviceClass::Printer => ("printer", "凭条打印机", "Receipt printer"),
        DeviceClass::Scanner => ("scanner", "扫描仪", "Scanner"),
        DeviceClass::Dispenser => ("dispenser", "发卡机", "Card dispenser"),
        DeviceClass::Encoder => ("encoder", "芯片写卡器", "Chip encoder"),
        DeviceClass::CardPrinter => ("card-printer", "卡面打印机", "Card printer"),
        DeviceClass::Locker => ("locker", "取件柜", "Lockers"),
    }
}

fn state_text(lang: Lang, s: DeviceState) -> SharedString {
    match s {
        DeviceState::Online => lang.t("正常", "Online"),
        DeviceState::Busy => lang.t("工作中", "Busy"),
        DeviceState::Offline => lang.t("离线", "Offline"),
        DeviceState::HardwareError => lang.t("故障", "Fault"),
        DeviceState::NoDevice => lang.t("未连接", "Not found"),
    }
}

pub(super) fn staff(
    window: &ui::MainWindow,
    models: &Models,
    lang: Lang,
    st: &StaffMode,
    availability: &Availability,
) -> ui::Screen {
    let g = window.global::<ui::StaffPage>();
    g.set_stage(match st.stage {
        StaffStage::SignIn => ui::StaffStage::SignIn,
        StaffStage::Checking => ui::StaffStage::Checking,
        StaffStage::Overview => ui::StaffStage::Overview,
        StaffStage::ChooseReady => ui::StaffStage::ChooseReady,
        StaffStage::Working => ui::StaffStage::Working,
    });
    g.set_notice(st.notice.as_ref().map(|n| lang.bi(n)).unwrap_or_default());
    g.set_staff_name(
        st.member
            .as_ref()
            .map(|m| format!("{}（{}）", m.name, m.id))
            .unwrap_or_default()
            .into(),
    );
    let signed_in = st.member.is_some();
    let devices = if signed_in {
        availability
            .devices()
            .map(|(d, status)| {
                let (id, zh, en) = device_id(d);
                ui::DeviceRow {
                    id: id.into(),
                    name: lang.t(zh, en),
                    ok: status.state.is_usable(),
                    state: state_text(lang, status.state),
                    detail: status.detail.clone().unwrap_or_default().into(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    sync(&models.staff_devices, devices);
    let consumables = match (signed_in, availability.card_stock()) {
        (true, Some((hopper, bin))) => vec![
            ui::Consumable {
                name: lang.t("空白社保卡", "Blank cards"),
                percent: match hopper {
                    HopperLevel::Empty => 0,
                    HopperLevel::Low => 15,
                    HopperLevel::Ok => 100,
                },
                text: match hopper {
                    HopperLevel::Empty => lang.t("已用完", "Empty"),
                    HopperLevel::Low => lang.t("快用完了", "Low"),
                    HopperLevel::Ok => lang.t("充足", "Enough"),
                },
                low: hopper != HopperLevel::Ok,
            },
            ui::Consumable {
                name: lang.t("废卡箱", "Reject bin"),
                percent: if bin == RejectBin::Full { 100 } else { 0 },
                text: if bin == RejectBin::Full {
                    lang.t("已满，请清空", "Full: empty it")
                } else {
                    lang.t("未满", "Not full")
                },
                low: bin == RejectBin::Full,
            },
        ],
        _ => Vec::new(),
    };
    sync(&models.consumables, consumables);
    g.set_outbox_pending(i32::try_from(st.overview.outbox_pending).unwrap_or(i32::MAX));
    g.set_outbox_retrying(i32::try_from(st.overview.outbox_failing).unwrap_or(i32::MAX));
    g.set_platform_ok(availability.platform_reachable());
    let compartments = if signed_in {
        st.overview
            .compartments
            .iter()
            .map(|c| ui::Compartment {
                label: c.label.as_str().into(),
                size: match c.size {
                    Size::S => lang.t("小格", "Small"),
                    Size::M => lang.t("中格", "Medium"),
                    Size::L => lang.t("大格", "Large"),
                },
                state: match (&c.attention, &c.item) {
                    (Some(a), _) => a.as_str().into(),
                    (None, Some(_)) => lang.t("待取", "Waiting"),
                    (None, None) => lang.t("空闲", "Free"),
                },
                item: c.item.clone().unwrap_or_default().into(),
                overdue: c.attention.is_some(),
            })
            .collect()
    } else {
        Vec::new()
    };
    sync(&models.compartments, compartments);
    let alerts = if signed_in {
        st.overview
            .alerts
            .iter()
            .map(|a| SharedString::from(a.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    sync(&models.staff_alerts, alerts);
    let ready = if st.stage == StaffStage::ChooseReady {
        st.ready
            .iter()
            .map(|r| {
                SharedString::from(format!(
                    "{}  {}  {}",
                    r.case_number,
                    r.applicant_masked,
                    r.documents.join("、")
                ))
            })
            .collect()
    } else {
        Vec::new()
    };
    sync(&models.staff_ready, ready);
    ui::Screen::Staff
}

/// Leaves nothing of staff mode on the page.
pub(super) fn clear(window: &ui::MainWindow, models: &Models) {
    sync(&models.staff_devices, Vec::new());
    sync(&models.consumables, Vec::new());
    sync(&models.compartments, Vec::new());
    sync(&models.staff_alerts, Vec::new());
    sync(&models.staff_ready, Vec::new());
    let g = window.global::<ui::StaffPage>();
    g.set_stage(ui::StaffStage::SignIn);
    g.set_staff_name(SharedString::new());
    g.set_notice(SharedString::new());
}
