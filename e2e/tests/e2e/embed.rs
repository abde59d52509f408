//! The widget inside an iframe of another site: the site's own page (its origin, not the verification
//! server's) embeds `<realname-verify>` and is itself framed by a host page on a different origin. The widget
//! posts its events to `window.parent` only with the `parent-origin` the site configured; a wrong origin or
//! `*` must reach nobody (the events carry the result token).

use std::collections::HashMap;

use realname_e2e::browser::{Browser, Profile};
use realname_e2e::http::{self, FileServer};
use realname_e2e::server::{DemoServer, Options};
use realname_e2e::{Result, ensure, err, paths, shots, wait_for};
use serde_json::{Value, json};

use crate::common::{Demo, ID_ADULT, NAME, PHONE, PHONE_MASKED, PRIMARY, STEP_TIMEOUT};

/// The site's page with the widget, talking to the verification server named by `?server=`, with
/// `parent-origin` from `?parent=` (absent: not set). It records the widget's DOM events for the test.
const FRAME: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>site page in a frame</title>
<link rel="stylesheet" href="/demo/demo.css"></head>
<body><main><div id="mount"></div></main>
<script type="module">
import { loadWidget, createWidget, EVENTS } from '/demo/widget.js';
const q = new URLSearchParams(location.search);
window.frameEvents = [];
await loadWidget();
const el = createWidget({ server: q.get('server'), locale: 'en', 'parent-origin': q.get('parent') });
for (const t of EVENTS) el.addEventListener(t, (e) => window.frameEvents.push({ type: t, detail: e.detail }));
document.getElementById('mount').append(el);
</script></body></html>"#;

/// The host page: frames the site's page (at `?frame=`) three times — with its own origin as the parent
/// origin (right), with the framed page's origin (a real origin, just not the parent's) and with `*` — and
/// records every message it receives with the frame it came from.
const HOST: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host page</title>
<style>iframe { width: 420px; height: 760px; border: 1px solid #999; }</style></head>
<body><main><h1>A host page framing the site</h1>
<script>
window.received = [];
addEventListener('message', (e) => {
  const from = Array.from(document.querySelectorAll('iframe')).find((f) => f.contentWindow === e.source);
  window.received.push({ frame: from ? from.id : null, origin: e.origin, data: e.data });
});
const q = new URLSearchParams(location.search);
const frame = q.get('frame');
for (const [id, parent] of [['right', location.origin], ['wrong', frame], ['star', '*']]) {
  const f = document.createElement('iframe');
  f.id = id;
  f.title = `widget, parent origin ${parent}`;
  f.src = `${frame}/frame.html?` + new URLSearchParams({ server: q.get('server'), parent });
  document.currentScript.before(f);
}
</script></main></body></html>"#;

/// Switches WebDriver into the iframe `id` of the top page.
fn into_frame(d: &Demo, id: &str) -> Result<()> {
    d.browser.cmd("POST", "/frame", Some(json!({ "id": null })))?;
    let el = d.browser.wait_element(&format!("iframe#{id}"), STEP_TIMEOUT)?;
    d.browser.cmd("POST", "/frame", Some(json!({ "id": el.json() }))).map(|_| ())
}

fn to_top(d: &Demo) -> Result<()> {
    d.browser.cmd("POST", "/frame", Some(json!({ "id": null }))).map(|_| ())
}

/// The event types the widget dispatched inside the current frame.
fn frame_events(d: &Demo) -> Result<Vec<String>> {
    let v = d.js("return (window.frameEvents || []).map((e) => e.type);", vec![])?;
    Ok(v.as_array().map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()).unwrap_or_default())
}

/// The messages the host page received.
fn received(d: &Demo) -> Result<Vec<Value>> {
    Ok(d.js("return window.received;", vec![])?.as_array().cloned().unwrap_or_default())
}

