//! The GB 11643-1999 layout shared by resident IDs, HK/MO/TW residence permits and the 2023 foreigner's
//! permanent residence ID: region or issuer (6) · birth date (8) · sequence (3, odd = male) · check (ISO 7064
//! MOD 11-2); and the legacy 15-digit resident ID with its upgrade to 18 characters.

use super::Options;
use super::date::Date;
use super::region::{is_province, nationality_alpha3, region_status};
use super::result::{DocumentKind, IdCheck, Issue, IssueCode, Region, RegionStatus, Sex};
use super::summary::summarize_18;

/// ISO 7064 MOD 11-2 weights of the first 17 digits.
pub(crate) const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for `sum % 11`.
pub(crate) const CHECK_CHARS: &[u8; 11] = b"10X98765432";
/// The earliest real birth date (the standard's own example is born 1880).
pub const EARLIEST_BIRTH: Date = match Date::new(1800, 1, 1) {
    Some(d) => d,
    None => Date::from_unix_days(0),
};

/// The check character (`0`–`9` or `X`) of 17 ASCII digits; `None` when one is not a digit.
pub fn check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (&b, w) in first17.iter().zip(WEIGHTS) {
        if !b.is_ascii_digit() {
            return None;
        }
        sum += u32::from(b - b'0') * w;
    }
    CHECK_CHARS.get((sum % 11) as usize).map(|&c| char::from(c))
}

/// The 18-character form of a legacy 15-digit resident ID (inserts `19` and appends the check character).
pub fn upgrade_15(legacy: &str) -> Option<String> {
    let b = legacy.as_bytes();
    if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut first17 = Vec::with_capacity(18);
    first17.extend_from_slice(&b[..6]);
    first17.extend_from_slice(b"19");
    first17.extend_from_slice(&b[6..]);
    let check = check_char(&first17)?;
    let mut s: String = first17.iter().map(|&c| char::from(c)).collect();
    s.push(check);
    Some(s)
}

/// Digit value of an ASCII digit slice.
fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &c| acc * 10 + u32::from(c.wrapping_sub(b'0')))
}

/// The `N` characters of `r.normalized` as ASCII bytes when they are all digits (the last may be `X` when
/// `last_may_be_x`); otherwise reports the wrong length or every bad character and returns `None`.
fn digits<const N: usize>(r: &mut IdCheck, last_may_be_x: bool) -> Option<[u8; N]> {
    let ok = |i: usize, c: char| c.is_ascii_digit() || (last_may_be_x && i + 1 == N && c == 'X');
    let b = r.normalized.as_bytes();
    if b.len() == N && b.iter().enumerate().all(|(i, &c)| ok(i, char::from(c))) {
        let mut d = [0u8; N];
        d.copy_from_slice(b);
        return Some(d);
    }
    let n = r.normalized.chars().count();
    if n != N {
        r.errors.push(Issue::whole(IssueCode::InvalidLength));
        return None;
    }
    let before = r.errors.len();
    for (i, c) in r.normalized.chars().enumerate() {
        if !ok(i, c) {
            r.errors.push(Issue::at(IssueCode::InvalidCharacter, i));
        }
    }
    if r.errors.len() > before {
        return None;
    }
    // All ASCII now, and exactly N bytes.
    let mut d = [0u8; N];
    d.copy_from_slice(r.normalized.as_bytes().get(..N)?);
    Some(d)
}

/// Checks the region of a legacy 15-digit resident ID (`d` = six ASCII digits at `pos`) and records it.
fn resident_region(r: &mut IdCheck, d: &[u8], pos: usize, opts: &Options) {
    if !is_province(num(&d[..2])) {
        r.errors.push(Issue::at(IssueCode::InvalidProvince, pos));
        return;
    }
    // 81–83 are on residence permits only, which have 18 characters (issued since 2018): no legacy number has them.
    if matches!(&d[..2], b"81" | b"82" | b"83") {
        r.errors.push(Issue::at(IssueCode::InvalidRegion, pos));
        return;
    }
    let code = num(d);
    let status = region_status(code);
    if status == RegionStatus::Unknown {
        r.soft(Issue::at(IssueCode::UnknownRegion, pos + 2), opts.strict);
    }
    r.region = Some(Region::new(code, status));
}

