//! Storage of complaints (migrations `0103_complaints.sql`); the message and answer are sealed by the vault.

use async_trait::async_trait;
use sqlx::Row;

use crate::error::{StoreError, StoreResult};
use crate::types::UnixMillis;
use realname_domain::vault::Sealed;

/// Where a complaint stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComplaintStatus {
    /// Filed, not answered.
    Open,
    /// Answered by a reviewer; may still be closed.
    Answered,
    /// Closed.
    Closed,
}

impl ComplaintStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Answered => "answered",
            Self::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Answered, Self::Closed].into_iter().find(|c| c.as_str() == s)
    }
}

/// A complaint as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Complaint {
    /// Ticket number.
    pub ticket: String,
    /// SHA-256 (hex) of the status secret.
    pub secret_hash: String,
    /// The site.
    pub site_id: String,
    /// The verification it is about, if known.
    pub session_id: Option<String>,
    /// Category.
    pub category: String,
    /// Sealed message (`None` once erased).
    pub message: Option<Sealed>,
    /// Status.
    pub status: ComplaintStatus,
    /// Filing time.
    pub filed_at: UnixMillis,
    /// Due time.
    pub due_at: UnixMillis,
    /// Due date counted partly without official holiday data.
    pub due_provisional: bool,
    /// Sealed answer.
    pub answer: Option<Sealed>,
    /// Answer time.
    pub answered_at: Option<UnixMillis>,
    /// Answering reviewer.
    pub answered_by: Option<String>,
    /// Closing time.
    pub closed_at: Option<UnixMillis>,
    /// Closing reviewer.
    pub closed_by: Option<String>,
}

impl Complaint {
    /// Unanswered past its due time at `now`, or answered after it.
    pub fn overdue(&self, now: UnixMillis) -> bool {
        match self.answered_at.or(self.closed_at) {
            Some(t) => t >= self.due_at,
            None => now >= self.due_at,
        }
    }
}

/// Complaint storage.
#[async_trait]
pub trait ComplaintStore: Send + Sync {
    /// Files a complaint (status open); `Conflict` if the ticket exists.
    async fn create_complaint(&self, c: &Complaint) -> StoreResult<()>;
    /// Loads a complaint.
    async fn complaint(&self, ticket: &str) -> StoreResult<Option<Complaint>>;
    /// Complaints not closed (of one site, or all), earliest due first.
    async fn open_complaints(&self, site_id: Option<&str>, limit: u32) -> StoreResult<Vec<Complaint>>;
    /// Complaints filed in `[from, to)` (reports).
    async fn complaints_filed_between(&self, from: UnixMillis, to: UnixMillis) -> StoreResult<Vec<Complaint>>;
    /// Stores an answer (open or answered → answered); false if closed or unknown.
    async fn answer_complaint(&self, ticket: &str, answer: &Sealed, by: &str, now: UnixMillis) -> StoreResult<bool>;
    /// Closes a complaint; false if already closed or unknown.
    async fn close_complaint(&self, ticket: &str, by: &str, now: UnixMillis) -> StoreResult<bool>;
    /// Not-closed and overdue counts at `now`.
    async fn complaint_counts(&self, now: UnixMillis) -> StoreResult<(u64, u64)>;
    /// Deletes the message and answer of every complaint about `session_id` (erasure); returns the tickets.
    async fn erase_complaints_of_session(&self, session_id: &str) -> StoreResult<Vec<String>>;
}

const COLS: &str = "ticket, secret_hash, site_id, session_id, category, message, status, filed_at, due_at, \
                    due_provisional, answer, answered_at, answered_by, closed_at, closed_by";

