//! Features of weekly and monthly series at a forecast origin: the same
//! blocks as the daily ones (`features`), with the year counted in periods
//! (52 weeks, 12 months) and no weekday rhythm, which such data cannot
//! show.
//!
//! An origin is the last period the model may see; targets are the
//! `horizon` periods after it. Values are divided by the series' scale: one
//! plus the mean of its last quarter (13 weeks, 3 months).

use chrono::{Datelike, NaiveDate};

use crate::domain::{DemandSeries, Period};
use crate::forecast::lookup::{mean, promo, value};

/// Periods of recent history fed one by one: half a year of weeks, a year
/// of months.
pub fn recent(period: Period) -> usize {
    match period {
        Period::Month(_) => 12,
        _ => 26,
    }
}

/// Number of features for a horizon.
pub fn feature_len(period: Period, horizon: usize) -> usize {
    recent(period) + 8 * horizon + 30
}

/// Where the base forecast sits among the features.
pub fn base_offset(period: Period, horizon: usize) -> usize {
    recent(period) + 6 * horizon + 3
}

/// The place of a period in the year: its week (0..52) or month (0..12).
pub fn slot(period: Period, date: NaiveDate) -> usize {
    match period {
        Period::Month(_) => date.month0() as usize,
        _ => (date.ordinal0() as usize / 7).min(51),
    }
}

/// The seasonal shape all series share, period by period: for each global
/// period, the mean over series of its value relative to the series' mean
/// over the year before it, and running sums of that index by slot, so the
/// slot factors at any origin are a lookup and use nothing later.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    period: Period,
    start: Option<NaiveDate>,
    index: Vec<f64>,
    totals: Vec<f64>,
    by_slot: Vec<Vec<(f64, u32)>>,
}

impl Shared {
    pub fn build(demand: &[DemandSeries], upto: NaiveDate) -> Shared {
        let Some(first) = demand.first() else {
            return Shared::default();
        };
        let period = first.period;
        let Some(start) = demand.iter().map(|s| s.start).min() else {
            return Shared::default();
        };
        let year = period.year();
        let n = (period.between(start, upto) + 1).max(0) as usize;
        let mut sum = vec![0.0f64; n];
        let mut count = vec![0u32; n];
        let mut totals = vec![0.0f64; n];
        for s in demand {
            let offset = period.between(start, s.start).max(0) as usize;
            let mut window = 0.0;
            for (i, v) in s.values.iter().enumerate() {
                let g = offset + i;
                if g >= n {
                    break;
                }
                totals[g] += v;
                let k = i.min(year);
                if k >= year / 4 && window > 0.0 {
                    sum[g] += v / (window / k as f64);
                    count[g] += 1;
                }
                window += v;
                if i >= year {
                    window -= s.values[i - year];
                }
            }
        }
        let index: Vec<f64> = sum
            .iter()
            .zip(&count)
            .map(|(s, c)| if *c == 0 { f64::NAN } else { s / f64::from(*c) })
            .collect();
        let slots = year.min(52);
        let mut acc = vec![(0.0f64, 0u32); slots];
        let by_slot = index
            .iter()
            .enumerate()
            .map(|(g, v)| {
                if v.is_finite() {
                    let k = slot(period, period.step(start, g as i64)).min(slots - 1);
                    acc[k].0 += v;
                    acc[k].1 += 1;
                }
                acc.clone()
            })
            .collect();
        Shared {
            period,
            start: Some(start),
            index,
            totals,
            by_slot,
        }
    }

    fn global(&self, date: NaiveDate) -> Option<i64> {
        Some(self.period.between(self.start?, date))
    }

    /// Slot factors (mean 1) from every period up to `upto`, once every
    /// slot has been seen.
    pub fn factors(&self, upto: NaiveDate) -> Option<Vec<f64>> {
        let g = self.global(upto)?.min(self.by_slot.len() as i64 - 1);
        if g < 0 {
            return None;
        }
        let sums = &self.by_slot[g as usize];
        if sums.iter().any(|(_, n)| *n == 0) {
            return None;
        }
        let f: Vec<f64> = sums.iter().map(|(s, n)| s / f64::from(*n)).collect();
        let mean = f.iter().sum::<f64>() / f.len() as f64;
        (mean > 0.0).then(|| f.iter().map(|x| x / mean).collect())
    }

    /// Mean of the index over the periods holding `[from, to]`.
    fn mean(&self, from: NaiveDate, to: NaiveDate) -> Option<f64> {
        let (a, b) = (self.global(from)?.max(0), self.global(to)?);
        let (mut sum, mut n) = (0.0, 0);
        for g in a..=b.min(self.index.len() as i64 - 1) {
            let v = self.index[g as usize];
            if v.is_finite() {
                sum += v;
                n += 1;
            }
        }
        (n > 0).then(|| sum / f64::from(n))
    }

