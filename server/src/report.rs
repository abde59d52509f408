//! `realname-server report --month YYYY-MM`: the monthly supervision report (seed 第十一条) — volumes, pass
//! rates, review SLA compliance, complaints and how fast they were closed, and the audit chain's state.
//! Months are Beijing calendar months; times are counted in working days on the calendar.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use realname_domain::calendar::{Calendar, Date};
use realname_store::{Store, StoreError};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Bad arguments.
    #[error("{0}\nusage: realname-server report --month YYYY-MM [--config FILE]")]
    Usage(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A Beijing calendar month as `[from, to)` Unix ms, from `YYYY-MM`.
pub fn month_range(month: &str) -> Result<(Date, i64, i64), ReportError> {
    let bad = || ReportError::Usage(format!("--month wants YYYY-MM, got {month:?}"));
    let first: Date = format!("{month}-01").parse().map_err(|_| bad())?;
    if month.len() != 7 {
        return Err(bad());
    }
    let next = if first.month() == 12 {
        Date::new(first.year() + 1, 1, 1)
    } else {
        Date::new(first.year(), first.month() + 1, 1)
    }
    .ok_or_else(bad)?;
    Ok((first, first.beijing_midnight_unix() * 1000, next.beijing_midnight_unix() * 1000))
}

fn pct(part: usize, all: usize) -> String {
    if all == 0 { "—".into() } else { format!("{:.1}%", part as f64 * 100.0 / all as f64) }
}

fn median(mut v: Vec<u32>) -> String {
    if v.is_empty() {
        return "—".into();
    }
    v.sort_unstable();
    v[v.len() / 2].to_string()
}

/// Writes the report for `month` (`YYYY-MM`) as Markdown; `now` decides what is still pending/overdue.
pub async fn report(
    store: &dyn Store,
    calendar: &Calendar,
    month: &str,
    now: i64,
    (keys, checkpoints): (&crate::audit::cli::AuditKeys, &[realname_domain::audit::checkpoint::Checkpoint]),
) -> Result<String, ReportError> {
    let (first, from, to) = month_range(month)?;
    let mut out = String::new();
    let _ = writeln!(out, "# realname supervision report {:04}-{:02}\n", first.year(), first.month());
    let _ = writeln!(
        out,
        "Period: {first} to the end of the month, Beijing time. Working days per the calendar ({}).\n",
        calendar.official_years().iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
    );

    // Verifications.
    let counts = store.session_counts(from, to).await?;
    let mut by_method: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (method, status, n) in &counts {
        *by_method
            .entry(method.clone().unwrap_or_else(|| "none".into()))
            .or_default()
            .entry(status.clone())
            .or_default() += n;
    }
    let _ = writeln!(
        out,
        "## Verifications\n\n| method | sessions | verified | failed | rejected | other | pass rate |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    let (mut all, mut all_ok, mut all_decided) = (0u64, 0u64, 0u64);
    for (method, st) in &by_method {
        let total: u64 = st.values().sum();
        let g = |k: &str| st.get(k).copied().unwrap_or(0);
        let (ok, failed, rejected) = (g("verified"), g("failed"), g("rejected"));
        let decided = ok + failed + rejected;
        all += total;
        all_ok += ok;
        all_decided += decided;
        let _ = writeln!(
            out,
            "| {method} | {total} | {ok} | {failed} | {rejected} | {} | {} |",
            total - decided,
            pct(ok as usize, decided as usize)
        );
    }
    let _ = writeln!(out, "| **all** | {all} | {all_ok} | | | | {} |\n", pct(all_ok as usize, all_decided as usize));

    // Reviews.
    let cases = store.cases_submitted_between(from, to).await?;
    let decided: Vec<_> = cases.iter().filter(|c| c.decided_at.is_some() && c.status.as_str() != "erased").collect();
    let approved = decided.iter().filter(|c| c.status.as_str() == "approved").count();
    let on_time = decided.iter().filter(|c| !c.overdue(now)).count();
    let pending = cases.iter().filter(|c| c.status.as_str() == "pending").count();
    let overdue_pending = cases.iter().filter(|c| c.status.as_str() == "pending" && c.overdue(now)).count();
    let days: Vec<u32> = decided
        .iter()
        .filter_map(|c| c.decided_at.map(|d| calendar.working_days_between(c.submitted_at / 1000, d / 1000)))
        .collect();
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &cases {
        for r in &c.reasons {
            *reasons.entry(r.as_str()).or_default() += 1;
        }
    }
    let _ = writeln!(out, "## Reviews (due in 5 working days)\n");
    let _ = writeln!(out, "- submitted: {}", cases.len());
    let _ = writeln!(
        out,
        "- decided: {} (approved {approved}, rejected {}), approval rate {}",
        decided.len(),
        decided.len() - approved,
        pct(approved, decided.len())
    );
    let _ = writeln!(
        out,
        "- decided within the due date: {on_time} of {} — SLA compliance {}",
        decided.len(),
        pct(on_time, decided.len())
    );
    let _ = writeln!(out, "- median working days to a decision: {}", median(days));
    let _ = writeln!(out, "- still pending: {pending}, of which overdue: {overdue_pending}");
    let reasons: Vec<String> = reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(out, "- reasons: {}\n", if reasons.is_empty() { "—".into() } else { reasons.join(", ") });

    // Complaints.
    let complaints = store.complaints_filed_between(from, to).await?;
    let answered: Vec<_> = complaints.iter().filter(|c| c.answered_at.is_some()).collect();
    let answered_on_time = answered.iter().filter(|c| !c.overdue(now)).count();
    let closed: Vec<_> = complaints.iter().filter(|c| c.closed_at.is_some()).collect();
    let open_overdue =
        complaints.iter().filter(|c| c.closed_at.is_none() && c.answered_at.is_none() && c.overdue(now)).count();
    let close_days: Vec<u32> = closed
        .iter()
        .filter_map(|c| c.closed_at.map(|d| calendar.working_days_between(c.filed_at / 1000, d / 1000)))
        .collect();
    let mut cats: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &complaints {
        *cats.entry(c.category.as_str()).or_default() += 1;
    }
    let _ = writeln!(out, "## Complaints\n");
    let _ = writeln!(out, "- filed: {}", complaints.len());
    let cats: Vec<String> = cats.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(out, "- by category: {}", if cats.is_empty() { "—".into() } else { cats.join(", ") });
    let _ = writeln!(
        out,
        "- answered: {} — within the due date: {answered_on_time} ({})",
        answered.len(),
        pct(answered_on_time, answered.len())
    );
    let _ = writeln!(out, "- closed: {}, median working days to close: {}", closed.len(), median(close_days));
    let _ = writeln!(out, "- unanswered and overdue: {open_overdue}\n");

    // Audit.
    let _ = writeln!(out, "## Audit log\n");
    match crate::audit::cli::verify(store, keys, checkpoints).await {
        Ok(r) => {
            let _ = writeln!(
                out,
                "- chain intact: {} entries{}; {} signed checkpoints match it",
                r.verified.entries,
                r.head
                    .map(|h| format!(", head entry {} hash {}", h.seq, realname_domain::encoding::hex_encode(&h.hash)))
                    .unwrap_or_default(),
                r.checkpoints
            );
        }
        Err(e) => {
            let _ = writeln!(out, "- **chain NOT intact**: {e}");
        }
    }
    Ok(out)
}

/// `realname-server report --month YYYY-MM [--config FILE]`: prints the report; exit 2 on usage errors.
pub fn main(args: &[String]) -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("realname-server report: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    rt.block_on(async {
        let opened = crate::audit::cli::open_store(args)
            .await
            .and_then(|(store, cfg, rest)| Ok((store, crate::audit::cli::load_ring(&cfg)?, cfg, rest)));
        let (store, ring, config, rest) = match opened {
            Ok(x) => x,
            Err(e) => {
                eprintln!("realname-server report: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let month = match rest.as_slice() {
            [flag, m] if flag == "--month" => m.clone(),
            _ => {
                eprintln!("{}", ReportError::Usage("--month is required".into()));
                return std::process::ExitCode::from(2);
            }
        };
        let calendar = match Calendar::load(config.review.calendar_dir.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("realname-server report: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let now = realname_domain::clock::Clock::now_ms(&realname_domain::clock::SystemClock);
        let keys = crate::audit::cli::AuditKeys::of_ring(&ring);
        let checkpoints = match crate::audit::checkpoint::CheckpointFile::in_dir(&config.audit.checkpoint_dir).read() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("realname-server report: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        match report(store.as_ref(), &calendar, &month, now, (&keys, &checkpoints)).await {
            Ok(text) => {
                print!("{text}");
                std::process::ExitCode::SUCCESS
            }
            Err(e @ ReportError::Usage(_)) => {
                eprintln!("realname-server report: {e}");
                std::process::ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("realname-server report: {e}");
                std::process::ExitCode::from(1)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_beijing_months() {
        let (d, from, to) = month_range("2026-12").unwrap();
        assert_eq!(d.to_string(), "2026-12-01");
        assert_eq!(from, "2026-12-01".parse::<Date>().unwrap().beijing_midnight_unix() * 1000);
        assert_eq!(to, "2027-01-01".parse::<Date>().unwrap().beijing_midnight_unix() * 1000);
        for bad in ["2026-13", "2026", "2026-1", "26-01", "2026-01-01"] {
            assert!(month_range(bad).is_err(), "{bad}");
        }
    }
}
