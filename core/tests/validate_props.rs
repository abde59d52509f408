//! Property tests: generated valid numbers are accepted; every single-character substitution and every adjacent
//! transposition of different characters is rejected; the fast path always agrees with the rich one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use proptest::prelude::*;
use realname_core::validate::{
    Date, DocumentKind, IssueCode, Options, RegionStatus, Sex, Verdict, check_char, days_in_month, id_verdict,
    id_verdict_units, is_valid_id, region_status, summarize_id, upgrade_15, validate_id,
};

fn today() -> Date {
    Date::new(2024, 6, 1).unwrap()
}

/// Known region codes, current and abolished, across provinces, plus the permit regions.
const REGIONS: [&str; 16] = [
    "110105", "110103", "120101", "310115", "330106", "330103", "440305", "440524", "510104", "530102", "650102",
    "460200", "810000", "820000", "830000", "110000",
];

/// A birth date from 1800-01-01 to `today` (2024-06-01).
fn birth() -> impl Strategy<Value = (u32, u32, u32)> {
    (1800u32..=2023, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| (y, m, d.min(days_in_month(y, m))))
}

prop_compose! {
    fn valid_18()(region in prop::sample::select(&REGIONS[..]), (y, m, d) in birth(), seq in 0u32..1000) -> String {
        let first17 = format!("{region}{y:04}{m:02}{d:02}{seq:03}");
        let c = check_char(first17.as_bytes()).unwrap();
        format!("{first17}{c}")
    }
}

/// [`id_verdict_units`] of `s` when it is 18 UTF-16 units.
fn units_verdict(s: &str, today: Date) -> Option<Verdict> {
    let units: Vec<u32> = s.encode_utf16().map(u32::from).collect();
    id_verdict_units(units.try_into().ok()?, today)
}

