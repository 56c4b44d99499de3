//! The simulated print engine: applies decoded commands to a line buffer and a growing
//! paper image, the way a thermal printer does, and hands back a finished slip at each cut.

use std::sync::Arc;

use image::GrayImage;
use qrcode::{EcLevel, QrCode};

use super::decoder::{CutKind, Op};
use crate::font::{Bitmap, CELL, CjkFont};

/// Default line spacing after `ESC @` / `ESC 2` (dots).
const DEFAULT_SPACING: u32 = 30;
/// Longest slip kept (dots): a runaway stream cannot eat the memory.
const MAX_HEIGHT: u32 = 40_000;

#[derive(Debug, Clone, Copy)]
struct Cell {
    c: Option<char>,
    x: u32,
    size: (u8, u8),
    bold: bool,
    reverse: bool,
}

/// A slip as it came out of the printer.
#[derive(Debug, Clone)]
pub struct FinishedSlip {
    pub image: Arc<GrayImage>,
    pub text: String,
    pub qr_payloads: Vec<String>,
    pub cut: Option<CutKind>,
    pub junk_chars: usize,
    pub overflowed_lines: usize,
    pub raster_images: usize,
    pub warnings: Vec<String>,
}

/// Text modes and the stored QR symbol.
#[derive(Debug, Clone)]
struct Modes {
    align: u8,
    bold: bool,
    reverse: bool,
    size: (u8, u8),
    chinese: bool,
    spacing: u32,
    qr_model: u8,
    qr_module: u8,
    qr_ecc: u8,
}

impl Modes {
    fn power_on(chinese: bool) -> Self {
        Modes {
            align: 0,
            bold: false,
            reverse: false,
            size: (1, 1),
            chinese,
            spacing: DEFAULT_SPACING,
            qr_model: 50,
            qr_module: 3,
            qr_ecc: 48,
        }
    }
}

/// What applying one op did, for the printer's fault script.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// Lines (or images) that went onto paper.
    pub printed: u32,
    /// A `GS r n` asked for status.
    pub status_request: Option<u8>,
    /// `GS a n`.
    pub asb: Option<u8>,
}

/// The print engine of one simulated printer.
pub struct Engine {
    font: Arc<CjkFont>,
    width: u32,
    chinese_at_power_on: bool,
    modes: Modes,
    qr_data: Vec<u8>,
    line: Vec<Cell>,
    line_x: u32,
    // the slip being printed
    rows: Vec<u8>,
    height: u32,
    text: Vec<String>,
    qr_payloads: Vec<String>,
    junk: usize,
    overflowed: usize,
    rasters: usize,
    warnings: Vec<String>,
}

impl Engine {
    pub fn new(font: Arc<CjkFont>, width: u32, chinese_at_power_on: bool) -> Self {
        Engine {
            font,
            width,
            chinese_at_power_on,
            modes: Modes::power_on(chinese_at_power_on),
            qr_data: Vec::new(),
            line: Vec::new(),
            line_x: 0,
            rows: Vec::new(),
            height: 0,
            text: Vec::new(),
            qr_payloads: Vec::new(),
            junk: 0,
            overflowed: 0,
            rasters: 0,
            warnings: Vec::new(),
        }
    }

    pub fn chinese(&self) -> bool {
        self.modes.chinese
    }

    /// True when nothing has gone onto the current slip yet.
    pub fn slip_is_empty(&self) -> bool {
        self.height == 0 && self.line.is_empty()
    }

    /// Drops the unprinted line (what `DLE DC4 fn=8` / `DLE ENQ 2` clear as "print buffer").
    pub fn clear_print_buffer(&mut self) {
        self.line.clear();
        self.line_x = 0;
    }

    fn grow(&mut self, dots: u32) {
        let new_h = self.height.saturating_add(dots).min(MAX_HEIGHT);
        let len = usize::try_from(u64::from(new_h) * u64::from(self.width)).unwrap_or(0);
        self.rows.resize(len, 255);
        self.height = new_h;
    }

    fn blit(&mut self, bmp: &Bitmap, x0: u32, y0: u32) {
        for y in 0..bmp.height() {
            for x in 0..bmp.width() {
                if bmp.get(x, y) {
                    self.dot(x0.saturating_add(x), y0.saturating_add(y));
                }
            }
        }
    }

    fn dot(&mut self, x: u32, y: u32) {
        if x < self.width && y < self.height {
            let i = u64::from(y) * u64::from(self.width) + u64::from(x);
            if let Some(p) = usize::try_from(i).ok().and_then(|i| self.rows.get_mut(i)) {
                *p = 0;
            }
        }
    }

    fn align_offset(&self, content_width: u32) -> u32 {
        let free = self.width.saturating_sub(content_width);
        match self.modes.align {
            1 | 49 => free / 2,
            2 | 50 => free,
            _ => 0,
        }
    }

