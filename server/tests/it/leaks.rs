//! The data-protection check: run complete flows (SMS and email, a wrong code, a resend, a webhook), then
//! search the database (files or tables) and every captured log line for the plaintext name, ID number,
//! phone, email and codes. None may appear.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::harness::*;
use realname_domain::clock::Clock as _;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where the log lines of this thread go while a test captures them.
    static SINK: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// The global subscriber's writer: appends to the calling thread's capture, if any.
struct ThreadSink;

impl Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|s| {
            if let Some(c) = s.borrow().as_ref() {
                c.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `body` on a current-thread runtime with a TRACE-level JSON subscriber capturing everything it logs.
///
/// The subscriber is the process's global one, installed once, and the capture is per thread: with a scoped
/// subscriber per test (`set_default`), tracing's cached callsite interest raced between the tests running in
/// parallel, and a test sometimes captured no `info` line at all.
fn with_captured_logs(body: impl std::future::Future<Output = Vec<String>>) -> (String, Vec<String>) {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .without_time()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| ThreadSink)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in the tests");
    });
    let logs = Captured::default();
    SINK.with(|s| *s.borrow_mut() = Some(logs.clone()));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let secrets = rt.block_on(body);
    drop(rt);
    SINK.with(|s| *s.borrow_mut() = None);
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    (text, secrets)
}

