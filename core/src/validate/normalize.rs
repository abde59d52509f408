//! Normalization before any check: what people paste is not what the rules are written for.

/// Maps a full-width ASCII variant (U+FF01–U+FF5E) to its ASCII form, and U+3000 (ideographic space) to a space.
pub const fn half_width(c: char) -> char {
    let u = c as u32;
    if u >= 0xFF01 && u <= 0xFF5E {
        // In range by construction: 0xFF01 - 0xFEE0 = 0x21 ('!'), 0xFF5E - 0xFEE0 = 0x7E ('~').
        match char::from_u32(u - 0xFEE0) {
            Some(h) => h,
            None => c,
        }
    } else if u == 0x3000 {
        ' '
    } else {
        c
    }
}

/// Whether `c` is a separator people type inside numbers: any whitespace, or a hyphen or dash.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}' | '\u{00AD}')
}

/// The ASCII separators [`is_separator`] accepts.
fn is_ascii_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

/// Normalizes a document number: trims, drops spaces and hyphens, maps full-width digits and letters to
/// half-width, and upper-cases ASCII letters (`x` → `X`). Other characters are kept so checks can point at them.
pub fn normalize_id(input: &str) -> String {
    if input.is_ascii() {
        // The common case, without UTF-8 decoding or per-character pushes: copy, upper-case in place, and drop
        // separators only when there are any.
        let mut out = input.to_ascii_uppercase();
        if out.bytes().any(is_ascii_separator) {
            out.retain(|c| !is_ascii_separator(c as u8));
        }
        return out;
    }
    let mut out = String::with_capacity(input.len().min(64));
    for c in input.chars() {
        if is_separator(c) {
            continue;
        }
        out.push(half_width(c).to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_what_people_paste() {
        assert_eq!(normalize_id("  11010519491231002x "), "11010519491231002X");
        assert_eq!(normalize_id("１１０１０５１９４９１２３１００２ｘ"), "11010519491231002X");
        assert_eq!(normalize_id("110105-19491231-002X"), "11010519491231002X");
        assert_eq!(normalize_id("110105\u{3000}1949 1231\t002X"), "11010519491231002X");
        assert_eq!(normalize_id("e12345678"), "E12345678");
        assert_eq!(normalize_id("11010519491231002？"), "11010519491231002?");
    }
}
