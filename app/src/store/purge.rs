//! Retention: personal data of applications past their retention period is removed: the
//! sealed record, the delivered outbox payloads and the scanned pages. What remains (number,
//! one-thing, dates, audit) holds no personal data.

use rusqlite::params;

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeReport {
    pub applications: u64,
    pub pages: u64,
    /// Expired but kept because the platform has not received them yet.
    pub held_undelivered: u64,
}

impl Store {
    pub fn purge_expired(&self, now_ms: i64) -> Result<PurgeReport, StoreError> {
        let mut report = PurgeReport::default();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let expired: Vec<(String, bool)> = {
            let mut stmt = tx.prepare(
                "SELECT a.id, EXISTS (SELECT 1 FROM outbox o WHERE o.application_id = a.id AND o.delivered_ms IS NULL)
                 FROM applications a WHERE a.sealed IS NOT NULL AND a.purge_after_ms <= ?1",
            )?;
            let rows = stmt.query_map([now_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut files = Vec::new();
        for (id, undelivered) in expired {
            if undelivered {
                // Deleting it would lose an accepted application: keep it until delivered.
                report.held_undelivered += 1;
                continue;
            }
            let shas: Vec<String> = {
                let mut stmt = tx.prepare("SELECT sha256 FROM pages WHERE application_id = ?1")?;
                let rows = stmt.query_map([&id], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            tx.execute(
                "UPDATE applications SET sealed = NULL, purged_ms = ?2 WHERE id = ?1",
                params![id, now_ms],
            )?;
            tx.execute(
                "UPDATE outbox SET sealed = X'' WHERE application_id = ?1",
                [&id],
            )?;
            tx.execute("DELETE FROM pages WHERE application_id = ?1", [&id])?;
            report.applications += 1;
            files.extend(shas);
        }
        tx.commit()?;
        drop(conn);
        for sha in files {
            let still_used: i64 = self.conn().query_row(
                "SELECT COUNT(*) FROM pages WHERE sha256 = ?1",
                [&sha],
                |r| r.get(0),
            )?;
            if still_used == 0 {
                match std::fs::remove_file(self.pages_dir.join(format!("{sha}.sealed"))) {
                    Ok(()) => report.pages += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(report)
    }
}