    /// Year-on-year growth of all series together at `date`.
    fn growth(&self, date: NaiveDate) -> Option<f64> {
        let g = self.global(date)?;
        let y = self.period.year() as i64;
        if g - 2 * y + 1 < 0 || g as usize >= self.totals.len() {
            return None;
        }
        let sum = |a: i64, b: i64| -> f64 { self.totals[a as usize..=b as usize].iter().sum() };
        let (now, then) = (sum(g - y + 1, g), sum(g - 2 * y + 1, g - y));
        (then > 0.0).then(|| (now / then).clamp(0.5, 2.0))
    }
}

fn quarter(period: Period) -> i64 {
    (period.year() / 4) as i64
}

/// The per-series scale at origin index `o`.
pub fn scale_at(series: &DemandSeries, o: i64) -> f64 {
    1.0 + mean(series, o - quarter(series.period) + 1, o).0
}

/// Append the features of `series` at origin index `o` to `out`; returns
/// the scale used. The layout mirrors the daily one block by block.
pub fn push_features(series: &DemandSeries, o: i64, horizon: usize, shared: &Shared, out: &mut Vec<f32>) -> f64 {
    let start_len = out.len();
    let p = series.period;
    let y = p.year() as i64;
    let q = quarter(p);
    let month = (y / 12).max(1);
    let h = horizon as i64;
    let s = scale_at(series, o);
    let scaled = |v: f64| (v / s) as f32;
    let date = |i: i64| series.period.step(series.start, i);
    // 1. the recent periods one by one
    for i in (o - recent(p) as i64 + 1)..=o {
        out.push(value(series, i).map_or(0.0, scaled));
    }
    // 2. the same periods a year earlier, as they were, and smoothed over
    // three periods a year and two years back
    let ly = o - y;
    let mut ly_known = 0.0;
    for j in 1..=h {
        match value(series, ly + j) {
            Some(v) => {
                out.push(scaled(v));
                ly_known = 1.0;
            }
            None => out.push(0.0),
        }
    }
    out.push(ly_known);
    let smoothed = |mid: i64| mean(series, mid - 1, (mid + 1).min(o));
    for back in [y, 2 * y] {
        let mut known = 0.0;
        for j in 1..=h {
            let (m, n) = smoothed(o - back + j);
            if n > 0 {
                known = 1.0;
            }
            out.push(scaled(m));
        }
        out.push(known);
    }
    // 2b. the yearly shape carried to today's level by the growth of the
    // last quarter over the same quarter then
    let now_q = mean(series, o - q + 1, o).0;
    for back in [y, 2 * y] {
        let then_q = mean(series, o - back - q + 1, o - back).0;
        let growth = if then_q > 0.0 {
            (now_q / then_q).clamp(0.2, 5.0)
        } else {
            1.0
        };
        for j in 1..=h {
            let (m, n) = smoothed(o - back + j);
            out.push(if n > 0 && then_q > 0.0 {
                scaled(m * growth)
            } else {
                scaled(now_q)
            });
        }
    }
    // 2c. the same with the shape all series share
    let origin_date = date(o);
    let then = date(ly);
    let base_q = shared.mean(p.step(then, -q + 1), then);
    for j in 1..=h {
        let mid = p.step(then, j);
        let shape = shared.mean(p.step(mid, -1), p.step(mid, 1).min(origin_date));
        out.push(match (shape, base_q) {
            (Some(sh), Some(b)) if b > 0.0 => scaled(now_q * (sh / b).clamp(0.0, 10.0)),
            _ => scaled(now_q),
        });
    }
    // 2d. the base forecast of a multiplicative series x season model: the
    // series' level over the last year with the shared season divided out,
    // carried forward by the growth of all series, times the season.
    let factors = shared.factors(origin_date);
    let growth = shared.growth(origin_date).unwrap_or(1.0);
    let level = factors.as_ref().and_then(|f| {
        let (mut sum, mut n) = (0.0, 0usize);
        for i in (o - y + 1).max(0)..=o {
            let k = slot(p, date(i)).min(f.len() - 1);
            if let Some(v) = value(series, i).filter(|_| f[k] > 1e-6) {
                sum += v / f[k];
                n += 1;
            }
        }
        (n as i64 >= q).then(|| sum / n as f64)
    });
    for j in 1..=h {
        out.push(match (&factors, level) {
            (Some(f), Some(l)) => {
                let k = slot(p, date(o + j)).min(f.len() - 1);
                let carried = l * growth.powf((y as f64 / 2.0 + j as f64) / y as f64);
                scaled(carried * f[k])
            }
            _ => scaled(now_q),
        });
    }
    // 3. the level a year ago: the month and the quarter before then
    out.push(scaled(mean(series, ly - month + 1, ly).0));
    out.push(scaled(mean(series, ly - q + 1, ly).0));
    // 4. recent means: the last period, month, quarter and year, and the
    // year before that
    for n in [1, month, q, y] {
        out.push(scaled(mean(series, o - n + 1, o).0));
    }
    out.push(scaled(mean(series, o - 2 * y + 1, o - y).0));
    // 5. spread, zeros, recency of the last sale
    let span = q.max(6);
    let (m, n) = mean(series, o - span + 1, o);
    let var = if n > 1 {
        ((o - span + 1).max(0)..=o)
            .filter_map(|i| value(series, i))
            .map(|v| (v - m).powi(2))
            .sum::<f64>()
            / (n - 1) as f64
    } else {
        0.0
    };
    out.push((var.sqrt() / s) as f32);
    let (zeros, seen) = ((o - span + 1).max(0)..=o)
        .filter_map(|i| value(series, i))
        .fold((0usize, 0usize), |(z, n), v| (z + usize::from(v == 0.0), n + 1));
    out.push(if seen == 0 { 1.0 } else { zeros as f32 / seen as f32 });
    let since = (0..y)
        .find(|k| value(series, o - k).is_some_and(|v| v > 0.0))
        .unwrap_or(y);
    out.push(since as f32 / y as f32);
    // 6. the absolute level (log)
    out.push((s - 1.0).ln_1p() as f32);
    // 7. the calendar of the first forecast period: its place in the year
    // as an angle, and its month
    let first = date(o + 1);
    let angle = first.ordinal0() as f64 / 365.25 * std::f64::consts::TAU;
    out.push(angle.sin() as f32);
    out.push(angle.cos() as f32);
    let m0 = first.month0() as usize;
    for k in 0..12 {
        out.push(if k == m0 { 1.0 } else { 0.0 });
    }
    // 8. promotions planned for each horizon period, and the recent share
    for j in 1..=h {
        out.push(promo(series, o + j));
    }
    let recent_promo: f32 = ((o - q + 1)..=o).map(|i| promo(series, i)).sum::<f32>() / q as f32;
    out.push(recent_promo);
    // 9. how much history there is
    out.push(((o + 1).clamp(0, 2 * y) as f32) / (2 * y) as f32);
    debug_assert_eq!(out.len() - start_len, feature_len(p, horizon));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn weekly(n: usize) -> DemandSeries {
        DemandSeries {
            sku: "A".into(),
            warehouse: "W".into(),
            start: NaiveDate::from_ymd_opt(2020, 1, 6).unwrap(),
            // A yearly bump in weeks 45..52.
            values: (0..n).map(|i| if i % 52 >= 45 { 30.0 } else { 10.0 }).collect(),
            promo: None,
            period: Period::Week(Weekday::Mon),
        }
    }

    #[test]
    fn features_have_the_declared_length_and_never_read_past_the_origin() {
        let s = weekly(200);
        let shared = Shared::build(std::slice::from_ref(&s), s.date_at(150));
        let mut a = Vec::new();
        push_features(&s, 150, 13, &shared, &mut a);
        assert_eq!(a.len(), feature_len(s.period, 13));
        let mut later = s.clone();
        for v in &mut later.values[151..] {
            *v = 999.0;
        }
        let shared_later = Shared::build(std::slice::from_ref(&later), later.date_at(150));
        let mut b = Vec::new();
        push_features(&later, 150, 13, &shared_later, &mut b);
        assert_eq!(a, b);
        // Early origins still give the full length.
        let mut c = Vec::new();
        push_features(&s, 2, 13, &shared, &mut c);
        assert_eq!(c.len(), feature_len(s.period, 13));
    }

    #[test]
    fn the_base_forecast_follows_the_shared_season() {
        let s = weekly(260);
        let o = 200i64;
        let shared = Shared::build(std::slice::from_ref(&s), s.date_at(o as usize));
        let mut f = Vec::new();
        let scale = push_features(&s, o, 13, &shared, &mut f);
        let base = &f[base_offset(s.period, 13)..base_offset(s.period, 13) + 13];
        for (j, b) in base.iter().enumerate() {
            let want = s.values[o as usize + 1 + j];
            let got = f64::from(*b) * scale;
            assert!((got - want).abs() < 0.35 * want, "week {j}: {got} vs {want}");
        }
    }
}