fn opts() -> Options {
    Options::new(today())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_numbers_are_accepted(n in valid_18()) {
        let r = validate_id(&n, &opts());
        prop_assert!(r.valid, "{n}: {r:?}");
        prop_assert!(r.warnings.is_empty(), "{n}: {r:?}");
        prop_assert!(is_valid_id(&n, today()));
        prop_assert!(validate_id(&n, &opts().strict()).valid);
        let b = n.as_bytes();
        let date = Date::new(n[6..10].parse().unwrap(), n[10..12].parse().unwrap(), n[12..14].parse().unwrap());
        prop_assert_eq!(r.birth_date, date);
        let male = (b[16] - b'0') % 2 == 1;
        prop_assert_eq!(r.sex, Some(if male { Sex::Male } else { Sex::Female }));
        let region = r.region.unwrap();
        prop_assert_eq!(&region.code, &n[..6]);
        prop_assert_ne!(region.status, RegionStatus::Unknown);
        let permit = n.starts_with("8");
        prop_assert_eq!(r.kind, if permit { DocumentKind::HkMoTwResidencePermit } else { DocumentKind::ResidentId });
        // Separators, full width and lower case do not change the outcome.
        let spaced = format!(" {}-{} {} ", &n[..6], &n[6..14], n[14..].to_lowercase());
        prop_assert!(is_valid_id(&spaced, today()));
        let wide: String = n.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
        prop_assert!(validate_id(&wide, &opts()).valid);
        prop_assert!(is_valid_id(&wide, today()));
    }

    #[test]
    fn every_single_substitution_is_rejected(n in valid_18()) {
        let chars: Vec<char> = n.chars().collect();
        for i in 0..18 {
            for c in "0123456789X".chars().filter(|&c| c != chars[i]) {
                let mut m = chars.clone();
                m[i] = c;
                let m: String = m.into_iter().collect();
                prop_assert!(!validate_id(&m, &opts()).valid, "{n} -> {m} accepted");
                prop_assert!(!is_valid_id(&m, today()), "{n} -> {m} accepted by the fast path");
            }
        }
    }

    #[test]
    fn every_adjacent_transposition_is_rejected(n in valid_18()) {
        let chars: Vec<char> = n.chars().collect();
        for i in 0..17 {
            if chars[i] == chars[i + 1] {
                continue;
            }
            let mut m = chars.clone();
            m.swap(i, i + 1);
            let m: String = m.into_iter().collect();
            prop_assert!(!validate_id(&m, &opts()).valid, "{n} -> {m} accepted");
            prop_assert!(!is_valid_id(&m, today()), "{n} -> {m} accepted by the fast path");
        }
    }

    #[test]
    fn legacy_numbers_upgrade_to_valid_18(region in prop::sample::select(&REGIONS[..12]), (y, m, d) in (1900u32..=1999, 1u32..=12, 1u32..=31), seq in 0u32..1000) {
        let d = d.min(days_in_month(y, m));
        let legacy = format!("{region}{:02}{m:02}{d:02}{seq:03}", y % 100);
        let r = validate_id(&legacy, &opts());
        prop_assert!(r.valid, "{legacy}: {r:?}");
        let up = r.upgraded.clone().unwrap();
        prop_assert_eq!(Some(up.clone()), upgrade_15(&legacy));
        let r18 = validate_id(&up, &opts());
        prop_assert!(r18.valid);
        prop_assert_eq!(r18.birth_date, r.birth_date);
        prop_assert_eq!(r18.sex, r.sex);
        prop_assert_eq!(r18.region, r.region);
    }

    #[test]
    fn fast_path_agrees_on_near_misses(s in "[0-9Xx \\-０-９ｘ]{0,22}") {
        prop_assert_eq!(is_valid_id(&s, today()), validate_id(&s, &opts()).valid, "{:?}", s);
    }

    #[test]
    fn fast_path_agrees_on_mutations(
        n in valid_18(),
        i in 0usize..18,
        c in prop::sample::select(&b"0123456789Xx9- "[..]),
        year in 1799u32..2100,
    ) {
        // One character changed (often still 18 plain characters) and "today" anywhere from before the earliest
        // birth to the far future: the plain-18 shortcut and the general path agree with the rich check.
        let mut b = n.into_bytes();
        b[i] = c;
        let m = String::from_utf8(b).unwrap();
        let today = Date::new(year, 6, 1).unwrap();
        let valid = validate_id(&m, &Options::new(today)).valid;
        prop_assert_eq!(is_valid_id(&m, today), valid, "{} on {}", m, today);
        // The verdict agrees, and "invalid on any day" holds on later days.
        let verdict = id_verdict(m.as_bytes(), today);
        prop_assert_eq!(verdict == Verdict::Valid, valid, "{} on {}", m, today);
        // The same 18 characters as numbers (JS `charCodeAt`): the same verdict, or "not plain, ask id_verdict".
        prop_assert!(units_verdict(&m, today).is_none_or(|v| v == verdict), "{} on {}", m, today);
        if verdict == Verdict::Invalid {
            for later in [Date::new(year + 1, 1, 1).unwrap(), Date::new(2200, 12, 31).unwrap()] {
                prop_assert!(!validate_id(&m, &Options::new(later)).valid, "{} on {}", m, later);
            }
        }
    }

    #[test]
    fn summary_equals_the_rich_check(
        n in valid_18(),
        i in 0usize..18,
        c in prop::sample::select(&b"0123456789Xx9- "[..]),
        year in 1799u32..2100,
        strict in any::<bool>(),
        kind in prop::sample::select(&[None, Some(DocumentKind::ResidentId), Some(DocumentKind::HkMoTwResidencePermit), Some(DocumentKind::ForeignPermanentResidentId), Some(DocumentKind::Passport)][..]),
    ) {
        let mut b = n.into_bytes();
        b[i] = c;
        let m = String::from_utf8(b).unwrap();
        let opts = Options { today: Date::new(year, 6, 1).unwrap(), strict, kind };
        let rich = validate_id(&m, &opts);
        let plain = m.bytes().take(17).all(|b| b.is_ascii_digit()) && matches!(m.as_bytes()[17], b'0'..=b'9' | b'X' | b'x');
        match summarize_id(m.as_bytes(), &opts) {
            Some(s) => {
                prop_assert_eq!(s.to_check(), rich.clone(), "{} {:?}", m, opts);
                prop_assert_eq!(s.valid(), rich.valid);
            }
            // Only shapes and kinds the summary does not cover fall back.
            None => prop_assert!(
                !plain || matches!(rich.kind, DocumentKind::ForeignPermanentResidentId | DocumentKind::Passport),
                "{} {:?} not summarized", m, opts
            ),
        }
    }

    #[test]
    fn fast_path_agrees_on_anything(s in "\\PC{0,24}") {
        let valid = validate_id(&s, &opts()).valid;
        prop_assert_eq!(is_valid_id(&s, today()), valid, "{:?}", s);
        prop_assert_eq!(id_verdict(s.as_bytes(), today()) == Verdict::Valid, valid, "{:?}", s);
        prop_assert!(units_verdict(&s, today()).is_none_or(|v| v == id_verdict(s.as_bytes(), today())), "{:?}", s);
    }

    #[test]
    fn permit_provinces_have_no_other_region(
        province in 81u32..=83,
        county in 1u32..10_000,
        (y, m, d) in birth(),
        seq in 0u32..1000,
        strict in any::<bool>(),
        kind in prop::sample::select(&[None, Some(DocumentKind::ResidentId), Some(DocumentKind::HkMoTwResidencePermit)][..]),
    ) {
        // 810000/820000/830000 only: any other code under 81–83 is an error on every path, on any day.
        let first17 = format!("{province}{county:04}{y:04}{m:02}{d:02}{seq:03}");
        let n = format!("{first17}{}", check_char(first17.as_bytes()).unwrap());
        let opts = Options { today: today(), strict, kind };
        let r = validate_id(&n, &opts);
        prop_assert!(!r.valid, "{n}: {r:?}");
        prop_assert_eq!(r.kind, DocumentKind::HkMoTwResidencePermit);
        prop_assert!(r.has_error(IssueCode::InvalidRegion), "{}: {:?}", n, r);
        prop_assert!(!is_valid_id(&n, today()));
        prop_assert_eq!(id_verdict(n.as_bytes(), today()), Verdict::Invalid);
        prop_assert_eq!(units_verdict(&n, today()), Some(Verdict::Invalid));
        prop_assert_eq!(summarize_id(n.as_bytes(), &opts).map(|s| s.to_check()), Some(r));
        // The same number with the county digits 0000 is a valid permit.
        let first17 = format!("{province}0000{y:04}{m:02}{d:02}{seq:03}");
        let ok = format!("{first17}{}", check_char(first17.as_bytes()).unwrap());
        prop_assert!(validate_id(&ok, &opts).valid && is_valid_id(&ok, today()), "{}", ok);
    }

    #[test]
    fn region_lookup_never_panics(code in 0u32..2_000_000) {
        let _ = region_status(code);
    }
}
