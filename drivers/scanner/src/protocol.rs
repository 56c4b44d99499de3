//! Pure SANE data handling, no I/O: the status table, the checks on scan parameters, and the
//! line assembler that turns the byte stream `sane_read` delivers (cut anywhere, any depth,
//! padded lines) into 8-bit pixel rows.
//!
//! Facts from the SANE 1.0 standard (`sane.h`, section 4.3.8, `sane_get_parameters`):
//! - a frame is `lines` lines of `bytes_per_line` bytes; `lines` is −1 when the length is not
//!   known in advance (hand scanners, some feeders with paper-end detection);
//! - `bytes_per_line` may be larger than the pixels need (padding at the end of each line);
//! - depth 1: pixels packed 8 to a byte, most significant bit first; for gray frames a set bit
//!   is black (the meaning is inverted compared with deeper samples), for RGB frames a set bit
//!   is full intensity (as the `test` backend documents);
//! - depth 16: samples in the host's byte order;
//! - `SANE_FRAME_RED/GREEN/BLUE` are single-channel frames of a three-pass scanner.

use std::fmt;

/// A `SANE_Status` code. Kept as the raw number so that codes this crate does not know (later
/// SANE versions added `WARMING_UP` = 12 and `HW_LOCKED` = 13) stay representable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    pub const GOOD: Status = Status(0);
    pub const UNSUPPORTED: Status = Status(1);
    pub const CANCELLED: Status = Status(2);
    pub const DEVICE_BUSY: Status = Status(3);
    pub const INVAL: Status = Status(4);
    pub const EOF: Status = Status(5);
    pub const JAMMED: Status = Status(6);
    pub const NO_DOCS: Status = Status(7);
    pub const COVER_OPEN: Status = Status(8);
    pub const IO_ERROR: Status = Status(9);
    pub const NO_MEM: Status = Status(10);
    pub const ACCESS_DENIED: Status = Status(11);
    /// Not in `sane.h` 1.0 (under `#if 0`), but sent by some newer backends.
    pub const WARMING_UP: Status = Status(12);
    pub const HW_LOCKED: Status = Status(13);
}

/// The status table: code, C name, and the standard's meaning.
pub const STATUS_TABLE: [(Status, &str, &str); 14] = [
    (Status::GOOD, "SANE_STATUS_GOOD", "everything A-OK"),
    (
        Status::UNSUPPORTED,
        "SANE_STATUS_UNSUPPORTED",
        "operation is not supported",
    ),
    (
        Status::CANCELLED,
        "SANE_STATUS_CANCELLED",
        "operation was cancelled",
    ),
    (
        Status::DEVICE_BUSY,
        "SANE_STATUS_DEVICE_BUSY",
        "device is busy; try again later",
    ),
    (
        Status::INVAL,
        "SANE_STATUS_INVAL",
        "data is invalid (includes no dev at open)",
    ),
    (
        Status::EOF,
        "SANE_STATUS_EOF",
        "no more data available (end-of-file)",
    ),
    (
        Status::JAMMED,
        "SANE_STATUS_JAMMED",
        "document feeder jammed",
    ),
    (
        Status::NO_DOCS,
        "SANE_STATUS_NO_DOCS",
        "document feeder out of documents",
    ),
    (
        Status::COVER_OPEN,
        "SANE_STATUS_COVER_OPEN",
        "scanner cover is open",
    ),
    (
        Status::IO_ERROR,
        "SANE_STATUS_IO_ERROR",
        "error during device I/O",
    ),
    (Status::NO_MEM, "SANE_STATUS_NO_MEM", "out of memory"),
    (
        Status::ACCESS_DENIED,
        "SANE_STATUS_ACCESS_DENIED",
        "access to resource has been denied",
    ),
    (
        Status::WARMING_UP,
        "SANE_STATUS_WARMING_UP",
        "lamp not ready, please retry",
    ),
    (
        Status::HW_LOCKED,
        "SANE_STATUS_HW_LOCKED",
        "scanner mechanism locked for transport",
    ),
];

/// The C name of a status (`SANE_STATUS_JAMMED`), or `SANE_STATUS_<n>` for unknown codes.
pub fn status_name(status: Status) -> String {
    STATUS_TABLE
        .iter()
        .find(|(s, _, _)| *s == status)
        .map_or_else(
            || format!("SANE_STATUS_{}", status.0),
            |(_, n, _)| (*n).to_owned(),
        )
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&status_name(*self))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&status_name(*self))
    }
}

/// `SANE_Frame` values.
pub const FRAME_GRAY: i32 = 0;
pub const FRAME_RGB: i32 = 1;
pub const FRAME_RED: i32 = 2;
pub const FRAME_GREEN: i32 = 3;
pub const FRAME_BLUE: i32 = 4;

