//! The code step and the error states: expired and locked codes, a failed verification, a network failure.

use super::*;

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
    stub_replies(
        None,
        &[
            r#"[410, {"error": {"code": "code_expired", "message": ""}}]"#,
            r#"[423, {"error": {"code": "code_locked", "message": ""}}]"#,
        ],
    );
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    at_code(&m).await;
    let (enabled_bg, enabled_border) =
        (css(&m.must("#rn-code"), "background-color"), css(&m.must("#rn-code"), "border-style"));
    let hint_color = css(&m.must("#rn-code-status .rn-hint"), "color");
    m.type_into("#rn-code", "111111").await;
    until("expired", || m.text("#rn-code-status").contains("The code has expired; ask for a new one")).await;
    assert!(m.must("#rn-code").has_attribute("disabled"), "an expired code cannot be typed");
    // A disabled field must not look like one waiting for input.
    assert_ne!(
        css(&m.must("#rn-code"), "background-color"),
        enabled_bg,
        "the disabled field has the enabled field's background"
    );
    assert_ne!(
        css(&m.must("#rn-code"), "border-style"),
        enabled_border,
        "the disabled field has the enabled field's border"
    );
    // Expired is an error like locked, in the live region that announces it.
    let status = m.must("#rn-code-status");
    assert_eq!(
        (status.get_attribute("role").as_deref(), status.get_attribute("aria-live").as_deref()),
        (Some("status"), Some("polite"))
    );
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
    let complete: Vec<JsValue> =
        m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(get(&complete[0], "status").as_string().as_deref(), Some("failed"));
    assert_eq!(get(&complete[0], "reason").as_string().as_deref(), Some("identity_limit"));
    assert!(get(&complete[0], "token").is_null());
    m.click("Try again").await;
    m.expect_step("identity").await;
    // A final result drops the personal data the widget held: the form comes back empty.
    assert_eq!(m.must("#rn-name").dyn_into::<HtmlInputElement>().unwrap().value(), "");
    assert_eq!(m.must("#rn-number").dyn_into::<HtmlInputElement>().unwrap().value(), "");
}

fn set(name: &str, value: JsValue) {
    let w: JsValue = web_sys::window().unwrap().into();
    Reflect::set(&w, &name.into(), &value).unwrap();
}

fn error_codes(m: &Mounted) -> Vec<String> {
    m.events.borrow().iter().filter(|(n, _)| n == "error").map(|(_, d)| get(d, "code").as_string().unwrap()).collect()
}

#[wasm_bindgen_test]
async fn a_network_failure_is_an_error_with_a_retry_that_resumes() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    set("__rnOffline", true.into());
    m.agree().await;
    m.expect_step("identity").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-phone", "13800138000").await;
    m.click("Next").await;
    m.expect_step("error").await;
    assert!(m.text("[role=status]").contains("could not reach the server"));
    assert_eq!(error_codes(&m), ["network"]);
    // Still offline: Try again asks the server where the session is, fails again, and offers Try again again.
    m.click("Try again").await;
    until("the second error", || error_codes(&m).len() == 2).await;
    m.expect_step("error").await;
    // Back online, the server has nothing yet (`created`): the form comes back.
    set("__rnOffline", false.into());
    m.click("Try again").await;
    m.expect_step("identity").await;
    // The retry keeps what was typed (in memory only): nothing to retype after a dropped connection.
    assert_eq!(m.must("#rn-name").dyn_into::<HtmlInputElement>().unwrap().value(), "张三");
    assert_eq!(m.must("#rn-number").dyn_into::<HtmlInputElement>().unwrap().value(), "11010519491231002X");
    assert!(!m.disabled("Next"));
}

/// Types a valid identity and submits it.
async fn submit_identity(m: &Mounted) {
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-phone", "13800138000").await;
    m.click("Next").await;
}

