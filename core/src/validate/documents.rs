//! Documents without a check character the public can verify: the old 15-character foreigner's card, mainland
//! travel permits, and passports. These are checked for shape (and for the old foreigner's card, its nationality,
//! province and birth date).

use super::Options;
use super::date::Date;
use super::region::{is_alpha3, is_province, region_status};
use super::result::{DocumentKind, IdCheck, Issue, IssueCode, Region};

/// Reports every character of `chars` outside `allowed`; true when none.
fn only(r: &mut IdCheck, chars: &[char], from: usize, allowed: impl Fn(char) -> bool) -> bool {
    let mut ok = true;
    for (i, &c) in chars.iter().enumerate().skip(from) {
        if !allowed(c) {
            r.errors.push(Issue::at(IssueCode::InvalidCharacter, i));
            ok = false;
        }
    }
    ok
}

/// Old foreigner's permanent residence card number: 3 letters (ISO 3166-1 alpha-3 nationality), 2 digits issuing
/// province, 6 digits birth date (YYMMDD), 4 digits sequence and check. The check digit's algorithm is not
/// public, so it is not verified.
pub(crate) fn foreigner_15(normalized: String, opts: &Options) -> IdCheck {
    let mut r = IdCheck::new(DocumentKind::ForeignPermanentResidentId, normalized);
    let chars: Vec<char> = r.normalized.chars().collect();
    if chars.len() != 15 {
        r.errors.push(Issue::whole(IssueCode::InvalidLength));
        return r.finish();
    }
    let letters_ok = only(&mut r, &chars[..3], 0, |c| c.is_ascii_uppercase());
    let digits_ok = only(&mut r, &chars, 3, |c| c.is_ascii_digit());
    if !letters_ok || !digits_ok {
        return r.finish();
    }
    let nat: String = chars[..3].iter().collect();
    if !is_alpha3(&nat) {
        r.soft(Issue::at(IssueCode::UnknownNationality, 0), opts.strict);
    }
    r.nationality = Some(nat);
    let d: Vec<u32> = chars[3..].iter().filter_map(|c| c.to_digit(10)).collect();
    let p = d[0] * 10 + d[1];
    if is_province(p) {
        let code = p * 10_000;
        r.region = Some(Region::new(code, region_status(code)));
    } else {
        r.errors.push(Issue::at(IssueCode::InvalidProvince, 3));
    }
    let (yy, mm, dd) = (d[2] * 10 + d[3], d[4] * 10 + d[5], d[6] * 10 + d[7]);
    // The card writes two-digit years: take this century unless that lies in the future.
    let this_century = opts.today.year() / 100 * 100;
    let born = Date::new(this_century + yy, mm, dd)
        .filter(|b| *b <= opts.today)
        .or_else(|| Date::new(this_century.saturating_sub(100) + yy, mm, dd));
    match born {
        Some(b) => r.set_birth(b, opts.today),
        None if !(1..=12).contains(&mm) => r.errors.push(Issue::at(IssueCode::InvalidDate, 7)),
        None => r.errors.push(Issue::at(IssueCode::InvalidDate, 9)),
    }
    r.finish()
}

/// 港澳居民来往内地通行证: `H` or `M` and 8 digits, optionally 2 more (card renewals).
pub(crate) fn hk_mo_travel_permit(normalized: String) -> IdCheck {
    let mut r = IdCheck::new(DocumentKind::HkMoTravelPermit, normalized);
    let chars: Vec<char> = r.normalized.chars().collect();
    if chars.len() != 9 && chars.len() != 11 {
        r.errors.push(Issue::whole(IssueCode::InvalidLength));
    }
    if chars.first().is_some_and(|c| !matches!(c, 'H' | 'M')) {
        r.errors.push(Issue::at(IssueCode::InvalidCharacter, 0));
    }
    only(&mut r, &chars, 1, |c| c.is_ascii_digit());
    r.finish()
}

