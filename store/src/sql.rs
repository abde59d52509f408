//! The SQL both backends share, expanded once per backend by `impl_store!`.
//!
//! The statements are identical on SQLite and PostgreSQL (`$n` parameters, `ON CONFLICT`, `RETURNING`);
//! only the row and database types differ, and sqlx has no database-generic query API without a wall of
//! trait bounds, so a macro stamps out the two implementations. Every race-sensitive operation is a single
//! statement (upsert or conditional update) or a transaction whose first statement writes, so SQLite never
//! upgrades a read lock and PostgreSQL's row locks decide under READ COMMITTED.

/// Columns of `sessions`, in `session_from_row` order.
macro_rules! session_cols {
    () => {
        "id, site_id, reference, client_secret_hash, client_secret_expires_at, client_secret_used, status, \
         method, document_kind, consent_version, consent_at, name_ct, id_number_ct, phone_ct, email_ct, \
         blind_index, failure, created_at, updated_at, expires_at, verified_at, version, checks"
    };
}

/// Columns of `codes`.
macro_rules! code_cols {
    () => {
        "id, session_id, code_hmac, channel, sent_at, expires_at, attempts, state"
    };
}

/// Columns of `webhook_deliveries`.
macro_rules! delivery_cols {
    () => {
        "id, site_id, event_id, event_type, url, body, state, attempts, next_attempt_at, lease_owner, \
         lease_until, last_error, created_at, delivered_at"
    };
}

/// The statuses a session never leaves, as an SQL list (must match `SessionStatus::is_terminal`).
macro_rules! terminal_statuses {
    () => {
        "('verified', 'rejected', 'failed', 'canceled', 'expired')"
    };
}

/// Statuses that `purge` expires once `expires_at` has passed.
macro_rules! expirable_statuses {
    () => {
        "('created', 'submitted', 'code_sent')"
    };
}

/// The statements of a request step's write transaction, shared by the sqlx backends (`statements.rs`) and
/// SQLite's transaction connection (`sqlite/tx.rs`).
pub(crate) mod step {
    /// Inserts a new session (`create_session`).
    pub(crate) const INSERT_SESSION: &str = concat!(
        "INSERT INTO sessions (id, site_id, reference, client_secret_hash, client_secret_expires_at, \
         client_secret_used, status, method, created_at, updated_at, expires_at, version) \
         VALUES ($1, $2, $3, $4, $5, FALSE, 'created', $6, $7, $7, $8, 1) RETURNING ",
        session_cols!()
    );
    /// Writes a session's mutable fields if its version is current and it is not finished (`update_session`).
    pub(crate) const UPDATE_SESSION: &str = concat!(
        "UPDATE sessions SET status = $3, method = $4, document_kind = $5, consent_version = $6, \
         consent_at = $7, name_ct = $8, id_number_ct = $9, phone_ct = $10, email_ct = $11, \
         blind_index = $12, failure = $13, updated_at = $14, verified_at = $15, \
         client_secret_used = $16, expires_at = $17, checks = $18, version = version + 1 \
         WHERE id = $1 AND version = $2 AND status NOT IN ",
        terminal_statuses!(),
        " RETURNING ",
        session_cols!()
    );
    /// Loads a session.
    pub(crate) const SELECT_SESSION: &str = concat!("SELECT ", session_cols!(), " FROM sessions WHERE id = $1");
    /// Whether a session exists (tells `Conflict` from `NotFound` after a refused update).
    pub(crate) const SESSION_EXISTS: &str = "SELECT 1 FROM sessions WHERE id = $1";
    /// Inserts an active code.
    pub(crate) const INSERT_CODE: &str = concat!(
        "INSERT INTO codes (session_id, code_hmac, channel, sent_at, expires_at, attempts, state) \
         VALUES ($1, $2, $3, $4, $5, 0, 'active') RETURNING ",
        code_cols!()
    );
    /// Invalidates the session's codes older than the one just issued.
    pub(crate) const INVALIDATE_OLDER_CODES: &str =
        "UPDATE codes SET state = 'invalidated' WHERE session_id = $1 AND id < $2 AND state = 'active'";
    /// The session's newest code.
    pub(crate) const LATEST_CODE: &str =
        concat!("SELECT ", code_cols!(), " FROM codes WHERE session_id = $1 ORDER BY id DESC LIMIT 1");
    /// How many codes the session was sent.
    pub(crate) const COUNT_CODES: &str = "SELECT COUNT(*) FROM codes WHERE session_id = $1";
    /// Counts one attempt at the newest code if it may still be tried.
    pub(crate) const TAKE_ATTEMPT: &str = concat!(
        "UPDATE codes SET attempts = attempts + 1 \
         WHERE id = (SELECT id FROM codes WHERE session_id = $1 ORDER BY id DESC LIMIT 1) \
         AND state = 'active' AND attempts < $2 AND expires_at > $3 RETURNING ",
        code_cols!()
    );
    /// Consumes a checked code.
    pub(crate) const CONSUME_CODE: &str =
        "UPDATE codes SET state = 'consumed' WHERE id = $1 AND state = 'active' AND expires_at > $2";
    /// Remembers an envelope id; no row when it was seen before.
    pub(crate) const REMEMBER_ENVELOPE: &str = "INSERT INTO seen_envelopes (session_id, envelope_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING";
    /// Queues a webhook delivery (idempotent per event id).
    pub(crate) const ENQUEUE_DELIVERY: &str = "INSERT INTO webhook_deliveries (site_id, event_id, event_type, url, body, state, attempts, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) \
         ON CONFLICT (event_id) DO NOTHING RETURNING id";
    /// The delivery queued earlier for an event id.
    pub(crate) const DELIVERY_BY_EVENT: &str = "SELECT id FROM webhook_deliveries WHERE event_id = $1";

