//! Issue 20, kill -9: two `realname-server serve` processes on one PostgreSQL database (`cargo xtask test`'s), flows
//! running with their requests spread over both and the client sending a request that got no answer (or a 5xx)
//! again to the other instance; one instance is killed with SIGKILL in the middle. Afterwards: every verification
//! the client saw acknowledged is in the database, no session is stranded (every flow the client started finished
//! on the survivor, and no session the client never heard of went past `created`), and every webhook event the
//! instances queued (a verified session's `verification.code_sent` and `verification.verified` among them)
//! reached the site at least once.
//! Codes go out through the `webhook` SMS provider to a gateway in the test, so a code the killed instance sent
//! still reaches the person; one it had recorded but not sent is replaced by a resend after the cooldown (and,
//! as the person would, after the sending limits' window: here the one-a-minute limit is off to keep it short).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use realname_core::envelope::{RecipientKey, seal};
use realname_core::protocol::{KeysResponse, Step};
use realname_domain::config::Secret;
use realname_server::delivery::http::HttpClient;
use serde_json::{Value, json};

use crate::harness::*;
use crate::processes::{Server, fresh_database, get, post, send, shared_keys, start_with, wait_for};

/// What reached the outside world: the SMS gateway's codes per phone (`+86…`, in order) and the webhook events
/// the site's endpoint received, as (event id, type, session id).
#[derive(Clone, Default)]
struct Outside {
    codes: Arc<Mutex<HashMap<String, Vec<String>>>>,
    events: Arc<Mutex<HashSet<(String, String, String)>>>,
}

