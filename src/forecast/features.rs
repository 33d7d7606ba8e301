//! Numeric features of a series at a forecast origin, scaled per series,
//! and the time-ordered train / validation / test windows.
//!
//! An origin is the last day the model may see. Every feature is computed
//! from days up to and including the origin (plus promotion flags of the
//! horizon, which are planned in advance); targets are the `horizon` days
//! after it. Values are divided by the series' scale: one plus the mean of
//! the last 91 days, so a slow seller and a fast one look alike to the head
//! and the loss weighs them equally.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::{DemandSeries, Period};
use crate::forecast::lookup::{mean, promo, value};
use crate::forecast::periodic;
pub use crate::forecast::pooled::{Calendar, Pooled};

/// Days of recent history fed one by one.
pub const RECENT: usize = 28;
/// Bumped whenever the feature layout changes; stored in checkpoints so an
/// old run is refused rather than fed the wrong columns.
pub const FEATURES_VERSION: u32 = 9;

/// Features of the daily blocks, before the known events.
fn daily_len(horizon: usize) -> usize {
    RECENT + 8 * horizon + 3 + 2 + 5 + 3 + 1 + 7 + 7 + 7 + 12 + 2 + 1 + 1
}

/// Number of features for a horizon of days.
pub fn feature_len(horizon: usize) -> usize {
    daily_len(horizon) + 2 * horizon
}

/// Number of features for a horizon in `period`.
pub fn feature_len_for(period: Period, horizon: usize) -> usize {
    match period {
        Period::Day => feature_len(horizon),
        _ => periodic::feature_len(period, horizon) + 2 * horizon,
    }
}

/// Where the base forecast sits among the features, in `period`.
pub fn base_offset_for(period: Period, horizon: usize) -> usize {
    match period {
        Period::Day => base_offset(horizon),
        _ => periodic::base_offset(period, horizon),
    }
}

/// Where the base forecast sits among the features (block 2d): what a
/// multiplicative model forecasts. The head predicts a correction to it.
pub fn base_offset(horizon: usize) -> usize {
    RECENT + 6 * horizon + 3
}

/// Index of the period holding `date` in the series (may be negative or
/// past its end).
pub fn index_of(series: &DemandSeries, date: NaiveDate) -> i64 {
    series.period.between(series.start, date)
}

/// The per-series scale at origin index `o`.
pub fn scale_at(series: &DemandSeries, o: i64) -> f64 {
    if series.period != Period::Day {
        return periodic::scale_at(series, o);
    }
    1.0 + mean(series, o - 90, o).0
}

/// Whether any promotion is planned in the horizon after `o`.
pub fn promotion_ahead(series: &DemandSeries, o: i64, horizon: usize) -> bool {
    (1..=horizon as i64).any(|j| promo(series, o + j) > 0.0)
}

/// Append the features of `series` at origin index `o` (the origin's
/// date is `series.start + o`) to `out`; returns the scale used.
pub fn push_features(series: &DemandSeries, o: i64, horizon: usize, pooled: &Pooled, out: &mut Vec<f32>) -> f64 {
    let scale = if series.period == Period::Day {
        push_daily(series, o, horizon, pooled, out)
    } else {
        let empty = periodic::Shared::default();
        let shared = pooled.periodic.as_ref().unwrap_or(&empty);
        periodic::push_features(series, o, horizon, shared, out)
    };
    push_events(series, o, horizon, pooled, out);
    scale
}

/// Known events: for each horizon period, whether an event concerning the
/// series' warehouse falls in it, and whether one fell in the same period a
/// year earlier (what the history the model compares with held).
fn push_events(series: &DemandSeries, o: i64, horizon: usize, pooled: &Pooled, out: &mut Vec<f32>) {
    let p = series.period;
    let span = |i: i64| {
        let from = p.step(series.start, i);
        let to = p.step(series.start, i + 1).pred_opt().unwrap_or(from).max(from);
        (from, to)
    };
    let flag = |i: i64| {
        let (a, b) = span(i);
        if pooled.event_in(&series.warehouse, a, b) {
            1.0
        } else {
            0.0
        }
    };
    let year = p.year() as i64;
    for j in 1..=horizon as i64 {
        out.push(flag(o + j));
    }
    for j in 1..=horizon as i64 {
        out.push(flag(o + j - year));
    }
}

