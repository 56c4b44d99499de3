//! Scanned pages stored as files named by content hash: `<sha256>.jpg` for the page and
//! `<sha256>.thumb.jpg` for its thumbnail, in a directory the caller chooses. The same page
//! stored twice is one file. Files appear only complete: written to a temporary name, synced,
//! then renamed.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encode::{EncodeOptions, PageGeometry, RowSource, encode_page, encode_thumbnail};
use crate::error::ScanError;
use crate::jpeg_header;

/// A page in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPage {
    /// SHA-256 of the JPEG file, lower-case hex; also its file name.
    pub sha256: String,
    /// The page JPEG.
    pub path: PathBuf,
    /// The thumbnail JPEG for the screen.
    pub thumbnail: PathBuf,
    pub width: u32,
    pub height: u32,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
    /// 1 (gray) or 3 (colour).
    pub channels: u8,
    pub dpi: u16,
    /// Size of the JPEG in bytes.
    pub bytes: u64,
}

/// A directory of pages named by content hash.
#[derive(Debug, Clone)]
pub struct PageStore {
    dir: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_name(dir: &Path, what: &str) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".incoming-{}-{n}.{what}", std::process::id()))
}

fn is_hex_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl PageStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<PageStore, ScanError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| ScanError::storage("page store directory", &e))?;
        Ok(PageStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the page with this hash is (whether or not it exists).
    pub fn page_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.jpg"))
    }

    pub fn thumbnail_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.thumb.jpg"))
    }

    /// Encodes a page into a temporary file. Nothing is visible in the store until
    /// [`PendingPage::commit`]; dropping the pending page removes the temporary file.
    pub fn encode(
        &self,
        geometry: &PageGeometry,
        rows: &mut dyn RowSource,
        options: &EncodeOptions,
    ) -> Result<PendingPage, ScanError> {
        let temp = temp_name(&self.dir, "jpg");
        let file = File::create(&temp).map_err(|e| ScanError::storage("page file", &e))?;
        let mut pending = PendingPage {
            store: self.clone(),
            temp: Some(temp),
            geometry: *geometry,
            sha256: String::new(),
            bytes: 0,
            thumbnail_jpeg: Vec::new(),
            thumbnail_size: (0, 0),
        };
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        let encoded = encode_page(geometry, rows, options, &mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| ScanError::storage("page file", e.error()))?;
        file.sync_all()
            .map_err(|e| ScanError::storage("page file", &e))?;
        pending.sha256 = hex::encode(encoded.sha256);
        pending.bytes = encoded.bytes;
        pending.thumbnail_size = (encoded.thumbnail.width, encoded.thumbnail.height);
        pending.thumbnail_jpeg = encode_thumbnail(&encoded.thumbnail, options.thumbnail_quality)?;
        Ok(pending)
    }

    /// Encodes and commits in one step.
    pub fn store(
        &self,
        geometry: &PageGeometry,
        rows: &mut dyn RowSource,
        options: &EncodeOptions,
    ) -> Result<StoredPage, ScanError> {
        self.encode(geometry, rows, options)?.commit()
    }

    /// Looks a page up by hash, reading its size and density from the file itself.
    pub fn load(&self, sha256: &str) -> Result<StoredPage, ScanError> {
        if !is_hex_sha256(sha256) {
            return Err(ScanError::Storage {
                what: "page".into(),
                detail: format!("{sha256:?} is not a SHA-256 in hex"),
            });
        }
        let path = self.page_path(sha256);
        let data = fs::read(&path).map_err(|e| ScanError::storage("page file", &e))?;
        let info = jpeg_header::parse(&data).map_err(|e| ScanError::Storage {
            what: "page file".into(),
            detail: e.to_string(),
        })?;
        let thumbnail = self.thumbnail_path(sha256);
        let thumb_info = fs::read(&thumbnail)
            .ok()
            .and_then(|t| jpeg_header::parse(&t).ok());
        Ok(StoredPage {
            sha256: sha256.to_owned(),
            path,
            thumbnail,
            width: u32::from(info.width),
            height: u32::from(info.height),
            thumbnail_width: thumb_info.map_or(0, |t| u32::from(t.width)),
            thumbnail_height: thumb_info.map_or(0, |t| u32::from(t.height)),
            channels: info.components,
            dpi: info.dpi.map_or(0, |(x, _)| x),
            bytes: data.len() as u64,
        })
    }

    /// Reads a stored page and checks its content still matches its name.
    pub fn read_verified(page: &StoredPage) -> Result<Vec<u8>, ScanError> {
        let data = fs::read(&page.path).map_err(|e| ScanError::storage("page file", &e))?;
        let actual = hex::encode(Sha256::digest(&data));
        if actual != page.sha256 {
            return Err(ScanError::Storage {
                what: "page file".into(),
                detail: format!("content of {} does not match its hash", page.path.display()),
            });
        }
        Ok(data)
    }

    fn sync_dir(&self) {
        // Makes the renames durable; not every filesystem supports it, so failure is logged.
        if let Err(e) = File::open(&self.dir).and_then(|d| d.sync_all()) {
            tracing::warn!(error = %e, "could not sync the page store directory");
        }
    }
}

