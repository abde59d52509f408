//! Demo mode's movable clock (`POST /dev/clock`): end-to-end tests let a code expire in a separate server process
//! without waiting; outside demo mode the route does not exist.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(moving_the_demo_clock_expires_a_code, the_clock_refuses_bad_moves, no_clock_outside_demo_mode);

async fn moving_the_demo_clock_expires_a_code(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    assert_eq!(h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let before = h.clock.now_ms();
    let r = h.call("POST", "/dev/clock", &[], Some(r#"{"advance_secs": 301}"#)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.clock.now_ms(), before + 301_000);
    assert_eq!(r.json["now_ms"], before + 301_000);
    let r = h.submit_code(&s, &h.last_code()).await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "code_expired"));
}

async fn the_clock_refuses_bad_moves(b: Backend) {
    let h = Harness::new(b).await;
    let before = h.clock.now_ms();
    for body in [r#"{"advance_secs": -1}"#, r#"{"advance_secs": 99999999999}"#, r#"{"advance_secs": "1"}"#, "{}"] {
        let r = h.call("POST", "/dev/clock", &[], Some(body)).await;
        assert!(r.status.is_client_error(), "{body}: {}", r.status);
        assert!(r.json["error"]["code"].is_string(), "{body}: {}", r.json);
    }
    assert_eq!(h.clock.now_ms(), before, "a refused move changed the clock");
}

async fn no_clock_outside_demo_mode(b: Backend) {
    let h = Harness::with(b, |cfg| cfg.server.demo = false).await;
    let before = h.clock.now_ms();
    let r = h.call("POST", "/dev/clock", &[], Some(r#"{"advance_secs": 60}"#)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.json);
    assert_eq!(h.clock.now_ms(), before);
}
