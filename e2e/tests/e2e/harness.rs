//! The harness's own checks: its detectors must detect, or the product tests built on them prove nothing.

use std::collections::HashMap;
use std::time::Duration;

use realname_e2e::browser::{Browser, Profile};
use realname_e2e::http::FileServer;
use realname_e2e::{Result, axe, ensure, netlog, shots};
use serde_json::json;

fn page(body: &str) -> (String, Vec<u8>) {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>harness</title></head>\
         <body><main><h1>harness</h1>{body}</main></body></html>"
    );
    ("text/html; charset=utf-8".to_string(), html.into_bytes())
}

fn site(pages: &[(&str, &str)]) -> Result<FileServer> {
    let map: HashMap<String, (String, Vec<u8>)> = pages.iter().map(|(p, b)| (p.to_string(), page(b))).collect();
    FileServer::start(map, None)
}

#[test]
fn axe_reports_violations_inside_shadow_roots_and_none_on_a_clean_page() -> Result<()> {
    let shadow = "<div id=host></div><script>
        const r = document.getElementById('host').attachShadow({ mode: 'open' });
        r.innerHTML = '<input id=n type=text>';
    </script>";
    let clean = "<label for=n>Name</label><input id=n type=text>";
    let srv = site(&[("/shadow", shadow), ("/clean", clean)])?;
    let b = Browser::start(&Profile::desktop())?;

    b.goto(&format!("{}/shadow", srv.base))?;
    let v = axe::violations(&b)?;
    ensure!(v.iter().any(|x| x.id == "label"), "axe missed an unlabelled input in a shadow root: {v:?}");
    ensure!(axe::assert_clean(&b, "shadow").is_err(), "assert_clean passed a page with violations");

    b.goto(&format!("{}/clean", srv.base))?;
    axe::assert_clean(&b, "clean")
}

