//! The face crate's integration tests: hostile photos (no models needed), the pipeline on real photos, and the
//! conversion checked against the models' own runtime. The models and photos come from `cargo xtask face-models`
//! (run by `cargo xtask setup`); a missing file fails the test with that instruction, never skips it.

// Test code: a failing unwrap, expect or panic is a failed test that names its line (clippy.toml allows them in
// #[test] functions only; the helpers here are test code too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bands;
mod common;
mod photos;
mod pipeline;
mod reference;
