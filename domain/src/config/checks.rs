//! Authoritative checks (issue 17): the `[checks]` section (timeout and the limits against enumeration) and a
//! site's `[[sites.checks]]` entries (which check, which provider, what to do without an answer).

use realname_core::protocol::Check;
use serde::{Deserialize, Serialize};

/// The providers this server implements (`server/src/checks/`); a site's `provider` must name one.
pub const CHECK_PROVIDERS: &[&str] = &["demo"];

/// Timeout and limits of every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChecksConfig {
    /// How long one provider call may take before its outcome is `unavailable`, milliseconds.
    pub timeout_ms: u64,
    /// Refusals (mismatch, no record) one session allows; the last one fails the session.
    pub corrections_per_session: u32,
    /// Mismatches one ID number may collect per UTC day, over every site, before it is not checked again that
    /// day (keyed by its blind index: nobody can try names against a number).
    pub mismatches_per_identity_day: u64,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        Self { timeout_ms: 3000, corrections_per_session: 3, mismatches_per_identity_day: 5 }
    }
}

/// What the flow does when a check has no answer (`no_record`, `unavailable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckPolicy {
    /// Refuse the identity step (`identity_no_record`, or `check_unavailable` to retry later).
    Refuse,
    /// Go on and send the session to the review queue (reason `check_unavailable`).
    #[default]
    Review,
}

/// One check a site runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteCheck {
    /// The check.
    pub check: Check,
    /// The provider that answers it (one of [`CHECK_PROVIDERS`]).
    pub provider: String,
    /// What to do with `no_record` or `unavailable`.
    #[serde(default)]
    pub unavailable: CheckPolicy,
}