    /// Queues a review case (`create_case`), pending.
    pub(crate) const INSERT_CASE: &str = "INSERT INTO review_cases (id, site_id, session_id, reasons, status, \
         submitted_at, due_at, due_provisional) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)";
    /// One sealed image of a case.
    pub(crate) const INSERT_CASE_IMAGE: &str =
        "INSERT INTO review_images (case_id, kind, content_type, sealed) VALUES ($1, $2, $3, $4)";

    /// Binds an account to an identity (`bind_identity`); no row when the account was bound already.
    pub(crate) const INSERT_BINDING: &str = "INSERT INTO identity_bindings (site_id, blind_index, account, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    /// Counts a new binding unless the identity has `$3` accounts already (no row then): the one place the limit
    /// is decided (PostgreSQL locks the count row, SQLite holds the write lock).
    pub(crate) const COUNT_BINDING: &str = "INSERT INTO identity_counts (site_id, blind_index, accounts) VALUES ($1, $2, 1) \
         ON CONFLICT (site_id, blind_index) DO UPDATE SET accounts = identity_counts.accounts + 1 \
         WHERE identity_counts.accounts < $3 RETURNING accounts";
    /// Takes back a binding the limit refused.
    pub(crate) const DELETE_BINDING: &str =
        "DELETE FROM identity_bindings WHERE site_id = $1 AND blind_index = $2 AND account = $3";

    /// Gives one hit back to a rate window (a send that was counted and then not delivered).
    pub(crate) const RATE_REFUND: &str =
        "UPDATE rate_windows SET hits = hits - 1 WHERE bucket_key = $1 AND window_start = $2 AND hits > 0";

    /// The upsert adding one hit to each of `n` rate windows (parameters: key, start, end per window).
    pub(crate) fn rate_hits(n: usize) -> String {
        let tuples: Vec<String> =
            (0..n).map(|i| format!("(${}, ${}, ${}, 1)", 3 * i + 1, 3 * i + 2, 3 * i + 3)).collect();
        format!(
            "INSERT INTO rate_windows (bucket_key, window_start, expires_at, hits) VALUES {} \
             ON CONFLICT (bucket_key, window_start) DO UPDATE SET hits = rate_windows.hits + 1 \
             RETURNING bucket_key, window_start, hits",
            tuples.join(", ")
        )
    }
}

