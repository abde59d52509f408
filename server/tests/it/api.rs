//! The session API end to end: complete flows, credentials, Origin, consent, re-validation, sealed-envelope
//! attacks. Every case runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use realname_core::protocol::Step;
use serde_json::json;

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(
    sms_flow_verifies_and_site_reads_masked_result,
    client_secret_expired_and_used,
    wrong_origin_is_refused,
    a_same_origin_get_counts_as_the_servers_own_origin,
    missing_consent_is_refused,
    invalid_id_from_a_client_that_skipped_validation_is_refused,
    replayed_envelope_is_refused,
    tampered_unknown_kid_and_wrong_step_envelopes_are_refused,
    cancel_ends_the_session,
    widget_sessions_need_publishable_key_and_origin,
    other_sites_cannot_read_a_session,
    operations_endpoints_and_openapi,
    documents_step_queues_a_review,
);

async fn sms_flow_verifies_and_site_reads_masked_result(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    assert!(s.session_id.starts_with("ses_") && s.client_secret.starts_with("cs_"));
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "code_sent");
    assert_eq!(r.json["destination"], "139****5678");
    let view = h
        .call(
            "GET",
            &format!("/v1/sessions/{}/client", s.session_id),
            &[("authorization", &format!("Bearer {}", s.client_secret)), ("origin", ORIGIN)],
            None,
        )
        .await;
    assert_eq!(view.json["status"], "code_sent", "{}", view.json);
    assert_eq!(view.json["destination"], "139****5678");
    let r = h.submit_code(&s, &h.last_code()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "verified");
    let site = h.site_view(&s.session_id).await;
    assert_eq!(site.status, StatusCode::OK);
    assert_eq!(site.json["status"], "verified");
    assert_eq!(site.json["method"], "sms");
    assert_eq!(site.json["document_kind"], "resident_id");
    assert_eq!(site.json["masked_number"], realname_core::validate::mask_id(ID_NUMBER));
    assert_eq!(site.json["masked_name"], realname_core::validate::mask_name(NAME));
    // The surname stays, the given name is masked (docs/protocol.md 7.1).
    assert_eq!(site.json["masked_name"], "张**");
    assert_eq!(site.json["age_band"], "60_plus");
    assert!(site.json["result_token"].as_str().is_some());
    assert!(!site.raw.windows(ID_NUMBER.len()).any(|w| w == ID_NUMBER.as_bytes()));
    // Every response is no-store with security headers.
    assert_eq!(site.headers["cache-control"], "no-store");
    assert_eq!(site.headers["x-content-type-options"], "nosniff");
}

async fn client_secret_expired_and_used(b: Backend) {
    let h = Harness::new(b).await;
    // Used: once verified, the client secret is used up.
    let (s, _) = h.verified_session(PHONE).await;
    let r = h.widget_post(&s, "resend", None, "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "client_secret_used"));
    let r = h.submit_code(&s, "123456").await;
    assert_eq!(r.code(), "client_secret_used");
    // Expired: past its lifetime (30 minutes by default).
    let s = h.create_session().await;
    h.clock.advance_secs(30 * 60);
    let r = h.submit_identity(&s, &identity_sms("13912340000", h.clock.now_secs())).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "client_secret_expired"));
    // A wrong secret or none at all.
    let mut wrong = h.create_session().await;
    wrong.client_secret.push('x');
    let r = h.submit_identity(&wrong, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let r = h.call("POST", &format!("/v1/sessions/{}/resend", wrong.session_id), &[("origin", ORIGIN)], None).await;
    assert_eq!(r.code(), "unauthorized");
}

