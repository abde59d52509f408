//! Face detection with MediaPipe BlazeFace (the 256×256 "back camera" variant): letterbox the photo into the
//! model's square input, decode the 896 anchor predictions (box and six landmarks each), keep the confident ones
//! and suppress overlaps.

use image::{RgbImage, imageops};

use crate::FaceError;
use crate::net::Net;

/// The model's input side in pixels.
pub const INPUT: usize = 256;
/// The graph's outputs: scores of the 512 stride-16 anchors, of the 384 stride-32 anchors, then their regressors.
const OUTPUTS: [&str; 4] = ["Identity", "Identity_1", "Identity_2", "Identity_3"];
/// Values per anchor in the regressor outputs: box centre offset, box size, six landmarks (x, y).
const REGRESSORS: usize = 16;

/// One face found in a photo, in the photo's pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Confidence in 0..1.
    pub score: f32,
    /// Box as `[left, top, right, bottom]`.
    pub bbox: [f32; 4],
    /// Right eye, left eye (the person's own sides), nose tip, mouth centre, right ear, left ear.
    pub landmarks: [[f32; 2]; 6],
}

impl Detection {
    /// Width of the box in pixels.
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }
}

/// Detection thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// A prediction at least this confident counts as a face.
    pub min_score: f32,
    /// Two predictions overlapping more than this (intersection over union) are the same face.
    pub max_overlap: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self { min_score: 0.75, max_overlap: 0.3 }
    }
}

/// Where the photo sits in the model's square input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Input pixels per photo pixel.
    pub scale: f32,
    /// Left padding in input pixels.
    pub dx: f32,
    /// Top padding in input pixels.
    pub dy: f32,
}

impl Letterbox {
    fn to_photo(self, x: f32, y: f32) -> [f32; 2] {
        [(x - self.dx) / self.scale, (y - self.dy) / self.scale]
    }
}

/// Anchor centres in input pixels, in the order of the model's outputs.
fn anchors() -> Vec<[f32; 2]> {
    let mut a = Vec::with_capacity(896);
    for (stride, per_cell) in [(16usize, 2usize), (32, 6)] {
        let cells = INPUT / stride;
        for y in 0..cells {
            for x in 0..cells {
                let c = [(x as f32 + 0.5) * stride as f32, (y as f32 + 0.5) * stride as f32];
                a.extend(std::iter::repeat_n(c, per_cell));
            }
        }
    }
    a
}

