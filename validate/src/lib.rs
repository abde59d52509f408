//! realname-validate: the JS validation API (`validateId`, `isValidId`, `validatePhone`, `validateEmail`,
//! `validateName`, the masks) as its own small wasm module, built for speed (`cargo xtask build` puts it in
//! `www/pkg/validate/`). Sites that only validate load this instead of the widget.
//!
//! Speed comes from crossing into wasm once per call with numbers only. The hand-written `js/api.js` passes an
//! 18-character ID as its 18 UTF-16 code units (`rn_is_valid_18`, `rn_validate_id_18`: no copy into memory; they
//! answer "use the buffer" for any shape but 17 ASCII digits and a check character), and writes any other input
//! into a buffer in wasm memory as UTF-8 and calls an `rn_*` export with the byte length. It builds the result
//! object from the `i32` slots and UTF-8 text the export leaves in memory. No wasm-bindgen string glue, no serde: the exports here take and return integers, and the results are
//! exactly `realname_core::validate`'s (the browser tests compare them with the serde serialization).
//!
//! Memory protocol (all little-endian, addresses are byte offsets in the module's memory):
//! - `rn_input(cap)` → address of the input buffer, at least `cap` bytes; JS keeps it until it needs more.
//! - every other export returns the address of the `i32` result slots; slot layouts are below at each export.
//!   Text slots are `(offset, byte length)` pairs into the UTF-8 text buffer whose address is in a slot too;
//!   offset -1 means "null" (or, for `normalized`, "the same as the input").
#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};

use realname_core::validate::{
    self as v, Date, DocumentKind, FieldCheck, IdCheck, Issue, IssueCode, NameScript, Options, RegionStatus, Sex,
};
use wasm_bindgen::prelude::*;

/// The buffers shared with `js/api.js`.
struct Io {
    /// Input bytes (UTF-8); its length is its capacity, so JS may write anywhere below it.
    input: Vec<u8>,
    /// Result slots of the last call.
    out: Vec<i32>,
    /// UTF-8 text of the last call's result.
    text: Vec<u8>,
}

thread_local! {
    static IO: RefCell<Io> = const { RefCell::new(Io { input: Vec::new(), out: Vec::new(), text: Vec::new() }) };
}

/// Wasm addresses fit in 32 bits; `i32` because JS reads them as signed slots.
fn addr<T>(p: *const T) -> i32 {
    p as usize as i32
}

