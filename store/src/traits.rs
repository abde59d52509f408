//! The narrow store traits, combined into [`Store`]. Every method that depends on time takes `now` from the
//! caller.

use async_trait::async_trait;
use realname_domain::audit::Event;
use realname_domain::session::{NewSession, Session};

use crate::error::{StoreError, StoreResult};
use crate::types::*;

/// Verification sessions, including the single-use client secret and optimistic concurrency.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a new session in status `Created` (version 1); `Conflict` if the id exists.
    async fn create_session(&self, new: &NewSession) -> StoreResult<Session>;
    /// Loads a session.
    async fn session(&self, id: &str) -> StoreResult<Option<Session>>;
    /// Atomically marks the client secret used if `secret_hash` matches, is unused and unexpired at `now`;
    /// `None` otherwise (unknown session, wrong, used or expired secret: callers answer the same for all).
    async fn consume_client_secret(
        &self,
        id: &str,
        secret_hash: &[u8],
        now: UnixMillis,
    ) -> StoreResult<Option<Session>>;
    /// Writes the mutable fields of `session` (status, method, document kind, consent, identity, blind
    /// index, failure, client-secret flag, `updated_at`, `verified_at`, `expires_at`; never id, site,
    /// reference, secret hash or `created_at`) if its `version` is still current; returns the stored
    /// session with the next version. `Conflict` if another writer got there first or the stored session
    /// is already in a terminal status; `NotFound` if it does not exist.
    async fn update_session(&self, session: &Session) -> StoreResult<Session>;
    /// Wipes a session's sealed identity and blind index whatever its status (erasure on request, or a
    /// retention rule); true if there was something to wipe. Identity bindings are kept.
    async fn erase_identity(&self, id: &str, now: UnixMillis) -> StoreResult<bool>;
}

/// One-time codes: only HMACs are stored; attempts are counted atomically before any comparison.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a new code for the session and invalidates every earlier one (a resend replaces the code).
    async fn issue_code(&self, new: &NewCode) -> StoreResult<Code>;
    /// The session's newest code, whatever its state (for the resend cooldown and status).
    async fn latest_code(&self, session_id: &str) -> StoreResult<Option<Code>>;
    /// How many codes were issued for the session (for the per-session send limit).
    async fn codes_sent(&self, session_id: &str) -> StoreResult<u32>;
    /// Counts one attempt at the session's newest code if it is active, unexpired and had fewer than
    /// `max_attempts` attempts; concurrent callers can never get more than `max_attempts` `Check`s.
    async fn take_code_attempt(&self, session_id: &str, max_attempts: u32, now: UnixMillis)
    -> StoreResult<CodeAttempt>;
    /// Marks a checked code consumed; false if it was consumed, invalidated or expired meanwhile.
    async fn consume_code(&self, code_id: i64, now: UnixMillis) -> StoreResult<bool>;
}

/// Fixed-window counters shared by every server instance.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Adds one hit to `key` in the window of `window_ms` containing `now` and returns the new count
    /// (atomic: N concurrent hits from any number of instances return 1..=N). The key must not contain
    /// plaintext personal data: use `Vault::blind`.
    async fn rate_hit(&self, key: &str, window_ms: i64, now: UnixMillis) -> StoreResult<u64>;
    /// The current count of `key` in that window, without adding a hit.
    async fn rate_count(&self, key: &str, window_ms: i64, now: UnixMillis) -> StoreResult<u64>;
    /// Adds one hit to each distinct `(key, window_ms)` pair in one atomic statement (one round trip instead
    /// of one per limit) and returns the new counts in the same order; at most 16 pairs.
    async fn rate_hits(&self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<Vec<u64>>;
}

/// Replay guard for sealed envelopes.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Remembers `envelope_id` (e.g. the HPKE `enc`) for the session until `expires_at`; true the first
    /// time, false for a replay.
    async fn remember_envelope(
        &self,
        session_id: &str,
        envelope_id: &[u8],
        expires_at: UnixMillis,
    ) -> StoreResult<bool>;
    /// Whether the guard holds `envelope_id` for the session, without remembering it (a read: a step refused for
    /// another reason tells a replay apart and writes nothing).
    async fn envelope_seen(&self, session_id: &str, envelope_id: &[u8]) -> StoreResult<bool>;
}

