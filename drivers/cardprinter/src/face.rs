//! The card face: name, social security number, card number, issue date and photo on a CR80
//! card (85.6 × 54 mm) at 300 dpi (1011 × 638 px).
//!
//! Layout (front, landscape): title across the top; the chip module's contact area on the
//! left is kept free of ink (ISO/IEC 7816-2 places the contacts about 10–22 mm from the left
//! edge and 19–30 mm from the top); the four fields below it; the photo on the right.
//! With `print_static = false` only the personal data is drawn, for card stock whose title,
//! labels and background are pre-printed by the card factory.

use std::fmt;

use image::{DynamicImage, Rgb, RgbImage, imageops};

use crate::text::{
    FontChain, FontError, FontSpec, NOTO_CJK_BOLD, NOTO_CJK_REGULAR, NOTO_CJK_SC_INDEX, blend,
};

/// Card width in pixels: 85.6 mm at 300 dpi.
pub const WIDTH: u32 = 1011;
/// Card height in pixels: 54 mm at 300 dpi.
pub const HEIGHT: u32 = 638;
/// Pixels per millimetre at 300 dpi.
pub const PX_PER_MM: f32 = 300.0 / 25.4;

/// A rectangle in card pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The photo box: 26 × 32 mm on the right.
pub const PHOTO: Rect = Rect {
    x: 664,
    y: 190,
    w: 307,
    h: 378,
};

/// The chip contact area with a margin: never printed on.
pub const CHIP_KEEP_OUT: Rect = Rect {
    x: 106,
    y: 201,
    w: 177,
    h: 177,
};

const LABEL_X: f32 = 40.0;
const VALUE_X: f32 = 250.0;
/// Right end of the value column (a gap before the photo).
const VALUE_RIGHT: f32 = 640.0;
const ROWS_TOP: f32 = 392.0;
const ROW_STEP: f32 = 54.0;
/// Baseline of a row below its top.
const BASELINE: f32 = 34.0;

const INK: [u8; 3] = [0x1A, 0x1A, 0x1A];
const LABEL_INK: [u8; 3] = [0x3A, 0x55, 0x7A];
const TITLE_INK: [u8; 3] = [0x1F, 0x4E, 0x9A];

/// What goes on the face. The Debug output masks everything personal.
#[derive(Clone)]
pub struct CardFace {
    pub name: String,
    /// The social security number (the citizen ID number). The card standard prints it IN
    /// FULL on the face: the masking rule (first 4 and last 4) is for screens, slips and
    /// logs, not for the card itself.
    pub ssn: String,
    pub card_number: String,
    pub issue_date: jiff::civil::Date,
    /// The holder's photo; `None` for children under 7, who have none (a silhouette is
    /// drawn).
    pub photo: Option<DynamicImage>,
}

impl fmt::Debug for CardFace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CardFace(name: {} chars, ssn: <masked>, card number: <masked>, photo: {})",
            self.name.chars().count(),
            self.photo.is_some()
        )
    }
}

/// Fonts and options of the face renderer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaceConfig {
    /// Regular text, tried in order per character (later fonts cover rare characters).
    pub fonts: Vec<FontSpec>,
    /// Title font (falls back to `fonts`).
    pub bold: Option<FontSpec>,
    /// Draw title and labels (false for pre-printed card stock).
    pub print_static: bool,
    /// Outline the chip area (previews only: never for printing).
    pub chip_outline: bool,
}

impl Default for FaceConfig {
    fn default() -> Self {
        FaceConfig {
            fonts: vec![FontSpec::new(NOTO_CJK_REGULAR, NOTO_CJK_SC_INDEX)],
            bold: Some(FontSpec::new(NOTO_CJK_BOLD, NOTO_CJK_SC_INDEX)),
            print_static: true,
            chip_outline: false,
        }
    }
}

