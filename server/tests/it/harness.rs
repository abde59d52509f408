//! The server under test: the real router (`oneshot`), a real store (SQLite file or a PostgreSQL schema), a
//! manual clock, the outbox for codes, and helpers that seal steps like the widget does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use realname_core::envelope::{RecipientKey, seal};
use realname_core::protocol::{
    Consent, CreateSessionResponse, DocumentKind, Envelope, IdentityPayload, KeysResponse, Method, Step,
};
use realname_domain::clock::{ManualClock, SeededRandom};
use realname_domain::config::{Config, Secret, SiteConfig};
use realname_domain::encoding::hex_encode;
use realname_domain::keys::KeyRing;
use realname_domain::sites::hash_secret;
use realname_domain::vault::Vault;
use realname_server::delivery::{Delivery, Outbox};
use realname_server::state::AppState;
use serde_json::Value;
use tower::ServiceExt as _;

pub(crate) use crate::store::Backend;

/// The test clock's start: 2026-10-01T00:00:00Z.
pub const T0: i64 = 1_790_812_800_000;
/// The test site's secret API key.
pub const SECRET_KEY: &str = "sk_test_shop_0123456789abcdef";
/// The test site's allowed origin.
pub const ORIGIN: &str = "https://shop.example";
/// A valid resident ID (GB 11643 example), its holder's name, phone and email.
pub const ID_NUMBER: &str = "11010519491231002X";
/// Name.
pub const NAME: &str = "张三丰";
/// Phone.
pub const PHONE: &str = "13912345678";
/// Email.
pub const EMAIL: &str = "zhang.sanfeng@example.com";
/// The test site's phone page for the handoff.
pub const HANDOFF_URL: &str = "https://shop.example/verify-on-phone";

/// Runs each named `async fn(Backend)` once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::harness::Backend::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(b) = crate::harness::Backend::postgres(stringify!($name)).await {
                        super::$name(b).await;
                    }
                }
            )*
        }
    };
}

/// A running server.
pub struct Harness {
    /// The backend (kept for raw-content checks).
    pub backend: Backend,
    /// The state.
    pub state: AppState,
    /// The router.
    pub app: Router,
    /// The clock.
    pub clock: Arc<ManualClock>,
    /// The outbox that receives every code.
    pub outbox: Arc<Outbox>,
    _dir: tempfile::TempDir,
}

/// A reply: status, headers and JSON body (`Value::Null` when the body is not JSON).
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub json: Value,
    /// Raw body.
    pub raw: Vec<u8>,
}

impl Reply {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("<none>")
    }
}

/// The test site.
pub fn shop_site() -> SiteConfig {
    SiteConfig {
        id: "shop".into(),
        name: "Shop".into(),
        origins: vec![ORIGIN.into()],
        secret_key_sha256: hex_encode(&hash_secret(SECRET_KEY)),
        publishable_key: Some("pk_test_shop".into()),
        webhook_url: None,
        webhook_secret: Secret::default(),
        methods: vec![Method::Sms, Method::Email],
        max_accounts_per_identity: 0,
        checks: Vec::new(),
        required_checks: Vec::new(),
        enabled: true,
        handoff_url: Some(HANDOFF_URL.into()),
    }
}

/// The test configuration: one site, outbox delivery, client IPs from `X-Forwarded-For`.
pub fn test_config() -> Config {
    let mut cfg = Config::default();
    cfg.server.trust_forwarded_for = true;
    cfg.server.demo = true;
    cfg.server.public_url = "https://verify.example".into();
    cfg.sites.push(shop_site());
    cfg
}

impl Harness {
    /// A server on `backend` with the test configuration changed by `tweak`.
    pub async fn with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Harness {
        Self::with_delivery(backend, tweak, |d| d).await
    }

    /// As [`Harness::with`], with the code delivery changed by `wrap` (a sender that fails or dies).
    pub async fn with_delivery(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        wrap: impl FnOnce(Delivery) -> Delivery,
    ) -> Harness {
        let mut cfg = test_config();
        tweak(&mut cfg);
        cfg.validate().expect("valid test config");
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new(T0);
        let rng = SeededRandom::new(42);
        let keys = KeyRing::generate(rng.as_ref(), T0);
        let vault = Vault::load_or_create(&dir.path().join("vault.keys")).expect("vault");
        let delivery = Delivery::from_config(&cfg, clock.clone(), rng.clone()).expect("delivery");
        let delivery = wrap(delivery);
        let outbox = delivery.outbox.clone().expect("outbox");
        let state = AppState::new(cfg, backend.store.clone(), vault, keys, clock.clone(), rng, delivery);
        let app = realname_server::http::app(state.clone());
        Harness { backend, state, app, clock, outbox, _dir: dir }
    }

    /// A server on `backend` with a state the test built (with outbox delivery), keeping `dir` while it runs.
    pub fn from_state(backend: Backend, state: AppState, clock: Arc<ManualClock>, dir: tempfile::TempDir) -> Harness {
        let outbox = state.delivery.outbox.clone().expect("outbox");
        let app = realname_server::http::app(state.clone());
        Harness { backend, state, app, clock, outbox, _dir: dir }
    }

