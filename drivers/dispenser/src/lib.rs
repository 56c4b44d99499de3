//! Card dispenser of the Creator CRT-591 family ("F2" protocol): the wire protocol, a
//! blocking driver over any [`kiosk_link::Link`], a simulator of the device side of the same
//! protocol, a device task with status events, and the technician command line.
//!
//! Facts come from the project's reference notes (dispenser-locker-scanner-pcsc.md §1.2 and
//! device-defaults.md): first command after opening is initialize "leave the card where it
//! is" (30 33) then status; both negative reply markers (0x45, 0x4E) are accepted; "to the
//! encoder" is the IC contact position (32 31).
#![forbid(unsafe_code)]

pub mod cli;
pub mod driver;
pub mod handle;
pub mod protocol;
pub mod sim;

pub use driver::{ChipReader, DispenserError, Driver, Timeouts};
pub use handle::{Event, Handle, HandleConfig};
pub use protocol::{
    CardPosition, ErrorCode, HopperLevel, InitMode, MoveTarget, RejectBin, Status, Vcc,
};
pub use sim::{Chip, SimConfig, SimControl, Simulator};
