//! The period a demand series counts in: days, weeks stamped on one weekday,
//! or months stamped on their first or last day.
//!
//! A series holds one value per period; `values[i]` belongs to the period
//! stamped `period.step(start, i)`. A period belongs to a cut-off date when
//! its stamp is on or before that date, whatever days it covers: skuplan
//! cannot know whether a file's Friday means the week ending or the week
//! starting that Friday, and this rule needs neither.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Which day of the month a monthly file is stamped on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonthStamp {
    First,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Period {
    #[default]
    Day,
    /// One value a week, stamped on this weekday.
    Week(Weekday),
    Month(MonthStamp),
}

/// What `--period` asks for; the stamp comes from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
}

impl PeriodKind {
    pub fn name(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }
}

impl FromStr for PeriodKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" | "d" => Ok(PeriodKind::Day),
            "week" | "weekly" | "w" => Ok(PeriodKind::Week),
            "month" | "monthly" | "m" => Ok(PeriodKind::Month),
            other => Err(format!("'{other}' is not a period: expected day, week or month")),
        }
    }
}

fn last_of_month(d: NaiveDate) -> NaiveDate {
    let first = d.with_day(1).unwrap_or(d);
    first
        .checked_add_months(Months::new(1))
        .and_then(|n| n.pred_opt())
        .unwrap_or(d)
}

