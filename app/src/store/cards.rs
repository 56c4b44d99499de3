//! Social security cards made on the spot: one row per attempt, each step written BEFORE it
//! is carried out, the end (issued or failed) written with its outbox row for the platform and
//! an audit entry in one transaction. After a crash, [`Store::open_card_attempt`] says what was
//! under way and where the card was believed to be; recovery finishes the row.
//!
//! Personal data (the holder's name and ID number, the card number) is only in the sealed
//! column; the plain columns hold ids, masked numbers, steps and places.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditEvent};
use super::outbox::OutboxKind;
use super::{Store, StoreError};
use crate::platform::CardResultPayload;
use kiosk_platform::wire::CardResult;

const DAY_MS: i64 = 86_400_000;

macro_rules! str_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant,)* }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum! {
    /// A step of making one card, as recorded.
    pub enum CardStep {
        /// The attempt is recorded; nothing has moved yet.
        Begin = "begin",
        /// A card from the hopper to the chip encoder (IC contact position).
        Dispense = "dispense",
        /// The chip: challenge, the platform's cryptogram, the records.
        Personalise = "personalise",
        /// The card face.
        Print = "print",
        /// The card held at the gate for the resident.
        Present = "present",
        /// The card into the reject bin.
        Capture = "capture",
        /// Start-up recovery after an interruption.
        Recover = "recover",
    }
}

str_enum! {
    pub enum StepStatus {
        Started = "started",
        Done = "done",
        Failed = "failed",
    }
}

str_enum! {
    /// Where the card is (believed to be).
    pub enum CardPlace {
        /// Still in the hopper: no card has been taken for this attempt.
        Hopper = "hopper",
        /// Inside the machine (encoder / printing position).
        Inside = "inside",
        /// Held at the gate.
        Gate = "gate",
        /// Taken by the resident.
        Taken = "taken",
        /// In the reject bin.
        RejectBin = "reject-bin",
        /// Was at the gate and is gone, not seen taken (taken during an interruption, or
        /// removed by hand): staff are alerted.
        Missing = "missing",
        /// Not known (the device could not be asked); staff are alerted.
        Unknown = "unknown",
    }
}

str_enum! {
    pub enum AttemptState {
        Open = "open",
        Issued = "issued",
        Failed = "failed",
    }
}

/// A new attempt. `Debug` shows no personal data.
#[derive(Clone)]
pub struct NewCardAttempt {
    /// Also the platform card request's idempotency key.
    pub id: uuid::Uuid,
    pub request_id: String,
    pub application_id: Option<uuid::Uuid>,
    pub application_number: Option<String>,
    pub holder_name: String,
    /// The holder's ID number (the social security number).
    pub holder_id_number: String,
    pub card_number: String,
    pub retention_days: u32,
}

impl std::fmt::Debug for NewCardAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCardAttempt")
            .field("id", &self.id)
            .field("request_id", &self.request_id)
            .field("application_id", &self.application_id)
            .finish_non_exhaustive()
    }
}

/// What is sealed for an attempt.
#[derive(Serialize, Deserialize)]
struct Sealed {
    name: String,
    id_number: String,
    card_number: String,
    application_number: Option<String>,
}

/// An attempt as recorded (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardAttempt {
    pub id: uuid::Uuid,
    pub request_id: String,
    pub application_id: Option<uuid::Uuid>,
    pub holder_masked: String,
    pub card_number_masked: String,
    #[serde(serialize_with = "as_str")]
    pub state: AttemptState,
    #[serde(serialize_with = "as_str")]
    pub step: CardStep,
    #[serde(serialize_with = "as_str")]
    pub step_status: StepStatus,
    #[serde(serialize_with = "as_str")]
    pub position: CardPlace,
    pub reason: Option<String>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
}

fn as_str<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// One line of an attempt's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub step: CardStep,
    pub status: StepStatus,
    pub position: CardPlace,
    pub detail: Option<String>,
}

/// An accepted application of this kiosk with a card item, for the person who applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCandidate {
    pub application_id: uuid::Uuid,
    pub application_number: String,
    pub one_thing_id: String,
}

