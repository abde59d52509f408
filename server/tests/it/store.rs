//! Storage conformance suite: every test body runs against SQLite and against PostgreSQL.
//!
//! PostgreSQL comes from `DATABASE_URL` (set by `cargo xtask test`); each test gets its own schema, so tests
//! run in parallel. Without `DATABASE_URL` the PostgreSQL half fails when `REALNAME_REQUIRE_POSTGRES=1`
//! and otherwise only notes that it did not run. Other test modules can reuse `Backend` to run on both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use realname_server::store::postgres::PgStore;
use realname_server::store::sqlite::SqliteStore;
use realname_server::store::*;
use realname_server::vault::{PlainIdentity, Vault};

/// One backend under test: a store plus what it takes to open a second instance on the same database.
pub(crate) struct Backend {
    /// The store.
    pub store: Arc<dyn Store>,
    /// SQLite file, or PostgreSQL URL and schema.
    place: Place,
    _dir: Option<tempfile::TempDir>,
}

enum Place {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

impl Backend {
    /// A fresh SQLite database in a temporary directory.
    pub async fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data").join("realname.db");
        let store = SqliteStore::open(&path).await.expect("open SQLite");
        Backend {
            store: Arc::new(store),
            place: Place::Sqlite(path),
            _dir: Some(dir),
        }
    }

    /// A fresh schema in the PostgreSQL of `DATABASE_URL`; `None` if it is not set and not required.
    pub async fn postgres(test: &str) -> Option<Backend> {
        let Ok(url) = std::env::var("DATABASE_URL") else {
            if std::env::var("REALNAME_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!(
                    "REALNAME_REQUIRE_POSTGRES=1 but DATABASE_URL is not set: run `cargo xtask test`"
                );
            }
            eprintln!(
                "note: {test}: DATABASE_URL not set, PostgreSQL half not run (`cargo xtask test` runs it)"
            );
            return None;
        };
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let short: String = test.chars().take(32).collect();
        let schema = format!(
            "t_{short}_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let store = PgStore::connect_in_schema(&url, &schema)
            .await
            .expect("connect PostgreSQL");
        Some(Backend {
            store: Arc::new(store),
            place: Place::Postgres { url, schema },
            _dir: None,
        })
    }

    /// A second, independent store instance on the same database (like another server process).
    pub async fn another_instance(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite(path) => Arc::new(SqliteStore::open(path).await.expect("reopen SQLite")),
            Place::Postgres { url, schema } => Arc::new(
                PgStore::connect_in_schema(url, schema)
                    .await
                    .expect("reconnect PostgreSQL"),
            ),
        }
    }

    /// Every byte the database holds, as text: the SQLite files, or each PostgreSQL table's rows.
    pub async fn raw_contents(&self) -> String {
        match &self.place {
            Place::Sqlite(path) => {
                let dir = path.parent().expect("data dir");
                let mut all = String::new();
                for entry in std::fs::read_dir(dir).expect("list data dir") {
                    let bytes = std::fs::read(entry.expect("entry").path()).expect("read db file");
                    all.push_str(&String::from_utf8_lossy(&bytes));
                }
                all
            }
            Place::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let tables: Vec<String> =
                    sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1")
                        .bind(schema)
                        .fetch_all(&pool)
                        .await
                        .expect("list tables");
                assert!(tables.len() >= 7, "{tables:?}");
                let mut all = String::new();
                for t in tables {
                    // A row's text form prints bytea as hex; hex_decoded adds those bytes as text too.
                    let rows: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT t::text FROM {schema}.{t} t"))
                            .fetch_all(&pool)
                            .await
                            .expect("dump table");
                    for r in rows {
                        all.push_str(&r);
                        all.push_str(&hex_decoded(&r));
                    }
                }
                pool.close().await;
                all
            }
        }
    }
}

