//! After something goes wrong, as a person meets it with the real server: a lost answer at the code step, a wrong
//! code inside the resend cooldown, and a page whose configuration the server refuses.

use realname_e2e::browser::{Browser, Profile};
use realname_e2e::server::{DemoServer, Options};
use realname_e2e::{Result, ensure, wait_for};
use serde_json::json;

use crate::common::{Demo, STEP_TIMEOUT, code_status, to_code_step};

fn error_codes(d: &Demo) -> Result<Vec<String>> {
    Ok(d.events()?.into_iter().filter(|(t, _)| t == "error").map(|(_, text)| text).collect())
}

#[test]
fn a_lost_answer_at_the_code_step_resumes_at_the_code_step() -> Result<()> {
    let d = Demo::signup("recovery-lost-answer", &Profile::desktop(), &Options::default())?;
    let code = to_code_step(&d)?;
    let wrong: String = code.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect();
    // The network drops the server's answer to the next code: the server counted the try, the widget never
    // heard back.
    d.js(
        "const real = window.fetch;
         window.fetch = async (req) => {
           const r = await real(req);
           if (new URL(req.url).pathname.endsWith('/code')) { window.fetch = real; throw new TypeError('connection reset'); }
           return r;
         };
         return 0;",
        vec![],
    )?;
    d.fill("#rn-code", &wrong)?;
    d.wait_step("error")?;
    d.check_step("network-error", false)?;
    d.click_text("", "重试")?;
    // Back at the code step the server is at (not the identity form, whose submit it would refuse with
    // wrong_step), with the try it counted.
    d.wait_step("code")?;
    wait_for(STEP_TIMEOUT, "the tries the server counted", || {
        Ok(code_status(&d)?.contains("还可尝试 4 次").then_some(()))
    })?;
    d.fill("#rn-code", &code)?;
    d.wait_step("verified")?;
    ensure!(
        !error_codes(&d)?.iter().any(|e| e.contains("wrong_step")),
        "wrong_step reached the page: {:?}",
        d.events()?
    );
    Ok(())
}

#[test]
fn a_wrong_code_keeps_the_resend_countdown() -> Result<()> {
    let d = Demo::signup("recovery-countdown", &Profile::desktop(), &Options::default())?;
    let code = to_code_step(&d)?;
    let wrong: String = code.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect();
    d.fill("#rn-code", &wrong)?;
    wait_for(STEP_TIMEOUT, "the wrong-code message", || Ok(code_status(&d)?.contains("验证码不正确").then_some(())))?;
    let resend = d.js(
        "const b = deepQueryAll('section.rn button').find(b => b.textContent.includes('秒后可重新发送'));
         return b ? [b.disabled, b.textContent] : null;",
        vec![],
    )?;
    ensure!(resend[0] == json!(true), "the resend countdown is gone after a wrong code: {resend}");
    d.check_step("wrong-code-countdown", false)?;
    Ok(())
}

#[test]
fn a_disallowed_origin_is_reported_at_mount() -> Result<()> {
    // The demo site allows its pages at 127.0.0.1; the same page opened at localhost is another origin.
    // (`serve --config` with the demo site: `demo` itself would allow localhost too.)
    let server = DemoServer::start(&Options::with_config(""))?;
    let browser = Browser::start(&Profile::desktop())?;
    browser.goto(&server.url("/index.html").replace("127.0.0.1", "localhost"))?;
    let d = Demo::with("recovery-forbidden-origin", server, browser);
    // Before the person does anything: a stable code for the site, a short notice for the person, no way on.
    d.wait_step("error")?;
    let errors = error_codes(&d)?;
    ensure!(errors.iter().any(|e| e.contains("forbidden_origin")), "error events: {errors:?}");
    ensure!(!errors.iter().any(|e| e.contains("network")), "forbidden_origin reported as network: {errors:?}");
    ensure!(d.widget_text()?.contains("本页面的实名认证设置有误"), "{}", d.widget_text()?);
    let buttons = d.js("return deepQueryAll('section.rn button').length;", vec![])?;
    ensure!(buttons == json!(0), "a misconfigured page offers {buttons} buttons");
    d.check_step("misconfigured", false)?;
    Ok(())
}

#[test]
fn a_wrong_publishable_key_is_reported_at_mount() -> Result<()> {
    let d = Demo::signup("recovery-wrong-key", &Profile::desktop(), &Options::default())?;
    d.js(
        "const old = document.querySelector('realname-verify');
         const el = document.createElement('realname-verify');
         for (const a of ['server', 'locale']) if (old.getAttribute(a)) el.setAttribute(a, old.getAttribute(a));
         el.setAttribute('publishable-key', 'pk_wrong');
         window.__wrongKeyErrors = [];
         el.addEventListener('error', (e) => window.__wrongKeyErrors.push(e.detail.code));
         old.replaceWith(el);
         return 0;",
        vec![],
    )?;
    let codes = wait_for(STEP_TIMEOUT, "the error event", || {
        let v = d.js("return window.__wrongKeyErrors;", vec![])?;
        Ok(v.as_array().filter(|a| !a.is_empty()).cloned())
    })?;
    ensure!(codes == vec![json!("unauthorized")], "error events: {codes:?}");
    d.wait_step("error")?;
    ensure!(!d.widget_text()?.contains("选择核验方式"), "methods offered on a page whose key the server refused");
    Ok(())
}
