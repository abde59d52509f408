//! The JS validation API as it ships (`www/pkg/validate/`: `validate/js/api.js` over the `realname-validate` wasm
//! exports), run inside headless Chromium: the functions return plain objects with the documented fields and
//! stable codes, equal to the serde serialization of `realname_core::validate`'s results.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

// Linked for its `rn_*` exports, which the API below binds to (this test module's own instance).
extern crate realname_validate;

use js_sys::{Array, JSON, Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The shipped JS API, the very file `cargo xtask build` copies to `www/pkg/validate/api.js`.
#[wasm_bindgen(module = "/validate/js/api.js")]
extern "C" {
    fn bind(exports: JsValue);
    #[wasm_bindgen(js_name = isValidId)]
    fn js_is_valid_id(input: &JsValue) -> bool;
    #[wasm_bindgen(catch, js_name = validateId)]
    fn js_validate_id(input: &JsValue, options: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = validatePhone)]
    fn js_validate_phone(input: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = validateEmail)]
    fn js_validate_email(input: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = validateName)]
    fn js_validate_name(input: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = maskId)]
    fn mask_id(input: &str) -> String;
    #[wasm_bindgen(js_name = maskName)]
    fn mask_name(input: &str) -> String;
    #[wasm_bindgen(js_name = maskPhone)]
    fn mask_phone(input: &str) -> String;
    #[wasm_bindgen(js_name = maskEmail)]
    fn mask_email(input: &str) -> String;
}

/// Binds the API to this module's exports (once per test; binding again is harmless).
fn api() {
    bind(wasm_bindgen::exports());
}

fn validate_phone(input: &str) -> Result<JsValue, JsValue> {
    api();
    js_validate_phone(&input.into())
}

fn validate_email(input: &str) -> Result<JsValue, JsValue> {
    api();
    js_validate_email(&input.into())
}

fn validate_name(input: &str) -> Result<JsValue, JsValue> {
    api();
    js_validate_name(&input.into())
}

/// The reference: `realname_core`'s result serialized by serde-wasm-bindgen as plain JSON-compatible objects.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap()
}

/// `validateId` through serde instead of the shipped object builder, with the options the JS call gets.
fn validate_id_serde(input: &str, options: JsValue) -> JsValue {
    use realname_core::validate::{Date, DocumentKind, Options};
    let text = |k: &str| Reflect::get(&options, &k.into()).ok().and_then(|v| v.as_string());
    let today = Date::parse(&text("today").unwrap()).unwrap();
    let strict = Reflect::get(&options, &"strict".into()).unwrap().as_bool().unwrap_or(false);
    let kind = text("kind").and_then(|k| DocumentKind::from_name(&k));
    to_js(&realname_core::validate::validate_id(input, &Options { today, strict, kind }))
}

/// Reads a dotted path (`region.code`, `errors.0.code`) from a JS value.
fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |acc, key| Reflect::get(&acc, &JsValue::from_str(key)).unwrap())
}

fn s(v: &JsValue, path: &str) -> Option<String> {
    get(v, path).as_string()
}

fn b(v: &JsValue, path: &str) -> Option<bool> {
    get(v, path).as_bool()
}

fn n(v: &JsValue, path: &str) -> Option<f64> {
    get(v, path).as_f64()
}

