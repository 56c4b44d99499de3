//! `kiosk.toml`: who this kiosk is, which centre it serves, how its screen and devices are set
//! up, where the platform is and where data lives.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_link::Port;

use super::checked_toml::{Errors, FromToml, KeyPath, Loc};
use super::{ConfigErrors, read_file};
use crate::{toml_enum, toml_section};

toml_enum! {
    /// Screen and slip language.
    pub enum Language { Zh = "zh", En = "en" }
}

toml_enum! {
    pub enum Orientation { Portrait = "portrait", Landscape = "landscape" }
}

toml_enum! {
    /// How a device class is provided on this kiosk.
    pub enum DeviceMode {
        /// A simulator speaking the device's wire protocol (development, tests, training).
        Simulated = "simulated",
        /// The real device on the configured port.
        Real = "real",
        /// Not fitted on this kiosk: the journeys that need it are not offered.
        Absent = "absent",
    }
}

toml_enum! {
    pub enum CutMode { Full = "full", Partial = "partial" }
}

toml_enum! {
    pub enum LogFormat { Text = "text", Json = "json" }
}

toml_enum! {
    pub enum CompartmentSize { Small = "S", Medium = "M", Large = "L" }
}

toml_enum! {
    /// What the lock board's door feedback switch reports (reference: device-defaults.md).
    pub enum SensorPolarity {
        /// `00`/bit 0 = open, `11`/bit 1 = closed: the "door closing" switch (default).
        DoorClosing = "door-closing",
        /// The inverse wiring.
        DoorOpening = "door-opening",
    }
}