/// Decodes every `\x…` hex literal in a row's text form (how PostgreSQL prints bytea) as lossy UTF-8.
fn hex_decoded(row: &str) -> String {
    let mut out = String::new();
    for part in row.split("\\\\x").skip(1) {
        let hex: String = part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
            .collect();
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
    out
}

/// Runs each named body (taking `&Backend`) once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(&super::Backend::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(b) = super::Backend::postgres(stringify!($name)).await {
                        super::$name(&b).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    sessions_roundtrip_and_version_checks,
    finished_sessions_never_change,
    client_secret_is_single_use_and_expires,
    concurrent_updates_let_exactly_one_win,
    codes_count_attempts_and_are_single_use,
    resend_invalidates_the_previous_code,
    expired_and_missing_codes,
    concurrent_code_attempts_never_exceed_the_limit,
    rate_windows_count_and_reset,
    concurrent_rate_hits_from_two_instances_are_exact,
    replayed_envelopes_are_refused,
    webhook_queue_lifecycle,
    webhook_leases_expire_and_move_to_another_worker,
    two_instances_claim_each_delivery_once,
    identity_bindings_respect_the_limit,
    concurrent_bindings_respect_the_limit,
    purge_expires_and_deletes,
    no_plaintext_personal_data_at_rest,
);

const T0: i64 = 1_790_000_000_000;
const MIN: i64 = 60_000;

fn new_session(id: &str) -> NewSession {
    NewSession {
        id: id.into(),
        site_id: "site-a".into(),
        reference: Some("account-17".into()),
        client_secret_hash: vec![7; 32],
        client_secret_expires_at: T0 + 10 * MIN,
        method: None,
        created_at: T0,
        expires_at: T0 + 30 * MIN,
    }
}

fn new_code(session: &str, hmac: u8, at: i64) -> NewCode {
    NewCode {
        session_id: session.into(),
        code_hmac: vec![hmac; 32],
        channel: "sms".into(),
        sent_at: at,
        expires_at: at + 5 * MIN,
    }
}

async fn created(s: &Arc<dyn Store>, id: &str) -> Session {
    s.create_session(&new_session(id))
        .await
        .expect("create session")
}

async fn sessions_roundtrip_and_version_checks(b: &Backend) {
    let s = &b.store;
    let v1 = created(s, "sess-1").await;
    assert_eq!(
        (v1.status, v1.version, v1.client_secret_used),
        (SessionStatus::Created, 1, false)
    );
    assert_eq!(v1.reference.as_deref(), Some("account-17"));
    assert!(matches!(
        s.create_session(&new_session("sess-1")).await,
        Err(StoreError::Conflict)
    ));
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
    next.method = Some("sms".into());
    next.document_kind = Some("resident_id".into());
    next.consent = Some(Consent {
        version: "2026-01".into(),
        at: T0 + 1000,
    });
    next.identity = Some(vault.seal_identity("sess-1", &identity).unwrap());
    next.blind_index = Some(vault.blind_id_number(&identity.id_number));
    next.updated_at = T0 + 2000;
    let v2 = s.update_session(&next).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        v2,
        Session {
            version: 2,
            ..next.clone()
        }
    );
    assert_eq!(
        vault
            .open_identity("sess-1", v2.identity.as_ref().unwrap())
            .unwrap(),
        identity
    );
    // Writing from the stale version 1 again loses.
    assert!(matches!(
        s.update_session(&next).await,
        Err(StoreError::Conflict)
    ));
    let ghost = Session {
        id: "ghost".into(),
        ..v2.clone()
    };
    assert!(matches!(
        s.update_session(&ghost).await,
        Err(StoreError::NotFound)
    ));
    // Every status survives the round trip.
    let mut cur = v2;
    for st in SessionStatus::ALL
        .into_iter()
        .filter(|st| !st.is_terminal())
    {
        cur.status = st;
        cur = s.update_session(&cur).await.unwrap();
        assert_eq!(s.session("sess-1").await.unwrap().unwrap().status, st);
    }
}