/// Why a face cannot be rendered (the card must not be printed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No configured font has these characters: printing would show empty boxes.
    #[error("no font can print {} in the {field}", .chars.iter().map(|c| format!("U+{:04X}", u32::from(*c))).collect::<Vec<_>>().join(" "))]
    MissingGlyphs {
        field: &'static str,
        chars: Vec<char>,
    },
    /// The name does not fit its line even at the smallest size.
    #[error("the name is too long for the card ({0} characters)")]
    NameTooLong(usize),
}

/// Renders faces; load once (fonts are big), render many times.
#[derive(Debug, Clone)]
pub struct FaceRenderer {
    regular: FontChain,
    bold: FontChain,
    config: FaceConfig,
}

impl FaceRenderer {
    pub fn new(config: FaceConfig) -> Result<Self, FontError> {
        let regular = FontChain::load(&config.fonts)?;
        let bold = match &config.bold {
            Some(spec) => FontChain::load(std::slice::from_ref(spec))?,
            None => regular.clone(),
        };
        Ok(FaceRenderer {
            regular,
            bold,
            config,
        })
    }

    pub fn config(&self) -> &FaceConfig {
        &self.config
    }

    /// Checks that every character can be printed.
    pub fn check(&self, face: &CardFace) -> Result<(), RenderError> {
        for (field, text) in [
            ("name", face.name.as_str()),
            ("social security number", face.ssn.as_str()),
            ("card number", face.card_number.as_str()),
        ] {
            let chars = self.regular.missing(text);
            if !chars.is_empty() {
                return Err(RenderError::MissingGlyphs { field, chars });
            }
        }
        Ok(())
    }

    /// Draws the face.
    pub fn render(&self, face: &CardFace) -> Result<RgbImage, RenderError> {
        self.check(face)?;
        let width = VALUE_RIGHT - VALUE_X;
        let name_size = self
            .regular
            .fit(&face.name, 42.0, 22.0, width)
            .ok_or(RenderError::NameTooLong(face.name.chars().count()))?;
        let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255]));
        if self.config.print_static {
            self.draw_static(&mut img);
        }
        if self.config.chip_outline {
            outline(&mut img, CHIP_KEEP_OUT, [0xC8, 0xA8, 0x4A]);
        }
        // Labels and values of a row share one baseline.
        let value_top =
            |row: f32, size: f32| ROWS_TOP + row * ROW_STEP + BASELINE - self.regular.ascent(size);
        self.regular.draw(
            &mut img,
            &face.name,
            VALUE_X,
            value_top(0.0, name_size),
            name_size,
            INK,
        );
        let ssn_size = self
            .regular
            .fit(&face.ssn, 34.0, 20.0, width)
            .unwrap_or(20.0);
        self.regular.draw(
            &mut img,
            &face.ssn,
            VALUE_X,
            value_top(1.0, ssn_size),
            ssn_size,
            INK,
        );
        let number_size = self
            .regular
            .fit(&face.card_number, 34.0, 20.0, width)
            .unwrap_or(20.0);
        self.regular.draw(
            &mut img,
            &face.card_number,
            VALUE_X,
            value_top(2.0, number_size),
            number_size,
            INK,
        );
        let date = format!("{}年{}月", face.issue_date.year(), face.issue_date.month());
        self.regular
            .draw(&mut img, &date, VALUE_X, value_top(3.0, 32.0), 32.0, INK);
        match &face.photo {
            Some(photo) => place_photo(&mut img, photo, PHOTO),
            None => silhouette(&mut img, PHOTO),
        }
        Ok(img)
    }

    fn draw_static(&self, img: &mut RgbImage) {
        let title = "中华人民共和国社会保障卡";
        let size = self.bold.fit(title, 56.0, 30.0, 930.0).unwrap_or(30.0);
        self.bold.draw(img, title, 40.0, 34.0, size, TITLE_INK);
        let sub = "SOCIAL SECURITY CARD OF THE PEOPLE'S REPUBLIC OF CHINA";
        self.regular.draw(img, sub, 42.0, 108.0, 19.0, TITLE_INK);
        for x in 40..(WIDTH - 40) {
            for y in 140..143 {
                img.put_pixel(x, y, Rgb(TITLE_INK));
            }
        }
        for (row, label) in ["姓名", "社会保障号码", "社会保障卡号", "签发日期"]
            .into_iter()
            .enumerate()
        {
            #[allow(clippy::cast_precision_loss)] // four rows
            let top = ROWS_TOP + row as f32 * ROW_STEP + BASELINE - self.regular.ascent(26.0);
            self.regular.draw(img, label, LABEL_X, top, 26.0, LABEL_INK);
        }
        outline(img, PHOTO, [0xB0, 0xB8, 0xC4]);
    }
}

