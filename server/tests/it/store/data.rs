//! Purge and data protection at rest.

use super::*;

pub(super) async fn purge_expires_and_deletes(b: &Backend) {
    let s = &b.store;
    let vault = Vault::generate().unwrap();
    let mut open = created(s, "p-open").await;
    open.identity = Some(
        vault
            .seal_identity(
                "p-open",
                &PlainIdentity {
                    name: "王五".into(),
                    id_number: "110105194912310029".into(),
                    phone: None,
                    email: Some("w@example.com".into()),
                },
            )
            .unwrap(),
    );
    open.blind_index = Some(vec![1; 32]);
    open.status = SessionStatus::CodeSent;
    s.update_session(&open).await.unwrap();
    let mut verified = created(s, "p-done").await;
    verified.status = SessionStatus::Verified;
    s.update_session(&verified).await.unwrap();
    let mut review = created(s, "p-review").await;
    review.status = SessionStatus::PendingReview;
    s.update_session(&review).await.unwrap();
    s.issue_code(&new_code("p-done", 1, T0)).await.unwrap();
    s.rate_hit("k", MIN, T0).await.unwrap();
    s.remember_envelope("p-open", b"e", T0 + MIN).await.unwrap();
    let id = s.enqueue_delivery(&delivery("p-evt", T0)).await.unwrap();
    s.claim_deliveries("w", T0, MIN, 1).await.unwrap();
    s.complete_delivery(id, "w", T0 + 1).await.unwrap();
    s.enqueue_delivery(&delivery("p-pending", T0)).await.unwrap();

    let day = 24 * 60 * MIN;
    let policy = |now| PurgePolicy { now, session_retention_ms: 30 * day, delivery_retention_ms: 7 * day };
    let nothing = s.purge(&policy(T0)).await.unwrap();
    assert_eq!(nothing, PurgeReport::default());

    let first = s.purge(&policy(T0 + 2 * 60 * MIN)).await.unwrap();
    assert_eq!(
        (first.sessions_expired, first.codes_deleted, first.rate_windows_deleted, first.envelopes_deleted),
        (1, 1, 1, 1)
    );
    assert_eq!((first.sessions_deleted, first.deliveries_deleted), (0, 0));
    let expired = s.session("p-open").await.unwrap().unwrap();
    assert_eq!((expired.status, expired.identity, expired.blind_index), (SessionStatus::Expired, None, None));
    assert_eq!(s.session("p-done").await.unwrap().map(|x| x.status), Some(SessionStatus::Verified));
    assert_eq!(s.session("p-review").await.unwrap().map(|x| x.status), Some(SessionStatus::PendingReview));
    assert!(s.remember_envelope("p-open", b"e", T0 + 3 * 60 * MIN).await.unwrap(), "forgotten after expiry");

    let later = s.purge(&policy(T0 + 31 * day)).await.unwrap();
    assert_eq!((later.sessions_deleted, later.deliveries_deleted), (2, 1));
    assert_eq!(s.session("p-done").await.unwrap(), None);
    assert!(s.session("p-review").await.unwrap().is_some(), "reviews are never purged while pending");
    assert_eq!(s.delivery(id).await.unwrap(), None);
    assert_eq!(s.claim_deliveries("w", T0 + 31 * day, MIN, 10).await.unwrap().len(), 1, "pending kept");
}

