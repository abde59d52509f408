//! The cross-device handoff (docs/protocol.md 4.13 to 4.15), on both backends: a code moves the session to the phone
//! once, the desktop then only follows the status and never receives personal data, codes expire (the clock moves,
//! nobody sleeps), are single use, cannot be guessed (attempts counted per address) and are limited per session.

use axum::http::StatusCode;
use realname_core::protocol::CreateSessionResponse;
use serde_json::{Value, json};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(
    a_code_moves_the_session_to_the_phone_and_the_desktop_only_follows_its_status,
    an_expired_unknown_or_reused_code_is_refused,
    redemption_attempts_are_counted_per_address_before_the_code_is_read,
    codes_are_limited_per_session_and_only_before_anything_was_submitted,
    the_status_answers_304_until_it_changes,
    two_phones_redeeming_one_code_at_once_get_it_once,
);

/// The phone's page: same site, allowed origin.
const PHONE_IP: &str = "203.0.113.9";

/// `POST /v1/sessions/{id}/handoff` with `s`'s client secret.
async fn handoff(h: &Harness, s: &CreateSessionResponse) -> Reply {
    h.widget_post(s, "handoff", None, "198.51.100.7").await
}

/// `POST /v1/handoff/redeem` from the phone (the site's origin, `ip`).
async fn redeem(h: &Harness, code: &str, ip: &str) -> Reply {
    let body = json!({ "code": code }).to_string();
    h.call("POST", "/v1/handoff/redeem", &[("origin", ORIGIN), ("x-forwarded-for", ip)], Some(&body)).await
}

/// `GET /v1/sessions/{id}/status` with `secret`.
async fn status(h: &Harness, id: &str, secret: &str, etag: Option<&str>) -> Reply {
    let auth = format!("Bearer {secret}");
    let mut headers = vec![("authorization", auth.as_str()), ("origin", ORIGIN)];
    if let Some(t) = etag {
        headers.push(("if-none-match", t));
    }
    h.call("GET", &format!("/v1/sessions/{id}/status"), &headers, None).await
}

/// The session as the phone holds it after redeeming.
fn phone_of(r: &Reply) -> CreateSessionResponse {
    serde_json::from_value(r.json.clone()).expect("redeem answer")
}