fn outline(img: &mut RgbImage, r: Rect, colour: [u8; 3]) {
    let right = (r.x + r.w).min(img.width() - 1);
    let bottom = (r.y + r.h).min(img.height() - 1);
    for x in r.x..=right {
        img.put_pixel(x, r.y, Rgb(colour));
        img.put_pixel(x, bottom, Rgb(colour));
    }
    for y in r.y..=bottom {
        img.put_pixel(r.x, y, Rgb(colour));
        img.put_pixel(right, y, Rgb(colour));
    }
}

/// Crops the photo to the box's proportions (evenly on both sides) and scales it into the
/// box. Cropping first keeps memory bounded whatever the photo's proportions.
pub fn place_photo(img: &mut RgbImage, photo: &DynamicImage, r: Rect) {
    let (pw, ph) = (photo.width().max(1), photo.height().max(1));
    // Crop width/height in source pixels with the box's aspect ratio (u64: no overflow).
    let (cw, ch) = if u64::from(pw) * u64::from(r.h) > u64::from(ph) * u64::from(r.w) {
        // Wider than the box: keep the height.
        let cw = u64::from(ph) * u64::from(r.w) / u64::from(r.h.max(1));
        (u32::try_from(cw).unwrap_or(pw).clamp(1, pw), ph)
    } else {
        let ch = u64::from(pw) * u64::from(r.h) / u64::from(r.w.max(1));
        (pw, u32::try_from(ch).unwrap_or(ph).clamp(1, ph))
    };
    let cropped = photo
        .crop_imm((pw - cw) / 2, (ph - ch) / 2, cw, ch)
        .to_rgb8();
    let scaled = imageops::resize(&cropped, r.w, r.h, imageops::FilterType::Triangle);
    imageops::replace(img, &scaled, i64::from(r.x), i64::from(r.y));
}

/// A neutral head-and-shoulders silhouette for a holder without a photo.
pub fn silhouette(img: &mut RgbImage, r: Rect) {
    let bg = [0xEE, 0xF0, 0xF3];
    let fg = [0xB8, 0xC0, 0xCC];
    let (x0, y0) = (f64::from(r.x), f64::from(r.y));
    let (w, h) = (f64::from(r.w), f64::from(r.h));
    let (cx, head_cy, head_r) = (x0 + w / 2.0, y0 + h * 0.38, w * 0.2);
    let (body_cy, body_half_w, body_half_h) = (y0 + h * 1.02, w * 0.44, h * 0.36);
    for y in r.y..r.y + r.h {
        for x in r.x..r.x + r.w {
            let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let head = head_r - ((px - cx).powi(2) + (py - head_cy).powi(2)).sqrt();
            let body =
                1.0 - ((px - cx) / body_half_w).powi(2) - ((py - body_cy) / body_half_h).powi(2);
            // Soft edges: one pixel of ramp.
            let cover = head
                .clamp(0.0, 1.0)
                .max((body * body_half_w).clamp(0.0, 1.0));
            img.put_pixel(x, y, Rgb(bg));
            #[allow(clippy::cast_possible_truncation)] // 0..=1
            blend(img, px as f32, py as f32, fg, cover as f32);
        }
    }
}

/// Encodes the face as PNG (what the printer drivers send).
pub fn to_png(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}
