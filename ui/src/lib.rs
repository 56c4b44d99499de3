//! The kiosk's screens, generated from the `.slint` files beside this crate. Rust talks to
//! them only through the globals in `api.slint`.
// No forbid(unsafe_code) here: Slint's generated code allows it locally for its vtables.
#![allow(clippy::all, clippy::pedantic)] // generated code

slint::include_modules!();
