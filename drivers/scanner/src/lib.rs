//! Document scanner for the town service kiosk.
//!
//! - [`sane`]: a small hand-written binding to libsane (the only module with `unsafe`: FFI).
//! - [`protocol`]: pure SANE data handling: status table, parameter checks, line assembly.
//! - [`driver`]: [`Scanner`]: open a device, set resolution, mode, source and page size, scan
//!   page by page (flatbed or feeder), streaming each page into the store.
//! - [`encode`], [`thumb`], [`store`], [`material`]: JPEG pages with a screen thumbnail,
//!   stored by SHA-256 of the JPEG; several pages make a [`Material`], exported as one PDF.
//! - [`handle`]: the device task and its cloneable [`Handle`] (scans off the UI thread, with
//!   progress events and cancel).
//! - [`sim`]: SANE's `test` backend as the simulator, enabled through the project's own
//!   `resources/sane` (`SANE_CONFIG_DIR`), and its fault options.
//! - [`cli`]: `kiosk device scanner list` and `kiosk device scanner --device NAME scan …`.
//!
//! Errors are [`ScanError`]s, each with plain Chinese and English messages for residents
//! ([`ScanError::resident_message_zh`], [`ScanError::resident_message_en`]); a jam or an empty
//! feeder is never swallowed.

pub mod cli;
pub mod driver;
pub mod encode;
pub mod error;
pub mod handle;
pub mod jpeg_header;
pub mod material;
pub mod options;
pub mod protocol;
pub mod sane;
pub mod sim;
pub mod store;
pub mod thumb;

pub use driver::{CancelToken, ScanEvent, Scanner};
pub use encode::EncodeOptions;
pub use error::{ErrorKind, ScanError};
pub use handle::{Handle, HandleConfig};
pub use material::Material;
pub use options::{ColorMode, PageSize, ScanSettings, Source};
pub use sane::DeviceInfo;
pub use store::{PageStore, StoredPage};
