//! Through the whole server (`http::app` on the real `AppState`): metrics count a verified SMS flow, and a review
//! decision reaches the site's status API and its webhook queue.

use axum::http::StatusCode;
use realname_domain::session::SessionStatus;
use realname_server::review::{PlainImage, Reason, Reviews};
use realname_store::review::Role;
use serde_json::json;

use crate::harness::{Backend, Harness, SECRET_KEY};

async fn metrics_and_decisions_through_the_app(b: Backend) {
    let h = Harness::with(b, |cfg| {
        cfg.review.metrics_public = true;
        cfg.sites[0].webhook_url = Some("http://127.0.0.1:9/hook".into());
        cfg.sites[0].webhook_secret = realname_domain::config::Secret::new("whsec_test_0123456789");
    })
    .await;
    let (verified, _) = h.verified_session("13912345678").await;
    let m = h.call("GET", "/metrics", &[], None).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = String::from_utf8(m.raw.clone()).unwrap();
    assert!(text.contains("realname_codes_sent_total{channel=\"sms\"} 1"), "{text}");
    assert!(text.contains("realname_sessions_finished_total{method=\"sms\",outcome=\"verified\"} 1"), "{text}");
    assert!(text.contains("realname_pass_rate 1\n"), "{text}");
    let _ = verified;

    // A session waiting for review, decided in the console: the site sees `rejected`, and its webhook is queued.
    let s = h.create_session().await;
    let r = h
        .submit_identity(
            &s,
            &crate::harness::identity_sms("13912345679", realname_domain::clock::Clock::now_secs(h.clock.as_ref())),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let rv: Reviews = axum::extract::FromRef::from_ref(&h.state);
    let mut session = rv.store.session(&s.session_id).await.unwrap().unwrap();
    session.status = SessionStatus::PendingReview;
    let session = rv.store.update_session(&session).await.unwrap();
    let img = PlainImage { kind: "face".into(), content_type: "image/jpeg".into(), bytes: vec![0xff, 0xd8, 1, 2, 3] };
    let case = rv.enqueue(&session, &[Reason::Minor], vec![img]).await.unwrap();
    realname_server::review::auth::create_reviewer(
        rv.store.as_ref(),
        rv.clock.as_ref(),
        rv.random.as_ref(),
        "ada",
        "correct horse battery",
        Role::Admin,
        None,
    )
    .await
    .unwrap();
    let login = h
        .call("POST", "/console/api/login", &[], Some(r#"{"username":"ada","password":"correct horse battery"}"#))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.json);
    let token = login.json["token"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {token}");
    let body = json!({"decision": "reject", "reason_code": "minor_not_permitted"}).to_string();
    let d = h
        .call("POST", &format!("/console/api/cases/{}/decision", case.id), &[("authorization", &auth)], Some(&body))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.json);
    let view = h.site_view(&s.session_id).await;
    assert_eq!(view.json["status"], "rejected", "{}", view.json);
    let queued = rv.store.claim_deliveries("test", i64::MAX / 2, 1000, 50).await.unwrap();
    assert!(
        queued.iter().any(|q| q.event_type == "verification.rejected" && q.body.contains(&s.session_id)),
        "{queued:?}"
    );
    let text = String::from_utf8(h.call("GET", "/metrics", &[], None).await.raw).unwrap();
    assert!(text.contains("outcome=\"rejected\"} 1"), "{text}");
    assert!(text.contains("realname_review_queue_length 0\n"), "{text}");

    // The console page through the whole app keeps its CSP; the site erasure API takes the real site key.
    let page = h.call("GET", "/console/", &[], None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    let e = h
        .call(
            "POST",
            &format!("/v1/sessions/{}/erase", s.session_id),
            &[("authorization", &format!("Bearer {SECRET_KEY}"))],
            None,
        )
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.json);
    assert!(rv.store.session(&s.session_id).await.unwrap().unwrap().identity.is_none());
}

/// After a deletion request the site still learns the outcome, without identity data or a token (it was a 500).
async fn an_erased_verified_session_still_answers_the_site(b: Backend) {
    let h = Harness::new(b).await;
    let (created, _) = h.verified_session("13912345678").await;
    let s = created.session_id;
    let before = h.site_view(&s).await;
    assert!(before.json["result_token"].is_string() && before.json["masked_name"].is_string(), "{}", before.json);
    let e = h
        .call("POST", &format!("/v1/sessions/{s}/erase"), &[("authorization", &format!("Bearer {SECRET_KEY}"))], None)
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.json);
    let after = h.site_view(&s).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.json);
    assert_eq!(after.json["status"], "verified", "{}", after.json);
    for gone in ["masked_name", "masked_number", "age_band", "result_token"] {
        assert!(after.json.get(gone).is_none_or(serde_json::Value::is_null), "{gone} after erasure: {}", after.json);
    }
}

on_both_backends!(metrics_and_decisions_through_the_app, an_erased_verified_session_still_answers_the_site);