    /// Prints the line buffer at the current position and advances `advance` dots (the
    /// line's height if taller).
    fn print_line(&mut self, advance: Option<u32>) {
        let tallest = self
            .line
            .iter()
            .map(|c| CELL * u32::from(c.size.1))
            .max()
            .unwrap_or(0);
        let pitch = advance.unwrap_or(self.modes.spacing).max(tallest);
        let y0 = self.height;
        self.grow(pitch);
        let offset = self.align_offset(self.line_x);
        let mut text = String::new();
        let cells = std::mem::take(&mut self.line);
        let font = self.font.clone();
        let mut bmp = Bitmap::new(self.line_x.max(1), tallest.max(1));
        for cell in &cells {
            // bottom-align mixed sizes on one baseline
            let y = tallest.saturating_sub(CELL * u32::from(cell.size.1));
            if cell.reverse {
                let cols = if cell.c.is_some_and(|c| !c.is_ascii()) {
                    2
                } else {
                    1
                };
                let w = cols * CELL / 2 * u32::from(cell.size.0);
                for yy in y..y + CELL * u32::from(cell.size.1) {
                    for xx in cell.x..cell.x + w {
                        bmp.set(xx, yy, true);
                    }
                }
            }
            if let Some(c) = cell.c {
                font.draw_char_ink(&mut bmp, c, cell.x, y, cell.size, cell.bold, !cell.reverse);
                text.push(c);
            } else {
                // junk: a hatched box, as a printer prints garbage
                let w = CELL / 2 * u32::from(cell.size.0);
                for yy in y + 4..y + CELL * u32::from(cell.size.1) - 4 {
                    for xx in cell.x + 2..cell.x + w - 2 {
                        bmp.set(xx, yy, (xx + yy) % 2 == 0);
                    }
                }
                text.push('\u{FFFD}');
            }
        }
        self.blit(&bmp, offset, y0);
        self.text.push(text.trim_end().to_owned());
        self.line_x = 0;
    }

    fn add_char(&mut self, c: Option<char>, cols: u32) -> u32 {
        let w = cols * CELL / 2 * u32::from(self.modes.size.0);
        let mut printed = 0;
        if self.line_x + w > self.width {
            // the printer wraps by itself; our layout should never make it
            self.overflowed += 1;
            self.print_line(None);
            printed += 1;
        }
        self.line.push(Cell {
            c,
            x: self.line_x,
            size: self.modes.size,
            bold: self.modes.bold,
            reverse: self.modes.reverse,
        });
        self.line_x += w;
        printed
    }

