//! The resident and staff journeys as pure state machines.
//!
//! Every journey is `step(state, event, ctx) -> effects`: no I/O, no Slint, no SQLite, no
//! clock reads. Time, fresh ids and the outside world come in through [`Ctx`] and [`Event`]s;
//! what must happen outside goes out as [`Effect`]s, which the runtime carries out and answers
//! with more events. Timeouts are the named fields of [`Delays`], so a test advances a fake
//! clock by exactly one of them.

pub mod apply;
pub mod availability;
pub mod delays;
pub mod effect;
pub mod evaluate;
pub mod event;
pub mod guide;
pub mod issue_card;
pub mod locker;
pub mod progress;
pub mod session;
pub mod staff;

pub use delays::Delays;
pub use effect::{Effect, TimerId};
pub use event::{Completion, Event, UserAction};
pub use session::{Journey, Session};

use crate::catalogue::Catalogue;
use crate::config::kiosk::Centre;
use crate::domain::calendar::WorkCalendar;

#[cfg(test)]
mod tests;

/// A session: one resident's visit, from the first touch to the reset. Completions carry the
/// session they were started in, so an answer that arrives after a reset is dropped instead
/// of being shown to the next resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SessionId(pub u64);

/// What a step may read besides its state and the event.
pub struct Ctx<'a> {
    pub catalogue: &'a Catalogue,
    pub calendar: &'a WorkCalendar,
    pub centre: &'a Centre,
    pub kiosk_id: &'a str,
    pub delays: &'a Delays,
    /// Local time (the service centre's time zone) when the event is handled.
    pub now: jiff::Zoned,
    /// Values the step may need to create something new.
    pub fresh: Fresh,
}

/// New identifiers and codes, made by the runtime before each step so that steps stay pure.
#[derive(Debug, Clone)]
pub struct Fresh {
    pub application_id: uuid::Uuid,
    /// The resident's 6-digit code for progress inquiries; printed once, stored only hashed.
    pub query_code: String,
    /// The kiosk's next daily application sequence number (peeked: the runtime advances it
    /// when an application is stored).
    pub sequence: u32,
    pub evaluation_id: uuid::Uuid,
}
