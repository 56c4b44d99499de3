//! The runtime: effects carried out in one place, answers fed back as events.

pub mod core;

pub use self::core::{Clock, Core, FreshSource, Inbox, Io, Parts, Pump, Timers, View};
