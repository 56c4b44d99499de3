//! Heartbeat (fleet view): `POST /v1/heartbeat`, every `heartbeat_every` (kiosk-products.md
//! §6 items 1 and 7: versions, config hash, per-device state, consumables).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a kiosk reports about itself (schema `Heartbeat`). No personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub kiosk_id: String,
    /// The kiosk software version.
    pub app_version: String,
    /// Hex SHA-256 of the effective configuration, so staff see which kiosk runs what.
    pub config_hash: String,
    /// The catalogue version in use.
    pub catalogue_version: String,
    pub devices: Vec<DeviceReport>,
    pub consumables: Vec<ConsumableReport>,
    /// Applications accepted and not yet delivered to the platform.
    pub outbox_depth: u64,
    /// Age in seconds of the oldest undelivered application; absent when the outbox is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_undelivered_age_s: Option<u64>,
    pub at: Timestamp,
}

/// One device's state (schema `DeviceReport`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// The device class: `idcard`, `printer`, `scanner`, `dispenser`, `encoder`,
    /// `card_printer`, `locker`.
    pub class: String,
    pub state: DeviceState,
    /// A short technician-facing detail (never personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A device state in XFS4IoT's words, the same as `kiosk_link::DeviceState`
/// (schema `DeviceState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Online,
    Offline,
    HardwareError,
    Busy,
    NoDevice,
}

/// One consumable's level (schema `ConsumableReport`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumableReport {
    /// e.g. `receipt_paper`, `card_stock`, `ribbon`, `reject_bin`.
    pub name: String,
    pub level: ConsumableLevel,
}

/// A consumable level (schema `ConsumableLevel`): `full` is for bins that fill up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumableLevel {
    Ok,
    Low,
    Empty,
    Full,
}

/// The answer to a heartbeat (schema `HeartbeatAck`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    pub received_at: Timestamp,
    /// The newest catalogue version, when the platform has one; the kiosk asks for it with
    /// `GET /v1/catalogue?since=` when it differs from its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue_version: Option<String>,
}