/// Serves the SMS gateway (`/sms`) and the site's webhook endpoint (`/hook`) on loopback; returns their base URL.
async fn start_outside() -> (String, Outside) {
    let out = Outside::default();
    let (sms, hook) = (out.clone(), out.clone());
    let app = Router::new()
        .route(
            "/sms",
            axum::routing::post(move |body: String| {
                let sms = sms.clone();
                async move {
                    let v: Value = serde_json::from_str(&body).unwrap_or_default();
                    if let (Some(to), Some(code)) = (v["to"].as_str(), v["code"].as_str()) {
                        sms.codes.lock().unwrap().entry(to.to_owned()).or_default().push(code.to_owned());
                    }
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .route(
            "/hook",
            axum::routing::post(move |body: String| {
                let hook = hook.clone();
                async move {
                    let v: Value = serde_json::from_str(&body).unwrap_or_default();
                    let field = |f: &Value| f.as_str().unwrap_or("").to_owned();
                    let event = (field(&v["id"]), field(&v["type"]), field(&v["data"]["session_id"]));
                    hook.events.lock().unwrap().insert(event);
                    StatusCode::NO_CONTENT
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), out)
}

/// The client: each request to one instance (spread by `pick`), and after no answer or a 5xx the same request
/// again to the other, a few rounds.
struct Client {
    http: HttpClient,
    servers: [Arc<Server>; 2],
    key: RecipientKey,
    out: Outside,
    /// Requests sent again to the other instance.
    retried: AtomicU32,
}

impl Client {
    async fn request(&self, pick: u32, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> (u16, Value) {
        let mut last = (0, Value::Null);
        for round in 0..6u32 {
            let s = &*self.servers[((pick + round) % 2) as usize];
            last = match body {
                Some(b) => post(&self.http, s, path, headers, b).await,
                None => {
                    let h = headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
                    send(&self.http, format!("{}{path}", s.base), h, None).await
                }
            };
            if last.0 != 0 && last.0 < 500 {
                return last;
            }
            self.retried.fetch_add(1, Ordering::Relaxed);
            if round % 2 == 1 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        last
    }

    fn sealed(&self, session: &str, step: Step, payload: &Value) -> Value {
        json!({ "envelope": seal(&self.key, session, step, payload.to_string().as_bytes()).unwrap() })
    }

    /// The session's status as its site sees it.
    async fn status(&self, pick: u32, id: &str) -> String {
        let site = format!("Bearer {SECRET_KEY}");
        let (st, v) = self.request(pick, &format!("/v1/sessions/{id}"), &[("authorization", &site)], None).await;
        v["status"].as_str().map_or_else(|| format!("unknown ({st} {v})"), str::to_owned)
    }

    /// The latest code the gateway got for `phone`; when none came (the instance that recorded the send died
    /// before sending it), a resend once the cooldown allows.
    async fn code(&self, pick: u32, phone: &str, id: &str, widget: &[(&str, &str)]) -> Result<String, String> {
        let latest = || self.out.codes.lock().unwrap().get(&format!("+86{phone}")).and_then(|c| c.last().cloned());
        for _ in 0..8 {
            if let Some(code) = latest() {
                return Ok(code);
            }
            let (st, r) = self.request(pick, &format!("/v1/sessions/{id}/resend"), widget, Some(&json!({}))).await;
            match (st, r["error"]["code"].as_str()) {
                (200, _) => {}
                (429, Some("resend_cooldown")) => tokio::time::sleep(Duration::from_millis(500)).await,
                _ => return Err(format!("resend {st} {r}")),
            }
        }
        latest().ok_or_else(|| "no code reached the gateway".to_owned())
    }

    /// One flow; the session id and whether its verification was acknowledged (`false`: found verified after
    /// the acknowledgement was lost with the instance). `known` gets the session once its creation is answered.
    async fn flow(&self, n: u32, known: &Mutex<Vec<String>>) -> Result<(String, bool), String> {
        let (phone, ip) = (format!("1371234{:04}", n % 10_000), format!("198.19.{}.{}", n / 200 % 250, n % 200 + 1));
        let site = format!("Bearer {SECRET_KEY}");
        let (st, s) = self.request(n, "/v1/sessions", &[("authorization", &site)], Some(&json!({}))).await;
        let (Some(id), Some(cs)) = (s["session_id"].as_str(), s["client_secret"].as_str()) else {
            return Err(format!("create: {st} {s}"));
        };
        known.lock().unwrap().push(id.to_owned());
        let auth = format!("Bearer {cs}");
        let widget = [("authorization", auth.as_str()), ("origin", ORIGIN), ("x-forwarded-for", ip.as_str())];
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let body = self.sealed(id, Step::Identity, &identity_sms(&phone, now));
        let (st, r) = self.request(n + 1, &format!("/v1/sessions/{id}/identity"), &widget, Some(&body)).await;
        if st != 200 {
            // A try that got no answer may have committed before its instance died: the session says.
            let status = self.status(n, id).await;
            if status != "code_sent" {
                return Err(format!("{id}: identity {st} {r}, then {status}"));
            }
        }
        let code = self.code(n, &phone, id, &widget).await.map_err(|e| format!("{id}: {e}"))?;
        let body = self.sealed(id, Step::Code, &json!({ "code": code }));
        let (st, r) = self.request(n + 1, &format!("/v1/sessions/{id}/code"), &widget, Some(&body)).await;
        if st == 200 && r["status"] == "verified" && r["result_token"].is_string() {
            return Ok((id.to_owned(), true));
        }
        match self.status(n, id).await.as_str() {
            "verified" => Ok((id.to_owned(), false)),
            other => Err(format!("{id}: code {st} {r}, then {other}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_instance_loses_and_strands_nothing() {
    let Some(db) = fresh_database("failover").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (keys_a, keys_b) = shared_keys(dir.path(), 7);
    let (outside, out) = start_outside().await;
    let tweak = |cfg: &mut realname_domain::config::Config| {
        cfg.sms.provider = "webhook".into();
        cfg.sms.webhook.url = format!("{outside}/sms");
        cfg.sms.webhook.secret = Secret::new("whsec_gateway_0123456789");
        cfg.sites[0].webhook_url = Some(format!("{outside}/hook"));
        cfg.sites[0].webhook_secret = Secret::new("whsec_test_0123456789");
        cfg.codes.resend_cooldown_secs = 1;
        // A send the killed instance recorded but never made still counts in its windows (the process died before
        // it could give it back); the resend that replaces it would wait out the minute's window of one code.
        cfg.limits.per_destination_minute = 0;
        // A delivery leased by the killed instance is taken over after 3 s (three times the timeout).
        cfg.webhooks.timeout_secs = 1;
        cfg.webhooks.poll_ms = 100;
    };
    let http = HttpClient::new(Duration::from_secs(10));
    let a = Arc::new(start_with(&http, &db, dir.path(), "a", &keys_a, tweak).await);
    let b = Arc::new(start_with(&http, &db, dir.path(), "b", &keys_b, tweak).await);
    let keys: KeysResponse = serde_json::from_value(get(&http, &b, "/v1/keys").await.1).unwrap();
    let key = RecipientKey::from_base64(&keys.keys[0].kid, &keys.keys[0].public_key).unwrap();
    let client = Arc::new(Client {
        http: HttpClient::new(Duration::from_secs(10)),
        servers: [a.clone(), b.clone()],
        key,
        out: out.clone(),
        retried: AtomicU32::new(0),
    });

    // Six clients run flows all along; instance a dies by SIGKILL once a few have passed.
    let (stop, next, done) =
        (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let known = Arc::new(Mutex::new(Vec::new()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let (client, stop, next, done) = (client.clone(), stop.clone(), next.clone(), done.clone());
            let (known, results) = (known.clone(), results.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let r = client.flow(n, &known).await;
                    results.lock().unwrap().push(r);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let d = &*done;
    wait_for("flows before the kill", || async move { d.load(Ordering::Relaxed) >= 12 }).await;
    let killed = std::process::Command::new("kill").args(["-KILL", &a.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let at_kill = done.load(Ordering::Relaxed);
    wait_for("flows after the kill", || async move { d.load(Ordering::Relaxed) >= at_kill + 12 }).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    // Every flow the client started finished, on the survivor where its instance died.
    let results = std::mem::take(&mut *results.lock().unwrap());
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{} of {} flows stranded: {failures:#?}", failures.len(), results.len());
    assert!(client.retried.load(Ordering::Relaxed) > 0, "no request went to the other instance");
    let acknowledged: Vec<&String> =
        results.iter().filter_map(|r| r.as_ref().ok()).filter(|r| r.1).map(|r| &r.0).collect();

    // The database after the crash: every acknowledged verification is there; a session the client never heard
    // of (its creation's answer died with the instance) never went past `created`.
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, status FROM sessions").fetch_all(&pool).await.unwrap();
    let status: HashMap<String, String> = rows.into_iter().collect();
    for id in &acknowledged {
        assert_eq!(status.get(*id).map(String::as_str), Some("verified"), "acknowledged verification {id} lost");
    }
    let known: HashSet<String> = known.lock().unwrap().iter().cloned().collect();
    for (id, s) in &status {
        assert!(known.contains(id) || s == "created", "session {id} unknown to the client is {s}");
    }
    // Every event queued for the site, including the ones the dead instance queued or had leased.
    let queued: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, event_type FROM webhook_deliveries").fetch_all(&pool).await.unwrap();
    pool.close().await;

    let verified: HashSet<String> = status.iter().filter(|(_, s)| *s == "verified").map(|(id, _)| id.clone()).collect();
    assert_eq!(verified.len(), results.len(), "every flow ends verified");
    // A verified session queued both of its events: none was lost before it was queued.
    for kind in ["verification.code_sent", "verification.verified"] {
        let n = queued.iter().filter(|(_, t)| t == kind).count();
        assert!(n >= verified.len(), "{n} {kind} events queued for {} verified sessions", verified.len());
    }
    eprintln!(
        "failover: {} flows, {} acknowledged, {} found verified after a lost answer, {} sessions never answered, \
         {} requests sent again",
        results.len(),
        acknowledged.len(),
        results.len() - acknowledged.len(),
        status.len() - known.len(),
        client.retried.load(Ordering::Relaxed)
    );
    // Every queued event reached the site at least once (one leased by the dead instance after its lease ran
    // out), and so every verified session's two events did.
    let o = &out;
    let q = &queued;
    wait_for("every queued webhook event", || async move {
        let got: HashSet<String> = o.events.lock().unwrap().iter().map(|e| e.0.clone()).collect();
        q.iter().all(|(id, _)| got.contains(id))
    })
    .await;
    let got = out.events.lock().unwrap().clone();
    for id in &verified {
        for kind in ["verification.code_sent", "verification.verified"] {
            assert!(got.iter().any(|e| e.1 == kind && &e.2 == id), "no {kind} event for {id} reached the site");
        }
    }
    drop((client, a, b));
}