async fn wrong_origin_is_refused(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let env = h.seal(&s.session_id, Step::Identity, &identity_sms(PHONE, h.clock.now_secs())).await;
    let body = json!({ "envelope": env }).to_string();
    let auth = format!("Bearer {}", s.client_secret);
    for origin in [Some("https://evil.example"), Some("null"), Some("https://shop.example.evil.example"), None] {
        let mut headers = vec![("authorization", auth.as_str())];
        if let Some(o) = origin {
            headers.push(("origin", o));
        }
        let r = h.call("POST", &format!("/v1/sessions/{}/identity", s.session_id), &headers, Some(&body)).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden_origin"), "{origin:?}");
        // The refusal is readable by the page that was refused (so a misconfigured page can say why), never with
        // a wildcard; without an Origin there is nothing to allow.
        let acao = r.headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap_or_default().to_string());
        assert_eq!(acao.as_deref(), origin, "{origin:?}");
    }
    // The preflight answers allowed origins, never with a wildcard; another origin's preflight passes too, so
    // that its request meets the readable refusal above instead of failing like a network error.
    let pre = h.call("OPTIONS", &format!("/v1/sessions/{}/identity", s.session_id), &[("origin", ORIGIN)], None).await;
    assert_eq!(pre.status, StatusCode::NO_CONTENT);
    assert_eq!(pre.headers["access-control-allow-origin"], ORIGIN);
    let pre = h.call("OPTIONS", "/v1/widget/sessions", &[("origin", "https://evil.example")], None).await;
    assert_eq!(pre.status, StatusCode::NO_CONTENT);
    assert_eq!(pre.headers["access-control-allow-origin"], "https://evil.example");
    let r = h
        .call(
            "POST",
            "/v1/widget/sessions",
            &[("origin", "https://evil.example"), ("content-type", "application/json")],
            Some(r#"{"publishable_key":"pk_test_shop"}"#),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden_origin"), "{}", r.json);
    assert_eq!(r.headers["access-control-allow-origin"], "https://evil.example");
    // Anything that is not a refusal stays unreadable from such an origin.
    let r = h.call("GET", "/v1/sessions/ses_x/client", &[("origin", "https://evil.example")], None).await;
    if r.status != StatusCode::FORBIDDEN {
        assert!(r.headers.get("access-control-allow-origin").is_none(), "{}", r.status);
    }
    // Nothing happened: the session still waits for its identity.
    let site = h.site_view(&s.session_id).await;
    assert_eq!(site.json["status"], "created");
}

/// A page the server serves itself reads its session with a same-origin GET, which browsers send without `Origin`.
async fn a_same_origin_get_counts_as_the_servers_own_origin(b: Backend) {
    let h = Harness::with(b, |cfg| cfg.sites[0].origins.push("https://verify.example".into())).await;
    let s = h.create_session().await;
    let auth = format!("Bearer {}", s.client_secret);
    let path = format!("/v1/sessions/{}/client", s.session_id);
    let same = [("authorization", auth.as_str()), ("sec-fetch-site", "same-origin"), ("host", "verify.example")];
    let r = h.call("GET", &path, &same, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "created");
    // Only a same-origin request addressed to the server's own host, and only where the site allows that origin.
    let other_host = [("authorization", auth.as_str()), ("sec-fetch-site", "same-origin"), ("host", "evil.example")];
    assert_eq!(h.call("GET", &path, &other_host, None).await.code(), "forbidden_origin");
    let cross = [("authorization", auth.as_str()), ("sec-fetch-site", "cross-site"), ("host", "verify.example")];
    assert_eq!(h.call("GET", &path, &cross, None).await.code(), "forbidden_origin");
}

async fn missing_consent_is_refused(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let now = h.clock.now_secs();
    let mut bad = Vec::new();
    let mut p = identity_sms(PHONE, now);
    p.as_object_mut().unwrap().remove("consent");
    bad.push(p);
    let mut p = identity_sms(PHONE, now);
    p["consent"]["version"] = json!("");
    bad.push(p);
    let mut p = identity_sms(PHONE, now);
    p["consent"]["accepted_at"] = json!(now + 3600);
    bad.push(p);
    // Malformed, not just missing: also consent_required (section 3.2), not payload_invalid.
    for malformed in [json!("yes"), json!(null), json!({ "version": 1, "accepted_at": now }), json!([])] {
        let mut p = identity_sms(PHONE, now);
        p["consent"] = malformed;
        bad.push(p);
    }
    for p in bad {
        let r = h.submit_identity(&s, &p).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "consent_required"), "{p}");
    }
    assert!(h.outbox.messages().is_empty());
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
}

