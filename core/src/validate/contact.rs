//! Contact data: mainland mobile numbers and email addresses (practical subset, IDN domains allowed).

use super::normalize::{half_width, is_separator};
use super::result::{FieldCheck, Issue, IssueCode};

/// Longest email address accepted (RFC 5321 path limit minus the angle brackets).
const EMAIL_MAX: usize = 254;
/// Characters RFC 5322 allows unquoted in a local part besides letters and digits (the practical subset).
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";

/// Normalizes a mobile number: full-width to half-width, drops spaces, hyphens and parentheses, strips the
/// country code `+86` / `0086` (and a bare `86` in front of 11 digits).
pub fn normalize_phone(input: &str) -> String {
    let mut s = String::with_capacity(16);
    for c in input.chars() {
        let c = half_width(c);
        if is_separator(c) || matches!(c, '(' | ')') {
            continue;
        }
        s.push(c);
    }
    for prefix in ["+86", "0086"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    if s.len() == 13 && s.starts_with("861") && s.bytes().all(|b| b.is_ascii_digit()) {
        return s[2..].to_string();
    }
    s
}

/// Validates a mainland mobile number: `1[3-9]` and 9 more digits after normalization.
pub fn validate_phone(input: &str) -> FieldCheck {
    let n = normalize_phone(input);
    let mut errors = Vec::new();
    if n.is_empty() {
        errors.push(Issue::whole(IssueCode::Empty));
        return FieldCheck::new(n, errors);
    }
    for (i, c) in n.chars().enumerate() {
        if !c.is_ascii_digit() {
            errors.push(Issue::at(IssueCode::InvalidCharacter, i));
        }
    }
    if n.chars().count() != 11 {
        errors.push(Issue::whole(IssueCode::InvalidLength));
    }
    let b = n.as_bytes();
    if b.first().is_some_and(|&c| c != b'1') {
        errors.push(Issue::at(IssueCode::InvalidPrefix, 0));
    } else if b.get(1).is_some_and(|c| !(b'3'..=b'9').contains(c)) {
        errors.push(Issue::at(IssueCode::InvalidPrefix, 1));
    }
    FieldCheck::new(n, errors)
}

/// Validates an email address: one `@`, a dot-atom local part (≤ 64 bytes; letters of any script too, as RFC 6531
/// internationalised addresses such as `张三@例子.中国` allow), and a domain of at least two labels
/// (letters of any script for IDN, digits, inner hyphens; ≤ 63 each), top-level not numeric; ≤ 254 in all.
/// Normalization trims, maps full-width forms and the ideographic full stop, and lower-cases the domain.
pub fn validate_email(input: &str) -> FieldCheck {
    let mut s: String = input.trim().chars().map(|c| if c == '\u{3002}' { '.' } else { half_width(c) }).collect();
    let mut errors = Vec::new();
    if s.is_empty() {
        errors.push(Issue::whole(IssueCode::Empty));
        return FieldCheck::new(s, errors);
    }
    let Some(at) = s.find('@').filter(|&i| s.rfind('@') == Some(i)) else {
        errors.push(Issue::whole(IssueCode::MissingAt));
        return FieldCheck::new(s, errors);
    };
    let domain = s[at + 1..].to_lowercase();
    s.truncate(at + 1);
    s.push_str(&domain);
    let local = &s[..at];
    let local_len = local.chars().count();
    if s.chars().count() > EMAIL_MAX {
        errors.push(Issue::whole(IssueCode::TooLong));
    }
    // Local part.
    if local.is_empty() || local.len() > 64 {
        errors.push(Issue::whole(IssueCode::InvalidLocalPart));
    } else {
        let mut prev = '.';
        for (i, c) in local.chars().enumerate() {
            let ok = c.is_alphanumeric() || LOCAL_SPECIALS.contains(c);
            if !ok || (c == '.' && prev == '.') || (c == '.' && i + 1 == local_len) {
                errors.push(Issue::at(IssueCode::InvalidLocalPart, i));
                break;
            }
            prev = c;
        }
    }
    // Domain.
    let base = local_len + 1;
    let labels: Vec<&str> = domain.split('.').collect();
    let mut pos = base;
    if labels.len() < 2 {
        errors.push(Issue::whole(IssueCode::InvalidDomain));
    } else {
        for (li, label) in labels.iter().enumerate() {
            let len = label.chars().count();
            let bad = label
                .chars()
                .enumerate()
                .find(|&(i, c)| !(c.is_alphanumeric() || (c == '-' && i != 0 && i + 1 != len)))
                .map(|(i, _)| pos + i);
            if len == 0 || len > 63 {
                errors.push(Issue::at(IssueCode::InvalidDomain, pos.min(base + domain.chars().count())));
                break;
            }
            if let Some(p) = bad {
                errors.push(Issue::at(IssueCode::InvalidDomain, p));
                break;
            }
            if li + 1 == labels.len() && label.chars().all(|c| c.is_ascii_digit()) {
                errors.push(Issue::at(IssueCode::InvalidDomain, pos));
            }
            pos += len + 1;
        }
    }
    FieldCheck::new(s, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        for ok in ["13812345678", "+86 138-1234-5678", "0086 13812345678", "8613812345678", "１３８１２３４５６７８"]
        {
            let r = validate_phone(ok);
            assert!(r.valid, "{ok}: {r:?}");
            assert_eq!(r.normalized, "13812345678");
        }
        assert_eq!(validate_phone("12812345678").errors, vec![Issue::at(IssueCode::InvalidPrefix, 1)]);
        assert_eq!(validate_phone("23812345678").errors, vec![Issue::at(IssueCode::InvalidPrefix, 0)]);
        assert_eq!(validate_phone("1381234567").errors, vec![Issue::whole(IssueCode::InvalidLength)]);
        assert_eq!(validate_phone("1381234567a").errors, vec![Issue::at(IssueCode::InvalidCharacter, 10)]);
        assert_eq!(validate_phone("  ").errors, vec![Issue::whole(IssueCode::Empty)]);
    }

    #[test]
    fn emails() {
        for ok in [
            "a@example.com",
            "first.last+tag@Example.COM",
            "user@例子.中国",
            "x@xn--fiqs8s.cn",
            "a@b-c.io",
            "张三@例子.中国",
            "用户@example.com",
        ] {
            assert!(validate_email(ok).valid, "{ok}: {:?}", validate_email(ok));
        }
        assert_eq!(validate_email("Ann@Example.COM").normalized, "Ann@example.com");
        assert_eq!(validate_email("ann＠example。com").normalized, "ann@example.com");
        let code = |s: &str| validate_email(s).errors.first().map(|e| e.code);
        assert_eq!(code("annexample.com"), Some(IssueCode::MissingAt));
        assert_eq!(code("a@b@example.com"), Some(IssueCode::MissingAt));
        assert_eq!(code("@example.com"), Some(IssueCode::InvalidLocalPart));
        assert_eq!(code("用户 名@example.com"), Some(IssueCode::InvalidLocalPart));
        assert_eq!(
            code(&format!("{}@example.com", "张".repeat(22))),
            Some(IssueCode::InvalidLocalPart),
            "over 64 bytes"
        );
        assert_eq!(code("a..b@example.com"), Some(IssueCode::InvalidLocalPart));
        assert_eq!(code("a@localhost"), Some(IssueCode::InvalidDomain));
        assert_eq!(code("a@-x.com"), Some(IssueCode::InvalidDomain));
        assert_eq!(code("a@x..com"), Some(IssueCode::InvalidDomain));
        assert_eq!(code("a@1.2.3.4"), Some(IssueCode::InvalidDomain));
        assert_eq!(validate_email("a@ex ample.com").errors, vec![Issue::at(IssueCode::InvalidDomain, 4)]);
        assert_eq!(code(&format!("{}@example.com", "a".repeat(250))), Some(IssueCode::TooLong));
    }
}
