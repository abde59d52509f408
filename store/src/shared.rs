//! `impl_store!`: every storage trait for one sqlx backend, from the shared SQL in `sql.rs`.
//!
//! Invoked by `sqlite.rs` and `postgres.rs` with the store type, its row type and its delivery-claim
//! statement (PostgreSQL adds `FOR UPDATE SKIP LOCKED`); `housekeeping.rs` adds bindings and maintenance. Those files import the names the body uses.
//! Reads go to `self.pool`, writes to `self.writer` (SQLite: one connection, so in-process writers queue
//! without SQLite's sleeping busy handler; PostgreSQL: the same pool). The statements several methods share
//! with write transactions are in `statements.rs`.

macro_rules! impl_store {
    ($store:ty, $row:ty, $conn:ty, claim = $claim:expr) => {
        impl_statements!($row, $conn);

        #[async_trait]
        impl SessionStore for $store {
            async fn create_session(&self, new: &NewSession) -> StoreResult<Session> {
                create_session_on(&mut *self.writer.acquire().await?, new).await
            }

            async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
                self.read_session(id).await
            }

            async fn consume_client_secret(
                &self,
                id: &str,
                secret_hash: &[u8],
                now: UnixMillis,
            ) -> StoreResult<Option<Session>> {
                let row = sqlx::query(concat!(
                    "UPDATE sessions SET client_secret_used = TRUE, updated_at = $3, version = version + 1 \
                     WHERE id = $1 AND client_secret_hash = $2 AND client_secret_used = FALSE \
                     AND client_secret_expires_at > $3 AND status NOT IN ",
                    terminal_statuses!(),
                    " RETURNING ",
                    session_cols!()
                ))
                .bind(id)
                .bind(secret_hash)
                .bind(now)
                .fetch_optional(&self.writer)
                .await?;
                row.as_ref().map(session_from_row).transpose()
            }

            async fn update_session(&self, s: &Session) -> StoreResult<Session> {
                update_session_on(&mut *self.writer.acquire().await?, s).await
            }

            async fn erase_identity(&self, id: &str, now: UnixMillis) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE sessions SET name_ct = NULL, id_number_ct = NULL, phone_ct = NULL, email_ct = NULL, \
                     blind_index = NULL, updated_at = $2, version = version + 1 \
                     WHERE id = $1 AND (name_ct IS NOT NULL OR id_number_ct IS NOT NULL OR blind_index IS NOT NULL)",
                )
                .bind(id)
                .bind(now)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait]
        impl CodeStore for $store {
            async fn issue_code(&self, new: &NewCode) -> StoreResult<Code> {
                issue_code_on(&mut *self.writer.acquire().await?, new).await
            }

            async fn latest_code(&self, session_id: &str) -> StoreResult<Option<Code>> {
                latest_code_on(&mut *self.pool.acquire().await?, session_id).await
            }

            async fn codes_sent(&self, session_id: &str) -> StoreResult<u32> {
                codes_sent_on(&mut *self.pool.acquire().await?, session_id).await
            }

            async fn take_code_attempt(
                &self,
                session_id: &str,
                max_attempts: u32,
                now: UnixMillis,
            ) -> StoreResult<CodeAttempt> {
                take_code_attempt_on(&mut *self.writer.acquire().await?, session_id, max_attempts, now).await
            }

            async fn consume_code(&self, code_id: i64, now: UnixMillis) -> StoreResult<bool> {
                consume_code_on(&mut *self.writer.acquire().await?, code_id, now).await
            }
        }

        #[async_trait]
        impl RateLimitStore for $store {
            async fn rate_hit(&self, key: &str, window_ms: i64, now: UnixMillis) -> StoreResult<u64> {
                let (start, end) = window(window_ms, now)?;
                let hits: i64 = sqlx::query_scalar(
                    "INSERT INTO rate_windows (bucket_key, window_start, expires_at, hits) VALUES ($1, $2, $3, 1) \
                     ON CONFLICT (bucket_key, window_start) DO UPDATE SET hits = rate_windows.hits + 1 \
                     RETURNING hits",
                )
                .bind(key)
                .bind(start)
                .bind(end)
                .fetch_one(&self.writer)
                .await?;
                Ok(u64::try_from(hits).unwrap_or(0))
            }

            async fn rate_count(&self, key: &str, window_ms: i64, now: UnixMillis) -> StoreResult<u64> {
                let (start, _) = window(window_ms, now)?;
                let hits: Option<i64> = sqlx::query_scalar(
                    "SELECT hits FROM rate_windows WHERE bucket_key = $1 AND window_start = $2",
                )
                .bind(key)
                .bind(start)
                .fetch_optional(&self.pool)
                .await?;
                Ok(hits.and_then(|h| u64::try_from(h).ok()).unwrap_or(0))
            }

            async fn rate_hits(&self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<Vec<u64>> {
                rate_hits_on(&mut *self.writer.acquire().await?, hits, now).await
            }
        }

        #[async_trait]
        impl ReplayStore for $store {
            async fn remember_envelope(
                &self,
                session_id: &str,
                envelope_id: &[u8],
                expires_at: UnixMillis,
            ) -> StoreResult<bool> {
                remember_envelope_on(&mut *self.writer.acquire().await?, session_id, envelope_id, expires_at).await
            }

            async fn envelope_seen(&self, session_id: &str, envelope_id: &[u8]) -> StoreResult<bool> {
                let seen: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM seen_envelopes WHERE session_id = $1 AND envelope_id = $2")
                        .bind(session_id)
                        .bind(envelope_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(seen.is_some())
            }
        }

        #[async_trait]
        impl WebhookStore for $store {
            async fn enqueue_delivery(&self, new: &NewDelivery) -> StoreResult<i64> {
                enqueue_delivery_on(&mut *self.writer.acquire().await?, new).await
            }

            async fn claim_deliveries(
                &self,
                owner: &str,
                now: UnixMillis,
                lease_ms: i64,
                limit: u32,
            ) -> StoreResult<Vec<Delivery>> {
                let rows = sqlx::query($claim)
                    .bind(owner)
                    .bind(now.saturating_add(lease_ms.max(1)))
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&self.writer)
                    .await?;
                let mut out = rows.iter().map(delivery_from_row).collect::<StoreResult<Vec<_>>>()?;
                out.sort_by_key(|d| (d.next_attempt_at, d.id));
                Ok(out)
            }

            async fn complete_delivery(&self, id: i64, owner: &str, now: UnixMillis) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'delivered', delivered_at = $3, lease_owner = NULL, \
                     lease_until = NULL, last_error = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                )
                .bind(id)
                .bind(owner)
                .bind(now)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn retry_delivery(
                &self,
                id: i64,
                owner: &str,
                next_attempt_at: UnixMillis,
                error: &str,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET next_attempt_at = $3, last_error = $4, lease_owner = NULL, \
                     lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                )
                .bind(id)
                .bind(owner)
                .bind(next_attempt_at)
                .bind(error)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn abandon_delivery(&self, id: i64, owner: &str, error: &str) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'abandoned', last_error = $3, lease_owner = NULL, \
                     lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                )
                .bind(id)
                .bind(owner)
                .bind(error)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delivery(&self, id: i64) -> StoreResult<Option<Delivery>> {
                let row = sqlx::query(concat!("SELECT ", delivery_cols!(), " FROM webhook_deliveries WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(delivery_from_row).transpose()
            }
        }
    };
}

