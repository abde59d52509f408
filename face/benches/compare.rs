//! Criterion benchmark of one complete face comparison: two photos decoded, their faces detected, aligned and
//! embedded, and the two embeddings compared (`cargo xtask bench-face`, which pins it to one core; the target is
//! 150 ms, docs/face.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use realname_face::{Config, DETECTOR_FILE, EMBEDDER_FILE, FaceEngine};

fn read(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    let p = dir.join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask face-models`", p.display()))
}

fn compare(c: &mut Criterion) {
    let dir = PathBuf::from(
        std::env::var_os("REALNAME_FACE_DIR").expect("REALNAME_FACE_DIR (set by cargo xtask bench-face)"),
    );
    let models = dir.join("models");
    let engine =
        FaceEngine::new(&read(&models, DETECTOR_FILE), &read(&models, EMBEDDER_FILE), Config::default()).unwrap();
    // A selfie-sized portrait (910×1137 JPEG) against a larger photo of another person (970×2204 JPEG).
    let (a, b) = (read(&dir, "images/obama.jpg"), read(&dir, "images/biden.jpg"));
    c.bench_function("compare two photos", |bench| {
        bench.iter(|| {
            let x = engine.analyze(black_box(&a)).unwrap();
            let y = engine.analyze(black_box(&b)).unwrap();
            x.embedding.cosine(&y.embedding)
        })
    });
}

criterion_group!(benches, compare);
criterion_main!(benches);
