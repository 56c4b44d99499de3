//! Which characters the screen can draw. Slint draws nothing at all for a character no font
//! covers (no box, just a gap), so a rare character in a resident's name would silently
//! vanish. Every name and address read from a card goes through [`FontCoverage::displayable`]:
//! a character no installed font covers is shown as □ and the field says so.
//!
//! Coverage is "some font that fontconfig can offer as a fallback has it": the character maps
//! of every font face in the system font folders (and `SLINT_FONT_PATH`). Only each face's
//! `cmap` table is read, not the whole file (the CJK collection is 19 MB).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The character shown in place of one no font can draw.
pub const REPLACEMENT: char = '□';

pub struct FontCoverage {
    /// The `cmap` table of each face found, deduplicated within collections.
    cmaps: Vec<Vec<u8>>,
}

impl std::fmt::Debug for FontCoverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FontCoverage")
            .field("faces", &self.cmaps.len())
            .finish()
    }
}

impl FontCoverage {
    /// The system's fonts, scanned once (call [`FontCoverage::warm_up`] at start so the
    /// first card read does not wait for it).
    pub fn system() -> &'static FontCoverage {
        static SYSTEM: OnceLock<FontCoverage> = OnceLock::new();
        SYSTEM.get_or_init(|| {
            let coverage = FontCoverage::from_files(&system_font_files());
            tracing::debug!(faces = coverage.cmaps.len(), "font coverage loaded");
            if coverage.cmaps.is_empty() {
                tracing::warn!("no font files found: cannot check which characters can be drawn");
            }
            coverage
        })
    }

    /// Scans the system fonts on a background thread.
    pub fn warm_up() {
        let spawned = std::thread::Builder::new()
            .name("font-coverage".into())
            .spawn(|| {
                let _ = FontCoverage::system();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot scan fonts in the background");
        }
    }

    pub fn from_files(files: &[PathBuf]) -> FontCoverage {
        let mut cmaps: Vec<Vec<u8>> = Vec::new();
        for file in files {
            match read_cmaps(file) {
                Ok(found) => {
                    for cmap in found {
                        if !cmaps.contains(&cmap) {
                            cmaps.push(cmap);
                        }
                    }
                }
                Err(e) => tracing::debug!(file = %file.display(), error = %e, "font skipped"),
            }
        }
        FontCoverage { cmaps }
    }

    /// Whether some font can draw `c`. Spaces and control characters need no glyph. With no
    /// font information at all nothing can be judged, and every character passes.
    pub fn covers(&self, c: char) -> bool {
        if c.is_whitespace() || c.is_control() || self.cmaps.is_empty() {
            return true;
        }
        let cp = u32::from(c);
        self.cmaps.iter().any(|data| {
            ttf_parser::cmap::Table::parse(data).is_some_and(|table| {
                table
                    .subtables
                    .into_iter()
                    .any(|s| s.is_unicode() && s.glyph_index(cp).is_some_and(|g| g.0 != 0))
            })
        })
    }

    /// The characters of `text` no font can draw.
    pub fn missing(&self, text: &str) -> Vec<char> {
        let mut out: Vec<char> = Vec::new();
        for c in text.chars() {
            if !out.contains(&c) && !self.covers(c) {
                out.push(c);
            }
        }
        out
    }

    /// `text` as it can be shown, with [`REPLACEMENT`] for what cannot be drawn, and whether
    /// anything was replaced.
    pub fn displayable(&self, text: &str) -> (String, bool) {
        let mut replaced = false;
        let shown = text
            .chars()
            .map(|c| {
                if self.covers(c) {
                    c
                } else {
                    replaced = true;
                    REPLACEMENT
                }
            })
            .collect();
        (shown, replaced)
    }
}

/// Font files where fontconfig looks on Debian, plus `SLINT_FONT_PATH` (Slint's own extra
/// fonts, colon-separated files or folders).
pub fn system_font_files() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = vec![
        PathBuf::from("/usr/share/fonts"),
        PathBuf::from("/usr/local/share/fonts"),
    ];
    if let Some(extra) = std::env::var_os("SLINT_FONT_PATH") {
        roots.extend(std::env::split_paths(&extra));
    }
    let mut files = Vec::new();
    for root in roots {
        collect_fonts(&root, 0, &mut files);
    }
    files.sort();
    files
}

fn collect_fonts(path: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    if depth > 6 {
        return;
    }
    if path.is_file() {
        let is_font = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            matches!(
                e.to_ascii_lowercase().as_str(),
                "ttf" | "otf" | "ttc" | "otc"
            )
        });
        if is_font {
            out.push(path.to_owned());
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        collect_fonts(&entry.path(), depth + 1, out);
    }
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn read_at(file: &mut File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0; len];
    file.read_exact(&mut buf)?;
    Ok(buf)
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// The `cmap` tables of every face in a font file (one for .ttf/.otf, one per face for a
/// collection), reading only the table directories and the tables themselves.
fn read_cmaps(path: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut file = File::open(path)?;
    let head = read_at(&mut file, 0, 12)?;
    let faces: Vec<u64> = if head.get(..4) == Some(b"ttcf") {
        let count = be_u32(&head, 8).ok_or_else(|| bad("collection header"))?;
        let count = usize::try_from(count.min(64)).unwrap_or(0);
        let offsets = read_at(&mut file, 12, count * 4)?;
        (0..count)
            .filter_map(|i| be_u32(&offsets, i * 4).map(u64::from))
            .collect()
    } else {
        vec![0]
    };
    let mut seen: Vec<(u32, u32)> = Vec::new();
    let mut out = Vec::new();
    for face in faces {
        let dir = read_at(&mut file, face, 12)?;
        let tables = usize::from(be_u16(&dir, 4).ok_or_else(|| bad("table directory"))?);
        let records = read_at(&mut file, face + 12, tables * 16)?;
        for i in 0..tables {
            let at = i * 16;
            if records.get(at..at + 4) != Some(b"cmap") {
                continue;
            }
            let (Some(offset), Some(len)) = (be_u32(&records, at + 8), be_u32(&records, at + 12))
            else {
                return Err(bad("cmap record"));
            };
            if len > 16 * 1024 * 1024 {
                return Err(bad("cmap too large"));
            }
            if !seen.contains(&(offset, len)) {
                seen.push((offset, len));
                let len = usize::try_from(len).map_err(|_| bad("cmap length"))?;
                out.push(read_at(&mut file, u64::from(offset), len)?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_fonts_cover_rare_name_characters() {
        let fonts = FontCoverage::system();
        // Needs fonts-noto-cjk (deploy/dev/packages.sh).
        assert!(!fonts.cmaps.is_empty(), "no fonts found");
        for text in [
            "韦龘𠮷",
            "王测试",
            "广西壮族自治区示例市测试区样例路8号",
            "Town service kiosk",
        ] {
            assert_eq!(fonts.missing(text), Vec::<char>::new(), "{text}");
        }
    }

    #[test]
    fn what_no_font_has_is_replaced_and_reported() {
        let fonts = FontCoverage::system();
        // An unassigned code point: no font maps it.
        let text = "王\u{378}明";
        assert_eq!(fonts.missing(text), vec!['\u{378}']);
        assert_eq!(fonts.displayable(text), ("王□明".to_owned(), true));
        assert_eq!(fonts.displayable("王明"), ("王明".to_owned(), false));
    }

    #[test]
    fn no_fonts_means_no_judgement() {
        let none = FontCoverage::from_files(&[PathBuf::from("/nonexistent.ttf")]);
        assert!(none.covers('龘'));
    }
}