fn push_daily(series: &DemandSeries, o: i64, horizon: usize, pooled: &Pooled, out: &mut Vec<f32>) -> f64 {
    let start_len = out.len();
    let s = scale_at(series, o);
    let scaled = |v: f64| (v / s) as f32;
    // 1. the last 28 days
    for i in (o - RECENT as i64 + 1)..=o {
        out.push(value(series, i).map_or(0.0, scaled));
    }
    // 2. the same days a year (52 weeks) earlier, aligned by weekday: as
    // they were, and smoothed over a week a year and two years back (the
    // yearly shape without one year's noise)
    let ly = o - 364;
    let mut ly_known = 0.0;
    for j in 1..=horizon as i64 {
        match value(series, ly + j) {
            Some(v) => {
                out.push(scaled(v));
                ly_known = 1.0;
            }
            None => out.push(0.0),
        }
    }
    out.push(ly_known);
    for back in [364i64, 728] {
        let mut known = 0.0;
        for j in 1..=horizon as i64 {
            // Centred week, clipped so it never passes the origin.
            let mid = o - back + j;
            let (m, n) = mean(series, mid - 3, (mid + 3).min(o));
            if n > 0 {
                known = 1.0;
            }
            out.push(scaled(m));
        }
        out.push(known);
    }
    // 2b. the yearly shape carried to today's level: the smoothed window a
    // year (two years) back times the growth of the last 91 days over the
    // same days then. Ratios are what a multiplicative model knows and an
    // MLP finds hard to compute, so they are handed over ready-made.
    let now91 = mean(series, o - 90, o).0;
    // Weekday factors of the last 52 weeks (1 = an average day), by
    // horizon day: the smoothed shapes carry no weekday rhythm, and an MLP
    // multiplies poorly, so the products are computed here.
    let year_mean = mean(series, o - 363, o).0;
    let weekday: Vec<f64> = (1..=7i64)
        .map(|j| {
            let (m, n) = (1..=52i64)
                .filter_map(|k| value(series, o + j - 7 * k))
                .fold((0.0, 0), |(m, n), v| (m + v, n + 1));
            if n == 0 || year_mean <= 0.0 {
                1.0
            } else {
                m / n as f64 / year_mean
            }
        })
        .collect();
    let wd = |j: i64| weekday[((j - 1) % 7) as usize];
    for back in [364i64, 728] {
        let then91 = mean(series, o - back - 90, o - back).0;
        let growth = if then91 > 0.0 {
            (now91 / then91).clamp(0.2, 5.0)
        } else {
            1.0
        };
        for j in 1..=horizon as i64 {
            let mid = o - back + j;
            let (m, n) = mean(series, mid - 3, (mid + 3).min(o));
            out.push(if n > 0 && then91 > 0.0 {
                scaled(m * growth * wd(j))
            } else {
                scaled(now91 * wd(j))
            });
        }
    }
    // 2c. the same with the shape all series share, which is far less
    // noisy than one series' own year
    let origin_date = series.start + chrono::TimeDelta::days(o);
    let day = chrono::TimeDelta::days;
    let then = origin_date - day(364);
    let base91 = pooled.mean(then - day(90), then);
    let shape = |j: i64| {
        let mid = then + day(j);
        pooled.mean(mid - day(3), (mid + day(3)).min(origin_date))
    };
    for j in 1..=horizon as i64 {
        out.push(match (shape(j), base91) {
            (Some(sh), Some(b)) if b > 0.0 => scaled(now91 * (sh / b).clamp(0.0, 10.0) * wd(j)),
            _ => scaled(now91 * wd(j)),
        });
    }
    // 2d. the base forecast, as a multiplicative store x item x weekday x
    // season model makes it: with a whole calendar year behind the origin,
    // `calendar_level` times the calendar factors; before that, the
    // series' level over the last year, carried forward by the growth of
    // all series, times the shared yearly shape and weekday factors.
    if let Some((level, cal)) = calendar_level(series, o, pooled) {
        for j in 1..=horizon as i64 {
            out.push(scaled(level * cal.factor(origin_date + day(j))));
        }
    } else {
        let year_level = year_mean;
        let pooled_year = pooled.mean(then - day(363), then);
        let pooled_now = pooled.mean(origin_date - day(363), origin_date);
        let growth = pooled.growth(origin_date);
        let pooled_weekday: Vec<Option<f64>> = (1..=7i64)
            .map(|j| {
                let p = pooled_now?;
                let (m, n) = (1..=52i64)
                    .filter_map(|k| {
                        let d = origin_date + day(j - 7 * k);
                        pooled.mean(d, d)
                    })
                    .fold((0.0, 0), |(m, n), v| (m + v, n + 1));
                (n > 0 && p > 0.0).then(|| m / n as f64 / p)
            })
            .collect();
        // The month factors of every year so far: steadier than one year's
        // shape, as a multiplicative model's month effect is.
        let months = pooled.month_factors(origin_date);
        let year_months = months.map(|mf| {
            (0..364i64)
                .map(|k| mf[(origin_date - day(k)).month0() as usize])
                .sum::<f64>()
                / 364.0
        });
        let weekdays = pooled.weekday_factors(origin_date);
        for j in 1..=horizon as i64 {
            let w_all = weekdays.map(|f| f[(origin_date + day(j)).weekday().num_days_from_monday() as usize]);
            let parts = (months, year_months, growth, w_all);
            out.push(match parts {
                (Some(mf), Some(ym), Some(g), Some(w)) if ym > 0.0 && year_level > 0.0 => {
                    let carried = year_level * g.powf((182.0 + j as f64) / 364.0);
                    let m = (origin_date + day(j)).month0() as usize;
                    scaled(carried * mf[m] / ym * w)
                }
                _ => match (shape(j), pooled_year, growth, pooled_weekday[((j - 1) % 7) as usize]) {
                    (Some(sh), Some(py), Some(g), Some(w)) if py > 0.0 && year_level > 0.0 => {
                        let carried = year_level * g.powf((182.0 + j as f64) / 364.0);
                        scaled(carried * (sh / py).clamp(0.0, 10.0) * w)
                    }
                    _ => scaled(now91 * wd(j)),
                },
            });
        }
    }
    // 3. the level a year ago: the 28 and 91 days before that origin
    out.push(scaled(mean(series, ly - 27, ly).0));
    out.push(scaled(mean(series, ly - 90, ly).0));
    // 4. recent means
    for days in [7, 28, 91, 364] {
        out.push(scaled(mean(series, o - days + 1, o).0));
    }
    // and the year before the last one (growth from year to year)
    out.push(scaled(mean(series, o - 727, o - 364).0));
    // 5. spread, zeros, recency of the last sale
    let (m28, n28) = mean(series, o - 27, o);
    let var = if n28 > 1 {
        ((o - 27).max(0)..=o)
            .filter_map(|i| value(series, i))
            .map(|v| (v - m28).powi(2))
            .sum::<f64>()
            / (n28 - 1) as f64
    } else {
        0.0
    };
    out.push((var.sqrt() / s) as f32);
    let (zeros, n91) = ((o - 90).max(0)..=o)
        .filter_map(|i| value(series, i))
        .fold((0usize, 0usize), |(z, n), v| (z + usize::from(v == 0.0), n + 1));
    out.push(if n91 == 0 { 1.0 } else { zeros as f32 / n91 as f32 });
    let since = (0..365)
        .find(|k| value(series, o - k).is_some_and(|v| v > 0.0))
        .unwrap_or(365);
    out.push(since as f32 / 365.0);
    // 6. the absolute level (log), so the head can tell 1 unit from 1000
    out.push((s - 1.0).ln_1p() as f32);
    // 7. weekday profile of the next 7 days from the last 8 weeks, and
    // from the last 52 weeks relative to that year's mean
    for j in 1..=7i64 {
        let (m, n) = (1..=8i64)
            .filter_map(|k| value(series, o + j - 7 * k))
            .fold((0.0, 0), |(m, n), v| (m + v, n + 1));
        out.push(if n == 0 { 0.0 } else { scaled(m / n as f64) });
    }
    for w in &weekday {
        out.push(*w as f32);
    }
    // 8. calendar of the first forecast day
    let first = series.start + chrono::TimeDelta::days(o + 1);
    let wd = first.weekday().num_days_from_monday() as usize;
    for k in 0..7 {
        out.push(if k == wd { 1.0 } else { 0.0 });
    }
    let month = first.month0() as usize;
    for k in 0..12 {
        out.push(if k == month { 1.0 } else { 0.0 });
    }
    let doy = first.ordinal0() as f64 / 365.25 * std::f64::consts::TAU;
    out.push(doy.sin() as f32);
    out.push(doy.cos() as f32);
    // 9. promotions: planned ones for each horizon day, and the recent share
    for j in 1..=horizon as i64 {
        out.push(promo(series, o + j));
    }
    let recent_promo: f32 = ((o - 27)..=o).map(|i| promo(series, i)).sum::<f32>() / 28.0;
    out.push(recent_promo);
    // 10. how much history there is
    out.push(((o + 1).clamp(0, 728) as f32) / 728.0);
    debug_assert_eq!(out.len() - start_len, daily_len(horizon));
    s
}