async fn finished_sessions_never_change(b: &Backend) {
    let s = &b.store;
    for (i, st) in SessionStatus::ALL
        .into_iter()
        .filter(|st| st.is_terminal())
        .enumerate()
    {
        let mut sess = created(s, &format!("fin-{i}")).await;
        sess.status = st;
        sess.verified_at = (st == SessionStatus::Verified).then_some(T0 + 5);
        let done = s.update_session(&sess).await.unwrap();
        assert_eq!(done.status, st);
        let mut again = done.clone();
        again.status = SessionStatus::Created;
        assert!(
            matches!(s.update_session(&again).await, Err(StoreError::Conflict)),
            "{st:?}"
        );
        assert_eq!(s.session(&done.id).await.unwrap(), Some(done));
    }
}

async fn client_secret_is_single_use_and_expires(b: &Backend) {
    let s = &b.store;
    created(s, "cs-1").await;
    created(s, "cs-2").await;
    assert_eq!(
        s.consume_client_secret("cs-1", &[8; 32], T0).await.unwrap(),
        None,
        "wrong secret"
    );
    assert_eq!(
        s.consume_client_secret("cs-x", &[7; 32], T0).await.unwrap(),
        None,
        "unknown session"
    );
    let used = s
        .consume_client_secret("cs-1", &[7; 32], T0 + 1)
        .await
        .unwrap()
        .expect("first use");
    assert!(used.client_secret_used);
    assert_eq!(used.version, 2);
    assert_eq!(
        s.consume_client_secret("cs-1", &[7; 32], T0 + 2)
            .await
            .unwrap(),
        None,
        "second use"
    );
    assert_eq!(
        s.consume_client_secret("cs-2", &[7; 32], T0 + 10 * MIN)
            .await
            .unwrap(),
        None,
        "expired"
    );
    // Many concurrent uses of one fresh secret: exactly one succeeds.
    created(s, "cs-3").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.consume_client_secret("cs-3", &[7; 32], T0 + i)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

async fn concurrent_updates_let_exactly_one_win(b: &Backend) {
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

async fn codes_count_attempts_and_are_single_use(b: &Backend) {
    let s = &b.store;
    created(s, "c1").await;
    let code = s.issue_code(&new_code("c1", 1, T0)).await.unwrap();
    assert_eq!((code.attempts, code.state), (0, CodeState::Active));
    for n in 1..=4 {
        let CodeAttempt::Check(c) = s.take_code_attempt("c1", 5, T0 + n).await.unwrap() else {
            panic!("attempt {n}")
        };
        assert_eq!(
            (c.id, c.attempts, c.code_hmac.clone()),
            (code.id, n as u32, vec![1; 32])
        );
    }
    // The fifth try is still allowed (and right), then the code is spent.
    assert!(matches!(
        s.take_code_attempt("c1", 5, T0 + 5).await.unwrap(),
        CodeAttempt::Check(_)
    ));
    assert!(s.consume_code(code.id, T0 + 5).await.unwrap());
    assert!(
        !s.consume_code(code.id, T0 + 6).await.unwrap(),
        "single use"
    );
    assert_eq!(
        s.take_code_attempt("c1", 5, T0 + 7).await.unwrap(),
        CodeAttempt::Used
    );
    assert_eq!(
        s.latest_code("c1").await.unwrap().map(|c| c.state),
        Some(CodeState::Consumed)
    );

    // Five wrong tries, and then even the right code is refused.
    created(s, "c2").await;
    let c2 = s.issue_code(&new_code("c2", 2, T0)).await.unwrap();
    for n in 0..5 {
        assert!(matches!(
            s.take_code_attempt("c2", 5, T0 + n).await.unwrap(),
            CodeAttempt::Check(_)
        ));
    }
    assert_eq!(
        s.take_code_attempt("c2", 5, T0 + 9).await.unwrap(),
        CodeAttempt::TooManyAttempts
    );
    assert_eq!(
        s.latest_code("c2")
            .await
            .unwrap()
            .map(|c| (c.id, c.attempts)),
        Some((c2.id, 5))
    );
}

async fn resend_invalidates_the_previous_code(b: &Backend) {
    let s = &b.store;
    created(s, "r1").await;
    let first = s.issue_code(&new_code("r1", 1, T0)).await.unwrap();
    let second = s.issue_code(&new_code("r1", 2, T0 + MIN)).await.unwrap();
    assert!(second.id > first.id);
    assert_eq!(s.codes_sent("r1").await.unwrap(), 2);
    assert_eq!(s.codes_sent("other").await.unwrap(), 0);
    assert_eq!(
        s.latest_code("r1")
            .await
            .unwrap()
            .map(|c| (c.id, c.sent_at)),
        Some((second.id, T0 + MIN))
    );
    let CodeAttempt::Check(c) = s.take_code_attempt("r1", 5, T0 + MIN + 1).await.unwrap() else {
        panic!()
    };
    assert_eq!(c.code_hmac, vec![2; 32], "only the newest code is checked");
    assert!(
        !s.consume_code(first.id, T0 + MIN + 2).await.unwrap(),
        "old code is invalid"
    );
    assert!(s.consume_code(second.id, T0 + MIN + 2).await.unwrap());
    assert!(matches!(
        s.issue_code(&new_code("no-such-session", 1, T0)).await,
        Err(StoreError::NotFound)
    ));
}

async fn expired_and_missing_codes(b: &Backend) {
    let s = &b.store;
    created(s, "e1").await;
    assert_eq!(
        s.take_code_attempt("e1", 5, T0).await.unwrap(),
        CodeAttempt::NoCode
    );
    assert_eq!(s.latest_code("e1").await.unwrap(), None);
    let code = s.issue_code(&new_code("e1", 1, T0)).await.unwrap();
    assert_eq!(
        s.take_code_attempt("e1", 5, T0 + 5 * MIN).await.unwrap(),
        CodeAttempt::Expired
    );
    assert!(!s.consume_code(code.id, T0 + 5 * MIN).await.unwrap());
    assert!(matches!(
        s.take_code_attempt("e1", 5, T0 + 5 * MIN - 1)
            .await
            .unwrap(),
        CodeAttempt::Check(_)
    ));
}

async fn concurrent_code_attempts_never_exceed_the_limit(b: &Backend) {
    let s = &b.store;
    created(s, "guess").await;
    s.issue_code(&new_code("guess", 3, T0)).await.unwrap();
    let other = b.another_instance().await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let s = if i % 2 == 0 { s.clone() } else { other.clone() };
            tokio::spawn(async move { s.take_code_attempt("guess", 5, T0 + 1).await.unwrap() })
        })
        .collect();
    let mut checks = 0;
    for t in tasks {
        match t.await.unwrap() {
            CodeAttempt::Check(_) => checks += 1,
            CodeAttempt::TooManyAttempts => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(checks, 5);
}

async fn rate_windows_count_and_reset(b: &Backend) {
    let s = &b.store;
    let key = "send:phone:3q2+7w";
    assert_eq!(s.rate_count(key, MIN, T0).await.unwrap(), 0);
    for n in 1..=3 {
        assert_eq!(s.rate_hit(key, MIN, T0 + n).await.unwrap(), n as u64);
    }
    assert_eq!(s.rate_count(key, MIN, T0 + 10).await.unwrap(), 3);
    assert_eq!(
        s.rate_hit("send:ip:1", MIN, T0).await.unwrap(),
        1,
        "keys are independent"
    );
    assert_eq!(
        s.rate_hit(key, 60 * MIN, T0).await.unwrap(),
        1,
        "window sizes are independent"
    );
    let next = T0 - T0.rem_euclid(MIN) + MIN;
    assert_eq!(
        s.rate_hit(key, MIN, next).await.unwrap(),
        1,
        "a new window starts at zero"
    );
    assert_eq!(s.rate_count(key, MIN, next - 1).await.unwrap(), 3);
    assert!(matches!(
        s.rate_hit(key, 0, T0).await,
        Err(StoreError::Config(_))
    ));
}

async fn concurrent_rate_hits_from_two_instances_are_exact(b: &Backend) {
    let (one, two) = (b.store.clone(), b.another_instance().await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { s.rate_hit("burst", 3_600_000, T0 + i).await.unwrap() })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap());
    }
    assert_eq!(
        seen,
        (1..=50).collect::<BTreeSet<u64>>(),
        "every hit got its own count"
    );
    assert_eq!(one.rate_count("burst", 3_600_000, T0).await.unwrap(), 50);
}

