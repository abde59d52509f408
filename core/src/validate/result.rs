//! The rich result of a validation: what was checked, what is wrong and where, and what the number tells.

use serde::{Deserialize, Serialize};

use super::date::Date;

/// The identity document a number belongs to. Serialized as the stable snake_case names below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 居民身份证: mainland resident ID (GB 11643-1999, 18 chars; legacy 15 digits).
    ResidentId,
    /// 港澳台居民居住证: residence permit for HK/MO/TW residents (region 810000/820000/830000).
    HkMoTwResidencePermit,
    /// 外国人永久居留身份证: foreigner's permanent residence ID (2023 18-char format, or the old 15-char format).
    ForeignPermanentResidentId,
    /// 港澳居民来往内地通行证: mainland travel permit for HK and Macau residents.
    HkMoTravelPermit,
    /// 台湾居民来往大陆通行证: mainland travel permit for Taiwan residents (台胞证).
    TwTravelPermit,
    /// 中国护照: a passport of the People's Republic of China (ordinary, electronic, official).
    ChinesePassport,
    /// 护照: any other passport (5–17 letters and digits).
    Passport,
    /// 机动车驾驶证: the mainland motor-vehicle driving licence, whose number is the holder's resident ID number
    /// (checked as one; the kind says which document the person had at hand, not that it is a valid licence).
    DrivingLicence,
}

impl DocumentKind {
    /// Every kind, in the order a form would list them.
    pub const ALL: [DocumentKind; 8] = [
        DocumentKind::ResidentId,
        DocumentKind::HkMoTwResidencePermit,
        DocumentKind::ForeignPermanentResidentId,
        DocumentKind::HkMoTravelPermit,
        DocumentKind::TwTravelPermit,
        DocumentKind::ChinesePassport,
        DocumentKind::Passport,
        DocumentKind::DrivingLicence,
    ];

