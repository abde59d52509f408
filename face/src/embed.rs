//! Face embedding with HSE FaceRes (a MobileNet trained for identity on VGGFace2): an aligned 224×224 crop in,
//! the 1024 identity features of its global pooling layer out, scaled to unit length; two faces of the same person
//! have a high cosine similarity. (The same graph's age and gender heads are not used.)

use image::RgbImage;

use crate::FaceError;
use crate::align::CROP;
use crate::net::Net;

/// Dimensions of an embedding.
pub const DIM: usize = 1024;
const OUTPUT: &str = "global_pooling/Mean";

/// A unit-length face embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    /// Scales `v` to unit length (None for a zero or non-finite vector).
    pub fn normalized(v: Vec<f32>) -> Option<Self> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        (norm.is_finite() && norm > f32::EPSILON).then(|| Self(v.into_iter().map(|x| x / norm).collect()))
    }

    /// Cosine similarity in −1..1 (the dot product of two unit vectors).
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum::<f32>().clamp(-1.0, 1.0)
    }
}

/// The crop as FaceRes's input: RGB values 0..255, as Human (the models' publisher) feeds it.
pub fn input(crop: &RgbImage) -> Vec<f32> {
    crop.pixels().flat_map(|p| p.0.map(f32::from)).collect()
}

/// The loaded embedder.
pub(crate) struct Embedder {
    net: Net,
}

impl Embedder {
    /// Loads the converted FaceRes graph.
    pub(crate) fn load(graph: &[u8]) -> Result<Self, FaceError> {
        let side = CROP as usize;
        Ok(Self { net: Net::load("embedder", graph, [1, side, side, 3], &[OUTPUT])? })
    }

    /// The raw output for one prepared input (for the reference check against TF.js).
    pub(crate) fn raw(&self, input: &[f32]) -> Result<Vec<f32>, FaceError> {
        self.net.run(input)?.into_iter().next().ok_or_else(|| FaceError::Model("embedder: no output".into()))
    }

    /// The embedding of an aligned crop.
    pub(crate) fn embed(&self, crop: &RgbImage) -> Result<Embedding, FaceError> {
        let raw = self.raw(&input(crop))?;
        if raw.len() != DIM {
            return Err(FaceError::Model(format!("embedder: {} values, {DIM} expected", raw.len())));
        }
        Embedding::normalized(raw).ok_or_else(|| FaceError::Model("embedder: degenerate output".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_unit_vectors() {
        let a = Embedding::normalized(vec![3.0, 4.0]).unwrap();
        assert_eq!(a.0, vec![0.6, 0.8]);
        let b = Embedding::normalized(vec![-4.0, 3.0]).unwrap();
        assert!(a.cosine(&b).abs() < 1e-6);
        assert!((a.cosine(&a) - 1.0).abs() < 1e-6);
        assert!(Embedding::normalized(vec![0.0, 0.0]).is_none());
        assert!(Embedding::normalized(vec![f32::NAN, 1.0]).is_none());
    }

    #[test]
    fn input_is_rgb_0_to_255() {
        let crop = RgbImage::from_pixel(CROP, CROP, image::Rgb([0, 128, 255]));
        let v = input(&crop);
        assert_eq!(v.len(), 224 * 224 * 3);
        assert_eq!(&v[..3], &[0.0, 128.0, 255.0]);
    }
}
