//! The review queue and console API on SQLite and PostgreSQL: due dates and overdue flags with an injected clock,
//! reviewer authentication and authorization, site isolation, audit entries for every personal-data view,
//! decisions that move the session and fire the hook.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use realname_domain::calendar::{Calendar, Date};
use realname_domain::clock::{Clock, ManualClock, OsRandom};
use realname_domain::session::{NewSession, Session, SessionStatus};
use realname_domain::vault::{PlainIdentity, Vault};
use realname_server::http;
use realname_server::metrics::Metrics;
use realname_server::review::auth;
use realname_server::review::{DecisionHook, PlainImage, Reason, ReviewConfig, Reviews};
use realname_store::Store;
use realname_store::audit::AuditStore;
use realname_store::postgres::PgStore;
use realname_store::review::{ReviewStore, Role};
use realname_store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Site secret keys of the test sites.
pub struct TestSites;

impl realname_server::review::SiteKeys for TestSites {
    fn site_for_secret_key(&self, key: &str) -> Option<String> {
        match key {
            "sk_test_site_a" => Some("site-a".into()),
            "sk_test_site_b" => Some("site-b".into()),
            _ => None,
        }
    }
}

/// Decided sessions, as the server's webhook queue would see them.
#[derive(Default)]
pub struct RecordingHook(pub Mutex<Vec<(String, SessionStatus)>>);

#[async_trait]
impl DecisionHook for RecordingHook {
    async fn decided(&self, s: &Session) {
        self.0.lock().unwrap().push((s.id.clone(), s.status));
    }
}

/// One backend with the review service and its routes.
pub struct Harness {
    pub rv: Reviews,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub hook: Arc<RecordingHook>,
    pub vault: Arc<Vault>,
    /// The SQLite file, to search the bytes on disk.
    #[allow(dead_code)]
    pub file: Option<PathBuf>,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// 10:00 Beijing time on `day`, Unix ms.
pub fn at10(day: &str) -> i64 {
    (day.parse::<Date>().unwrap().beijing_midnight_unix() + 10 * 3600) * 1000
}

impl Harness {
    async fn with(
        store: Arc<dyn Store>,
        file: Option<PathBuf>,
        dir: Option<tempfile::TempDir>,
        name: &'static str,
    ) -> Harness {
        let clock = ManualClock::new(at10("2026-04-30"));
        let hook = Arc::new(RecordingHook::default());
        let vault = Arc::new(Vault::generate().unwrap());
        let rv = Reviews {
            store: store.clone(),
            vault: realname_server::keyring::VaultKeys::new((*vault).clone(), clock.clone()),
            clock: clock.clone(),
            random: Arc::new(OsRandom),
            calendar: Arc::new(Calendar::builtin().unwrap()),
            config: ReviewConfig { metrics_public: true, ..ReviewConfig::default() },
            hook: hook.clone(),
            metrics: Arc::new(Metrics::default()),
            sites: Arc::new(TestSites),
            hashing: Arc::new(realname_server::review::throttle::Hashing::new(2, 32)),
            audit_key: realname_domain::audit::ChainKey::from_secret([5; 32]),
        };
        Harness { rv, store, clock, hook, vault, file, name, _dir: dir }
    }

    /// The keys `audit verify` needs (the chain key of these tests; no checkpoints).
    fn audit_keys(&self) -> realname_server::audit::cli::AuditKeys {
        realname_server::audit::cli::AuditKeys { chain: vec![self.rv.audit_key.clone()], signers: Vec::new() }
    }

    /// SQLite, and PostgreSQL when `DATABASE_URL` is set (required with `REALNAME_REQUIRE_POSTGRES=1`).
    pub async fn all() -> Vec<Harness> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("realname.db");
        let sqlite = SqliteStore::open(&path).await.unwrap();
        let mut out = vec![Harness::with(Arc::new(sqlite), Some(path), Some(dir), "sqlite").await];
        match std::env::var("DATABASE_URL") {
            Ok(url) => {
                static N: AtomicU64 = AtomicU64::new(0);
                let nanos =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
                let schema = format!("t_review_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
                let pg = PgStore::connect_in_schema(&url, &schema).await.unwrap();
                out.push(Harness::with(Arc::new(pg), None, None, "postgres").await);
            }
            Err(_) if std::env::var("REALNAME_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                panic!("REALNAME_REQUIRE_POSTGRES=1 but DATABASE_URL is not set")
            }
            Err(_) => {}
        }
        out
    }

