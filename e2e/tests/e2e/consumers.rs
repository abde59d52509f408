//! The package as sites consume it (issue 19): the apps `cargo xtask test` builds from the packed package with
//! Vite + React 19, Vite + Vue 3 and webpack 5 (`tools/consumers/`, `xtask/src/consumers.rs`), each served from
//! its own origin under the CSP docs/webview.md gives, with the verification server on another origin. Each must
//! bring the widget to its first step with no CSP violation or console error, and use the validation API (an
//! error saying to run `init()` before it, an answer after). The React app goes on to a verified result, whose
//! token the backend examples of docs/site-backends.md (Node `jose`, Python PyJWT) verify against the JWKS.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use realname_e2e::browser::{Browser, Profile};
use realname_e2e::http::FileServer;
use realname_e2e::server::{DemoServer, Options};
use realname_e2e::{Result, ensure, err, paths, shots, wait_for};
use serde_json::Value;

use crate::common::{Demo, ID_ADULT, NAME, PHONE, PHONE_MASKED, PRIMARY, STEP_TIMEOUT};

/// Serves the built `app` on its own origin, starts a verification server allowing that origin, and opens the
/// app in Chromium with the CSP's marker replaced by the server's origin.
fn open(app: &str) -> Result<(Demo, FileServer)> {
    let dist = paths::consumer_app(app)?;
    let site = FileServer::start(HashMap::new(), Some(dist.clone()))?;
    let server = DemoServer::start(&Options { origins: vec![site.base.clone()], ..Options::with_config("") })?;
    let html = std::fs::read_to_string(dist.join("index.html"))?;
    ensure!(html.contains("__REALNAME_SERVER__"), "{app}/index.html lost the CSP meta tag: {html}");
    site.put("/index.html", "text/html; charset=utf-8", html.replace("__REALNAME_SERVER__", &server.base).into_bytes());
    let browser = Browser::start(&Profile::desktop())?;
    let q = server.base.replace(':', "%3A").replace('/', "%2F");
    browser.goto(&format!("{}/index.html?server={q}", site.base))?;
    Ok((Demo::with(&format!("consumer-{app}"), server, browser), site))
}

/// The app's log (`window.consumer`: events, CSP violations, validation results).
fn log(d: &Demo) -> Result<Value> {
    d.js("return window.consumer || null;", vec![])
}

/// The first step, the validation API, and a clean console and CSP report.
fn first_step(d: &Demo, app: &str) -> Result<()> {
    d.wait_step("consent")?;
    let l = wait_for(STEP_TIMEOUT, "the ready event", || {
        let l = log(d)?;
        Ok(l["events"].as_array().is_some_and(|e| e.iter().any(|e| e["type"] == "ready")).then_some(l))
    })?;
    let before = l["validate"]["before"].as_str().unwrap_or_default();
    ensure!(before.contains("await init()"), "{app}: a validation call before init() said {before:?}");
    ensure!(l["validate"]["after"] == true, "{app}: isValidId after init(): {}", l["validate"]);
    let steps: Vec<&Value> = l["events"].as_array().into_iter().flatten().filter(|e| e["type"] == "step").collect();
    ensure!(steps.first().is_some_and(|s| s["detail"]["step"] == "consent"), "{app}: step events {steps:?}");
    ensure!(l["csp"].as_array().is_some_and(Vec::is_empty), "{app}: CSP violations {}", l["csp"]);
    let errors = d.browser.console_errors()?;
    ensure!(errors.is_empty(), "{app}: console errors {errors:?}");
    // The consent text names the controller given through `options` (set as a property, not an attribute).
    let text = d.widget_text()?;
    ensure!(text.contains("Lantern Books"), "{app}: the options did not reach the widget: {text}");
    shots::save(&d.browser, &d.test, "01-consent", "light")?;
    Ok(())
}

#[test]
fn vite_vue_app_runs_the_widget_under_the_strict_csp() -> Result<()> {
    let (d, _site) = open("vite-vue")?;
    first_step(&d, "vite-vue")
}

#[test]
fn webpack_app_runs_the_widget_under_the_strict_csp() -> Result<()> {
    let (d, _site) = open("webpack")?;
    first_step(&d, "webpack")
}

