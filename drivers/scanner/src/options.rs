//! What we ask a scanner for, and the pure rules that turn it into option values a given
//! backend accepts (backends spell modes and sources differently and constrain resolutions
//! and geometry in their own ways).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::sane::{Constraint, Unit, ValueType, fix, unfix};

/// Colour or gray.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// Colour: keeps red official seals (公章) visible.
    #[default]
    Color,
    Gray,
}

/// Flatbed glass or automatic document feeder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    #[default]
    Flatbed,
    Adf,
}

impl fmt::Display for ColorMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColorMode::Color => "color",
            ColorMode::Gray => "gray",
        })
    }
}

impl FromStr for ColorMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "color" | "colour" => Ok(ColorMode::Color),
            "gray" | "grey" => Ok(ColorMode::Gray),
            _ => Err(format!("unknown mode {s:?} (color or gray)")),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Flatbed => "flatbed",
            Source::Adf => "adf",
        })
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "flatbed" => Ok(Source::Flatbed),
            "adf" | "feeder" => Ok(Source::Adf),
            _ => Err(format!("unknown source {s:?} (flatbed or adf)")),
        }
    }
}

/// A page size in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PageSize {
    pub width_mm: f64,
    pub height_mm: f64,
}

impl PageSize {
    pub const A4: PageSize = PageSize {
        width_mm: 210.0,
        height_mm: 297.0,
    };
    pub const A5: PageSize = PageSize {
        width_mm: 148.0,
        height_mm: 210.0,
    };
}

impl Default for PageSize {
    fn default() -> Self {
        PageSize::A4
    }
}

/// One scan request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanSettings {
    pub dpi: u16,
    pub mode: ColorMode,
    pub source: Source,
    pub page: PageSize,
    /// Most pages taken from the feeder in one batch.
    pub max_pages: u32,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            dpi: 300,
            mode: ColorMode::Color,
            source: Source::Flatbed,
            page: PageSize::A4,
            max_pages: 50,
        }
    }
}

/// What a backend actually accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    pub dpi: u16,
    /// The backend's own word for the mode (e.g. `Color`, `Gray`).
    pub mode: String,
    /// The backend's own word for the source, if it has a source option.
    pub source: Option<String>,
    pub width_mm: f64,
    pub height_mm: f64,
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Picks the backend's mode string: exact SANE standard names first (`Color`, `Gray`), then
/// vendor spellings, never line-art or halftone.
pub fn pick_mode(choices: &[String], mode: ColorMode) -> Option<&String> {
    let (exact, words): (&str, &[&str]) = match mode {
        ColorMode::Color => ("color", &["color", "colour", "rgb", "24bit", "24 bit"]),
        ColorMode::Gray => ("gray", &["gray", "grey", "8bit", "8 bit"]),
    };
    let banned = ["lineart", "line art", "halftone", "binary", "black", "48"];
    choices.iter().find(|c| lower(c) == exact).or_else(|| {
        choices.iter().find(|c| {
            let l = lower(c);
            words.iter().any(|w| l.contains(w)) && !banned.iter().any(|b| l.contains(b))
        })
    })
}

/// Picks the backend's source string (`Flatbed`, `ADF`, `Automatic Document Feeder`,
/// `ADF Front` …), preferring single-sided feeder entries.
pub fn pick_source(choices: &[String], source: Source) -> Option<&String> {
    match source {
        Source::Flatbed => choices.iter().find(|c| {
            let l = lower(c);
            l.contains("flatbed") || l == "normal" || l.contains("glass")
        }),
        Source::Adf => {
            let feeder = |c: &&String| {
                let l = lower(c);
                l.contains("adf") || l.contains("feeder") || l.contains("automatic document")
            };
            let simplex = |c: &&String| {
                let l = lower(c);
                !l.contains("duplex") && !l.contains("back") && !l.contains("rear")
            };
            choices
                .iter()
                .find(|c| feeder(c) && simplex(c))
                .or_else(|| choices.iter().find(feeder))
        }
    }
}

/// Rounds to a whole number within the range of a SANE word (NaN becomes 0).
fn round_word(v: f64) -> i64 {
    if v.is_nan() {
        return 0;
    }
    let clamped = v.round().clamp(f64::from(i32::MIN), f64::from(i32::MAX));
    // In i32 range after the clamp, so the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    let word = clamped as i64;
    word
}

/// Rounds `value` (a raw SANE word) into a range constraint.
fn into_range(value: i64, min: i32, max: i32, quant: i32) -> i32 {
    let (min, max) = (i64::from(min.min(max)), i64::from(max.max(min)));
    let mut v = value.clamp(min, max);
    if quant > 0 {
        let q = i64::from(quant);
        v = min + ((v - min) + q / 2) / q * q;
        if v > max {
            v -= q;
        }
        v = v.clamp(min, max);
    }
    i32::try_from(v).unwrap_or(0)
}

