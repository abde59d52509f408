//! The code field where the browser can read the SMS (WebOTP) and where it cannot.
//!
//! A headless desktop Chromium receives no SMS, so the browser's side of WebOTP is played by a stand-in for
//! `navigator.credentials.get` that records how the widget asked and answers, when the test says so, with the
//! code the server really sent (read from the demo outbox) — the same answer Chrome on Android gives after the
//! person taps "Allow". Everything after that answer is the real widget and the real server.

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::{Result, ensure, wait_for};
use serde_json::{Value, json};

use crate::common::{Demo, ID_ADULT, NAME, PHONE, PHONE_MASKED, PRIMARY, STEP_TIMEOUT};

/// Replaces `navigator.credentials.get` with the stand-in (see the module docs); `otp_api` says whether the
/// page has `OTPCredential` (the feature WebOTP is detected by) or not.
fn install_stand_in(d: &Demo, otp_api: bool) -> Result<()> {
    d.js(
        "const withOtp = arguments[0];
         window.otpCalls = [];
         if (withOtp && !('OTPCredential' in window)) window.OTPCredential = function OTPCredential() {};
         if (!withOtp) delete window.OTPCredential;
         navigator.credentials.get = (options) => new Promise((resolve, reject) => {
           const call = { transport: options && options.otp ? options.otp.transport : null,
                          signal: !!(options && options.signal), aborted: false };
           window.otpCalls.push(call);
           window.otpAnswer = (code) => resolve({ type: 'otp', id: '', code });
           if (options && options.signal) options.signal.addEventListener('abort', () => {
             call.aborted = true;
             reject(new DOMException('The operation was aborted.', 'AbortError'));
           });
         });
         return 'OTPCredential' in window;",
        vec![json!(otp_api)],
    )
    .and_then(|v| {
        ensure!(v == json!(otp_api), "could not set OTPCredential to {otp_api}");
        Ok(())
    })
}

fn otp_calls(d: &Demo) -> Result<Vec<Value>> {
    Ok(d.js("return window.otpCalls || [];", vec![])?.as_array().cloned().unwrap_or_default())
}

/// Consent → SMS → identity submitted; the code step is on screen.
fn to_code_step(d: &Demo, otp_api: bool) -> Result<()> {
    d.consent_and_choose("sms")?;
    install_stand_in(d, otp_api)?;
    d.fill_identity(NAME, ID_ADULT, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    // What every browser and password manager keys on to offer the code from the SMS.
    let attrs = d.js(
        "const i = deepQuery('#rn-code'); return [i.getAttribute('autocomplete'), i.getAttribute('inputmode')];",
        vec![],
    )?;
    ensure!(attrs == json!(["one-time-code", "numeric"]), "the code input has autocomplete/inputmode {attrs}");
    Ok(())
}

#[test]
fn web_otp_code_from_the_browser_fills_the_field_and_verifies() -> Result<()> {
    let d = Demo::signup("webotp", &Profile::mobile(), &Options::default())?;
    to_code_step(&d, true)?;
    let calls = wait_for(STEP_TIMEOUT, "the widget to ask the browser for the SMS code", || {
        let c = otp_calls(&d)?;
        Ok((!c.is_empty()).then_some(c))
    })?;
    ensure!(calls.len() == 1, "the widget asked {} times: {calls:?}", calls.len());
    ensure!(calls[0]["transport"] == json!(["sms"]) && calls[0]["signal"] == true, "asked with {}", calls[0]);
    ensure!(d.prop("#rn-code", "value")? == json!(""), "the field is not empty before the SMS arrives");
    // The SMS "arrives": the browser hands over the code the server sent; nobody types.
    let code = d.outbox_code(PHONE_MASKED)?;
    d.js("window.otpAnswer(arguments[0]); return 0;", vec![json!(code)])?;
    d.wait_step("verified")?;
    d.check_step("webotp-verified", true)?;
    Ok(())
}

#[test]
fn without_web_otp_the_widget_does_not_ask_and_a_typed_code_verifies() -> Result<()> {
    let d = Demo::signup("webotp-absent", &Profile::desktop(), &Options::default())?;
    to_code_step(&d, false)?;
    let code = d.outbox_code(PHONE_MASKED)?;
    d.fill("#rn-code", &code)?; // the sixth digit submits
    d.wait_step("verified")?;
    let calls = otp_calls(&d)?;
    ensure!(calls.is_empty(), "the widget called navigator.credentials.get without OTPCredential: {calls:?}");
    Ok(())
}

#[test]
fn leaving_the_code_step_cancels_the_web_otp_request() -> Result<()> {
    let d = Demo::signup("webotp-back", &Profile::desktop(), &Options::default())?;
    to_code_step(&d, true)?;
    wait_for(STEP_TIMEOUT, "the WebOTP request", || Ok((!otp_calls(&d)?.is_empty()).then_some(())))?;
    d.click_text("", "上一步")?; // Back
    d.wait_step("identity")?;
    wait_for(STEP_TIMEOUT, "the WebOTP request to be aborted", || {
        Ok(otp_calls(&d)?.first().is_some_and(|c| c["aborted"] == true).then_some(()))
    })?;
    Ok(())
}
