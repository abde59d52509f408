//! Embedding: `mount(element, options)` → a [`Widget`] handle with `destroy()`, `setLocale()`, `setTheme()`, and the
//! `<realname-verify>` custom element (src/element.js). Both render inside an open Shadow DOM so host CSS cannot
//! break the widget, with the style sheet adopted through the CSSOM (no inline styles: strict-CSP friendly).

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, EventTarget, HtmlElement, ShadowRoot};
use yew::AppHandle;

use crate::api::Api;
use crate::app::{App, AppProps};
use crate::config::{self, Config};
use crate::events::{Emitter, Kind, object};
use crate::i18n::Locale;
use crate::theme::{CSS, Theme};

#[wasm_bindgen(module = "/src/element.js")]
extern "C" {
    #[wasm_bindgen(js_name = defineElement)]
    fn define_element_js(mount: &js_sys::Function);
}

/// A mounted widget, as returned to JS.
#[wasm_bindgen]
pub struct Widget {
    app: Option<AppHandle<App>>,
    props: AppProps,
    style_host: HtmlElement,
    /// The element `mount()` created (removed again on destroy); `None` for the custom element.
    created: Option<Element>,
}

#[wasm_bindgen]
impl Widget {
    /// Unmounts the widget and drops all its state, personal data included.
    pub fn destroy(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        if let Some(el) = self.created.take() {
            el.remove();
        }
    }

    /// Switches the language (`zh-CN`, `zh-TW`, `en`); an unsupported tag is reported as an `error` event.
    #[wasm_bindgen(js_name = setLocale)]
    pub fn set_locale(&mut self, locale: &str) {
        match Locale::parse(locale) {
            Some(l) => {
                self.props.locale = l;
                if let Some(app) = self.app.as_mut() {
                    app.update(self.props.clone());
                }
            }
            None => self
                .props
                .emitter
                .emit(Kind::Error, object(&[("code", "invalid_option".into()), ("option", "locale".into())])),
        }
    }

    /// Applies a theme: `"light"`, `"dark"`, `"auto"` or an object of tokens (see docs/theming.md).
    #[wasm_bindgen(js_name = setTheme)]
    pub fn set_theme(&mut self, theme: JsValue) {
        let (t, unknown) = Theme::from_js(&theme);
        t.apply(&self.style_host);
        report_unknown(&self.props.emitter, unknown.into_iter().map(|u| format!("theme.{u}")).collect());
    }
}

fn report_unknown(emitter: &Emitter, options: Vec<String>) {
    for o in options {
        emitter.emit(Kind::Error, object(&[("code", "invalid_option".into()), ("option", o.into())]));
    }
}

/// Gives the shadow root the widget's style sheet: adopted (CSSOM, allowed by a strict CSP) where supported,
/// else a `<style>` element (which then needs `style-src 'unsafe-inline'`).
fn add_style(shadow: &ShadowRoot) -> Result<(), JsValue> {
    if let Ok(sheet) = web_sys::CssStyleSheet::new() {
        sheet.replace_sync(CSS)?;
        let list = js_sys::Array::of1(&sheet);
        if js_sys::Reflect::set(shadow, &"adoptedStyleSheets".into(), &list)? {
            return Ok(());
        }
    }
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let style = doc.create_element("style")?;
    style.set_text_content(Some(CSS));
    shadow.append_child(&style)?;
    Ok(())
}

/// Mounts into `shadow`, styling `style_host` and dispatching events on `target`.
fn mount_into(
    style_host: HtmlElement,
    shadow: ShadowRoot,
    target: EventTarget,
    options: &JsValue,
) -> Result<Widget, JsValue> {
    let parsed = config::parse(options);
    let config: Rc<Config> = Rc::new(parsed.config);
    let emitter = Emitter::new(target, config.clone());
    add_style(&shadow)?;
    let _ = style_host.set_attribute("data-rn-theme", "light");
    parsed.theme.apply(&style_host);
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    // Remounting into the same shadow root (custom element re-attached) starts from a clean root.
    shadow.set_inner_html("");
    let root = doc.create_element("div")?;
    shadow.append_child(&root)?;
    report_unknown(&emitter, parsed.warnings);
    let props = AppProps { api: Rc::new(Api::new(config.clone())), config, locale: parsed.locale, emitter };
    let app = yew::Renderer::<App>::with_root_and_props(root, props.clone()).render();
    Ok(Widget { app: Some(app), props, style_host, created: None })
}

/// `RealName.mount(element, options)`: renders the widget inside `element` (in its own Shadow DOM) and returns the
/// handle. Events are dispatched on `element`.
#[wasm_bindgen]
pub fn mount(element: &Element, options: JsValue) -> Result<Widget, JsValue> {
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let host: HtmlElement = doc.create_element("div")?.dyn_into()?;
    let _ = host.set_attribute("class", "realname-host");
    element.append_child(&host)?;
    let shadow = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
    let mut w = mount_into(host.clone(), shadow, element.clone().into(), &options)?;
    w.created = Some(host.into());
    Ok(w)
}

/// Registers `<realname-verify>`; runs when the module is initialised.
pub fn define_element() {
    let f = Closure::<dyn Fn(HtmlElement, ShadowRoot, EventTarget, JsValue) -> Result<Widget, JsValue>>::new(
        |host: HtmlElement, shadow: ShadowRoot, target: EventTarget, options: JsValue| {
            mount_into(host, shadow, target, &options)
        },
    );
    define_element_js(f.as_ref().unchecked_ref());
    // The element lives as long as the page: the closure must too.
    f.forget();
}
