//! Card face printing for social security cards issued on the spot: the face layout
//! (CR80 at 300 dpi, CJK text, photo or silhouette), a card-printer driver trait, a driver
//! for a CUPS/IPP queue, and a simulator that writes PNGs.
#![forbid(unsafe_code)]

pub mod face;
pub mod ipp;
pub mod printer;
pub mod sim;
pub mod text;

pub use face::{CardFace, FaceConfig, FaceRenderer, RenderError, to_png};
pub use ipp::IppPrinter;
pub use printer::{
    CardPrinter, JobId, JobState, PrintJob, PrinterError, PrinterState, PrinterStatus, Ribbon,
};
pub use sim::{SimControl, SimPrinter};
pub use text::{FontError, FontSpec};
