//! The one place that chooses real or simulated devices. A simulated device is the device's
//! simulator on the other end of an in-memory byte link, so the real driver code runs in
//! simulation too; the simulators' controls are kept for the developer panel and tests.

use std::path::{Path, PathBuf};

use kiosk_link::Link;

use crate::config::kiosk::{DeviceMode, KioskConfig};

/// The simulators of a simulated kiosk, for the developer panel and tests.
#[derive(Default)]
pub struct SimControls {
    pub idcard: Option<kiosk_idcard::sim::SimControl>,
    pub printer: Option<kiosk_printer::SimPrinter>,
    pub locker: Option<kiosk_locker::sim::SimControl>,
    /// Sample ID cards the developer panel can present.
    pub sample_cards: Vec<kiosk_idcard::sim::SimCard>,
}

/// The device handles the kiosk runs with (`None` for an absent device).
#[derive(Default)]
pub struct Devices {
    pub idcard: Option<kiosk_idcard::Handle>,
    pub printer: Option<kiosk_printer::Handle>,
    pub scanner: Option<kiosk_scanner::Handle>,
    pub locker: Option<kiosk_locker::LockerHandle>,
    pub sims: SimControls,
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceSetupError {
    #[error("{device}: {reason}")]
    Setup {
        device: &'static str,
        reason: String,
    },
}

fn setup(device: &'static str) -> impl Fn(String) -> DeviceSetupError {
    move |reason| DeviceSetupError::Setup { device, reason }
}

/// Starts every configured device. `resources` is the folder with the simulators' data,
/// `scans_dir` where scanned pages go, `sim_out` where simulators write what they render.
pub fn start(
    config: &KioskConfig,
    resources: &Path,
    scans_dir: &Path,
    sim_out: &Path,
) -> Result<Devices, DeviceSetupError> {
    let mut devices = Devices::default();
    start_idcard(config, resources, &mut devices)?;
    start_printer(config, sim_out, &mut devices)?;
    start_scanner(config, scans_dir, &mut devices)?;
    start_locker(config, &mut devices)?;
    Ok(devices)
}

fn start_idcard(
    config: &KioskConfig,
    resources: &Path,
    devices: &mut Devices,
) -> Result<(), DeviceSetupError> {
    let c = &config.devices.idcard;
    let options = kiosk_idcard::handle::Options {
        poll_interval: c.poll_interval,
        ..Default::default()
    };
    let opener = match (c.mode, &c.port) {
        (DeviceMode::Absent, _) => return Ok(()),
        (DeviceMode::Real, Some(port)) => kiosk_idcard::transport::opener(port.clone(), &options),
        (DeviceMode::Real, None) => {
            return Err(setup("ID-card reader")("no port configured".into()));
        }
        (DeviceMode::Simulated, _) => {
            let sim = kiosk_idcard::sim::Simulator::spawn_in_memory(
                kiosk_idcard::sim::SimOptions::default(),
            );
            let opener = sim.opener();
            devices.sims.sample_cards =
                kiosk_idcard::sim::load_samples(&resources.join("sim/idcard"))
                    .map_err(|e| setup("ID-card simulator")(e.to_string()))?;
            devices.sims.idcard = Some(sim);
            opener
        }
    };
    devices.idcard = Some(kiosk_idcard::Handle::spawn(opener, options));
    Ok(())
}

fn start_printer(
    config: &KioskConfig,
    sim_out: &Path,
    devices: &mut Devices,
) -> Result<(), DeviceSetupError> {
    use kiosk_printer::{CutCommand, HandleConfig, PaperWidth, PrinterProfile};
    let c = &config.devices.printer;
    let paper = if c.paper_mm == 58 {
        PaperWidth::Mm58
    } else {
        PaperWidth::Mm80
    };
    let cut = match c.cut {
        crate::config::kiosk::CutMode::Full => CutCommand::FullB(0),
        crate::config::kiosk::CutMode::Partial => CutCommand::PartialB(0),
    };
    let handle_config = HandleConfig {
        profile: PrinterProfile::new(paper, cut),
        ..HandleConfig::default()
    };
    let opener: kiosk_printer::Opener = match (c.mode, &c.port) {
        (DeviceMode::Absent, _) => return Ok(()),
        (DeviceMode::Real, Some(port)) => {
            let port = port.clone();
            Box::new(move || kiosk_link::open(&port, 9600))
        }
        (DeviceMode::Real, None) => {
            return Err(setup("receipt printer")("no port configured".into()));
        }
        (DeviceMode::Simulated, _) => {
            let out: PathBuf = sim_out.join("printer");
            std::fs::create_dir_all(&out).map_err(|e| setup("printer simulator")(e.to_string()))?;
            let sim = kiosk_printer::SimPrinter::new(kiosk_printer::SimConfig {
                paper,
                out_dir: Some(out),
                ..kiosk_printer::SimConfig::default()
            })
            .map_err(|e| setup("printer simulator")(e.to_string()))?;
            let serving = sim.clone();
            devices.sims.printer = Some(sim);
            Box::new(move || {
                let (driver_end, device_end) = kiosk_link::memory::pair();
                serving.spawn(Box::new(device_end));
                Ok(Box::new(driver_end) as Box<dyn Link>)
            })
        }
    };
    let handle = kiosk_printer::Handle::spawn(opener, handle_config)
        .map_err(|e| setup("receipt printer")(e.to_string()))?;
    devices.printer = Some(handle);
    Ok(())
}

fn start_scanner(
    config: &KioskConfig,
    scans_dir: &Path,
    devices: &mut Devices,
) -> Result<(), DeviceSetupError> {
    let c = &config.devices.scanner;
    let device = match (c.mode, &c.device) {
        (DeviceMode::Absent, _) => return Ok(()),
        (DeviceMode::Real, Some(name)) => name.clone(),
        (DeviceMode::Real, None) => {
            return Err(setup("scanner")("no SANE device configured".into()));
        }
        // SANE's own test backend (enabled in assemble before any thread starts).
        (DeviceMode::Simulated, _) => kiosk_scanner::sim::DEVICE.to_owned(),
    };
    let mut handle_config = kiosk_scanner::HandleConfig::new(device, scans_dir);
    handle_config.encode.jpeg_quality = c.jpeg_quality;
    let handle =
        kiosk_scanner::Handle::spawn(handle_config).map_err(|e| setup("scanner")(e.to_string()))?;
    devices.scanner = Some(handle);
    Ok(())
}

fn start_locker(config: &KioskConfig, devices: &mut Devices) -> Result<(), DeviceSetupError> {
    let c = &config.devices.locker;
    if c.mode == DeviceMode::Absent {
        return Ok(());
    }
    let bank = crate::locker_bank::bank(c).map_err(setup("lockers"))?;
    let options = kiosk_locker::HandleOptions::default();
    let handle = match (c.mode, &c.port) {
        (DeviceMode::Real, Some(port)) => {
            kiosk_locker::LockerHandle::for_port(bank, port.clone(), options)
        }
        (DeviceMode::Real, None) => return Err(setup("lockers")("no port configured".into())),
        _ => {
            let sim =
                kiosk_locker::sim::SimControl::new(&kiosk_locker::sim::SimConfig::from_bank(&bank));
            let handle = kiosk_locker::LockerHandle::spawn(bank, sim.opener(), options);
            devices.sims.locker = Some(sim);
            handle
        }
    };
    devices.locker = Some(handle);
    Ok(())
}
