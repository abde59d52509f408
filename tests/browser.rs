//! Widget tests in headless Chromium.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn reports_version() {
    assert_eq!(realname_widget::version(), env!("CARGO_PKG_VERSION"));
    let doc = web_sys_document_title();
    assert!(doc.is_some());
}

fn web_sys_document_title() -> Option<String> {
    js_sys::eval("document.title").ok().and_then(|v| v.as_string())
}
