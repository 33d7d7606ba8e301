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

use crate::domain::DemandSeries;

/// Days of recent history fed one by one.
pub const RECENT: usize = 28;
/// Bumped whenever the feature layout changes; stored in checkpoints so an
/// old run is refused rather than fed the wrong columns.
pub const FEATURES_VERSION: u32 = 1;

/// Number of features for a horizon.
pub fn feature_len(horizon: usize) -> usize {
    RECENT + 2 * horizon + 1 + 2 + 4 + 3 + 1 + 7 + 7 + 12 + 2 + 1 + 1
}

/// Index of `date` in the series (may be negative or past its end).
pub fn index_of(series: &DemandSeries, date: NaiveDate) -> i64 {
    (date - series.start).num_days()
}

fn value(series: &DemandSeries, i: i64) -> Option<f64> {
    if i < 0 {
        None
    } else {
        // Past the recorded end (but within the data) nothing was sold.
        Some(series.values.get(i as usize).copied().unwrap_or(0.0))
    }
}

fn promo(series: &DemandSeries, i: i64) -> f32 {
    match &series.promo {
        Some(p) if i >= 0 => p.get(i as usize).map_or(0.0, |b| if *b { 1.0 } else { 0.0 }),
        _ => 0.0,
    }
}

/// Mean of the known values in `[from, to]` (inclusive), and how many.
fn mean(series: &DemandSeries, from: i64, to: i64) -> (f64, usize) {
    let mut sum = 0.0;
    let mut n = 0;
    for i in from.max(0)..=to {
        if let Some(v) = value(series, i) {
            sum += v;
            n += 1;
        }
    }
    if n == 0 { (0.0, 0) } else { (sum / n as f64, n) }
}

/// The per-series scale at origin index `o`.
pub fn scale_at(series: &DemandSeries, o: i64) -> f64 {
    1.0 + mean(series, o - 90, o).0
}

/// Whether any promotion is planned in the horizon after `o`.
pub fn promotion_ahead(series: &DemandSeries, o: i64, horizon: usize) -> bool {
    (1..=horizon as i64).any(|j| promo(series, o + j) > 0.0)
}

/// Append the features of `series` at origin index `o` (the origin's
/// date is `series.start + o`) to `out`; returns the scale used.
pub fn push_features(series: &DemandSeries, o: i64, horizon: usize, out: &mut Vec<f32>) -> f64 {
    let start_len = out.len();
    let s = scale_at(series, o);
    let scaled = |v: f64| (v / s) as f32;
    // 1. the last 28 days
    for i in (o - RECENT as i64 + 1)..=o {
        out.push(value(series, i).map_or(0.0, scaled));
    }
    // 2. the same days a year (52 weeks) earlier, aligned by weekday
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
    // 3. the level a year ago: the 28 and 91 days before that origin
    out.push(scaled(mean(series, ly - 27, ly).0));
    out.push(scaled(mean(series, ly - 90, ly).0));
    // 4. recent means
    for days in [7, 28, 91, 364] {
        out.push(scaled(mean(series, o - days + 1, o).0));
    }
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
    // 7. weekday profile of the next 7 days from the last 8 weeks
    for j in 1..=7i64 {
        let (m, n) = (1..=8i64)
            .filter_map(|k| value(series, o + j - 7 * k))
            .fold((0.0, 0), |(m, n), v| (m + v, n + 1));
        out.push(if n == 0 { 0.0 } else { scaled(m / n as f64) });
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
    debug_assert_eq!(out.len() - start_len, feature_len(horizon));
    s
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

/// Build the splits. `step` spaces training origins (3 days cycles through
/// every weekday); `first` is the earliest origin worth learning from.
pub fn splits(first: NaiveDate, train_end: NaiveDate, horizon: usize, step: usize) -> Splits {
    let h = horizon as u64;
    let days = |n: u64| chrono::Days::new(n);
    let test_origin = train_end - days(h);
    let last_val = test_origin - days(h);
    let validation: Vec<NaiveDate> = (0..8u64)
        .map(|k| last_val - days(3 * k))
        .filter(|d| *d >= first)
        .rev()
        .collect();
    let mut train = Vec::new();
    if let Some(first_val) = validation.first() {
        let mut o = *first_val - days(h);
        while o >= first {
            train.push(o);
            o = o - days(step.max(1) as u64);
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
        }
    }

    #[test]
    fn features_have_the_declared_length_even_without_history() {
        let s = series(800);
        for o in [-5i64, 0, 10, 400, 799] {
            let mut out = Vec::new();
            push_features(&s, o, 28, &mut out);
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
        push_features(&a, 500, 28, &mut fa);
        push_features(&b, 500, 28, &mut fb);
        assert_eq!(fa, fb);
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
