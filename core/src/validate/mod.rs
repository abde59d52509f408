//! Validation of identity documents and contact data: the one implementation the widget (in the browser, via
//! wasm) and the server (re-validating everything) share. Never re-implement a check elsewhere.
//!
//! # Public API
//! - [`validate_id`]`(input, &Options) -> IdCheck`: the rich check of any identity document number. `Options`
//!   carries the injected `today` (no clock in here), `strict` (unknown region or nationality codes become errors
//!   instead of warnings) and an optional [`DocumentKind`] (detected from the shape when `None`, among the
//!   documents with a check character only: travel permits and passports are checked when their kind is given). The
//!   [`IdCheck`] holds `valid`, `kind`, `normalized`, `errors` and `warnings` ([`Issue`]: a stable snake_case
//!   [`IssueCode`], the character `position` in `normalized`, and the `expected` check character), and the facts:
//!   `birth_date`, `sex`, `age`, `under_14`, `under_18`, `region` {`code`, `status`: current / abolished /
//!   unknown}, `nationality`, `upgraded` (15 → 18). Serializes with serde to the JSON the JS API and CLI print.
//! - [`is_valid_id`]`(input, today) -> bool`: the allocation-free fast path for resident IDs and residence
//!   permits; always equal to `validate_id(input, &Options::new(today)).valid` (other shapes fall back to it).
//! - [`summarize_id`]`(bytes, &Options) -> Option<IdSummary>`: the rich check without allocating, for 18 plain
//!   characters checked as a resident ID or residence permit (`IdSummary::to_check` is `validate_id`'s result).
//! - [`id_verdict`]`(bytes, today) -> Verdict`: the same check on UTF-8 bytes, telling also whether a later
//!   "today" could make an invalid number valid (so a caller holding an earlier date reads the clock only then).
//! - [`validate_phone`], [`validate_email`], [`validate_name`] → [`FieldCheck`] / [`NameCheck`].
//! - Masking for display and logs: [`mask_id`] (`110105********002X`), [`mask_name`] (`张*`), [`mask_phone`]
//!   (`138****5678`), [`mask_email`].
//! - Building blocks: [`normalize_id`], [`check_char`], [`upgrade_15`], [`region_status`], [`is_province`],
//!   [`Date`].
//!
//! Rules: a driving licence number (机动车驾驶证) is the holder's resident ID number and is checked as one (a residence
//! permit's number is `invalid_region` there); province codes must be real (error); residence permits carry exactly 810000, 820000 or 830000 and any
//! other code under 81–83 is an error (`invalid_region`: it exists on no document), as is 81–83 on a legacy
//! 15-digit number; an unknown county (digits 3–6) or nationality is a warning, an error in strict mode; abolished region codes are valid (numbers keep the code they were issued under); birth
//! dates run from 1800-01-01 to today. The region table is generated (`cargo xtask gen-regions`, see
//! core/data/README.md).

mod contact;
mod date;
mod documents;
mod fast;
mod gb11643;
mod mask;
mod name;
mod normalize;
mod region;
mod result;
mod summary;
#[rustfmt::skip]
mod table;

pub use contact::{normalize_phone, validate_email, validate_phone};
pub use date::{Date, civil_from_days, days_from_civil, days_in_month, is_leap_year};
pub use documents::is_chinese_passport;
pub use fast::{Verdict, id_verdict, id_verdict_units, is_valid_id};
pub use gb11643::{EARLIEST_BIRTH, check_char, upgrade_15};
pub use mask::{mask_email, mask_id, mask_name, mask_phone};
pub use name::{NameCheck, NameScript, validate_name};
pub use normalize::{half_width, normalize_id};
pub use region::{is_alpha3, is_province, nationality_alpha3, region_status};
pub use result::{DocumentKind, FieldCheck, IdCheck, Issue, IssueCode, Region, RegionStatus, Sex};
pub use summary::{IdSummary, summarize_id};

