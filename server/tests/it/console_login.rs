//! Console logins under attack (issue 16): failures are throttled per account and per client address with waits
//! that grow, a throttled login checks no password and writes nothing, and a flood of failures adds a bounded
//! number of audit entries. Time moves on the harness's clock; nothing sleeps.

use axum::http::StatusCode;
use realname_server::review::Reviews;
use realname_server::review::throttle::AUDITED_PER_HOUR;
use realname_store::review::Role;

use crate::harness::*;

on_both_backends!(
    failures_per_account_are_throttled_with_growing_waits,
    failures_per_address_are_throttled_for_every_account,
    a_flood_of_failures_writes_a_bounded_number_of_audit_entries,
);

const PASSWORD: &str = "correct horse battery";

async fn with_reviewer(b: Backend) -> Harness {
    let h = Harness::new(b).await;
    let rv: Reviews = axum::extract::FromRef::from_ref(&h.state);
    let (store, clock, random) = (rv.store.as_ref(), rv.clock.as_ref(), rv.random.as_ref());
    realname_server::review::auth::create_reviewer(store, clock, random, "ada", PASSWORD, Role::Admin, None)
        .await
        .unwrap();
    h
}

async fn login(h: &Harness, username: &str, password: &str, ip: &str) -> Reply {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    h.call("POST", "/console/api/login", &[("x-forwarded-for", ip)], Some(&body)).await
}

async fn failed_entries(h: &Harness) -> usize {
    h.state.store.audit_about("console", "console.login_failed").await.unwrap().len()
}

/// The wait a `429 rate_limited` announces, checked against its `Retry-After` header.
fn retry_after(r: &Reply) -> u64 {
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", r.json);
    let secs = r.json["error"]["retry_after"].as_u64().unwrap();
    assert_eq!(r.headers["retry-after"].to_str().unwrap(), secs.to_string());
    secs
}

async fn failures_per_account_are_throttled_with_growing_waits(b: Backend) {
    let h = with_reviewer(b).await;
    // Five wrong passwords, each from another address: the account's first step is reached.
    for i in 0..5 {
        let r = login(&h, "ada", "wrong password!", &format!("10.0.0.{i}")).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "bad_credentials"), "{i}: {}", r.json);
    }
    // Now even the right password waits out the minute, and the refusal writes nothing.
    let entries = failed_entries(&h).await;
    let r = login(&h, "ada", PASSWORD, "10.0.1.1").await;
    let first = retry_after(&r);
    assert!((1..=60).contains(&first), "{first}");
    assert_eq!(failed_entries(&h).await, entries, "a throttled login wrote to the audit log");
    h.clock.advance_ms(first as i64 * 1000);
    assert_eq!(login(&h, "ada", PASSWORD, "10.0.1.1").await.status, StatusCode::OK);
    // Five more failures: ten within fifteen minutes, and the wait grows past a minute.
    for i in 0..5 {
        let r = login(&h, "ada", "wrong password!", &format!("10.0.2.{i}")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    }
    let second = retry_after(&login(&h, "ada", PASSWORD, "10.0.1.1").await);
    assert!(second > 60, "the wait did not grow: {second}");
    // Another account is not affected.
    assert_eq!(login(&h, "bob", "wrong password!", "10.0.1.1").await.code(), "bad_credentials");
    h.clock.advance_ms(second as i64 * 1000);
    assert_eq!(login(&h, "ada", PASSWORD, "10.0.1.1").await.status, StatusCode::OK);
}

async fn failures_per_address_are_throttled_for_every_account(b: Backend) {
    let h = with_reviewer(b).await;
    // Ten failures from one address, each on another account (no account reaches its own limit).
    for i in 0..10 {
        let r = login(&h, &format!("guess{i}"), "wrong password!", "203.0.113.7").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}: {}", r.json);
    }
    let r = login(&h, "ada", PASSWORD, "203.0.113.7").await;
    assert!(retry_after(&r) <= 60);
    // Another address is still served.
    assert_eq!(login(&h, "ada", PASSWORD, "203.0.113.8").await.status, StatusCode::OK);
}

async fn a_flood_of_failures_writes_a_bounded_number_of_audit_entries(b: Backend) {
    let h = with_reviewer(b).await;
    // Forty failures in an hour, spread so that no throttle refuses them (distinct accounts and addresses).
    for i in 0..40 {
        let r = login(&h, &format!("flood{i}"), "wrong password!", &format!("198.51.100.{i}")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}: {}", r.json);
    }
    // The first twenty one by one, then only the 32nd (with its count).
    let entries = h.state.store.audit_about("console", "console.login_failed").await.unwrap();
    assert_eq!(entries.len(), AUDITED_PER_HOUR as usize + 1);
    let last = entries.last().unwrap();
    assert_eq!(last.event.detail.get("failures_this_hour").map(String::as_str), Some("32"));
    // The next hour starts over.
    h.clock.advance_ms(3_600_000);
    let _ = login(&h, "flood-next", "wrong password!", "198.51.100.200").await;
    assert_eq!(failed_entries(&h).await, AUDITED_PER_HOUR as usize + 2);
}
