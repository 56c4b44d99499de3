//! Shared test setup: one font for all tests, a simulator on the other end of a memory link.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};

use kiosk_link::memory;
use kiosk_printer::sim::{SimConfig, SimPrinter};
use kiosk_printer::{CjkFont, FontSource, PaperWidth, PrinterDriver, PrinterProfile, Timeouts};

pub fn font() -> Arc<CjkFont> {
    static FONT: OnceLock<Arc<CjkFont>> = OnceLock::new();
    FONT.get_or_init(|| CjkFont::load(&FontSource::default()).unwrap())
        .clone()
}

pub fn sim(cfg: SimConfig) -> SimPrinter {
    SimPrinter::with_font(cfg, font())
}

pub fn sim_80() -> SimPrinter {
    sim(SimConfig::default())
}

pub fn profile(paper: PaperWidth) -> PrinterProfile {
    PrinterProfile {
        paper,
        ..PrinterProfile::default()
    }
}

/// A driver talking to `sim` over an in-memory link.
pub fn driver_for(sim: &SimPrinter, paper: PaperWidth) -> PrinterDriver {
    let (host, device) = memory::pair();
    sim.spawn(Box::new(device));
    PrinterDriver::connect(Box::new(host), profile(paper), font(), Timeouts::fast()).unwrap()
}
