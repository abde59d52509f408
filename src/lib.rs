//! realname-widget: the verification widget compiled to WebAssembly (the JS validation API is `validate/`).
//!
//! - [`app`]: the root component, one reducer around `realname_core::flow`.
//! - [`components`]: one component per step.
//! - [`embed`]: `mount()`, the `Widget` handle and `<realname-verify>`.
//! - [`api`]: the protocol client that seals personal data.
//! - [`ctx`]: what every step reads (`Ctx`) and hands up (`Input`), so steps never import `app`.
//! - [`i18n`], [`theme`], [`config`], [`events`], [`messages`]: strings, tokens, options, host events, messages.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod components;
pub mod config;
pub mod ctx;
pub mod embed;
pub mod events;
pub mod i18n;
pub mod messages;
pub mod theme;

use wasm_bindgen::prelude::*;

pub use embed::{Widget, mount};

/// Returns the widget's version, so a host page can tell which build it loaded.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Runs when the module is initialised: registers `<realname-verify>`.
#[wasm_bindgen(start)]
pub fn start() {
    // The shipped build (`-Cpanic=immediate-abort`) aborts without calling any panic hook: Yew's default one
    // (console_error_panic_hook and the panic message formatting behind it) would only cost bytes. Other builds,
    // the tests' included, keep Yew's hook and its messages in the console.
    #[cfg(panic = "immediate-abort")]
    yew::set_custom_panic_hook(Box::new(|_| {}));
    embed::define_element();
}
