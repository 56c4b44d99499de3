//! What differs between printer models and installations: paper width, cut command, QR
//! module size limit, the CJK font used for rare characters, and how a job's completion is
//! confirmed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::font::FontSource;
use crate::protocol::CutCommand;

/// Roll width. Both are 203 dpi thermal printers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PaperWidth {
    /// 58 mm paper: 384 printable dots, 32 columns (16 Chinese characters).
    Mm58,
    /// 80 mm paper: 576 printable dots, 48 columns (24 Chinese characters).
    #[default]
    Mm80,
}

impl PaperWidth {
    pub fn dots(self) -> u32 {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }

    /// Display columns at normal size (a 12-dot column; a Chinese character takes two).
    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }
}

impl fmt::Display for PaperWidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaperWidth::Mm58 => f.write_str("58"),
            PaperWidth::Mm80 => f.write_str("80"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad paper width {0:?} (expected 58 or 80)")]
pub struct PaperParseError(pub String);

impl FromStr for PaperWidth {
    type Err = PaperParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().trim_end_matches("mm") {
            "58" => Ok(PaperWidth::Mm58),
            "80" => Ok(PaperWidth::Mm80),
            _ => Err(PaperParseError(s.to_owned())),
        }
    }
}

impl Serialize for PaperWidth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PaperWidth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How the driver learns that a job has printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Completion {
    /// Append `GS r 1` to the job and wait for its answer: the printer processes it only
    /// after everything before it, and not while stopped for paper end. Default.
    #[default]
    GsR,
    /// For printers without `GS r`: after sending, poll real-time status for
    /// `Timeouts::settle` and take "still ready" as printed.
    StatusOnly,
}

/// One printer installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrinterProfile {
    pub paper: PaperWidth,
    /// The cut command this model accepts.
    pub cut: CutCommand,
    /// Lines fed before the cut so the last line clears the cutter.
    pub feed_before_cut: u8,
    /// Largest QR module (dots); the actual size is fitted to the paper and the payload.
    pub qr_max_module: u8,
    /// CJK font for characters the printer's font cannot draw.
    pub font: FontSource,
    pub completion: Completion,
}

impl Default for PrinterProfile {
    fn default() -> Self {
        let cut = CutCommand::FullB(0);
        PrinterProfile {
            paper: PaperWidth::Mm80,
            cut,
            feed_before_cut: cut.default_feed_lines(),
            qr_max_module: 8,
            font: FontSource::default(),
            completion: Completion::GsR,
        }
    }
}

impl PrinterProfile {
    pub fn new(paper: PaperWidth, cut: CutCommand) -> Self {
        PrinterProfile {
            paper,
            cut,
            feed_before_cut: cut.default_feed_lines(),
            ..PrinterProfile::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_widths() {
        assert_eq!("58".parse::<PaperWidth>().unwrap(), PaperWidth::Mm58);
        assert_eq!("80mm".parse::<PaperWidth>().unwrap(), PaperWidth::Mm80);
        assert!("76".parse::<PaperWidth>().is_err());
        assert_eq!(PaperWidth::Mm58.columns(), 32);
        assert_eq!(PaperWidth::Mm80.dots(), 576);
    }

    #[test]
    fn profile_defaults_follow_the_cut() {
        let p = PrinterProfile::new(PaperWidth::Mm58, CutCommand::PartialA);
        assert_eq!(p.feed_before_cut, 5);
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"cut\":\"partial-a\""), "{json}");
        let back: PrinterProfile = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }
}
