//! The `demo` provider: deterministic answers from a small fixture list, so a person trying the demo (and the
//! tests) can see every outcome. It knows no real records; docs/checks.md lists the fixtures.

use async_trait::async_trait;
use realname_core::protocol::{Check, CheckOutcome};

use super::{CallError, CheckProvider, CheckRequest};

/// The fixtures: a number, the name it is recorded under (empty: any name) and the answer.
pub const FIXTURES: &[(&str, &str, Answer)] = &[
    ("11010519491231002X", "张三", Answer::Record),
    ("110105198001010016", "李小龙", Answer::Record),
    ("310115199003070025", "王小明", Answer::Record),
    ("440305198511110030", "陈美玲", Answer::Record),
    ("11010519700707004X", "", Answer::NoRecord),
    ("110105197007070058", "", Answer::Error),
    ("110105197007070066", "", Answer::Silent),
];

/// How the demo source answers for a fixture number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// It holds the number under the fixture's name: `match` for that name, `mismatch` for any other.
    Record,
    /// It has no record: `no_record`.
    NoRecord,
    /// It fails (as a 5xx would): `unavailable`.
    Error,
    /// It never answers: `unavailable` once the timeout passes.
    Silent,
}

/// The demo provider.
pub struct Demo;

/// `phone_owner`: a phone number ending in this is registered to someone else (`mismatch`).
pub const OTHER_OWNER_SUFFIX: &str = "9999";

#[async_trait]
impl CheckProvider for Demo {
    fn name(&self) -> &'static str {
        "demo"
    }

    /// The fixture's answer; a number not in the fixtures `match`es under any name (the demo has no records to
    /// say otherwise). `phone_owner` answers as `id_match` does, except for a phone ending in
    /// [`OTHER_OWNER_SUFFIX`]: `mismatch`.
    async fn check(&self, req: &CheckRequest<'_>) -> Result<CheckOutcome, CallError> {
        let other_owner = req.phone.is_some_and(|p| p.ends_with(OTHER_OWNER_SUFFIX));
        let Some((_, name, answer)) = FIXTURES.iter().find(|(n, _, _)| *n == req.number) else {
            return Ok(if req.check == Check::PhoneOwner && other_owner {
                CheckOutcome::Mismatch
            } else {
                CheckOutcome::Match
            });
        };
        match answer {
            Answer::Record if req.check == Check::PhoneOwner && other_owner => Ok(CheckOutcome::Mismatch),
            Answer::Record if *name == req.name => Ok(CheckOutcome::Match),
            Answer::Record => Ok(CheckOutcome::Mismatch),
            Answer::NoRecord => Ok(CheckOutcome::NoRecord),
            Answer::Error => Err(CallError::Answer("demo error".into())),
            Answer::Silent => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_core::protocol::{Check, DocumentKind};
    use realname_core::validate::{Date, Options, validate_id};

    fn ask_with(check: Check, name: &str, number: &str, phone: &str) -> CheckOutcome {
        let req = CheckRequest { check, name, number, phone: Some(phone), kind: DocumentKind::ResidentId };
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
        match rt.map(|rt| rt.block_on(Demo.check(&req))) {
            Ok(Ok(outcome)) => outcome,
            _ => CheckOutcome::Unavailable,
        }
    }

    fn ask(name: &str, number: &str) -> CheckOutcome {
        ask_with(Check::IdMatch, name, number, "13800138000")
    }

    #[test]
    fn every_fixture_is_a_valid_resident_id() {
        let today = Date::from_unix_millis(1_790_812_800_000.0);
        for (number, _, _) in FIXTURES {
            let check = validate_id(number, &Options::new(today).kind(DocumentKind::ResidentId));
            assert!(check.errors.is_empty() && check.warnings.is_empty(), "{number}: {:?}", check.errors);
        }
    }

    #[test]
    fn the_fixtures_give_every_outcome() {
        assert_eq!(ask("张三", "11010519491231002X"), CheckOutcome::Match);
        assert_eq!(ask("张三丰", "11010519491231002X"), CheckOutcome::Mismatch);
        assert_eq!(ask("李小龙", "110105198001010016"), CheckOutcome::Match);
        assert_eq!(ask("张三", "11010519700707004X"), CheckOutcome::NoRecord);
        assert_eq!(ask("张三", "110105197007070058"), CheckOutcome::Unavailable);
        assert_eq!(ask("赵六", "110105199001010010"), CheckOutcome::Match);
        // phone_owner: as id_match, and a phone of someone else.
        assert_eq!(ask_with(Check::PhoneOwner, "张三", "11010519491231002X", "13800138000"), CheckOutcome::Match);
        assert_eq!(ask_with(Check::PhoneOwner, "张三丰", "11010519491231002X", "13800138000"), CheckOutcome::Mismatch);
        assert_eq!(ask_with(Check::PhoneOwner, "张三", "11010519491231002X", "13800139999"), CheckOutcome::Mismatch);
        assert_eq!(ask_with(Check::PhoneOwner, "赵六", "110105199001010010", "13800139999"), CheckOutcome::Mismatch);
        assert_eq!(ask_with(Check::IdMatch, "张三", "11010519491231002X", "13800139999"), CheckOutcome::Match);
    }
}
