//! Staff accounts: a work id, a name and a PIN kept only as an argon2id hash. A PIN typed
//! wrong too many times in a row locks the account for a while; every sign-in, refusal and
//! PIN change goes into the audit log (staff ids only, never a PIN).

use std::time::Duration;

use argon2::{PasswordHasher as _, PasswordVerifier as _};
use rusqlite::{OptionalExtension as _, params};

use super::audit::{AuditEvent, append};
use super::{Store, StoreError};

/// When an account is locked (from `[staff]` in kiosk.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffPolicy {
    /// Wrong PINs in a row before the account is locked.
    pub failures_before_lockout: u32,
    /// How long it stays locked.
    pub lockout: Duration,
}

impl Default for StaffPolicy {
    fn default() -> Self {
        StaffPolicy {
            failures_before_lockout: 5,
            lockout: Duration::from_mins(15),
        }
    }
}

/// A signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
}

/// The answer to a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Ok(StaffMember),
    /// Unknown id or wrong PIN (not told apart); tries left before the lock-out.
    Denied {
        attempts_left: u32,
    },
    /// Locked after too many wrong PINs, until this time (Unix ms).
    LockedOut {
        until_ms: i64,
    },
}

/// A PIN is 6 to 12 digits.
pub fn valid_pin(pin: &str) -> bool {
    (6..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// A staff id is 1 to 32 letters, digits, `-` or `_`.
pub fn valid_staff_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn hash_pin(pin: &str) -> Result<String, StoreError> {
    argon2::Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Data(format!("cannot hash the PIN: {e}")))
}

fn pin_matches(pin: &str, stored: &str) -> bool {
    argon2::Argon2::default()
        .verify_password(pin.as_bytes(), stored)
        .is_ok()
}

impl Store {
    /// Creates a staff account or changes its name and PIN (a technician's command). The
    /// account's lock-out is cleared.
    pub fn set_staff_pin(
        &self,
        id: &str,
        name: &str,
        pin: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if !valid_staff_id(id) {
            return Err(StoreError::Data(
                "a staff id is 1 to 32 letters, digits, - or _".into(),
            ));
        }
        if !valid_pin(pin) {
            return Err(StoreError::Data("a PIN is 6 to 12 digits".into()));
        }
        if name.trim().is_empty() {
            return Err(StoreError::Data("the staff member's name is empty".into()));
        }
        let hash = hash_pin(pin)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO staff (id, name, pin_hash, failures, locked_until_ms, updated_ms)
             VALUES (?1, ?2, ?3, 0, NULL, ?4)
             ON CONFLICT(id) DO UPDATE SET name = ?2, pin_hash = ?3, failures = 0,
                locked_until_ms = NULL, updated_ms = ?4",
            params![id, name.trim(), hash, now_ms],
        )?;
        append(
            &tx,
            &AuditEvent::new("staff.pin_set", "technician", id, serde_json::json!({})),
            now_ms,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// How many staff accounts exist.
    pub fn staff_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM staff", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Checks a staff id and PIN. The hash is checked outside the database lock (argon2 is
    /// deliberately slow).
    pub fn staff_sign_in(
        &self,
        id: &str,
        pin: &str,
        policy: &StaffPolicy,
        now_ms: i64,
    ) -> Result<SignIn, StoreError> {
        let limit = policy.failures_before_lockout.max(1);
        let row: Option<(String, String, i64, Option<i64>)> = if valid_staff_id(id) {
            self.conn()
                .query_row(
                    "SELECT name, pin_hash, failures, locked_until_ms FROM staff WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
        } else {
            None
        };
        let subject = if valid_staff_id(id) {
            id
        } else {
            "(invalid id)"
        };
        let denied = |reason: &str, details: serde_json::Value| {
            let mut d = details;
            d["reason"] = serde_json::Value::from(reason);
            AuditEvent::new(
                "staff.signin_denied",
                &format!("staff:{subject}"),
                subject,
                d,
            )
        };
        let Some((name, hash, failures, locked_until)) = row else {
            // Unknown ids are refused like wrong PINs, and audited.
            self.audit(&denied("unknown id", serde_json::json!({})), now_ms)?;
            return Ok(SignIn::Denied {
                attempts_left: limit,
            });
        };
        if let Some(until) = locked_until.filter(|u| *u > now_ms) {
            self.audit(
                &denied("locked", serde_json::json!({ "until_ms": until })),
                now_ms,
            )?;
            return Ok(SignIn::LockedOut { until_ms: until });
        }
        let ok = pin_matches(pin, &hash);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let answer = if ok {
            tx.execute(
                "UPDATE staff SET failures = 0, locked_until_ms = NULL WHERE id = ?1",
                [id],
            )?;
            append(
                &tx,
                &AuditEvent::new(
                    "staff.signin",
                    &format!("staff:{id}"),
                    id,
                    serde_json::json!({}),
                ),
                now_ms,
            )?;
            SignIn::Ok(StaffMember {
                id: id.to_owned(),
                name,
            })
        } else {
            let failures = u32::try_from(failures).unwrap_or(0).saturating_add(1);
            if failures >= limit {
                let until = now_ms.saturating_add(millis(policy.lockout));
                tx.execute(
                    "UPDATE staff SET failures = 0, locked_until_ms = ?2 WHERE id = ?1",
                    params![id, until],
                )?;
                append(
                    &tx,
                    &denied(
                        "wrong pin",
                        serde_json::json!({ "failures": failures, "locked_until_ms": until }),
                    ),
                    now_ms,
                )?;
                SignIn::LockedOut { until_ms: until }
            } else {
                tx.execute(
                    "UPDATE staff SET failures = ?2 WHERE id = ?1",
                    params![id, failures],
                )?;
                append(
                    &tx,
                    &denied("wrong pin", serde_json::json!({ "failures": failures })),
                    now_ms,
                )?;
                SignIn::Denied {
                    attempts_left: limit - failures,
                }
            }
        };
        tx.commit()?;
        Ok(answer)
    }
}
