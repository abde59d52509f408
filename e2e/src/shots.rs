//! Screenshots for review, under `target/e2e-screenshots/` (see [`crate::paths::shots_dir`]).

use std::path::PathBuf;

use crate::webdriver::Session;
use crate::{Result, paths};

/// Saves a PNG of the viewport as `<test>/<nn>-<step>-<variant>.png` and returns its path.
/// `variant` is `light`, `dark` or `mobile`.
pub fn save(s: &Session, test: &str, step: &str, variant: &str) -> Result<PathBuf> {
    let dir = paths::shots_dir().join(test);
    std::fs::create_dir_all(&dir)?;
    let png = s.screenshot()?;
    let path = dir.join(format!("{step}-{variant}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}
