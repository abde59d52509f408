//! The API client: speaks docs/protocol.md with `fetch`, seals every payload with personal data in the HPKE
//! envelope before it leaves the page, and turns answers into flow events. Requests are written by
//! `realname_core::json` (the same text as serde_json, without its code in the wasm); answers are read with the
//! browser's `JSON`, field by field.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use realname_core::b64::{self, Form};
use realname_core::envelope::{self, RecipientKey};
use realname_core::flow::{CodeStatus, Event, Method, Refusal, ServerStep};
use realname_core::json::{self, ToJson};
use realname_core::protocol::{self as p, Check, CheckNotice, CodePayload, Consent, DocumentsPayload, IdentityPayload};
use realname_core::validate::DocumentKind;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::config::Config;

/// Tries a code allows (protocol §4.6).
pub const CODE_TRIES: u8 = 5;

/// Error codes the widget itself reports (server codes pass through).
pub mod codes {
    /// The server could not be reached or answered something unreadable.
    pub const NETWORK: &str = "network";
    /// Neither a publishable key nor a session was configured.
    pub const NOT_CONFIGURED: &str = "not_configured";
    /// The site's session ended; the site must create a new one.
    pub const SESSION_ENDED: &str = "session_ended";
    /// Sealing failed (bad server key).
    pub const SEAL: &str = "seal_failed";
}

/// The identity as entered, normalized by the validators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityInput {
    /// Document kind.
    pub kind: DocumentKind,
    /// Name.
    pub name: String,
    /// Document number (normalized).
    pub number: String,
    /// Mobile number for SMS.
    pub phone: Option<String>,
    /// Email for email codes.
    pub email: Option<String>,
}

/// The JPEG photos of the documents method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentsPhotos {
    /// The selfie, JPEG.
    pub selfie: Vec<u8>,
    /// The document's photo side, JPEG.
    pub document: Vec<u8>,
    /// When the person gave the separate face consent, Unix seconds.
    pub consent_at: i64,
}

/// Personal data waiting to be sealed. Lives only in memory, only until a final step or `destroy()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// When consent was given, Unix seconds.
    pub consent_at: Option<i64>,
    /// The consent text's version.
    pub consent_version: Option<String>,
    /// When a parent or guardian consented for a child under 14, Unix seconds.
    pub guardian_at: Option<i64>,
    /// The identity.
    pub identity: Option<IdentityInput>,
    /// The code being submitted.
    pub code: Option<String>,
    /// The documents method's photos.
    pub documents: Option<DocumentsPhotos>,
}

/// The identity payload of protocol §3.2.
pub fn identity_payload(s: &Secrets, method: Method) -> Result<IdentityPayload, &'static str> {
    let id = s.identity.as_ref().ok_or(codes::NOT_CONFIGURED)?;
    Ok(IdentityPayload {
        method,
        document_kind: id.kind,
        name: id.name.clone(),
        number: id.number.clone(),
        phone: if method == Method::Sms { id.phone.clone() } else { None },
        email: if method == Method::Email { id.email.clone() } else { None },
        consent: Some(Consent {
            version: s.consent_version.clone().unwrap_or_default(),
            accepted_at: s.consent_at.unwrap_or_default(),
        }),
        // The guardian agreed to the same consent text (the guardian step shows it again for the child).
        guardian_consent: s
            .guardian_at
            .map(|at| Consent { version: s.consent_version.clone().unwrap_or_default(), accepted_at: at }),
    })
}

/// The JSON of the documents payload: the identity plus both photos (base64url) and the face consent.
fn documents_payload(s: &Secrets) -> Result<String, Failure> {
    let identity = identity_payload(s, Method::Documents).map_err(Failure::new)?;
    let photos = s.documents.as_ref().ok_or_else(|| Failure::new(codes::NOT_CONFIGURED))?;
    Ok(json::to_string(&DocumentsPayload {
        identity,
        selfie_jpeg: b64::encode(&photos.selfie, Form::UrlNoPad),
        document_jpeg: b64::encode(&photos.document, Form::UrlNoPad),
        face_consent: Consent {
            version: s.consent_version.clone().unwrap_or_default(),
            accepted_at: photos.consent_at,
        },
    }))
}

/// The methods a session offers and the identity checks its site runs.
pub type Offer = (Vec<Method>, Vec<CheckNotice>);

#[derive(Clone)]
struct Session {
    id: String,
    secret: String,
    key: RecipientKey,
    /// The methods the session offers and the site's checks, when the creating answer said so (widget sessions).
    offer: Option<Offer>,
}

/// A failed request: the stable code and the details the flow needs.
#[derive(Debug)]
struct Failure {
    code: String,
    attempts_left: Option<u32>,
    retry_after: Option<u32>,
}

