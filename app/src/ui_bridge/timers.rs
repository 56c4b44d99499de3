//! The session's timers on Slint's timers: they fire on the UI thread, inside the event loop,
//! and UI tests move them with mock time.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use slint::{Timer, TimerMode};

use crate::flows::{Event, TimerId};
use crate::runtime::{Inbox, Pump, Timers};

/// One Slint timer per [`TimerId`]; starting one that runs restarts it.
pub struct SlintTimers {
    inbox: Rc<Inbox>,
    pump: Pump,
    timers: RefCell<HashMap<TimerId, Rc<Timer>>>,
}

impl SlintTimers {
    pub fn new(inbox: Rc<Inbox>, pump: Pump) -> SlintTimers {
        SlintTimers {
            inbox,
            pump,
            timers: RefCell::new(HashMap::new()),
        }
    }

    /// Whether the timer runs now (for tests).
    pub fn is_running(&self, id: TimerId) -> bool {
        self.timers.borrow().get(&id).is_some_and(|t| t.running())
    }
}

impl Timers for SlintTimers {
    fn start(&self, id: TimerId, after: Duration) {
        let timer = self
            .timers
            .borrow_mut()
            .entry(id)
            .or_insert_with(|| Rc::new(Timer::default()))
            .clone();
        let inbox = self.inbox.clone();
        let pump = self.pump.clone();
        timer.start(TimerMode::SingleShot, after, move || {
            inbox.post(Event::Timer(id));
            pump.pump();
        });
    }

    fn cancel(&self, id: TimerId) {
        if let Some(timer) = self.timers.borrow().get(&id) {
            timer.stop();
        }
    }
}
