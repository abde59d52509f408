//! Masking for display and logs: enough to recognise, never enough to reuse.

use super::contact::normalize_phone;
use super::normalize::normalize_id;

/// Keeps `head` and `tail` characters and replaces the rest with `*`.
fn keep(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    chars.iter().enumerate().map(|(i, &c)| if i < head || i + tail >= n { c } else { '*' }).collect()
}

/// Masks a document number: 18/15-character numbers keep region and last four (`110105********002X`), shorter
/// ones keep two characters at each end, very short ones one or none.
pub fn mask_id(input: &str) -> String {
    let chars: Vec<char> = normalize_id(input).chars().collect();
    match chars.len() {
        15.. => keep(&chars, 6, 4),
        8..=14 => keep(&chars, 2, 2),
        4..=7 => keep(&chars, 1, 1),
        n => "*".repeat(n),
    }
}

/// Masks a name, keeping only its first character — for a Chinese name the surname (`张三` → `张*`, `欧阳娜娜` →
/// `欧***`) — and the `·` separators; Latin names keep the first letter of each word (`ZHANG SAN` → `Z**** S**`).
/// The surname, not the last character: a few hundred surnames are shared by nearly everyone, while the given
/// name is what tells people apart, so `张*` reveals the least (see docs/protocol.md, "Masked values").
pub fn mask_name(input: &str) -> String {
    let t = input.trim();
    if t.chars().any(super::name::is_cjk) {
        let chars: Vec<char> = t.chars().filter(|c| !c.is_whitespace()).collect();
        let n = chars.len();
        return chars.iter().enumerate().map(|(i, &c)| if i == 0 && n > 1 || c == '·' { c } else { '*' }).collect();
    }
    let mut out = String::with_capacity(t.len());
    let mut word_start = true;
    for c in t.chars() {
        if c.is_alphabetic() {
            out.push(if word_start { c } else { '*' });
            word_start = false;
        } else {
            out.push(c);
            word_start = true;
        }
    }
    out
}

/// Masks a mobile number as `138****5678` (after normalization; other shapes keep two characters at each end).
pub fn mask_phone(input: &str) -> String {
    let chars: Vec<char> = normalize_phone(input).chars().collect();
    match chars.len() {
        11 => keep(&chars, 3, 4),
        5.. => keep(&chars, 2, 2),
        n => "*".repeat(n),
    }
}

/// Masks an email address as `a***@example.com` (the domain stays; it is needed to tell addresses apart).
pub fn mask_email(input: &str) -> String {
    let t = input.trim();
    match t.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => {
            let first: String = t.chars().take(1).collect();
            format!("{first}***")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id("11010519491231002x"), "110105********002X");
        assert_eq!(mask_id("110105491231002"), "110105*****1002");
        assert_eq!(mask_id("E12345678"), "E1*****78");
        assert_eq!(mask_id("12"), "**");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name(" 张 三 "), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("阿依古丽·买买提"), "阿***·***");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name("ZHANG SAN"), "Z**** S**");
        assert_eq!(mask_phone("+86 138 1234 5678"), "138****5678");
        assert_eq!(mask_email("zhang.san@example.com"), "z***@example.com");
        assert_eq!(mask_email("nonsense"), "n***");
    }
}
