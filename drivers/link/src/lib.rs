//! Byte links to kiosk devices and the words every device driver shares.
//!
//! A driver talks to its device through a [`Link`]: bytes out, bytes in with a deadline,
//! and a way to throw away stale input. The same driver code therefore runs against a real
//! serial port, a USB bulk pipe, a TCP socket, an in-memory pair in unit tests, or a
//! pseudo-terminal with a simulator on the other end.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod device;
pub mod link;
pub mod memory;
pub mod port;
pub mod pty;
pub mod serial;
pub mod tcp;
pub mod usb;

pub use backoff::Backoff;
pub use device::{DeviceState, DeviceStatus};
pub use link::{Link, LinkError, open};
pub use port::{Port, PortError};
