//! Pictures made in Rust for the screens: QR codes and scanned-page thumbnails.

use std::path::Path;

use slint::{Image, Rgb8Pixel, SharedPixelBuffer};

/// Modules of white border around a QR code (the standard asks for 4).
const QUIET: usize = 4;

/// A QR code of `text`, one pixel per module (the screens scale it up without smoothing).
/// `None` if the text is too long for a QR code.
pub fn qr(text: &str) -> Option<Image> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let side = width + 2 * QUIET;
    let colors = code.to_colors();
    let side_u32 = u32::try_from(side).ok()?;
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(side_u32, side_u32);
    let pixels = buffer.make_mut_slice();
    for (i, px) in pixels.iter_mut().enumerate() {
        let (x, y) = (i % side, i / side);
        let dark = x >= QUIET
            && y >= QUIET
            && x < QUIET + width
            && y < QUIET + width
            && colors.get((y - QUIET) * width + (x - QUIET)) == Some(&qrcode::Color::Dark);
        let v = if dark { 0 } else { 255 };
        *px = Rgb8Pixel { r: v, g: v, b: v };
    }
    Some(Image::from_rgb8(buffer))
}

/// A scanned page's thumbnail file, or an empty image if it cannot be read (the row still
/// says the material was scanned).
pub fn thumbnail(path: &Path) -> Image {
    Image::load_from_path(path).unwrap_or_else(|_| {
        tracing::warn!("scan thumbnail could not be loaded");
        Image::default()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn qr_codes_have_a_quiet_zone_and_dark_modules() {
        let image = super::qr("https://zwfw.example.gov.cn/progress?no=1&code=2").unwrap();
        let size = image.size();
        assert_eq!(size.width, size.height);
        assert!(size.width >= 21 + 8);
        let buffer = image.to_rgb8().unwrap();
        let px = buffer.as_slice();
        assert_eq!(px[0].r, 255, "quiet zone is white");
        assert!(px.iter().any(|p| p.r == 0));
    }
}
