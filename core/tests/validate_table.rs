//! Table tests of identity-number validation through the public API, with a fixed "today".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use realname_core::validate::{
    Date, DocumentKind, IdCheck, Issue, IssueCode, Options, RegionStatus, Sex, is_valid_id, validate_id,
};

fn today() -> Date {
    Date::new(2024, 6, 1).unwrap()
}

fn check(input: &str) -> IdCheck {
    let r = validate_id(input, &Options::new(today()));
    // The fast path must always agree with the rich one.
    assert_eq!(is_valid_id(input, today()), r.valid, "fast path disagrees on {input:?}: {r:?}");
    r
}

fn codes(issues: &[Issue]) -> Vec<IssueCode> {
    issues.iter().map(|i| i.code).collect()
}

#[test]
fn standard_example_1949() {
    let r = check("11010519491231002X");
    assert!(r.valid, "{r:?}");
    assert_eq!(r.kind, DocumentKind::ResidentId);
    assert_eq!(r.normalized, "11010519491231002X");
    assert!(r.errors.is_empty() && r.warnings.is_empty());
    assert_eq!(r.birth_date, Date::new(1949, 12, 31));
    assert_eq!(r.sex, Some(Sex::Female));
    assert_eq!(r.age, Some(74));
    assert_eq!((r.under_14, r.under_18), (Some(false), Some(false)));
    let region = r.region.unwrap();
    assert_eq!((region.code.as_str(), region.status), ("110105", RegionStatus::Current));
    assert_eq!(r.upgraded, None);
}

#[test]
fn standard_example_born_1880_under_an_abolished_code() {
    let r = check("440524188001010014");
    assert!(r.valid, "{r:?}");
    assert_eq!(r.birth_date, Date::new(1880, 1, 1));
    assert_eq!(r.sex, Some(Sex::Male));
    assert_eq!(r.age, Some(144));
    assert_eq!(r.region.unwrap().status, RegionStatus::Abolished);
}

#[test]
fn abolished_region_on_a_2001_birth_is_valid_without_warnings() {
    // 110103 崇文区 was merged into 东城区 in 2010; people born there in 2001 keep the code.
    let r = check("110103200101010010");
    assert!(r.valid, "{r:?}");
    assert!(r.errors.is_empty() && r.warnings.is_empty(), "{r:?}");
    let region = r.region.unwrap();
    assert_eq!((region.code.as_str(), region.status), ("110103", RegionStatus::Abolished));
    assert_eq!(r.age, Some(23));
    assert_eq!(r.sex, Some(Sex::Male));
    // Strict mode does not care about abolished codes either.
    assert!(validate_id("110103200101010010", &Options::new(today()).strict()).valid);
}

#[test]
fn leap_days() {
    // 1900 is not a leap year: the check character is right, the date is not.
    let r = check("110105190002290017");
    assert!(!r.valid);
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidDate, 12)]);
    assert_eq!(r.birth_date, None);
    let r = check("110105200002290021");
    assert!(r.valid, "{r:?}");
    assert_eq!(r.birth_date, Date::new(2000, 2, 29));
    assert_eq!(r.sex, Some(Sex::Female));
    assert_eq!((r.age, r.under_18), (Some(24), Some(false)));
    // Month 13.
    assert_eq!(codes(&check("110105200013010010").errors), vec![IssueCode::InvalidDate, IssueCode::InvalidCheckChar]);
    assert_eq!(check("110105200013010010").errors[0].position, Some(10));
}

#[test]
fn future_and_too_early_births() {
    let r = check("110105209912310010");
    assert_eq!(r.errors, vec![Issue::at(IssueCode::BirthDateInFuture, 6)]);
    // Born "tomorrow" is in the future; born today is fine (age 0, under 14).
    let tomorrow = "11010520240602001";
    let born_today = "11010520240601001";
    let with_check = |s: &str| format!("{s}{}", realname_core::validate::check_char(s.as_bytes()).unwrap());
    assert!(check(&with_check(tomorrow)).has_error(IssueCode::BirthDateInFuture));
    let r = check(&with_check(born_today));
    assert!(r.valid, "{r:?}");
    assert_eq!((r.age, r.under_14, r.under_18), (Some(0), Some(true), Some(true)));
    // 1799-12-31 is before the earliest real birth date.
    assert!(check(&with_check("11010517991231001")).has_error(IssueCode::BirthDateTooEarly));
    assert!(check(&with_check("11010518000101001")).valid);
}

