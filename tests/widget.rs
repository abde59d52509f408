//! The widget in headless Chromium: every step renders, validation messages for the tricky numbers, submit
//! disabled while invalid, locale and theme switches, events and webview bridges, the custom element, and the
//! sealed payloads opening (with a test key) to exactly what was typed. The server is replaced by a `fetch`
//! stub that speaks docs/protocol.md; the real server and widget together are covered by the e2e suite.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect, JSON};
use realname_core::envelope::KeyPair;
use realname_core::protocol::{self as p, SealedRequest};
use realname_core::validate::{check_char, region_status, RegionStatus};
use realname_widget::{mount, Widget};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

const SEED: [u8; 32] = [7; 32];

fn doc() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Waits one macrotask, so Yew renders and effects run.
async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

/// Waits until `cond` holds, for up to 30 s of wall-clock time: a loaded 2-core CI machine can stretch a
/// render or a mocked round trip far past its usual few milliseconds, and polling keeps passing runs fast.
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = js_sys::Date::now() + 30_000.0;
    while js_sys::Date::now() < deadline {
        if cond() {
            return;
        }
        tick().await;
    }
    assert!(cond(), "timed out waiting for {what}");
}

fn obj(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

/// A mounted widget and what it emitted.
struct Mounted {
    el: Element,
    widget: Widget,
    events: Rc<RefCell<Vec<(String, JsValue)>>>,
    callbacks: Rc<RefCell<Vec<(String, JsValue)>>>,
    _keep: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Mounted {
    fn root(&self) -> ShadowRoot {
        self.el.first_element_child().unwrap().shadow_root().unwrap()
    }
    fn q(&self, sel: &str) -> Option<Element> {
        self.root().query_selector(sel).unwrap()
    }
    fn must(&self, sel: &str) -> HtmlElement {
        self.q(sel).unwrap_or_else(|| panic!("no {sel} in {}", self.root().inner_html())).dyn_into().unwrap()
    }
    fn text(&self, sel: &str) -> String {
        self.q(sel).map(|e| e.text_content().unwrap_or_default()).unwrap_or_default()
    }
    fn heading(&self) -> String {
        self.text("h2")
    }
    fn step(&self) -> String {
        self.q("section").and_then(|s| s.get_attribute("data-step")).unwrap_or_default()
    }
    fn button(&self, label: &str) -> HtmlElement {
        let list = self.root().query_selector_all("button").unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .find(|b| b.text_content().unwrap_or_default().contains(label))
            .unwrap_or_else(|| panic!("no button {label:?} in {}", self.root().inner_html()))
            .dyn_into()
            .unwrap()
    }
    fn disabled(&self, label: &str) -> bool {
        self.button(label).has_attribute("disabled")
    }
    async fn type_into(&self, sel: &str, value: &str) {
        let input: HtmlInputElement = self.must(sel).dyn_into().unwrap();
        input.set_value(value);
        let init = web_sys::InputEventInit::new();
        init.set_bubbles(true);
        input.dispatch_event(&web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap()).unwrap();
        tick().await;
    }
    async fn leave(&self, sel: &str) {
        let input = self.must(sel);
        input.focus().unwrap();
        input.blur().unwrap();
        tick().await;
    }
    async fn click(&self, label: &str) {
        self.button(label).click();
        tick().await;
    }
    /// Consents and waits until the consent step is gone: on a loaded machine one tick may not be enough for the
    /// re-render that enables the button (a click on the still disabled one does nothing), nor for the next step.
    async fn agree(&self) {
        self.must("#rn-consent").click();
        until("the agree button to enable", || !self.disabled("Agree and continue")).await;
        self.click("Agree and continue").await;
        until("the step after consent", || self.step() != "consent").await;
    }
    async fn expect_step(&self, step: &str) {
        until(&format!("step {step} (at {})", self.step()), || self.step() == step).await;
    }
    fn names(&self) -> Vec<String> {
        self.events.borrow().iter().map(|(n, _)| n.clone()).collect()
    }
    fn steps(&self) -> Vec<String> {
        self.events.borrow().iter().filter(|(n, _)| n == "step").map(|(_, d)| get(d, "step").as_string().unwrap()).collect()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.widget.destroy();
        self.el.remove();
    }
}

/// Mounts the widget with `options` (English unless given), recording DOM events and callbacks.
async fn mounted(options: &[(&str, JsValue)]) -> Mounted {
    let el = doc().create_element("div").unwrap();
    doc().body().unwrap().append_child(&el).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let callbacks = Rc::new(RefCell::new(Vec::new()));
    let mut keep = Vec::new();
    for name in ["ready", "step", "complete", "cancel", "error"] {
        let ev = events.clone();
        let c = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            ev.borrow_mut().push((name.to_string(), get(&e, "detail")));
        });
        el.add_event_listener_with_callback(name, c.as_ref().unchecked_ref()).unwrap();
        keep.push(c);
    }
    let o = obj(&[("locale", "en".into()), ("server", "https://verify.test".into()), ("publishableKey", "pk_test".into())]);
    for (k, v) in options {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    for (cb, name) in [("onReady", "ready"), ("onStep", "step"), ("onComplete", "complete"), ("onCancel", "cancel"), ("onError", "error")] {
        let log = callbacks.clone();
        let c = Closure::<dyn FnMut(JsValue)>::new(move |d: JsValue| log.borrow_mut().push((name.to_string(), d)));
        Reflect::set(&o, &cb.into(), c.as_ref()).unwrap();
        keep.push(c);
    }
    let widget = mount(&el, o).unwrap();
    tick().await;
    Mounted { el, widget, events, callbacks, _keep: keep }
}

fn methods(list: &[&str]) -> JsValue {
    list.iter().map(|m| JsValue::from_str(m)).collect::<Array>().into()
}

/// An 18-character resident ID with a correct check character.
fn resident_id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()).unwrap())
}

