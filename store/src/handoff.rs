//! Storage of cross-device handoffs (migration `0007_handoffs.sql`): the code's HMAC (never the code), the session,
//! its lifetime, its single use, and the hash of the client secret that may follow the session once it was
//! redeemed. Each write commits with its audit events (pending rows, chained later like a step's).

use async_trait::async_trait;
use realname_domain::audit::Event;
use realname_domain::handoff::Handoff;
use sqlx::Row;

use crate::error::{StoreError, StoreResult};
use crate::types::UnixMillis;

/// A handoff to store.
#[derive(Clone, Debug)]
pub struct NewHandoff<'a> {
    /// HMAC of the code (the lookup key).
    pub code_hmac: &'a [u8],
    /// The session.
    pub session_id: &'a str,
    /// SHA-256 of the asking device's client secret.
    pub watch_hash: &'a [u8],
    /// When it was made.
    pub created_at: UnixMillis,
    /// When it stops working.
    pub expires_at: UnixMillis,
}

/// A redemption: the code, and the session's new client secret, written only where the session is still at the
/// version the caller decided on.
#[derive(Clone, Debug)]
pub struct Redemption<'a> {
    /// HMAC of the code.
    pub code_hmac: &'a [u8],
    /// The session.
    pub session_id: &'a str,
    /// The session's version the caller read (optimistic concurrency, as `update_session`).
    pub version: i64,
    /// SHA-256 of the redeeming device's new client secret.
    pub secret_hash: &'a [u8],
    /// When that secret expires.
    pub secret_expires_at: UnixMillis,
    /// Now.
    pub now: UnixMillis,
}

/// Handoff storage.
#[async_trait]
pub trait HandoffStore: Send + Sync {
    /// Stores a new handoff with its audit events, in one transaction.
    async fn create_handoff(&self, new: &NewHandoff<'_>, events: &[Event]) -> StoreResult<()>;
    /// The handoff whose code has this HMAC.
    async fn handoff(&self, code_hmac: &[u8]) -> StoreResult<Option<Handoff>>;
    /// Redeems in one transaction: marks the code used (if it is unused and unexpired at `now`), gives the session
    /// the new client secret (if it is still at `version`, which it bumps) and writes the audit events.
    /// `Replayed` when the code was used or expired meanwhile (another device redeemed it), `Conflict` when the
    /// session moved on; nothing is written then.
    async fn redeem_handoff(&self, r: &Redemption<'_>, events: &[Event]) -> StoreResult<()>;
    /// Whether `secret_hash` is the watching secret of a redeemed handoff of the session: the device that handed
    /// the session off, which may follow its status.
    async fn handoff_watcher(&self, session_id: &str, secret_hash: &[u8]) -> StoreResult<bool>;
    /// Whether a device redeemed a handoff of the session.
    async fn handed_off(&self, session_id: &str) -> StoreResult<bool>;
}

macro_rules! impl_handoff_store {
    ($store:ty) => {
        #[async_trait]
        impl HandoffStore for $store {
            async fn create_handoff(&self, new: &NewHandoff<'_>, events: &[Event]) -> StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                sqlx::query(
                    "INSERT INTO handoffs (code_hmac, session_id, watch_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(new.code_hmac)
                .bind(new.session_id)
                .bind(new.watch_hash)
                .bind(new.created_at)
                .bind(new.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| match e {
                    // Two equal codes (40 random bits) among the live ones: the caller draws another.
                    sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
                    e => e.into(),
                })?;
                crate::audit::AuditConn::insert_pending(&mut *tx, new.created_at, events).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn handoff(&self, code_hmac: &[u8]) -> StoreResult<Option<Handoff>> {
                let row = sqlx::query(
                    "SELECT session_id, created_at, expires_at, used_at FROM handoffs WHERE code_hmac = $1",
                )
                .bind(code_hmac)
                .fetch_optional(self.pool())
                .await?;
                row.map(|r| {
                    Ok(Handoff {
                        session_id: r.try_get("session_id")?,
                        created_at: r.try_get("created_at")?,
                        expires_at: r.try_get("expires_at")?,
                        used_at: r.try_get("used_at")?,
                    })
                })
                .transpose()
            }

            async fn redeem_handoff(&self, r: &Redemption<'_>, events: &[Event]) -> StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                let used = sqlx::query(
                    "UPDATE handoffs SET used_at = $1 WHERE code_hmac = $2 AND session_id = $3 \
                     AND used_at IS NULL AND expires_at > $1",
                )
                .bind(r.now)
                .bind(r.code_hmac)
                .bind(r.session_id)
                .execute(&mut *tx)
                .await?;
                if used.rows_affected() != 1 {
                    return Err(StoreError::Replayed);
                }
                let moved = sqlx::query(
                    "UPDATE sessions SET client_secret_hash = $1, client_secret_expires_at = $2, updated_at = $3, \
                     version = version + 1 WHERE id = $4 AND version = $5",
                )
                .bind(r.secret_hash)
                .bind(r.secret_expires_at)
                .bind(r.now)
                .bind(r.session_id)
                .bind(r.version)
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() != 1 {
                    return Err(StoreError::Conflict);
                }
                crate::audit::AuditConn::insert_pending(&mut *tx, r.now, events).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn handoff_watcher(&self, session_id: &str, secret_hash: &[u8]) -> StoreResult<bool> {
                let row = sqlx::query(
                    "SELECT 1 AS one FROM handoffs WHERE session_id = $1 AND watch_hash = $2 \
                     AND used_at IS NOT NULL LIMIT 1",
                )
                .bind(session_id)
                .bind(secret_hash)
                .fetch_optional(self.pool())
                .await?;
                Ok(row.is_some())
            }

            async fn handed_off(&self, session_id: &str) -> StoreResult<bool> {
                let row =
                    sqlx::query("SELECT 1 AS one FROM handoffs WHERE session_id = $1 AND used_at IS NOT NULL LIMIT 1")
                        .bind(session_id)
                        .fetch_optional(self.pool())
                        .await?;
                Ok(row.is_some())
            }
        }
    };
}

impl_handoff_store!(super::sqlite::SqliteStore);
impl_handoff_store!(super::postgres::PgStore);
