-- Fewer B-trees written by each request step (SQLite only). A commit appends every page it touched to the WAL,
-- one per B-tree at least, so each table or index a step writes costs a page per commit.
-- * The replay guard is only ever found by its primary key: the rows live in it (WITHOUT ROWID) instead of in a
--   rowid table beside a separate key index. (Not the sending-limit counters: their expiry index would then
--   order the many rows sharing one window end by their random keys, a random page per send, where the rowid
--   keeps them in insertion order.)
-- * codes gives up AUTOINCREMENT, which wrote sqlite_sequence on every insert. It only kept an id from being
--   used again after the newest row was deleted; code ids never leave the server, and codes are read in id
--   order among the rows present, which a new row (max id + 1) keeps. (audit_pending: 0106.)

CREATE TABLE seen_envelopes_new (
    session_id  TEXT NOT NULL,
    envelope_id BLOB NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (session_id, envelope_id)
) STRICT, WITHOUT ROWID;
INSERT INTO seen_envelopes_new (session_id, envelope_id, expires_at)
    SELECT session_id, envelope_id, expires_at FROM seen_envelopes;
DROP TABLE seen_envelopes;
ALTER TABLE seen_envelopes_new RENAME TO seen_envelopes;
CREATE INDEX seen_envelopes_expires ON seen_envelopes (expires_at);

CREATE TABLE codes_new (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    code_hmac   BLOB NOT NULL,
    channel     TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'active'
) STRICT;
INSERT INTO codes_new (id, session_id, code_hmac, channel, sent_at, expires_at, attempts, state)
    SELECT id, session_id, code_hmac, channel, sent_at, expires_at, attempts, state FROM codes;
DROP TABLE codes;
ALTER TABLE codes_new RENAME TO codes;
CREATE INDEX codes_session ON codes (session_id, id);
CREATE INDEX codes_expires ON codes (expires_at);