/// Several writes of one request step in one transaction: one connection checkout and one commit instead of
/// one per statement, and nothing half-written if the database fails in between. Dropped without
/// [`WriteTx::commit`], everything rolls back. The methods behave as their single-call namesakes.
#[async_trait]
pub trait WriteTx: Send {
    /// As [`ReplayStore::remember_envelope`].
    async fn remember_envelope(
        &mut self,
        session_id: &str,
        envelope_id: &[u8],
        expires_at: UnixMillis,
    ) -> StoreResult<bool>;
    /// As [`SessionStore::create_session`].
    async fn create_session(&mut self, new: &NewSession) -> StoreResult<Session>;
    /// As [`SessionStore::update_session`].
    async fn update_session(&mut self, session: &Session) -> StoreResult<Session>;
    /// As [`CodeStore::codes_sent`].
    async fn codes_sent(&mut self, session_id: &str) -> StoreResult<u32>;
    /// As [`RateLimitStore::rate_hits`].
    async fn rate_hits(&mut self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<Vec<u64>>;
    /// As [`CodeStore::issue_code`].
    async fn issue_code(&mut self, new: &NewCode) -> StoreResult<Code>;
    /// As [`CodeStore::take_code_attempt`].
    async fn take_code_attempt(
        &mut self,
        session_id: &str,
        max_attempts: u32,
        now: UnixMillis,
    ) -> StoreResult<CodeAttempt>;
    /// As [`CodeStore::consume_code`].
    async fn consume_code(&mut self, code_id: i64, now: UnixMillis) -> StoreResult<bool>;
    /// As [`WebhookStore::enqueue_delivery`].
    async fn enqueue_delivery(&mut self, new: &NewDelivery) -> StoreResult<i64>;
    /// Takes one hit back from each `(key, window_ms)` counter in the window containing `now` (never below
    /// zero): for a send counted and then not delivered.
    async fn rate_refunds(&mut self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<()>;
    /// As [`BindingStore::bind_identity`], in the step's transaction (a refusal by the limit writes nothing).
    async fn bind_identity(
        &mut self,
        site_id: &str,
        blind_index: &[u8],
        account: &str,
        limit: u32,
        now: UnixMillis,
    ) -> StoreResult<bool>;
    /// As [`crate::ReviewStore::create_case`], in the step's transaction: a session goes to review with its case,
    /// or not at all.
    async fn create_case(
        &mut self,
        case: &crate::review::NewCase,
        images: &[crate::review::CaseImage],
    ) -> StoreResult<()>;
    /// Writes audit events about this step's changes as pending rows (atomic with the changes; chained into the
    /// hash chain later, in batches, so steps never wait for the chain's head: see `realname_domain::audit`).
    async fn audit_pending(&mut self, at: UnixMillis, events: &[Event]) -> StoreResult<()>;
    /// Makes every write of the transaction durable and visible at once.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
    /// As [`WriteTx::remember_envelope`], checked at the commit or with the step's next statement, whichever
    /// comes first: a replayed envelope fails it with `Replayed`, and nothing of the step is kept.
    async fn remember_envelope_at_commit(
        &mut self,
        session_id: &str,
        envelope_id: &[u8],
        expires_at: UnixMillis,
    ) -> StoreResult<()> {
        if self.remember_envelope(session_id, envelope_id, expires_at).await? {
            Ok(())
        } else {
            Err(StoreError::Replayed)
        }
    }
    /// As [`WriteTx::create_session`], checked at the commit: an existing id fails the commit with `Conflict`.
    /// Answers the session as it will be stored (PostgreSQL sends the insert with the commit).
    async fn create_session_at_commit(&mut self, new: &NewSession) -> StoreResult<Session> {
        self.create_session(new).await
    }
    /// As [`WriteTx::update_session`], checked at the commit: a moved version or a finished session fails the
    /// commit with `Conflict`, a missing session with `NotFound`. Answers the session as it will be stored.
    async fn update_session_at_commit(&mut self, session: &Session) -> StoreResult<Session> {
        self.update_session(session).await
    }
    /// As [`WriteTx::issue_code`], without an answer: the code is stored with the commit (a missing session
    /// fails it with `NotFound`).
    async fn issue_code_at_commit(&mut self, new: &NewCode) -> StoreResult<()> {
        self.issue_code(new).await.map(|_| ())
    }
    /// As [`WriteTx::consume_code`], checked at the commit: a code consumed, invalidated or expired meanwhile
    /// fails the commit with `Conflict` (after [`WriteTx::take_code_attempt`] in the same transaction it cannot).
    async fn consume_code_at_commit(&mut self, code_id: i64, now: UnixMillis) -> StoreResult<()> {
        if self.consume_code(code_id, now).await? { Ok(()) } else { Err(StoreError::Conflict) }
    }
    /// Adds one hit to each `(key, window_ms, limit)` counter (as [`RateLimitStore::rate_hits`]) as the
    /// transaction's last write and commits when no count went over its limit, nor (with `session`) the codes
    /// issued to that session, this step's included, over its limit: true. Otherwise everything rolls back,
    /// those hits included, and the answer is false; the caller then counts first in a new transaction to
    /// refuse. Counting last holds a shared counter's row (every send from one IP) for the commit only: on
    /// PostgreSQL one round trip instead of the whole step.
    async fn commit_within_limits(
        mut self: Box<Self>,
        counters: &[(&str, i64, u64)],
        session: Option<(&str, u32)>,
        now: UnixMillis,
    ) -> StoreResult<bool> {
        if let Some((id, max)) = session
            && self.codes_sent(id).await? > max
        {
            return Ok(false);
        }
        let hits: Vec<(&str, i64)> = counters.iter().map(|(key, window, _)| (*key, *window)).collect();
        let counts = self.rate_hits(&hits, now).await?;
        if counters.iter().zip(&counts).any(|((_, _, limit), count)| count > limit) {
            // Dropped without commit: rolled back.
            return Ok(false);
        }
        self.commit().await?;
        Ok(true)
    }
}

/// Opens write transactions.
#[async_trait]
pub trait TxStore: Send + Sync {
    /// Begins a write transaction. On SQLite it holds the database's write lock until it is committed or
    /// dropped, so its holder must not call a writing `Store` method meanwhile (that would wait for the lock
    /// it holds until the busy timeout).
    async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>>;
}

/// The webhook delivery queue: at-least-once, with leases so several instances never send one twice at once.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Queues an event (idempotent per `event_id`) and returns the delivery id.
    async fn enqueue_delivery(&self, new: &NewDelivery) -> StoreResult<i64>;
    /// Leases up to `limit` due deliveries to `owner` until `now + lease_ms`, counting an attempt on each.
    /// A delivery whose lease ran out (a crashed worker) becomes claimable again.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now: UnixMillis,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
    /// Marks a leased delivery delivered; false if `owner` no longer holds it.
    async fn complete_delivery(&self, id: i64, owner: &str, now: UnixMillis) -> StoreResult<bool>;
    /// Releases a leased delivery for another attempt at `next_attempt_at` (see `retry_backoff_ms`).
    async fn retry_delivery(&self, id: i64, owner: &str, next_attempt_at: UnixMillis, error: &str)
    -> StoreResult<bool>;
    /// Gives a leased delivery up for good.
    async fn abandon_delivery(&self, id: i64, owner: &str, error: &str) -> StoreResult<bool>;
    /// Loads a delivery.
    async fn delivery(&self, id: i64) -> StoreResult<Option<Delivery>>;
}

/// How many accounts of a site one identity (blind index of the ID number) is bound to.
#[async_trait]
pub trait BindingStore: Send + Sync {
    /// Binds `account` (the site's reference, or the session id) to the identity unless the identity already
    /// has `limit` other accounts on the site; true if bound (idempotent for an already bound account).
    async fn bind_identity(
        &self,
        site_id: &str,
        blind_index: &[u8],
        account: &str,
        limit: u32,
        now: UnixMillis,
    ) -> StoreResult<bool>;
    /// Removes a binding (e.g. after an upheld complaint); true if it existed.
    async fn unbind_identity(&self, site_id: &str, blind_index: &[u8], account: &str) -> StoreResult<bool>;
    /// How many accounts of the site the identity is bound to.
    async fn identity_bindings(&self, site_id: &str, blind_index: &[u8]) -> StoreResult<u32>;
}

/// Housekeeping and health.
#[async_trait]
pub trait Maintenance: Send + Sync {
    /// Expires unfinished sessions (wiping their identity data) and deletes rows past their lifetime.
    async fn purge(&self, policy: &PurgePolicy) -> StoreResult<PurgeReport>;
    /// Wipes the identity data of finished sessions last changed before `before` (data minimisation once
    /// a verification's result is delivered); returns how many were wiped.
    async fn erase_finished_identities(&self, before: UnixMillis, now: UnixMillis) -> StoreResult<u64>;
    /// Makes personal data erased by earlier calls unrecoverable from the database's own files: SQLite copies
    /// its write-ahead log into the database file (where `secure_delete` zeroed the freed cells) and truncates
    /// the log, which otherwise keeps the erased pages' old content until it is overwritten; false when
    /// concurrent readers kept it from finishing within a few seconds (the next erasure or purge tries again).
    /// PostgreSQL removes dead row versions at its next vacuum and recycles WAL segments itself: nothing to do.
    async fn flush_erased(&self) -> StoreResult<bool>;
    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// The backend's name: "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
}
