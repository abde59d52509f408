-- The review queue and reviewer accounts (review stream).
CREATE TABLE review_cases (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL,
    session_id       TEXT NOT NULL UNIQUE,
    reasons          TEXT NOT NULL,        -- comma-separated: document, unknown_region, max_accounts, minor
    status           TEXT NOT NULL,        -- pending, approved, rejected, erased
    submitted_at     INTEGER NOT NULL,
    due_at           INTEGER NOT NULL,        -- submission + N working days (calendar), Unix ms
    due_provisional  INTEGER NOT NULL,        -- 1 if the period reached a year without official holiday data
    decided_at       INTEGER,
    decided_by       TEXT,                 -- reviewer id
    reason_code      TEXT,
    images_purged_at INTEGER
);
CREATE INDEX review_cases_queue ON review_cases (status, due_at);
CREATE INDEX review_cases_site ON review_cases (site_id, status);

-- Face and document images, sealed by the vault (table review_images, column = kind, row = case id).
CREATE TABLE review_images (
    case_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,            -- face, id_front, id_back
    content_type TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    PRIMARY KEY (case_id, kind)
);

CREATE TABLE reviewers (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,           -- argon2id PHC string
    role          TEXT NOT NULL,           -- reviewer, admin
    site_id       TEXT,                    -- NULL: every site
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Console sessions: only a SHA-256 of the bearer token is stored.
CREATE TABLE reviewer_sessions (
    token_hash  TEXT PRIMARY KEY,
    reviewer_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX reviewer_sessions_reviewer ON reviewer_sessions (reviewer_id);
