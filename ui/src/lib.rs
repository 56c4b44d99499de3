//! The kiosk's screens, generated from the `.slint` files beside this crate. Rust talks to
//! them only through the globals in `api.slint`.
#![forbid(unsafe_code)]
#![allow(clippy::all, clippy::pedantic)] // generated code

slint::include_modules!();
