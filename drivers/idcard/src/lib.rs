//! Second-generation resident ID card readers (GA 467 SAM protocol).
//!
//! [`id_number`] holds the citizen ID number check (GB 11643) and masking; it depends on
//! nothing else and may be used by any part of the kiosk.
#![forbid(unsafe_code)]

pub mod driver;
pub mod error;
pub mod id_number;
pub mod identity;
pub mod protocol;

pub use driver::{Driver, ReadOptions, Timeouts};
pub use error::Error;
pub use identity::{AppendedAddress, CardType, Gender, Identity, IdentityError, ValidUntil};