/// How to validate: the injected "today", strictness, and the document kind when the caller knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The date birth dates are checked against (no future births) and ages computed on.
    pub today: Date,
    /// Unknown region or nationality codes become errors instead of warnings.
    pub strict: bool,
    /// The document kind; `None` detects it from the number's shape among the documents with a check character
    /// (resident ID, residence permit, foreigner's permanent residence ID; resident ID when nothing else fits).
    pub kind: Option<DocumentKind>,
}

impl Options {
    /// Non-strict options that detect the kind, for `today`.
    pub const fn new(today: Date) -> Options {
        Options { today, strict: false, kind: None }
    }

    /// The same options in strict mode.
    pub const fn strict(mut self) -> Options {
        self.strict = true;
        self
    }

    /// The same options for one document kind.
    pub const fn kind(mut self, kind: DocumentKind) -> Options {
        self.kind = Some(kind);
        self
    }
}

/// Whether a normalized 18-character number starts with a residence permit's province (81 香港, 82 澳门, 83 台湾):
/// no other document carries these, so it is a permit, and one whose region is not exactly 810000/820000/830000
/// is a wrong permit (`invalid_region`), not a resident ID with an unknown county.
fn is_permit_province(n: &str) -> bool {
    n.len() == 18 && matches!(n.get(..2), Some("81" | "82" | "83"))
}

/// The kind a normalized number most likely is, from its shape alone. Only documents with a check character
/// (or, for the legacy 15-character numbers, a region and birth date) are considered: a travel permit or
/// passport number is a short run of letters and digits that a mistyped number of any kind can match, so those
/// are checked only when the caller names their kind; anything else is checked as a resident ID.
pub fn detect_kind(normalized: &str) -> DocumentKind {
    let b = normalized.as_bytes();
    match b.len() {
        18 if is_permit_province(normalized) => DocumentKind::HkMoTwResidencePermit,
        18 if b[0] == b'9' => DocumentKind::ForeignPermanentResidentId,
        15 if b[..3].iter().all(u8::is_ascii_uppercase) => DocumentKind::ForeignPermanentResidentId,
        _ => DocumentKind::ResidentId,
    }
}

/// Validates an identity document number: normalizes it, checks it as `opts.kind` (or the detected kind), and
/// extracts what it tells. See the module docs for the rules.
pub fn validate_id(input: &str, opts: &Options) -> IdCheck {
    let n = normalize_id(input);
    let kind = match opts.kind {
        // A resident-ID field often receives a residence permit number; it is one, so say so.
        Some(DocumentKind::ResidentId) if is_permit_province(&n) => DocumentKind::HkMoTwResidencePermit,
        Some(k) => k,
        None => detect_kind(&n),
    };
    if n.is_empty() {
        let mut r = IdCheck::new(kind, n);
        r.errors.push(Issue::whole(IssueCode::Empty));
        return r.finish();
    }
    // Byte length equals character count for the ASCII numbers that matter here.
    let len = if n.is_ascii() { n.len() } else { n.chars().count() };
    match kind {
        DocumentKind::ResidentId if len == 15 => gb11643::check_15(n, opts),
        DocumentKind::ResidentId | DocumentKind::HkMoTwResidencePermit => gb11643::check_18(n, kind, opts),
        DocumentKind::ForeignPermanentResidentId if len == 15 => documents::foreigner_15(n, opts),
        DocumentKind::ForeignPermanentResidentId => gb11643::check_18(n, kind, opts),
        DocumentKind::HkMoTravelPermit => documents::hk_mo_travel_permit(n),
        DocumentKind::TwTravelPermit => documents::tw_travel_permit(n),
        DocumentKind::ChinesePassport => documents::chinese_passport(n),
        DocumentKind::Passport => documents::passport(n),
        DocumentKind::DrivingLicence => {
            documents::driving_licence(validate_id(input, &opts.kind(DocumentKind::ResidentId)))
        }
    }
}
