//! Putting the kiosk window together: the window at the configured size, the core with this
//! module's view and timers, the callbacks, and (in simulation) the developer panel. The
//! runtime supplies the I/O, clock, fresh ids and hooks; `kiosk run` is the composition root
//! that chooses them.

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::ComponentHandle;

use super::dev_panel::{self, DevHooks, DevPanel};
use super::fonts::FontCoverage;
use super::{MainWindow, SlintTimers, SlintView, ViewOptions, connect};
use crate::check::Loaded;
use crate::runtime::{Clock, Core, FreshSource, Inbox, Io, Parts, Pump};

/// The running kiosk screen. Keep it alive while the event loop runs.
pub struct Kiosk {
    pub window: MainWindow,
    pub view: SlintView,
    pub core: Rc<RefCell<Core>>,
    pub inbox: Rc<Inbox>,
    pub pump: Pump,
}

/// What the composition root passes in. The I/O answers effects by posting `Event::Done`
/// into `inbox` (from any thread through `slint::invoke_from_event_loop`, then
/// `Pump::pump`).
pub struct Wiring {
    pub io: Box<dyn Io>,
    pub clock: Box<dyn Clock>,
    pub fresh: Box<dyn FreshSource>,
    pub options: ViewOptions,
}

impl Kiosk {
    /// Builds the window and the core. `inbox` must be the one the I/O posts to.
    pub fn build(
        loaded: Rc<Loaded>,
        inbox: Rc<Inbox>,
        wiring: Wiring,
    ) -> Result<Kiosk, slint::PlatformError> {
        let window = MainWindow::new()?;
        let ui = &loaded.config.ui;
        if ui.fullscreen {
            window.window().set_fullscreen(true);
        }
        // Without a window manager fullscreen does not resize (Xvfb): set the size as well.
        window
            .window()
            .set_size(slint::PhysicalSize::new(ui.width, ui.height));
        let view = SlintView::new(&window, wiring.options);
        let pump = Pump::new();
        let timers = SlintTimers::new(inbox.clone(), pump.clone());
        let parts = Parts {
            clock: wiring.clock,
            fresh: wiring.fresh,
            timers: Box::new(timers),
            io: wiring.io,
            view: Box::new(view.clone()),
        };
        let core = Rc::new(RefCell::new(Core::new(loaded, parts, inbox.clone())));
        pump.bind(&core);
        connect(&window, &view, inbox.clone(), pump.clone());
        core.borrow().render();
        Ok(Kiosk {
            window,
            view,
            core,
            inbox,
            pump,
        })
    }
}

/// `kiosk run` options that concern the screen.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub simulate: bool,
    pub quit_after_first_frame: bool,
    /// Where the sample ID cards for the developer panel are.
    pub sample_cards: PathBuf,
    /// When `main` started, for the first-frame figure.
    pub started: Instant,
}

/// Opens the kiosk window (and in simulation the developer panel) and runs the event loop.
/// With `quit_after_first_frame`, renders the first frame, prints the time since the
/// process started and the resident set size, and exits.
pub fn run(
    loaded: Rc<Loaded>,
    inbox: Rc<Inbox>,
    wiring: Wiring,
    dev_hooks: Option<Rc<dyn DevHooks>>,
    options: &RunOptions,
    wire: impl FnOnce(&Kiosk),
) -> anyhow::Result<ExitCode> {
    let started = options.started;
    let kiosk = Kiosk::build(loaded, inbox, wiring)?;
    wire(&kiosk);
    let _panel = if options.simulate && !options.quit_after_first_frame {
        let hooks = dev_hooks.unwrap_or_else(|| Rc::new(dev_panel::LogOnly));
        Some(DevPanel::open(
            dev_panel::sample_cards(&options.sample_cards),
            dev_panel::default_devices(),
            hooks,
        )?)
    } else {
        None
    };
    kiosk.window.show()?;
    if options.quit_after_first_frame {
        let weak = kiosk.window.as_weak();
        slint::Timer::single_shot(Duration::ZERO, move || {
            if let Some(window) = weak.upgrade() {
                // The software renderer has no "frame presented" notifier: render one full
                // frame of the home screen, which is what the first present shows.
                let rendered = window.window().take_snapshot().is_ok();
                let since_main = started.elapsed();
                let since_exec = process_age();
                println!(
                    "first frame: {} ms after main, {} after exec; rendered {}; VmRSS {} kB; VmHWM {} kB",
                    since_main.as_millis(),
                    since_exec.map_or_else(|| "?".to_owned(), |d| format!("{} ms", d.as_millis())),
                    if rendered { "ok" } else { "FAILED" },
                    proc_status("VmRSS:").unwrap_or_default(),
                    proc_status("VmHWM:").unwrap_or_default(),
                );
            }
            let _ = slint::quit_event_loop();
        });
    } else {
        // Names read from cards are checked against the fonts; load their maps now.
        FontCoverage::warm_up();
    }
    let _watchdog = super::service::notify_when_shown();
    slint::run_event_loop()?;
    super::service::stopping();
    drop(kiosk);
    Ok(ExitCode::SUCCESS)
}

/// A line of `/proc/self/status`, e.g. `VmRSS:`, as its number of kB.
pub fn proc_status(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Time since the process was started (exec), from `/proc` (10 ms resolution).
pub fn process_age() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; fields after it are space separated.
    let after = stat.rsplit_once(')')?.1;
    let start_ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // USER_HZ is 100 on every Linux the kiosk runs on.
    #[allow(clippy::cast_precision_loss)]
    let started = start_ticks as f64 / 100.0;
    let age = (uptime - started).max(0.0);
    Some(Duration::from_secs_f64(age))
}