/// Installs a `fetch` that answers like the server (protocol v1) and records every request.
fn stub_server(kp: &KeyPair) {
    let w: JsValue = web_sys::window().unwrap().into();
    let key = obj(&[("kid", kp.kid.clone().into()), ("suite", "x".into()), ("public_key", kp.public().to_base64().into())]);
    Reflect::set(&w, &"__rnKey".into(), &key).unwrap();
    let f = Function::new_no_args(
        r#"
        window.__rnRequests = [];
        window.__rnIdentityReply = null;
        window.__rnCodeReplies = [];
        window.fetch = async (req) => {
          const url = new URL(req.url);
          const body = req.method === 'POST' ? await req.text() : null;
          window.__rnRequests.push({ path: url.pathname, body, auth: req.headers.get('authorization') });
          const json = (status, o) => new Response(JSON.stringify(o), { status, headers: { 'content-type': 'application/json' } });
          const p = url.pathname;
          if (p === '/v1/keys') return json(200, { protocol: 1, keys: [window.__rnKey] });
          if (p === '/v1/widget/sessions') return json(201, { session_id: 'ses_test', client_secret: 'cs_test', expires_at: 0, methods: window.__rnMethods || ['sms', 'email'], protocol: 1 });
          if (p.endsWith('/identity') && window.__rnIdentityReply) return json(...window.__rnIdentityReply);
          if (p.endsWith('/identity') || p.endsWith('/resend')) return json(200, { status: 'code_sent', method: 'sms', destination: '138****8000', code_expires_at: 0, resend_available_at: Math.floor(Date.now() / 1000) + 60 });
          if (p.endsWith('/code') && window.__rnCodeReplies && window.__rnCodeReplies.length) return json(...window.__rnCodeReplies.shift());
          if (p.endsWith('/code')) {
            const n = window.__rnRequests.filter((r) => r.path.endsWith('/code')).length;
            if (n === 1) return json(400, { error: { code: 'code_invalid', message: 'wrong', attempts_left: 4 } });
            return json(200, { status: 'verified', result_token: 'tok.en.sig' });
          }
          if (p.endsWith('/cancel')) return json(200, { status: 'canceled' });
          if (p.endsWith('/documents')) return json(200, { status: 'pending_review', review_due: '2026-12-07T16:00:00Z' });
          return json(404, { error: { code: 'not_found', message: '' } });
        };
        "#,
    );
    f.call0(&JsValue::NULL).unwrap();
}

fn requests() -> Vec<(String, Option<String>, Option<String>)> {
    let w: JsValue = web_sys::window().unwrap().into();
    let list: Array = get(&w, "__rnRequests").dyn_into().unwrap();
    list.iter().map(|r| (get(&r, "path").as_string().unwrap(), get(&r, "body").as_string(), get(&r, "auth").as_string())).collect()
}

#[wasm_bindgen_test]
async fn consent_is_unchecked_and_tells_who_why_what_how_long_how_to_withdraw() {
    let m = mounted(&[
        ("consent", obj(&[("controller", "Lantern Books".into()), ("privacyPolicyUrl", "https://shop.test/privacy".into()), ("version", "2026-11-shop".into())])),
    ])
    .await;
    assert_eq!(m.heading(), "How we use your personal information");
    let text = m.text("ul");
    for part in ["Lantern Books", "Purpose", "sensitive personal information", "How long", "Withdrawing"] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    assert_eq!(m.must("a[href='https://shop.test/privacy']").text_content().unwrap(), "Read the privacy policy");
    let checkbox: HtmlInputElement = m.must("#rn-consent").dyn_into().unwrap();
    assert!(!checkbox.checked(), "consent must start unchecked");
    assert!(m.disabled("Agree and continue"));
    checkbox.click();
    tick().await;
    assert!(!m.disabled("Agree and continue"));
    m.click("Agree and continue").await;
    m.expect_step("method").await;
}

#[wasm_bindgen_test]
async fn a_javascript_privacy_link_is_not_rendered() {
    let m = mounted(&[("consent", obj(&[("privacyPolicyUrl", "javascript:alert(1)".into())]))]).await;
    assert!(m.q("a").is_none());
}

#[wasm_bindgen_test]
async fn method_choice_offers_only_enabled_methods_and_focus_moves_to_the_heading() {
    let m = mounted(&[("methods", methods(&["email", "face"]))]).await;
    m.agree().await;
    assert_eq!(m.heading(), "Choose how to verify");
    let offered: Vec<String> = {
        let l = m.root().query_selector_all("[data-method]").unwrap();
        (0..l.length()).map(|i| l.item(i).unwrap().dyn_into::<Element>().unwrap().get_attribute("data-method").unwrap()).collect()
    };
    assert_eq!(offered, ["email", "face"]);
    let focused = m.root().active_element().map(|e| e.tag_name());
    assert_eq!(focused.as_deref(), Some("H2"), "focus moves to the new step's heading");
    m.must("[data-method=email]").click();
    tick().await;
    m.expect_step("identity").await;
    assert!(m.q("#rn-email").is_some() && m.q("#rn-phone").is_none());
}

#[wasm_bindgen_test]
async fn face_alone_is_refused_with_an_error_event() {
    let m = mounted(&[("methods", methods(&["face"]))]).await;
    m.expect_step("error").await;
    let errors: Vec<String> = m.events.borrow().iter().filter(|(n, _)| n == "error").map(|(_, d)| get(d, "code").as_string().unwrap()).collect();
    assert_eq!(errors, ["face_only_method"]);
}

