//! The widget in headless Chromium: every step renders, validation messages for the tricky numbers, submit
//! disabled while invalid, locale and theme switches, events and webview bridges, the custom element, and the
//! sealed payloads opening (with a test key) to exactly what was typed. The server is replaced by a `fetch`
//! stub that speaks docs/protocol.md; the real server and widget together are covered by the e2e suite.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, JSON, Object, Reflect};
use realname_core::envelope::KeyPair;
use realname_core::protocol::{self as p, SealedRequest};
use realname_core::validate::{RegionStatus, check_char, region_status};
use realname_widget::{Widget, mount};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
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
        until("the step after consent", || !["consent", "submitting"].contains(&self.step().as_str())).await;
    }
    async fn expect_step(&self, step: &str) {
        until(&format!("step {step} (at {})", self.step()), || self.step() == step).await;
    }
    fn names(&self) -> Vec<String> {
        self.events.borrow().iter().map(|(n, _)| n.clone()).collect()
    }
    fn steps(&self) -> Vec<String> {
        self.events
            .borrow()
            .iter()
            .filter(|(n, _)| n == "step")
            .map(|(_, d)| get(d, "step").as_string().unwrap())
            .collect()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.widget.destroy();
        self.el.remove();
    }
}

/// Whether the stub server answers `fetch` (a test may have replaced it).
fn stubbed() -> bool {
    let w: JsValue = web_sys::window().unwrap().into();
    let stub = get(&w, "__rnStub");
    !stub.is_undefined() && Object::is(&stub, &get(&w, "fetch"))
}

