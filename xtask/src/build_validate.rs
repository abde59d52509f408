//! The validation-only wasm module (`validate/`, package `realname-validate`) into `www/pkg/validate/`: built for
//! speed (profile `wasm-speed`: opt-level 3, fat LTO, then `wasm-opt -O3`), bound with wasm-bindgen `--target web`
//! and fronted by the hand-written `validate/js/` API. `cargo xtask build` runs it beside the widget; `cargo xtask
//! bench-js` benchmarks exactly this output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::WASM_FEATURES;
use crate::setup::{Tools, WasmToolchain};
use crate::sh::{self, Res};

/// The files a page loads, in load order: the entry, the API, wasm-bindgen's loader, the wasm.
pub const FILES: [&str; 4] = ["index.js", "api.js", "validate_wasm.js", "validate_wasm_bg.wasm"];

/// `cargo xtask build`'s step: the module into `www/pkg/validate/`, with its size report.
pub fn run(tools: &Tools) -> Res {
    let out = sh::root().join("www/pkg/validate");
    build(tools, &tools.wasm.target_dir, &out)?;
    let report = size_report(&out, true)?;
    eprint!("{report}");
    std::fs::write(sh::target_dir().join("size-report-validate.txt"), &report).map_err(|e| e.to_string())
}

/// Builds the module with the wasm32 toolchain into `cargo_dir`, then binds, optimises and copies the JS API and
/// its declarations into `out`.
pub fn build(tools: &Tools, cargo_dir: &Path, out: &Path) -> Res {
    let root = sh::root();
    let wasm32 = WasmToolchain {
        cargo: tools.wasm.cargo.clone(),
        env: tools.wasm.env.clone(),
        args: tools.wasm.args.clone(),
        target_dir: cargo_dir.to_path_buf(),
    };
    sh::run(wasm32.command("build").args(["--profile", "wasm-speed", "-p", "realname-validate", "--lib"]))?;
    let wasm_in = cargo_dir.join("wasm32-unknown-unknown/wasm-speed/realname_validate.wasm");
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    sh::run(
        Command::new(&tools.wasm_bindgen)
            .arg(&wasm_in)
            .args(["--target", "web", "--no-typescript", "--out-name", "validate_wasm", "--out-dir"])
            .arg(out),
    )?;
    let wasm = out.join("validate_wasm_bg.wasm");
    sh::run(
        Command::new(&tools.wasm_opt)
            .args(["-O3", "--strip-debug", "--strip-producers"])
            .args(WASM_FEATURES)
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )?;
    for f in ["index.js", "node.js", "api.js", "index.d.ts"] {
        std::fs::copy(root.join("validate/js").join(f), out.join(f))
            .map_err(|e| format!("copy validate/js/{f}: {e}"))?;
    }
    Ok(())
}

/// Raw, gzip and brotli sizes of the module's files; with `precompress`, writes `.gz`/`.br` siblings (the demo
/// server sends them to browsers that accept them).
pub fn size_report(out: &Path, precompress: bool) -> Res<String> {
    let mut s = format!("{:<24} {:>10} {:>10} {:>10}\n", "validate/", "raw", "gzip", "brotli");
    let (mut tr, mut tg, mut tb) = (0, 0, 0);
    for f in FILES {
        let path = out.join(f);
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).map_err(|e| e.to_string())?;
        let gz = gz.finish().map_err(|e| e.to_string())?;
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
        brotli::BrotliCompress(&mut &data[..], &mut br, &params).map_err(|e| e.to_string())?;
        if precompress {
            for (ext, bytes) in [("gz", &gz), ("br", &br)] {
                let p = PathBuf::from(format!("{}.{ext}", path.display()));
                std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
        (tr, tg, tb) = (tr + data.len(), tg + gz.len(), tb + br.len());
        s.push_str(&format!("{f:<24} {:>10} {:>10} {:>10}\n", data.len(), gz.len(), br.len()));
    }
    s.push_str(&format!("{:<24} {tr:>10} {tg:>10} {tb:>10}\n", "total (validate/)"));
    Ok(s)
}
