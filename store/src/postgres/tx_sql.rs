//! The statements a PostgreSQL step sends with its commit instead of one round trip each (`postgres/tx.rs`): plain
//! SQL text with literal values, quoted like libpq's `PQescapeLiteral`, running statements prepared on each step
//! connection when it opens. Each write that can fail is checked by `realname_fail` (migration 3), which fails the
//! commit with a SQLSTATE of our own; the first failing check skips the rest and the transaction rolls back.

use realname_domain::session::{NewSession, Session, SessionStatus};

use crate::error::{StoreError, StoreResult};
use crate::types::NewCode;

/// SQLSTATE: a sending-limit counter went over its limit.
pub(crate) const SEND_REFUSED: &str = "RN429";
/// SQLSTATE: the session changed meanwhile or is finished, or the code was used meanwhile.
const NOT_WRITTEN: &str = "RN409";
/// SQLSTATE: the session does not exist.
const MISSING: &str = "RN404";
/// SQLSTATE: the envelope was seen before.
const REPLAYED: &str = "RNRPL";

/// The error a failed check or constraint of a step's statement stands for.
pub(crate) fn step_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.code().as_deref() {
            Some(NOT_WRITTEN) => return StoreError::Conflict,
            Some(REPLAYED) => return StoreError::Replayed,
            // A foreign-key violation: the session a code or an envelope belongs to does not exist.
            Some(MISSING | "23503") => return StoreError::NotFound,
            _ => {}
        }
    }
    e.into()
}

/// `PREPARE`s the statements [`create_session`], [`update_session`], [`issue_code`], [`consume_code`],
/// [`remember_envelope`], [`take_attempt`], [`audit_pending_literal`] and [`send_limits_literal`] run,
/// for a step connection that has just opened: their plans are made once per connection, not per step.
pub(crate) fn prepare_all() -> String {
    let update = crate::sql::step::UPDATE_SESSION.split(" RETURNING ").next().unwrap_or_default();
    let consume = crate::sql::step::CONSUME_CODE;
    let insert = crate::sql::step::INSERT_SESSION.split(" RETURNING ").next().unwrap_or_default();
    let remember = crate::sql::step::REMEMBER_ENVELOPE;
    let take = crate::sql::step::TAKE_ATTEMPT;
    format!(
        "PREPARE realname_create_session AS {insert}; \
         PREPARE realname_update_session AS WITH u AS ({update} RETURNING 1) \
         SELECT realname_fail(CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE id = $1) THEN '{NOT_WRITTEN}' \
         ELSE '{MISSING}' END, 'the session was not written') WHERE NOT EXISTS (SELECT 1 FROM u); \
         PREPARE realname_issue_code AS {}; \
         PREPARE realname_remember AS WITH r AS ({remember} RETURNING 1) \
         SELECT realname_fail('{REPLAYED}', 'the envelope was seen before') WHERE NOT EXISTS (SELECT 1 FROM r); \
         PREPARE realname_take_attempt AS {take}; \
         PREPARE realname_consume_code AS WITH u AS ({consume} RETURNING 1) \
         SELECT realname_fail('{NOT_WRITTEN}', 'the code was not consumed') WHERE NOT EXISTS (SELECT 1 FROM u); \
         PREPARE realname_audit (bigint, text[], text[], text[], text[], text[]) AS \
         INSERT INTO audit_pending (at, actor, action, site, subject, detail) \
         SELECT $1, * FROM unnest($2, $3, $4, $5, $6); \
         PREPARE realname_count_sends (text[], bigint[], bigint[], bigint[], text, bigint) AS \
         WITH h AS (INSERT INTO rate_windows (bucket_key, window_start, expires_at, hits) \
         SELECT k, s, e, 1 FROM unnest($1, $2, $3) AS c (k, s, e) \
         ON CONFLICT (bucket_key, window_start) DO UPDATE SET hits = rate_windows.hits + 1 \
         RETURNING bucket_key, window_start, hits) \
         SELECT realname_fail('{SEND_REFUSED}', 'a sending limit was reached') \
         FROM h JOIN unnest($1, $2, $4) AS l (k, s, max_hits) ON h.bucket_key = l.k AND h.window_start = l.s \
         WHERE h.hits > l.max_hits \
         UNION ALL SELECT realname_fail('{SEND_REFUSED}', 'the session was sent its limit of codes') \
         WHERE $6 > 0 AND (SELECT COUNT(*) FROM codes WHERE session_id = $5) > $6",
        // Deferred statements return no rows (see `PgStepTx::fetch_last`); the CTEs still run to completion.
        super::tx::ISSUE_CODE.replace("SELECT * FROM c", "SELECT 1 FROM c WHERE FALSE"),
    )
}

/// A literal argument of an `EXECUTE`.
enum Lit<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bytes(Option<&'a [u8]>),
    Bool(bool),
}

