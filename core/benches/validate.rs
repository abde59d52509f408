//! Criterion benchmark of native ID validation.
fn main() {}