fn month_number(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

impl Period {
    pub fn kind(self) -> PeriodKind {
        match self {
            Period::Day => PeriodKind::Day,
            Period::Week(_) => PeriodKind::Week,
            Period::Month(_) => PeriodKind::Month,
        }
    }

    /// "day", "week" or "month".
    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// "days", "weeks" or "months".
    pub fn plural(self) -> &'static str {
        match self {
            Period::Day => "days",
            Period::Week(_) => "weeks",
            Period::Month(_) => "months",
        }
    }

    /// "3 weeks", "1 day".
    pub fn count(self, n: usize) -> String {
        if n == 1 {
            format!("1 {}", self.name())
        } else {
            format!("{n} {}", self.plural())
        }
    }

    /// How a planner reads it: "daily", "weekly (stamped on Fridays)".
    pub fn describe(self) -> String {
        match self {
            Period::Day => "daily".to_string(),
            Period::Week(w) => format!("weekly (stamped on {}s)", weekday_name(w)),
            Period::Month(MonthStamp::First) => "monthly (stamped on the first day)".to_string(),
            Period::Month(MonthStamp::Last) => "monthly (stamped on the last day)".to_string(),
        }
    }

    /// The stamp `n` periods after (or before, when negative) `date`, which
    /// should itself be a stamp.
    pub fn step(self, date: NaiveDate, n: i64) -> NaiveDate {
        let days = |d: NaiveDate, k: i64| {
            if k >= 0 {
                d.checked_add_days(Days::new(k as u64))
            } else {
                d.checked_sub_days(Days::new(k.unsigned_abs()))
            }
            .unwrap_or(d)
        };
        match self {
            Period::Day => days(date, n),
            Period::Week(_) => days(date, 7 * n),
            Period::Month(stamp) => {
                let first = date.with_day(1).unwrap_or(date);
                let moved = if n >= 0 {
                    first.checked_add_months(Months::new(n as u32))
                } else {
                    first.checked_sub_months(Months::new(n.unsigned_abs() as u32))
                }
                .unwrap_or(first);
                match stamp {
                    MonthStamp::First => moved,
                    MonthStamp::Last => last_of_month(moved),
                }
            }
        }
    }

    /// The first and last day of the period stamped `stamp`: a month
    /// stamped on its last day ends there, any other period starts on its
    /// stamp (a week is taken to start on its stamp: nothing in a file
    /// says otherwise).
    pub fn days_of(self, stamp: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Period::Day => (stamp, stamp),
            Period::Month(MonthStamp::Last) => (stamp.with_day(1).unwrap_or(stamp), stamp),
            _ => {
                let next = self.step(stamp, 1);
                (stamp, next.pred_opt().unwrap_or(stamp).max(stamp))
            }
        }
    }

    /// Periods covered by `days` days from the first day of the period
    /// stamped `stamp`, the last one in part by its share of its days: 10
    /// days are 1.43 weeks, 7 days of a 31-day month 0.23 of it.
    pub fn cover(self, stamp: NaiveDate, days: f64) -> f64 {
        let mut left = days.max(0.0);
        let mut covered = 0.0;
        let mut t = 0;
        while left > 0.0 {
            let (lo, hi) = self.days_of(self.step(stamp, t));
            let len = ((hi - lo).num_days() + 1).max(1) as f64;
            if left < len {
                return covered + left / len;
            }
            covered += 1.0;
            left -= len;
            t += 1;
        }
        covered
    }

    /// `date` moved `n` whole periods on (any day, not only a stamp): a
    /// month from 10 January is 10 February.
    pub fn add(self, date: NaiveDate, n: usize) -> NaiveDate {
        match self {
            Period::Day => date.checked_add_days(Days::new(n as u64)),
            Period::Week(_) => date.checked_add_days(Days::new(7 * n as u64)),
            Period::Month(_) => date.checked_add_months(Months::new(n as u32)),
        }
        .unwrap_or(date)
    }

    /// The latest stamp on or before `date`.
    pub fn floor(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week(w) => {
                let back = (7 + date.weekday().num_days_from_monday() - w.num_days_from_monday()) % 7;
                date.checked_sub_days(Days::new(u64::from(back))).unwrap_or(date)
            }
            Period::Month(MonthStamp::First) => date.with_day(1).unwrap_or(date),
            Period::Month(MonthStamp::Last) => {
                if last_of_month(date) == date {
                    date
                } else {
                    date.with_day(1).and_then(|f| f.pred_opt()).unwrap_or(date)
                }
            }
        }
    }

    /// True when `date` is a stamp of this period.
    pub fn is_stamp(self, date: NaiveDate) -> bool {
        self.floor(date) == date
    }

    /// Periods from the stamp `from` to the period holding `to` (negative
    /// when `to` is earlier): 0 for the same period.
    pub fn between(self, from: NaiveDate, to: NaiveDate) -> i64 {
        let to = self.floor(to);
        match self {
            Period::Day => (to - from).num_days(),
            Period::Week(_) => (to - from).num_days().div_euclid(7),
            Period::Month(_) => month_number(to) - month_number(from),
        }
    }

    /// Average length in days, for converting lead times and review periods.
    pub fn days(self) -> f64 {
        match self {
            Period::Day => 1.0,
            Period::Week(_) => 7.0,
            Period::Month(_) => 365.25 / 12.0,
        }
    }

    /// Whole periods that cover `days` days, at least one for any positive
    /// number of days (a 3-day lead time is one week of a weekly plan).
    pub fn periods_for_days(self, days: f64) -> usize {
        if days <= 0.0 {
            0
        } else {
            // A hair below a whole number (7.0000001 days) stays that number.
            (days / self.days() - 1e-9).ceil().max(1.0) as usize
        }
    }

    /// Periods in a year: the seasonal lag of yearly patterns.
    pub fn year(self) -> usize {
        match self {
            Period::Day => 364,
            Period::Week(_) => 52,
            Period::Month(_) => 12,
        }
    }

    /// The shortest seasonal cycle: the week for daily data; weekly and
    /// monthly data have only the year.
    pub fn cycle(self) -> usize {
        match self {
            Period::Day => 7,
            Period::Week(_) => 52,
            Period::Month(_) => 12,
        }
    }

    /// The default forecast horizon: 4 weeks of days, 13 weeks, 6 months.
    pub fn default_horizon(self) -> usize {
        match self {
            Period::Day => 28,
            Period::Week(_) => 13,
            Period::Month(_) => 6,
        }
    }

    /// "d", "w" or "m", for axis labels ("+28d", "-52w").
    pub fn abbrev(self) -> &'static str {
        match self {
            Period::Day => "d",
            Period::Week(_) => "w",
            Period::Month(_) => "m",
        }
    }

    /// The near term a table sums: a week of days, 4 weeks, 3 months.
    pub fn near(self) -> usize {
        match self {
            Period::Day => 7,
            Period::Week(_) => 4,
            Period::Month(_) => 3,
        }
    }

    /// The heading of that sum: "next 7", "next 4w", "next 3m"; fewer
    /// when the forecasts hold only `horizon` periods (a monthly plan
    /// forecasts lead time and review, 2 months by default, and "next 3m"
    /// summed those 2).
    pub fn near_heading(self, horizon: usize) -> String {
        let n = self.near().min(horizon.max(1));
        match self {
            Period::Day => format!("next {n}"),
            p => format!("next {n}{}", p.abbrev()),
        }
    }

    /// Roughly `days` days in this period, at least one.
    pub fn from_days(self, days: usize) -> usize {
        ((days as f64 / self.days()).round() as usize).max(1)
    }
}