#[test]
fn wrong_check_char_names_the_expected_one() {
    let r = check("110105194912310021");
    assert!(!r.valid);
    assert_eq!(r.errors, vec![Issue { code: IssueCode::InvalidCheckChar, position: Some(17), expected: Some('X') }]);
    // Facts of the parts that parse are still there to explain the problem.
    assert_eq!(r.birth_date, Date::new(1949, 12, 31));
}

#[test]
fn legacy_15_digit_numbers_upgrade() {
    let r = check("110105491231002");
    assert!(r.valid, "{r:?}");
    assert_eq!(r.kind, DocumentKind::ResidentId);
    assert_eq!(r.upgraded.as_deref(), Some("11010519491231002X"));
    assert_eq!(codes(&r.warnings), vec![IssueCode::LegacyFormat]);
    assert_eq!(r.birth_date, Date::new(1949, 12, 31));
    assert_eq!(r.sex, Some(Sex::Female));
    let r = check("440524800101001");
    assert_eq!(r.upgraded.as_deref(), Some("440524198001010013"));
    assert_eq!(r.sex, Some(Sex::Male));
    // A legacy number with an impossible date does not upgrade.
    let r = check("110105000229001");
    assert!(!r.valid);
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidDate, 10)]);
    assert_eq!(r.upgraded, None);
}

#[test]
fn residence_permits() {
    for (n, code) in
        [("810000199001010019", "810000"), ("820000199001010029", "820000"), ("830000199001010039", "830000")]
    {
        let r = check(n);
        assert!(r.valid, "{r:?}");
        assert_eq!(r.kind, DocumentKind::HkMoTwResidencePermit);
        let region = r.region.unwrap();
        assert_eq!((region.code.as_str(), region.status), (code, RegionStatus::Current));
        assert!(r.warnings.is_empty());
        // Entered in a resident-ID field, it is still recognised as a permit.
        let r = validate_id(n, &Options::new(today()).kind(DocumentKind::ResidentId));
        assert_eq!((r.valid, r.kind), (true, DocumentKind::HkMoTwResidencePermit));
    }
    // A permit must carry exactly 8x0000.
    let r = validate_id("11010519491231002X", &Options::new(today()).kind(DocumentKind::HkMoTwResidencePermit));
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidRegion, 0)]);
    let r = validate_id("810101199001010012", &Options::new(today()).kind(DocumentKind::HkMoTwResidencePermit));
    assert!(r.has_error(IssueCode::InvalidRegion));
    // A wrong check char on a permit.
    assert!(check("810000199001010010").has_error(IssueCode::InvalidCheckChar));
}

