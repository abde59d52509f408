//! The working-day calendar: weekends, public holidays, 调休 Saturdays and Sundays, year boundaries, operator years.

use realname_domain::calendar::{Calendar, Date, DayKind};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// 10:00 Beijing time on `s`, as Unix seconds.
fn at10(s: &str) -> i64 {
    d(s).beijing_midnight_unix() + 10 * 3600
}

fn due(cal: &Calendar, submitted: &str) -> String {
    cal.due(at10(submitted), 5).date.to_string()
}

#[test]
fn plain_weeks_skip_the_weekend() {
    let cal = Calendar::builtin().unwrap();
    // Monday 2026-03-09 → Mon 16 (Tue..Fri = 4, then Monday).
    assert_eq!(due(&cal, "2026-03-09"), "2026-03-16");
    // Friday → next Friday; Saturday and Sunday submissions start counting on Monday.
    assert_eq!(due(&cal, "2026-03-13"), "2026-03-20");
    assert_eq!(due(&cal, "2026-03-14"), "2026-03-20");
    assert_eq!(due(&cal, "2026-03-15"), "2026-03-20");
    assert_eq!(cal.kind(d("2026-03-14")), DayKind::Weekend);
}

#[test]
fn public_holidays_are_not_working_days() {
    let cal = Calendar::builtin().unwrap();
    // 国庆节 2026-10-01..07 off, Saturday 10-10 worked. Submitted Tue 09-29: 09-30, 10-08, 10-09, 10-10, 10-12.
    assert_eq!(due(&cal, "2026-09-29"), "2026-10-12");
    assert_eq!(cal.kind(d("2026-10-05")), DayKind::Holiday("国庆节".into()));
    // 春节 2026-02-15..23; the weekend inside the holiday is a holiday too.
    assert!(!cal.is_working_day(d("2026-02-16")));
    assert!(!cal.is_working_day(d("2026-02-22")));
    // 清明节 Monday 04-06 is off: submitted Thu 04-02 → 04-03, 04-07, 04-08, 04-09, 04-10.
    assert_eq!(due(&cal, "2026-04-02"), "2026-04-10");
}

#[test]
fn adjusted_saturdays_and_sundays_are_working_days() {
    let cal = Calendar::builtin().unwrap();
    // 调休: Sat 2026-02-14 and Sat 02-28 are worked for 春节. Submitted Thu 02-12: 02-13, 02-14 (Sat), 02-24, 02-25, 02-26.
    assert_eq!(cal.kind(d("2026-02-14")), DayKind::AdjustedWorkday("春节".into()));
    assert_eq!(due(&cal, "2026-02-12"), "2026-02-26");
    // Submitted Mon 02-23 (still a holiday): 02-24, 25, 26, 27, 28 (Sat, worked).
    assert_eq!(due(&cal, "2026-02-23"), "2026-02-28");
    // Sun 2026-09-20 is worked for 国庆节. Submitted Fri 09-18: 09-20 (Sun), 21, 22, 23, 24.
    assert_eq!(due(&cal, "2026-09-18"), "2026-09-24");
    // Sat 2026-05-09 for 劳动节 (05-01..05 off). Submitted Thu 04-30: 05-06, 07, 08, 09 (Sat), 11.
    assert_eq!(due(&cal, "2026-04-30"), "2026-05-11");
}

#[test]
fn periods_cross_the_year_boundary() {
    let cal = Calendar::builtin().unwrap();
    // Mon 2025-12-29: 12-30, 12-31, then 2026-01-01..03 off, Sun 01-04 worked, 01-05, 01-06.
    let due_2026 = cal.due(at10("2025-12-29"), 5);
    assert_eq!(due_2026.date, d("2026-01-06"));
    assert!(!due_2026.provisional);
    // Into 2027, which has no official data: weekends only, and the due date says so.
    let into_2027 = cal.due(at10("2026-12-29"), 5);
    assert_eq!(into_2027.date, d("2027-01-05"));
    assert!(into_2027.provisional);
    assert!(cal.coverage_warning(at10("2026-11-28")).unwrap().contains("2027"));
    assert!(cal.coverage_warning(at10("2026-06-01")).is_none());
}

#[test]
fn the_deadline_is_midnight_beijing_after_the_last_day() {
    let cal = Calendar::builtin().unwrap();
    // Submitted at 23:30 Beijing on Mon 2026-03-09 (15:30 UTC) still counts from Tuesday.
    let late = d("2026-03-09").beijing_midnight_unix() + 23 * 3600 + 1800;
    let due = cal.due(late, 5);
    assert_eq!(due.date, d("2026-03-16"));
    assert_eq!(due.at, d("2026-03-17").beijing_midnight_unix());
    // 00:10 Beijing on Tue is already Tuesday, though it is still Monday in UTC.
    assert_eq!(cal.due(d("2026-03-10").beijing_midnight_unix() + 600, 5).date, d("2026-03-17"));
    assert_eq!(cal.working_days_between(at10("2026-02-12"), at10("2026-02-26")), 5);
    assert_eq!(cal.working_days_between(at10("2026-02-26"), at10("2026-02-12")), 0);
}

#[test]
fn an_operator_adds_a_year_from_the_configured_directory() {
    let dir = std::env::temp_dir().join(format!("realname-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A made-up year for the test only: New Year's Day off, Saturday 2027-01-09 worked.
    std::fs::write(
        dir.join("2027.toml"),
        "year = 2027\nstatus = \"official\"\nsource = \"test\"\n\
         [[holiday]]\nname = \"元旦\"\nfrom = \"2027-01-01\"\nto = \"2027-01-03\"\n\
         [[workday]]\ndate = \"2027-01-09\"\nfor = \"元旦\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("README.txt"), "ignored").unwrap();
    let cal = Calendar::load(Some(&dir)).unwrap();
    assert!(cal.covers(2027));
    // Thu 2026-12-31: 2027-01-04, 05, 06, 07, 08.
    let due = cal.due(at10("2026-12-31"), 5);
    assert_eq!((due.date, due.provisional), (d("2027-01-08"), false));
    assert_eq!(cal.due(at10("2027-01-05"), 5).date, d("2027-01-11"));
    // A broken file is refused with its name, not silently skipped.
    std::fs::write(dir.join("2028.toml"), "year = 2028\nstatus = \"official\"\n").unwrap();
    let err = Calendar::load(Some(&dir)).unwrap_err().to_string();
    assert!(err.contains("2028.toml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
