//! Streams a page, row by row, into a JPEG encoder and the thumbnail downscaler at the same
//! time, hashing the JPEG bytes as they are written. The page itself is never held in memory:
//! the encoder pulls 8 or 16 rows at a time (one JPEG block row) from a [`RowSource`].

use std::cell::RefCell;
use std::io::{self, Write};

use jpeg_encoder::{ColorType, Encoder, ImageBuffer, JpegColorType, PixelDensity, rgb_to_ycbcr};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ScanError;
use crate::thumb::{Downscaler, Thumbnail};

/// How pages are encoded (from the kiosk configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncodeOptions {
    /// JPEG quality of the stored page, 1–100.
    pub jpeg_quality: u8,
    /// Long side of the on-screen thumbnail, in pixels.
    pub thumbnail_long_side: u32,
    /// JPEG quality of the thumbnail, 1–100.
    pub thumbnail_quality: u8,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            jpeg_quality: 85,
            thumbnail_long_side: 240,
            thumbnail_quality: 80,
        }
    }
}

/// Size and kind of a page to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageGeometry {
    pub width: u32,
    pub height: u32,
    /// 1 (gray) or 3 (RGB).
    pub channels: u8,
    /// Resolution the page was scanned at (written into the JPEG's JFIF header).
    pub dpi: u16,
}

impl PageGeometry {
    pub fn row_len(&self) -> usize {
        self.width as usize * usize::from(self.channels)
    }
}

/// Hands out a page's rows in order: 8-bit samples, `width × channels` bytes each.
pub trait RowSource {
    fn next_row(&mut self) -> Result<&[u8], ScanError>;
}

/// Rows from a buffer already in memory (pages of unknown length, benchmarks, tests).
#[derive(Debug)]
pub struct MemoryRows<'a> {
    data: &'a [u8],
    row_len: usize,
    pos: usize,
}

impl<'a> MemoryRows<'a> {
    pub fn new(data: &'a [u8], row_len: usize) -> Self {
        MemoryRows {
            data,
            row_len: row_len.max(1),
            pos: 0,
        }
    }
}

impl RowSource for MemoryRows<'_> {
    fn next_row(&mut self) -> Result<&[u8], ScanError> {
        let row =
            self.data
                .get(self.pos..self.pos + self.row_len)
                .ok_or(ScanError::IncompletePage {
                    got: self.pos as u64,
                    expected: (self.pos + self.row_len) as u64,
                })?;
        self.pos += self.row_len;
        Ok(row)
    }
}

/// What encoding a page produced.
#[derive(Debug, Clone)]
pub struct EncodedPage {
    /// SHA-256 of the JPEG bytes.
    pub sha256: [u8; 32],
    /// Length of the JPEG in bytes.
    pub bytes: u64,
    pub thumbnail: Thumbnail,
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct PullState<'s> {
    source: &'s mut dyn RowSource,
    /// The row most recently taken from the source (the encoder asks for the last row again
    /// to pad the final block row).
    last: Vec<u8>,
    next_y: u32,
    error: Option<ScanError>,
    thumb: Downscaler,
}

/// Adapts a [`RowSource`] to the encoder's pull interface.
struct Pull<'s> {
    geometry: PageGeometry,
    state: RefCell<PullState<'s>>,
}

impl ImageBuffer for Pull<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        if self.geometry.channels == 1 {
            JpegColorType::Luma
        } else {
            JpegColorType::Ycbcr
        }
    }

    fn width(&self) -> u16 {
        u16::try_from(self.geometry.width).unwrap_or(u16::MAX)
    }

    fn height(&self) -> u16 {
        u16::try_from(self.geometry.height).unwrap_or(u16::MAX)
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        if st.error.is_none() && u32::from(y) >= st.next_y {
            match st.source.next_row() {
                Ok(row) if row.len() == st.last.len() => {
                    st.last.copy_from_slice(row);
                    st.thumb.push_row(row);
                    st.next_y += 1;
                }
                Ok(row) => {
                    st.error = Some(ScanError::Storage {
                        what: "page row".into(),
                        detail: format!("row of {} bytes, expected {}", row.len(), st.last.len()),
                    });
                }
                Err(e) => st.error = Some(e),
            }
        }
        // After an error the rest of the page is filled with black; the file is thrown away.
        if self.geometry.channels == 1 {
            buffers[0].extend_from_slice(&st.last);
        } else {
            for px in st.last.chunks_exact(3) {
                let (yy, cb, cr) = rgb_to_ycbcr(px[0], px[1], px[2]);
                buffers[0].push(yy);
                buffers[1].push(cb);
                buffers[2].push(cr);
            }
        }
    }
}

fn check_geometry(g: &PageGeometry) -> Result<(), ScanError> {
    if g.width == 0 || g.height == 0 || g.width > 65_535 || g.height > 65_535 {
        return Err(ScanError::PageTooLarge {
            detail: format!("{}×{} pixels (JPEG allows 1–65535)", g.width, g.height),
        });
    }
    if !matches!(g.channels, 1 | 3) {
        return Err(ScanError::Unsupported {
            what: format!("{} colour channels", g.channels),
        });
    }
    Ok(())
}

fn encoding_error(e: &jpeg_encoder::EncodingError) -> ScanError {
    ScanError::Storage {
        what: "JPEG".into(),
        detail: e.to_string(),
    }
}

