//! The locker bank of `kiosk.toml` as the lock-board driver wants it.

use kiosk_locker::bank::{BoardConfig, CompartmentConfig};
use kiosk_locker::{Bank, BankConfig, CompartmentId, Polarity, Size};

use crate::config::kiosk::{CompartmentSize, LockerDevice, SensorPolarity};

fn polarity(p: SensorPolarity) -> Polarity {
    match p {
        SensorPolarity::DoorClosing => Polarity::DoorClosing,
        SensorPolarity::DoorOpening => Polarity::DoorOpening,
    }
}

/// Boards are inferred from the compartments (24 channels each, the common board).
pub fn bank(c: &LockerDevice) -> Result<Bank, String> {
    let mut boards: Vec<u8> = c.compartments.iter().map(|x| x.board).collect();
    boards.sort_unstable();
    boards.dedup();
    let config = BankConfig {
        polarity: polarity(c.polarity),
        boards: boards
            .into_iter()
            .map(|address| BoardConfig {
                address,
                channels: 24,
                polarity: None,
            })
            .collect(),
        compartments: c
            .compartments
            .iter()
            .map(|x| CompartmentConfig {
                id: CompartmentId::new(x.label.clone()),
                label: None,
                board: x.board,
                lock: x.lock,
                size: match x.size {
                    CompartmentSize::Small => Size::S,
                    CompartmentSize::Medium => Size::M,
                    CompartmentSize::Large => Size::L,
                },
                polarity: x.polarity.map(polarity),
            })
            .collect(),
    };
    config.validate().map_err(|e| e.to_string())
}
