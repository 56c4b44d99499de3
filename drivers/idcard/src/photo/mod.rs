//! The ID card photo: 1024 bytes of vendor-compressed "WLT" data (reference A.6).
//!
//! No open decoder exists, so decoding sits behind [`PhotoDecoder`]. The production decoder
//! is a vendor library loaded at run time from a path in configuration ([`PhotoConfig`],
//! [`load`]); nothing of a vendor is in this repository. With no library configured,
//! [`load`] returns `None` and the app shows a placeholder. [`SimulatedPhotoDecoder`] draws
//! a plain test pattern for simulators and tests.

mod vendor;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use zeroize::Zeroize;

pub use vendor::VendorDecoder;

/// Width of a decoded card photo in pixels.
pub const PHOTO_WIDTH: u32 = 102;
/// Height of a decoded card photo in pixels.
pub const PHOTO_HEIGHT: u32 = 126;
/// Size of the photo as a 24-bit BMP file (rows padded to 308 bytes).
pub const BMP_FILE_LEN: usize = 38_862;
/// Size of the photo as raw 24-bit pixels.
pub const RAW_LEN: usize = 38_556;

/// A decoded photo: RGB, 8 bits per channel, rows top to bottom. Wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    pub width: u32,
    pub height: u32,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Photo")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl Drop for Photo {
    fn drop(&mut self) {
        self.rgb.zeroize();
    }
}

/// Why a photo could not be decoded or a decoder loaded.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo has {0} bytes; a card photo has 1024")]
    WrongInputLength(usize),
    #[error("cannot load the photo decoder library {library}: {reason}")]
    Load { library: String, reason: String },
    #[error("the photo decoder library {library} has no function {symbol}: {reason}")]
    Symbol {
        library: String,
        symbol: String,
        reason: String,
    },
    #[error("the photo decoder returned {0} (failure)")]
    DecoderFailed(i32),
    #[error("the photo decoder's output is not a usable image: {0}")]
    BadOutput(&'static str),
}

/// What the vendor function writes into its output buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputLayout {
    /// A BMP file if the buffer starts with `BM`, otherwise raw BGR rows top to bottom.
    #[default]
    Auto,
    /// A 24-bit BMP file (38 862 bytes for 102 × 126).
    Bmp,
    /// 102 × 126 × 3 bytes, blue-green-red, rows top to bottom.
    RawBgr,
    /// 102 × 126 × 3 bytes, red-green-blue, rows top to bottom.
    RawRgb,
}

/// Photo decoding in configuration (`[idcard.photo]` or wherever the app puts it).
///
/// ```toml
/// library = "/opt/vendor/lib/libwlt2bmp.so"
/// symbol = "wlt2bmp"
/// success_code = 1
/// output = "auto"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoConfig {
    /// Path of the vendor shared library; `None` (the default) means no decoding.
    pub library: Option<PathBuf>,
    /// Name of the exported function (see [`VendorDecoder`] for its C signature).
    pub symbol: String,
    /// What the function returns on success.
    pub success_code: i32,
    /// What the function writes.
    pub output: OutputLayout,
}

/// The function name of the common Linux `libwlt.so` (`int unpack(char*, char*, int)`).
/// For a `libwlt2bmp.so` with a `wlt2bmp` entry point, set `symbol = "wlt2bmp"`.
pub const DEFAULT_SYMBOL: &str = "unpack";

impl Default for PhotoConfig {
    fn default() -> Self {
        PhotoConfig {
            library: None,
            symbol: DEFAULT_SYMBOL.to_owned(),
            success_code: 1,
            output: OutputLayout::Auto,
        }
    }
}

/// Turns WLT bytes into pixels.
pub trait PhotoDecoder: Send + Sync {
    fn decode(&self, wlt: &[u8]) -> Result<Photo, PhotoError>;
}

/// Loads the decoder named in `config`; `Ok(None)` when none is configured.
pub fn load(config: &PhotoConfig) -> Result<Option<Arc<dyn PhotoDecoder>>, PhotoError> {
    let Some(library) = &config.library else {
        return Ok(None);
    };
    let decoder = VendorDecoder::load(library, &config.symbol, config.success_code, config.output)?;
    Ok(Some(Arc::new(decoder)))
}

