//! Recognising dates and times in text: the date format of a column (tried
//! against sampled values), parsing one value with it, and times of day.
//! Which column holds which field is found in `mapping`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use polars::prelude::*;

use crate::data::mapping::Field;
use crate::data::problems::Problems;
use crate::data::read::Table;
use crate::domain::{MonthStamp, Period, PeriodKind};

/// Date formats we try, most common first. Ambiguous day/month orders are
/// resolved by the data when a day above 12 appears.
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d",
];
const DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
];
/// Months without a day (monthly figures from a spreadsheet or an ERP),
/// read as the month's first day: each is tried with " %d" after it. Two-
/// digit years first: `%Y` would read `Jan-24` as the year -24. Not
/// `Mar 15`, which is as often the 15th of March as March 2015.
const MONTH_FORMATS: &[&str] = &[
    "%Y-%m", "%Y/%m", "%m/%Y", "%m-%Y", "%m.%Y", "%b-%y", "%b %Y", "%B %Y", "%b-%Y",
];

/// What is done to a date cell before its format reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFix {
    /// Read as written.
    Keep,
    /// A timestamp's UTC offset or zone (`Z`, `+01:00`, `-0500`, ` UTC`) is
    /// dropped: the date is the one the shop wrote, not the date in UTC.
    DropOffset,
    /// A month (`2024-03`, `Mar 2024`) is read as its first day.
    FirstOfMonth,
    /// An ISO week (`2024-W09`) is read as its Monday.
    IsoWeekMonday,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    /// The chrono format that reads a cell once `fix` has been applied.
    pub format: String,
    pub has_time: bool,
    pub fix: DateFix,
}

impl DateFormat {
    fn new(format: &str, has_time: bool, fix: DateFix) -> DateFormat {
        DateFormat {
            format: format.to_string(),
            has_time,
            fix,
        }
    }

    /// The cell as `format` reads it.
    pub(super) fn prepare<'a>(&self, s: &'a str) -> std::borrow::Cow<'a, str> {
        match self.fix {
            DateFix::Keep => s.into(),
            DateFix::DropOffset => strip_offset(s).into(),
            DateFix::FirstOfMonth => format!("{} 01", s.trim()).into(),
            DateFix::IsoWeekMonday => format!("{}-1", s.trim()).into(),
        }
    }

    /// A text column with each cell as `format` reads it; `None` when the
    /// cells are read as they are.
    pub(super) fn fixed_column(&self, ca: &StringChunked) -> Option<StringChunked> {
        (self.fix != DateFix::Keep).then(|| {
            ca.iter()
                .map(|v| v.map(|s| self.prepare(s).into_owned()))
                .collect::<StringChunked>()
                .with_name(ca.name().clone())
        })
    }

    /// The format as the cells are written, for reports.
    pub fn shown(&self) -> String {
        match self.fix {
            DateFix::Keep => self.format.clone(),
            DateFix::DropOffset => format!("{}%:z", self.format),
            DateFix::FirstOfMonth => self.format.trim_end_matches(" %d").to_string(),
            DateFix::IsoWeekMonday => self.format.trim_end_matches("-%u").to_string(),
        }
    }
}

/// `s` without the UTC offset or zone at its end, when one follows a time
/// of day (`2024-03-05T10:00:00Z`, `2024-03-05 10:00:00 -0500`,
/// `2024-03-05T10:00+01:00`, `2024-03-05 10:00:00 UTC`); else `s` as it is.
/// A date alone is never cut: `2024-03-05` ends in what looks like `-05`.
pub(super) fn strip_offset(s: &str) -> &str {
    let t = s.trim();
    // What is left must end in a time of day.
    fn timed(rest: &str) -> Option<&str> {
        let rest = rest.trim_end();
        (rest.contains(':') && rest.ends_with(|c: char| c.is_ascii_digit())).then_some(rest)
    }
    for zone in ["Z", "z", "UTC", "GMT"] {
        if let Some(rest) = t.strip_suffix(zone).and_then(timed) {
            return rest;
        }
    }
    if let Some(i) = t.rfind(['+', '-']) {
        let off = &t.as_bytes()[i + 1..];
        let digits = |b: &[u8]| b.iter().all(u8::is_ascii_digit);
        let offset = match off.len() {
            2 | 4 => digits(off),
            5 => off[2] == b':' && digits(&off[..2]) && digits(&off[3..]),
            _ => false,
        };
        if let Some(rest) = offset.then(|| timed(&t[..i])).flatten() {
            return rest;
        }
    }
    t
}

