//! The identity checks' refusals (docs/protocol.md 4.5.1): a mismatch brings the form back, filled in, with
//! words a person can act on and the tries left; the locked, daily-limit and unavailable refusals say what to do.

use super::*;

/// What the stub answers to the next identity steps (`None`: a code is sent).
fn identity_reply(reply: Option<&str>) {
    let w: JsValue = web_sys::window().unwrap().into();
    Reflect::set(&w, &"__rnIdentityReply".into(), &reply.map(|r| JSON::parse(r).unwrap()).unwrap_or(JsValue::NULL))
        .unwrap();
}

fn value(m: &Mounted, sel: &str) -> String {
    m.must(sel).dyn_into::<HtmlInputElement>().unwrap().value()
}

fn identity_posts() -> usize {
    requests().iter().filter(|r| r.0.ends_with("/identity")).count()
}

/// Fills in the form (a name the records do not hold for the number) and sends it.
async fn send(m: &Mounted, name: &str) {
    m.type_into("#rn-name", name).await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-phone", "13800138000").await;
    let before = identity_posts();
    m.click(&m.button_text_next()).await;
    until("the identity step's answer", || identity_posts() > before && m.step() != "submitting").await;
}

impl Mounted {
    /// The label of the identity form's submit button in the mounted locale.
    fn button_text_next(&self) -> String {
        self.root().query_selector("button[type=submit]").unwrap().unwrap().text_content().unwrap()
    }
}

const MISMATCH_2: &str = r#"[422, {"error": {"code": "identity_mismatch", "message": "", "attempts_left": 2}}]"#;
const MISMATCH_1: &str = r#"[422, {"error": {"code": "identity_mismatch", "message": "", "attempts_left": 1}}]"#;