#[test]
fn driving_licence_numbers_are_resident_id_numbers_checked_as_one() {
    let licence = |n: &str| validate_id(n, &Options::new(today()).kind(DocumentKind::DrivingLicence));
    for n in ["11010519491231002X", "110105491231002", "440524188001010014", " 1101 0519 4912 3100 2x "] {
        let (l, id) = (licence(n), validate_id(n, &Options::new(today()).kind(DocumentKind::ResidentId)));
        // The same facts, warnings and upgrade as the resident ID number, under the licence's kind.
        assert_eq!(l.kind, DocumentKind::DrivingLicence, "{n}");
        assert_eq!(IdCheck { kind: DocumentKind::ResidentId, ..l }, id, "{n}");
    }
    assert!(licence("11010519491231002X").valid);
    assert_eq!(licence("110105491231002").upgraded.as_deref(), Some("11010519491231002X"));
    // Its errors are the resident ID number's, with the expected check character.
    let r = licence("110105194912310021");
    assert_eq!(r.errors, vec![Issue { code: IssueCode::InvalidCheckChar, position: Some(17), expected: Some('X') }]);
    assert_eq!(codes(&licence("990105199003070010").errors), vec![IssueCode::InvalidProvince]);
    assert_eq!(codes(&licence("").errors), vec![IssueCode::Empty]);
    assert_eq!(licence("").kind, DocumentKind::DrivingLicence);
    // A residence permit's number is no mainland licence number: the kind is what is wrong.
    for n in ["810000199001010019", "810101199001010012"] {
        let r = licence(n);
        assert!(!r.valid, "{n}");
        assert_eq!((r.kind, r.errors[0].code), (DocumentKind::DrivingLicence, IssueCode::InvalidRegion), "{n}");
        assert_eq!(r.errors.iter().filter(|i| i.code == IssueCode::InvalidRegion).count(), 1, "{n}");
    }
    // Strict mode holds it to the resident ID's strict rules; a kind is never detected as a licence.
    let strict = validate_id("110199198001010016", &Options::new(today()).strict().kind(DocumentKind::DrivingLicence));
    assert_eq!(codes(&strict.errors), vec![IssueCode::UnknownRegion]);
    assert_eq!(strict.errors, check_strict("110199198001010016"));
    assert_eq!(check("11010519491231002X").kind, DocumentKind::ResidentId);
    assert_eq!(DocumentKind::from_name("driving_licence"), Some(DocumentKind::DrivingLicence));
}

fn check_strict(n: &str) -> Vec<Issue> {
    validate_id(n, &Options::new(today()).strict().kind(DocumentKind::ResidentId)).errors
}

#[test]
fn other_codes_under_81_to_83_are_errors_not_unknown_counties() {
    let with_check = |s: &str| format!("{s}{}", realname_core::validate::check_char(s.as_bytes()).unwrap());
    for region in ["810100", "810001", "820101", "830100", "839999", "810010"] {
        let n = with_check(&format!("{region}19900101001"));
        let kinds = [None, Some(DocumentKind::ResidentId), Some(DocumentKind::HkMoTwResidencePermit)];
        for (kind, strict) in kinds.into_iter().flat_map(|k| [(k, false), (k, true)]) {
            let r = validate_id(&n, &Options { today: today(), strict, kind });
            // A permit with the wrong region, whatever kind the caller expected: no other document has 81–83.
            assert_eq!(r.kind, DocumentKind::HkMoTwResidencePermit, "{n} {kind:?}");
            assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidRegion, 2)], "{n} {kind:?} strict {strict}");
            assert!(r.warnings.is_empty(), "{n}: {r:?}");
        }
        assert!(!check(&n).valid);
    }
    // Legacy 15-digit numbers never carry 81–83 (permits have 18 characters).
    for legacy in ["810100900101001", "810000900101001", "820000900101002"] {
        assert_eq!(check(legacy).errors, vec![Issue::at(IssueCode::InvalidRegion, 0)], "{legacy}");
    }
    // 71 台湾 is a province-level code, not a permit province: unchanged.
    assert!(check(&with_check("71000019900101001")).valid);
}

#[test]
fn foreigner_2023_format() {
    let r = check("91184019850101001X");
    assert!(r.valid, "{r:?}");
    assert_eq!(r.kind, DocumentKind::ForeignPermanentResidentId);
    assert_eq!(r.nationality.as_deref(), Some("USA"));
    assert_eq!(r.region.as_ref().map(|g| g.code.as_str()), Some("110000"));
    assert_eq!(r.birth_date, Date::new(1985, 1, 1));
    assert_eq!(r.sex, Some(Sex::Male));
    // Unknown nationality 999: a warning, an error in strict mode.
    let r = check("911999198501010024");
    assert!(r.valid);
    assert_eq!(r.warnings, vec![Issue::at(IssueCode::UnknownNationality, 3)]);
    assert_eq!(r.nationality.as_deref(), Some("999"));
    let r = validate_id("911999198501010024", &Options::new(today()).strict());
    assert_eq!(r.errors, vec![Issue::at(IssueCode::UnknownNationality, 3)]);
    // Issuing province digits 2–3 must be real.
    let r = check("901840198501010018");
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidProvince, 1)]);
    assert!(check("92184019850101001X").has_error(IssueCode::InvalidCheckChar));
}

