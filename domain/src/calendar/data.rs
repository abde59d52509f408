//! The calendar data file: one TOML file per year (see `domain/data/calendar/2026.toml`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::CalendarError;
use super::date::Date;

/// Whether a year's file carries the official dates.
#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The State Council's notice for the year, transcribed.
    Official,
    /// The notice is not (yet) available: the file only records that fact and carries no dates.
    Unpublished,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i32,
    status: Status,
    source: String,
    #[serde(default)]
    holiday: Vec<RawHoliday>,
    #[serde(default)]
    workday: Vec<RawWorkday>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkday {
    date: String,
    #[serde(rename = "for")]
    for_holiday: String,
}

/// One year of the calendar, checked.
#[derive(Debug, Clone)]
pub struct YearFile {
    /// The year the file describes.
    pub year: i32,
    /// Official or unpublished.
    pub status: Status,
    /// Where the dates come from.
    pub source: String,
    /// Days off (public holidays and the weekend days moved around them), with the holiday's name.
    pub holidays: BTreeMap<Date, String>,
    /// Saturdays and Sundays that are working days (调休), with the holiday they make up for.
    pub workdays: BTreeMap<Date, String>,
}

/// Parses and checks one year's file; `origin` names it in errors.
pub fn parse_year(origin: &str, text: &str) -> Result<YearFile, CalendarError> {
    let bad = |why: String| CalendarError::Invalid { file: origin.to_owned(), why };
    let raw: RawYear = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
    let date = |s: &str| -> Result<Date, CalendarError> {
        let d: Date = s.parse().map_err(|e: super::date::BadDate| bad(e.to_string()))?;
        if d.year() != raw.year {
            return Err(bad(format!("{d} is not in {}", raw.year)));
        }
        Ok(d)
    };
    if raw.source.trim().is_empty() {
        return Err(bad("`source` must name where the dates come from".into()));
    }
    if raw.status == Status::Unpublished && !(raw.holiday.is_empty() && raw.workday.is_empty()) {
        return Err(bad("an unpublished year carries no dates".into()));
    }
    let mut holidays = BTreeMap::new();
    for h in &raw.holiday {
        let (from, to) = (date(&h.from)?, date(&h.to)?);
        if from > to {
            return Err(bad(format!("holiday {} ends before it starts", h.name)));
        }
        let mut d = from;
        loop {
            if holidays.insert(d, h.name.clone()).is_some() {
                return Err(bad(format!("{d} is listed in two holidays")));
            }
            if d == to {
                break;
            }
            d = d.succ();
        }
    }
    let mut workdays = BTreeMap::new();
    for w in &raw.workday {
        let d = date(&w.date)?;
        // 调休 only ever turns a weekend day into a working day; anything else is a typo.
        if !d.weekday().is_weekend() {
            return Err(bad(format!("adjusted working day {d} is not a Saturday or Sunday")));
        }
        if holidays.contains_key(&d) {
            return Err(bad(format!("{d} is both a holiday and a working day")));
        }
        if workdays.insert(d, w.for_holiday.clone()).is_some() {
            return Err(bad(format!("{d} is listed twice as a working day")));
        }
    }
    Ok(YearFile { year: raw.year, status: raw.status, source: raw.source, holidays, workdays })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_year("t.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn refuses_inconsistent_files() {
        let head = "year = 2026\nstatus = \"official\"\nsource = \"x\"\n";
        assert!(err(&format!("{head}[[workday]]\ndate = \"2026-01-05\"\nfor = \"x\"\n")).contains("not a Saturday"));
        assert!(
            err(&format!("{head}[[holiday]]\nname = \"a\"\nfrom = \"2025-12-31\"\nto = \"2026-01-01\"\n"))
                .contains("not in 2026")
        );
        assert!(
            err(&format!("{head}[[holiday]]\nname = \"a\"\nfrom = \"2026-01-03\"\nto = \"2026-01-01\"\n"))
                .contains("ends before")
        );
        assert!(err(&format!(
            "{head}[[holiday]]\nname = \"a\"\nfrom = \"2026-01-03\"\nto = \"2026-01-04\"\n[[workday]]\ndate = \"2026-01-04\"\nfor = \"a\"\n"
        ))
        .contains("both"));
        assert!(err("year = 2027\nstatus = \"unpublished\"\nsource = \"x\"\n[[workday]]\ndate = \"2027-01-02\"\nfor = \"a\"\n")
            .contains("unpublished"));
        assert!(err("year = 2026\nstatus = \"guessed\"\nsource = \"x\"\n").contains("guessed"));
        assert!(err("year = 2026\nstatus = \"official\"\nsource = \" \"\n").contains("source"));
    }
}