pub(crate) use impl_store;

/// `bind_identity`'s rule (`crate::BindingStore::bind_identity`), one step at a time, for both backends'
/// statements (`statements.rs` on sqlx, `sqlite/tx.rs` on rusqlite): each runs the statement a step names and
/// hands its answer to [`Binding::next`] until the rule is [`Binding::Done`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    /// Insert the binding (`step::INSERT_BINDING`); answer: whether a row was inserted.
    Insert,
    /// Count it against the limit (`step::COUNT_BINDING`); answer: [`Binding::within`] of the count it returns.
    Count,
    /// Take the binding back (`step::DELETE_BINDING`): the limit refused it.
    Delete,
    /// Bound, or bound already: true; refused by the limit: false.
    Done(bool),
}

impl Binding {
    /// The first step: with no room at all (`limit` 0) nothing is written (the count's insert would start at one).
    pub(crate) fn start(limit: u32) -> Self {
        if limit == 0 { Self::Done(false) } else { Self::Insert }
    }

    /// Whether the count (`None`: no row, the identity had its `limit` of accounts already) stays within it.
    pub(crate) fn within(counted: Option<i64>, limit: u32) -> bool {
        counted.is_some_and(|n| n <= i64::from(limit))
    }

    /// The step after this one, given its statement's answer.
    pub(crate) fn next(self, answer: bool) -> Self {
        match self {
            Self::Insert if answer => Self::Count,
            // The account was bound already: verifying it again takes no new place.
            Self::Insert => Self::Done(true),
            Self::Count if answer => Self::Done(true),
            Self::Count => Self::Delete,
            Self::Delete => Self::Done(false),
            done @ Self::Done(_) => done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Binding::{self, Count, Delete, Done, Insert};

    /// Runs the rule with the statements' answers in order; returns the steps taken and the outcome.
    fn run(limit: u32, answers: &[bool]) -> (Vec<Binding>, bool) {
        let (mut step, mut steps, mut answers) = (Binding::start(limit), Vec::new(), answers.iter());
        loop {
            match step {
                Done(bound) => return (steps, bound),
                s => {
                    steps.push(s);
                    step = s.next(*answers.next().expect("an answer for every statement"));
                }
            }
        }
    }

    #[test]
    fn the_binding_rule_in_every_case() {
        assert_eq!(run(0, &[]), (vec![], false), "no room: nothing written");
        assert_eq!(run(2, &[false]), (vec![Insert], true), "bound already");
        assert_eq!(run(2, &[true, true]), (vec![Insert, Count], true), "a new account within the limit");
        assert_eq!(run(2, &[true, false, true]), (vec![Insert, Count, Delete], false), "over it: taken back");
        assert_eq!(
            (Binding::within(Some(2), 2), Binding::within(Some(3), 2), Binding::within(None, 2)),
            (true, false, false)
        );
    }
}
