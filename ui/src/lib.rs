//! The kiosk's screens, generated from the `.slint` files beside this crate. Rust talks to
//! them only through the globals in `api.slint`.
//!
//! This crate holds generated code only, so the workspace lints are relaxed here: Slint's
//! generated code uses `unsafe` for its vtables, `unwrap`/`panic!` on its own invariants, and
//! `todo!` where a Rust-written component would be embedded.
#![allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented
)]

slint::include_modules!();
