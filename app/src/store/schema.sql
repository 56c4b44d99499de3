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

-- Social security cards made on the spot (issue 5). One row per attempt: a card taken, or
-- about to be taken, from the hopper for one holder. Each step is written here BEFORE it is
-- carried out (store-before-act), so that after a crash the kiosk knows what it was doing and
-- where it believed the card was; start-up recovery asks the dispenser and finishes the row.
-- Personal data is only in `sealed` (encrypted; NULL after purge).
CREATE TABLE card_attempts (
    id                 TEXT PRIMARY KEY,    -- UUID v7; also the platform card request's idempotency key
    request_id         TEXT NOT NULL,       -- the platform's card request id
    holder_masked      TEXT NOT NULL,       -- first 4 and last 4 of the holder's ID number
    application_id     TEXT,                -- the accepted application whose card item this is
    card_number_masked TEXT NOT NULL,
    sealed             BLOB,                -- holder and card data (encrypted)
    state              TEXT NOT NULL CHECK (state IN ('open', 'issued', 'failed')),
    step               TEXT NOT NULL,       -- the step being carried out, or the last one
    step_status        TEXT NOT NULL CHECK (step_status IN ('started', 'done', 'failed')),
    position           TEXT NOT NULL,       -- where the card is believed to be
    reason             TEXT,                -- why it failed, in words without personal data
    created_ms         INTEGER NOT NULL,
    updated_ms         INTEGER NOT NULL,
    finished_ms        INTEGER,
    purge_after_ms     INTEGER NOT NULL
);
-- One machine makes one card at a time: at most one unfinished attempt.
CREATE UNIQUE INDEX card_attempts_one_open ON card_attempts (state) WHERE state = 'open';
CREATE INDEX card_attempts_application ON card_attempts (application_id);

-- Every step of every attempt as written before (`started`) and after (`done`, `failed`).
CREATE TABLE card_steps (
    attempt_id TEXT NOT NULL REFERENCES card_attempts(id),
    seq        INTEGER NOT NULL,
    step       TEXT NOT NULL,
    status     TEXT NOT NULL,
    position   TEXT NOT NULL,
    detail     TEXT,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (attempt_id, seq)
);

-- Alerts for staff (card stock low or out, reject bin full, jams, a card to look for).
CREATE TABLE staff_alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    cleared_ms INTEGER
);

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,          -- the staff member's work id, e.g. S001
    name            TEXT NOT NULL,
    pin_hash        TEXT NOT NULL,             -- argon2id, PHC string
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER,
    updated_ms      INTEGER NOT NULL
);

-- One row per loading of an application's results into a compartment. `state` is one of
-- depositing, in_locker, collecting, collected, recalling, recalled, jammed, check,
-- cancelled; `phase` tells how far an operation under way got (opening: written before the
-- unlock; open: the sensor said open). Only hashes of the pickup code and of the ID numbers
-- are kept (keyed: HMAC-SHA256 with a key derived from the field-encryption key).
CREATE TABLE locker_items (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    case_number    TEXT NOT NULL,
    compartment    TEXT NOT NULL,
    state          TEXT NOT NULL,
    phase          TEXT,
    prev_state     TEXT,                       -- the state to return to if nothing was sent
    actor          TEXT,                       -- who the operation under way is for
    code_hash      TEXT,
    applicant_masked TEXT NOT NULL,
    documents      TEXT NOT NULL,              -- JSON array of what is in the compartment
    size           TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    deposited_ms   INTEGER,
    deposited_by   TEXT,
    closed_ms      INTEGER,
    closed_by      TEXT,
    note           TEXT,
    updated_ms     INTEGER NOT NULL
);
-- A compartment holds at most one item, an application is in at most one compartment.
CREATE UNIQUE INDEX locker_items_one_per_compartment ON locker_items (compartment)
    WHERE state NOT IN ('collected', 'recalled', 'cancelled');
CREATE UNIQUE INDEX locker_items_one_per_application ON locker_items (application_id)
    WHERE state NOT IN ('collected', 'recalled', 'cancelled');
CREATE INDEX locker_items_code ON locker_items (code_hash);

-- Who may collect an item by ID card: keyed hashes of the platform's ID-number hashes.
CREATE TABLE locker_holders (
    item_id TEXT NOT NULL REFERENCES locker_items(id),
    id_hash TEXT NOT NULL,
    PRIMARY KEY (item_id, id_hash)
);
CREATE INDEX locker_holders_hash ON locker_holders (id_hash);

-- Every pickup attempt (for the wrong-code limit); outcome: ok, wrong, cooldown.
CREATE TABLE locker_attempts (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms   INTEGER NOT NULL,
    method  TEXT NOT NULL,                     -- code, card
    outcome TEXT NOT NULL
);
CREATE INDEX locker_attempts_at ON locker_attempts (method, outcome, at_ms);

-- Staff alerts (uncommanded open, door left open, jam, restart check) until acknowledged.
CREATE TABLE locker_alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms           INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    compartment     TEXT NOT NULL,
    detail          TEXT NOT NULL,
    acknowledged_ms INTEGER,
    acknowledged_by TEXT
);
CREATE INDEX locker_alerts_open ON locker_alerts (acknowledged_ms);
