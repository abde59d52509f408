//! Complaints on SQLite and PostgreSQL: filing with a ticket and secret, status checks, due dates and overdue
//! flags with an injected clock, reviewers answering and closing, every view audited.

use axum::http::StatusCode;
use realname_domain::calendar::Date;
use realname_domain::clock::Clock as _;
use realname_store::review::Role;
use serde_json::json;

use crate::review::{Harness, call};

#[tokio::test]
async fn a_person_files_a_complaint_and_reviewers_answer_and_close_it() {
    for h in Harness::all().await {
        let app = h.app();
        let session = h.pending_session("site-a", "李四", "110105194912310029").await;
        let msg = "我的证件是真的，手机 13800138000，请重新审核";
        let (st, filed) = call(
            &app,
            "POST",
            "/v1/complaints",
            None,
            Some(json!({"session_id": session.id, "category": "wrong_result", "message": msg})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{filed}");
        let ticket = filed["ticket"].as_str().unwrap().to_owned();
        let secret = filed["secret"].as_str().unwrap().to_owned();
        assert!(ticket.starts_with("C2604-"), "{ticket}");
        // Filed Thu 2026-04-30: due at the end of Mon 05-11 (劳动节, Saturday 05-09 worked).
        assert_eq!(filed["due_at"], "2026-05-12".parse::<Date>().unwrap().beijing_midnight_unix() * 1000);

        // Status: only with the secret; a wrong secret looks like an unknown ticket.
        let path = format!("/v1/complaints/{ticket}");
        assert_eq!(call(&app, "GET", &path, None, None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(call(&app, "GET", &path, Some("wrong-secret"), None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            call(&app, "GET", "/v1/complaints/C2604-XXXX-XXXX", Some(&secret), None).await.0,
            StatusCode::NOT_FOUND
        );
        let (st, s) = call(&app, "GET", &path, Some(&secret), None).await;
        assert_eq!((st, s["status"].as_str()), (StatusCode::OK, Some("open")));

        // Bad filings change nothing.
        for b in [
            json!({"session_id": session.id, "category": "spam", "message": "x"}),
            json!({"session_id": session.id, "category": "other", "message": "  "}),
            json!({"session_id": "ses_unknown", "category": "other", "message": "x"}),
            json!({"session_id": session.id, "category": "other"}),
        ] {
            let (st, body) = call(&app, "POST", "/v1/complaints", None, Some(b)).await;
            assert!(st.is_client_error(), "{st} {body}");
            assert!(body["error"]["code"].is_string());
        }

        // Reviewers see it; a reviewer of another site does not.
        let token = h.login_as("rita", Role::Reviewer, None).await;
        let other = h.login_as("bob", Role::Reviewer, Some("site-b")).await;
        let (_, list) = call(&app, "GET", "/console/api/complaints", Some(&other), None).await;
        assert_eq!(list["complaints"].as_array().unwrap().len(), 0);
        assert_eq!(
            call(&app, "GET", &format!("/console/api/complaints/{ticket}"), Some(&other), None).await.0,
            StatusCode::NOT_FOUND
        );
        let (_, list) = call(&app, "GET", "/console/api/complaints", Some(&token), None).await;
        assert_eq!(list["complaints"][0]["ticket"], ticket.as_str());
        assert_eq!(list["overdue"], 0);
        assert!(list["complaints"][0].get("message").is_none(), "the list carries no message");

        // Past the due time it is flagged overdue.
        h.clock.set_ms("2026-05-12".parse::<Date>().unwrap().beijing_midnight_unix() * 1000);
        let token = h.login("rita").await;
        let (_, list) = call(&app, "GET", "/console/api/complaints", Some(&token), None).await;
        assert_eq!((list["overdue"].as_u64(), list["complaints"][0]["overdue"].as_bool()), (Some(1), Some(true)));

        // Viewing decrypts the message and is audited.
        let (st, v) = call(&app, "GET", &format!("/console/api/complaints/{ticket}"), Some(&token), None).await;
        assert_eq!((st, v["message"].as_str()), (StatusCode::OK, Some(msg)));
        let views = h.audit_entries().await.into_iter().filter(|e| e.event.action == "complaint.viewed").count();
        assert_eq!(views, 1);

        let (st, _) = call(
            &app,
            "POST",
            &format!("/console/api/complaints/{ticket}/answer"),
            Some(&token),
            Some(json!({"answer": "已重新审核，认证通过。"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (_, s) = call(&app, "GET", &path, Some(&secret), None).await;
        assert_eq!((s["status"].as_str(), s["answer"].as_str()), (Some("answered"), Some("已重新审核，认证通过。")));
        let (st, _) = call(&app, "POST", &format!("/console/api/complaints/{ticket}/close"), Some(&token), None).await;
        assert_eq!(st, StatusCode::OK);
        let (_, s) = call(&app, "GET", &path, Some(&secret), None).await;
        assert_eq!(s["status"], "closed");
        assert_eq!(
            call(&app, "POST", &format!("/console/api/complaints/{ticket}/close"), Some(&token), None).await.0,
            StatusCode::CONFLICT
        );
        let (_, list) = call(&app, "GET", "/console/api/complaints", Some(&token), None).await;
        assert_eq!(list["open"], 0);

        let text = format!("{:?}", h.audit_entries().await);
        assert!(!text.contains("13800138000") && !text.contains("李四"));
        for a in ["complaint.filed", "complaint.answered", "complaint.closed"] {
            assert!(text.contains(a), "{a}");
        }
    }
}

/// Refused filings write nothing: five with an unknown category do not use up the day's five complaints.
#[tokio::test]
async fn refused_complaints_do_not_count_toward_the_daily_limit() {
    for h in Harness::all().await {
        let app = h.app();
        let session = h.pending_session("site-a", "李四", "110105194912310029").await;
        let key = format!("complaint:session:{}", session.id);
        let count = || async { h.store.rate_count(&key, 86_400_000, h.clock.now_ms()).await.unwrap() };
        for _ in 0..5 {
            let bad = json!({"session_id": session.id, "category": "spam", "message": "x"});
            let (st, body) = call(&app, "POST", "/v1/complaints", None, Some(bad)).await;
            assert_eq!(
                (st, body["error"]["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
            );
        }
        assert_eq!(count().await, 0, "{}: a refused complaint was counted", h.name);
        let good = json!({"session_id": session.id, "category": "other", "message": "请重新审核"});
        let (st, body) = call(&app, "POST", "/v1/complaints", None, Some(good)).await;
        assert_eq!(st, StatusCode::CREATED, "{}: {body}", h.name);
        assert_eq!(count().await, 1, "{}", h.name);
    }
}
