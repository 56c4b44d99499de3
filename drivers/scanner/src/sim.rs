//! The scanner "simulator" is a real SANE device: SANE's own `test` backend (`libsane-test.so`,
//! shipped with `libsane1`). It speaks the same C API as any scanner, so every test and
//! `kiosk run --simulate` exercise the real driver code; nothing here mocks the driver.
//!
//! It is enabled without touching `/etc/sane.d`: the project's `resources/sane/` holds a
//! `dll.conf` listing only `test` and a `test.conf` (13 devices, A4-sized geometry), and
//! [`use_test_backend`] points `SANE_CONFIG_DIR` there before SANE starts.
//!
//! Faults are the backend's own options (see `man sane-test`): `read-return-value` makes every
//! `sane_read` fail with a chosen status (jam, no documents, cover open, I/O error, busy), and
//! the `Automatic Document Feeder` source reports empty after 10 pages. They are set on the
//! open device, from the thread that owns it, between scans (the backend refuses option
//! changes while scanning): [`Scanner::inject_fault`] or [`crate::Handle::inject_fault`].
//! Option values persist per device until `sane_exit`, so tests give every scenario its own
//! device (`test:0` … `test:12`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::driver::Scanner;
use crate::error::ScanError;

/// The first device of the `test` backend.
pub const DEVICE: &str = "test:0";

/// Option names of the `test` backend.
pub mod options {
    pub const READ_RETURN_VALUE: &str = "read-return-value";
    pub const TEST_PICTURE: &str = "test-picture";
    pub const READ_LIMIT: &str = "read-limit";
    pub const READ_LIMIT_SIZE: &str = "read-limit-size";
    pub const READ_DELAY: &str = "read-delay";
    pub const READ_DELAY_DURATION: &str = "read-delay-duration";
    pub const HAND_SCANNER: &str = "hand-scanner";
}

/// A fault the `test` backend can be told to produce on every `sane_read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Normal scanning.
    None,
    Jammed,
    NoDocuments,
    CoverOpen,
    /// `SANE_STATUS_IO_ERROR` from `sane_read`: what a USB scanner reports when it is
    /// unplugged mid-page. The driver reports it as the device gone.
    IoError,
    Busy,
}

impl Fault {
    /// The `read-return-value` word for this fault.
    pub fn read_return_value(self) -> &'static str {
        match self {
            Fault::None => "Default",
            Fault::Jammed => "SANE_STATUS_JAMMED",
            Fault::NoDocuments => "SANE_STATUS_NO_DOCS",
            Fault::CoverOpen => "SANE_STATUS_COVER_OPEN",
            Fault::IoError => "SANE_STATUS_IO_ERROR",
            Fault::Busy => "SANE_STATUS_DEVICE_BUSY",
        }
    }
}

/// The `test` backend's pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestPicture {
    SolidBlack,
    SolidWhite,
    ColorPattern,
    /// Black and white 10 mm squares: compresses like a real printed page.
    Grid,
}

impl TestPicture {
    pub fn option_value(self) -> &'static str {
        match self {
            TestPicture::SolidBlack => "Solid black",
            TestPicture::SolidWhite => "Solid white",
            TestPicture::ColorPattern => "Color pattern",
            TestPicture::Grid => "Grid",
        }
    }
}

/// `resources/sane` under a resources directory.
pub fn config_dir(resources: &Path) -> PathBuf {
    resources.join("sane")
}

/// `resources/sane` of this source tree (for tests, benchmarks and development runs).
pub fn repo_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../resources/sane")
}

/// Points SANE at `config_dir` (see [`crate::sane::use_config_dir`]): call once at start-up,
/// before any scanner is opened.
pub fn use_test_backend(config_dir: &Path) -> Result<(), ScanError> {
    let dir = config_dir.canonicalize().map_err(|e| ScanError::Config {
        dir: config_dir.display().to_string(),
        problem: e.to_string(),
    })?;
    crate::sane::use_config_dir(&dir)
}

impl Scanner {
    /// Makes every following `sane_read` fail with `fault` (`test` backend only).
    pub fn inject_fault(&mut self, fault: Fault) -> Result<(), ScanError> {
        self.set_option_text(options::READ_RETURN_VALUE, fault.read_return_value())
    }

    /// Chooses the picture the `test` backend scans.
    pub fn set_test_picture(&mut self, picture: TestPicture) -> Result<(), ScanError> {
        self.set_option_text(options::TEST_PICTURE, picture.option_value())
    }

    /// Makes the `test` backend slow: at most `chunk` bytes per `sane_read`, then a pause of
    /// `delay_us` microseconds (1000–200000). `None` restores full speed.
    pub fn set_slow(&mut self, slow: Option<(u32, u32)>) -> Result<(), ScanError> {
        if let Some((chunk, delay_us)) = slow {
            self.set_option_text(options::READ_LIMIT, "yes")?;
            self.set_option_text(options::READ_LIMIT_SIZE, &chunk.to_string())?;
            self.set_option_text(options::READ_DELAY, "yes")?;
            self.set_option_text(options::READ_DELAY_DURATION, &delay_us.to_string())
        } else {
            self.set_option_text(options::READ_LIMIT, "no")?;
            self.set_option_text(options::READ_DELAY, "no")
        }
    }
}
