//! Limits that must not be turned against people (issue 16): refused sends spend no one's quota, days are Beijing
//! days, refusals are bounded per address and destination, the resend cooldown holds under concurrency, a
//! client-chosen `X-Forwarded-For` entry does not dodge the per-IP limit, refused requests write nothing, and
//! every integer a client sends is range-checked.
//! Every case runs on SQLite and PostgreSQL; the clock moves, nothing sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use realname_core::protocol::{ErrorCode, Method, Step};
use realname_core::validate::check_char;
use serde_json::{Value, json};

use crate::harness::*;
use realname_domain::clock::Clock as _;
use realname_server::delivery::{CodeMessage, DeliveryError, Sender};

on_both_backends!(
    a_client_chosen_forwarded_entry_does_not_dodge_the_ip_limit,
    an_identity_resent_at_code_sent_writes_nothing,
    every_client_integer_is_range_checked,
    refused_sends_do_not_spend_a_phone_quota,
    the_day_limit_is_the_beijing_day,
    refusals_past_their_bound_write_nothing,
    concurrent_resends_send_one_code,
    a_failed_delivery_gives_its_count_back,
);

fn phone(n: u32) -> String {
    format!("139{n:08}")
}

/// Behind one trusted proxy the client's address is the entry that proxy appended (the rightmost); whatever the
/// client wrote to its left changes nothing.
async fn a_client_chosen_forwarded_entry_does_not_dodge_the_ip_limit(b: Backend) {
    let h = Harness::new(b).await;
    let send = |i: u32| {
        let h = &h;
        async move {
            let s = h.create_session().await;
            let env = h.seal(&s.session_id, Step::Identity, &identity_sms(&phone(200 + i), h.clock.now_secs())).await;
            let xff = format!("10.{}.{}.1, 203.0.113.5", i / 250, i % 250);
            let auth = format!("Bearer {}", s.client_secret);
            let path = format!("/v1/sessions/{}/identity", s.session_id);
            let body = json!({ "envelope": env }).to_string();
            let headers = [("authorization", auth.as_str()), ("origin", ORIGIN), ("x-forwarded-for", xff.as_str())];
            h.call("POST", &path, &headers, Some(&body)).await
        }
    };
    for i in 0..20 {
        let r = send(i).await;
        assert_eq!(r.status, StatusCode::OK, "send {i}: {}", r.json);
    }
    let r = send(20).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", r.json);
}

/// A refused request writes nothing: the identity step sent again at `code_sent` (a fresh envelope each time)
/// adds no replay-guard row, and the accepted envelope replayed is still told apart.
async fn an_identity_resent_at_code_sent_writes_nothing(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let first = h.seal(&s.session_id, Step::Identity, &identity_sms(PHONE, h.clock.now_secs())).await;
    let first = json!({ "envelope": first });
    assert_eq!(h.widget_post(&s, "identity", Some(&first), "198.51.100.7").await.status, StatusCode::OK);
    let rows = h.backend.count("seen_envelopes").await;
    for _ in 0..20 {
        let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "wrong_step"), "{}", r.json);
    }
    let r = h.widget_post(&s, "identity", Some(&first), "198.51.100.7").await;
    assert_eq!(r.code(), "envelope_replayed");
    assert_eq!(h.backend.count("seen_envelopes").await, rows, "refused identity steps wrote replay-guard rows");
    assert_eq!(h.outbox.messages().len(), 1);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.status, StatusCode::OK);
}

/// Integers as a client may write them in JSON (raw text, so that values serde cannot hold are sent as such).
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "830103485113599515",
    "1.5",
    "-0.0",
    "1e400",
    "99999999999999999999999999999999",
];