/// The series' level with the shared calendar divided out, as a
/// multiplicative store x item x weekday x month model sees it: its share
/// of all series over the last two years (a long window, so the share is
/// steady) times the level of all series over the last half year (recent,
/// so steps in level are followed). None without a whole calendar year of
/// data before the origin.
fn calendar_level(series: &DemandSeries, o: i64, pooled: &Pooled) -> Option<(f64, Calendar)> {
    let origin = series.start + chrono::TimeDelta::days(o);
    let cal = pooled.calendar_factors(origin)?;
    let from = (o - 727).max(0);
    let (mut sum, mut n) = (0.0, 0usize);
    for i in from..=o {
        let f = cal.factor(series.start + chrono::TimeDelta::days(i));
        if let Some(v) = value(series, i).filter(|_| f > 1e-6) {
            sum += v / f;
            n += 1;
        }
    }
    if n == 0 {
        return None;
    }
    let own = sum / n as f64;
    let first = series.start + chrono::TimeDelta::days(from);
    let all_long = pooled.deseasonalised(first, origin, &cal)?;
    let all_recent = pooled.deseasonalised(origin - chrono::TimeDelta::days(181), origin, &cal)?;
    (all_long > 0.0).then(|| (own * all_recent / all_long, cal))
}

/// Scaled targets: the `horizon` days after `o`.
pub fn push_targets(series: &DemandSeries, o: i64, horizon: usize, scale: f64, out: &mut Vec<f32>) {
    for j in 1..=horizon as i64 {
        out.push((value(series, o + j).unwrap_or(0.0) / scale) as f32);
    }
}

