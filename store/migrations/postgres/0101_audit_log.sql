-- The hash-chained audit log (review stream; see server/src/audit/mod.rs for the canonical form).
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,   -- 1, 2, 3, … without gaps
    at        BIGINT NOT NULL,      -- Unix milliseconds
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    site      TEXT,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,        -- JSON object of strings; never personal data
    prev_hash TEXT NOT NULL,        -- hex SHA-256
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The last entry, updated in the same transaction as each append (its row lock serialises appends across
-- server instances): catches entries removed from the end.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application can never change or remove an entry (tampering needs dropping this first,
-- which `audit verify` then detects).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