/// Every numeric field a client sends, on every endpoint that takes one (the consent times of the identity and
/// documents steps; the code and every other field are strings), at every extreme: a 4xx with a known code,
/// never a 5xx or a panic, and nothing written. An in-range time then goes through, so the table tests the ranges.
async fn every_client_integer_is_range_checked(b: Backend) {
    let h = Harness::with(b, |cfg| cfg.sites[0].methods.push(Method::Documents)).await;
    let s = h.create_session().await;
    let now = h.clock.now_secs();
    let child = format!("11010520150601001{}", check_char(b"11010520150601001").unwrap());
    let jpeg = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, [0xFF, 0xD8, 0xFF, 0xE0, 0]);
    let consent = json!({ "version": "2025-01", "accepted_at": now });
    let mut child_identity = identity_sms(PHONE, now);
    child_identity["number"] = json!(child);
    child_identity["guardian_consent"] = consent.clone();
    let mut documents = json!({
        "identity": child_identity.clone(), "selfie_jpeg": jpeg, "document_jpeg": jpeg, "face_consent": consent,
    });
    documents["identity"]["method"] = json!("documents");
    documents["identity"].as_object_mut().unwrap().remove("phone");
    // (step, payload, the field's path): the field's value is replaced by each extreme.
    let fields: Vec<(Step, &str, Value, &[&str])> = vec![
        (Step::Identity, "identity", identity_sms(PHONE, now), &["consent", "accepted_at"]),
        (Step::Identity, "identity", child_identity.clone(), &["consent", "accepted_at"]),
        (Step::Identity, "identity", child_identity, &["guardian_consent", "accepted_at"]),
        (
            Step::Identity,
            "identity",
            with_guardian(identity_sms(PHONE, now), now),
            &["guardian_consent", "accepted_at"],
        ),
        (Step::Documents, "documents", documents.clone(), &["identity", "consent", "accepted_at"]),
        (Step::Documents, "documents", documents.clone(), &["identity", "guardian_consent", "accepted_at"]),
        (Step::Documents, "documents", documents, &["face_consent", "accepted_at"]),
    ];
    let out_of_range = [(now + 301).to_string(), (now - 86_401).to_string()];
    let before = h.backend.raw_contents().await;
    let known: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    for (step, endpoint, payload, path) in &fields {
        for value in EXTREMES.iter().copied().chain(out_of_range.iter().map(String::as_str)) {
            let mut p = payload.clone();
            *at(&mut p, path) = json!("__N__");
            let plain = p.to_string().replace("\"__N__\"", value);
            let key = h.server_key().await;
            let env = realname_core::envelope::seal(&key, &s.session_id, *step, plain.as_bytes()).unwrap();
            let r = h.widget_post(&s, endpoint, Some(&json!({ "envelope": env })), "198.51.100.7").await;
            let case = format!("{endpoint} {} = {value}", path.join("."));
            assert!(r.status.is_client_error(), "{case}: {} {}", r.status, r.json);
            assert!(known.contains(&r.code()), "{case}: unknown code {}", r.json);
        }
    }
    assert!(h.outbox.messages().is_empty());
    assert_eq!(h.state.store.codes_sent(&s.session_id).await.unwrap(), 0);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
    if h.state.store.backend() == "postgres" {
        assert!(h.backend.raw_contents().await == before, "a refused request changed the database");
    }
    // The same session takes an in-range time: the refusals above were the ranges, not the shape.
    let r = h.submit_identity(&s, &with_guardian(identity_sms(PHONE, now), now - 86_400)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

fn with_guardian(mut identity: Value, at: i64) -> Value {
    identity["guardian_consent"] = json!({ "version": "2025-01", "accepted_at": at });
    identity
}

fn at<'v>(v: &'v mut Value, path: &[&str]) -> &'v mut Value {
    path.iter().fold(v, |v, k| &mut v[*k])
}

