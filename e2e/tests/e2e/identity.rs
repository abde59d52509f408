//! What the browser stops before anything is sent: unchecked consent, invalid ID numbers (with the message a
//! person can act on), and a child's birth date, which needs a guardian's consent first.

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::webdriver::keys;
use realname_e2e::{Result, ensure, shots, wait_for};
use serde_json::json;

use crate::common::{Demo, ID_ADULT, ID_CHILD, NAME, PHONE, PRIMARY, STEP_TIMEOUT};

#[test]
fn unchecked_consent_blocks_the_flow() -> Result<()> {
    let d = Demo::signup("consent", &Profile::desktop(), &Options::default())?;
    ensure!(d.prop("#rn-consent", "checked")? == json!(false), "consent is pre-checked");
    ensure!(d.prop(PRIMARY, "disabled")? == json!(true), "agree is enabled without consent");
    // A click on the disabled button and Enter on the page change nothing.
    let _ = d.click(PRIMARY);
    d.browser.keyboard(keys::ENTER)?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    ensure!(d.step()?.as_deref() == Some("consent"), "the flow moved on without consent: {:?}", d.step()?);
    d.click("#rn-consent")?;
    ensure!(d.prop(PRIMARY, "disabled")? == json!(false), "agree stays disabled after consenting");
    d.click("#rn-consent")?;
    ensure!(d.prop(PRIMARY, "disabled")? == json!(true), "unticking consent did not disable agree again");
    Ok(())
}

/// (number typed, message the person must see) — zh-CN, the default language.
const INVALID: &[(&str, &str)] = &[
    ("110105194912310021", "第 18 位应为 X，请核对号码是否抄错"),
    ("110105190002290017", "出生日期 1900-02-29 不存在，请核对第 7–14 位"),
    ("990105199003070010", "前两位 99 不是有效的省级代码，请核对号码"),
    ("1101051949", "应为 18 位，现在是 10 位"),
];

#[test]
fn invalid_id_numbers_are_stopped_in_the_browser_with_the_right_message() -> Result<()> {
    let d = Demo::signup("invalid-id", &Profile::desktop(), &Options::default())?;
    d.consent_and_choose("sms")?;
    d.fill("#rn-name", NAME)?;
    d.fill("#rn-phone", PHONE)?;
    for (i, (number, message)) in INVALID.iter().enumerate() {
        d.fill("#rn-number", number)?;
        d.browser.keyboard(keys::TAB)?; // blur, as a person leaving the field
        let shown = wait_for(STEP_TIMEOUT, &format!("the message for {number}"), || {
            let v = d.js(
                "const i = deepQuery('#rn-number'); const ids = (i.getAttribute('aria-describedby') || '').split(' ');
                 const root = i.getRootNode();
                 const described = ids.map(id => root.getElementById(id)).filter(Boolean).map(e => e.textContent).join(' | ');
                 return { invalid: i.getAttribute('aria-invalid'), described };",
                vec![],
            )?;
            Ok(v["described"].as_str().filter(|t| t.contains(message)).map(|_| v.clone()))
        })?;
        ensure!(shown["invalid"] == "true", "{number}: the field is not marked aria-invalid: {shown}");
        ensure!(d.prop(PRIMARY, "disabled")? == json!(true), "{number}: submit is enabled for an invalid number");
        if i == 0 {
            d.check_step("identity-invalid", false)?;
            shots::save_widget(&d.browser, &d.test, "widget-identity-invalid")?;
        }
    }
    // The same form with a valid number can be submitted: the button is not simply always disabled.
    d.fill("#rn-number", ID_ADULT)?;
    wait_for(
        STEP_TIMEOUT,
        "submit to be enabled",
        || Ok((d.prop(PRIMARY, "disabled")? == json!(false)).then_some(())),
    )?;
    ensure!(d.step()?.as_deref() == Some("identity"), "the flow left the identity step");
    Ok(())
}

#[test]
fn under_14_birth_date_asks_for_guardian_consent() -> Result<()> {
    let d = Demo::signup("guardian", &Profile::desktop(), &Options::default())?;
    d.consent_and_choose("sms")?;
    d.fill_identity(NAME, ID_CHILD, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("guardian_consent")?;
    let text = d.widget_text()?;
    ensure!(text.contains("需要监护人同意"), "guardian step without its heading: {text}");
    ensure!(d.prop(PRIMARY, "disabled")? == json!(true), "guardian agree enabled before the guardian ticks");
    d.check_step("guardian", false)?;
    d.click("#rn-guardian")?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    Ok(())
}

#[test]
fn an_adult_is_not_asked_for_guardian_consent() -> Result<()> {
    // Born 2012-01-01: 14 already, so straight to the code.
    let d = Demo::signup("no-guardian", &Profile::desktop(), &Options::default())?;
    d.consent_and_choose("sms")?;
    d.fill_identity(NAME, "110105201201010015", ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("code")
}