    /// The review stream's routes on this harness.
    pub fn app(&self) -> Router {
        Router::new()
            .merge(http::review::routes())
            .merge(http::complaints::routes())
            .merge(http::console::routes())
            .merge(http::metrics::routes())
            .with_state(self.rv.clone())
    }

    /// A session of `site` waiting for review, with identity data sealed like the server does.
    pub async fn pending_session(&self, site: &str, name: &str, number: &str) -> Session {
        let now = self.clock.now_ms();
        let id = format!("ses_{}", realname_domain::clock::Random::token(&OsRandom, 12));
        let new = NewSession {
            id: id.clone(),
            site_id: site.into(),
            reference: None,
            client_secret_hash: vec![1; 32],
            client_secret_expires_at: now + 3_600_000,
            methods: realname_domain::session::Methods::Chosen(realname_core::protocol::Method::Documents),
            created_at: now,
            expires_at: now + 3_600_000,
        };
        let mut s = self.store.create_session(&new).await.unwrap();
        let plain = PlainIdentity { name: name.into(), id_number: number.into(), phone: None, email: None };
        s.identity = Some(self.vault.seal_identity(&id, &plain).unwrap());
        s.document_kind = Some("resident_id".into());
        s.status = SessionStatus::PendingReview;
        self.store.update_session(&s).await.unwrap()
    }

    /// Queues a documents case for a fresh session of `site`.
    pub async fn case(&self, site: &str) -> (Session, String) {
        let s = self.pending_session(site, "张三丰", "11010519491231002X").await;
        let images = vec![
            PlainImage { kind: "face".into(), content_type: "image/png".into(), bytes: b"\x89PNG-face-bytes".to_vec() },
            PlainImage {
                kind: "id_front".into(),
                content_type: "image/jpeg".into(),
                bytes: b"\xff\xd8-id-front".to_vec(),
            },
        ];
        let c = self.rv.enqueue(&s, &[Reason::Documents], images).await.unwrap();
        (s, c.id)
    }

    /// Creates an account and logs it in; returns the bearer token.
    pub async fn login_as(&self, username: &str, role: Role, site: Option<&str>) -> String {
        let rv = &self.rv;
        auth::create_reviewer(
            rv.store.as_ref(),
            rv.clock.as_ref(),
            rv.random.as_ref(),
            username,
            "correct horse battery",
            role,
            site,
        )
        .await
        .unwrap();
        self.login(username).await
    }

