//! The append-only, hash-chained audit log. Each entry has a stable event id and carries the
//! SHA-256 of the entry before it, so an edited, inserted or deleted row breaks the chain;
//! triggers refuse UPDATE and DELETE. Entries never hold personal data: staff ids, masked
//! ID numbers, compartments, application numbers.

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub event_id: uuid::Uuid,
    /// A stable kind such as `application.accepted`, `locker.deposit`, `locker.denied`.
    pub kind: String,
    /// Who: `kiosk`, `staff:<id>`, `resident:<masked id>`.
    pub actor: String,
    /// What it is about: an application number, a compartment label.
    pub subject: String,
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(kind: &str, actor: &str, subject: &str, details: serde_json::Value) -> AuditEvent {
        AuditEvent {
            event_id: uuid::Uuid::now_v7(),
            kind: kind.to_owned(),
            actor: actor.to_owned(),
            subject: subject.to_owned(),
            details,
        }
    }
}

/// A stored entry, as shown to staff and exported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub details: String,
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit log broken at entry {seq}: {reason}")]
pub struct AuditBreak {
    pub seq: i64,
    pub reason: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry's fields, as hashed.
struct Fields<'a> {
    prev: &'a str,
    seq: i64,
    event_id: &'a str,
    at_ms: i64,
    kind: &'a str,
    actor: &'a str,
    subject: &'a str,
    details: &'a str,
}

fn entry_hash(f: &Fields<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        f.prev,
        &f.seq.to_string(),
        f.event_id,
        &f.at_ms.to_string(),
        f.kind,
        f.actor,
        f.subject,
        f.details,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// Appends inside the caller's transaction.
pub(super) fn append(conn: &Connection, event: &AuditEvent, at_ms: i64) -> Result<(), StoreError> {
    let (last_seq, prev): (i64, String) = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or((0, GENESIS.to_owned()));
    let seq = last_seq + 1;
    let event_id = event.event_id.to_string();
    let details = crate::privacy::redact(&event.details.to_string());
    let actor = crate::privacy::redact(&event.actor);
    let hash = entry_hash(&Fields {
        prev: &prev,
        seq,
        event_id: &event_id,
        at_ms,
        kind: &event.kind,
        actor: &actor,
        subject: &event.subject,
        details: &details,
    });
    conn.execute(
        "INSERT INTO audit_log (seq, event_id, at_ms, kind, actor, subject, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![seq, event_id, at_ms, event.kind, actor, event.subject, details, prev, hash],
    )?;
    Ok(())
}

impl Store {
    pub fn audit(&self, event: &AuditEvent, at_ms: i64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        append(&tx, event, at_ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Recomputes the chain; returns the number of entries checked.
    pub fn verify_audit(&self) -> Result<Result<u64, AuditBreak>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT seq, event_id, at_ms, kind, actor, subject, details, prev_hash, hash FROM audit_log ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut count = 0;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let (event_id, at_ms): (String, i64) = (r.get(1)?, r.get(2)?);
            let (kind, actor, subject, details): (String, String, String, String) =
                (r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
            let (prev_hash, hash): (String, String) = (r.get(7)?, r.get(8)?);
            if seq != expected_seq {
                return Ok(Err(AuditBreak {
                    seq,
                    reason: format!("entry {expected_seq} is missing"),
                }));
            }
            if prev_hash != prev {
                return Ok(Err(AuditBreak {
                    seq,
                    reason: "does not follow the entry before it".into(),
                }));
            }
            let fields = Fields {
                prev: &prev,
                seq,
                event_id: &event_id,
                at_ms,
                kind: &kind,
                actor: &actor,
                subject: &subject,
                details: &details,
            };
            if entry_hash(&fields) != hash {
                return Ok(Err(AuditBreak {
                    seq,
                    reason: "its content was changed".into(),
                }));
            }
            prev = hash;
            expected_seq += 1;
            count += 1;
        }
        Ok(Ok(count))
    }

    /// The newest `limit` entries, newest first (for staff and log export).
    pub fn audit_tail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT seq, at_ms, kind, actor, subject, details FROM audit_log ORDER BY seq DESC LIMIT ?1")?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(AuditEntry {
                seq: r.get(0)?,
                at_ms: r.get(1)?,
                kind: r.get(2)?,
                actor: r.get(3)?,
                subject: r.get(4)?,
                details: r.get(5)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }
}
