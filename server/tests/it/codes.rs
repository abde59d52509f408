//! One-time codes, Kratos/Keycloak style: attempt limit, expiry, resend invalidation and cooldown, and every
//! sending limit. The clock moves; nothing sleeps. Every case runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(
    five_wrong_codes_then_the_right_one_fails,
    expired_code_is_refused,
    resend_invalidates_the_old_code_and_has_a_cooldown,
    limit_per_destination_per_minute,
    limit_per_destination_per_hour,
    limit_per_destination_per_day,
    limit_per_client_ip_per_hour,
    limit_per_session,
    the_client_view_gives_the_code_step_in_durations,
);

fn phone(n: u32) -> String {
    format!("139{n:08}")
}

async fn five_wrong_codes_then_the_right_one_fails(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let right = h.last_code();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let r = h.submit_code(&s, wrong).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "code_invalid"), "{}", r.json);
        assert_eq!(r.json["error"]["attempts_left"], left);
    }
    let r = h.submit_code(&s, wrong).await;
    assert_eq!((r.status, r.code()), (StatusCode::LOCKED, "code_locked"));
    let r = h.submit_code(&s, &right).await;
    assert_ne!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.code(), "client_secret_used");
    let site = h.site_view(&s.session_id).await;
    assert_eq!(site.json["status"], "failed");
    assert!(site.json.get("result_token").is_none());
}

async fn expired_code_is_refused(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let code = h.last_code();
    h.clock.advance_secs(5 * 60);
    let r = h.submit_code(&s, &code).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "code_expired"));
    // A new code works.
    let r = h.widget_post(&s, "resend", None, "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.status, StatusCode::OK);
}

async fn resend_invalidates_the_old_code_and_has_a_cooldown(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let old = h.last_code();
    h.clock.advance_secs(30);
    let r = h.widget_post(&s, "resend", None, "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "resend_cooldown"));
    assert_eq!(r.json["error"]["retry_after"], 30);
    assert_eq!(r.headers["retry-after"], "30");
    h.clock.advance_secs(30);
    let r = h.widget_post(&s, "resend", None, "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let new = h.last_code();
    assert_eq!(h.outbox.messages().len(), 2);
    if old != new {
        let r = h.submit_code(&s, &old).await;
        assert_eq!(r.code(), "code_invalid", "the old code must stop working");
    }
    assert_eq!(h.submit_code(&s, &new).await.status, StatusCode::OK);
}

async fn limit_per_destination_per_minute(b: Backend) {
    let h = Harness::new(b).await;
    let a = h.create_session().await;
    assert_eq!(h.submit_identity(&a, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let b2 = h.create_session().await;
    let r = h.submit_identity(&b2, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(r.headers.contains_key("retry-after"));
    // Another number is not affected; the same number works again in the next minute.
    let c = h.create_session().await;
    assert_eq!(h.submit_identity(&c, &identity_sms(&phone(1), h.clock.now_secs())).await.status, StatusCode::OK);
    h.clock.advance_secs(60);
    let r = h.widget_post(&b2, "resend", None, "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&b2, &h.last_code()).await.status, StatusCode::OK);
}

async fn limit_per_destination_per_hour(b: Backend) {
    let h = Harness::new(b).await;
    for i in 0..5 {
        let s = h.create_session().await;
        let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
        assert_eq!(r.status, StatusCode::OK, "send {i}: {}", r.json);
        h.clock.advance_secs(61);
    }
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.code(), "rate_limited");
    h.clock.advance_secs(3600);
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "the next hour: {}", r.json);
}

async fn limit_per_destination_per_day(b: Backend) {
    let h = Harness::new(b).await;
    let mut sent = 0;
    for hour in 0..2 {
        for _ in 0..5 {
            let s = h.create_session().await;
            let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
            assert_eq!(r.status, StatusCode::OK, "hour {hour} send {sent}: {}", r.json);
            sent += 1;
            h.clock.advance_secs(61);
        }
        h.clock.advance_secs(3600);
    }
    assert_eq!(sent, 10);
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.code(), "rate_limited", "the 11th code of the day");
}

async fn limit_per_client_ip_per_hour(b: Backend) {
    let h = Harness::new(b).await;
    for i in 0..20 {
        let s = h.create_session().await;
        let r = h.submit_identity(&s, &identity_sms(&phone(100 + i), h.clock.now_secs())).await;
        assert_eq!(r.status, StatusCode::OK, "send {i}: {}", r.json);
    }
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(&phone(999), h.clock.now_secs())).await;
    assert_eq!(r.code(), "rate_limited", "21st code from one IP in an hour");
    // Another client IP may still send.
    let s2 = h.create_session().await;
    let env2 = h
        .seal(&s2.session_id, realname_core::protocol::Step::Identity, &identity_sms(&phone(998), h.clock.now_secs()))
        .await;
    let r = h.widget_post(&s2, "identity", Some(&serde_json::json!({ "envelope": env2 })), "203.0.113.9").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

async fn limit_per_session(b: Backend) {
    let h = Harness::with(b, |cfg| {
        cfg.limits.per_destination_hour = 100;
        cfg.limits.per_destination_day = 100;
    })
    .await;
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    for i in 0..4 {
        h.clock.advance_secs(61);
        let r = h.widget_post(&s, "resend", None, "198.51.100.7").await;
        assert_eq!(r.status, StatusCode::OK, "resend {i}: {}", r.json);
    }
    h.clock.advance_secs(61);
    let r = h.widget_post(&s, "resend", None, "198.51.100.7").await;
    assert_eq!(r.code(), "rate_limited", "the 6th code of one session");
    assert_eq!(h.outbox.messages().len(), 5);
}

/// Where a widget resumes after an error (protocol 4.4): the code step with its tries and countdowns, as durations
/// from the answer, so a browser whose clock is wrong still counts down right.
async fn the_client_view_gives_the_code_step_in_durations(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let view = || async { h.client_view(&s).await.json };
    let before = view().await;
    assert_eq!(before["status"], "created");
    for field in ["resend_in", "code_expires_in", "attempts_left"] {
        assert!(before.get(field).is_none(), "{field} before any code: {before}");
    }
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!((r.json["resend_in"].as_i64(), r.json["code_expires_in"].as_i64()), (Some(60), Some(300)), "{}", r.json);
    h.clock.advance_secs(21);
    let right = h.last_code();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    assert_eq!(h.submit_code(&s, wrong).await.code(), "code_invalid");
    let v = view().await;
    assert_eq!(v["status"], "code_sent");
    assert_eq!(
        (v["resend_in"].as_i64(), v["code_expires_in"].as_i64(), v["attempts_left"].as_i64()),
        (Some(39), Some(279), Some(4)),
        "{v}"
    );
    h.clock.advance_secs(300);
    let v = view().await;
    assert_eq!((v["resend_in"].as_i64(), v["code_expires_in"].as_i64()), (Some(0), Some(0)), "{v}");
}
