//! The listener: accepts TCP connections and serves HTTP/1.1 on them within the limits of `[http]`.
//!
//! A client that opens connections and never finishes a request would otherwise hold a socket (and its file
//! descriptor) for ever, and enough of them stop the server from accepting anyone. So every connection is in one
//! of three phases, each bounded: *idle* (waiting for a request: `idle_timeout_ms`), *head* (a request started and
//! its head is not complete: `header_timeout_ms`), *busy* (the router has the request; its body must arrive within
//! `body_timeout_ms`, enforced by [`Deadline`] on the body). A connection past its phase's bound is dropped. The
//! number of connections is capped in total and per peer address; a connection over a cap gets a minimal
//! `503 overloaded` answer written without waiting and is closed at once, so refusing costs nothing.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use hyper_util::rt::TokioIo;
use realname_domain::config::HttpConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

/// What a refused connection is told, written in one non-blocking call before it is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
connection: close\r\ncontent-length: 96\r\n\r\n\
{\"error\":{\"code\":\"overloaded\",\"message\":\"The server is busy; try again shortly.\",\"retry_after\":1}}";

/// Serves `app` on `listener` until `shutdown` resolves, then lets the connections finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    cfg: &HttpConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = Arc::new(Limits::new(cfg));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors or similar: wait instead of spinning; connections will close.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = limits.admit(client_key(peer.ip())) else {
            // Best effort: the answer fits the socket's send buffer, or the client just sees the close.
            let _ = stream.try_write(REFUSAL);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, peer, app.clone(), limits.clone(), slot, stop_rx.clone()));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it ends: all of them back means all connections are done.
    let _ = limits.total.acquire_many(limits.max).await;
    Ok(())
}

/// The address the per-address cap counts: IPv4 as it is (also mapped into IPv6), IPv6 by its /64, since one
/// subscriber gets a whole /64 and counting single addresses would give one client 2^64 places.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The caps and timeouts, with the connections counted per address.
struct Limits {
    header: Duration,
    body: Duration,
    idle: Duration,
    max: u32,
    per_ip: usize,
    total: Arc<Semaphore>,
    by_ip: Mutex<HashMap<IpAddr, usize>>,
}

impl Limits {
    fn new(cfg: &HttpConfig) -> Self {
        let max = u32::try_from(cfg.max_connections.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
        Self {
            header: Duration::from_millis(cfg.header_timeout_ms),
            body: Duration::from_millis(cfg.body_timeout_ms),
            idle: Duration::from_millis(cfg.idle_timeout_ms),
            max,
            per_ip: cfg.max_connections_per_ip,
            total: Arc::new(Semaphore::new(max as usize)),
            by_ip: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for a connection from `ip`, or `None` over a cap.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let permit = self.total.clone().try_acquire_owned().ok()?;
        if self.per_ip > 0 {
            let mut by_ip = self.by_ip.lock().unwrap_or_else(|p| p.into_inner());
            let n = by_ip.entry(ip).or_insert(0);
            if *n >= self.per_ip {
                return None;
            }
            *n += 1;
        }
        Some(Slot { limits: self.clone(), ip, _permit: permit })
    }
}

/// One admitted connection's place under the caps, given back when it is dropped.
struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.limits.per_ip > 0 {
            let mut by_ip = self.limits.by_ip.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = by_ip.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    by_ip.remove(&self.ip);
                }
            }
        }
    }
}

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// Where a connection is: [`IDLE`], [`HEAD`] or [`BUSY`]; every change wakes the connection's watchdog.
#[derive(Default)]
struct Phase {
    now: AtomicU8,
    changed: Notify,
}

impl Phase {
    fn set(&self, from: Option<u8>, to: u8) {
        let done = match from {
            Some(f) => self.now.compare_exchange(f, to, Ordering::AcqRel, Ordering::Acquire).is_ok(),
            None => self.now.swap(to, Ordering::AcqRel) != to,
        };
        if done {
            self.changed.notify_one();
        }
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Arc<Limits>,
    slot: Slot,
    mut stop: watch::Receiver<bool>,
) {
    let phase = Arc::new(Phase::default());
    let io = TokioIo::new(Watched { inner: stream, phase: phase.clone() });
    let body_timeout = limits.body;
    let svc_phase = phase.clone();
    let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        svc_phase.set(None, BUSY);
        let timed_out = BodyTimedOut::default();
        let mut req = req.map(|b| Body::new(Deadline::new(b, body_timeout, timed_out.clone())));
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(timed_out);
        let (app, phase) = (app.clone(), svc_phase.clone());
        async move {
            let resp = app.oneshot(req).await;
            phase.set(Some(BUSY), IDLE);
            resp
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().header_read_timeout(None).serve_connection(io, svc);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let since = Instant::now();
        let bound = match phase.now.load(Ordering::Acquire) {
            IDLE => Some(limits.idle),
            HEAD => Some(limits.header),
            _ => None,
        };
        let expired = async {
            match bound {
                Some(d) => tokio::time::sleep_until(since + d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = phase.changed.notified() => {}
            _ = expired => {
                tracing::debug!(ip = %peer.ip(), "connection timed out");
                break;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(slot);
}

/// The socket, noting when a request starts arriving on an idle connection.
struct Watched {
    inner: TcpStream,
    phase: Arc<Phase>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.phase.set(Some(IDLE), HEAD);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Marks a request whose body did not arrive in time; `http/body.rs` answers `408 request_timeout` for it.
#[derive(Clone, Default)]
pub struct BodyTimedOut(Arc<AtomicBool>);

impl BodyTimedOut {
    /// Whether the body's deadline passed before it was read.
    pub fn happened(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A request body that fails once its deadline passes before its end arrived.
struct Deadline {
    inner: hyper::body::Incoming,
    sleep: Pin<Box<Sleep>>,
    timed_out: BodyTimedOut,
}

impl Deadline {
    fn new(inner: hyper::body::Incoming, limit: Duration, timed_out: BodyTimedOut) -> Self {
        Self { inner, sleep: Box::pin(tokio::time::sleep(limit)), timed_out }
    }
}

/// The error a body yields past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("request body timed out")]
struct BodyTimeout;

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(axum::Error::new)));
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.timed_out.0.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Warns when the process may open fewer files than `max_connections` needs (plus room for the database and
/// key files): the caps then cannot keep the server from running out of descriptors. Linux only (`/proc`).
pub fn warn_if_few_files(max_connections: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else { return };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(soft) = soft
        && soft < max_connections.saturating_add(256)
    {
        tracing::warn!(
            open_files = soft,
            max_connections,
            "the open-file limit is below http.max_connections + 256: raise it (LimitNOFILE) or lower the cap"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_address_cap_counts_ipv6_by_its_64() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), key("::ffff:203.0.113.7"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
    }
}