    /// The stable snake_case name (as serialized).
    pub const fn as_str(self) -> &'static str {
        match self {
            DocumentKind::ResidentId => "resident_id",
            DocumentKind::HkMoTwResidencePermit => "hk_mo_tw_residence_permit",
            DocumentKind::ForeignPermanentResidentId => "foreign_permanent_resident_id",
            DocumentKind::HkMoTravelPermit => "hk_mo_travel_permit",
            DocumentKind::TwTravelPermit => "tw_travel_permit",
            DocumentKind::ChinesePassport => "chinese_passport",
            DocumentKind::Passport => "passport",
            DocumentKind::DrivingLicence => "driving_licence",
        }
    }

    /// The kind with this snake_case name.
    pub fn from_name(name: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A stable, machine-readable problem code (snake_case when serialized).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IssueCode {
    /// Nothing left after normalization.
    Empty,
    /// A character that cannot appear at this position.
    InvalidCharacter,
    /// The number has the wrong number of characters.
    InvalidLength,
    /// The characters do not form any accepted pattern of the document.
    InvalidFormat,
    /// The province-level code is not a real one.
    InvalidProvince,
    /// The region code is not the one this document requires (permits: 810000/820000/830000).
    InvalidRegion,
    /// The six-digit region code is not in the table (a warning unless strict).
    UnknownRegion,
    /// The birth date does not exist in the calendar.
    InvalidDate,
    /// The birth date is after today.
    BirthDateInFuture,
    /// The birth date is before 1800-01-01.
    BirthDateTooEarly,
    /// The check character does not match; `expected` holds the right one.
    InvalidCheckChar,
    /// The nationality code is not an ISO 3166-1 code (a warning unless strict).
    UnknownNationality,
    /// A 15-digit number from before 1999; `upgraded` holds its 18-character form (a warning).
    LegacyFormat,
    /// A mobile number that does not start with 13–19.
    InvalidPrefix,
    /// An email without exactly one `@`.
    MissingAt,
    /// An email local part (before `@`) that is not accepted.
    InvalidLocalPart,
    /// An email domain that is not accepted.
    InvalidDomain,
    /// Longer than allowed.
    TooLong,
    /// Shorter than allowed.
    TooShort,
    /// A middle dot at the start or end of a name, or two in a row.
    MisplacedSeparator,
    /// Chinese characters and Latin letters mixed in one name.
    MixedScript,
}

impl IssueCode {
    /// Every code, in declaration order (the JS API numbers codes by their index here).
    pub const ALL: [IssueCode; 21] = [
        IssueCode::Empty,
        IssueCode::InvalidCharacter,
        IssueCode::InvalidLength,
        IssueCode::InvalidFormat,
        IssueCode::InvalidProvince,
        IssueCode::InvalidRegion,
        IssueCode::UnknownRegion,
        IssueCode::InvalidDate,
        IssueCode::BirthDateInFuture,
        IssueCode::BirthDateTooEarly,
        IssueCode::InvalidCheckChar,
        IssueCode::UnknownNationality,
        IssueCode::LegacyFormat,
        IssueCode::InvalidPrefix,
        IssueCode::MissingAt,
        IssueCode::InvalidLocalPart,
        IssueCode::InvalidDomain,
        IssueCode::TooLong,
        IssueCode::TooShort,
        IssueCode::MisplacedSeparator,
        IssueCode::MixedScript,
    ];

    /// The index of this code in [`IssueCode::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The stable snake_case code (as serialized).
    pub const fn as_str(self) -> &'static str {
        match self {
            IssueCode::Empty => "empty",
            IssueCode::InvalidCharacter => "invalid_character",
            IssueCode::InvalidLength => "invalid_length",
            IssueCode::InvalidFormat => "invalid_format",
            IssueCode::InvalidProvince => "invalid_province",
            IssueCode::InvalidRegion => "invalid_region",
            IssueCode::UnknownRegion => "unknown_region",
            IssueCode::InvalidDate => "invalid_date",
            IssueCode::BirthDateInFuture => "birth_date_in_future",
            IssueCode::BirthDateTooEarly => "birth_date_too_early",
            IssueCode::InvalidCheckChar => "invalid_check_char",
            IssueCode::UnknownNationality => "unknown_nationality",
            IssueCode::LegacyFormat => "legacy_format",
            IssueCode::InvalidPrefix => "invalid_prefix",
            IssueCode::MissingAt => "missing_at",
            IssueCode::InvalidLocalPart => "invalid_local_part",
            IssueCode::InvalidDomain => "invalid_domain",
            IssueCode::TooLong => "too_long",
            IssueCode::TooShort => "too_short",
            IssueCode::MisplacedSeparator => "misplaced_separator",
            IssueCode::MixedScript => "mixed_script",
        }
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One error or warning: a code, the 0-based character position in `normalized` where there is one, and the
/// expected character where the fix is known (the check character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// What is wrong.
    pub code: IssueCode,
    /// 0-based index of the offending character in the normalized value (counted in characters).
    pub position: Option<usize>,
    /// The character that belongs at `position`, when it is known.
    pub expected: Option<char>,
}

impl Issue {
    /// An issue at a position.
    pub const fn at(code: IssueCode, position: usize) -> Issue {
        Issue { code, position: Some(position), expected: None }
    }

    /// An issue about the whole value.
    pub const fn whole(code: IssueCode) -> Issue {
        Issue { code, position: None, expected: None }
    }
}

/// Sex as encoded in the sequence number (odd = male).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Odd sequence digit.
    Male,
    /// Even sequence digit.
    Female,
}

/// Whether a region code is in use today, was in use earlier, or is not in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionStatus {
    /// In the current division codes.
    Current,
    /// Used since 1980 and abolished since; numbers issued under it stay valid.
    Abolished,
    /// Not in the table.
    Unknown,
}

/// The six-digit administrative division code of a number, and its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    /// Six digits, e.g. `110105`.
    pub code: String,
    /// Current, abolished or unknown.
    pub status: RegionStatus,
}

impl Region {
    /// The region of a six-digit code (below 1 000 000), written with leading zeros as `format!("{:06}")` would.
    pub(crate) fn new(code: u32, status: RegionStatus) -> Region {
        let digits = [100_000, 10_000, 1_000, 100, 10, 1].map(|p| char::from(b'0' + (code / p % 10) as u8));
        Region { code: digits.iter().collect(), status }
    }
}

