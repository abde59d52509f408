-- Cross-device handoffs (docs/protocol.md 4.13): a single-use code that hands an unfinished session to another
-- device. Only the code's HMAC is stored (key outside the database), never the code; watch_hash is the SHA-256 of
-- the client secret of the device that asked for it, which may only follow the session's status once a phone
-- redeemed the code.
CREATE TABLE handoffs (
    code_hmac   BLOB PRIMARY KEY,
    session_id  TEXT NOT NULL,
    watch_hash  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,  -- Unix milliseconds
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;
CREATE INDEX handoffs_session ON handoffs (session_id);
CREATE INDEX handoffs_expires ON handoffs (expires_at);
