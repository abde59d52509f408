//! A proleptic Gregorian calendar date, small enough that the calendar needs no date crate.

use std::fmt;
use std::str::FromStr;

use realname_core::validate::{civil_from_days, days_from_civil, days_in_month};

/// Seconds east of UTC of China Standard Time; working days are counted on Beijing dates (no DST since 1991).
pub const BEIJING_OFFSET_SECS: i64 = 8 * 3600;

const SECS_PER_DAY: i64 = 86_400;

/// A calendar date (year, month 1–12, day 1–31), always valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        matches!(self, Weekday::Sat | Weekday::Sun)
    }
}

impl Date {
    /// The date, or `None` when it does not exist.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        let days = u32::try_from(year).map_or(0, |y| days_in_month(y, u32::from(month)));
        (day >= 1 && u32::from(day) <= days).then_some(Self { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(i64::from(self.year), u32::from(self.month), u32::from(self.day))
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Self {
        let (year, month, day) = civil_from_days(days);
        // In range: a day is 1–31, a month 1–12, and i32 years reach far past any date this server sees.
        Self { year: year as i32, month: month as u8, day: day as u8 }
    }

    /// The Beijing date of a Unix timestamp (seconds).
    pub fn beijing_from_unix(secs: i64) -> Self {
        Self::from_days_since_epoch((secs + BEIJING_OFFSET_SECS).div_euclid(SECS_PER_DAY))
    }

    /// The Unix timestamp of 00:00 Beijing time on this date.
    pub fn beijing_midnight_unix(self) -> i64 {
        self.days_since_epoch() * SECS_PER_DAY - BEIJING_OFFSET_SECS
    }

    /// The next day.
    pub fn succ(self) -> Self {
        Self::from_days_since_epoch(self.days_since_epoch() + 1)
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        match (self.days_since_epoch() + 3).rem_euclid(7) {
            0 => Weekday::Mon,
            1 => Weekday::Tue,
            2 => Weekday::Wed,
            3 => Weekday::Thu,
            4 => Weekday::Fri,
            5 => Weekday::Sat,
            _ => Weekday::Sun,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A string that is not an ISO date `YYYY-MM-DD` of a real day.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a date (want YYYY-MM-DD): {0:?}")]
pub struct BadDate(pub String);

impl FromStr for Date {
    type Err = BadDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadDate(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, BadDate> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (Ok(m), Ok(d)) = (u8::try_from(m), u8::try_from(d)) else {
            return Err(bad());
        };
        Date::new(y as i32, m, d).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days_and_weekdays() {
        let d: Date = "2026-01-01".parse().unwrap();
        assert_eq!(d.weekday(), Weekday::Thu);
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        for n in -800_000..800_000i64 {
            if n % 997 == 0 {
                assert_eq!(Date::from_days_since_epoch(n).days_since_epoch(), n);
            }
        }
        assert_eq!("2024-02-29".parse::<Date>().unwrap().succ().to_string(), "2024-03-01");
        assert_eq!("2026-12-31".parse::<Date>().unwrap().succ().to_string(), "2027-01-01");
    }

    #[test]
    fn rejects_non_dates() {
        for s in ["2026-02-29", "2026-13-01", "2026-1-01", "20260101", "2026-00-10", "+026-01-01", ""] {
            assert!(s.parse::<Date>().is_err(), "{s}");
        }
    }

    #[test]
    fn beijing_dates_turn_at_16_utc() {
        // 2026-01-01T15:59:59Z is 23:59:59 in Beijing; one second later it is 2 January there.
        let d = "2026-01-01".parse::<Date>().unwrap();
        let midnight = d.beijing_midnight_unix();
        assert_eq!(midnight, 1_767_196_800);
        assert_eq!(Date::beijing_from_unix(midnight), d);
        assert_eq!(Date::beijing_from_unix(midnight - 1).to_string(), "2025-12-31");
    }
}
