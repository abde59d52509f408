//! Personal names: Chinese (CJK ideographs, with the middle dot `·` of minority and transliterated names) and
//! Latin (as on passports).

use serde::Serialize;

use super::normalize::half_width;
use super::result::{Issue, IssueCode};

/// Shortest and longest Chinese name, in characters (dots included).
const CJK_LEN: (usize, usize) = (2, 30);
/// Shortest and longest Latin name, in characters.
const LATIN_LEN: (usize, usize) = (2, 100);

/// The script a name is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameScript {
    /// Chinese characters, optionally with `·`.
    Cjk,
    /// Latin letters (with diacritics), spaces, hyphens, apostrophes.
    Latin,
}

/// The result of [`validate_name`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameCheck {
    /// True when `errors` is empty.
    pub valid: bool,
    /// The name after normalization (trimmed; CJK: spaces dropped, dot variants → `·`; Latin: spaces collapsed).
    pub normalized: String,
    /// The script detected.
    pub script: Option<NameScript>,
    /// Problems that make the name invalid.
    pub errors: Vec<Issue>,
}

/// Whether `c` is a CJK ideograph (URO, extensions A–H, compatibility ideographs, 〇).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x323AF)
}

/// Whether `c` is a letter of the Latin script (ASCII, Latin-1, Extended-A/B, Extended Additional).
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (c.is_alphabetic() && matches!(c as u32, 0xC0..=0x24F | 0x1E00..=0x1EFF) && c != '×' && c != '÷')
}

/// Whether `c` is one of the dots people type for the name separator `·` (U+00B7).
fn is_dot_variant(c: char) -> bool {
    matches!(c, '·' | '・' | '•' | '‧' | '∙' | '⋅' | '･' | '.' | '。' | '●')
}

/// Validates a personal name; the script is detected (Chinese when it has any ideograph).
pub fn validate_name(input: &str) -> NameCheck {
    let trimmed = input.trim();
    let has_cjk = trimmed.chars().any(is_cjk);
    let mut errors = Vec::new();
    if trimmed.is_empty() {
        errors.push(Issue::whole(IssueCode::Empty));
        return NameCheck { valid: false, normalized: String::new(), script: None, errors };
    }
    let (normalized, script) = if has_cjk {
        let n: String = trimmed
            .chars()
            .map(half_width)
            .filter(|c| !c.is_whitespace())
            .map(|c| if is_dot_variant(c) { '·' } else { c })
            .collect();
        cjk_rules(&n, &mut errors);
        (n, NameScript::Cjk)
    } else {
        let mut n = String::with_capacity(trimmed.len());
        for c in trimmed.chars().map(half_width) {
            let c = if c == '’' { '\'' } else { c };
            if c.is_whitespace() {
                if !n.ends_with(' ') {
                    n.push(' ');
                }
            } else {
                n.push(c);
            }
        }
        latin_rules(&n, &mut errors);
        (n, NameScript::Latin)
    };
    NameCheck { valid: errors.is_empty(), normalized, script: Some(script), errors }
}

fn length(n: &str, (min, max): (usize, usize), errors: &mut Vec<Issue>) {
    let len = n.chars().count();
    if len < min {
        errors.push(Issue::whole(IssueCode::TooShort));
    } else if len > max {
        errors.push(Issue::whole(IssueCode::TooLong));
    }
}

fn cjk_rules(n: &str, errors: &mut Vec<Issue>) {
    length(n, CJK_LEN, errors);
    let len = n.chars().count();
    let mut prev_dot = false;
    for (i, c) in n.chars().enumerate() {
        if c == '·' {
            if i == 0 || i + 1 == len || prev_dot {
                errors.push(Issue::at(IssueCode::MisplacedSeparator, i));
            }
            prev_dot = true;
            continue;
        }
        prev_dot = false;
        if is_latin_letter(c) {
            errors.push(Issue::at(IssueCode::MixedScript, i));
        } else if !is_cjk(c) {
            errors.push(Issue::at(IssueCode::InvalidCharacter, i));
        }
    }
}

fn latin_rules(n: &str, errors: &mut Vec<Issue>) {
    length(n, LATIN_LEN, errors);
    let mut prev: Option<char> = None;
    for (i, c) in n.chars().enumerate() {
        let sep = matches!(c, ' ' | '-' | '\'' | '.');
        if sep {
            // A separator follows a letter, except the space after an initial's period ("J. R. SMITH").
            let after_letter = prev.is_some_and(is_latin_letter);
            let after_period = prev == Some('.') && c == ' ';
            if !(after_letter || after_period) {
                errors.push(Issue::at(IssueCode::MisplacedSeparator, i));
            }
        } else if !is_latin_letter(c) {
            errors.push(Issue::at(IssueCode::InvalidCharacter, i));
        }
        prev = Some(c);
    }
    if matches!(prev, Some(' ' | '-' | '\'')) {
        errors.push(Issue::at(IssueCode::MisplacedSeparator, n.chars().count() - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names() {
        for ok in ["张三", "欧阳娜娜", "阿依古丽·买买提", "迪丽热巴・迪力木拉提", "𠈌小明", " 王 五 "]
        {
            let r = validate_name(ok);
            assert!(r.valid, "{ok}: {r:?}");
            assert_eq!(r.script, Some(NameScript::Cjk));
        }
        assert_eq!(validate_name("迪丽热巴.迪力木拉提").normalized, "迪丽热巴·迪力木拉提");
        assert_eq!(validate_name("王 五").normalized, "王五");
        let codes = |s: &str| validate_name(s).errors.iter().map(|e| e.code).collect::<Vec<_>>();
        assert_eq!(codes("张"), vec![IssueCode::TooShort]);
        assert_eq!(codes("·张三"), vec![IssueCode::MisplacedSeparator]);
        assert_eq!(codes("张三·"), vec![IssueCode::MisplacedSeparator]);
        assert_eq!(codes("张··三"), vec![IssueCode::MisplacedSeparator]);
        assert_eq!(codes("张Li"), vec![IssueCode::MixedScript, IssueCode::MixedScript]);
        assert_eq!(codes("张3"), vec![IssueCode::InvalidCharacter]);
        assert_eq!(codes(&"张".repeat(31)), vec![IssueCode::TooLong]);
        assert_eq!(codes(""), vec![IssueCode::Empty]);
    }

    #[test]
    fn latin_names() {
        for ok in ["ZHANG SAN", "O'Brien", "Anne-Marie Lefèvre", "J. R. SMITH", "José  Núñez"] {
            let r = validate_name(ok);
            assert!(r.valid, "{ok}: {r:?}");
            assert_eq!(r.script, Some(NameScript::Latin));
        }
        assert_eq!(validate_name("José  Núñez").normalized, "José Núñez");
        let codes = |s: &str| validate_name(s).errors.iter().map(|e| e.code).collect::<Vec<_>>();
        assert_eq!(codes("-ANN"), vec![IssueCode::MisplacedSeparator]);
        assert_eq!(codes("ANN--LEE"), vec![IssueCode::MisplacedSeparator]);
        assert_eq!(codes("R2D2"), vec![IssueCode::InvalidCharacter, IssueCode::InvalidCharacter]);
        assert_eq!(codes("A"), vec![IssueCode::TooShort]);
    }
}
