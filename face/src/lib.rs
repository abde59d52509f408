//! On-premise face verification in pure Rust: defensive image decoding, face detection (BlazeFace), alignment,
//! embedding (HSE FaceRes) and cosine similarity. The models are TF.js graph
//! models from npm converted into TensorFlow `GraphDef`s by `cargo xtask face-models` and run by `tract`; this crate
//! does no I/O: it is handed the graphs' bytes and the photos' bytes. Provenance: `face/data/README.md`.

mod align;
mod band;
mod detect;
mod embed;
mod error;
mod net;
mod photo;

pub use crate::align::{CROP, Similarity};
pub use crate::band::{Band, Thresholds};
pub use crate::detect::{
    Detection, DetectorConfig, INPUT as DETECTOR_INPUT, Letterbox, decode as decode_detections, letterbox,
};
pub use crate::embed::{DIM as EMBEDDING_DIM, Embedding, input as embedder_input};
pub use crate::error::FaceError;
pub use crate::photo::{Limits, decode};
pub use ::image::RgbImage;

/// The converted detector's file name in the folder `cargo xtask face-models` writes.
pub const DETECTOR_FILE: &str = "blazeface-back.pb";
/// The converted embedder's file name.
pub const EMBEDDER_FILE: &str = "faceres.pb";

/// Everything tunable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Bounds on the photo.
    pub limits: Limits,
    /// Detection thresholds.
    pub detector: DetectorConfig,
    /// The narrowest face box, in photo pixels, that is compared (narrower: "move closer").
    pub min_face_width: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self { limits: Limits::default(), detector: DetectorConfig::default(), min_face_width: 48 }
    }
}

/// One photo's face: where it is, its aligned crop and its embedding.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The detected face.
    pub face: Detection,
    /// The aligned crop (what a reviewer should see side by side).
    pub crop: RgbImage,
    /// Its embedding.
    pub embedding: Embedding,
}

/// The loaded models and the configuration; cheap to share between threads.
pub struct FaceEngine {
    detector: detect::Detector,
    embedder: embed::Embedder,
    config: Config,
}

impl FaceEngine {
    /// Loads the converted detector and embedder graphs (the bytes of `DETECTOR_FILE` and `EMBEDDER_FILE`).
    pub fn new(detector_graph: &[u8], embedder_graph: &[u8], config: Config) -> Result<Self, FaceError> {
        Ok(Self {
            detector: detect::Detector::load(detector_graph)?,
            embedder: embed::Embedder::load(embedder_graph)?,
            config,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Decodes an uploaded photo within the limits and analyses its one face.
    pub fn analyze(&self, photo: &[u8]) -> Result<Analysis, FaceError> {
        self.analyze_image(&decode(photo, &self.config.limits)?)
    }

    /// Every face in a decoded photo, most confident first.
    pub fn detect(&self, photo: &RgbImage) -> Result<Vec<Detection>, FaceError> {
        self.detector.detect(photo, &self.config.detector)
    }

    /// Analyses a decoded photo: exactly one face, large enough, aligned and embedded.
    pub fn analyze_image(&self, photo: &RgbImage) -> Result<Analysis, FaceError> {
        let faces = self.detect(photo)?;
        let face = match faces.as_slice() {
            [] => return Err(FaceError::NoFace),
            [one] => *one,
            several => return Err(FaceError::SeveralFaces { count: several.len() }),
        };
        let width = face.width().max(0.0).round() as u32;
        if width < self.config.min_face_width {
            return Err(FaceError::FaceTooSmall { width, min: self.config.min_face_width });
        }
        let crop = align::crop(photo, &face).ok_or(FaceError::NoFace)?;
        let embedding = self.embedder.embed(&crop)?;
        Ok(Analysis { face, crop, embedding })
    }

    /// The detector's raw outputs for a prepared input (`letterbox`), to check the conversion against TF.js.
    pub fn detector_raw(&self, input: &[f32]) -> Result<Vec<Vec<f32>>, FaceError> {
        self.detector.raw(input)
    }

    /// The embedder's raw output for a prepared input (`embedder_input`), to check the conversion against TF.js.
    pub fn embedder_raw(&self, input: &[f32]) -> Result<Vec<f32>, FaceError> {
        self.embedder.raw(input)
    }
}
