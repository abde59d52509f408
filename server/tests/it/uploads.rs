//! The documents step's large body, over real sockets to the real listener (issue 16): the session is checked
//! before a byte of the body is read, and all uploads in flight share a memory budget; over it an upload is
//! refused at once with `503 overloaded`, and the budget comes back when an upload ends (also after a burst of
//! uploads taken, refused and abandoned half-way).

use std::time::Duration;

use crate::harness::*;
use crate::keepalive::{Conn, Resp, head, listen};

/// A documents body of exactly `len` bytes (an envelope that does not open: the step refuses it after reading).
fn body_of(len: usize) -> Vec<u8> {
    let start = br#"{"envelope":{"kid":"k","enc":"e","ct":""#;
    let end = br#""}}"#;
    let mut b = start.to_vec();
    b.resize(len - end.len(), b'A');
    b.extend_from_slice(end);
    b
}

/// Sends the head of a documents upload of `len` bytes and the first `sent` of them.
async fn start_upload(c: &mut Conn, session: &str, secret: &str, origin: &str, len: usize, sent: usize) {
    let auth = format!("Bearer {secret}");
    let headers = [("authorization", auth.as_str()), ("origin", origin), ("content-type", "application/json")];
    c.send(head("POST", &format!("/v1/sessions/{session}/documents"), &headers, len).as_bytes()).await;
    c.send(&body_of(len)[..sent]).await;
}

async fn answer(c: &mut Conn) -> Resp {
    tokio::time::timeout(Duration::from_secs(5), c.response()).await.ok().flatten().expect("an answer in time")
}

/// A session that offers the documents method.
async fn harness(budget: usize) -> Harness {
    Harness::with(Backend::sqlite().await, |c| {
        c.sites[0].methods.push(realname_core::protocol::Method::Documents);
        c.http.upload_memory_bytes = budget;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_is_refused_unread_unless_its_session_takes_documents_now() {
    let h = harness(64 << 20).await;
    let addr = listen(&h).await;
    let s = h.create_session().await;
    let big = 12 << 20;
    // Only the head and a few bytes are sent: the answer must come without the rest of the body.
    let unknown = "ses_0000000000000000unknown";
    for (session, secret, origin, want) in [
        (unknown, "cs_nobody", ORIGIN, (401, "unauthorized")),
        (s.session_id.as_str(), "cs_wrong", ORIGIN, (401, "unauthorized")),
        (s.session_id.as_str(), s.client_secret.as_str(), "https://evil.example", (403, "forbidden_origin")),
    ] {
        let mut c = Conn::open(addr).await;
        start_upload(&mut c, session, secret, origin, big, 1024).await;
        let r = answer(&mut c).await;
        assert_eq!((r.status, r.header("connection")), (want.0, Some("close")), "{session}: {}", r.body);
        assert!(r.body.contains(want.1), "{}", r.body);
    }
    // A session past the step: refused unread too.
    let done = h.create_session().await;
    let cancel = h.widget_post(&done, "cancel", None, "192.0.2.1").await;
    assert_eq!(cancel.status, 200, "{}", cancel.json);
    let mut c = Conn::open(addr).await;
    start_upload(&mut c, &done.session_id, &done.client_secret, ORIGIN, big, 1024).await;
    let r = answer(&mut c).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("client_secret_used"), "{}", r.body);
    // Declared over the limit: 413 before anything is read.
    let mut c = Conn::open(addr).await;
    start_upload(&mut c, &s.session_id, &s.client_secret, ORIGIN, big + 1, 1024).await;
    let r = answer(&mut c).await;
    assert!(r.status == 413 && r.body.contains("payload_too_large"), "{} {}", r.status, r.body);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created", "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_share_a_memory_budget_and_give_it_back() {
    // The smallest budget: one full-size upload.
    let h = harness(0).await;
    let addr = listen(&h).await;
    let (a, b) = (h.create_session().await, h.create_session().await);
    let len = 8 << 20;
    // A holds most of the budget while its body is still arriving.
    let whole = h.state.uploads.available();
    let mut first = Conn::open(addr).await;
    start_upload(&mut first, &a.session_id, &a.client_secret, ORIGIN, len, 4096).await;
    for _ in 0..500 {
        if h.state.uploads.available() < whole {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(h.state.uploads.available() < whole, "the first upload took no share");
    // B does not fit beside it: refused at once, nothing read.
    let mut second = Conn::open(addr).await;
    start_upload(&mut second, &b.session_id, &b.client_secret, ORIGIN, len, 0).await;
    let r = answer(&mut second).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("\"overloaded\"") && r.header("retry-after") == Some("1"), "{}", r.body);
    // A finishes (its envelope does not open: a 400 after reading), and the budget is whole again.
    first.send(&body_of(len)[4096..]).await;
    let r = answer(&mut first).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(h.state.uploads.available(), whole, "the share was not given back");
    let mut again = Conn::open(addr).await;
    start_upload(&mut again, &b.session_id, &b.client_secret, ORIGIN, len, len).await;
    let r = answer(&mut again).await;
    assert_eq!(r.status, 400, "the budget was not given back: {}", r.body);
    assert!(r.body.contains("unknown_kid"), "{}", r.body);
}

/// Polls the budget until it has `want` bytes left; false if it still has not after 10 s (the server notices a
/// closed connection when it next reads its body).
async fn budget_reaches(h: &Harness, want: usize) -> bool {
    for _ in 0..1000 {
        if h.state.uploads.available() == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_burst_of_uploads_the_whole_budget_is_back() {
    // One full-size upload's worth: three uploads of 4 MiB fit at once.
    let h = harness(0).await;
    let addr = listen(&h).await;
    let whole = h.state.uploads.available();
    let len = 4 << 20;
    let mut sessions = Vec::new();
    for _ in 0..8 {
        sessions.push(h.create_session().await);
    }
    // Three uploads take their shares while their bodies are still arriving.
    let mut held = Vec::new();
    for s in &sessions[..3] {
        let mut c = Conn::open(addr).await;
        start_upload(&mut c, &s.session_id, &s.client_secret, ORIGIN, len, 4096).await;
        held.push(c);
    }
    assert!(budget_reaches(&h, whole - 3 * len).await, "the three uploads did not take their shares");
    // Five more at once: each refused at once, holding nothing.
    let refused: Vec<_> = sessions[3..]
        .iter()
        .map(|s| (s.session_id.clone(), s.client_secret.clone()))
        .map(|(id, secret)| {
            tokio::spawn(async move {
                let mut c = Conn::open(addr).await;
                start_upload(&mut c, &id, &secret, ORIGIN, len, 0).await;
                answer(&mut c).await
            })
        })
        .collect();
    for r in refused {
        let r = r.await.unwrap();
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(r.body.contains("\"overloaded\""), "{}", r.body);
    }
    assert_eq!(h.state.uploads.available(), whole - 3 * len, "a refused upload took a share");
    // Two senders give up half-way (their connections close), the third sends the rest and gets its answer.
    let mut last = held.pop().unwrap();
    for mut c in held {
        c.send(&body_of(len)[4096..len / 2]).await;
        drop(c);
    }
    last.send(&body_of(len)[4096..]).await;
    let r = answer(&mut last).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(budget_reaches(&h, whole).await, "{} of {whole} bytes back after the burst", h.state.uploads.available());
}