pub fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Day => f.write_str("day"),
            Period::Week(w) => write!(f, "week-{}", &weekday_name(*w)[..3].to_ascii_lowercase()),
            Period::Month(MonthStamp::First) => f.write_str("month-first"),
            Period::Month(MonthStamp::Last) => f.write_str("month-last"),
        }
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "day" => return Ok(Period::Day),
            "month-first" => return Ok(Period::Month(MonthStamp::First)),
            "month-last" => return Ok(Period::Month(MonthStamp::Last)),
            _ => {}
        }
        if let Some(w) = s.strip_prefix("week-")
            && let Ok(day) = w.parse::<Weekday>()
        {
            return Ok(Period::Week(day));
        }
        Err(format!(
            "'{s}' is not a period: expected day, week-mon .. week-sun, month-first or month-last"
        ))
    }
}

impl TryFrom<String> for Period {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_near_heading_counts_no_more_periods_than_the_forecasts_hold() {
        assert_eq!(Period::Day.near_heading(28), "next 7");
        assert_eq!(Period::Week(Weekday::Mon).near_heading(13), "next 4w");
        // A monthly plan's 2 months: "next 3m" summed those 2.
        assert_eq!(Period::Month(MonthStamp::First).near_heading(2), "next 2m");
        assert_eq!(Period::Month(MonthStamp::Last).near_heading(0), "next 1m");
    }

    #[test]
    fn steps_floors_and_counts_agree() {
        let fri = Period::Week(Weekday::Fri);
        assert_eq!(fri.floor(d(2024, 1, 10)), d(2024, 1, 5));
        assert_eq!(fri.step(d(2024, 1, 5), 3), d(2024, 1, 26));
        assert_eq!(fri.between(d(2024, 1, 5), d(2024, 1, 25)), 2);
        let last = Period::Month(MonthStamp::Last);
        assert_eq!(last.step(d(2024, 1, 31), 1), d(2024, 2, 29));
        assert_eq!(last.step(d(2024, 3, 31), -1), d(2024, 2, 29));
        assert_eq!(last.floor(d(2024, 3, 15)), d(2024, 2, 29));
        assert_eq!(last.between(d(2024, 1, 31), d(2024, 3, 15)), 1);
        let first = Period::Month(MonthStamp::First);
        assert_eq!(first.between(d(2023, 11, 1), d(2024, 2, 29)), 3);
        for p in [Period::Day, fri, last, first] {
            let s = p.floor(d(2023, 6, 17));
            for k in -30..30 {
                assert_eq!(p.between(s, p.step(s, k)), k, "{p} {k}");
                assert!(p.is_stamp(p.step(s, k)));
            }
            assert_eq!(p.to_string().parse::<Period>().unwrap(), p);
        }
    }

    #[test]
    fn lead_times_round_up_to_whole_periods() {
        let w = Period::Week(Weekday::Mon);
        assert_eq!(w.periods_for_days(0.0), 0);
        assert_eq!(w.periods_for_days(3.0), 1);
        assert_eq!(w.periods_for_days(7.0), 1);
        assert_eq!(w.periods_for_days(8.0), 2);
        assert_eq!(Period::Day.periods_for_days(5.0), 5);
        assert_eq!(Period::Month(MonthStamp::First).periods_for_days(45.0), 2);
    }
}