/// The photo scaled to fit the square input (aspect ratio kept, centred, black around it), as the model's input
/// values in −1..1.
pub fn letterbox(photo: &RgbImage) -> (Vec<f32>, Letterbox) {
    let (w, h) = photo.dimensions();
    let scale = INPUT as f32 / w.max(h) as f32;
    let nw = ((w as f32 * scale).round() as u32).clamp(1, INPUT as u32);
    let nh = ((h as f32 * scale).round() as u32).clamp(1, INPUT as u32);
    // thumbnail() averages every source pixel into the target (fast, no aliasing); it only shrinks.
    let resized = if scale < 1.0 {
        imageops::thumbnail(photo, nw, nh)
    } else {
        imageops::resize(photo, nw, nh, imageops::Triangle)
    };
    let (dx, dy) = ((INPUT as u32 - nw) / 2, (INPUT as u32 - nh) / 2);
    let mut input = vec![-1.0f32; INPUT * INPUT * 3];
    for (x, y, p) in resized.enumerate_pixels() {
        let at = (((y + dy) as usize) * INPUT + (x + dx) as usize) * 3;
        for c in 0..3 {
            input[at + c] = f32::from(p.0[c]) / 127.5 - 1.0;
        }
    }
    // Scale as actually applied (rounding of the resized size), per axis averaged.
    let applied = (nw as f32 / w as f32 + nh as f32 / h as f32) / 2.0;
    (input, Letterbox { scale: applied, dx: dx as f32, dy: dy as f32 })
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Turns the model's raw outputs (in `OUTPUTS` order) into faces in photo coordinates, most confident first.
pub fn decode(outputs: &[Vec<f32>], lb: &Letterbox, cfg: &DetectorConfig) -> Result<Vec<Detection>, FaceError> {
    let [s16, s32, r16, r32] = outputs else { return Err(FaceError::Model("detector: four outputs expected".into())) };
    let anchors = anchors();
    let scores: Vec<f32> = s16.iter().chain(s32).copied().collect();
    let regs: Vec<f32> = r16.iter().chain(r32).copied().collect();
    if scores.len() != anchors.len() || regs.len() != anchors.len() * REGRESSORS {
        return Err(FaceError::Model("detector: unexpected output sizes".into()));
    }
    let mut found: Vec<Detection> = Vec::new();
    for (i, (anchor, logit)) in anchors.iter().zip(&scores).enumerate() {
        let score = 1.0 / (1.0 + (-logit.clamp(-100.0, 100.0)).exp());
        if score < cfg.min_score {
            continue;
        }
        let r = &regs[i * REGRESSORS..(i + 1) * REGRESSORS];
        let (cx, cy) = (r[0] + anchor[0], r[1] + anchor[1]);
        let (hw, hh) = (r[2] / 2.0, r[3] / 2.0);
        let tl = lb.to_photo(cx - hw, cy - hh);
        let br = lb.to_photo(cx + hw, cy + hh);
        let mut landmarks = [[0.0; 2]; 6];
        for (k, l) in landmarks.iter_mut().enumerate() {
            *l = lb.to_photo(r[4 + 2 * k] + anchor[0], r[5 + 2 * k] + anchor[1]);
        }
        found.push(Detection { score, bbox: [tl[0], tl[1], br[0], br[1]], landmarks });
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in found {
        if kept.iter().all(|k| iou(&k.bbox, &d.bbox) <= cfg.max_overlap) {
            kept.push(d);
        }
    }
    Ok(kept)
}

/// The loaded detector.
pub(crate) struct Detector {
    net: Net,
}

impl Detector {
    /// Loads the converted BlazeFace graph.
    pub(crate) fn load(graph: &[u8]) -> Result<Self, FaceError> {
        Ok(Self { net: Net::load("detector", graph, [1, INPUT, INPUT, 3], &OUTPUTS)? })
    }

    /// The raw outputs for one prepared input (for the reference check against TF.js).
    pub(crate) fn raw(&self, input: &[f32]) -> Result<Vec<Vec<f32>>, FaceError> {
        self.net.run(input)
    }

    /// Every face in the photo, most confident first.
    pub(crate) fn detect(&self, photo: &RgbImage, cfg: &DetectorConfig) -> Result<Vec<Detection>, FaceError> {
        let (input, lb) = letterbox(photo);
        decode(&self.net.run(&input)?, &lb, cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_the_two_output_layers() {
        let a = anchors();
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], [8.0, 8.0]);
        assert_eq!(a[1], [8.0, 8.0]);
        assert_eq!(a[2], [24.0, 8.0]);
        assert_eq!(a[511], [248.0, 248.0]);
        assert_eq!(a[512], [16.0, 16.0]);
        assert_eq!(a[895], [240.0, 240.0]);
    }

    fn raw_with(hits: &[(usize, f32, [f32; 4])]) -> Vec<Vec<f32>> {
        let mut out = vec![vec![-20.0; 512], vec![-20.0; 384], vec![0.0; 512 * 16], vec![0.0; 384 * 16]];
        for (i, logit, b) in hits {
            let (s, r, j) = if *i < 512 { (0, 2, *i) } else { (1, 3, i - 512) };
            out[s][j] = *logit;
            out[r][j * 16..j * 16 + 4].copy_from_slice(b);
        }
        out
    }

    #[test]
    fn decodes_boxes_into_photo_coordinates_and_suppresses_overlaps() {
        // Photo 512×256 letterboxed: scale 0.5, 64 px of padding above.
        let lb = Letterbox { scale: 0.5, dx: 0.0, dy: 64.0 };
        // Anchor 512 is centred at (16, 16): a 20×10 box offset by (4, 2).
        let raw =
            raw_with(&[(512, 3.0, [4.0, 2.0, 20.0, 10.0]), (513, 2.0, [5.0, 2.0, 20.0, 10.0]), (0, -3.0, [0.0; 4])]);
        let faces = decode(&raw, &lb, &DetectorConfig::default()).unwrap();
        assert_eq!(faces.len(), 1, "the second box overlaps the first, the third is not confident");
        let f = faces[0];
        assert!((f.score - 0.952_574_1).abs() < 1e-6);
        assert_eq!(f.bbox, [20.0, -102.0, 60.0, -82.0]);
        assert_eq!(f.landmarks[0], [32.0, -96.0]);
        assert_eq!(f.width(), 40.0);
        let apart = raw_with(&[(0, 3.0, [0.0, 0.0, 10.0, 10.0]), (511, 2.0, [0.0, 0.0, 10.0, 10.0])]);
        assert_eq!(decode(&apart, &lb, &DetectorConfig::default()).unwrap().len(), 2);
        assert!(decode(&raw[..3], &lb, &DetectorConfig::default()).is_err());
    }

    #[test]
    fn letterbox_centres_the_photo_in_the_square_input() {
        let photo = RgbImage::from_pixel(512, 256, image::Rgb([255, 0, 255]));
        let (input, lb) = letterbox(&photo);
        assert_eq!(lb, Letterbox { scale: 0.5, dx: 0.0, dy: 64.0 });
        assert_eq!(&input[..3], &[-1.0, -1.0, -1.0], "padding is black");
        let at = (128 * INPUT + 128) * 3;
        assert_eq!(&input[at..at + 3], &[1.0, -1.0, 1.0]);
    }
}
