//! Which journeys can run now, given the devices and the platform. A device or platform
//! failure switches off only the journeys that need it, with the reason in plain words.

use std::collections::BTreeMap;

use kiosk_dispenser::{HopperLevel, RejectBin};
use kiosk_link::{DeviceState, DeviceStatus};

use super::event::JourneyKind;
use crate::bi;
use crate::domain::text::Bilingual;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceClass {
    IdCard,
    Printer,
    Scanner,
    Dispenser,
    Encoder,
    CardPrinter,
    Locker,
}

impl DeviceClass {
    fn out_of_order(self) -> Bilingual {
        match self {
            DeviceClass::IdCard => bi!(
                "身份证阅读器暂时不能使用",
                "The ID card reader is not working right now"
            ),
            DeviceClass::Printer => bi!("打印机暂时不能打印", "The printer cannot print right now"),
            DeviceClass::Scanner => {
                bi!("扫描仪暂时不能使用", "The scanner is not working right now")
            }
            DeviceClass::Dispenser | DeviceClass::Encoder | DeviceClass::CardPrinter => {
                bi!(
                    "制卡设备暂时不能使用",
                    "The card-making unit is not working right now"
                )
            }
            DeviceClass::Locker => bi!(
                "取件柜暂时不能使用",
                "The lockers are not working right now"
            ),
        }
    }
}

/// The devices and the platform as last reported.
#[derive(Debug, Clone, Default)]
pub struct Availability {
    devices: BTreeMap<DeviceClass, DeviceStatus>,
    platform_reachable: bool,
    /// The card dispenser's hopper and reject bin (`None` until reported).
    card_stock: Option<(HopperLevel, RejectBin)>,
}

impl Availability {
    /// Every device online and the platform reachable (the state before any report).
    pub fn all_up() -> Self {
        Availability {
            devices: BTreeMap::new(),
            platform_reachable: true,
            card_stock: None,
        }
    }

    pub fn set_device(&mut self, device: DeviceClass, status: DeviceStatus) {
        self.devices.insert(device, status);
    }

    pub fn set_card_stock(&mut self, hopper: HopperLevel, reject_bin: RejectBin) {
        self.card_stock = Some((hopper, reject_bin));
    }

    pub fn set_platform(&mut self, reachable: bool) {
        self.platform_reachable = reachable;
    }

    pub fn platform_reachable(&self) -> bool {
        self.platform_reachable
    }

    /// Every device reported so far, for the staff screen.
    pub fn devices(&self) -> impl Iterator<Item = (DeviceClass, &DeviceStatus)> {
        self.devices.iter().map(|(d, s)| (*d, s))
    }

    /// The card dispenser's hopper and reject bin, once reported.
    pub fn card_stock(&self) -> Option<(HopperLevel, RejectBin)> {
        self.card_stock
    }

    pub fn device_ok(&self, device: DeviceClass) -> bool {
        self.devices
            .get(&device)
            .is_none_or(|s| s.state.is_usable())
    }

    /// `None` when the journey can run; otherwise why not, in plain words.
    pub fn blocked(&self, journey: JourneyKind) -> Option<Bilingual> {
        let needs: &[DeviceClass] = match journey {
            // The acceptance notice must print: a resident leaves with paper.
            JourneyKind::Apply => &[DeviceClass::IdCard, DeviceClass::Printer],
            JourneyKind::Progress
            | JourneyKind::Guide
            | JourneyKind::Evaluate
            | JourneyKind::Staff => &[],
            JourneyKind::Locker => &[DeviceClass::Locker],
            JourneyKind::CardIssue => &[
                DeviceClass::IdCard,
                DeviceClass::Dispenser,
                DeviceClass::Encoder,
                DeviceClass::CardPrinter,
            ],
        };
        if let Some(device) = needs.iter().find(|d| !self.device_ok(**d)) {
            return Some(device.out_of_order());
        }
        if journey == JourneyKind::CardIssue
            && let Some(reason) = self.card_blocked()
        {
            return Some(reason);
        }
        if journey == JourneyKind::Progress && !self.platform_reachable {
            return Some(bi!(
                "暂时连不上政务服务平台，现在查不了进度。请稍后再试，或拨打咨询电话。",
                "The government service platform cannot be reached, so progress cannot be checked now. Please try later or call the help line."
            ));
        }
        None
    }

    /// Why cards cannot be made now besides the devices: stock out, reject bin full, or the
    /// platform (which holds the card data and the card bureau) unreachable.
    fn card_blocked(&self) -> Option<Bilingual> {
        match self.card_stock {
            Some((HopperLevel::Empty, _)) => {
                return Some(bi!(
                    "本机的空白社保卡已用完，暂时不能现场制卡，已通知工作人员。社保卡可到综合窗口申领，统一制作后放入取件柜。",
                    "This kiosk has run out of blank cards, so cards cannot be made here now; staff have been told. You can apply at the service window and the card will be made centrally and put in the locker."
                ));
            }
            Some((_, RejectBin::Full)) => {
                return Some(bi!(
                    "制卡设备需要工作人员维护，暂时不能现场制卡，已通知工作人员。社保卡可到综合窗口申领。",
                    "The card-making unit needs staff attention, so cards cannot be made here now; staff have been told. You can apply for the card at the service window."
                ));
            }
            _ => {}
        }
        (!self.platform_reachable).then(|| {
            bi!(
                "暂时连不上社保制卡系统，现在不能制卡。请稍后再试，或到综合窗口办理。",
                "The card system cannot be reached, so no card can be made now. Please try later or go to the service window."
            )
        })
    }

    /// The devices that are not usable, for the staff screen.
    pub fn faults(&self) -> impl Iterator<Item = (DeviceClass, &DeviceStatus)> {
        self.devices
            .iter()
            .filter(|(_, s)| s.state != DeviceState::Online && s.state != DeviceState::Busy)
            .map(|(d, s)| (*d, s))
    }
}
