//! The crate's one error type.

/// Why a photo could not be turned into a face embedding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaceError {
    /// The encoded image is larger than the limit.
    #[error("the image is {bytes} bytes, more than the {max} allowed")]
    TooLarge {
        /// Size of the upload.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Neither JPEG nor PNG (by its signature).
    #[error("the image is neither JPEG nor PNG")]
    UnsupportedFormat,
    /// Width or height (or their product) outside the allowed range.
    #[error("the image is {width}×{height} pixels, outside the allowed dimensions")]
    Dimensions {
        /// Width in pixels, as the header declares it.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The image is truncated or malformed.
    #[error("the image cannot be decoded")]
    Corrupt,
    /// No face was found.
    #[error("no face found")]
    NoFace,
    /// More than one face was found.
    #[error("{count} faces found, exactly one is needed")]
    SeveralFaces {
        /// How many.
        count: usize,
    },
    /// The face is too small to compare reliably.
    #[error("the face is {width} pixels wide, at least {min} are needed")]
    FaceTooSmall {
        /// Width of the face box in image pixels.
        width: u32,
        /// The minimum.
        min: u32,
    },
    /// A model could not be loaded or run (the operator's problem, never the photo's).
    #[error("face model: {0}")]
    Model(String),
}

impl FaceError {
    /// A stable, machine-readable code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "image_too_large",
            Self::UnsupportedFormat => "image_format",
            Self::Dimensions { .. } => "image_dimensions",
            Self::Corrupt => "image_corrupt",
            Self::NoFace => "no_face",
            Self::SeveralFaces { .. } => "several_faces",
            Self::FaceTooSmall { .. } => "face_too_small",
            Self::Model(_) => "face_model",
        }
    }

    /// Whether the person can fix it by sending another photo (every error but a model failure).
    pub fn is_photo_problem(&self) -> bool {
        !matches!(self, Self::Model(_))
    }
}