/// Parse one value with a format.
/// Years under 1000 are not read: `%Y` takes `24` or `-24` as a year.
pub(super) fn parse_with(s: &str, f: &DateFormat) -> Option<NaiveDate> {
    let s = f.prepare(s);
    let d = if f.has_time {
        NaiveDateTime::parse_from_str(&s, &f.format).ok().map(|d| d.date())
    } else {
        NaiveDate::parse_from_str(&s, &f.format).ok()
    };
    d.filter(|d| d.year() >= 1000)
}

/// A format given with `--date-format`, the offset or the missing day
/// handled as in detected formats.
fn forced_format(fmt: &str) -> DateFormat {
    let has_time = ["%H", "%M", "%S", "%T", "%R", "%I"].iter().any(|t| fmt.contains(t));
    for zone in ["%::z", "%:z", "%#z", "%z", "%Z", "Z"] {
        if let Some(rest) = fmt.strip_suffix(zone).filter(|_| has_time) {
            return DateFormat::new(rest.trim_end(), has_time, DateFix::DropOffset);
        }
    }
    let day = ["%d", "%e", "%j", "%F", "%D", "%x"].iter().any(|t| fmt.contains(t));
    let month = ["%m", "%b", "%B", "%h"].iter().any(|t| fmt.contains(t));
    if !day && month && !has_time {
        return DateFormat::new(&format!("{fmt} %d"), false, DateFix::FirstOfMonth);
    }
    DateFormat::new(fmt, has_time, DateFix::Keep)
}

/// Find the format that reads the most sampled values (a few bad cells are
/// then reported on their own rows). Returns the format and, when the
/// day/month order could not be told apart, a note saying so.
pub fn detect_date_format(samples: &[&str], forced: Option<&str>) -> Result<(DateFormat, Option<String>), String> {
    if let Some(fmt) = forced {
        let f = forced_format(fmt);
        if !samples.iter().any(|s| parse_with(s, &f).is_some()) {
            let shown = samples.first().copied().unwrap_or_default();
            return Err(format!(
                "dates like '{shown}' do not match the date format {fmt} (given by --date-format, the config's \
                 [import] date_format or the workspace's last import)"
            ));
        }
        return Ok((f, None));
    }
    // Most common first: the first of the formats that read the most wins.
    let candidates: Vec<DateFormat> = DATE_FORMATS
        .iter()
        .map(|f| DateFormat::new(f, false, DateFix::Keep))
        .chain(DATETIME_FORMATS.iter().map(|f| DateFormat::new(f, true, DateFix::Keep)))
        .chain(
            DATETIME_FORMATS
                .iter()
                .map(|f| DateFormat::new(f, true, DateFix::DropOffset)),
        )
        .chain(
            MONTH_FORMATS
                .iter()
                .map(|f| DateFormat::new(&format!("{f} %d"), false, DateFix::FirstOfMonth)),
        )
        .chain(std::iter::once(DateFormat::new(
            "%G-W%V-%u",
            false,
            DateFix::IsoWeekMonday,
        )))
        .collect();
    let scores: Vec<usize> = candidates
        .iter()
        .map(|f| samples.iter().filter(|s| parse_with(s, f).is_some()).count())
        .collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    // Most values must read with one format; otherwise the column is not
    // dates, or mixes formats, and row-by-row errors would only bury that.
    if best == 0 || best * 2 < samples.len() {
        let shown: Vec<&str> = samples.iter().take(3).copied().collect();
        return Err(format!(
            "cannot read dates like '{}'; expected a date such as 2017-03-31, 31/03/2017, 03/31/2017 or \
             2017-03-31 14:05 (or give --date-format)",
            shown.join("', '")
        ));
    }
    let Some(i) = scores.iter().position(|s| *s == best) else {
        return Err("no date format fits".into());
    };
    let first = candidates[i].clone();
    let swapped = first
        .format
        .contains("%m/%d")
        .then(|| first.format.replace("%m/%d", "%d/%m"));
    let ambiguous = swapped.is_some_and(|sw| {
        candidates
            .iter()
            .zip(&scores)
            .any(|(f, s)| f.format == sw && f.fix == first.fix && *s == best)
    });
    let note = ambiguous.then(|| {
        format!(
            "dates such as '{}' could be month/day or day/month; read as {} (give --date-format to choose)",
            samples.first().copied().unwrap_or_default(),
            first.shown()
        )
    });
    Ok((first, note))
}

