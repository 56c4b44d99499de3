//! The slip writer: lays out Chinese text, fields, lists, rules and QR codes for the paper
//! width, and builds the ESC/POS bytes with the `escpos` crate into memory.
//!
//! Why bytes in memory rather than an `escpos::driver::Driver` over the [`kiosk_link::Link`]:
//! a slip is then a pure function of its data (golden-byte tests and the benchmark need no
//! device), the whole job is known before anything is sent (so the driver can check status
//! first and send nothing to a printer that is not ready), and the status side needs what
//! `Driver::read` cannot express (a deadline per read, draining stale input, exact 3-byte
//! `DLE EOT` and demultiplexing), so the driver talks to the `Link` directly.

use std::cell::RefCell;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};
use qrcode::EcLevel;

use crate::font::{self, CELL, CjkFont};
use crate::profile::PrinterProfile;
use crate::protocol::FS_CHINESE_ON;
use crate::text;

/// Why a slip could not be built. These are programming or configuration errors, never the
/// printer's state.
#[derive(Debug, thiserror::Error)]
pub enum SlipError {
    #[error("QR payload is empty")]
    EmptyQr,
    #[error("QR payload has control characters")]
    QrControl,
    #[error("QR payload of {len} bytes does not fit on the paper")]
    QrTooLong { len: usize },
    #[error("the ID number field is not masked (show at most the first 4 and last 4)")]
    UnmaskedId,
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("internal: {0}")]
    Escpos(String),
    #[error("internal: slip bytes contain a real-time command sequence")]
    RealtimeSequence,
}

impl From<escpos::errors::PrinterError> for SlipError {
    fn from(e: escpos::errors::PrinterError) -> Self {
        SlipError::Escpos(e.to_string())
    }
}

/// Collects what `escpos::printer::Printer` writes.
#[derive(Default)]
pub(crate) struct MemoryDriver(RefCell<Vec<u8>>);

impl Driver for MemoryDriver {
    fn name(&self) -> String {
        "memory".to_owned()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// A built slip: the bytes to send and what a test may want to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipBytes {
    pub bytes: Vec<u8>,
    /// Every QR payload on the slip, in order.
    pub qr_payloads: Vec<String>,
    /// Lines printed as raster images (characters outside the two-byte area).
    pub raster_lines: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Centre,
}

/// Dots between the tops of two lines of size `h`: the character height plus half a
/// normal line (1.5 × at normal size), which elderly readers need.
pub(crate) fn line_pitch(h: u8) -> u8 {
    let h = u32::from(h.max(1));
    u8::try_from(CELL * h + CELL / 2).unwrap_or(u8::MAX)
}

/// Writes one slip.
pub(crate) struct SlipWriter<'a> {
    p: Printer<MemoryDriver>,
    profile: &'a PrinterProfile,
    font: &'a CjkFont,
    size: (u8, u8),
    bold: bool,
    reverse: bool,
    align: Align,
    qr_payloads: Vec<String>,
    raster_lines: usize,
}

impl<'a> SlipWriter<'a> {
    /// `ESC @`, `FS &` (Chinese mode), line pitch for normal text.
    pub(crate) fn new(profile: &'a PrinterProfile, font: &'a CjkFont) -> Result<Self, SlipError> {
        let protocol = Protocol::new(Encoder::new(encoding_rs::GB18030));
        let mut p = Printer::new(MemoryDriver::default(), protocol, None);
        p.init()?
            .custom(&FS_CHINESE_ON)?
            .line_spacing(line_pitch(1))?;
        Ok(SlipWriter {
            p,
            profile,
            font,
            size: (1, 1),
            bold: false,
            reverse: false,
            align: Align::Left,
            qr_payloads: Vec::new(),
            raster_lines: 0,
        })
    }

    pub(crate) fn columns(&self) -> usize {
        self.profile.paper.columns() / usize::from(self.size.0.max(1))
    }

    pub(crate) fn full_columns(&self) -> usize {
        self.profile.paper.columns()
    }

    pub(crate) fn size(&mut self, w: u8, h: u8) -> Result<&mut Self, SlipError> {
        if (w, h) != self.size {
            if w == 1 && h == 1 {
                self.p.reset_size()?;
            } else {
                self.p.size(w, h)?;
            }
            if h != self.size.1 {
                self.p.line_spacing(line_pitch(h))?;
            }
            self.size = (w, h);
        }
        Ok(self)
    }