async fn invalid_id_from_a_client_that_skipped_validation_is_refused(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let now = h.clock.now_secs();
    let cases = [
        ("number", "110105194912310021"), // wrong check character
        ("number", "99010519491231002X"), // no such province
        ("number", "11010520991231002X"), // born in the future
        ("number", "1101051949"),         // too short
    ];
    for (field, number) in cases {
        let mut p = identity_sms(PHONE, now);
        p["number"] = json!(number);
        let r = h.submit_identity(&s, &p).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            "{number}: {}",
            r.json
        );
        assert_eq!(r.json["error"]["field"], field);
    }
    let mut p = identity_sms("12345", now);
    p["phone"] = json!("12345");
    let r = h.submit_identity(&s, &p).await;
    assert_eq!((r.code(), r.json["error"]["field"].as_str()), ("validation_failed", Some("phone")));
    let mut p = identity_sms(PHONE, now);
    p["name"] = json!("");
    let r = h.submit_identity(&s, &p).await;
    assert_eq!((r.code(), r.json["error"]["field"].as_str()), ("validation_failed", Some("name")));
    let r = h.submit_identity(&s, &identity_email("not-an-email", now)).await;
    assert_eq!((r.code(), r.json["error"]["field"].as_str()), ("validation_failed", Some("email")));
    assert!(h.outbox.messages().is_empty());
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
}

async fn replayed_envelope_is_refused(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let env = h.seal(&s.session_id, Step::Identity, &identity_sms(PHONE, h.clock.now_secs())).await;
    let body = json!({ "envelope": env });
    let r = h.widget_post(&s, "identity", Some(&body), "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = h.widget_post(&s, "identity", Some(&body), "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "envelope_replayed"));
    // A wrong code replayed is refused before it can count as an attempt.
    let wrong = h.seal(&s.session_id, Step::Code, &json!({ "code": "000000" })).await;
    let wrong = json!({ "envelope": wrong });
    let first = h.widget_post(&s, "code", Some(&wrong), "198.51.100.7").await;
    assert!(matches!(first.code(), "code_invalid"), "{}", first.json);
    let again = h.widget_post(&s, "code", Some(&wrong), "198.51.100.7").await;
    assert_eq!(again.code(), "envelope_replayed");
    assert_eq!(h.submit_code(&s, &h.last_code()).await.status, StatusCode::OK);
}