/// The `data-method`s on the method step.
fn offered(m: &Mounted) -> Vec<String> {
    let l = m.root().query_selector_all("[data-method]").unwrap();
    (0..l.length()).map(|i| l.item(i).unwrap().dyn_into::<Element>().unwrap().get_attribute("data-method").unwrap()).collect()
}

#[wasm_bindgen_test]
async fn without_a_methods_option_the_session_decides_and_face_appears_where_the_site_enabled_documents() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let w: JsValue = web_sys::window().unwrap().into();
    let set = |list: &[&str]| Reflect::set(&w, &"__rnMethods".into(), &methods(list)).unwrap();
    set(&["sms", "email", "documents"]);
    let m = mounted(&[]).await;
    until("the session's methods", || requests().len() == 2).await;
    tick().await;
    m.agree().await;
    assert_eq!(offered(&m), ["sms", "email", "face"], "documents enabled: face is offered by default");
    assert_eq!(requests().iter().map(|r| r.0.clone()).collect::<Vec<_>>(), ["/v1/widget/sessions", "/v1/keys"]);
    assert_eq!(m.steps(), ["consent", "method"], "narrowing the list announces no step");

    stub_server(&kp);
    set(&["sms", "email"]);
    let m = mounted(&[]).await;
    until("the session's methods", || requests().len() == 2).await;
    tick().await;
    m.agree().await;
    assert_eq!(offered(&m), ["sms", "email"], "no documents on the server: no face");

    // A site that enables only documents is refused, as face must never be the only method.
    stub_server(&kp);
    set(&["documents"]);
    let m = mounted(&[]).await;
    m.expect_step("error").await;
    let errors: Vec<String> = m.events.borrow().iter().filter(|(n, _)| n == "error").map(|(_, d)| get(d, "code").as_string().unwrap()).collect();
    assert_eq!(errors, ["face_only_method"]);
    Reflect::delete_property(w.unchecked_ref::<js_sys::Object>(), &"__rnMethods".into()).unwrap();
}

async fn at_identity(list: &[&str]) -> Mounted {
    let m = mounted(&[("methods", methods(list))]).await;
    m.agree().await;
    m.expect_step("identity").await;
    m
}

#[wasm_bindgen_test]
async fn validation_messages_for_the_tricky_numbers() {
    let m = at_identity(&["sms"]).await;
    // Wrong check character: the validator knows the right one.
    m.type_into("#rn-number", "110105194912310021").await;
    assert!(m.text("#rn-number-error").contains("the 18th character should be X"), "{}", m.text("#rn-number-error"));
    assert_eq!(m.must("#rn-number").get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(m.must("#rn-number").get_attribute("aria-describedby").as_deref(), Some("rn-number-error"));
    // A birth date that does not exist, with an otherwise correct number.
    m.type_into("#rn-number", &resident_id("11010519000229001")).await;
    assert!(m.text("#rn-number-error").contains("birth date 1900-02-29 does not exist"), "{}", m.text("#rn-number-error"));
    // An unknown county code in a real province: a warning the person can act on, not a block.
    let unknown = (110100..=119999).find(|c| region_status(*c) == RegionStatus::Unknown).unwrap();
    m.type_into("#rn-number", &resident_id(&format!("{unknown}19900101001"))).await;
    let msg = m.text("#rn-number-error");
    assert!(msg.contains(&format!("this region code ({unknown}) is not in our list — check the first six digits")), "{msg}");
    // Too short is not an error while typing, but is once the field is left.
    m.type_into("#rn-number", "1101051949").await;
    assert_eq!(m.text("#rn-number-error"), "");
    m.leave("#rn-number").await;
    assert!(m.text("#rn-number-error").contains("should be 18 characters; it has 10"), "{}", m.text("#rn-number-error"));
    // A letter in the middle.
    m.type_into("#rn-number", "11010519491231A02X").await;
    assert!(m.text("#rn-number-error").contains("character 15 (\"A\") is wrong: only digits can go there"), "{}", m.text("#rn-number-error"));
    // Phone.
    m.type_into("#rn-phone", "23800138000").await;
    m.leave("#rn-phone").await;
    assert!(m.text("#rn-phone-error").contains("11-digit mainland China mobile number"));
}

#[wasm_bindgen_test]
async fn submit_stays_disabled_until_everything_is_valid() {
    let m = at_identity(&["sms"]).await;
    assert!(m.disabled("Next"));
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "110105194912310021").await;
    m.type_into("#rn-phone", "13800138000").await;
    assert!(m.disabled("Next"), "wrong check character");
    m.type_into("#rn-number", "11010519491231002x").await;
    assert!(!m.disabled("Next"));
    m.type_into("#rn-phone", "1380013800").await;
    assert!(m.disabled("Next"), "phone one digit short");
    m.type_into("#rn-phone", "138 0013 8000").await;
    assert!(!m.disabled("Next"));
    m.type_into("#rn-name", "张3").await;
    assert!(m.disabled("Next"), "name with a digit");
}

#[wasm_bindgen_test]
async fn document_kinds_are_all_offered() {
    let m = at_identity(&["sms"]).await;
    let options = m.root().query_selector_all("#rn-kind option").unwrap();
    let values: Vec<String> = (0..options.length()).map(|i| options.item(i).unwrap().dyn_into::<Element>().unwrap().get_attribute("value").unwrap()).collect();
    assert_eq!(values, ["resident_id", "hk_mo_tw_residence_permit", "foreign_permanent_resident_id", "passport", "hk_mo_travel_permit", "tw_travel_permit"]);
}