/// Mounts the widget with `options` (English unless given), recording DOM events and callbacks. The widget opens
/// its session at mount: the stub server answers unless the test installed its own.
async fn mounted(options: &[(&str, JsValue)]) -> Mounted {
    if !stubbed() {
        stub_server(&KeyPair::from_seed("k1", &SEED));
    }
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
    let o =
        obj(&[("locale", "en".into()), ("server", "https://verify.test".into()), ("publishableKey", "pk_test".into())]);
    for (k, v) in options {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    for (cb, name) in [
        ("onReady", "ready"),
        ("onStep", "step"),
        ("onComplete", "complete"),
        ("onCancel", "cancel"),
        ("onError", "error"),
    ] {
        let log = callbacks.clone();
        let c = Closure::<dyn FnMut(JsValue)>::new(move |d: JsValue| log.borrow_mut().push((name.to_string(), d)));
        Reflect::set(&o, &cb.into(), c.as_ref()).unwrap();
        keep.push(c);
    }
    let widget = mount(&el, o).unwrap();
    tick().await;
    let m = Mounted { el, widget, events, callbacks, _keep: keep };
    // The configuration check at mount (session, keys) has answered, unless the test took the stub away.
    if stubbed() {
        let w: JsValue = web_sys::window().unwrap().into();
        let offline = get(&w, "__rnOffline").as_bool() == Some(true);
        let asked = |path: &str| requests().iter().any(|r| r.0 == path);
        until("the session check", || {
            m.step() == "error" || asked("/v1/keys") || (offline && asked("/v1/widget/sessions"))
        })
        .await;
        tick().await;
    }
    m
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
    let key =
        obj(&[("kid", kp.kid.clone().into()), ("suite", "x".into()), ("public_key", kp.public().to_base64().into())]);
    Reflect::set(&w, &"__rnKey".into(), &key).unwrap();
    let f = Function::new_no_args(
        r#"
        window.__rnRequests = [];
        window.__rnIdentityReply = null;
        window.__rnCodeReplies = [];
        window.__rnResendReplies = [];
        window.__rnSessionReply = null;
        window.__rnClient = null;
        window.__rnOffline = false;
        delete window.__rnMethods;
        window.__rnChecks = [];
        window.fetch = window.__rnStub = async (req) => {
          const url = new URL(req.url);
          const body = req.method === 'POST' ? await req.text() : null;
          window.__rnRequests.push({ path: url.pathname, body, auth: req.headers.get('authorization') });
          const json = (status, o) => new Response(JSON.stringify(o), { status, headers: { 'content-type': 'application/json' } });
          // A reply of 'offline' (or window.__rnOffline) fails like a dropped connection.
          const reply = (r) => { if (r === 'offline') throw new TypeError('offline'); return json(...r); };
          if (window.__rnOffline) throw new TypeError('offline');
          const p = url.pathname;
          const methods = window.__rnMethods || ['sms', 'email', 'documents'];
          if (p === '/v1/keys') return json(200, { protocol: 1, keys: [window.__rnKey] });
          if (p === '/v1/widget/sessions' && window.__rnSessionReply) return reply(window.__rnSessionReply);
          const checks = window.__rnChecks;
          if (p === '/v1/widget/sessions') return json(201, { session_id: 'ses_test', client_secret: 'cs_test', expires_at: 0, methods, checks, protocol: 1 });
          if (p.endsWith('/client')) return json(200, Object.assign({ session_id: 'ses_test', status: 'created', methods, checks, expires_at: 0 }, window.__rnClient || {}));
          if (p.endsWith('/identity') && window.__rnIdentityReply) return reply(window.__rnIdentityReply);
          if (p.endsWith('/resend') && window.__rnResendReplies.length) return reply(window.__rnResendReplies.shift());
          // The instants are those of a server whose clock is a day behind the browser's: only the durations count.
          if (p.endsWith('/identity') || p.endsWith('/resend')) return json(200, { status: 'code_sent', method: 'sms', destination: '138****8000', code_expires_at: Math.floor(Date.now() / 1000) - 86100, resend_available_at: Math.floor(Date.now() / 1000) - 86340, code_expires_in: 300, resend_in: 60 });
          if (p.endsWith('/code') && window.__rnCodeReplies && window.__rnCodeReplies.length) return reply(window.__rnCodeReplies.shift());
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
    list.iter()
        .map(|r| (get(&r, "path").as_string().unwrap(), get(&r, "body").as_string(), get(&r, "auth").as_string()))
        .collect()
}

#[wasm_bindgen_test]
async fn consent_is_unchecked_and_tells_who_why_what_how_long_how_to_withdraw() {
    let m = mounted(&[(
        "consent",
        obj(&[
            ("controller", "Lantern Books".into()),
            ("privacyPolicyUrl", "https://shop.test/privacy".into()),
            ("version", "2026-11-shop".into()),
        ]),
    )])
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
    let m = mounted(&[("methods", methods(&["email", "documents"]))]).await;
    m.agree().await;
    assert_eq!(m.heading(), "Choose how to verify");
    let offered: Vec<String> = {
        let l = m.root().query_selector_all("[data-method]").unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().dyn_into::<Element>().unwrap().get_attribute("data-method").unwrap())
            .collect()
    };
    assert_eq!(offered, ["email", "documents"]);
    let focused = m.root().active_element().map(|e| e.tag_name());
    assert_eq!(focused.as_deref(), Some("H2"), "focus moves to the new step's heading");
    m.must("[data-method=email]").click();
    tick().await;
    m.expect_step("identity").await;
    assert!(m.q("#rn-email").is_some() && m.q("#rn-phone").is_none());
}

#[wasm_bindgen_test]
async fn documents_alone_is_refused_with_an_error_event() {
    let m = mounted(&[("methods", methods(&["documents"]))]).await;
    m.expect_step("error").await;
    let errors: Vec<String> = m
        .events
        .borrow()
        .iter()
        .filter(|(n, _)| n == "error")
        .map(|(_, d)| get(d, "code").as_string().unwrap())
        .collect();
    assert_eq!(errors, ["documents_only_method"]);
}

/// The `data-method`s on the method step.
fn offered(m: &Mounted) -> Vec<String> {
    let l = m.root().query_selector_all("[data-method]").unwrap();
    (0..l.length())
        .map(|i| l.item(i).unwrap().dyn_into::<Element>().unwrap().get_attribute("data-method").unwrap())
        .collect()
}

#[wasm_bindgen_test]
async fn without_a_methods_option_the_session_decides_and_documents_appear_where_the_site_enabled_them() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let w: JsValue = web_sys::window().unwrap().into();
    let set = |list: &[&str]| Reflect::set(&w, &"__rnMethods".into(), &methods(list)).unwrap();
    set(&["sms", "email", "documents"]);
    let m = mounted(&[]).await;
    until("the session's methods", || requests().len() == 2).await;
    tick().await;
    m.agree().await;
    assert_eq!(offered(&m), ["sms", "email", "documents"], "documents enabled: offered by default");
    assert_eq!(requests().iter().map(|r| r.0.clone()).collect::<Vec<_>>(), ["/v1/widget/sessions", "/v1/keys"]);
    assert_eq!(m.steps(), ["consent", "method"], "narrowing the list announces no step");

    stub_server(&kp);
    set(&["sms", "email"]);
    let m = mounted(&[]).await;
    until("the session's methods", || requests().len() == 2).await;
    tick().await;
    m.agree().await;
    assert_eq!(offered(&m), ["sms", "email"], "no documents on the server");

    // A site that enables only documents is refused: documents must never be the only method.
    stub_server(&kp);
    set(&["documents"]);
    let m = mounted(&[]).await;
    m.expect_step("error").await;
    let errors: Vec<String> = m
        .events
        .borrow()
        .iter()
        .filter(|(n, _)| n == "error")
        .map(|(_, d)| get(d, "code").as_string().unwrap())
        .collect();
    assert_eq!(errors, ["documents_only_method"]);
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
    assert!(m.text("#rn-number-error").contains("The 18th character should be X"), "{}", m.text("#rn-number-error"));
    assert_eq!(m.must("#rn-number").get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(m.must("#rn-number").get_attribute("aria-describedby").as_deref(), Some("rn-number-error"));
    // A birth date that does not exist, with an otherwise correct number.
    m.type_into("#rn-number", &resident_id("11010519000229001")).await;
    assert!(
        m.text("#rn-number-error").contains("Birth date 1900-02-29 does not exist"),
        "{}",
        m.text("#rn-number-error")
    );
    // An unknown county code in a real province: a warning the person can act on, not a block.
    let unknown = (110100..=119999).find(|c| region_status(*c) == RegionStatus::Unknown).unwrap();
    m.type_into("#rn-number", &resident_id(&format!("{unknown}19900101001"))).await;
    let msg = m.text("#rn-number-error");
    assert!(
        msg.contains(&format!("This region code ({unknown}) is not in our list — check the first six digits")),
        "{msg}"
    );
    // Too short is not an error while typing, but is once the field is left.
    m.type_into("#rn-number", "1101051949").await;
    assert_eq!(m.text("#rn-number-error"), "");
    m.leave("#rn-number").await;
    assert!(
        m.text("#rn-number-error").contains("Should be 18 characters; it has 10"),
        "{}",
        m.text("#rn-number-error")
    );
    // A letter in the middle.
    m.type_into("#rn-number", "11010519491231A02X").await;
    assert!(
        m.text("#rn-number-error").contains("Character 15 (\"A\") is wrong: only digits can go there"),
        "{}",
        m.text("#rn-number-error")
    );
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
    let values: Vec<String> = (0..options.length())
        .map(|i| options.item(i).unwrap().dyn_into::<Element>().unwrap().get_attribute("value").unwrap())
        .collect();
    assert_eq!(
        values,
        [
            "resident_id",
            "hk_mo_tw_residence_permit",
            "foreign_permanent_resident_id",
            "passport",
            "hk_mo_travel_permit",
            "tw_travel_permit",
            "driving_licence"
        ]
    );
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
    // Opening a session and fetching the server's keys carry nothing personal (and a widget of an earlier test,
    // mounted without `methods`, may still be opening its session): only those may have gone out.
    let sent: Vec<_> =
        requests().into_iter().filter(|(path, _, _)| path != "/v1/keys" && path != "/v1/widget/sessions").collect();
    assert!(sent.is_empty(), "nothing of the identity leaves the page before the guardian agrees: {sent:?}");
    assert!(m.disabled("Guardian agrees"));
    m.must("#rn-guardian").click();
    tick().await;
    m.click("Guardian agrees").await;
    m.expect_step("code").await;
    // The guardian's consent travels sealed with the identity (protocol `guardian_consent`).
    let reqs = requests();
    let sealed: SealedRequest = serde_json::from_str(reqs.last().unwrap().1.as_deref().unwrap()).unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&kp.open(&sealed.envelope, "ses_test", p::Step::Identity).unwrap()).unwrap();
    let now = (js_sys::Date::now() / 1000.0) as i64;
    assert!((v["guardian_consent"]["accepted_at"].as_i64().unwrap() - now).abs() < 60, "{v}");
    assert_eq!(v["guardian_consent"]["version"], v["consent"]["version"]);
    // A child's verification waits for a reviewer after the code: the widget shows when it is due.
    let w: JsValue = web_sys::window().unwrap().into();
    let reply = Array::of2(
        &200.into(),
        &js_sys::JSON::parse(r#"{"status":"pending_review","review_due":"2026-10-12T16:00:00Z"}"#).unwrap(),
    );
    Reflect::set(&w, &"__rnCodeReplies".into(), &Array::of1(&reply)).unwrap();
    m.type_into("#rn-code", "123456").await;
    m.expect_step("in_review").await;
    assert!(m.text("[role=status]").contains("2026-10-12"), "{}", m.text("[role=status]"));
}

#[wasm_bindgen_test]
async fn sealed_payloads_open_to_exactly_what_was_typed_and_the_flow_completes() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m =
        mounted(&[("methods", methods(&["sms", "email"])), ("consent", obj(&[("version", "shop-v7".into())]))]).await;
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
    let complete: Vec<JsValue> =
        m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(complete.len(), 1);
    assert_eq!(get(&complete[0], "status").as_string().as_deref(), Some("verified"));
    assert_eq!(get(&complete[0], "token").as_string().as_deref(), Some("tok.en.sig"));
    assert_eq!(
        m.steps(),
        ["consent", "method", "identity", "submitting", "code", "submitting", "code", "submitting", "verified"]
    );
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

mod checks;
mod code;
mod config;
mod documents;
mod keys;
mod look;
mod messages;
