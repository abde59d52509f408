//! Sessions: versions, finished sessions, the single-use client secret.

use super::*;

pub(super) async fn sessions_roundtrip_and_version_checks(b: &Backend) {
    let s = &b.store;
    let v1 = created(s, "sess-1").await;
    assert_eq!((v1.status, v1.version, v1.client_secret_used), (SessionStatus::Created, 1, false));
    assert_eq!(v1.reference.as_deref(), Some("account-17"));
    assert!(matches!(s.create_session(&new_session("sess-1")).await, Err(StoreError::Conflict)));
    assert_eq!(s.session("sess-1").await.unwrap(), Some(v1.clone()));
    assert_eq!(s.session("nope").await.unwrap(), None);

    let vault = Vault::generate().unwrap();
    let identity = PlainIdentity {
        name: "张三".into(),
        id_number: "11010519491231002X".into(),
        phone: Some("13800138000".into()),
        email: None,
    };
    let mut next = v1.clone();
    next.status = SessionStatus::CodeSent;
    next.methods = Methods::Chosen(realname_core::protocol::Method::Sms);
    next.document_kind = Some("resident_id".into());
    next.consent = Some(Consent { version: "2026-01".into(), at: T0 + 1000 });
    next.identity = Some(vault.seal_identity("sess-1", &identity).unwrap());
    next.blind_index = Some(vault.blind_id_number(&identity.id_number));
    next.updated_at = T0 + 2000;
    let v2 = s.update_session(&next).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2, Session { version: 2, ..next.clone() });
    assert_eq!(vault.open_identity("sess-1", v2.identity.as_ref().unwrap()).unwrap(), identity);
    // Writing from the stale version 1 again loses.
    assert!(matches!(s.update_session(&next).await, Err(StoreError::Conflict)));
    let ghost = Session { id: "ghost".into(), ..v2.clone() };
    assert!(matches!(s.update_session(&ghost).await, Err(StoreError::NotFound)));
    // The expiry can move (e.g. while a review is pending).
    let mut longer = s.session("sess-1").await.unwrap().unwrap();
    longer.expires_at = T0 + 5 * 24 * 60 * MIN;
    let longer = s.update_session(&longer).await.unwrap();
    assert_eq!((longer.version, longer.expires_at), (3, T0 + 5 * 24 * 60 * MIN));
    // Every status survives the round trip.
    let mut cur = longer;
    for st in SessionStatus::ALL.into_iter().filter(|st| !st.is_terminal()) {
        cur.status = st;
        cur = s.update_session(&cur).await.unwrap();
        assert_eq!(s.session("sess-1").await.unwrap().unwrap().status, st);
    }
}

pub(super) async fn finished_sessions_never_change(b: &Backend) {
    let s = &b.store;
    for (i, st) in SessionStatus::ALL.into_iter().filter(|st| st.is_terminal()).enumerate() {
        let mut sess = created(s, &format!("fin-{i}")).await;
        sess.status = st;
        sess.verified_at = (st == SessionStatus::Verified).then_some(T0 + 5);
        let done = s.update_session(&sess).await.unwrap();
        assert_eq!(done.status, st);
        let mut again = done.clone();
        again.status = SessionStatus::Created;
        assert!(matches!(s.update_session(&again).await, Err(StoreError::Conflict)), "{st:?}");
        assert_eq!(s.session(&done.id).await.unwrap(), Some(done));
    }
}

pub(super) async fn client_secret_is_single_use_and_expires(b: &Backend) {
    let s = &b.store;
    created(s, "cs-1").await;
    created(s, "cs-2").await;
    assert_eq!(s.consume_client_secret("cs-1", &[8; 32], T0).await.unwrap(), None, "wrong secret");
    assert_eq!(s.consume_client_secret("cs-x", &[7; 32], T0).await.unwrap(), None, "unknown session");
    let used = s.consume_client_secret("cs-1", &[7; 32], T0 + 1).await.unwrap().expect("first use");
    assert!(used.client_secret_used);
    assert_eq!(used.version, 2);
    assert_eq!(s.consume_client_secret("cs-1", &[7; 32], T0 + 2).await.unwrap(), None, "second use");
    assert_eq!(s.consume_client_secret("cs-2", &[7; 32], T0 + 10 * MIN).await.unwrap(), None, "expired");
    // Many concurrent uses of one fresh secret: exactly one succeeds.
    created(s, "cs-3").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.consume_client_secret("cs-3", &[7; 32], T0 + i).await.unwrap().is_some() })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

pub(super) async fn concurrent_updates_let_exactly_one_win(b: &Backend) {
    let s = &b.store;
    let base = created(s, "race").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (s, mut mine) = (s.clone(), base.clone());
            tokio::spawn(async move {
                mine.failure = Some(format!("writer-{i}"));
                s.update_session(&mine).await
            })
        })
        .collect();
    let (mut ok, mut conflicts) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(sess) => ok.push(sess),
            Err(StoreError::Conflict) => conflicts += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok.len(), conflicts), (1, 19));
    assert_eq!(s.session("race").await.unwrap().as_ref(), ok.first());
}
