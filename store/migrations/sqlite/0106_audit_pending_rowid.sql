-- audit_pending without AUTOINCREMENT (SQLite only; see 0002): every request step inserts here, and
-- AUTOINCREMENT wrote sqlite_sequence beside it each time. Pending ids are only the chainer's order among the rows
-- present, which a new row (max id + 1) keeps.

CREATE TABLE audit_pending_new (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,     -- Unix milliseconds
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    site    TEXT,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL         -- JSON object of strings; never personal data
);
INSERT INTO audit_pending_new (id, at, actor, action, site, subject, detail)
    SELECT id, at, actor, action, site, subject, detail FROM audit_pending;
DROP TABLE audit_pending;
ALTER TABLE audit_pending_new RENAME TO audit_pending;