/// Encodes the page that `rows` delivers into `out` as a baseline JPEG, building the thumbnail
/// on the way. Memory: one row, one JPEG block row (16 rows) and the thumbnail sums.
pub fn encode_page<W: Write>(
    geometry: &PageGeometry,
    rows: &mut dyn RowSource,
    options: &EncodeOptions,
    out: W,
) -> Result<EncodedPage, ScanError> {
    check_geometry(geometry)?;
    let mut writer = HashingWriter {
        inner: out,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let pull = Pull {
        geometry: *geometry,
        state: RefCell::new(PullState {
            source: rows,
            last: vec![0; geometry.row_len()],
            next_y: 0,
            error: None,
            thumb: Downscaler::new(
                geometry.width,
                geometry.height,
                geometry.channels,
                options.thumbnail_long_side,
            ),
        }),
    };
    let mut encoder = Encoder::new(&mut writer, options.jpeg_quality.clamp(1, 100));
    encoder.set_density(PixelDensity::dpi(geometry.dpi.max(1)));
    let outcome = encoder.encode_image(&pull);
    let state = pull.state.into_inner();
    if let Some(e) = state.error {
        return Err(e);
    }
    outcome.map_err(|e| encoding_error(&e))?;
    if state.next_y != geometry.height {
        return Err(ScanError::IncompletePage {
            got: u64::from(state.next_y),
            expected: u64::from(geometry.height),
        });
    }
    writer
        .flush()
        .map_err(|e| ScanError::storage("page JPEG", &e))?;
    Ok(EncodedPage {
        sha256: writer.hasher.finalize().into(),
        bytes: writer.bytes,
        thumbnail: state.thumb.finish(),
    })
}

/// Lets the encoder take `&Pull` by value, so the state can be read back afterwards.
impl ImageBuffer for &Pull<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        (**self).get_jpeg_color_type()
    }
    fn width(&self) -> u16 {
        (**self).width()
    }
    fn height(&self) -> u16 {
        (**self).height()
    }
    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        (**self).fill_buffers(y, buffers);
    }
}

/// Encodes a small in-memory image (the thumbnail) as JPEG.
pub fn encode_thumbnail(thumb: &Thumbnail, quality: u8) -> Result<Vec<u8>, ScanError> {
    let mut out = Vec::new();
    let (w, h) = (
        u16::try_from(thumb.width).unwrap_or(u16::MAX),
        u16::try_from(thumb.height).unwrap_or(u16::MAX),
    );
    let color = if thumb.channels == 1 {
        ColorType::Luma
    } else {
        ColorType::Rgb
    };
    Encoder::new(&mut out, quality.clamp(1, 100))
        .encode(&thumb.pixels, w, h, color)
        .map_err(|e| encoding_error(&e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(width: u32, height: u32, channels: u8) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..height {
            for x in 0..width {
                let on = ((x / 8) + (y / 8)) % 2 == 0;
                for c in 0..channels {
                    v.push(if on { 255 } else { c * 40 });
                }
            }
        }
        v
    }

    #[test]
    fn encodes_a_decodable_jpeg_with_thumbnail_and_hash() {
        for channels in [1u8, 3] {
            let g = PageGeometry {
                width: 100,
                height: 37,
                channels,
                dpi: 150,
            };
            let data = grid(100, 37, channels);
            let mut out = Vec::new();
            let page = encode_page(
                &g,
                &mut MemoryRows::new(&data, g.row_len()),
                &EncodeOptions::default(),
                &mut out,
            )
            .unwrap();
            assert_eq!(page.bytes, out.len() as u64);
            assert_eq!(page.sha256, <[u8; 32]>::from(Sha256::digest(&out)));
            let info = crate::jpeg_header::parse(&out).unwrap();
            assert_eq!((info.width, info.height), (100, 37));
            assert_eq!(info.components, channels);
            assert_eq!(info.dpi, Some((150, 150)));
            let decoded = image::load_from_memory(&out).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (100, 37));
            // Small page: the thumbnail is the page size (never enlarged).
            assert_eq!((page.thumbnail.width, page.thumbnail.height), (100, 37));
            let thumb = encode_thumbnail(&page.thumbnail, 80).unwrap();
            assert!(image::load_from_memory(&thumb).is_ok());
        }
    }

    #[test]
    fn a_short_page_is_an_error_not_a_file() {
        let g = PageGeometry {
            width: 10,
            height: 20,
            channels: 1,
            dpi: 75,
        };
        let data = vec![0u8; 10 * 5];
        let err = encode_page(
            &g,
            &mut MemoryRows::new(&data, 10),
            &EncodeOptions::default(),
            Vec::new(),
        )
        .unwrap_err();
        assert!(matches!(err, ScanError::IncompletePage { .. }), "{err:?}");
    }

    #[test]
    fn source_errors_come_back_unchanged() {
        struct Jams(u32);
        impl RowSource for Jams {
            fn next_row(&mut self) -> Result<&[u8], ScanError> {
                self.0 += 1;
                if self.0 > 3 {
                    return Err(ScanError::Jammed);
                }
                Ok(&[7; 4])
            }
        }
        let g = PageGeometry {
            width: 4,
            height: 50,
            channels: 1,
            dpi: 75,
        };
        let err = encode_page(&g, &mut Jams(0), &EncodeOptions::default(), Vec::new()).unwrap_err();
        assert_eq!(err, ScanError::Jammed);
    }

    #[test]
    fn refuses_sizes_jpeg_cannot_hold() {
        let g = PageGeometry {
            width: 70_000,
            height: 1,
            channels: 1,
            dpi: 75,
        };
        let err = encode_page(
            &g,
            &mut MemoryRows::new(&[], 1),
            &EncodeOptions::default(),
            Vec::new(),
        )
        .unwrap_err();
        assert!(matches!(err, ScanError::PageTooLarge { .. }));
    }
}