/// Checks a birth date written as `year` + MMDD digits at `pos` (month at `pos`, day at `pos + 2`).
fn birth(r: &mut IdCheck, year: u32, year_pos: usize, mmdd: &[u8], pos: usize, today: Date) {
    let (month, day) = (num(&mmdd[..2]), num(&mmdd[2..4]));
    if !(1..=12).contains(&month) {
        r.errors.push(Issue::at(IssueCode::InvalidDate, pos));
        return;
    }
    let Some(date) = Date::new(year, month, day) else {
        r.errors.push(Issue::at(IssueCode::InvalidDate, pos + 2));
        return;
    };
    if date < EARLIEST_BIRTH {
        r.errors.push(Issue::at(IssueCode::BirthDateTooEarly, year_pos));
    } else if date > today {
        r.errors.push(Issue::at(IssueCode::BirthDateInFuture, year_pos));
    } else {
        r.set_birth(date, today);
    }
}

/// Validates an 18-character number of the GB 11643 layout as `kind` (resident ID, residence permit, or 2023
/// foreigner's card).
pub(crate) fn check_18(normalized: String, kind: DocumentKind, opts: &Options) -> IdCheck {
    let mut r = IdCheck::new(kind, normalized);
    let Some(d) = digits::<18>(&mut r, true) else {
        return r.finish();
    };
    if kind != DocumentKind::ForeignPermanentResidentId {
        // Resident IDs and residence permits: the allocation-free summary is the one implementation.
        summarize_18(&d, kind, opts).fill(&mut r);
        return r.finish();
    }
    if d[0] != b'9' {
        r.errors.push(Issue::at(IssueCode::InvalidFormat, 0));
    }
    let p = num(&d[1..3]);
    if is_province(p) {
        let code = p * 10_000;
        r.region = Some(Region::new(code, region_status(code)));
    } else {
        r.errors.push(Issue::at(IssueCode::InvalidProvince, 1));
    }
    let nat = num(&d[3..6]) as u16;
    match nationality_alpha3(nat) {
        Some(a3) => r.nationality = Some(a3.to_string()),
        None => {
            r.nationality = Some(r.normalized[3..6].to_string());
            r.soft(Issue::at(IssueCode::UnknownNationality, 3), opts.strict);
        }
    }
    birth(&mut r, num(&d[6..10]), 6, &d[10..14], 10, opts.today);
    if let Some(e) = check_char(&d[..17])
        && char::from(d[17]) != e
    {
        r.errors.push(Issue { code: IssueCode::InvalidCheckChar, position: Some(17), expected: Some(e) });
    }
    r.sex = Some(if (d[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female });
    r.finish()
}

/// Validates a legacy 15-digit resident ID (region 6 · YYMMDD of 19YY · sequence 3) and computes its upgrade.
pub(crate) fn check_15(normalized: String, opts: &Options) -> IdCheck {
    let mut r = IdCheck::new(DocumentKind::ResidentId, normalized);
    let Some(d) = digits::<15>(&mut r, false) else {
        return r.finish();
    };
    resident_region(&mut r, &d[..6], 0, opts);
    birth(&mut r, 1900 + num(&d[6..8]), 6, &d[8..12], 8, opts.today);
    r.sex = Some(if (d[14] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female });
    r.warnings.push(Issue::whole(IssueCode::LegacyFormat));
    if r.errors.is_empty() {
        r.upgraded = upgrade_15(&r.normalized);
    }
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_chars_of_known_numbers() {
        assert_eq!(check_char(b"11010519491231002"), Some('X'));
        assert_eq!(check_char(b"44052418800101001"), Some('4'));
        assert_eq!(check_char(b"1101051949123100"), None);
        assert_eq!(check_char(b"1101051949123100A"), None);
    }

    #[test]
    fn upgrades_legacy_numbers() {
        assert_eq!(upgrade_15("110105491231002").as_deref(), Some("11010519491231002X"));
        assert_eq!(upgrade_15("11010549123100"), None);
    }
}