toml_enum! {
    /// How the chip encoder is reached.
    pub enum EncoderPath {
        /// A PC/SC reader through pcscd.
        Pcsc = "pcsc",
        /// The contact reader built into the card dispenser (CRT-591 command 51).
        Dispenser = "dispenser",
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct KioskConfig {
        /// Unique id of this kiosk; printed on notices as the accepting party.
        pub kiosk_id: String,
        pub centre: Centre,
        pub ui: Ui,
        pub idle: Idle,
        pub devices: Devices,
        pub platform: Platform,
        pub storage: Storage,
        pub logging: Option<Logging>,
        /// The one-thing catalogue (relative paths are relative to this file).
        pub catalogue_dir: PathBuf = PathBuf::from("catalogue"),
        /// Holidays and make-up working days per year.
        pub calendar_dir: PathBuf = PathBuf::from("calendar"),
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Centre {
        /// e.g. 某某街道便民服务中心; printed on every slip.
        pub name: String,
        pub address: String,
        pub opening_hours: String,
        pub consultation_phone: String,
        /// The self-service window number shown on acceptance notices (受理通知: 窗口序号).
        pub window_number: String,
        /// Base address of the progress page; the QR code on a notice adds the application id.
        pub progress_url: String,
        /// Base address of the full guides; guide slips add the one-thing id.
        pub guide_url: String,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Ui {
        pub default_language: Language = Language::Zh,
        pub width: u32 = 1080,
        pub height: u32 = 1920,
        pub orientation: Orientation = Orientation::Portrait,
        pub fullscreen: bool = true,
    }
}

toml_section! {
    /// Idle warning then reset (VVSG-style: warn, count down, clear everything).
    #[derive(Debug, Clone)]
    pub struct Idle {
        pub warning_after: Duration,
        pub reset_after_warning: Duration,
        /// Elder mode gives more time (MIIT 2021: leave enough time).
        pub elder_warning_after: Duration,
        pub elder_reset_after_warning: Duration,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Devices {
        pub idcard: IdCardDevice,
        pub printer: PrinterDevice,
        pub scanner: ScannerDevice,
        pub dispenser: DispenserDevice,
        pub encoder: EncoderDevice,
        pub card_printer: CardPrinterDevice,
        pub locker: LockerDevice,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct IdCardDevice {
        pub mode: DeviceMode,
        pub port: Option<Port>,
        pub model: String = String::from("ga467-sam"),
        pub poll_interval: Duration = Duration::from_millis(200),
        /// A vendor library that turns the card's WLT photo into a bitmap (none is shipped).
        pub photo_decoder: Option<PathBuf>,
        pub photo_decoder_symbol: Option<String>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct PrinterDevice {
        pub mode: DeviceMode,
        pub port: Option<Port>,
        pub model: String = String::from("generic-escpos"),
        pub paper_mm: u16 = 80,
        pub cut: CutMode = CutMode::Partial,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct ScannerDevice {
        pub mode: DeviceMode,
        /// SANE device name, e.g. `fujitsu:fi-7160:12345` (simulation uses SANE's `test:0`).
        pub device: Option<String>,
        pub dpi: u32 = 300,
        pub jpeg_quality: u8 = 85,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct DispenserDevice {
        pub mode: DeviceMode,
        pub port: Option<Port>,
        pub model: String = String::from("crt-591"),
        /// Address set on the dispenser's DIP switch (0-15).
        pub address: u8 = 0,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct EncoderDevice {
        pub mode: DeviceMode,
        pub via: EncoderPath = EncoderPath::Dispenser,
        /// PC/SC reader name (`pcsc_scan` lists them).
        pub reader: Option<String>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct CardPrinterDevice {
        pub mode: DeviceMode,
        /// CUPS queue of the card printer.
        pub queue: Option<String>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct LockerDevice {
        pub mode: DeviceMode,
        pub port: Option<Port>,
        pub model: String = String::from("kr-rs485"),
        pub polarity: SensorPolarity = SensorPolarity::DoorClosing,
        /// How long a door has to report "open" after the unlock before it counts as jammed.
        pub open_timeout: Duration = Duration::from_secs(10),
        /// A door open longer than this raises a staff alert.
        pub door_open_alert_after: Duration = Duration::from_mins(2),
        /// Items not collected after this many days are listed for recall.
        pub overdue_after_days: u32 = 7,
        pub compartments: Vec<Compartment> = Vec::new(),
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Compartment {
        /// What is written on the door, e.g. "A03".
        pub label: String,
        pub board: u8,
        pub lock: u8,
        pub size: CompartmentSize,
        /// Overrides the bank's polarity for this door.
        pub polarity: Option<SensorPolarity>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Platform {
        /// `embedded-simulator`, or the platform's base URL (`https://…`).
        pub endpoint: String,
        pub connect_timeout: Duration = Duration::from_secs(3),
        pub request_timeout: Duration = Duration::from_secs(10),
        /// How often the kiosk reports its devices and consumables.
        pub heartbeat_every: Duration = Duration::from_mins(1),
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Storage {
        /// Writable state: the database, scanned pages, the field-encryption key.
        pub data_dir: PathBuf,
        /// Personal data of finished applications is purged after this many days.
        pub retention_days: u32,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Logging {
        pub format: LogFormat = LogFormat::Text,
        /// A tracing filter such as `info` or `kiosk_app=debug,info`.
        pub level: String = String::from("info"),
    }
}

/// The platform simulator embedded in the kiosk process instead of a real platform.
pub const EMBEDDED_SIMULATOR: &str = "embedded-simulator";

impl KioskConfig {
    /// Loads and checks `kiosk.toml`, reporting every problem at once.
    pub fn load(path: &Path) -> Result<KioskConfig, ConfigErrors> {
        let source = read_file(path).map_err(|p| ConfigErrors(vec![p]))?;
        let mut errs = Errors::new(path, &source);
        let config = errs.parse().and_then(|doc| {
            let value = toml::Spanned::new(doc.span(), toml::de::DeValue::Table(doc.into_inner()));
            KioskConfig::from_toml(&value, &KeyPath::root(), &mut errs)
        });
        let Some(mut config) = config else {
            return Err(ConfigErrors(errs.into_problems()));
        };
        config.check(&mut errs);
        if !errs.is_empty() {
            return Err(ConfigErrors(errs.into_problems()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        config.catalogue_dir = base.join(&config.catalogue_dir);
        config.calendar_dir = base.join(&config.calendar_dir);
        config.storage.data_dir = base.join(&config.storage.data_dir);
        Ok(config)
    }

    /// Rules that span several keys.
    fn check(&self, errs: &mut Errors<'_>) {
        if self.kiosk_id.trim().is_empty() {
            errs.push_at(
                &self.loc_of("kiosk_id"),
                "must not be empty (it is printed on notices)",
            );
        }
        let d = &self.devices;
        need(
            errs,
            &d.idcard.loc,
            d.idcard.mode,
            d.idcard.port.is_some(),
            "port",
        );
        need(
            errs,
            &d.printer.loc,
            d.printer.mode,
            d.printer.port.is_some(),
            "port",
        );
        need(
            errs,
            &d.scanner.loc,
            d.scanner.mode,
            d.scanner.device.is_some(),
            "device",
        );
        need(
            errs,
            &d.dispenser.loc,
            d.dispenser.mode,
            d.dispenser.port.is_some(),
            "port",
        );
        need(
            errs,
            &d.encoder.loc,
            d.encoder.mode,
            d.encoder.via == EncoderPath::Dispenser || d.encoder.reader.is_some(),
            "reader",
        );
        need(
            errs,
            &d.card_printer.loc,
            d.card_printer.mode,
            d.card_printer.queue.is_some(),
            "queue",
        );
        need(
            errs,
            &d.locker.loc,
            d.locker.mode,
            d.locker.port.is_some(),
            "port",
        );
        if !matches!(d.printer.paper_mm, 58 | 80) {
            errs.push_at(
                &sub(&d.printer.loc, "paper_mm"),
                "expected 58 or 80 (paper width in mm)",
            );
        }
        if d.dispenser.address > 15 {
            errs.push_at(
                &sub(&d.dispenser.loc, "address"),
                "expected 0-15 (the DIP-switch address)",
            );
        }
        if !(1..=100).contains(&d.scanner.jpeg_quality) {
            errs.push_at(&sub(&d.scanner.loc, "jpeg_quality"), "expected 1-100");
        }
        if d.locker.mode != DeviceMode::Absent && d.locker.compartments.is_empty() {
            errs.push_at(
                &sub(&d.locker.loc, "compartments"),
                "a locker bank needs at least one compartment",
            );
        }
        let mut seen_labels = std::collections::HashSet::new();
        let mut seen_locks = std::collections::HashSet::new();
        for c in &d.locker.compartments {
            if !seen_labels.insert(c.label.clone()) {
                errs.push_at(
                    &c.loc,
                    format!("compartment label {:?} is used twice", c.label),
                );
            }
            if !seen_locks.insert((c.board, c.lock)) {
                errs.push_at(
                    &c.loc,
                    format!(
                        "board {} lock {} is used by two compartments",
                        c.board, c.lock
                    ),
                );
            }
            if c.board == 0 || c.lock == 0 {
                errs.push_at(
                    &c.loc,
                    "boards and locks are numbered from 1 (0 means \"all\" on the wire)",
                );
            }
        }
        let p = &self.platform;
        if p.endpoint != EMBEDDED_SIMULATOR
            && !(p.endpoint.starts_with("http://") || p.endpoint.starts_with("https://"))
        {
            errs.push_at(
                &sub(&p.loc, "endpoint"),
                format!("expected \"{EMBEDDED_SIMULATOR}\" or an http(s):// URL"),
            );
        }
        if self.storage.retention_days == 0 {
            errs.push_at(
                &sub(&self.storage.loc, "retention_days"),
                "expected at least 1 day",
            );
        }
        if self.idle.warning_after < Duration::from_secs(10)
            || self.idle.reset_after_warning.is_zero()
        {
            errs.push_at(
                &self.idle.loc,
                "idle warning must be at least 10s and the reset countdown above 0",
            );
        }
        if self.idle.elder_warning_after < self.idle.warning_after {
            errs.push_at(
                &sub(&self.idle.loc, "elder_warning_after"),
                "elder mode must not give less time than normal mode",
            );
        }
    }

    fn loc_of(&self, key: &str) -> Loc {
        self.loc.child(key)
    }

    /// True when the platform is the in-process simulator.
    pub fn uses_embedded_platform(&self) -> bool {
        self.platform.endpoint == EMBEDDED_SIMULATOR
    }

    /// Every device forced to its simulator and the platform simulator embedded
    /// (`kiosk run --simulate`).
    pub fn simulate_everything(&mut self) {
        let d = &mut self.devices;
        for mode in [
            &mut d.idcard.mode,
            &mut d.printer.mode,
            &mut d.scanner.mode,
            &mut d.dispenser.mode,
            &mut d.encoder.mode,
            &mut d.card_printer.mode,
            &mut d.locker.mode,
        ] {
            *mode = DeviceMode::Simulated;
        }
        EMBEDDED_SIMULATOR.clone_into(&mut self.platform.endpoint);
    }
}

fn sub(loc: &Loc, key: &str) -> Loc {
    loc.child(key)
}

fn need(errs: &mut Errors<'_>, loc: &Loc, mode: DeviceMode, present: bool, key: &str) {
    if mode == DeviceMode::Real && !present {
        errs.push_at(
            &sub(loc, key),
            format!("missing key (a real device needs its {key})"),
        );
    }
}

#[cfg(test)]
mod tests;
