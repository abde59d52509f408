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
//!
//! Speed: a wasm call that passes a string through wasm-bindgen's glue (allocate, encode, free) and builds an
//! object property by property through serde-wasm-bindgen costs microseconds, more than validating. So the hot
//! functions take the JS string as a value, a small JS helper copies ASCII input into a fixed buffer in wasm
//! memory, and `validateId` writes its result as numbers into that buffer for the helper to turn into one object
//! literal. Anything the buffer cannot carry (non-ASCII input or output, very long values, many issues) takes the
//! serde-wasm-bindgen path, which produces the identical object (a browser test compares the two).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU8, AtomicU64, Ordering::Relaxed};

use realname_core::validate::{self as v, Date, DocumentKind, IdCheck, IssueCode, Options, RegionStatus, Sex};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Bytes of ASCII input the shared buffer carries.
const INPUT_CAP: usize = 64;
/// i32 slots of the packed result.
const OUT_SLOTS: usize = 96;
/// Fixed slots before the issue triples.
const OUT_FIXED: usize = 12;
/// Bytes of ASCII text (normalized 0..64, nationality 64..96, upgraded 96..128).
const TEXT_CAP: usize = 128;

/// Memory shared with the JS helper below; offsets: (reserved) 0, input 8, out 72, text 456.
#[repr(C, align(8))]
struct Shared {
    _reserved: AtomicU64,
    input: [AtomicU8; INPUT_CAP],
    out: [AtomicI32; OUT_SLOTS],
    text: [AtomicU8; TEXT_CAP],
}

static SHARED: Shared = Shared {
    _reserved: AtomicU64::new(0),
    input: [const { AtomicU8::new(0) }; INPUT_CAP],
    out: [const { AtomicI32::new(0) }; OUT_SLOTS],
    text: [const { AtomicU8::new(0) }; TEXT_CAP],
};
static SHARED_READY: AtomicBool = AtomicBool::new(false);
/// The last date read from the clock as `yyyymmdd`, 0 before the first read (`isValidId` re-reads the clock
/// only when it must).
static CLOCK_DATE: AtomicU32 = AtomicU32::new(0);

/// The JS names of the issue codes, in the order of the `CODES` array of the helper.
const CODE_NAMES: [&str; 21] = [
    "empty", "invalid_character", "invalid_length", "invalid_format", "invalid_province", "invalid_region",
    "unknown_region", "invalid_date", "birth_date_in_future", "birth_date_too_early", "invalid_check_char",
    "unknown_nationality", "legacy_format", "invalid_prefix", "missing_at", "invalid_local_part", "invalid_domain",
    "too_long", "too_short", "misplaced_separator", "mixed_script",
];

#[wasm_bindgen(inline_js = r#"
let mem = null, base = 0, u8 = null, i32 = null, f64 = null;
const KINDS = ["resident_id", "hk_mo_tw_residence_permit", "foreign_permanent_resident_id", "hk_mo_travel_permit",
  "tw_travel_permit", "chinese_passport", "passport"];
const CODES = ["empty", "invalid_character", "invalid_length", "invalid_format", "invalid_province", "invalid_region",
  "unknown_region", "invalid_date", "birth_date_in_future", "birth_date_too_early", "invalid_check_char",
  "unknown_nationality", "legacy_format", "invalid_prefix", "missing_at", "invalid_local_part", "invalid_domain",
  "too_long", "too_short", "misplaced_separator", "mixed_script"];
