//! Which journeys can run now, given the devices and the platform. A device or platform
//! failure switches off only the journeys that need it, with the reason in plain words.

use std::collections::BTreeMap;

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
}

impl Availability {
    /// Every device online and the platform reachable (the state before any report).
    pub fn all_up() -> Self {
        Availability {
            devices: BTreeMap::new(),
            platform_reachable: true,
        }
    }

    pub fn set_device(&mut self, device: DeviceClass, status: DeviceStatus) {
        self.devices.insert(device, status);
    }

    pub fn set_platform(&mut self, reachable: bool) {
        self.platform_reachable = reachable;
    }

    pub fn platform_reachable(&self) -> bool {
        self.platform_reachable
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
            JourneyKind::Progress | JourneyKind::Guide | JourneyKind::Evaluate => &[],
        };
        if let Some(device) = needs.iter().find(|d| !self.device_ok(**d)) {
            return Some(device.out_of_order());
        }
        if journey == JourneyKind::Progress && !self.platform_reachable {
            return Some(bi!(
                "暂时连不上政务服务平台，现在查不了进度。请稍后再试，或拨打咨询电话。",
                "The government service platform cannot be reached, so progress cannot be checked now. Please try later or call the help line."
            ));
        }
        None
    }

    /// The devices that are not usable, for the staff screen.
    pub fn faults(&self) -> impl Iterator<Item = (DeviceClass, &DeviceStatus)> {
        self.devices
            .iter()
            .filter(|(_, s)| s.state != DeviceState::Online && s.state != DeviceState::Busy)
            .map(|(d, s)| (*d, s))
    }
}
