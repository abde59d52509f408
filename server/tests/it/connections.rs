//! Slow, idle and too many connections, over real sockets to the listener of `realname-server serve`: each phase
//! of a connection is bounded (`[http]`: short bounds here, so nothing waits long) and the connection caps refuse
//! at once while other clients are still served.

use std::time::Duration;

use crate::harness::*;
use crate::keepalive::{Conn, head, listen};

/// A harness whose `[http]` section is changed by `tweak`.
async fn harness(tweak: impl FnOnce(&mut realname_domain::config::HttpConfig)) -> Harness {
    Harness::with(Backend::sqlite().await, |c| tweak(&mut c.http)).await
}

/// Whether the answer on `c` is the refusal (`503 overloaded`), or the connection closed without one.
async fn refused(c: &mut Conn) -> bool {
    match tokio::time::timeout(Duration::from_secs(5), c.response()).await {
        Ok(Some(r)) => r.status == 503 && r.body.contains("\"overloaded\""),
        Ok(None) => true,
        Err(_) => false,
    }
}

async fn healthz(c: &mut Conn) -> Option<u16> {
    c.send(head("GET", "/healthz", &[], 0).as_bytes()).await;
    tokio::time::timeout(Duration::from_secs(5), c.response()).await.ok().flatten().map(|r| r.status)
}

#[tokio::test]
async fn a_request_head_that_stalls_is_closed_after_the_header_timeout() {
    let h = harness(|c| c.header_timeout_ms = 200).await;
    let addr = listen(&h).await;
    let mut c = Conn::open(addr).await;
    c.send(b"GET /healthz HTTP/1.1\r\nhost: verify.example\r\n").await;
    assert!(c.closed().await, "a half-sent head kept its connection");
    // The bound runs from the request's first byte, not from the connection: an idle connection that then sends
    // a whole request in time is served.
    let mut c = Conn::open(addr).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(healthz(&mut c).await, Some(200));
}

#[tokio::test]
async fn a_request_body_that_stalls_is_answered_408_and_closed() {
    let h = harness(|c| c.body_timeout_ms = 200).await;
    let addr = listen(&h).await;
    let s = h.create_session().await;
    let auth = format!("Bearer {}", s.client_secret);
    let widget = [("authorization", auth.as_str()), ("origin", ORIGIN), ("content-type", "application/json")];
    let mut c = Conn::open(addr).await;
    c.send(head("POST", &format!("/v1/sessions/{}/cancel", s.session_id), &widget, 10).as_bytes()).await;
    c.send(b"{ ").await;
    let r = tokio::time::timeout(Duration::from_secs(5), c.response()).await.ok().flatten().expect("an answer");
    assert_eq!((r.status, r.header("connection")), (408, Some("close")), "{}", r.body);
    assert!(r.body.contains("\"request_timeout\""), "{}", r.body);
    assert!(c.closed().await);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created", "nothing changed");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let h = harness(|c| c.idle_timeout_ms = 200).await;
    let addr = listen(&h).await;
    let mut c = Conn::open(addr).await;
    assert_eq!(healthz(&mut c).await, Some(200));
    assert!(c.closed().await, "an idle kept-alive connection stayed open");
    // A connection that never sent anything is idle too.
    let mut c = Conn::open(addr).await;
    assert!(c.closed().await, "a silent connection stayed open");
}

#[tokio::test]
async fn connections_over_the_per_address_cap_are_refused_while_others_are_served() {
    let h = harness(|c| c.max_connections_per_ip = 2).await;
    let addr = listen(&h).await;
    let mut first = Conn::open_from("127.0.0.1", addr).await;
    let _second = Conn::open_from("127.0.0.1", addr).await;
    let mut third = Conn::open_from("127.0.0.1", addr).await;
    assert!(refused(&mut third).await, "a third connection from one address was held");
    // Another address is served, and so are the connections already held.
    let mut other = Conn::open_from("127.0.0.2", addr).await;
    assert_eq!(healthz(&mut other).await, Some(200));
    assert_eq!(healthz(&mut first).await, Some(200));
    // A closed connection gives its place back (the server notices the close a moment later).
    drop(first);
    let mut admitted = false;
    for _ in 0..50 {
        let mut c = Conn::open_from("127.0.0.1", addr).await;
        if healthz(&mut c).await == Some(200) {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(admitted, "the place of a closed connection was not given back");
}

#[tokio::test]
async fn connections_over_the_total_cap_are_refused_from_any_address() {
    let h = harness(|c| {
        c.max_connections = 3;
        c.max_connections_per_ip = 0;
    })
    .await;
    let addr = listen(&h).await;
    let mut held = Vec::new();
    for from in ["127.0.0.1", "127.0.0.2", "127.0.0.3"] {
        held.push(Conn::open_from(from, addr).await);
    }
    let mut fourth = Conn::open_from("127.0.0.4", addr).await;
    assert!(refused(&mut fourth).await, "a fourth connection was held over a cap of three");
    for c in &mut held {
        assert_eq!(healthz(c).await, Some(200));
    }
}