    pub(crate) fn bold(&mut self, on: bool) -> Result<&mut Self, SlipError> {
        if on != self.bold {
            self.p.bold(on)?;
            self.bold = on;
        }
        Ok(self)
    }

    /// White on black (`GS B n`).
    pub(crate) fn reverse(&mut self, on: bool) -> Result<&mut Self, SlipError> {
        if on != self.reverse {
            self.p.reverse(on)?;
            self.reverse = on;
        }
        Ok(self)
    }

    pub(crate) fn align(&mut self, a: Align) -> Result<&mut Self, SlipError> {
        if a != self.align {
            self.p.justify(match a {
                Align::Left => JustifyMode::LEFT,
                Align::Centre => JustifyMode::CENTER,
            })?;
            self.align = a;
        }
        Ok(self)
    }

    /// Back to normal: size 1, not bold, not reversed, left aligned.
    pub(crate) fn plain(&mut self) -> Result<&mut Self, SlipError> {
        self.size(1, 1)?
            .bold(false)?
            .reverse(false)?
            .align(Align::Left)
    }

    /// One line that already fits. A line with a character the printer's font cannot draw
    /// goes as a raster image of the whole line, drawn at the same size.
    pub(crate) fn line(&mut self, line: &str) -> Result<&mut Self, SlipError> {
        if line.chars().any(text::needs_raster) {
            return self.raster_line(line);
        }
        if line.is_empty() {
            self.p.feed()?;
        } else {
            self.p.writeln(line)?;
        }
        Ok(self)
    }

    fn raster_line(&mut self, line: &str) -> Result<&mut Self, SlipError> {
        let mut bmp = self.font.render_line(line, self.size, self.bold);
        if self.reverse {
            bmp.invert();
        }
        let (row_bytes, rows, mut data) = bmp.to_raster();
        font::defuse_realtime_sequences(&mut data);
        let mut cmd = vec![0x1D, 0x76, 0x30, 0x00];
        cmd.extend_from_slice(&row_bytes.to_le_bytes());
        cmd.extend_from_slice(&rows.to_le_bytes());
        cmd.extend_from_slice(&data);
        self.p.custom(&cmd)?;
        // The image advances the paper by its height; feed the rest of a text line.
        let gap = u32::from(line_pitch(self.size.1)).saturating_sub(bmp.height());
        if gap > 0 {
            self.p
                .custom(&[0x1B, 0x4A, u8::try_from(gap).unwrap_or(u8::MAX)])?;
        }
        self.raster_lines += 1;
        Ok(self)
    }

    /// Wraps `text` to the current width and prints it.
    pub(crate) fn text(&mut self, s: &str) -> Result<&mut Self, SlipError> {
        let cols = self.columns();
        for l in text::wrap(&text::sanitize(s), cols) {
            self.line(&l)?;
        }
        Ok(self)
    }

    /// Text wrapped with a hanging indent: the first line starts with `first`, the others
    /// with as many spaces.
    pub(crate) fn hanging(&mut self, first: &str, s: &str) -> Result<&mut Self, SlipError> {
        let indent = text::width(first);
        let cols = self.columns().saturating_sub(indent).max(4);
        let lines = text::wrap(&text::sanitize(s), cols);
        let pad = " ".repeat(indent);
        for (i, l) in lines.iter().enumerate() {
            let prefix = if i == 0 { first } else { pad.as_str() };
            self.line(&format!("{prefix}{l}"))?;
        }
        if lines.is_empty() {
            self.line(first.trim_end())?;
        }
        Ok(self)
    }

    /// `label：value` on one line when it fits, otherwise the label alone and the value
    /// indented below it.
    pub(crate) fn field(&mut self, label: &str, value: &str) -> Result<&mut Self, SlipError> {
        let value = text::sanitize(value);
        let head = format!("{label}：");
        if text::width(&head) + text::width(&value) <= self.columns() && !value.contains('\n') {
            return self.line(&format!("{head}{value}"));
        }
        self.line(&head)?;
        self.hanging("  ", &value)
    }

    /// A section heading: a blank line, then a white-on-black bar across the paper with the
    /// heading in bold at double height, so sections are easy to find.
    pub(crate) fn heading(&mut self, s: &str) -> Result<&mut Self, SlipError> {
        self.plain()?;
        self.line("")?;
        self.bold(true)?.size(1, 2)?.reverse(true)?;
        let cols = self.columns();
        for l in text::wrap(&text::sanitize(s), cols.saturating_sub(2)) {
            self.line(&text::pad_right(&format!(" {l}"), cols))?;
        }
        self.plain()
    }

