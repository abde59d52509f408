//! Shared helpers: where `cargo xtask face-models` put its output, one engine for the whole test binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use realname_face::{Config, DETECTOR_FILE, EMBEDDER_FILE, FaceEngine, Limits, RgbImage, decode};

/// `$REALNAME_FACE_DIR`, else `face/` in the target dir this test binary was built into
/// (`<target>/debug/deps/it-…`).
pub fn face_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("REALNAME_FACE_DIR") {
        return dir.into();
    }
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors().nth(3).expect("target dir above the test binary").join("face")
}

/// A file written by `cargo xtask face-models`.
pub fn read(rel: &str) -> Vec<u8> {
    let path = face_dir().join(rel);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask face-models` (or `cargo xtask setup`)", path.display()))
}

/// A test photo's bytes.
pub fn photo(name: &str) -> Vec<u8> {
    read(&format!("images/{name}"))
}

/// A test photo, decoded.
pub fn decoded(name: &str) -> RgbImage {
    decode(&photo(name), &Limits::default()).expect("test photo decodes")
}

/// The engine with the converted models and the default configuration, loaded once.
pub fn engine() -> &'static FaceEngine {
    static ENGINE: OnceLock<FaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let detector = read(&format!("models/{DETECTOR_FILE}"));
        let embedder = read(&format!("models/{EMBEDDER_FILE}"));
        FaceEngine::new(&detector, &embedder, Config::default()).expect("converted models load")
    })
}

/// The photos with exactly one face, by person.
pub const OBAMA: [&str; 5] = ["obama.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face2.jpg", "32bit.png"];
/// One photo each of two other people.
pub const OTHERS: [&str; 2] = ["biden.jpg", "astronaut.png"];
