//! Storage of the review queue (cases with sealed images) and of reviewer accounts and console sessions.
//! One SQL text for both backends (`$n` placeholders); migrations `0102_review.sql`.

use async_trait::async_trait;
use sqlx::Row;

use crate::error::{StoreError, StoreResult};
use crate::types::UnixMillis;
use realname_domain::vault::Sealed;

/// Where a review case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseStatus {
    /// Waiting for a reviewer.
    Pending,
    /// Approved by a reviewer.
    Approved,
    /// Rejected by a reviewer.
    Rejected,
    /// The person's data was deleted on request; only the case's ids and dates remain.
    Erased,
}

impl CaseStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Erased => "erased",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Erased].into_iter().find(|c| c.as_str() == s)
    }
}

/// A case to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCase {
    /// Case id (random).
    pub id: String,
    /// The site of the session.
    pub site_id: String,
    /// The session under review (one case per session).
    pub session_id: String,
    /// Why it needs a human: `document`, `unknown_region`, `max_accounts`, `minor`.
    pub reasons: Vec<String>,
    /// When it was submitted.
    pub submitted_at: UnixMillis,
    /// When the review is due (working-day calendar).
    pub due_at: UnixMillis,
    /// Whether the due date was computed without official holiday data for part of the period.
    pub due_provisional: bool,
}

/// An image to keep with a case, already sealed for `review_images`/`kind`/case id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseImage {
    /// `face`, `id_front` or `id_back`.
    pub kind: String,
    /// MIME type (`image/jpeg`, `image/png`, `image/webp`).
    pub content_type: String,
    /// The sealed, base64-encoded image.
    pub sealed: Sealed,
}

/// A stored case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// The site.
    pub site_id: String,
    /// The session.
    pub session_id: String,
    /// Why it needs a human.
    pub reasons: Vec<String>,
    /// Where it stands.
    pub status: CaseStatus,
    /// Submission time.
    pub submitted_at: UnixMillis,
    /// Due time.
    pub due_at: UnixMillis,
    /// Whether the due date is provisional.
    pub due_provisional: bool,
    /// Decision time.
    pub decided_at: Option<UnixMillis>,
    /// The deciding reviewer's id.
    pub decided_by: Option<String>,
    /// The decision's reason code.
    pub reason_code: Option<String>,
    /// When the images were deleted (retention or erasure).
    pub images_purged_at: Option<UnixMillis>,
}

impl Case {
    /// Pending past its due time at `now`, or decided after it.
    pub fn overdue(&self, now: UnixMillis) -> bool {
        match self.decided_at {
            Some(d) => d >= self.due_at,
            None => self.status == CaseStatus::Pending && now >= self.due_at,
        }
    }
}

/// A reviewer's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sees the queue and decides cases and complaints.
    Reviewer,
    /// Also manages reviewers and erases data on request.
    Admin,
}

impl Role {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Admin => "admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Reviewer, Self::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

/// A reviewer account.
#[derive(Clone, PartialEq, Eq)]
pub struct Reviewer {
    /// Account id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// The one site whose cases the account sees, or `None` for every site.
    pub site_id: Option<String>,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Creation time.
    pub created_at: UnixMillis,
}

impl std::fmt::Debug for Reviewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reviewer")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("site_id", &self.site_id)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Queue size at an instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Cases waiting.
    pub pending: u64,
    /// Of those, past their due time.
    pub overdue: u64,
}

