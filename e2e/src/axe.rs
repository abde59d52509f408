//! Accessibility checks with axe-core (npm `axe-core`, pinned in `tools/package.json`), injected into the page.
//! axe walks open shadow roots, so the widget inside `<realname-verify>` is checked too.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::webdriver::Session;
use crate::{Result, err, paths};

/// One rule axe found broken, with the elements that break it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// axe rule id, e.g. `color-contrast`.
    pub id: String,
    /// `minor` … `critical`.
    pub impact: String,
    /// What the rule asks for.
    pub help: String,
    /// CSS selectors (shadow paths joined with ` >>> `) of the offending nodes, with axe's summary.
    pub nodes: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.id, self.impact, self.help)?;
        for n in &self.nodes {
            write!(f, "\n    {n}")?;
        }
        Ok(())
    }
}

fn source() -> Result<&'static str> {
    static SRC: OnceLock<String> = OnceLock::new();
    if let Some(s) = SRC.get() {
        return Ok(s);
    }
    let s = std::fs::read_to_string(paths::axe_js()?)?;
    Ok(SRC.get_or_init(|| s))
}

const RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] })
  .then(r => done({ ok: r.violations.map(v => ({
      id: v.id, impact: v.impact || '', help: v.help,
      nodes: v.nodes.map(n => [].concat(n.target).map(t => [].concat(t).join(' >>> ')).join(' , ')
                              + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ')) })) }))
  .catch(e => done({ error: String(e) }));
"#;

/// Runs axe-core on the current page and returns its violations (WCAG 2.x A/AA and best practices).
pub fn violations(s: &Session) -> Result<Vec<Violation>> {
    let present = s.execute("return typeof window.axe === 'object';", vec![])?;
    if present != json!(true) {
        s.execute(&format!("{}\nreturn true;", source()?), vec![])?;
    }
    let v = s.execute_async(RUN, vec![])?;
    if let Some(e) = v.get("error") {
        return Err(err!("axe-core failed: {e}"));
    }
    let list = v["ok"].as_array().ok_or_else(|| err!("axe-core: unexpected result {v}"))?;
    Ok(list
        .iter()
        .map(|x| Violation {
            id: str_of(&x["id"]),
            impact: str_of(&x["impact"]),
            help: str_of(&x["help"]),
            nodes: x["nodes"].as_array().map(|a| a.iter().map(str_of).collect()).unwrap_or_default(),
        })
        .collect())
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Fails, listing every violation, unless axe finds none on the current page. `step` names the page state.
pub fn assert_clean(s: &Session, step: &str) -> Result<()> {
    let v = violations(s)?;
    if v.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = v.iter().map(ToString::to_string).collect();
    Err(err!("axe-core found {} violation(s) at step `{step}`:\n  {}", v.len(), list.join("\n  ")))
}
