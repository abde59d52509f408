//! A small synchronous W3C WebDriver client for chromedriver, plus chromedriver's own extensions that the
//! tests need (performance log, Chrome DevTools Protocol commands).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::paths::{self, TempDir};
use crate::{Result, err, free_port, http, wait_for};

/// The W3C key under which a web element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process on a free loopback port, with its own temporary folder (Chromium's profiles go there);
/// asked to shut down when dropped, then the folder is removed.
pub struct Chromedriver {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    // Removed after the driver has ended (fields drop after `Drop::drop`).
    tmp: TempDir,
}

impl Chromedriver {
    /// Starts chromedriver and waits until it reports ready.
    pub fn start(bin: &Path) -> Result<Self> {
        let port = free_port()?;
        // chromedriver makes each session's profile (~11 MB) in TMPDIR and removes it only when it shuts down
        // cleanly: a killed driver left one per browser in /tmp, gigabytes per test run.
        let tmp = paths::temp_dir("chromedriver")?;
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &tmp.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| err!("cannot start {}: {e}", bin.display()))?;
        let mut d = Chromedriver { child, url: format!("http://127.0.0.1:{port}"), tmp };
        let status = format!("{}/status", d.url);
        let ready = wait_for(Duration::from_secs(20), "chromedriver /status", || {
            if let Some(code) = d.child.try_wait()? {
                return Err(err!("chromedriver exited early with {code}"));
            }
            Ok(http::get(&status).ok().and_then(|r| r.json().ok()).filter(|v| v["value"]["ready"] == true))
        });
        ready.map(|_| d)
    }
}

impl Chromedriver {
    /// The driver's temporary folder (TMPDIR of the driver and its browsers).
    pub fn tmp(&self) -> &Path {
        &self.tmp.0
    }

    /// Asks the driver to shut down (it then removes its sessions' profiles) and waits for it a few seconds;
    /// kills it if it does not end.
    pub fn shutdown(&mut self) {
        let _ = http::get(&format!("{}/shutdown", self.url));
        let _ = wait_for(Duration::from_secs(5), "chromedriver to exit", || Ok(self.child.try_wait()?));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A reference to an element in the page (also inside shadow roots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(pub String);

impl Element {
    /// The JSON form WebDriver expects when passing the element as a script argument.
    pub fn json(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }

    /// Reads an element reference from a WebDriver value, if it is one.
    pub fn from_value(v: &Value) -> Option<Element> {
        v.get(ELEMENT_KEY).and_then(Value::as_str).map(|s| Element(s.to_string()))
    }
}

/// One browser session; deleting it (on drop) closes Chromium, then chromedriver stops.
pub struct Session {
    agent: ureq::Agent,
    /// `<driver>/session/<id>`.
    base: String,
    // Dropped after the session is deleted (field order matters: see `Drop`).
    _driver: Chromedriver,
}

impl Session {
    /// Opens a session with the given W3C capabilities (`alwaysMatch`).
    pub fn new(driver: Chromedriver, capabilities: Value) -> Result<Self> {
        let agent = http::agent(Duration::from_secs(120));
        let url = format!("{}/session", driver.url);
        let mut res = agent.post(&url).send_json(json!({ "capabilities": { "alwaysMatch": capabilities } }))?;
        let v: Value = res.body_mut().with_config().limit(10 << 20).read_json()?;
        let id = v["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| err!("chromedriver refused the session: {}", v["value"]))?
            .to_string();
        Ok(Session { agent, base: format!("{}/session/{id}", driver.url), _driver: driver })
    }

    /// Sends one command; returns its `value` or the WebDriver error as an [`crate::Error`].
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let res = match (method, body) {
            ("GET", _) => self.agent.get(&url).call()?,
            ("DELETE", _) => self.agent.delete(&url).call()?,
            (_, Some(b)) => self.agent.post(&url).send_json(b)?,
            (_, None) => self.agent.post(&url).send_json(json!({}))?,
        };
        let status = res.status().as_u16();
        let mut res = res;
        let v: Value = res.body_mut().with_config().limit(200 << 20).read_json()?;
        if status != 200 {
            let e = &v["value"];
            return Err(err!("webdriver {method} {path}: {} — {}", e["error"], e["message"]));
        }
        Ok(v["value"].clone())
    }

    /// Navigates and waits for the load event.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.cmd("POST", "/url", Some(json!({ "url": url }))).map(|_| ())
    }

    /// Runs a synchronous script (`arguments[i]` are `args`); returns what it returns.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd("POST", "/execute/sync", Some(json!({ "script": script, "args": args })))
    }

    /// Runs an async script: it must call `arguments[arguments.length - 1](result)`.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd("POST", "/execute/async", Some(json!({ "script": script, "args": args })))
    }

