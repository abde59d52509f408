//! The authoritative checks a session went through (issue 17): each one's outcome, provider, time and latency,
//! stored on the session row (the `checks` column) and shown to the site. Nothing of what was checked is kept.

use realname_core::protocol::{Check, CheckOutcome, CheckResult};

use crate::clock::UnixMillis;

/// One check run for a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRecord {
    /// The check.
    pub check: Check,
    /// What it found.
    pub outcome: CheckOutcome,
    /// The provider's configured name (`[a-z0-9_]`).
    pub provider: String,
    /// When it was answered.
    pub at: UnixMillis,
    /// How long the provider took, milliseconds (0 when nothing was asked).
    pub latency_ms: i64,
}

impl CheckRecord {
    /// The site's view of it.
    pub fn result(&self) -> CheckResult {
        CheckResult {
            check: self.check,
            outcome: self.outcome,
            provider: self.provider.clone(),
            at: self.at.div_euclid(1000),
        }
    }

    /// The stored form of a session's checks: `check:outcome:provider:at:latency` joined by `;`; `None` for none.
    pub fn to_stored(records: &[CheckRecord]) -> Option<String> {
        if records.is_empty() {
            return None;
        }
        let items: Vec<String> = records
            .iter()
            .map(|r| format!("{}:{}:{}:{}:{}", r.check.as_str(), r.outcome.as_str(), r.provider, r.at, r.latency_ms))
            .collect();
        Some(items.join(";"))
    }

    /// The checks of the stored column; items this version cannot read are skipped (as unknown methods are).
    pub fn from_stored(stored: Option<&str>) -> Vec<CheckRecord> {
        let Some(s) = stored else { return Vec::new() };
        s.split(';')
            .filter_map(|item| {
                let mut f = item.split(':');
                Some(CheckRecord {
                    check: Check::parse(f.next()?)?,
                    outcome: CheckOutcome::parse(f.next()?)?,
                    provider: f.next()?.to_owned(),
                    at: f.next()?.parse().ok()?,
                    latency_ms: f.next()?.parse().ok()?,
                })
            })
            .collect()
    }
}

/// The latest outcome of `check` among `records`, if it ran.
pub fn latest(records: &[CheckRecord], check: Check) -> Option<CheckOutcome> {
    records.iter().rev().find(|r| r.check == check).map(|r| r.outcome)
}

/// How many of `records` refused the person's identity as typed (a mismatch or no record): the corrections a
/// session has used.
pub fn corrections(records: &[CheckRecord]) -> u32 {
    let n = records.iter().filter(|r| matches!(r.outcome, CheckOutcome::Mismatch | CheckOutcome::NoRecord)).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_the_stored_column() {
        let records = vec![
            CheckRecord {
                check: Check::IdMatch,
                outcome: CheckOutcome::Mismatch,
                provider: "demo".into(),
                at: 1_790_812_800_123,
                latency_ms: 12,
            },
            CheckRecord {
                check: Check::IdMatch,
                outcome: CheckOutcome::Match,
                provider: "demo".into(),
                at: 1_790_812_860_000,
                latency_ms: 0,
            },
        ];
        let stored = CheckRecord::to_stored(&records);
        assert_eq!(
            stored.as_deref(),
            Some("id_match:mismatch:demo:1790812800123:12;id_match:match:demo:1790812860000:0")
        );
        assert_eq!(CheckRecord::from_stored(stored.as_deref()), records);
        assert_eq!(CheckRecord::to_stored(&[]), None);
        assert!(CheckRecord::from_stored(None).is_empty());
        assert_eq!(CheckRecord::from_stored(Some("face_match:match:x:1:0;id_match:maybe:x:1:0")), Vec::new());
        assert_eq!(latest(&records, Check::IdMatch), Some(CheckOutcome::Match));
        assert_eq!(corrections(&records), 1);
        assert_eq!(records[0].result().at, 1_790_812_800);
    }
}
