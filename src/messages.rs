//! Turns the validators' findings (`realname_core::validate`) into messages a person can act on. The facts — which
//! character, which check character, which date — all come from the validators; nothing is re-checked here.

use realname_core::validate::{DocumentKind, FieldCheck, IdCheck, Issue, IssueCode, NameCheck};

use crate::ctx::Ctx;
use crate::i18n::{Key, decimal};

/// When to show a finding: while typing only what is already certain; after leaving the field, everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// The person is still typing.
    Typing,
    /// The field lost focus (or the form was submitted).
    Left,
}

/// Whether an issue is worth showing at `moment`: "too short" is not news while the person is still typing.
fn show(issue: &Issue, moment: Moment) -> bool {
    moment == Moment::Left || !matches!(issue.code, IssueCode::Empty | IssueCode::InvalidLength | IssueCode::TooShort)
}

/// The resident-ID-shaped kinds (GB 11643 numbers; a driving licence's number is a resident ID number).
fn is_gb11643(kind: DocumentKind) -> bool {
    matches!(
        kind,
        DocumentKind::ResidentId
            | DocumentKind::HkMoTwResidencePermit
            | DocumentKind::ForeignPermanentResidentId
            | DocumentKind::DrivingLicence
    )
}

/// The birth date as the number writes it (`YYYY-MM-DD`) and where it is: characters 7–14 of an 18-character
/// number, 7–12 of an old 15-digit one (`YYMMDD`, all from the 1900s), 6–11 of an old foreigner's card (`YYMMDD`
/// after three letters, century unknown, shown as written).
fn birth_digits(normalized: &str, kind: DocumentKind) -> (String, &'static str) {
    let chars: Vec<char> = normalized.chars().collect();
    let (from, prefix, digits) = match chars.len() {
        15 if kind == DocumentKind::ForeignPermanentResidentId => (5, "", "6–11"),
        15 => (6, "19", "7–12"),
        _ => (6, "", "7–14"),
    };
    let year = if chars.len() == 15 { 2 } else { 4 };
    let mut out = String::from(prefix);
    for (i, c) in chars.iter().skip(from).take(year + 4).enumerate() {
        if i == year || i == year + 2 {
            out.push('-');
        }
        out.push(*c);
    }
    (out, digits)
}

/// What may stand at `pos` of a number of `kind` (for "character N is wrong: only … can go there").
fn allowed_at(kind: DocumentKind, chars: &[char], pos: usize) -> Key {
    let len = chars.len();
    match kind {
        // The old foreigner's card: three capital letters (nationality), then digits.
        DocumentKind::ForeignPermanentResidentId if len == 15 && pos < 3 => Key::AllowedCapitals,
        // Only the last character of an 18-character GB 11643 number may be X.
        k if is_gb11643(k) && pos == 17 => Key::AllowedDigitsX,
        k if is_gb11643(k) => Key::AllowedDigits,
        DocumentKind::HkMoTravelPermit if pos == 0 => Key::AllowedHm,
        DocumentKind::HkMoTravelPermit | DocumentKind::TwTravelPermit => Key::AllowedDigits,
        // E-series passports may have a letter second; every other character after the first is a digit.
        DocumentKind::ChinesePassport if pos == 1 && chars.first() == Some(&'E') => Key::AllowedLettersDigits,
        DocumentKind::ChinesePassport => Key::AllowedDigits,
        _ => Key::AllowedLettersDigits,
    }
}

