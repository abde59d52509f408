//! The working-day calendar of mainland China: weekends, public holidays and adjusted working days (调休).
//!
//! Review and complaint deadlines are "N working days" (seed 第十条, 第十三条). Periods are counted the way the
//! Civil Code counts them (art. 201, 203): the day of submission is not counted, counting starts the next day, and
//! the period ends at 24:00 (Beijing time) of its last working day. The dates come from one data file per year
//! (`domain/data/calendar/*.toml`, built in) and from an operator's `calendar_dir`, whose files add or replace years.
//! A year without official data counts only Saturdays and Sundays as days off: due dates can then only be earlier
//! than the official ones, and they are marked provisional.

mod data;
pub mod date;

use std::collections::BTreeMap;
use std::path::Path;

pub use data::Status;
use data::{YearFile, parse_year};
pub use date::{Date, Weekday};

/// The built-in years, transcribed from the State Council's notices (see each file's provenance).
const BUILTIN: &[(&str, &str)] = &[
    ("2025.toml", include_str!("../../data/calendar/2025.toml")),
    ("2026.toml", include_str!("../../data/calendar/2026.toml")),
    ("2027.toml", include_str!("../../data/calendar/2027.toml")),
];

/// Why the calendar could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// A data file is malformed or inconsistent.
    #[error("calendar file {file}: {why}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// The operator's directory could not be read.
    #[error("calendar directory {dir}: {why}")]
    Io {
        /// The directory.
        dir: String,
        /// The I/O error.
        why: String,
    },
}

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayKind {
    /// Monday to Friday, no holiday.
    Workday,
    /// Saturday or Sunday, no 调休.
    Weekend,
    /// A day off of the named public holiday (including weekend days inside the holiday).
    Holiday(String),
    /// A Saturday or Sunday worked to make up for the named holiday (调休上班).
    AdjustedWorkday(String),
}

impl DayKind {
    /// Whether people work on this day.
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday(_))
    }
}

/// A deadline counted in working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The last working day of the period.
    pub date: Date,
    /// The instant the period ends (00:00 Beijing time after `date`), Unix seconds; overdue from this instant.
    pub at: i64,
    /// Whether the period reached into a year without official data (weekends-only counting).
    pub provisional: bool,
}

/// The working-day calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    years: BTreeMap<i32, YearFile>,
}

impl Calendar {
    /// A calendar without any year's data (weekends only).
    pub fn empty() -> Self {
        Self { years: BTreeMap::new() }
    }

    /// The built-in years only.
    pub fn builtin() -> Result<Self, CalendarError> {
        let mut years = BTreeMap::new();
        for (name, text) in BUILTIN {
            let y = parse_year(name, text)?;
            years.insert(y.year, y);
        }
        Ok(Self { years })
    }

    /// The built-in years, then every `*.toml` file of `dir` (an operator's additions; a year there replaces the
    /// built-in one).
    pub fn load(dir: Option<&Path>) -> Result<Self, CalendarError> {
        let mut cal = Self::builtin()?;
        let Some(dir) = dir else { return Ok(cal) };
        let io = |e: std::io::Error| CalendarError::Io { dir: dir.display().to_string(), why: e.to_string() };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(io)?;
            cal.add(parse_year(&p.display().to_string(), &text)?);
        }
        Ok(cal)
    }

    /// Adds or replaces a year from a data file's text.
    pub fn add_year(&mut self, origin: &str, text: &str) -> Result<(), CalendarError> {
        self.add(parse_year(origin, text)?);
        Ok(())
    }

    fn add(&mut self, y: YearFile) {
        self.years.insert(y.year, y);
    }

    /// Whether the official dates of `year` are known.
    pub fn covers(&self, year: i32) -> bool {
        self.years.get(&year).is_some_and(|y| y.status == Status::Official)
    }

    /// The years with official data, ascending.
    pub fn official_years(&self) -> Vec<i32> {
        self.years.values().filter(|y| y.status == Status::Official).map(|y| y.year).collect()
    }

    /// Where the dates of `year` come from, if the year has a file.
    pub fn source(&self, year: i32) -> Option<&str> {
        self.years.get(&year).map(|y| y.source.as_str())
    }

    /// What kind of day `date` is.
    pub fn kind(&self, date: Date) -> DayKind {
        if let Some(y) = self.years.get(&date.year()) {
            if let Some(name) = y.holidays.get(&date) {
                return DayKind::Holiday(name.clone());
            }
            if let Some(name) = y.workdays.get(&date) {
                return DayKind::AdjustedWorkday(name.clone());
            }
        }
        if date.weekday().is_weekend() { DayKind::Weekend } else { DayKind::Workday }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> bool {
        self.kind(date).is_working()
    }

    /// The `n`-th working day after `start` (`start` itself is not counted), and whether counting went through a
    /// year without official data. `n = 0` gives `start`.
    pub fn add_working_days(&self, start: Date, n: u32) -> (Date, bool) {
        let mut d = start;
        let mut provisional = false;
        let mut left = n;
        while left > 0 {
            d = d.succ();
            provisional |= !self.covers(d.year());
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        (d, provisional)
    }

    /// The deadline of a period of `n` working days starting at the instant `from` (Unix seconds).
    pub fn due(&self, from: i64, n: u32) -> Due {
        let (date, provisional) = self.add_working_days(Date::beijing_from_unix(from), n);
        Due { date, at: date.succ().beijing_midnight_unix(), provisional }
    }

    /// Working days strictly after the Beijing date of `from` up to and including that of `to` (0 if `to` is not
    /// later): how long something took, in working days.
    pub fn working_days_between(&self, from: i64, to: i64) -> u32 {
        let (mut d, end) = (Date::beijing_from_unix(from), Date::beijing_from_unix(to));
        let mut n = 0;
        while d < end {
            d = d.succ();
            n += u32::from(self.is_working_day(d));
        }
        n
    }

    /// A warning for the operator when the current year, or from November on the next year, has no official data.
    pub fn coverage_warning(&self, now: i64) -> Option<String> {
        let today = Date::beijing_from_unix(now);
        let mut missing = Vec::new();
        if !self.covers(today.year()) {
            missing.push(today.year());
        }
        if today.month() >= 11 && !self.covers(today.year() + 1) {
            missing.push(today.year() + 1);
        }
        (!missing.is_empty()).then(|| {
            let years: Vec<String> = missing.iter().map(i32::to_string).collect();
            format!(
                "working-day calendar has no official holidays for {}: only weekends count as days off there; \
                 add the State Council's notice as <calendar_dir>/<year>.toml",
                years.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_files_parse_and_2027_is_not_invented() {
        let cal = Calendar::builtin().unwrap();
        assert_eq!(cal.official_years(), vec![2025, 2026]);
        assert!(!cal.covers(2027));
        assert!(cal.source(2027).unwrap().contains("not available"));
    }
}