/// The date format of a sales or transaction file's date `column`: as
/// [`detect_date_format`], but a column named for weeks never reads its
/// values as months (`2024-03` there is a year's third week).
pub(super) fn demand_date_format(
    samples: &[&str],
    forced: Option<&str>,
    column: &str,
) -> Result<(DateFormat, Option<String>), String> {
    let (fmt, note) = detect_date_format(samples, forced)?;
    let weekly = crate::data::mapping::normalize(column).starts_with("week");
    if weekly && fmt.fix == DateFix::FirstOfMonth && forced.is_none() {
        return Err(format!(
            "values like '{}' in a column of weeks read as months; expected the week's date (such as \
             2024-01-01) or an ISO week (2024-W01), or give --date-format",
            samples.first().copied().unwrap_or_default()
        ));
    }
    Ok((fmt, note))
}

/// Up to `n` non-empty values spread over the whole column.
pub(super) fn sample_values(ca: &StringChunked, n: usize) -> Vec<&str> {
    let len = ca.len();
    if len == 0 {
        return Vec::new();
    }
    let step = (len / n).max(1);
    let mut out: Vec<&str> = (0..len)
        .step_by(step)
        .filter_map(|i| ca.get(i))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    // The first rows too, where mistakes in a header-ish line show up.
    out.extend(ca.iter().take(50).flatten().map(str::trim).filter(|s| !s.is_empty()));
    out
}

/// Days between two dates of one file beyond which one of them is probably
/// a typo (1900 or 2400 among 2024 dates): five years.
pub(super) const FAR_DAYS: i64 = 5 * 365 + 1;

/// The run of dates that holds a file's median row, in which no two dates
/// next to each other are more than [`FAR_DAYS`] apart, as (first, last)
/// day, when some dates lie outside it; `None` when none does. A run rather
/// than a distance from the median, so that a long history is never far
/// from itself. `days` are distinct day numbers with their row counts, in
/// order.
pub(super) fn usual_date_range(days: &[(i32, usize)]) -> Option<(i32, i32)> {
    let total: usize = days.iter().map(|d| d.1).sum();
    let mut seen = 0;
    let median = days.iter().position(|(_, n)| {
        seen += n;
        seen * 2 >= total
    })?;
    let near = |a: usize, b: usize| i64::from(days[b].0) - i64::from(days[a].0) <= FAR_DAYS;
    let mut lo = median;
    while lo > 0 && near(lo - 1, lo) {
        lo -= 1;
    }
    let mut hi = median;
    while hi + 1 < days.len() && near(hi, hi + 1) {
        hi += 1;
    }
    (lo > 0 || hi + 1 < days.len()).then(|| (days[lo].0, days[hi].0))
}

pub(super) fn days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

#[cfg(test)]
fn date_to_days(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - 719_163
}

