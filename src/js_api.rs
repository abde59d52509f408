//! The JS validation API: `validateId`, `isValidId`, `validatePhone`, `validateEmail`, `validateName`, and the
//! masking helpers. A front-end developer may use only this: every function takes strings and returns plain
//! objects (JSON-compatible: missing values are `null`) with the same fields and snake_case codes as the Rust
//! [`realname_core::validate`] types and the `realname-server validate-id` CLI.
//!
//! ```js
//! import init, { validateId, isValidId } from "./pkg/realname_widget.js";
//! await init();
//! validateId("11010519491231002x");                 // { valid: true, kind: "resident_id", birth_date: "1949-12-31", … }
//! validateId("H12345678", { kind: "hk_mo_travel_permit", strict: true });
//! isValidId("11010519491231002X");                  // true
//! ```

use realname_core::validate::{self as v, Date, DocumentKind, Options};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Today's date (UTC) from the browser's clock.
fn today() -> Date {
    Date::from_unix_millis(js_sys::Date::now())
}

/// Serializes a result as a plain, JSON-compatible JS object.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&ser).map_err(|e| JsError::new(&e.to_string()))
}

/// A property of the options object. Read with `Reflect` rather than serde: a serde deserializer drags float
/// formatting and error machinery into the widget's size budget (about 10 KB gzip) for three fields.
fn option(js: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(js, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Builds [`Options`] from the JS options object (undefined or null for the defaults): `{ kind?, strict?,
/// today? }`, where `kind` is a document kind's snake_case name, `strict` makes unknown region or nationality
/// codes errors, and `today` (`YYYY-MM-DD`) replaces the browser's clock.
fn options(js: JsValue) -> Result<Options, JsError> {
    if js.is_undefined() || js.is_null() {
        return Ok(Options::new(today()));
    }
    if !js.is_object() {
        return Err(JsError::new("validateId options: expected an object"));
    }
    let text = |key: &str| -> Result<Option<String>, JsError> {
        let v = option(&js, key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_string().map(Some).ok_or_else(|| JsError::new(&format!("validateId options: {key} must be a string")))
    };
    let today = match text("today")? {
        Some(s) => Date::parse(&s).ok_or_else(|| JsError::new(&format!("validateId: today {s:?} is not YYYY-MM-DD")))?,
        None => today(),
    };
    let kind = match text("kind")?.as_deref() {
        None | Some("") => None,
        Some(k) => Some(DocumentKind::from_name(k).ok_or_else(|| JsError::new(&format!("validateId: unknown kind {k:?}")))?),
    };
    let strict = option(&js, "strict");
    let strict = if strict.is_undefined() || strict.is_null() {
        false
    } else {
        strict.as_bool().ok_or_else(|| JsError::new("validateId options: strict must be a boolean"))?
    };
    Ok(Options { today, strict, kind })
}

/// `validateId(input, { kind?, strict?, today? })`: the rich result as a plain object; throws on bad options.
#[wasm_bindgen(js_name = validateId)]
pub fn validate_id(input: &str, options_js: JsValue) -> Result<JsValue, JsError> {
    let opts = options(options_js)?;
    to_js(&v::validate_id(input, &opts))
}

/// `isValidId(input)`: the fast boolean check (non-strict, kind detected, today from the browser clock).
#[wasm_bindgen(js_name = isValidId)]
pub fn is_valid_id(input: &str) -> bool {
    v::is_valid_id(input, today())
}

/// `validatePhone(input)`: `{ valid, normalized, errors }` for a mainland mobile number.
#[wasm_bindgen(js_name = validatePhone)]
pub fn validate_phone(input: &str) -> Result<JsValue, JsError> {
    to_js(&v::validate_phone(input))
}

/// `validateEmail(input)`: `{ valid, normalized, errors }` for an email address (IDN domains allowed).
#[wasm_bindgen(js_name = validateEmail)]
pub fn validate_email(input: &str) -> Result<JsValue, JsError> {
    to_js(&v::validate_email(input))
}

/// `validateName(input)`: `{ valid, normalized, script, errors }` for a personal name (Chinese or Latin).
#[wasm_bindgen(js_name = validateName)]
pub fn validate_name(input: &str) -> Result<JsValue, JsError> {
    to_js(&v::validate_name(input))
}

/// `maskId(input)`: `110105********002X`, for display and logs.
#[wasm_bindgen(js_name = maskId)]
pub fn mask_id(input: &str) -> String {
    v::mask_id(input)
}

/// `maskName(input)`: `*三`.
#[wasm_bindgen(js_name = maskName)]
pub fn mask_name(input: &str) -> String {
    v::mask_name(input)
}

/// `maskPhone(input)`: `138****5678`.
#[wasm_bindgen(js_name = maskPhone)]
pub fn mask_phone(input: &str) -> String {
    v::mask_phone(input)
}

/// `maskEmail(input)`: `z***@example.com`.
#[wasm_bindgen(js_name = maskEmail)]
pub fn mask_email(input: &str) -> String {
    v::mask_email(input)
}
