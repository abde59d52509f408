//! Defensive decoding: every bound is checked before the decoder allocates, and the decoder itself runs under
//! `image`'s allocation limit, so a hostile file is a clean error, never a panic or an out-of-memory.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::FaceError;

/// Bounds on an uploaded photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded size in bytes.
    pub max_bytes: usize,
    /// Largest width or height in pixels.
    pub max_side: u32,
    /// Largest width × height.
    pub max_pixels: u64,
    /// Smallest width or height in pixels.
    pub min_side: u32,
}

impl Default for Limits {
    /// 10 MiB; 64 to 8192 pixels a side; 24 megapixels (a phone photo has 12): a tiny file claiming the most
    /// still decodes into at most ~100 MB, so a few concurrent ones cannot exhaust memory.
    fn default() -> Self {
        Self { max_bytes: 10 << 20, max_side: 8192, max_pixels: 24_000_000, min_side: 64 }
    }
}

/// The format by its signature; only JPEG and PNG are accepted.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, FaceError> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Ok(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(ImageFormat::Png)
    } else {
        Err(FaceError::UnsupportedFormat)
    }
}

fn reader<'a>(bytes: &'a [u8], format: ImageFormat, limits: &Limits) -> ImageReader<Cursor<&'a [u8]>> {
    let mut r = ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    // The decoded RGBA at 16 bits a channel, plus the decoder's own buffers.
    l.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    r.limits(l);
    r
}

/// Decodes a JPEG or PNG into 8-bit RGB, upright (EXIF orientation applied), within `limits`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<RgbImage, FaceError> {
    if bytes.len() > limits.max_bytes {
        return Err(FaceError::TooLarge { bytes: bytes.len(), max: limits.max_bytes });
    }
    let format = sniff(bytes)?;
    // The header alone first: the dimensions are checked before anything the size of the image is allocated.
    let (width, height) = reader(bytes, format, limits).into_dimensions().map_err(|e| classify(&e, 0, 0))?;
    let pixels = u64::from(width) * u64::from(height);
    let side_ok = |s: u32| (limits.min_side..=limits.max_side).contains(&s);
    if !side_ok(width) || !side_ok(height) || pixels > limits.max_pixels {
        return Err(FaceError::Dimensions { width, height });
    }
    // Decoders are written to return errors, but they parse attacker-controlled bytes: a panic inside one must
    // still become a refusal of this photo, not a crash of the request.
    let decoded = std::panic::catch_unwind(|| -> image::ImageResult<DynamicImage> {
        let mut decoder = reader(bytes, format, limits).into_decoder()?;
        let orientation = decoder.orientation()?;
        let mut img = DynamicImage::from_decoder(decoder)?;
        img.apply_orientation(orientation);
        Ok(img)
    });
    match decoded {
        Ok(Ok(img)) => Ok(img.into_rgb8()),
        Ok(Err(e)) => Err(classify(&e, width, height)),
        Err(_) => Err(FaceError::Corrupt),
    }
}

/// An `image` error as ours: a limit hit is a dimension error (with the header's dimensions, once known),
/// anything else a corrupt file.
fn classify(e: &image::ImageError, width: u32, height: u32) -> FaceError {
    match e {
        image::ImageError::Limits(_) => FaceError::Dimensions { width, height },
        _ => FaceError::Corrupt,
    }
}