async fn flows(b: Backend) -> (String, Vec<String>) {
    let h = Harness::new(b).await;
    let mut codes = Vec::new();
    // SMS with a wrong code, a resend and the right code.
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let first = h.last_code();
    codes.push(first.clone());
    let wrong = if first == "000000" { "999999" } else { "000000" };
    assert_eq!(h.submit_code(&s, wrong).await.code(), "code_invalid");
    h.clock.advance_secs(61);
    assert_eq!(h.widget_post(&s, "resend", None, "198.51.100.7").await.status, StatusCode::OK);
    codes.push(h.last_code());
    assert_eq!(h.submit_code(&s, &h.last_code()).await.status, StatusCode::OK);
    // Email.
    let e = h.create_session().await;
    assert_eq!(h.submit_identity(&e, &identity_email(EMAIL, h.clock.now_secs())).await.status, StatusCode::OK);
    codes.push(h.last_code());
    assert_eq!(h.submit_code(&e, &h.last_code()).await.status, StatusCode::OK);
    // The site reads both results.
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "verified");
    assert_eq!(h.site_view(&e.session_id).await.json["status"], "verified");
    // Identity checks (another instance on the same database whose site runs the demo provider): a mismatch
    // (the demo records the number under another name), then a provider without an answer, sent to review.
    let c = Harness::with(h.backend.second().await, |cfg| {
        cfg.sites[0].checks = vec![realname_domain::config::SiteCheck {
            check: realname_core::protocol::Check::IdMatch,
            provider: "demo".into(),
            unavailable: realname_domain::config::CheckPolicy::Review,
        }];
    })
    .await;
    // Its clock and randomness start as the first one's: an hour later, its session ids differ.
    c.clock.advance_secs(3600);
    let m = c.create_session().await;
    let r = c.submit_identity(&m, &identity_sms(PHONE, c.clock.now_secs())).await;
    assert_eq!(r.code(), "identity_mismatch", "{}", r.json);
    let u = c.create_session().await;
    let mut failing = identity_email(EMAIL, c.clock.now_secs());
    failing["number"] = serde_json::json!("110105197007070058");
    assert_eq!(c.submit_identity(&u, &failing).await.status, StatusCode::OK);
    codes.push(c.last_code());
    assert_eq!(c.submit_code(&u, &c.last_code()).await.json["status"], "pending_review");
    // The vendors (fakes), whose error messages repeat what they were sent: an error answer goes to review, a
    // phone registered to someone else is refused, retries and the result cache run.
    let echo = format!("{NAME} {ID_NUMBER} {PHONE}");
    let vclock = realname_domain::clock::ManualClock::new(T0 + 7_200_000);
    let tencent_error =
        format!(r#"{{"Response":{{"Error":{{"Code":"InvalidParameterValue","Message":"{echo}"}},"RequestId":"r"}}}}"#);
    let t = crate::vendors::fake::tencent(
        vclock.clone(),
        crate::vendors::answer(move |_| crate::vendors::fake::Reply::ok(tencent_error.clone())),
    )
    .await;
    let aliyun_mismatch =
        format!(r#"{{"RequestId":"r","Code":"200","Message":"{echo}","ResultObject":{{"BizCode":"2"}}}}"#);
    let a = crate::vendors::fake::aliyun(
        vclock,
        crate::vendors::answer(move |_| crate::vendors::fake::Reply::ok(aliyun_mismatch.clone())),
    )
    .await;
    let v = Harness::with(h.backend.second().await, |cfg| {
        use realname_core::protocol::Check;
        use realname_domain::config::{CheckPolicy, SiteCheck};
        crate::vendors::vendor_checks(&mut cfg.checks, &t.url, &a.url);
        cfg.checks.cache_ttl_secs = 600;
        cfg.sites[0].checks = vec![
            SiteCheck { check: Check::IdMatch, provider: "tencent".into(), unavailable: CheckPolicy::Review },
            SiteCheck { check: Check::PhoneOwner, provider: "aliyun".into(), unavailable: CheckPolicy::Review },
        ];
    })
    .await;
    v.clock.advance_secs(7200);
    let w = v.create_session().await;
    let r = v.submit_identity(&w, &identity_sms(PHONE, v.clock.now_secs())).await;
    assert_eq!(r.code(), "phone_mismatch", "{}", r.json);
    let r = v.submit_identity(&w, &identity_sms(PHONE, v.clock.now_secs())).await;
    assert_eq!(r.code(), "phone_mismatch", "{}", r.json);
    assert_eq!(a.calls(), 1, "the second answer came from the cache");
    t.assert_clean();
    a.assert_clean();
    (h.backend.raw_contents().await, codes)
}

fn assert_no_plaintext(where_: &str, haystack: &str, codes: &[String]) {
    let lower = haystack.to_lowercase();
    for needle in [NAME, ID_NUMBER, PHONE, EMAIL] {
        assert!(!haystack.contains(needle), "{where_} contains {needle}");
        assert!(!lower.contains(&needle.to_lowercase()), "{where_} contains {needle} (any case)");
    }
    for code in codes {
        assert!(!haystack.contains(code.as_str()), "{where_} contains the code {code}");
    }
}

#[test]
fn no_plaintext_in_database_or_logs_sqlite() {
    let mut db = String::new();
    let (logs, codes) = with_captured_logs(async {
        let (raw, codes) = flows(Backend::sqlite().await).await;
        db = raw;
        codes
    });
    assert!(db.len() > 10_000, "the database files were read");
    assert!(logs.contains("session verified") && logs.contains("139****5678"), "logs were captured");
    assert_no_plaintext("the SQLite files", &db, &codes);
    assert_no_plaintext("the logs", &logs, &codes);
}

#[test]
fn no_plaintext_in_database_or_logs_postgres() {
    let mut db = String::new();
    let (logs, codes) = with_captured_logs(async {
        let Some(b) = Backend::postgres("no_plaintext_flows").await else { return Vec::new() };
        let (raw, codes) = flows(b).await;
        db = raw;
        codes
    });
    if codes.is_empty() {
        return; // PostgreSQL not configured and not required (see Backend::postgres).
    }
    assert!(logs.contains("session verified"), "logs were captured");
    assert_no_plaintext("the PostgreSQL tables", &db, &codes);
    assert_no_plaintext("the logs", &logs, &codes);
}

/// An internal error's cause goes to the log once, written by the request middleware with the route, and never
/// to the client, which gets the stable `internal` code.
#[test]
fn an_internal_cause_is_logged_by_the_middleware_and_not_answered() {
    let (logs, _) = with_captured_logs(async {
        let h = Harness::new(Backend::sqlite().await).await;
        let s = h.create_session().await;
        assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
        // A stored name that no key opens: the site's view of the session fails inside.
        let mut stored = h.state.store.session(&s.session_id).await.unwrap().unwrap();
        let identity = stored.identity.as_mut().unwrap();
        identity.name = realname_domain::vault::Sealed::from_stored(vec![1, 0, 0, 0, 9, 9, 9]);
        h.state.store.update_session(&stored).await.unwrap();
        let r = h.site_view(&s.session_id).await;
        assert_eq!((r.status, r.code()), (StatusCode::INTERNAL_SERVER_ERROR, "internal"), "{}", r.json);
        assert!(!r.json.to_string().contains("vault"), "the cause reached the client: {}", r.json);
        Vec::new()
    });
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains("internal error:")).collect();
    assert_eq!(lines.len(), 1, "logged once: {logs}");
    assert!(lines[0].contains("request failed") && lines[0].contains("/v1/sessions/{id}"), "{}", lines[0]);
}
