//! The mainland driving licence (机动车驾驶证) as a document kind: the server re-validates its number as the
//! holder's resident ID number (refusing what the browser would), keeps the kind in the site's result, and runs
//! `id_match` on it (the number is the resident ID number the authoritative source holds).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use realname_core::protocol::Check;
use realname_domain::config::{CheckPolicy, SiteCheck};
use serde_json::{Value, json};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(a_driving_licence_is_revalidated_as_a_resident_id_number_and_checked);

/// An SMS identity on a driving licence.
fn licence(h: &Harness, name: &str, number: &str) -> Value {
    let mut v = identity_sms(PHONE, h.clock.now_secs());
    v["document_kind"] = json!("driving_licence");
    v["name"] = json!(name);
    v["number"] = json!(number);
    v
}

async fn a_driving_licence_is_revalidated_as_a_resident_id_number_and_checked(b: Backend) {
    let h = Harness::with(b, |c| {
        c.sites[0].checks =
            vec![SiteCheck { check: Check::IdMatch, provider: "demo".into(), unavailable: CheckPolicy::Review }];
    })
    .await;
    // What the browser refuses, the server refuses too, and nothing changes.
    for (number, reason) in [("110105194912310021", "invalid_check_char"), ("810000199001010019", "invalid_region")] {
        let s = h.create_session().await;
        let r = h.submit_identity(&s, &licence(&h, "张三", number)).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{}", r.json);
        assert_eq!((&r.json["error"]["field"], &r.json["error"]["reason"]), (&json!("number"), &json!(reason)));
        assert_eq!(h.client_view(&s).await.json["status"], "created");
    }
    // The demo source holds 11010519491231002X under 张三: the licence's number is checked like the card's.
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &licence(&h, "张三丰", ID_NUMBER)).await;
    assert_eq!((r.code(), &r.json["error"]["attempts_left"]), ("identity_mismatch", &json!(2)), "{}", r.json);
    let r = h.submit_identity(&s, &licence(&h, "张三", ID_NUMBER)).await;
    assert_eq!(r.json["status"], "code_sent", "{}", r.json);
    let r = h.submit_code(&s, &h.last_code()).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);
    let v = h.site_view(&s.session_id).await.json;
    assert_eq!(v["document_kind"], "driving_licence", "{v}");
    let outcomes: Vec<&Value> = v["checks"].as_array().unwrap().iter().map(|c| &c["outcome"]).collect();
    assert_eq!(outcomes, [&json!("mismatch"), &json!("match")], "{v}");
}
