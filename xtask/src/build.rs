//! `cargo xtask build` (release widget into `www/pkg/` with a size report) and `cargo xtask demo`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::{self, Tools};
use crate::sh::{self, Res};

/// Size budget for the complete widget, wasm + JS, gzip (issue 6): `cargo xtask build` (and so `cargo xtask test`)
/// fails above it.
pub const BUDGET_GZIP_BYTES: usize = 150 * 1024;

/// `cargo xtask build`.
pub fn run() -> Res {
    let tools = setup::run()?;
    build(&tools)
}

/// Release build → wasm-bindgen → wasm-opt → `www/pkg/`, then the size report; fails over budget.
pub fn build(tools: &Tools) -> Res {
    let root = sh::root();
    sh::run(tools.wasm_size.command("build").args(["--profile", "wasm", "-p", "realname-widget", "--lib"]))?;
    let wasm_in = tools.wasm_size.target_dir.join("wasm32-unknown-unknown/wasm/realname_widget.wasm");
    let pkg = root.join("www/pkg");
    std::fs::create_dir_all(&pkg).map_err(|e| e.to_string())?;
    // Snippet folders are named by hash: drop old ones so the size report counts only this build's.
    let _ = std::fs::remove_dir_all(pkg.join("snippets"));
    sh::run(
        Command::new(&tools.wasm_bindgen)
            .arg(&wasm_in)
            .args(["--target", "web", "--out-name", "realname", "--out-dir"])
            .arg(&pkg),
    )?;
    let wasm = pkg.join("realname_bg.wasm");
    sh::run(
        Command::new(&tools.wasm_opt)
            .args(["-Oz", "--converge", "--strip-debug", "--strip-producers", "--strip-target-features"])
            // Rust's wasm32 layout starts the stack at 1 MiB and data above it: the first KiB is never used, so
            // wasm-opt may fold constant addresses into load/store offsets (−1.5 KB gzip).
            .arg("--low-memory-unused")
            // -Oz inlines every function that has one caller, however large: the widget's big view and effect
            // functions then merge into unique giant bodies that gzip compresses worse than the separate
            // functions (measured: −6 KB gzip for +5 KB raw with a limit of 10–25 bytes, like other inlining).
            .arg("--one-caller-inline-max-function-size=20")
            .args(WASM_FEATURES)
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )?;
    shorten_glue_names(&pkg)?;
    // The npm face of the package: typed declarations for the whole JS API (over wasm-bindgen's `any`s), the
    // element's typings for React and Vue templates, and package.json, so `www/pkg` can be published as is. Every
    // function the module exports must be typed there.
    let generated = std::fs::read_to_string(pkg.join("realname.d.ts")).map_err(|e| format!("realname.d.ts: {e}"))?;
    let ours =
        std::fs::read_to_string(root.join("www/realname.d.ts")).map_err(|e| format!("www/realname.d.ts: {e}"))?;
    let untyped = untyped_exports(&generated, &ours);
    if !untyped.is_empty() {
        return Err(format!("www/realname.d.ts does not declare the module's exports {untyped:?}"));
    }
    for f in ["realname.d.ts", "react.d.ts", "vue.d.ts", "package.json"] {
        std::fs::copy(root.join("www").join(f), pkg.join(f)).map_err(|e| format!("copy www/{f}: {e}"))?;
    }
    bundle_js(tools, &pkg)?;
    // Everything a page loads counts: the wasm and the one JS module (any snippet left unbundled counts too).
    let mut files = vec![wasm, pkg.join("realname.js")];
    files.extend(js_files(&pkg.join("snippets")));
    let report = size_report(&files)?;
    eprint!("{report}");
    std::fs::write(sh::target_dir().join("size-report.txt"), &report).map_err(|e| e.to_string())?;
    hashed_copies(&pkg)?;
    crate::build_validate::run(tools)?;
    Ok(())
}

