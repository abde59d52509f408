//! Issue 20, as an operator runs it: two `realname-server serve` processes on one PostgreSQL database (the one of
//! `DATABASE_URL`, which `cargo xtask test` starts), each with its own copy of the key files, and flows with
//! their requests spread over both running all the time while the keys roll: an HPKE, a vault and a result-token
//! rotation, each with the real `rotate-keys` command on the first instance's files (which it reloads by itself),
//! copied to the second instance seconds later (loaded on SIGHUP). No flow fails. An instance with keys made anew
//! is refused at start.
//! Real processes keep real time: the publish delay is 8 s and keys reload every second here.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use realname_core::envelope::{RecipientKey, seal};
use realname_core::protocol::{Jwks, KeysResponse, Step};
use realname_domain::clock::SeededRandom;
use realname_domain::config::Config;
use realname_domain::keys::{KEY_FILE, KeyRing};
use realname_domain::vault::Vault;
use realname_server::cli::serve::VAULT_FILE;
use realname_server::delivery::http::HttpClient;
use serde_json::{Value, json};

use crate::harness::*;

const BIN: &str = env!("CARGO_BIN_EXE_realname-server");

/// One server process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    keys: PathBuf,
    config: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound and released: the server takes it a moment later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The configuration file of an instance: the test site, outbox delivery (read through `/dev/outbox`), a short
/// publish delay and reload interval.
fn write_config(dir: &Path, name: &str, port: u16, keys: &Path) -> PathBuf {
    write_config_with(dir, name, port, keys, |_| {})
}

/// As [`write_config`], changed by `tweak`.
fn write_config_with(dir: &Path, name: &str, port: u16, keys: &Path, tweak: impl FnOnce(&mut Config)) -> PathBuf {
    let mut cfg = test_config();
    cfg.server.addr = format!("127.0.0.1:{port}");
    cfg.server.log_format = "text".into();
    cfg.server.log_level = "error".into();
    cfg.keys.dir = keys.to_owned();
    cfg.keys.publish_secs = 8;
    cfg.keys.reload_secs = 1;
    cfg.keys.hpke_grace_secs = 3600;
    // Each instance its own audit checkpoint folder, in the test's folder (the default is relative to the
    // working directory, here the crate's).
    cfg.audit.checkpoint_dir = dir.join(format!("{name}-audit"));
    tweak(&mut cfg);
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    path
}

/// `realname-server <args>` with this database and no keys from the environment.
fn command(db: &str, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).env("DATABASE_URL", db).env_remove("REALNAME_SERVER_KEYS").env_remove("REALNAME_VAULT_KEYS");
    c
}

/// Starts `serve` and waits until `/readyz` says ready.
async fn start(http: &HttpClient, db: &str, dir: &Path, name: &str, keys: &Path) -> Server {
    start_with(http, db, dir, name, keys, |_| {}).await
}