impl Failure {
    fn new(code: &str) -> Failure {
        Failure { code: code.to_string(), attempts_left: None, retry_after: None }
    }
}

/// The client for one widget: at most one session at a time.
pub struct Api {
    config: Rc<Config>,
    session: RefCell<Option<Session>>,
    used_site_session: RefCell<bool>,
    destination: RefCell<Option<String>>,
    /// When a resend becomes possible, in this page's `Date.now()` milliseconds: the server's duration (`resend_in`)
    /// added to the moment its answer arrived, so a wrong device clock does not matter.
    resend_at: Cell<f64>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("server", &self.config.server).finish_non_exhaustive()
    }
}

impl Api {
    /// A client for the configured server.
    pub fn new(config: Rc<Config>) -> Api {
        Api {
            config,
            session: RefCell::new(None),
            used_site_session: RefCell::new(false),
            destination: RefCell::new(None),
            resend_at: Cell::new(0.0),
        }
    }

    /// The masked destination of the last code (`138****8000`).
    pub fn destination(&self) -> Option<String> {
        self.destination.borrow().clone()
    }

    /// Whether the widget opens its sessions itself (a publishable key), so it can start a new one; a session the
    /// site created is good for one attempt.
    pub fn can_restart(&self) -> bool {
        self.config.session.is_none() && self.config.publishable_key.is_some()
    }

    /// Drops the session (after a final failure): the next submission starts a new one.
    pub fn forget_session(&self) {
        self.session.borrow_mut().take();
        self.destination.borrow_mut().take();
    }

