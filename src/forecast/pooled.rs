//! The calendar shape all series share, and the known events: what every
//! series' features read beside its own history.

use chrono::{Datelike, NaiveDate};

use crate::domain::{DemandSeries, Event, Period};
use crate::forecast::periodic;

/// The calendar shape all series share: for each date, the mean over
/// series of that day's demand relative to the series' mean over the 364
/// days before it. Causal: the value of a date uses nothing later, so
/// features at an origin read it only up to the origin.
#[derive(Debug, Clone, Default)]
pub struct Pooled {
    start: Option<NaiveDate>,
    pub(crate) index: Vec<f64>,
    /// Demand of all series together, per date.
    totals: Vec<f64>,
    /// Running (sum, count) of the known index values by calendar month
    /// and by weekday, over days 0..=d: month and weekday factors at any
    /// origin are then a lookup, not a pass over the history per window.
    by_month: Vec<[(f64, u32); 12]>,
    by_weekday: Vec<[(f64, u32); 7]>,
    /// The same running sums of the calendar-year index: each day's demand
    /// relative to its series' mean over that calendar year, for years the
    /// series covers whole. Year-on-year steps in level do not leak into
    /// these month factors, as they do into ones taken against a trailing
    /// year (January then looks high after every rise).
    cal_by_month: Vec<[(f64, u32); 12]>,
    cal_by_weekday: Vec<[(f64, u32); 7]>,
    /// How many series had started by each date (a discontinued series
    /// still counts: it sells nothing).
    active: Vec<u32>,
    /// Weekly and monthly data: their own shared season (the daily fields
    /// are then empty).
    pub(crate) periodic: Option<periodic::Shared>,
    /// Known events, sorted by date.
    events: Vec<Event>,
}

/// Running (sum, count) of `index` per calendar group, day by day.
fn running<const N: usize>(
    start: NaiveDate,
    index: &[f64],
    group: impl Fn(NaiveDate) -> usize,
) -> Vec<[(f64, u32); N]> {
    let mut acc = [(0.0f64, 0u32); N];
    index
        .iter()
        .enumerate()
        .map(|(d, v)| {
            if v.is_finite() {
                let g = group(start + chrono::Days::new(d as u64));
                acc[g].0 += v;
                acc[g].1 += 1;
            }
            acc
        })
        .collect()
}

/// Group means normalised to mean 1, if every group has a value.
fn factors<const N: usize>(sums: &[(f64, u32); N]) -> Option<[f64; N]> {
    if sums.iter().any(|(_, n)| *n == 0) {
        return None;
    }
    let f = sums.map(|(s, n)| s / n as f64);
    let mean = f.iter().sum::<f64>() / N as f64;
    (mean > 0.0).then(|| f.map(|x| x / mean))
}

impl Pooled {
    /// Build from every series, over dates up to `upto`.
    pub fn build(demand: &[DemandSeries], upto: NaiveDate) -> Pooled {
        if demand.first().is_some_and(|s| s.period != Period::Day) {
            return Pooled {
                periodic: Some(periodic::Shared::build(demand, upto)),
                ..Pooled::default()
            };
        }
        let Some(start) = demand.iter().map(|s| s.start).min() else {
            return Pooled::default();
        };
        let days = ((upto - start).num_days() + 1).max(0) as usize;
        let mut sum = vec![0.0f64; days];
        let mut count = vec![0u32; days];
        let mut totals = vec![0.0f64; days];
        let mut cal_sum = vec![0.0f64; days];
        let mut cal_count = vec![0u32; days];
        let mut active = vec![0u32; days];
        for s in demand {
            let offset = (s.start - start).num_days() as usize;
            for a in active.iter_mut().skip(offset) {
                *a += 1;
            }
            add_calendar_years(s, offset, days, &mut cal_sum, &mut cal_count);
        }
        for s in demand {
            let offset = (s.start - start).num_days() as usize;
            let mut window = 0.0;
            for (i, v) in s.values.iter().enumerate() {
                let d = offset + i;
                if d >= days {
                    break;
                }
                // `window` holds the sum of the (up to) 364 days before i.
                totals[d] += v;
                let n = i.min(364);
                if n >= 28 && window > 0.0 {
                    sum[d] += v / (window / n as f64);
                    count[d] += 1;
                }
                window += v;
                if i >= 364 {
                    window -= s.values[i - 364];
                }
            }
        }
        let index: Vec<f64> = sum
            .iter()
            .zip(&count)
            .map(|(s, c)| if *c == 0 { f64::NAN } else { s / *c as f64 })
            .collect();
        let cal: Vec<f64> = cal_sum
            .iter()
            .zip(&cal_count)
            .map(|(s, c)| if *c == 0 { f64::NAN } else { s / *c as f64 })
            .collect();
        let month = |d: NaiveDate| d.month0() as usize;
        let weekday = |d: NaiveDate| d.weekday().num_days_from_monday() as usize;
        Pooled {
            start: Some(start),
            by_month: running(start, &index, month),
            by_weekday: running(start, &index, weekday),
            cal_by_month: running(start, &cal, month),
            cal_by_weekday: running(start, &cal, weekday),
            active,
            index,
            totals,
            periodic: None,
            events: Vec::new(),
        }
    }

    /// The same with the known events of a calendar file.
    pub fn with_events(mut self, events: &[Event]) -> Pooled {
        self.events = events.to_vec();
        self.events.sort();
        self
    }

    /// Whether an event concerning `warehouse` falls within `[from, to]`.
    pub(crate) fn event_in(&self, warehouse: &str, from: NaiveDate, to: NaiveDate) -> bool {
        let start = self.events.partition_point(|e| e.date < from);
        self.events[start..]
            .iter()
            .take_while(|e| e.date <= to)
            .any(|e| e.concerns(warehouse))
    }

