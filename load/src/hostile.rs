//! The hostile clients of the soak, each a loop until its `until`: they count what the server did to them in a
//! [`Tally`] (`"<attack> <outcome>"` → count), and none of them may change what honest clients get.
//!
//! Each attack comes from its own loopback addresses (127.0.0.0/8 is all loopback on Linux), so the per-address
//! connection cap meets the attacker, not the honest clients on 127.0.0.1.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::{Instant, sleep, timeout_at};

use crate::client::{Client, Conn, head};
use crate::flow::identity_body;
use crate::target::{ORIGIN, PUBLISHABLE_KEY, SECRET_KEY};

/// Outcomes per attack.
#[derive(Clone, Default)]
pub struct Tally(Arc<Mutex<BTreeMap<String, u64>>>);

impl Tally {
    /// Counts one `outcome` of `attack`.
    pub fn add(&self, attack: &str, outcome: impl std::fmt::Display) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(format!("{attack} {outcome}")).or_insert(0) += 1;
    }

    /// Keeps the largest `value` seen under `key`.
    pub fn max(&self, key: &str, value: u64) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.entry(key.to_owned()).or_insert(0);
        *e = (*e).max(value);
    }

    /// Everything counted so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Loopback address `127.<net>.<i / 250>.<i % 250 + 1>`.
pub fn address(net: u8, i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, net, (i / 250 % 256) as u8, (i % 250 + 1) as u8))
}

