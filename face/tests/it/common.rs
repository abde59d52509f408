//! Shared helpers: where `cargo xtask face-models` put its output, one engine for the whole test binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, Rgb, imageops};
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

/// Nearest-neighbour rotation about the centre by `degrees`, same canvas, black corners.
fn rotate(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (c, s) = (degrees.to_radians().cos(), degrees.to_radians().sin());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (c * dx - s * dy + cx, s * dx + c * dy + cy);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            Rgb([0, 0, 0])
        }
    })
}

fn recompress(img: &RgbImage, quality: u8) -> RgbImage {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .unwrap();
    decode(&out, &Limits::default()).unwrap()
}

/// Document-style copies of a test photo, the kinds of damage a document photo has: small, grey, heavily
/// compressed, slightly turned.
pub fn document_copies(name: &str) -> Vec<(&'static str, RgbImage)> {
    let base = decoded(name);
    let small = imageops::thumbnail(&base, base.width() * 460 / base.height(), 460);
    vec![
        ("small", small.clone()),
        ("grey", DynamicImage::ImageRgb8(base.clone()).grayscale().into_rgb8()),
        ("jpeg q15", recompress(&small, 15)),
        ("turned 8°", rotate(&base, 8.0)),
    ]
}