/// `{ today: "2024-06-01", … }` as a JS object.
fn opts(extra: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"today".into(), &"2024-06-01".into()).unwrap();
    for (k, v) in extra {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

/// `validateId` as JS calls it.
fn validate_id(input: &str, options: JsValue) -> Result<JsValue, JsValue> {
    api();
    js_validate_id(&JsValue::from_str(input), &options)
}

fn is_valid_id(input: &str) -> bool {
    api();
    js_is_valid_id(&JsValue::from_str(input))
}

fn check(input: &str) -> JsValue {
    validate_id(input, opts(&[])).unwrap()
}

#[wasm_bindgen_test]
fn valid_resident_id_is_a_plain_object_with_facts() {
    let r = check("11010519491231002x");
    assert_eq!(Object::get_prototype_of(&r), Object::get_prototype_of(&Object::new().into()));
    assert_eq!(b(&r, "valid"), Some(true));
    assert_eq!(s(&r, "kind").as_deref(), Some("resident_id"));
    assert_eq!(s(&r, "normalized").as_deref(), Some("11010519491231002X"));
    assert_eq!(s(&r, "birth_date").as_deref(), Some("1949-12-31"));
    assert_eq!(s(&r, "sex").as_deref(), Some("female"));
    assert_eq!(n(&r, "age"), Some(74.0));
    assert_eq!(b(&r, "under_14"), Some(false));
    assert_eq!(s(&r, "region.code").as_deref(), Some("110105"));
    assert_eq!(s(&r, "region.status").as_deref(), Some("current"));
    assert!(Array::is_array(&get(&r, "errors")));
    assert_eq!(get(&r, "errors").unchecked_into::<Array>().length(), 0);
    // Missing facts are null, not undefined, so the object survives JSON round trips unchanged.
    assert!(get(&r, "upgraded").is_null());
    assert!(get(&r, "nationality").is_null());
    let json = JSON::stringify(&r).unwrap().as_string().unwrap();
    assert!(json.contains("\"upgraded\":null"), "{json}");
}

#[wasm_bindgen_test]
fn errors_carry_code_position_and_expected_char() {
    let r = check("110105194912310021");
    assert_eq!(b(&r, "valid"), Some(false));
    assert_eq!(s(&r, "errors.0.code").as_deref(), Some("invalid_check_char"));
    assert_eq!(n(&r, "errors.0.position"), Some(17.0));
    assert_eq!(s(&r, "errors.0.expected").as_deref(), Some("X"));
    let r = check("110105190002290017");
    assert_eq!(s(&r, "errors.0.code").as_deref(), Some("invalid_date"));
    assert_eq!(n(&r, "errors.0.position"), Some(12.0));
    let r = check("110105209912310010");
    assert_eq!(s(&r, "errors.0.code").as_deref(), Some("birth_date_in_future"));
    assert_eq!(s(&check("100105198001010014"), "errors.0.code").as_deref(), Some("invalid_province"));
}

#[wasm_bindgen_test]
fn the_tricky_numbers() {
    let r = check("440524188001010014");
    assert_eq!((b(&r, "valid"), s(&r, "region.status").as_deref()), (Some(true), Some("abolished")));
    assert_eq!(s(&r, "birth_date").as_deref(), Some("1880-01-01"));
    let r = check("110103200101010010");
    assert_eq!((b(&r, "valid"), s(&r, "region.status").as_deref()), (Some(true), Some("abolished")));
    assert_eq!(get(&r, "warnings").unchecked_into::<Array>().length(), 0);
    assert_eq!(b(&check("110105200002290021"), "valid"), Some(true));
    let r = check("１１０１０５４９１２３１００２");
    assert_eq!(b(&r, "valid"), Some(true));
    assert_eq!(s(&r, "upgraded").as_deref(), Some("11010519491231002X"));
    assert_eq!(s(&r, "warnings.0.code").as_deref(), Some("legacy_format"));
    let r = check("810000199001010019");
    assert_eq!(s(&r, "kind").as_deref(), Some("hk_mo_tw_residence_permit"));
    let r = check("91184019850101001X");
    assert_eq!(s(&r, "kind").as_deref(), Some("foreign_permanent_resident_id"));
    assert_eq!(s(&r, "nationality").as_deref(), Some("USA"));
}

#[wasm_bindgen_test]
fn strict_and_kind_options() {
    let lax = check("110199198001010016");
    assert_eq!(b(&lax, "valid"), Some(true));
    assert_eq!(s(&lax, "warnings.0.code").as_deref(), Some("unknown_region"));
    let strict = validate_id("110199198001010016", opts(&[("strict", true.into())])).unwrap();
    assert_eq!(b(&strict, "valid"), Some(false));
    assert_eq!(s(&strict, "errors.0.code").as_deref(), Some("unknown_region"));
    let r = validate_id("H1234567", opts(&[("kind", "hk_mo_travel_permit".into())])).unwrap();
    assert_eq!(s(&r, "errors.0.code").as_deref(), Some("invalid_length"));
    let r = validate_id("x1234567", opts(&[("kind", "passport".into())])).unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "kind").as_deref()), (Some(true), Some("passport")));
    // A driving licence's number is the holder's resident ID number, checked as one under the licence's kind.
    let r = validate_id("11010519491231002X", opts(&[("kind", "driving_licence".into())])).unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "kind").as_deref()), (Some(true), Some("driving_licence")));
    assert_eq!(s(&r, "birth_date").as_deref(), Some("1949-12-31"));
    let r = validate_id("110105194912310021", opts(&[("kind", "driving_licence".into())])).unwrap();
    assert_eq!(s(&r, "errors.0.expected").as_deref(), Some("X"));
    let r = validate_id("810000199001010019", opts(&[("kind", "driving_licence".into())])).unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "errors.0.code").as_deref()), (Some(false), Some("invalid_region")));
    // No options at all: today from the browser clock.
    let r = validate_id("11010519491231002X", JsValue::UNDEFINED).unwrap();
    assert_eq!(b(&r, "valid"), Some(true));
    assert!(n(&r, "age").unwrap() >= 74.0);
    // Bad options throw instead of silently validating something else.
    assert!(validate_id("1", opts(&[("kind", "licence".into())])).is_err());
    assert!(validate_id("1", opts(&[("today", "2023-02-29".into())])).is_err());
}