    /// Logs an existing account in (again, e.g. after the clock moved past its session); returns the token.
    pub async fn login(&self, username: &str) -> String {
        let (status, body) = call(
            &self.app(),
            "POST",
            "/console/api/login",
            None,
            Some(json!({"username": username, "password": "correct horse battery"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Every audit entry, oldest first.
    pub async fn audit_entries(&self) -> Vec<realname_domain::audit::Entry> {
        self.store.audit_after(0, 10_000).await.unwrap()
    }
}

/// One request through the router; returns status and JSON body (`Value::Null` if not JSON).
pub async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn queue_is_sorted_by_due_date_and_flags_overdue_cases() {
    for h in Harness::all().await {
        // Thu 2026-04-30 10:00: 劳动节 05-01..05 off, Sat 05-09 worked → due end of Mon 05-11.
        let (_, first) = h.case("site-a").await;
        let c = h.store.case(&first).await.unwrap().unwrap();
        assert_eq!(c.due_at, "2026-05-12".parse::<Date>().unwrap().beijing_midnight_unix() * 1000, "{}", h.name);
        assert!(!c.due_provisional);
        // Mon 2026-04-27: due Mon 05-06? 28, 29, 30, 05-06, 05-07 → end of 05-07; earlier than the first.
        h.clock.set_ms(at10("2026-04-27"));
        let (_, earlier) = h.case("site-a").await;
        h.clock.set_ms(at10("2026-05-06"));
        let (_, latest) = h.case("site-a").await;

        let admin = h.login_as("admin", Role::Admin, None).await;
        let (st, q) = call(&h.app(), "GET", "/console/api/cases", Some(&admin), None).await;
        assert_eq!(st, StatusCode::OK);
        let ids: Vec<&str> = q["cases"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![earlier.as_str(), first.as_str(), latest.as_str()], "{}", h.name);
        assert_eq!(q["overdue"], 0);

        // 24:00 of 05-07 passes: the earliest is overdue, the others not yet.
        h.clock.set_ms("2026-05-08".parse::<Date>().unwrap().beijing_midnight_unix() * 1000);
        let admin = h.login("admin").await;
        let (_, q) = call(&h.app(), "GET", "/console/api/cases", Some(&admin), None).await;
        let flags: Vec<bool> = q["cases"].as_array().unwrap().iter().map(|c| c["overdue"].as_bool().unwrap()).collect();
        assert_eq!(flags, vec![true, false, false], "{}", h.name);
        assert_eq!(q["overdue"], 1);
        let counts = h.rv.counts().await.unwrap();
        assert_eq!((counts.pending, counts.overdue), (3, 1));

        // A late decision stays counted as late; metrics say so.
        let (st, _) = call(
            &h.app(),
            "POST",
            &format!("/console/api/cases/{earlier}/decision"),
            Some(&admin),
            Some(json!({"decision": "approve", "reason_code": "documents_match"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = call(
            &h.app(),
            "POST",
            &format!("/console/api/cases/{first}/decision"),
            Some(&admin),
            Some(json!({"decision": "approve", "reason_code": "documents_match"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let res = h.app().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
        let text = String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(text.contains("realname_review_queue_length 1\n"), "{text}");
        assert!(text.contains("realname_review_overdue 0\n"), "{text}");
        assert!(text.contains("realname_reviews_decided_total{on_time=\"true\"} 1\n"), "{text}");
        assert!(text.contains("realname_reviews_decided_total{on_time=\"false\"} 1\n"), "{text}");
    }
}

#[tokio::test]
async fn reviewers_authenticate_and_roles_and_sites_are_enforced() {
    for h in Harness::all().await {
        let app = h.app();
        let (_, case_a) = h.case("site-a").await;
        // Anonymous and bogus tokens get 401.
        for (m, p) in [
            ("GET", "/console/api/cases"),
            ("GET", "/console/api/me"),
            ("GET", "/console/api/complaints"),
            ("GET", "/console/api/reviewers"),
        ] {
            assert_eq!(call(&app, m, p, None, None).await.0, StatusCode::UNAUTHORIZED, "{p}");
            assert_eq!(call(&app, m, p, Some("not-a-token"), None).await.0, StatusCode::UNAUTHORIZED, "{p}");
        }
        let (st, body) = call(&app, "GET", &format!("/console/api/cases/{case_a}"), None, None).await;
        assert_eq!((st, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));

        // Wrong passwords and unknown users get the same answer.
        let reviewer = h.login_as("rita", Role::Reviewer, None).await;
        for (u, p) in [("rita", "wrong password!!"), ("nobody", "correct horse battery")] {
            let (st, body) =
                call(&app, "POST", "/console/api/login", None, Some(json!({"username": u, "password": p}))).await;
            assert_eq!((st, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
        }
        // The stored hash is argon2id, never the password.
        let r = h.store.reviewer_by_username("rita").await.unwrap().unwrap();
        assert!(r.password_hash.starts_with("$argon2id$"), "{}", r.password_hash);

        // A reviewer cannot reach admin actions.
        assert_eq!(call(&app, "GET", "/console/api/reviewers", Some(&reviewer), None).await.0, StatusCode::FORBIDDEN);
        let new = json!({"username": "mallory", "password": "correct horse battery", "role": "admin"});
        assert_eq!(
            call(&app, "POST", "/console/api/reviewers", Some(&reviewer), Some(new.clone())).await.0,
            StatusCode::FORBIDDEN
        );
        assert!(h.store.reviewer_by_username("mallory").await.unwrap().is_none());
        // An admin can.
        let admin = h.login_as("ada", Role::Admin, None).await;
        assert_eq!(call(&app, "POST", "/console/api/reviewers", Some(&admin), Some(new)).await.0, StatusCode::CREATED);

        // A reviewer of site B never sees site A's cases.
        let b_only = h.login_as("bob", Role::Reviewer, Some("site-b")).await;
        let (_, q) = call(&app, "GET", "/console/api/cases", Some(&b_only), None).await;
        assert_eq!(q["cases"].as_array().unwrap().len(), 0);
        assert_eq!(
            call(&app, "GET", &format!("/console/api/cases/{case_a}"), Some(&b_only), None).await.0,
            StatusCode::NOT_FOUND
        );
        let d = json!({"decision": "reject", "reason_code": "face_mismatch"});
        assert_eq!(
            call(&app, "POST", &format!("/console/api/cases/{case_a}/decision"), Some(&b_only), Some(d)).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(h.store.case(&case_a).await.unwrap().unwrap().status.as_str(), "pending");

        // Logging out ends the session; disabling an account ends its sessions too.
        assert_eq!(call(&app, "POST", "/console/api/logout", Some(&b_only), None).await.0, StatusCode::OK);
        assert_eq!(call(&app, "GET", "/console/api/me", Some(&b_only), None).await.0, StatusCode::UNAUTHORIZED);
        let rita = h.store.reviewer_by_username("rita").await.unwrap().unwrap();
        assert_eq!(
            call(&app, "POST", &format!("/console/api/reviewers/{}/disable", rita.id), Some(&admin), None).await.0,
            StatusCode::OK
        );
        assert_eq!(call(&app, "GET", "/console/api/me", Some(&reviewer), None).await.0, StatusCode::UNAUTHORIZED);
        // Sessions expire with the clock.
        h.clock.advance_secs(8 * 3600 + 1);
        assert_eq!(call(&app, "GET", "/console/api/me", Some(&admin), None).await.0, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn every_personal_data_view_is_audited_and_decisions_move_the_session() {
    for h in Harness::all().await {
        let app = h.app();
        let (session, case_id) = h.case("site-a").await;
        let token = h.login_as("rita", Role::Reviewer, None).await;
        let rita = h.store.reviewer_by_username("rita").await.unwrap().unwrap();

        for round in 1..=2 {
            let (st, v) = call(&app, "GET", &format!("/console/api/cases/{case_id}"), Some(&token), None).await;
            assert_eq!(st, StatusCode::OK);
            assert_eq!(v["name"], "张三丰");
            assert_eq!(v["id_number"], "11010519491231002X");
            assert_eq!(v["images"].as_array().unwrap().len(), 2);
            let views: Vec<_> =
                h.audit_entries().await.into_iter().filter(|e| e.event.action == "review.case.viewed").collect();
            assert_eq!(views.len(), round, "{}", h.name);
            let last = views.last().unwrap();
            assert_eq!(last.event.actor, format!("reviewer:{}", rita.id));
            assert_eq!(last.event.subject, format!("case:{case_id}"));
            assert_eq!(last.event.detail["fields"], "name,id_number,face,id_front");
            assert_eq!(last.at, h.clock.now_ms());
        }

        // Bad input changes nothing.
        let bad = [
            json!({"decision": "approve", "reason_code": "face_mismatch"}),
            json!({"decision": "maybe", "reason_code": "documents_match"}),
            json!({"decision": "approve"}),
        ];
        for b in bad {
            let (st, _) =
                call(&app, "POST", &format!("/console/api/cases/{case_id}/decision"), Some(&token), Some(b)).await;
            assert!(st.is_client_error(), "{st}");
        }
        assert!(h.hook.0.lock().unwrap().is_empty());

        let d = json!({"decision": "reject", "reason_code": "face_mismatch"});
        let (st, body) =
            call(&app, "POST", &format!("/console/api/cases/{case_id}/decision"), Some(&token), Some(d.clone())).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["case"]["status"], "rejected");
        let s = h.store.session(&session.id).await.unwrap().unwrap();
        assert_eq!((s.status, s.failure.as_deref()), (SessionStatus::Rejected, Some("face_mismatch")));
        assert_eq!(h.hook.0.lock().unwrap().clone(), vec![(session.id.clone(), SessionStatus::Rejected)]);
        // Deciding twice is a conflict and fires nothing.
        let (st, body) =
            call(&app, "POST", &format!("/console/api/cases/{case_id}/decision"), Some(&token), Some(d)).await;
        assert_eq!((st, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_decided")));
        assert_eq!(h.hook.0.lock().unwrap().len(), 1);

        // The audit trail has the whole story, chained, and no personal data.
        let entries = h.audit_entries().await;
        let actions: Vec<&str> = entries.iter().map(|e| e.event.action.as_str()).collect();
        for a in
            ["review.case.created", "console.login", "review.case.viewed", "review.case.rejected", "session.rejected"]
        {
            assert!(actions.contains(&a), "{a} missing in {actions:?}");
        }
        let text = format!("{entries:?}");
        for secret in ["张三丰", "11010519491231002X", "correct horse"] {
            assert!(!text.contains(secret), "{secret} in the audit log");
        }
        assert_eq!(
            realname_server::audit::cli::verify(h.store.as_ref(), &h.audit_keys(), &[]).await.unwrap().verified.entries,
            entries.len() as u64
        );
    }
}

#[tokio::test]
async fn the_console_page_has_no_inline_script_and_a_strict_csp() {
    let h = Harness::all().await.remove(0);
    let res = h.app().oneshot(Request::get("/console/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    let scripts: Vec<&str> =
        html.match_indices("<script").map(|(i, _)| &html[i..i + html[i..].find('>').unwrap()]).collect();
    assert_eq!(scripts, vec![r#"<script src="/console/console.js" defer"#]);
    assert!(!html.contains(" on") || !html.contains("onclick="), "inline handlers");
    let js = h.app().oneshot(Request::get("/console/console.js").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
}

#[tokio::test]
async fn the_monthly_report_counts_volumes_sla_and_complaints() {
    for h in Harness::all().await {
        let admin = h.login_as("ada", Role::Admin, None).await;
        // Three cases in April 2026: one decided in time, one late, one still pending.
        h.clock.set_ms(at10("2026-04-01"));
        let (_, on_time) = h.case("site-a").await;
        let (_, late) = h.case("site-a").await;
        h.clock.set_ms(at10("2026-04-20"));
        let (_, _pending) = h.case("site-a").await;
        let admin = {
            let _ = admin;
            h.login("ada").await
        };
        let d = |ok: bool| json!({"decision": if ok { "approve" } else { "reject" }, "reason_code": if ok { "documents_match" } else { "photo_unreadable" }});
        h.clock.set_ms(at10("2026-04-03"));
        let t = h.login("ada").await;
        assert_eq!(
            call(&h.app(), "POST", &format!("/console/api/cases/{on_time}/decision"), Some(&t), Some(d(true))).await.0,
            StatusCode::OK
        );
        h.clock.set_ms(at10("2026-04-21"));
        let t = h.login("ada").await;
        assert_eq!(
            call(&h.app(), "POST", &format!("/console/api/cases/{late}/decision"), Some(&t), Some(d(false))).await.0,
            StatusCode::OK
        );
        let s = h.pending_session("site-a", "王五", "110105194912310029").await;
        let filed = h.rv.file_complaint("site-a", Some(&s.id), "privacy", "请删除我的数据").await.unwrap();
        let rita = h.store.reviewer_by_username("ada").await.unwrap().unwrap();
        h.clock.advance_secs(3600);
        h.rv.answer_complaint(&rita, &filed.ticket, "已处理").await.unwrap();
        h.rv.close_complaint(&rita, &filed.ticket).await.unwrap();
        let _ = admin;

        let keys = realname_server::audit::cli::AuditKeys { chain: vec![h.rv.audit_key.clone()], signers: Vec::new() };
        let at = at10("2026-05-20");
        let text = realname_server::report::report(h.store.as_ref(), &h.rv.calendar, "2026-04", at, (&keys, &[]))
            .await
            .unwrap();
        for want in [
            "# realname supervision report 2026-04",
            "| documents | 4 | 1 | 0 | 1 | 2 | 50.0% |",
            "- submitted: 3",
            "- decided: 2 (approved 1, rejected 1), approval rate 50.0%",
            "- decided within the due date: 1 of 2 — SLA compliance 50.0%",
            "- still pending: 1, of which overdue: 1",
            "- reasons: documents 3",
            "- filed: 1",
            "- by category: privacy 1",
            "- answered: 1 — within the due date: 1 (100.0%)",
            "- closed: 1, median working days to close: 0",
            "- chain intact:",
        ] {
            assert!(text.contains(want), "{} missing {want:?} in\n{text}", h.name);
        }
        // Another month has nothing.
        let may = realname_server::report::report(h.store.as_ref(), &h.rv.calendar, "2026-05", at, (&keys, &[]))
            .await
            .unwrap();
        assert!(may.contains("- submitted: 0") && may.contains("- filed: 0"), "{may}");
    }
}

#[tokio::test]
async fn the_binary_verifies_exports_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("realname.db");
    // The server's keys, where the configuration names them: the commands read the chain key and signers there.
    let keys_dir = dir.path().join("keys");
    let ring = realname_domain::keys::KeyRing::load_or_create(&keys_dir, &OsRandom, at10("2026-03-01")).unwrap();
    let chain_key = realname_domain::audit::ChainKey::of_ring(&ring);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        for i in 0..3 {
            store
                .audit_append(
                    &chain_key,
                    at10("2026-03-02") + i,
                    realname_domain::audit::Event::new("system", "test.event", format!("case:{i}")),
                )
                .await
                .unwrap();
        }
        store.close().await;
    }
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_realname-server"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("REALNAME_SERVER_KEYS")
            .env("REALNAME__DATABASE__URL", format!("sqlite://{}", path.display()))
            .env("REALNAME__KEYS__DIR", &keys_dir)
            .env("REALNAME__AUDIT__CHECKPOINT_DIR", dir.path().join("audit"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["audit", "verify"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("audit log intact: 3 entries"), "{out}");
    let (code, out, _) = run(&["audit", "export", "--from", "2026-03-01", "--to", "2026-03-31"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 4, "{out}");
    let (code, out, _) = run(&["report", "--month", "2026-03"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("chain intact: 3 entries"), "{out}");
    assert_eq!(run(&["report", "--month", "March"]).0, Some(2));

    // The first admin account comes from the command line; the password from the environment, not argv.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_realname-server"))
        .args(["reviewer", "add", "--username", "root-admin", "--role", "admin"])
        .env_remove("DATABASE_URL")
        .env("REALNAME__DATABASE__URL", format!("sqlite://{}", path.display()))
        .env("REALNAME__KEYS__DIR", &keys_dir)
        .env("REALNAME_REVIEWER_PASSWORD", "a long enough password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    {
        let store = SqliteStore::open(&path).await.unwrap();
        let r = store.reviewer_by_username("root-admin").await.unwrap().unwrap();
        assert_eq!(r.role, Role::Admin);
        assert!(auth::verify_password("a long enough password", &r.password_hash));
        store.close().await;
    }
    assert_eq!(run(&["reviewer", "add", "--username", "x"]).0, Some(2));
    assert_eq!(run(&["audit", "frobnicate"]).0, Some(2));

    // Tampering makes `audit verify` fail with exit 1 and name the entry.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::raw_sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'reviewer:x' WHERE seq = 2;")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (code, _, err) = run(&["audit", "verify"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("entry 2 (position 2) was altered"), "{err}");
}

mod retention;
mod server;
