//! The demo site as the tests use it: the real server, a browser on the sign-up page, and a page object for the
//! widget inside its Shadow DOM (`section.rn[data-step]` names the current step).

use std::time::Duration;

use realname_e2e::browser::{Browser, Profile};
use realname_e2e::server::{DemoServer, Options};
use realname_e2e::webdriver::{DEEP_QUERY, Element, keys};
use realname_e2e::{Result, axe, err, http, shots, smtp, wait_for};
use serde_json::{Value, json};

/// How long a step may take to appear (debug server, 2 cores, parallel tests).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// A valid resident ID number (GB 11643 check digit X), born 1949-12-31.
pub const ID_ADULT: &str = "11010519491231002X";
/// A valid resident ID number of a child born 2015-06-15 (under 14).
pub const ID_CHILD: &str = "110105201506150035";
/// A name for the forms.
pub const NAME: &str = "张三";
/// A mainland mobile number.
pub const PHONE: &str = "13800138000";
/// How the server shows that number (the outbox lists masked destinations).
pub const PHONE_MASKED: &str = "138****8000";

/// The current step's primary button (agree, continue, submit, verify).
pub const PRIMARY: &str = "section.rn [part~=button-primary]";

/// One test's demo: server, browser on a page, and where its screenshots go.
pub struct Demo {
    /// The demo server (dropped last: the browser closes first).
    pub browser: Browser,
    /// The real server.
    pub server: DemoServer,
    /// Screenshot folder name (the test's name).
    pub test: String,
    shot_no: std::cell::Cell<u32>,
}

impl Demo {
    /// Starts a server and a browser and opens `page` (e.g. `/index.html`).
    pub fn open(test: &str, profile: &Profile, opts: &Options, page: &str) -> Result<Demo> {
        let server = DemoServer::start(opts)?;
        let browser = Browser::start(profile)?;
        browser.goto(&server.url(page))?;
        Ok(Demo { browser, server, test: test.to_string(), shot_no: std::cell::Cell::new(0) })
    }

    /// A demo around a server and a browser the test started itself (e.g. on a page of another origin).
    pub fn with(test: &str, server: DemoServer, browser: Browser) -> Demo {
        Demo { browser, server, test: test.to_string(), shot_no: std::cell::Cell::new(0) }
    }

    /// The sign-up page with the widget on its first step.
    pub fn signup(test: &str, profile: &Profile, opts: &Options) -> Result<Demo> {
        let d = Demo::open(test, profile, opts, "/index.html")?;
        d.wait_step("consent")?;
        Ok(d)
    }

    /// The widget's current step name (`consent`, `method`, `identity`, `code`, …), if it is rendered.
    pub fn step(&self) -> Result<Option<String>> {
        let v = self.js("const s = deepQuery('section.rn[data-step]'); return s ? s.dataset.step : null;", vec![])?;
        Ok(v.as_str().map(str::to_string))
    }

    /// Waits until the camera slot `slot`'s video shows frames (Chromium's fake camera streams into it).
    pub fn wait_camera_preview(&self, slot: &str) -> Result<()> {
        wait_for(STEP_TIMEOUT, "the camera preview", || {
            let v = self
                .js("const v = deepQuery(arguments[0] + ' video'); return v ? v.videoWidth : 0;", vec![json!(slot)])?;
            Ok((v.as_u64().unwrap_or(0) > 0).then_some(()))
        })
    }

    /// Waits until the widget shows `step`.
    pub fn wait_step(&self, step: &str) -> Result<()> {
        let mut last = None;
        wait_for(STEP_TIMEOUT, &format!("step `{step}`"), || {
            last = self.step()?;
            Ok((last.as_deref() == Some(step)).then_some(()))
        })
        .map_err(|e| err!("{e} (the widget shows {last:?}; {})", self.page_state()))
    }

