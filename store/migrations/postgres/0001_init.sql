-- realname storage, PostgreSQL. Times are Unix milliseconds; personal data columns (*_ct) hold vault ciphertext.
CREATE TABLE sessions (
    id                       TEXT PRIMARY KEY,
    site_id                  TEXT NOT NULL,
    reference                TEXT,
    client_secret_hash       BYTEA NOT NULL,
    client_secret_expires_at BIGINT NOT NULL,
    client_secret_used       BOOLEAN NOT NULL DEFAULT FALSE,
    status                   TEXT NOT NULL,
    method                   TEXT,
    document_kind            TEXT,
    consent_version          TEXT,
    consent_at               BIGINT,
    name_ct                  BYTEA,
    id_number_ct             BYTEA,
    phone_ct                 BYTEA,
    email_ct                 BYTEA,
    blind_index              BYTEA,
    failure                  TEXT,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    expires_at               BIGINT NOT NULL,
    verified_at              BIGINT,
    version                  BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX sessions_site_created ON sessions (site_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_status ON sessions (status, updated_at);

CREATE TABLE codes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    code_hmac   BYTEA NOT NULL,
    channel     TEXT NOT NULL,
    sent_at     BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'active'
);
CREATE INDEX codes_session ON codes (session_id, id);
CREATE INDEX codes_expires ON codes (expires_at);

CREATE TABLE rate_windows (
    bucket_key   TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (bucket_key, window_start)
);
CREATE INDEX rate_windows_expires ON rate_windows (expires_at);

CREATE TABLE seen_envelopes (
    session_id  TEXT NOT NULL,
    envelope_id BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (session_id, envelope_id)
);
CREATE INDEX seen_envelopes_expires ON seen_envelopes (expires_at);

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

CREATE TABLE identity_bindings (
    site_id     TEXT NOT NULL,
    blind_index BYTEA NOT NULL,
    account     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (site_id, blind_index, account)
);

CREATE TABLE identity_counts (
    site_id     TEXT NOT NULL,
    blind_index BYTEA NOT NULL,
    accounts    BIGINT NOT NULL,
    PRIMARY KEY (site_id, blind_index)
);
