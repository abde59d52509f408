//! The audit events of the verification flow (`session.*`), written by each request step as pending rows in
//! the step's own transaction (`realname_store::WriteTx::audit_pending`) and chained later by `realname_server::audit::chain`.
//!
//! Details are ids, the method, the document kind, statuses, reason codes and counts only: never a name, an
//! ID number, a phone number, an email address or a code.

use super::Event;
use crate::session::{Session, SessionStatus};

/// Subject of a session's events.
fn subject(id: &str) -> String {
    format!("session:{id}")
}

/// The guardian's consent for a child under 14 (version and time only), written by the step that stores the
/// child's identity.
pub fn guardian_consent(id: &str, site: &str, version: &str, accepted_at_secs: i64) -> Event {
    Event::new("person", "session.guardian_consent", subject(id))
        .site(site)
        .detail("version", version)
        .detail("accepted_at", accepted_at_secs.to_string())
}

/// An event about `session`, acting `actor`, with its new status (and method and document kind once chosen).
fn about(actor: &str, action: &str, s: &Session) -> Event {
    let mut e = Event::new(actor, action, subject(&s.id)).site(&s.site_id).detail("status", s.status.as_str());
    if s.status != SessionStatus::Created
        && let Some(m) = s.methods.to_stored()
    {
        e = e.detail("method", m);
    }
    if let Some(k) = &s.document_kind {
        e = e.detail("document_kind", k);
    }
    e
}

/// `session.created`: the site (by its secret or publishable key) opened a session offering `methods`.
pub fn created(id: &str, site: &str, methods: &str) -> Event {
    Event::new(format!("site:{site}"), "session.created", subject(id))
        .site(site)
        .detail("status", "created")
        .detail("methods", methods)
}

/// `session.identity_submitted`: the sealed identity was accepted and stored (method, document kind).
pub fn identity_submitted(s: &Session) -> Event {
    about("person", "session.identity_submitted", s).detail("status", "submitted")
}

/// `session.code_sent` (or `session.code_resent`): a code was issued on `channel`.
pub fn code_sent(s: &Session, channel: &str, resend: bool) -> Event {
    about("person", if resend { "session.code_resent" } else { "session.code_sent" }, s).detail("channel", channel)
}

/// `session.code_refused`: a sending limit refused the code (`reason` is the stable error code).
pub fn code_refused(s: &Session, reason: &str) -> Event {
    about("person", "session.code_refused", s).detail("reason", reason)
}

/// `session.code_delivery_failed`: the provider did not take the code; the session went back to `status`.
pub fn code_delivery_failed(s: &Session) -> Event {
    about("system", "session.code_delivery_failed", s)
}

/// `session.code_failed`: a wrong code, `attempts` counted so far, `attempts_left`.
pub fn code_failed(s: &Session, attempts: u32, attempts_left: u32) -> Event {
    about("person", "session.code_failed", s)
        .detail("attempts", attempts.to_string())
        .detail("attempts_left", attempts_left.to_string())
}

/// `session.checked`: an authoritative check ran (check, provider, outcome, latency; never what was checked).
pub fn checked(s: &Session, r: &crate::checks::CheckRecord) -> Event {
    Event::new("system", "session.checked", subject(&s.id))
        .site(&s.site_id)
        .detail("check", r.check.as_str())
        .detail("provider", r.provider.as_str())
        .detail("outcome", r.outcome.as_str())
        .detail("latency_ms", r.latency_ms.to_string())
}

/// `session.failed`: the session ended unverified (`reason`, e.g. `code_locked`).
pub fn failed(s: &Session, reason: &str) -> Event {
    about("person", "session.failed", s).detail("reason", reason)
}

/// `session.handoff_created`: a handoff code was made for the session (docs/protocol.md 4.13; never the code).
pub fn handoff_created(s: &Session) -> Event {
    about("person", "session.handoff_created", s)
}

/// `session.handed_off`: another device redeemed a handoff code and carries the session on with its own secret.
pub fn handed_off(s: &Session) -> Event {
    about("person", "session.handed_off", s)
}

/// `session.verified`.
pub fn verified(s: &Session) -> Event {
    about("person", "session.verified", s)
}

/// `session.canceled`: `actor` (`person` in the widget, or `site:<id>`) cancelled the session.
pub fn canceled(s: &Session, actor: &str) -> Event {
    about(actor, "session.canceled", s)
}

/// `session.pending_review`: the session went to a reviewer for `reasons` (reason codes, comma-separated).
pub fn pending_review(s: &Session, reasons: &str) -> Event {
    about("person", "session.pending_review", s).detail("reasons", reasons)
}

/// `session.expired`: the session timed out unfinished; `by` is `request` (noticed by a request) or `ttl` (the
/// purge sweep).
pub fn expired(id: &str, site: &str, by: &str) -> Event {
    Event::new("system", "session.expired", subject(id)).site(site).detail("status", "expired").detail("by", by)
}
