//! Turns the validators' findings (`realname_core::validate`) into messages a person can act on. The facts — which
//! character, which check character, which date — all come from the validators; nothing is re-checked here.

use realname_core::validate::{DocumentKind, FieldCheck, IdCheck, Issue, IssueCode, NameCheck};

use crate::ctx::Ctx;
use crate::i18n::{decimal, Key};

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
    let mut out = String::new();
    for (i, c) in d.iter().enumerate() {
        if d.len() == 8 && (i == 4 || i == 6) {
            out.push('-');
        }
        out.push(*c);
    }
    out
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
                let found: String = n.chars().nth(pos).map(String::from).unwrap_or_default();
                // Only the last character of an 18-character GB 11643 number may be X.
                let allowed = match (gb, pos) {
                    (false, _) => Key::AllowedLettersDigits,
                    (true, 17) => Key::AllowedDigitsX,
                    (true, _) => Key::AllowedDigits,
                };
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
                a[0] = ("date", birth_digits(n));
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
                IssueCode::LegacyFormat => (Key::WarnLegacy, "upgraded", check.upgraded.clone().unwrap_or_default()),
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