    /// Numbered list with hanging indents ("1. …", "2. …").
    pub(crate) fn numbered<I, S>(&mut self, items: I) -> Result<&mut Self, SlipError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for (i, item) in items.into_iter().enumerate() {
            let first = format!("{}. ", i + 1);
            self.hanging(&first, item.as_ref())?;
        }
        Ok(self)
    }

    /// A full-width rule.
    pub(crate) fn rule(&mut self, c: char) -> Result<&mut Self, SlipError> {
        let n = self.columns() / text::columns(c);
        let s: String = std::iter::repeat_n(c, n).collect();
        self.line(&s)
    }

    /// A QR code (model 2, error correction M) centred, its module size fitted to the
    /// paper, with a caption under it.
    pub(crate) fn qr(&mut self, payload: &str, caption: &str) -> Result<&mut Self, SlipError> {
        let module = qr_module_size(payload, self.profile)?;
        self.plain()?.align(Align::Centre)?;
        self.p.qrcode_option(
            payload,
            QRCodeOption::new(QRCodeModel::Model2, module, QRCodeCorrectionLevel::M),
        )?;
        self.qr_payloads.push(payload.to_owned());
        self.bold(true)?;
        self.text(caption)?;
        self.plain()
    }

    /// Feeds past the cutter, cuts with the model's command, and returns the bytes.
    pub(crate) fn finish(mut self) -> Result<SlipBytes, SlipError> {
        self.plain()?;
        if self.profile.feed_before_cut > 0 {
            self.p.feeds(self.profile.feed_before_cut)?;
        }
        self.p.custom(&self.profile.cut.bytes())?;
        self.p.print()?;
        let bytes = self.p.driver().0.into_inner();
        if font::contains_realtime_sequence(&bytes) {
            return Err(SlipError::RealtimeSequence);
        }
        Ok(SlipBytes {
            bytes,
            qr_payloads: self.qr_payloads,
            raster_lines: self.raster_lines,
        })
    }
}

/// The QR module size for `payload` on this paper: as large as fits in three quarters of
/// the width with the quiet zone, at most `qr_max_module`, at least 3 dots.
pub fn qr_module_size(payload: &str, profile: &PrinterProfile) -> Result<u8, SlipError> {
    if payload.is_empty() {
        return Err(SlipError::EmptyQr);
    }
    if payload.bytes().any(|b| b < 0x20 || b == 0x7F) {
        return Err(SlipError::QrControl);
    }
    let too_long = || SlipError::QrTooLong { len: payload.len() };
    // The smallest version that holds the payload at level M (what the printer picks),
    // without building the symbol.
    let bits = qrcode::bits::encode_auto(payload.as_bytes(), EcLevel::M).map_err(|_| too_long())?;
    let modules = u32::try_from(bits.version().width()).map_err(|_| too_long())? + 8;
    let usable = profile.paper.dots() * 3 / 4;
    let fit = usable / modules;
    if fit < 3 {
        return Err(too_long());
    }
    let max = u32::from(profile.qr_max_module.clamp(3, 15));
    Ok(u8::try_from(fit.min(max)).unwrap_or(3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::PaperWidth;
    use crate::protocol::CutCommand;

    #[test]
    fn qr_module_is_fitted_to_the_paper() {
        let url = "https://zwfw.example.gov.cn/progress?no=ZJ20240506000123";
        let p58 = PrinterProfile::new(PaperWidth::Mm58, CutCommand::FullB(0));
        let p80 = PrinterProfile::new(PaperWidth::Mm80, CutCommand::FullB(0));
        let m58 = qr_module_size(url, &p58).unwrap();
        let m80 = qr_module_size(url, &p80).unwrap();
        assert!(m58 >= 3 && m58 <= m80 && m80 <= 8, "{m58} {m80}");
        assert!(matches!(qr_module_size("", &p58), Err(SlipError::EmptyQr)));
        assert!(matches!(
            qr_module_size("a\u{10}b", &p58),
            Err(SlipError::QrControl)
        ));
        let long = "x".repeat(2000);
        assert!(matches!(
            qr_module_size(&long, &p58),
            Err(SlipError::QrTooLong { .. })
        ));
    }

    #[test]
    fn line_pitch_is_one_and_a_half_lines() {
        assert_eq!(line_pitch(1), 36);
        assert_eq!(line_pitch(2), 60);
    }
}
