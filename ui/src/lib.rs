//! The kiosk's screens, generated from the `.slint` files beside this crate. Rust talks to
//! them only through the globals in `api.slint`.
//!
//! This crate holds generated code only, so the workspace lints are relaxed here: Slint's
//! generated code uses `unsafe` for its vtables and `unwrap`/`panic!` on its own invariants.
#![allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

slint::include_modules!();