async fn replayed_envelopes_are_refused(b: &Backend) {
    let s = &b.store;
    assert!(s.remember_envelope("s1", b"enc-1", T0 + MIN).await.unwrap());
    assert!(
        !s.remember_envelope("s1", b"enc-1", T0 + MIN).await.unwrap(),
        "replay"
    );
    assert!(s.remember_envelope("s1", b"enc-2", T0 + MIN).await.unwrap());
    assert!(s.remember_envelope("s2", b"enc-1", T0 + MIN).await.unwrap());
    let other = b.another_instance().await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let s = if i % 2 == 0 { s.clone() } else { other.clone() };
            tokio::spawn(async move { s.remember_envelope("s3", b"same", T0 + MIN).await.unwrap() })
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        firsts += usize::from(t.await.unwrap());
    }
    assert_eq!(firsts, 1, "concurrent replays: one accepted");
}

fn delivery(event: &str, at: i64) -> NewDelivery {
    NewDelivery {
        site_id: "site-a".into(),
        event_id: event.into(),
        event_type: "verification.verified".into(),
        url: "http://127.0.0.1:9/hook".into(),
        body: format!("{{\"id\":\"{event}\"}}"),
        created_at: at,
    }
}

async fn webhook_queue_lifecycle(b: &Backend) {
    let s = &b.store;
    let id = s.enqueue_delivery(&delivery("evt-1", T0)).await.unwrap();
    assert_eq!(
        s.enqueue_delivery(&delivery("evt-1", T0 + 5))
            .await
            .unwrap(),
        id,
        "idempotent per event"
    );
    assert!(
        s.claim_deliveries("w1", T0 - 1, MIN, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let got = s.claim_deliveries("w1", T0, MIN, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(
        (
            d.id,
            d.attempts,
            d.state,
            d.lease_owner.as_deref(),
            d.lease_until
        ),
        (id, 1, DeliveryState::Pending, Some("w1"), Some(T0 + MIN))
    );
    assert_eq!(d.body, "{\"id\":\"evt-1\"}");
    assert!(
        s.claim_deliveries("w2", T0 + 1, MIN, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    // The receiver answered 500: retry later with backoff.
    let retry_at = T0 + retry_backoff_ms(1);
    assert!(
        !s.retry_delivery(id, "w2", retry_at, "HTTP 500")
            .await
            .unwrap(),
        "not w2's lease"
    );
    assert!(
        s.retry_delivery(id, "w1", retry_at, "HTTP 500")
            .await
            .unwrap()
    );
    assert!(
        s.claim_deliveries("w2", retry_at - 1, MIN, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.claim_deliveries("w2", retry_at, MIN, 10).await.unwrap();
    assert_eq!(
        again.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(),
        vec![(id, 2)]
    );
    assert_eq!(again[0].last_error.as_deref(), Some("HTTP 500"));
    assert!(s.complete_delivery(id, "w2", retry_at + 5).await.unwrap());
    let done = s.delivery(id).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.delivered_at, done.lease_owner),
        (DeliveryState::Delivered, Some(retry_at + 5), None)
    );
    assert!(
        s.claim_deliveries("w3", T0 + 100 * MIN, MIN, 10)
            .await
            .unwrap()
            .is_empty(),
        "delivered is done"
    );
    // Giving up.
    let id2 = s.enqueue_delivery(&delivery("evt-2", T0)).await.unwrap();
    assert_eq!(
        s.claim_deliveries("w1", T0, MIN, 10).await.unwrap().len(),
        1
    );
    assert!(
        s.abandon_delivery(id2, "w1", "gave up after 8 attempts")
            .await
            .unwrap()
    );
    assert_eq!(
        s.delivery(id2).await.unwrap().map(|d| d.state),
        Some(DeliveryState::Abandoned)
    );
    assert_eq!(s.delivery(999_999).await.unwrap(), None);
    assert!(retry_backoff_ms(1) < retry_backoff_ms(2) && retry_backoff_ms(40) == 6 * 3_600_000);
}

async fn webhook_leases_expire_and_move_to_another_worker(b: &Backend) {
    let s = &b.store;
    let id = s
        .enqueue_delivery(&delivery("evt-lease", T0))
        .await
        .unwrap();
    assert_eq!(
        s.claim_deliveries("crashed", T0, MIN, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.claim_deliveries("w2", T0 + MIN - 1, MIN, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let taken = s.claim_deliveries("w2", T0 + MIN, MIN, 10).await.unwrap();
    assert_eq!(
        taken.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(),
        vec![(id, 2)],
        "at least once"
    );
    assert!(
        !s.complete_delivery(id, "crashed", T0 + MIN + 1)
            .await
            .unwrap(),
        "lost its lease"
    );
    assert!(s.complete_delivery(id, "w2", T0 + MIN + 1).await.unwrap());
}

async fn two_instances_claim_each_delivery_once(b: &Backend) {
    let (one, two) = (b.store.clone(), b.another_instance().await);
    for i in 0..30 {
        one.enqueue_delivery(&delivery(&format!("bulk-{i}"), T0 + i))
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..6)
        .map(|w| {
            let s = if w % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = s
                        .claim_deliveries(&format!("worker-{w}"), T0 + 100, MIN, 3)
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|d| d.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (30, 30),
        "each delivery claimed exactly once"
    );
}

async fn identity_bindings_respect_the_limit(b: &Backend) {
    let s = &b.store;
    let idx = vec![9u8; 32];
    assert!(
        s.bind_identity("site-a", &idx, "acct-1", 2, T0)
            .await
            .unwrap()
    );
    assert!(
        s.bind_identity("site-a", &idx, "acct-1", 2, T0)
            .await
            .unwrap(),
        "same account again"
    );
    assert!(
        s.bind_identity("site-a", &idx, "acct-2", 2, T0)
            .await
            .unwrap()
    );
    assert!(
        !s.bind_identity("site-a", &idx, "acct-3", 2, T0)
            .await
            .unwrap(),
        "limit reached"
    );
    assert_eq!(s.identity_bindings("site-a", &idx).await.unwrap(), 2);
    assert!(
        s.bind_identity("site-b", &idx, "acct-3", 2, T0)
            .await
            .unwrap(),
        "per site"
    );
    assert!(
        s.bind_identity("site-a", &[1u8; 32], "acct-3", 2, T0)
            .await
            .unwrap(),
        "per identity"
    );
    assert!(s.unbind_identity("site-a", &idx, "acct-1").await.unwrap());
    assert!(!s.unbind_identity("site-a", &idx, "acct-1").await.unwrap());
    assert!(
        s.bind_identity("site-a", &idx, "acct-3", 2, T0)
            .await
            .unwrap(),
        "room again"
    );
    assert_eq!(s.identity_bindings("site-a", &idx).await.unwrap(), 2);
    assert!(
        !s.bind_identity("site-a", &[2u8; 32], "acct-9", 0, T0)
            .await
            .unwrap(),
        "limit 0 binds nothing"
    );
    assert_eq!(s.identity_bindings("site-a", &[2u8; 32]).await.unwrap(), 0);
}

async fn concurrent_bindings_respect_the_limit(b: &Backend) {
    let (one, two) = (b.store.clone(), b.another_instance().await);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move {
                s.bind_identity("site-a", &[5u8; 32], &format!("acct-{i}"), 3, T0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut bound = 0;
    for t in tasks {
        bound += usize::from(t.await.unwrap());
    }
    assert_eq!(bound, 3);
    assert_eq!(
        one.identity_bindings("site-a", &[5u8; 32]).await.unwrap(),
        3
    );
}

async fn purge_expires_and_deletes(b: &Backend) {
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
    s.enqueue_delivery(&delivery("p-pending", T0))
        .await
        .unwrap();

    let day = 24 * 60 * MIN;
    let policy = |now| PurgePolicy {
        now,
        session_retention_ms: 30 * day,
        delivery_retention_ms: 7 * day,
    };
    let nothing = s.purge(&policy(T0)).await.unwrap();
    assert_eq!(nothing, PurgeReport::default());

    let first = s.purge(&policy(T0 + 2 * 60 * MIN)).await.unwrap();
    assert_eq!(
        (
            first.sessions_expired,
            first.codes_deleted,
            first.rate_windows_deleted,
            first.envelopes_deleted
        ),
        (1, 1, 1, 1)
    );
    assert_eq!((first.sessions_deleted, first.deliveries_deleted), (0, 0));
    let expired = s.session("p-open").await.unwrap().unwrap();
    assert_eq!(
        (expired.status, expired.identity, expired.blind_index),
        (SessionStatus::Expired, None, None)
    );
    assert_eq!(
        s.session("p-done").await.unwrap().map(|x| x.status),
        Some(SessionStatus::Verified)
    );
    assert_eq!(
        s.session("p-review").await.unwrap().map(|x| x.status),
        Some(SessionStatus::PendingReview)
    );
    assert!(
        s.remember_envelope("p-open", b"e", T0 + 3 * 60 * MIN)
            .await
            .unwrap(),
        "forgotten after expiry"
    );

    let later = s.purge(&policy(T0 + 31 * day)).await.unwrap();
    assert_eq!((later.sessions_deleted, later.deliveries_deleted), (2, 1));
    assert_eq!(s.session("p-done").await.unwrap(), None);
    assert!(
        s.session("p-review").await.unwrap().is_some(),
        "reviews are never purged while pending"
    );
    assert_eq!(s.delivery(id).await.unwrap(), None);
    assert_eq!(
        s.claim_deliveries("w", T0 + 31 * day, MIN, 10)
            .await
            .unwrap()
            .len(),
        1,
        "pending kept"
    );
}

async fn no_plaintext_personal_data_at_rest(b: &Backend) {
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
        s.rate_hit(
            &format!("send:{}", vault.blind_text("contact", contact)),
            MIN,
            T0,
        )
        .await
        .unwrap();
        assert!(
            s.bind_identity("site-a", sess.blind_index.as_deref().unwrap(), &id, 3, T0)
                .await
                .unwrap()
        );
        let back = s.session(&id).await.unwrap().unwrap();
        assert_eq!(
            &vault
                .open_identity(&id, back.identity.as_ref().unwrap())
                .unwrap(),
            p
        );
    }
    let raw = b.raw_contents().await;
    assert!(
        raw.contains("site-a") && raw.contains("pii-1"),
        "the dump really holds the rows"
    );
    for p in &people {
        let mut secrets = vec![p.name.as_str(), p.id_number.as_str(), &p.id_number[6..14]];
        secrets.extend(p.phone.as_deref());
        secrets.extend(p.email.as_deref());
        for secret in secrets {
            assert!(
                !raw.contains(secret),
                "plaintext {secret:?} found in the {} database",
                s.backend()
            );
        }
    }
}
