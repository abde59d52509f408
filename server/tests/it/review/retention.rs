//! Retention and erasure of review data: images purged after their retention, and a deletion request that
//! leaves no personal data in the database while the audit trail stays.

use super::*;

#[tokio::test]
async fn purge_removes_images_after_retention_and_keeps_the_audit_trail() {
    for h in Harness::all().await {
        let (_, decided) = h.case("site-a").await;
        let (_, pending) = h.case("site-a").await;
        let t = h.login_as("rita", Role::Reviewer, None).await;
        let d = json!({"decision": "approve", "reason_code": "documents_match"});
        assert_eq!(
            call(&h.app(), "POST", &format!("/console/api/cases/{decided}/decision"), Some(&t), Some(d)).await.0,
            StatusCode::OK
        );
        h.clock.advance_secs(29 * 86_400);
        assert_eq!(h.rv.purge_images().await.unwrap(), 0, "{}", h.name);
        assert_eq!(h.store.case_images(&decided).await.unwrap().len(), 2);
        h.clock.advance_secs(2 * 86_400);
        assert_eq!(h.rv.purge_images().await.unwrap(), 1, "{}", h.name);
        assert!(h.store.case_images(&decided).await.unwrap().is_empty());
        assert!(h.store.case(&decided).await.unwrap().unwrap().images_purged_at.is_some());
        // Undecided cases keep their images however old; a second run finds nothing.
        assert_eq!(h.store.case_images(&pending).await.unwrap().len(), 2);
        assert_eq!(h.rv.purge_images().await.unwrap(), 0);
        // The trail is complete and intact.
        let entries = h.audit_entries().await;
        let about: Vec<&str> = entries
            .iter()
            .filter(|e| e.event.subject == format!("case:{decided}"))
            .map(|e| e.event.action.as_str())
            .collect();
        assert_eq!(about, vec!["review.case.created", "review.case.approved", "retention.images_purged"], "{}", h.name);
        assert_eq!(
            realname_server::audit::cli::verify(h.store.as_ref(), &h.audit_keys(), &[]).await.unwrap().verified.entries,
            entries.len() as u64
        );
    }
}

#[tokio::test]
async fn a_deletion_request_leaves_no_personal_data_in_the_database() {
    for h in Harness::all().await {
        let app = h.app();
        let (session, case_id) = h.case("site-a").await;
        let msg = "我的手机号是13912345678，请删除";
        let filed = h.rv.file_complaint("site-a", Some(&session.id), "privacy", msg).await.unwrap();
        // The sealed bytes as stored: once erased they must be gone from the file, not just unreachable
        // (secure_delete zeroes the freed cells and pages; a vault key leaked later must find nothing to open).
        let sealed = match &h.file {
            Some(file) => sealed_bytes(file, &session.id, &case_id, filed.ticket.as_str()).await,
            None => Vec::new(),
        };
        let path = format!("/v1/sessions/{}/erase", session.id);
        // Another site's key, or none, erases nothing.
        assert_eq!(call(&app, "POST", &path, None, None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(call(&app, "POST", &path, Some("sk_test_site_b"), None).await.0, StatusCode::NOT_FOUND);
        assert!(h.store.session(&session.id).await.unwrap().unwrap().identity.is_some());
        // A reviewer cannot erase from the console; only an admin can.
        let t = h.login_as("rita", Role::Reviewer, None).await;
        assert_eq!(
            call(&app, "POST", &format!("/console/api/sessions/{}/erase", session.id), Some(&t), None).await.0,
            StatusCode::FORBIDDEN
        );

        let (st, e) = call(&app, "POST", &path, Some("sk_test_site_a"), None).await;
        assert_eq!(st, StatusCode::OK, "{e}");
        assert_eq!((e["identity_wiped"].as_bool(), e["case_id"].as_str()), (Some(true), Some(case_id.as_str())));
        assert_eq!(e["complaints"][0], filed.ticket.as_str());
        let s = h.store.session(&session.id).await.unwrap().unwrap();
        assert!(s.identity.is_none() && s.blind_index.is_none());
        assert_eq!(h.store.case(&case_id).await.unwrap().unwrap().status.as_str(), "erased");
        assert!(h.store.case_images(&case_id).await.unwrap().is_empty());
        assert!(h.store.complaint(&filed.ticket).await.unwrap().unwrap().message.is_none());
        // The audit trail records the erasure, by whom, without personal data, and still verifies.
        let entries = h.audit_entries().await;
        let erasure = entries.iter().find(|en| en.event.action == "erasure.completed").unwrap();
        assert_eq!(erasure.event.actor, "site:site-a");
        assert_eq!(erasure.event.subject, format!("session:{}", session.id));
        realname_server::audit::cli::verify(h.store.as_ref(), &h.audit_keys(), &[]).await.unwrap();

        if let Some(file) = &h.file {
            // Read right after the answer: the erasure itself flushed the WAL (without it, the log keeps the
            // erased pages' old content until it is overwritten).
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                bytes.extend(std::fs::read(format!("{}{suffix}", file.display())).unwrap_or_default());
            }
            for needle in ["张三丰", "11010519491231002X", "13912345678", "PNG-face-bytes", "-id-front"] {
                let n = needle.as_bytes();
                assert!(!bytes.windows(n.len()).any(|w| w == n), "{needle} found in the database files");
            }
            assert!(sealed.len() >= 5, "{sealed:?}");
            for (what, ct) in &sealed {
                // 16 bytes of ciphertext or HMAC are unique enough; whole blobs may span pages.
                assert!(ct.len() >= 16, "{what}: {} bytes", ct.len());
                let n = &ct[ct.len() - 16..];
                assert!(
                    !bytes.windows(n.len()).any(|w| w == n),
                    "sealed {what} still in the database file after erasure"
                );
            }
        }
    }
}

/// The sealed identity fields, images and complaint message of one session as stored in the SQLite file.
async fn sealed_bytes(file: &std::path::Path, session: &str, case: &str, ticket: &str) -> Vec<(String, Vec<u8>)> {
    use sqlx::Row;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    let mut out = Vec::new();
    let row = sqlx::query("SELECT name_ct, id_number_ct FROM sessions WHERE id = ?")
        .bind(session)
        .fetch_one(&pool)
        .await
        .unwrap();
    for col in ["name_ct", "id_number_ct"] {
        out.push((col.to_owned(), row.get::<Vec<u8>, _>(col)));
    }
    for row in sqlx::query("SELECT kind, sealed FROM review_images WHERE case_id = ?")
        .bind(case)
        .fetch_all(&pool)
        .await
        .unwrap()
    {
        out.push((row.get::<String, _>("kind"), row.get::<Vec<u8>, _>("sealed")));
    }
    let msg: Vec<u8> = sqlx::query("SELECT message FROM complaints WHERE ticket = ?")
        .bind(ticket)
        .fetch_one(&pool)
        .await
        .unwrap()
        .get("message");
    out.push(("complaint message".to_owned(), msg));
    pool.close().await;
    out
}
