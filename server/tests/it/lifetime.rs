//! A session's status follows the clock at every read, and a client secret stops working with its session
//! (docs/protocol.md 2.1 and 4.10), `GET /v1/sessions/{id}/client` included. Every case on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use realname_domain::clock::Clock as _;
use realname_domain::session::SessionStatus;
use realname_store::PurgePolicy;

use crate::harness::*;

on_both_backends!(status_follows_the_clock_at_every_read, the_client_view_ends_with_the_session);

/// `POST /v1/sessions/{id}/cancel` with the site's secret key.
async fn site_cancel(h: &Harness, id: &str) -> Reply {
    h.call("POST", &format!("/v1/sessions/{id}/cancel"), &[("authorization", &format!("Bearer {SECRET_KEY}"))], None)
        .await
}

async fn stored_status(h: &Harness, id: &str) -> SessionStatus {
    h.state.store.session(id).await.unwrap().unwrap().status
}

async fn status_follows_the_clock_at_every_read(b: Backend) {
    // A client secret that outlives its session, so that what shows is the session's own end.
    let h = Harness::with(b, |c| c.session.client_secret_ttl_secs = c.session.session_ttl_secs * 2).await;
    let ttl = h.state.cfg.session.session_ttl_secs;
    let created = h.create_session().await;
    let sent = h.create_session().await;
    let r = h.submit_identity(&sent, &identity_sms("13912340001", h.clock.now_secs())).await;
    assert_eq!(r.json["status"], "code_sent", "{}", r.json);
    let (verified, _) = h.verified_session("13912340002").await;

    // A second before the end: unfinished sessions are what they were.
    h.clock.advance_secs(ttl - 1);
    assert_eq!(h.site_view(&created.session_id).await.json["status"], "created");
    assert_eq!(h.client_view(&sent).await.json["status"], "code_sent");

    // At the end, before any sweep: every read says expired, and the reads stored nothing.
    h.clock.advance_secs(1);
    for (s, stored) in [(&created, SessionStatus::Created), (&sent, SessionStatus::CodeSent)] {
        let site = h.site_view(&s.session_id).await;
        assert_eq!((site.status, site.json["status"].as_str()), (StatusCode::OK, Some("expired")), "{}", site.json);
        assert!(site.json.get("masked_name").is_none() && site.json.get("masked_number").is_none(), "{}", site.json);
        let r = h.client_view(s).await;
        assert_eq!((r.status, r.code()), (StatusCode::GONE, "session_expired"), "{}", r.json);
        assert_eq!(stored_status(&h, &s.session_id).await, stored);
    }
    // Finished sessions do not expire.
    let site = h.site_view(&verified.session_id).await;
    assert_eq!(site.json["status"], "verified");
    assert!(site.json["masked_name"].is_string() && site.json["result_token"].is_string(), "{}", site.json);
    // Cancel: the site's answers that the session is final; the widget's that it expired (and stores it).
    let r = site_cancel(&h, &created.session_id).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "wrong_step"), "{}", r.json);
    assert_eq!(stored_status(&h, &created.session_id).await, SessionStatus::Created);
    let r = h.widget_post(&sent, "cancel", None, "198.51.100.7").await;
    assert_eq!((r.status, r.code()), (StatusCode::GONE, "session_expired"), "{}", r.json);
    assert_eq!(stored_status(&h, &sent.session_id).await, SessionStatus::Expired);

    // The sweep stores the rest; every answer stays the same.
    let policy =
        PurgePolicy { now: h.clock.now_ms(), session_retention_ms: i64::MAX / 4, delivery_retention_ms: i64::MAX / 4 };
    h.state.store.purge(&policy).await.unwrap();
    assert_eq!(stored_status(&h, &created.session_id).await, SessionStatus::Expired);
    for s in [&created, &sent] {
        assert_eq!(h.site_view(&s.session_id).await.json["status"], "expired");
        assert_eq!(h.client_view(s).await.code(), "session_expired");
        assert_eq!(site_cancel(&h, &s.session_id).await.code(), "wrong_step");
    }
}

async fn the_client_view_ends_with_the_session(b: Backend) {
    let h = Harness::new(b).await;
    // Open sessions answer.
    let open = h.create_session().await;
    let r = h.client_view(&open).await;
    assert_eq!((r.status, r.json["status"].as_str()), (StatusCode::OK, Some("created")), "{}", r.json);
    // Verified, canceled by the person, canceled by the site: the client secret is used up.
    let (verified, _) = h.verified_session(PHONE).await;
    let by_person = h.create_session().await;
    assert_eq!(h.widget_post(&by_person, "cancel", None, "198.51.100.7").await.status, StatusCode::OK);
    let by_site = h.create_session().await;
    assert_eq!(site_cancel(&h, &by_site.session_id).await.status, StatusCode::OK);
    for s in [&verified, &by_person, &by_site] {
        let r = h.client_view(s).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "client_secret_used"), "{}", r.json);
        assert!(r.json.get("status").is_none(), "{}", r.json);
    }
    // Past the client secret's own lifetime (30 minutes by default, the session lives 60).
    h.clock.advance_secs(h.state.cfg.session.client_secret_ttl_secs);
    let r = h.client_view(&open).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "client_secret_expired"), "{}", r.json);
    // Still the site's to read.
    assert_eq!(h.site_view(&open.session_id).await.json["status"], "created");
}