/// 11 refused requests in one second for one phone (a stranger's, from one address) used to lock that phone
/// out of every site for the day: every refusal counted against its hour and day. Only sent codes count now.
async fn refused_sends_do_not_spend_a_phone_quota(b: Backend) {
    let h = Harness::new(b).await;
    for i in 0..12 {
        let s = h.create_session().await;
        let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
        let want = if i == 0 { "<none>" } else { "rate_limited" };
        assert_eq!(r.code(), want, "request {i}: {}", r.json);
    }
    assert_eq!(h.outbox.messages().len(), 1);
    // The person, a minute later from their own address: the code goes out.
    h.clock.advance_secs(61);
    let s = h.create_session().await;
    let env = h.seal(&s.session_id, Step::Identity, &identity_sms(PHONE, h.clock.now_secs())).await;
    let r = h.widget_post(&s, "identity", Some(&json!({ "envelope": env })), "203.0.113.77").await;
    assert_eq!(r.status, StatusCode::OK, "the genuine send after the flood: {}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.status, StatusCode::OK);
}

/// The day's limit is the Beijing day (UTC+8): ten codes from 08:00 Beijing time on are the day's ten, and the
/// limit lifts at midnight in Beijing (16:00 UTC), not at 08:00 the next morning.
async fn the_day_limit_is_the_beijing_day(b: Backend) {
    let h = Harness::new(b).await;
    let send = || async {
        let s = h.create_session().await;
        h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await
    };
    for i in 0..10 {
        assert_eq!(send().await.status, StatusCode::OK, "send {i}");
        h.clock.advance_secs(if i == 4 { 3600 } else { 61 });
    }
    assert_eq!(send().await.code(), "rate_limited", "the 11th code of the day");
    // 23:59:59 in Beijing (15:59:59 UTC): still the same day.
    h.clock.set_ms(T0 + 16 * 3_600_000 - 1000);
    let r = send().await;
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(r.json["error"]["retry_after"], 1, "{}", r.json);
    // Midnight in Beijing.
    h.clock.set_ms(T0 + 16 * 3_600_000);
    assert_eq!(send().await.status, StatusCode::OK, "a new Beijing day");
}

/// Refusals are bounded per client address and destination: past the bound (10 an hour) a refusal writes
/// nothing at all (no identity record, no audit row), while other addresses' refusals are still recorded.
async fn refusals_past_their_bound_write_nothing(b: Backend) {
    let h = Harness::new(b).await;
    let from = |ip: &'static str| {
        let h = &h;
        async move {
            let s = h.create_session().await;
            let env = h.seal(&s.session_id, Step::Identity, &identity_sms(PHONE, h.clock.now_secs())).await;
            let r = h.widget_post(&s, "identity", Some(&json!({ "envelope": env })), ip).await;
            (r, s)
        }
    };
    assert_eq!(from("198.51.100.7").await.0.status, StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(from("198.51.100.7").await.0.code(), "rate_limited");
    }
    // Counted with the session's creation (which is audited): the refused step itself adds nothing.
    let rows = h.backend.count("audit_pending").await;
    let (r, s) = from("198.51.100.7").await;
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(h.backend.count("audit_pending").await, rows + 1, "a refusal past the bound was written");
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
    let (r, s) = from("203.0.113.77").await;
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "submitted", "another address is recorded");
}

/// The resend cooldown holds where the send is recorded: 40 resends at once, after the cooldown, send exactly
/// one code (they all read the same last send; its session row lets one of them commit).
async fn concurrent_resends_send_one_code(b: Backend) {
    let h = Harness::with(b, |cfg| {
        let l = &mut cfg.limits;
        (l.per_destination_minute, l.per_destination_hour, l.per_destination_day) = (1000, 1000, 1000);
        (l.per_ip_hour, l.per_session) = (1000, 1000);
    })
    .await;
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    h.clock.advance_secs(61);
    // Each on a task of its own, so they run in parallel on the runtime's threads.
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let app = h.app.clone();
            let req = axum::http::Request::post(format!("/v1/sessions/{}/resend", s.session_id))
                .header("authorization", format!("Bearer {}", s.client_secret))
                .header("origin", ORIGIN)
                .header("x-forwarded-for", "198.51.100.7")
                .body(axum::body::Body::empty())
                .unwrap();
            tokio::spawn(async move {
                let resp = tower::ServiceExt::oneshot(app, req).await.unwrap();
                let status = resp.status();
                let body = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
                (status, serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut sent = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == StatusCode::OK {
            sent += 1;
        } else {
            assert_eq!(body["error"]["code"], "resend_cooldown", "{status} {body}");
        }
    }
    assert_eq!((sent, h.outbox.messages().len()), (1, 2), "one resend, one more code");
    assert_eq!(h.state.store.codes_sent(&s.session_id).await.unwrap(), 2);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.status, StatusCode::OK);
}

/// A provider that refuses its first message and delivers to the outbox after that.
struct FailsFirst {
    outbox: std::sync::Arc<realname_server::delivery::Outbox>,
    failed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Sender for FailsFirst {
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError> {
        if !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(DeliveryError::Refused("test".into()));
        }
        self.outbox.send(msg).await
    }

    fn name(&self) -> &'static str {
        "fails-first"
    }
}

/// Only delivered codes count: a code the provider refused gives its count back, so the person's next try in
/// the same minute (a new session: the old one keeps its cooldown) is not refused by the per-minute limit.
async fn a_failed_delivery_gives_its_count_back(b: Backend) {
    let h = Harness::with_delivery(
        b,
        |_| {},
        |mut d| {
            let outbox = d.outbox.clone().expect("outbox");
            d.sms = std::sync::Arc::new(FailsFirst { outbox, failed: false.into() });
            d
        },
    )
    .await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_GATEWAY, "delivery_failed"), "{}", r.json);
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "the undelivered code was counted: {}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.status, StatusCode::OK);
}
