//! What a site's configuration meets at mount: a disallowed origin or a wrong key shows at once as a stable
//! `error` code and a "misconfigured" state, and no method is offered before the server confirmed it.

use super::*;

fn set(name: &str, value: JsValue) {
    let w: JsValue = web_sys::window().unwrap().into();
    Reflect::set(&w, &name.into(), &value).unwrap();
}

fn error_codes(m: &Mounted) -> Vec<String> {
    m.events.borrow().iter().filter(|(n, _)| n == "error").map(|(_, d)| get(d, "code").as_string().unwrap()).collect()
}

#[wasm_bindgen_test]
async fn a_misconfigured_page_says_so_at_mount_with_a_stable_code() {
    for (status, code) in [(403, "forbidden_origin"), (401, "unauthorized"), (403, "site_disabled")] {
        let kp = KeyPair::from_seed("k1", &SEED);
        stub_server(&kp);
        let reply = format!(r#"[{status}, {{"error": {{"code": "{code}", "message": ""}}}}]"#);
        set("__rnSessionReply", JSON::parse(&reply).unwrap());
        let m = mounted(&[]).await;
        // Before the person consents or types anything.
        m.expect_step("error").await;
        assert_eq!(error_codes(&m), [code], "{code} is not `network`");
        assert!(m.text("[role=status]").contains("This page is not set up correctly"), "{}", m.text("[role=status]"));
        assert_eq!(m.heading(), "This page cannot verify you right now");
        assert!(m.text(".rn-hint").contains(code));
        assert!(m.root().query_selector("button").unwrap().is_none(), "nothing a person can do helps: no retry");
        assert!(!m.steps().contains(&"method".to_string()));
    }
    set("__rnSessionReply", JsValue::NULL);
}

#[wasm_bindgen_test]
async fn a_site_session_with_a_wrong_client_secret_is_misconfigured_at_mount() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    Function::new_no_args(
        r#"const stub = window.fetch;
           window.fetch = window.__rnStub = async (req) => new URL(req.url).pathname.endsWith('/client')
             ? new Response('{"error":{"code":"unauthorized","message":""}}', { status: 401 })
             : stub(req);"#,
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let m = mounted(&[
        ("publishableKey", JsValue::UNDEFINED),
        ("sessionId", "ses_site".into()),
        ("clientSecret", "cs_wrong".into()),
    ])
    .await;
    m.expect_step("error").await;
    assert_eq!(error_codes(&m), ["unauthorized"]);
    stub_server(&kp);
}

#[wasm_bindgen_test]
async fn no_method_is_offered_before_the_server_confirmed_it() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    // The server cannot be reached at mount: nothing is said yet (the person may be briefly offline).
    set("__rnOffline", true.into());
    set("__rnMethods", methods(&["sms", "email"]));
    let m = mounted(&[("methods", methods(&["sms", "email", "documents"]))]).await;
    tick().await;
    assert_eq!(m.step(), "consent");
    assert!(error_codes(&m).is_empty());
    // Consent, still offline: the widget asks the server instead of offering the configured methods.
    m.agree().await;
    m.expect_step("error").await;
    assert_eq!(error_codes(&m), ["network"]);
    assert!(!m.steps().contains(&"method".to_string()), "{:?}", m.steps());
    // Back online: the methods the server confirmed, and only those (no documents the site did not enable).
    set("__rnOffline", false.into());
    m.click("Try again").await;
    m.expect_step("method").await;
    let offered: Vec<String> = {
        let l = m.root().query_selector_all("[data-method]").unwrap();
        (0..l.length())
            .map(|i| l.item(i).unwrap().dyn_into::<Element>().unwrap().get_attribute("data-method").unwrap())
            .collect()
    };
    assert_eq!(offered, ["sms", "email"]);
    Reflect::delete_property(web_sys::window().unwrap().unchecked_ref::<js_sys::Object>(), &"__rnMethods".into())
        .unwrap();
}

#[wasm_bindgen_test]
async fn events_bubble_and_cross_shadow_roots_except_error() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let log = seen.clone();
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| log.borrow_mut().push(e.type_()));
    let body = doc().body().unwrap();
    for name in ["ready", "step", "cancel", "error"] {
        body.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref()).unwrap();
    }
    let mut m = mounted(&[]).await;
    m.widget.set_locale("fr");
    tick().await;
    m.click("Cancel").await;
    until("the cancel event", || m.names().contains(&"cancel".to_string())).await;
    for name in ["ready", "step", "cancel", "error"] {
        body.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref()).unwrap();
    }
    assert!(error_codes(&m).contains(&"invalid_option".to_string()), "the element itself hears `error`");
    assert_eq!(*seen.borrow(), ["ready", "step", "step", "cancel"], "an ancestor hears every event but `error`");
}

/// `face`, the deprecated name of the documents method, still works in the `methods` option (as a string or a
/// list); everything the widget says names the method `documents`.
#[wasm_bindgen_test]
async fn the_deprecated_face_name_in_the_methods_option_means_documents() {
    let m = mounted(&[("methods", "email, face".into())]).await;
    m.agree().await;
    m.expect_step("method").await;
    assert_eq!(offered(&m), ["email", "documents"]);

    let m = mounted(&[("methods", methods(&["sms", "face"]))]).await;
    m.agree().await;
    m.must("[data-method=documents]").click();
    m.expect_step("identity").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.click("Next").await;
    m.expect_step("documents").await;
    assert_eq!(m.steps().last().map(String::as_str), Some("documents"), "{:?}", m.steps());
    let said: Vec<String> = m
        .events
        .borrow()
        .iter()
        .filter(|(n, _)| n == "step")
        .filter_map(|(_, d)| get(d, "method").as_string())
        .collect();
    assert!(!said.is_empty() && said.iter().all(|x| x == "documents"), "{said:?}");
}