/// Reads a 24-bit uncompressed BMP into top-to-bottom RGB.
pub fn bmp_to_photo(bmp: &[u8]) -> Result<Photo, PhotoError> {
    let u32_at = |at: usize| -> Option<u32> {
        let b = bmp.get(at..at + 4)?;
        Some(u32::from_le_bytes([
            *b.first()?,
            *b.get(1)?,
            *b.get(2)?,
            *b.get(3)?,
        ]))
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = bmp.get(at..at + 2)?;
        Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
    };
    if bmp.get(..2) != Some(b"BM") {
        return Err(PhotoError::BadOutput("no BMP signature"));
    }
    let offset = u32_at(10).ok_or(PhotoError::BadOutput("short BMP header"))? as usize;
    let width = u32_at(18).ok_or(PhotoError::BadOutput("short BMP header"))?;
    let raw_height = u32_at(22).ok_or(PhotoError::BadOutput("short BMP header"))?;
    let bpp = u16_at(28).ok_or(PhotoError::BadOutput("short BMP header"))?;
    let compression = u32_at(30).ok_or(PhotoError::BadOutput("short BMP header"))?;
    if bpp != 24 || compression != 0 {
        return Err(PhotoError::BadOutput("not a 24-bit uncompressed BMP"));
    }
    // A negative height (two's complement) means rows are stored top-down.
    #[allow(clippy::cast_possible_wrap)]
    let signed_height = raw_height as i32;
    let top_down = signed_height < 0;
    let height = signed_height.unsigned_abs();
    if width == 0 || height == 0 || width > 4096 || height > 4096 {
        return Err(PhotoError::BadOutput("implausible BMP size"));
    }
    let w = width as usize;
    let h = height as usize;
    let stride = (w * 3).div_ceil(4) * 4;
    let pixels = bmp
        .get(offset..offset + stride * h)
        .ok_or(PhotoError::BadOutput("BMP shorter than its pixels"))?;
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let row = if top_down { y } else { h - 1 - y };
        let line = pixels
            .get(row * stride..row * stride + w * 3)
            .ok_or(PhotoError::BadOutput("BMP row out of range"))?;
        for bgr in line.chunks_exact(3) {
            rgb.extend_from_slice(&[
                bgr.get(2).copied().unwrap_or(0),
                bgr.get(1).copied().unwrap_or(0),
                bgr.first().copied().unwrap_or(0),
            ]);
        }
    }
    Ok(Photo { width, height, rgb })
}

/// Reads raw 102 × 126 pixels, rows top to bottom.
pub fn raw_to_photo(raw: &[u8], bgr: bool) -> Result<Photo, PhotoError> {
    let pixels = raw.get(..RAW_LEN).ok_or(PhotoError::BadOutput(
        "raw output shorter than 102 x 126 x 3",
    ))?;
    let mut rgb = pixels.to_vec();
    if bgr {
        for px in rgb.chunks_exact_mut(3) {
            px.swap(0, 2);
        }
    }
    Ok(Photo {
        width: PHOTO_WIDTH,
        height: PHOTO_HEIGHT,
        rgb,
    })
}

/// Interprets a vendor output buffer per `layout`.
pub fn output_to_photo(out: &[u8], layout: OutputLayout) -> Result<Photo, PhotoError> {
    match layout {
        OutputLayout::Bmp => bmp_to_photo(out),
        OutputLayout::Auto if out.starts_with(b"BM") => bmp_to_photo(out),
        OutputLayout::RawBgr | OutputLayout::Auto => raw_to_photo(out, true),
        OutputLayout::RawRgb => raw_to_photo(out, false),
    }
}

/// A stand-in decoder for simulators and tests: a plain grey card-sized image whose shade
/// depends on the input, so different cards look different. It does not decode WLT.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedPhotoDecoder;