pub(super) fn example_date(f: &DateFormat) -> String {
    use std::fmt::Write as _;
    let mut d = String::new();
    if let Some(dt) = NaiveDate::from_ymd_opt(2017, 3, 31).and_then(|d| d.and_hms_opt(14, 5, 0)) {
        let written = match f.fix {
            DateFix::Keep | DateFix::DropOffset => f.format.clone(),
            DateFix::FirstOfMonth | DateFix::IsoWeekMonday => f.shown(),
        };
        // A format a naive date cannot write (a zone given with
        // --date-format) writes nothing rather than failing.
        if write!(d, "{}", dt.format(&written)).is_err() {
            d.clear();
        }
        if f.fix == DateFix::DropOffset {
            d.push_str("+01:00");
        }
    }
    format!("{d} ({})", f.shown())
}

/// Detect the date format of a small table's date column, reporting when no
/// format fits.
pub(super) fn column_date_format(
    t: &Table,
    f: Field,
    forced: Option<&str>,
    problems: &mut Problems,
) -> Option<DateFormat> {
    let ca = t.text_column(f)?;
    let samples = sample_values(ca, 1000);
    if samples.is_empty() {
        return None;
    }
    match detect_date_format(&samples, forced) {
        Ok((fmt, note)) => {
            if let Some(note) = note {
                problems.warning(&t.label, None, t.col(f), None, note);
            }
            Some(fmt)
        }
        Err(msg) => {
            problems.error(&t.label, None, t.col(f), None, msg);
            None
        }
    }
}

