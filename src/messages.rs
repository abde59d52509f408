//! Turns the validators' findings (`realname_core::validate`) into messages a person can act on. The facts — which
//! character, which check character, which date — all come from the validators; nothing is re-checked here.

use realname_core::validate::{DocumentKind, FieldCheck, IdCheck, Issue, IssueCode, NameCheck};

use crate::app::Ctx;
use crate::i18n::Key;

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

/// The resident-ID-shaped kinds (GB 11643 numbers).
fn is_gb11643(kind: DocumentKind) -> bool {
    matches!(
        kind,
        DocumentKind::ResidentId | DocumentKind::HkMoTwResidencePermit | DocumentKind::ForeignPermanentResidentId
    )
}

fn birth_digits(normalized: &str) -> String {
    let d: Vec<char> = normalized.chars().skip(6).take(8).collect();
    if d.len() == 8 {
        format!("{}-{}-{}", d[..4].iter().collect::<String>(), d[4..6].iter().collect::<String>(), d[6..].iter().collect::<String>())
    } else {
        d.into_iter().collect()
    }
}

/// The message for the first error of an ID check worth showing now, and the warnings.
pub fn id_message(ctx: &Ctx, check: &IdCheck, moment: Moment) -> (Option<String>, Vec<String>) {
    let n = &check.normalized;
    let gb = is_gb11643(check.kind);
    let too_long = |i: &Issue| i.code == IssueCode::InvalidLength && gb && n.chars().count() > 18;
    // A wrong character is the most precise thing to tell; then the validator's order.
    let shown = |i: &&Issue| show(i, moment) || too_long(i);
    let first = check.errors.iter().filter(shown).find(|i| i.code == IssueCode::InvalidCharacter);
    let error = first.or_else(|| check.errors.iter().find(shown)).map(|i| match i.code {
        IssueCode::Empty => ctx.t(Key::ErrRequired),
        IssueCode::InvalidCharacter if gb => {
            let pos = i.position.unwrap_or(0);
            let found: String = n.chars().nth(pos).map(String::from).unwrap_or_default();
            // Only the last character of an 18-character number may be X.
            let allowed = if pos == 17 { Key::AllowedDigitsX } else { Key::AllowedDigits };
            ctx.tf(Key::ErrCharacters, &[("position", &(pos + 1).to_string()), ("found", &found), ("allowed", &ctx.t(allowed))])
        }
        IssueCode::InvalidCharacter => {
            let pos = i.position.unwrap_or(0);
            let found: String = n.chars().nth(pos).map(String::from).unwrap_or_default();
            ctx.tf(Key::ErrCharacters, &[("position", &(pos + 1).to_string()), ("found", &found), ("allowed", &ctx.t(Key::AllowedLettersDigits))])
        }
        IssueCode::InvalidLength if gb && n.chars().count() != 15 => {
            ctx.tf(Key::ErrLength, &[("expected", "18"), ("actual", &n.chars().count().to_string())])
        }
        IssueCode::InvalidProvince => ctx.tf(Key::ErrProvince, &[("code", &n.chars().take(2).collect::<String>())]),
        IssueCode::InvalidRegion => ctx.t(Key::ErrKindMismatch),
        IssueCode::UnknownRegion => ctx.tf(Key::ErrRegion, &[("code", &n.chars().take(6).collect::<String>())]),
        IssueCode::InvalidDate => ctx.tf(Key::ErrBirthDate, &[("date", &birth_digits(n))]),
        IssueCode::BirthDateInFuture => ctx.tf(Key::ErrBirthFuture, &[("date", &birth_digits(n))]),
        IssueCode::BirthDateTooEarly => ctx.tf(Key::ErrBirthEarly, &[("date", &birth_digits(n))]),
        IssueCode::InvalidCheckChar => {
            let expected = i.expected.map(String::from).unwrap_or_default();
            ctx.tf(Key::ErrChecksum, &[("expected", &expected)])
        }
        _ => ctx.t(Key::ErrInvalidNumber),
    });
    let warnings = check
        .warnings
        .iter()
        .filter_map(|w| match w.code {
            IssueCode::UnknownRegion => Some(ctx.tf(Key::WarnRegion, &[("code", &n.chars().take(6).collect::<String>())])),
            IssueCode::UnknownNationality => {
                Some(ctx.tf(Key::WarnNationality, &[("code", check.nationality.as_deref().unwrap_or(""))]))
            }
            IssueCode::LegacyFormat => {
                Some(ctx.tf(Key::WarnLegacy, &[("upgraded", check.upgraded.as_deref().unwrap_or(""))]))
            }
            _ => None,
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
