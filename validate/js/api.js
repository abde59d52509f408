// The JS validation API of realname over the `rn_*` exports of the realname-validate wasm module
// (validate/src/lib.rs documents the memory protocol). `bind(exports)` must run once before any call; the
// package entry (index.js) does it in `init()`, the Node entry (node.js) on first use through `setLoader`, the
// browser tests bind it to their own module. A call before that throws an error saying what to do.
//
// Every call crosses into wasm once, with numbers: an 18-character input of isValidId/validateId as its 18
// `charCodeAt` numbers (the usual case: no copy), anything else through a buffer in wasm memory (TextEncoder's
// encodeInto); results come back as numbers, i32 slots and UTF-8 text.

let w = null;
let u8 = new Uint8Array(0);
let i32 = new Int32Array(0);
let inPtr = 0;
let inCap = 0;
let inView = new Uint8Array(0);
let KINDS = [];
let CODES = [];
let STATUS = [];
let SCRIPTS = [];
const SEX = [null, "male", "female"];
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The clock's UTC day number and its yyyymmdd, refreshed when the day changes. */
let clockDay = NaN;
let clockYmd = 0;

/** Fresh views of wasm memory (growing it detaches the old ones). */
function views() {
  u8 = new Uint8Array(w.memory.buffer);
  i32 = new Int32Array(w.memory.buffer);
  inView = u8.subarray(inPtr, inPtr + inCap);
}

function reserve(cap) {
  inPtr = w.rn_input(cap);
  inCap = cap;
  views();
}

/** Writes `s` into the input buffer as UTF-8 and returns its length in bytes. `encodeInto` is the fastest copy
 *  into memory (a charCodeAt loop storing bytes costs more in V8), and the buffer always has room for 3 bytes per
 *  UTF-16 unit, the most UTF-8 needs. */
function write(s) {
  const n = s.length;
  if (3 * n > inCap) reserve(3 * n);
  else if (inView.length === 0) views();
  return encoder.encodeInto(s, inView).written;
}

/** UTF-8 text at `at` (absolute) of `len` bytes. */
function text(at, len) {
  let s = "";
  for (let i = at, end = at + len; i < end; i++) {
    const c = u8[i];
    if (c > 127) return decoder.decode(u8.subarray(at, end));
    s += String.fromCharCode(c);
  }
  return s;
}

function issues(p, n) {
  const list = [];
  for (let k = 0; k < n; k++, p += 3) {
    const pos = i32[p + 1], e = i32[p + 2];
    list.push({ code: CODES[i32[p]], position: pos < 0 ? null : pos, expected: e < 0 ? null : String.fromCodePoint(e) });
  }
  return list;
}

function names(table) {
  const list = [];
  for (let i = 0; ; i++) {
    const o = w.rn_name(table, i) >> 2;
    if (u8.length === 0) views();
    if (i32[o] < 0) return list;
    list.push(text(i32[o + 2] + i32[o], i32[o + 1]));
  }
}

/** Loads the wasm synchronously on first use, where the platform can (Node reads the file); null: it cannot. */
let loader = null;

/** Sets the synchronous loader (a function returning the instance's exports) that a first call uses. */
export function setLoader(load) {
  loader = load;
}

const NOT_READY = "realname-widget/validate is not initialized: run `await init()` (the module's default export, " +
  "which loads validate_wasm_bg.wasm next to the module) once before calling validateId, isValidId and the other " +
  "functions, or `initSync({ module })` with the wasm's bytes or a compiled WebAssembly.Module. In Node no init " +
  "is needed.";

/** Binds the wasm before a first call: through the loader where there is one, else an error saying what to do.
 *  Kept out of the functions so their fast path is one comparison. */
function ready() {
  if (loader === null) throw new Error(NOT_READY);
  bind(loader());
}

/** Makes sure the API is bound (a no-op once it is); throws the "not initialized" error where it cannot be. */
export function ensureReady() {
  if (w === null) ready();
}

/** Binds the API to an instance's exports (`memory` and the `rn_*` functions). */
export function bind(exports) {
  w = exports;
  reserve(256);
  KINDS = names(0);
  CODES = names(1);
  STATUS = names(2);
  SCRIPTS = names(3);
  clockDay = NaN;
  today();
}

