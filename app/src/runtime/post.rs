//! Events from other threads (device tasks, I/O on the tokio runtime) to the UI thread.
//! A [`Poster`] can be cloned and sent anywhere; the UI thread empties the [`Mailbox`] into
//! the core's inbox when woken.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use super::Inbox;
use crate::flows::Event;

/// Sends events to the UI thread and wakes it.
#[derive(Clone)]
pub struct Poster {
    tx: Sender<Event>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Poster {
    pub fn post(&self, event: Event) {
        // The receiver lives as long as the UI; after it is gone there is nobody to tell.
        if self.tx.send(event).is_ok() {
            (self.wake)();
        }
    }
}

/// The UI-thread end.
pub struct Mailbox {
    rx: Receiver<Event>,
}

impl Mailbox {
    /// Moves every waiting event into `inbox`; returns how many.
    pub fn drain_into(&self, inbox: &Inbox) -> usize {
        let mut n = 0;
        while let Ok(event) = self.rx.try_recv() {
            inbox.post(event);
            n += 1;
        }
        n
    }

    /// Waits up to `timeout` for the next event (for runners without an inbox: tools and
    /// tests that carry effects out and read the answers).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }
}

/// A poster/mailbox pair; `wake` is called after each post (e.g. to schedule a pump on the
/// Slint event loop).
pub fn mailbox(wake: Arc<dyn Fn() + Send + Sync>) -> (Poster, Mailbox) {
    let (tx, rx) = channel();
    (Poster { tx, wake }, Mailbox { rx })
}
