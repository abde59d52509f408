//! `cargo xtask bench-server` runs this: complete verification flows per second with concurrent clients
//! (create session → sealed identity → code from the outbox → sealed code → verified), p50/p99 latency of a
//! whole flow, peak RSS, and the cost of one HPKE open. SQLite by default; PostgreSQL when `DATABASE_URL` is set.
//! `BENCH_CHECKS=1` adds the demo provider's `id_match` to the identity step (a match: the fixture 张三), so a run
//! with it and one without differ only by the check (issue 17: with checks, at least 90 % of the flows/s).
//!
//! Requests go through the real router in process (`tower::ServiceExt::oneshot`), so the figures are the
//! server's own cost without a network stack. Sending limits stay on but are raised so the counters are still
//! written on every send. Prints one JSON line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use realname_core::envelope::{KeyPair, RecipientKey, open_with, seal};
use realname_core::protocol::{Check, Consent, CreateSessionResponse, DocumentKind, IdentityPayload, Method, Step};
use realname_domain::clock::{Clock as _, OsRandom, SystemClock};
use realname_domain::config::{CheckPolicy, Config, Secret, SiteCheck, SiteConfig};
use realname_domain::encoding::hex_encode;
use realname_domain::keys::KeyRing;
use realname_domain::sites::hash_secret;
use realname_domain::vault::Vault;
use realname_server::delivery::{Delivery, Outbox};
use realname_server::state::AppState;
use tower::ServiceExt as _;

/// The allocator the `realname-server` binary runs with (src/main.rs), so the figures are the server's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SK: &str = "sk_bench_site_0123456789";
const ORIGIN: &str = "https://bench.example";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) this process used so far, from `/proc/self/stat` (Linux reports it in
/// USER_HZ = 100 ticks per second on every architecture): next to the wall clock it tells a run that waits
/// (few cores busy) from one that is CPU-bound, which the flow rate alone cannot on a shared machine.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, i.e. 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds the whole machine spent busy so far (every process, PostgreSQL's included), from the first line
/// of `/proc/stat` (USER_HZ = 100 ticks per second): per flow, the figure that tells code changes apart on a
/// machine whose speed moves, as long as nothing else runs.
fn machine_busy_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> =
        stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    let idle = ticks.get(3).unwrap_or(&0.0) + ticks.get(4).unwrap_or(&0.0);
    (ticks.iter().take(8).sum::<f64>() - idle) / 100.0
}