    fn page_state(&self) -> String {
        let v = self.js(
            "const s = deepQuery('section.rn'); return { text: s ? s.innerText.slice(0, 600) : null,
               events: Array.from(document.querySelectorAll('#events li')).map(l => l.textContent).slice(-6) };",
            vec![],
        );
        v.map(|v| v.to_string()).unwrap_or_default()
    }

    /// Runs a script with `deepQuery`/`deepQueryAll` defined.
    pub fn js(&self, body: &str, args: Vec<Value>) -> Result<Value> {
        self.browser.execute(&format!("{DEEP_QUERY}\n{body}"), args)
    }

    /// The first element matching `selector` in the page or the widget's Shadow DOM; waits for it.
    pub fn el(&self, selector: &str) -> Result<Element> {
        self.browser.wait_element(selector, STEP_TIMEOUT)
    }

    /// Clicks what `selector` finds.
    pub fn click(&self, selector: &str) -> Result<()> {
        let e = self.el(selector)?;
        self.browser.click(&e)
    }

    /// Clears an input and types `text` into it.
    pub fn fill(&self, selector: &str, text: &str) -> Result<()> {
        let e = self.el(selector)?;
        self.browser.clear(&e)?;
        self.browser.send_keys(&e, text)
    }

    /// A property of the first match (`disabled`, `value`, `textContent`, …).
    pub fn prop(&self, selector: &str, prop: &str) -> Result<Value> {
        self.js(
            "const e = deepQuery(arguments[0]); return e ? e[arguments[1]] : null;",
            vec![json!(selector), json!(prop)],
        )
    }

    /// Clicks (a real click) the first enabled button or label in the widget whose text contains `text`,
    /// searching inside `scope` (a CSS selector) when given.
    pub fn click_text(&self, scope: &str, text: &str) -> Result<()> {
        let e = wait_for(STEP_TIMEOUT, &format!("a button `{text}`"), || {
            let v = self.js(
                "const scope = arguments[0] ? deepQueryAll(arguments[0]) : [deepQuery('section.rn')];
                 for (const s of scope) {
                   if (!s) continue;
                   const b = Array.from(s.querySelectorAll('button, label.rn-button'))
                     .find(b => !b.disabled && b.textContent.includes(arguments[1]));
                   if (b) return b;
                 }
                 return null;",
                vec![json!(scope), json!(text)],
            )?;
            Ok(Element::from_value(&v))
        })?;
        self.browser.click(&e)
    }

    /// The visible text of the widget.
    pub fn widget_text(&self) -> Result<String> {
        let v = self.js("const s = deepQuery('section.rn'); return s ? s.innerText : '';", vec![])?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Sets a host-page control (`#theme`, `#locale`) as a person would pick it.
    pub fn choose(&self, select: &str, value: &str) -> Result<()> {
        self.js(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'));",
            vec![json!(select), json!(value)],
        )
        .map(|_| ())
    }

    /// Screenshots and axe-core at this step, in the light and then the dark theme (the widget is put back
    /// to light). Mobile browsers take one `mobile` screenshot (and are checked with axe too).
    pub fn check_step(&self, step: &str, mobile: bool) -> Result<()> {
        let n = self.shot_no.get() + 1;
        self.shot_no.set(n);
        let name = format!("{n:02}-{step}");
        // The widget's top at the top of the viewport, so the screenshot shows the step.
        self.js("const w = document.querySelector('realname-verify'); if (w) w.scrollIntoView({ block: 'start' }); return 0;", vec![])?;
        if mobile {
            axe::assert_clean(&self.browser, &format!("{step} (mobile)"))?;
            shots::save(&self.browser, &self.test, &name, "mobile")?;
            return Ok(());
        }
        for theme in ["light", "dark"] {
            self.choose("#theme", theme)?;
            wait_for(Duration::from_secs(5), "the theme to apply", || {
                let v =
                    self.js("const s = deepQuery('section.rn'); return s && getComputedStyle(s).colorScheme;", vec![])?;
                Ok(v.as_str().is_some_and(|c| c.contains(theme)).then_some(()))
            })?;
            axe::assert_clean(&self.browser, &format!("{step} ({theme})"))?;
            shots::save(&self.browser, &self.test, &name, theme)?;
        }
        self.choose("#theme", "light")
    }

    /// Whether the focused element (looking inside shadow roots) matches `selector`.
    pub fn focused_is(&self, selector: &str) -> Result<bool> {
        let v = self.js(
            "let a = document.activeElement;
             while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
             return !!a && a.matches(arguments[0]);",
            vec![json!(selector)],
        )?;
        Ok(v == json!(true))
    }

    /// Presses Tab (only the keyboard) until focus is on `selector`; at most 25 presses.
    pub fn tab_to(&self, selector: &str) -> Result<()> {
        for _ in 0..25 {
            if self.focused_is(selector)? {
                return Ok(());
            }
            self.browser.keyboard(keys::TAB)?;
        }
        Err(err!("25 presses of Tab never focused `{selector}` ({})", self.page_state()))
    }

    /// Horizontal overflow of the page in CSS px (0 = no sideways scrolling).
    pub fn horizontal_overflow(&self) -> Result<i64> {
        let v = self.js("return document.documentElement.scrollWidth - window.innerWidth;", vec![])?;
        Ok(v.as_i64().unwrap_or(i64::MAX))
    }

    /// The widget's visible touch targets smaller than 44×44 CSS px, described. A checkbox counts with its
    /// label (the label is what a finger hits); links inside running text are exempt (WCAG 2.5.5).
    pub fn small_targets(&self) -> Result<Vec<String>> {
        let v = self.js(
            "const out = [];
             for (const e of deepQueryAll('section.rn button, section.rn a[href], section.rn input, section.rn select, section.rn textarea, section.rn [role=button]')) {
               if (e.type === 'hidden' || e.disabled && e.getClientRects().length === 0) continue;
               let t = e;
               if ((e.type === 'checkbox' || e.type === 'radio') && e.closest('label')) t = e.closest('label');
               const cs = getComputedStyle(t);
               if (cs.display === 'none' || cs.visibility === 'hidden') continue;
               if (e.tagName === 'A' && cs.display === 'inline' && /^(P|LI|SPAN|SMALL)$/.test(e.parentElement.tagName)) continue;
               const r = t.getBoundingClientRect();
               if (r.width === 0 && r.height === 0) continue;
               if (r.width < 44 || r.height < 44)
                 out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}[${(e.textContent || e.name || e.type || '').trim().slice(0, 20)}] ${Math.round(r.width)}x${Math.round(r.height)}`);
             }
             return out;",
            vec![],
        )?;
        Ok(v.as_array().map(|a| a.iter().map(|x| x.as_str().unwrap_or("").to_string()).collect()).unwrap_or_default())
    }

    /// Consent → method: ticks the consent and agrees, then picks `method` (`sms`, `email`, `documents`).
    pub fn consent_and_choose(&self, method: &str) -> Result<()> {
        self.click("#rn-consent")?;
        self.click(PRIMARY)?;
        self.wait_step("method")?;
        self.click(&format!("button.rn-method[data-method={method}]"))?;
        self.wait_step("identity")
    }

    /// Fills the identity form (resident ID) with `name`, `number` and the phone or email field.
    pub fn fill_identity(&self, name: &str, number: &str, contact: (&str, &str)) -> Result<()> {
        self.fill("#rn-name", name)?;
        self.fill("#rn-number", number)?;
        self.fill(contact.0, contact.1)
    }

    /// The events the host page received, as `(type, text)` in order.
    pub fn events(&self) -> Result<Vec<(String, String)>> {
        let v = self.js(
            "return Array.from(document.querySelectorAll('#events li')).map(l => [l.dataset.event, l.textContent]);",
            vec![],
        )?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| (p[0].as_str().unwrap_or("").to_string(), p[1].as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The newest one-time code the demo outbox holds for `destination`.
    pub fn outbox_code(&self, destination: &str) -> Result<String> {
        outbox_code(&self.server, destination, 0)
    }

    /// The code of the message to `destination` as the demo page's outbox panel shows it, as a visitor reads it.
    pub fn panel_code(&self, destination: &str) -> Result<String> {
        wait_for(STEP_TIMEOUT, &format!("a code for {destination} in the page's outbox panel"), || {
            let text = self.prop("#outbox-list", "textContent")?.as_str().unwrap_or_default().to_string();
            Ok(text.contains(destination).then(|| smtp::find_code(&text, 6)).flatten())
        })
    }
}

/// Reads `GET /dev/outbox` and returns the code of the newest message to `destination`, waiting until there
/// are more than `seen` such messages.
pub fn outbox_code(server: &DemoServer, destination: &str, seen: usize) -> Result<String> {
    wait_for(STEP_TIMEOUT, &format!("a code for {destination} in /dev/outbox"), || {
        let r = http::get(&server.url("/dev/outbox"))?;
        if r.status != 200 {
            return Err(err!("/dev/outbox answered {}: {}", r.status, r.body));
        }
        let v = r.json()?;
        let list = v.as_array().or_else(|| v["messages"].as_array()).cloned().unwrap_or_default();
        let mine: Vec<&Value> = list.iter().filter(|m| m.to_string().contains(destination)).collect();
        if mine.len() <= seen {
            return Ok(None);
        }
        // Newest first, per docs/protocol.md.
        let m = mine[0];
        let text = ["text", "body", "message", "content"]
            .iter()
            .find_map(|k| m[*k].as_str().map(str::to_string))
            .unwrap_or_else(|| m.to_string());
        smtp::find_code(&text, 6).map(Some).ok_or_else(|| err!("no 6-digit code in outbox message {m}"))
    })
}

/// Consents, chooses SMS, submits the adult's identity and returns the code the demo outbox received for it.
pub fn to_code_step(d: &Demo) -> Result<String> {
    d.consent_and_choose("sms")?;
    d.fill_identity(NAME, ID_ADULT, ("#rn-phone", PHONE))?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    d.outbox_code(PHONE_MASKED)
}

/// The code step's status line (tries left, countdown).
pub fn code_status(d: &Demo) -> Result<String> {
    Ok(d.prop("#rn-code-status", "textContent")?.as_str().unwrap_or_default().to_string())
}
