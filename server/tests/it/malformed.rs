//! A table of malformed requests: every one answers 4xx JSON with a stable code, never 5xx, and stores nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use realname_core::protocol::{ErrorCode, Step};
use serde_json::json;

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(malformed_requests_answer_4xx_json_and_store_nothing);

struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: &str,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
) -> Case {
    Case { name, method, path: path.to_owned(), headers, body }
}

async fn malformed_requests_answer_4xx_json_and_store_nothing(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let id = s.session_id.clone();
    let now = h.clock.now_secs();
    let sk = || ("authorization", format!("Bearer {SECRET_KEY}"));
    let cs = || ("authorization", format!("Bearer {}", s.client_secret));
    let origin = || ("origin", ORIGIN.to_owned());
    let widget = || vec![cs(), origin()];
    let identity = format!("/v1/sessions/{id}/identity");
    let code = format!("/v1/sessions/{id}/code");
    let key = h.server_key().await;
    let kid = key.kid.clone();
    let sealed = |step: Step, plain: &str| {
        let env = realname_core::envelope::seal(&key, &id, step, plain.as_bytes()).unwrap();
        json!({ "envelope": env }).to_string()
    };
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut p = identity_sms(PHONE, now);
        f(&mut p);
        sealed(Step::Identity, &p.to_string())
    };
    let env_of = |enc: &str, ct: &str| Some(json!({ "envelope": { "kid": kid, "enc": enc, "ct": ct } }).to_string());
    let nested = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    let big = format!("{{\"reference\":\"{}\"}}", "x".repeat(70 * 1024));
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(100 * 1024));

    let cases = vec![
        case("create without key", "POST", "/v1/sessions", vec![], Some("{}".into())),
        case(
            "create with Basic auth",
            "POST",
            "/v1/sessions",
            vec![("authorization", "Basic YTpi".into())],
            Some("{}".into()),
        ),
        case(
            "create with empty bearer",
            "POST",
            "/v1/sessions",
            vec![("authorization", "Bearer ".into())],
            Some("{}".into()),
        ),
        case("create not json", "POST", "/v1/sessions", vec![sk()], Some("not json".into())),
        case(
            "create text/plain",
            "POST",
            "/v1/sessions",
            vec![sk(), ("content-type", "text/plain".into())],
            Some("{}".into()),
        ),
        case(
            "create form",
            "POST",
            "/v1/sessions",
            vec![sk(), ("content-type", "application/x-www-form-urlencoded".into())],
            Some("a=b".into()),
        ),
        case("create array", "POST", "/v1/sessions", vec![sk()], Some("[]".into())),
        case("create methods string", "POST", "/v1/sessions", vec![sk()], Some(r#"{"methods":"sms"}"#.into())),
        case("create unknown method", "POST", "/v1/sessions", vec![sk()], Some(r#"{"methods":["fax"]}"#.into())),
        case("create no methods", "POST", "/v1/sessions", vec![sk()], Some(r#"{"methods":[]}"#.into())),
        case("create reference number", "POST", "/v1/sessions", vec![sk()], Some(r#"{"reference":5}"#.into())),
        case(
            "create reference too long",
            "POST",
            "/v1/sessions",
            vec![sk()],
            Some(json!({ "reference": "r".repeat(200) }).to_string()),
        ),
        case(
            "create reference control chars",
            "POST",
            "/v1/sessions",
            vec![sk()],
            Some(json!({ "reference": "a\u{0}b" }).to_string()),
        ),
        case("create body too large", "POST", "/v1/sessions", vec![sk()], Some(big)),
        case("create deeply nested", "POST", "/v1/sessions", vec![sk()], Some(nested.clone())),
        case("create truncated json", "POST", "/v1/sessions", vec![sk()], Some(r#"{"methods":["sms""#.into())),
        case("GET on create", "GET", "/v1/sessions", vec![sk()], None),
        case("widget session empty", "POST", "/v1/widget/sessions", vec![origin()], Some("{}".into())),
        case(
            "widget session key number",
            "POST",
            "/v1/widget/sessions",
            vec![origin()],
            Some(r#"{"publishable_key":1}"#.into()),
        ),
        case("identity without body", "POST", &identity, widget(), None),
        case("identity empty object", "POST", &identity, widget(), Some("{}".into())),
        case("identity empty envelope", "POST", &identity, widget(), Some(r#"{"envelope":{}}"#.into())),
        case("identity envelope null", "POST", &identity, widget(), Some(r#"{"envelope":null}"#.into())),
        case("identity bad base64", "POST", &identity, widget(), env_of("!!!", "!!!")),
        case(
            "identity short enc",
            "POST",
            &identity,
            widget(),
            env_of(&URL_SAFE_NO_PAD.encode([1u8; 5]), &URL_SAFE_NO_PAD.encode([1u8; 40])),
        ),
        case("identity empty ct", "POST", &identity, widget(), env_of(&URL_SAFE_NO_PAD.encode([1u8; 32]), "")),
        case(
            "identity random ct",
            "POST",
            &identity,
            widget(),
            env_of(&URL_SAFE_NO_PAD.encode([9u8; 32]), &URL_SAFE_NO_PAD.encode([7u8; 300])),
        ),
        case(
            "identity padded base64",
            "POST",
            &identity,
            widget(),
            env_of(&format!("{}=", URL_SAFE_NO_PAD.encode([1u8; 32])), "AAAA"),
        ),
        case("identity plaintext not json", "POST", &identity, widget(), Some(sealed(Step::Identity, "not json"))),
        case("identity plaintext array", "POST", &identity, widget(), Some(sealed(Step::Identity, "[1,2]"))),
        case("identity unknown method", "POST", &identity, widget(), Some(with(&|p| p["method"] = json!("fax")))),
        case(
            "identity unknown document",
            "POST",
            &identity,
            widget(),
            Some(with(&|p| p["document_kind"] = json!("driver_license"))),
        ),
        case("identity number as integer", "POST", &identity, widget(), Some(with(&|p| p["number"] = json!(110105)))),
        case(
            "identity missing name",
            "POST",
            &identity,
            widget(),
            Some(with(&|p| {
                p.as_object_mut().unwrap().remove("name");
            })),
        ),
        case(
            "identity documents method",
            "POST",
            &identity,
            widget(),
            Some(with(&|p| p["method"] = json!("documents"))),
        ),
        case(
            "identity email method without email",
            "POST",
            &identity,
            widget(),
            Some(with(&|p| p["method"] = json!("email"))),
        ),
        case(
            "identity sms without phone",
            "POST",
            &identity,
            widget(),
            Some(with(&|p| {
                p.as_object_mut().unwrap().remove("phone");
            })),
        ),
        case("identity consent as string", "POST", &identity, widget(), Some(with(&|p| p["consent"] = json!("yes")))),
        case(
            "identity invalid number",
            "POST",
            &identity,
            widget(),
            Some(with(&|p| p["number"] = json!("110105194912310021"))),
        ),
        case("identity name of digits", "POST", &identity, widget(), Some(with(&|p| p["name"] = json!("12345")))),
        case("identity deeply nested", "POST", &identity, widget(), Some(nested)),
        case("identity with secret key", "POST", &identity, vec![sk(), origin()], Some(with(&|_| {}))),
        case(
            "identity wrong origin",
            "POST",
            &identity,
            vec![cs(), ("origin", "https://evil.example".into())],
            Some(with(&|_| {})),
        ),
        case("code before identity", "POST", &code, widget(), Some(sealed(Step::Code, r#"{"code":"123456"}"#))),
        case("code sealed as identity", "POST", &code, widget(), Some(sealed(Step::Identity, r#"{"code":"123456"}"#))),
        case("resend before identity", "POST", &format!("/v1/sessions/{id}/resend"), widget(), None),
        case("client view without secret", "GET", &format!("/v1/sessions/{id}/client"), vec![origin()], None),
        case(
            "client view wrong origin",
            "GET",
            &format!("/v1/sessions/{id}/client"),
            vec![cs(), ("origin", "null".into())],
            None,
        ),
        case("result with client secret", "GET", &format!("/v1/sessions/{id}"), vec![cs()], None),
        case("result without key", "GET", &format!("/v1/sessions/{id}"), vec![], None),
        case("bad session id", "GET", "/v1/sessions/not-a-session/client", widget(), None),
        case("session id with nul", "GET", "/v1/sessions/ses_%00/client", widget(), None),
        case("unknown session", "POST", "/v1/sessions/ses_doesnotexist/identity", widget(), Some(with(&|_| {}))),
        case("DELETE a session", "DELETE", &format!("/v1/sessions/{id}"), vec![sk()], None),
        case("POST keys", "POST", "/v1/keys", vec![], Some("{}".into())),
        case("unknown path", "GET", "/v1/nope", vec![], None),
        case(
            "cancel with wrong secret",
            "POST",
            &format!("/v1/sessions/{id}/cancel"),
            vec![("authorization", "Bearer cs_wrong".into()), origin()],
            None,
        ),
        // Cancel and resend take an empty body or a JSON object, held to section 2's rules like every body (a
        // `[]`, `text/plain` or 100 KiB body used to cancel the session all the same).
        case("cancel array", "POST", &format!("/v1/sessions/{id}/cancel"), widget(), Some("[]".into())),
        case(
            "cancel text/plain",
            "POST",
            &format!("/v1/sessions/{id}/cancel"),
            vec![cs(), origin(), ("content-type", "text/plain".into())],
            Some("{}".into()),
        ),
        case("cancel body too large", "POST", &format!("/v1/sessions/{id}/cancel"), widget(), Some(huge.clone())),
        case("cancel truncated json", "POST", &format!("/v1/sessions/{id}/cancel"), widget(), Some("{".into())),
        case("cancel by site array", "POST", &format!("/v1/sessions/{id}/cancel"), vec![sk()], Some("[]".into())),
        case(
            "cancel by site text/plain",
            "POST",
            &format!("/v1/sessions/{id}/cancel"),
            vec![sk(), ("content-type", "text/plain".into())],
            Some("x".into()),
        ),
        case(
            "cancel by site body too large",
            "POST",
            &format!("/v1/sessions/{id}/cancel"),
            vec![sk()],
            Some(huge.clone()),
        ),
        case("resend array", "POST", &format!("/v1/sessions/{id}/resend"), widget(), Some("[]".into())),
        case(
            "resend text/plain",
            "POST",
            &format!("/v1/sessions/{id}/resend"),
            vec![cs(), origin(), ("content-type", "text/plain".into())],
            Some("{}".into()),
        ),
        case("resend body too large", "POST", &format!("/v1/sessions/{id}/resend"), widget(), Some(huge)),
        case("verify-token garbage", "POST", "/demo/verify-token", vec![], Some(r#"{"token":"a.b.c"}"#.into())),
        case("verify-token not json", "POST", "/demo/verify-token", vec![], Some("x".into())),
    ];
    assert!(cases.len() >= 40, "{}", cases.len());

    let before = h.backend.raw_contents().await;
    let known: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    for c in &cases {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = h.call(c.method, &c.path, &headers, c.body.as_deref()).await;
        assert!(r.status.is_client_error(), "{}: {} {}", c.name, r.status, String::from_utf8_lossy(&r.raw));
        assert!(
            r.headers.get("content-type").is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json")),
            "{}: not JSON",
            c.name
        );
        assert!(known.contains(&r.code()), "{}: unknown code {}", c.name, r.json);
        assert!(r.json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", c.name);
    }
    // Nothing was stored: same database bytes, no code sent, the session still waits for its identity.
    assert_eq!(h.state.store.codes_sent(&id).await.unwrap(), 0);
    assert!(h.outbox.messages().is_empty());
    assert_eq!(h.site_view(&id).await.json["status"], "created");
    if h.state.store.backend() == "postgres" {
        // Every row of every table is unchanged. (SQLite's files change on reads too: readers write their
        // read marks into the -shm file, so there the checks above stand in.)
        assert!(h.backend.raw_contents().await == before, "a malformed request changed the database");
    }
}

/// The session id in a path (docs/protocol.md 6.1, every path with `{id}`): one that does not percent-decode is
/// `400 invalid_parameter`, one of no session's shape `404 not_found`, before any credential is looked at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_id_that_does_not_decode_is_an_invalid_parameter() {
    let h = Harness::new(Backend::sqlite().await).await;
    for (method, tail) in [("GET", ""), ("GET", "/client"), ("POST", "/cancel"), ("POST", "/resend")] {
        let r = h.call(method, &format!("/v1/sessions/ses_%FF%FE{tail}"), &[], None).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_parameter"), "{method} {tail}: {}", r.json);
        let r = h.call(method, &format!("/v1/sessions/nope{tail}"), &[], None).await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"), "{method} {tail}: {}", r.json);
    }
}
