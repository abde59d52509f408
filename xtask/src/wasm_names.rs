//! Short names for the glue between the widget's wasm and its JS: wasm-bindgen names every import after the
//! function it wraps plus a 16-hex-digit hash (`__wbg_setmethod_c1e3f2a5ef5e1ee1`), and closure-invoking exports
//! after their full generic type (hundreds of characters). Each name is in both files, and random hex does not
//! compress: renaming them `a`, `b`, … saved 5.6 KB gzip when measured (docs/performance.md, "Widget size").
//!
//! The import module (`./realname_bg.js`) becomes `a`. Exports keep their names unless they are wasm-bindgen's
//! own (`__wbg…`, `__wbindgen…`, `wasm_bindgen…`): `mount`, `memory` and the widget's methods stay as they are.
//! In the JS every whole identifier-like token equal to an old name is replaced; each renamed name must occur
//! there, or the build fails (the JS would then reach the wasm in a way this does not understand).

use std::collections::{HashMap, HashSet};

use crate::sh::Res;

/// The wasm and JS with short glue names.
pub struct Renamed {
    /// The rewritten wasm module.
    pub wasm: Vec<u8>,
    /// The rewritten JS.
    pub js: String,
    /// Old name → new name, for other files that mention them (the `.d.ts` of the wasm's exports).
    pub names: HashMap<String, String>,
}

/// The import module name of wasm-bindgen's `--target web` output, and its replacement.
const MODULE: (&str, &str) = ("./realname_bg.js", "a");

/// Export name prefixes that are wasm-bindgen's own (the JS API never exposes them under these names).
const GLUE_EXPORTS: [&str; 3] = ["__wbg", "__wbindgen", "wasm_bindgen"];

/// Renames the glue names of `wasm` and of the wasm-bindgen JS `js` that loads it.
pub fn shorten(wasm: &[u8], js: &str) -> Res<Renamed> {
    let mut out = wasm.get(..8).filter(|h| h.starts_with(b"\0asm")).ok_or("not a wasm module")?.to_vec();
    let mut names = Namer::default();
    let mut kept = HashSet::new();
    let mut r = Reader { b: wasm, i: 8 };
    while r.i < wasm.len() {
        let id = r.byte()?;
        let len = r.len()?;
        let body = r.take(len)?;
        let body = match id {
            2 => imports(body, &mut names)?,
            7 => exports(body, &mut names, &mut kept)?,
            _ => body.to_vec(),
        };
        out.push(id);
        leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    if let Some(clash) = names.map.values().find(|n| kept.contains(*n)) {
        return Err(format!("short name {clash} is also a kept export"));
    }
    let (mut js, seen) = replace_tokens(js, &names.map);
    if let Some(missing) = names.map.keys().find(|k| !seen.contains(k.as_str())) {
        return Err(format!("the JS never names the wasm's {missing}; not renaming"));
    }
    let quoted = format!("\"{}\"", MODULE.0);
    if !js.contains(&quoted) {
        return Err(format!("the JS never names the import module {quoted}"));
    }
    js = js.replace(&quoted, &format!("\"{}\"", MODULE.1));
    Ok(Renamed { wasm: out, js, names: names.map })
}

/// Replaces every whole token (a maximal run of `[A-Za-z0-9_$]`) found in `map`; returns the text and the
/// names that occurred.
pub fn replace_tokens<'m>(text: &str, map: &'m HashMap<String, String>) -> (String, HashSet<&'m str>) {
    let mut out = String::with_capacity(text.len());
    let mut seen = HashSet::new();
    let mut rest = text;
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    while !rest.is_empty() {
        let start = rest.find(is_ident).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        let token = &rest[..end];
        match map.get_key_value(token) {
            Some((k, v)) => {
                seen.insert(k.as_str());
                out.push_str(v);
            }
            None => out.push_str(token),
        }
        rest = &rest[end..];
    }
    (out, seen)
}

/// Hands out `a`…`z`, `A`…`Z`, `aa`, `ab`, … in order of first use.
#[derive(Default)]
struct Namer {
    map: HashMap<String, String>,
}

