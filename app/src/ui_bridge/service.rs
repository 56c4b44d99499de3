//! Telling systemd how the kiosk is (`Type=notify`, `WatchdogSec=` in `kiosk.service`).
//! READY=1 goes out once the event loop has drawn the first frame, and WATCHDOG=1 from a timer
//! on the UI thread, so a hung screen stops the pings and systemd restarts the kiosk. Outside
//! systemd (no `NOTIFY_SOCKET`) every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

/// Schedules READY=1 for the first turn of the event loop and starts the watchdog pings.
/// Keep the returned timer alive while the event loop runs.
pub fn notify_when_shown() -> slint::Timer {
    slint::Timer::single_shot(Duration::ZERO, || {
        send(&[NotifyState::Ready, NotifyState::Status("serving residents")]);
    });
    let timer = slint::Timer::default();
    let mut usec = 0;
    if sd_notify::watchdog_enabled(false, &mut usec) {
        // Half the configured period, as sd_watchdog_enabled(3) advises.
        let every = Duration::from_micros(usec / 2).max(Duration::from_millis(500));
        tracing::info!(every_ms = every.as_millis(), "systemd watchdog on");
        timer.start(slint::TimerMode::Repeated, every, || {
            send(&[NotifyState::Watchdog]);
        });
    }
    timer
}

/// Tells systemd the kiosk is shutting down on purpose.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

fn send(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}
