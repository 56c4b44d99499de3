//! What is in the lockers: deposits, pickups, recalls, the wrong-code limit and the staff
//! alerts. Every change of an item is one transaction with its audit entry and, where the
//! platform must hear of it, its outbox row. An operation on a door is written down
//! ("opening") before the unlock is sent, so that a restart finds out what was under way
//! ([`Store::locker_reconcile`]).
//!
//! Pickup codes and ID numbers are kept only as keyed hashes ([`Store::keyed_hash`]); the
//! clear code exists once more only inside the sealed outbox row that tells the platform
//! to send it by SMS.

use rusqlite::{Connection, OptionalExtension as _, Row, params};
use uuid::Uuid;

use super::audit::{AuditEvent, append};
use super::outbox::OutboxKind;
use super::{Store, StoreError};
use crate::domain::locker::{
    Actor, AlertKind, CodeLimits, ItemState, LockerAlert, LockerItem, OpenResult, Operation,
    PickupKey, PickupLookup, ReadyApplication, Size,
};

const ITEM_COLUMNS: &str = "id, application_id, case_number, compartment, state, applicant_masked, documents, size, deposited_ms, note";

/// States that hold a compartment.
const ACTIVE: &str = "state NOT IN ('collected', 'recalled', 'cancelled')";

fn size_str(s: Size) -> &'static str {
    match s {
        Size::S => "S",
        Size::M => "M",
        Size::L => "L",
    }
}

fn parse_size(s: &str) -> Size {
    match s {
        "S" => Size::S,
        "M" => Size::M,
        _ => Size::L,
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<LockerItem> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("bad {what}").into(),
        )
    };
    let id: String = r.get(0)?;
    let application_id: String = r.get(1)?;
    let state: String = r.get(4)?;
    let documents: String = r.get(6)?;
    let size: String = r.get(7)?;
    Ok(LockerItem {
        id: id.parse().map_err(|_| bad(0, "item id"))?,
        application_id: application_id
            .parse()
            .map_err(|_| bad(1, "application id"))?,
        case_number: r.get(2)?,
        compartment: r.get(3)?,
        state: ItemState::parse(&state).ok_or_else(|| bad(4, "state"))?,
        applicant_masked: r.get(5)?,
        documents: serde_json::from_str(&documents).map_err(|_| bad(6, "documents"))?,
        size: parse_size(&size),
        deposited_ms: r.get(8)?,
        note: r.get(9)?,
    })
}

fn item(conn: &Connection, id: Uuid) -> Result<Option<LockerItem>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {ITEM_COLUMNS} FROM locker_items WHERE id = ?1"),
            [id.to_string()],
            item_from_row,
        )
        .optional()?)
}

fn items(
    conn: &Connection,
    where_: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<LockerItem>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ITEM_COLUMNS} FROM locker_items WHERE {where_} ORDER BY compartment"
    ))?;
    let rows = stmt.query_map(args, item_from_row)?;
    rows.collect::<Result<_, _>>().map_err(StoreError::from)
}

fn set_state(
    conn: &Connection,
    id: Uuid,
    state: ItemState,
    note: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE locker_items SET state = ?2, phase = NULL, prev_state = NULL,
            note = COALESCE(?3, note), updated_ms = ?4 WHERE id = ?1",
        params![id.to_string(), state.as_str(), note, now_ms],
    )?;
    Ok(())
}

fn insert_alert(
    conn: &Connection,
    kind: AlertKind,
    compartment: &str,
    detail: &str,
    now_ms: i64,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO locker_alerts (at_ms, kind, compartment, detail) VALUES (?1, ?2, ?3, ?4)",
        params![now_ms, kind.as_str(), compartment, detail],
    )?;
    let id = conn.last_insert_rowid();
    append(
        conn,
        &AuditEvent::new(
            "locker.alert",
            "kiosk",
            compartment,
            serde_json::json!({ "alert": kind.as_str(), "alert_id": id, "detail": detail }),
        ),
        now_ms,
    )?;
    Ok(id)
}

