//! QR codes as SVG, rendered on the server so the widget carries no QR encoder (its size budget has no room for
//! one): the handoff link (docs/protocol.md 4.13). The encoder is `qrcodegen` (error correction M, the smallest
//! version that holds the text); the SVG draws each row's runs of dark modules as one rectangle, inside the
//! four-module quiet zone the standard asks for.

use std::fmt::Write as _;

use qrcodegen::{QrCode, QrCodeEcc};

/// The quiet zone around the symbol, in modules (ISO/IEC 18004).
const QUIET: i32 = 4;

/// `text` as a QR code in an SVG document, or `None` when it is too long for one.
pub fn svg(text: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let n = qr.size();
    let dim = n + 2 * QUIET;
    let mut dark = String::new();
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && qr.get_module(x, y) {
                x += 1;
            }
            let _ = write!(dark, "M{},{}h{}v1h-{}z", start + QUIET, y + QUIET, x - start, x - start);
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\" \
         role=\"img\"><path fill=\"#fff\" d=\"M0,0h{dim}v{dim}H0z\"/><path fill=\"#000\" d=\"{dark}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark modules an SVG of [`svg`] draws, read back from its path.
    fn modules(svg: &str) -> Vec<(i32, i32)> {
        let d = svg.rsplit("d=\"").next().and_then(|d| d.split('"').next()).unwrap_or_default();
        let mut out = Vec::new();
        for run in d.split('M').filter(|r| !r.is_empty()) {
            let (at, rest) = run.split_once('h').unwrap_or_default();
            let (x, y) = at.split_once(',').unwrap_or_default();
            let (x, y): (i32, i32) = (x.parse().unwrap_or(-1), y.parse().unwrap_or(-1));
            let len: i32 = rest.split('v').next().and_then(|l| l.parse().ok()).unwrap_or(0);
            out.extend((0..len).map(|i| (x + i - QUIET, y - QUIET)));
        }
        out
    }

    #[test]
    fn the_svg_draws_exactly_the_dark_modules_of_the_symbol() {
        let url = "https://verify.example.com/handoff.html#7K3M-Q9XD";
        let svg = svg(url).unwrap_or_default();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "{svg}");
        let qr = QrCode::encode_text(url, QrCodeEcc::Medium).map_err(|_| "encode").unwrap_or_else(|e| panic!("{e}"));
        let n = qr.size();
        assert!(svg.contains(&format!("viewBox=\"0 0 {} {}\"", n + 8, n + 8)), "{svg}");
        let mut want = Vec::new();
        for y in 0..n {
            for x in 0..n {
                if qr.get_module(x, y) {
                    want.push((x, y));
                }
            }
        }
        assert_eq!(modules(&svg), want);
        // Nothing but the symbol: no script, no text.
        assert!(!svg.contains("<script") && !svg.contains(url));
    }

    #[test]
    fn a_text_too_long_for_any_version_has_no_svg() {
        assert_eq!(svg(&"x".repeat(4000)), None);
    }
}
