//! Data lifecycle (PIPL art. 19, 47): images deleted N days after the decision by an idempotent purge job, and
//! deletion on request, which wipes a person's data and leaves an audit entry without personal data.

use serde::Serialize;

use super::{ReviewError, Reviews};
use realname_domain::audit::Event;

/// What a deletion request removed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Erasure {
    /// The session.
    pub session_id: String,
    /// Whether identity data was still there and is now wiped.
    pub identity_wiped: bool,
    /// The review case whose images were deleted, if any.
    pub case_id: Option<String>,
    /// Complaints whose text was deleted.
    pub complaints: Vec<String>,
}

impl Reviews {
    /// Deletes the images of cases decided more than `image_retention_days` ago; one audit entry per case.
    /// Running it again finds nothing (idempotent).
    pub async fn purge_images(&self) -> Result<u64, ReviewError> {
        let now = self.clock.now_ms();
        let cutoff = now - i64::from(self.config.image_retention_days) * 86_400_000;
        let purged = self.store.purge_case_images(cutoff, now).await?;
        if !purged.is_empty() {
            self.flush_erased().await;
        }
        for c in &purged {
            self.audit(
                Event::new("system", "retention.images_purged", format!("case:{}", c.id))
                    .site(&c.site_id)
                    .detail("retention_days", self.config.image_retention_days.to_string()),
            )
            .await?;
        }
        Ok(purged.len() as u64)
    }

    /// Deletes the personal data of a session on request: sealed identity, identity binding, case images,
    /// complaint texts. `site` restricts it to one site's sessions (the site API); `actor` is who asked.
    pub async fn erase_session(
        &self,
        actor: &str,
        site: Option<&str>,
        session_id: &str,
    ) -> Result<Erasure, ReviewError> {
        let session = match self.store.session(session_id).await? {
            Some(s) if site.is_none_or(|x| x == s.site_id) => s,
            _ => return Err(ReviewError::NotFound),
        };
        let now = self.clock.now_ms();
        if let Some(blind) = &session.blind_index {
            let account = session.reference.clone().unwrap_or_else(|| session.id.clone());
            self.store.unbind_identity(&session.site_id, blind, &account).await?;
        }
        let identity_wiped = self.store.erase_identity(&session.id, now).await?;
        let case_id = match self.store.case_for_session(&session.id).await? {
            Some(c) => {
                self.store.erase_case(&c.id, now).await?;
                Some(c.id)
            }
            None => None,
        };
        let complaints = self.store.erase_complaints_of_session(&session.id).await?;
        self.audit(
            Event::new(actor, "erasure.completed", format!("session:{}", session.id))
                .site(&session.site_id)
                .detail("identity", if identity_wiped { "wiped" } else { "none" })
                .detail("case", case_id.clone().unwrap_or_default())
                .detail("complaints", complaints.len().to_string()),
        )
        .await?;
        self.flush_erased().await;
        Ok(Erasure { session_id: session.id, identity_wiped, case_id, complaints })
    }

    /// Flushes what was just erased out of the database files (see `Maintenance::flush_erased`). The erasure
    /// itself is done and answered either way; a flush that could not finish is logged and the next one
    /// (the purge runs every minute) covers it.
    async fn flush_erased(&self) {
        match self.store.flush_erased().await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("erased data may stay in the SQLite WAL until the next flush: readers kept it busy")
            }
            Err(e) => tracing::warn!(error = %e, "flushing erased data out of the database files failed"),
        }
    }
}
