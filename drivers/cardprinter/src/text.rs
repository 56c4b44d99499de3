//! Fonts and text drawing for the card face: a chain of fonts (the first that has a glyph
//! draws it), measuring, and anti-aliased drawing onto an RGB image with `ab_glyph`.

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontArc, GlyphId, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

/// Where the default CJK font lives on Debian (`fonts-noto-cjk`).
pub const NOTO_CJK_REGULAR: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
pub const NOTO_CJK_BOLD: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc";
/// Index of "Noto Sans CJK SC" (Simplified Chinese glyph shapes) in those collections
/// (`fc-query`: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK).
pub const NOTO_CJK_SC_INDEX: u32 = 2;

/// One font file and the face index inside a collection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FontSpec {
    pub path: PathBuf,
    #[serde(default)]
    pub index: u32,
}

impl FontSpec {
    pub fn new(path: impl Into<PathBuf>, index: u32) -> Self {
        FontSpec {
            path: path.into(),
            index,
        }
    }
}

/// Why fonts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("cannot read font {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} (face {index}) is not a usable font")]
    Invalid { path: PathBuf, index: u32 },
    #[error("no font given")]
    Empty,
}

/// Loads one face of a font file.
pub fn load(spec: &FontSpec) -> Result<FontArc, FontError> {
    let data = std::fs::read(&spec.path).map_err(|e| FontError::Read {
        path: spec.path.clone(),
        reason: e.to_string(),
    })?;
    let font = ab_glyph::FontVec::try_from_vec_and_index(data, spec.index).map_err(|_| {
        FontError::Invalid {
            path: spec.path.clone(),
            index: spec.index,
        }
    })?;
    Ok(FontArc::new(font))
}

/// Fonts tried in order for each character (the first is the main font; later ones cover
/// rare characters the main one lacks).
#[derive(Clone)]
pub struct FontChain {
    fonts: Vec<FontArc>,
}

impl std::fmt::Debug for FontChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FontChain({} fonts)", self.fonts.len())
    }
}

impl FontChain {
    pub fn load(specs: &[FontSpec]) -> Result<FontChain, FontError> {
        if specs.is_empty() {
            return Err(FontError::Empty);
        }
        let fonts = specs.iter().map(load).collect::<Result<Vec<_>, _>>()?;
        Ok(FontChain { fonts })
    }

    pub fn from_fonts(fonts: Vec<FontArc>) -> Option<FontChain> {
        (!fonts.is_empty()).then_some(FontChain { fonts })
    }

    /// The font and glyph that draw `c`, if any font has it.
    fn glyph(&self, c: char) -> Option<(&FontArc, GlyphId)> {
        self.fonts.iter().find_map(|f| {
            let id = f.glyph_id(c);
            (id.0 != 0).then_some((f, id))
        })
    }

    /// Characters of `text` no font in the chain can draw (whitespace excepted).
    pub fn missing(&self, text: &str) -> Vec<char> {
        let mut out: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace() && self.glyph(*c).is_none())
            .collect();
        out.dedup();
        out
    }

    /// Width in pixels of `text` at `size` px.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let scale = PxScale::from(size);
        text.chars()
            .map(|c| match self.glyph(c) {
                Some((f, id)) => f.as_scaled(scale).h_advance(id),
                None => size * 0.5,
            })
            .sum()
    }

    /// The size at most `max` (and at least `min`) at which `text` fits `width`; `None` when
    /// it does not fit even at `min`.
    pub fn fit(&self, text: &str, max: f32, min: f32, width: f32) -> Option<f32> {
        let w = self.width(text, max);
        if w <= width {
            return Some(max);
        }
        let size = (max * width / w).floor();
        (size >= min && self.width(text, size) <= width).then_some(size)
    }

    /// Ascent of the main font at `size` (the baseline is this far below the top).
    pub fn ascent(&self, size: f32) -> f32 {
        self.fonts
            .first()
            .map_or(size * 0.88, |f| f.as_scaled(PxScale::from(size)).ascent())
    }

    /// Draws `text` with its top-left at (`x`, `top`); returns the x after the last glyph.
    /// Characters no font has are skipped (callers check [`FontChain::missing`] first).
    pub fn draw(
        &self,
        img: &mut RgbImage,
        text: &str,
        x: f32,
        top: f32,
        size: f32,
        colour: [u8; 3],
    ) -> f32 {
        let scale = PxScale::from(size);
        let baseline = top + self.ascent(size);
        let mut caret = x;
        for c in text.chars() {
            let Some((font, id)) = self.glyph(c) else {
                caret += size * 0.5;
                continue;
            };
            let scaled = font.as_scaled(scale);
            let glyph = id.with_scale_and_position(scale, point(caret, baseline));
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    // Glyph-local pixel offsets are a few hundred at most.
                    #[allow(clippy::cast_precision_loss)]
                    let (px, py) = (bounds.min.x + gx as f32, bounds.min.y + gy as f32);
                    blend(img, px, py, colour, coverage);
                });
            }
            caret += scaled.h_advance(id);
        }
        caret
    }
}

/// Blends `colour` over the pixel at (`x`, `y`) with `alpha` (0–1); outside is ignored.
pub fn blend(img: &mut RgbImage, x: f32, y: f32, colour: [u8; 3], alpha: f32) {
    if x < 0.0 || y < 0.0 {
        return;
    }
    // Pixel coordinates are small non-negative whole numbers here.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (col, row) = (x as u32, y as u32);
    if col >= img.width() || row >= img.height() {
        return;
    }
    let alpha = alpha.clamp(0.0, 1.0);
    let Rgb(old) = *img.get_pixel(col, row);
    let mix = |before: u8, ink: u8| -> u8 {
        let value = f32::from(before) * (1.0 - alpha) + f32::from(ink) * alpha;
        // Clamped to the byte range just above.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let byte = value.round().clamp(0.0, 255.0) as u8;
        byte
    };
    img.put_pixel(
        col,
        row,
        Rgb([
            mix(old[0], colour[0]),
            mix(old[1], colour[1]),
            mix(old[2], colour[2]),
        ]),
    );
}

/// True when the default Noto CJK font is installed.
pub fn default_font_present() -> bool {
    Path::new(NOTO_CJK_REGULAR).exists()
}
