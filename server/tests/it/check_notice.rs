//! The identity checks a session's site runs, named in the session answers for the widget's consent (PIPL art.
//! 23: the name and number go to another processor): `checks` of `POST /v1/sessions`, `POST /v1/widget/sessions`
//! and `GET /v1/sessions/{id}/client`, with each check's provider, in the order they run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use realname_core::protocol::{Check, CheckNotice, CreateSessionResponse};
use realname_domain::config::{CheckPolicy, SiteCheck, SiteConfig};
use realname_domain::encoding::hex_encode;
use realname_domain::sites::hash_secret;
use serde_json::{Value, json};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(session_answers_name_the_sites_checks_and_their_providers);

/// `POST /v1/widget/sessions` with `key` from the allowed origin.
async fn widget_session(h: &Harness, key: &str) -> Reply {
    h.call("POST", "/v1/widget/sessions", &[("origin", ORIGIN)], Some(&json!({ "publishable_key": key }).to_string()))
        .await
}

async fn session_answers_name_the_sites_checks_and_their_providers(b: Backend) {
    // `shop` runs id_match with the demo provider; `plain`, on the same server, runs no check.
    let h = Harness::with(b, |c| {
        c.sites[0].checks =
            vec![SiteCheck { check: Check::IdMatch, provider: "demo".into(), unavailable: CheckPolicy::Refuse }];
        c.sites.push(SiteConfig {
            id: "plain".into(),
            publishable_key: Some("pk_test_plain".into()),
            secret_key_sha256: hex_encode(&hash_secret("sk_test_plain_0123456789abcdef")),
            checks: Vec::new(),
            ..shop_site()
        });
    })
    .await;

    let r = widget_session(&h, "pk_test_plain").await;
    assert_eq!((r.status, &r.json["checks"]), (StatusCode::CREATED, &json!([])), "{}", r.json);
    let plain: CreateSessionResponse = serde_json::from_value(r.json).unwrap();
    let v = h.client_view(&plain).await;
    assert_eq!((v.status, &v.json["checks"]), (StatusCode::OK, &json!([])), "{}", v.json);

    // Named in every answer, with the provider, and nothing of anyone's identity.
    let named = json!([{ "check": "id_match", "provider": "demo" }]);
    let s = h.create_session().await;
    assert_eq!(s.checks, [CheckNotice { check: Check::IdMatch, provider: "demo".into() }]);
    let r = widget_session(&h, "pk_test_shop").await;
    assert_eq!((r.status, &r.json["checks"]), (StatusCode::CREATED, &named), "{}", r.json);
    let widget: CreateSessionResponse = serde_json::from_value(r.json).unwrap();
    for s in [&s, &widget] {
        let v = h.client_view(s).await;
        assert_eq!((v.status, &v.json["checks"]), (StatusCode::OK, &named), "{}", v.json);
    }
    // Still named after a refusal by the check, while the person corrects (the widget asks the client view then).
    let mut id = identity_sms("13712340000", h.clock.now_secs());
    id["name"] = Value::from("张三丰");
    id["number"] = Value::from(ID_NUMBER);
    let r = h.submit_identity(&s, &id).await;
    assert_eq!(r.code(), "identity_mismatch", "{}", r.json);
    assert_eq!(h.client_view(&s).await.json["checks"], named);
}
