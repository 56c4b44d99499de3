-- Certificate lockers: staff accounts, what is in which compartment, pickup attempts and the
-- staff alerts raised by the doors.

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
