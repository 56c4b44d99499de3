//! Plain data and rules of the service: people, applications, working days, what residents
//! type. No I/O here.

pub mod application;
pub mod calendar;
pub mod evaluation;
pub mod locker;
pub mod person;
pub mod progress;
pub mod text;
pub mod validate;
