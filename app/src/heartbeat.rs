//! The heartbeat: every `platform.heartbeat_every` the kiosk tells the platform its version,
//! configuration hash, catalogue version, each device's state, consumables and how much is
//! waiting in the outbox (the fleet view). Whether the platform answered is also how the
//! journeys that need it live learn that it is reachable.

use std::sync::Arc;
use std::time::Duration;

use kiosk_link::{DeviceState, DeviceStatus};
use kiosk_platform::wire::{self, ConsumableLevel, ConsumableReport, DeviceReport, Heartbeat};
use tokio::sync::watch;

use crate::store::Store;

/// What the heartbeat reads.
pub struct Sources {
    pub kiosk_id: String,
    pub config_hash: String,
    pub catalogue_version: String,
    pub devices: Vec<(&'static str, watch::Receiver<DeviceStatus>)>,
    pub printer: Option<watch::Receiver<Option<kiosk_printer::PrinterStatus>>>,
    pub store: Arc<Store>,
}

fn state(s: DeviceState) -> wire::DeviceState {
    match s {
        DeviceState::Online => wire::DeviceState::Online,
        DeviceState::Offline => wire::DeviceState::Offline,
        DeviceState::HardwareError => wire::DeviceState::HardwareError,
        DeviceState::Busy => wire::DeviceState::Busy,
        DeviceState::NoDevice => wire::DeviceState::NoDevice,
    }
}

/// The printer's paper as a consumable.
pub fn paper(status: Option<&kiosk_printer::PrinterStatus>) -> Option<ConsumableReport> {
    use kiosk_printer::Condition;
    let s = status?;
    let level = if s.conditions.contains(&Condition::PaperOut) {
        ConsumableLevel::Empty
    } else if s.conditions.contains(&Condition::PaperNearEnd) {
        ConsumableLevel::Low
    } else {
        ConsumableLevel::Ok
    };
    Some(ConsumableReport {
        name: "receipt-paper".into(),
        level,
    })
}

impl Sources {
    /// The heartbeat as of now.
    pub fn heartbeat(&self) -> Heartbeat {
        let devices = self
            .devices
            .iter()
            .map(|(class, rx)| {
                let s = rx.borrow().clone();
                DeviceReport {
                    class: (*class).to_owned(),
                    state: state(s.state),
                    detail: s.detail,
                }
            })
            .collect();
        let consumables = self
            .printer
            .as_ref()
            .and_then(|rx| paper(rx.borrow().as_ref()))
            .into_iter()
            .collect();
        let stats = self.store.outbox_stats().unwrap_or_default();
        let now = jiff::Timestamp::now();
        let oldest = stats
            .oldest_pending_ms
            .and_then(|ms| u64::try_from((now.as_millisecond() - ms) / 1000).ok());
        Heartbeat {
            kiosk_id: self.kiosk_id.clone(),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            config_hash: self.config_hash.clone(),
            catalogue_version: self.catalogue_version.clone(),
            devices,
            consumables,
            outbox_depth: stats.pending,
            oldest_undelivered_age_s: oldest,
            at: now,
        }
    }
}

/// Sends a heartbeat every `every`; publishes whether the platform answered.
pub async fn run(
    client: Arc<kiosk_platform::PlatformClient>,
    sources: Sources,
    every: Duration,
    reachable: watch::Sender<bool>,
) {
    loop {
        let beat = sources.heartbeat();
        let ok = match client.heartbeat(&beat).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "heartbeat not answered");
                !e.is_unavailable()
            }
        };
        reachable.send_if_modified(|r| std::mem::replace(r, ok) != ok);
        tokio::time::sleep(every).await;
    }
}

/// SHA-256 of the configuration file (shown in the fleet view: which kiosk runs which config).
pub fn config_hash(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
}