    /// Sets how long async scripts may run.
    pub fn set_script_timeout(&self, t: Duration) -> Result<()> {
        let ms = u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        self.cmd("POST", "/timeouts", Some(json!({ "script": ms }))).map(|_| ())
    }

    /// The first element matching a CSS selector in the document or any (open) shadow root, if any.
    pub fn query(&self, selector: &str) -> Result<Option<Element>> {
        let v = self.execute(&format!("{DEEP_QUERY} return deepQuery(arguments[0]);"), vec![json!(selector)])?;
        Ok(Element::from_value(&v))
    }

    /// Waits until [`Session::query`] finds the selector.
    pub fn wait_element(&self, selector: &str, timeout: Duration) -> Result<Element> {
        wait_for(timeout, &format!("element `{selector}`"), || self.query(selector))
    }

    /// Clicks an element (scrolling it into view first, as a person would).
    pub fn click(&self, el: &Element) -> Result<()> {
        self.cmd("POST", &format!("/element/{}/click", el.0), None).map(|_| ())
    }

    /// Types text into an element (focusing it).
    pub fn send_keys(&self, el: &Element, text: &str) -> Result<()> {
        self.cmd("POST", &format!("/element/{}/value", el.0), Some(json!({ "text": text }))).map(|_| ())
    }

    /// Clears an input.
    pub fn clear(&self, el: &Element) -> Result<()> {
        self.cmd("POST", &format!("/element/{}/clear", el.0), None).map(|_| ())
    }

    /// Presses keys on whatever has focus, through the Actions API (no element is targeted, so this is
    /// how a keyboard-only person types). Use [`keys`] names such as [`keys::TAB`] inside `text`.
    pub fn keyboard(&self, text: &str) -> Result<()> {
        let mut actions = Vec::new();
        for ch in text.chars() {
            actions.push(json!({ "type": "keyDown", "value": ch.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": ch.to_string() }));
        }
        let body = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.cmd("POST", "/actions", Some(body))?;
        self.cmd("DELETE", "/actions", None).map(|_| ())
    }

    /// A PNG screenshot of the viewport.
    pub fn screenshot(&self) -> Result<Vec<u8>> {
        let v = self.cmd("GET", "/screenshot", None)?;
        let b64 = v.as_str().ok_or_else(|| err!("screenshot: no data"))?;
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| err!("screenshot: {e}"))
    }

    /// A PNG screenshot of one element (its bounding box, scrolled into view).
    pub fn element_screenshot(&self, el: &Element) -> Result<Vec<u8>> {
        let v = self.cmd("GET", &format!("/element/{}/screenshot", el.0), None)?;
        let b64 = v.as_str().ok_or_else(|| err!("element screenshot: no data"))?;
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| err!("element screenshot: {e}"))
    }

    /// Sets the window size (desktop sessions).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.cmd("POST", "/window/rect", Some(json!({ "width": width, "height": height }))).map(|_| ())
    }

    /// Takes the entries of a chromedriver log (`performance`, `browser`) collected since the last call.
    pub fn log(&self, kind: &str) -> Result<Vec<Value>> {
        let v = self.cmd("POST", "/se/log", Some(json!({ "type": kind })))?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// Runs a Chrome DevTools Protocol command in the page (chromedriver's `goog/cdp/execute`).
    pub fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.cmd("POST", "/goog/cdp/execute", Some(json!({ "cmd": cmd, "params": params })))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.cmd("DELETE", "", None);
    }
}

/// WebDriver's names for special keys.
pub mod keys {
    /// Tab.
    pub const TAB: &str = "\u{E004}";
    /// Shift (held until released by another press).
    pub const SHIFT: &str = "\u{E008}";
    /// Enter.
    pub const ENTER: &str = "\u{E007}";
    /// Space.
    pub const SPACE: &str = "\u{E00D}";
    /// Backspace.
    pub const BACKSPACE: &str = "\u{E003}";
    /// Escape.
    pub const ESCAPE: &str = "\u{E00C}";
    /// Arrow down.
    pub const DOWN: &str = "\u{E015}";
}

/// A JS function `deepQuery(selector)` that searches the document and every open shadow root below it;
/// prefix scripts with it. The widget renders inside a Shadow DOM, which `querySelector` does not pierce.
pub const DEEP_QUERY: &str = r#"
function deepQueryAll(sel, root) {
  root = root || document;
  const out = Array.from(root.querySelectorAll(sel));
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) out.push(...deepQueryAll(sel, el.shadowRoot));
  }
  return out;
}
function deepQuery(sel) { const all = deepQueryAll(sel); return all.length ? all[0] : null; }
"#;
