//! The outbox: what the platform must still receive. Rows are delivered in id order per
//! application (pages before the submission that refers to them); a failed delivery is
//! retried later with back-off; a delivered row is never sent again.

use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    UploadPage,
    SubmitApplication,
    Evaluation,
    LockerEvent,
    CardResult,
}

impl OutboxKind {
    fn as_str(self) -> &'static str {
        match self {
            OutboxKind::UploadPage => "upload-page",
            OutboxKind::SubmitApplication => "submit-application",
            OutboxKind::Evaluation => "evaluation",
            OutboxKind::LockerEvent => "locker-event",
            OutboxKind::CardResult => "card-result",
        }
    }

    fn parse(s: &str) -> Option<OutboxKind> {
        Some(match s {
            "upload-page" => OutboxKind::UploadPage,
            "submit-application" => OutboxKind::SubmitApplication,
            "evaluation" => OutboxKind::Evaluation,
            "locker-event" => OutboxKind::LockerEvent,
            "card-result" => OutboxKind::CardResult,
            _ => return None,
        })
    }
}

/// What an upload row refers to; the bytes are read from the sealed page file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePayload {
    pub application_id: String,
    pub material_id: String,
    pub sha256: String,
}

/// A row due for delivery, payload decrypted (JSON).
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: OutboxKind,
    pub application_id: Option<String>,
    pub idempotency_key: String,
    pub payload: Vec<u8>,
    pub attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxStats {
    pub pending: u64,
    pub delivered: u64,
    /// When the oldest undelivered row was created (Unix ms).
    pub oldest_pending_ms: Option<i64>,
    /// Rows that failed at least once and are waiting to retry.
    pub retrying: u64,
}

impl Store {
    pub(super) fn insert_outbox<T: Serialize>(
        &self,
        tx: &Transaction<'_>,
        kind: OutboxKind,
        application_id: Option<&str>,
        key: &str,
        payload: &T,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let plain = serde_json::to_vec(payload).map_err(|e| StoreError::Data(e.to_string()))?;
        let sealed = self.sealer.seal(&plain, &format!("outbox:{key}"))?;
        tx.execute(
            "INSERT INTO outbox (kind, application_id, idempotency_key, sealed, created_ms, next_attempt_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![kind.as_str(), application_id, key, sealed, now_ms],
        )?;
        Ok(())
    }

    /// Queues something for the platform on its own (an evaluation, a locker event…).
    pub fn enqueue<T: Serialize>(
        &self,
        kind: OutboxKind,
        key: &str,
        payload: &T,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        self.insert_outbox(&tx, kind, None, key, payload, now_ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Rows ready to send now, oldest first, at most `limit`. A row whose application has
    /// an earlier undelivered row waits for it, so the order per application holds.
    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT o.id, o.kind, o.application_id, o.idempotency_key, o.sealed, o.attempts FROM outbox o
             WHERE o.delivered_ms IS NULL AND o.next_attempt_ms <= ?1
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.application_id = o.application_id
                               AND e.id < o.id AND e.delivered_ms IS NULL)
             ORDER BY o.id LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![now_ms, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, application_id, key, sealed, attempts) = row?;
            let kind = OutboxKind::parse(&kind)
                .ok_or_else(|| StoreError::Data(format!("unknown outbox kind {kind}")))?;
            let payload = self.sealer.open(&sealed, &format!("outbox:{key}"))?;
            out.push(OutboxRow {
                id,
                kind,
                application_id,
                idempotency_key: key,
                payload,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            });
        }
        Ok(out)
    }

    pub fn mark_delivered(&self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE outbox SET delivered_ms = ?2, last_error = NULL WHERE id = ?1 AND delivered_ms IS NULL",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Records a failed attempt; the row is tried again from `retry_at_ms`. The error text
    /// must not contain personal data (it is shown to staff).
    pub fn mark_failed(&self, id: i64, error: &str, retry_at_ms: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3 WHERE id = ?1",
            params![id, crate::privacy::redact(error), retry_at_ms],
        )?;
        Ok(())
    }

    pub fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let conn = self.conn();
        let (pending, oldest, retrying): (i64, Option<i64>, i64) = conn.query_row(
            "SELECT COUNT(*), MIN(created_ms), COALESCE(SUM(attempts > 0), 0) FROM outbox WHERE delivered_ms IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let delivered: i64 = conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE delivered_ms IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(OutboxStats {
            pending: u64::try_from(pending).unwrap_or(0),
            delivered: u64::try_from(delivered).unwrap_or(0),
            oldest_pending_ms: oldest,
            retrying: u64::try_from(retrying).unwrap_or(0),
        })
    }

    /// The earliest time a pending row becomes due (for the worker to sleep until).
    pub fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn().query_row(
            "SELECT MIN(next_attempt_ms) FROM outbox WHERE delivered_ms IS NULL",
            [],
            |r| r.get(0),
        )?)
    }
}