/// A `Session` from a row of [`session_cols!`]: `$get` is the row's fallible column getter (sqlx's `try_get`,
/// rusqlite's `get`), whose error converts into `StoreError`. One mapping for both drivers, so a new column
/// cannot be read on one write path and forgotten on the other.
macro_rules! session_from_row {
    ($r:expr, $get:ident) => {{
        let r = $r;
        let status: String = r.$get("status")?;
        let status =
            SessionStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("session status {status:?}")))?;
        let consent_version: Option<String> = r.$get("consent_version")?;
        let consent_at: Option<i64> = r.$get("consent_at")?;
        let consent = match (consent_version, consent_at) {
            (Some(version), Some(at)) => Some(Consent { version, at }),
            _ => None,
        };
        let name: Option<Vec<u8>> = r.$get("name_ct")?;
        let id_number: Option<Vec<u8>> = r.$get("id_number_ct")?;
        let phone: Option<Vec<u8>> = r.$get("phone_ct")?;
        let email: Option<Vec<u8>> = r.$get("email_ct")?;
        let identity = match (name, id_number) {
            (Some(name), Some(id_number)) => Some(SealedIdentity {
                name: Sealed::from_stored(name),
                id_number: Sealed::from_stored(id_number),
                phone: phone.map(Sealed::from_stored),
                email: email.map(Sealed::from_stored),
            }),
            _ => None,
        };
        let method: Option<String> = r.$get("method")?;
        let checks: Option<String> = r.$get("checks")?;
        Ok(Session {
            id: r.$get("id")?,
            site_id: r.$get("site_id")?,
            reference: r.$get("reference")?,
            client_secret_hash: r.$get("client_secret_hash")?,
            client_secret_expires_at: r.$get("client_secret_expires_at")?,
            client_secret_used: r.$get("client_secret_used")?,
            status,
            methods: Methods::from_stored(status, method.as_deref()),
            document_kind: r.$get("document_kind")?,
            consent,
            identity,
            blind_index: r.$get("blind_index")?,
            failure: r.$get("failure")?,
            checks: realname_domain::checks::CheckRecord::from_stored(checks.as_deref()),
            created_at: r.$get("created_at")?,
            updated_at: r.$get("updated_at")?,
            expires_at: r.$get("expires_at")?,
            verified_at: r.$get("verified_at")?,
            version: r.$get("version")?,
        })
    }};
}

/// A `Code` from a row of [`code_cols!`], with the same `$get` as [`session_from_row!`].
macro_rules! code_from_row {
    ($r:expr, $get:ident) => {{
        let r = $r;
        let state: String = r.$get("state")?;
        Ok(Code {
            id: r.$get("id")?,
            session_id: r.$get("session_id")?,
            code_hmac: r.$get("code_hmac")?,
            channel: r.$get("channel")?,
            sent_at: r.$get("sent_at")?,
            expires_at: r.$get("expires_at")?,
            attempts: count_u32(r.$get("attempts")?),
            state: CodeState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("code state {state:?}")))?,
        })
    }};
}

/// How long an expired code is kept (so a late try still gets "expired" rather than "no code").
pub(crate) const CODE_GRACE_MS: i64 = 3_600_000;

/// Converts a stored non-negative count.
pub(crate) fn count_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// Where fixed windows are aligned: Beijing time (UTC+8). A day's window is the day people in China live (a UTC
/// day ends at 08:00 there, so a day's limit would lift in the morning); minute and hour windows, whose lengths
/// divide eight hours, are the same as on UTC.
pub const WINDOW_OFFSET_MS: i64 = 8 * 3_600_000;

/// Start and end of the fixed window of `window_ms` containing `now`, aligned on Beijing time
/// ([`WINDOW_OFFSET_MS`]).
pub fn window(window_ms: i64, now: i64) -> Result<(i64, i64), crate::error::StoreError> {
    if window_ms <= 0 {
        return Err(crate::error::StoreError::Config(format!("rate-limit window must be positive, got {window_ms}")));
    }
    let start = now - now.saturating_add(WINDOW_OFFSET_MS).rem_euclid(window_ms);
    Ok((start, start.saturating_add(window_ms)))
}

