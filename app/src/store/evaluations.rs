//! Evaluations (好差评): stored and queued for the platform together.

use rusqlite::params;

use super::audit::{self, AuditEvent};
use super::outbox::OutboxKind;
use super::{Store, StoreError};
use crate::domain::evaluation::Evaluation;

impl Store {
    pub fn save_evaluation(&self, e: &Evaluation) -> Result<(), StoreError> {
        let at_ms = e.at.as_millisecond();
        let id = e.id.to_string();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO evaluations (id, application_number, level, reasons, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO NOTHING",
            params![id, e.application_number, e.level, e.reasons.join(","), at_ms],
        )?;
        self.insert_outbox(
            &tx,
            OutboxKind::Evaluation,
            None,
            &format!("evaluation:{id}"),
            e,
            at_ms,
        )?;
        let details = serde_json::json!({ "level": e.level, "reasons": e.reasons });
        audit::append(
            &tx,
            &AuditEvent::new(
                "evaluation.recorded",
                "resident",
                e.application_number.as_deref().unwrap_or("-"),
                details,
            ),
            at_ms,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Evaluations recorded, per level 1..=5.
    pub fn evaluation_counts(&self) -> Result<[u64; 5], StoreError> {
        let conn = self.conn();
        let mut out = [0u64; 5];
        let mut stmt = conn.prepare("SELECT level, COUNT(*) FROM evaluations GROUP BY level")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (level, n) = row?;
            if let Some(slot) = usize::try_from(level - 1).ok().and_then(|i| out.get_mut(i)) {
                *slot = u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(out)
    }
}