impl Namer {
    fn rename(&mut self, old: &str) -> Res<String> {
        if old.is_empty() || !old.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("unexpected glue name {old:?}"));
        }
        let next = self.map.len();
        Ok(self.map.entry(old.to_string()).or_insert_with(|| short_name(next)).clone())
    }
}

/// The `n`th short name: bijective base 52 over `a`–`z`, `A`–`Z`.
fn short_name(mut n: usize) -> String {
    const ALPHABET: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = Vec::new();
    loop {
        s.push(ALPHABET[n % 52]);
        if n < 52 {
            break;
        }
        n = n / 52 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// The import section with every function import renamed and the module renamed to [`MODULE`]'s short name.
fn imports(body: &[u8], names: &mut Namer) -> Res<Vec<u8>> {
    let mut r = Reader { b: body, i: 0 };
    let mut out = Vec::with_capacity(body.len());
    let count = r.len()?;
    leb(&mut out, count as u64);
    for _ in 0..count {
        let module = r.name()?;
        let field = r.name()?;
        let desc_start = r.i;
        let kind = r.byte()?;
        match kind {
            0 => {
                r.len()?;
            }
            1 => {
                r.byte()?;
                r.limits()?;
            }
            2 => r.limits()?,
            3 => {
                r.take(2)?;
            }
            4 => {
                r.byte()?;
                r.len()?;
            }
            k => return Err(format!("unknown import kind {k}")),
        }
        if module != MODULE.0 || kind != 0 {
            return Err(format!("unexpected import {module}.{field} (kind {kind}); not renaming"));
        }
        put_name(&mut out, MODULE.1);
        put_name(&mut out, &names.rename(field)?);
        out.extend_from_slice(r.b.get(desc_start..r.i).ok_or("truncated import")?);
    }
    if r.i != body.len() {
        return Err("trailing bytes in the import section".into());
    }
    Ok(out)
}

/// The export section with wasm-bindgen's own exports renamed; `kept` collects the names left alone.
fn exports(body: &[u8], names: &mut Namer, kept: &mut HashSet<String>) -> Res<Vec<u8>> {
    let mut r = Reader { b: body, i: 0 };
    let mut out = Vec::with_capacity(body.len());
    let count = r.len()?;
    leb(&mut out, count as u64);
    for _ in 0..count {
        let name = r.name()?;
        let desc_start = r.i;
        r.byte()?;
        r.len()?;
        if GLUE_EXPORTS.iter().any(|p| name.starts_with(p)) {
            put_name(&mut out, &names.rename(name)?);
        } else {
            kept.insert(name.to_string());
            put_name(&mut out, name);
        }
        out.extend_from_slice(r.b.get(desc_start..r.i).ok_or("truncated export")?);
    }
    if r.i != body.len() {
        return Err("trailing bytes in the export section".into());
    }
    Ok(out)
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

/// Appends `v` as unsigned LEB128.
fn leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Res<u8> {
        let b = *self.b.get(self.i).ok_or("truncated wasm")?;
        self.i += 1;
        Ok(b)
    }

    /// An unsigned LEB128 count or length.
    fn len(&mut self) -> Res<usize> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return usize::try_from(v).map_err(|e| e.to_string());
            }
        }
        Err("LEB128 too long".into())
    }

    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let s = self.b.get(self.i..self.i.saturating_add(n)).ok_or("truncated wasm")?;
        self.i += n;
        Ok(s)
    }

    fn name(&mut self) -> Res<&'a str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| "a wasm name is not UTF-8".to_string())
    }

    /// Table or memory limits: flags, minimum, and a maximum when flag bit 0 is set.
    fn limits(&mut self) -> Res<()> {
        let flags = self.byte()?;
        self.len()?;
        if flags & 1 == 1 {
            self.len()?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A module with a type section, two function imports, and exports of both kinds.
    fn module(imports: &[&str], exports: &[&str]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // type section: one type, () -> ()
        m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        let mut body = Vec::new();
        leb(&mut body, imports.len() as u64);
        for f in imports {
            put_name(&mut body, MODULE.0);
            put_name(&mut body, f);
            body.extend_from_slice(&[0, 0]);
        }
        m.push(2);
        leb(&mut m, body.len() as u64);
        m.extend_from_slice(&body);
        let mut body = Vec::new();
        leb(&mut body, exports.len() as u64);
        for (i, e) in exports.iter().enumerate() {
            put_name(&mut body, e);
            body.extend_from_slice(&[0, i as u8]);
        }
        m.push(7);
        leb(&mut m, body.len() as u64);
        m.extend_from_slice(&body);
        m
    }

    /// Import and export names of a module, in order.
    fn names(wasm: &[u8]) -> (Vec<String>, Vec<String>) {
        let (mut imps, mut exps) = (Vec::new(), Vec::new());
        let mut r = Reader { b: wasm, i: 8 };
        while r.i < wasm.len() {
            let id = r.byte().unwrap();
            let len = r.len().unwrap();
            let mut s = Reader { b: r.take(len).unwrap(), i: 0 };
            if id == 2 || id == 7 {
                for _ in 0..s.len().unwrap() {
                    if id == 2 {
                        let m = s.name().unwrap().to_string();
                        imps.push(format!("{m}.{}", s.name().unwrap()));
                    } else {
                        exps.push(s.name().unwrap().to_string());
                    }
                    s.take(2).unwrap();
                }
            }
        }
        (imps, exps)
    }

    const JS: &str = r#"const i={__proto__:null,__wbg_log_0123456789abcdef:function(e){console.log(e)},
        __wbg_now_fedcba9876543210:()=>Date.now()};
        export function mount(){return w.mount()}function free(p){w.__wbindgen_free(p);w.__wbindgen_free_x(p)}
        const s="__wbg_log_0123456789abcdef_not";return{"./realname_bg.js":i};"#;

    #[test]
    fn renames_imports_glue_exports_and_the_js_consistently() {
        let wasm = module(
            &["__wbg_log_0123456789abcdef", "__wbg_now_fedcba9876543210"],
            &["mount", "__wbindgen_free", "memory"],
        );
        let r = shorten(&wasm, JS).unwrap();
        let (imps, exps) = names(&r.wasm);
        assert_eq!(imps, ["a.a", "a.b"]);
        assert_eq!(exps, ["mount", "c", "memory"]);
        assert!(r.js.contains("{__proto__:null,a:function(e){console.log(e)},"));
        assert!(r.js.contains("b:()=>Date.now()"));
        // Whole tokens only: `mount` stays, a longer name that starts with an old one stays.
        assert!(r.js.contains("return w.mount()}"));
        assert!(r.js.contains("w.c(p);w.__wbindgen_free_x(p)"));
        assert!(r.js.contains("\"__wbg_log_0123456789abcdef_not\""));
        assert!(r.js.contains("{\"a\":i}"));
        assert_eq!(r.names.get("__wbindgen_free").map(String::as_str), Some("c"));
    }

    #[test]
    fn a_name_the_js_never_uses_stops_the_build() {
        let wasm = module(&["__wbg_log_0123456789abcdef", "__wbg_gone_0000000000000000"], &[]);
        let err = shorten(&wasm, JS).err().unwrap_or_default();
        assert!(err.contains("__wbg_gone_0000000000000000"), "{err}");
    }

    #[test]
    fn malformed_modules_are_errors_not_panics() {
        let wasm = module(&["__wbg_log_0123456789abcdef"], &["mount"]);
        for cut in 0..wasm.len() {
            let _ = shorten(&wasm[..cut], JS);
        }
        assert!(shorten(b"not wasm", JS).is_err());
        let mut other_module = wasm.clone();
        let at = other_module.windows(4).position(|w| w == b"./re").unwrap();
        other_module[at] = b'X';
        assert!(shorten(&other_module, JS).is_err());
    }

    #[test]
    fn short_names_are_unique_and_short() {
        let all: HashSet<String> = (0..3000).map(short_name).collect();
        assert_eq!(all.len(), 3000);
        assert_eq!(short_name(0), "a");
        assert_eq!(short_name(51), "Z");
        assert_eq!(short_name(52), "aa");
        assert!(all.iter().all(|n| n.len() <= 3 && n.bytes().all(|b| b.is_ascii_alphabetic())));
    }
}