/// What [`Store::locker_closed`] finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub item: LockerItem,
    pub operation: Operation,
    /// When it was finished (Unix ms).
    pub at_ms: i64,
}

impl Store {
    /// HMAC-SHA256 (hex) of `text` under a key derived from the store's sealing key: for
    /// values matched later but never kept in clear (pickup codes, ID numbers).
    pub fn keyed_hash(&self, text: &str) -> String {
        self.sealer.keyed_hash(text)
    }

    /// The key of a card holder: the platform hands out SHA-256 of ID numbers, the kiosk
    /// keeps only a keyed hash of that.
    fn holder_key(&self, id_sha256: &str) -> String {
        self.keyed_hash(&format!("holder:{}", id_sha256.to_ascii_lowercase()))
    }

    fn code_key(&self, code: &str) -> String {
        self.keyed_hash(&format!("pickup-code:{}", code.trim()))
    }

    /// Looks up a resident's items. Codes count against the kiosk-wide wrong-code limit;
    /// every refusal (wrong code, unknown card, cool-down) is audited with the masked ID
    /// number or `code`.
    pub fn locker_lookup(
        &self,
        key: &PickupKey,
        limits: &CodeLimits,
        now_ms: i64,
    ) -> Result<PickupLookup, StoreError> {
        let actor = key.actor().audit_name();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let denied = |tx: &Connection, reason: &str, extra: serde_json::Value| {
            let mut details = extra;
            details["reason"] = reason.into();
            append(
                tx,
                &AuditEvent::new("locker.denied", &actor, "locker", details),
                now_ms,
            )
        };
        let (method, found) = match key {
            PickupKey::Code(code) => {
                if let Some(until_ms) = cooldown_until(&tx, limits, now_ms)? {
                    record_attempt(&tx, "code", "cooldown", now_ms)?;
                    denied(
                        &tx,
                        "cool-down",
                        serde_json::json!({ "until_ms": until_ms }),
                    )?;
                    tx.commit()?;
                    return Ok(PickupLookup::CoolDown { until_ms });
                }
                let valid = code.len() == crate::domain::locker::CODE_DIGITS
                    && code.bytes().all(|b| b.is_ascii_digit());
                let found = if valid {
                    items(
                        &tx,
                        "code_hash = ?1 AND state IN ('in_locker', 'jammed', 'check')",
                        [self.code_key(code)],
                    )?
                } else {
                    Vec::new()
                };
                ("code", found)
            }
            PickupKey::Card { id_number, .. } => {
                let holder = self.holder_key(&kiosk_platform::mask::id_number_hash(id_number));
                let found = items(
                    &tx,
                    "id IN (SELECT item_id FROM locker_holders WHERE id_hash = ?1)
                     AND state IN ('in_locker', 'jammed', 'check')",
                    [holder],
                )?;
                ("card", found)
            }
        };
        let ready: Vec<LockerItem> = found
            .iter()
            .filter(|i| i.state == ItemState::InLocker)
            .cloned()
            .collect();
        let answer = if !ready.is_empty() {
            record_attempt(&tx, method, "ok", now_ms)?;
            PickupLookup::Found(ready)
        } else if !found.is_empty() {
            record_attempt(&tx, method, "ok", now_ms)?;
            let compartments: Vec<&str> = found.iter().map(|i| i.compartment.as_str()).collect();
            denied(
                &tx,
                "needs staff",
                serde_json::json!({ "compartments": compartments }),
            )?;
            PickupLookup::NeedsStaff
        } else {
            record_attempt(&tx, method, "wrong", now_ms)?;
            if method == "code" {
                let wrong = wrong_codes_since(&tx, now_ms - millis(limits.window))?;
                let left = limits.attempts_per_window.saturating_sub(wrong);
                denied(
                    &tx,
                    "wrong code",
                    serde_json::json!({ "attempts_left": left }),
                )?;
                if left == 0 {
                    let until_ms = now_ms.saturating_add(millis(limits.cooldown));
                    tx.commit()?;
                    return Ok(PickupLookup::CoolDown { until_ms });
                }
                PickupLookup::NotFound {
                    attempts_left: Some(left),
                }
            } else {
                denied(&tx, "no item for this card", serde_json::json!({}))?;
                PickupLookup::NotFound {
                    attempts_left: None,
                }
            }
        };
        tx.commit()?;
        Ok(answer)
    }