fn from_row<R: Row>(r: &R) -> StoreResult<Complaint>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<Vec<u8>>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = r.try_get("status")?;
    Ok(Complaint {
        ticket: r.try_get("ticket")?,
        secret_hash: r.try_get("secret_hash")?,
        site_id: r.try_get("site_id")?,
        session_id: r.try_get("session_id")?,
        category: r.try_get("category")?,
        message: r.try_get::<Option<Vec<u8>>, _>("message")?.map(Sealed::from_stored),
        status: ComplaintStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("complaint status {status:?}")))?,
        filed_at: r.try_get("filed_at")?,
        due_at: r.try_get("due_at")?,
        due_provisional: r.try_get::<i64, _>("due_provisional")? != 0,
        answer: r.try_get::<Option<Vec<u8>>, _>("answer")?.map(Sealed::from_stored),
        answered_at: r.try_get("answered_at")?,
        answered_by: r.try_get("answered_by")?,
        closed_at: r.try_get("closed_at")?,
        closed_by: r.try_get("closed_by")?,
    })
}

macro_rules! impl_complaint_store {
    ($store:ty) => {
        #[async_trait]
        impl ComplaintStore for $store {
            async fn create_complaint(&self, c: &Complaint) -> StoreResult<()> {
                sqlx::query(&format!(
                    "INSERT INTO complaints ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, NULL, NULL, NULL, NULL, NULL)"
                ))
                .bind(&c.ticket)
                .bind(&c.secret_hash)
                .bind(&c.site_id)
                .bind(&c.session_id)
                .bind(&c.category)
                .bind(c.message.as_ref().map(|m| m.as_bytes().to_vec()))
                .bind(c.filed_at)
                .bind(c.due_at)
                .bind(i64::from(c.due_provisional))
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn complaint(&self, ticket: &str) -> StoreResult<Option<Complaint>> {
                let row = sqlx::query(&format!("SELECT {COLS} FROM complaints WHERE ticket = $1"))
                    .bind(ticket)
                    .fetch_optional(self.pool())
                    .await?;
                row.as_ref().map(from_row).transpose()
            }

            async fn open_complaints(&self, site_id: Option<&str>, limit: u32) -> StoreResult<Vec<Complaint>> {
                let rows = sqlx::query(&format!(
                    "SELECT {COLS} FROM complaints WHERE status <> 'closed' AND ($1 IS NULL OR site_id = $1) \
                     ORDER BY due_at, filed_at, ticket LIMIT $2"
                ))
                .bind(site_id)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(from_row).collect()
            }

            async fn complaints_filed_between(&self, from: UnixMillis, to: UnixMillis) -> StoreResult<Vec<Complaint>> {
                let rows = sqlx::query(&format!(
                    "SELECT {COLS} FROM complaints WHERE filed_at >= $1 AND filed_at < $2 ORDER BY filed_at, ticket"
                ))
                .bind(from)
                .bind(to)
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(from_row).collect()
            }

            async fn answer_complaint(&self, ticket: &str, answer: &Sealed, by: &str, now: UnixMillis) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE complaints SET answer = $1, answered_by = $2, answered_at = COALESCE(answered_at, $3), \
                     status = 'answered' WHERE ticket = $4 AND status <> 'closed'",
                )
                .bind(answer.as_bytes())
                .bind(by)
                .bind(now)
                .bind(ticket)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn close_complaint(&self, ticket: &str, by: &str, now: UnixMillis) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE complaints SET status = 'closed', closed_by = $1, closed_at = $2 WHERE ticket = $3 AND status <> 'closed'",
                )
                .bind(by)
                .bind(now)
                .bind(ticket)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn complaint_counts(&self, now: UnixMillis) -> StoreResult<(u64, u64)> {
                let row = sqlx::query($crate::sql::GAUGE_COMPLAINTS)
                .bind(now)
                .fetch_one(self.pool())
                .await?;
                let open: i64 = row.try_get("open")?;
                let overdue: i64 = row.try_get("overdue")?;
                Ok((open.max(0) as u64, overdue.max(0) as u64))
            }

            async fn erase_complaints_of_session(&self, session_id: &str) -> StoreResult<Vec<String>> {
                let rows = sqlx::query("UPDATE complaints SET message = NULL, answer = NULL WHERE session_id = $1 RETURNING ticket")
                    .bind(session_id)
                    .fetch_all(&self.writer)
                    .await?;
                rows.iter().map(|r| Ok(r.try_get("ticket")?)).collect()
            }
        }
    };
}

impl_complaint_store!(super::sqlite::SqliteStore);
impl_complaint_store!(super::postgres::PgStore);
