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