/// `EXECUTE name(args…)` with literal arguments.
fn execute(name: &str, args: &[Lit<'_>]) -> StoreResult<String> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        out.push(match a {
            Lit::Text(Some(t)) => literal(t)?,
            Lit::Int(Some(n)) => n.to_string(),
            // bytea's hex input, its backslash doubled as in `literal`.
            Lit::Bytes(Some(b)) => format!("E'\\\\x{}'", realname_domain::encoding::hex_encode(b)),
            Lit::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            Lit::Text(None) | Lit::Int(None) | Lit::Bytes(None) => "NULL".to_owned(),
        });
    }
    Ok(format!("EXECUTE {name}({})", out.join(", ")))
}

/// The insert of a new session; an existing id fails it (unique violation: `Conflict`).
pub(crate) fn create_session(new: &NewSession) -> StoreResult<String> {
    execute(
        "realname_create_session",
        &[
            Lit::Text(Some(&new.id)),
            Lit::Text(Some(&new.site_id)),
            Lit::Text(new.reference.as_deref()),
            Lit::Bytes(Some(&new.client_secret_hash)),
            Lit::Int(Some(new.client_secret_expires_at)),
            Lit::Text(new.methods.to_stored().as_deref()),
            Lit::Int(Some(new.created_at)),
            Lit::Int(Some(new.expires_at)),
        ],
    )
}

/// The session [`create_session`] stores.
pub(crate) fn created(new: &NewSession) -> Session {
    Session {
        id: new.id.clone(),
        site_id: new.site_id.clone(),
        reference: new.reference.clone(),
        client_secret_hash: new.client_secret_hash.clone(),
        client_secret_expires_at: new.client_secret_expires_at,
        client_secret_used: false,
        status: SessionStatus::Created,
        methods: new.methods.clone(),
        document_kind: None,
        consent: None,
        identity: None,
        blind_index: None,
        failure: None,
        checks: Vec::new(),
        created_at: new.created_at,
        updated_at: new.created_at,
        expires_at: new.expires_at,
        verified_at: None,
        version: 1,
    }
}

/// The conditional update of a session's mutable fields (see `SessionStore::update_session`).
pub(crate) fn update_session(s: &Session) -> StoreResult<String> {
    let identity = s.identity.as_ref();
    let checks = realname_domain::checks::CheckRecord::to_stored(&s.checks);
    execute(
        "realname_update_session",
        &[
            Lit::Text(Some(&s.id)),
            Lit::Int(Some(s.version)),
            Lit::Text(Some(s.status.as_str())),
            Lit::Text(s.methods.to_stored().as_deref()),
            Lit::Text(s.document_kind.as_deref()),
            Lit::Text(s.consent.as_ref().map(|c| c.version.as_str())),
            Lit::Int(s.consent.as_ref().map(|c| c.at)),
            Lit::Bytes(identity.map(|i| i.name.as_bytes())),
            Lit::Bytes(identity.map(|i| i.id_number.as_bytes())),
            Lit::Bytes(identity.and_then(|i| i.phone.as_ref()).map(|p| p.as_bytes())),
            Lit::Bytes(identity.and_then(|i| i.email.as_ref()).map(|e| e.as_bytes())),
            Lit::Bytes(s.blind_index.as_deref()),
            Lit::Text(s.failure.as_deref()),
            Lit::Int(Some(s.updated_at)),
            Lit::Int(s.verified_at),
            Lit::Bool(s.client_secret_used),
            Lit::Int(Some(s.expires_at)),
            Lit::Text(checks.as_deref()),
        ],
    )
}

/// The insert of a code that invalidates the session's older ones.
pub(crate) fn issue_code(new: &NewCode) -> StoreResult<String> {
    execute(
        "realname_issue_code",
        &[
            Lit::Text(Some(&new.session_id)),
            Lit::Bytes(Some(&new.code_hmac)),
            Lit::Text(Some(&new.channel)),
            Lit::Int(Some(new.sent_at)),
            Lit::Int(Some(new.expires_at)),
        ],
    )
}

/// The replay guard's note of an envelope; a replay fails it (`Replayed`).
pub(crate) fn remember_envelope(session_id: &str, envelope_id: &[u8], expires_at: i64) -> StoreResult<String> {
    execute(
        "realname_remember",
        &[Lit::Text(Some(session_id)), Lit::Bytes(Some(envelope_id)), Lit::Int(Some(expires_at))],
    )
}

/// One attempt at the session's newest code, answering the code's row when it may be tried (see `TAKE_ATTEMPT`).
pub(crate) fn take_attempt(session_id: &str, max_attempts: u32, now: i64) -> StoreResult<String> {
    execute(
        "realname_take_attempt",
        &[Lit::Text(Some(session_id)), Lit::Int(Some(i64::from(max_attempts))), Lit::Int(Some(now))],
    )
}

/// The consumption of a checked code.
pub(crate) fn consume_code(code_id: i64, now: i64) -> String {
    format!("EXECUTE realname_consume_code({code_id}, {now})")
}

