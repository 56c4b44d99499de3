//! The one module that touches SQLite (rusqlite, bundled): accepted applications, the outbox,
//! evaluations, the hash-chained audit log and counters. WAL with `synchronous=FULL`, so a
//! transaction that returned is on disk; migrations are embedded and `schema.sql` beside this
//! file is the current schema to read. Personal data is sealed (see [`sealer`]).

mod applications;
mod audit;
mod cards;
mod evaluations;
mod locker;
mod outbox;
mod purge;
pub mod sealer;
mod staff;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub use audit::{AuditBreak, AuditEntry, AuditEvent};
pub use cards::{
    AttemptState, BeginError, CARD_ITEM, CardAttempt, CardCandidate, CardPlace, CardStep,
    NewCardAttempt, StaffAlert, StepRecord, StepStatus,
};
pub use locker::*;
pub use outbox::{OutboxKind, OutboxRow, OutboxStats, PagePayload};
pub use purge::PurgeReport;
pub use sealer::Sealer;
pub use staff::*;

/// Migrations in order; `PRAGMA user_version` counts how many have run.
/// The numbers in the file names are the order in which the work was written; the list is
/// the order in which they run (0002 was renumbered 0004 when the branches met).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0003_cards.sql"),
    include_str!("migrations/0004_lockers.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("field-encryption key: {0}")]
    Key(String),
    #[error("a sealed record could not be opened (wrong key or damaged data)")]
    Crypto,
    #[error("stored data is not valid: {0}")]
    Data(String),
    #[error("the database is newer (version {found}) than this kiosk knows ({known})")]
    TooNew { found: i64, known: usize },
}

pub struct Store {
    conn: Mutex<Connection>,
    sealer: Sealer,
    pages_dir: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`: `kiosk.db`, `pages/`, `keys/`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let sealer = Sealer::load_or_create(&data_dir.join("keys/field.key"))?;
        let conn = Connection::open(data_dir.join("kiosk.db"))?;
        Store::with_connection(conn, sealer, data_dir.join("pages"))
    }

    /// An in-memory store with a fixed key, for tests.
    pub fn in_memory(pages_dir: &Path) -> Result<Store, StoreError> {
        Store::with_connection(
            Connection::open_in_memory()?,
            Sealer::for_tests(),
            pages_dir.to_owned(),
        )
    }

    fn with_connection(
        conn: Connection,
        sealer: Sealer,
        pages_dir: PathBuf,
    ) -> Result<Store, StoreError> {
        std::fs::create_dir_all(&pages_dir)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            sealer,
            pages_dir,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the connection can only leave an open transaction, which
        // SQLite rolls back; the connection itself stays usable.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn pages_dir(&self) -> &Path {
        &self.pages_dir
    }

    /// The next value of a named counter (e.g. the daily application sequence).
    pub fn next_counter(&self, name: &str) -> Result<u32, StoreError> {
        let conn = self.conn();
        let value: i64 = conn.query_row(
            "INSERT INTO counters (name, value) VALUES (?1, 1)
             ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            [name],
            |r| r.get(0),
        )?;
        u32::try_from(value).map_err(|_| StoreError::Data(format!("counter {name} overflowed")))
    }

    /// Reads a counter without changing it (0 when never used).
    pub fn counter(&self, name: &str) -> Result<u32, StoreError> {
        let conn = self.conn();
        let value: Option<i64> = conn
            .query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .ok();
        Ok(value.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let done =
        usize::try_from(version).map_err(|_| StoreError::Data("negative schema version".into()))?;
    if done > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// Sample data for tests elsewhere in the crate.
#[cfg(test)]
pub mod tests_support {
    pub use super::tests::application;
}
