//! Hostile and odd uploads: every one is a specific, clean error (or a correct image), never a panic, a hang or a
//! huge allocation. No models needed.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};
use realname_face::{FaceError, Limits, decode};

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y) % 256) as u8]))
}

fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8).unwrap();
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A real PNG whose header is rewritten to claim `w`×`h` (its data stays that of the small image).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut p = png(&gradient(64, 64));
    // Signature (8), IHDR length (4) and type (4), then width and height; the CRC covers type + data (17 bytes).
    p[16..20].copy_from_slice(&w.to_be_bytes());
    p[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&p[12..29]);
    p[29..33].copy_from_slice(&crc.to_be_bytes());
    p
}

/// A real JPEG whose frame header (SOF0) is rewritten to claim `w`×`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut j = jpeg(&gradient(64, 64), 90);
    let sof = j.windows(2).position(|m| m == [0xff, 0xc0]).expect("baseline frame header");
    // Marker (2), length (2), precision (1), then height and width.
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

#[test]
fn valid_jpeg_and_png_decode_to_rgb() {
    let img = gradient(120, 80);
    let from_png = decode(&png(&img), &Limits::default()).unwrap();
    assert_eq!(from_png, img, "PNG is lossless");
    let from_jpeg = decode(&jpeg(&img, 95), &Limits::default()).unwrap();
    assert_eq!(from_jpeg.dimensions(), (120, 80));
}

#[test]
fn oversized_uploads_are_refused_before_decoding() {
    let limits = Limits::default();
    let mut big = jpeg(&gradient(64, 64), 90);
    big.resize(limits.max_bytes + 1, 0);
    assert_eq!(decode(&big, &limits), Err(FaceError::TooLarge { bytes: limits.max_bytes + 1, max: limits.max_bytes }));
}

#[test]
fn only_jpeg_and_png_are_accepted() {
    for bytes in
        [&b""[..], b"GIF89a\x01\x00\x01\x00", b"BM\x00\x00", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"<svg/>", &[0xff, 0xd8]]
    {
        assert_eq!(decode(bytes, &Limits::default()), Err(FaceError::UnsupportedFormat), "{bytes:?}");
    }
}

#[test]
fn headers_claiming_huge_or_tiny_dimensions_are_refused_from_the_header() {
    let limits = Limits::default();
    // Each of these would need gigabytes if the decoder believed the header; the answer comes from the header.
    for (w, h) in [(100_000, 100_000), (8000, 8000), (u32::MAX, 1), (9000, 100)] {
        let err = decode(&png_claiming(w, h), &limits).unwrap_err();
        assert!(matches!(err, FaceError::Dimensions { .. }), "PNG {w}×{h}: {err:?}");
    }
    for (w, h) in [(65_535, 65_535), (8000, 8000), (30, 4000)] {
        let err = decode(&jpeg_claiming(w, h), &limits).unwrap_err();
        assert!(matches!(err, FaceError::Dimensions { .. }), "JPEG {w}×{h}: {err:?}");
    }
    assert_eq!(decode(&png(&gradient(63, 200)), &limits), Err(FaceError::Dimensions { width: 63, height: 200 }));
    assert_eq!(decode(&png_claiming(0, 0), &limits), Err(FaceError::Corrupt), "a zero dimension is not a PNG");
}

#[test]
fn a_header_within_bounds_with_missing_data_is_corrupt() {
    // 4000×3000 claimed, 64×64 of data: the decoder runs out of data.
    assert_eq!(decode(&png_claiming(4000, 3000), &Limits::default()), Err(FaceError::Corrupt));
    // A JPEG cut before its image data is corrupt; one cut inside it decodes (the decoder greys out what is
    // missing) at the header's size, which the face pipeline then treats like any other photo.
    let full = jpeg(&gradient(300, 200), 90);
    for cut in [20, 200] {
        assert_eq!(decode(&full[..cut], &Limits::default()), Err(FaceError::Corrupt), "cut at {cut}");
    }
    let half = decode(&full[..full.len() / 2], &Limits::default()).map(|img| img.dimensions());
    assert!(matches!(half, Ok((300, 200)) | Err(FaceError::Corrupt)), "cut in half: {half:?}");
}

#[test]
fn mutated_files_decode_or_fail_cleanly() {
    // A deterministic mutation fuzz: flip, zero and duplicate bytes of a valid JPEG and PNG. Every result is a
    // picture of the declared size or one of the photo errors; a decoder panic would surface as Corrupt, and the
    // test checks that the decoder otherwise keeps to the header's dimensions.
    let limits = Limits::default();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let originals = [jpeg(&gradient(160, 120), 80), png(&gradient(160, 120))];
    let (mut ok, mut refused) = (0, 0);
    for original in &originals {
        for _ in 0..150 {
            let mut m = original.clone();
            for _ in 0..1 + next() % 8 {
                let at = 2 + (next() as usize) % (m.len() - 2);
                match next() % 3 {
                    0 => m[at] ^= 1 << (next() % 8),
                    1 => m[at] = 0xff,
                    _ => m.truncate(at.max(64)),
                }
            }
            match decode(&m, &limits) {
                Ok(img) => {
                    assert!(img.width() <= limits.max_side && img.height() <= limits.max_side);
                    assert!(u64::from(img.width()) * u64::from(img.height()) <= limits.max_pixels);
                    ok += 1;
                }
                Err(FaceError::Corrupt | FaceError::Dimensions { .. } | FaceError::UnsupportedFormat) => refused += 1,
                Err(other) => panic!("unexpected error for a mutated file: {other:?}"),
            }
        }
    }
    assert!(ok > 0 && refused > 0, "the mutations exercise both outcomes ({ok} decoded, {refused} refused)");
}

/// A JPEG with an EXIF block saying "rotate 90° clockwise to display" (orientation 6), as phones write.
fn jpeg_with_orientation(img: &RgbImage, orientation: u16) -> Vec<u8> {
    let j = jpeg(img, 90);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\x00\x08\x00\x00\x00"); // little-endian TIFF, first IFD at offset 8
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = j[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&j[2..]);
    out
}

#[test]
fn exif_orientation_is_applied() {
    let img = gradient(160, 80);
    let upright = decode(&jpeg_with_orientation(&img, 1), &Limits::default()).unwrap();
    assert_eq!(upright.dimensions(), (160, 80));
    let turned = decode(&jpeg_with_orientation(&img, 6), &Limits::default()).unwrap();
    assert_eq!(turned.dimensions(), (80, 160), "the phone's orientation flag turns the picture upright");
    // Rotated 90° clockwise: the original top-left corner (dark) is now top-right.
    let (tl, tr) = (turned.get_pixel(2, 2).0[0], turned.get_pixel(77, 2).0[0]);
    assert!(tr < 40 && tl < 40, "top row holds the original left column: {tl} {tr}");
    assert!(turned.get_pixel(40, 157).0[0] > 200, "the original right column is at the bottom");
}