/// Renames wasm-bindgen's hashed glue names in the wasm, its JS and the wasm's `.d.ts` (see `wasm_names`).
fn shorten_glue_names(pkg: &Path) -> Res {
    let (wasm, js, dts) = (pkg.join("realname_bg.wasm"), pkg.join("realname.js"), pkg.join("realname_bg.wasm.d.ts"));
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let text = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let write = |p: &Path, b: &[u8]| std::fs::write(p, b).map_err(|e| format!("{}: {e}", p.display()));
    let r = crate::wasm_names::shorten(&read(&wasm)?, &text(&js)?)?;
    write(&wasm, &r.wasm)?;
    write(&js, r.js.as_bytes())?;
    if dts.exists() {
        write(&dts, crate::wasm_names::replace_tokens(&text(&dts)?, &r.names).0.as_bytes())?;
    }
    Ok(())
}

/// Bundles wasm-bindgen's module and its snippets (the custom element, the JS API's helpers) into one minified
/// `realname.js`: one request instead of three, and one gzip stream (−3.4 KB gzip when measured). Exports, the
/// `import.meta.url` that locates the wasm, and the module names the wasm imports are kept.
fn bundle_js(tools: &Tools, pkg: &Path) -> Res {
    let (js, out) = (pkg.join("realname.js"), pkg.join("realname.bundle.js"));
    sh::run(
        Command::new(&tools.esbuild)
            .arg(&js)
            .args(["--bundle", "--format=esm", "--minify", "--log-level=warning"])
            // wasm-bindgen's import object names the one snippet module once per import group.
            .arg("--log-override:duplicate-object-key=silent")
            .arg(format!("--outfile={}", out.display())),
    )?;
    std::fs::rename(&out, &js).map_err(|e| format!("{}: {e}", js.display()))?;
    std::fs::remove_dir_all(pkg.join("snippets")).map_err(|e| format!("remove www/pkg/snippets: {e}"))
}

/// The `.js` files under `dir`, recursively, in a stable order.
fn js_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(js_files(&p));
            } else if p.extension().is_some_and(|x| x == "js") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Features rustc enables by default for wasm32 that wasm-opt must accept (the widget and the validation module).
pub(crate) const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

fn gzip(data: &[u8]) -> Res<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).map_err(|e| e.to_string())?;
    enc.finish().map_err(|e| e.to_string())
}

fn brotli(data: &[u8]) -> Res<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Writes `file.gz` and `file.br` beside `file` (the demo server serves them to browsers that accept them) and
/// returns their sizes.
fn precompress(file: &Path, data: &[u8]) -> Res<(usize, usize)> {
    let (g, b) = (gzip(data)?, brotli(data)?);
    for (ext, bytes) in [("gz", &g), ("br", &b)] {
        let mut out = file.as_os_str().to_owned();
        out.push(".");
        out.push(ext);
        std::fs::write(&out, bytes).map_err(|e| format!("{}: {e}", PathBuf::from(out).display()))?;
    }
    Ok((g.len(), b.len()))
}

/// Raw, gzip and brotli sizes of each file (writing its precompressed siblings) and the total; an error when the
/// gzip total is over the budget.
pub fn size_report(files: &[PathBuf]) -> Res<String> {
    let mut s = format!("{:<24} {:>10} {:>10} {:>10}\n", "file", "raw", "gzip", "brotli");
    let (mut tr, mut tg, mut tb) = (0, 0, 0);
    for f in files {
        let data = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let (g, b) = precompress(f, &data)?;
        let r = data.len();
        (tr, tg, tb) = (tr + r, tg + g, tb + b);
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        s.push_str(&format!("{name:<24} {r:>10} {g:>10} {b:>10}\n"));
    }
    s.push_str(&format!("{:<24} {tr:>10} {tg:>10} {tb:>10}\n", "total"));
    s.push_str(&format!("budget: {tg} of {BUDGET_GZIP_BYTES} bytes gzip\n"));
    if tg > BUDGET_GZIP_BYTES {
        return Err(format!(
            "{s}widget is over its size budget by {} bytes gzip (issue 6; see docs/performance.md, \"Widget size\")",
            tg - BUDGET_GZIP_BYTES
        ));
    }
    Ok(s)
}

/// A content hash for file names (FNV-1a, 64 bits, hex): a new build with other bytes gets another name. Not a
/// security measure, only cache busting.
fn content_hash(data: &[u8]) -> String {
    let h = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    format!("{h:016x}")
}

