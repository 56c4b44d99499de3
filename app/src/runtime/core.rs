//! The one place where effects are carried out. It owns the session, steps it with each
//! event, hands timers, I/O and the screen to the parts that do them, and feeds their
//! answers back in as events. It runs on the UI thread (the session is small and every
//! screen update must happen there); I/O runs elsewhere and answers through an [`Inbox`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use crate::check::Loaded;
use crate::flows::{Ctx, Delays, Effect, Event, Fresh, Session, TimerId};

/// The wall clock, in the centre's time zone; tests use a fake one.
pub trait Clock {
    fn now(&self) -> jiff::Zoned;
}

/// New ids and codes; tests make them predictable.
pub trait FreshSource {
    fn fresh(&self, now: &jiff::Zoned) -> Fresh;
}

/// Starts and cancels the session's timers; a fired timer comes back as `Event::Timer`.
pub trait Timers {
    fn start(&self, id: TimerId, after: Duration);
    fn cancel(&self, id: TimerId);
}

/// Carries out an I/O effect (devices, store, platform). Answers come back through the
/// inbox the implementation was given, as `Event::Done` for the session that asked.
pub trait Io {
    fn run(&self, effect: Effect);
}

/// Shows the session on screen.
pub trait View {
    fn render(&self, session: &Session, ctx: &Ctx<'_>);
}

/// Events waiting to be handled. Anything may post here, including code called from inside
/// a step; the core drains it in order, one event at a time.
#[derive(Default)]
pub struct Inbox {
    queue: RefCell<VecDeque<Event>>,
}

impl Inbox {
    pub fn post(&self, event: Event) {
        self.queue.borrow_mut().push_back(event);
    }

    fn pop(&self) -> Option<Event> {
        self.queue.borrow_mut().pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.borrow().is_empty()
    }
}

/// Runs a shared core over its inbox, for code that cannot own the core: UI callbacks and
/// timers on the UI thread. Made unbound (the parts that pump are built before the core) and
/// bound once the core exists. A call while the core is already running does nothing: the
/// running pump handles what was posted.
#[derive(Clone, Default)]
pub struct Pump {
    core: Rc<RefCell<std::rc::Weak<RefCell<Core>>>>,
}

impl Pump {
    pub fn new() -> Pump {
        Pump::default()
    }

    pub fn bind(&self, core: &Rc<RefCell<Core>>) {
        *self.core.borrow_mut() = Rc::downgrade(core);
    }

    pub fn pump(&self) {
        let core = self.core.borrow().upgrade();
        if let Some(core) = core
            && let Ok(mut core) = core.try_borrow_mut()
        {
            core.pump();
        }
    }
}

/// The parts the core drives.
pub struct Parts {
    pub clock: Box<dyn Clock>,
    pub fresh: Box<dyn FreshSource>,
    pub timers: Box<dyn Timers>,
    pub io: Box<dyn Io>,
    pub view: Box<dyn View>,
}

pub struct Core {
    pub session: Session,
    loaded: Rc<Loaded>,
    delays: Delays,
    parts: Parts,
    inbox: Rc<Inbox>,
}

impl Core {
    pub fn new(loaded: Rc<Loaded>, parts: Parts, inbox: Rc<Inbox>) -> Core {
        let english = loaded.config.ui.default_language == crate::config::kiosk::Language::En;
        let delays = Delays::from_config(&loaded.config.idle);
        Core {
            session: Session::new(english),
            loaded,
            delays,
            parts,
            inbox,
        }
    }

    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// The delays the steps see (a technician command may shorten one).
    pub fn delays_mut(&mut self) -> &mut Delays {
        &mut self.delays
    }

    pub fn inbox(&self) -> Rc<Inbox> {
        self.inbox.clone()
    }

    /// Handles every event waiting in the inbox, then shows the result once. Events posted
    /// while the screen is being updated are handled before returning.
    pub fn pump(&mut self) {
        loop {
            let mut changed = false;
            while let Some(event) = self.inbox.pop() {
                self.step(event);
                changed = true;
            }
            if !changed {
                return;
            }
            self.render();
        }
    }

    /// Posts `event` and handles everything waiting.
    pub fn handle(&mut self, event: Event) {
        self.inbox.post(event);
        self.pump();
    }

    pub fn render(&self) {
        let ctx = make_ctx(&self.loaded, &self.delays, &self.parts);
        self.parts.view.render(&self.session, &ctx);
    }

    fn step(&mut self, event: Event) {
        let effects = {
            let ctx = make_ctx(&self.loaded, &self.delays, &self.parts);
            self.session.step(event, &ctx)
        };
        for effect in effects {
            match effect {
                Effect::StartTimer { id, after } => self.parts.timers.start(id, after),
                Effect::CancelTimer(id) => self.parts.timers.cancel(id),
                other => self.parts.io.run(other),
            }
        }
    }
}

fn make_ctx<'a>(loaded: &'a Loaded, delays: &'a Delays, parts: &Parts) -> Ctx<'a> {
    let now = parts.clock.now();
    let fresh = parts.fresh.fresh(&now);
    Ctx {
        catalogue: &loaded.catalogue,
        calendar: &loaded.calendar,
        centre: &loaded.config.centre,
        kiosk_id: &loaded.config.kiosk_id,
        delays,
        now,
        fresh,
    }
}
