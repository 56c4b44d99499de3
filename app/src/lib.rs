//! The town service-centre kiosk: configuration, the one-thing catalogue, journeys, storage
//! and platform sync. `main.rs` is the composition root.
#![forbid(unsafe_code)]

pub mod catalogue;
pub mod check;
pub mod config;
pub mod domain;
pub mod flows;
pub mod logging;
pub mod privacy;
pub mod runtime;
pub mod screens;
pub mod ui_bridge;
