//! The SMS method from consent to the site's backend accepting the result token, as a person with a mouse,
//! as a keyboard-only person, and on a phone; with the network log and the server log checked for plaintext.

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::webdriver::keys;
use realname_e2e::{Result, ensure, netlog, shots, wait_for};

use crate::common::{Demo, ID_ADULT, NAME, PHONE, PHONE_MASKED, PRIMARY, STEP_TIMEOUT};

/// Waits for the host page to show what its backend said about the token; returns the masked claims shown.
fn backend_accepted(d: &Demo) -> Result<(String, String)> {
    let state = wait_for(STEP_TIMEOUT, "the site's backend verdict", || {
        let v = d.prop("#result-status", "dataset")?;
        Ok(v["state"].as_str().filter(|s| *s == "accepted" || *s == "refused").map(str::to_string))
    })?;
    ensure!(state == "accepted", "the demo backend refused the token: {}", d.prop("#result-status", "textContent")?);
    let name = d.prop("dd[data-claim=masked_name]", "textContent")?.as_str().unwrap_or_default().to_string();
    let number = d.prop("dd[data-claim=masked_number]", "textContent")?.as_str().unwrap_or_default().to_string();
    Ok((name, number))
}

#[test]
fn sms_method_to_the_end_with_screenshots_axe_and_no_plaintext_on_the_wire() -> Result<()> {
    let d = Demo::signup("sms", &Profile::desktop().with_netlog(), &Options::default())?;
    d.check_step("consent", false)?;
    d.consent_and_choose("sms")?;
    d.check_step("identity", false)?;
    d.fill_identity(NAME, ID_ADULT, ("#rn-phone", PHONE))?;
    d.check_step("identity-filled", false)?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    // A visitor reads the code from the demo page's outbox panel, which shows it once the code step is up.
    let code = d.panel_code(PHONE_MASKED)?;
    ensure!(code == d.outbox_code(PHONE_MASKED)?, "the panel shows another code than /dev/outbox");
    d.check_step("code", false)?;
    shots::save_widget(&d.browser, &d.test, "widget-code")?;
    d.fill("#rn-code", &code)?; // the sixth digit submits
    d.wait_step("verified")?;
    d.check_step("verified", false)?;

    // The host page got `complete` with a token, and its backend verified it against the JWKS.
    let events = d.events()?;
    ensure!(events.iter().any(|(t, _)| t == "complete"), "no complete event: {events:?}");
    let (name, number) = backend_accepted(&d)?;
    ensure!(
        name != NAME && name.contains('*') && name.chars().count() == NAME.chars().count(),
        "masked name shown: {name:?}"
    );
    ensure!(
        number.len() == ID_ADULT.len() && number.ends_with("002X") && number.contains('*'),
        "masked number: {number:?}"
    );
    d.check_step("host-result", false)?;

    // Nothing personal left the page in plaintext; the widget did talk to the server (so the check saw bodies).
    let reqs = netlog::requests(&d.browser)?;
    let sealed = reqs.iter().filter(|r| r.method == "POST" && r.url.contains("/v1/sessions/")).count();
    ensure!(sealed >= 2, "expected the identity and code POSTs in the network log, saw {reqs:#?}");
    let unsealed = netlog::unsealed_steps(&reqs);
    ensure!(unsealed.is_empty(), "step bodies that are not sealed envelopes:\n{}", unsealed.join("\n"));
    let leaks = netlog::leaks(&reqs, &[NAME, ID_ADULT, PHONE, &code]);
    ensure!(leaks.is_empty(), "plaintext personal data on the wire:\n{}", leaks.join("\n"));
    // …and none in the server's log either.
    let log = d.server.log_text();
    for secret in [NAME, ID_ADULT, PHONE] {
        ensure!(!log.contains(secret), "the server log contains {secret:?}");
    }
    Ok(())
}

#[test]
fn keyboard_only_sms_flow() -> Result<()> {
    let d = Demo::signup("sms-keyboard", &Profile::desktop(), &Options::default())?;
    let kb = |k: &str| d.browser.keyboard(k);
    d.tab_to("#rn-consent")?;
    kb(keys::SPACE)?;
    d.tab_to(&format!("{PRIMARY}:not([disabled])"))?;
    kb(keys::ENTER)?;
    d.wait_step("method")?;
    d.tab_to("button.rn-method[data-method=sms]")?;
    kb(keys::ENTER)?;
    d.wait_step("identity")?;
    d.tab_to("#rn-name")?;
    kb(NAME)?;
    d.tab_to("#rn-number")?;
    kb(ID_ADULT)?;
    d.tab_to("#rn-phone")?;
    kb(PHONE)?;
    kb(keys::ENTER)?; // submits the form from the last field
    d.wait_step("code")?;
    ensure!(d.focused_is("h2, #rn-code")?, "focus did not move to the code step");
    let code = d.outbox_code(PHONE_MASKED)?;
    d.tab_to("#rn-code")?;
    kb(&code)?; // the sixth digit submits
    d.wait_step("verified")?;
    Ok(())
}

#[test]
fn mobile_sms_flow_fits_375px_with_44px_targets() -> Result<()> {
    let d = Demo::signup("sms-mobile", &Profile::mobile(), &Options::default())?;
    let check = |step: &str| -> Result<()> {
        ensure!(d.horizontal_overflow()? <= 0, "step {step} scrolls sideways at 375 px");
        let small = d.small_targets()?;
        ensure!(small.is_empty(), "step {step}: targets under 44 px: {small:?}");
        d.check_step(step, true)
    };
    check("consent")?;
    d.consent_and_choose("sms")?;
    check("identity")?;
    d.fill_identity(NAME, ID_ADULT, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    check("code")?;
    let code = d.outbox_code(PHONE_MASKED)?;
    d.fill("#rn-code", &code)?; // the sixth digit submits
    d.wait_step("verified")?;
    check("verified")?;
    Ok(())
}
