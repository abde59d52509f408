//! What the steps share with the root without importing it: the widget-wide [`Ctx`], the personal data a step
//! hands up ([`Input`]) and the browser's clock.

use std::rc::Rc;

use crate::api::{Api, DocumentsPhotos, IdentityInput};
use crate::config::Config;
use crate::events::Emitter;
use crate::i18n::{Key, Texts};

/// What every step may read: widget-wide configuration, texts, the event emitter and the API client, and nothing
/// else (flow state reaches a step as its own props). `App` hands it to the step as a prop rather than through a
/// Yew context: a `ContextProvider` and `use_context` cost 3 KB gzip of the widget's 150 KB budget
/// (docs/performance.md, "Widget size"), and the step is `App`'s only child component.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The site's options.
    pub config: Rc<Config>,
    /// Strings in the current locale.
    pub texts: Texts,
    /// Events to the host.
    pub emitter: Emitter,
    /// The API client.
    pub api: Rc<Api>,
}

impl PartialEq for Ctx {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.config, &other.config) && self.texts == other.texts && Rc::ptr_eq(&self.api, &other.api)
    }
}

impl Ctx {
    /// The text for `key`.
    pub fn t(&self, key: Key) -> String {
        self.texts.get(key)
    }

    /// The text for `key` with placeholders.
    pub fn tf(&self, key: Key, args: &[(&str, &str)]) -> String {
        self.texts.fmt(key, args)
    }
}

/// Personal data a step hands up to `App` (flow events go through the steps' `on_event`).
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// The validated identity, and whether the person is under 14.
    Identity(IdentityInput, bool),
    /// A complete code.
    Code(String),
    /// Both photos, taken and confirmed.
    Documents(DocumentsPhotos),
}

/// Seconds since the Unix epoch, from the browser's clock.
pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}
