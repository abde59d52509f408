//! Webhooks: signed with `Realname-Signature`, verifiable by the receiver, retried after a 500 with the same
//! event id (at least once), abandoned after the last attempt.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use realname_server::webhooks::{TickReport, tick};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(webhook_signature_verifies_and_retries_after_a_500);

const SECRET: &str = "whsec_test_0123456789";

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail_first: Arc<Mutex<u32>>,
}

/// A site's webhook endpoint on loopback: answers 500 to the first `fail_first` calls, then 200.
async fn start_receiver(fail_first: u32) -> (String, Receiver) {
    let rx = Receiver { fail_first: Arc::new(Mutex::new(fail_first)), ..Receiver::default() };
    let state = rx.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                state.seen.lock().unwrap().push((headers, body));
                let mut left = state.fail_first.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

async fn webhook_signature_verifies_and_retries_after_a_500(b: Backend) {
    let (url, rx) = start_receiver(1).await;
    let h = Harness::with(b, |cfg| {
        cfg.sites[0].webhook_url = Some(url.clone());
        cfg.sites[0].webhook_secret = realname_domain::config::Secret::new(SECRET);
    })
    .await;
    let (s, _) = h.verified_session(PHONE).await;
    // Two events queued: code_sent and verified. The receiver fails the first call.
    let first = tick(&h.state, "w1").await;
    assert_eq!(first, TickReport { delivered: 1, retried: 1, abandoned: 0 });
    // Not due yet: nothing happens until the backoff has passed.
    assert_eq!(tick(&h.state, "w1").await, TickReport::default());
    h.clock.advance_secs(31);
    assert_eq!(tick(&h.state, "w1").await, TickReport { delivered: 1, retried: 0, abandoned: 0 });

    let seen = rx.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let now = h.clock.now_secs();
    let mut types = Vec::new();
    for (headers, body) in &seen {
        let sig = headers["realname-signature"].to_str().unwrap();
        assert!(realname_domain::signature::verify(SECRET.as_bytes(), sig, body.as_bytes(), now, 300), "{sig}");
        assert!(!realname_domain::signature::verify(b"wrong", sig, body.as_bytes(), now, 300));
        let tampered = body.replace("verified", "failed");
        if tampered != *body {
            assert!(!realname_domain::signature::verify(SECRET.as_bytes(), sig, tampered.as_bytes(), now, 300));
        }
        let event: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(headers["realname-event-id"].to_str().unwrap(), event["id"].as_str().unwrap());
        assert_eq!(event["data"]["session_id"], s.session_id.as_str());
        assert!(!body.contains(ID_NUMBER) && !body.contains(PHONE) && !body.contains(NAME));
        types.push(event["type"].as_str().unwrap().to_owned());
    }
    // The failed event came again with the same id.
    let ids: Vec<String> = seen.iter().map(|(h, _)| h["realname-event-id"].to_str().unwrap().to_owned()).collect();
    assert_eq!(ids[0], ids[2], "retry keeps the event id");
    types.sort();
    types.dedup();
    assert_eq!(types, vec!["verification.code_sent".to_owned(), "verification.verified".to_owned()]);
    let verified = seen.iter().find(|(_, b)| b.contains("verification.verified")).unwrap();
    let event: serde_json::Value = serde_json::from_str(&verified.1).unwrap();
    assert_eq!(event["data"]["status"], "verified");
    assert_eq!(event["data"]["masked_number"], realname_core::validate::mask_id(ID_NUMBER));
}