    /// Writes down that staff is loading `ready` into `compartment` (before the door is
    /// opened). Fails when the compartment or the application is already taken.
    pub fn locker_begin_deposit(
        &self,
        item_id: Uuid,
        ready: &ReadyApplication,
        compartment: &str,
        staff: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let actor = Actor::Staff {
            id: staff.to_owned(),
        }
        .audit_name();
        let documents =
            serde_json::to_string(&ready.documents).map_err(|e| StoreError::Data(e.to_string()))?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO locker_items (id, application_id, case_number, compartment, state, phase,
                actor, applicant_masked, documents, size, created_ms, deposited_by, updated_ms)
             VALUES (?1, ?2, ?3, ?4, 'depositing', 'opening', ?5, ?6, ?7, ?8, ?9, ?5, ?9)",
            params![
                item_id.to_string(),
                ready.application_id.to_string(),
                ready.case_number,
                compartment,
                actor,
                ready.applicant_masked,
                documents,
                size_str(ready.size),
                now_ms
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(StoreError::Data(format!(
                    "compartment {compartment} or application {} is already in use",
                    ready.case_number
                )));
            }
            Err(e) => return Err(e.into()),
        }
        for hash in &ready.holder_hashes {
            tx.execute(
                "INSERT OR IGNORE INTO locker_holders (item_id, id_hash) VALUES (?1, ?2)",
                params![item_id.to_string(), self.holder_key(hash)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Writes down that a door is about to be opened for `operation` on an item that is in
    /// the locker (or, for a recall, that needs staff). Returns the item, or `None` when it
    /// is not in a state for this.
    pub fn locker_begin(
        &self,
        item_id: Uuid,
        operation: Operation,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<Option<LockerItem>, StoreError> {
        let allowed: &[ItemState] = match operation {
            Operation::Pickup => &[ItemState::InLocker],
            Operation::Recall => &[ItemState::InLocker, ItemState::Jammed, ItemState::Check],
            Operation::Deposit => &[],
        };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(found) = item(&tx, item_id)? else {
            return Ok(None);
        };
        if !allowed.contains(&found.state) {
            return Ok(None);
        }
        tx.execute(
            "UPDATE locker_items SET state = ?2, phase = 'opening', prev_state = ?3, actor = ?4,
                updated_ms = ?5 WHERE id = ?1",
            params![
                item_id.to_string(),
                operation.state().as_str(),
                found.state.as_str(),
                actor.audit_name(),
                now_ms
            ],
        )?;
        let updated = item(&tx, item_id)?;
        tx.commit()?;
        Ok(updated)
    }

    /// Records what asking the door to open came to. A door that opened waits for its
    /// close; a jam is recorded (never retried); when nothing was sent the item goes back.
    pub fn locker_opened(
        &self,
        item_id: Uuid,
        result: OpenResult,
        now_ms: i64,
    ) -> Result<Option<LockerItem>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(found) = item(&tx, item_id)? else {
            return Ok(None);
        };
        let (actor, prev): (Option<String>, Option<String>) = tx.query_row(
            "SELECT actor, prev_state FROM locker_items WHERE id = ?1",
            [item_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let actor = actor.unwrap_or_else(|| "kiosk".to_owned());
        let operation = match found.state {
            ItemState::Depositing => Operation::Deposit,
            ItemState::Collecting => Operation::Pickup,
            ItemState::Recalling => Operation::Recall,
            _ => return Ok(Some(found)),
        };
        let details = serde_json::json!({
            "operation": operation.as_str(),
            "outcome": result.as_str(),
            "case_number": found.case_number,
            "item": item_id.to_string(),
        });
        let (kind, state) = match result {
            OpenResult::Opened | OpenResult::AlreadyOpen => {
                tx.execute(
                    "UPDATE locker_items SET phase = 'open', updated_ms = ?2 WHERE id = ?1",
                    params![item_id.to_string(), now_ms],
                )?;
                ("locker.door_opened", None)
            }
            OpenResult::Jammed => (
                "locker.jammed",
                Some(if operation == Operation::Deposit {
                    (
                        ItemState::Cancelled,
                        "the door did not open (jammed); nothing was loaded",
                    )
                } else {
                    (ItemState::Jammed, "the door did not open (jammed)")
                }),
            ),
            OpenResult::NoReply { unlock_sent: true } => (
                "locker.no_reply",
                Some(if operation == Operation::Deposit {
                    (
                        ItemState::Cancelled,
                        "the board stopped answering after the unlock; nothing was loaded",
                    )
                } else {
                    (
                        ItemState::Check,
                        "the board stopped answering after the unlock: the door may be open",
                    )
                }),
            ),
            OpenResult::NoReply { unlock_sent: false } | OpenResult::Unavailable => {
                let back = if operation == Operation::Deposit {
                    ItemState::Cancelled
                } else {
                    prev.as_deref()
                        .and_then(ItemState::parse)
                        .unwrap_or(ItemState::InLocker)
                };
                (
                    "locker.open_failed",
                    Some((back, "the locker could not be asked; nothing was sent")),
                )
            }
        };
        if let Some((state, note)) = state {
            // A lock that did not open, or a board that fell silent after the unlock, is for
            // staff: alerted in the same transaction, never retried by the kiosk.
            let alert = match result {
                OpenResult::Jammed => Some(AlertKind::Jammed),
                OpenResult::NoReply { unlock_sent: true } => Some(AlertKind::NoReply),
                _ => None,
            };
            if let Some(kind) = alert {
                insert_alert(&tx, kind, &found.compartment, note, now_ms)?;
            }
            let note = (state != ItemState::InLocker).then_some(note);
            set_state(&tx, item_id, state, note, now_ms)?;
        }
        append(
            &tx,
            &AuditEvent::new(kind, &actor, &found.compartment, details),
            now_ms,
        )?;
        let updated = item(&tx, item_id)?;
        tx.commit()?;
        Ok(updated)
    }

    /// The door of an item being handled closed: the deposit, pickup or recall is done. One
    /// transaction: the item's new state, the audit entry and the platform's event.
    /// `deposit_code` is the fresh pickup code for a deposit (kept hashed; sent in clear
    /// only in the sealed outbox row for the platform's SMS).
    pub fn locker_closed(
        &self,
        item_id: Uuid,
        deposit_code: &str,
        kiosk_id: &str,
        now_ms: i64,
    ) -> Result<Option<Finished>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(found) = item(&tx, item_id)? else {
            return Ok(None);
        };
        let actor: Option<String> = tx.query_row(
            "SELECT actor FROM locker_items WHERE id = ?1",
            [item_id.to_string()],
            |r| r.get(0),
        )?;
        let actor = actor.unwrap_or_else(|| "kiosk".to_owned());
        let id = item_id.to_string();
        let (operation, kind, code) = match found.state {
            ItemState::Depositing => {
                tx.execute(
                    "UPDATE locker_items SET state = 'in_locker', phase = NULL, prev_state = NULL,
                        code_hash = ?2, deposited_ms = ?3, updated_ms = ?3 WHERE id = ?1",
                    params![id, self.code_key(deposit_code), now_ms],
                )?;
                (
                    Operation::Deposit,
                    kiosk_platform::wire::LockerEventKind::Deposit,
                    Some(deposit_code.to_owned()),
                )
            }
            ItemState::Collecting | ItemState::Recalling => {
                let (operation, state, kind) = if found.state == ItemState::Collecting {
                    (
                        Operation::Pickup,
                        ItemState::Collected,
                        kiosk_platform::wire::LockerEventKind::Pickup,
                    )
                } else {
                    (
                        Operation::Recall,
                        ItemState::Recalled,
                        kiosk_platform::wire::LockerEventKind::Recall,
                    )
                };
                tx.execute(
                    "UPDATE locker_items SET state = ?2, phase = NULL, prev_state = NULL,
                        code_hash = NULL, closed_ms = ?3, closed_by = actor, updated_ms = ?3
                     WHERE id = ?1",
                    params![id, state.as_str(), now_ms],
                )?;
                (operation, kind, None)
            }
            _ => return Ok(None),
        };
        // The platform hears of a pickup or recall only of what it heard was deposited.
        if operation == Operation::Deposit || found.deposited_ms.is_some() {
            let event_id = Uuid::now_v7();
            let at = jiff::Timestamp::from_millisecond(now_ms)
                .map_err(|e| StoreError::Data(e.to_string()))?;
            let event = kiosk_platform::wire::LockerEvent {
                event_id,
                kiosk_id: kiosk_id.to_owned(),
                kind,
                application_id: found.application_id,
                compartment_label: found.compartment.clone(),
                at,
                pickup_code: code,
            };
            self.insert_outbox(
                &tx,
                OutboxKind::LockerEvent,
                Some(&found.application_id.to_string()),
                &event_id.to_string(),
                &event,
                now_ms,
            )?;
        }
        append(
            &tx,
            &AuditEvent::new(
                &format!("locker.{}", operation.as_str()),
                &actor,
                &found.compartment,
                serde_json::json!({
                    "case_number": found.case_number,
                    "application_id": found.application_id.to_string(),
                    "item": id,
                    "documents": found.documents.len(),
                }),
            ),
            now_ms,
        )?;
        let updated = item(&tx, item_id)?;
        tx.commit()?;
        Ok(updated.map(|item| Finished {
            item,
            operation,
            at_ms: now_ms,
        }))
    }

    /// At start-up: every item whose door was being opened or was open when the kiosk
    /// stopped is marked for staff to check, with the door state read from the device
    /// (`door(compartment)`: `Some(true)` open, `Some(false)` closed, `None` unknown), an
    /// audit entry and a staff alert. Returns the items marked.
    pub fn locker_reconcile(
        &self,
        door: &dyn Fn(&str) -> Option<bool>,
        now_ms: i64,
    ) -> Result<Vec<LockerItem>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut stmt = tx.prepare(
            "SELECT id, state, phase, actor FROM locker_items
             WHERE state IN ('depositing', 'collecting', 'recalling')",
        )?;
        let rows: Vec<(String, String, Option<String>, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        let mut marked = Vec::new();
        for (id, state, phase, actor) in rows {
            let Ok(item_id) = id.parse::<Uuid>() else {
                continue;
            };
            let Some(found) = item(&tx, item_id)? else {
                continue;
            };
            let operation = match state.as_str() {
                "depositing" => "loading",
                "collecting" => "pickup",
                _ => "recall",
            };
            let phase = phase.unwrap_or_else(|| "opening".to_owned());
            let door_now = match door(&found.compartment) {
                Some(true) => "open",
                Some(false) => "closed",
                None => "unknown",
            };
            let note = format!(
                "the kiosk restarted during a {operation} (door {}); the door now reads {door_now}",
                if phase == "open" {
                    "was open"
                } else {
                    "was being opened"
                }
            );
            set_state(&tx, item_id, ItemState::Check, Some(&note), now_ms)?;
            append(
                &tx,
                &AuditEvent::new(
                    "locker.restart_check",
                    &actor.unwrap_or_else(|| "kiosk".to_owned()),
                    &found.compartment,
                    serde_json::json!({
                        "operation": operation,
                        "phase": phase,
                        "door": door_now,
                        "case_number": found.case_number,
                        "item": id,
                    }),
                ),
                now_ms,
            )?;
            insert_alert(
                &tx,
                AlertKind::RestartCheck,
                &found.compartment,
                &note,
                now_ms,
            )?;
            if let Some(updated) = item(&tx, item_id)? {
                marked.push(updated);
            }
        }
        tx.commit()?;
        Ok(marked)
    }

    /// One item by id.
    pub fn locker_item(&self, item_id: Uuid) -> Result<Option<LockerItem>, StoreError> {
        item(&self.conn(), item_id)
    }

    /// Items that hold a compartment (for the staff overview and the deposit assignment).
    pub fn locker_active(&self) -> Result<Vec<LockerItem>, StoreError> {
        items(&self.conn(), ACTIVE, [])
    }

    /// What staff should take back: items deposited before `cutoff_ms` and not collected,
    /// and every item that needs staff (jammed, or to check).
    pub fn locker_recall_list(&self, cutoff_ms: i64) -> Result<Vec<LockerItem>, StoreError> {
        items(
            &self.conn(),
            "(state = 'in_locker' AND deposited_ms < ?1) OR state IN ('jammed', 'check')",
            [cutoff_ms],
        )
    }

    /// Raises a staff alert (with its audit entry).
    pub fn locker_alert(
        &self,
        kind: AlertKind,
        compartment: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = insert_alert(&tx, kind, compartment, detail, now_ms)?;
        tx.commit()?;
        Ok(id)
    }

    /// Alerts not yet acknowledged, oldest first.
    pub fn locker_open_alerts(&self) -> Result<Vec<LockerAlert>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at_ms, kind, compartment, detail FROM locker_alerts
             WHERE acknowledged_ms IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(2)?;
            Ok(LockerAlert {
                id: r.get(0)?,
                at_ms: r.get(1)?,
                kind: AlertKind::parse(&kind).unwrap_or(AlertKind::RestartCheck),
                compartment: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// Staff acknowledges an alert. False when it was not open.
    pub fn locker_ack_alert(&self, id: i64, staff: &str, now_ms: i64) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let compartment: Option<String> = tx
            .query_row(
                "SELECT compartment FROM locker_alerts WHERE id = ?1 AND acknowledged_ms IS NULL",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(compartment) = compartment else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE locker_alerts SET acknowledged_ms = ?2, acknowledged_by = ?3 WHERE id = ?1",
            params![id, now_ms, staff],
        )?;
        append(
            &tx,
            &AuditEvent::new(
                "locker.alert_acknowledged",
                &Actor::Staff {
                    id: staff.to_owned(),
                }
                .audit_name(),
                &compartment,
                serde_json::json!({ "alert_id": id }),
            ),
            now_ms,
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Compartments with an open jam alert: not offered for loading until staff
    /// acknowledges it.
    pub fn locker_jammed_compartments(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT compartment FROM locker_alerts
             WHERE acknowledged_ms IS NULL AND kind IN ('jammed', 'no_reply')",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }
}

fn record_attempt(
    conn: &Connection,
    method: &str,
    outcome: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO locker_attempts (at_ms, method, outcome) VALUES (?1, ?2, ?3)",
        params![now_ms, method, outcome],
    )?;
    Ok(())
}

fn wrong_codes_since(conn: &Connection, since_ms: i64) -> Result<u32, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM locker_attempts WHERE method = 'code' AND outcome = 'wrong' AND at_ms > ?1",
        [since_ms],
        |r| r.get(0),
    )?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The end of the cool-down in force at `now_ms`, if any: the last wrong code completed
/// `attempts_per_window` wrong codes within `window`, less than `cooldown` ago.
fn cooldown_until(
    conn: &Connection,
    limits: &CodeLimits,
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let last: Option<i64> = conn.query_row(
        "SELECT MAX(at_ms) FROM locker_attempts WHERE method = 'code' AND outcome = 'wrong'",
        [],
        |r| r.get(0),
    )?;
    let Some(last) = last else { return Ok(None) };
    let until = last.saturating_add(millis(limits.cooldown));
    if until <= now_ms {
        return Ok(None);
    }
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM locker_attempts WHERE method = 'code' AND outcome = 'wrong'
           AND at_ms > ?1 AND at_ms <= ?2",
        params![last - millis(limits.window), last],
        |r| r.get(0),
    )?;
    let limit = i64::from(limits.attempts_per_window.max(1));
    Ok((n >= limit).then_some(until))
}