    /// Month and weekday factors (mean 1) of the calendar-year index, from
    /// the whole years that ended by `upto`; None before the first one.
    pub fn calendar_factors(&self, upto: NaiveDate) -> Option<Calendar> {
        let start = self.start?;
        let year = if (upto.month(), upto.day()) == (12, 31) {
            upto.year()
        } else {
            upto.year() - 1
        };
        let last = (NaiveDate::from_ymd_opt(year, 12, 31)? - start).num_days();
        if last < 0 {
            return None;
        }
        let last = (last as usize).min(self.cal_by_month.len().checked_sub(1)?);
        Some(Calendar {
            month: factors(&self.cal_by_month[last])?,
            weekday: factors(&self.cal_by_weekday[last])?,
        })
    }

    /// Mean over `[from, to]` of the demand per started series, with the
    /// calendar divided out; None if no day in the range has a series.
    pub fn deseasonalised(&self, from: NaiveDate, to: NaiveDate, cal: &Calendar) -> Option<f64> {
        let start = self.start?;
        let a = (from - start).num_days().max(0);
        let b = (to - start).num_days().min(self.totals.len() as i64 - 1);
        let (mut sum, mut n) = (0.0, 0usize);
        for d in a..=b {
            let (total, active) = (self.totals[d as usize], self.active[d as usize]);
            let f = cal.factor(start + chrono::Days::new(d as u64));
            if active > 0 && f > 1e-6 {
                sum += total / active as f64 / f;
                n += 1;
            }
        }
        (n > 0).then(|| sum / n as f64)
    }

    fn total(&self, from: NaiveDate, to: NaiveDate) -> Option<f64> {
        let start = self.start?;
        let a = (from - start).num_days();
        let b = (to - start).num_days();
        if a < 0 || b < a || b as usize >= self.totals.len() {
            return None;
        }
        Some(self.totals[a as usize..=b as usize].iter().sum())
    }

    /// Index of the last day up to `upto`, if at least `min` days precede it.
    fn last_day(&self, upto: NaiveDate, min: i64) -> Option<usize> {
        let last = ((upto - self.start?).num_days()).min(self.index.len() as i64 - 1);
        (last >= min).then_some(last as usize)
    }

    /// The shared level of each calendar month relative to the year, from
    /// every day up to `upto` (all years pooled), normalised to mean 1.
    pub fn month_factors(&self, upto: NaiveDate) -> Option<[f64; 12]> {
        factors(&self.by_month[self.last_day(upto, 364)?])
    }

    /// The shared weekday factors from every day up to `upto`, mean 1;
    /// index 0 is Monday.
    pub fn weekday_factors(&self, upto: NaiveDate) -> Option<[f64; 7]> {
        factors(&self.by_weekday[self.last_day(upto, 27)?])
    }

    /// Year-on-year growth of all series together at `date` (the last 364
    /// days over the 364 before them).
    pub fn growth(&self, date: NaiveDate) -> Option<f64> {
        let d = |k: i64| chrono::TimeDelta::days(k);
        let now = self.total(date - d(363), date)?;
        let then = self.total(date - d(727), date - d(364))?;
        (then > 0.0).then(|| (now / then).clamp(0.5, 2.0))
    }

    fn at(&self, date: NaiveDate) -> Option<f64> {
        let d = (date - self.start?).num_days();
        if d < 0 {
            return None;
        }
        self.index.get(d as usize).copied().filter(|v| v.is_finite())
    }

    /// Mean of the index over `[from, to]`, if any day is known.
    pub fn mean(&self, from: NaiveDate, to: NaiveDate) -> Option<f64> {
        let mut d = from;
        let (mut sum, mut n) = (0.0, 0);
        while d <= to {
            if let Some(v) = self.at(d) {
                sum += v;
                n += 1;
            }
            d = d + chrono::Days::new(1);
        }
        (n > 0).then(|| sum / n as f64)
    }
}

/// Month and weekday factors of the shared calendar, each mean 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calendar {
    pub month: [f64; 12],
    pub weekday: [f64; 7],
}

impl Calendar {
    /// The expected demand of `date` relative to an average day.
    pub fn factor(&self, date: NaiveDate) -> f64 {
        self.month[date.month0() as usize] * self.weekday[date.weekday().num_days_from_monday() as usize]
    }
}

/// Add, for each calendar year that `series` covers whole and that ends
/// within `days` of the pooled start, each day's value over the year's
/// mean to `sum` (and one to `count`).
fn add_calendar_years(series: &DemandSeries, offset: usize, days: usize, sum: &mut [f64], count: &mut [u32]) {
    let Some(end) = series
        .start
        .checked_add_days(chrono::Days::new(series.values.len() as u64))
    else {
        return;
    };
    let first_year = if series.start.ordinal0() == 0 {
        series.start.year()
    } else {
        series.start.year() + 1
    };
    for year in first_year.. {
        let (Some(jan1), Some(dec31)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return;
        };
        // `end` is the day after the last value.
        if dec31 >= end {
            return;
        }
        let a = (jan1 - series.start).num_days() as usize;
        let b = (dec31 - series.start).num_days() as usize;
        if offset + b >= days {
            return;
        }
        let year_values = &series.values[a..=b];
        let mean = year_values.iter().sum::<f64>() / year_values.len() as f64;
        if mean <= 0.0 {
            continue;
        }
        for (k, v) in year_values.iter().enumerate() {
            sum[offset + a + k] += v / mean;
            count[offset + a + k] += 1;
        }
    }
}
