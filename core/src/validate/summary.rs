//! The rich check of an 18-character resident ID or residence permit without allocating: [`IdSummary`] holds what
//! [`IdCheck`] reports for it in fixed-size form. `validate_id` builds its result for these kinds from this very
//! code (one implementation), and [`summarize_id`] lets a caller that cannot afford allocations (the JS API's
//! wasm module) skip the `String`s when the input needs no normalization.

use super::Options;
use super::date::Date;
use super::gb11643::{EARLIEST_BIRTH, check_char};
use super::region::{is_province, region_status};
use super::result::{DocumentKind, IdCheck, Issue, IssueCode, Region, RegionStatus, Sex};

/// What [`validate_id`](super::validate_id) reports for an 18-character resident ID or residence permit, without
/// the strings: `normalized` is the 18 ASCII characters, the region code a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdSummary {
    /// Resident ID or residence permit.
    pub kind: DocumentKind,
    /// The normalized number (17 digits and a digit or `X`).
    pub normalized: [u8; 18],
    /// The first `error_count` entries are the errors, in the order `validate_id` reports them.
    pub errors: [Issue; 3],
    /// How many of `errors` are set.
    pub error_count: usize,
    /// The one possible warning (an unknown region outside strict mode).
    pub warning: Option<Issue>,
    /// The birth date when it is real, not too early and not in the future.
    pub birth_date: Option<Date>,
    /// Completed years on `today`, with `birth_date`.
    pub age: Option<u32>,
    /// The six-digit region code and its status, when the province is real.
    pub region: Option<(u32, RegionStatus)>,
    /// The sex from the sequence number.
    pub sex: Sex,
}

impl IdSummary {
    /// The errors.
    pub fn errors(&self) -> &[Issue] {
        self.errors.get(..self.error_count).unwrap_or_default()
    }

    /// Whether the number is valid (no errors).
    pub fn valid(&self) -> bool {
        self.error_count == 0
    }

    fn error(&mut self, issue: Issue) {
        if let Some(slot) = self.errors.get_mut(self.error_count) {
            *slot = issue;
            self.error_count += 1;
        }
    }

    fn soft(&mut self, issue: Issue, strict: bool) {
        if strict { self.error(issue) } else { self.warning = Some(issue) }
    }

    /// The [`IdCheck`] `validate_id` returns for this number.
    pub fn to_check(&self) -> IdCheck {
        let normalized = self.normalized.iter().map(|&b| char::from(b)).collect();
        let mut r = IdCheck::new(self.kind, normalized);
        self.fill(&mut r);
        r.finish()
    }

    /// Adds the issues and facts to `r` (a fresh result for the same number and kind).
    pub(crate) fn fill(&self, r: &mut IdCheck) {
        r.errors.extend_from_slice(self.errors());
        r.warnings.extend(self.warning);
        if let (Some(birth), Some(age)) = (self.birth_date, self.age) {
            r.birth_date = Some(birth);
            r.age = Some(age);
            r.under_14 = Some(age < 14);
            r.under_18 = Some(age < 18);
        }
        r.region = self.region.map(|(code, status)| Region::new(code, status));
        r.sex = Some(self.sex);
    }
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &c| acc * 10 + u32::from(c.wrapping_sub(b'0')))
}

/// The summary of 18 normalized characters `d` (17 ASCII digits, then a digit or `X`) checked as `kind` (a
/// resident ID or a residence permit).
#[inline]
pub(crate) fn summarize_18(d: &[u8; 18], kind: DocumentKind, opts: &Options) -> IdSummary {
    let mut s = IdSummary {
        kind,
        normalized: *d,
        errors: [Issue::whole(IssueCode::Empty); 3],
        error_count: 0,
        warning: None,
        birth_date: None,
        age: None,
        region: None,
        sex: if (d[16].wrapping_sub(b'0')) % 2 == 1 { Sex::Male } else { Sex::Female },
    };
    if kind == DocumentKind::HkMoTwResidencePermit {
        if matches!(&d[..6], b"810000" | b"820000" | b"830000") {
            s.region = Some((num(&d[..6]), RegionStatus::Current));
        } else {
            let pos = if matches!(&d[..2], b"81" | b"82" | b"83") { 2 } else { 0 };
            s.error(Issue::at(IssueCode::InvalidRegion, pos));
        }
    } else if !is_province(num(&d[..2])) {
        s.error(Issue::at(IssueCode::InvalidProvince, 0));
    } else {
        let code = num(&d[..6]);
        let status = region_status(code);
        if status == RegionStatus::Unknown {
            s.soft(Issue::at(IssueCode::UnknownRegion, 2), opts.strict);
        }
        s.region = Some((code, status));
    }
    let (year, month, day) = (num(&d[6..10]), num(&d[10..12]), num(&d[12..14]));
    if !(1..=12).contains(&month) {
        s.error(Issue::at(IssueCode::InvalidDate, 10));
    } else {
        match Date::new(year, month, day) {
            None => s.error(Issue::at(IssueCode::InvalidDate, 12)),
            Some(date) if date < EARLIEST_BIRTH => s.error(Issue::at(IssueCode::BirthDateTooEarly, 6)),
            Some(date) if date > opts.today => s.error(Issue::at(IssueCode::BirthDateInFuture, 6)),
            Some(date) => {
                s.birth_date = Some(date);
                s.age = Some(date.age_on(opts.today));
            }
        }
    }
    if let Some(e) = check_char(&d[..17])
        && char::from(d[17]) != e
    {
        s.error(Issue { code: IssueCode::InvalidCheckChar, position: Some(17), expected: Some(e) });
    }
    s
}

/// The allocation-free rich check of `input` (UTF-8 bytes) when it is exactly 17 ASCII digits and a digit, `X` or
/// `x`, and checks as a resident ID or residence permit (by detection, or `opts.kind` names one of them): then
/// `summarize_id(input, opts).to_check() == validate_id(input, opts)`. `None` for anything else (separators,
/// full-width characters, other lengths, foreigners' cards, other kinds), which needs [`validate_id`](super::validate_id).
pub fn summarize_id(input: &[u8], opts: &Options) -> Option<IdSummary> {
    let mut d: [u8; 18] = input.try_into().ok()?;
    if d[17] == b'x' {
        d[17] = b'X';
    }
    if !d[..17].iter().all(u8::is_ascii_digit) || !(d[17].is_ascii_digit() || d[17] == b'X') {
        return None;
    }
    // The bytes are the normalized string; `is_permit_province` on bytes.
    let permit = matches!(&d[..2], b"81" | b"82" | b"83");
    let kind = match opts.kind {
        None if permit => DocumentKind::HkMoTwResidencePermit,
        None if d[0] == b'9' => return None,
        None | Some(DocumentKind::ResidentId) if permit => DocumentKind::HkMoTwResidencePermit,
        None | Some(DocumentKind::ResidentId) => DocumentKind::ResidentId,
        Some(DocumentKind::HkMoTwResidencePermit) => DocumentKind::HkMoTwResidencePermit,
        Some(_) => return None,
    };
    Some(summarize_18(&d, kind, opts))
}
