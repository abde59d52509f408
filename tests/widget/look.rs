//! What a site customises and listens to: locales and strings, theme variables, events and webview bridges,
//! every step rendering, destroy, and the custom element in its shadow root.

use super::*;

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
    let theme = obj(&[
        ("mode", "dark".into()),
        ("colorPrimary", "#ff0000".into()),
        ("radius", JsValue::from_f64(4.0)),
        ("--rn-font-size", "18px".into()),
    ]);
    let mut m = mounted(&[("theme", theme)]).await;
    let host: HtmlElement = m.el.first_element_child().unwrap().dyn_into().unwrap();
    assert_eq!(host.get_attribute("data-rn-theme").as_deref(), Some("dark"));
    let style = host.style();
    assert_eq!(style.get_property_value("--rn-color-primary").unwrap(), "#ff0000");
    assert_eq!(style.get_property_value("--rn-radius").unwrap(), "4px");
    assert_eq!(style.get_property_value("--rn-font-size").unwrap(), "18px");
    // The variables reach the rendered elements (in dark mode, the primary's dark variant: see below).
    let button = m.button("Agree and continue");
    assert_eq!(computed(&m.q("section").unwrap(), "border-top-left-radius"), "4px");
    assert_eq!(computed(&m.q("section").unwrap(), "font-size"), "18px");
    m.widget.set_theme(obj(&[
        ("mode", "light".into()),
        ("colorPrimary", "#0000ff".into()),
        ("colorPrimry", "#000".into()),
    ]));
    tick().await;
    assert_eq!(host.get_attribute("data-rn-theme").as_deref(), Some("light"));
    assert_eq!(style.get_property_value("--rn-color-primary").unwrap(), "#0000ff");
    assert_eq!(computed(&button, "background-color"), "rgb(0, 0, 255)");
    let bad: Vec<String> = m
        .events
        .borrow()
        .iter()
        .filter(|(n, _)| n == "error")
        .map(|(_, d)| get(d, "option").as_string().unwrap())
        .collect();
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
    assert_eq!(
        get(&bridge.get(0).dyn_into::<Array>().unwrap().get(1), "source").as_string().as_deref(),
        Some("realname")
    );
    Function::new_no_args("delete window.ReactNativeWebView; delete window.webkit; delete window.RealNameAndroid;")
        .call0(&JsValue::NULL)
        .unwrap();
}

#[wasm_bindgen_test]
async fn every_step_renders() {
    // Consent, method, identity (above); guardian, code, verified (sealed flow); cancelled (events). Documents:
    let m = mounted(&[("methods", methods(&["sms", "documents"]))]).await;
    m.agree().await;
    m.must("[data-method=documents]").click();
    tick().await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.click("Next").await;
    m.expect_step("documents").await;
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
    if !stubbed() {
        stub_server(&KeyPair::from_seed("k1", &SEED));
    }
    let el = doc().create_element("realname-verify").unwrap();
    el.set_attribute("locale", "en").unwrap();
    el.set_attribute("theme", "dark").unwrap();
    el.set_attribute("methods", "sms,email").unwrap();
    el.set_attribute("server", "https://verify.test").unwrap();
    el.set_attribute("publishable-key", "pk_test").unwrap();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    let c = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        l.borrow_mut().push(get(&get(&e, "detail"), "step").as_string().unwrap_or_default())
    });
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
    assert_ne!(
        web_sys::window().unwrap().get_computed_style(&h2).unwrap().unwrap().get_property_value("display").unwrap(),
        "none"
    );
    style.remove();
    el.remove();
    tick().await;
    assert!(root.query_selector("h2").unwrap().is_none(), "removing the element destroys the widget");
}

/// The computed value of `property` on `el`.
fn computed(el: &Element, property: &str) -> String {
    web_sys::window().unwrap().get_computed_style(el).unwrap().unwrap().get_property_value(property).unwrap()
}

/// `rgb(r, g, b)` as bytes.
fn rgb(css: &str) -> [u8; 3] {
    let inner = css.trim_start_matches("rgb(").trim_end_matches(')');
    let v: Vec<u8> = inner.split(',').map(|p| p.trim().parse().unwrap()).collect();
    [v[0], v[1], v[2]]
}

/// WCAG 2.1 contrast ratio, computed here independently of the widget's own.
fn ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let l = |c: [u8; 3]| {
        let f = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2])
    };
    let (x, y) = (l(a), l(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[wasm_bindgen_test]
async fn a_sites_primary_colour_gets_a_dark_variant_that_passes_aa() {
    // The docs' own example; #b4282d on the dark surface is 2.78:1.
    let mut m = mounted(&[("theme", obj(&[("mode", "dark".into()), ("colorPrimary", "#b4282d".into())]))]).await;
    let section = m.q("section").unwrap();
    let surface = rgb(&computed(&section, "background-color"));
    let link = m.button("Cancel");
    let primary = rgb(&computed(&link, "color"));
    assert_ne!(primary, [0xb4, 0x28, 0x2d], "the light colour unchanged in dark mode");
    assert!(ratio(primary, surface) >= 4.5, "{primary:?} on {surface:?}: {}", ratio(primary, surface));
    assert!(primary[0] > primary[1] && primary[0] > primary[2], "still the site's red: {primary:?}");
    let agree = m.button("Agree and continue");
    let (bg, fg) = (rgb(&computed(&agree, "background-color")), rgb(&computed(&agree, "color")));
    assert!(ratio(bg, fg) >= 4.5, "button text {fg:?} on {bg:?}");
    // In light mode the site's colour itself; a dark colour of its own wins over the derived one.
    m.widget.set_theme("light".into());
    tick().await;
    assert_eq!(computed(&link, "color"), "rgb(180, 40, 45)");
    m.widget.set_theme(obj(&[("mode", "dark".into()), ("colorPrimaryDark", "#ffb4b4".into())]));
    tick().await;
    assert_eq!(computed(&link, "color"), "rgb(255, 180, 180)");
}

#[wasm_bindgen_test]
async fn set_theme_can_remove_a_token() {
    let mut m =
        mounted(&[("theme", obj(&[("colorPrimary", "#b4282d".into()), ("radius", JsValue::from_f64(2.0))]))]).await;
    let button = m.button("Agree and continue");
    assert_eq!(computed(&button, "background-color"), "rgb(180, 40, 45)");
    m.widget.set_theme(obj(&[("colorPrimary", JsValue::NULL), ("radius", "".into())]));
    tick().await;
    assert_eq!(computed(&button, "background-color"), "rgb(29, 78, 216)", "back to the default");
    let host: HtmlElement = m.el.first_element_child().unwrap().dyn_into().unwrap();
    assert_eq!(host.style().get_property_value("--rn-radius").unwrap(), "");
    assert!(m.events.borrow().iter().all(|(n, _)| n != "error"), "null and \"\" are not errors");
}

#[wasm_bindgen_test]
async fn css_custom_properties_on_the_mount_element_apply() {
    let m = mounted(&[]).await;
    let el: HtmlElement = m.el.clone().dyn_into().unwrap();
    el.style().set_property("--rn-color-primary", "#b4282d").unwrap();
    el.style().set_property("--rn-radius", "3px").unwrap();
    tick().await;
    let button = m.button("Agree and continue");
    assert_eq!(computed(&button, "background-color"), "rgb(180, 40, 45)");
    assert_eq!(computed(&m.q("section").unwrap(), "border-top-left-radius"), "3px");
}
