//! The review queue (seed 第十条): documents submissions (selfie + ID photo) and flagged cases wait here for a reviewer, due
//! five working days after submission; every view of decrypted personal data is an audit entry.

pub mod auth;
pub mod cli;
pub mod lifecycle;
pub mod throttle;

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use serde::Serialize;

use realname_domain::audit::Event;
use realname_domain::calendar::Calendar;
use realname_domain::clock::{Clock, Random};
pub use realname_domain::config::ReviewConfig;
use realname_domain::lifecycle::SessionEvent;
use realname_domain::session::Session;
use realname_domain::vault::Field;
use realname_store::review::{Case, CaseImage, CaseStatus, NewCase, Reviewer};
use realname_store::{Store, StoreError};

use crate::keyring::VaultKeys;

/// Why a case goes to a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A selfie and a document photo (the documents method).
    Documents,
    /// The number's region (county) code is not in the table.
    UnknownRegion,
    /// The identity is already bound to the site's maximum of accounts.
    MaxAccounts,
    /// The person is under 14 (PIPL art. 31: a guardian consents).
    Minor,
    /// An authoritative check had no answer (`no_record`, `unavailable`) and the site reviews such cases.
    CheckUnavailable,
}

impl Reason {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Documents => "documents",
            Reason::UnknownRegion => "unknown_region",
            Reason::MaxAccounts => "max_accounts",
            Reason::Minor => "minor",
            Reason::CheckUnavailable => "check_unavailable",
        }
    }
}

/// Reason codes a reviewer approves with.
pub const APPROVE_CODES: &[&str] = &["documents_match", "manual_check_passed", "guardian_consent_verified"];

/// Reason codes a reviewer rejects with.
pub const REJECT_CODES: &[&str] = &[
    "photo_unreadable",
    "face_mismatch",
    "document_invalid",
    "document_expired",
    "identity_mismatch",
    "account_limit",
    "minor_not_permitted",
    "suspected_fraud",
];

/// An image as uploaded, in the clear (only in memory).
pub struct PlainImage {
    /// `face`, `id_front` or `id_back`.
    pub kind: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A review case ready to be written in a session step's transaction ([`Reviews::prepare`]).
#[derive(Debug)]
pub struct PreparedCase {
    /// The case's row.
    pub case: NewCase,
    /// Its images, sealed.
    pub images: Vec<CaseImage>,
    /// Its `review.case.created` audit entry.
    pub event: Event,
}

impl std::fmt::Debug for PlainImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlainImage({}, {}, {} bytes)", self.kind, self.content_type, self.bytes.len())
    }
}

/// What a decision does beyond the queue: the server fires the session's webhook (its queue) and the widget's
/// status follows the session.
#[async_trait]
pub trait DecisionHook: Send + Sync {
    /// Called once the session reached its final status after a review.
    async fn decided(&self, session: &Session);
}

/// Review errors; the HTTP layer maps them to stable codes.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such case, or not visible to this reviewer.
    #[error("not found")]
    NotFound,
    /// The case was already decided (or erased).
    #[error("the case is no longer pending")]
    AlreadyDecided,
    /// Reason code not in the list for the decision.
    #[error("unknown reason code")]
    BadReason,
    /// Malformed input (image kind, type, size).
    #[error("{0}")]
    Invalid(&'static str),
    /// Stored data could not be decrypted.
    #[error("stored data could not be decrypted")]
    Vault,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit log could not be written: nothing is shown or changed without its entry.
    #[error("audit log unavailable")]
    Audit,
}

/// A queue line: ids, reasons and dates only (no personal data).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseSummary {
    /// Case id.
    pub id: String,
    /// Site.
    pub site: String,
    /// Session.
    pub session_id: String,
    /// Why it is here.
    pub reasons: Vec<String>,
    /// `pending`, `approved`, `rejected`, `erased`.
    pub status: &'static str,
    /// Submission, Unix ms.
    pub submitted_at: i64,
    /// Due, Unix ms.
    pub due_at: i64,
    /// Due date counted partly without official holiday data.
    pub due_provisional: bool,
    /// Past due (pending) or decided late.
    pub overdue: bool,
    /// Decision, if any.
    pub reason_code: Option<String>,
}

impl CaseSummary {
    fn of(c: &Case, now: i64) -> Self {
        Self {
            id: c.id.clone(),
            site: c.site_id.clone(),
            session_id: c.session_id.clone(),
            reasons: c.reasons.clone(),
            status: c.status.as_str(),
            submitted_at: c.submitted_at,
            due_at: c.due_at,
            due_provisional: c.due_provisional,
            overdue: c.overdue(now),
            reason_code: c.reason_code.clone(),
        }
    }
}