/// Waits until the server closes `conn` (true) or `until` passes (false), discarding what it sends.
async fn closed_by_server(conn: &mut Conn, until: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match timeout_at(until, conn.read_some(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends `start`, then one byte a second, until the server drops the connection (`true`) or `until` passes.
async fn trickle(c: &mut Conn, start: &[u8], until: Instant) -> bool {
    let _ = c.send(start).await;
    loop {
        if Instant::now() >= until {
            return false;
        }
        if c.send(b"a").await.is_err() {
            return true;
        }
        let next = (Instant::now() + Duration::from_secs(1)).min(until);
        if closed_by_server(c, next).await {
            return true;
        }
    }
}

/// Slow headers: a request head, one byte a second, never finished. The server must drop the connection at its
/// header timeout; each client then starts again. Counts drops and the longest time a connection was held.
pub async fn slow_headers(server: SocketAddr, from: IpAddr, tally: Tally, until: Instant) {
    while Instant::now() < until {
        let Ok(mut c) = Conn::open(server, Some(from)).await else {
            tally.add("slow-headers", "connect failed");
            sleep(Duration::from_secs(1)).await;
            continue;
        };
        let started = Instant::now();
        let dropped = trickle(&mut c, b"GET /v1/keys HTTP/1.1\r\nhost: x\r\nx-slow: ", until).await;
        if dropped {
            tally.add("slow-headers", "dropped by the server");
            tally.max("slow-headers longest held ms", started.elapsed().as_millis() as u64);
        }
    }
}

/// Slow bodies: a console login whose declared 4,000-byte body arrives one byte a second. The server must answer
/// (408) or drop it at its body timeout.
pub async fn slow_body(server: SocketAddr, from: IpAddr, tally: Tally, until: Instant) {
    while Instant::now() < until {
        let Ok(mut c) = Conn::open(server, Some(from)).await else {
            tally.add("slow-body", "connect failed");
            sleep(Duration::from_secs(1)).await;
            continue;
        };
        let started = Instant::now();
        let h = head("POST", "/console/api/login", &[("content-type", "application/json")], 4000);
        let dropped = trickle(&mut c, format!("{h}{{\"username\":\"").as_bytes(), until).await;
        if dropped {
            tally.add("slow-body", "answered or dropped by the server");
            tally.max("slow-body longest held ms", started.elapsed().as_millis() as u64);
        }
    }
}

/// Idle keep-alive: one request, then nothing, on many connections from one address. Over the per-address cap
/// the server must refuse at once (`503 overloaded`); the admitted ones it closes at its idle timeout.
pub async fn idler(server: SocketAddr, from: IpAddr, tally: Tally, until: Instant) {
    while Instant::now() < until {
        let Ok(mut c) = Conn::open(server, Some(from)).await else {
            tally.add("idle", "connect failed");
            sleep(Duration::from_secs(1)).await;
            continue;
        };
        let asked = Instant::now();
        match timeout_at(until, c.request("GET", "/healthz", &[], b"")).await {
            Err(_) => return,
            Ok(Ok(r)) if r.status == 200 => {
                tally.add("idle", "admitted");
                if closed_by_server(&mut c, until).await {
                    tally.add("idle", "closed by the server when idle");
                }
            }
            Ok(Ok(r)) => {
                tally.add("idle", format!("refused {}", r.status));
                tally.max("idle slowest refusal ms", asked.elapsed().as_millis() as u64);
                sleep(Duration::from_secs(1)).await;
            }
            Ok(Err(_)) => {
                tally.add("idle", "refused (closed)");
                sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// A console login flood: wrong passwords for made-up accounts, from a new address every 8 attempts (so the
/// per-address limit alone cannot stop it and passwords get hashed). Counts the answers.
pub async fn login_flood(server: SocketAddr, worker: u32, tally: Tally, until: Instant) {
    let mut n = 0u32;
    while Instant::now() < until {
        let mut c = Client::new(server, Some(address(6, worker * 100_000 + n / 8)));
        for _ in 0..8 {
            let body = format!("{{\"username\":\"admin{}\",\"password\":\"guess{n}\"}}", n % 1000);
            n += 1;
            let json = [("content-type", "application/json")];
            match timeout_at(until, c.call("POST", "/console/api/login", &json, body.as_bytes())).await {
                Err(_) => return,
                Ok(Ok(r)) => tally.add("login-flood", r.status),
                Ok(Err(_)) => tally.add("login-flood", "transport error"),
            }
        }
    }
}

/// Refused sends: widget sessions (publishable key) from changing addresses, each asking for a code to one
/// victim's phone, 20 a second (paced: on this machine the attacker's sealing shares the server's cores); past
/// the destination's limits every send is refused.
pub async fn refused_sends(
    server: SocketAddr,
    key: realname_core::envelope::RecipientKey,
    tally: Tally,
    until: Instant,
) {
    let mut n = 0u32;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    while Instant::now() < until {
        tick.tick().await;
        let mut c = Client::new(server, Some(address(5, n / 5)));
        n += 1;
        let json = ("content-type", "application/json");
        let create = format!("{{\"publishable_key\":\"{PUBLISHABLE_KEY}\"}}");
        let Ok(Ok(r)) =
            timeout_at(until, c.call("POST", "/v1/widget/sessions", &[("origin", ORIGIN), json], create.as_bytes()))
                .await
        else {
            continue;
        };
        let v = r.json();
        let (Some(id), Some(secret)) = (v["session_id"].as_str(), v["client_secret"].as_str()) else {
            tally.add("refused-sends session", r.status);
            continue;
        };
        let Ok(body) = identity_body(&key, id, "13800138000") else { continue };
        let auth = format!("Bearer {secret}");
        let h = [("authorization", auth.as_str()), ("origin", ORIGIN), json];
        match timeout_at(until, c.call("POST", &format!("/v1/sessions/{id}/identity"), &h, &body)).await {
            Err(_) => return,
            Ok(Ok(r)) => tally.add("refused-sends identity", r.status),
            Ok(Err(_)) => tally.add("refused-sends identity", "transport error"),
        }
    }
}

/// A documents body of `len` bytes whose envelope does not open (the step refuses it after reading it).
fn upload_body(len: usize) -> Vec<u8> {
    let (start, end) = (&br#"{"envelope":{"kid":"k","enc":"e","ct":""#[..], &br#""}}"#[..]);
    let mut b = start.to_vec();
    b.resize(len - end.len(), b'A');
    b.extend_from_slice(end);
    b
}

/// One 12 MiB documents upload, to a real session at the documents step (`real`; it is read within the upload
/// budget, or refused at once over it) or to a session that does not exist (refused unread).
pub async fn upload(server: SocketAddr, from: IpAddr, real: bool, tally: Tally) {
    let len = 12 << 20;
    let (id, secret) = if real {
        let mut c = Client::new(server, Some(from));
        let site = format!("Bearer {SECRET_KEY}");
        let json = ("content-type", "application/json");
        let body = b"{}";
        let Ok(r) = c.call("POST", "/v1/sessions", &[("authorization", &site), json], body).await else {
            tally.add("upload", "session failed");
            return;
        };
        let v = r.json();
        match (v["session_id"].as_str(), v["client_secret"].as_str()) {
            (Some(i), Some(s)) => (i.to_owned(), s.to_owned()),
            _ => {
                tally.add("upload session", r.status);
                return;
            }
        }
    } else {
        ("ses_0000000000000000unknown".to_owned(), "cs_nobody".to_owned())
    };
    let Ok(mut c) = Conn::open(server, Some(from)).await else {
        tally.add("upload", "connect failed");
        return;
    };
    let auth = format!("Bearer {secret}");
    let h = [("authorization", auth.as_str()), ("origin", ORIGIN), ("content-type", "application/json")];
    let kind = if real { "upload to a session" } else { "upload to an unknown session" };
    let path = format!("/v1/sessions/{id}/documents");
    let mut all = head("POST", &path, &h, len).into_bytes();
    all.extend_from_slice(&upload_body(len));
    // Written in pieces; a server that answers early and closes makes a write fail: then its answer is read.
    for piece in all.chunks(256 << 10) {
        if c.send(piece).await.is_err() {
            break;
        }
    }
    match tokio::time::timeout(Duration::from_secs(60), c.response()).await {
        Ok(Ok(r)) => tally.add(kind, r.status),
        Ok(Err(_)) => tally.add(kind, "closed unanswered"),
        Err(_) => tally.add(kind, "no answer in 60 s"),
    }
}