/// `SANE_Parameters` as SANE returned it (unchecked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parameters {
    pub format: i32,
    pub last_frame: bool,
    pub bytes_per_line: i32,
    pub pixels_per_line: i32,
    pub lines: i32,
    pub depth: i32,
}

/// Largest width or height a page may have: the JPEG limit.
pub const MAX_DIMENSION: u32 = 65_535;

/// Longest scan line accepted, in bytes (65 535 pixels × 3 channels × 2 bytes, rounded up).
pub const MAX_BYTES_PER_LINE: usize = 400_000;

/// Why a set of parameters cannot be scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("three-pass (one colour per frame) scanners are not supported")]
    ThreePass,
    #[error("unknown frame format {0}")]
    UnknownFrame(i32),
    #[error("a single-frame image that is not the last frame")]
    NotLastFrame,
    #[error("unsupported bit depth {0}")]
    Depth(i32),
    #[error("bad width: {pixels} pixels")]
    Width { pixels: i32 },
    #[error("bad height: {lines} lines")]
    Height { lines: i32 },
    #[error("bad line length: {bytes} bytes for {needed} bytes of pixels")]
    LineLength { bytes: i32, needed: usize },
}

/// A checked page format: what one frame of pixels looks like on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFormat {
    /// 1 (gray) or 3 (RGB).
    pub channels: u8,
    /// Bits per sample: 1, 8 or 16.
    pub depth: u8,
    /// Pixels per line (1..=65 535).
    pub width: u32,
    /// Lines, when known in advance (1..=65 535).
    pub height: Option<u32>,
    /// Bytes per line on the wire, padding included.
    pub bytes_per_line: usize,
}

impl PageFormat {
    /// Checks parameters from `sane_get_parameters` (called after `sane_start`).
    pub fn from_parameters(p: &Parameters) -> Result<PageFormat, FormatError> {
        let channels: u8 = match p.format {
            FRAME_GRAY => 1,
            FRAME_RGB => 3,
            FRAME_RED | FRAME_GREEN | FRAME_BLUE => return Err(FormatError::ThreePass),
            other => return Err(FormatError::UnknownFrame(other)),
        };
        if !p.last_frame {
            return Err(FormatError::NotLastFrame);
        }
        let depth: u8 = match p.depth {
            1 => 1,
            8 => 8,
            16 => 16,
            other => return Err(FormatError::Depth(other)),
        };
        let width = u32::try_from(p.pixels_per_line)
            .ok()
            .filter(|w| (1..=MAX_DIMENSION).contains(w))
            .ok_or(FormatError::Width {
                pixels: p.pixels_per_line,
            })?;
        let height = match p.lines {
            -1 => None,
            lines => Some(
                u32::try_from(lines)
                    .ok()
                    .filter(|h| (1..=MAX_DIMENSION).contains(h))
                    .ok_or(FormatError::Height { lines })?,
            ),
        };
        let needed = row_bytes_on_wire(width, channels, depth);
        let bytes_per_line = usize::try_from(p.bytes_per_line)
            .ok()
            .filter(|b| *b >= needed && *b <= MAX_BYTES_PER_LINE)
            .ok_or(FormatError::LineLength {
                bytes: p.bytes_per_line,
                needed,
            })?;
        Ok(PageFormat {
            channels,
            depth,
            width,
            height,
            bytes_per_line,
        })
    }

    /// Bytes of one converted 8-bit row.
    pub fn row_len(&self) -> usize {
        self.width as usize * usize::from(self.channels)
    }

    /// Bytes the whole frame takes on the wire, when the height is known.
    pub fn frame_bytes(&self) -> Option<u64> {
        self.height
            .map(|h| u64::from(h) * self.bytes_per_line as u64)
    }
}

/// Bytes the pixels of one line need on the wire (without padding).
fn row_bytes_on_wire(width: u32, channels: u8, depth: u8) -> usize {
    let samples = width as usize * usize::from(channels);
    match depth {
        1 => samples.div_ceil(8),
        16 => samples * 2,
        _ => samples,
    }
}

/// Collects wire bytes into lines and converts each to 8-bit samples (gray, or RGB
/// interleaved). Never panics, whatever it is fed.
#[derive(Debug, Clone)]
pub struct LineAssembler {
    format: PageFormat,
    /// The wire bytes of the line being collected.
    raw: Vec<u8>,
    /// The last completed line, converted.
    row: Vec<u8>,
    lines: u64,
}

