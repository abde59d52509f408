-- Audit events written in a request step's own transaction, atomic with the state change they describe, and not
-- yet in the hash chain: the chainer (server/src/audit/chain.rs) moves them into audit_log in `id` order, in
-- batches, under the head lock, so a flow never waits for the one head row.
CREATE TABLE audit_pending (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,      -- Unix milliseconds
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    site    TEXT,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL         -- JSON object of strings; never personal data
);