    /// A server with the test configuration.
    pub async fn new(backend: Backend) -> Harness {
        Self::with(backend, |_| {}).await
    }

    /// Sends a request. `body` is sent as `application/json` unless a content-type header is given.
    pub async fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        let mut has_ct = false;
        for (k, v) in headers {
            has_ct |= k.eq_ignore_ascii_case("content-type");
            req = req.header(*k, *v);
        }
        if body.is_some() && !has_ct {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned()))).expect("request");
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let raw = axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("body").to_vec();
        let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, json, raw }
    }

    /// `POST /v1/sessions` with the site's secret key.
    pub async fn create_session(&self) -> CreateSessionResponse {
        let r =
            self.call("POST", "/v1/sessions", &[("authorization", &format!("Bearer {SECRET_KEY}"))], Some("{}")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        serde_json::from_value(r.json).expect("session")
    }

    /// The key to seal to, as the widget reads it from `GET /v1/keys`.
    pub async fn server_key(&self) -> RecipientKey {
        let r = self.call("GET", "/v1/keys", &[], None).await;
        let keys: KeysResponse = serde_json::from_value(r.json).expect("keys");
        RecipientKey::from_base64(&keys.keys[0].kid, &keys.keys[0].public_key).expect("key")
    }

    /// Seals `payload` for the session and step.
    pub async fn seal(&self, session: &str, step: Step, payload: &Value) -> Envelope {
        let key = self.server_key().await;
        seal(&key, session, step, payload.to_string().as_bytes()).expect("seal")
    }

    /// `GET /v1/sessions/{id}/client` with the session's client secret and the allowed origin.
    pub async fn client_view(&self, s: &CreateSessionResponse) -> Reply {
        let auth = format!("Bearer {}", s.client_secret);
        let path = format!("/v1/sessions/{}/client", s.session_id);
        self.call("GET", &path, &[("authorization", &auth), ("origin", ORIGIN)], None).await
    }

    /// POSTs a widget step with the client secret and the allowed origin; `ip` goes in `X-Forwarded-For`.
    pub async fn widget_post(&self, s: &CreateSessionResponse, step: &str, body: Option<&Value>, ip: &str) -> Reply {
        let auth = format!("Bearer {}", s.client_secret);
        let path = format!("/v1/sessions/{}/{step}", s.session_id);
        let body = body.map(Value::to_string);
        self.call(
            "POST",
            &path,
            &[("authorization", &auth), ("origin", ORIGIN), ("x-forwarded-for", ip)],
            body.as_deref(),
        )
        .await
    }

    /// Seals and submits an identity payload.
    pub async fn submit_identity(&self, s: &CreateSessionResponse, payload: &Value) -> Reply {
        let env = self.seal(&s.session_id, Step::Identity, payload).await;
        self.widget_post(s, "identity", Some(&serde_json::json!({ "envelope": env })), "198.51.100.7").await
    }

    /// Seals and submits a code.
    pub async fn submit_code(&self, s: &CreateSessionResponse, code: &str) -> Reply {
        let env = self.seal(&s.session_id, Step::Code, &serde_json::json!({ "code": code })).await;
        self.widget_post(s, "code", Some(&serde_json::json!({ "envelope": env })), "198.51.100.7").await
    }

    /// The newest code in the outbox.
    pub fn last_code(&self) -> String {
        self.outbox.messages().first().map(|m| m.code.clone()).expect("a code was sent")
    }

    /// A session verified by SMS from start to end; returns it and the result token.
    pub async fn verified_session(&self, phone: &str) -> (CreateSessionResponse, String) {
        let s = self.create_session().await;
        let r = self.submit_identity(&s, &identity_sms(phone, self.clock.now_secs())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let r = self.submit_code(&s, &self.last_code()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let token = r.json["result_token"].as_str().expect("token").to_owned();
        (s, token)
    }

    /// `GET /v1/sessions/{id}` with the secret key.
    pub async fn site_view(&self, id: &str) -> Reply {
        self.call("GET", &format!("/v1/sessions/{id}"), &[("authorization", &format!("Bearer {SECRET_KEY}"))], None)
            .await
    }
}

/// Brings the clock trait's `now_secs` into scope for the helpers.
use realname_domain::clock::Clock as _;

/// An SMS identity payload with consent given now.
pub fn identity_sms(phone: &str, now_secs: i64) -> Value {
    serde_json::to_value(IdentityPayload {
        method: Method::Sms,
        document_kind: DocumentKind::ResidentId,
        name: NAME.into(),
        number: ID_NUMBER.into(),
        phone: Some(phone.into()),
        email: None,
        consent: Some(Consent { version: "2025-01".into(), accepted_at: now_secs }),
        guardian_consent: None,
    })
    .expect("json")
}

/// An email identity payload with consent given now.
pub fn identity_email(email: &str, now_secs: i64) -> Value {
    serde_json::to_value(IdentityPayload {
        method: Method::Email,
        document_kind: DocumentKind::ResidentId,
        name: NAME.into(),
        number: ID_NUMBER.into(),
        phone: None,
        email: Some(email.into()),
        consent: Some(Consent { version: "2025-01".into(), accepted_at: now_secs }),
        guardian_consent: None,
    })
    .expect("json")
}
