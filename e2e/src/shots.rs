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

/// Saves a PNG of just the widget (`<realname-verify>`) as `<test>/<name>.png` (for docs and the README).
pub fn save_widget(s: &Session, test: &str, name: &str) -> Result<PathBuf> {
    let dir = paths::shots_dir().join(test);
    std::fs::create_dir_all(&dir)?;
    let el = s.query("realname-verify")?.ok_or_else(|| crate::err!("no <realname-verify> on the page"))?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, s.element_screenshot(&el)?)?;
    Ok(path)
}
