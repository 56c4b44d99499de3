//! Pause points for crash tests. When `KIOSK_PAUSE_AT` names a point the process reaches, it
//! writes `paused at <point>` to stderr and waits there for ever, so a test can kill it with
//! SIGKILL at exactly that point and check what a restart finds. A kiosk never sets the
//! variable; the points only pause, they never change what the kiosk does.

use std::io::Write;
use std::sync::OnceLock;

static PAUSE_AT: OnceLock<Option<String>> = OnceLock::new();

/// Pauses here for ever if `KIOSK_PAUSE_AT` equals `point`.
pub fn point(point: &str) {
    let wanted = PAUSE_AT.get_or_init(|| std::env::var("KIOSK_PAUSE_AT").ok());
    if wanted.as_deref() == Some(point) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "paused at {point}");
        let _ = err.flush();
        drop(err);
        loop {
            std::thread::park();
        }
    }
}