#[wasm_bindgen_test]
async fn a_lost_answer_at_the_code_step_resumes_at_the_step_the_server_is_at() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    stub_replies(None, &[r#""offline""#]);
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    at_code(&m).await;
    m.type_into("#rn-code", "111111").await;
    m.expect_step("error").await;
    // The server counted the try and has the code pending: Try again returns to the code step (not to the identity
    // form, whose submit the server would refuse with wrong_step), with its tries and countdown.
    set("__rnClient", JSON::parse(r#"{"status": "code_sent", "destination": "138****8000", "resend_in": 42, "code_expires_in": 200, "attempts_left": 4}"#).unwrap());
    m.click("Try again").await;
    m.expect_step("code").await;
    until("the tries", || m.text("#rn-code-status").contains("4 tries left")).await;
    assert!(m.disabled("You can ask for a new code in 4"), "{}", m.text("form"));
    assert!(m.text("form").contains("138****8000"));
    assert!(!m.must("#rn-code").has_attribute("disabled"));
    // The identity form is never offered to a server that would refuse it: a step it refuses (wrong_step) is
    // followed by asking where the session is, without an error screen.
    let errors = error_codes(&m).len();
    set("__rnIdentityReply", JSON::parse(r#"[409, {"error": {"code": "wrong_step", "message": ""}}]"#).unwrap());
    m.click("Back").await;
    m.expect_step("identity").await;
    m.click("Next").await;
    m.expect_step("code").await;
    assert_eq!(error_codes(&m).len(), errors, "no error for a step the server is past");
    set("__rnClient", JsValue::NULL);
}

#[wasm_bindgen_test]
async fn a_wrong_code_keeps_the_resend_countdown_from_the_servers_duration() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    stub_replies(
        None,
        &[
            r#"[400, {"error": {"code": "code_invalid", "message": "", "attempts_left": 1}}]"#,
            r#"[410, {"error": {"code": "code_expired", "message": ""}}]"#,
        ],
    );
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    at_code(&m).await;
    // The stub's instants are a day off the browser's clock; its durations say 60 s.
    assert!(
        m.disabled("You can ask for a new code in 60 s") || m.disabled("You can ask for a new code in 59 s"),
        "{}",
        m.text("form")
    );
    m.type_into("#rn-code", "111111").await;
    until("wrong code", || m.text("#rn-code-status").contains("That code is not right")).await;
    assert!(m.text("#rn-code-status").contains("1 try left"), "{}", m.text("#rn-code-status"));
    assert!(m.disabled("You can ask for a new code in"), "the countdown goes on: {}", m.text("form"));
    // A resend the server still refuses as too early: the code step comes back with the server's countdown.
    set(
        "__rnResendReplies",
        JSON::parse(r#"[[429, {"error": {"code": "resend_cooldown", "message": "", "retry_after": 30}}]]"#).unwrap(),
    );
    set(
        "__rnClient",
        JSON::parse(r#"{"status": "code_sent", "resend_in": 30, "code_expires_in": 0, "attempts_left": 1}"#).unwrap(),
    );
    m.type_into("#rn-code", "222222").await;
    until("expired", || m.text("#rn-code-status").contains("The code has expired")).await;
    m.click("Send a new code").await;
    let counting = |s: &str| ["in 30 s", "in 29 s", "in 28 s"].iter().any(|t| s.contains(t));
    until("the server's countdown", || m.step() == "code" && counting(&m.text("form"))).await;
    assert!(m.disabled("You can ask for a new code in"));
    assert!(error_codes(&m).is_empty(), "a refused resend is the countdown, not an error: {:?}", error_codes(&m));
    set("__rnClient", JsValue::NULL);
}

#[wasm_bindgen_test]
async fn refusals_are_told_in_words_with_the_code_as_detail() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    stub_replies(Some(r#"[429, {"error": {"code": "rate_limited", "message": "", "retry_after": 600}}]"#), &[]);
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    m.agree().await;
    submit_identity(&m).await;
    m.expect_step("error").await;
    assert!(m.text("[role=status]").contains("Too many codes were sent"), "{}", m.text("[role=status]"));
    assert!(m.text(".rn-notice .rn-hint").contains("Error code: rate_limited"));
    assert!(!m.text("[role=status]").contains("rate_limited"), "the raw code is a detail, not the message");
    // An expired session starts again rather than resuming one the server refuses.
    set("__rnClient", JSON::parse(r#"{"status": "expired"}"#).unwrap());
    m.click("Try again").await;
    until("the ended session", || error_codes(&m).contains(&"session_ended".to_string())).await;
    assert!(m.text("[role=status]").contains("This verification has ended"), "{}", m.text("[role=status]"));
    set("__rnClient", JsValue::NULL);
    m.click("Start again").await;
    m.expect_step("consent").await;
}

#[wasm_bindgen_test]
async fn a_session_whose_code_did_not_go_out_asks_for_one() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    // The provider failed after the identity was stored: the server keeps the session `submitted`.
    stub_replies(Some(r#"[502, {"error": {"code": "delivery_failed", "message": ""}}]"#), &[]);
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    m.agree().await;
    submit_identity(&m).await;
    m.expect_step("error").await;
    assert!(m.text("[role=status]").contains("We could not send the code just now"), "{}", m.text("[role=status]"));
    set("__rnClient", JSON::parse(r#"{"status": "submitted", "destination": "138****8000"}"#).unwrap());
    m.click("Try again").await;
    m.expect_step("code").await;
    assert!(
        m.text("#rn-code-status").contains("No code has gone out yet; ask for one"),
        "{}",
        m.text("#rn-code-status")
    );
    assert!(m.must("#rn-code").has_attribute("disabled"), "no code to type yet");
    assert!(!m.disabled("Send a new code"));
    assert_eq!(m.button("Send a new code").get_attribute("part").as_deref(), Some("button button-primary"));
    set("__rnClient", JsValue::NULL);
    m.click("Send a new code").await;
    until("a code that went out", || {
        m.step() == "code" && m.q("#rn-code").is_some_and(|c| !c.has_attribute("disabled"))
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_lost_answer_of_a_flagged_identity_shows_the_pending_review() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    stub_replies(None, &[r#""offline""#]);
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    at_code(&m).await;
    m.type_into("#rn-code", "111111").await;
    m.expect_step("error").await;
    // The server accepted the code and queued a review; the widget learns only that.
    set("__rnClient", JSON::parse(r#"{"status": "pending_review"}"#).unwrap());
    m.click("Try again").await;
    m.expect_step("in_review").await;
    assert!(m.text("[role=status]").contains("within 5 working days"), "{}", m.text("[role=status]"));
    assert!(!m.text("[role=status]").contains("—"));
    let complete: Vec<JsValue> =
        m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(get(&complete[0], "status").as_string().as_deref(), Some("pending_review"));
    assert!(get(&complete[0], "reviewDue").is_null(), "no due date is known");
    set("__rnClient", JsValue::NULL);
}

#[wasm_bindgen_test]
async fn back_from_the_code_step_starts_a_new_session_for_the_corrected_identity() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = mounted(&[("methods", methods(&["sms"]))]).await;
    at_code(&m).await;
    // The person typed a wrong phone number: the server keeps the identity it accepted, so the widget cancels
    // that session and sends the corrected identity to a new one (not to the old one, which would refuse it).
    m.click("Back").await;
    m.expect_step("identity").await;
    m.type_into("#rn-phone", "13900139000").await;
    m.click("Next").await;
    m.expect_step("code").await;
    let paths: Vec<String> = requests().into_iter().map(|r| r.0).collect();
    let tail: Vec<&str> = paths.iter().rev().take(4).rev().map(String::as_str).collect();
    let new_session =
        ["/v1/sessions/ses_test/cancel", "/v1/widget/sessions", "/v1/keys", "/v1/sessions/ses_test/identity"];
    assert_eq!(tail, new_session, "{paths:?}");
    assert!(error_codes(&m).is_empty());
}

#[wasm_bindgen_test]
async fn a_site_session_offers_no_back_from_the_code_step() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = mounted(&[
        ("methods", methods(&["sms"])),
        ("publishableKey", JsValue::UNDEFINED),
        ("sessionId", "ses_test".into()),
        ("clientSecret", "cs_test".into()),
    ])
    .await;
    at_code(&m).await;
    let labels: Vec<String> = {
        let l = m.root().query_selector_all("button").unwrap();
        (0..l.length()).map(|i| l.item(i).unwrap().text_content().unwrap_or_default()).collect()
    };
    assert!(!labels.iter().any(|l| l == "Back"), "a site's session is good for one identity: {labels:?}");
}
