//! ESC/POS receipt printers for the kiosk: Chinese slips (GB18030 after `FS &`, QR model 2,
//! rare characters as raster images) built with the `escpos` crate, real-time status
//! (`DLE EOT` 1–4), session-bound jobs that are never queued to print later, a device task,
//! a wire-level printer simulator that renders every slip to PNG, and the technician CLI.
//!
//! Modules follow DESIGN.md §3: [`protocol`] (pure bytes and bit tables), [`driver`] (blocking
//! driver on a `kiosk_link::Link`), [`sim`] (the printer side of the same bytes), [`handle`]
//! (the device task), [`cli`]. Slips are plain-data structs in [`slips`].
#![forbid(unsafe_code)]

pub mod cli;
pub mod driver;
pub mod font;
pub mod handle;
pub mod job;
pub mod layout;
pub mod profile;
pub mod protocol;
pub mod samples;
pub mod sim;
pub mod slips;
pub mod text;

pub use driver::{PrinterDriver, Timeouts};
pub use font::{CjkFont, FontSource};
pub use handle::{Handle, HandleConfig, Opener, PrinterEvent};
pub use job::{ClearOutcome, JobReport, PrintError, ResidentReason, SessionId};
pub use layout::{SlipBytes, SlipError};
pub use profile::{Completion, PaperWidth, PrinterProfile};
pub use protocol::{Condition, CutCommand, PrinterStatus};
pub use sim::{SimConfig, SimPrinter, SlipRecord};
pub use slips::Document;
