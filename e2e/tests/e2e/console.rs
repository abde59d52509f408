//! The review console (`/console/`) in the browser: a person's face submission reaches the queue, a reviewer
//! created with `realname-server reviewer add` logs in, opens the case (decrypted data and photos, an audit
//! entry), approves it, and the site's status API answers `verified`; a complaint filed through the API is
//! answered and closed in the console, and the person sees that with the ticket's secret. A child's case shows
//! the guardian's consent the widget sent.

use std::process::Command;
use std::time::Duration;

use realname_e2e::browser::Profile;
use realname_e2e::server::{DemoServer, Options};
use realname_e2e::webdriver::keys;
use realname_e2e::{Result, axe, ensure, err, http, paths, shots, wait_for};
use serde_json::{Value, json};

use crate::common::{Demo, ID_ADULT, ID_CHILD, NAME, PHONE, PHONE_MASKED, PRIMARY, STEP_TIMEOUT};

const USER: &str = "rita";
const PASSWORD: &str = "correct horse battery staple";

/// The demo site's secret API key, as `realname-server demo` prints it once at start.
fn demo_secret(server: &DemoServer) -> Result<String> {
    let log = server.log_text();
    log.split_whitespace()
        .find(|w| w.starts_with("sk_demo_"))
        .map(str::to_string)
        .ok_or_else(|| err!("the demo server did not print its secret API key:\n{log}"))
}

/// Runs the server binary's operator command `args` against the demo server's database.
fn operator(server: &DemoServer, args: &[&str]) -> Result<String> {
    let out = Command::new(paths::server_bin()?)
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", server.data.join("realname.db").display()))
        // The server's keys (the audit chain key, the checkpoint signer) and checkpoints, where demo mode keeps them.
        .env("REALNAME__KEYS__DIR", server.data.join("keys"))
        .env("REALNAME__AUDIT__CHECKPOINT_DIR", server.data.join("audit"))
        .env("REALNAME_REVIEWER_PASSWORD", PASSWORD)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(out.status.success(), "realname-server {args:?} failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    Ok(text)
}

/// `GET url` with `Authorization: Bearer <bearer>`, as the site's backend or the person calls it.
fn get_bearer(url: &str, bearer: &str) -> Result<Value> {
    let mut r =
        http::agent(Duration::from_secs(30)).get(url).header("authorization", &format!("Bearer {bearer}")).call()?;
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string()?;
    ensure!(status == 200, "GET {url} answered {status}: {body}");
    Ok(serde_json::from_str(&body)?)
}

/// The person's side: the documents method with the fake camera, up to "in review".
fn submit_documents(d: &Demo) -> Result<()> {
    let (selfie, document) = ("fieldset[part=capture]:nth-of-type(1)", "fieldset[part=capture]:nth-of-type(2)");
    d.consent_and_choose("documents")?;
    d.fill("#rn-name", NAME)?;
    d.fill("#rn-number", ID_ADULT)?;
    d.click(PRIMARY)?;
    d.wait_step("documents")?;
    d.click("#rn-face-consent")?;
    for slot in [selfie, document] {
        d.click_text(slot, "打开摄像头")?;
        d.wait_camera_preview(slot)?;
        d.click_text(slot, "拍照")?;
        d.el(&format!("{slot} img"))?;
    }
    d.click_text("", "提交审核")?;
    d.wait_step("in_review")
}

/// The console's visible text of the element with this id.
fn text_of(d: &Demo, id: &str) -> Result<String> {
    let v = d.js("const e = document.getElementById(arguments[0]); return e ? e.innerText : null;", vec![json!(id)])?;
    v.as_str().map(str::to_string).ok_or_else(|| err!("no #{id} in the console"))
}

/// Waits until `#id` is shown (not `hidden`) and returns its text.
fn wait_shown(d: &Demo, id: &str) -> Result<String> {
    wait_for(STEP_TIMEOUT, &format!("#{id} to show"), || {
        let v = d.js(
            "const e = document.getElementById(arguments[0]); return e && !e.hidden && e.offsetParent !== null ? e.innerText : null;",
            vec![json!(id)],
        )?;
        Ok(v.as_str().map(str::to_string))
    })
}

/// The console's `dl` as (term, value) pairs.
fn definitions(d: &Demo, id: &str) -> Result<Vec<(String, String)>> {
    let v = d.js(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' dt')).map(t => [t.innerText, t.nextElementSibling.innerText]);",
        vec![json!(id)],
    )?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| (p[0].as_str().unwrap_or("").to_string(), p[1].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default())
}