/// An alert for staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffAlert {
    pub id: i64,
    pub at_ms: i64,
    pub kind: String,
    pub message: String,
}

/// The catalogue item that is the social security card.
pub const CARD_ITEM: &str = "social-security-card";

fn bad(what: &str) -> StoreError {
    StoreError::Data(format!("unknown {what} in card_attempts"))
}

fn attempt_from(r: &Row<'_>) -> rusqlite::Result<CardAttemptRaw> {
    Ok(CardAttemptRaw {
        id: r.get(0)?,
        request_id: r.get(1)?,
        application_id: r.get(2)?,
        holder_masked: r.get(3)?,
        card_number_masked: r.get(4)?,
        state: r.get(5)?,
        step: r.get(6)?,
        step_status: r.get(7)?,
        position: r.get(8)?,
        reason: r.get(9)?,
        created_ms: r.get(10)?,
        finished_ms: r.get(11)?,
    })
}

struct CardAttemptRaw {
    id: String,
    request_id: String,
    application_id: Option<String>,
    holder_masked: String,
    card_number_masked: String,
    state: String,
    step: String,
    step_status: String,
    position: String,
    reason: Option<String>,
    created_ms: i64,
    finished_ms: Option<i64>,
}

impl CardAttemptRaw {
    fn parse(self) -> Result<CardAttempt, StoreError> {
        Ok(CardAttempt {
            id: self.id.parse().map_err(|_| bad("id"))?,
            request_id: self.request_id,
            application_id: match self.application_id {
                Some(a) => Some(a.parse().map_err(|_| bad("application id"))?),
                None => None,
            },
            holder_masked: self.holder_masked,
            card_number_masked: self.card_number_masked,
            state: AttemptState::parse(&self.state).ok_or_else(|| bad("state"))?,
            step: CardStep::parse(&self.step).ok_or_else(|| bad("step"))?,
            step_status: StepStatus::parse(&self.step_status).ok_or_else(|| bad("status"))?,
            position: CardPlace::parse(&self.position).ok_or_else(|| bad("position"))?,
            reason: self.reason,
            created_ms: self.created_ms,
            finished_ms: self.finished_ms,
        })
    }
}

/// Request id, application id, sealed details and step of an open attempt.
type OpenRow = (String, Option<String>, Option<Vec<u8>>, String);

const ATTEMPT_COLUMNS: &str = "id, request_id, application_id, holder_masked, card_number_masked, state, step, step_status, position, reason, created_ms, finished_ms";

