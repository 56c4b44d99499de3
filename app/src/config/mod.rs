//! The one module that reads configuration files: `kiosk.toml`, the one-thing catalogue and
//! the working-day calendar. Everything is typed, unknown keys are errors, and every error
//! names the file, the line and the key and says what was expected, all at once.

pub mod calendar;
pub mod checked_toml;
pub mod kiosk;

pub use checked_toml::{Loc, Problem};
pub use kiosk::KioskConfig;

use std::fmt;
use std::path::Path;

/// Everything wrong with a set of files, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<Problem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads a file, turning "not there" and "not UTF-8" into a located problem.
pub(crate) fn read_file(path: &Path) -> Result<String, Problem> {
    std::fs::read(path)
        .map_err(|e| {
            let reason = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found".to_owned(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                _ => e.to_string(),
            };
            problem_at(path, 0, reason)
        })
        .and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| problem_at(path, 0, "not valid UTF-8 text"))
        })
}

pub(crate) fn problem_at(path: &Path, line: usize, message: impl Into<String>) -> Problem {
    Problem {
        loc: Loc::new(
            std::path::PathBuf::from(crate::privacy::redact(&path.to_string_lossy())),
            line,
            "",
        ),
        message: crate::privacy::redact(&message.into()),
    }
}
