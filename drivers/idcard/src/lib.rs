//! Second-generation resident ID card readers (居民身份证阅读器, GA 467 `SAM_V` protocol).
//!
//! - [`id_number`]: the citizen ID number check (GB 11643) and masking. It depends on
//!   nothing else and may be used by any part of the kiosk.
//! - [`protocol`]: frames, the streaming decoder, commands and status words. Pure.
//! - [`identity`]: the text block of the four card types, decoded into an [`Identity`].
//! - [`driver`]: the blocking driver over any [`kiosk_link::Link`].
//! - [`transport`]: opening serial, native USB (split pipes) and TCP ports.
//! - [`handle`]: the device task and the app's [`Handle`].
//! - [`photo`]: the WLT photo decoder trait and the run-time vendor library loader.
//! - [`sim`]: the wire-level reader simulator with scripted faults.
//! - [`cli`]: `kiosk device idcard …` and `kiosk sim idcard …`.
//!
//! For the app:
//!
//! ```no_run
//! use kiosk_idcard::{Handle, Options, transport};
//! let port: kiosk_link::Port = "/dev/ttyUSB0".parse().unwrap();
//! let options = Options::default();
//! let handle = Handle::spawn(transport::opener(port, &options), options);
//! let mut events = handle.subscribe();
//! ```
// Denied everywhere; only `photo::vendor` (the FFI call into a vendor library) allows it.
#![deny(unsafe_code)]

pub mod cli;
pub mod driver;
pub mod error;
pub mod handle;
pub mod id_number;
pub mod identity;
pub mod photo;
pub mod protocol;
pub mod sim;
pub mod transport;

pub use driver::{Driver, ReadOptions, Timeouts};
pub use error::Error;
pub use handle::{Event, Handle, Opener, Options};
pub use identity::{AppendedAddress, CardType, Gender, Identity, IdentityError, ValidUntil};
pub use transport::open_port;