impl PhotoDecoder for SimulatedPhotoDecoder {
    fn decode(&self, wlt: &[u8]) -> Result<Photo, PhotoError> {
        if wlt.len() != crate::protocol::PHOTO_LEN {
            return Err(PhotoError::WrongInputLength(wlt.len()));
        }
        let shade = wlt.iter().fold(0u8, |a, b| a.wrapping_add(*b)) / 4 + 128;
        let mut rgb = Vec::with_capacity(RAW_LEN);
        for y in 0..PHOTO_HEIGHT {
            for x in 0..PHOTO_WIDTH {
                // A light background with a darker oval: reads as "a photo goes here".
                let dx = f64::from(x) - f64::from(PHOTO_WIDTH) / 2.0;
                let dy = f64::from(y) - f64::from(PHOTO_HEIGHT) / 2.4;
                let inside = (dx / 30.0).powi(2) + (dy / 38.0).powi(2) <= 1.0;
                let v = if inside { shade / 2 } else { shade };
                rgb.extend_from_slice(&[v, v, v.saturating_add(20)]);
            }
        }
        Ok(Photo {
            width: PHOTO_WIDTH,
            height: PHOTO_HEIGHT,
            rgb,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 24-bit bottom-up BMP whose pixel (x, y) is (x, y, 7).
    pub(crate) fn test_bmp(w: u32, h: u32) -> Vec<u8> {
        let stride = (w as usize * 3).div_ceil(4) * 4;
        let size = 54 + stride * h as usize;
        let mut b = vec![0u8; size];
        b[0..2].copy_from_slice(b"BM");
        b[2..6].copy_from_slice(&u32::try_from(size).unwrap().to_le_bytes());
        b[10..14].copy_from_slice(&54u32.to_le_bytes());
        b[14..18].copy_from_slice(&40u32.to_le_bytes());
        b[18..22].copy_from_slice(&w.to_le_bytes());
        b[22..26].copy_from_slice(&h.to_le_bytes());
        b[26..28].copy_from_slice(&1u16.to_le_bytes());
        b[28..30].copy_from_slice(&24u16.to_le_bytes());
        for y in 0..h as usize {
            let row = h as usize - 1 - y;
            for x in 0..w as usize {
                let at = 54 + row * stride + x * 3;
                b[at] = 7; // blue
                b[at + 1] = u8::try_from(y).unwrap();
                b[at + 2] = u8::try_from(x).unwrap();
            }
        }
        b
    }

    #[test]
    fn card_sized_bmp_is_38862_bytes_and_decodes_top_down() {
        let bmp = test_bmp(PHOTO_WIDTH, PHOTO_HEIGHT);
        assert_eq!(bmp.len(), BMP_FILE_LEN);
        let p = bmp_to_photo(&bmp).unwrap();
        assert_eq!((p.width, p.height), (102, 126));
        assert_eq!(p.rgb.len(), RAW_LEN);
        // Pixel (5, 9).
        let at = (9 * 102 + 5) * 3;
        assert_eq!(&p.rgb[at..at + 3], &[5, 9, 7]);
        assert!(format!("{p:?}").contains("102"));
    }

    #[test]
    fn output_layouts() {
        let mut raw = vec![0u8; RAW_LEN];
        raw[0..3].copy_from_slice(&[1, 2, 3]);
        assert_eq!(
            &output_to_photo(&raw, OutputLayout::RawBgr).unwrap().rgb[..3],
            &[3, 2, 1]
        );
        assert_eq!(
            &output_to_photo(&raw, OutputLayout::RawRgb).unwrap().rgb[..3],
            &[1, 2, 3]
        );
        assert_eq!(
            &output_to_photo(&raw, OutputLayout::Auto).unwrap().rgb[..3],
            &[3, 2, 1]
        );
        assert!(output_to_photo(&raw[..100], OutputLayout::RawBgr).is_err());
        assert!(output_to_photo(&raw, OutputLayout::Bmp).is_err());
        let mut bad = test_bmp(4, 4);
        bad[28] = 8;
        assert!(bmp_to_photo(&bad).is_err());
        assert!(bmp_to_photo(&test_bmp(4, 4)[..60]).is_err());
    }

    #[test]
    fn no_library_means_no_decoder() {
        assert!(load(&PhotoConfig::default()).unwrap().is_none());
        let cfg: PhotoConfig =
            serde_json::from_str(r#"{"library":"/x/libwlt2bmp.so","symbol":"wlt2bmp"}"#).unwrap();
        assert_eq!(cfg.symbol, "wlt2bmp");
        assert_eq!(cfg.success_code, 1);
        assert!(matches!(load(&cfg), Err(PhotoError::Load { .. })));
    }

    #[test]
    fn simulated_decoder_draws_a_card_sized_image() {
        let p = SimulatedPhotoDecoder.decode(&[3; 1024]).unwrap();
        assert_eq!(p.rgb.len(), RAW_LEN);
        assert!(matches!(
            SimulatedPhotoDecoder.decode(&[0; 10]),
            Err(PhotoError::WrongInputLength(10))
        ));
    }
}
