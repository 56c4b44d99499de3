//! The town service-centre kiosk: configuration, the one-thing catalogue, journeys, storage
//! and platform sync. `main.rs` is the composition root.
#![forbid(unsafe_code)]

pub mod assemble;
pub mod card_command;
pub mod catalogue;
pub mod check;
pub mod commands;
pub mod config;
pub mod devices;
pub mod domain;
pub mod failpoint;
pub mod flows;
pub mod forward;
pub mod heartbeat;
pub mod io;
pub mod locker_bank;
pub mod logging;
pub mod outbox;
pub mod platform;
pub mod privacy;
pub mod runtime;
pub mod screens;
pub mod store;
pub mod ui_bridge;
