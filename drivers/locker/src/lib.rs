//! Certificate lockers: KR-style RS485 lock boards (`8A b n 11 xor` to open, `80 b n 33` /
//! `80 b 00 33` to read the door sensors), several boards on one bus.
//!
//! - [`protocol`]: byte-exact frames, the XOR checksum, a streaming reply decoder.
//! - [`bank`]: the bank configuration (boards, compartments, sizes, sensor polarity).
//! - [`driver`]: the bus, and opens confirmed by the door sensor (`Opened`, `AlreadyOpen`,
//!   `Jammed`, `NoReply`), never re-sending an unlock.
//! - [`monitor`]: door and board tracking and the staff alerts (uncommanded open, door left
//!   open, board offline/online).
//! - [`handle`]: the device task and the app's cloneable [`LockerHandle`].
//! - [`sim`]: a simulated bank speaking the same bytes, with scripted faults.
//! - [`cli`]: `kiosk device locker …` and `kiosk sim locker …`.
#![forbid(unsafe_code)]

pub mod bank;
pub mod cli;
pub mod driver;
pub mod handle;
pub mod monitor;
pub mod protocol;
pub mod sim;

pub use bank::{Bank, BankConfig, CompartmentId, Size};
pub use driver::{BankStatus, CloseOutcome, Driver, NoReplyAt, OpenOutcome, Timeouts};
pub use handle::{HandleOptions, LockerError, LockerHandle, Opener};
pub use monitor::{LockerEvent, MonitorConfig};
pub use protocol::{Door, Polarity};
pub use sim::{SimConfig, SimControl};
