//! `kiosk run` on the screen: the assembled kiosk (store, devices, platform, outbox) joined to
//! the window. Device and I/O news arrives on other threads through a [`Poster`]; each post
//! schedules one drain of the mailbox into the core's inbox on the Slint event loop, followed
//! by a pump. Timers are Slint timers; nothing else runs on the UI thread.

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::ViewOptions;
use super::run::{RunOptions, Wiring};
use super::sim_panel::SimPanelHooks;
use crate::assemble::Kiosk as Assembled;
use crate::commands::RunArgs;
use crate::io::KioskIo;
use crate::runtime::system::{RandomFresh, SystemClock};
use crate::runtime::{Inbox, Mailbox, Poster, Pump, mailbox};

/// What the UI thread needs to take posted events in.
struct Drain {
    mailbox: Mailbox,
    inbox: Rc<Inbox>,
    pump: Pump,
}

thread_local! {
    /// Set once on the UI thread after the window is built; read only there.
    static DRAIN: RefCell<Option<Drain>> = const { RefCell::new(None) };
}

fn drain_now() {
    DRAIN.with(|d| {
        if let Some(d) = d.borrow().as_ref()
            && d.mailbox.drain_into(&d.inbox) > 0
        {
            d.pump.pump();
        }
    });
}

/// The production parts the window's core runs with: the kiosk's I/O answering through
/// `poster`, the wall clock, and the store's daily sequence. (The end-to-end tests build the
/// window with these too.)
pub fn wiring(kiosk: &Assembled, poster: Poster, simulation: bool) -> Wiring {
    Wiring {
        io: Box::new(KioskIo::new(
            kiosk.tokio.handle().clone(),
            poster,
            kiosk.services.clone(),
        )),
        clock: Box::new(SystemClock),
        fresh: Box::new(RandomFresh {
            sequence: kiosk.services.sequence.clone(),
        }),
        options: ViewOptions {
            simulation,
            simulation_text: String::new(),
            high_contrast: false,
        },
    }
}

/// Runs the kiosk until the window closes (or after the first frame, for the smoke test).
pub fn run(mut kiosk: Assembled, args: &RunArgs, started: Instant) -> anyhow::Result<ExitCode> {
    // One wake-up queued at a time: a burst of device news is one drain.
    let queued = Arc::new(AtomicBool::new(false));
    let wake = {
        let queued = queued.clone();
        Arc::new(move || {
            if !queued.swap(true, Ordering::AcqRel) {
                let flag = queued.clone();
                let sent = slint::invoke_from_event_loop(move || {
                    flag.store(false, Ordering::Release);
                    drain_now();
                });
                if sent.is_err() {
                    // The event loop has ended: nobody is left to tell.
                    queued.store(false, Ordering::Release);
                }
            }
        })
    };
    let (poster, mailbox) = mailbox(wake);
    let loaded = Rc::new((*kiosk.loaded).clone());
    let inbox = Rc::new(Inbox::default());
    let simulation = args.simulate;
    let wiring = wiring(&kiosk, poster.clone(), simulation);
    let sims = std::mem::take(&mut kiosk.devices.sims);
    let dev_hooks = simulation.then(|| {
        let hooks = SimPanelHooks::new(sims, kiosk.platform_sim.as_ref().map(|s| (**s).clone()));
        hooks.resident_takes_cards(Duration::from_secs(3));
        Rc::new(hooks) as Rc<dyn super::dev_panel::DevHooks>
    });
    let options = RunOptions {
        simulate: simulation,
        quit_after_first_frame: args.quit_after_first_frame,
        sample_cards: crate::assemble::default_resources().join("sim/idcard"),
        started,
    };
    let code = super::run::run(loaded, inbox, wiring, dev_hooks, &options, |built| {
        DRAIN.with(|d| {
            *d.borrow_mut() = Some(Drain {
                mailbox,
                inbox: built.inbox.clone(),
                pump: built.pump.clone(),
            });
        });
        crate::forward::start(&kiosk, &poster);
        // Whatever was posted while the window was being built.
        drain_now();
    })?;
    DRAIN.with(|d| d.borrow_mut().take());
    tracing::info!("kiosk stopped");
    Ok(code)
}