/// Writes `realname.<hash>.js` (loading `realname_bg.<hash>.wasm`) and `realname_bg.<hash>.wasm` beside the stable
/// names, with their `.br`/`.gz` siblings, and `manifest.json` mapping each stable name to its hashed one: hosts
/// serve the hashed names with long-lived immutable caching (docs/embedding.md, "Hosting the files yourself").
fn hashed_copies(pkg: &Path) -> Res {
    // Hashed copies of earlier builds would pile up.
    for e in std::fs::read_dir(pkg).map_err(|e| e.to_string())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let hashed = |stem: &str| {
            name.strip_prefix(stem)
                .and_then(|r| r.split('.').next())
                .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        if hashed("realname.") || hashed("realname_bg.") {
            std::fs::remove_file(e.path()).map_err(|err| format!("{name}: {err}"))?;
        }
    }
    let wasm = std::fs::read(pkg.join("realname_bg.wasm")).map_err(|e| format!("realname_bg.wasm: {e}"))?;
    let wasm_name = format!("realname_bg.{}.wasm", content_hash(&wasm));
    let js = std::fs::read_to_string(pkg.join("realname.js")).map_err(|e| format!("realname.js: {e}"))?;
    if js.matches("realname_bg.wasm").count() != 1 {
        return Err("realname.js should name realname_bg.wasm exactly once (the URL it loads the wasm from)".into());
    }
    let js = js.replace("realname_bg.wasm", &wasm_name);
    let js_name = format!("realname.{}.js", content_hash(js.as_bytes()));
    for (name, data) in [(&wasm_name, &wasm[..]), (&js_name, js.as_bytes())] {
        let path = pkg.join(name);
        std::fs::write(&path, data).map_err(|e| format!("{name}: {e}"))?;
        precompress(&path, data)?;
    }
    let manifest = serde_json::json!({ "realname.js": js_name, "realname_bg.wasm": wasm_name });
    std::fs::write(pkg.join("manifest.json"), format!("{manifest:#}\n")).map_err(|e| format!("manifest.json: {e}"))
}

/// `cargo xtask demo`: setup, build, then the server in demo mode serving `www/`.
pub fn demo(args: &[String]) -> Res {
    let tools = setup::run()?;
    build(&tools)?;
    let www: &Path = &sh::root().join("www");
    let mut c = sh::cargo();
    c.args(["run", "--release", "-p", "realname-server", "--", "demo", "--www"]).arg(www).args(args);
    sh::run(&mut c)
}

/// The functions `generated` (wasm-bindgen's `.d.ts`) exports that `ours` does not declare.
fn untyped_exports(generated: &str, ours: &str) -> Vec<String> {
    let exported = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.trim_start().strip_prefix("export "))
            .filter_map(|l| match l.strip_prefix("default function") {
                // The default export's own name does not matter.
                Some(_) => Some("default".to_string()),
                None => l
                    .strip_prefix("function ")?
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .map(str::to_string),
            })
            .collect()
    };
    let declared = exported(ours);
    exported(generated).into_iter().filter(|f| !declared.contains(f)).collect()
}

#[cfg(test)]
mod tests {
    use super::untyped_exports;

    #[test]
    fn every_export_of_the_module_must_be_typed() {
        let generated = "export function mount(element: Element, options: any): Widget;\n\
                         export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;\n\
                         export default function __wbg_init (module_or_path?: any): Promise<InitOutput>;\n";
        let without = "export function mount(element: Element, options?: Options): Widget;\n\
                       export default function init(module_or_path?: unknown): Promise<unknown>;\n";
        assert_eq!(untyped_exports(generated, without), ["initSync"]);
        assert_eq!(
            untyped_exports(generated, "export function initSync(m: BufferSource): unknown;\n"),
            ["mount", "default"]
        );
        let with = format!("{without}export function initSync(module: BufferSource): unknown;\n");
        assert!(untyped_exports(generated, &with).is_empty());
        let www =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../www/realname.d.ts")).unwrap_or_default();
        assert!(
            untyped_exports("export function initSync(m: any): any;\nexport function mount(): void;\n", &www)
                .is_empty()
        );
    }
}