#[wasm_bindgen_test]
fn is_valid_id_agrees_with_validate_id() {
    for input in [
        "11010519491231002X",
        "11010519491231002x",
        "110105194912310021",
        "440524188001010014",
        "110105491231002",
        "810000199001010019",
        "91184019850101001X",
        "",
        "H12345678",
        "110105190002290017",
        "１１０１０５１９４９１２３１００２Ｘ",
    ] {
        let rich = validate_id(input, JsValue::UNDEFINED).unwrap();
        assert_eq!(Some(is_valid_id(input)), b(&rich, "valid"), "{input}");
    }
    assert!(is_valid_id("11010519491231002X"));
    assert!(!is_valid_id("11010519491231002Y"));
}

/// 18-character strings cross into wasm as 18 numbers; every other shape of 18 UTF-16 units (separators, full-width
/// digits, a foreigner's card, non-ASCII, lone surrogates) must come back to the UTF-8 path and get its answer.
#[wasm_bindgen_test]
fn is_valid_id_on_18_units_agrees_with_validate_id() {
    let agree = |input: &JsValue| {
        api();
        let rich = js_validate_id(input, &JsValue::UNDEFINED).unwrap();
        assert_eq!(Some(js_is_valid_id(input)), b(&rich, "valid"), "{input:?}");
        js_is_valid_id(input)
    };
    let text = |s: &str| agree(&JsValue::from_str(s));
    // Valid numbers of 18 units that are not 17 digits and a check character: only the fallback accepts them.
    for valid in
        ["１１０１０５１９４９１２３１００２Ｘ", "91184019850101001X", " 110105-491231-002", "110105-491231-002 "]
    {
        assert_eq!(valid.encode_utf16().count(), 18, "{valid}");
        assert!(text(valid), "{valid}");
    }
    // Every single-character change of a valid number: plain ones take the numbers path, the rest the buffer.
    let base = "11010519491231002X";
    for at in 0..18 {
        for c in ['0', '1', '2', '5', '9', 'X', 'x', ' ', '-', '/', ':', '１', '张', '\u{7f}', 'ı', 'Ř', 'İ'] {
            let mut m: Vec<char> = base.chars().collect();
            m[at] = c;
            text(&m.into_iter().collect::<String>());
        }
    }
    // Lone surrogates (no Rust `str` holds them): an 18-unit JS string with one is never valid.
    for at in [0, 9, 17] {
        let units: Vec<u16> = base.encode_utf16().enumerate().map(|(i, u)| if i == at { 0xd800 } else { u }).collect();
        let s = js_sys::JsString::from_char_code(&units);
        assert_eq!(s.length(), 18);
        assert!(!agree(&s.into()), "surrogate at {at}");
    }
    // Another call grows the buffer (and may detach the views) between two 18-unit checks.
    assert!(text(base));
    assert!(text(&format!("{}{base}", " ".repeat(200_000))));
    assert!(text(base) && !text("11010519491231002Y"));
}

#[wasm_bindgen_test]
fn phones_emails_names() {
    let r = validate_phone("+86 138-1234-5678").unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "normalized").as_deref()), (Some(true), Some("13812345678")));
    let r = validate_phone("12812345678").unwrap();
    assert_eq!((s(&r, "errors.0.code").as_deref(), n(&r, "errors.0.position")), (Some("invalid_prefix"), Some(1.0)));
    let r = validate_email("Zhang.San@例子.中国").unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "normalized").as_deref()), (Some(true), Some("Zhang.San@例子.中国")));
    assert_eq!(s(&validate_email("no-at-sign").unwrap(), "errors.0.code").as_deref(), Some("missing_at"));
    let r = validate_name("阿依古丽・买买提").unwrap();
    assert_eq!(b(&r, "valid"), Some(true));
    assert_eq!(s(&r, "script").as_deref(), Some("cjk"));
    assert_eq!(s(&r, "normalized").as_deref(), Some("阿依古丽·买买提"));
    let r = validate_name("·张三").unwrap();
    assert_eq!(s(&r, "errors.0.code").as_deref(), Some("misplaced_separator"));
    let r = validate_name("ZHANG SAN").unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "script").as_deref()), (Some(true), Some("latin")));
}