async fn a_code_moves_the_session_to_the_phone_and_the_desktop_only_follows_its_status(b: Backend) {
    let h = Harness::new(b).await;
    let desktop = h.create_session().await;
    let r = handoff(&h, &desktop).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let code = r.json["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 9, "XXXX-XXXX: {code}");
    assert_eq!(r.json["url"], format!("{HANDOFF_URL}#{code}"));
    assert_eq!(r.json["link"], HANDOFF_URL);
    assert_eq!(r.json["expires_in"], 300);
    assert_eq!(r.json["expires_at"], h.clock.now_secs() + 300);
    assert!(r.json["qr_svg"].as_str().is_some_and(|s| s.starts_with("<svg ")), "{}", r.json);
    // Only the code's HMAC is stored.
    assert!(!h.backend.raw_contents().await.contains(&code.replace('-', "")), "the code is in the database");

    let before = status(&h, &desktop.session_id, &desktop.client_secret, None).await;
    assert_eq!(before.json, json!({ "session_id": desktop.session_id, "status": "created", "handed_off": false }));

    // Typed on the phone the way people type: lower case, no hyphen.
    let r = redeem(&h, &code.replace('-', " ").to_lowercase(), PHONE_IP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let phone = phone_of(&r);
    assert_eq!(phone.session_id, desktop.session_id);
    assert_ne!(phone.client_secret, desktop.client_secret);
    assert_eq!(phone.methods, desktop.methods);

    // The desktop's secret no longer acts on the session, and reads nothing of it but its status.
    assert_eq!(h.client_view(&desktop).await.code(), "handed_off");
    assert_eq!(handoff(&h, &desktop).await.code(), "handed_off");
    let r = h.submit_identity(&desktop, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "handed_off"));
    let r = status(&h, &desktop.session_id, &desktop.client_secret, None).await;
    assert_eq!(r.json, json!({ "session_id": desktop.session_id, "status": "created", "handed_off": true }));

    // The phone carries on: consent and identity on the phone, the code, verified.
    assert_eq!(h.client_view(&phone).await.status, StatusCode::OK);
    let r = h.submit_identity(&phone, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.client_view(&desktop).await.code(), "handed_off");
    let r = h.submit_code(&desktop, &h.last_code()).await;
    assert_eq!(r.code(), "handed_off", "the desktop cannot enter the code");
    let r = h.submit_code(&phone, &h.last_code()).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);

    // The desktop learns the result, and nothing else: no token, no masked name, number or phone.
    let r = status(&h, &desktop.session_id, &desktop.client_secret, None).await;
    assert_eq!(r.json, json!({ "session_id": desktop.session_id, "status": "verified", "handed_off": true }));
    let raw = String::from_utf8_lossy(&r.raw).to_string();
    for personal in [PHONE, "139****5678", NAME, "张", ID_NUMBER, "110105"] {
        assert!(!raw.contains(personal), "{personal} in {raw}");
    }
    // The phone's secret is used up with the session; the status stays readable to both.
    assert_eq!(h.client_view(&phone).await.code(), "client_secret_used");
    assert_eq!(status(&h, &phone.session_id, &phone.client_secret, None).await.json["status"], "verified");
    // Someone else's secret, or the right one from a wrong origin, reads nothing.
    let stranger = h.create_session().await;
    assert_eq!(status(&h, &desktop.session_id, &stranger.client_secret, None).await.code(), "unauthorized");
    let r = h
        .call(
            "GET",
            &format!("/v1/sessions/{}/status", desktop.session_id),
            &[("authorization", &format!("Bearer {}", desktop.client_secret)), ("origin", "https://evil.example")],
            None,
        )
        .await;
    assert_eq!(r.code(), "forbidden_origin");

    // The audit log has both steps.
    let keys = realname_server::audit::cli::AuditKeys::of_ring(&h.state.keys());
    realname_server::audit::cli::verify(h.state.store.as_ref(), &keys, &[]).await.expect("the chain verifies");
    let subject = format!("session:{}", desktop.session_id);
    let entries = h.state.store.audit_after(0, 100_000).await.expect("entries");
    let actions: Vec<&str> =
        entries.iter().filter(|e| e.event.subject == subject).map(|e| e.event.action.as_str()).collect();
    for a in ["session.handoff_created", "session.handed_off"] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
}

async fn an_expired_unknown_or_reused_code_is_refused(b: Backend) {
    // The client secret lives as long as the session, so a code can be made just before the session's end.
    let h = Harness::with(b, |c| c.session.client_secret_ttl_secs = c.session.session_ttl_secs).await;
    let s = h.create_session().await;
    let code = handoff(&h, &s).await.json["code"].as_str().expect("code").to_owned();
    h.clock.advance_secs(300);
    let r = redeem(&h, &code, PHONE_IP).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "handoff_expired"), "{}", r.json);
    // The desktop still holds the session and may show a new code, which works once.
    let code = handoff(&h, &s).await.json["code"].as_str().expect("code").to_owned();
    h.clock.advance_secs(299);
    assert_eq!(redeem(&h, &code, PHONE_IP).await.status, StatusCode::OK);
    let r = redeem(&h, &code, PHONE_IP).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "handoff_used"));
    // Used stays used after the expiry.
    h.clock.advance_secs(600);
    assert_eq!(redeem(&h, &code, PHONE_IP).await.code(), "handoff_used");
    for unknown in ["0000-0000", "not a code", ""] {
        let r = redeem(&h, unknown, PHONE_IP).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "handoff_unknown"), "{unknown:?}");
    }
    // A page the site does not allow redeems nothing, and the code still works from the site's page.
    let s = h.create_session().await;
    let code = handoff(&h, &s).await.json["code"].as_str().expect("code").to_owned();
    let body = json!({ "code": code }).to_string();
    let r = h
        .call(
            "POST",
            "/v1/handoff/redeem",
            &[("origin", "https://evil.example"), ("x-forwarded-for", PHONE_IP)],
            Some(&body),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden_origin"));
    assert_eq!(redeem(&h, &code, PHONE_IP).await.status, StatusCode::OK);
    // A code never outlives its session: made 2 minutes before the session's end, it works 2 minutes.
    let s = h.create_session().await;
    h.clock.advance_secs(h.state.cfg.session.session_ttl_secs - 120);
    let r = handoff(&h, &s).await;
    assert_eq!(r.json["expires_in"], 120, "{}", r.json);
    h.clock.advance_secs(120);
    assert_eq!(redeem(&h, r.json["code"].as_str().expect("code"), PHONE_IP).await.code(), "handoff_expired");
}