impl LineAssembler {
    pub fn new(mut format: PageFormat) -> Self {
        // A format built by hand (not through `from_parameters`) could claim lines shorter
        // than their pixels; never let that stall or short-read.
        format.bytes_per_line = format
            .bytes_per_line
            .max(row_bytes_on_wire(
                format.width,
                format.channels,
                format.depth,
            ))
            .max(1);
        LineAssembler {
            raw: Vec::with_capacity(format.bytes_per_line),
            row: vec![0; format.row_len()],
            format,
            lines: 0,
        }
    }

    pub fn format(&self) -> &PageFormat {
        &self.format
    }

    /// Takes bytes from `data` until one line is complete or `data` runs out. Returns how many
    /// bytes were taken and whether a line was completed; a completed line is then available
    /// from [`LineAssembler::row`] until the next call.
    pub fn push(&mut self, data: &[u8]) -> (usize, bool) {
        let want = self.format.bytes_per_line.saturating_sub(self.raw.len());
        let take = want.min(data.len());
        self.raw.extend_from_slice(&data[..take]);
        if self.raw.len() < self.format.bytes_per_line {
            return (take, false);
        }
        convert_line(&self.format, &self.raw, &mut self.row);
        self.raw.clear();
        self.lines += 1;
        (take, true)
    }

    /// The last completed line as 8-bit samples (`width × channels` bytes).
    pub fn row(&self) -> &[u8] {
        &self.row
    }

    /// Lines completed so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes of an incomplete line held back.
    pub fn pending(&self) -> usize {
        self.raw.len()
    }
}

