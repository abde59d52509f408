//! Alignment: the similarity transform (rotation, uniform scale, shift; no shear, no mirror) that best maps the
//! detected eyes, nose and mouth onto where the embedding model expects them in its square input, and the crop it
//! produces.

use image::{Rgb, RgbImage};

use crate::detect::Detection;

/// Side of the aligned crop in pixels (FaceRes's input).
pub const CROP: u32 = 224;

/// Where the right eye, left eye, nose tip and mouth centre sit in the crop. FaceRes was trained on VGGFace2's
/// loose face boxes, and Human feeds it BlazeFace's box: these are the landmarks' places in a frontal face's
/// BlazeFace box (eyes at 28.5 % and 71.5 % of the width and 25.5 % of the height, nose at 49 %, mouth at 70 %),
/// so the crop is that box, turned upright.
const TEMPLATE: [[f32; 2]; 4] = [[64.4, 57.1], [159.6, 57.1], [112.0, 109.8], [112.0, 156.8]];

/// `p ↦ A·(p − from) + to` with `A = [[a, −b], [b, a]]`: a rotation with uniform scale `√(a² + b²)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    a: f32,
    b: f32,
    from: [f32; 2],
    to: [f32; 2],
}

impl Similarity {
    /// The least-squares similarity mapping `src` points onto `dst` points (Umeyama's method without reflection),
    /// or None when the source points coincide.
    pub fn fit(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Self> {
        let n = src.len().min(dst.len()) as f32;
        let mean = |ps: &[[f32; 2]]| {
            let s = ps.iter().fold([0.0, 0.0], |m, p| [m[0] + p[0], m[1] + p[1]]);
            [s[0] / n, s[1] / n]
        };
        let (ms, md) = (mean(src), mean(dst));
        // As complex numbers: c = Σ conj(s)·d / Σ |s|² minimises Σ |c·s − d|² over centred points.
        let (mut re, mut im, mut norm) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy, dx, dy) = (s[0] - ms[0], s[1] - ms[1], d[0] - md[0], d[1] - md[1]);
            re += sx * dx + sy * dy;
            im += sx * dy - sy * dx;
            norm += sx * sx + sy * sy;
        }
        (norm > f32::EPSILON).then(|| Self { a: re / norm, b: im / norm, from: ms, to: md })
    }

    /// The image of `p`.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let (x, y) = (p[0] - self.from[0], p[1] - self.from[1]);
        [self.a * x - self.b * y + self.to[0], self.b * x + self.a * y + self.to[1]]
    }

    /// The inverse transform.
    pub fn inverse(&self) -> Self {
        let s = self.a * self.a + self.b * self.b;
        Self { a: self.a / s, b: -self.b / s, from: self.to, to: self.from }
    }

    /// The uniform scale factor.
    pub fn scale(&self) -> f32 {
        (self.a * self.a + self.b * self.b).sqrt()
    }

    /// The rotation in degrees (counter-clockwise in image coordinates, where y points down).
    pub fn rotation_degrees(&self) -> f32 {
        self.b.atan2(self.a).to_degrees()
    }
}

/// Bilinear sample at continuous pixel coordinates (pixel centres at +0.5); black outside the photo.
fn sample(photo: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (photo.width() as i64, photo.height() as i64);
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - x0, fy - y0);
    let mut out = [0.0; 3];
    for (dy, wy) in [(0, 1.0 - ty), (1, ty)] {
        for (dx, wx) in [(0, 1.0 - tx), (1, tx)] {
            let (px, py) = (x0 as i64 + dx, y0 as i64 + dy);
            if px >= 0 && py >= 0 && px < w && py < h {
                let p = photo.get_pixel(px as u32, py as u32).0;
                for c in 0..3 {
                    out[c] += wx * wy * f32::from(p[c]);
                }
            }
        }
    }
    out
}

/// The transform from the photo onto the template, from the face's eyes, nose and mouth.
pub fn transform(face: &Detection) -> Option<Similarity> {
    Similarity::fit(&face.landmarks[..4], &TEMPLATE)
}

