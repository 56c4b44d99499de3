-- The current schema, for reading: the result of every migration in migrations/ in order.
-- A test checks that this file and the migrated database agree.

-- Accepted applications. Personal data is only in `sealed` (encrypted; NULL after purge).
CREATE TABLE applications (
    id           TEXT PRIMARY KEY,          -- UUID v7, the platform's idempotency key
    number       TEXT NOT NULL UNIQUE,      -- printed on the acceptance notice
    one_thing_id TEXT NOT NULL,
    accepted_ms  INTEGER NOT NULL,          -- Unix milliseconds
    due_date     TEXT,                      -- YYYY-MM-DD, NULL when the calendar did not cover it
    delivery     TEXT NOT NULL,
    sealed       BLOB,
    purge_after_ms INTEGER NOT NULL,
    purged_ms    INTEGER
);

-- Scanned pages, stored encrypted as files named by the SHA-256 of their JPEG bytes.
CREATE TABLE pages (
    sha256         TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications(id),
    material_id    TEXT NOT NULL,
    page_no        INTEGER NOT NULL,
    PRIMARY KEY (application_id, material_id, page_no)
);

-- Everything the platform must receive, delivered in id order per application, each with
-- an idempotency key so that a repeat after a crash is recognised by the platform.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    application_id  TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    sealed          BLOB NOT NULL,
    created_ms      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    delivered_ms    INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (delivered_ms, next_attempt_ms);

CREATE TABLE evaluations (
    id                 TEXT PRIMARY KEY,
    application_number TEXT,
    level              INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    reasons            TEXT NOT NULL,
    at_ms              INTEGER NOT NULL
);

-- Append-only audit log; each row carries the hash of the one before.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    event_id  TEXT NOT NULL UNIQUE,
    at_ms     INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Small counters (the daily application sequence).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