/// A fully encoded page waiting in a temporary file.
#[derive(Debug)]
pub struct PendingPage {
    store: PageStore,
    temp: Option<PathBuf>,
    geometry: PageGeometry,
    sha256: String,
    bytes: u64,
    thumbnail_jpeg: Vec<u8>,
    thumbnail_size: (u32, u32),
}

impl PendingPage {
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Moves the page into the store under its hash (or drops it if the store already has it)
    /// and writes its thumbnail.
    pub fn commit(mut self) -> Result<StoredPage, ScanError> {
        let path = self.store.page_path(&self.sha256);
        let thumbnail = self.store.thumbnail_path(&self.sha256);
        if let Some(temp) = self.temp.take() {
            if path.exists() {
                // Same content already stored: keep one file.
                let _ = fs::remove_file(&temp);
            } else {
                fs::rename(&temp, &path).map_err(|e| {
                    let _ = fs::remove_file(&temp);
                    ScanError::storage("page file", &e)
                })?;
            }
        }
        if !thumbnail.exists() {
            let temp = temp_name(&self.store.dir, "thumb.jpg");
            let written = File::create(&temp).and_then(|mut f| {
                f.write_all(&self.thumbnail_jpeg)?;
                f.sync_all()
            });
            if let Err(e) = written.and_then(|()| fs::rename(&temp, &thumbnail)) {
                let _ = fs::remove_file(&temp);
                return Err(ScanError::storage("thumbnail file", &e));
            }
        }
        self.store.sync_dir();
        Ok(StoredPage {
            sha256: self.sha256.clone(),
            path,
            thumbnail,
            width: self.geometry.width,
            height: self.geometry.height,
            thumbnail_width: self.thumbnail_size.0,
            thumbnail_height: self.thumbnail_size.1,
            channels: self.geometry.channels,
            dpi: self.geometry.dpi,
            bytes: self.bytes,
        })
    }
}

impl Drop for PendingPage {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::MemoryRows;

    #[test]
    fn stores_by_hash_once_and_cleans_up_failures() {
        let dir = tempfile::tempdir().unwrap();
        let store = PageStore::open(dir.path().join("pages")).unwrap();
        let g = PageGeometry {
            width: 64,
            height: 40,
            channels: 1,
            dpi: 100,
        };
        let data: Vec<u8> = (0..64u32 * 40)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let a = store
            .store(
                &g,
                &mut MemoryRows::new(&data, 64),
                &EncodeOptions::default(),
            )
            .unwrap();
        let b = store
            .store(
                &g,
                &mut MemoryRows::new(&data, 64),
                &EncodeOptions::default(),
            )
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.path, store.page_path(&a.sha256));
        let bytes = fs::read(&a.path).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), a.sha256);
        assert_eq!(PageStore::read_verified(&a).unwrap(), bytes);
        // Only the page and its thumbnail: no temporary files, no duplicate.
        let mut names: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                format!("{}.jpg", a.sha256),
                format!("{}.thumb.jpg", a.sha256)
            ]
        );
        let loaded = store.load(&a.sha256).unwrap();
        assert_eq!(loaded, a);

        // A page whose rows run out leaves nothing behind.
        let err = store
            .store(
                &PageGeometry { height: 80, ..g },
                &mut MemoryRows::new(&data, 64),
                &EncodeOptions::default(),
            )
            .unwrap_err();
        assert!(matches!(err, ScanError::IncompletePage { .. }));
        assert_eq!(fs::read_dir(store.dir()).unwrap().count(), 2);

        // Tampered content is caught before upload.
        fs::write(&a.path, b"not the page").unwrap();
        assert!(PageStore::read_verified(&a).is_err());
        assert!(store.load("../../etc/passwd").is_err());
    }
}
