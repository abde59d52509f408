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
         blind_index, failure, created_at, updated_at, expires_at, verified_at, version"
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

/// How long an expired code is kept (so a late try still gets "expired" rather than "no code").
pub(crate) const CODE_GRACE_MS: i64 = 3_600_000;

/// Converts a stored non-negative count.
pub(crate) fn count_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// Start and end of the fixed window of `window_ms` containing `now`.
pub(crate) fn window(window_ms: i64, now: i64) -> Result<(i64, i64), super::StoreError> {
    if window_ms <= 0 {
        return Err(super::StoreError::Config(format!(
            "rate-limit window must be positive, got {window_ms}"
        )));
    }
    let start = now - now.rem_euclid(window_ms);
    Ok((start, start.saturating_add(window_ms)))
}

pub(crate) use {code_cols, delivery_cols, expirable_statuses, session_cols, terminal_statuses};

#[cfg(test)]
mod tests {
    use super::super::SessionStatus;

    #[test]
    fn terminal_sql_matches_the_enum() {
        let listed: Vec<&str> = terminal_statuses!()
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        let terminal: Vec<&str> = SessionStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(listed, terminal);
        let expirable: Vec<&str> = expirable_statuses!()
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        assert!(
            expirable
                .iter()
                .all(|s| SessionStatus::parse(s).is_some_and(|st| !st.is_terminal()))
        );
    }

    #[test]
    fn windows_align_and_reject_nonsense() {
        assert_eq!(
            super::window(60_000, 125_000).ok(),
            Some((120_000, 180_000))
        );
        assert_eq!(
            super::window(60_000, 120_000).ok(),
            Some((120_000, 180_000))
        );
        assert!(super::window(0, 1).is_err());
    }
}
