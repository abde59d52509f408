//! Delivery: the SMS providers' requests as their servers check them (fake provider endpoints on loopback),
//! and email over a real SMTP conversation with a sink on loopback, completing the flow with the mailed code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use realname_domain::clock::ManualClock;
use realname_domain::config::{Secret, SmsWebhookConfig, TencentConfig};
use realname_server::delivery::http::HttpClient;
use realname_server::delivery::tencent::{Tc3Request, Tencent, authorization};
use realname_server::delivery::webhook::WebhookSms;
use realname_server::delivery::{Channel, CodeMessage, Sender, aliyun};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(
    aliyun_request_is_signed_and_its_errors_become_delivery_failed,
    email_code_over_smtp_completes_the_flow
);

type Seen = Arc<Mutex<Vec<(HeaderMap, String, String)>>>;

/// A fake provider endpoint: records (headers, query, body) and answers `reply`.
async fn fake_provider(reply: &'static str) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s1 = seen.clone();
    let s2 = seen.clone();
    let app = Router::new().route(
        "/",
        get(move |uri: Uri, headers: HeaderMap| {
            let seen = s1.clone();
            async move {
                seen.lock().unwrap().push((headers, uri.query().unwrap_or("").to_owned(), String::new()));
                ([("content-type", "application/json")], reply)
            }
        })
        .post(move |headers: HeaderMap, body: String| {
            let seen = s2.clone();
            async move {
                seen.lock().unwrap().push((headers, String::new(), body));
                ([("content-type", "application/json")], reply)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), seen)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn aliyun_request_is_signed_and_its_errors_become_delivery_failed(b: Backend) {
    let (url, seen) = fake_provider(r#"{"Code":"OK","Message":"OK","BizId":"1","RequestId":"r"}"#).await;
    let h = Harness::with(b, |cfg| {
        cfg.sms.provider = "aliyun".into();
        cfg.sms.aliyun.endpoint = url.clone();
        cfg.sms.aliyun.access_key_id = "testId".into();
        cfg.sms.aliyun.access_key_secret = Secret::new("testSecret");
        cfg.sms.aliyun.sign_name = "阿里云短信测试".into();
        cfg.sms.aliyun.template_code = "SMS_71390007".into();
        cfg.email.provider = "outbox".into();
    })
    .await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let (_, query, _) = seen.lock().unwrap()[0].clone();
    // Check the request as Aliyun does: recompute the signature over every other parameter.
    let mut params = BTreeMap::new();
    let mut signature = String::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap();
        if k == "Signature" {
            signature = percent_decode(v);
        } else {
            params.insert(percent_decode(k), percent_decode(v));
        }
    }
    assert_eq!(signature, aliyun::signature(&params, "testSecret"));
    assert_ne!(signature, aliyun::signature(&params, "otherSecret"));
    assert_eq!(params["Action"], "SendSms");
    assert_eq!(params["PhoneNumbers"], PHONE);
    assert_eq!(params["Timestamp"], "2026-10-01T00:00:00Z");
    let template: serde_json::Value = serde_json::from_str(&params["TemplateParam"]).unwrap();
    let code = template["code"].as_str().unwrap().to_owned();
    assert_eq!(h.submit_code(&s, &code).await.status, StatusCode::OK);

    // A provider refusal is a 502 delivery_failed; the session keeps its identity and may resend.
    let (url, _) = fake_provider(r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"limit"}"#).await;
    let h2 = Harness::with(Backend::sqlite().await, |cfg| {
        cfg.sms.provider = "aliyun".into();
        cfg.sms.aliyun.endpoint = url.clone();
        cfg.sms.aliyun.access_key_id = "testId".into();
        cfg.sms.aliyun.access_key_secret = Secret::new("testSecret");
        cfg.sms.aliyun.sign_name = "x".into();
        cfg.sms.aliyun.template_code = "SMS_1".into();
    })
    .await;
    let s = h2.create_session().await;
    let r = h2.submit_identity(&s, &identity_sms(PHONE, h2.clock.now_secs())).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_GATEWAY, "delivery_failed"));
    assert_eq!(h2.site_view(&s.session_id).await.json["status"], "submitted");
}

fn message() -> CodeMessage {
    CodeMessage {
        channel: Channel::Sms,
        to: PHONE.into(),
        to_masked: "139****5678".into(),
        code: "246810".into(),
        ttl_minutes: 5,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_request_is_signed_with_tc3() {
    let (url, seen) = fake_provider(r#"{"Response":{"SendStatusSet":[{"Code":"Ok"}],"RequestId":"r"}}"#).await;
    let cfg = TencentConfig {
        endpoint: url,
        secret_id: "AKIDtest".into(),
        secret_key: Secret::new("tencentSecret"),
        sdk_app_id: "1400000000".into(),
        sign_name: "签名".into(),
        template_id: "123".into(),
        region: "ap-guangzhou".into(),
    };
    let clock = ManualClock::new(T0);
    let sender = Tencent::new(cfg, HttpClient::new(std::time::Duration::from_secs(5)), clock).unwrap();
    sender.send(&message()).await.unwrap();
    let (headers, _, body) = seen.lock().unwrap()[0].clone();
    let h = |k: &str| headers[k].to_str().unwrap().to_owned();
    assert_eq!(h("x-tc-action"), "SendSms");
    let ts: i64 = h("x-tc-timestamp").parse().unwrap();
    assert_eq!(ts, T0 / 1000);
    let host = h("host");
    let ct = h("content-type");
    let req = Tc3Request { service: "sms", host: &host, content_type: &ct, timestamp: ts, payload: &body };
    let (_, expected) = authorization(&req, "AKIDtest", "tencentSecret");
    assert_eq!(h("authorization"), expected);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["PhoneNumberSet"][0], format!("+86{PHONE}"));
    assert_eq!(v["TemplateParamSet"][0], "246810");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_sms_is_hmac_signed() {
    let (url, seen) = fake_provider("{}").await;
    let clock = ManualClock::new(T0);
    let cfg = SmsWebhookConfig { url, secret: Secret::new("gateway-secret") };
    let sender = WebhookSms::new(cfg, HttpClient::new(std::time::Duration::from_secs(5)), clock).unwrap();
    sender.send(&message()).await.unwrap();
    let (headers, _, body) = seen.lock().unwrap()[0].clone();
    let sig = headers["realname-signature"].to_str().unwrap();
    assert!(realname_domain::signature::verify(b"gateway-secret", sig, body.as_bytes(), T0 / 1000, 300));
    assert!(!realname_domain::signature::verify(b"gateway-secret", sig, b"{}", T0 / 1000, 300));
}

/// A minimal SMTP server on loopback that accepts one or more messages and keeps their DATA.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails: Arc<Mutex<Vec<String>>> = Arc::default();
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push(std::mem::take(&mut data));
                            w.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.0.0 ok\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"502 unknown\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

/// The six-digit code in a delivered message (bodies may be base64 or quoted-printable).
fn code_in_mail(mail: &str) -> String {
    use base64::Engine as _;
    let (head, body) = mail.split_once("\n\n").unwrap();
    let text = if head.to_ascii_lowercase().contains("content-transfer-encoding: base64") {
        let joined: String = body.lines().map(str::trim).collect();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).unwrap()).unwrap()
    } else {
        body.replace("=\n", "")
    };
    let after = text.split("code is ").nth(1).expect("code sentence");
    after.chars().take(6).collect()
}

async fn email_code_over_smtp_completes_the_flow(b: Backend) {
    let (port, mails) = smtp_sink().await;
    let h = Harness::with(b, |cfg| {
        cfg.email.provider = "smtp".into();
        cfg.email.host = "127.0.0.1".into();
        cfg.email.port = port;
        cfg.email.tls = "none".into();
        cfg.email.from = "realname <no-reply@verify.example>".into();
    })
    .await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_email(EMAIL, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["method"], "email");
    let mail = mails.lock().unwrap().first().cloned().expect("a mail was delivered");
    assert!(mail.to_ascii_lowercase().contains(&format!("to: {EMAIL}")), "{mail}");
    let code = code_in_mail(&mail);
    assert_eq!(code.len(), 6, "{mail}");
    let r = h.submit_code(&s, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.site_view(&s.session_id).await.json["method"], "email");
    assert!(h.outbox.messages().is_empty(), "email went over SMTP, not the outbox");
}