/// The aligned crop of the face (`CROP` pixels square). When the face is larger than the crop, each crop pixel averages a grid of
/// samples (up to 4×4) so that shrinking a large photo does not alias.
pub fn crop(photo: &RgbImage, face: &Detection) -> Option<RgbImage> {
    let to_photo = transform(face)?.inverse();
    let n = to_photo.scale().ceil().clamp(1.0, 4.0) as usize;
    let mut out = RgbImage::new(CROP, CROP);
    for (u, v, px) in out.enumerate_pixels_mut() {
        let mut acc = [0.0; 3];
        for j in 0..n {
            for i in 0..n {
                // The template's coordinates are pixel indices (centres at integers), as in the reference alignment.
                let q = [u as f32 + (i as f32 + 0.5) / n as f32 - 0.5, v as f32 + (j as f32 + 0.5) / n as f32 - 0.5];
                let p = to_photo.apply(q);
                let s = sample(photo, p[0] + 0.5, p[1] + 0.5);
                for c in 0..3 {
                    acc[c] += s[c];
                }
            }
        }
        let k = (n * n) as f32;
        *px = Rgb(acc.map(|a| (a / k).round().clamp(0.0, 255.0) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f32; 2], b: [f32; 2]) -> bool {
        (a[0] - b[0]).abs() < 1e-3 && (a[1] - b[1]).abs() < 1e-3
    }

    #[test]
    fn fits_an_exact_similarity_and_inverts_it() {
        // Rotate by 30°, scale by 2, shift by (5, −3).
        let (c, s) = (30f32.to_radians().cos() * 2.0, 30f32.to_radians().sin() * 2.0);
        let src = [[0.0, 0.0], [10.0, 0.0], [3.0, 7.0], [-4.0, 2.0]];
        let dst: Vec<[f32; 2]> = src.iter().map(|p| [c * p[0] - s * p[1] + 5.0, s * p[0] + c * p[1] - 3.0]).collect();
        let t = Similarity::fit(&src, &dst).unwrap();
        assert!((t.scale() - 2.0).abs() < 1e-4);
        assert!((t.rotation_degrees() - 30.0).abs() < 1e-3);
        for (p, q) in src.iter().zip(&dst) {
            assert!(close(t.apply(*p), *q));
            assert!(close(t.inverse().apply(*q), *p));
        }
        assert!(Similarity::fit(&[[1.0, 1.0]; 4], &TEMPLATE).is_none(), "coincident points have no transform");
    }

    #[test]
    fn a_mirrored_face_is_not_fitted_by_a_reflection() {
        // Eyes swapped: the best similarity is a 180° turn, never a mirror, so it cannot match exactly.
        let mirrored: Vec<[f32; 2]> = TEMPLATE.iter().map(|p| [224.0 - p[0], p[1]]).collect();
        let t = Similarity::fit(&mirrored, &TEMPLATE).unwrap();
        let err: f32 = mirrored.iter().zip(&TEMPLATE).map(|(p, q)| (t.apply(*p)[0] - q[0]).abs()).sum();
        assert!(err > 10.0);
    }

    #[test]
    fn crop_puts_the_landmarks_on_the_template() {
        // A photo whose landmarks are the template scaled by 3 and shifted: the crop is the photo shrunk back.
        let mut photo = RgbImage::from_pixel(720, 720, Rgb([0, 0, 0]));
        for (k, p) in TEMPLATE.iter().enumerate() {
            let (x, y) = ((p[0] * 3.0 + 20.0) as u32, (p[1] * 3.0 + 20.0) as u32);
            for dy in 0..12 {
                for dx in 0..12 {
                    photo.put_pixel(x + dx - 6, y + dy - 6, Rgb([255, 60 * k as u8, 0]));
                }
            }
        }
        let mut landmarks = [[0.0; 2]; 6];
        for (l, p) in landmarks.iter_mut().zip(TEMPLATE) {
            *l = [p[0] * 3.0 + 20.0, p[1] * 3.0 + 20.0];
        }
        let face = Detection { score: 1.0, bbox: [0.0, 0.0, 720.0, 720.0], landmarks };
        let out = crop(&photo, &face).unwrap();
        for (k, p) in TEMPLATE.iter().enumerate() {
            let px = out.get_pixel(p[0].round() as u32, p[1].round() as u32).0;
            assert!(px[0] > 200, "landmark {k} lands on its template point: {px:?}");
            assert_eq!(px[1], 60 * k as u8);
        }
        assert_eq!(out.get_pixel(5, 5).0, [0, 0, 0]);
    }
}
