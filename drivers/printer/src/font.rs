//! Drawing text with a CJK font into 1-bit bitmaps at printer resolution (203 dpi, 24-dot
//! Chinese cells, 12-dot ASCII cells): the driver uses it for characters outside GB18030's
//! two-byte area (printed as `GS v 0` raster images), the simulator for every character.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ab_glyph::{Font, FontVec, PxScale, point};
use serde::{Deserialize, Serialize};

use crate::text;

/// The fonts-noto-cjk collection on Debian.
pub const DEFAULT_FONT_PATH: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// Face index of "Noto Sans Mono CJK SC" in that collection: simplified Chinese glyph forms
/// and half-width Latin, like a printer's built-in font.
pub const DEFAULT_FONT_INDEX: u32 = 7;

/// Height of a character cell at size 1, in dots (a Chinese cell is 24 × 24, ASCII 12 × 24).
pub const CELL: u32 = 24;
/// Baseline position inside an em box of a CJK font (ascender 880/1000 in Noto CJK).
const BASELINE: f32 = 0.88;

/// Where the CJK font is: a file and, for a collection (`.ttc`), the face index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FontSource {
    pub path: PathBuf,
    #[serde(default)]
    pub index: u32,
}

impl Default for FontSource {
    fn default() -> Self {
        FontSource {
            path: PathBuf::from(DEFAULT_FONT_PATH),
            index: DEFAULT_FONT_INDEX,
        }
    }
}

impl FontSource {
    /// A font file; the face index is 0 unless the file is the default collection.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let index = if path == Path::new(DEFAULT_FONT_PATH) {
            DEFAULT_FONT_INDEX
        } else {
            0
        };
        FontSource { path, index }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("cannot read font {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} face {index} is not a usable font")]
    Invalid { path: String, index: u32 },
}

/// A loaded CJK font. Cheap to share (`Arc`).
pub struct CjkFont {
    font: FontVec,
    source: FontSource,
}

impl std::fmt::Debug for CjkFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CjkFont")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl CjkFont {
    pub fn load(source: &FontSource) -> Result<Arc<Self>, FontError> {
        let path = source.path.display().to_string();
        let data = std::fs::read(&source.path).map_err(|e| FontError::Read {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let font = FontVec::try_from_vec_and_index(data, source.index).map_err(|_| {
            FontError::Invalid {
                path,
                index: source.index,
            }
        })?;
        Ok(Arc::new(CjkFont {
            font,
            source: source.clone(),
        }))
    }

    pub fn source(&self) -> &FontSource {
        &self.source
    }

    /// True when the font has a real glyph (not `.notdef`) for `c`.
    pub fn has_glyph(&self, c: char) -> bool {
        self.font.glyph_id(c).0 != 0
    }

    fn scale_for_em(&self, em_x: f32, em_y: f32) -> PxScale {
        let upem = self.font.units_per_em().unwrap_or(1000.0);
        let height = self.font.height_unscaled();
        let k = if upem > 0.0 { height / upem } else { 1.0 };
        PxScale {
            x: em_x * k,
            y: em_y * k,
        }
    }

    /// Draws `c` with its cell's top-left corner at (`x`, `y`); the em box is
    /// `CELL·wmul × CELL·hmul` dots. Emphasis (bold) strikes the glyph twice, one dot apart,
    /// as thermal printers do.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    pub fn draw_char(&self, bmp: &mut Bitmap, c: char, x: u32, y: u32, size: (u8, u8), bold: bool) {
        self.draw_char_ink(bmp, c, x, y, size, bold, true);
    }

    /// As [`CjkFont::draw_char`], drawing with `ink` (false: white, for reverse print).
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::too_many_arguments
    )]
    pub fn draw_char_ink(
        &self,
        bmp: &mut Bitmap,
        c: char,
        x: u32,
        y: u32,
        size: (u8, u8),
        bold: bool,
        ink: bool,
    ) {
        let em_x = (CELL * u32::from(size.0.max(1))) as f32;
        let em_y = (CELL * u32::from(size.1.max(1))) as f32;
        let scale = self.scale_for_em(em_x, em_y);
        let glyph = self
            .font
            .glyph_id(c)
            .with_scale_and_position(scale, point(x as f32, y as f32 + em_y * BASELINE));
        let Some(outlined) = self.font.outline_glyph(glyph) else {
            return; // a space, or an empty glyph
        };
        let bounds = outlined.px_bounds();
        let passes: &[i64] = if bold { &[0, 1] } else { &[0] };
        outlined.draw(|gx, gy, coverage| {
            if coverage < 0.5 {
                return;
            }
            let px = bounds.min.x.floor() as i64 + i64::from(gx);
            let py = bounds.min.y.floor() as i64 + i64::from(gy);
            for dx in passes {
                bmp.set_signed(px + dx, py, ink);
            }
        });
    }

    /// Renders one line of text exactly as the printer would lay it out (ASCII in half
    /// cells, everything else in full cells) at size `wmul × hmul`.
    pub fn render_line(&self, line: &str, size: (u8, u8), bold: bool) -> Bitmap {
        let wmul = u32::from(size.0.max(1));
        let hmul = u32::from(size.1.max(1));
        let cols = u32::try_from(text::width(line)).unwrap_or(u32::MAX / 64);
        let mut bmp = Bitmap::new(cols.saturating_mul(CELL / 2 * wmul), CELL * hmul);
        let mut x = 0u32;
        for c in line.chars() {
            self.draw_char(&mut bmp, c, x, 0, size, bold);
            let cols = u32::try_from(text::columns(c)).unwrap_or(2);
            x = x.saturating_add(cols * CELL / 2 * wmul);
        }
        bmp
    }
}

