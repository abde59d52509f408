//! The demo pages in `www/` as a newcomer meets them.

use std::time::Duration;

use realname_e2e::browser::{Browser, Profile};
use realname_e2e::server::{DemoServer, Options};
use realname_e2e::{Result, axe, ensure, http, paths, shots, wait_for};
use serde_json::json;

/// The demo server as `cargo xtask demo` runs it, serving `www/` with the built `www/pkg`.
fn demo() -> Result<DemoServer> {
    paths::widget_pkg()?;
    DemoServer::start(&Options::default())
}

#[test]
fn demo_server_serves_the_pages_the_outbox_and_a_backend_that_refuses_forged_tokens() -> Result<()> {
    for opts in [Options::default(), Options::with_config("[codes]\nttl_secs = 120\n")] {
        let srv = DemoServer::start(&opts)?;
        for page in ["/", "/index.html", "/webview.html", "/demo/signup.js", "/pkg/realname.js"] {
            let r = http::get(&srv.url(page))?;
            ensure!(r.status == 200, "GET {page} answered {}", r.status);
        }
        let outbox = http::get(&srv.url("/dev/outbox"))?.json()?;
        ensure!(outbox["messages"] == json!([]), "a fresh demo has messages: {outbox}");
        // A token signed by someone else (here: nobody) must not pass the site's backend check.
        let forged = "eyJhbGciOiJFZERTQSIsImtpZCI6InJ0LTEifQ.eyJzdGF0dXMiOiJ2ZXJpZmllZCJ9.AAAA";
        let r = http::post_json(&srv.url("/demo/verify-token"), &json!({ "token": forged }), &[])?;
        ensure!(
            r.status == 400 && r.json()?["error"]["code"] == "bad_request",
            "forged token: {} {}",
            r.status,
            r.body
        );
    }
    Ok(())
}

#[test]
fn signup_page_loads_the_shipped_widget_package_under_its_csp_and_is_accessible_in_both_themes() -> Result<()> {
    let srv = demo()?;
    let b = Browser::start(&Profile::desktop())?;
    b.goto(&srv.url("/index.html"))?;
    // The page's CSP allows scripts from itself and wasm compilation only: the package must load under it.
    let v = b.execute_async(
        "const done = arguments[0];
         import('/pkg/realname.js').then(m => m.default().then(() => done({ version: m.version() })))
           .catch(e => done({ error: String(e) }));",
        vec![],
    )?;
    ensure!(v["version"] == json!(env!("CARGO_PKG_VERSION")), "widget package did not load under the CSP: {v}");
    // The page loads the widget under content-hashed names, cached for a year as immutable; the page itself is
    // revalidated (docs/embedding.md, "Hosting the files yourself").
    let cache = b.execute_async(
        "const done = arguments[0];
         const js = document.querySelector('link[rel=modulepreload]').href;
         const wasm = document.querySelector('link[rel=preload][as=fetch]').href;
         const cc = (u) => fetch(u).then(r => r.headers.get('cache-control'));
         Promise.all([cc(js), cc(wasm), cc(location.href)]).then(([j, w, p]) => done({ js, wasm, j, w, p }));",
        vec![],
    )?;
    let hashed = |k: &str, re: &str| {
        cache[k].as_str().is_some_and(|u| {
            u.rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with(re) && f.split('.').nth(1).is_some_and(|h| h.len() == 16))
        })
    };
    ensure!(hashed("js", "realname.") && hashed("wasm", "realname_bg."), "the page names the stable files: {cache}");
    for k in ["j", "w"] {
        ensure!(cache[k] == "public, max-age=31536000, immutable", "hashed file not immutable: {cache}");
    }
    ensure!(cache["p"] == "no-cache", "the page itself: {cache}");
    // The shipped validation module (www/pkg/validate/, the package's `./validate` export) answers as its own
    // browser tests expect.
    let checks = b.execute_async(
        "const done = arguments[0];
         import('/pkg/validate/index.js').then(m => m.default().then(() => done({
           ok: m.validateId('11010519491231002x', null),
           bad: m.validateId('110105194912310021', null),
           child: m.validateId('110105201506150035', { today: '2026-01-01' }),
           fast: [m.isValidId('11010519491231002X'), m.isValidId('110105194912310021')] })))
           .catch(e => done({ error: String(e) }));",
        vec![],
    )?;
    ensure!(
        checks["ok"]["valid"] == true && checks["ok"]["normalized"] == "11010519491231002X",
        "validateId: {checks}"
    );
    let bad = &checks["bad"]["errors"][0];
    ensure!(
        checks["bad"]["valid"] == false && bad["code"] == "invalid_check_char" && bad["expected"] == "X",
        "validateId of a wrong check character: {checks}"
    );
    ensure!(checks["child"]["under_14"] == true, "validateId missed a child under 14: {checks}");
    ensure!(checks["fast"] == json!([true, false]), "isValidId: {checks}");
    for theme in ["light", "dark"] {
        b.execute(
            "const s = document.getElementById('theme'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
            vec![json!(theme)],
        )?;
        let bg = wait_for(Duration::from_secs(2), "the page theme", || {
            let bg = b.execute("return getComputedStyle(document.body).backgroundColor;", vec![])?;
            Ok(Some(bg.as_str().unwrap_or_default().to_string()))
        })?;
        let dark = bg == "rgb(21, 23, 26)";
        ensure!(dark == (theme == "dark"), "theme {theme} gave body background {bg}");
        axe::assert_clean(&b, &format!("signup page, {theme}"))?;
        shots::save(&b, "demo_pages", "01-signup", theme)?;
    }
    let errors = b.console_errors()?;
    ensure!(errors.iter().all(|e| !e.contains("Content Security Policy")), "CSP violations: {errors:?}");
    Ok(())
}

