//! Authoritative checks (issue 17): what a provider was asked about an identity and what it answered. Only the
//! outcome travels; never what was checked.

use serde::{Deserialize, Serialize};

/// An authoritative check of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// 二要素: the name and the resident ID number belong together (the provider has a record of both).
    IdMatch,
    /// 三要素: the phone number is registered (实名登记) to the person with that name and resident ID number; run by
    /// the SMS method only.
    PhoneOwner,
}

impl Check {
    /// Every check.
    pub const ALL: [Check; 2] = [Check::IdMatch, Check::PhoneOwner];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Check::IdMatch => "id_match",
            Check::PhoneOwner => "phone_owner",
        }
    }

    /// The check a wire name stands for.
    pub fn parse(name: &str) -> Option<Check> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether providers can check documents of `kind`: both checks cover the mainland resident ID number, which a
    /// driving licence carries as its number (passports and the permits of other regions are `not_applicable`).
    /// `phone_owner` also needs a phone: an identity without one (email, documents) is `not_applicable` too.
    pub fn applies_to(self, kind: crate::validate::DocumentKind) -> bool {
        use crate::validate::DocumentKind as K;
        match self {
            Check::IdMatch | Check::PhoneOwner => matches!(kind, K::ResidentId | K::DrivingLicence),
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// The source confirms the identity.
    Match,
    /// The source has the number under another name (`phone_owner`: the phone is registered to someone else).
    Mismatch,
    /// The source has no record of the number.
    NoRecord,
    /// No answer: the provider timed out, failed or answered something it should not.
    Unavailable,
    /// The document cannot be checked by any provider (passports, permits of other regions); nothing was asked.
    NotApplicable,
}

impl CheckOutcome {
    /// Every outcome.
    pub const ALL: [CheckOutcome; 5] =
        [Self::Match, Self::Mismatch, Self::NoRecord, Self::Unavailable, Self::NotApplicable];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Mismatch => "mismatch",
            Self::NoRecord => "no_record",
            Self::Unavailable => "unavailable",
            Self::NotApplicable => "not_applicable",
        }
    }

    /// The outcome a wire name stands for.
    pub fn parse(name: &str) -> Option<CheckOutcome> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// A check a site runs and the provider that answers it, as the session answers name them (`checks` of 4.2 to
/// 4.4 in docs/protocol.md) so the widget's consent can say which checks run and which kind of party makes them
/// (PIPL art. 23: the name and number go to another processor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckNotice {
    /// The check.
    pub check: Check,
    /// The provider that answers it (`demo`, `tencent`, `aliyun`, …).
    pub provider: String,
}

/// One check as a site sees it, in `GET /v1/sessions/{id}`, the result token and webhook events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    /// The check.
    pub check: Check,
    /// What it found.
    pub outcome: CheckOutcome,
    /// The provider that answered (`demo`, …).
    pub provider: String,
    /// When it was answered, Unix seconds.
    pub at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for c in Check::ALL {
            assert_eq!(Check::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).ok(), Some(serde_json::json!(c.as_str())));
        }
        for o in CheckOutcome::ALL {
            assert_eq!(CheckOutcome::parse(o.as_str()), Some(o));
            assert_eq!(serde_json::to_value(o).ok(), Some(serde_json::json!(o.as_str())));
        }
        assert_eq!(CheckOutcome::parse("maybe"), None);
    }

    #[test]
    fn the_checks_cover_the_resident_id_number_only() {
        use crate::validate::DocumentKind as K;
        for c in Check::ALL {
            assert!(c.applies_to(K::ResidentId));
            assert!(c.applies_to(K::DrivingLicence), "its number is the resident ID number");
            assert!(!c.applies_to(K::Passport));
            assert!(!c.applies_to(K::HkMoTwResidencePermit));
        }
    }
}
