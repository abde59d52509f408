//! The documents method (selfie + document photo): the fake camera to "in review" with the due date, and the upload
//! fallback when the camera is denied; a page still naming it `face` (the deprecated name) gets it too.

use std::time::Duration;

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::{Result, ensure, netlog, paths, wait_for};
use serde_json::json;

use crate::common::{Demo, ID_ADULT, NAME, PRIMARY, STEP_TIMEOUT};

const SELFIE: &str = "fieldset[part=capture]:nth-of-type(1)";
const DOCUMENT: &str = "fieldset[part=capture]:nth-of-type(2)";

fn documents_site() -> Options {
    Options { site_methods: Some(r#"["sms", "email", "documents"]"#.into()), ..Options::with_config("") }
}

/// The sign-up page offering documents (opt-in, `methods` as the page's query names them) on a server whose demo
/// site enables documents.
fn documents_demo(test: &str, profile: &Profile, methods: &str) -> Result<Demo> {
    let d = Demo::open(test, profile, &documents_site(), &format!("/index.html?methods={methods}"))?;
    d.wait_step("consent")?;
    Ok(d)
}

fn to_documents_step(d: &Demo) -> Result<()> {
    d.consent_and_choose("documents")?;
    d.fill("#rn-name", NAME)?;
    d.fill("#rn-number", ID_ADULT)?;
    d.click(PRIMARY)?;
    d.wait_step("documents")?;
    // The page's event log: the `step` event names the step and the method `documents`.
    let last = d.js(
        "const l = document.querySelectorAll('#events li[data-event=step]'); return l.length ? l[l.length - 1].textContent : '';",
        vec![],
    )?;
    let last = last.as_str().unwrap_or_default();
    ensure!(last.contains(r#"step="documents""#) && last.contains(r#"method="documents""#), "last step event: {last}");
    ensure!(d.prop(SELFIE, "disabled")? == json!(true), "photos can be taken before the face consent");
    d.click("#rn-face-consent")
}

/// Waits for the in-review result and returns the due date it shows (`YYYY-MM-DD`).
fn in_review_due(d: &Demo) -> Result<String> {
    d.wait_step("in_review")?;
    let text = d.widget_text()?;
    let due = text
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .find(|w| w.len() == 10 && w.as_bytes()[4] == b'-' && w.as_bytes()[7] == b'-')
        .map(str::to_string);
    due.ok_or_else(|| realname_e2e::err!("no due date (YYYY-MM-DD) in the in-review result: {text}"))
}

#[test]
fn documents_method_with_the_fake_camera_reaches_in_review_with_the_due_date() -> Result<()> {
    let profile = Profile::desktop().with_camera(true).with_netlog();
    let d = documents_demo("documents-camera", &profile, "sms,email,documents")?;
    to_documents_step(&d)?;
    for slot in [SELFIE, DOCUMENT] {
        d.click_text(slot, "打开摄像头")?;
        // Chromium's fake camera streams frames into the video element.
        d.wait_camera_preview(slot)?;
        d.check_step("documents-camera", false)?;
        d.click_text(slot, "拍照")?;
        d.el(&format!("{slot} img"))?;
    }
    d.check_step("documents-taken", false)?;
    d.click_text("", "提交审核")?;
    let due = in_review_due(&d)?;
    ensure!(due.as_str() > "2026-01-01", "implausible due date {due}");
    d.check_step("in-review", false)?;
    let reqs = netlog::requests(&d.browser)?;
    ensure!(netlog::unsealed_steps(&reqs).is_empty(), "unsealed step bodies: {:?}", netlog::unsealed_steps(&reqs));
    let leaks = netlog::leaks(&reqs, &[NAME, ID_ADULT]);
    ensure!(leaks.is_empty(), "plaintext personal data on the wire:\n{}", leaks.join("\n"));
    Ok(())
}

#[test]
fn documents_method_falls_back_to_upload_when_the_camera_is_denied_and_face_still_names_it() -> Result<()> {
    // `face`, the deprecated name of the method in the `methods` option, still offers it.
    let d = documents_demo("documents-upload", &Profile::desktop().with_camera(false), "sms,email,face")?;
    to_documents_step(&d)?;
    // Any decodable picture will do: a screenshot of this very page.
    let dir = paths::temp_dir("documents-upload")?;
    let photo = dir.0.join("photo.png");
    std::fs::write(&photo, d.browser.screenshot()?)?;
    for (slot, facing) in [(SELFIE, "user"), (DOCUMENT, "environment")] {
        d.click_text(slot, "打开摄像头")?;
        wait_for(STEP_TIMEOUT, "the no-camera message", || {
            Ok(d.widget_text()?.contains("无法使用摄像头").then_some(()))
        })?;
        d.check_step("documents-denied", false)?;
        let input = d.el(&format!("input#rn-file-{facing}"))?;
        d.browser.send_keys(&input, &photo.display().to_string())?;
        d.browser.wait_element(&format!("{slot} img"), Duration::from_secs(20))?;
        // The upload worked, so the slot no longer says the camera is unavailable.
        let text = d.prop(slot, "textContent")?;
        ensure!(!text.as_str().unwrap_or_default().contains("无法使用摄像头"), "{slot} after its upload: {text}");
    }
    d.check_step("documents-uploaded", false)?;
    d.click_text("", "提交审核")?;
    in_review_due(&d)?;
    Ok(())
}