async fn redemption_attempts_are_counted_per_address_before_the_code_is_read(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let code = handoff(&h, &s).await.json["code"].as_str().expect("code").to_owned();
    let limit = h.state.cfg.limits.handoff_redeems_per_ip_hour;
    assert!(limit > 0);
    for i in 0..limit {
        let guess = format!("{:08}", i);
        assert_eq!(redeem(&h, &guess, "192.0.2.66").await.code(), "handoff_unknown");
    }
    // Past the limit even the right code is refused from that address, without being used up.
    let r = redeem(&h, &code, "192.0.2.66").await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{}", r.json);
    assert!(r.json["error"]["retry_after"].as_u64().is_some_and(|s| s > 0));
    assert_eq!(redeem(&h, &code, PHONE_IP).await.status, StatusCode::OK);
    // The hour passes: the address may try again.
    h.clock.advance_secs(3600);
    assert_eq!(redeem(&h, "0000-0000", "192.0.2.66").await.code(), "handoff_unknown");
}

async fn codes_are_limited_per_session_and_only_before_anything_was_submitted(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let per_session = h.state.cfg.limits.handoffs_per_session;
    for _ in 0..per_session {
        assert_eq!(handoff(&h, &s).await.status, StatusCode::CREATED);
    }
    let r = handoff(&h, &s).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    // After the identity step the session stays on this device.
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let r = handoff(&h, &s).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "wrong_step"));
    // A site without a phone page offers no handoff.
    let h = Harness::with(Backend::sqlite().await, |c| c.sites[0].handoff_url = None).await;
    let s = h.create_session().await;
    let r = handoff(&h, &s).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "handoff_not_enabled"));
}

async fn the_status_answers_304_until_it_changes(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let r = status(&h, &s.session_id, &s.client_secret, None).await;
    let tag = r.headers.get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned();
    let r = status(&h, &s.session_id, &s.client_secret, Some(&tag)).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.raw.is_empty());
    let code = handoff(&h, &s).await.json["code"].as_str().expect("code").to_owned();
    assert_eq!(status(&h, &s.session_id, &s.client_secret, Some(&tag)).await.status, StatusCode::NOT_MODIFIED);
    redeem(&h, &code, PHONE_IP).await;
    let r = status(&h, &s.session_id, &s.client_secret, Some(&tag)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(r.headers.get("etag").and_then(|v| v.to_str().ok()), Some(tag.as_str()));
    assert_eq!(r.json["handed_off"], true);
}

async fn two_phones_redeeming_one_code_at_once_get_it_once(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let code = handoff(&h, &s).await.json["code"].as_str().expect("code").to_owned();
    let (a, b) = tokio::join!(redeem(&h, &code, PHONE_IP), redeem(&h, &code, "203.0.113.10"));
    let mut codes: Vec<u16> = vec![a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, vec![200, 409], "{} / {}", a.json, b.json);
    let loser: &Value = if a.status == StatusCode::OK { &b.json } else { &a.json };
    assert_eq!(loser["error"]["code"], "handoff_used");
}