#[wasm_bindgen_test]
fn masks() {
    api();
    assert_eq!(mask_id("11010519491231002x"), "110105********002X");
    assert_eq!(mask_name("张三"), "张*");
    assert_eq!(mask_phone("13812345678"), "138****5678");
    assert_eq!(mask_email("zhang@example.com"), "z***@example.com");
}

/// Without a kind only documents with a check character are detected: a bare 8-digit string is not a Taiwan
/// travel permit, a travel permit or passport number is checked as one when its kind is given.
#[wasm_bindgen_test]
fn detection_considers_only_documents_with_a_check_character() {
    for input in ["12345678", "H12345678", "M1234567801", "E12345678", "P1234567"] {
        let r = check(input);
        assert_eq!((b(&r, "valid"), s(&r, "kind").as_deref()), (Some(false), Some("resident_id")), "{input}");
        assert!(!is_valid_id(input), "{input}");
    }
    let r = validate_id("12345678", opts(&[("kind", "tw_travel_permit".into())])).unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "kind").as_deref()), (Some(true), Some("tw_travel_permit")));
    let r = validate_id("H12345678", opts(&[("kind", "hk_mo_travel_permit".into())])).unwrap();
    assert_eq!((b(&r, "valid"), s(&r, "kind").as_deref()), (Some(true), Some("hk_mo_travel_permit")));
}

/// 港澳台居民居住证 numbers carry exactly 810000, 820000 or 830000: any other code under 81–83 is an error (not an
/// unknown-county warning) on the 18-numbers path, the buffer path and in `isValidId`.
#[wasm_bindgen_test]
fn permit_provinces_need_exactly_their_one_region() {
    for input in ["810100199001010014", " 810100199001010014", "８１０１００１９９００１０１００１４"]
    {
        for extra in [vec![], vec![("strict", JsValue::TRUE)], vec![("kind", JsValue::from_str("resident_id"))]] {
            let r = validate_id(input, opts(&extra)).unwrap();
            assert_eq!(b(&r, "valid"), Some(false), "{input} {extra:?}");
            assert_eq!(s(&r, "kind").as_deref(), Some("hk_mo_tw_residence_permit"), "{input}");
            assert_eq!(s(&r, "errors.0.code").as_deref(), Some("invalid_region"), "{input}");
            assert_eq!(get(&r, "warnings").unchecked_into::<Array>().length(), 0, "{input}");
        }
        assert!(!is_valid_id(input), "{input}");
    }
    assert!(is_valid_id("810000199001010019"));
}

