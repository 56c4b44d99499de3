//! The device vocabulary shared by every driver, borrowed from `XFS4IoT`'s `Common.Status`:
//! a device is online, offline, in hardware error, busy, or not there at all.

use serde::{Deserialize, Serialize};

/// What state a device is in, as the journeys that need it see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Working and ready for commands.
    Online,
    /// Attached but not answering (cable, power, or a port that went away).
    Offline,
    /// Answering, but reporting a fault that needs a person (jam, cover open, cutter).
    HardwareError,
    /// Working on a command.
    Busy,
    /// Not configured or never found.
    NoDevice,
}

impl DeviceState {
    pub fn is_usable(self) -> bool {
        matches!(self, DeviceState::Online | DeviceState::Busy)
    }
}

/// A device's state with a short technician-facing detail (never personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub state: DeviceState,
    pub detail: Option<String>,
}

impl DeviceStatus {
    pub fn online() -> Self {
        DeviceStatus {
            state: DeviceState::Online,
            detail: None,
        }
    }

    pub fn new(state: DeviceState, detail: impl Into<String>) -> Self {
        DeviceStatus {
            state,
            detail: Some(detail.into()),
        }
    }
}