#[test]
fn foreigner_old_15_char_format() {
    let r = check("USA118501010001");
    assert!(r.valid, "{r:?}");
    assert_eq!(r.kind, DocumentKind::ForeignPermanentResidentId);
    assert_eq!(r.nationality.as_deref(), Some("USA"));
    assert_eq!(r.birth_date, Date::new(1985, 1, 1));
    assert_eq!(r.region.unwrap().code, "110000");
    assert_eq!(check("usa 1185 0101 0001").normalized, "USA118501010001");
    assert_eq!(check("USA108501010001").errors, vec![Issue::at(IssueCode::InvalidProvince, 3)]);
    assert_eq!(check("USA118513010001").errors, vec![Issue::at(IssueCode::InvalidDate, 7)]);
    let r = check("QQQ118501010001");
    assert_eq!((r.valid, codes(&r.warnings)), (true, vec![IssueCode::UnknownNationality]));
}

#[test]
fn normalization_full_width_lowercase_spaces() {
    for input in [
        "１１０１０５１９４９１２３１００２Ｘ",
        "11010519491231002x",
        " 110105 1949 1231 002x ",
        "110105-19491231-002X",
    ] {
        let r = check(input);
        assert!(r.valid, "{input}: {r:?}");
        assert_eq!(r.normalized, "11010519491231002X");
    }
    let r = check("１１０１０５１９４９１２３１００２ｘ");
    assert!(r.valid, "{r:?}");
}

#[test]
fn unknown_county_warns_and_strict_rejects() {
    let r = check("110199198001010016");
    assert!(r.valid, "{r:?}");
    assert_eq!(r.warnings, vec![Issue::at(IssueCode::UnknownRegion, 2)]);
    assert_eq!(r.region.unwrap().status, RegionStatus::Unknown);
    let r = validate_id("110199198001010016", &Options::new(today()).strict());
    assert!(!r.valid);
    assert_eq!(r.errors, vec![Issue::at(IssueCode::UnknownRegion, 2)]);
    assert!(r.warnings.is_empty());
}

#[test]
fn bad_province_is_an_error() {
    let r = check("100105198001010014");
    assert!(!r.valid);
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidProvince, 0)]);
    assert_eq!(r.region, None);
}

#[test]
fn characters_and_lengths() {
    assert_eq!(check("").errors, vec![Issue::whole(IssueCode::Empty)]);
    assert_eq!(check("  - ").errors, vec![Issue::whole(IssueCode::Empty)]);
    assert_eq!(check("1101051949123100").errors, vec![Issue::whole(IssueCode::InvalidLength)]);
    assert_eq!(check("11010519491231002X1").errors, vec![Issue::whole(IssueCode::InvalidLength)]);
    assert_eq!(check("1101051949123100AX").errors, vec![Issue::at(IssueCode::InvalidCharacter, 16)]);
    assert_eq!(check("110105194912310X2X").errors, vec![Issue::at(IssueCode::InvalidCharacter, 15)]);
    assert_eq!(check("11010519491231002？").errors, vec![Issue::at(IssueCode::InvalidCharacter, 17)]);
    assert_eq!(check("11010519491231002✓").errors, vec![Issue::at(IssueCode::InvalidCharacter, 17)]);
}