async fn tampered_unknown_kid_and_wrong_step_envelopes_are_refused(b: Backend) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let payload = identity_sms(PHONE, h.clock.now_secs());
    let env = h.seal(&s.session_id, Step::Identity, &payload).await;
    let mut ct = b64.decode(&env.ct).unwrap();
    ct[3] ^= 0x01;
    let tampered = json!({ "envelope": { "kid": env.kid, "enc": env.enc, "ct": b64.encode(&ct) } });
    let r = h.widget_post(&s, "identity", Some(&tampered), "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "envelope_invalid"));
    let unknown = json!({ "envelope": { "kid": "k-unknown", "enc": env.enc, "ct": env.ct } });
    let r = h.widget_post(&s, "identity", Some(&unknown), "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "unknown_kid"));
    let wrong_step = h.seal(&s.session_id, Step::Code, &payload).await;
    let r = h.widget_post(&s, "identity", Some(&json!({ "envelope": wrong_step })), "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "envelope_invalid"));
    let other = h.create_session().await;
    let for_other = h.seal(&other.session_id, Step::Identity, &payload).await;
    let r = h.widget_post(&s, "identity", Some(&json!({ "envelope": for_other })), "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "envelope_invalid"));
    // None of it did anything; the genuine envelope still works.
    assert!(h.outbox.messages().is_empty());
    let r = h.widget_post(&s, "identity", Some(&json!({ "envelope": env })), "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

async fn cancel_ends_the_session(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let r = h.widget_post(&s, "cancel", None, "198.51.100.7").await;
    assert_eq!((r.status, r.json["status"].as_str()), (StatusCode::OK, Some("canceled")));
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.code(), "client_secret_used");
    // The site can cancel with its secret key too.
    let s = h.create_session().await;
    let r = h
        .call(
            "POST",
            &format!("/v1/sessions/{}/cancel", s.session_id),
            &[("authorization", &format!("Bearer {SECRET_KEY}"))],
            None,
        )
        .await;
    assert_eq!(r.json["status"], "canceled", "{}", r.json);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "canceled");
}

async fn widget_sessions_need_publishable_key_and_origin(b: Backend) {
    let h = Harness::new(b).await;
    let body = json!({ "publishable_key": "pk_test_shop" }).to_string();
    let r = h.call("POST", "/v1/widget/sessions", &[("origin", ORIGIN)], Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.headers["access-control-allow-origin"], ORIGIN);
    let r = h.call("POST", "/v1/widget/sessions", &[("origin", "https://evil.example")], Some(&body)).await;
    assert_eq!(r.code(), "forbidden_origin");
    let r =
        h.call("POST", "/v1/widget/sessions", &[("origin", ORIGIN)], Some(r#"{"publishable_key":"pk_nope"}"#)).await;
    assert_eq!(r.code(), "unauthorized");
    let r = h.call("POST", "/v1/sessions", &[("authorization", "Bearer pk_test_shop")], Some("{}")).await;
    assert_eq!(r.code(), "unauthorized");
    let r = h.call("POST", "/v1/sessions", &[("authorization", "Bearer sk_wrong")], Some("{}")).await;
    assert_eq!(r.code(), "unauthorized");
    let r = h
        .call(
            "POST",
            "/v1/sessions",
            &[("authorization", &format!("Bearer {SECRET_KEY}"))],
            Some(r#"{"methods":["documents"]}"#),
        )
        .await;
    assert_eq!(r.code(), "method_not_enabled");
}

async fn other_sites_cannot_read_a_session(b: Backend) {
    let other_key = "sk_test_other_site_key_0001";
    let h = Harness::with(b, |cfg| {
        let mut other = shop_site();
        other.id = "other".into();
        other.publishable_key = None;
        other.secret_key_sha256 =
            realname_domain::encoding::hex_encode(&realname_domain::sites::hash_secret(other_key));
        cfg.sites.push(other);
    })
    .await;
    let (s, _) = h.verified_session(PHONE).await;
    let r = h
        .call(
            "GET",
            &format!("/v1/sessions/{}", s.session_id),
            &[("authorization", &format!("Bearer {other_key}"))],
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = h.call("GET", &format!("/v1/sessions/{}", s.session_id), &[], None).await;
    assert_eq!(r.code(), "unauthorized");
}

async fn operations_endpoints_and_openapi(b: Backend) {
    let h = Harness::new(b).await;
    assert_eq!(h.call("GET", "/healthz", &[], None).await.json["status"], "ok");
    let ready = h.call("GET", "/readyz", &[], None).await;
    assert_eq!(ready.json["status"], "ready");
    assert_eq!(ready.json["store"], h.state.store.backend());
    let doc = h.call("GET", "/v1/openapi.json", &[], None).await.json;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/v1/sessions",
        "/v1/widget/sessions",
        "/v1/sessions/{id}",
        "/v1/sessions/{id}/client",
        "/v1/sessions/{id}/identity",
        "/v1/sessions/{id}/code",
        "/v1/sessions/{id}/resend",
        "/v1/sessions/{id}/cancel",
        "/v1/keys",
        "/v1/jwks.json",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    assert!(doc["components"]["schemas"].get("ErrorResponse").is_some());
    // Public key endpoints are readable from any origin, without credentials.
    let keys = h.call("GET", "/v1/keys", &[("origin", "https://anywhere.example")], None).await;
    assert_eq!(keys.headers["access-control-allow-origin"], "*");
    assert_eq!(keys.json["protocol"], 1);
}

async fn documents_step_queues_a_review(b: Backend) {
    use base64::Engine as _;
    let h = Harness::with(b, |cfg| cfg.sites[0].methods.push(realname_core::protocol::Method::Documents)).await;
    let now = h.clock.now_secs();
    let jpeg = |n: u8| {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
        v.extend(std::iter::repeat_n(n, 2000));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
    };
    let payload = |selfie: String, consent_version: &str| {
        let mut identity = identity_sms(PHONE, now);
        identity["method"] = json!("documents");
        identity.as_object_mut().unwrap().remove("phone");
        json!({
            "identity": identity,
            "selfie_jpeg": selfie,
            "document_jpeg": jpeg(2),
            "face_consent": { "version": consent_version, "accepted_at": now },
        })
    };
    // Refusals first: not a JPEG, no face consent, the documents method through the code step.
    let s = h.create_session().await;
    let r = post_documents(
        &h,
        &s,
        payload(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"GIF89a...."), "2025-01"),
    )
    .await;
    assert_eq!((r.code(), r.json["error"]["field"].as_str()), ("validation_failed", Some("selfie_jpeg")), "{}", r.json);
    let r = post_documents(&h, &s, payload(jpeg(1), "")).await;
    assert_eq!(r.code(), "consent_required");
    // No face consent at all, or not a consent object: consent_required too (it was payload_invalid).
    for face in [None, Some(json!(null)), Some(json!("yes")), Some(json!({ "version": "2025-01" }))] {
        let mut p = payload(jpeg(1), "2025-01");
        match face {
            None => drop(p.as_object_mut().unwrap().remove("face_consent")),
            Some(v) => p["face_consent"] = v,
        }
        let r = post_documents(&h, &s, p).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "consent_required"), "{}", r.json);
    }
    let mut as_code = identity_sms(PHONE, now);
    as_code["method"] = json!("documents");
    assert_eq!(h.submit_identity(&s, &as_code).await.code(), "method_not_enabled");
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
    // The real thing: queued for a reviewer, due within the review period.
    let r = post_documents(&h, &s, payload(jpeg(1), "2025-01")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "pending_review");
    assert!(r.json["review_due"].as_str().is_some_and(|d| d.starts_with("2026-10")), "{}", r.json);
    let site = h.site_view(&s.session_id).await;
    assert_eq!(site.json["status"], "pending_review");
    assert_eq!(site.json["method"], "documents");
    assert!(h.outbox.messages().is_empty(), "no code for the documents method");
    // The case's reason is the method's one name, in the queue and in the audit entry.
    let cases = h.state.store.pending_cases(Some("shop"), 10).await.unwrap();
    assert_eq!(cases.iter().map(|c| c.reasons.clone()).collect::<Vec<_>>(), [vec!["documents".to_owned()]]);
    // The step's entries are pending until the chainer (every second in `serve`) links them.
    realname_server::audit::chain::chain_all(h.state.store.as_ref(), &h.state.audit_key).await.unwrap();
    let entries = h.state.store.audit_after(0, 1000).await.unwrap();
    let queued =
        entries.iter().rev().find(|e| e.event.action == "session.pending_review").expect("pending_review entry");
    assert_eq!(queued.event.detail["reasons"], "documents");
}

async fn post_documents(
    h: &Harness,
    s: &realname_core::protocol::CreateSessionResponse,
    p: serde_json::Value,
) -> Reply {
    let env = h.seal(&s.session_id, Step::Documents, &p).await;
    h.widget_post(s, "documents", Some(&json!({ "envelope": env })), "198.51.100.7").await
}
