//! Visual tokens: every one is a CSS custom property on the widget's host element (or inherited from an ancestor,
//! such as the element given to `mount()`); the `theme` option maps names to them, and `mode` picks light, dark or
//! auto (`prefers-color-scheme`). Colours have a light token and a `…Dark` one; a site's primary colour without a
//! dark one gets a derived dark variant that keeps WCAG AA contrast on the dark surfaces.

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
    ("colorPrimaryDark", "--rn-color-primary-dark"),
    ("colorOnPrimaryDark", "--rn-color-on-primary-dark"),
    ("colorSurfaceDark", "--rn-color-surface-dark"),
    ("colorSurfaceAltDark", "--rn-color-surface-alt-dark"),
    ("colorTextDark", "--rn-color-text-dark"),
    ("colorMutedDark", "--rn-color-muted-dark"),
    ("colorBorderDark", "--rn-color-border-dark"),
    ("colorErrorDark", "--rn-color-error-dark"),
    ("colorSuccessDark", "--rn-color-success-dark"),
    ("colorWarningDark", "--rn-color-warning-dark"),
    ("focusRingDark", "--rn-focus-ring-dark"),
];

/// Where the derived dark variant of a site's primary colour goes (the CSS prefers `--rn-color-primary-dark`).
const DERIVED: &str = "--rn-color-primary-derived";

/// The dark mode's defaults the derived primary must contrast with: the lighter of the two surfaces (text in the
/// primary colour sits on both) and the text on primary buttons.
const DARK_SURFACE_ALT: [u8; 3] = [0x20, 0x25, 0x2c];
const DARK_ON_PRIMARY: [u8; 3] = [0x0b, 0x15, 0x30];

/// `#rgb` or `#rrggbb` as bytes; other CSS colour forms are not derived from.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let h = s.trim().strip_prefix('#')?;
    let n = |i: usize, w: usize| u8::from_str_radix(h.get(i..i + w)?, 16).ok();
    match h.len() {
        3 => Some([n(0, 1)? * 17, n(1, 1)? * 17, n(2, 1)? * 17]),
        6 => Some([n(0, 2)?, n(2, 2)?, n(4, 2)?]),
        _ => None,
    }
}

/// WCAG 2.1 relative luminance.
fn luminance(c: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        // JS `Math.pow`: Rust's `powf` would bring its own copy of `pow` into the wasm.
        if v <= 0.039_28 { v / 12.92 } else { js_sys::Math::pow((v + 0.055) / 1.055, 2.4) }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// WCAG 2.1 contrast ratio of two colours (1 to 21).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// A dark-mode variant of a site's primary colour: the colour mixed with white in steps until text in it reaches
/// 4.5:1 on the dark surfaces and the dark text on it does too (same hue, lighter, as dark themes do).
pub fn dark_variant(c: [u8; 3]) -> [u8; 3] {
    let mut out = c;
    for step in 0..=20u16 {
        let mix = |v: u8| (u16::from(v) + (255 - u16::from(v)) * step / 20) as u8;
        out = [mix(c[0]), mix(c[1]), mix(c[2])];
        if contrast(out, DARK_SURFACE_ALT) >= 4.5 && contrast(out, DARK_ON_PRIMARY) >= 4.5 {
            break;
        }
    }
    out
}

/// `#rrggbb` of a colour, without Rust's formatting machinery.
fn hex(c: [u8; 3]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::from("#");
    for v in c {
        s.push(char::from(DIGITS[usize::from(v >> 4)]));
        s.push(char::from(DIGITS[usize::from(v & 15)]));
    }
    s
}

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
    /// CSS custom property → value; an empty value removes the token (`null` or `""` in the option).
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
                // `null` removes a token set before (`setTheme({ colorPrimary: null })`).
                if x.is_null() {
                    return Some(String::new());
                }
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
            let value = value.trim();
            if value.is_empty() {
                let _ = style.remove_property(var);
            } else {
                let _ = style.set_property(var, value);
            }
            // The site's primary colour gets its dark variant (used unless the site gives `colorPrimaryDark`).
            if *var == "--rn-color-primary" {
                match parse_hex(value) {
                    Some(c) => drop(style.set_property(DERIVED, &hex(dark_variant(c)))),
                    None => drop(style.remove_property(DERIVED)),
                }
            }
        }
    }
}

/// The widget's style sheet. Defaults meet WCAG AA contrast (4.5:1 for text) in both modes.
pub const CSS: &str = include_str!("widget.css");
