//! Plain data and rules of the service: working days, applications, materials, progress.
//! No I/O here.

pub mod calendar;