    async fn fetch(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        auth: Option<&str>,
    ) -> Result<JsValue, Failure> {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        init.set_mode(web_sys::RequestMode::Cors);
        let headers = web_sys::Headers::new().map_err(|_| Failure::new(codes::NETWORK))?;
        if let Some(b) = body {
            let _ = headers.set("content-type", "application/json");
            init.set_body(&JsValue::from_str(&b));
        }
        if let Some(a) = auth {
            let _ = headers.set("authorization", &format!("Bearer {a}"));
        }
        init.set_headers(&headers);
        let url = format!("{}{}", self.config.server, path);
        let req = web_sys::Request::new_with_str_and_init(&url, &init).map_err(|_| Failure::new(codes::NETWORK))?;
        let window = web_sys::window().ok_or_else(|| Failure::new(codes::NETWORK))?;
        let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&req))
            .await
            .and_then(|r| r.dyn_into())
            .map_err(|_| Failure::new(codes::NETWORK))?;
        let json = match resp.json() {
            Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::NULL),
            Err(_) => JsValue::NULL,
        };
        if resp.ok() {
            return Ok(json);
        }
        let error = field(&json, "error");
        match text(&error, "code") {
            Some(code) => Err(Failure {
                code,
                attempts_left: number(&error, "attempts_left").map(|n| n as u32),
                retry_after: number(&error, "retry_after").map(|n| n as u32),
            }),
            None => Err(Failure::new(codes::NETWORK)),
        }
    }

    async fn post(&self, path: &str, body: &dyn ToJson, auth: Option<&str>) -> Result<JsValue, Failure> {
        self.fetch("POST", path, Some(json::to_string(body)), auth).await
    }

    async fn session(&self) -> Result<Session, Failure> {
        if let Some(s) = self.session.borrow().clone() {
            return Ok(s);
        }
        let (id, secret, offer) = if let Some((id, secret)) = self.config.session.clone() {
            // A site-created session is good for one attempt; a retry needs a new one from the site.
            if self.used_site_session.replace(true) {
                return Err(Failure::new(codes::SESSION_ENDED));
            }
            (id, secret, None)
        } else if let Some(pk) = &self.config.publishable_key {
            // No method list: the session offers what the site enabled; asking for one it did not enable would
            // refuse the whole session (403 method_not_enabled) before the person chose anything.
            let req = p::WidgetSessionRequest { publishable_key: pk.clone(), methods: None };
            let v = self.post("/v1/widget/sessions", &req, None).await?;
            let (id, secret) =
                text(&v, "session_id").zip(text(&v, "client_secret")).ok_or_else(|| Failure::new(codes::NETWORK))?;
            (id, secret, methods_of(&v).map(|m| (m, checks_of(&v))))
        } else {
            return Err(Failure::new(codes::NOT_CONFIGURED));
        };
        let key = self.server_key().await?;
        let s = Session { id, secret, key, offer };
        *self.session.borrow_mut() = Some(s.clone());
        Ok(s)
    }

    /// The key to seal to: the newest of `GET /v1/keys` (protocol §4.1).
    async fn server_key(&self) -> Result<RecipientKey, Failure> {
        let v = self.fetch("GET", "/v1/keys", None, None).await?;
        let first = js_sys::Reflect::get(&field(&v, "keys"), &JsValue::from_f64(0.0)).unwrap_or(JsValue::UNDEFINED);
        let (kid, public) =
            text(&first, "kid").zip(text(&first, "public_key")).ok_or_else(|| Failure::new(codes::NETWORK))?;
        RecipientKey::from_base64(&kid, &public).map_err(|_| Failure::new(codes::SEAL))
    }

    /// Starts the resend countdown from the server's `resend_in` seconds; returns them.
    fn resend_from(&self, secs: Option<f64>) -> u32 {
        let secs = secs.unwrap_or(0.0).clamp(0.0, 86_400.0);
        self.resend_at.set(js_sys::Date::now() + secs * 1000.0);
        secs as u32
    }

    /// Seconds still to wait before a resend, counted on this page since the server's answer.
    fn resend_left(&self) -> u32 {
        ((self.resend_at.get() - js_sys::Date::now()) / 1000.0).ceil().max(0.0) as u32
    }

    fn code_sent(&self, v: JsValue) -> Event {
        match number(&v, "resend_in") {
            Some(secs) => {
                *self.destination.borrow_mut() = text(&v, "destination");
                Event::CodeSent { tries_left: CODE_TRIES, resend_in: self.resend_from(Some(secs)) }
            }
            None => Event::Fail { code: codes::NETWORK.into() },
        }
    }

    async fn client_view(&self) -> Result<(Session, JsValue), Failure> {
        let s = self.session().await?;
        let path = format!("/v1/sessions/{}/client", s.id);
        let v = self.fetch("GET", &path, None, Some(&s.secret)).await?;
        Ok((s, v))
    }

    /// Opens the session when the widget mounts and returns the methods it offers (the site's enabled methods, or
    /// the site's choice for this session) in the flow's terms, and the site's checks for the consent, so a
    /// misconfigured page (origin, key, client secret, site, methods) shows at once, before the person types
    /// anything. `Err` is the stable code.
    pub async fn check(&self) -> Result<Offer, String> {
        let s = self.session().await.map_err(|f| f.code)?;
        if let Some(o) = s.offer {
            return Ok(o);
        }
        let (_, v) = self.client_view().await.map_err(|f| f.code)?;
        methods_of(&v).map(|m| (m, checks_of(&v))).ok_or_else(|| codes::NETWORK.to_string())
    }

    /// Asks the server where the session is (protocol §4.4), for the flow to resume there after an error.
    pub async fn sync(&self) -> Event {
        let v = match self.client_view().await {
            Ok((_, v)) => v,
            Err(f) => return self.failure_event(f),
        };
        if let Some(d) = text(&v, "destination") {
            *self.destination.borrow_mut() = Some(d);
        }
        let resend_in = self.resend_from(number(&v, "resend_in"));
        let tries_left = number(&v, "attempts_left").map_or(CODE_TRIES, |n| n.clamp(0.0, 255.0) as u8);
        let code = |status| ServerStep::Code { tries_left, resend_in, status };
        let at = match text(&v, "status").as_deref() {
            Some("created") => ServerStep::Created,
            Some("submitted") => code(CodeStatus::Unsent),
            Some("code_sent") if number(&v, "code_expires_in") == Some(0.0) => code(CodeStatus::Expired),
            Some("code_sent") => code(CodeStatus::Active),
            Some("pending_review") => ServerStep::InReview,
            // Verified, rejected, failed, canceled or expired: this session is over.
            _ => return Event::Fail { code: codes::SESSION_ENDED.into() },
        };
        Event::Synced { methods: methods_of(&v).unwrap_or_default(), checks: checks_of(&v), at }
    }

    fn failure_event(&self, f: Failure) -> Event {
        match f.code.as_str() {
            // The resend countdown goes on through a wrong code.
            "code_invalid" => Event::CodeRejected {
                tries_left: f.attempts_left.unwrap_or(0).min(255) as u8,
                resend_in: self.resend_left(),
            },
            "code_expired" => Event::CodeExpired,
            "code_locked" => Event::CodeLocked,
            "identity_limit" | "identity_mismatch_locked" => Event::Failed { reason: f.code },
            code => match Refusal::from_code(code, f.attempts_left, f.retry_after) {
                Some(r) => Event::Refused(r),
                None => Event::Fail { code: f.code },
            },
        }
    }

    /// Seals `payload` for `step` and posts it to the step's path (`/v1/sessions/{id}/identity`, `/code`,
    /// `/documents`). One future for the three sealed steps: each would otherwise be its own copy of the session,
    /// seal and fetch code in the wasm.
    async fn send_sealed(&self, step: p::Step, payload: Result<String, Failure>) -> Result<JsValue, Failure> {
        let payload = payload?;
        let mut s = self.session().await?;
        let path = format!("/v1/sessions/{}/{}", s.id, step.as_str());
        let mut resealed = false;
        loop {
            let envelope =
                envelope::seal(&s.key, &s.id, step, payload.as_bytes()).map_err(|_| Failure::new(codes::SEAL))?;
            match self.post(&path, &p::SealedRequest { envelope }, Some(&s.secret)).await {
                // The server's keys changed since they were fetched (a rotation, or another instance): once,
                // fetch them again and reseal, instead of failing the person (protocol §3).
                Err(f) if f.code == "unknown_kid" && !resealed => {
                    resealed = true;
                    s.key = self.server_key().await?;
                    if let Some(kept) = self.session.borrow_mut().as_mut() {
                        kept.key = s.key.clone();
                    }
                }
                r => return r,
            }
        }
    }

    /// Seals and sends the identity; a code goes out.
    pub async fn submit_identity(&self, secrets: &Secrets, method: Method) -> Event {
        let payload = identity_payload(secrets, method).map(|p| json::to_string(&p)).map_err(Failure::new);
        match self.send_sealed(p::Step::Identity, payload).await {
            Ok(v) => self.code_sent(v),
            Err(f) => self.failure_event(f),
        }
    }

    /// Seals and sends the code.
    pub async fn submit_code(&self, code: &str) -> Event {
        let payload = json::to_string(&CodePayload { code: code.to_string() });
        match self.send_sealed(p::Step::Code, Ok(payload)).await {
            // A flagged identity (a child, an unknown region code, an identity over the site's account limit) waits
            // for a reviewer after the code: no token yet, a due date instead.
            Ok(v) => match (text(&v, "status").as_deref(), text(&v, "result_token")) {
                (Some("pending_review"), _) => {
                    Event::InReview { due: text(&v, "review_due").unwrap_or_default(), token: String::new() }
                }
                (_, Some(token)) => Event::Verified { token },
                _ => Event::Fail { code: codes::NETWORK.into() },
            },
            Err(f) => self.failure_event(f),
        }
    }

    /// Asks for a new code.
    pub async fn resend(&self) -> Event {
        let run = async {
            let s = self.session().await?;
            let path = format!("/v1/sessions/{}/resend", s.id);
            self.fetch("POST", &path, Some("{}".into()), Some(&s.secret)).await
        };
        match run.await {
            Ok(v) => self.code_sent(v),
            Err(f) => self.failure_event(f),
        }
    }

    /// Seals and sends the identity with both photos.
    pub async fn submit_documents(&self, secrets: &Secrets) -> Event {
        match self.send_sealed(p::Step::Documents, documents_payload(secrets)).await {
            Ok(v) => {
                let get = |k: &str| text(&v, k);
                match get("status").as_deref() {
                    Some("verified") => Event::Verified { token: get("result_token").unwrap_or_default() },
                    Some("rejected" | "failed") => Event::Failed { reason: "rejected".into() },
                    _ => Event::InReview {
                        due: get("review_due").unwrap_or_default(),
                        token: get("result_token").unwrap_or_default(),
                    },
                }
            }
            Err(f) => self.failure_event(f),
        }
    }

    /// Tells the server the person cancelled (best effort; nothing personal is sent).
    pub async fn cancel(&self) {
        // Forgotten before the request: a submission meanwhile opens a new session instead of reusing this one.
        let s = self.session.borrow_mut().take();
        self.forget_session();
        if let Some(s) = s {
            let path = format!("/v1/sessions/{}/cancel", s.id);
            let _ = self.fetch("POST", &path, Some("{}".into()), Some(&s.secret)).await;
        }
    }
}