async fn call(app: &axum::Router, method: &str, path: &str, auth: &str, from: &str, body: String) -> serde_json::Value {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", auth)
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        // Read only when the run gives its clients addresses of their own (`BENCH_CLIENT_ADDRS`).
        .header("x-forwarded-for", from)
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

async fn one_flow(app: &axum::Router, outbox: &Outbox, key: &RecipientKey, n: u64, from: &str) {
    let s: CreateSessionResponse =
        serde_json::from_value(call(app, "POST", "/v1/sessions", &format!("Bearer {SK}"), from, "{}".into()).await)
            .unwrap();
    let auth = format!("Bearer {}", s.client_secret);
    let phone = format!("139{:08}", n % 100_000_000);
    let identity = IdentityPayload {
        method: Method::Sms,
        document_kind: DocumentKind::ResidentId,
        name: "张三".into(),
        number: "11010519491231002X".into(),
        phone: Some(phone.clone()),
        email: None,
        consent: Some(Consent { version: "2025-01".into(), accepted_at: SystemClock.now_secs() }),
        guardian_consent: None,
    };
    let env = seal(key, &s.session_id, Step::Identity, &serde_json::to_vec(&identity).unwrap()).unwrap();
    let path = format!("/v1/sessions/{}/identity", s.session_id);
    let sent = call(app, "POST", &path, &auth, from, serde_json::json!({ "envelope": env }).to_string()).await;
    let dest = sent["destination"].as_str().unwrap().to_owned();
    let code = outbox.latest_to(&dest).expect("code in the outbox").code;
    let env = seal(key, &s.session_id, Step::Code, serde_json::json!({ "code": code }).to_string().as_bytes()).unwrap();
    let path = format!("/v1/sessions/{}/code", s.session_id);
    let done = call(app, "POST", &path, &auth, from, serde_json::json!({ "envelope": env }).to_string()).await;
    assert_eq!(done["status"], "verified");
}

fn hpke_open_us() -> f64 {
    let key = KeyPair::generate("k");
    let env = seal(&key.public(), "ses_bench", Step::Identity, &[7u8; 200]).unwrap();
    let n = 2000;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(open_with([&key], &env, "ses_bench", Step::Identity).unwrap());
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn main() {
    let secs = env_u64("BENCH_SECS", 10);
    let clients = env_u64("BENCH_CLIENTS", 32);
    // 0 (the default): every client comes from one address, so all sends count on one per-IP counter (the
    // harder case for the store); N: client i comes from address i mod N, as traffic through a proxy would.
    let addrs = env_u64("BENCH_CLIENT_ADDRS", 0);
    let checks = env_u64("BENCH_CHECKS", 0) == 1;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pg = std::env::var("DATABASE_URL").ok();
    let mut cfg = Config::default();
    cfg.database.url =
        Secret::new(pg.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display())));
    cfg.keys.dir = dir.path().join("keys");
    cfg.limits.per_destination_minute = 1_000_000;
    cfg.limits.per_destination_hour = 1_000_000;
    cfg.limits.per_destination_day = 1_000_000;
    cfg.limits.per_ip_hour = 1_000_000_000;
    cfg.server.log_level = "warn".into();
    cfg.server.trust_forwarded_for = addrs > 0;
    cfg.sites.push(SiteConfig {
        id: "bench".into(),
        name: "bench".into(),
        origins: vec![ORIGIN.into()],
        secret_key_sha256: hex_encode(&hash_secret(SK)),
        publishable_key: None,
        webhook_url: None,
        webhook_secret: Secret::default(),
        methods: vec![Method::Sms],
        max_accounts_per_identity: 0,
        checks: if checks {
            vec![SiteCheck { check: Check::IdMatch, provider: "demo".into(), unavailable: CheckPolicy::Review }]
        } else {
            Vec::new()
        },
        required_checks: Vec::new(),
        enabled: true,
        handoff_url: None,
    });
    let (flows, lat, wall, cpu, machine) = rt.block_on(async {
        let clock = Arc::new(SystemClock);
        let rng = Arc::new(OsRandom);
        let store = realname_store::open(cfg.database.url.expose()).await.expect("store");
        let vault = Vault::generate().unwrap();
        let keys = KeyRing::generate(rng.as_ref(), 0);
        let delivery = Delivery::from_config(&cfg, clock.clone(), rng.clone()).unwrap();
        let outbox = delivery.outbox.clone().unwrap();
        let state = AppState::new(cfg, store, vault, keys, clock, rng, delivery);
        // The audit chainer runs beside the flows as in `serve` (it chains their pending audit events).
        let chainer = realname_server::audit::chain::Chainer {
            store: state.store.clone(),
            key: state.audit_key.clone(),
            clock: state.clock.clone(),
            checkpointer: None,
        };
        tokio::spawn(chainer.run(std::future::pending::<()>()));
        let key = state.keys().hpke_current().unwrap().public();
        let app = realname_server::http::app(state);
        let counter = Arc::new(AtomicU64::new(0));
        // Warm up pools and caches.
        for i in 0..20 {
            one_flow(&app, &outbox, &key, 99_000_000 + i, "192.0.2.1").await;
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let cpu_start = cpu_secs();
        let machine_start = machine_busy_secs();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (app, outbox, key, counter) = (app.clone(), outbox.clone(), key.clone(), counter.clone());
            let from = format!("192.0.2.{}", if addrs > 0 { 1 + c % addrs } else { 1 });
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    one_flow(&app, &outbox, &key, n, &from).await;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (all.len(), all, started.elapsed().as_secs_f64(), cpu_secs() - cpu_start, machine_busy_secs() - machine_start)
    });
    let mut lat = lat;
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    let report = serde_json::json!({
        "backend": if pg.is_some() { "postgres" } else { "sqlite" },
        "clients": clients,
        "client_addrs": addrs.max(1),
        "checks": if checks { "id_match (demo)" } else { "none" },
        "flows": flows,
        "secs": (wall * 100.0).round() / 100.0,
        "flows_per_sec": (flows as f64 / wall).round(),
        "p50_ms": (pct(0.50) * 100.0).round() / 100.0,
        "p99_ms": (pct(0.99) * 100.0).round() / 100.0,
        "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
        // This process only: PostgreSQL's server processes are not counted.
        "cpu_secs": (cpu * 100.0).round() / 100.0,
        "cores_busy": (cpu / wall * 100.0).round() / 100.0,
        "flows_per_cpu_sec": if cpu > 0.0 { (flows as f64 / cpu).round() } else { 0.0 },
        // Every process on the machine, PostgreSQL's included.
        "machine_cpu_ms_per_flow": if flows > 0 { (machine * 1000.0 / flows as f64 * 100.0).round() / 100.0 } else { 0.0 },
        "loadavg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().next().unwrap_or("?"),
        "hpke_open_us": (hpke_open_us() * 10.0).round() / 10.0,
    });
    println!("{report}");
}
