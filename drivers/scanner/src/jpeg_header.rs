//! A small, never-panicking reader of the JPEG markers before the image data: size, number of
//! components and JFIF density. Used to check a stored page (and size its PDF page) from the
//! file itself rather than trusting remembered metadata.

/// What the headers of a JPEG file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegInfo {
    pub width: u16,
    pub height: u16,
    /// 1 = gray, 3 = YCbCr/RGB, 4 = CMYK.
    pub components: u8,
    /// Bits per sample (8 for baseline).
    pub precision: u8,
    /// JFIF pixel density in dots per inch, when the file states one in inches (or cm).
    pub dpi: Option<(u16, u16)>,
    /// True for progressive JPEG (SOF2).
    pub progressive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpegHeaderError {
    #[error("not a JPEG file (no SOI marker)")]
    NotJpeg,
    #[error("JPEG headers end early")]
    Truncated,
    #[error("bad JPEG segment length at byte {0}")]
    BadLength(usize),
    #[error("no frame header before the image data")]
    NoFrame,
    #[error("JPEG frame with zero width or height")]
    ZeroSize,
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

/// Reads the headers of `data` (the whole file or at least its start).
pub fn parse(data: &[u8]) -> Result<JpegInfo, JpegHeaderError> {
    if data.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(JpegHeaderError::NotJpeg);
    }
    let mut pos = 2;
    let mut dpi = None;
    loop {
        // Find the next marker: 0xFF, then any number of fill 0xFF bytes, then the code.
        if *data.get(pos).ok_or(JpegHeaderError::Truncated)? != 0xFF {
            // Garbage between segments: skip forward to the next 0xFF.
            pos += 1;
            continue;
        }
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *data.get(pos).ok_or(JpegHeaderError::Truncated)?;
        pos += 1;
        match marker {
            // Stand-alone markers without a length.
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => return Err(JpegHeaderError::NoFrame),
            _ => {}
        }
        let len = usize::from(be16(data, pos).ok_or(JpegHeaderError::Truncated)?);
        if len < 2 {
            return Err(JpegHeaderError::BadLength(pos));
        }
        let segment = data
            .get(pos + 2..pos + len)
            .ok_or(JpegHeaderError::Truncated)?;
        match marker {
            0xE0 if segment.starts_with(b"JFIF\0") => {
                let unit = segment.get(7).copied();
                let x = be16(segment, 8);
                let y = be16(segment, 10);
                dpi = match (unit, x, y) {
                    (Some(1), Some(x), Some(y)) => Some((x, y)),
                    (Some(2), Some(x), Some(y)) => {
                        let per_inch = |v: u16| {
                            u16::try_from((u32::from(v) * 254 + 50) / 100).unwrap_or(u16::MAX)
                        };
                        Some((per_inch(x), per_inch(y)))
                    }
                    _ => dpi,
                };
            }
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let precision = *segment.first().ok_or(JpegHeaderError::Truncated)?;
                let height = be16(segment, 1).ok_or(JpegHeaderError::Truncated)?;
                let width = be16(segment, 3).ok_or(JpegHeaderError::Truncated)?;
                let components = *segment.get(5).ok_or(JpegHeaderError::Truncated)?;
                if width == 0 || height == 0 {
                    return Err(JpegHeaderError::ZeroSize);
                }
                return Ok(JpegInfo {
                    width,
                    height,
                    components,
                    precision,
                    dpi,
                    progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
                });
            }
            _ => {}
        }
        pos += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jfif_gray_2x3(dpi: u16) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        // APP0 JFIF, density in inches.
        v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        v.extend_from_slice(b"JFIF\0");
        v.extend_from_slice(&[1, 1, 1]);
        v.extend_from_slice(&dpi.to_be_bytes());
        v.extend_from_slice(&dpi.to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        // SOF0: precision 8, height 3, width 2, 1 component.
        v.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 3, 0, 2, 1, 1, 0x11, 0]);
        v.extend_from_slice(&[0xFF, 0xDA]);
        v
    }

    #[test]
    fn reads_size_components_and_density() {
        let info = parse(&jfif_gray_2x3(300)).unwrap();
        assert_eq!(
            info,
            JpegInfo {
                width: 2,
                height: 3,
                components: 1,
                precision: 8,
                dpi: Some((300, 300)),
                progressive: false
            }
        );
    }

    #[test]
    fn rejects_what_is_not_a_jpeg_header() {
        assert_eq!(parse(b"%PDF"), Err(JpegHeaderError::NotJpeg));
        assert_eq!(parse(&[0xFF, 0xD8]), Err(JpegHeaderError::Truncated));
        assert_eq!(
            parse(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]),
            Err(JpegHeaderError::NoFrame)
        );
        assert_eq!(
            parse(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 1]),
            Err(JpegHeaderError::BadLength(4))
        );
        let full = jfif_gray_2x3(72);
        for cut in 0..full.len() - 2 {
            // Every truncation before the frame header fails cleanly.
            if cut < 31 {
                assert!(parse(&full[..cut]).is_err(), "cut {cut}");
            }
        }
    }
}