/// The first `len` input bytes as text (always UTF-8: JS writes ASCII or `TextEncoder` output).
fn input(io: &Io, len: u32) -> &str {
    let bytes = io.input.get(..len as usize).unwrap_or_default();
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// A date from `yyyymmdd`, when it exists.
fn ymd(today: u32) -> Option<Date> {
    Date::new(today / 10_000, today / 100 % 100, today % 100)
}

thread_local! {
    /// The last `yyyymmdd` [`day`] was asked for and its date: JS passes the same day on nearly every call.
    static DAY: Cell<(u32, Option<Date>)> = const { Cell::new((0, None)) };
}

/// [`ymd`], remembered for the last `yyyymmdd`.
fn day(today: u32) -> Option<Date> {
    DAY.with(|c| {
        let (last, date) = c.get();
        if last == today {
            return date;
        }
        let date = ymd(today);
        c.set((today, date));
        date
    })
}

/// Appends `s` to the text buffer and returns its `(offset, length)` slots.
fn text(io_text: &mut Vec<u8>, s: &str) -> [i32; 2] {
    let at = io_text.len() as i32;
    io_text.extend_from_slice(s.as_bytes());
    [at, s.len() as i32]
}

/// `(offset, length)` of an optional text; `(-1, 0)` for none.
fn opt_text(io_text: &mut Vec<u8>, s: Option<&str>) -> [i32; 2] {
    s.map_or([-1, 0], |s| text(io_text, s))
}

/// Appends each issue as `(code index, position or -1, expected code point or -1)`.
fn issues(out: &mut Vec<i32>, list: &[Issue]) {
    for i in list {
        out.extend([i.code.index() as i32, i.position.map_or(-1, |p| p as i32), i.expected.map_or(-1, |c| c as i32)]);
    }
}

/// The address of the input buffer, grown to at least `cap` bytes (the address changes when it grows).
#[wasm_bindgen]
pub fn rn_input(cap: u32) -> i32 {
    IO.with_borrow_mut(|io| {
        if io.input.len() < cap as usize {
            io.input.resize(cap as usize, 0);
        }
        addr(io.input.as_ptr())
    })
}

/// `today` as `yyyymmdd` for a day number since 1970-01-01 (JS: `Math.floor(Date.now() / 86400000)`).
#[wasm_bindgen]
pub fn rn_day(days: f64) -> u32 {
    // `as` saturates and maps NaN to 0, which is what a broken clock deserves.
    let d = Date::from_unix_days(days as i64);
    d.year() * 10_000 + d.month() * 100 + d.day()
}

/// `isValidId` on the `len` input bytes, non-strict, kind detected, against `today` (`yyyymmdd`): 1 valid, 0
/// invalid on any day, 2 invalid on `today` but perhaps not on a later day (JS then reads the clock and asks
/// again). No result slots.
#[wasm_bindgen]
pub fn rn_is_valid(len: u32, today: u32) -> u32 {
    let Some(today) = day(today) else { return 2 };
    IO.with_borrow(|io| verdict_code(v::id_verdict(io.input.get(..len as usize).unwrap_or_default(), today)))
}

/// `isValidId` on an 18-unit JS string passed as its UTF-16 code units (`c0`..`c17`: no copy into memory),
/// against `today` (`yyyymmdd`): as [`rn_is_valid`] for 17 digits and a check character, and 3 for any other
/// shape (JS then writes the string into the input buffer and calls [`rn_is_valid`]).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn rn_is_valid_18(
    c0: u32,
    c1: u32,
    c2: u32,
    c3: u32,
    c4: u32,
    c5: u32,
    c6: u32,
    c7: u32,
    c8: u32,
    c9: u32,
    c10: u32,
    c11: u32,
    c12: u32,
    c13: u32,
    c14: u32,
    c15: u32,
    c16: u32,
    c17: u32,
    today: u32,
) -> u32 {
    let units = [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17];
    let Some(today) = day(today) else { return 2 };
    v::id_verdict_units(units, today).map_or(3, verdict_code)
}

fn verdict_code(v: v::Verdict) -> u32 {
    match v {
        v::Verdict::Valid => 1,
        v::Verdict::Invalid => 0,
        v::Verdict::InvalidToday => 2,
    }
}

/// The names JS needs (`table` 0: document kinds in [`DocumentKind::ALL`] order; 1: issue codes in
/// [`IssueCode::ALL`] order; 2: region statuses; 3: name scripts), one per call. Slots: `[offset, length, text
/// address]`, offset -1 past the end of the table.
#[wasm_bindgen]
pub fn rn_name(table: u32, index: u32) -> i32 {
    let i = index as usize;
    let name = match table {
        0 => DocumentKind::ALL.get(i).map(|k| k.as_str()),
        1 => IssueCode::ALL.get(i).map(|c| c.as_str()),
        2 => [RegionStatus::Current, RegionStatus::Abolished, RegionStatus::Unknown].get(i).map(|s| status_name(*s)),
        3 => [NameScript::Cjk, NameScript::Latin].get(i).map(|s| script_name(*s)),
        _ => None,
    };
    IO.with_borrow_mut(|io| {
        let Io { out, text: t, .. } = io;
        out.clear();
        t.clear();
        out.extend(opt_text(t, name));
        out.push(addr(t.as_ptr()));
        addr(out.as_ptr())
    })
}

fn status_name(s: RegionStatus) -> &'static str {
    match s {
        RegionStatus::Current => "current",
        RegionStatus::Abolished => "abolished",
        RegionStatus::Unknown => "unknown",
    }
}

fn script_name(s: NameScript) -> &'static str {
    match s {
        NameScript::Cjk => "cjk",
        NameScript::Latin => "latin",
    }
}

