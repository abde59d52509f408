//! The identity checks end to end with the demo provider (docs/checks.md), as `cargo xtask demo` runs them: the
//! consent names the check, a name that does not match the number is refused and corrected on the second try, a
//! provider that fails sends the session to a reviewer, and a driving licence verifies by the resident ID number
//! it carries. Screenshots of each screen a person sees.

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::{Result, ensure, err, wait_for};
use serde_json::json;

use crate::common::{Demo, ID_ADULT, NAME, PHONE, PHONE_MASKED, PRIMARY, STEP_TIMEOUT};

/// The demo source fails on this number (`unavailable`); the demo site's policy sends it to a reviewer.
const ID_UNAVAILABLE: &str = "110105197007070058";

/// The text of the refusal on the identity form, once it shows one containing `part`.
fn refusal(d: &Demo, part: &str) -> Result<String> {
    wait_for(STEP_TIMEOUT, &format!("the refusal {part:?}"), || {
        let v = d.js("const r = deepQuery('#rn-refusal'); return r ? r.textContent : null;", vec![])?;
        Ok(v.as_str().filter(|t| t.contains(part)).map(str::to_string))
    })
}

/// The site's backend's verdict on the token, and the claim `key` it shows.
fn claim(d: &Demo, key: &str) -> Result<String> {
    wait_for(STEP_TIMEOUT, "the site's backend verdict", || {
        let v = d.prop("#result-status", "dataset")?;
        Ok((v["state"] == "accepted").then_some(()))
    })?;
    let v = d.prop(&format!("dd[data-claim={key}]"), "textContent")?;
    v.as_str().map(str::to_string).ok_or_else(|| err!("no claim {key} on the page"))
}

/// Enters the code the demo outbox shows and waits for `step`.
fn enter_code(d: &Demo, step: &str) -> Result<()> {
    d.wait_step("code")?;
    let code = d.outbox_code(PHONE_MASKED)?;
    d.fill("#rn-code", &code)?; // the sixth digit submits
    d.wait_step(step)
}

#[test]
fn a_mismatch_is_corrected_on_the_second_try_and_the_match_verifies() -> Result<()> {
    let d = Demo::signup("checks-mismatch", &Profile::desktop(), &Options::default())?;
    // The consent names the check and who makes it (PIPL art. 23) before anything is typed.
    let consent = wait_for(STEP_TIMEOUT, "the check in the consent", || {
        let text = d.widget_text()?;
        Ok(text.contains("与权威身份数据源比对").then_some(text))
    })?;
    ensure!(consent.contains("演示服务"), "the consent does not name the demo provider: {consent}");
    d.check_step("consent-checks", false)?;
    d.consent_and_choose("sms")?;
    d.fill_identity("张三丰", ID_ADULT, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    let said = refusal(&d, "姓名和证件号码与记录不符")?;
    ensure!(said.contains("还可尝试 2 次"), "the tries left are not said: {said}");
    ensure!(d.step()?.as_deref() == Some("identity"), "not back on the form: {:?}", d.step()?);
    let name = d.prop("#rn-name", "value")?;
    ensure!(name == json!("张三丰"), "the form was not kept: {name}");
    d.check_step("identity-mismatch", false)?;
    // Corrected: the name the records hold goes through.
    d.fill("#rn-name", NAME)?;
    d.click(PRIMARY)?;
    enter_code(&d, "verified")?;
    let checks = claim(&d, "checks")?;
    ensure!(checks == "id_match: mismatch (demo), id_match: match (demo)", "the token's checks: {checks}");
    d.check_step("host-result-checks", false)?;
    Ok(())
}

#[test]
fn an_unavailable_provider_sends_the_session_to_a_reviewer() -> Result<()> {
    let d = Demo::signup("checks-unavailable", &Profile::desktop(), &Options::default())?;
    d.consent_and_choose("sms")?;
    d.fill_identity(NAME, ID_UNAVAILABLE, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    // The site's policy is `review`: the flow goes on to the code, then waits for a person.
    enter_code(&d, "in_review")?;
    let text = d.widget_text()?;
    ensure!(text.contains("已提交人工审核") && text.contains("5 个工作日"), "the review notice: {text}");
    d.check_step("in-review-unavailable", false)?;
    let events = d.events()?;
    ensure!(
        events.iter().any(|(t, s)| t == "complete" && s.contains("pending_review")),
        "no pending_review complete event: {events:?}"
    );
    Ok(())
}

#[test]
fn a_driving_licence_verifies_by_the_resident_id_number_it_carries() -> Result<()> {
    let d = Demo::signup("checks-licence", &Profile::desktop(), &Options::default())?;
    d.consent_and_choose("sms")?;
    d.js(
        "const s = deepQuery('#rn-kind'); s.value = 'driving_licence'; s.dispatchEvent(new Event('change'));",
        vec![],
    )?;
    let shown = d.widget_text()?;
    ensure!(shown.contains("机动车驾驶证"), "the kind is not offered: {shown}");
    d.fill_identity(NAME, ID_ADULT, ("#rn-phone", PHONE))?;
    d.check_step("identity-licence", false)?;
    d.click(PRIMARY)?;
    enter_code(&d, "verified")?;
    let kind = claim(&d, "document_kind")?;
    ensure!(kind == "driving_licence", "the token's document kind: {kind}");
    let checks = claim(&d, "checks")?;
    ensure!(checks == "id_match: match (demo)", "the licence's number was not checked: {checks}");
    Ok(())
}