fn value_of(pairs: &[(String, String)], term: &str) -> Result<String> {
    pairs.iter().find(|(k, _)| k.contains(term)).map(|(_, v)| v.clone()).ok_or_else(|| err!("no `{term}` in {pairs:?}"))
}

/// A screenshot of the console and axe-core on it (light scheme; the console has no dark theme).
fn look(d: &Demo, n: &str, what: &str) -> Result<()> {
    axe::assert_clean(&d.browser, &format!("console {what}"))?;
    shots::save(&d.browser, &d.test, &format!("{n}-{what}"), "light").map(|_| ())
}

/// Opens the console and logs in as the reviewer created by [`operator`].
fn log_in(d: &Demo) -> Result<()> {
    d.browser.goto(&d.server.url("/console/"))?;
    wait_shown(d, "login-view")?;
    d.fill("#username", USER)?;
    d.fill("#password", PASSWORD)?;
    d.click("#login-submit")?;
    wait_shown(d, "who").map(|_| ())
}

#[test]
fn console_shows_a_childs_guardian_consent_and_a_rejection_reaches_the_site() -> Result<()> {
    let d = Demo::signup("console-child", &Profile::desktop(), &Options::default())?;
    let secret = demo_secret(&d.server)?;
    operator(&d.server, &["reviewer", "add", "--username", USER, "--role", "reviewer"])?;
    // A child under 14: the guardian consents in the widget, the phone is proved, then a reviewer decides.
    d.consent_and_choose("sms")?;
    d.fill_identity(NAME, ID_CHILD, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("guardian_consent")?;
    d.click("#rn-guardian")?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    let code = d.outbox_code(PHONE_MASKED)?;
    d.fill("#rn-code", &code)?;
    d.wait_step("in_review")?;

    log_in(&d)?;
    wait_for(STEP_TIMEOUT, "the case in the queue", || d.browser.query("#queue tbody tr"))?;
    ensure!(text_of(&d, "queue")?.contains("Under 14"), "the queue does not say why: {}", text_of(&d, "queue")?);
    d.click("#queue tbody tr")?;
    wait_shown(&d, "case-view")?;
    let data = definitions(&d, "case-data")?;
    ensure!(value_of(&data, "Number")? == ID_CHILD, "{data:?}");
    let guardian = value_of(&data, "Guardian consent")?;
    ensure!(
        guardian.contains("version") && guardian.contains("audit #") && !guardian.contains("None on record"),
        "the case view does not show the guardian's consent: {guardian:?}"
    );
    ensure!(d.browser.query("#case-images img")?.is_none(), "an SMS case has no photos to show");
    ensure!(
        d.js("return document.getElementById('case-erase').hidden;", vec![])? == json!(true),
        "a reviewer is offered erasure"
    );
    look(&d, "01", "child-case")?;

    let session = value_of(&data, "Session")?;
    d.click("#decision-reject")?;
    d.js("const s = document.getElementById('reason-code'); s.value = 'minor_not_permitted'; return 0;", vec![])?;
    d.click("#decision-submit")?;
    wait_for(STEP_TIMEOUT, "the decision to be recorded", || {
        Ok(text_of(&d, "status")?.contains("Decision recorded").then_some(()))
    })?;
    let result = get_bearer(&d.server.url(&format!("/v1/sessions/{session}")), &secret)?;
    ensure!(result["status"] == "rejected", "the site's status API does not show the rejection: {result}");
    Ok(())
}

#[test]
fn console_reviewer_decides_a_case_and_answers_a_complaint() -> Result<()> {
    let d = Demo::open(
        "console",
        &Profile::desktop().with_camera(true),
        &Options::default(),
        "/index.html?methods=sms,email,documents",
    )?;
    d.wait_step("consent")?;
    let secret = demo_secret(&d.server)?;
    let created = operator(&d.server, &["reviewer", "add", "--username", USER, "--role", "admin"])?;
    ensure!(created.contains(USER), "reviewer add printed {created}");
    submit_documents(&d)?;

    // Log in. A wrong password is refused with a message and no session.
    d.browser.goto(&d.server.url("/console/"))?;
    wait_shown(&d, "login-view")?;
    look(&d, "01", "login")?;
    d.fill("#username", USER)?;
    d.fill("#password", "not the password")?;
    d.click("#login-submit")?;
    wait_for(STEP_TIMEOUT, "the login error", || Ok(Some(text_of(&d, "login-error")?).filter(|t| !t.is_empty())))?;
    ensure!(
        d.js("return document.getElementById('app-view').hidden;", vec![])? == json!(true),
        "a wrong password opened the console"
    );
    d.fill("#password", PASSWORD)?;
    d.click("#login-submit")?;
    let who = wait_shown(&d, "who")?;
    ensure!(who.contains(USER) && who.contains("admin"), "the header does not name the reviewer: {who}");

    // The queue lists the submission, with a due date; opening it shows the unmasked data and both photos.
    wait_for(STEP_TIMEOUT, "the case in the queue", || d.browser.query("#queue tbody tr"))?;
    let queue = text_of(&d, "queue")?;
    ensure!(queue.contains("Documents") && queue.contains("demo"), "the queue row lacks reason or site: {queue}");
    look(&d, "02", "queue")?;
    // By keyboard: Tab to the case's button, Enter opens it and focus moves to the case.
    d.tab_to("#queue tbody button")?;
    d.browser.keyboard(keys::ENTER)?;
    wait_shown(&d, "case-view")?;
    ensure!(d.focused_is("#case-heading")?, "focus did not move to the opened case");
    let data = definitions(&d, "case-data")?;
    ensure!(value_of(&data, "Name")? == NAME, "the case view does not show the name unmasked: {data:?}");
    ensure!(value_of(&data, "Number")? == ID_ADULT, "the case view does not show the ID number unmasked: {data:?}");
    let session = value_of(&data, "Session")?;
    ensure!(session.starts_with("ses_"), "no session id in the case view: {data:?}");
    let photos = d.js(
        "return Array.from(document.querySelectorAll('#case-images img')).map(i => [i.alt, i.naturalWidth]);",
        vec![],
    )?;
    let photos = photos.as_array().cloned().unwrap_or_default();
    ensure!(
        photos.len() == 2 && photos.iter().all(|p| p[1].as_u64().unwrap_or(0) > 0),
        "the photos do not show: {photos:?}"
    );
    look(&d, "03", "case")?;

    // The view is in the audit log: who, which case, which fields — and no personal data.
    let audit = operator(&d.server, &["audit", "export", "--from", "2000-01-01", "--to", "2099-12-31"])?;
    let viewed: Vec<&str> = audit.lines().filter(|l| l.contains("review.case.viewed")).collect();
    ensure!(viewed.len() == 1, "expected one review.case.viewed entry, the export has:\n{audit}");
    ensure!(
        viewed[0].contains("reviewer:") && viewed[0].contains(&session),
        "the view entry names no reviewer or session: {}",
        viewed[0]
    );
    ensure!(
        viewed[0].contains("id_number") && viewed[0].contains("face"),
        "the view entry lists no fields: {}",
        viewed[0]
    );
    ensure!(!audit.contains(NAME) && !audit.contains(ID_ADULT), "personal data in the audit log:\n{audit}");

    // Before the decision the site sees `pending_review`; approving with a reason code makes it `verified`.
    let url = d.server.url(&format!("/v1/sessions/{session}"));
    ensure!(get_bearer(&url, &secret)?["status"] == "pending_review", "not pending before the decision");
    d.click("#decision-approve")?;
    let reasons =
        d.js("return Array.from(document.querySelectorAll('#reason-code option')).map(o => o.value);", vec![])?;
    ensure!(reasons.to_string().contains("documents_match"), "no approval reason codes: {reasons}");
    d.js("const s = document.getElementById('reason-code'); s.value = 'documents_match'; s.dispatchEvent(new Event('change')); return 0;", vec![])?;
    d.click("#decision-submit")?;
    wait_for(STEP_TIMEOUT, "the decision to be recorded", || {
        Ok(text_of(&d, "status")?.contains("Decision recorded").then_some(()))
    })?;
    // The console says so before it reloads the queue: wait for the reload.
    wait_for(STEP_TIMEOUT, "the decided case to leave the queue", || {
        Ok(d.browser.query("#queue tbody tr")?.is_none().then_some(()))
    })?;
    look(&d, "04", "decided")?;
    let result = get_bearer(&url, &secret)?;
    ensure!(result["status"] == "verified", "the site's status API does not show the approval: {result}");
    let audit = operator(&d.server, &["audit", "export", "--from", "2000-01-01", "--to", "2099-12-31"])?;
    ensure!(
        audit.lines().any(|l| l.contains("review.case.approved") && l.contains("documents_match")),
        "no approval with its reason code in the audit log:\n{audit}"
    );

    // A complaint about the verification, filed through the API (as the widget's failure screen links to).
    let filed = http::post_json(
        &d.server.url("/v1/complaints"),
        &json!({ "session_id": session, "category": "data_error", "message": "我的证件照片拍得不清楚，请重新审核。" }),
        &[],
    )?;
    ensure!(filed.status == 201, "filing the complaint answered {}: {}", filed.status, filed.body);
    let filed = filed.json()?;
    let (ticket, ticket_secret) =
        (filed["ticket"].as_str().unwrap_or_default(), filed["secret"].as_str().unwrap_or_default());
    ensure!(!ticket.is_empty() && !ticket_secret.is_empty(), "no ticket or secret: {filed}");
    let status_url = d.server.url(&format!("/v1/complaints/{ticket}"));
    ensure!(get_bearer(&status_url, ticket_secret)?["status"] == "open", "a new complaint is not open");

    // The reviewer sees it (after a reload of the list), reads it, answers and closes it.
    d.browser.goto(&d.server.url("/console/"))?;
    wait_shown(&d, "who")?;
    d.click("#tab-complaints")?;
    wait_for(STEP_TIMEOUT, "the complaint in the list", || {
        Ok(text_of(&d, "complaints").ok().filter(|t| t.contains(ticket)).map(|_| ()))
    })?;
    look(&d, "05", "complaints")?;
    d.click("#complaints tbody tr")?;
    wait_shown(&d, "complaint-view")?;
    let c = definitions(&d, "complaint-data")?;
    ensure!(value_of(&c, "Message")?.contains("证件照片"), "the complaint view does not show the message: {c:?}");
    let answer = "已重新审核，您的认证已通过。Re-checked: your verification has passed.";
    d.fill("#answer-text", answer)?;
    d.click("#answer-submit")?;
    wait_for(STEP_TIMEOUT, "the answer in the complaint view", || {
        Ok(definitions(&d, "complaint-data")
            .ok()
            .filter(|c| value_of(c, "Answer").is_ok_and(|a| a == answer))
            .map(|_| ()))
    })?;
    look(&d, "06", "answered")?;
    let seen = get_bearer(&status_url, ticket_secret)?;
    ensure!(seen["status"] == "answered" && seen["answer"] == answer, "the person does not see the answer: {seen}");

    // The person asks for deletion (PIPL art. 47): an admin erases from the complaint, after confirming.
    ensure!(
        d.js("return document.getElementById('complaint-erase').hidden;", vec![])? == json!(false),
        "no erase form for an admin"
    );
    d.click("#complaint-erase-submit")?;
    ensure!(!text_of(&d, "status")?.contains("Erased"), "erased without the confirmation");
    d.click("#complaint-erase-confirm")?;
    d.click("#complaint-erase-submit")?;
    wait_for(STEP_TIMEOUT, "the erasure", || Ok(text_of(&d, "status")?.contains("Erased").then_some(())))?;
    // The console says "Erased" before it reloads the complaint view: wait for the view, not the status line.
    wait_for(STEP_TIMEOUT, "the complaint view without its text", || {
        let c = definitions(&d, "complaint-data")?;
        Ok(value_of(&c, "Message")?.contains("erased").then_some(()))
    })
    .map_err(|e| err!("the complaint text is still shown: {e}"))?;
    ensure!(
        d.js("return document.getElementById('complaint-erase').hidden;", vec![])? == json!(true),
        "erasure offered again"
    );
    look(&d, "07", "erased")?;
    let result = get_bearer(&url, &secret)?;
    ensure!(
        result.get("masked_name").is_none() && result.get("masked_number").is_none(),
        "identity data left after erasure: {result}"
    );
    let audit = operator(&d.server, &["audit", "export", "--from", "2000-01-01", "--to", "2099-12-31"])?;
    ensure!(
        audit.lines().any(|l| l.contains("erasure.completed") && l.contains("reviewer:") && l.contains(&session)),
        "no erasure entry by the admin in the audit log:\n{audit}"
    );

    d.click("#close-complaint")?;
    wait_for(STEP_TIMEOUT, "the complaint to close", || Ok(text_of(&d, "status")?.contains("Closed").then_some(())))?;
    ensure!(!text_of(&d, "complaints")?.contains(ticket), "a closed complaint is still listed as open");
    look(&d, "08", "closed")?;
    let seen = get_bearer(&status_url, ticket_secret)?;
    ensure!(
        seen["status"] == "closed" && seen["closed_at"].is_i64(),
        "the person does not see the complaint closed: {seen}"
    );
    // The secret is the only way in: a wrong one learns nothing.
    let mut wrong =
        http::agent(Duration::from_secs(30)).get(&status_url).header("authorization", "Bearer wrong-secret").call()?;
    ensure!(
        wrong.status().as_u16() >= 400,
        "a wrong secret read the complaint: {}",
        wrong.body_mut().read_to_string()?
    );

    // Logging out ends the console session: the old token no longer works.
    let token = d.js("return sessionStorage.getItem('realname.console.token');", vec![])?;
    let token = token.as_str().ok_or_else(|| err!("no console token in sessionStorage"))?.to_string();
    d.click("#logout")?;
    wait_shown(&d, "login-view")?;
    let mut me = http::agent(Duration::from_secs(30))
        .get(&d.server.url("/console/api/me"))
        .header("authorization", &format!("Bearer {token}"))
        .call()?;
    ensure!(me.status().as_u16() == 401, "the token still works after logout: {}", me.body_mut().read_to_string()?);
    let errors = d.browser.console_errors()?;
    // The refused login and the logout's 401s are logged as failed loads; anything else is a script error.
    let script_errors: Vec<&String> = errors.iter().filter(|e| !e.contains("Failed to load resource")).collect();
    ensure!(script_errors.is_empty(), "the console logged errors: {script_errors:?}");
    Ok(())
}