const STATUS = ["current", "abolished", "unknown"];
const SEX = [null, "male", "female"];
function views() {
  if (u8 === null || u8.length === 0) {
    u8 = new Uint8Array(mem.buffer);
    i32 = new Int32Array(mem.buffer);
    f64 = new Float64Array(mem.buffer);
  }
}
export function rn_setup(memory, ptr) { mem = memory; base = ptr; u8 = null; }
export function rn_now() { return Date.now(); }
export function rn_read(s) {
  views();
  if (typeof s !== "string") return -2;
  const n = s.length;
  if (n > 64) return -1;
  const at = base + 8;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return -1;
    u8[at + i] = c;
  }
  return n;
}
function ascii(at, n) {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(u8[at + i]);
  return s;
}
function pad2(n) { return n < 10 ? "0" + n : "" + n; }
function issues(p, n) {
  const list = [];
  for (let k = 0; k < n; k++, p += 3) {
    const pos = i32[p + 1], e = i32[p + 2];
    list.push({ code: CODES[i32[p]], position: pos < 0 ? null : pos, expected: e < 0 ? null : String.fromCharCode(e) });
  }
  return list;
}
export function rn_build(input) {
  views();
  const o = (base + 72) >> 2, t = base + 456;
  const nlen = i32[o + 2], birth = i32[o + 3], age = i32[o + 5], rc = i32[o + 6], nat = i32[o + 8], up = i32[o + 9];
  const ne = i32[o + 10], nw = i32[o + 11];
  return {
    valid: i32[o] === 1,
    kind: KINDS[i32[o + 1]],
    normalized: nlen < 0 ? input : ascii(t, nlen),
    errors: issues(o + 12, ne),
    warnings: issues(o + 12 + 3 * ne, nw),
    birth_date: birth === 0 ? null : ((birth / 10000) | 0) + "-" + pad2(((birth / 100) | 0) % 100) + "-" + pad2(birth % 100),
    sex: SEX[i32[o + 4]],
    age: age < 0 ? null : age,
    under_14: age < 0 ? null : age < 14,
    under_18: age < 0 ? null : age < 18,
    region: rc < 0 ? null : { code: rc < 100000 ? ("00000" + rc).slice(-6) : "" + rc, status: STATUS[i32[o + 7]] },
    nationality: nat < 0 ? null : ascii(t + 64, nat),
    upgraded: up < 0 ? null : ascii(t + 96, up),
  };
}
"#)]
extern "C" {
    fn rn_setup(memory: JsValue, ptr: u32);
    fn rn_read(s: &JsValue) -> i32;
    fn rn_now() -> f64;
    fn rn_build(input: &JsValue) -> JsValue;
}

/// Hands the shared buffer's address to the helper, once.
fn shared_ready() {
    if !SHARED_READY.swap(true, Relaxed) {
        let addr = std::ptr::addr_of!(SHARED) as usize;
        rn_setup(wasm_bindgen::memory(), u32::try_from(addr).unwrap_or(0));
    }
}

/// Copies the `n` ASCII bytes `rn_read` wrote into a stack buffer.
fn input_bytes(n: usize) -> ([u8; INPUT_CAP], usize) {
    let mut buf = [0u8; INPUT_CAP];
    let n = n.min(INPUT_CAP);
    for i in 0..n {
        buf[i] = SHARED.input[i].load(Relaxed);
    }
    (buf, n)
}

/// Today from the browser clock (UTC), remembered for [`cached_today`].
fn clock_today() -> Date {
    let today = Date::from_unix_millis(rn_now());
    CLOCK_DATE.store(today.year() * 10_000 + today.month() * 100 + today.day(), Relaxed);
    today
}

/// The date of the last clock read (1970-01-01 before the first). Never later than today while the clock moves
/// forward, so a number valid on it is valid today.
fn cached_today() -> Date {
    let d = CLOCK_DATE.load(Relaxed);
    Date::new(d / 10_000, d / 100 % 100, d % 100).unwrap_or(Date::from_unix_days(0))
}

fn store_text(at: usize, s: &str, cap: usize) -> Option<i32> {
    if s.len() > cap || !s.is_ascii() {
        return None;
    }
    for (i, b) in s.bytes().enumerate() {
        SHARED.text.get(at + i)?.store(b, Relaxed);
    }
    i32::try_from(s.len()).ok()
}

fn code_index(code: IssueCode) -> Option<i32> {
    CODE_NAMES.iter().position(|n| *n == code.as_str()).and_then(|i| i32::try_from(i).ok())
}