/// A 1-bit image, one `bool` per dot (true = black).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    dots: Vec<bool>,
}

impl Bitmap {
    pub fn new(width: u32, height: u32) -> Self {
        let len = usize::try_from(u64::from(width) * u64::from(height)).unwrap_or(0);
        Bitmap {
            width,
            height,
            dots: vec![false; len],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    fn index(&self, x: u32, y: u32) -> Option<usize> {
        if x < self.width && y < self.height {
            usize::try_from(u64::from(y) * u64::from(self.width) + u64::from(x)).ok()
        } else {
            None
        }
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        self.index(x, y)
            .and_then(|i| self.dots.get(i))
            .copied()
            .unwrap_or(false)
    }

    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if let Some(i) = self.index(x, y)
            && let Some(d) = self.dots.get_mut(i)
        {
            *d = black;
        }
    }

    pub fn set_signed(&mut self, x: i64, y: i64, black: bool) {
        if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) {
            self.set(x, y, black);
        }
    }

    /// Swaps black and white (reverse print).
    pub fn invert(&mut self) {
        for d in &mut self.dots {
            *d = !*d;
        }
    }

    pub fn black_dots(&self) -> usize {
        self.dots.iter().filter(|d| **d).count()
    }

    /// Packs the image as `GS v 0` data: rows of `ceil(width/8)` bytes, most significant
    /// bit = leftmost dot. Returns (bytes per row, rows, data).
    pub fn to_raster(&self) -> (u16, u16, Vec<u8>) {
        let row_bytes = self.width.div_ceil(8);
        let mut data = Vec::with_capacity(usize::try_from(row_bytes * self.height).unwrap_or(0));
        for y in 0..self.height {
            for bx in 0..row_bytes {
                let mut byte = 0u8;
                for bit in 0..8 {
                    if self.get(bx * 8 + bit, y) {
                        byte |= 0x80 >> bit;
                    }
                }
                data.push(byte);
            }
        }
        (
            u16::try_from(row_bytes).unwrap_or(u16::MAX),
            u16::try_from(self.height).unwrap_or(u16::MAX),
            data,
        )
    }
}

/// Real-time commands (`DLE EOT`, `DLE ENQ`, `DLE DC4`) are acted on by the printer wherever
/// their bytes appear, even inside image data. Any `10 04`, `10 05` or `10 14` in raster
/// data is broken up by darkening one dot (`10` → `18`: the dot right of a black dot), which
/// is invisible at 203 dpi.
pub fn defuse_realtime_sequences(data: &mut [u8]) -> usize {
    let mut changed = 0;
    for i in 0..data.len().saturating_sub(1) {
        if data.get(i) == Some(&0x10)
            && matches!(data.get(i + 1), Some(0x04 | 0x05 | 0x14))
            && let Some(b) = data.get_mut(i)
        {
            *b = 0x18;
            changed += 1;
        }
    }
    changed
}

/// True when `bytes` contain a sequence a printer would take as a real-time command.
pub fn contains_realtime_sequence(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|w| w[0] == 0x10 && matches!(w[1], 0x04 | 0x05 | 0x14))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> Arc<CjkFont> {
        CjkFont::load(&FontSource::default()).unwrap()
    }

    #[test]
    fn renders_common_and_rare_characters() {
        let f = font();
        for c in ['办', 'A', '䶮', '𫖯', '㐀'] {
            assert!(f.has_glyph(c), "{c}");
        }
        let bmp = f.render_line("赵孟𫖯", (1, 1), false);
        assert_eq!(bmp.width(), 72);
        assert_eq!(bmp.height(), 24);
        assert!(bmp.black_dots() > 60, "{}", bmp.black_dots());
        let big = f.render_line("A", (2, 2), true);
        assert_eq!((big.width(), big.height()), (24, 48));
        assert!(big.black_dots() > 0);
    }

    #[test]
    fn raster_packing_is_msb_first() {
        let mut b = Bitmap::new(10, 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        let (w, h, data) = b.to_raster();
        assert_eq!((w, h), (2, 2));
        assert_eq!(data, vec![0x80, 0x00, 0x00, 0x40]);
    }

    #[test]
    fn realtime_sequences_in_image_data_are_defused() {
        let mut data = vec![0x10, 0x04, 0x01, 0x10, 0x14, 0x10, 0x05, 0x10, 0x10];
        assert!(contains_realtime_sequence(&data));
        assert_eq!(defuse_realtime_sequences(&mut data), 3);
        assert!(!contains_realtime_sequence(&data));
    }

    #[test]
    fn missing_font_is_a_clear_error() {
        let err = CjkFont::load(&FontSource::from_path("/nonexistent/font.ttc")).unwrap_err();
        assert!(err.to_string().contains("cannot read font"));
    }
}