#[test]
fn network_log_catches_plaintext_personal_data_in_request_bodies() -> Result<()> {
    let send = "<button id=go type=button>send</button><script>
        document.getElementById('go').addEventListener('click', () => {
          fetch('/submit', { method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: '\\u5f20\\u4e09', id: '11010519491231002X' }) });
          fetch('/opaque', { method: 'POST', body: 'kid=1&ct=q83vEjRWeJA' });
          document.title = 'sent';
        });
    </script>";
    let srv = site(&[("/send", send)])?;
    let b = Browser::start(&Profile::desktop().with_netlog())?;
    b.goto(&format!("{}/send", srv.base))?;
    let go = b.wait_element("#go", Duration::from_secs(5))?;
    b.click(&go)?;
    realname_e2e::wait_for(Duration::from_secs(5), "both requests", || {
        Ok(srv
            .received
            .lock()
            .ok()
            .filter(|r| r.iter().filter(|x| x.line.starts_with("POST")).count() == 2)
            .map(|_| ()))
    })?;
    let reqs = netlog::requests(&b)?;
    let posts: Vec<_> = reqs.iter().filter(|r| r.method == "POST").collect();
    ensure!(posts.len() == 2, "expected 2 POSTs in the log, got {reqs:?}");
    // JSON.stringify keeps 张三 as raw UTF-8; the check must also see it when escaped.
    let leaks = netlog::leaks(&reqs, &["张三", "11010519491231002X"]);
    ensure!(leaks.len() == 2, "the leak check missed plaintext: {leaks:?}");
    ensure!(leaks.iter().all(|l| l.contains("/submit")), "the leak check blamed the wrong request: {leaks:?}");
    let escaped = netlog::Request { body: r#"{"name":"\u5F20\u4E09"}"#.into(), ..posts[0].clone() };
    ensure!(
        netlog::leaks(std::slice::from_ref(&escaped), &["张三"]).len() == 1,
        "the leak check missed a \\u-escaped name"
    );
    // The envelope check: only {"envelope": {kid, enc, ct}} passes on the sealed-step endpoints.
    let at = |body: &str| netlog::Request {
        url: "http://x/v1/sessions/ses_1/identity".into(),
        body: body.into(),
        ..escaped.clone()
    };
    let sealed = at(r#"{"envelope":{"kid":"k1","enc":"AAAA","ct":"BBBB"}}"#);
    let plain = at(r#"{"envelope":{"kid":"k1","enc":"AAAA","ct":"BBBB"},"name":"x"}"#);
    ensure!(netlog::unsealed_steps(&[sealed]).is_empty(), "a sealed envelope was flagged");
    ensure!(
        netlog::unsealed_steps(&[plain, at(r#"{"name":"x"}"#)]).len() == 2,
        "plain bodies passed the envelope check"
    );
    Ok(())
}

#[test]
fn mobile_emulation_is_a_375px_touch_phone() -> Result<()> {
    let srv = site(&[("/m", "<p>phone</p>")])?;
    let b = Browser::start(&Profile::mobile())?;
    b.goto(&format!("{}/m", srv.base))?;
    let v = b.execute(
        "return { w: window.innerWidth, h: window.innerHeight, touch: navigator.maxTouchPoints,
                  mobile: /Mobile/.test(navigator.userAgent), coarse: matchMedia('(pointer: coarse)').matches };",
        vec![],
    )?;
    ensure!(v["w"] == json!(375) && v["h"] == json!(667), "viewport is not 375×667: {v}");
    ensure!(v["touch"].as_u64().unwrap_or(0) > 0 && v["coarse"] == true, "no touch: {v}");
    ensure!(v["mobile"] == true, "not a mobile user agent: {v}");
    let png = shots::save(&b, "harness", "01-mobile", "mobile")?;
    let size = std::fs::metadata(&png)?.len();
    ensure!(size > 1000, "screenshot {} is only {size} bytes", png.display());
    Ok(())
}

#[test]
fn camera_profiles_grant_a_fake_camera_or_deny_it() -> Result<()> {
    let srv = site(&[("/cam", "<p>camera</p>")])?;
    let probe = "const done = arguments[0];
        navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user' } })
          .then(s => { const t = s.getVideoTracks(); done({ tracks: t.length, label: t[0] && t[0].label }); t.forEach(x => x.stop()); })
          .catch(e => done({ error: e.name }));";
    for granted in [true, false] {
        let b = Browser::start(&Profile::desktop().with_camera(granted))?;
        // getUserMedia needs a secure context: http://127.0.0.1 is one.
        b.goto(&format!("{}/cam", srv.base))?;
        let v = b.execute_async(probe, vec![])?;
        if granted {
            ensure!(v["tracks"] == json!(1), "the fake camera gave no video track: {v}");
        } else {
            ensure!(v["error"] == json!("NotAllowedError"), "the camera was not denied: {v}");
        }
    }
    Ok(())
}

#[test]
fn a_finished_browser_leaves_no_profile_behind() -> Result<()> {
    use realname_e2e::webdriver::Chromedriver;
    // Each session's profile (~11 MB) lives in the driver's TMPDIR until the driver shuts down cleanly; a driver
    // killed instead left them in /tmp, thousands per day of test runs.
    let profiles = |d: &std::path::Path| -> Result<Vec<String>> {
        Ok(std::fs::read_dir(d)?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.contains("scoped_dir"))
            .collect())
    };
    let mut driver = Chromedriver::start(&realname_e2e::paths::chromedriver()?)?;
    let tmp = driver.tmp().to_path_buf();
    let caps = Profile::desktop().capabilities()?;
    let agent = realname_e2e::http::agent(Duration::from_secs(60));
    agent.post(&format!("{}/session", driver.url)).send_json(json!({ "capabilities": { "alwaysMatch": caps } }))?;
    ensure!(!profiles(&tmp)?.is_empty(), "the browser's profile is not in the driver's folder {}", tmp.display());
    driver.shutdown();
    let left = profiles(&tmp)?;
    ensure!(left.is_empty(), "profiles left after the driver shut down: {left:?}");
    drop(driver);
    ensure!(!tmp.exists(), "the driver's folder {} was not removed", tmp.display());
    Ok(())
}