/// Minutes after midnight from "08:30", "8:30:00", "2024-05-01 08:30", or a
/// plain number of minutes (as in the Solomon instances).
pub fn parse_time_of_day(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(v) = s.parse::<f64>().ok().filter(|v| v.is_finite()) {
        return (v >= 0.0 && v <= f64::from(u32::MAX)).then_some(v.round() as u32);
    }
    let t = NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%d %H:%M",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%dT%H:%M:%S",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(|d| d.time())
        });
    if let Some(t) = t {
        return Some(t.hour() * 60 + t.minute());
    }
    // "24:00" is a common way to say end of day.
    (s == "24:00" || s == "24:00:00").then_some(24 * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_iso_and_us_and_european_dates() {
        let (f, note) = detect_date_format(&["2017-01-01", "2017-12-31"], None).unwrap();
        assert_eq!(f.format, "%Y-%m-%d");
        assert!(note.is_none());
        let (f, _) = detect_date_format(&["12/1/2010 8:26", "12/13/2010 17:02"], None).unwrap();
        assert_eq!(f.format, "%m/%d/%Y %H:%M");
        let (f, _) = detect_date_format(&["31/01/2017", "01/02/2017"], None).unwrap();
        assert_eq!(f.format, "%d/%m/%Y");
        let (f, note) = detect_date_format(&["01/02/2017", "03/04/2017"], None).unwrap();
        assert_eq!(f.format, "%m/%d/%Y");
        assert!(note.unwrap().contains("month/day or day/month"));
        let err = detect_date_format(&["yesterday"], None).unwrap_err();
        assert!(err.contains("'yesterday'"), "{err}");
        let (f, _) = detect_date_format(&["01/02/2017"], Some("%d/%m/%Y")).unwrap();
        assert_eq!(parse_with("01/02/2017", &f), NaiveDate::from_ymd_opt(2017, 2, 1));
    }

    #[test]
    fn timestamps_with_an_offset_keep_the_shops_date() {
        let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d);
        for (samples, date) in [
            (&["2024-03-05T23:30:00Z", "2024-03-06T01:00:00Z"][..], day(3, 5)),
            (&["2024-03-05T23:30:00.123+01:00"][..], day(3, 5)),
            // A late sale in New York is that day's, not the next UTC day's.
            (
                &["2024-03-05 23:30:00 -0500", "2024-03-06 08:00:00 -0500"][..],
                day(3, 5),
            ),
            (&["2024-03-05 10:00:00 UTC"][..], day(3, 5)),
        ] {
            let (f, _) = detect_date_format(samples, None).unwrap();
            assert_eq!(f.fix, DateFix::DropOffset, "{samples:?}");
            assert_eq!(parse_with(samples[0], &f), date, "{samples:?}");
        }
        // Plain dates and times are read as before.
        let (f, _) = detect_date_format(&["2024-03-05 10:00:00"], None).unwrap();
        assert_eq!(f.fix, DateFix::Keep);
        for s in ["2024-03-05", "05-03-2024", "2024-03-05 10:00", "10:00"] {
            assert_eq!(strip_offset(s), s);
        }
        assert_eq!(strip_offset("2024-03-05T10:00-05"), "2024-03-05T10:00");
        // Given with --date-format, the zone is dropped the same way.
        let (f, _) = detect_date_format(&["2024-03-05T23:30:00-0500"], Some("%Y-%m-%dT%H:%M:%S%z")).unwrap();
        assert_eq!(parse_with("2024-03-05T23:30:00-0500", &f), day(3, 5));
        assert!(
            example_date(&f).contains("2017-03-31T14:05:00+01:00"),
            "{}",
            example_date(&f)
        );
    }

    #[test]
    fn months_read_as_their_first_day() {
        let first = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        for (samples, shown) in [
            (&["2024-01", "2024-12"][..], "%Y-%m"),
            (&["01/2024", "12/2024"][..], "%m/%Y"),
            (&["Jan 2024", "Dec 2024"][..], "%b %Y"),
            (&["January 2024", "December 2024"][..], "%B %Y"),
            (&["Jan-24", "Dec-24"][..], "%b-%y"),
        ] {
            let (f, _) = detect_date_format(samples, None).unwrap();
            assert_eq!(f.shown(), shown, "{samples:?}");
            assert_eq!(parse_with(samples[0], &f), first(2024, 1), "{samples:?}");
            assert_eq!(parse_with(samples[1], &f), first(2024, 12), "{samples:?}");
            assert!(
                example_date(&f).starts_with(&NaiveDate::from_ymd_opt(2017, 3, 1).unwrap().format(shown).to_string())
            );
        }
        let (f, _) = detect_date_format(&["2024-02"], Some("%Y-%m")).unwrap();
        assert_eq!(parse_with("2024-02", &f), first(2024, 2));
        // A full date is still a date.
        let (f, _) = detect_date_format(&["2024-01-15"], None).unwrap();
        assert_eq!(f.fix, DateFix::Keep);
        // Not in a column of weeks, where `2024-03` is a week; ISO weeks
        // read as their Monday.
        let e = demand_date_format(&["2024-01", "2024-02"], None, "Week").unwrap_err();
        assert!(e.contains("read as months"), "{e}");
        let (f, _) = demand_date_format(&["2024-W01", "2024-W52"], None, "week").unwrap();
        assert_eq!(f.shown(), "%G-W%V");
        assert_eq!(parse_with("2024-W01", &f), NaiveDate::from_ymd_opt(2024, 1, 1));
        assert_eq!(parse_with("2024-W09", &f), NaiveDate::from_ymd_opt(2024, 2, 26));
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("08:30"), Some(510));
        assert_eq!(parse_time_of_day("8:30:00"), Some(510));
        assert_eq!(parse_time_of_day("912"), Some(912));
        assert_eq!(parse_time_of_day("2024-05-01 17:15"), Some(17 * 60 + 15));
        assert_eq!(parse_time_of_day("24:00"), Some(1440));
        assert_eq!(parse_time_of_day("noon"), None);
        assert_eq!(parse_time_of_day("-5"), None);
    }

    #[test]
    fn far_dates_lie_outside_the_usual_range() {
        let d = |y, m, day| date_to_days(NaiveDate::from_ymd_opt(y, m, day).unwrap());
        let days = [
            (d(1900, 1, 2), 1),
            (d(2024, 1, 1), 3),
            (d(2024, 6, 1), 2),
            (d(2024, 12, 31), 4),
            (d(2400, 1, 1), 1),
        ];
        assert_eq!(usual_date_range(&days), Some((d(2024, 1, 1), d(2024, 12, 31))));
        // Twenty years of history without a gap are not far from each other.
        let long: Vec<(i32, usize)> = (2004..2024).map(|y| (d(y, 3, 1), 10)).collect();
        assert_eq!(usual_date_range(&long), None);
        // The same typo on many rows is still far when most rows are not.
        let days = [(d(1924, 1, 1), 4), (d(2024, 1, 1), 5), (d(2024, 1, 2), 5)];
        assert_eq!(usual_date_range(&days), Some((d(2024, 1, 1), d(2024, 1, 2))));
        assert_eq!(usual_date_range(&[]), None);
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2017, 9, 30).unwrap();
        assert_eq!(days_to_date(date_to_days(d)), Some(d));
        assert_eq!(days_to_date(0), NaiveDate::from_ymd_opt(1970, 1, 1));
    }
}