/// `validateId` on the `len` input bytes. `today` is `yyyymmdd`, `kind` an index into [`DocumentKind::ALL`]
/// (-1: detect), `strict` 0 or 1. Returns 0 when `today` is not a real date, else the address of the slots:
/// `[valid, kind, normalized (offset, length; offset -1: same as the input), birth yyyymmdd or 0, sex (0 none, 1
/// male, 2 female), age or -1, region code or -1, region status, nationality (offset, length), upgraded (offset,
/// length), error count, warning count, text address, then (code, position, expected) per error and warning]`.
#[wasm_bindgen]
pub fn rn_validate_id(len: u32, today: u32, kind: i32, strict: u32) -> i32 {
    let Some(opts) = id_options(today, kind, strict) else { return 0 };
    IO.with_borrow_mut(|io| {
        let bytes = io.input.get(..len as usize).unwrap_or_default();
        // Plain 18-character resident IDs and permits (most input) without allocating; the rest the rich way.
        if let Some(sum) = v::summarize_id(bytes, &opts).as_ref() {
            let same = sum.normalized[..] == *bytes;
            let Io { out, text: t, .. } = io;
            return pack_summary(out, t, sum, same);
        }
        let r = v::validate_id(input(io, len), &opts);
        let same = r.normalized == input(io, len);
        let Io { out, text: t, .. } = io;
        pack_id(out, t, &r, same)
    })
}

/// [`rn_validate_id`] on an 18-unit JS string passed as its UTF-16 code units (`c0`..`c17`: no copy into memory),
/// for the shapes `summarize_id` answers (17 ASCII digits and a check character, checked as a resident ID or
/// permit); 1 for anything else (JS then writes the string into the input buffer and calls [`rn_validate_id`]).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn rn_validate_id_18(
    c0: u32,
    c1: u32,
    c2: u32,
    c3: u32,
    c4: u32,
    c5: u32,
    c6: u32,
    c7: u32,
    c8: u32,
    c9: u32,
    c10: u32,
    c11: u32,
    c12: u32,
    c13: u32,
    c14: u32,
    c15: u32,
    c16: u32,
    c17: u32,
    today: u32,
    kind: i32,
    strict: u32,
) -> i32 {
    let Some(opts) = id_options(today, kind, strict) else { return 0 };
    let units = [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17];
    if units.iter().any(|&u| u > 0x7f) {
        return 1;
    }
    // ASCII units are the string's UTF-8 bytes.
    let bytes = units.map(|u| u as u8);
    // By reference: moving the summary out of the `Option` copied its 112 bytes.
    let sum = v::summarize_id(&bytes, &opts);
    let Some(sum) = sum.as_ref() else { return 1 };
    IO.with_borrow_mut(|io| {
        let Io { out, text: t, .. } = io;
        pack_summary(out, t, sum, sum.normalized == bytes)
    })
}

/// The options of a `validateId` call, `None` when `today` is not a real date.
fn id_options(today: u32, kind: i32, strict: u32) -> Option<Options> {
    let today = day(today)?;
    let kind = usize::try_from(kind).ok().and_then(|k| DocumentKind::ALL.get(k).copied());
    Some(Options { today, strict: strict != 0, kind })
}

fn kind_index(kind: DocumentKind) -> i32 {
    DocumentKind::ALL.iter().position(|k| *k == kind).map_or(0, |k| k as i32)
}

fn ymd_slot(d: Option<Date>) -> i32 {
    d.map_or(0, |d| (d.year() * 10_000 + d.month() * 100 + d.day()) as i32)
}

fn sex_slot(sex: Option<Sex>) -> i32 {
    match sex {
        None => 0,
        Some(Sex::Male) => 1,
        Some(Sex::Female) => 2,
    }
}

fn status_slot(status: RegionStatus) -> i32 {
    match status {
        RegionStatus::Current => 0,
        RegionStatus::Abolished => 1,
        RegionStatus::Unknown => 2,
    }
}

/// Writes an [`v::IdSummary`] as the slots [`rn_validate_id`] documents and returns their address.
fn pack_summary(out: &mut Vec<i32>, t: &mut Vec<u8>, s: &v::IdSummary, same: bool) -> i32 {
    t.clear();
    let normalized = if same {
        -1
    } else {
        t.extend_from_slice(&s.normalized);
        0
    };
    let (code, status) = s.region.map_or((-1, 0), |(c, st)| (c as i32, status_slot(st)));
    // One fixed block, then at most four issues (three errors, one warning).
    let fixed = [
        i32::from(s.valid()),
        kind_index(s.kind),
        normalized,
        18,
        ymd_slot(s.birth_date),
        sex_slot(Some(s.sex)),
        s.age.map_or(-1, |a| a as i32),
        code,
        status,
        -1,
        0,
        -1,
        0,
        s.error_count as i32,
        i32::from(s.warning.is_some()),
        addr(t.as_ptr()),
    ];
    out.clear();
    out.extend_from_slice(&fixed);
    issues(out, s.errors());
    issues(out, s.warning.as_slice());
    addr(out.as_ptr())
}

