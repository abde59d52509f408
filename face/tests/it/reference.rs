//! The conversion, checked: the original TF.js models run in TensorFlow.js (Node, CPU backend, pinned in
//! `tools/package.json`) and the converted ones run by tract get the same inputs; their outputs must agree within
//! the tolerances below (see docs/face.md for the figures measured).

use std::path::PathBuf;
use std::process::Command;

use realname_face::{DetectorConfig, Embedding, embedder_input, letterbox};
use serde_json::{Value, json};

use crate::common::{decoded, engine, face_dir};

/// Largest difference allowed in a detector score logit, relative to `1 + |logit|` (background anchors have
/// logits of −50 and more, where float rounding is larger in absolute terms).
const LOGIT_TOLERANCE: f32 = 2e-4;
/// Largest difference allowed in a detector box or landmark coordinate, in model-input pixels (of 256).
const COORD_TOLERANCE: f32 = 2e-3;
/// Largest difference allowed in one component of the unit-length embedding.
const EMBEDDING_TOLERANCE: f32 = 2e-5;

const PHOTOS: [&str; 4] = ["obama.jpg", "obama_partial_face2.jpg", "biden.jpg", "astronaut.png"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the jobs in TF.js and returns each job's outputs.
fn tfjs(jobs: Vec<Value>) -> Vec<Vec<Vec<f32>>> {
    let tfjs_core = root().join("tools/node_modules/@tensorflow/tfjs-core");
    assert!(tfjs_core.is_dir(), "{} is missing: run `cargo xtask setup`", tfjs_core.display());
    let spec = json!({"models": face_dir().join("tfjs"), "jobs": jobs});
    let spec_path = std::env::temp_dir().join(format!("realname-face-reference-{}.json", std::process::id()));
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let out = Command::new("node").arg(root().join("tools/face/reference.mjs")).arg(&spec_path).output().expect("node");
    let _ = std::fs::remove_file(&spec_path);
    assert!(out.status.success(), "TF.js reference failed: {}", String::from_utf8_lossy(&out.stderr));
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    parsed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|outs| {
            outs.as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect())
                .collect()
        })
        .collect()
}

/// Writes an input tensor for the Node side (little-endian float32).
fn input_file(tag: &str, values: &[f32]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("realname-face-{tag}-{}.f32", std::process::id()));
    std::fs::write(&p, values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    p
}

fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / (1.0 + y.abs())).fold(0.0, f32::max)
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn converted_models_match_tfjs() {
    let mut jobs = Vec::new();
    let mut rust = Vec::new();
    let mut files = Vec::new();
    for (i, name) in PHOTOS.iter().enumerate() {
        let img = decoded(name);
        let (det_in, lb) = letterbox(&img);
        let det_out = engine().detector_raw(&det_in).unwrap();
        let crop = engine().analyze_image(&img).unwrap().crop;
        let emb_in = embedder_input(&crop);
        let emb_out = engine().embedder_raw(&emb_in).unwrap();
        let (df, ef) = (input_file(&format!("det{i}"), &det_in), input_file(&format!("emb{i}"), &emb_in));
        jobs.push(json!({"model": "blazeface-back", "input": df, "shape": [1, 256, 256, 3],
            "outputs": ["Identity", "Identity_1", "Identity_2", "Identity_3"]}));
        jobs.push(
            json!({"model": "faceres", "input": ef, "shape": [1, 224, 224, 3], "outputs": ["global_pooling/Mean"]}),
        );
        files.extend([df, ef]);
        rust.push((name, lb, det_out, emb_out));
    }
    let reference = tfjs(jobs);
    for f in files {
        let _ = std::fs::remove_file(f);
    }
    for (k, (name, lb, det, emb)) in rust.iter().enumerate() {
        let (tf_det, tf_emb) = (&reference[2 * k], &reference[2 * k + 1][0]);
        let logits = max_rel_diff(&det[0], &tf_det[0]).max(max_rel_diff(&det[1], &tf_det[1]));
        let coords = max_diff(&det[2], &tf_det[2]).max(max_diff(&det[3], &tf_det[3]));
        let emb_diff = max_diff(emb, tf_emb);
        let cosine =
            Embedding::normalized(emb.clone()).unwrap().cosine(&Embedding::normalized(tf_emb.clone()).unwrap());
        eprintln!(
            "{name}: logits Δ{logits:.2e}, coordinates Δ{coords:.2e}, embedding Δ{emb_diff:.2e}, cosine {cosine:.7}"
        );
        assert!(logits <= LOGIT_TOLERANCE, "{name}: detector logits differ by {logits}");
        assert!(coords <= COORD_TOLERANCE, "{name}: detector coordinates differ by {coords}");
        assert!(emb_diff <= EMBEDDING_TOLERANCE, "{name}: embeddings differ by {emb_diff}");
        assert!(cosine >= 0.99999, "{name}: embeddings' cosine {cosine}");
        // And the detections decoded from either output are the same faces.
        let cfg = DetectorConfig::default();
        let (ours, theirs) = (
            realname_face::decode_detections(det, lb, &cfg).unwrap(),
            realname_face::decode_detections(tf_det, lb, &cfg).unwrap(),
        );
        assert_eq!(ours.len(), theirs.len(), "{name}");
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(max_diff(&a.bbox, &b.bbox) < 0.01, "{name}: {a:?} vs {b:?}");
        }
    }
}