pub(super) async fn no_plaintext_personal_data_at_rest(b: &Backend) {
    let s = &b.store;
    let vault = Vault::generate().unwrap();
    let people = [
        PlainIdentity {
            name: "欧阳明月".into(),
            id_number: "11010519491231002X".into(),
            phone: Some("13912345678".into()),
            email: None,
        },
        PlainIdentity {
            name: "Zhang Weiqiang".into(),
            id_number: "440305199001011234".into(),
            phone: None,
            email: Some("weiqiang.zhang@example.com".into()),
        },
    ];
    for (i, p) in people.iter().enumerate() {
        let id = format!("pii-{i}");
        let mut sess = created(s, &id).await;
        sess.identity = Some(vault.seal_identity(&id, p).unwrap());
        sess.blind_index = Some(vault.blind_id_number(&p.id_number));
        sess.status = SessionStatus::CodeSent;
        let sess = s.update_session(&sess).await.unwrap();
        s.issue_code(&new_code(&id, 4, T0)).await.unwrap();
        let contact = p.phone.as_deref().or(p.email.as_deref()).unwrap();
        s.rate_hit(&format!("send:{}", vault.blind_text("contact", contact)), MIN, T0).await.unwrap();
        assert!(s.bind_identity("site-a", sess.blind_index.as_deref().unwrap(), &id, 3, T0).await.unwrap());
        let back = s.session(&id).await.unwrap().unwrap();
        assert_eq!(&vault.open_identity(&id, back.identity.as_ref().unwrap()).unwrap(), p);
    }
    // Control rows: plaintext put in a text column and in a binary column must be found, or the scan is blind.
    let mut control = created(s, "control").await;
    control.failure = Some("TEXT-CONTROL-马".into());
    control.blind_index = Some("BYTES-CONTROL-马".as_bytes().to_vec());
    s.update_session(&control).await.unwrap();
    let raw = b.raw_contents().await;
    for marker in ["site-a", "pii-1", "TEXT-CONTROL-马", "BYTES-CONTROL-马"] {
        assert!(raw.contains(marker), "the scan does not see {marker:?}");
    }
    for p in &people {
        let mut secrets = vec![p.name.as_str(), p.id_number.as_str(), &p.id_number[6..14]];
        secrets.extend(p.phone.as_deref());
        secrets.extend(p.email.as_deref());
        for secret in secrets {
            assert!(!raw.contains(secret), "plaintext {secret:?} found in the {} database", s.backend());
        }
    }
}

pub(super) async fn identity_can_be_erased(b: &Backend) {
    let s = &b.store;
    let vault = Vault::generate().unwrap();
    let person = PlainIdentity {
        name: "钱七".into(),
        id_number: "110105194912310029".into(),
        phone: Some("13700137000".into()),
        email: None,
    };
    let mut ids = Vec::new();
    for (i, status) in [SessionStatus::Verified, SessionStatus::CodeSent, SessionStatus::Failed].into_iter().enumerate()
    {
        let id = format!("erase-{i}");
        let mut sess = created(s, &id).await;
        sess.identity = Some(vault.seal_identity(&id, &person).unwrap());
        sess.blind_index = Some(vault.blind_id_number(&person.id_number));
        sess.status = status;
        sess.updated_at = T0 + i as i64;
        s.update_session(&sess).await.unwrap();
        ids.push(id);
    }
    // Erasure on request works even on a finished session, once.
    assert!(s.erase_identity(&ids[0], T0 + 10).await.unwrap());
    let erased = s.session(&ids[0]).await.unwrap().unwrap();
    assert_eq!((erased.identity, erased.blind_index, erased.status), (None, None, SessionStatus::Verified));
    assert_eq!((erased.version, erased.updated_at), (3, T0 + 10));
    assert!(!s.erase_identity(&ids[0], T0 + 11).await.unwrap());
    assert!(!s.erase_identity("nope", T0).await.unwrap());
    // Retention: only finished sessions last changed before the cutoff lose their identity data.
    assert_eq!(s.erase_finished_identities(T0 + 2, T0 + 20).await.unwrap(), 0, "erase-2 changed at T0+2");
    assert_eq!(s.erase_finished_identities(T0 + 3, T0 + 20).await.unwrap(), 1);
    assert_eq!(s.session(&ids[2]).await.unwrap().unwrap().identity, None);
    assert!(s.session(&ids[1]).await.unwrap().unwrap().identity.is_some(), "open sessions keep theirs");
}
