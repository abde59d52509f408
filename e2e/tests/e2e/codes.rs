//! One-time codes as a person meets them: wrong codes until locked, the resend countdown, an expired code.

use std::time::Duration;

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::{Result, ensure, http, wait_for};
use serde_json::json;

use crate::common::{Demo, PHONE_MASKED, PRIMARY, STEP_TIMEOUT, code_status, outbox_code, to_code_step};

/// A code that is not `code`.
fn wrong(code: &str) -> String {
    code.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect()
}

#[test]
fn five_wrong_codes_lock_and_then_the_right_code_fails() -> Result<()> {
    let d = Demo::signup("codes-locked", &Profile::desktop(), &Options::default())?;
    let code = to_code_step(&d)?;
    let bad = wrong(&code);
    for left in (0..5).rev() {
        d.fill("#rn-code", &bad)?; // the sixth digit submits
        if left > 0 {
            let want = format!("还可尝试 {left} 次");
            wait_for(STEP_TIMEOUT, &want, || Ok(code_status(&d)?.contains(&want).then_some(())))?;
            ensure!(code_status(&d)?.contains("验证码不正确"), "no wrong-code message: {}", code_status(&d)?);
        }
    }
    wait_for(STEP_TIMEOUT, "the locked message", || Ok(d.widget_text()?.contains("本次验证已锁定").then_some(())))?;
    d.check_step("locked", false)?;
    // The right code cannot be used any more: the field no longer takes it, and if it did, it would not verify.
    let input_open = d.prop("#rn-code", "disabled")? == json!(false) && d.prop("#rn-code", "readOnly")? == json!(false);
    if input_open {
        d.fill("#rn-code", &code)?;
        if let Ok(submit) =
            d.browser.wait_element(&format!("{PRIMARY}[type=submit]:not([disabled])"), Duration::from_millis(500))
        {
            d.browser.click(&submit)?;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    ensure!(d.step()?.as_deref() != Some("verified"), "the right code verified after the lock");
    ensure!(d.widget_text()?.contains("本次验证已锁定"), "the lock message went away");
    Ok(())
}

#[test]
fn resend_shows_a_countdown_then_sends_a_new_code_that_replaces_the_old_one() -> Result<()> {
    // A short cooldown and no per-minute limit, so the countdown can be watched to its end.
    let opts = Options::with_config("[codes]\nresend_cooldown_secs = 3\n\n[limits]\nper_destination_minute = 0\n");
    let d = Demo::signup("codes-resend", &Profile::desktop(), &opts)?;
    let first = to_code_step(&d)?;
    let countdown = wait_for(STEP_TIMEOUT, "the resend countdown", || {
        let t = d.widget_text()?;
        Ok(t.split("秒后可重新发送").next().filter(|_| t.contains("秒后可重新发送")).map(|s| s.trim().to_string()))
    })?;
    let secs: u32 = countdown.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap_or("").parse().unwrap_or(0);
    ensure!((1..=3).contains(&secs), "countdown shows {countdown:?}");
    // The resend button is disabled while counting, enabled at the end.
    let button = wait_for(STEP_TIMEOUT, "the resend button to enable", || {
        let v = d.js(
            "return deepQueryAll('section.rn button').filter(b => b.textContent.includes('重新发送验证码')).map(b => b.disabled);",
            vec![],
        )?;
        Ok((v == json!([false])).then_some(()))
    });
    button?;
    d.js(
        "deepQueryAll('section.rn button').find(b => b.textContent.includes('重新发送验证码')).click(); return 0;",
        vec![],
    )?;
    let second = outbox_code(&d.server, PHONE_MASKED, 1)?;
    // The old code no longer works (unless the generator repeated it, one chance in a million).
    if second != first {
        d.fill("#rn-code", &first)?;
        wait_for(STEP_TIMEOUT, "the old code to be refused", || {
            Ok(code_status(&d)?.contains("验证码不正确").then_some(()))
        })?;
    }
    d.fill("#rn-code", &second)?;
    d.wait_step("verified")
}

#[test]
fn an_expired_code_is_refused_with_a_clear_message() -> Result<()> {
    // The demo server's clock moves forward past the code's 5-minute lifetime (`POST /dev/clock`); nothing waits.
    let d = Demo::signup("codes-expired", &Profile::desktop(), &Options::default())?;
    let code = to_code_step(&d)?;
    let moved = http::post_json(&d.server.url("/dev/clock"), &json!({ "advance_secs": 301 }), &[])?;
    ensure!(moved.status == 200, "/dev/clock answered {}: {}", moved.status, moved.body);
    d.fill("#rn-code", &code)?;
    wait_for(STEP_TIMEOUT, "the expired message", || Ok(d.widget_text()?.contains("验证码已过期").then_some(())))?;
    d.check_step("expired", false)?;
    ensure!(d.step()?.as_deref() != Some("verified"), "an expired code verified");
    // Resend is the way on, as the primary action: a new code arrives and verifies.
    let primary = d.prop(PRIMARY, "textContent")?;
    ensure!(
        primary.as_str().is_some_and(|t| t.contains("重新发送验证码")),
        "the primary action after expiry is {primary}"
    );
    d.click(PRIMARY)?;
    let fresh = outbox_code(&d.server, PHONE_MASKED, 1)?;
    d.wait_step("code")?;
    wait_for(STEP_TIMEOUT, "the code field to open again", || {
        Ok((d.prop("#rn-code", "disabled")? == json!(false)).then_some(()))
    })?;
    d.fill("#rn-code", &fresh)?;
    d.wait_step("verified")
}
