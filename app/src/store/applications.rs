//! Accepting an application: its row, its encrypted pages, its outbox rows and an audit
//! entry, in one durable transaction. Once `accept` returns, the application survives a
//! power cut and will reach the platform exactly once.

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::audit::{self, AuditEvent};
use super::outbox::{OutboxKind, PagePayload};
use super::{Store, StoreError};
use crate::domain::application::{Application, MaterialState};

const DAY_MS: i64 = 86_400_000;

impl Store {
    /// Stores an accepted application. `scans` is the folder holding this session's scanned
    /// pages as `<sha256>.jpg`; they are sealed into the store.
    pub fn accept(
        &self,
        app: &Application,
        scans: &Path,
        retention_days: u32,
    ) -> Result<(), StoreError> {
        let id = app.id.to_string();
        let now_ms = app.accepted_at.as_millisecond();
        let mut pages = Vec::new();
        for material in &app.materials {
            if let MaterialState::Scanned { pages: hashes } = &material.state {
                for (no, sha) in hashes.iter().enumerate() {
                    self.seal_page(&scans.join(format!("{sha}.jpg")), sha)?;
                    pages.push((material.id.clone(), no, sha.clone()));
                }
            }
        }
        let plain = serde_json::to_vec(app).map_err(|e| StoreError::Data(e.to_string()))?;
        let sealed = self.sealer.seal(&plain, &format!("application:{id}"))?;
        let purge_after = now_ms + i64::from(retention_days) * DAY_MS;

        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO applications (id, number, one_thing_id, accepted_ms, due_date, delivery, sealed, purge_after_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![id, app.number, app.one_thing_id, now_ms, app.due_date.map(|d| d.to_string()), app.delivery.as_str(), sealed, purge_after],
        )?;
        // The submission first: the platform takes pages only for an application it knows
        // (openapi.yaml), and the outbox keeps the order per application.
        self.insert_outbox(
            &tx,
            OutboxKind::SubmitApplication,
            Some(&id),
            &id,
            app,
            now_ms,
        )?;
        for (material, no, sha) in &pages {
            tx.execute(
                "INSERT INTO pages (sha256, application_id, material_id, page_no) VALUES (?1, ?2, ?3, ?4)",
                params![sha, id, material, i64::try_from(*no).unwrap_or(i64::MAX)],
            )?;
            let payload = PagePayload {
                application_id: id.clone(),
                material_id: material.clone(),
                sha256: sha.clone(),
            };
            let key = format!("page:{id}:{material}:{sha}");
            self.insert_outbox(
                &tx,
                OutboxKind::UploadPage,
                Some(&id),
                &key,
                &payload,
                now_ms,
            )?;
        }
        let details = serde_json::json!({ "one_thing": app.one_thing_id, "items": app.items.len(), "materials": app.materials.len() });
        audit::append(
            &tx,
            &AuditEvent::new("application.accepted", "kiosk", &app.number, details),
            now_ms,
        )?;
        crate::failpoint::point("accept.before-commit");
        tx.commit()?;
        crate::failpoint::point("accept.after-commit");
        Ok(())
    }

    /// Reads an accepted application back (personal data decrypted). `None` if unknown or
    /// purged.
    pub fn application(&self, id: &uuid::Uuid) -> Result<Option<Application>, StoreError> {
        let id = id.to_string();
        let sealed: Option<Option<Vec<u8>>> = self
            .conn()
            .query_row(
                "SELECT sealed FROM applications WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(Some(sealed)) = sealed else {
            return Ok(None);
        };
        let plain = self.sealer.open(&sealed, &format!("application:{id}"))?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| StoreError::Data(e.to_string()))
    }

    /// The id of the application with this printed number.
    pub fn application_id_by_number(&self, number: &str) -> Result<Option<uuid::Uuid>, StoreError> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM applications WHERE number = ?1",
                [number],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.and_then(|s| s.parse().ok()))
    }

    /// Number of accepted applications (all time).
    pub fn application_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM applications", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Encrypts a scanned page into `pages/<sha256>.sealed` (once; a page already there is
    /// kept) after checking the file really has that hash.
    fn seal_page(&self, source: &Path, sha: &str) -> Result<(), StoreError> {
        let target = self.pages_dir.join(format!("{sha}.sealed"));
        if target.exists() {
            return Ok(());
        }
        let bytes = std::fs::read(source)?;
        let actual = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        if actual != sha {
            return Err(StoreError::Data(format!(
                "page {sha} does not match its content"
            )));
        }
        let sealed = self.sealer.seal(&bytes, &format!("page:{sha}"))?;
        let tmp = target.with_extension("tmp");
        std::fs::write(&tmp, &sealed)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &target)?;
        Ok(())
    }

    /// The JPEG bytes of a stored page.
    pub fn page(&self, sha: &str) -> Result<Vec<u8>, StoreError> {
        let sealed = std::fs::read(self.pages_dir.join(format!("{sha}.sealed")))?;
        self.sealer.open(&sealed, &format!("page:{sha}"))
    }
}

impl Store {
    /// The highest daily sequence used in application numbers starting with `date_prefix`
    /// (`YYMMDD`), 0 when none.
    pub fn max_sequence(&self, date_prefix: &str) -> Result<u32, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT number FROM applications WHERE number LIKE ?1")?;
        let numbers = stmt.query_map([format!("{date_prefix}-%")], |r| r.get::<_, String>(0))?;
        let mut max = 0;
        for n in numbers {
            if let Some(seq) = n?.rsplit_once('-').and_then(|(_, s)| s.parse::<u32>().ok()) {
                max = max.max(seq);
            }
        }
        Ok(max)
    }
}