#[test]
fn vite_react_app_verifies_and_the_docs_backends_accept_its_token() -> Result<()> {
    let (d, _site) = open("vite-react")?;
    first_step(&d, "vite-react")?;
    d.consent_and_choose("sms")?;
    d.fill_identity(NAME, ID_ADULT, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    let code = d.outbox_code(PHONE_MASKED)?;
    d.fill("#rn-code", &code)?;
    d.wait_step("verified")?;
    let token = wait_for(STEP_TIMEOUT, "the complete event in the React app", || {
        let l = log(&d)?;
        let complete = l["events"].as_array().into_iter().flatten().find(|e| e["type"] == "complete").cloned();
        Ok(complete.and_then(|c| c["detail"]["token"].as_str().map(str::to_string)))
    })?;
    let shown = d.js("const p = document.getElementById('result'); return p ? p.textContent : null;", vec![])?;
    ensure!(shown == "Verification: verified", "the React app shows {shown}");
    shots::save(&d.browser, &d.test, "02-verified", "light")?;
    backends(&d.server, &token)
}

/// The Vite dev server (what a developer runs first: dependencies pre-bundled into `node_modules/.vite`, where the
/// package's `new URL("…wasm", import.meta.url)` must still find the wasm) serves the React app from
/// `tools/consumers/vite-react`, with the packed package `cargo xtask test` installed there; the widget reaches its
/// first step as in the build.
#[test]
fn vite_dev_server_runs_the_react_app_with_the_widget() -> Result<()> {
    let app = paths::root().join("tools/consumers/vite-react");
    let installed = paths::root().join("tools/consumers/node_modules/realname-widget/package.json");
    ensure!(installed.exists(), "the packed package is not installed in tools/consumers: run `cargo xtask test`");
    let port = realname_e2e::free_port()?;
    let origin = format!("http://127.0.0.1:{port}");
    let server = DemoServer::start(&Options { origins: vec![origin.clone()], ..Options::with_config("") })?;
    let log = paths::temp_dir("vite-dev")?;
    let out = std::fs::File::create(log.0.join("vite.log"))?;
    let child = Command::new(paths::tools_node_modules()?.join(".bin/vite"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--strictPort", "--clearScreen", "false"])
        .current_dir(&app)
        .env("REALNAME_SERVER", &server.base)
        .stdin(std::process::Stdio::piped())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .map_err(|e| err!("cannot start the Vite dev server: {e}"))?;
    let _vite = Killed(child);
    let index = format!("{origin}/index.html");
    wait_for(STEP_TIMEOUT, "the Vite dev server", || {
        Ok(realname_e2e::http::get(&index).ok().filter(|r| r.status == 200))
    })
    .map_err(|e| err!("{e}\n{}", std::fs::read_to_string(log.0.join("vite.log")).unwrap_or_default()))?;
    let browser = Browser::start(&Profile::desktop())?;
    let q = server.base.replace(':', "%3A").replace('/', "%2F");
    browser.goto(&format!("{index}?server={q}"))?;
    let d = Demo::with("consumer-vite-dev", server, browser);
    first_step(&d, "vite dev")
}

/// A child process killed (and reaped) when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The docs' Node and Python examples, as written, verify the token (claims as the protocol gives them) and
/// refuse it once one character of its signature is changed.
fn backends(server: &DemoServer, token: &str) -> Result<()> {
    let docs = std::fs::read_to_string(paths::root().join("docs/site-backends.md"))?;
    let dir = paths::temp_dir("backends")?;
    // The examples' placeholders: the server's URL and the site id.
    let fill = |code: String| code.replace("https://verify.example.com", &server.base).replace("\"shop\"", "\"demo\"");
    let node = fill(code_block(&docs, "js")?) + "\nconsole.log(JSON.stringify(await verifyResult(process.argv[2])));\n";
    std::fs::write(dir.0.join("verify.mjs"), node)?;
    // `jose` from the project's pinned tools, as a site's own node_modules would hold it.
    std::os::unix::fs::symlink(paths::tools_node_modules()?, dir.0.join("node_modules"))?;
    let python =
        fill(code_block(&docs, "python")?) + "\nimport json, sys\nprint(json.dumps(verify_result(sys.argv[1])))\n";
    std::fs::write(dir.0.join("verify.py"), python)?;
    let mut sig: Vec<char> = token.chars().collect();
    let last = sig.len().saturating_sub(2);
    sig[last] = if sig[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = sig.into_iter().collect();
    for (lang, program, script) in
        [("node", std::path::PathBuf::from("node"), "verify.mjs"), ("python", paths::python()?, "verify.py")]
    {
        let claims =
            run(&program, &dir.0, script, token)?.map_err(|e| err!("the {lang} example refused a real token: {e}"))?;
        let claims: Value = serde_json::from_str(claims.trim()).map_err(|e| err!("{lang} printed {claims:?}: {e}"))?;
        ensure!(
            claims["status"] == "verified"
                && claims["aud"] == "demo"
                && claims["masked_number"] == "110105********002X",
            "the {lang} example's claims: {claims}"
        );
        ensure!(run(&program, &dir.0, script, &tampered)?.is_err(), "the {lang} example accepted a tampered token");
    }
    Ok(())
}

/// Runs `program script arg` in `dir`: `Ok(stdout)` when it exits 0, else `Err(stderr)`.
fn run(program: &Path, dir: &Path, script: &str, arg: &str) -> Result<std::result::Result<String, String>> {
    let out = Command::new(program)
        .arg(script)
        .arg(arg)
        .current_dir(dir)
        .output()
        .map_err(|e| err!("cannot run {}: {e}", program.display()))?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(if out.status.success() { Ok(text(&out.stdout)) } else { Err(text(&out.stderr)) })
}

/// The first fenced code block in `lang` of a Markdown text.
fn code_block(md: &str, lang: &str) -> Result<String> {
    let open = format!("```{lang}\n");
    let start = md.find(&open).ok_or_else(|| err!("docs/site-backends.md has no ```{lang} block"))? + open.len();
    let len = md[start..].find("```").ok_or_else(|| err!("unclosed ```{lang} block"))?;
    Ok(md[start..start + len].to_string())
}
