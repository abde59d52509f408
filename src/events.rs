//! Events to the host: a DOM `CustomEvent` on the host element, the matching callback, and the webview bridges
//! (React Native, WKWebView, an Android JS interface, `window.parent`) when present. No event carries personal
//! data: only step names, result tokens (signed, masked) and stable codes.

use js_sys::{Function, JSON, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit, EventTarget};

use crate::config::Config;

/// The events a host can listen to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The widget rendered and is ready.
    Ready,
    /// A new step is shown.
    Step,
    /// A result: verified or in review (with the result token), or failed.
    Complete,
    /// The person cancelled.
    Cancel,
    /// An error with a stable code.
    Error,
}

impl Kind {
    /// The DOM event type.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ready => "ready",
            Kind::Step => "step",
            Kind::Complete => "complete",
            Kind::Cancel => "cancel",
            Kind::Error => "error",
        }
    }
}

/// A plain JS object from string pairs.
pub fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Sends events to the host page and the app around a webview.
#[derive(Clone, Debug, PartialEq)]
pub struct Emitter {
    target: EventTarget,
    config: std::rc::Rc<Config>,
}

impl Emitter {
    /// An emitter dispatching on `target`.
    pub fn new(target: EventTarget, config: std::rc::Rc<Config>) -> Emitter {
        Emitter { target, config }
    }

    /// Dispatches `kind` with `detail` everywhere it should go. Host code that throws cannot break the widget.
    pub fn emit(&self, kind: Kind, detail: JsValue) {
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        // Events bubble and cross shadow roots (composed), as custom elements' events do, so a page can listen
        // on any ancestor, except `error`: bubbling to `window` it would reach the page's global error handlers
        // (`window.onerror`, error trackers) as if the page itself had failed. It is dispatched on the element only.
        let shared = kind != Kind::Error;
        init.set_bubbles(shared);
        init.set_composed(shared);
        if let Ok(ev) = CustomEvent::new_with_event_init_dict(kind.name(), &init) {
            let _ = self.target.dispatch_event(&ev);
        }
        let cb = &self.config.callbacks;
        let f = match kind {
            Kind::Ready => &cb.ready,
            Kind::Step => &cb.step,
            Kind::Complete => &cb.complete,
            Kind::Cancel => &cb.cancel,
            Kind::Error => &cb.error,
        };
        if let Some(f) = f {
            let _ = f.call1(&JsValue::NULL, &detail);
        }
        self.bridges(kind, &detail);
    }

    fn bridges(&self, kind: Kind, detail: &JsValue) {
        let Some(window) = web_sys::window() else { return };
        let w: &JsValue = window.as_ref();
        let message =
            object(&[("source", "realname".into()), ("type", kind.name().into()), ("detail", detail.clone())]);
        let json = JSON::stringify(&message).ok().map(JsValue::from);
        let path = |obj: &JsValue, keys: &[&str]| -> Option<JsValue> {
            let mut v = obj.clone();
            for k in keys {
                v = Reflect::get(&v, &JsValue::from_str(k)).ok().filter(|x| !x.is_undefined() && !x.is_null())?;
            }
            Some(v)
        };
        let call = |receiver: &JsValue, arg: &JsValue| {
            if let Some(f) = path(receiver, &["postMessage"]).and_then(|f| f.dyn_into::<Function>().ok()) {
                let _ = f.call1(receiver, arg);
            }
        };
        // React Native's WebView takes strings.
        if let (Some(rn), Some(json)) = (path(w, &["ReactNativeWebView"]), &json) {
            call(&rn, json);
        }
        // WKWebView: `userContentController.add(self, name: "realname")`; structured objects are fine.
        if let Some(h) = path(w, &["webkit", "messageHandlers", "realname"]) {
            call(&h, &message);
        }
        // Android: `addJavascriptInterface(obj, "RealNameAndroid")` with `@JavascriptInterface postMessage(String)`.
        if let (Some(a), Some(json)) = (path(w, &[self.config.android_interface.as_str()]), &json) {
            call(&a, json);
        }
        // An iframe host hears only when the site named its origin: never `*`, which would leak tokens.
        if let Some(origin) = self.config.parent_origin.as_deref().filter(|o| *o != "*")
            && let Ok(Some(parent)) = window.parent()
            && !Object::is(parent.as_ref(), w)
        {
            let _ = parent.post_message(&message, origin);
        }
    }
}