/// The message for the first error of an ID check worth showing now, and the warnings. Each message is one
/// key and up to three named values, filled in by one call (fewer call sites, less code in the wasm).
pub fn id_message(ctx: &Ctx, check: &IdCheck, moment: Moment) -> (Option<String>, Vec<String>) {
    let n = &check.normalized;
    let len = n.chars().count();
    let prefix = |k: usize| n.chars().take(k).collect::<String>();
    let gb = is_gb11643(check.kind);
    let too_long = |i: &Issue| i.code == IssueCode::InvalidLength && gb && len > 18;
    // A wrong character is the most precise thing to tell; then the validator's order.
    let shown = |i: &&Issue| show(i, moment) || too_long(i);
    let first = check.errors.iter().filter(shown).find(|i| i.code == IssueCode::InvalidCharacter);
    let error = first.or_else(|| check.errors.iter().find(shown)).map(|i| {
        let mut a: [(&str, String); 3] = Default::default();
        let key = match i.code {
            IssueCode::Empty => Key::ErrRequired,
            IssueCode::InvalidCharacter => {
                let pos = i.position.unwrap_or(0);
                let chars: Vec<char> = n.chars().collect();
                let found: String = chars.get(pos).map(|c| String::from(*c)).unwrap_or_default();
                let allowed = allowed_at(check.kind, &chars, pos);
                a = [("position", decimal(pos as u32 + 1)), ("found", found), ("allowed", ctx.t(allowed))];
                Key::ErrCharacters
            }
            IssueCode::InvalidLength if gb && len != 15 => {
                a[0] = ("expected", "18".into());
                a[1] = ("actual", decimal(len as u32));
                Key::ErrLength
            }
            IssueCode::InvalidProvince => {
                a[0] = ("code", prefix(2));
                Key::ErrProvince
            }
            IssueCode::InvalidRegion => Key::ErrKindMismatch,
            IssueCode::UnknownRegion => {
                a[0] = ("code", prefix(6));
                Key::ErrRegion
            }
            IssueCode::InvalidDate | IssueCode::BirthDateInFuture | IssueCode::BirthDateTooEarly => {
                let (date, digits) = birth_digits(n, check.kind);
                a[0] = ("date", date);
                a[1] = ("digits", digits.into());
                match i.code {
                    IssueCode::InvalidDate => Key::ErrBirthDate,
                    IssueCode::BirthDateInFuture => Key::ErrBirthFuture,
                    _ => Key::ErrBirthEarly,
                }
            }
            IssueCode::InvalidCheckChar => {
                a[0] = ("expected", i.expected.map(String::from).unwrap_or_default());
                Key::ErrChecksum
            }
            _ => Key::ErrInvalidNumber,
        };
        ctx.tf(key, &[(a[0].0, &a[0].1), (a[1].0, &a[1].1), (a[2].0, &a[2].1)])
    });
    let warnings = check
        .warnings
        .iter()
        .filter_map(|w| {
            let (key, name, value) = match w.code {
                IssueCode::UnknownRegion => (Key::WarnRegion, "code", prefix(6)),
                IssueCode::UnknownNationality => {
                    (Key::WarnNationality, "code", check.nationality.clone().unwrap_or_default())
                }
                // Only once the 18-character form is known (a 15-digit number with an error has none yet).
                IssueCode::LegacyFormat => (Key::WarnLegacy, "upgraded", check.upgraded.clone()?),
                _ => return None,
            };
            Some(ctx.tf(key, &[(name, &value)]))
        })
        .collect();
    (error, warnings)
}

/// The message for a name check.
pub fn name_message(ctx: &Ctx, check: &NameCheck, moment: Moment) -> Option<String> {
    check.errors.iter().find(|i| show(i, moment)).map(|i| match i.code {
        IssueCode::Empty => ctx.t(Key::ErrRequired),
        IssueCode::MixedScript => ctx.t(Key::ErrNameMixed),
        IssueCode::TooShort | IssueCode::TooLong => ctx.t(Key::ErrNameLength),
        _ => ctx.t(Key::ErrName),
    })
}

/// The message for a phone or email check.
pub fn contact_message(ctx: &Ctx, check: &FieldCheck, moment: Moment, phone: bool) -> Option<String> {
    check.errors.iter().find(|i| show(i, moment)).map(|i| match (i.code, phone) {
        (IssueCode::Empty, _) => ctx.t(Key::ErrRequired),
        (_, true) => ctx.t(Key::ErrPhone),
        (_, false) => ctx.t(Key::ErrEmail),
    })
}
