//! The whole path on real photos: one face found where there is one, the specific error where there is none, two,
//! or one too small, and embeddings that tell the same person from different people.

use image::{Rgb, RgbImage, imageops};
use realname_face::{CROP, Embedding, FaceError};

use crate::common::{OBAMA, OTHERS, decoded, document_copies, engine, photo};

fn embedding(img: &RgbImage) -> Embedding {
    engine().analyze_image(img).unwrap().embedding
}

fn scores(a: &[Embedding], b: &[Embedding], same: bool) -> Vec<f32> {
    let mut out = Vec::new();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            if !same || i < j {
                out.push(x.cosine(y));
            }
        }
    }
    out
}

#[test]
fn every_test_photo_has_one_face_with_its_landmarks_in_place() {
    for name in OBAMA.iter().chain(&OTHERS) {
        let a = engine().analyze(&photo(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let [right_eye, left_eye, nose, mouth, ..] = a.face.landmarks;
        assert!(right_eye[0] < left_eye[0], "{name}: the person's right eye is on the image's left");
        assert!(nose[1] > right_eye[1].max(left_eye[1]) && mouth[1] > nose[1], "{name}: eyes, nose, mouth top down");
        let [l, t, r, b] = a.face.bbox;
        assert!(l < nose[0] && nose[0] < r && t < nose[1] && nose[1] < b, "{name}: the nose is inside the box");
        assert!(a.face.score >= engine().config().detector.min_score);
        assert_eq!(a.crop.dimensions(), (CROP, CROP));
    }
}

#[test]
fn the_same_person_scores_above_every_different_pair() {
    let obama: Vec<Embedding> = OBAMA.iter().map(|n| embedding(&decoded(n))).collect();
    let others: Vec<Embedding> = OTHERS.iter().map(|n| embedding(&decoded(n))).collect();
    let genuine = scores(&obama, &obama, true);
    let mut impostor = scores(&obama, &others, false);
    impostor.extend(scores(&others, &others, true));
    let min_genuine = genuine.iter().copied().fold(f32::MAX, f32::min);
    let max_impostor = impostor.iter().copied().fold(f32::MIN, f32::max);
    eprintln!("genuine {genuine:?}\nimpostor {impostor:?}");
    assert!(min_genuine > max_impostor + 0.05, "genuine ≥ {min_genuine}, impostor ≤ {max_impostor}");
}

fn side_by_side(a: &RgbImage, b: &RgbImage) -> RgbImage {
    let h = 600;
    let fit = |i: &RgbImage| imageops::resize(i, i.width() * h / i.height(), h, imageops::Triangle);
    let (a, b) = (fit(a), fit(b));
    let mut out = RgbImage::new(a.width() + b.width(), h);
    imageops::replace(&mut out, &a, 0, 0);
    imageops::replace(&mut out, &b, i64::from(a.width()), 0);
    out
}

#[test]
fn two_people_in_one_photo_are_several_faces() {
    let pair = side_by_side(&decoded("obama.jpg"), &decoded("biden.jpg"));
    assert_eq!(engine().analyze_image(&pair).unwrap_err(), FaceError::SeveralFaces { count: 2 });
}

#[test]
fn a_photo_without_a_face_is_no_face() {
    let wall = RgbImage::from_fn(640, 480, |x, y| Rgb([(x / 3) as u8, (y / 2) as u8, 120]));
    assert_eq!(engine().analyze_image(&wall).unwrap_err(), FaceError::NoFace);
    let err = engine().analyze(b"GIF89a").unwrap_err();
    assert_eq!((err.code(), err.is_photo_problem()), ("image_format", true));
}

#[test]
fn a_face_far_away_is_too_small() {
    // obama.jpg shrunk to 150 px wide: the face is ~40 px, found but below the 48 px minimum.
    let small = imageops::thumbnail(&decoded("obama.jpg"), 150, 187);
    let faces = engine().detect(&small).unwrap();
    assert_eq!(faces.len(), 1, "still detected");
    let err = engine().analyze_image(&small).unwrap_err();
    assert!(matches!(err, FaceError::FaceTooSmall { min: 48, .. }), "{err:?}");
    assert_eq!(err.code(), "face_too_small");
}

#[test]
fn document_style_copies_still_match_and_still_differ() {
    let variants = document_copies("obama2.jpg");
    let reference = embedding(&decoded("obama.jpg"));
    let stranger = embedding(&decoded("biden.jpg"));
    for (what, img) in variants {
        let e = embedding(&img);
        let (same, other) = (e.cosine(&reference), e.cosine(&stranger));
        eprintln!("{what}: same person {same:.3}, other person {other:.3}");
        assert!(same > other + 0.1, "{what}: {same} vs {other}");
    }
}
