//! Browser profiles: the project's Chromium flags from `webdriver.json`, plus desktop or mobile emulation, the
//! fake camera, the performance log; and a limit on how many Chromiums run at once (2-core machines).

use std::ops::Deref;
use std::sync::{Condvar, Mutex};

use serde_json::{Value, json};

use crate::webdriver::{Chromedriver, Session};
use crate::{Result, err, paths};

/// The mobile user agent used for emulation (an Android phone's Chrome).
pub const MOBILE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) \
                             Chrome/156.0.0.0 Mobile Safari/537.36";

/// What kind of browser a test needs.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Phone emulation: 375×667 CSS px, touch, mobile user agent.
    pub mobile: bool,
    /// Camera: `None` = no media flags, `Some(true)` = fake camera granted, `Some(false)` = camera denied.
    pub camera: Option<bool>,
    /// `navigator.language` / Accept-Language, e.g. `en-US`.
    pub lang: Option<String>,
    /// Record the network in the performance log (for [`crate::netlog`]).
    pub netlog: bool,
}

impl Profile {
    /// A desktop browser (1280×900).
    pub fn desktop() -> Self {
        Profile::default()
    }

    /// A phone.
    pub fn mobile() -> Self {
        Profile { mobile: true, ..Profile::default() }
    }

    /// With the network recorded.
    pub fn with_netlog(mut self) -> Self {
        self.netlog = true;
        self
    }

    /// With a fake camera that is granted (`true`) or denied (`false`).
    pub fn with_camera(mut self, granted: bool) -> Self {
        self.camera = Some(granted);
        self
    }

    /// With a browser language.
    pub fn with_lang(mut self, lang: &str) -> Self {
        self.lang = Some(lang.to_string());
        self
    }

    /// The W3C capabilities for chromedriver.
    pub fn capabilities(&self) -> Result<Value> {
        let wd: Value = serde_json::from_str(&std::fs::read_to_string(paths::webdriver_json()?)?)?;
        let mut args: Vec<Value> = wd["goog:chromeOptions"]["args"]
            .as_array()
            .cloned()
            .ok_or_else(|| err!("webdriver.json has no goog:chromeOptions.args"))?;
        if !self.mobile {
            args.push(json!("--window-size=1280,900"));
        }
        match self.camera {
            Some(true) => {
                args.push(json!("--use-fake-device-for-media-stream"));
                args.push(json!("--use-fake-ui-for-media-stream"));
            }
            Some(false) => {
                args.push(json!("--use-fake-device-for-media-stream"));
                args.push(json!("--use-fake-ui-for-media-stream=deny"));
            }
            None => {}
        }
        if let Some(l) = &self.lang {
            args.push(json!(format!("--lang={l}")));
        }
        let mut chrome = json!({
            "binary": paths::chromium()?.to_string_lossy(),
            "args": args,
        });
        if let Some(l) = &self.lang {
            chrome["prefs"] = json!({ "intl.accept_languages": l });
        }
        if self.mobile {
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": { "width": 375, "height": 667, "pixelRatio": 2.0, "touch": true, "mobile": true },
                "userAgent": MOBILE_UA,
            });
        }
        let mut caps = json!({ "browserName": "chrome", "goog:chromeOptions": chrome });
        if self.netlog {
            caps["goog:loggingPrefs"] = json!({ "performance": "ALL", "browser": "ALL" });
            caps["goog:chromeOptions"]["perfLoggingPrefs"] = json!({ "enableNetwork": true, "enablePage": false });
        } else {
            caps["goog:loggingPrefs"] = json!({ "browser": "ALL" });
        }
        Ok(caps)
    }
}

/// How many browsers may run at once (`REALNAME_E2E_BROWSERS`, default 2).
fn max_browsers() -> usize {
    std::env::var("REALNAME_E2E_BROWSERS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(2)
}

static RUNNING: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// A slot among the browsers allowed to run at once; released on drop.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let mut n = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        while *n >= max_browsers() {
            n = FREED.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut n = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        FREED.notify_one();
    }
}

/// A running headless Chromium with its WebDriver session. Derefs to [`Session`].
pub struct Browser {
    session: Session,
    _slot: Slot,
}

impl Browser {
    /// Starts chromedriver and Chromium with this profile (waiting for a free slot first).
    pub fn start(profile: &Profile) -> Result<Browser> {
        let slot = Slot::take();
        let caps = profile.capabilities()?;
        let driver = Chromedriver::start(&paths::chromedriver()?)?;
        let session = Session::new(driver, caps)?;
        if !profile.mobile {
            session.set_window_size(1280, 900)?;
        }
        session.set_script_timeout(std::time::Duration::from_secs(60))?;
        Ok(Browser { session, _slot: slot })
    }

    /// Emulates `prefers-color-scheme` (`"light"` or `"dark"`) for the current page.
    pub fn prefers_color_scheme(&self, scheme: &str) -> Result<()> {
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .map(|_| ())
    }

    /// JavaScript errors and warnings the page logged since the last call (SEVERE entries only).
    pub fn console_errors(&self) -> Result<Vec<String>> {
        Ok(self
            .log("browser")?
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect())
    }
}

impl Deref for Browser {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}
