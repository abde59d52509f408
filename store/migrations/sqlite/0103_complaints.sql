-- Complaints about verifications (seed 第十三条; review stream).
CREATE TABLE complaints (
    ticket          TEXT PRIMARY KEY,      -- shown to the person, e.g. C2611-7KQ4-M2XD
    secret_hash     TEXT NOT NULL,         -- SHA-256 (hex) of the secret that lets the person check the status
    site_id         TEXT NOT NULL,
    session_id      TEXT,
    category        TEXT NOT NULL,         -- wrong_result, data_error, privacy, other
    message         BLOB,                 -- sealed (table complaints, column message, row ticket); NULL once erased
    status          TEXT NOT NULL,         -- open, answered, closed
    filed_at        INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    due_provisional INTEGER NOT NULL,
    answer          BLOB,                 -- sealed (column answer)
    answered_at     INTEGER,
    answered_by     TEXT,
    closed_at       INTEGER,
    closed_by       TEXT
);
CREATE INDEX complaints_open ON complaints (status, due_at);
CREATE INDEX complaints_session ON complaints (session_id);
