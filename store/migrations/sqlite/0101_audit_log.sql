-- The hash-chained audit log (review stream; see server/src/audit/mod.rs for the canonical form).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,  -- 1, 2, 3, … without gaps
    at        INTEGER NOT NULL,     -- Unix milliseconds
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    site      TEXT,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,        -- JSON object of strings; never personal data
    prev_hash TEXT NOT NULL,        -- hex SHA-256
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The last entry, updated in the same transaction as each append: catches entries removed from the end.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application can never change or remove an entry (tampering needs dropping these first,
-- which `audit verify` then detects).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