/// A PostgreSQL string literal holding `s`, as libpq's `PQescapeLiteral` writes it: quotes doubled, and
/// with an `E` prefix and doubled backslashes when there is a backslash, so the literal means the same
/// whatever `standard_conforming_strings` is. PostgreSQL text cannot hold a NUL byte: refused.
pub(crate) fn literal(s: &str) -> StoreResult<String> {
    if s.contains('\0') {
        return Err(StoreError::Database(sqlx::Error::Encode("a NUL byte cannot be stored in a text column".into())));
    }
    let mut out = String::with_capacity(s.len() + 3);
    if s.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

/// The insert of `events` at `at` into `audit_pending`, with literal values (see [`literal`]); empty for none.
pub(crate) fn audit_pending_literal(at: i64, events: &[realname_domain::audit::Event]) -> StoreResult<String> {
    if events.is_empty() {
        return Ok(String::new());
    }
    let mut cols: [Vec<String>; 5] = Default::default();
    for e in events {
        let detail = serde_json::to_string(&e.detail).unwrap_or_else(|_| "{}".into());
        let site = match &e.site {
            Some(site) => literal(site)?,
            None => "NULL".to_owned(),
        };
        for (col, value) in cols.iter_mut().zip([
            literal(&e.actor)?,
            literal(&e.action)?,
            site,
            literal(&e.subject)?,
            literal(&detail)?,
        ]) {
            col.push(value);
        }
    }
    let arrays: Vec<String> = cols.iter().map(|c| format!("ARRAY[{}]", c.join(", "))).collect();
    Ok(format!("EXECUTE realname_audit({at}, {})", arrays.join(", ")))
}

/// The statement that adds one hit to each `(key, window_ms, limit)` counter at `now` and fails with SQLSTATE
/// `RN429` when a count went over its limit or, with `session`, when that session was sent more than its limit
/// of codes (the step's own included); empty when there is nothing to check. Sent with the commit, it makes the
/// commit conditional without a round trip to decide.
pub(crate) fn send_limits_literal(
    counters: &[(&str, i64, u64)],
    session: Option<(&str, u32)>,
    now: i64,
) -> StoreResult<String> {
    let hits: Vec<(&str, i64)> = counters.iter().map(|(key, window, _)| (*key, *window)).collect();
    let windows = crate::sql::rate_windows(&hits, now)?;
    if windows.is_empty() && session.is_none() {
        return Ok(String::new());
    }
    let (mut keys, mut starts, mut ends, mut limits) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((key, start, end), (_, _, limit)) in windows.iter().zip(counters) {
        keys.push(literal(key)?);
        starts.push(start.to_string());
        ends.push(end.to_string());
        limits.push(i64::try_from(*limit).unwrap_or(i64::MAX).to_string());
    }
    let (id, max) = match session {
        Some((id, max)) => (literal(id)?, max),
        None => ("NULL".to_owned(), 0),
    };
    Ok(format!(
        "EXECUTE realname_count_sends(ARRAY[{}]::text[], ARRAY[{}]::bigint[], ARRAY[{}]::bigint[], ARRAY[{}]::bigint[], {id}, {max})",
        keys.join(", "),
        starts.join(", "),
        ends.join(", "),
        limits.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_domain::audit::Event;

    #[test]
    fn bytes_are_hex_literals() {
        let sql =
            execute("f", &[Lit::Bytes(Some(&[0, 0xab, 0xff])), Lit::Bytes(None), Lit::Int(Some(-3)), Lit::Bool(true)])
                .unwrap_or_default();
        assert_eq!(sql, r"EXECUTE f(E'\\x00abff', NULL, -3, TRUE)");
        assert_eq!(execute("f", &[Lit::Bytes(Some(&[]))]).ok().as_deref(), Some(r"EXECUTE f(E'\\x')"));
    }

    #[test]
    fn literals_quote_like_libpq() {
        assert_eq!(literal("plain").ok().as_deref(), Some("'plain'"));
        assert_eq!(literal("it's").ok().as_deref(), Some("'it''s'"));
        assert_eq!(literal(r"a\b'c").ok().as_deref(), Some(r"E'a\\b''c'"));
        assert_eq!(literal("").ok().as_deref(), Some("''"));
        assert_eq!(literal("张三; DROP TABLE x; --").ok().as_deref(), Some("'张三; DROP TABLE x; --'"));
        assert!(literal("a\0b").is_err());
    }

    #[test]
    fn audit_literal_lists_every_event() {
        let events = [
            Event::new("person", "session.created", "session:ses_1").site("s'1").detail("k", "v\\"),
            Event::new("system", "x", "y"),
        ];
        let sql = audit_pending_literal(42, &events).unwrap_or_default();
        assert_eq!(
            sql,
            r#"EXECUTE realname_audit(42, ARRAY['person', 'system'], ARRAY['session.created', 'x'], ARRAY['s''1', NULL], ARRAY['session:ses_1', 'y'], ARRAY[E'{"k":"v\\\\"}', '{}'])"#
        );
        assert_eq!(audit_pending_literal(1, &[]).ok().as_deref(), Some(""));
    }
}