#[test]
fn travel_permits_and_passports() {
    let kind = |s: &str| {
        let r = check(s);
        (r.valid, r.kind)
    };
    // Without a kind only documents with a check character are detected: shape-only numbers are resident IDs
    // of the wrong shape (a bare 8-digit string is not a Taiwan travel permit).
    for s in ["H12345678", "M1234567801", "h1234567801", "12345678", "E12345678", "EA1234567", "G12345678", "P1234567"]
    {
        assert_eq!(kind(s), (false, DocumentKind::ResidentId), "{s}");
    }
    assert_eq!(check("12345678").errors, vec![Issue::whole(IssueCode::InvalidLength)]);
    let opts = |k| Options::new(today()).kind(k);
    let given = |s: &str, k| {
        let r = validate_id(s, &opts(k));
        (r.valid, r.kind)
    };
    assert_eq!(given("H12345678", DocumentKind::HkMoTravelPermit), (true, DocumentKind::HkMoTravelPermit));
    assert_eq!(given("M1234567801", DocumentKind::HkMoTravelPermit), (true, DocumentKind::HkMoTravelPermit));
    assert_eq!(given("h1234567801", DocumentKind::HkMoTravelPermit), (true, DocumentKind::HkMoTravelPermit));
    assert_eq!(given("12345678", DocumentKind::TwTravelPermit), (true, DocumentKind::TwTravelPermit));
    assert_eq!(given("E12345678", DocumentKind::ChinesePassport), (true, DocumentKind::ChinesePassport));
    assert_eq!(given("EA1234567", DocumentKind::ChinesePassport), (true, DocumentKind::ChinesePassport));
    assert_eq!(given("G12345678", DocumentKind::ChinesePassport), (true, DocumentKind::ChinesePassport));
    assert_eq!(given("P1234567", DocumentKind::ChinesePassport), (true, DocumentKind::ChinesePassport));
    assert_eq!(given("EI1234567", DocumentKind::ChinesePassport), (false, DocumentKind::ChinesePassport));
    assert_eq!(given("E12345678", DocumentKind::Passport), (true, DocumentKind::ChinesePassport));
    let r = validate_id("H1234567", &opts(DocumentKind::HkMoTravelPermit));
    assert_eq!(r.errors, vec![Issue::whole(IssueCode::InvalidLength)]);
    let r = validate_id("X12345678", &opts(DocumentKind::HkMoTravelPermit));
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidCharacter, 0)]);
    let r = validate_id("1234567A", &opts(DocumentKind::TwTravelPermit));
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidCharacter, 7)]);
    let r = validate_id("E1234A678", &opts(DocumentKind::ChinesePassport));
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidCharacter, 5)]);
    let r = validate_id("K12345678", &opts(DocumentKind::ChinesePassport));
    assert_eq!(r.errors, vec![Issue::at(IssueCode::InvalidFormat, 0)]);
    // Other passports: 5–17 letters and digits; a Chinese one is reported as such.
    let r = validate_id("x1234-567", &opts(DocumentKind::Passport));
    assert_eq!((r.valid, r.kind, r.normalized.as_str()), (true, DocumentKind::Passport, "X1234567"));
    assert_eq!(validate_id("E12345678", &opts(DocumentKind::Passport)).kind, DocumentKind::ChinesePassport);
    assert_eq!(validate_id("A123", &opts(DocumentKind::Passport)).errors, vec![Issue::whole(IssueCode::TooShort)]);
    assert_eq!(
        validate_id(&"A".repeat(18), &opts(DocumentKind::Passport)).errors,
        vec![Issue::whole(IssueCode::TooLong)]
    );
    assert_eq!(
        validate_id("AB12_45", &opts(DocumentKind::Passport)).errors,
        vec![Issue::at(IssueCode::InvalidCharacter, 4)]
    );
}

#[test]
fn serializes_with_stable_snake_case_codes() {
    let r = check("110105194912310021");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["kind"], "resident_id");
    assert_eq!(json["errors"][0]["code"], "invalid_check_char");
    assert_eq!(json["errors"][0]["position"], 17);
    assert_eq!(json["errors"][0]["expected"], "X");
    assert_eq!(json["birth_date"], "1949-12-31");
    assert_eq!(json["sex"], "female");
    assert_eq!(json["region"]["code"], "110105");
    assert_eq!(json["region"]["status"], "current");
    let json = serde_json::to_value(check("110103200101010010")).unwrap();
    assert_eq!(json["region"]["status"], "abolished");
    assert_eq!(json["under_14"], false);
    let json = serde_json::to_value(check("110199198001010016")).unwrap();
    assert_eq!(json["warnings"][0]["code"], "unknown_region");
    assert_eq!(json["region"]["status"], "unknown");
    for k in DocumentKind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        assert_eq!(DocumentKind::from_name(k.as_str()), Some(k));
    }
}
