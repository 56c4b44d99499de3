//! The developer panel's buttons acted out on the simulators of a simulated kiosk: sample ID
//! cards on the reader, device faults, the platform taken away, its clock moved on.

use std::path::Path;
use std::time::{Duration, Instant};

use kiosk_idcard::sim::{Fault, On, SimCard};

use super::dev_panel::DevHooks;
use crate::devices::SimControls;

pub struct SimPanelHooks {
    sims: SimControls,
    platform: Option<kiosk_platform::SimControl>,
}

impl SimPanelHooks {
    pub fn new(sims: SimControls, platform: Option<kiosk_platform::SimControl>) -> SimPanelHooks {
        SimPanelHooks { sims, platform }
    }

    /// A simulated resident takes a card `after` it reaches the dispenser's gate, so that the
    /// card journey can be tried at the screen alone.
    pub fn resident_takes_cards(&self, after: Duration) {
        let Some(control) = self.sims.dispenser.clone() else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("sim-resident".into())
            .spawn(move || {
                let mut at_gate_since: Option<Instant> = None;
                loop {
                    std::thread::sleep(Duration::from_millis(100));
                    if control.card_place() == kiosk_dispenser::sim::SimCardPlace::Gate {
                        let since = *at_gate_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= after && control.take_card() {
                            tracing::info!("simulated resident took the card");
                            at_gate_since = None;
                        }
                    } else {
                        at_gate_since = None;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no simulated resident for the card dispenser");
        }
    }

    fn idcard(&self, fault: &str) {
        let Some(reader) = &self.sims.idcard else {
            return;
        };
        reader.clear_faults();
        if !reader.is_plugged() {
            reader.replug();
        }
        match fault {
            "no-answer" => reader.inject(On::Any, Fault::NoReply),
            "bad-checksum" => reader.inject(On::Any, Fault::BadChecksum),
            "unplugged" => reader.unplug(),
            _ => {}
        }
    }

    fn printer(&self, fault: &str) {
        let Some(p) = &self.sims.printer else { return };
        if !p.is_plugged() {
            p.plug();
        }
        p.set_paper_out(fault == "paper-out");
        p.set_near_end(fault == "paper-low");
        p.set_cover_open(fault == "cover-open");
        if fault == "unplugged" {
            p.unplug();
        }
    }

    fn dispenser(&self, fault: &str) {
        let Some(d) = &self.sims.dispenser else {
            return;
        };
        match fault {
            "hopper-empty" => d.set_hopper(0),
            "jam" => d.set_jam(true),
            "bin-full" => d.set_reject_count(u32::MAX / 2),
            "unplugged" => d.set_mute(true),
            _ => {
                d.set_jam(false);
                d.set_mute(false);
                d.clear_faults();
                if d.hopper() == 0 {
                    d.set_hopper(100);
                }
                d.set_reject_count(0);
            }
        }
    }

    fn card_printer(&self, fault: &str) {
        let Some(p) = &self.sims.card_printer else {
            return;
        };
        match fault {
            "ribbon-out" => p.ribbon_out(),
            "jam" => p.set_jam(true),
            "offline" => p.set_accepting(false),
            _ => {
                p.replace_ribbon();
                p.set_jam(false);
                p.set_accepting(true);
            }
        }
    }

    fn locker(&self, fault: &str) {
        let Some(l) = &self.sims.locker else { return };
        if !l.is_plugged() {
            l.replug();
        }
        // Board 1, lock 1: the first compartment of the sample bank.
        l.set_jammed(1, 1, fault == "door-stuck");
        l.set_silent(1, fault == "board-offline");
        if fault == "unplugged" {
            l.unplug();
        }
    }
}

impl DevHooks for SimPanelHooks {
    fn present_card(&self, file: &Path) {
        let Some(reader) = &self.sims.idcard else {
            return;
        };
        match SimCard::from_file(file) {
            Ok(card) => reader.present(card),
            Err(e) => tracing::warn!(error = %e, "sample card not loaded"),
        }
    }

    fn remove_card(&self) {
        if let Some(reader) = &self.sims.idcard {
            reader.remove();
        }
    }

    fn unreadable_card(&self) {
        if let Some(reader) = &self.sims.idcard {
            reader.inject(On::Read, Fault::BadChecksum);
            reader.inject(On::Read, Fault::BadChecksum);
            reader.inject(On::Read, Fault::BadChecksum);
        }
    }

    fn set_fault(&self, device: &str, fault: &str) {
        tracing::info!(device, fault, "simulated fault");
        match device {
            "idcard" => self.idcard(fault),
            "printer" => self.printer(fault),
            "dispenser" => self.dispenser(fault),
            "card-printer" => self.card_printer(fault),
            "locker" => self.locker(fault),
            "encoder" => {
                if let (Some(stock), "write-fails") = (&self.sims.card_stock, fault)
                    && let Some(card) = stock.last()
                {
                    card.fail_next(kiosk_encoder::card::ChipFault::Status(0x6581));
                }
            }
            _ => tracing::info!(device, "this simulator has no such fault"),
        }
    }

    fn set_platform_reachable(&self, reachable: bool) {
        if let Some(p) = &self.platform {
            p.set_outage(!reachable);
        }
    }

    fn jump_clock(&self, by: Duration) {
        // The platform's clock: applications move on as the days pass there.
        if let Some(p) = &self.platform {
            #[allow(clippy::cast_precision_loss)]
            let hours = by.as_secs() as f64 / 3600.0;
            p.advance(&kiosk_platform::wire::ClockAdvance {
                hours,
                working_days: 0.0,
            });
        }
    }
}