/// Writes `r` into the shared buffer for `rn_build`; false when it does not fit (the caller uses serde instead).
fn pack(r: &IdCheck, input: &str) -> bool {
    let issues = r.errors.len() + r.warnings.len();
    if OUT_FIXED + 3 * issues > OUT_SLOTS {
        return false;
    }
    let normalized = if r.normalized == input { Some(-1) } else { store_text(0, &r.normalized, 64) };
    let nationality = match &r.nationality {
        None => Some(-1),
        Some(n) => store_text(64, n, 32),
    };
    let upgraded = match &r.upgraded {
        None => Some(-1),
        Some(u) => store_text(96, u, 32),
    };
    let region = match &r.region {
        None => Some((-1, 0)),
        Some(g) => g.code.parse::<i32>().ok().filter(|_| g.code.len() == 6).map(|c| {
            (c, match g.status {
                RegionStatus::Current => 0,
                RegionStatus::Abolished => 1,
                RegionStatus::Unknown => 2,
            })
        }),
    };
    let kind = DocumentKind::ALL.iter().position(|k| *k == r.kind).and_then(|i| i32::try_from(i).ok());
    let (Some(normalized), Some(nationality), Some(upgraded), Some((rc, rs)), Some(kind)) =
        (normalized, nationality, upgraded, region, kind)
    else {
        return false;
    };
    let birth = r.birth_date.map_or(0, |d| (d.year() * 10_000 + d.month() * 100 + d.day()) as i32);
    let sex = match r.sex {
        None => 0,
        Some(Sex::Male) => 1,
        Some(Sex::Female) => 2,
    };
    let age = r.age.map_or(-1, |a| i32::try_from(a).unwrap_or(i32::MAX));
    let fixed = [
        i32::from(r.valid), kind, normalized, birth, sex, age, rc, rs, nationality, upgraded,
        r.errors.len() as i32, r.warnings.len() as i32,
    ];
    for (slot, v) in SHARED.out.iter().zip(fixed) {
        slot.store(v, Relaxed);
    }
    let mut at = OUT_FIXED;
    for issue in r.errors.iter().chain(&r.warnings) {
        let Some(code) = code_index(issue.code) else { return false };
        let pos = issue.position.and_then(|p| i32::try_from(p).ok()).unwrap_or(-1);
        let expected = issue.expected.map_or(-1, |c| c as i32);
        for v in [code, pos, expected] {
            if let Some(slot) = SHARED.out.get(at) {
                slot.store(v, Relaxed);
            }
            at += 1;
        }
    }
    true
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
        return Ok(Options::new(clock_today()));
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
        None => clock_today(),
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

/// `validateId(input, { kind?, strict?, today? })`: the rich result as a plain object; throws on bad options or
/// when `input` is not a string.
#[wasm_bindgen(js_name = validateId)]
pub fn validate_id(input: &JsValue, options_js: JsValue) -> Result<JsValue, JsError> {
    shared_ready();
    let n = rn_read(input);
    let today = clock_today();
    let opts = if options_js.is_undefined() || options_js.is_null() { Options::new(today) } else { options(options_js)? };
    let (buf, len) = input_bytes(usize::try_from(n).unwrap_or(0));
    let owned;
    let s = match n {
        0.. => std::str::from_utf8(&buf[..len]).unwrap_or_default(),
        -1 => {
            owned = input.as_string().unwrap_or_default();
            owned.as_str()
        }
        _ => return Err(JsError::new("validateId: input must be a string")),
    };
    let r = v::validate_id(s, &opts);
    if pack(&r, s) { Ok(rn_build(input)) } else { to_js(&r) }
}

/// The same result as [`validate_id`], always built through serde-wasm-bindgen (the reference the fast object
/// builder is tested against).
#[doc(hidden)]
pub fn validate_id_serde(input: &str, options_js: JsValue) -> Result<JsValue, JsError> {
    let opts = options(options_js)?;
    to_js(&v::validate_id(input, &opts))
}

/// `isValidId(input)`: the fast boolean check (non-strict, kind detected, today from the browser clock); false
/// for anything that is not a string.
#[wasm_bindgen(js_name = isValidId)]
pub fn is_valid_id(input: &JsValue) -> bool {
    shared_ready();
    let n = rn_read(input);
    // Reading the clock costs more than validating: check against the last date read first. A birth date on or
    // before it is on or before today; only a number invalid on it needs the clock.
    let check = |s: &str| v::is_valid_id(s, cached_today()) || v::is_valid_id(s, clock_today());
    match n {
        0.. => {
            let (buf, len) = input_bytes(usize::try_from(n).unwrap_or(0));
            std::str::from_utf8(&buf[..len]).is_ok_and(check)
        }
        -1 => input.as_string().is_some_and(|s| check(&s)),
        _ => false,
    }
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