    fn raster(&mut self, width_bytes: u16, height: u16, data: &[u8]) -> u32 {
        let mut printed = 0;
        if !self.line.is_empty() {
            self.warnings
                .push("raster image sent with text in the print buffer".to_owned());
            self.print_line(None);
            printed += 1;
        }
        let w = u32::from(width_bytes) * 8;
        let h = u32::from(height).min(MAX_HEIGHT);
        let mut bmp = Bitmap::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = usize::try_from(y * u32::from(width_bytes) + x / 8).unwrap_or(usize::MAX);
                let byte = data.get(i).copied().unwrap_or(0);
                if byte & (0x80 >> (x % 8)) != 0 {
                    bmp.set(x, y, true);
                }
            }
        }
        if w > self.width {
            self.warnings.push(format!(
                "raster image {w} dots wide is wider than the paper"
            ));
        }
        let y0 = self.height;
        self.grow(h);
        let offset = self.align_offset(w);
        self.blit(&bmp, offset, y0);
        self.text.push(format!("[图像 {w}×{h}]"));
        self.rasters += 1;
        printed + 1
    }

    fn qr(&mut self) -> u32 {
        let payload = String::from_utf8_lossy(&self.qr_data).into_owned();
        if self.modes.qr_model != 50 {
            self.warnings.push(format!(
                "QR model {} requested; only model 2 (50) is rendered",
                self.modes.qr_model
            ));
        }
        let ecc = match self.modes.qr_ecc {
            48 => EcLevel::L,
            50 => EcLevel::Q,
            51 => EcLevel::H,
            _ => EcLevel::M,
        };
        let ecc_name = match ecc {
            EcLevel::L => "L",
            EcLevel::M => "M",
            EcLevel::Q => "Q",
            EcLevel::H => "H",
        };
        let module = u32::from(self.modes.qr_module.clamp(1, 16));
        let Ok(code) = QrCode::with_error_correction_level(&self.qr_data, ecc) else {
            self.warnings
                .push("QR data does not fit a QR symbol".to_owned());
            return 0;
        };
        let n = u32::try_from(code.width()).unwrap_or(0);
        let quiet = 4 * module;
        let side = n * module + 2 * quiet;
        let colors = code.to_colors();
        let mut bmp = Bitmap::new(side, side);
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let i = u32::try_from(i).unwrap_or(0);
                let (mx, my) = (i % n.max(1), i / n.max(1));
                for dy in 0..module {
                    for dx in 0..module {
                        bmp.set(quiet + mx * module + dx, quiet + my * module + dy, true);
                    }
                }
            }
        }
        if side > self.width {
            self.warnings
                .push(format!("QR code {side} dots wide is wider than the paper"));
        }
        let y0 = self.height;
        self.grow(side);
        let offset = self.align_offset(side);
        self.blit(&bmp, offset, y0);
        self.text.push(format!(
            "[二维码 model {} ECC {ecc_name} 模块 {module}: {payload}]",
            self.modes.qr_model.saturating_sub(48)
        ));
        self.qr_payloads.push(payload);
        1
    }

    /// Finishes the current slip (at a cut, or when paper runs out mid-slip).
    pub fn take_slip(&mut self, cut: Option<CutKind>) -> FinishedSlip {
        let width = self.width;
        let height = self.height.max(1);
        let mut rows = std::mem::take(&mut self.rows);
        rows.resize(
            usize::try_from(u64::from(width) * u64::from(height)).unwrap_or(0),
            255,
        );
        let image = GrayImage::from_raw(width, height, rows)
            .unwrap_or_else(|| GrayImage::from_pixel(width, 1, image::Luma([255])));
        let mut text = std::mem::take(&mut self.text).join("\n");
        match cut {
            Some(CutKind::Full) => text.push_str("\n[全切]"),
            Some(CutKind::Partial) => text.push_str("\n[半切]"),
            None => text.push_str("\n[未切纸：打印中断]"),
        }
        self.height = 0;
        FinishedSlip {
            image: Arc::new(image),
            text,
            qr_payloads: std::mem::take(&mut self.qr_payloads),
            cut,
            junk_chars: std::mem::take(&mut self.junk),
            overflowed_lines: std::mem::take(&mut self.overflowed),
            raster_images: std::mem::take(&mut self.rasters),
            warnings: std::mem::take(&mut self.warnings),
        }
    }

    /// Applies one op. Returns what it did and, at a cut, the finished slip.
    pub fn apply(&mut self, op: &Op<'_>) -> (Effect, Option<FinishedSlip>) {
        let mut effect = Effect::default();
        match *op {
            Op::Init => {
                self.modes = Modes {
                    qr_model: self.modes.qr_model,
                    qr_module: self.modes.qr_module,
                    qr_ecc: self.modes.qr_ecc,
                    ..Modes::power_on(self.chinese_at_power_on)
                };
                self.clear_print_buffer();
            }
            Op::Align(n) => self.modes.align = n,
            Op::Bold(b) => self.modes.bold = b,
            Op::Reverse(r) => self.modes.reverse = r,
            Op::Size { w, h } => self.modes.size = (w.clamp(1, 8), h.clamp(1, 8)),
            Op::PrintMode(n) => {
                self.modes.bold = n & 0x08 != 0;
                self.modes.size = (
                    if n & 0x20 != 0 { 2 } else { 1 },
                    if n & 0x10 != 0 { 2 } else { 1 },
                );
            }
            Op::ChineseMode(on) => self.modes.chinese = on,
            Op::Char(c) => {
                let cols = if c.is_ascii() { 1 } else { 2 };
                effect.printed += self.add_char(Some(c), cols);
            }
            Op::Junk => {
                self.junk += 1;
                effect.printed += self.add_char(None, 1);
            }
            Op::LineFeed => {
                self.print_line(None);
                effect.printed += 1;
            }
            Op::CarriageReturn | Op::Ignored | Op::RealTime => {}
            Op::FeedLines(n) => {
                let pitch = self.modes.spacing;
                if !self.line.is_empty() || n > 0 {
                    self.print_line(Some(pitch * u32::from(n)));
                    effect.printed += 1;
                }
            }
            Op::FeedDots(n) => {
                self.print_line(Some(u32::from(n)));
                // the text line was printed; dropping the empty text line of a pure feed
                if self.text.last().is_some_and(String::is_empty) {
                    self.text.pop();
                }
                effect.printed += 1;
            }
            Op::LineSpacing(n) => self.modes.spacing = n.map_or(DEFAULT_SPACING, u32::from),
            Op::QrModel(n) => self.modes.qr_model = n,
            Op::QrModuleSize(n) => self.modes.qr_module = n,
            Op::QrErrorCorrection(n) => self.modes.qr_ecc = n,
            Op::QrStore(data) => self.qr_data = data.to_vec(),
            Op::QrPrint => {
                if !self.line.is_empty() {
                    self.print_line(None);
                }
                effect.printed += self.qr();
            }
            Op::Raster {
                width_bytes,
                height,
                data,
                ..
            } => {
                effect.printed += self.raster(width_bytes, height, data);
            }
            Op::Cut(kind) => {
                if !self.line.is_empty() {
                    self.print_line(None);
                }
                return (effect, Some(self.take_slip(Some(kind))));
            }
            Op::TransmitStatus(n) => effect.status_request = Some(n),
            Op::AsbEnable(n) => effect.asb = Some(n),
        }
        (effect, None)
    }
}