/** Today (UTC, from the clock) as yyyymmdd; the wasm side converts only when the day changes. */
function today() {
  const d = Math.floor(Date.now() / 86400000);
  if (d !== clockDay) {
    clockDay = d;
    clockYmd = w.rn_day(d);
  }
  return clockYmd;
}

/** The day read in the current JS task (0: not read yet): `validateId` reads the clock once per task, and a
 *  microtask forgets the day when the task ends. A form validating on each key press reads it every time; a page
 *  validating 10 000 rows in one go reads it once. */
let taskYmd = 0;
function endTask() { taskYmd = 0; }
function taskToday() {
  if (taskYmd === 0) {
    taskYmd = today();
    queueMicrotask(endTask);
  }
  return taskYmd;
}

function pad2(n) { return n < 10 ? "0" + n : "" + n; }

/** "-MM-DD" for every MMDD: formatting a birth date is then one concatenation. */
const MMDD = [];
for (let m = 1; m <= 12; m++) for (let d = 1; d <= 31; d++) MMDD[m * 100 + d] = "-" + pad2(m) + "-" + pad2(d);

function ymdText(b) {
  const y = (b / 10000) | 0;
  return (y < 1000 ? ("000" + y).slice(-4) : "" + y) + MMDD[b % 10000];
}

/** `isValidId(input)`: the fast boolean check (non-strict, kind detected, today from the clock). */
export function isValidId(input) {
  if (w === null) ready();
  if (typeof input !== "string") return false;
  // Checked against the day of the last clock read: the clock is read again only when the answer could be
  // different on a later day (2: e.g. born after that day), as a number valid on an earlier day is valid today.
  const v = verdict(input, clockYmd);
  if (v !== 2) return v === 1;
  const before = clockYmd;
  return today() !== before && verdict(input, clockYmd) === 1;
}

/** The wasm verdict on `s` against `ymd` (0 invalid, 1 valid, 2 invalid that day). 18 UTF-16 units cross as
 *  18 numbers, without a copy into memory (a `charCodeAt` each is cheaper than `encodeInto` with its call into
 *  C++ and its result object); shapes other than 17 digits and a check character (3) go through the buffer. */
function verdict(s, ymd) {
  if (s.length === 18) {
    const v = w.rn_is_valid_18(
      s.charCodeAt(0), s.charCodeAt(1), s.charCodeAt(2), s.charCodeAt(3), s.charCodeAt(4), s.charCodeAt(5),
      s.charCodeAt(6), s.charCodeAt(7), s.charCodeAt(8), s.charCodeAt(9), s.charCodeAt(10), s.charCodeAt(11),
      s.charCodeAt(12), s.charCodeAt(13), s.charCodeAt(14), s.charCodeAt(15), s.charCodeAt(16), s.charCodeAt(17),
      ymd,
    );
    if (v !== 3) return v;
  }
  return w.rn_is_valid(write(s), ymd);
}

