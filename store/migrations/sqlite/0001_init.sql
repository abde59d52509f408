-- realname storage, SQLite. Times are Unix milliseconds; personal data columns (*_ct) hold vault ciphertext.
CREATE TABLE sessions (
    id                       TEXT PRIMARY KEY,
    site_id                  TEXT NOT NULL,
    reference                TEXT,
    client_secret_hash       BLOB NOT NULL,
    client_secret_expires_at INTEGER NOT NULL,
    client_secret_used       INTEGER NOT NULL DEFAULT 0,
    status                   TEXT NOT NULL,
    method                   TEXT,
    document_kind            TEXT,
    consent_version          TEXT,
    consent_at               INTEGER,
    name_ct                  BLOB,
    id_number_ct             BLOB,
    phone_ct                 BLOB,
    email_ct                 BLOB,
    blind_index              BLOB,
    failure                  TEXT,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    expires_at               INTEGER NOT NULL,
    verified_at              INTEGER,
    version                  INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX sessions_site_created ON sessions (site_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_status ON sessions (status, updated_at);

CREATE TABLE codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    code_hmac   BLOB NOT NULL,
    channel     TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'active'
) STRICT;
CREATE INDEX codes_session ON codes (session_id, id);
CREATE INDEX codes_expires ON codes (expires_at);

CREATE TABLE rate_windows (
    bucket_key   TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (bucket_key, window_start)
) STRICT;
CREATE INDEX rate_windows_expires ON rate_windows (expires_at);

CREATE TABLE seen_envelopes (
    session_id  TEXT NOT NULL,
    envelope_id BLOB NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (session_id, envelope_id)
) STRICT;
CREATE INDEX seen_envelopes_expires ON seen_envelopes (expires_at);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

CREATE TABLE identity_bindings (
    site_id     TEXT NOT NULL,
    blind_index BLOB NOT NULL,
    account     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (site_id, blind_index, account)
) STRICT;

CREATE TABLE identity_counts (
    site_id     TEXT NOT NULL,
    blind_index BLOB NOT NULL,
    accounts    INTEGER NOT NULL,
    PRIMARY KEY (site_id, blind_index)
) STRICT;