#[test]
fn an_iframe_host_hears_the_events_only_at_the_configured_parent_origin() -> Result<()> {
    // One page server, two origins: the site's page on 127.0.0.1, the host page on localhost.
    let html = |s: &str| ("text/html; charset=utf-8".to_string(), s.as_bytes().to_vec());
    let pages: HashMap<String, (String, Vec<u8>)> =
        [("/frame.html".to_string(), html(FRAME)), ("/host.html".to_string(), html(HOST))].into();
    let site = FileServer::start(pages, Some(paths::www()?))?;
    let port = site.base.rsplit(':').next().unwrap_or_default();
    let host = format!("http://localhost:{port}");
    // The site's page calls the verification server cross-origin, as a real embedding site does.
    let server = DemoServer::start(&Options { origins: vec![site.base.clone()], ..Options::with_config("") })?;
    let browser = Browser::start(&Profile::desktop())?;
    let q = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
    browser.goto(&format!("{host}/host.html?frame={}&server={}", q(&site.base), q(&server.base)))?;
    let d = Demo::with("embed-iframe", server, browser);
    drive(&d, &host, &site.base)
}

fn drive(d: &Demo, host_origin: &str, frame_base: &str) -> Result<()> {
    // The frames with a wrong parent origin and with `*` go to the method step: each emits ready and two steps.
    for id in ["wrong", "star", "right"] {
        into_frame(d, id)?;
        d.wait_step("consent")?;
        wait_for(STEP_TIMEOUT, &format!("the ready event in frame {id}"), || {
            Ok(frame_events(d)?.iter().any(|t| t == "ready").then_some(()))
        })?;
        d.click("#rn-consent")?;
        d.click(PRIMARY)?;
        d.wait_step("method")?;
    }
    // The right frame to the end: SMS, the code from the outbox.
    d.click("button.rn-method[data-method=sms]")?;
    d.wait_step("identity")?;
    d.fill_identity(NAME, ID_ADULT, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    let code = d.outbox_code(PHONE_MASKED)?;
    d.fill("#rn-code", &code)?; // the sixth digit submits
    d.wait_step("verified")?;
    let in_frame = frame_events(d)?;
    to_top(d)?;

    let msgs = wait_for(STEP_TIMEOUT, "the complete message at the host page", || {
        let m = received(d)?;
        Ok(m.iter().any(|m| m["frame"] == "right" && m["data"]["type"] == "complete").then_some(m))
    })?;
    shots::save(&d.browser, &d.test, "01-host-with-three-frames", "light")?;
    let from_right: Vec<&Value> = msgs.iter().filter(|m| m["frame"] == "right").collect();
    for m in &from_right {
        ensure!(m["origin"] == json!(frame_base), "a message claims origin {} (want {frame_base}): {m}", m["origin"]);
        ensure!(m["data"]["source"] == "realname", "a message without source=realname: {m}");
    }
    // The host hears every event the widget dispatched in its frame, in order.
    let heard: Vec<String> = from_right.iter().filter_map(|m| m["data"]["type"].as_str().map(str::to_string)).collect();
    ensure!(heard == in_frame, "the host heard {heard:?}, the frame dispatched {in_frame:?}");
    ensure!(heard.first().map(String::as_str) == Some("ready"), "the first message is not ready: {heard:?}");
    let steps: Vec<&str> = from_right
        .iter()
        .filter(|m| m["data"]["type"] == "step")
        .filter_map(|m| m["data"]["detail"]["step"].as_str())
        .collect();
    ensure!(
        steps.starts_with(&["consent", "method", "identity"]) && steps.contains(&"verified"),
        "steps heard: {steps:?}"
    );
    // The token the host received is the one a site's backend accepts.
    let complete = from_right.iter().find(|m| m["data"]["type"] == "complete").ok_or_else(|| err!("no complete"))?;
    let token =
        complete["data"]["detail"]["token"].as_str().ok_or_else(|| err!("complete without a token: {complete}"))?;
    let r = http::post_json(&d.server.url("/demo/verify-token"), &json!({ "token": token }), &[])?;
    ensure!(
        r.status == 200 && r.json()?["valid"] == true,
        "the token the host received does not verify: {} {}",
        r.status,
        r.body
    );
    // Nothing from the frames whose parent origin is wrong or `*`, though they dispatched events of their own.
    for id in ["wrong", "star"] {
        into_frame(d, id)?;
        let own = frame_events(d)?;
        ensure!(own.iter().filter(|t| *t == "step").count() >= 2, "frame {id} dispatched only {own:?}");
        to_top(d)?;
        let leaked: Vec<&Value> = msgs.iter().filter(|m| m["frame"] == json!(id)).collect();
        ensure!(leaked.is_empty(), "the host ({host_origin}) heard frame {id}: {leaked:?}");
    }
    ensure!(msgs.iter().all(|m| m["frame"] == "right"), "messages from elsewhere: {msgs:?}");
    Ok(())
}