/// The review queue's storage.
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Queues a case with its images; `Conflict` if the session already has one.
    async fn create_case(&self, case: &NewCase, images: &[CaseImage]) -> StoreResult<()>;
    /// Loads a case.
    async fn case(&self, id: &str) -> StoreResult<Option<Case>>;
    /// The case of a session, if any.
    async fn case_for_session(&self, session_id: &str) -> StoreResult<Option<Case>>;
    /// Pending cases (of one site, or all), earliest due first.
    async fn pending_cases(&self, site_id: Option<&str>, limit: u32) -> StoreResult<Vec<Case>>;
    /// Cases submitted in `[from, to)`, any status (for reports).
    async fn cases_submitted_between(&self, from: UnixMillis, to: UnixMillis) -> StoreResult<Vec<Case>>;
    /// A case's images.
    async fn case_images(&self, id: &str) -> StoreResult<Vec<CaseImage>>;
    /// Decides a pending case; false if it is no longer pending (decided concurrently or erased).
    async fn decide_case(
        &self,
        id: &str,
        status: CaseStatus,
        by: &str,
        reason_code: &str,
        now: UnixMillis,
    ) -> StoreResult<bool>;
    /// Pending and overdue counts at `now`.
    async fn queue_counts(&self, now: UnixMillis) -> StoreResult<QueueCounts>;
    /// Deletes the images of cases decided before `cutoff`; returns the ids of the cases touched.
    async fn purge_case_images(&self, cutoff: UnixMillis, now: UnixMillis) -> StoreResult<Vec<Case>>;
    /// Deletes a case's images and marks it erased; false if it does not exist.
    async fn erase_case(&self, id: &str, now: UnixMillis) -> StoreResult<bool>;

    /// Sessions created in `[from, to)` counted by method and current status (reports; no personal data read).
    async fn session_counts(&self, from: UnixMillis, to: UnixMillis)
    -> StoreResult<Vec<(Option<String>, String, u64)>>;

    /// Creates a reviewer; `Conflict` if the username is taken.
    async fn create_reviewer(&self, r: &Reviewer) -> StoreResult<()>;
    /// A reviewer by id.
    async fn reviewer(&self, id: &str) -> StoreResult<Option<Reviewer>>;
    /// A reviewer by login name.
    async fn reviewer_by_username(&self, username: &str) -> StoreResult<Option<Reviewer>>;
    /// Every reviewer, by username.
    async fn reviewers(&self) -> StoreResult<Vec<Reviewer>>;
    /// Enables or disables an account (disabling ends its sessions); false if unknown.
    async fn set_reviewer_disabled(&self, id: &str, disabled: bool) -> StoreResult<bool>;
    /// Starts a console session.
    async fn create_reviewer_session(
        &self,
        token_hash: &str,
        reviewer_id: &str,
        now: UnixMillis,
        expires_at: UnixMillis,
    ) -> StoreResult<()>;
    /// The enabled reviewer of an unexpired console session.
    async fn reviewer_for_session(&self, token_hash: &str, now: UnixMillis) -> StoreResult<Option<Reviewer>>;
    /// Ends a console session.
    async fn delete_reviewer_session(&self, token_hash: &str) -> StoreResult<()>;
}

/// A stored reason by its current name: `document`, the documents method's old name (rewritten by migration 107),
/// can still come from an older instance during a rolling upgrade.
fn reason_name(stored: &str) -> String {
    if stored == "document" { "documents".to_owned() } else { stored.to_owned() }
}

const CASE_COLS: &str = "id, site_id, session_id, reasons, status, submitted_at, due_at, due_provisional, \
                         decided_at, decided_by, reason_code, images_purged_at";
const REVIEWER_COLS: &str = "id, username, password_hash, role, site_id, disabled, created_at";

fn case_from_row<R: Row>(r: &R) -> StoreResult<Case>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = r.try_get("status")?;
    let reasons: String = r.try_get("reasons")?;
    Ok(Case {
        id: r.try_get("id")?,
        site_id: r.try_get("site_id")?,
        session_id: r.try_get("session_id")?,
        reasons: reasons.split(',').filter(|s| !s.is_empty()).map(reason_name).collect(),
        status: CaseStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("case status {status:?}")))?,
        submitted_at: r.try_get("submitted_at")?,
        due_at: r.try_get("due_at")?,
        due_provisional: r.try_get::<i64, _>("due_provisional")? != 0,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        reason_code: r.try_get("reason_code")?,
        images_purged_at: r.try_get("images_purged_at")?,
    })
}

fn reviewer_from_row<R: Row>(r: &R) -> StoreResult<Reviewer>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = r.try_get("role")?;
    Ok(Reviewer {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("reviewer role {role:?}")))?,
        site_id: r.try_get("site_id")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

/// Writes a case and its images on a sqlx connection or transaction (`ReviewStore::create_case`, and a step's
/// `WriteTx::create_case` on PostgreSQL); a macro because the two backends' connection types differ.
macro_rules! create_case_on {
    ($conn:expr, $case:expr, $images:expr) => {{
        let (c, images): (&$crate::review::NewCase, &[$crate::review::CaseImage]) = ($case, $images);
        sqlx::query($crate::sql::step::INSERT_CASE)
            .bind(&c.id)
            .bind(&c.site_id)
            .bind(&c.session_id)
            .bind(c.reasons.join(","))
            .bind(c.submitted_at)
            .bind(c.due_at)
            .bind(i64::from(c.due_provisional))
            .execute(&mut *$conn)
            .await?;
        for img in images {
            sqlx::query($crate::sql::step::INSERT_CASE_IMAGE)
                .bind(&c.id)
                .bind(&img.kind)
                .bind(&img.content_type)
                .bind(img.sealed.as_bytes())
                .execute(&mut *$conn)
                .await?;
        }
    }};
}
pub(crate) use create_case_on;