/// The fast object builder (shared buffer + one JS object literal) must produce exactly the serde-wasm-bindgen
/// object, field order included, for every kind of result.
#[wasm_bindgen_test]
fn fast_objects_equal_serde_objects() {
    let long = "1".repeat(70);
    // Longer than the input buffer: it grows (and wasm memory may grow, detaching the JS views).
    let padded = format!("{}11010519491231002x{}", " ".repeat(70_000), "-".repeat(70_000));
    let wide = format!("{}１１０１０５１９４９１２３１００２Ｘ", "\u{3000}".repeat(50_000));
    let inputs = [
        "11010519491231002X",
        "11010519491231002x",
        " 110105-1949-1231-002x ",
        "110105194912310021",
        "440524188001010014",
        "110103200101010010",
        "110105190002290017",
        "110105200002290021",
        "110105209912310010",
        "110105491231002",
        "110105000229001",
        "810000199001010019",
        "91184019850101001X",
        "911999198501010024",
        "901840198501010018",
        "USA118501010001",
        "QQQ118501010001",
        "110199198001010016",
        "100105198001010014",
        "H12345678",
        "M1234567801",
        "12345678",
        "E12345678",
        "EI1234567",
        "P1234567",
        "",
        "  ",
        "1101051949123100AX",
        "XXXXXXXXXXXXXXXXXX",
        "１１０１０５１９４９１２３１００２Ｘ",
        "11010519491231002？",
        "张三",
        long.as_str(),
        "abc",
        "0",
        padded.as_str(),
        wide.as_str(),
        // 18 UTF-16 units whose low byte is a digit or `X` (U+0131 'ı' ends in 0x31, U+0158 'Ř' in 0x58): they
        // cross into wasm as numbers and must not be read as ASCII.
        "ı1010519491231002X",
        "110105194912310İ2X",
        "11010519491231002Ř",
        // Permit provinces with another region code (an error), and a legacy number with one.
        "810100199001010014",
        "810100900101001",
    ];
    let stringify = |v: &JsValue| JSON::stringify(v).unwrap().as_string().unwrap();
    for input in inputs {
        for extra in [vec![], vec![("strict", JsValue::TRUE)], vec![("kind", JsValue::from_str("passport"))]] {
            let fast = validate_id(input, opts(&extra)).unwrap();
            let reference = validate_id_serde(input, opts(&extra));
            assert_eq!(stringify(&fast), stringify(&reference), "{input:?} {extra:?}");
        }
    }
    assert!(is_valid_id(&padded) && is_valid_id(&wide));
    // Not a string: isValidId says no, validateId throws.
    assert!(!js_is_valid_id(&JsValue::from_f64(110105.0)));
    assert!(js_validate_id(&JsValue::NULL, &JsValue::UNDEFINED).is_err());
}

/// A number born today (browser clock, UTC) is valid; born tomorrow is not, also after a valid check remembered
/// the date.
#[wasm_bindgen_test]
fn is_valid_id_uses_the_browser_clock() {
    let now = js_sys::Date::now();
    let with_check = |ms: f64| {
        let d = js_sys::Date::new(&JsValue::from_f64(ms));
        let body = format!("110105{:04}{:02}{:02}001", d.get_utc_full_year(), d.get_utc_month() + 1, d.get_utc_date());
        let c = realname_core::validate::check_char(body.as_bytes()).unwrap();
        format!("{body}{c}")
    };
    let today = with_check(now);
    let tomorrow = with_check(now + 86_400_000.0);
    assert!(is_valid_id("11010519491231002X"));
    assert!(is_valid_id(&today), "{today}");
    assert!(!is_valid_id(&tomorrow), "{tomorrow}");
    assert!(is_valid_id(&today));
    let r = validate_id(&today, JsValue::UNDEFINED).unwrap();
    assert_eq!((b(&r, "valid"), n(&r, "age"), b(&r, "under_14")), (Some(true), Some(0.0), Some(true)));
}

/// Phones, emails and names: the shipped objects equal the serde serialization, field order included.
#[wasm_bindgen_test]
fn field_objects_equal_serde_objects() {
    use realname_core::validate as v;
    let stringify = |v: &JsValue| JSON::stringify(v).unwrap().as_string().unwrap();
    let long = "a".repeat(300);
    for input in [
        "+86 138-1234-5678",
        "13812345678",
        "12812345678",
        "1381234567",
        "",
        "  ",
        "zhang@example.com",
        "Zhang.San@例子.中国",
        "no-at-sign",
        "a@@b",
        "张三",
        "阿依古丽・买买提",
        "·张三",
        "ZHANG SAN",
        "Zhang三",
        "Jean-Luc O'Neil",
        long.as_str(),
        "１３８１２３４５６７８",
    ] {
        assert_eq!(stringify(&validate_phone(input).unwrap()), stringify(&to_js(&v::validate_phone(input))), "{input}");
        assert_eq!(stringify(&validate_email(input).unwrap()), stringify(&to_js(&v::validate_email(input))), "{input}");
        assert_eq!(stringify(&validate_name(input).unwrap()), stringify(&to_js(&v::validate_name(input))), "{input}");
        assert_eq!(mask_id(input), v::mask_id(input), "{input}");
        assert_eq!(mask_name(input), v::mask_name(input), "{input}");
        assert_eq!(mask_phone(input), v::mask_phone(input), "{input}");
        assert_eq!(mask_email(input), v::mask_email(input), "{input}");
    }
    // Not a string: every function throws rather than validating "undefined".
    assert!(js_validate_phone(&JsValue::UNDEFINED).is_err());
    assert!(js_validate_name(&JsValue::from_f64(1.0)).is_err());
}
