//! A material: the pages a resident scanned for one required paper (e.g. both sides of a
//! household register page), exported as one PDF for upload. Pages go into the PDF as the
//! stored JPEG bytes, unchanged (`/DCTDecode`), each on a page of its physical size.

use std::fs;
use std::path::Path;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, TextStr};
use serde::{Deserialize, Serialize};

use crate::error::ScanError;
use crate::jpeg_header;
use crate::store::{PageStore, StoredPage};

/// Resolution assumed for a page whose JPEG states none.
const FALLBACK_DPI: u16 = 300;

/// Several scanned pages that make one material.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub pages: Vec<StoredPage>,
}

/// What an export produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PdfSummary {
    pub pages: usize,
    pub bytes: u64,
}

impl Material {
    pub fn new() -> Self {
        Material::default()
    }

    pub fn push(&mut self, page: StoredPage) {
        self.pages.push(page);
    }

    /// Builds the PDF in memory. Every page's content is checked against its hash first, so a
    /// damaged file is never uploaded. Memory: the PDF is about the sum of the JPEG sizes.
    pub fn to_pdf(&self) -> Result<Vec<u8>, ScanError> {
        if self.pages.is_empty() {
            return Err(ScanError::Storage {
                what: "material".into(),
                detail: "has no pages".into(),
            });
        }
        let count = i32::try_from(self.pages.len()).map_err(|_| ScanError::Storage {
            what: "material".into(),
            detail: "too many pages".into(),
        })?;
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        // Three objects per page: the page, its content stream and its image.
        let page_ref = |i: i32| Ref::new(4 + 3 * i);
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids((0..count).map(page_ref)).count(count);
        pdf.document_info(info).producer(TextStr("kiosk-scanner"));

        for (i, page) in (0..count).zip(&self.pages) {
            let jpeg = PageStore::read_verified(page)?;
            let header = jpeg_header::parse(&jpeg).map_err(|e| ScanError::Storage {
                what: format!("page {}", i + 1),
                detail: e.to_string(),
            })?;
            let dpi = match header.dpi {
                Some((x, _)) if x > 0 => x,
                _ if page.dpi > 0 => page.dpi,
                _ => FALLBACK_DPI,
            };
            let points = |px: u16| f32::from(px) * 72.0 / f32::from(dpi);
            let (w, h) = (points(header.width), points(header.height));
            let (id, content_id, image_id) =
                (page_ref(i), page_ref(i).next(), page_ref(i).next().next());
            let image_name = Name(b"Im0");

            let mut image = pdf.image_xobject(image_id, &jpeg);
            image.filter(Filter::DctDecode);
            image.width(i32::from(header.width));
            image.height(i32::from(header.height));
            if header.components == 1 {
                image.color_space().device_gray();
            } else {
                image.color_space().device_rgb();
            }
            image.bits_per_component(8);
            image.finish();

            let mut content = Content::new();
            content.save_state();
            content.transform([w, 0.0, 0.0, h, 0.0, 0.0]);
            content.x_object(image_name);
            content.restore_state();
            let content = content.finish();
            pdf.stream(content_id, &content);

            let mut pdf_page = pdf.page(id);
            pdf_page
                .parent(tree)
                .media_box(Rect::new(0.0, 0.0, w, h))
                .contents(content_id);
            pdf_page.resources().x_objects().pair(image_name, image_id);
            pdf_page.finish();
        }
        Ok(pdf.finish())
    }

    /// Writes the PDF to `out` (complete or not at all: temporary file, sync, rename).
    pub fn export_pdf(&self, out: &Path) -> Result<PdfSummary, ScanError> {
        let bytes = self.to_pdf()?;
        let temp = out.with_extension("pdf.partial");
        let written = fs::File::create(&temp).and_then(|mut f| {
            std::io::Write::write_all(&mut f, &bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| fs::rename(&temp, out)) {
            let _ = fs::remove_file(&temp);
            return Err(ScanError::storage("PDF file", &e));
        }
        Ok(PdfSummary {
            pages: self.pages.len(),
            bytes: bytes.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{EncodeOptions, MemoryRows, PageGeometry};

    #[test]
    fn exports_pages_as_dct_images_of_their_physical_size() {
        let dir = tempfile::tempdir().unwrap();
        let store = PageStore::open(dir.path()).unwrap();
        let mut material = Material::new();
        for (channels, shade) in [(1u8, 10u8), (3, 200)] {
            let g = PageGeometry {
                width: 300,
                height: 150,
                channels,
                dpi: 150,
            };
            let data = vec![shade; g.row_len() * 150];
            material.push(
                store
                    .store(
                        &g,
                        &mut MemoryRows::new(&data, g.row_len()),
                        &EncodeOptions::default(),
                    )
                    .unwrap(),
            );
        }
        let out = dir.path().join("material.pdf");
        let summary = material.export_pdf(&out).unwrap();
        assert_eq!(summary.pages, 2);
        let pdf = fs::read(&out).unwrap();
        assert_eq!(summary.bytes, pdf.len() as u64);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-"));
        assert_eq!(text.matches("/DCTDecode").count(), 2);
        assert!(text.contains("/Count 2"));
        assert!(text.contains("/DeviceGray") && text.contains("/DeviceRGB"));
        // 300 px at 150 dpi = 2 in = 144 pt wide, 72 pt high.
        assert!(text.contains("/MediaBox [0 0 144 72]"), "{text}");
        // The JPEG bytes are embedded unchanged.
        let jpeg = fs::read(&material.pages[0].path).unwrap();
        assert!(pdf.windows(jpeg.len()).any(|w| w == jpeg.as_slice()));

        assert!(Material::new().to_pdf().is_err());
        fs::write(&material.pages[1].path, b"damaged").unwrap();
        assert!(material.to_pdf().is_err());
    }
}