/// Converts one wire line (at least the pixel bytes long) to 8-bit samples in `out`
/// (`width × channels` long).
fn convert_line(format: &PageFormat, raw: &[u8], out: &mut [u8]) {
    match format.depth {
        8 => {
            let n = out.len().min(raw.len());
            out[..n].copy_from_slice(&raw[..n]);
        }
        16 => {
            for (o, s) in out.iter_mut().zip(raw.chunks_exact(2)) {
                *o = u16::from_ne_bytes([s[0], s[1]]).to_be_bytes()[0];
            }
        }
        _ => {
            // Depth 1: one bit per sample, most significant bit first.
            let gray = format.channels == 1;
            for (i, o) in out.iter_mut().enumerate() {
                let bit = raw.get(i / 8).map_or(0, |b| (b >> (7 - (i % 8))) & 1);
                *o = match (gray, bit) {
                    (true, 1) | (false, 0) => 0,
                    _ => 255,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(format: i32, depth: i32, ppl: i32, bpl: i32, lines: i32) -> Parameters {
        Parameters {
            format,
            last_frame: true,
            bytes_per_line: bpl,
            pixels_per_line: ppl,
            lines,
            depth,
        }
    }

    #[test]
    fn status_table_matches_sane_h() {
        let expected = [
            (0, "SANE_STATUS_GOOD"),
            (1, "SANE_STATUS_UNSUPPORTED"),
            (2, "SANE_STATUS_CANCELLED"),
            (3, "SANE_STATUS_DEVICE_BUSY"),
            (4, "SANE_STATUS_INVAL"),
            (5, "SANE_STATUS_EOF"),
            (6, "SANE_STATUS_JAMMED"),
            (7, "SANE_STATUS_NO_DOCS"),
            (8, "SANE_STATUS_COVER_OPEN"),
            (9, "SANE_STATUS_IO_ERROR"),
            (10, "SANE_STATUS_NO_MEM"),
            (11, "SANE_STATUS_ACCESS_DENIED"),
            (12, "SANE_STATUS_WARMING_UP"),
            (13, "SANE_STATUS_HW_LOCKED"),
        ];
        for (code, name) in expected {
            assert_eq!(status_name(Status(code)), name);
        }
        assert_eq!(status_name(Status(99)), "SANE_STATUS_99");
    }

    #[test]
    fn checks_parameters() {
        let a4_gray = PageFormat::from_parameters(&params(FRAME_GRAY, 8, 2480, 2480, 3507));
        assert_eq!(
            a4_gray,
            Ok(PageFormat {
                channels: 1,
                depth: 8,
                width: 2480,
                height: Some(3507),
                bytes_per_line: 2480
            })
        );
        assert_eq!(a4_gray.unwrap().frame_bytes(), Some(2480 * 3507));
        let hand = PageFormat::from_parameters(&params(FRAME_RGB, 8, 100, 300, -1)).unwrap();
        assert_eq!(hand.height, None);
        assert_eq!(hand.frame_bytes(), None);
        assert_eq!(
            PageFormat::from_parameters(&params(FRAME_RED, 8, 10, 10, 10)),
            Err(FormatError::ThreePass)
        );
        assert_eq!(
            PageFormat::from_parameters(&params(7, 8, 10, 10, 10)),
            Err(FormatError::UnknownFrame(7))
        );
        assert_eq!(
            PageFormat::from_parameters(&params(FRAME_GRAY, 4, 10, 10, 10)),
            Err(FormatError::Depth(4))
        );
        assert_eq!(
            PageFormat::from_parameters(&params(FRAME_GRAY, 8, 0, 10, 10)),
            Err(FormatError::Width { pixels: 0 })
        );
        assert_eq!(
            PageFormat::from_parameters(&params(FRAME_GRAY, 8, 10, 10, 0)),
            Err(FormatError::Height { lines: 0 })
        );
        assert_eq!(
            PageFormat::from_parameters(&params(FRAME_RGB, 8, 10, 29, 10)),
            Err(FormatError::LineLength {
                bytes: 29,
                needed: 30
            })
        );
        // 1-bit lines round up to whole bytes; 16-bit lines take two bytes a sample.
        assert!(PageFormat::from_parameters(&params(FRAME_GRAY, 1, 9, 2, 1)).is_ok());
        assert!(PageFormat::from_parameters(&params(FRAME_GRAY, 16, 9, 17, 1)).is_err());
        let mut not_last = params(FRAME_GRAY, 8, 1, 1, 1);
        not_last.last_frame = false;
        assert_eq!(
            PageFormat::from_parameters(&not_last),
            Err(FormatError::NotLastFrame)
        );
    }

    #[test]
    fn assembles_lines_across_arbitrary_chunks_and_drops_padding() {
        // 3 pixels gray with 2 bytes of padding per line (like the test backend's ppl-loss).
        let fmt = PageFormat::from_parameters(&params(FRAME_GRAY, 8, 3, 5, 2)).unwrap();
        let mut asm = LineAssembler::new(fmt);
        let wire = [1, 2, 3, 0xEE, 0xEE, 4, 5, 6, 0xEE, 0xEE];
        let mut rows = Vec::new();
        for chunk in wire.chunks(3) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let (n, done) = asm.push(rest);
                rest = &rest[n..];
                if done {
                    rows.push(asm.row().to_vec());
                }
            }
        }
        assert_eq!(rows, vec![vec![1, 2, 3], vec![4, 5, 6]]);
        assert_eq!(asm.lines(), 2);
        assert_eq!(asm.pending(), 0);
    }

    #[test]
    fn converts_every_depth() {
        // 1-bit gray: set bit = black.
        let fmt = PageFormat::from_parameters(&params(FRAME_GRAY, 1, 10, 2, 1)).unwrap();
        let mut asm = LineAssembler::new(fmt);
        assert_eq!(asm.push(&[0b1010_0000, 0b0100_0000]), (2, true));
        assert_eq!(asm.row(), &[0, 255, 0, 255, 255, 255, 255, 255, 255, 0]);
        // 1-bit RGB: set bit = full intensity.
        let fmt = PageFormat::from_parameters(&params(FRAME_RGB, 1, 2, 1, 1)).unwrap();
        let mut asm = LineAssembler::new(fmt);
        assert_eq!(asm.push(&[0b1000_0100]), (1, true));
        assert_eq!(asm.row(), &[255, 0, 0, 0, 0, 255]);
        // 16-bit: host byte order, keep the high byte.
        let fmt = PageFormat::from_parameters(&params(FRAME_RGB, 16, 1, 6, 1)).unwrap();
        let mut asm = LineAssembler::new(fmt);
        let mut wire = Vec::new();
        for v in [0x1234u16, 0xFF00, 0x00FF] {
            wire.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(asm.push(&wire), (6, true));
        assert_eq!(asm.row(), &[0x12, 0xFF, 0x00]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_rows_have_the_right_length(
            format in 0i32..6, depth in proptest::sample::select(vec![1i32, 8, 16, 3]),
            ppl in 1i32..40, pad in 0i32..4, lines in -1i32..5,
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
            cut in 1usize..64,
        ) {
            let bytes = match depth { 1 => (ppl * 3 + 7) / 8, 16 => ppl * 6, _ => ppl * 3 } + pad;
            let p = params(format, depth, ppl, bytes, lines);
            if let Ok(fmt) = PageFormat::from_parameters(&p) {
                let mut asm = LineAssembler::new(fmt);
                let mut complete = 0u64;
                for chunk in data.chunks(cut) {
                    let mut rest = chunk;
                    while !rest.is_empty() {
                        let (n, done) = asm.push(rest);
                        proptest::prop_assert!(n > 0 && n <= rest.len());
                        rest = &rest[n..];
                        if done {
                            complete += 1;
                            proptest::prop_assert_eq!(asm.row().len(), fmt.row_len());
                        }
                    }
                }
                proptest::prop_assert_eq!(complete, data.len() as u64 / fmt.bytes_per_line as u64);
            }
        }
    }
}