#[wasm_bindgen_test]
async fn a_child_under_14_needs_a_guardian_before_anything_is_sent() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = at_identity(&["sms"]).await;
    m.type_into("#rn-name", "张小明").await;
    m.type_into("#rn-number", &resident_id("11010520200101001")).await;
    m.type_into("#rn-phone", "13800138000").await;
    m.click("Next").await;
    m.expect_step("guardian_consent").await;
    assert!(requests().is_empty(), "nothing leaves the page before the guardian agrees");
    assert!(m.disabled("Guardian agrees"));
    m.must("#rn-guardian").click();
    tick().await;
    m.click("Guardian agrees").await;
    m.expect_step("code").await;
    // The guardian's consent travels sealed with the identity (protocol `guardian_consent`).
    let reqs = requests();
    let sealed: SealedRequest = serde_json::from_str(reqs.last().unwrap().1.as_deref().unwrap()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&kp.open(&sealed.envelope, "ses_test", p::Step::Identity).unwrap()).unwrap();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    assert!((v["guardian_consent"]["accepted_at"].as_i64().unwrap() - now).abs() < 60, "{v}");
    assert_eq!(v["guardian_consent"]["version"], v["consent"]["version"]);
    // A child's verification waits for a reviewer after the code: the widget shows when it is due.
    let w: JsValue = web_sys::window().unwrap().into();
    let reply = Array::of2(&200.into(), &js_sys::JSON::parse(r#"{"status":"pending_review","review_due":"2026-10-12T16:00:00Z"}"#).unwrap());
    Reflect::set(&w, &"__rnCodeReplies".into(), &Array::of1(&reply)).unwrap();
    m.type_into("#rn-code", "123456").await;
    m.expect_step("in_review").await;
    assert!(m.text("[role=status]").contains("2026-10-12"), "{}", m.text("[role=status]"));
}

#[wasm_bindgen_test]
async fn sealed_payloads_open_to_exactly_what_was_typed_and_the_flow_completes() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = mounted(&[("methods", methods(&["sms", "email"])), ("consent", obj(&[("version", "shop-v7".into())]))]).await;
    m.agree().await;
    m.must("[data-method=sms]").click();
    tick().await;
    m.type_into("#rn-name", " 张三 ").await;
    m.type_into("#rn-number", "11010519491231002x").await;
    m.type_into("#rn-phone", "+86 138 0013 8000").await;
    m.click("Next").await;
    m.expect_step("code").await;
    assert!(m.text("form").contains("We texted a code to 138****8000"));
    let code: HtmlInputElement = m.must("#rn-code").dyn_into().unwrap();
    assert_eq!(code.get_attribute("inputmode").as_deref(), Some("numeric"));
    assert_eq!(code.get_attribute("autocomplete").as_deref(), Some("one-time-code"));
    assert!(m.disabled("You can ask for a new code in"), "resend waits for its countdown");

    let reqs = requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(paths, ["/v1/widget/sessions", "/v1/keys", "/v1/sessions/ses_test/identity"]);
    let (_, body, auth) = &reqs[2];
    assert_eq!(auth.as_deref(), Some("Bearer cs_test"));
    let body = body.clone().unwrap();
    for secret in ["张三", "110105", "13800138000", "shop-v7"] {
        assert!(!body.contains(secret), "{secret} travels in clear: {body}");
    }
    let sealed: SealedRequest = serde_json::from_str(&body).unwrap();
    let plain = kp.open(&sealed.envelope, "ses_test", p::Step::Identity).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(v["method"], "sms");
    assert_eq!(v["document_kind"], "resident_id");
    assert_eq!(v["name"], "张三");
    assert_eq!(v["number"], "11010519491231002X");
    assert_eq!(v["phone"], "13800138000");
    assert!(v.get("email").is_none());
    assert_eq!(v["consent"]["version"], "shop-v7");
    let now = (js_sys::Date::now() / 1000.0) as i64;
    assert!((v["consent"]["accepted_at"].as_i64().unwrap() - now).abs() < 60);
    // It does not open for another step: the AAD binds the step.
    assert!(kp.open(&sealed.envelope, "ses_test", p::Step::Code).is_err());

    // Paste of the whole code submits it; the stub says wrong once.
    m.type_into("#rn-code", "１２3 456").await;
    until("wrong code", || m.text("#rn-code-status").contains("That code is not right")).await;
    assert!(m.text("#rn-code-status").contains("4 tries left"));
    let reqs = requests();
    let sealed: SealedRequest = serde_json::from_str(reqs.last().unwrap().1.as_deref().unwrap()).unwrap();
    let plain = kp.open(&sealed.envelope, "ses_test", p::Step::Code).unwrap();
    assert_eq!(String::from_utf8(plain).unwrap(), r#"{"code":"123456"}"#);

    m.type_into("#rn-code", "654321").await;
    until("verified", || m.step() == "verified").await;
    assert_eq!(m.heading(), "You are verified");
    let complete: Vec<JsValue> = m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(complete.len(), 1);
    assert_eq!(get(&complete[0], "status").as_string().as_deref(), Some("verified"));
    assert_eq!(get(&complete[0], "token").as_string().as_deref(), Some("tok.en.sig"));
    assert_eq!(m.steps(), ["consent", "method", "identity", "submitting", "code", "submitting", "code", "submitting", "verified"]);
    // Callbacks got the same as the DOM events.
    assert_eq!(m.callbacks.borrow().len(), m.events.borrow().len());
    // No event detail carries personal data.
    for (_, d) in m.events.borrow().iter() {
        let json = JSON::stringify(d).unwrap().as_string().unwrap();
        assert!(!json.contains("张三") && !json.contains("13800138000") && !json.contains("110105"), "{json}");
    }
    // Nothing personal in storage, cookies or the URL.
    let w = web_sys::window().unwrap();
    assert_eq!(w.local_storage().unwrap().unwrap().length().unwrap(), 0);
    assert_eq!(w.session_storage().unwrap().unwrap().length().unwrap(), 0);
    assert_eq!(doc().dyn_into::<web_sys::HtmlDocument>().unwrap().cookie().unwrap(), "");
    assert!(!w.location().href().unwrap().contains("13800138000"));
}

#[wasm_bindgen_test]
async fn locale_switch_changes_every_string() {
    let mut m = mounted(&[("locale", "zh-CN".into())]).await;
    assert_eq!(m.heading(), "个人信息处理告知与同意");
    m.widget.set_locale("en");
    tick().await;
    assert_eq!(m.heading(), "How we use your personal information");
    m.widget.set_locale("zh-TW");
    tick().await;
    assert_eq!(m.heading(), "個人資料處理告知與同意");
    assert_eq!(m.q("section").unwrap().get_attribute("lang").as_deref(), Some("zh-TW"));
    m.widget.set_locale("fr");
    tick().await;
    assert_eq!(m.heading(), "個人資料處理告知與同意", "an unsupported locale changes nothing");
    assert!(m.names().contains(&"error".to_string()));
}

#[wasm_bindgen_test]
async fn strings_can_be_overridden_per_locale_or_for_all() {
    let strings = obj(&[
        ("consent.heading", "Before we start".into()),
        ("zh-CN", obj(&[("consent.heading", "开始之前".into())])),
    ]);
    let mut m = mounted(&[("strings", strings)]).await;
    assert_eq!(m.heading(), "Before we start");
    m.widget.set_locale("zh-CN");
    tick().await;
    assert_eq!(m.heading(), "开始之前");
}

#[wasm_bindgen_test]
async fn theme_options_set_the_css_variables() {
    let theme = obj(&[("mode", "dark".into()), ("colorPrimary", "#ff0000".into()), ("radius", JsValue::from_f64(4.0)), ("--rn-font-size", "18px".into())]);
    let mut m = mounted(&[("theme", theme)]).await;
    let host: HtmlElement = m.el.first_element_child().unwrap().dyn_into().unwrap();
    assert_eq!(host.get_attribute("data-rn-theme").as_deref(), Some("dark"));
    let style = host.style();
    assert_eq!(style.get_property_value("--rn-color-primary").unwrap(), "#ff0000");
    assert_eq!(style.get_property_value("--rn-radius").unwrap(), "4px");
    assert_eq!(style.get_property_value("--rn-font-size").unwrap(), "18px");
    // The variables reach the rendered elements.
    let button = m.button("Agree and continue");
    let computed = web_sys::window().unwrap().get_computed_style(&button).unwrap().unwrap();
    assert_eq!(computed.get_property_value("background-color").unwrap(), "rgb(255, 0, 0)");
    m.widget.set_theme(obj(&[("mode", "light".into()), ("colorPrimary", "#0000ff".into()), ("colorPrimry", "#000".into())]));
    tick().await;
    assert_eq!(host.get_attribute("data-rn-theme").as_deref(), Some("light"));
    assert_eq!(style.get_property_value("--rn-color-primary").unwrap(), "#0000ff");
    let bad: Vec<String> = m.events.borrow().iter().filter(|(n, _)| n == "error").map(|(_, d)| get(d, "option").as_string().unwrap()).collect();
    assert_eq!(bad, ["theme.colorPrimry"], "a typo in a token name is reported");
    m.widget.set_theme("auto".into());
    assert_eq!(host.get_attribute("data-rn-theme").as_deref(), Some("auto"));
    // A value cannot smuggle in another declaration.
    m.widget.set_theme(obj(&[("colorText", "red; background: url(x)".into())]));
    assert_eq!(style.get_property_value("--rn-color-text").unwrap(), "");
}

#[wasm_bindgen_test]
async fn events_ready_step_cancel_and_bridges() {
    let w: JsValue = web_sys::window().unwrap().into();
    let f = Function::new_no_args(
        r#"window.__bridge = [];
           window.ReactNativeWebView = { postMessage: (s) => window.__bridge.push(['rn', JSON.parse(s)]) };
           window.webkit = { messageHandlers: { realname: { postMessage: (o) => window.__bridge.push(['ios', o]) } } };
           window.RealNameAndroid = { postMessage: (s) => window.__bridge.push(['android', JSON.parse(s)]) };"#,
    );
    f.call0(&JsValue::NULL).unwrap();
    let m = mounted(&[]).await;
    let ready = m.events.borrow()[0].clone();
    assert_eq!(ready.0, "ready");
    assert_eq!(get(&ready.1, "locale").as_string().as_deref(), Some("en"));
    assert_eq!(get(&ready.1, "version").as_string().as_deref(), Some(env!("CARGO_PKG_VERSION")));
    m.click("Cancel").await;
    assert_eq!(m.names(), ["ready", "step", "step", "cancel"]);
    assert_eq!(m.steps(), ["consent", "cancelled"]);
    assert_eq!(m.heading(), "Cancelled");
    let bridge: Array = get(&w, "__bridge").dyn_into().unwrap();
    let seen: Vec<String> = bridge
        .iter()
        .map(|e| {
            let e: Array = e.dyn_into().unwrap();
            format!("{}:{}", e.get(0).as_string().unwrap(), get(&e.get(1), "type").as_string().unwrap())
        })
        .collect();
    for kind in ["rn", "ios", "android"] {
        for t in ["ready", "step", "cancel"] {
            assert!(seen.contains(&format!("{kind}:{t}")), "{kind}:{t} not in {seen:?}");
        }
    }
    assert_eq!(get(&bridge.get(0).dyn_into::<Array>().unwrap().get(1), "source").as_string().as_deref(), Some("realname"));
    Function::new_no_args("delete window.ReactNativeWebView; delete window.webkit; delete window.RealNameAndroid;").call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn every_step_renders() {
    // Consent, method, identity (above); guardian, code, verified (sealed flow); cancelled (events). Face:
    let m = mounted(&[("methods", methods(&["sms", "face"]))]).await;
    m.agree().await;
    m.must("[data-method=face]").click();
    tick().await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.click("Next").await;
    m.expect_step("face").await;
    assert_eq!(m.heading(), "Photos of your face and document");
    let consent: HtmlInputElement = m.must("#rn-face-consent").dyn_into().unwrap();
    assert!(!consent.checked(), "the face consent is separate and unchecked");
    assert!(m.must("fieldset").has_attribute("disabled"), "no capture before the face consent");
    consent.click();
    tick().await;
    assert!(!m.must("fieldset").has_attribute("disabled"));
    assert!(m.q("input[type=file][capture=user]").is_some() && m.q("input[type=file][capture=environment]").is_some());
    assert!(m.disabled("Submit for review"));
}

#[wasm_bindgen_test]
async fn destroy_removes_the_widget() {
    let mut m = mounted(&[]).await;
    m.widget.destroy();
    tick().await;
    assert!(m.el.first_element_child().is_none());
    m.widget.destroy(); // twice is fine
}

#[wasm_bindgen_test]
async fn custom_element_renders_in_an_open_shadow_root_with_parts() {
    // The module's start function defines the element; the test harness does not run it, so call it (it is
    // idempotent, as a page loading the module twice would need).
    realname_widget::start();
    realname_widget::start();
    let el = doc().create_element("realname-verify").unwrap();
    el.set_attribute("locale", "en").unwrap();
    el.set_attribute("theme", "dark").unwrap();
    el.set_attribute("methods", "sms,email").unwrap();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    let c = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| l.borrow_mut().push(get(&get(&e, "detail"), "step").as_string().unwrap_or_default()));
    el.add_event_listener_with_callback("step", c.as_ref().unchecked_ref()).unwrap();
    doc().body().unwrap().append_child(&el).unwrap();
    tick().await;
    let root = el.shadow_root().expect("open shadow root");
    let h2 = root.query_selector("h2").unwrap().unwrap();
    assert_eq!(h2.text_content().unwrap(), "How we use your personal information");
    assert_eq!(h2.get_attribute("part").as_deref(), Some("heading"));
    assert!(root.query_selector("[part~=container]").unwrap().is_some());
    assert!(root.query_selector("[part~=button-primary]").unwrap().is_some());
    assert_eq!(el.get_attribute("data-rn-theme").as_deref(), Some("dark"));
    assert_eq!(*log.borrow(), ["consent"]);
    el.set_attribute("locale", "zh-CN").unwrap();
    tick().await;
    assert_eq!(root.query_selector("h2").unwrap().unwrap().text_content().unwrap(), "个人信息处理告知与同意");
    // Host-page CSS does not reach inside.
    let style = doc().create_element("style").unwrap();
    style.set_text_content(Some("h2 { display: none !important }"));
    doc().head().unwrap().append_child(&style).unwrap();
    let h2: HtmlElement = root.query_selector("h2").unwrap().unwrap().dyn_into().unwrap();
    assert_ne!(web_sys::window().unwrap().get_computed_style(&h2).unwrap().unwrap().get_property_value("display").unwrap(), "none");
    style.remove();
    el.remove();
    tick().await;
    assert!(root.query_selector("h2").unwrap().is_none(), "removing the element destroys the widget");
}

/// Sets what the stub answers next: `identity` replaces the identity reply, `codes` are the next code replies.
fn stub_replies(identity: Option<&str>, codes: &[&str]) {
    let w: JsValue = web_sys::window().unwrap().into();
    let parse = |j: &str| JSON::parse(j).unwrap();
    Reflect::set(&w, &"__rnIdentityReply".into(), &identity.map(parse).unwrap_or(JsValue::NULL)).unwrap();
    let list: Array = codes.iter().map(|c| parse(c)).collect();
    Reflect::set(&w, &"__rnCodeReplies".into(), &list).unwrap();
}

/// The computed value of the CSS `property` of `el`.
fn css(el: &Element, property: &str) -> String {
    web_sys::window().unwrap().get_computed_style(el).unwrap().unwrap().get_property_value(property).unwrap()
}

async fn at_code(m: &Mounted) {
    m.agree().await;
    m.expect_step("identity").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-phone", "13800138000").await;
    m.click("Next").await;
    m.expect_step("code").await;
}

#[wasm_bindgen_test]
async fn expired_and_locked_codes_say_what_to_do() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    stub_replies(None, &[
        r#"[410, {"error": {"code": "code_expired", "message": ""}}]"#,
        r#"[423, {"error": {"code": "code_locked", "message": ""}}]"#,
    ]);
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    at_code(&m).await;
    let (enabled_bg, enabled_border) = (css(&m.must("#rn-code"), "background-color"), css(&m.must("#rn-code"), "border-style"));
    let hint_color = css(&m.must("#rn-code-status .rn-hint"), "color");
    m.type_into("#rn-code", "111111").await;
    until("expired", || m.text("#rn-code-status").contains("The code has expired; ask for a new one")).await;
    assert!(m.must("#rn-code").has_attribute("disabled"), "an expired code cannot be typed");
    // A disabled field must not look like one waiting for input.
    assert_ne!(css(&m.must("#rn-code"), "background-color"), enabled_bg, "the disabled field has the enabled field's background");
    assert_ne!(css(&m.must("#rn-code"), "border-style"), enabled_border, "the disabled field has the enabled field's border");
    // Expired is an error like locked, in the live region that announces it.
    let status = m.must("#rn-code-status");
    assert_eq!((status.get_attribute("role").as_deref(), status.get_attribute("aria-live").as_deref()), (Some("status"), Some("polite")));
    let expired = m.must("#rn-code-status .rn-error");
    assert!(expired.text_content().unwrap().contains("The code has expired"));
    let error_color = css(&expired, "color");
    assert_ne!(error_color, hint_color, "the expired message is in the hint's grey");
    // Resend is the way on: enabled at once and the primary action, with no submit that cannot work beside it.
    assert!(!m.disabled("Send a new code"), "resend is offered at once");
    assert_eq!(m.button("Send a new code").get_attribute("part").as_deref(), Some("button button-primary"));
    assert!(m.root().query_selector("button[type=submit]").unwrap().is_none(), "a submit for an expired code");
    m.click("Send a new code").await;
    m.expect_step("code").await;
    until("active again", || !m.must("#rn-code").has_attribute("disabled")).await;
    assert!(m.disabled("You can ask for a new code in"), "the countdown starts again");
    m.type_into("#rn-code", "222222").await;
    until("locked", || m.text("#rn-code-status").contains("Too many wrong codes")).await;
    assert!(m.q("#rn-code").unwrap().has_attribute("disabled"));
    assert_eq!(css(&m.must("#rn-code-status .rn-error"), "color"), error_color, "locked and expired in one error tone");
    assert_ne!(css(&m.must("#rn-code"), "background-color"), enabled_bg);
    m.click("Start again").await;
    m.expect_step("identity").await;
    let paths: Vec<String> = requests().into_iter().map(|r| r.0).collect();
    assert_eq!(paths.iter().filter(|p| p.ends_with("/resend")).count(), 1);
}