/// Origin dates of each split, all ending at `train_end`: the test window
/// is the last `horizon` days; validation windows end before the test
/// window starts; training windows end before the first validation origin.
/// No target of an earlier split reaches past the origin of a later one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Splits {
    pub train: Vec<NaiveDate>,
    pub validation: Vec<NaiveDate>,
    pub test: Vec<NaiveDate>,
}

/// Build the splits of daily data. `step` spaces training origins (3 days
/// cycles through every weekday); `first` is the earliest origin worth
/// learning from.
pub fn splits(first: NaiveDate, train_end: NaiveDate, horizon: usize, step: usize) -> Splits {
    splits_for(Period::Day, first, train_end, horizon, step)
}

/// Build the splits in `period`: horizon and step count periods, and the
/// eight validation origins are 3 days apart on daily data (every weekday
/// is seen) and one period apart on weekly or monthly data.
pub fn splits_for(period: Period, first: NaiveDate, train_end: NaiveDate, horizon: usize, step: usize) -> Splits {
    let h = horizon as i64;
    let back = |d: NaiveDate, n: i64| period.step(d, -n);
    let train_end = period.floor(train_end);
    let spacing = if period == Period::Day { 3 } else { 1 };
    let test_origin = back(train_end, h);
    let last_val = back(test_origin, h);
    let validation: Vec<NaiveDate> = (0..8i64)
        .map(|k| back(last_val, spacing * k))
        .filter(|d| *d >= first)
        .rev()
        .collect();
    let mut train = Vec::new();
    if let Some(first_val) = validation.first() {
        let mut o = back(*first_val, h);
        while o >= first {
            train.push(o);
            o = back(o, step.max(1) as i64);
        }
        train.reverse();
    }
    Splits {
        train,
        validation,
        test: if test_origin >= first {
            vec![test_origin]
        } else {
            vec![]
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> DemandSeries {
        DemandSeries {
            sku: "A".into(),
            warehouse: "W".into(),
            start: NaiveDate::from_ymd_opt(2022, 1, 1).unwrap(),
            values: (0..n).map(|i| (i % 7) as f64 + 1.0).collect(),
            promo: None,
            period: Default::default(),
        }
    }

    #[test]
    fn features_have_the_declared_length_even_without_history() {
        let s = series(800);
        for o in [-5i64, 0, 10, 400, 799] {
            let mut out = Vec::new();
            push_features(&s, o, 28, &Pooled::default(), &mut out);
            assert_eq!(out.len(), feature_len(28), "origin {o}");
            assert!(out.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn features_never_read_past_the_origin() {
        // Changing any value after the origin must not change a feature
        // (promotions aside: none here).
        let a = series(800);
        let mut b = a.clone();
        for v in &mut b.values[501..] {
            *v = 1000.0;
        }
        let (mut fa, mut fb) = (Vec::new(), Vec::new());
        // The pooled shape is built from everything; only days up to the
        // origin may be read from it.
        let pa = Pooled::build(std::slice::from_ref(&a), a.end());
        let pb = Pooled::build(std::slice::from_ref(&b), b.end());
        push_features(&a, 500, 28, &pa, &mut fa);
        push_features(&b, 500, 28, &pb, &mut fb);
        assert_eq!(fa, fb);
    }

    #[test]
    fn pooled_factors_are_the_group_means_up_to_the_day() {
        let s = series(800);
        let p = Pooled::build(std::slice::from_ref(&s), s.end());
        let upto = s.start + chrono::Days::new(500);
        let wf = p.weekday_factors(upto).unwrap();
        // Brute force over the index, days 0..=500.
        let mut sum = [0.0; 7];
        let mut n = [0.0; 7];
        for d in 0..=500usize {
            let v = p.index[d];
            if v.is_finite() {
                let w = (s.start + chrono::Days::new(d as u64)).weekday().num_days_from_monday() as usize;
                sum[w] += v;
                n[w] += 1.0;
            }
        }
        let f: Vec<f64> = (0..7).map(|w| sum[w] / n[w]).collect();
        let mean = f.iter().sum::<f64>() / 7.0;
        for w in 0..7 {
            assert!((wf[w] - f[w] / mean).abs() < 1e-12);
        }
        assert!(
            p.month_factors(s.start + chrono::Days::new(300)).is_none(),
            "under a year"
        );
        assert!(p.month_factors(upto).is_some());
    }

    /// Demand that steps up at every new year (10, 20, 40 a day on
    /// average) with a fixed month and weekday pattern.
    fn stepped() -> (DemandSeries, [f64; 12], [f64; 7]) {
        let months = [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.2, 1.0, 0.8];
        let weekdays = [0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.0];
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2022, 9, 30).unwrap();
        let values = start
            .iter_days()
            .take_while(|d| *d <= end)
            .map(|d| {
                let level = [10.0, 20.0, 40.0][(d.year() - 2020) as usize];
                level * months[d.month0() as usize] * weekdays[d.weekday().num_days_from_monday() as usize]
            })
            .collect();
        let s = DemandSeries {
            sku: "A".into(),
            warehouse: "W".into(),
            start,
            values,
            promo: None,
            period: Default::default(),
        };
        (s, months, weekdays)
    }

    #[test]
    fn the_base_follows_steps_in_level_and_the_calendar() {
        let (s, months, weekdays) = stepped();
        let pooled = Pooled::build(std::slice::from_ref(&s), s.end());
        let cal = pooled.calendar_factors(s.end()).unwrap();
        let mean = months.iter().sum::<f64>() / 12.0;
        for (m, f) in months.iter().enumerate() {
            // Months hold different mixes of weekdays: a few percent.
            let rel = cal.month[m] / (f / mean);
            assert!(
                (rel - 1.0).abs() < 0.03,
                "month {m}: {} against {}",
                cal.month[m],
                f / mean
            );
        }
        // A factor read against the trailing year would make January look
        // far above December (the year's doubling); this one does not.
        assert!(cal.month[0] < cal.month[11]);
        // No whole year before the origin: no calendar.
        assert!(
            pooled
                .calendar_factors(NaiveDate::from_ymd_opt(2020, 12, 30).unwrap())
                .is_none()
        );
        assert!(
            pooled
                .calendar_factors(NaiveDate::from_ymd_opt(2020, 12, 31).unwrap())
                .is_some()
        );

        // The base forecast after the origin: this year's level (40) times
        // the calendar, not last year's level or a growth carried on.
        let h = 28;
        let o = index_of(&s, s.end());
        let mut out = Vec::new();
        let scale = push_features(&s, o, h, &pooled, &mut out);
        let wmean = weekdays.iter().sum::<f64>() / 7.0;
        for j in 1..=h {
            let d = s.end() + chrono::Days::new(j as u64);
            let truth = 40.0 * months[d.month0() as usize] * weekdays[d.weekday().num_days_from_monday() as usize];
            let base = out[base_offset(h) + j - 1] as f64 * scale;
            assert!(
                (base / truth - 1.0).abs() < 0.05,
                "{d}: base {base:.2}, truth {truth:.2} (mean factors {mean:.3}, {wmean:.3})"
            );
        }
    }

    #[test]
    fn splits_do_not_overlap_in_time() {
        let first = NaiveDate::from_ymd_opt(2022, 1, 28).unwrap();
        let end = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
        let h = 28u64;
        let sp = splits(first, end, h as usize, 3);
        assert!(!sp.train.is_empty() && !sp.validation.is_empty());
        let test = sp.test[0];
        assert_eq!(test + chrono::Days::new(h), end);
        for v in &sp.validation {
            assert!(
                *v + chrono::Days::new(h) <= test,
                "validation targets reach the test window"
            );
        }
        let first_val = sp.validation[0];
        for t in &sp.train {
            assert!(*t + chrono::Days::new(h) <= first_val);
        }
    }
}
