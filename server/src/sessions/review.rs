//! What sends a session to a reviewer: the flags its number raises, and the move to `pending_review` with its
//! case in the queue.

use realname_core::validate;

use super::Sessions;
use super::error::ServiceResult;
use crate::review::{PreparedCase, Reason};
use realname_domain::audit::flow as audit;
use realname_domain::clock::UnixMillis;
use realname_domain::lifecycle::SessionEvent;
use realname_domain::session::Session;
use realname_store::WriteTx;

/// What the number says that a reviewer must look at (issue 5): a child under 14 (PIPL art. 31: their data is
/// sensitive and needs a guardian's consent) and a region or nationality code not in the table (a soft warning in
/// the browser). 14–17-year-olds consent themselves and are not flagged.
pub(super) fn number_flags(id: &validate::IdCheck) -> Vec<Reason> {
    let mut flags = Vec::new();
    if id.under_14 == Some(true) {
        flags.push(Reason::Minor);
    }
    let unknown = |i: &validate::Issue| {
        matches!(i.code, validate::IssueCode::UnknownRegion | validate::IssueCode::UnknownNationality)
    };
    if id.warnings.iter().any(unknown) {
        flags.push(Reason::UnknownRegion);
    }
    flags
}

impl Sessions {
    /// Moves a session to `pending_review` by `event` and writes its `case` ([`crate::review::Reviews::prepare`])
    /// in the step's transaction `tx` (with the step's earlier audit events, e.g. the guardian's consent and the
    /// checks), and commits: the session is in review with its case, or neither (issue 16). Returns the due
    /// instant (RFC 3339, UTC).
    pub(super) async fn queue_for_review(
        &self,
        mut tx: Box<dyn WriteTx>,
        session: &mut Session,
        event: SessionEvent,
        case: PreparedCase,
        before: Vec<realname_domain::audit::Event>,
        now: UnixMillis,
    ) -> ServiceResult<String> {
        session.apply(event, now)?;
        let reasons = case.case.reasons.join(",");
        *session = tx.update_session(session).await?;
        tx.create_case(&case.case, &case.images).await?;
        let mut events = before;
        events.push(audit::pending_review(session, &reasons));
        events.push(case.event);
        tx.audit_pending(now, &events).await?;
        tx.commit().await?;
        tracing::info!(session = %session.id, case = %case.case.id, reasons = %reasons, "queued for review");
        Ok(crate::delivery::utc_datetime(case.case.due_at.div_euclid(1000)).0)
    }
}