/// The raw word to set for a numeric option so that it is as close to `wanted` (in the
/// option's unit: dpi or mm) as the constraint allows.
pub fn pick_number(value_type: ValueType, constraint: &Constraint, wanted: f64) -> i32 {
    let to_word = |v: f64| -> i64 {
        if value_type == ValueType::Fixed {
            i64::from(fix(v))
        } else {
            round_word(v)
        }
    };
    let from_word = |w: i32| -> f64 {
        if value_type == ValueType::Fixed {
            unfix(w)
        } else {
            f64::from(w)
        }
    };
    match constraint {
        Constraint::Range { min, max, quant } => into_range(to_word(wanted), *min, *max, *quant),
        Constraint::Words(words) if !words.is_empty() => words
            .iter()
            .copied()
            .min_by(|a, b| {
                let da = (from_word(*a) - wanted).abs();
                let db = (from_word(*b) - wanted).abs();
                // Ties go to the higher value (a sharper scan).
                da.total_cmp(&db).then(b.cmp(a))
            })
            .unwrap_or(0),
        _ => i32::try_from(to_word(wanted)).unwrap_or(0),
    }
}

/// A raw numeric word back in the option's unit.
pub fn word_value(value_type: ValueType, word: i32) -> f64 {
    if value_type == ValueType::Fixed {
        unfix(word)
    } else {
        f64::from(word)
    }
}

/// Millimetres in the option's unit (mm, or pixels at `dpi`).
pub fn mm_in_unit(unit: Unit, mm: f64, dpi: f64) -> f64 {
    match unit {
        Unit::Pixel => mm / 25.4 * dpi,
        _ => mm,
    }
}

/// The lowest value a constraint allows (the top-left corner of the scan area).
pub fn lowest(constraint: &Constraint) -> Option<i32> {
    match constraint {
        Constraint::Range { min, .. } => Some(*min),
        Constraint::Words(w) => w.iter().copied().min(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn picks_modes_across_vendor_spellings() {
        let test_backend = strings(&["Gray", "Color"]);
        assert_eq!(pick_mode(&test_backend, ColorMode::Color).unwrap(), "Color");
        assert_eq!(pick_mode(&test_backend, ColorMode::Gray).unwrap(), "Gray");
        let vendor = strings(&["Lineart", "Halftone", "True Gray", "24bit Color"]);
        assert_eq!(pick_mode(&vendor, ColorMode::Gray).unwrap(), "True Gray");
        assert_eq!(pick_mode(&vendor, ColorMode::Color).unwrap(), "24bit Color");
        assert!(pick_mode(&strings(&["Lineart"]), ColorMode::Gray).is_none());
    }

    #[test]
    fn picks_sources() {
        let test_backend = strings(&["Flatbed", "Automatic Document Feeder"]);
        assert_eq!(
            pick_source(&test_backend, Source::Flatbed).unwrap(),
            "Flatbed"
        );
        assert_eq!(
            pick_source(&test_backend, Source::Adf).unwrap(),
            "Automatic Document Feeder"
        );
        let duplex = strings(&["ADF Duplex", "ADF Front", "ADF Back"]);
        assert_eq!(pick_source(&duplex, Source::Adf).unwrap(), "ADF Front");
        assert!(pick_source(&duplex, Source::Flatbed).is_none());
        assert!(pick_source(&strings(&["Flatbed"]), Source::Adf).is_none());
    }

    #[test]
    fn fits_numbers_into_constraints() {
        // The test backend: resolution Fixed 1..1200 step 1.
        let range = Constraint::Range {
            min: fix(1.0),
            max: fix(1200.0),
            quant: fix(1.0),
        };
        assert_eq!(pick_number(ValueType::Fixed, &range, 300.0), fix(300.0));
        assert_eq!(pick_number(ValueType::Fixed, &range, 5000.0), fix(1200.0));
        // Typical flatbed word list.
        let words = Constraint::Words(vec![75, 150, 300, 600, 1200]);
        assert_eq!(pick_number(ValueType::Int, &words, 200.0), 150);
        assert_eq!(pick_number(ValueType::Int, &words, 225.0), 300);
        assert_eq!(pick_number(ValueType::Int, &words, 10_000.0), 1200);
        // Geometry in mm with a 0..215.9 range and quant 0.
        let geometry = Constraint::Range {
            min: 0,
            max: fix(215.9),
            quant: 0,
        };
        assert_eq!(pick_number(ValueType::Fixed, &geometry, 297.0), fix(215.9));
        // Int range with a step.
        let stepped = Constraint::Range {
            min: 50,
            max: 600,
            quant: 25,
        };
        assert_eq!(pick_number(ValueType::Int, &stepped, 310.0), 300);
        assert_eq!(pick_number(ValueType::Int, &stepped, 599.0), 600);
        assert_eq!(pick_number(ValueType::Int, &Constraint::None, 300.4), 300);
        assert!((word_value(ValueType::Fixed, fix(297.0)) - 297.0).abs() < 1e-3);
        assert!((mm_in_unit(Unit::Pixel, 25.4, 300.0) - 300.0).abs() < 1e-9);
        assert_eq!(lowest(&geometry), Some(0));
    }

    #[test]
    fn parses_command_line_words() {
        assert_eq!("Color".parse::<ColorMode>(), Ok(ColorMode::Color));
        assert_eq!("grey".parse::<ColorMode>(), Ok(ColorMode::Gray));
        assert!("lineart".parse::<ColorMode>().is_err());
        assert_eq!("ADF".parse::<Source>(), Ok(Source::Adf));
        assert_eq!(Source::Flatbed.to_string(), "flatbed");
    }
}