/// 台湾居民来往大陆通行证: 8 digits.
pub(crate) fn tw_travel_permit(normalized: String) -> IdCheck {
    let mut r = IdCheck::new(DocumentKind::TwTravelPermit, normalized);
    let chars: Vec<char> = r.normalized.chars().collect();
    if chars.len() != 8 {
        r.errors.push(Issue::whole(IssueCode::InvalidLength));
    }
    only(&mut r, &chars, 0, |c| c.is_ascii_digit());
    r.finish()
}

/// Whether the letter may follow `E` in an e-passport number (`E[A-HJ-NP-Z]\d{7}`: no I or O).
fn e_series_letter(c: char) -> bool {
    c.is_ascii_uppercase() && c != 'I' && c != 'O'
}

/// Whether `s` matches a Chinese passport pattern: `E\d{8}`, `E[A-HJ-NP-Z]\d{7}`, `G\d{8}`, `[PSD]\d{7}`.
pub fn is_chinese_passport(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b {
        [b'E', c, rest @ ..] if rest.len() == 7 => {
            digits(rest) && (c.is_ascii_digit() || e_series_letter(char::from(*c)))
        }
        [b'G', rest @ ..] => rest.len() == 8 && digits(rest),
        [b'P' | b'S' | b'D', rest @ ..] => rest.len() == 7 && digits(rest),
        _ => false,
    }
}

/// A Chinese passport number, with the first offending position when it does not match.
pub(crate) fn chinese_passport(normalized: String) -> IdCheck {
    let mut r = IdCheck::new(DocumentKind::ChinesePassport, normalized);
    if is_chinese_passport(&r.normalized) {
        return r.finish();
    }
    let chars: Vec<char> = r.normalized.chars().collect();
    let want_len = match chars.first() {
        Some('E' | 'G') => 9,
        Some('P' | 'S' | 'D') => 8,
        _ => {
            r.errors.push(Issue::at(IssueCode::InvalidFormat, 0));
            return r.finish();
        }
    };
    if chars.len() != want_len {
        r.errors.push(Issue::whole(IssueCode::InvalidLength));
    }
    let e_series = chars.first() == Some(&'E');
    only(&mut r, &chars, 1, |c| c.is_ascii_digit() || (e_series && e_series_letter(c)));
    // E + letter: only the second character may be a letter.
    if e_series {
        for (i, c) in chars.iter().enumerate().skip(2) {
            if c.is_ascii_uppercase() {
                r.errors.push(Issue::at(IssueCode::InvalidCharacter, i));
            }
        }
    }
    if r.errors.is_empty() {
        r.errors.push(Issue::whole(IssueCode::InvalidFormat));
    }
    r.finish()
}

/// 机动车驾驶证: `as_resident_id` is the licence number checked as a resident ID number, which a mainland licence
/// number is; a residence permit's number (81–83) is not one (`invalid_region`, first: the kind is what is wrong).
pub(crate) fn driving_licence(mut as_resident_id: IdCheck) -> IdCheck {
    if as_resident_id.kind != DocumentKind::ResidentId && !as_resident_id.has_error(IssueCode::InvalidRegion) {
        as_resident_id.errors.insert(0, Issue::at(IssueCode::InvalidRegion, 0));
    }
    as_resident_id.kind = DocumentKind::DrivingLicence;
    as_resident_id.finish()
}

/// Any passport: 5–17 letters and digits. Chinese passport numbers are reported as [`DocumentKind::ChinesePassport`].
pub(crate) fn passport(normalized: String) -> IdCheck {
    if is_chinese_passport(&normalized) {
        return IdCheck::new(DocumentKind::ChinesePassport, normalized).finish();
    }
    let mut r = IdCheck::new(DocumentKind::Passport, normalized);
    let chars: Vec<char> = r.normalized.chars().collect();
    if chars.len() < 5 {
        r.errors.push(Issue::whole(IssueCode::TooShort));
    } else if chars.len() > 17 {
        r.errors.push(Issue::whole(IssueCode::TooLong));
    }
    only(&mut r, &chars, 0, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
    r.finish()
}