/// Why an attempt could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum BeginError {
    /// Another attempt is unfinished (recovery has not run): nothing may move.
    #[error("another card attempt is unfinished")]
    Unfinished,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Records a new attempt before anything moves. Refused while another attempt is open.
    pub fn begin_card_attempt(&self, a: &NewCardAttempt, at_ms: i64) -> Result<(), BeginError> {
        let id = a.id.to_string();
        let sealed = Sealed {
            name: a.holder_name.clone(),
            id_number: a.holder_id_number.clone(),
            card_number: a.card_number.clone(),
            application_number: a.application_number.clone(),
        };
        let plain = serde_json::to_vec(&sealed).map_err(|e| StoreError::Data(e.to_string()))?;
        let sealed = self.sealer.seal(&plain, &format!("card:{id}"))?;
        let holder_masked = kiosk_idcard::id_number::mask(&a.holder_id_number);
        let card_masked = kiosk_platform::mask::mask_id_number(&a.card_number);
        let purge_after = at_ms + i64::from(a.retention_days) * DAY_MS;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(StoreError::from)?;
        let open: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM card_attempts WHERE state = 'open'",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::from)?;
        if open > 0 {
            return Err(BeginError::Unfinished);
        }
        tx.execute(
            "INSERT INTO card_attempts (id, request_id, application_id, holder_masked, card_number_masked, sealed,
                 state, step, step_status, position, created_ms, updated_ms, purge_after_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', 'begin', 'done', 'hopper', ?7, ?7, ?8)",
            params![id, a.request_id, a.application_id.map(|u| u.to_string()), holder_masked, card_masked, sealed, at_ms, purge_after],
        )
        .map_err(StoreError::from)?;
        insert_step(
            &tx,
            &id,
            CardStep::Begin,
            StepStatus::Done,
            CardPlace::Hopper,
            None,
            at_ms,
        )?;
        let details = serde_json::json!({ "holder": holder_masked, "card": card_masked, "request": a.request_id, "application": a.application_number });
        audit::append(
            &tx,
            &AuditEvent::new("card.attempt.begun", "kiosk", &id, details),
            at_ms,
        )?;
        tx.commit().map_err(StoreError::from)?;
        Ok(())
    }

    /// Records a step of an open attempt (`Started` before it is carried out, `Done` or
    /// `Failed` after) and where the card is believed to be. False when the attempt is not
    /// open any more (finished meanwhile): the step must not be carried out.
    pub fn card_step(
        &self,
        id: uuid::Uuid,
        step: CardStep,
        status: StepStatus,
        position: CardPlace,
        detail: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE card_attempts SET step = ?2, step_status = ?3, position = ?4, updated_ms = ?5
             WHERE id = ?1 AND state = 'open'",
            params![id, step.as_str(), status.as_str(), position.as_str(), at_ms],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        insert_step(&tx, &id, step, status, position, detail, at_ms)?;
        tx.commit()?;
        Ok(true)
    }

    /// The resident took the card: the attempt is issued and the platform will be told.
    /// False when the attempt was not open.
    pub fn finish_card_issued(&self, id: uuid::Uuid, at_ms: i64) -> Result<bool, StoreError> {
        self.finish_card(id, None, CardPlace::Taken, at_ms)
    }

    /// Making the card failed; `position` is where the card ended up (the reject bin, or the
    /// hopper when none was taken). The platform will be told. False when the attempt was not
    /// open.
    pub fn finish_card_failed(
        &self,
        id: uuid::Uuid,
        reason: &str,
        position: CardPlace,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        self.finish_card(id, Some(reason), position, at_ms)
    }

    fn finish_card(
        &self,
        id: uuid::Uuid,
        failure: Option<&str>,
        position: CardPlace,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let key = id.to_string();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row: Option<OpenRow> = tx
            .query_row(
                "SELECT request_id, application_id, sealed, step FROM card_attempts WHERE id = ?1 AND state = 'open'",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((request_id, application_id, sealed, step)) = row else {
            return Ok(false);
        };
        let card_number = match sealed {
            Some(s) => {
                let plain = self.sealer.open(&s, &format!("card:{key}"))?;
                serde_json::from_slice::<Sealed>(&plain)
                    .map_err(|e| StoreError::Data(e.to_string()))?
                    .card_number
            }
            None => String::new(),
        };
        let reason = failure.map(crate::privacy::redact);
        let (state, result) = match &reason {
            None => (AttemptState::Issued, CardResult::Issued { card_number }),
            Some(r) => (
                AttemptState::Failed,
                CardResult::Failed {
                    reason: r.clone(),
                    card_number: (!card_number.is_empty()).then_some(card_number),
                },
            ),
        };
        let step = CardStep::parse(&step).unwrap_or(CardStep::Recover);
        let status = if reason.is_some() {
            StepStatus::Failed
        } else {
            StepStatus::Done
        };
        tx.execute(
            "UPDATE card_attempts SET state = ?2, position = ?3, reason = ?4, updated_ms = ?5, finished_ms = ?5,
                 step_status = ?6
             WHERE id = ?1",
            params![key, state.as_str(), position.as_str(), reason, at_ms, status.as_str()],
        )?;
        insert_step(&tx, &key, step, status, position, reason.as_deref(), at_ms)?;
        let payload = CardResultPayload {
            request_id,
            idempotency_key: uuid::Uuid::now_v7(),
            result,
        };
        self.insert_outbox(
            &tx,
            OutboxKind::CardResult,
            application_id.as_deref(),
            &format!("card-result:{key}"),
            &payload,
            at_ms,
        )?;
        let kind = if reason.is_some() {
            "card.failed"
        } else {
            "card.issued"
        };
        let details = serde_json::json!({ "position": position.as_str(), "reason": reason });
        audit::append(&tx, &AuditEvent::new(kind, "kiosk", &key, details), at_ms)?;
        crate::failpoint::point("card.finish.before-commit");
        tx.commit()?;
        Ok(true)
    }

    /// The unfinished attempt, if any (at most one).
    pub fn open_card_attempt(&self) -> Result<Option<CardAttempt>, StoreError> {
        let conn = self.conn();
        let raw = conn
            .query_row(
                &format!("SELECT {ATTEMPT_COLUMNS} FROM card_attempts WHERE state = 'open'"),
                [],
                attempt_from,
            )
            .optional()?;
        raw.map(CardAttemptRaw::parse).transpose()
    }

    pub fn card_attempt(&self, id: uuid::Uuid) -> Result<Option<CardAttempt>, StoreError> {
        let conn = self.conn();
        let raw = conn
            .query_row(
                &format!("SELECT {ATTEMPT_COLUMNS} FROM card_attempts WHERE id = ?1"),
                [id.to_string()],
                attempt_from,
            )
            .optional()?;
        raw.map(CardAttemptRaw::parse).transpose()
    }

    /// Every attempt, newest first.
    pub fn card_attempts(&self, limit: usize) -> Result<Vec<CardAttempt>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM card_attempts ORDER BY created_ms DESC, id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], attempt_from)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.parse()?);
        }
        Ok(out)
    }

    /// An attempt's history, in order.
    pub fn card_steps(&self, id: uuid::Uuid) -> Result<Vec<StepRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT step, status, position, detail FROM card_steps WHERE attempt_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (step, status, position, detail) = row?;
            out.push(StepRecord {
                step: CardStep::parse(&step).ok_or_else(|| bad("step"))?,
                status: StepStatus::parse(&status).ok_or_else(|| bad("status"))?,
                position: CardPlace::parse(&position).ok_or_else(|| bad("position"))?,
                detail,
            });
        }
        Ok(out)
    }

    /// When a card was issued at this kiosk to the holder with this ID number (the platform
    /// may not know yet if the result is still in the outbox).
    pub fn card_issued_to(&self, id_number: &str) -> Result<Option<i64>, StoreError> {
        let rows: Vec<(String, Vec<u8>, i64)> = {
            let conn = self.conn();
            let mut stmt = conn.prepare(
                "SELECT id, sealed, COALESCE(finished_ms, 0) FROM card_attempts WHERE state = 'issued' AND sealed IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (id, sealed, at) in rows {
            let plain = self.sealer.open(&sealed, &format!("card:{id}"))?;
            let s: Sealed =
                serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?;
            if s.id_number.eq_ignore_ascii_case(id_number) {
                return Ok(Some(at));
            }
        }
        Ok(None)
    }

    /// Accepted applications of this kiosk (not purged) of the one-things in `one_things`
    /// (those with a card item) in which the person with this ID number is an applicant and
    /// whose chosen items include the social security card, newest first; applications whose
    /// card was already issued here are left out.
    pub fn card_candidates(
        &self,
        id_number: &str,
        one_things: &[String],
    ) -> Result<Vec<CardCandidate>, StoreError> {
        let mut rows: Vec<(String, String, String, Vec<u8>, i64)> = Vec::new();
        {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT a.id, a.number, a.one_thing_id, a.sealed, a.accepted_ms FROM applications a
                 WHERE a.sealed IS NOT NULL AND a.one_thing_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM card_attempts c WHERE c.application_id = a.id AND c.state = 'issued')",
            )?;
            for one in one_things {
                let found = stmt.query_map([one], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
                for row in found {
                    rows.push(row?);
                }
            }
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.4));
        let mut out = Vec::new();
        for (id, number, one_thing_id, sealed, _) in rows {
            let plain = self.sealer.open(&sealed, &format!("application:{id}"))?;
            let app: crate::domain::application::Application =
                serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?;
            let applies = app
                .applicants
                .iter()
                .any(|(_, p)| p.id_number.eq_ignore_ascii_case(id_number));
            if applies && app.items.iter().any(|i| i == CARD_ITEM) {
                out.push(CardCandidate {
                    application_id: app.id,
                    application_number: number,
                    one_thing_id,
                });
            }
        }
        Ok(out)
    }

    /// Raises an alert for staff (also in the audit log).
    pub fn raise_alert(&self, kind: &str, message: &str, at_ms: i64) -> Result<(), StoreError> {
        let message = crate::privacy::redact(message);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO staff_alerts (at_ms, kind, message) VALUES (?1, ?2, ?3)",
            params![at_ms, kind, message],
        )?;
        audit::append(
            &tx,
            &AuditEvent::new(
                "staff.alert",
                "kiosk",
                kind,
                serde_json::json!({ "message": message }),
            ),
            at_ms,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Alerts not cleared, newest first.
    pub fn staff_alerts(&self, limit: usize) -> Result<Vec<StaffAlert>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at_ms, kind, message FROM staff_alerts WHERE cleared_ms IS NULL ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(StaffAlert {
                id: r.get(0)?,
                at_ms: r.get(1)?,
                kind: r.get(2)?,
                message: r.get(3)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// Staff dealt with an alert.
    pub fn clear_alert(&self, id: i64, at_ms: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE staff_alerts SET cleared_ms = ?2 WHERE id = ?1 AND cleared_ms IS NULL",
            params![id, at_ms],
        )?;
        Ok(())
    }

    /// Removes the sealed details of finished attempts past retention; returns how many.
    pub fn purge_card_details(&self, now_ms: i64) -> Result<u64, StoreError> {
        let n = self.conn().execute(
            "UPDATE card_attempts SET sealed = NULL WHERE sealed IS NOT NULL AND state != 'open' AND purge_after_ms <= ?1",
            [now_ms],
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn insert_step(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    step: CardStep,
    status: StepStatus,
    position: CardPlace,
    detail: Option<&str>,
    at_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO card_steps (attempt_id, seq, step, status, position, detail, at_ms)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM card_steps WHERE attempt_id = ?1), ?2, ?3, ?4, ?5, ?6)",
        params![id, step.as_str(), status.as_str(), position.as_str(), detail.map(crate::privacy::redact), at_ms],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(n: u128) -> NewCardAttempt {
        NewCardAttempt {
            id: uuid::Uuid::from_u128(n),
            request_id: format!("CR{n:06}"),
            application_id: None,
            application_number: None,
            holder_name: "韦龘𠮷".into(),
            holder_id_number: "45010220000229008X".into(),
            card_number: format!("SIM{n:06}"),
            retention_days: 180,
        }
    }

    #[test]
    fn an_attempt_is_recorded_step_by_step_and_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = attempt(1);
        store.begin_card_attempt(&a, 1000).unwrap();
        assert!(
            matches!(
                store.begin_card_attempt(&attempt(2), 1001),
                Err(BeginError::Unfinished)
            ),
            "one unfinished attempt at a time"
        );
        assert!(
            store
                .card_step(
                    a.id,
                    CardStep::Dispense,
                    StepStatus::Started,
                    CardPlace::Hopper,
                    None,
                    1002
                )
                .unwrap()
        );
        let open = store.open_card_attempt().unwrap().unwrap();
        assert_eq!(
            (open.step, open.step_status, open.position),
            (CardStep::Dispense, StepStatus::Started, CardPlace::Hopper)
        );
        assert_eq!(open.holder_masked, "4501**********008X");
        assert_eq!(open.card_number_masked, "SIM0*0001");
        store
            .card_step(
                a.id,
                CardStep::Dispense,
                StepStatus::Done,
                CardPlace::Inside,
                None,
                1003,
            )
            .unwrap();
        assert!(store.finish_card_issued(a.id, 1004).unwrap());
        assert!(
            !store
                .finish_card_failed(a.id, "late", CardPlace::RejectBin, 1005)
                .unwrap(),
            "finished once"
        );
        assert!(
            !store
                .card_step(
                    a.id,
                    CardStep::Capture,
                    StepStatus::Started,
                    CardPlace::Gate,
                    None,
                    1006
                )
                .unwrap(),
            "no step after the end"
        );
        assert!(store.open_card_attempt().unwrap().is_none());
        let done = store.card_attempt(a.id).unwrap().unwrap();
        assert_eq!(
            (done.state, done.position),
            (AttemptState::Issued, CardPlace::Taken)
        );
        let steps = store.card_steps(a.id).unwrap();
        assert_eq!(steps.len(), 4);
        let due = store.due(2000, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].kind, OutboxKind::CardResult);
        let payload: CardResultPayload = serde_json::from_slice(&due[0].payload).unwrap();
        assert_eq!(payload.request_id, "CR000001");
        assert_eq!(
            payload.result,
            CardResult::Issued {
                card_number: "SIM000001".into()
            }
        );
        assert_eq!(
            store.card_issued_to("45010220000229008x").unwrap(),
            Some(1004)
        );
        // A next attempt may start now.
        store.begin_card_attempt(&attempt(2), 1010).unwrap();
        assert!(
            store
                .finish_card_failed(
                    uuid::Uuid::from_u128(2),
                    "chip: select SSSE: 6A82",
                    CardPlace::RejectBin,
                    1011
                )
                .unwrap()
        );
        let failed = store
            .card_attempt(uuid::Uuid::from_u128(2))
            .unwrap()
            .unwrap();
        assert_eq!(failed.state, AttemptState::Failed);
        assert_eq!(failed.reason.as_deref(), Some("chip: select SSSE: 6A82"));
        assert_eq!(store.card_attempts(10).unwrap().len(), 2);
        assert!(store.verify_audit().unwrap().is_ok());
        // Nothing personal in the plain columns or the audit log.
        let conn = store.conn();
        let dump: String = conn
            .query_row("SELECT group_concat(holder_masked || card_number_masked || COALESCE(reason, '')) FROM card_attempts", [], |r| r.get(0))
            .unwrap();
        assert!(!dump.contains("45010220000229008X") && !dump.contains("韦"));
    }

    #[test]
    fn purge_drops_the_sealed_details_of_finished_attempts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = attempt(3);
        store.begin_card_attempt(&a, 0).unwrap();
        assert_eq!(
            store.purge_card_details(i64::MAX).unwrap(),
            0,
            "open attempts keep theirs"
        );
        store
            .finish_card_failed(a.id, "interrupted", CardPlace::RejectBin, 1)
            .unwrap();
        assert_eq!(store.purge_card_details(1).unwrap(), 0);
        assert_eq!(store.purge_card_details(181 * DAY_MS).unwrap(), 1);
    }

    #[test]
    fn a_parent_finds_the_applications_with_a_card_item_until_the_card_is_issued() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let scans = tempfile::tempdir().unwrap();
        let mut with_card = crate::store::tests_support::application(1, Vec::new());
        with_card.items.push(CARD_ITEM.into());
        let without = crate::store::tests_support::application(2, Vec::new());
        store.accept(&with_card, scans.path(), 180).unwrap();
        store.accept(&without, scans.path(), 180).unwrap();
        let ones = ["newborn".to_owned()];
        assert!(
            store
                .card_candidates("360426199101010071", &[])
                .unwrap()
                .is_empty()
        );
        let found = store.card_candidates("360426199101010071", &ones).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].application_id, with_card.id);
        assert_eq!(found[0].application_number, with_card.number);
        assert!(
            store
                .card_candidates("45010220000229008X", &ones)
                .unwrap()
                .is_empty()
        );
        let mut a = attempt(7);
        a.application_id = Some(with_card.id);
        store.begin_card_attempt(&a, 10).unwrap();
        store.finish_card_issued(a.id, 11).unwrap();
        assert!(
            store
                .card_candidates("360426199101010071", &ones)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn alerts_are_listed_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .raise_alert("card.hopper-low", "Few blank cards left", 5)
            .unwrap();
        let alerts = store.staff_alerts(10).unwrap();
        assert_eq!(alerts.len(), 1);
        store.clear_alert(alerts[0].id, 6).unwrap();
        assert!(store.staff_alerts(10).unwrap().is_empty());
    }
}
