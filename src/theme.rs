//! Visual tokens: every one is a CSS custom property on the widget's host element; the `theme` option maps
//! names to them, and `mode` picks light, dark or auto (`prefers-color-scheme`).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlElement;

/// `(option name, CSS custom property)` for every token a site may set.
pub const TOKENS: &[(&str, &str)] = &[
    ("colorPrimary", "--rn-color-primary"),
    ("colorOnPrimary", "--rn-color-on-primary"),
    ("colorSurface", "--rn-color-surface"),
    ("colorSurfaceAlt", "--rn-color-surface-alt"),
    ("colorText", "--rn-color-text"),
    ("colorMuted", "--rn-color-muted"),
    ("colorBorder", "--rn-color-border"),
    ("colorError", "--rn-color-error"),
    ("colorSuccess", "--rn-color-success"),
    ("colorWarning", "--rn-color-warning"),
    ("radius", "--rn-radius"),
    ("fontFamily", "--rn-font-family"),
    ("fontSize", "--rn-font-size"),
    ("spacing", "--rn-spacing"),
    ("focusRing", "--rn-focus-ring"),
    ("controlHeight", "--rn-control-height"),
    ("maxWidth", "--rn-max-width"),
];

/// Light, dark, or following the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Light colours.
    Light,
    /// Dark colours.
    Dark,
    /// `prefers-color-scheme` decides.
    Auto,
}

impl Mode {
    /// Parses `light`, `dark`, `auto`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim() {
            "light" => Some(Mode::Light),
            "dark" => Some(Mode::Dark),
            "auto" => Some(Mode::Auto),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Mode::Light => "light",
            Mode::Dark => "dark",
            Mode::Auto => "auto",
        }
    }
}

/// A theme: a mode and token values (`--rn-…` property → CSS value).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Theme {
    /// The colour mode; `None` keeps the current one.
    pub mode: Option<Mode>,
    /// CSS custom property → value.
    pub tokens: Vec<(&'static str, String)>,
}

impl Theme {
    /// Reads a theme option: a mode string (`"dark"`) or an object `{ mode, colorPrimary, "--rn-radius", … }`.
    /// Unknown names are returned in the error list so the site hears about typos.
    pub fn from_js(v: &JsValue) -> (Theme, Vec<String>) {
        let mut theme = Theme::default();
        let mut unknown = Vec::new();
        if let Some(s) = v.as_string() {
            match Mode::parse(&s) {
                Some(m) => theme.mode = Some(m),
                None => unknown.push(s),
            }
            return (theme, unknown);
        }
        if !v.is_object() {
            return (theme, unknown);
        }
        let keys = js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>());
        for key in keys.iter().filter_map(|k| k.as_string()) {
            let value = js_sys::Reflect::get(v, &JsValue::from_str(&key)).ok().and_then(|x| {
                x.as_string().or_else(|| {
                    // Numbers are pixels; JS formats them (Rust's float formatting would cost size).
                    let n = x.dyn_ref::<js_sys::Number>()?.to_string_with_radix(10).ok()?;
                    Some(String::from(n) + "px")
                })
            });
            let Some(value) = value else { continue };
            if key == "mode" {
                match Mode::parse(&value) {
                    Some(m) => theme.mode = Some(m),
                    None => unknown.push(format!("mode={value}")),
                }
                continue;
            }
            match TOKENS.iter().find(|(name, var)| *name == key || *var == key) {
                // A value that could close the declaration is refused: tokens are values, not CSS.
                Some((_, var)) if !value.contains([';', '{', '}']) => theme.tokens.push((var, value)),
                _ => unknown.push(key),
            }
        }
        (theme, unknown)
    }

    /// Applies the theme to the host element through the CSSOM (allowed under a strict CSP).
    pub fn apply(&self, host: &HtmlElement) {
        if let Some(m) = self.mode {
            let _ = host.set_attribute("data-rn-theme", m.as_str());
        }
        let style = host.style();
        for (var, value) in &self.tokens {
            let _ = style.set_property(var, value);
        }
    }
}

/// The widget's style sheet. Defaults meet WCAG AA contrast (4.5:1 for text) in both modes.
pub const CSS: &str = include_str!("widget.css");