#[wasm_bindgen_test]
async fn a_mismatch_brings_the_form_back_filled_in_with_the_tries_left_and_the_third_ends_it() {
    stub_server(&KeyPair::from_seed("k1", &SEED));
    identity_reply(Some(MISMATCH_2));
    let m = mounted(&[("methods", methods(&["sms"])), ("complaintUrl", "https://shop.test/complaints".into())]).await;
    m.agree().await;
    m.expect_step("identity").await;
    assert!(m.q("#rn-refusal").is_none(), "no refusal before anything was sent");
    send(&m, "张三丰").await;
    m.expect_step("identity").await;
    let said = m.text("#rn-refusal");
    assert!(said.contains("The name and ID number do not match the records"), "{said}");
    assert!(said.contains("2 tries left"), "{said}");
    assert_eq!(m.must("#rn-refusal").get_attribute("role").as_deref(), Some("alert"));
    // Everything typed is still there, and can be sent again at once.
    assert_eq!((value(&m, "#rn-name"), value(&m, "#rn-number")), ("张三丰".into(), "11010519491231002X".into()));
    assert_eq!(value(&m, "#rn-phone"), "13800138000");
    assert!(!m.disabled("Next"));
    // A refusal is not an error: the host sees the form again, no `error` event.
    assert!(!m.names().contains(&"error".to_string()), "{:?}", m.names());
    assert_eq!(m.steps().iter().filter(|s| *s == "identity").count(), 2);

    identity_reply(Some(MISMATCH_1));
    send(&m, "张三风").await;
    m.expect_step("identity").await;
    let said = m.text("#rn-refusal");
    assert!(said.contains("1 try left") && !said.contains("1 tries"), "{said}");

    identity_reply(Some(r#"[423, {"error": {"code": "identity_mismatch_locked", "message": ""}}]"#));
    send(&m, "张山").await;
    m.expect_step("failed").await;
    let said = m.text("[role=status]");
    assert!(said.contains("did not match the records too often"), "{said}");
    assert!(said.contains("start again") && said.contains("complaint"), "{said}");
    assert_eq!(m.must("a[href='https://shop.test/complaints']").text_content().unwrap(), "File a complaint");
    let complete: Vec<JsValue> =
        m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(get(&complete[0], "reason").as_string().as_deref(), Some("identity_mismatch_locked"));

    // Corrected, in a new session: the right name goes through.
    identity_reply(None);
    m.click("Try again").await;
    m.expect_step("identity").await;
    assert!(m.q("#rn-refusal").is_none());
    send(&m, "张三").await;
    m.expect_step("code").await;
    let sessions = requests().iter().filter(|r| r.0 == "/v1/widget/sessions").count();
    assert_eq!(sessions, 2, "the failed session is not used again");
}

#[wasm_bindgen_test]
async fn the_daily_limit_and_an_unavailable_check_say_when_to_try_again_and_keep_the_form() {
    stub_server(&KeyPair::from_seed("k1", &SEED));
    identity_reply(Some(r#"[429, {"error": {"code": "check_limit", "message": "", "retry_after": 9000}}]"#));
    let m = at_identity(&["sms"]).await;
    send(&m, "张三").await;
    m.expect_step("identity").await;
    let said = m.text("#rn-refusal");
    assert!(said.contains("checked too often today") && said.contains("Try again in 3 h"), "{said}");
    assert!(!said.contains("tries left"), "{said}");
    assert_eq!(value(&m, "#rn-name"), "张三");

    identity_reply(Some(r#"[503, {"error": {"code": "check_unavailable", "message": "", "retry_after": 30}}]"#));
    m.click("Next").await;
    until("the unavailable check", || m.text("#rn-refusal").contains("not available right now")).await;
    assert!(m.text("#rn-refusal").contains("Press Next again in a minute"), "{}", m.text("#rn-refusal"));
    assert_eq!(value(&m, "#rn-number"), "11010519491231002X");
    assert!(!m.names().contains(&"error".to_string()), "{:?}", m.names());

    // Later the check answers: the same form, sent again, goes on to the code.
    identity_reply(None);
    m.click("Next").await;
    m.expect_step("code").await;
}

#[wasm_bindgen_test]
async fn the_refusals_speak_every_locale() {
    let cases = [
        ("zh-CN", "姓名和证件号码与记录不符", "还可尝试 1 次", "今天核验次数过多", "暂时无法使用"),
        ("zh-TW", "姓名和證件號碼與紀錄不符", "還可嘗試 1 次", "今天核驗次數過多", "暫時無法使用"),
        ("en", "do not match the records", "1 try left", "checked too often today", "not available right now"),
    ];
    for (locale, mismatch, tries, limit, unavailable) in cases {
        stub_server(&KeyPair::from_seed("k1", &SEED));
        identity_reply(Some(MISMATCH_1));
        let m = mounted(&[("methods", methods(&["sms"])), ("locale", locale.into())]).await;
        m.must("#rn-consent").click();
        tick().await;
        let agree = m.root().query_selector("button[part='button button-primary']").unwrap().unwrap();
        agree.dyn_into::<HtmlElement>().unwrap().click();
        m.expect_step("identity").await;
        send(&m, "张三丰").await;
        until(locale, || m.text("#rn-refusal").contains(mismatch)).await;
        assert!(m.text("#rn-refusal").contains(tries), "{locale}: {}", m.text("#rn-refusal"));
        identity_reply(Some(r#"[429, {"error": {"code": "check_limit", "message": "", "retry_after": 60}}]"#));
        send(&m, "张三").await;
        until(locale, || m.text("#rn-refusal").contains(limit)).await;
        identity_reply(Some(r#"[503, {"error": {"code": "check_unavailable", "message": "", "retry_after": 30}}]"#));
        send(&m, "张三").await;
        until(locale, || m.text("#rn-refusal").contains(unavailable)).await;
    }
}

fn set_window(name: &str, value: JsValue) {
    let w: JsValue = web_sys::window().unwrap().into();
    Reflect::set(&w, &name.into(), &value).unwrap();
}

/// The stub's sessions run `id_match` with `provider`.
fn checks_by(provider: &str) {
    let list = format!(r#"[{{"check": "id_match", "provider": "{provider}"}}]"#);
    set_window("__rnChecks", JSON::parse(&list).unwrap());
}

#[wasm_bindgen_test]
async fn the_consent_names_the_sites_checks_and_the_kind_of_party_that_makes_them() {
    let cases = [
        (
            "en",
            "tencent",
            "Check: your name and ID number are compared with an authoritative identity source via Tencent Cloud.",
        ),
        ("en", "aliyun", "via Alibaba Cloud"),
        ("en", "demo", "via a demo service (no real records)"),
        ("en", "acme-gateway", "via a verification service this site uses"),
        ("zh-CN", "tencent", "核验：你的姓名和身份证号码将经腾讯云与权威身份数据源比对。"),
        ("zh-TW", "demo", "將經示範服務（無真實紀錄）與權威身分資料來源比對"),
    ];
    for (locale, provider, said) in cases {
        stub_server(&KeyPair::from_seed("k1", &SEED));
        checks_by(provider);
        let m = mounted(&[("methods", methods(&["sms"])), ("locale", locale.into())]).await;
        until(provider, || m.text("#rn-consent-text").contains(said)).await;
        // One item per check, beside what, who and how long.
        assert_eq!(m.root().query_selector_all("#rn-consent-text li").unwrap().length(), 6, "{locale} {provider}");
    }
    // A site without checks: nothing about them.
    stub_server(&KeyPair::from_seed("k1", &SEED));
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    assert_eq!(m.root().query_selector_all("#rn-consent-text li").unwrap().length(), 5);
    assert!(!m.text("#rn-consent-text").contains("authoritative"));
}

#[wasm_bindgen_test]
async fn a_consent_given_before_the_server_named_its_checks_is_asked_again_naming_them() {
    stub_server(&KeyPair::from_seed("k1", &SEED));
    checks_by("demo");
    // The session cannot be opened at mount: the consent shows no checks yet.
    set_window("__rnOffline", true.into());
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    assert!(!m.text("#rn-consent-text").contains("authoritative"));
    set_window("__rnOffline", false.into());
    m.must("#rn-consent").click();
    until("the agree button to enable", || !m.disabled("Agree and continue")).await;
    m.click("Agree and continue").await;
    // The server names a check the consent did not: the consent comes back, unticked, naming it.
    until("the consent again", || m.step() == "consent" && m.text("#rn-consent-text").contains("a demo service")).await;
    assert!(!m.must("#rn-consent").dyn_into::<HtmlInputElement>().unwrap().checked());
    assert!(m.disabled("Agree and continue"));
    m.agree().await;
    m.expect_step("identity").await;
    assert_eq!(m.steps(), ["consent", "submitting", "consent", "identity"]);
}
