//! Prometheus metrics (`GET /metrics`, text format 0.0.4): counters the server bumps as things happen (including
//! reviews and complaint answers, on time or late: the SLA ratios are Prometheus queries over them), and four gauges
//! of open work (queue length, overdue reviews and complaints) read from the database by two indexed counts. A
//! scrape never reads the history, so its cost does not grow with the data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Upper bounds (seconds) of the completion-time histogram buckets.
pub const DURATION_BUCKETS: &[f64] = &[10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 86_400.0, 432_000.0];

/// Upper bounds (seconds) of the identity checks' call-latency histogram buckets.
pub const CHECK_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0];

#[derive(Debug, Default)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; bounds.len()];
        }
        for (i, le) in bounds.iter().enumerate() {
            if value <= *le {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += value.max(0.0);
    }

    /// Writes the histogram's lines for `name` with the label `key="value"`.
    fn render(&self, out: &mut String, name: &str, bounds: &[f64], key: &str, value: &str) {
        for (le, n) in bounds.iter().zip(&self.buckets) {
            let _ = writeln!(out, "{name}_bucket{{{key}=\"{value}\",le=\"{le}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{key}=\"{value}\",le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{key}=\"{value}\"}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{key}=\"{value}\"}} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    sessions: BTreeMap<(String, String), u64>,
    durations: BTreeMap<String, Histogram>,
    codes: BTreeMap<String, u64>,
    refusals: BTreeMap<String, u64>,
    /// Reviews decided, by whether on time.
    decided: [u64; 2],
    /// Complaints answered (first answer), by whether on time.
    answered: [u64; 2],
    /// Identity checks by (check, provider, outcome).
    checks: BTreeMap<(String, String, String), u64>,
    /// Identity check calls' latency by provider.
    check_latency: BTreeMap<String, Histogram>,
    /// Identity check call events by (provider, event).
    check_events: BTreeMap<(String, String), u64>,
}

/// The process's counters; one per server, shared by handlers (`Arc<Metrics>`).
#[derive(Debug, Default)]
pub struct Metrics(Mutex<Inner>);

/// Gauges read from the database for one scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Gauges {
    /// Cases waiting for review.
    pub review_queue: u64,
    /// Of those, past due.
    pub review_overdue: u64,
    /// Complaints not closed.
    pub complaints_open: u64,
    /// Of those, unanswered past due.
    pub complaints_overdue: u64,
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A session reached a final `outcome` (`verified`, `failed`, `rejected`, `canceled`, `expired`) after
    /// `seconds` from creation.
    pub fn session_finished(&self, method: &str, outcome: &str, seconds: f64) {
        let mut m = self.inner();
        *m.sessions.entry((method.to_owned(), outcome.to_owned())).or_default() += 1;
        m.durations.entry(method.to_owned()).or_default().observe(DURATION_BUCKETS, seconds);
    }

    /// An identity check ended with `outcome` (every check, asked, cached or not applicable).
    pub fn check_done(&self, check: &str, provider: &str, outcome: &str) {
        let key = (check.to_owned(), provider.to_owned(), outcome.to_owned());
        *self.inner().checks.entry(key).or_default() += 1;
    }

    /// A call to `provider` (its retries included) took `seconds`.
    pub fn check_latency(&self, provider: &str, seconds: f64) {
        self.inner().check_latency.entry(provider.to_owned()).or_default().observe(CHECK_BUCKETS, seconds);
    }

    /// Something happened to `provider`'s calls: `retry`, `breaker_opened`, `short_circuited`, `cache_hit`.
    pub fn check_event(&self, provider: &str, event: &str) {
        *self.inner().check_events.entry((provider.to_owned(), event.to_owned())).or_default() += 1;
    }

    /// A one-time code was handed to the `channel` (`sms`, `email`).
    pub fn code_sent(&self, channel: &str) {
        *self.inner().codes.entry(channel.to_owned()).or_default() += 1;
    }

    /// A request was refused by the rate limit `scope` (`destination`, `ip`, `session`, …).
    pub fn rate_limited(&self, scope: &str) {
        *self.inner().refusals.entry(scope.to_owned()).or_default() += 1;
    }

    /// A reviewer decided a case, by its due time or late.
    pub fn review_decided(&self, on_time: bool) {
        self.inner().decided[usize::from(on_time)] += 1;
    }

    /// A complaint got its first answer, by its due time or late.
    pub fn complaint_answered(&self, on_time: bool) {
        self.inner().answered[usize::from(on_time)] += 1;
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self, g: &Gauges) -> String {
        let m = self.inner();
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP realname_sessions_finished_total Sessions that reached a final status, by method and outcome."
        );
        let _ = writeln!(out, "# TYPE realname_sessions_finished_total counter");
        for ((method, outcome), n) in &m.sessions {
            let _ = writeln!(
                out,
                "realname_sessions_finished_total{{method=\"{}\",outcome=\"{}\"}} {n}",
                label(method),
                label(outcome)
            );
        }
        let passed: u64 = m.sessions.iter().filter(|((_, o), _)| o == "verified").map(|(_, n)| n).sum();
        let decided: u64 = m
            .sessions
            .iter()
            .filter(|((_, o), _)| matches!(o.as_str(), "verified" | "failed" | "rejected"))
            .map(|(_, n)| n)
            .sum();
        let _ = writeln!(
            out,
            "# HELP realname_pass_rate Verified sessions over verified + failed + rejected since start (NaN before any)."
        );
        let _ = writeln!(out, "# TYPE realname_pass_rate gauge");
        let rate = if decided == 0 { f64::NAN } else { passed as f64 / decided as f64 };
        let _ = writeln!(out, "realname_pass_rate {rate}");
        let _ =
            writeln!(out, "# HELP realname_session_duration_seconds Time from session creation to its final status.");
        let _ = writeln!(out, "# TYPE realname_session_duration_seconds histogram");
        for (method, h) in &m.durations {
            h.render(&mut out, "realname_session_duration_seconds", DURATION_BUCKETS, "method", &label(method));
        }
        let _ = writeln!(
            out,
            "# HELP realname_checks_total Identity checks by check, provider and outcome.\n# TYPE realname_checks_total counter"
        );
        for ((check, provider, outcome), n) in &m.checks {
            let (c, p, o) = (label(check), label(provider), label(outcome));
            let _ = writeln!(out, "realname_checks_total{{check=\"{c}\",provider=\"{p}\",outcome=\"{o}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP realname_check_latency_seconds Identity check calls to a provider, retries included.\n# TYPE realname_check_latency_seconds histogram"
        );
        for (provider, h) in &m.check_latency {
            h.render(&mut out, "realname_check_latency_seconds", CHECK_BUCKETS, "provider", &label(provider));
        }
        let _ = writeln!(
            out,
            "# HELP realname_check_events_total Retries, breaker openings, calls refused by an open breaker, cache hits.\n# TYPE realname_check_events_total counter"
        );
        for ((provider, event), n) in &m.check_events {
            let (p, e) = (label(provider), label(event));
            let _ = writeln!(out, "realname_check_events_total{{provider=\"{p}\",event=\"{e}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP realname_codes_sent_total One-time codes handed to a delivery channel.");
        let _ = writeln!(out, "# TYPE realname_codes_sent_total counter");
        for (ch, n) in &m.codes {
            let _ = writeln!(out, "realname_codes_sent_total{{channel=\"{}\"}} {n}", label(ch));
        }
        let _ = writeln!(out, "# HELP realname_rate_limit_refusals_total Requests refused by a rate limit.");
        let _ = writeln!(out, "# TYPE realname_rate_limit_refusals_total counter");
        for (scope, n) in &m.refusals {
            let _ = writeln!(out, "realname_rate_limit_refusals_total{{scope=\"{}\"}} {n}", label(scope));
        }
        for (name, help, counts) in [
            ("realname_reviews_decided_total", "Reviews decided, by whether by their due time.", m.decided),
            ("realname_complaints_answered_total", "Complaints answered, by whether by their due time.", m.answered),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ =
                writeln!(out, "{name}{{on_time=\"true\"}} {}\n{name}{{on_time=\"false\"}} {}", counts[1], counts[0]);
        }
        let gauges: [(&str, &str, f64); 4] = [
            ("realname_review_queue_length", "Cases waiting for a reviewer.", g.review_queue as f64),
            ("realname_review_overdue", "Pending cases past their due time (5 working days).", g.review_overdue as f64),
            ("realname_complaints_open", "Complaints not closed.", g.complaints_open as f64),
            ("realname_complaints_overdue", "Unanswered complaints past their due time.", g.complaints_overdue as f64),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

impl Metrics {
    /// Counts a session reaching a final status at `now` (called where its webhook event is raised, whether or not
    /// the site has a webhook URL, so every outcome is counted exactly once).
    pub fn observe_outcome(
        &self,
        session: &realname_domain::session::Session,
        kind: realname_core::protocol::EventType,
        now: realname_domain::clock::UnixMillis,
    ) {
        use realname_core::protocol::EventType;
        let outcome = match kind {
            EventType::Verified => "verified",
            EventType::Failed => "failed",
            EventType::Rejected => "rejected",
            EventType::Canceled => "canceled",
            EventType::CodeSent => return,
        };
        let secs = (now - session.created_at).max(0) as f64 / 1000.0;
        self.session_finished(session.methods.to_stored().as_deref().unwrap_or("none"), outcome, secs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histogram_and_gauges() {
        let m = Metrics::default();
        m.session_finished("sms", "verified", 42.0);
        m.session_finished("sms", "failed", 5.0);
        m.session_finished("documents", "verified", 7200.0);
        m.code_sent("sms");
        m.code_sent("sms");
        m.rate_limited("destination");
        m.review_decided(true);
        m.review_decided(false);
        m.review_decided(false);
        m.complaint_answered(true);
        let g = Gauges { review_queue: 3, review_overdue: 1, ..Gauges::default() };
        let text = m.render(&g);
        assert!(text.contains("realname_sessions_finished_total{method=\"sms\",outcome=\"verified\"} 1"));
        assert!(text.contains("realname_pass_rate 0.6666666666666666"));
        assert!(text.contains("realname_session_duration_seconds_bucket{method=\"sms\",le=\"60\"} 2"));
        assert!(text.contains("realname_session_duration_seconds_bucket{method=\"sms\",le=\"10\"} 1"));
        assert!(text.contains("realname_session_duration_seconds_bucket{method=\"documents\",le=\"3600\"} 0"));
        assert!(text.contains("realname_codes_sent_total{channel=\"sms\"} 2"));
        assert!(text.contains("realname_rate_limit_refusals_total{scope=\"destination\"} 1"));
        assert!(text.contains("realname_review_queue_length 3\n"));
        assert!(text.contains("realname_reviews_decided_total{on_time=\"true\"} 1\n"), "{text}");
        assert!(text.contains("realname_reviews_decided_total{on_time=\"false\"} 2\n"), "{text}");
        assert!(text.contains("realname_complaints_answered_total{on_time=\"true\"} 1\n"), "{text}");
        assert!(text.contains("realname_session_duration_seconds_count{method=\"sms\"} 2\n"), "{text}");
    }

    #[test]
    fn renders_the_checks_counters_and_latency() {
        let m = Metrics::default();
        m.check_done("id_match", "tencent", "match");
        m.check_done("id_match", "tencent", "match");
        m.check_done("phone_owner", "aliyun", "unavailable");
        m.check_latency("tencent", 0.2);
        m.check_latency("tencent", 4.0);
        m.check_event("aliyun", "breaker_opened");
        let text = m.render(&Gauges::default());
        assert!(text.contains("realname_checks_total{check=\"id_match\",provider=\"tencent\",outcome=\"match\"} 2\n"));
        assert!(
            text.contains(
                "realname_checks_total{check=\"phone_owner\",provider=\"aliyun\",outcome=\"unavailable\"} 1\n"
            )
        );
        assert!(text.contains("realname_check_latency_seconds_bucket{provider=\"tencent\",le=\"0.25\"} 1\n"), "{text}");
        assert!(text.contains("realname_check_latency_seconds_bucket{provider=\"tencent\",le=\"5\"} 2\n"), "{text}");
        assert!(text.contains("realname_check_latency_seconds_count{provider=\"tencent\"} 2\n"), "{text}");
        assert!(text.contains("realname_check_events_total{provider=\"aliyun\",event=\"breaker_opened\"} 1\n"));
    }
}
