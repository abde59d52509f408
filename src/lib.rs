//! realname-widget: the verification widget compiled to WebAssembly, and its JS API.
#![forbid(unsafe_code)]

pub mod js_api;

use wasm_bindgen::prelude::*;

/// Returns the widget's version, so a host page can tell which build it loaded.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