/// The fixed windows of a batch of rate-limit hits (`(key, window_ms)` each) at `now`: `(key, start, end)`, in
/// the order given; at most 16, and no key twice in the same window (one upsert statement counts them all).
pub(crate) fn rate_windows<'k>(
    hits: &[(&'k str, i64)],
    now: i64,
) -> Result<Vec<(&'k str, i64, i64)>, crate::error::StoreError> {
    if hits.len() > 16 {
        return Err(crate::error::StoreError::Config(format!("{} rate-limit keys in one call (max 16)", hits.len())));
    }
    let mut windows = Vec::with_capacity(hits.len());
    for (key, window_ms) in hits {
        let (start, end) = window(*window_ms, now)?;
        if windows.iter().any(|(k, s, _)| k == key && *s == start) {
            return Err(crate::error::StoreError::Config(format!("rate-limit key {key:?} given twice")));
        }
        windows.push((*key, start, end));
    }
    Ok(windows)
}

/// The upsert's `(key, start, hits)` rows put back in the order of `windows`.
pub(crate) fn counts_in_order(
    windows: &[(&str, i64, i64)],
    counts: &[(String, i64, u64)],
) -> Result<Vec<u64>, crate::error::StoreError> {
    windows
        .iter()
        .map(|(key, start, _)| {
            counts
                .iter()
                .find(|(k, s, _)| k == key && s == start)
                .map(|(_, _, n)| *n)
                .ok_or_else(|| crate::error::StoreError::Corrupt("rate-limit upsert returned no row".into()))
        })
        .collect()
}

pub(crate) use {
    code_cols, code_from_row, delivery_cols, expirable_statuses, session_cols, session_from_row, terminal_statuses,
};

/// The review queue's gauges for `/metrics` (`queue_counts`): pending cases and those past due at `$1`. Reads the
/// pending cases through the `(status, due_at)` index, never the decided history (a scrape's cost does not grow
/// with the data: `tests::the_gauges_read_open_work_through_an_index`).
pub(crate) const GAUGE_QUEUE: &str = "SELECT COUNT(*) AS pending, \
     COALESCE(SUM(CASE WHEN due_at <= $1 THEN 1 ELSE 0 END), 0) AS overdue FROM review_cases WHERE status = 'pending'";
/// The complaints' gauges (`complaint_counts`): complaints not closed and those unanswered past due at `$1`. The
/// statuses are named (not `<> 'closed'`, which reads every closed complaint) so the index finds only open ones.
pub(crate) const GAUGE_COMPLAINTS: &str = "SELECT COUNT(*) AS open, \
     COALESCE(SUM(CASE WHEN due_at <= $1 AND answered_at IS NULL THEN 1 ELSE 0 END), 0) AS overdue \
     FROM complaints WHERE status IN ('open', 'answered')";

#[cfg(test)]
mod tests {
    use realname_domain::session::SessionStatus;

    #[test]
    fn terminal_sql_matches_the_enum() {
        let listed: Vec<&str> = terminal_statuses!()
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        let terminal: Vec<&str> = SessionStatus::ALL.iter().filter(|s| s.is_terminal()).map(|s| s.as_str()).collect();
        assert_eq!(listed, terminal);
        let expirable: Vec<&str> = expirable_statuses!()
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        assert!(expirable.iter().all(|s| SessionStatus::parse(s).is_some_and(|st| !st.is_terminal())));
        let expires: Vec<&str> = SessionStatus::ALL
            .iter()
            .filter(|s| realname_domain::lifecycle::expires(**s))
            .map(|s| s.as_str())
            .collect();
        assert_eq!(expirable, expires);
    }

    /// The `/metrics` gauges read only open work, through an index: SQLite's plan for each searches an index and
    /// never scans a table (a scan reads every case or complaint ever filed, so a scrape would grow with the data).
    #[tokio::test]
    async fn the_gauges_read_open_work_through_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        for sql in [super::GAUGE_QUEUE, super::GAUGE_COMPLAINTS] {
            let explain = format!("EXPLAIN QUERY PLAN {}", sql.replace("$1", "?1"));
            let plan: Vec<String> = store
                .readers
                .with(|c| {
                    let mut stmt = c.prepare(&explain).unwrap();
                    stmt.query_map([0i64], |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect()
                })
                .unwrap();
            let searched = |d: &String| d.starts_with("SEARCH") && d.contains("INDEX");
            assert!(!plan.is_empty() && plan.iter().all(searched), "{sql}\n{plan:?}");
        }
        // The complaints' statuses it names are every status but closed.
        use crate::complaint::ComplaintStatus::{Answered, Closed, Open};
        let open: Vec<String> = [Open, Answered, Closed]
            .iter()
            .filter(|s| **s != Closed)
            .map(|s| s.as_str())
            .map(|s| format!("'{s}'"))
            .collect();
        assert!(super::GAUGE_COMPLAINTS.ends_with(&format!("IN ({})", open.join(", "))));
    }

    #[test]
    fn windows_align_and_reject_nonsense() {
        assert_eq!(super::window(60_000, 125_000).ok(), Some((120_000, 180_000)));
        assert_eq!(super::window(60_000, 120_000).ok(), Some((120_000, 180_000)));
        assert!(super::window(0, 1).is_err());
        // Days are Beijing days: 2026-10-01T00:00Z is 08:00 in Beijing, whose day began at 16:00Z the day before.
        let day = 86_400_000;
        assert_eq!(super::window(day, 1_790_812_800_000).ok(), Some((1_790_784_000_000, 1_790_870_400_000)));
        assert_eq!(super::window(day, 1_790_870_400_000).ok(), Some((1_790_870_400_000, 1_790_956_800_000)));
    }
}