function optionText(options, key) {
  const v = options[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new Error(`validateId options: ${key} must be a string`);
  return v;
}

/** `validateId(input, { kind?, strict?, today? })`: the rich result as a plain, JSON-compatible object. */
export function validateId(input, options) {
  if (w === null) ready();
  let ymd, kind = -1, strict = 0;
  if (options === undefined || options === null) {
    ymd = taskToday();
  } else {
    if (typeof options !== "object") throw new Error("validateId options: expected an object");
    const t = optionText(options, "today");
    if (t === null) {
      ymd = taskToday();
    } else {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
      ymd = m === null ? 0 : +m[1] * 10000 + +m[2] * 100 + +m[3];
      if (ymd === 0 || !validDate(ymd)) throw new Error(`validateId: today ${JSON.stringify(t)} is not YYYY-MM-DD`);
    }
    const k = optionText(options, "kind");
    if (k !== null && k !== "") {
      kind = KINDS.indexOf(k);
      if (kind < 0) throw new Error(`validateId: unknown kind ${JSON.stringify(k)}`);
    }
    const s = options.strict;
    if (s !== undefined && s !== null) {
      if (typeof s !== "boolean") throw new Error("validateId options: strict must be a boolean");
      strict = s ? 1 : 0;
    }
  }
  if (typeof input !== "string") throw new Error("validateId: input must be a string");
  // As in isValidId, 18 units cross as numbers; 1: a shape that needs the input buffer.
  let a = input.length !== 18 ? 1 : w.rn_validate_id_18(
    input.charCodeAt(0), input.charCodeAt(1), input.charCodeAt(2), input.charCodeAt(3), input.charCodeAt(4),
    input.charCodeAt(5), input.charCodeAt(6), input.charCodeAt(7), input.charCodeAt(8), input.charCodeAt(9),
    input.charCodeAt(10), input.charCodeAt(11), input.charCodeAt(12), input.charCodeAt(13), input.charCodeAt(14),
    input.charCodeAt(15), input.charCodeAt(16), input.charCodeAt(17), ymd, kind, strict,
  );
  if (a === 1) a = w.rn_validate_id(write(input), ymd, kind, strict);
  if (a === 0) throw new Error("validateId: today is not a date");
  const o = a >> 2;
  if (u8.length === 0) views();
  const t = i32[o + 15];
  const birth = i32[o + 4], age = i32[o + 6], rc = i32[o + 7], nat = i32[o + 9], up = i32[o + 11];
  const ne = i32[o + 13], nw = i32[o + 14];
  return {
    valid: i32[o] === 1,
    kind: KINDS[i32[o + 1]],
    normalized: i32[o + 2] < 0 ? input : text(t + i32[o + 2], i32[o + 3]),
    errors: issues(o + 16, ne),
    warnings: issues(o + 16 + 3 * ne, nw),
    birth_date: birth === 0 ? null : ymdText(birth),
    sex: SEX[i32[o + 5]],
    age: age < 0 ? null : age,
    under_14: age < 0 ? null : age < 14,
    under_18: age < 0 ? null : age < 18,
    region: rc < 0 ? null : { code: rc < 100000 ? ("00000" + rc).slice(-6) : "" + rc, status: STATUS[i32[o + 8]] },
    nationality: nat < 0 ? null : text(t + nat, i32[o + 10]),
    upgraded: up < 0 ? null : text(t + up, i32[o + 12]),
  };
}

/** Whether yyyymmdd is a real calendar date (1900-02-29 is not). */
function validDate(ymd) {
  const y = (ymd / 10000) | 0, m = ((ymd / 100) | 0) % 100, d = ymd % 100;
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

function field(name, input, call) {
  if (w === null) ready();
  if (typeof input !== "string") throw new Error(`${name}: input must be a string`);
  const o = call(write(input)) >> 2;
  if (u8.length === 0) views();
  const t = i32[o + 5];
  const script = i32[o + 3];
  const normalized = i32[o + 1] < 0 ? input : text(t + i32[o + 1], i32[o + 2]);
  const errors = issues(o + 6, i32[o + 4]);
  return { valid: i32[o] === 1, normalized, errors, script };
}

/** `validatePhone(input)`: `{ valid, normalized, errors }` for a mainland mobile number. */
export function validatePhone(input) {
  const r = field("validatePhone", input, (n) => w.rn_validate_phone(n));
  return { valid: r.valid, normalized: r.normalized, errors: r.errors };
}

/** `validateEmail(input)`: `{ valid, normalized, errors }` for an email address (IDN domains allowed). */
export function validateEmail(input) {
  const r = field("validateEmail", input, (n) => w.rn_validate_email(n));
  return { valid: r.valid, normalized: r.normalized, errors: r.errors };
}

/** `validateName(input)`: `{ valid, normalized, script, errors }` for a personal name (Chinese or Latin). */
export function validateName(input) {
  const r = field("validateName", input, (n) => w.rn_validate_name(n));
  return { valid: r.valid, normalized: r.normalized, script: r.script < 0 ? null : SCRIPTS[r.script], errors: r.errors };
}

function mask(name, which, input) {
  if (w === null) ready();
  if (typeof input !== "string") throw new Error(`${name}: input must be a string`);
  const o = w.rn_mask(which, write(input)) >> 2;
  if (u8.length === 0) views();
  return text(i32[o + 2] + i32[o], i32[o + 1]);
}

/** `maskId(input)`: `110105********002X`, for display and logs. */
export function maskId(input) { return mask("maskId", 0, input); }
/** `maskName(input)`: `张*` (the surname stays, the given name is masked). */
export function maskName(input) { return mask("maskName", 1, input); }
/** `maskPhone(input)`: `138****5678`. */
export function maskPhone(input) { return mask("maskPhone", 2, input); }
/** `maskEmail(input)`: `z***@example.com`. */
export function maskEmail(input) { return mask("maskEmail", 3, input); }