#[test]
fn webview_page_defines_the_react_native_bridge_before_the_widget_loads() -> Result<()> {
    let srv = demo()?;
    let b = Browser::start(&Profile::mobile())?;
    b.goto(&srv.url("/webview.html"))?;
    let v = b.execute(
        "window.ReactNativeWebView.postMessage(JSON.stringify({ type: 'probe' }));
         // The widget posts its own events (ready, step) through the same bridge: count the probe only.
         const probe = (m) => { try { return JSON.parse(m).type === 'probe'; } catch { return false; } };
         return { n: window.realnameBridgeMessages.filter(probe).length,
                  shown: document.querySelectorAll('#bridge-log li[data-event=probe]').length,
                  scroll: document.documentElement.scrollWidth - window.innerWidth };",
        vec![],
    )?;
    ensure!(v["n"] == json!(1) && v["shown"] == json!(1), "the bridge did not record and show a message: {v}");
    ensure!(v["scroll"].as_i64().unwrap_or(1) <= 0, "the webview page scrolls sideways at 375 px: {v}");
    axe::assert_clean(&b, "webview page")?;
    shots::save(&b, "demo_pages", "02-webview", "mobile")?;
    Ok(())
}

/// What a demo page fetched once its widget showed the first step: every preload hint (`href`, how many times
/// it was fetched, its HTTP status) and every file of the widget package it loaded.
const HINTS: &str = "
const hints = Array.from(document.querySelectorAll('link[rel=preload], link[rel=modulepreload]'));
const res = performance.getEntriesByType('resource');
return {
  hints: hints.map(l => ({ href: new URL(l.getAttribute('href'), location.href).href, rel: l.rel,
    fetched: res.filter(r => r.name === new URL(l.getAttribute('href'), location.href).href)
      .map(r => r.responseStatus) })),
  pkg: res.filter(r => new URL(r.name).pathname.startsWith('/pkg/')).map(r => r.name),
};";

#[test]
fn demo_pages_preload_every_widget_file_once_and_poll_the_outbox_only_after_ready() -> Result<()> {
    let srv = demo()?;
    let b = Browser::start(&Profile::desktop())?;
    for page in ["/index.html", "/webview.html"] {
        b.goto(&srv.url(page))?;
        wait_for(Duration::from_secs(20), &format!("the widget on {page}"), || {
            let v = b.execute(
                &format!(
                    "{} return !!deepQuery('section.rn[data-step=consent]');",
                    realname_e2e::webdriver::DEEP_QUERY
                ),
                vec![],
            )?;
            Ok((v == json!(true)).then_some(()))
        })?;
        let v = b.execute(HINTS, vec![])?;
        let hints = v["hints"].as_array().cloned().unwrap_or_default();
        ensure!(
            hints.len() >= 3,
            "{page}: expected preload hints for the widget's files (wasm, the bundled realname.js, the page script), found {v}"
        );
        // A hint that points at nothing (e.g. wasm-bindgen's snippet folder was renamed) or is not used (a
        // credentials-mode mismatch makes the browser fetch the wasm twice) costs time instead of saving it.
        for h in &hints {
            ensure!(
                h["fetched"] == json!([200]),
                "{page}: the hint {} was fetched with statuses {} (want exactly one 200): update the <link>s in www/{}",
                h["href"],
                h["fetched"],
                page.trim_start_matches('/')
            );
        }
        let hinted: Vec<&str> = hints.iter().filter_map(|h| h["href"].as_str()).collect();
        for f in v["pkg"].as_array().cloned().unwrap_or_default() {
            let f = f.as_str().unwrap_or_default();
            ensure!(
                hinted.contains(&f),
                "{page} loads {f} without a preload hint: add one to www/{}",
                page.trim_start_matches('/')
            );
        }
    }
    // The sign-up page's outbox list must not compete with the widget's first step.
    b.goto(&srv.url("/index.html"))?;
    let v = wait_for(Duration::from_secs(20), "the ready mark and the first outbox poll", || {
        let v = b.execute(
            "const ready = performance.getEntriesByName('realname-ready')[0];
             const outbox = performance.getEntriesByType('resource').find(r => new URL(r.name).pathname === '/dev/outbox');
             return ready && outbox ? { ready: ready.startTime, outbox: outbox.startTime } : null;",
            vec![],
        )?;
        Ok((!v.is_null()).then_some(v))
    })?;
    ensure!(v["outbox"].as_f64() >= v["ready"].as_f64(), "the outbox was polled before the widget was ready: {v}");
    Ok(())
}
