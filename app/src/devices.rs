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
    /// The card dispenser (hopper, reject bin, jams, the resident taking the card).
    pub dispenser: Option<kiosk_dispenser::SimControl>,
    /// The virtual chips of the cards dispensed (script chip errors on the last one).
    pub card_stock: Option<kiosk_encoder::CardStock>,
    /// The card printer (ribbon, jam); it writes each face as a PNG.
    pub card_printer: Option<kiosk_cardprinter::SimControl>,
}

/// The device handles the kiosk runs with (`None` for an absent device).
#[derive(Default)]
pub struct Devices {
    pub idcard: Option<kiosk_idcard::Handle>,
    pub printer: Option<kiosk_printer::Handle>,
    pub scanner: Option<kiosk_scanner::Handle>,
    pub locker: Option<kiosk_locker::LockerHandle>,
    /// The social security card unit (dispenser, encoder, card printer).
    pub cards: crate::io::cards::CardUnit,
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
    start_card_unit(config, sim_out, &mut devices)?;
    Ok(devices)
}

/// The card dispenser, the chip encoder and the card printer, with the face fonts and the
/// ID-card photo decoder. Simulated: the dispenser simulator in memory with a virtual chip on
/// every card (`CardStock`), the card-printer simulator writing PNGs under `sim_out`.
pub fn start_card_unit(
    config: &KioskConfig,
    sim_out: &Path,
    devices: &mut Devices,
) -> Result<(), DeviceSetupError> {
    use crate::config::kiosk::EncoderPath;
    use crate::io::cards::{CardUnit, Encoder};
    let d = &config.devices;
    let mut unit = CardUnit::default();
    let dispenser_config = kiosk_dispenser::HandleConfig {
        address: d.dispenser.address,
        ..kiosk_dispenser::HandleConfig::default()
    };
    unit.dispenser = match (d.dispenser.mode, &d.dispenser.port) {
        (DeviceMode::Absent, _) => None,
        (DeviceMode::Real, Some(port)) => Some(kiosk_dispenser::Handle::from_port(
            port.clone(),
            dispenser_config,
        )),
        (DeviceMode::Real, None) => {
            return Err(setup("card dispenser")("no port configured".into()));
        }
        (DeviceMode::Simulated, _) => {
            let sim = kiosk_dispenser::Simulator::new(kiosk_dispenser::SimConfig {
                address: d.dispenser.address,
                ..kiosk_dispenser::SimConfig::default()
            });
            let stock = kiosk_encoder::CardStock::new(kiosk_encoder::CardProfile::default());
            sim.control().set_chip_factory(stock.factory());
            devices.sims.dispenser = Some(sim.control());
            devices.sims.card_stock = Some(stock);
            Some(kiosk_dispenser::Handle::spawn(
                sim.opener(),
                dispenser_config,
            ))
        }
    };
    unit.encoder = match (d.encoder.mode, d.encoder.via, &d.encoder.reader) {
        (DeviceMode::Absent, _, _) => None,
        // The simulated chips live in the simulated dispenser's IC position.
        (DeviceMode::Simulated, _, _) | (DeviceMode::Real, EncoderPath::Dispenser, _) => {
            Some(Encoder::Dispenser)
        }
        (DeviceMode::Real, EncoderPath::Pcsc, Some(reader)) => Some(Encoder::Pcsc {
            reader: reader.clone(),
        }),
        (DeviceMode::Real, EncoderPath::Pcsc, None) => {
            return Err(setup("chip encoder")("no reader configured".into()));
        }
    };
    unit.printer = match (d.card_printer.mode, &d.card_printer.queue) {
        (DeviceMode::Absent, _) => None,
        (DeviceMode::Real, Some(queue)) => match kiosk_cardprinter::IppPrinter::cups_queue(queue) {
            Ok(p) => Some(std::sync::Arc::new(std::sync::Mutex::new(
                Box::new(p) as Box<dyn kiosk_cardprinter::CardPrinter>
            ))),
            Err(e) => return Err(setup("card printer")(e.to_string())),
        },
        (DeviceMode::Real, None) => {
            return Err(setup("card printer")("no queue configured".into()));
        }
        (DeviceMode::Simulated, _) => {
            let sim = kiosk_cardprinter::SimPrinter::new(sim_out.join("card-printer"), 250)
                .map_err(|e| setup("card printer simulator")(e.to_string()))?;
            devices.sims.card_printer = Some(sim.control());
            Some(std::sync::Arc::new(std::sync::Mutex::new(
                Box::new(sim) as Box<dyn kiosk_cardprinter::CardPrinter>
            )))
        }
    };
    if unit.printer.is_some() {
        match kiosk_cardprinter::FaceRenderer::new(kiosk_cardprinter::FaceConfig::default()) {
            Ok(faces) => unit.faces = Some(std::sync::Arc::new(faces)),
            Err(e) => {
                // Nothing can be printed: card issuing is switched off, the rest runs.
                tracing::error!(error = %e, "card face fonts not loaded");
                unit.printer_problem = Some(format!("card face fonts: {e}"));
            }
        }
    }
    unit.photos = photo_decoder(config);
    devices.cards = unit;
    Ok(())
}

/// The ID-card photo decoder: the vendor library when configured, the simulator's stand-in
/// when the ID-card reader is simulated, otherwise none (cards needing a photo are then made
/// centrally).
fn photo_decoder(
    config: &KioskConfig,
) -> Option<std::sync::Arc<dyn kiosk_idcard::photo::PhotoDecoder>> {
    let c = &config.devices.idcard;
    if let Some(library) = &c.photo_decoder {
        let photo = kiosk_idcard::photo::PhotoConfig {
            library: Some(library.clone()),
            symbol: c
                .photo_decoder_symbol
                .clone()
                .unwrap_or_else(|| kiosk_idcard::photo::DEFAULT_SYMBOL.to_owned()),
            ..kiosk_idcard::photo::PhotoConfig::default()
        };
        match kiosk_idcard::photo::load(&photo) {
            Ok(decoder) => return decoder,
            Err(e) => tracing::error!(error = %e, "ID card photo decoder not loaded"),
        }
    }
    (c.mode == DeviceMode::Simulated)
        .then(|| std::sync::Arc::new(kiosk_idcard::photo::SimulatedPhotoDecoder) as _)
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