/// Writes an [`IdCheck`] as the slots [`rn_validate_id`] documents and returns their address.
fn pack_id(out: &mut Vec<i32>, t: &mut Vec<u8>, r: &IdCheck, same: bool) -> i32 {
    out.clear();
    t.clear();
    let normalized = if same { [-1, 0] } else { text(t, &r.normalized) };
    let kind = kind_index(r.kind);
    let birth = ymd_slot(r.birth_date);
    let sex = sex_slot(r.sex);
    // Region codes are six digits (`format!("{:06}")` of a number below 10^6, or six digits of the input).
    let (code, status) = r.region.as_ref().map_or((-1, 0), |g| {
        let code = g.code.bytes().fold(0i32, |a, b| a * 10 + i32::from(b.wrapping_sub(b'0')));
        (code, status_slot(g.status))
    });
    let nationality = opt_text(t, r.nationality.as_deref());
    let upgraded = opt_text(t, r.upgraded.as_deref());
    out.extend([i32::from(r.valid), kind]);
    out.extend(normalized);
    out.extend([birth, sex, r.age.map_or(-1, |a| a as i32), code, status]);
    out.extend(nationality);
    out.extend(upgraded);
    out.extend([r.errors.len() as i32, r.warnings.len() as i32, addr(t.as_ptr())]);
    issues(out, &r.errors);
    issues(out, &r.warnings);
    addr(out.as_ptr())
}

/// Slots of a [`FieldCheck`] or name check: `[valid, normalized (offset, length; -1: same as the input), script
/// (-1 none, else an index of table 3), error count, text address, then (code, position, expected) per error]`.
fn pack_field(io: &mut Io, len: u32, check: impl FnOnce(&str) -> (FieldCheck, Option<NameScript>)) -> i32 {
    let (r, script) = check(input(io, len));
    let same = r.normalized == input(io, len);
    let Io { out, text: t, .. } = io;
    out.clear();
    t.clear();
    let normalized = if same { [-1, 0] } else { text(t, &r.normalized) };
    let script = script.map_or(-1, |s| s as i32);
    out.push(i32::from(r.valid));
    out.extend(normalized);
    out.extend([script, r.errors.len() as i32, addr(t.as_ptr())]);
    issues(out, &r.errors);
    addr(out.as_ptr())
}

/// `validatePhone` on the `len` input bytes; slots as [`pack_field`] documents.
#[wasm_bindgen]
pub fn rn_validate_phone(len: u32) -> i32 {
    IO.with_borrow_mut(|io| pack_field(io, len, |s| (v::validate_phone(s), None)))
}

/// `validateEmail` on the `len` input bytes; slots as [`pack_field`] documents.
#[wasm_bindgen]
pub fn rn_validate_email(len: u32) -> i32 {
    IO.with_borrow_mut(|io| pack_field(io, len, |s| (v::validate_email(s), None)))
}

/// `validateName` on the `len` input bytes; slots as [`pack_field`] documents.
#[wasm_bindgen]
pub fn rn_validate_name(len: u32) -> i32 {
    IO.with_borrow_mut(|io| {
        pack_field(io, len, |s| {
            let n = v::validate_name(s);
            (FieldCheck { valid: n.valid, normalized: n.normalized, errors: n.errors }, n.script)
        })
    })
}

/// A mask of the `len` input bytes (`which`: 0 id, 1 name, 2 phone, 3 email). Slots: `[offset, length, text
/// address]`.
#[wasm_bindgen]
pub fn rn_mask(which: u32, len: u32) -> i32 {
    IO.with_borrow_mut(|io| {
        let s = input(io, len);
        let masked = match which {
            0 => v::mask_id(s),
            1 => v::mask_name(s),
            2 => v::mask_phone(s),
            _ => v::mask_email(s),
        };
        let Io { out, text: t, .. } = io;
        out.clear();
        t.clear();
        out.extend(text(t, &masked));
        out.push(addr(t.as_ptr()));
        addr(out.as_ptr())
    })
}