/// Implements [`ReviewStore`] for a store type with sqlx pools `pool` (reads) and `writer` (writes: on SQLite the
/// one writing connection, so writers queue in-process and a read-then-write transaction cannot lose its snapshot).
macro_rules! impl_review_store {
    ($store:ty) => {
        #[async_trait]
        impl ReviewStore for $store {
            async fn create_case(&self, c: &NewCase, images: &[CaseImage]) -> StoreResult<()> {
                let mut tx = self.writer.begin().await?;
                $crate::review::create_case_on!(&mut *tx, c, images);
                tx.commit().await?;
                Ok(())
            }

            async fn case(&self, id: &str) -> StoreResult<Option<Case>> {
                let row = sqlx::query(&format!("SELECT {CASE_COLS} FROM review_cases WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await?;
                row.as_ref().map(case_from_row).transpose()
            }

            async fn case_for_session(&self, session_id: &str) -> StoreResult<Option<Case>> {
                let row = sqlx::query(&format!("SELECT {CASE_COLS} FROM review_cases WHERE session_id = $1"))
                    .bind(session_id)
                    .fetch_optional(self.pool())
                    .await?;
                row.as_ref().map(case_from_row).transpose()
            }

            async fn pending_cases(&self, site_id: Option<&str>, limit: u32) -> StoreResult<Vec<Case>> {
                let rows = sqlx::query(&format!(
                    "SELECT {CASE_COLS} FROM review_cases WHERE status = 'pending' AND ($1 IS NULL OR site_id = $1) \
                     ORDER BY due_at, submitted_at, id LIMIT $2"
                ))
                .bind(site_id)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(case_from_row).collect()
            }

            async fn cases_submitted_between(&self, from: UnixMillis, to: UnixMillis) -> StoreResult<Vec<Case>> {
                let rows = sqlx::query(&format!(
                    "SELECT {CASE_COLS} FROM review_cases WHERE submitted_at >= $1 AND submitted_at < $2 ORDER BY submitted_at, id"
                ))
                .bind(from)
                .bind(to)
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(case_from_row).collect()
            }

            async fn case_images(&self, id: &str) -> StoreResult<Vec<CaseImage>> {
                let rows = sqlx::query("SELECT kind, content_type, sealed FROM review_images WHERE case_id = $1 ORDER BY kind")
                    .bind(id)
                    .fetch_all(self.pool())
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(CaseImage {
                            kind: r.try_get("kind")?,
                            content_type: r.try_get("content_type")?,
                            sealed: Sealed::from_stored(r.try_get("sealed")?),
                        })
                    })
                    .collect()
            }

            async fn decide_case(
                &self,
                id: &str,
                status: CaseStatus,
                by: &str,
                reason_code: &str,
                now: UnixMillis,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE review_cases SET status = $1, decided_by = $2, reason_code = $3, decided_at = $4 \
                     WHERE id = $5 AND status = 'pending'",
                )
                .bind(status.as_str())
                .bind(by)
                .bind(reason_code)
                .bind(now)
                .bind(id)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn queue_counts(&self, now: UnixMillis) -> StoreResult<QueueCounts> {
                let row = sqlx::query($crate::sql::GAUGE_QUEUE)
                .bind(now)
                .fetch_one(self.pool())
                .await?;
                let pending: i64 = row.try_get("pending")?;
                let overdue: i64 = row.try_get("overdue")?;
                Ok(QueueCounts { pending: pending.max(0) as u64, overdue: overdue.max(0) as u64 })
            }

            async fn purge_case_images(&self, cutoff: UnixMillis, now: UnixMillis) -> StoreResult<Vec<Case>> {
                let mut tx = self.writer.begin().await?;
                let rows = sqlx::query(&format!(
                    "SELECT {CASE_COLS} FROM review_cases WHERE decided_at IS NOT NULL AND decided_at < $1 \
                     AND images_purged_at IS NULL ORDER BY id"
                ))
                .bind(cutoff)
                .fetch_all(&mut *tx)
                .await?;
                let cases: Vec<Case> = rows.iter().map(case_from_row).collect::<StoreResult<_>>()?;
                for c in &cases {
                    sqlx::query("DELETE FROM review_images WHERE case_id = $1").bind(&c.id).execute(&mut *tx).await?;
                    sqlx::query("UPDATE review_cases SET images_purged_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(&c.id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(cases)
            }

            async fn erase_case(&self, id: &str, now: UnixMillis) -> StoreResult<bool> {
                let mut tx = self.writer.begin().await?;
                sqlx::query("DELETE FROM review_images WHERE case_id = $1").bind(id).execute(&mut *tx).await?;
                let done = sqlx::query(
                    "UPDATE review_cases SET status = 'erased', images_purged_at = COALESCE(images_purged_at, $1), \
                     decided_at = COALESCE(decided_at, $1) WHERE id = $2",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn session_counts(&self, from: UnixMillis, to: UnixMillis) -> StoreResult<Vec<(Option<String>, String, u64)>> {
                let rows = sqlx::query(
                    "SELECT method, status, COUNT(*) AS n FROM sessions WHERE created_at >= $1 AND created_at < $2 \
                     GROUP BY method, status ORDER BY method, status",
                )
                .bind(from)
                .bind(to)
                .fetch_all(self.pool())
                .await?;
                rows.iter()
                    .map(|r| {
                        let n: i64 = r.try_get("n")?;
                        Ok((r.try_get("method")?, r.try_get("status")?, n.max(0) as u64))
                    })
                    .collect()
            }

            async fn create_reviewer(&self, r: &Reviewer) -> StoreResult<()> {
                sqlx::query(&format!("INSERT INTO reviewers ({REVIEWER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                    .bind(&r.id)
                    .bind(&r.username)
                    .bind(&r.password_hash)
                    .bind(r.role.as_str())
                    .bind(&r.site_id)
                    .bind(i64::from(r.disabled))
                    .bind(r.created_at)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn reviewer(&self, id: &str) -> StoreResult<Option<Reviewer>> {
                let row = sqlx::query(&format!("SELECT {REVIEWER_COLS} FROM reviewers WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await?;
                row.as_ref().map(reviewer_from_row).transpose()
            }

            async fn reviewer_by_username(&self, username: &str) -> StoreResult<Option<Reviewer>> {
                let row = sqlx::query(&format!("SELECT {REVIEWER_COLS} FROM reviewers WHERE username = $1"))
                    .bind(username)
                    .fetch_optional(self.pool())
                    .await?;
                row.as_ref().map(reviewer_from_row).transpose()
            }

            async fn reviewers(&self) -> StoreResult<Vec<Reviewer>> {
                let rows = sqlx::query(&format!("SELECT {REVIEWER_COLS} FROM reviewers ORDER BY username"))
                    .fetch_all(self.pool())
                    .await?;
                rows.iter().map(reviewer_from_row).collect()
            }

            async fn set_reviewer_disabled(&self, id: &str, disabled: bool) -> StoreResult<bool> {
                let mut tx = self.writer.begin().await?;
                let done = sqlx::query("UPDATE reviewers SET disabled = $1 WHERE id = $2")
                    .bind(i64::from(disabled))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if disabled {
                    sqlx::query("DELETE FROM reviewer_sessions WHERE reviewer_id = $1").bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_reviewer_session(
                &self,
                token_hash: &str,
                reviewer_id: &str,
                now: UnixMillis,
                expires_at: UnixMillis,
            ) -> StoreResult<()> {
                // Expired sessions go away as new ones start, so the table never grows without bound.
                sqlx::query("DELETE FROM reviewer_sessions WHERE expires_at <= $1").bind(now).execute(&self.writer).await?;
                sqlx::query(
                    "INSERT INTO reviewer_sessions (token_hash, reviewer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(reviewer_id)
                .bind(now)
                .bind(expires_at)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn reviewer_for_session(&self, token_hash: &str, now: UnixMillis) -> StoreResult<Option<Reviewer>> {
                let row = sqlx::query(
                    "SELECT r.id, r.username, r.password_hash, r.role, r.site_id, r.disabled, r.created_at \
                     FROM reviewer_sessions s JOIN reviewers r ON r.id = s.reviewer_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND r.disabled = 0",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(self.pool())
                .await?;
                row.as_ref().map(reviewer_from_row).transpose()
            }

            async fn delete_reviewer_session(&self, token_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM reviewer_sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }
        }
    };
}

impl_review_store!(super::sqlite::SqliteStore);
impl_review_store!(super::postgres::PgStore);