/// The result of [`validate_id`](super::validate_id): validity, problems, and the facts the number carries.
///
/// Facts (birth date, sex, region, …) are filled for every part that parses, even when another part is wrong, so a
/// form can explain the problem; trust them only when `valid` is true.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdCheck {
    /// True when `errors` is empty.
    pub valid: bool,
    /// The document kind the number was checked as (detected when the caller gave none).
    pub kind: DocumentKind,
    /// The input after normalization (trimmed, spaces and hyphens dropped, full-width to half-width, upper case).
    pub normalized: String,
    /// Problems that make the number invalid.
    pub errors: Vec<Issue>,
    /// Things worth telling that do not make it invalid (unknown region outside strict mode, legacy format).
    pub warnings: Vec<Issue>,
    /// The birth date encoded in the number.
    pub birth_date: Option<Date>,
    /// The sex encoded in the sequence number.
    pub sex: Option<Sex>,
    /// Completed years on the injected "today".
    pub age: Option<u32>,
    /// Whether younger than 14 (PIPL art. 31: a guardian must consent).
    pub under_14: Option<bool>,
    /// Whether younger than 18.
    pub under_18: Option<bool>,
    /// The region (for foreigners' cards: the issuing province, `xx0000`).
    pub region: Option<Region>,
    /// Foreigners' cards: the ISO 3166-1 alpha-3 nationality when known, else the code as written.
    pub nationality: Option<String>,
    /// Legacy 15-digit numbers: the 18-character form (GB 11643-1999 upgrade).
    pub upgraded: Option<String>,
}

impl IdCheck {
    /// An empty result for `kind` and `normalized`, to be filled by a checker.
    pub(crate) fn new(kind: DocumentKind, normalized: String) -> IdCheck {
        IdCheck {
            valid: false,
            kind,
            normalized,
            errors: Vec::new(),
            warnings: Vec::new(),
            birth_date: None,
            sex: None,
            age: None,
            under_14: None,
            under_18: None,
            region: None,
            nationality: None,
            upgraded: None,
        }
    }

    /// Whether an error with this code was reported.
    pub fn has_error(&self, code: IssueCode) -> bool {
        self.errors.iter().any(|i| i.code == code)
    }

    /// Whether a warning with this code was reported.
    pub fn has_warning(&self, code: IssueCode) -> bool {
        self.warnings.iter().any(|i| i.code == code)
    }

    /// Sets the birth date and the facts derived from it.
    pub(crate) fn set_birth(&mut self, birth: Date, today: Date) {
        let age = birth.age_on(today);
        self.birth_date = Some(birth);
        self.age = Some(age);
        self.under_14 = Some(age < 14);
        self.under_18 = Some(age < 18);
    }

    /// Reports a soft problem: a warning, or an error in strict mode.
    pub(crate) fn soft(&mut self, issue: Issue, strict: bool) {
        if strict { self.errors.push(issue) } else { self.warnings.push(issue) }
    }

    /// Sets `valid` from `errors`; every checker ends with this.
    pub(crate) fn finish(mut self) -> IdCheck {
        self.valid = self.errors.is_empty();
        self
    }
}

/// The result of validating a phone number, email address or name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldCheck {
    /// True when `errors` is empty.
    pub valid: bool,
    /// The value after normalization (phones: 11 digits without +86; emails: domain in lower case).
    pub normalized: String,
    /// Problems that make the value invalid.
    pub errors: Vec<Issue>,
}

impl FieldCheck {
    /// A result from a normalized value and its errors.
    pub(crate) fn new(normalized: String, errors: Vec<Issue>) -> FieldCheck {
        FieldCheck { valid: errors.is_empty(), normalized, errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_have_six_digits() {
        for code in [0, 7, 10_000, 110_000, 110_105, 810_000, 999_999] {
            assert_eq!(Region::new(code, RegionStatus::Current).code, format!("{code:06}"));
        }
    }

    #[test]
    fn all_issue_codes_in_declaration_order() {
        for (i, code) in IssueCode::ALL.into_iter().enumerate() {
            assert_eq!(code.index(), i, "{code}");
            // Exhaustive: a new variant fails to compile here until it is added to `ALL`.
            let named = match code {
                IssueCode::Empty
                | IssueCode::InvalidCharacter
                | IssueCode::InvalidLength
                | IssueCode::InvalidFormat
                | IssueCode::InvalidProvince
                | IssueCode::InvalidRegion
                | IssueCode::UnknownRegion
                | IssueCode::InvalidDate
                | IssueCode::BirthDateInFuture
                | IssueCode::BirthDateTooEarly
                | IssueCode::InvalidCheckChar
                | IssueCode::UnknownNationality
                | IssueCode::LegacyFormat
                | IssueCode::InvalidPrefix
                | IssueCode::MissingAt
                | IssueCode::InvalidLocalPart
                | IssueCode::InvalidDomain
                | IssueCode::TooLong
                | IssueCode::TooShort
                | IssueCode::MisplacedSeparator
                | IssueCode::MixedScript => code.as_str(),
            };
            assert!(!named.is_empty());
        }
        let mut names: Vec<_> = IssueCode::ALL.iter().map(|c| c.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), IssueCode::ALL.len());
    }
}