/// How a demand file's dates are read: the period they were found in (or
/// were told), and the period the rows are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PeriodChoice {
    /// The dates' own period; `None` when they fit none (only allowed when
    /// `--period` says what to sum them into).
    pub found: Option<Period>,
    /// What the rows are counted in.
    pub period: Period,
}

impl PeriodChoice {
    /// True when rows are summed into coarser periods than their own (days
    /// are never summed: two sales rows for one day stay an error).
    pub fn sums(&self) -> bool {
        self.period != Period::Day && self.found != Some(self.period)
    }
}

/// Share of distinct dates a stamp must hold for a file to count in that
/// period; the rest are reported row by row (a holiday week stamped a day
/// early, say).
const STAMP_SHARE: f64 = 0.9;

/// The period of a file from its distinct dates (day numbers, sorted,
/// deduplicated): daily; weekly on whichever weekday holds nearly all
/// dates; monthly on the first or last day. Transaction lines are times of
/// sale, counted in days unless `forced` says otherwise. An error, with an
/// example, when the dates fit no period and nothing is forced.
pub(super) fn choose_period(
    days: &[i32],
    transactions: bool,
    forced: Option<PeriodKind>,
) -> Result<PeriodChoice, String> {
    let found = if transactions {
        Ok(Period::Day)
    } else {
        detect_period(days)
    };
    let summed = |kind: PeriodKind| match kind {
        PeriodKind::Day => Period::Day,
        // Monday-to-Sunday weeks, stamped on their Monday.
        PeriodKind::Week => Period::Week(Weekday::Mon),
        PeriodKind::Month => Period::Month(MonthStamp::First),
    };
    match (found, forced) {
        (Ok(p), None) => Ok(PeriodChoice {
            found: Some(p),
            period: p,
        }),
        (Err(e), None) => Err(e),
        (Ok(p), Some(kind)) if p.kind() == kind => Ok(PeriodChoice {
            found: Some(p),
            period: p,
        }),
        (Ok(Period::Month(_)), Some(PeriodKind::Week)) => Err(
            "the dates are monthly; months cannot be split into weeks (leave out --period or give --period month)"
                .to_string(),
        ),
        (Ok(p), Some(kind)) => Ok(PeriodChoice {
            found: Some(p),
            period: summed(kind),
        }),
        (Err(_), Some(kind)) => Ok(PeriodChoice {
            found: None,
            period: summed(kind),
        }),
    }
}