/// A property of a JSON object (undefined when missing). Responses are read field by field instead of through
/// serde: the widget's size budget has no room for a deserializer per response type.
fn field(v: &JsValue, key: &str) -> JsValue {
    if v.is_object() {
        js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn text(v: &JsValue, key: &str) -> Option<String> {
    field(v, key).as_string()
}

fn number(v: &JsValue, key: &str) -> Option<f64> {
    field(v, key).as_f64()
}

/// The `methods` list of a session answer (wire names only).
fn methods_of(v: &JsValue) -> Option<Vec<Method>> {
    let list: js_sys::Array = field(v, "methods").dyn_into().ok()?;
    Some(
        list.iter()
            .filter_map(|m| m.as_string())
            .filter_map(|m| Method::ALL.into_iter().find(|f| f.as_str() == m))
            .collect(),
    )
}

/// The `checks` list of a session answer: the checks this widget knows, with their providers.
fn checks_of(v: &JsValue) -> Vec<CheckNotice> {
    let Ok(list) = field(v, "checks").dyn_into::<js_sys::Array>() else { return Vec::new() };
    list.iter()
        .filter_map(|c| {
            Some(CheckNotice { check: Check::parse(&text(&c, "check")?)?, provider: text(&c, "provider")? })
        })
        .collect()
}