/// A decrypted image for the case view.
#[derive(Clone, Serialize)]
pub struct ImageView {
    /// Kind.
    pub kind: String,
    /// MIME type.
    pub content_type: String,
    /// Base64 of the bytes.
    pub data: String,
}

/// The reviewer's case view: the one place personal data is shown unmasked.
#[derive(Clone, Serialize)]
pub struct CaseView {
    /// The queue line.
    pub case: CaseSummary,
    /// Full name.
    pub name: Option<String>,
    /// Document number.
    pub id_number: Option<String>,
    /// Document kind.
    pub document_kind: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Images (none once purged).
    pub images: Vec<ImageView>,
    /// For a child under 14: the guardian's consent as recorded at the identity step (`None` if none was).
    pub guardian_consent: Option<GuardianConsent>,
}

/// A guardian's consent on record (the audit entry `session.guardian_consent`): which text, when.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GuardianConsent {
    /// The consent text's version.
    pub version: String,
    /// When the guardian accepted it, Unix seconds (as the widget sent it).
    pub accepted_at: i64,
    /// When the server recorded it, Unix ms.
    pub recorded_at: i64,
    /// The audit entry's number.
    pub audit_seq: i64,
}

impl std::fmt::Debug for CaseView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaseView({}, <personal data redacted>)", self.case.id)
    }
}

const IMAGE_KINDS: &[&str] = &["face", "id_front", "id_back"];
const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];
/// Largest image kept, bytes.
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;

/// The review service.
#[derive(Clone)]
pub struct Reviews {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Field encryption.
    pub vault: VaultKeys,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
    /// Working days.
    pub calendar: Arc<Calendar>,
    /// Settings.
    pub config: ReviewConfig,
    /// The server's reaction to decisions (webhooks).
    pub hook: Arc<dyn DecisionHook>,
    /// Prometheus counters.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Site API keys (for the site's erasure requests).
    pub sites: Arc<dyn SiteKeys>,
    /// The bounded pool console logins hash passwords on.
    pub hashing: Arc<throttle::Hashing>,
    /// The audit chain's key.
    pub audit_key: realname_domain::audit::ChainKey,
}

/// Finds the site of a secret API key (the server's site registry; tests give their own).
pub trait SiteKeys: Send + Sync {
    /// The id of the site whose secret key this is.
    fn site_for_secret_key(&self, key: &str) -> Option<String>;
    /// The site's `max_accounts_per_identity` (0: no limit, so no bindings are kept).
    fn max_accounts(&self, _site: &str) -> u32 {
        0
    }
}

/// Site keys from the server's registry.
impl SiteKeys for realname_domain::sites::Sites {
    fn site_for_secret_key(&self, key: &str) -> Option<String> {
        key.starts_with("sk_").then(|| self.by_secret_key(key).map(|s| s.cfg.id.clone())).flatten()
    }
    fn max_accounts(&self, site: &str) -> u32 {
        self.by_id(site).map_or(0, |s| s.cfg.max_accounts_per_identity)
    }
}

impl Reviews {
    /// Appends an audit entry now; refuses to continue without it.
    pub async fn audit(&self, event: Event) -> Result<(), ReviewError> {
        self.store.audit_append(&self.audit_key, self.clock.now_ms(), event).await.map(|_| ()).map_err(|e| {
            tracing_error(&e.to_string());
            ReviewError::Audit
        })
    }

    /// Queues a session for review with its images (sealed before they reach the store), on its own; a session
    /// step writes the [`prepare`](Self::prepare)d case in its transaction instead.
    pub async fn enqueue(
        &self,
        session: &Session,
        reasons: &[Reason],
        images: Vec<PlainImage>,
    ) -> Result<Case, ReviewError> {
        let prepared = self.prepare(session, reasons, images)?;
        self.store.create_case(&prepared.case, &prepared.images).await?;
        self.audit(prepared.event).await?;
        self.store.case(&prepared.case.id).await?.ok_or(ReviewError::NotFound)
    }