/// The period distinct dates were stamped in, or an error with an example.
pub(super) fn detect_period(days: &[i32]) -> Result<Period, String> {
    let dates: Vec<NaiveDate> = days.iter().filter_map(|d| days_to_date(*d)).collect();
    if dates.len() < 2 {
        return Ok(Period::Day);
    }
    let gaps: Vec<i64> = dates.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
    let ones = gaps.iter().filter(|g| **g == 1).count();
    if ones * 2 >= gaps.len() {
        return Ok(Period::Day);
    }
    let mut candidates: Vec<Period> = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .map(Period::Week)
    .collect();
    candidates.push(Period::Month(MonthStamp::First));
    candidates.push(Period::Month(MonthStamp::Last));
    let share = |p: Period| dates.iter().filter(|d| p.is_stamp(**d)).count() as f64 / dates.len() as f64;
    // A date both first and last of nothing, so at most one week and one
    // month candidate can pass; months win ties (a file of 1sts that all
    // happen to fall on one weekday is still monthly).
    let best = candidates
        .into_iter()
        .map(|p| (p, share(p)))
        .filter(|(_, s)| *s >= STAMP_SHARE)
        .max_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| matches!(a.0, Period::Month(_)).cmp(&matches!(b.0, Period::Month(_))))
        });
    // Fewer than ten dates leave no room for strays: all must agree. Under
    // eight, too few to call irregular: read as days, as before periods.
    let all = |s: f64| s >= 1.0 - 1e-12;
    match best {
        Some((p @ Period::Week(_), s)) if all(s) && dates.len() >= 3 => Ok(p),
        Some((p @ Period::Month(_), s)) if all(s) => Ok(p),
        Some((p, _)) if dates.len() >= 10 => Ok(p),
        _ if dates.len() < 8 => Ok(Period::Day),
        _ => {
            let (i, gap) = gaps
                .iter()
                .enumerate()
                .find(|(_, g)| **g != 1 && **g != 7)
                .map_or((0, gaps[0]), |(i, g)| (i, *g));
            let weekdays: std::collections::BTreeSet<u32> =
                dates.iter().map(|d| d.weekday().num_days_from_monday()).collect();
            Err(format!(
                "the dates fit no period: {} is followed by {} ({gap} days later), and the {} dates fall on {} \
                 different weekdays; expected one row per day, per week on one weekday, or per month on its \
                 first or last day (or give --period day|week|month to sum them)",
                dates[i],
                dates[i + 1],
                dates.len(),
                weekdays.len()
            ))
        }
    }
}

#[cfg(test)]
mod period_tests {
    use super::*;

    fn days(dates: &[NaiveDate]) -> Vec<i32> {
        dates.iter().map(|d| d.num_days_from_ce() - 719_163).collect()
    }

    fn from(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn finds_days_weeks_on_any_weekday_and_months() {
        let start = from(2024, 1, 1);
        let daily: Vec<NaiveDate> = (0..60).map(|i| start + chrono::Days::new(i)).collect();
        assert_eq!(detect_period(&days(&daily)), Ok(Period::Day));
        for offset in 0..7u64 {
            let first = start + chrono::Days::new(offset);
            let weekly: Vec<NaiveDate> = (0..30).map(|i| first + chrono::Days::new(7 * i)).collect();
            assert_eq!(detect_period(&days(&weekly)), Ok(Period::Week(first.weekday())));
        }
        let firsts: Vec<NaiveDate> = (1..=12).map(|m| from(2023, m, 1)).collect();
        assert_eq!(detect_period(&days(&firsts)), Ok(Period::Month(MonthStamp::First)));
        let lasts: Vec<NaiveDate> = firsts.iter().map(|d| d.pred_opt().unwrap()).collect();
        assert_eq!(detect_period(&days(&lasts)), Ok(Period::Month(MonthStamp::Last)));
    }

    #[test]
    fn a_few_stray_dates_keep_the_period_but_irregular_dates_are_an_error() {
        let first = from(2024, 1, 5);
        let mut weekly: Vec<NaiveDate> = (0..30).map(|i| first + chrono::Days::new(7 * i)).collect();
        weekly[10] = weekly[10].pred_opt().unwrap();
        assert_eq!(detect_period(&days(&weekly)), Ok(Period::Week(Weekday::Fri)));
        let every_tenth: Vec<NaiveDate> = (0..20).map(|i| first + chrono::Days::new(10 * i)).collect();
        let e = detect_period(&days(&every_tenth)).unwrap_err();
        assert!(
            e.contains("2024-01-05 is followed by 2024-01-15 (10 days later)"),
            "{e}"
        );
        // Summing them is allowed when asked for.
        let c = choose_period(&days(&every_tenth), false, Some(PeriodKind::Week)).unwrap();
        assert_eq!(c.period, Period::Week(Weekday::Mon));
        assert!(c.sums());
    }
}
