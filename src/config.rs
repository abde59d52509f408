//! The widget's options, read once from the object the host page passes to `mount` (or from attributes).

use std::rc::Rc;

use js_sys::{Function, Reflect};
use realname_core::flow::{Method, method_named};
use wasm_bindgen::{JsCast, JsValue};

use crate::i18n::{Locale, Overrides};
use crate::theme::Theme;

/// Default version of the built-in consent text; sites that change the text set their own.
pub const CONSENT_VERSION: &str = "realname-consent-2026-11";

/// Callbacks the host page passed (`onReady`, `onStep`, `onComplete`, `onCancel`, `onError`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Callbacks {
    /// `onReady`.
    pub ready: Option<Function>,
    /// `onStep`.
    pub step: Option<Function>,
    /// `onComplete`.
    pub complete: Option<Function>,
    /// `onCancel`.
    pub cancel: Option<Function>,
    /// `onError`.
    pub error: Option<Function>,
}

/// Everything the site configures; immutable once mounted except locale and theme.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Base URL of the realname server, without a trailing slash (`""` = same origin).
    pub server: String,
    /// The site's publishable key (`pk_…`), which lets the widget open its own session.
    pub publishable_key: Option<String>,
    /// A session the site created server-side, and its client secret.
    pub session: Option<(String, String)>,
    /// Methods the site wants offered, in display order; the session's own list (checked at mount) narrows it.
    pub methods: Vec<Method>,
    /// Who processes the data (shown in the consent).
    pub controller: Option<String>,
    /// Retention period text (shown in the consent).
    pub retention: Option<String>,
    /// The site's privacy policy.
    pub privacy_policy_url: Option<String>,
    /// Where to file a complaint after a failed verification.
    pub complaint_url: Option<String>,
    /// The consent text's version, sent with the submission.
    pub consent_version: String,
    /// String overrides.
    pub strings: Rc<Overrides>,
    /// Target origin for `window.parent.postMessage`; no message is posted without it.
    pub parent_origin: Option<String>,
    /// Name of the Android JS interface (`addJavascriptInterface`), default `RealNameAndroid`.
    pub android_interface: String,
    /// Callbacks.
    pub callbacks: Callbacks,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: String::new(),
            publishable_key: None,
            session: None,
            // Every method; without a `methods` option the session's own list (the site's enabled methods on the
            // server) narrows it, so the documents method appears exactly where the site enabled it.
            methods: Method::ALL.to_vec(),
            controller: None,
            retention: None,
            privacy_policy_url: None,
            complaint_url: None,
            consent_version: CONSENT_VERSION.to_string(),
            strings: Rc::default(),
            parent_origin: None,
            android_interface: "RealNameAndroid".to_string(),
            callbacks: Callbacks::default(),
        }
    }
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn function(obj: &JsValue, key: &str) -> Option<Function> {
    get(obj, key).dyn_into::<Function>().ok()
}

/// Only http(s) links are put into `href`s: a `javascript:` URL from a misconfigured site must not run.
fn link(obj: &JsValue, key: &str) -> Option<String> {
    string(obj, key).filter(|u| {
        let l = u.to_ascii_lowercase();
        l.starts_with("https://") || l.starts_with("http://") || l.starts_with('/')
    })
}

/// What the options object said, plus the initial locale and theme; unknown names are listed as warnings.
pub struct Parsed {
    /// The configuration.
    pub config: Config,
    /// The locale from the option, else `navigator.language`, else zh-CN.
    pub locale: Locale,
    /// The initial theme.
    pub theme: Theme,
    /// Problems with the options the site should hear about (sent as `error` events).
    pub warnings: Vec<String>,
}

/// The first supported language of the browser, else zh-CN.
pub fn browser_locale() -> Locale {
    let Some(nav) = web_sys::window().map(|w| w.navigator()) else { return Locale::ZhCn };
    let langs = nav.languages();
    langs
        .iter()
        .filter_map(|l| l.as_string())
        .chain(nav.language())
        .find_map(|l| Locale::parse(&l))
        .unwrap_or(Locale::ZhCn)
}

/// Reads the options object.
pub fn parse(options: &JsValue) -> Parsed {
    let mut warnings = Vec::new();
    let mut c = Config::default();
    if let Some(s) = string(options, "server") {
        c.server = s.trim_end_matches('/').to_string();
    }
    c.publishable_key = string(options, "publishableKey");
    if let (Some(id), Some(secret)) = (string(options, "sessionId"), string(options, "clientSecret")) {
        c.session = Some((id, secret));
    }
    let methods = get(options, "methods");
    if let Some(list) = methods.dyn_ref::<js_sys::Array>() {
        c.methods = list.iter().filter_map(|m| m.as_string()).filter_map(|m| method_named(&m)).collect();
    } else if let Some(s) = methods.as_string() {
        c.methods = s.split([',', ' ']).filter_map(method_named).collect();
    }
    let consent = get(options, "consent");
    c.controller = string(&consent, "controller").or_else(|| string(options, "controller"));
    c.retention = string(&consent, "retention");
    c.privacy_policy_url = link(&consent, "privacyPolicyUrl").or_else(|| link(options, "privacyPolicyUrl"));
    if let Some(v) = string(&consent, "version") {
        c.consent_version = v;
    }
    c.complaint_url = link(options, "complaintUrl");
    c.parent_origin = string(options, "parentOrigin");
    if let Some(n) = string(options, "androidInterface") {
        c.android_interface = n;
    }
    c.callbacks = Callbacks {
        ready: function(options, "onReady"),
        step: function(options, "onStep"),
        complete: function(options, "onComplete"),
        cancel: function(options, "onCancel"),
        error: function(options, "onError"),
    };
    let mut overrides = Overrides::default();
    let strings = get(options, "strings");
    if strings.is_object() {
        for key in js_sys::Object::keys(strings.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string())
        {
            let v = get(&strings, &key);
            if let Some(text) = v.as_string() {
                if !overrides.insert(None, &key, text) {
                    warnings.push(format!("strings.{key}"));
                }
            } else if let Some(locale) = Locale::parse(&key).filter(|_| v.is_object()) {
                for k in js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string())
                {
                    if let Some(text) = get(&v, &k).as_string()
                        && !overrides.insert(Some(locale), &k, text)
                    {
                        warnings.push(format!("strings.{key}.{k}"));
                    }
                }
            }
        }
    }
    c.strings = Rc::new(overrides);
    let locale = string(options, "locale").and_then(|l| Locale::parse(&l)).unwrap_or_else(browser_locale);
    let (theme, unknown) = Theme::from_js(&get(options, "theme"));
    warnings.extend(unknown.into_iter().map(|u| format!("theme.{u}")));
    Parsed { config: c, locale, theme, warnings }
}
