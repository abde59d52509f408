//! Calendar dates without a clock: the caller injects "today", so validation is deterministic and testable.

use std::fmt;

use serde::{Serialize, Serializer};

/// A proleptic Gregorian calendar date, serialized as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Whether `year` is a Gregorian leap year (1900 is not, 2000 is).
pub const fn is_leap_year(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Days in `month` (1–12) of `year`; 0 for a month out of range.
pub const fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The (year, month 1–12, day) `days` days after 1970-01-01 (negative: before), proleptic Gregorian, any year
/// (Howard Hinnant's `civil_from_days`). With [`days_from_civil`], the project's one implementation of date
/// arithmetic: validation, the server's working-day calendar and the providers' request dates use it.
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month as u32, day as u32)
}

/// Days from 1970-01-01 to (year, month 1–12, day), the inverse of [`civil_from_days`] (Hinnant's
/// `days_from_civil`).
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - if month <= 2 { 1 } else { 0 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Date {
    /// The date, or `None` when it does not exist in the calendar (e.g. 1900-02-29) or the year is over 9999.
    pub const fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        if year > 9999 || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year: year as u16, month: month as u8, day: day as u8 })
    }

    /// The date `days` days after 1970-01-01 (negative: before), clamped to years 0–9999.
    pub const fn from_unix_days(days: i64) -> Date {
        let (year, month, day) = civil_from_days(days);
        if year < 0 {
            return Date { year: 0, month: 1, day: 1 };
        }
        if year > 9999 {
            return Date { year: 9999, month: 12, day: 31 };
        }
        Date { year: year as u16, month: month as u8, day: day as u8 }
    }

    /// The UTC date of a Unix timestamp in seconds.
    pub const fn from_unix_seconds(secs: i64) -> Date {
        Date::from_unix_days(secs.div_euclid(86_400))
    }

    /// The UTC date of a Unix timestamp in milliseconds (JavaScript's `Date.now()`).
    pub fn from_unix_millis(millis: f64) -> Date {
        // `as` saturates on overflow and maps NaN to 0, which is what a broken clock deserves.
        Date::from_unix_days((millis / 86_400_000.0).floor() as i64)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b.get(r)?.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
        };
        Date::new(num(0..4)?, num(5..7)?, num(8..10)?)
    }

    /// The year.
    pub const fn year(self) -> u32 {
        self.year as u32
    }

    /// The month, 1–12.
    pub const fn month(self) -> u32 {
        self.month as u32
    }

    /// The day of the month, 1–31.
    pub const fn day(self) -> u32 {
        self.day as u32
    }

    /// Completed years from `self` (a birth date) to `today`; 0 when `today` is earlier.
    pub fn age_on(self, today: Date) -> u32 {
        if today < self {
            return 0;
        }
        let years = today.year() - self.year();
        if (today.month, today.day) < (self.month, self.day) { years - 1 } else { years }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_rules() {
        assert!(Date::new(1900, 2, 29).is_none());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::new(2023, 4, 31).is_none());
        assert!(Date::new(2023, 13, 1).is_none());
        assert!(Date::new(2023, 1, 0).is_none());
    }

    #[test]
    fn unix_days_round_trip() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(-1).to_string(), "1969-12-31");
        assert_eq!(Date::from_unix_seconds(1_700_000_000).to_string(), "2023-11-14");
        assert_eq!(Date::from_unix_millis(951_782_400_000.0).to_string(), "2000-02-29");
        assert_eq!(Date::parse("2000-02-29"), Date::new(2000, 2, 29));
        assert_eq!(Date::parse("1900-02-29"), None);
    }

    #[test]
    fn civil_days_round_trip_over_eras() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in (-1_000_000..1_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y.rem_euclid(400) as u32 + 2000, m));
        }
    }

    #[test]
    fn age_counts_completed_years() {
        let birth = Date::new(2010, 6, 15).unwrap_or(Date::from_unix_days(0));
        assert_eq!(birth.age_on(Date::new(2024, 6, 14).unwrap_or(birth)), 13);
        assert_eq!(birth.age_on(Date::new(2024, 6, 15).unwrap_or(birth)), 14);
        assert_eq!(birth.age_on(Date::new(2000, 1, 1).unwrap_or(birth)), 0);
    }
}