#[wasm_bindgen_test]
async fn a_failed_verification_offers_retry_and_a_complaint() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    stub_replies(Some(r#"[409, {"error": {"code": "identity_limit", "message": ""}}]"#), &[]);
    let m = mounted(&[("methods", methods(&["sms"])), ("complaintUrl", "https://shop.test/complaints".into())]).await;
    m.agree().await;
    m.expect_step("identity").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-phone", "13800138000").await;
    m.click("Next").await;
    m.expect_step("failed").await;
    assert_eq!(m.heading(), "We could not verify you");
    assert_eq!(m.must("a[href='https://shop.test/complaints']").text_content().unwrap(), "File a complaint");
    let complete: Vec<JsValue> = m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(get(&complete[0], "status").as_string().as_deref(), Some("failed"));
    assert_eq!(get(&complete[0], "reason").as_string().as_deref(), Some("identity_limit"));
    assert!(get(&complete[0], "token").is_null());
    m.click("Try again").await;
    m.expect_step("identity").await;
    // A final result drops the personal data the widget held: the form comes back empty.
    assert_eq!(m.must("#rn-name").dyn_into::<HtmlInputElement>().unwrap().value(), "");
    assert_eq!(m.must("#rn-number").dyn_into::<HtmlInputElement>().unwrap().value(), "");
}

#[wasm_bindgen_test]
async fn a_network_failure_is_an_error_with_a_retry_that_resumes() {
    let m = mounted(&[("methods", methods(&["sms"])), ("server", "http://127.0.0.1:9".into())]).await;
    Function::new_no_args("window.fetch = () => Promise.reject(new TypeError('offline'));").call0(&JsValue::NULL).unwrap();
    m.agree().await;
    m.expect_step("identity").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-phone", "13800138000").await;
    m.click("Next").await;
    m.expect_step("error").await;
    assert!(m.text("[role=status]").contains("could not reach the server"));
    let codes: Vec<String> = m.events.borrow().iter().filter(|(n, _)| n == "error").map(|(_, d)| get(d, "code").as_string().unwrap()).collect();
    assert_eq!(codes, ["network"]);
    m.click("Try again").await;
    m.expect_step("identity").await;
    // The retry keeps what was typed (in memory only): nothing to retype after a dropped connection.
    assert_eq!(m.must("#rn-name").dyn_into::<HtmlInputElement>().unwrap().value(), "张三");
    assert_eq!(m.must("#rn-number").dyn_into::<HtmlInputElement>().unwrap().value(), "11010519491231002X");
    assert!(!m.disabled("Next"));
}

/// Width and height from a JPEG's SOF0/SOF2 header.
fn jpeg_size(j: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < j.len() {
        if j[i] != 0xFF {
            return None;
        }
        let marker = j[i + 1];
        let len = u16::from_be_bytes([j[i + 2], j[i + 3]]) as usize;
        if marker == 0xC0 || marker == 0xC2 {
            let h = u16::from_be_bytes([j[i + 5], j[i + 6]]) as u32;
            let w = u16::from_be_bytes([j[i + 7], j[i + 8]]) as u32;
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// "Uploads" a 2000x1500 photo into the `facing` slot's file input, as the file picker would.
/// Mounts a widget offering face, agrees, enters a valid identity and gives the face consent: the face step with
/// its capture slots enabled.
async fn at_face_step_with_consent() -> Mounted {
    let m = mounted(&[("methods", methods(&["sms", "face"]))]).await;
    m.agree().await;
    m.must("[data-method=face]").click();
    m.expect_step("identity").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.click("Next").await;
    m.expect_step("face").await;
    m.must("#rn-face-consent").click();
    until("the face consent", || !m.must("fieldset").has_attribute("disabled")).await;
    m
}

async fn upload_photo(m: &Mounted, facing: &str) {
    let upload = Function::new_with_args(
        "input",
        r#"return new Promise((resolve) => {
             const c = document.createElement('canvas'); c.width = 2000; c.height = 1500;
             const g = c.getContext('2d'); g.fillStyle = '#c33'; g.fillRect(0, 0, 2000, 1500);
             g.fillStyle = '#3c3'; g.fillRect(500, 300, 900, 700);
             c.toBlob((b) => {
               const dt = new DataTransfer(); dt.items.add(new File([b], 'photo.png', { type: 'image/png' }));
               input.files = dt.files; input.dispatchEvent(new Event('change', { bubbles: true })); resolve();
             }, 'image/png');
           });"#,
    );
    let input = m.must(&format!("#rn-file-{facing}"));
    let p: js_sys::Promise = upload.call1(&JsValue::NULL, &input).unwrap().dyn_into().unwrap();
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_refused_camera_s_message_goes_once_a_photo_is_uploaded_for_that_slot() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    // The person refuses the camera.
    Function::new_no_args(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('refused', 'NotAllowedError'));",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let m = at_face_step_with_consent().await;
    let slot_text = |n: u32| m.text(&format!("fieldset:nth-of-type({n})"));
    for n in [1, 2] {
        m.must(&format!("fieldset:nth-of-type({n}) button")).click();
        until("the no-camera message", || slot_text(n).contains("The camera is not available")).await;
    }
    upload_photo(&m, "user").await;
    until("the selfie preview", || m.q("fieldset:nth-of-type(1) .rn-capture img").is_some()).await;
    assert!(m.q("fieldset:nth-of-type(1) .rn-error").is_none(), "the selfie still says: {}", slot_text(1));
    // Only the slot that got its photo: the document still has no camera and no photo.
    assert!(slot_text(2).contains("The camera is not available"), "{}", slot_text(2));
    // Retake brings back the camera button, so the person may try the camera again.
    m.click("Retake").await;
    until("the camera button", || slot_text(1).contains("Use the camera")).await;
    assert!(m.q("fieldset:nth-of-type(1) .rn-error").is_none());
    // The prototype's getUserMedia again, for the tests after this one in the same page.
    Function::new_no_args("delete navigator.mediaDevices.getUserMedia;").call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn a_camera_that_opens_after_a_photo_was_uploaded_is_stopped() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    // The permission prompt stays open until the test answers it, with a real (canvas) stream.
    Function::new_no_args(
        "navigator.mediaDevices.getUserMedia = () => new Promise((resolve) => {
           window.__rnGrant = () => { const c = document.createElement('canvas'); c.getContext('2d').fillRect(0, 0, 4, 4);
             window.__rnStream = c.captureStream(); resolve(window.__rnStream); };
         });",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let m = at_face_step_with_consent().await;
    m.must("fieldset:nth-of-type(1) button").click();
    tick().await;
    upload_photo(&m, "user").await;
    until("the selfie preview", || m.q("fieldset:nth-of-type(1) .rn-capture img").is_some()).await;
    Function::new_no_args("window.__rnGrant();").call0(&JsValue::NULL).unwrap();
    let track_state = || {
        Function::new_no_args("return window.__rnStream.getVideoTracks()[0].readyState;").call0(&JsValue::NULL).unwrap().as_string()
    };
    until("the late camera to be stopped", || track_state().as_deref() == Some("ended")).await;
    assert!(m.q("fieldset:nth-of-type(1) .rn-capture img").is_some(), "the uploaded photo stays");
    assert!(m.q("fieldset:nth-of-type(1) video").is_none());
    Function::new_no_args("delete navigator.mediaDevices.getUserMedia;").call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn face_photos_are_downscaled_jpegs_sealed_with_the_identity_and_the_result_is_in_review() {
    use base64::Engine as _;
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = at_face_step_with_consent().await;
    for facing in ["user", "environment"] {
        upload_photo(&m, facing).await;
        until("preview", || m.root().query_selector_all(".rn-capture img").unwrap().length() >= if facing == "user" { 1 } else { 2 }).await;
    }
    assert!(!m.disabled("Submit for review"));
    m.click("Submit for review").await;
    m.expect_step("in_review").await;
    assert_eq!(m.heading(), "Sent for review");
    // The server's due instant is 24:00 Beijing time of the last working day: the person sees that day.
    assert!(m.text("[role=status]").contains("by 2026-12-07 (within 5 working days)"), "{}", m.text("[role=status]"));
    let complete: Vec<JsValue> = m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(get(&complete[0], "status").as_string().as_deref(), Some("pending_review"));
    assert_eq!(get(&complete[0], "reviewDue").as_string().as_deref(), Some("2026-12-07T16:00:00Z"));

    let reqs = requests();
    let (path, body, _) = reqs.last().unwrap();
    assert_eq!(path, "/v1/sessions/ses_test/documents");
    let sealed: SealedRequest = serde_json::from_str(body.as_deref().unwrap()).unwrap();
    let plain = kp.open(&sealed.envelope, "ses_test", p::Step::Documents).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(v["identity"]["method"], "documents");
    assert_eq!(v["identity"]["name"], "张三");
    assert!(v["face_consent"]["accepted_at"].as_i64().unwrap() > 0);
    for key in ["selfie_jpeg", "document_jpeg"] {
        let jpeg = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v[key].as_str().unwrap()).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "{key} is a JPEG");
        assert!(jpeg.len() <= 24_000, "{key} is {} bytes", jpeg.len());
        assert_eq!(jpeg_size(&jpeg), Some((640, 480)), "{key} downscaled to 640 px on its long side");
    }
}
