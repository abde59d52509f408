//! The operator's settings and endpoints: HSTS, the metrics token, and the probes while the database does not
//! answer: `/readyz` and `/metrics` answer `503` JSON within their bounds instead of hanging. PostgreSQL is reached
//! through a loopback proxy the test can cut: after the cut the connections the pool holds stay open but silent
//! and new ones are accepted and never answered, as when the database host hangs or a firewall drops packets.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::harness::*;

/// A TCP proxy to `upstream` that can be cut.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, cut_rx) = watch::channel(false);
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *cut_rx.borrow() {
                    held.lock().unwrap().push(client);
                    continue;
                }
                let (upstream, mut cut_rx, held) = (upstream.clone(), cut_rx.clone(), held.clone());
                tokio::spawn(async move {
                    let Ok(mut up) = TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut up) => {}
                        // Cut: the database side goes away, the client's socket stays open and silent.
                        _ = cut_rx.wait_for(|c| *c) => held.lock().unwrap().push(client),
                    }
                });
            }
        });
        Proxy { addr, cut }
    }
}

/// The `host:port` of `url`, and `url` with it replaced by `addr`.
fn through(url: &str, addr: std::net::SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (creds, rest) = rest.rsplit_once('@').unwrap_or(("", rest));
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let at = if creds.is_empty() { String::new() } else { format!("{creds}@") };
    (hostport.to_owned(), format!("{scheme}://{at}{addr}/{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_and_metrics_answer_503_in_time_while_postgres_hangs() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        assert_ne!(std::env::var("REALNAME_REQUIRE_POSTGRES").as_deref(), Ok("1"), "DATABASE_URL is not set");
        eprintln!("note: DATABASE_URL not set, not run (`cargo xtask test` runs it)");
        return;
    };
    let (database, _) = through(&url, "127.0.0.1:1".parse().unwrap());
    let proxy = Proxy::start(database).await;
    let backend = Backend::postgres_at("readyz_hangs", &through(&url, proxy.addr).1).await;
    let h = Harness::with(backend, |c| {
        c.http.ready_timeout_ms = 300;
        c.review.metrics_public = true;
    })
    .await;
    let bound = Duration::from_secs(10);
    let r = tokio::time::timeout(bound, h.call("GET", "/readyz", &[], None)).await.expect("readyz answered");
    assert_eq!(r.status, 200, "{}", r.json);
    proxy.cut.send(true).unwrap();
    for path in ["/readyz", "/metrics"] {
        let r = tokio::time::timeout(bound, h.call("GET", path, &[], None)).await.expect("an answer in time");
        assert_eq!((r.status.as_u16(), r.code()), (503, "unavailable"), "{path}: {}", r.json);
    }
}

#[tokio::test]
async fn metrics_need_the_token_unless_opened() {
    let b = Backend::sqlite().await;
    // Neither a token nor opened: closed to everyone.
    let h = Harness::with(b, |_| {}).await;
    let r = h.call("GET", "/metrics", &[], None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "unauthorized"), "{}", r.json);
    // A token: refused without it or with another, served with it.
    let h = Harness::with(Backend::sqlite().await, |c| {
        c.review.metrics_token = realname_domain::config::Secret::new("scrape-token-0123456789");
    })
    .await;
    for auth in [None, Some("Bearer scrape-token-0123456788"), Some("Bearer scrape-token")] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let r = h.call("GET", "/metrics", &headers, None).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "unauthorized"), "{auth:?}");
    }
    let r = h.call("GET", "/metrics", &[("authorization", "Bearer scrape-token-0123456789")], None).await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.raw).contains("realname_review_queue_length 0"));
    // Opened by the operator: anyone.
    let h = Harness::with(Backend::sqlite().await, |c| c.review.metrics_public = true).await;
    assert_eq!(h.call("GET", "/metrics", &[], None).await.status, 200);
}

#[tokio::test]
async fn hsts_is_sent_only_when_configured() {
    let h = Harness::new(Backend::sqlite().await).await;
    let r = h.call("GET", "/healthz", &[], None).await;
    assert!(r.headers.get("strict-transport-security").is_none());
    let h = Harness::with(Backend::sqlite().await, |c| {
        c.http.hsts_max_age_secs = 31_536_000;
        c.http.hsts_include_subdomains = true;
    })
    .await;
    // On API answers, errors and pages alike.
    for path in ["/healthz", "/v1/keys", "/v1/sessions/ses_unknown", "/console/"] {
        let r = h.call("GET", path, &[], None).await;
        let v = r.headers.get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(v.as_deref(), Some("max-age=31536000; includeSubDomains"), "{path}");
    }
}
