//! The runtime: effects carried out in one place, answers fed back as events.

pub mod core;
pub mod post;
pub mod system;

pub use self::core::{Clock, Core, FreshSource, Inbox, Io, Parts, Pump, Timers, View};
pub use self::post::{Mailbox, Poster, mailbox};