/// As [`start`], its configuration changed by `tweak`.
pub async fn start_with(
    http: &HttpClient,
    db: &str,
    dir: &Path,
    name: &str,
    keys: &Path,
    tweak: impl FnOnce(&mut Config),
) -> Server {
    let port = free_port();
    let config = write_config_with(dir, name, port, keys, tweak);
    let child = command(db, &["serve", "--config", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Server { child, base: format!("http://127.0.0.1:{port}"), keys: keys.to_owned(), config };
    let s = &server;
    wait_for(&format!("{name} ready"), || async move { get(http, s, "/readyz").await.0 == 200 }).await;
    server
}

/// Polls `cond` every 100 ms for up to 20 s.
pub async fn wait_for<F: std::future::Future<Output = bool>>(what: &str, cond: impl Fn() -> F) {
    let until = Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A request's status and JSON body; status 0 with the error as the body when there was no answer.
pub async fn send(
    http: &HttpClient,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    match http.send(&url, headers, body).await {
        Ok(r) => (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null)),
        Err(e) => (0, Value::String(e)),
    }
}

pub async fn get(http: &HttpClient, s: &Server, path: &str) -> (u16, Value) {
    send(http, format!("{}{path}", s.base), vec![], None).await
}

pub async fn post(http: &HttpClient, s: &Server, path: &str, headers: &[(&str, &str)], body: &Value) -> (u16, Value) {
    let mut h: Vec<(String, String)> = headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    h.push(("content-type".into(), "application/json".into()));
    send(http, format!("{}{path}", s.base), h, Some(body.to_string().into_bytes())).await
}

async fn kids(http: &HttpClient, s: &Server) -> Vec<String> {
    let keys: KeysResponse = serde_json::from_value(get(http, s, "/v1/keys").await.1).unwrap();
    keys.keys.into_iter().map(|k| k.kid).collect()
}

async fn jwks(http: &HttpClient, s: &Server) -> Jwks {
    serde_json::from_value(get(http, s, "/v1/jwks.json").await.1).unwrap()
}

/// Seals to the key the widget would: the first of `GET /v1/keys` of `s`.
pub async fn sealed(http: &HttpClient, s: &Server, session: &str, step: Step, payload: &Value) -> Value {
    let keys: KeysResponse = serde_json::from_value(get(http, s, "/v1/keys").await.1).unwrap();
    let key = RecipientKey::from_base64(&keys.keys[0].kid, &keys.keys[0].public_key).unwrap();
    json!({ "envelope": seal(&key, session, step, payload.to_string().as_bytes()).unwrap() })
}

/// One flow across the two processes (session and identity on `x` sealed to `y`'s keys, code on `y` sealed to
/// `x`'s); `Err` says what failed. The token must verify through both processes' JWKS.
async fn cross_flow(http: &HttpClient, x: &Server, y: &Server, n: u32) -> Result<(), String> {
    let (phone, ip) = (format!("1381234{:04}", n % 10_000), format!("198.18.{}.{}", n / 200 % 250, n % 200 + 1));
    let site = format!("Bearer {SECRET_KEY}");
    let (st, s) = post(http, x, "/v1/sessions", &[("authorization", &site)], &json!({})).await;
    let (Some(id), Some(cs)) = (s["session_id"].as_str(), s["client_secret"].as_str()) else {
        return Err(format!("create: {st} {s}"));
    };
    let auth = format!("Bearer {cs}");
    let widget = [("authorization", auth.as_str()), ("origin", ORIGIN), ("x-forwarded-for", ip.as_str())];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let body = sealed(http, y, id, Step::Identity, &identity_sms(&phone, now)).await;
    let (st, r) = post(http, x, &format!("/v1/sessions/{id}/identity"), &widget, &body).await;
    if st != 200 {
        return Err(format!("identity {st} {r}"));
    }
    let outbox = get(http, x, "/dev/outbox").await.1;
    let masked = realname_core::validate::mask_phone(&phone);
    let code = outbox["messages"].as_array().and_then(|m| m.iter().find(|m| m["to"] == masked.as_str()));
    let code = code.and_then(|m| m["code"].as_str()).ok_or("no code in the outbox")?.to_owned();
    let body = sealed(http, x, id, Step::Code, &json!({ "code": code })).await;
    let (st, r) = post(http, y, &format!("/v1/sessions/{id}/code"), &widget, &body).await;
    let token = r["result_token"].as_str().ok_or_else(|| format!("code {st} {r}"))?;
    for s in [x, y] {
        realname_domain::tokens::verify(&jwks(http, s).await, token, now, Some("shop"))
            .map_err(|e| format!("token against {}: {e}", s.base))?;
    }
    Ok(())
}

/// The operator copies the key files from one instance's folder to the other's.
pub fn copy_keys(from: &Path, to: &Path) {
    for f in [KEY_FILE, VAULT_FILE] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

/// Key files made once and copied to two instances' folders (`keys-a`, `keys-b` in `dir`), as an operator does.
pub fn shared_keys(dir: &Path, seed: u64) -> (PathBuf, PathBuf) {
    let (a, b) = (dir.join("keys-a"), dir.join("keys-b"));
    KeyRing::load_or_create(&a, SeededRandom::new(seed).as_ref(), T0).unwrap();
    Vault::generate().unwrap().write_new(&a.join(VAULT_FILE)).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    copy_keys(&a, &b);
    (a, b)
}

/// `rotate-keys --key <which>` against an instance's configuration.
fn rotate(db: &str, s: &Server, which: &str) {
    let out = command(db, &["rotate-keys", "--key", which, "--config", s.config.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "rotate-keys --key {which}: {}", String::from_utf8_lossy(&out.stderr));
}

fn hangup(s: &Server) {
    let ok = Command::new("kill").args(["-HUP", &s.child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

/// A fresh database on the server of `DATABASE_URL`, named after `test`; `None` without it (unless required).
pub async fn fresh_database(test: &str) -> Option<String> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        assert_ne!(std::env::var("REALNAME_REQUIRE_POSTGRES").as_deref(), Ok("1"), "DATABASE_URL is not set");
        eprintln!("note: two server processes need DATABASE_URL (`cargo xtask test` sets it)");
        return None;
    };
    let name = format!("rn_{test}_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    admin.close().await;
    let (head, query) = url.split_once('?').map_or((url.as_str(), None), |(h, q)| (h, Some(q)));
    let (server, _db) = head.rsplit_once('/').unwrap();
    Some(format!("{server}/{name}{}", query.map(|q| format!("?{q}")).unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_roll_every_rotation_with_flows_running() {
    let Some(db) = fresh_database("processes").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (keys_a, keys_b) = shared_keys(dir.path(), 5);
    let http = HttpClient::new(Duration::from_secs(10));
    let a = Arc::new(start(&http, &db, dir.path(), "a", &keys_a).await);
    let b = Arc::new(start(&http, &db, dir.path(), "b", &keys_b).await);

    // An instance with keys made anew is refused at start, naming what differs.
    let stranger = dir.path().join("keys-new");
    let cfg = write_config(dir.path(), "stranger", free_port(), &stranger);
    let out = command(&db, &["serve", "--config", cfg.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("keys differ") && err.contains("vault keys"), "{err}");

    // Flows across the two processes all along, until the rotations are done.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let done = Arc::new(AtomicU32::new(0));
    let runner = {
        let (a, b, stop, failures, done) = (a.clone(), b.clone(), stop.clone(), failures.clone(), done.clone());
        let http = HttpClient::new(Duration::from_secs(10));
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let (x, y) = if n % 2 == 0 { (&a, &b) } else { (&b, &a) };
                if let Err(e) = cross_flow(&http, x, y, n).await {
                    failures.lock().unwrap().push(format!("flow {n}: {e}"));
                }
                done.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        })
    };
    let d = &*done;
    let flows_pass = |count: u32| async move {
        let target = d.load(Ordering::Relaxed) + count;
        wait_for("flows", || async move { d.load(Ordering::Relaxed) >= target }).await;
    };
    flows_pass(4).await;

    let (h, aa, bb) = (&http, &*a, &*b);
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let pool = &pool;
    let recorded = || async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM key_prints").fetch_one(pool).await.unwrap()
    };
    for which in ["hpke", "vault", "token"] {
        let (records, listed) = (recorded().await, kids(h, aa).await);
        // Rotated on the first instance's files, which it reloads by itself (within a second) and records.
        rotate(&db, aa, which);
        wait_for(&format!("{which}: the first instance loads it"), || async move { recorded().await > records }).await;
        let published = Instant::now();
        // Flows go on between an instance that has the new key and one that has not (a while, well within the
        // publish delay however slow the machine).
        let _ = tokio::time::timeout(Duration::from_secs(3), flows_pass(6)).await;
        // The copy reaches the second instance, which loads it on SIGHUP, while flows go on.
        copy_keys(&aa.keys, &bb.keys);
        hangup(bb);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(kids(h, bb).await, kids(h, aa).await);
        assert_eq!(jwks(h, bb).await.keys.len(), jwks(h, aa).await.keys.len());
        flows_pass(4).await;
        // After the publish delay both use it.
        let left = Duration::from_millis(8500).saturating_sub(published.elapsed());
        tokio::time::sleep(left).await;
        if which == "hpke" {
            let now = kids(h, aa).await;
            assert!(!listed.contains(&now[0]), "the new key is in use: {now:?} after {listed:?}");
            assert_eq!(kids(h, bb).await, now);
        }
        flows_pass(4).await;
    }
    stop.store(true, Ordering::Relaxed);
    runner.await.unwrap();
    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "{} of {} flows failed: {failures:#?}", failures.len(), done.load(Ordering::Relaxed));
    // Each instance signs audit checkpoints into its own folder.
    for name in ["a", "b"] {
        let file =
            realname_server::audit::checkpoint::CheckpointFile::in_dir(&dir.path().join(format!("{name}-audit")));
        assert!(!file.read().unwrap().is_empty(), "no checkpoint from instance {name}");
    }
    drop((a, b));
    pool.close().await;
}