    /// A session's case, checked and its images sealed, ready to be written with the step that sends the session
    /// to review (so a crash between the two cannot leave a session in review without its case).
    pub fn prepare(
        &self,
        session: &Session,
        reasons: &[Reason],
        images: Vec<PlainImage>,
    ) -> Result<PreparedCase, ReviewError> {
        if reasons.is_empty() {
            return Err(ReviewError::Invalid("a case needs a reason"));
        }
        for img in &images {
            if !IMAGE_KINDS.contains(&img.kind.as_str()) {
                return Err(ReviewError::Invalid("image kind must be face, id_front or id_back"));
            }
            if !IMAGE_TYPES.contains(&img.content_type.as_str()) {
                return Err(ReviewError::Invalid("image type must be image/jpeg, image/png or image/webp"));
            }
            if img.bytes.is_empty() || img.bytes.len() > MAX_IMAGE_BYTES {
                return Err(ReviewError::Invalid("image must be 1 byte to 4 MiB"));
            }
        }
        let now = self.clock.now_ms();
        let id = format!("case_{}", self.random.token(12));
        let due = self.calendar.due(now.div_euclid(1000), self.config.review_working_days);
        let mut sealed = Vec::with_capacity(images.len());
        for img in &images {
            let b64 = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&img.bytes));
            let field = Field { table: "review_images", column: &img.kind, row: &id };
            let s = self.vault.seal(field, &b64).map_err(|_| ReviewError::Vault)?;
            sealed.push(CaseImage { kind: img.kind.clone(), content_type: img.content_type.clone(), sealed: s });
        }
        let new = NewCase {
            id: id.clone(),
            site_id: session.site_id.clone(),
            session_id: session.id.clone(),
            reasons: reasons.iter().map(|r| r.as_str().to_owned()).collect(),
            submitted_at: now,
            due_at: due.at * 1000,
            due_provisional: due.provisional,
        };
        let kinds: Vec<&str> = images.iter().map(|i| i.kind.as_str()).collect();
        let event = Event::new("system", "review.case.created", format!("case:{id}"))
            .site(&session.site_id)
            .detail("session", &session.id)
            .detail("reasons", new.reasons.join(","))
            .detail("images", kinds.join(","))
            .detail("due_date", due.date.to_string());
        Ok(PreparedCase { case: new, images: sealed, event })
    }

    /// The pending queue visible to `r`, earliest due first.
    pub async fn queue(&self, r: &Reviewer) -> Result<Vec<CaseSummary>, ReviewError> {
        let now = self.clock.now_ms();
        let cases = self.store.pending_cases(r.site_id.as_deref(), 500).await?;
        Ok(cases.iter().map(|c| CaseSummary::of(c, now)).collect())
    }

    async fn visible_case(&self, r: &Reviewer, id: &str) -> Result<Case, ReviewError> {
        match self.store.case(id).await? {
            Some(c) if auth::can_see_site(r, &c.site_id) => Ok(c),
            _ => Err(ReviewError::NotFound),
        }
    }

    /// The case with its decrypted data and images; writes the audit entry (who, which case, which fields) first.
    pub async fn view(&self, r: &Reviewer, id: &str) -> Result<CaseView, ReviewError> {
        let case = self.visible_case(r, id).await?;
        let session = self.store.session(&case.session_id).await?;
        let images = self.store.case_images(id).await?;
        let mut fields: Vec<&str> = Vec::new();
        if let Some(s) = session.as_ref().and_then(|s| s.identity.as_ref()) {
            fields.extend(["name", "id_number"]);
            if s.phone.is_some() {
                fields.push("phone");
            }
            if s.email.is_some() {
                fields.push("email");
            }
        }
        fields.extend(images.iter().map(|i| i.kind.as_str()));
        self.audit(
            Event::new(format!("reviewer:{}", r.id), "review.case.viewed", format!("case:{}", case.id))
                .site(&case.site_id)
                .detail("session", &case.session_id)
                .detail("fields", fields.join(",")),
        )
        .await?;
        let identity = match session.as_ref().and_then(|s| s.identity.as_ref().map(|i| (s, i))) {
            Some((s, i)) => Some(self.vault.open_identity(&s.id, i).map_err(|_| ReviewError::Vault)?),
            None => None,
        };
        let mut views = Vec::with_capacity(images.len());
        for img in &images {
            let field = Field { table: "review_images", column: &img.kind, row: &case.id };
            let data = self.vault.open(field, &img.sealed).map_err(|_| ReviewError::Vault)?;
            views.push(ImageView {
                kind: img.kind.clone(),
                content_type: img.content_type.clone(),
                data: data.to_string(),
            });
        }
        let guardian_consent = if case.reasons.iter().any(|r| r == Reason::Minor.as_str()) {
            self.guardian_consent(&case.session_id).await?
        } else {
            None
        };
        Ok(CaseView {
            guardian_consent,
            case: CaseSummary::of(&case, self.clock.now_ms()),
            name: identity.as_ref().map(|i| i.name.clone()),
            id_number: identity.as_ref().map(|i| i.id_number.clone()),
            document_kind: session.as_ref().and_then(|s| s.document_kind.clone()),
            phone: identity.as_ref().and_then(|i| i.phone.clone()),
            email: identity.as_ref().and_then(|i| i.email.clone()),
            images: views,
        })
    }

    /// The latest guardian consent recorded for a session.
    async fn guardian_consent(&self, session: &str) -> Result<Option<GuardianConsent>, ReviewError> {
        let entries =
            self.store.audit_about(&format!("session:{session}"), "session.guardian_consent").await.map_err(|e| {
                tracing_error(&e.to_string());
                ReviewError::Audit
            })?;
        Ok(entries.last().map(|e| GuardianConsent {
            version: e.event.detail.get("version").cloned().unwrap_or_default(),
            accepted_at: e.event.detail.get("accepted_at").and_then(|a| a.parse().ok()).unwrap_or_default(),
            recorded_at: e.at,
            audit_seq: e.seq,
        }))
    }

    /// Approves or rejects a pending case with a reason code; the session follows, the hook fires.
    pub async fn decide(
        &self,
        r: &Reviewer,
        id: &str,
        approve: bool,
        reason_code: &str,
    ) -> Result<CaseSummary, ReviewError> {
        let codes = if approve { APPROVE_CODES } else { REJECT_CODES };
        if !codes.contains(&reason_code) {
            return Err(ReviewError::BadReason);
        }
        let case = self.visible_case(r, id).await?;
        let now = self.clock.now_ms();
        let status = if approve { CaseStatus::Approved } else { CaseStatus::Rejected };
        if !self.store.decide_case(id, status, &r.id, reason_code, now).await? {
            return Err(ReviewError::AlreadyDecided);
        }
        let action = if approve { "review.case.approved" } else { "review.case.rejected" };
        self.audit(
            Event::new(format!("reviewer:{}", r.id), action, format!("case:{id}"))
                .site(&case.site_id)
                .detail("session", &case.session_id)
                .detail("reason_code", reason_code),
        )
        .await?;
        if approve {
            self.bind_approved(&case, now).await?;
        }
        if let Some(session) = self.finish_session(&case.session_id, approve, reason_code, now).await? {
            self.hook.decided(&session).await;
        }
        self.metrics.review_decided(now < case.due_at);
        let case = self.store.case(id).await?.ok_or(ReviewError::NotFound)?;
        Ok(CaseSummary::of(&case, now))
    }

    /// An approved session's account is bound to its identity like any verified one on a site that limits
    /// accounts per identity, before the site can see `verified`. The reviewer's approval is what lets a
    /// `max_accounts` case past the limit, so the limit is not applied again here.
    async fn bind_approved(&self, case: &Case, now: i64) -> Result<(), ReviewError> {
        if self.sites.max_accounts(&case.site_id) == 0 {
            return Ok(());
        }
        let Some(s) = self.store.session(&case.session_id).await? else { return Ok(()) };
        let Some(blind) = s.blind_index.as_deref() else { return Ok(()) };
        let account = s.reference.clone().unwrap_or_else(|| s.id.clone());
        if self.store.bind_identity(&case.site_id, blind, &account, u32::MAX, now).await? {
            self.audit(
                Event::new("system", "binding.bound", format!("session:{}", s.id))
                    .site(&case.site_id)
                    .detail("by", "review")
                    .detail("case", &case.id),
            )
            .await?;
        }
        Ok(())
    }

    /// Moves the session to its final status (retrying on concurrent changes); `None` if it is already final.
    async fn finish_session(
        &self,
        id: &str,
        approve: bool,
        reason: &str,
        now: i64,
    ) -> Result<Option<Session>, ReviewError> {
        for _ in 0..5 {
            let Some(mut s) = self.store.session(id).await? else { return Ok(None) };
            let event = if approve { SessionEvent::Approved } else { SessionEvent::Rejected };
            if s.apply(event, now).is_err() {
                return Ok(None);
            }
            if approve {
                s.verified_at = Some(now);
                s.failure = None;
            } else {
                s.failure = Some(reason.to_owned());
            }
            match self.store.update_session(&s).await {
                Ok(s) => {
                    self.audit(
                        Event::new("system", format!("session.{}", s.status.as_str()), format!("session:{id}"))
                            .site(&s.site_id)
                            .detail("by", "review"),
                    )
                    .await?;
                    return Ok(Some(s));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Overview counts for the console and metrics.
    pub async fn counts(&self) -> Result<realname_store::review::QueueCounts, ReviewError> {
        Ok(self.store.queue_counts(self.clock.now_ms()).await?)
    }
}

fn tracing_error(msg: &str) {
    tracing::error!(error = msg, "audit append failed");
}
