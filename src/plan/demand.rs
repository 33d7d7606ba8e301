//! Demand as a restock line sees it: a forecast's daily quantiles (and
//! beyond its horizon), lumpy demand's dispersion, its mean by Swanson's
//! rule, and the negative binomial it is stocked from. Pure arithmetic on
//! forecasts and histories; `restock` builds lines from it.

use statrs::distribution::{ContinuousCDF, DiscreteCDF, NegativeBinomial, Normal, Poisson};

use crate::domain::{DemandSeries, SeriesForecast};

/// z of the standard normal at `p`.
pub(crate) fn z(p: f64) -> f64 {
    Normal::new(0.0, 1.0).map_or(0.0, |n| n.inverse_cdf(p.clamp(0.5, 0.9999)))
}

/// Quantile of a negative binomial with this mean and variance (Poisson
/// when the variance does not exceed the mean): the smallest whole k whose
/// cumulative probability reaches `p`. Small means walk the probabilities
/// up from 0; larger ones, where that walk is long and its first terms
/// underflow, search statrs' cumulative distribution.
pub fn nb_quantile(mean: f64, var: f64, p: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    let p = p.clamp(0.0, 0.9999);
    if mean > 400.0 {
        return large_quantile(mean, var, p);
    }
    // log pmf(0) and the ratio pmf(k+1)/pmf(k).
    let (log0, ratio): (f64, Box<dyn Fn(f64) -> f64>) = if var > mean * 1.0001 {
        let q = mean / var;
        let r = mean * mean / (var - mean);
        (r * q.ln(), Box::new(move |k| (k + r) / (k + 1.0) * (1.0 - q)))
    } else {
        (-mean, Box::new(move |k| mean / (k + 1.0)))
    };
    let mut pmf = log0.exp();
    let mut cdf = pmf;
    let mut k = 0.0;
    while cdf < p && k < 100_000.0 {
        pmf *= ratio(k);
        k += 1.0;
        cdf += pmf;
    }
    k
}

/// [`nb_quantile`] for a large mean, by bisection on the distribution's
/// cumulative probability; the normal's quantile if statrs refuses the
/// parameters. A normal would be far too thin: a lumpy line's 99.9 %
/// quantile over two weeks is several standard deviations further out,
/// and a normal there fell below the same line's one-week quantile.
fn large_quantile(mean: f64, var: f64, p: f64) -> f64 {
    let normal = mean + z(p) * var.max(mean).sqrt();
    // statrs accepts r = 0, p = 0 or an infinite mean but panics in the
    // cdf; such sums only come from overflowing data.
    if !(mean.is_finite() && var.is_finite()) {
        return normal;
    }
    let cdf: Box<dyn Fn(u64) -> f64> = if var > mean * 1.0001 {
        let (r, q) = (mean * mean / (var - mean), mean / var);
        if !(r.is_finite() && r > 0.0 && q > 0.0 && q < 1.0) {
            return normal;
        }
        match NegativeBinomial::new(r, q) {
            Ok(d) => Box::new(move |k| d.cdf(k)),
            Err(_) => return normal,
        }
    } else {
        match Poisson::new(mean) {
            Ok(d) => Box::new(move |k| d.cdf(k)),
            Err(_) => return normal,
        }
    };
    // cdf(lo) < p <= cdf(hi); give up on the search (and take the
    // normal) if no finite bound is found.
    let mut hi = normal.max(mean).ceil().max(1.0) as u64;
    let mut doublings = 0;
    while cdf(hi) < p {
        hi = hi.saturating_mul(2);
        doublings += 1;
        if doublings > 40 {
            return normal;
        }
    }
    if cdf(0) >= p {
        return 0.0;
    }
    let mut lo = 0u64;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if cdf(mid) >= p {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi as f64
}

/// A quantile forecast whose middle is its mean, by Swanson's rule
/// (0.3 p10 + 0.4 p50 + 0.3 p90) times `scale` (the rule's bias measured
/// on held-out days, 1 where none was): lumpy demand's median is often 0
/// while its mean is not, and the negative binomial wants the mean.
pub fn with_mean_as_median(f: &SeriesForecast, scale: f64) -> SeriesForecast {
    let p50 = f
        .p10
        .iter()
        .zip(&f.p50)
        .zip(&f.p90)
        .map(|((a, b), c)| (scale * swanson_mean(*a, *b, *c)).max(*b))
        .collect();
    SeriesForecast { p50, ..f.clone() }
}

/// Swanson's rule: the mean of a day from its p10, p50 and p90.
pub fn swanson_mean(p10: f64, p50: f64, p90: f64) -> f64 {
    0.3 * p10 + 0.4 * p50 + 0.3 * p90
}

/// Daily quantiles from a forecast, extended past its horizon with the
/// average of its last week.
pub struct DailyForecast<'a> {
    f: &'a SeriesForecast,
    tail: (f64, f64, f64),
}

impl<'a> DailyForecast<'a> {
    pub fn new(f: &'a SeriesForecast) -> Self {
        let n = f.p50.len();
        let k = n.clamp(1, 7);
        let avg = |v: &[f64]| {
            if v.is_empty() {
                0.0
            } else {
                v[v.len().saturating_sub(k)..].iter().sum::<f64>() / k.min(v.len()) as f64
            }
        };
        DailyForecast {
            f,
            tail: (avg(&f.p10), avg(&f.p50), avg(&f.p90)),
        }
    }

    pub fn at(&self, t: usize) -> (f64, f64, f64) {
        if t < self.f.p50.len() {
            (self.f.p10[t], self.f.p50[t], self.f.p90[t])
        } else {
            self.tail
        }
    }
}

/// Mean and standard deviation of the sum of `n` daily demands from day
/// `from`: means add up; spreads (from each day's p10..p90) add up with an
/// equal pairwise correlation `rho`.
pub fn sum_stats(daily: &DailyForecast<'_>, from: usize, n: usize, rho: f64) -> (f64, f64) {
    sum_stats_part(daily, from, n as f64, rho)
}

/// [`sum_stats`] over `n` periods where the last may be a part: its mean
/// and spread count by its share (a part of a period's demand moves with
/// the rest of it).
pub fn sum_stats_part(daily: &DailyForecast<'_>, from: usize, n: f64, rho: f64) -> (f64, f64) {
    let (mut mean, mut var_ind, mut sd_sum) = (0.0, 0.0, 0.0);
    let n = n.max(0.0);
    for k in 0..n.ceil() as usize {
        let share = (n - k as f64).min(1.0);
        let (p10, p50, p90) = daily.at(from + k);
        let sd = share * ((p90 - p10) / (2.0 * 1.281_551_565_545)).max(0.0);
        mean += share * p50;
        var_ind += sd * sd;
        sd_sum += sd;
    }
    let rho = rho.clamp(0.0, 1.0);
    let var = (1.0 - rho) * var_ind + rho * sd_sum * sd_sum;
    (mean, var.max(0.0).sqrt())
}

/// The smallest quantity >= `raw` that is 0 or at least the MOQ and a
/// multiple of the pack size.
pub fn round_order(raw: f64, moq: u32, pack: u32) -> u32 {
    // NaN and non-positive quantities order nothing.
    if raw.is_nan() || raw <= 0.0 {
        return 0;
    }
    let pack = pack.max(1);
    let need = raw.ceil().max(f64::from(moq));
    // Whole packs even at the ceiling (4294967295 was ordered, not a
    // multiple of anything).
    let packs = (need / f64::from(pack)).ceil().min(f64::from(u32::MAX / pack));
    (packs * f64::from(pack)) as u32
}

/// The sum of `values` over `cover` periods from `from`, the last by its
/// share (as [`sum_stats_part`] counts the forecast); None past the end.
pub fn part_sum(values: &[f64], from: usize, cover: f64) -> Option<f64> {
    let whole = cover.max(0.0).floor() as usize;
    let share = cover.max(0.0) - whole as f64;
    let mut sum: f64 = values.get(from..from + whole)?.iter().sum();
    if share > 1e-12 {
        sum += share * values.get(from + whole)?;
    }
    Some(sum)
}

/// The day of period `t` (from the stamp `start`) that `stock` runs out
/// on, at its `demand`'s even rate over the period's days.
pub fn stock_out_day(
    period: crate::domain::Period,
    start: chrono::NaiveDate,
    t: usize,
    stock: f64,
    demand: f64,
) -> chrono::NaiveDate {
    let (lo, hi) = period.days_of(period.step(start, t as i64));
    let len = (hi - lo).num_days() + 1;
    let days = if demand > 1e-12 && stock > 0.0 {
        (stock / demand * len as f64).floor() as i64
    } else {
        0
    };
    lo + chrono::Days::new(days.clamp(0, len - 1) as u64)
}

/// What a line protects, in periods of its forecast from the order day.
/// A review waits for a whole period's data, so it counts in whole
/// periods; the lead time counts in days, the part of a period it ends in
/// by its share: a 7-day lead time on monthly data protects a quarter of a
/// month, not the whole month its boundary rounds up to. A first period
/// partly sold counts only its days left (its forecast is scaled to them).
pub struct Span {
    /// The review in whole periods.
    pub review: usize,
    /// Periods to the lead time's end.
    pub lead: f64,
    /// Periods to the end of the protection.
    pub cover: f64,
    /// The day the protection ends: the next review's order arrives.
    pub until: chrono::NaiveDate,
    /// Periods of the calendar from the order day to `until` (what the
    /// line's details show: a part-sold first period counts its days left
    /// by their share of it).
    pub calendar: f64,
    /// Periods one day from the order day covers (a reorder point's span
    /// when the lead time is 0).
    pub day: f64,
}

impl Span {
    /// For a forecast of `period`s from the stamp `start`, `sold_days` of
    /// its first period gone.
    pub fn new(
        period: crate::domain::Period,
        start: chrono::NaiveDate,
        sold_days: u32,
        lead: u32,
        review_days: u32,
    ) -> Span {
        let review = period.periods_for_days(f64::from(review_days));
        let (lo, hi) = period.days_of(start);
        let first_left = ((hi - lo).num_days() + 1 - i64::from(sold_days)).max(1) as f64;
        let after_first = period.step(start, 1);
        let from_order = |days: i64| -> f64 {
            let days = days.max(0) as f64;
            if days < first_left {
                days / first_left
            } else {
                1.0 + period.cover(after_first, days - first_left)
            }
        };
        // From the period's first day: a month stamped on its last day
        // starts on its 1st.
        let order_day = lo + chrono::Days::new(u64::from(sold_days));
        let until = period.add(order_day + chrono::Days::new(u64::from(lead)), review);
        let cover = from_order((until - order_day).num_days());
        let first_share = first_left / ((hi - lo).num_days() + 1).max(1) as f64;
        Span {
            review,
            lead: from_order(i64::from(lead)),
            cover,
            until,
            calendar: if cover >= 1.0 {
                cover - 1.0 + first_share
            } else {
                cover * first_share
            },
            day: from_order(1),
        }
    }
}

/// Dispersion (variance over mean) of daily demand over the last year, for
/// items a normal band fits badly; `None` for smooth ones. Those are the
/// intermittent, erratic and lumpy items of Syntetos, Boylan and Croston
/// (2005): demand on fewer than about three days in four (ADI above 1.32),
/// or sizes so unequal that their squared coefficient of variation exceeds
/// 0.49. A line that sells most days but now and then takes an order ten
/// times its usual one has errors no spread-scaled band can cover; the
/// negative binomial's tail, from its own dispersion, does.
pub fn intermittency(history: Option<&DemandSeries>) -> Option<f64> {
    history.and_then(|h| intermittency_up_to(h, h.values.len()))
}

/// The same for the first `n` periods of a series: what a plan made then
/// would have judged.
pub fn intermittency_up_to(s: &DemandSeries, n: usize) -> Option<f64> {
    let n = n.min(s.values.len());
    let promo = s.promo.as_deref().map(|p| &p[..n.min(p.len())]);
    intermittency_over(&s.values[..n], promo, s.period.from_days(365))
}

/// The same with the history's promotion flags (same indexing as
/// `values`): the sizes of promoted days do not count towards erratic
/// sizes, since a promotion's lift is planned, not a surprise. The
/// dispersion is still that of every day.
pub fn intermittency_with(values: &[f64], promo: Option<&[bool]>) -> Option<f64> {
    intermittency_over(values, promo, 365)
}

/// [`intermittency_with`] over the last `year` periods (365 days, 52
/// weeks, 12 months: 365 weeks of weekly data were read as a year), from
/// at least 28 of them (a year of months, where there are fewer).
pub fn intermittency_over(values: &[f64], promo: Option<&[bool]>, year: usize) -> Option<f64> {
    let skip = values.len().saturating_sub(year.max(1));
    let v = &values[skip..];
    if v.len() < 28.min(year.max(1)) {
        return None;
    }
    let promoted = |j: usize| promo.and_then(|p| p.get(skip + j)).copied().unwrap_or(false);
    let days = v.iter().filter(|x| **x > 0.0).count();
    if days == 0 {
        return None;
    }
    let intermittent = v.len() as f64 / days as f64 > 1.32;
    if !intermittent {
        let sizes: Vec<f64> = v
            .iter()
            .enumerate()
            .filter(|(j, x)| **x > 0.0 && !promoted(*j))
            .map(|(_, x)| *x)
            .collect();
        if sizes.is_empty() || size_cv2(&sizes) <= 0.49 {
            return None;
        }
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
    Some(if m > 0.0 { var / m } else { 1.0 })
}

/// Squared coefficient of variation of demand sizes (the days with demand).
fn size_cv2(sizes: &[f64]) -> f64 {
    let n = sizes.len() as f64;
    let m = sizes.iter().sum::<f64>() / n;
    if m <= 0.0 {
        return 0.0;
    }
    let var = sizes.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    var / (m * m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syntetos_boylan_classes_choose_the_distribution() {
        // Smooth: sells every day, sizes alike (CV² 0.01).
        let smooth: Vec<f64> = (0..120).map(|i| if i % 2 == 0 { 9.0 } else { 11.0 }).collect();
        assert_eq!(intermittency_with(&smooth, None), None);
        // Erratic: sells every day, but every tenth day an order twenty
        // times the usual one (CV² about 3.9).
        let erratic: Vec<f64> = (0..120).map(|i| if i % 10 == 0 { 100.0 } else { 5.0 }).collect();
        let d = intermittency_with(&erratic, None).expect("erratic demand uses the negative binomial");
        assert!((d - 56.0).abs() < 0.1, "dispersion {d}");
        // Intermittent: sells one day in three, sizes alike.
        let sparse: Vec<f64> = (0..120).map(|i| if i % 3 == 0 { 6.0 } else { 0.0 }).collect();
        assert!(intermittency_with(&sparse, None).is_some());
        // Too short to judge, or never sold.
        assert_eq!(intermittency_with(&erratic[..27], None), None);
        assert_eq!(intermittency_with(&[0.0; 60], None), None);
        // The same spikes on promoted days are planned lifts, not erratic
        // sizes; flagged on other days, they still are.
        let on_spikes: Vec<bool> = (0..120).map(|i| i % 10 == 0).collect();
        assert_eq!(intermittency_with(&erratic, Some(&on_spikes)), None);
        let elsewhere: Vec<bool> = (0..120).map(|i| i % 10 == 5).collect();
        assert!(intermittency_with(&erratic, Some(&elsewhere)).is_some());
    }

    #[test]
    fn the_negative_binomial_quantile_is_exact_on_both_sides_of_the_walk() {
        // Just under and just over the mean where the search takes over,
        // the two ways agree with each other (and grow with the mean).
        for disp in [1.0, 3.0, 40.0, 300.0] {
            let below = nb_quantile(399.0, 399.0 * disp, 0.999);
            let above = nb_quantile(401.0, 401.0 * disp, 0.999);
            assert!(
                above >= below && above - below < 0.02 * below + 3.0,
                "{disp}: {below} {above}"
            );
        }
        // A quantile is monotone in the mean at a fixed dispersion: two
        // weeks never need less stock than one (the normal gave 1,879 for
        // two weeks against 1,950 for one on a line with dispersion 262).
        let (week, fortnight) = (
            nb_quantile(313.0, 313.0 * 262.0, 0.999),
            nb_quantile(627.0, 627.0 * 262.0, 0.999),
        );
        assert!(fortnight > week, "{week} {fortnight}");
        // Poisson: the normal is close for a large mean.
        let q = nb_quantile(10_000.0, 10_000.0, 0.9);
        assert!((q - (10_000.0 + 1.2816 * 100.0)).abs() < 3.0, "{q}");
        // Sums that overflowed give the normal's answer, not a panic.
        assert!(nb_quantile(f64::MAX, f64::INFINITY, 0.99).is_infinite());
        assert!(nb_quantile(1e300, 1e300 * 1e300, 0.99) > 0.0);
        // The quantile's definition: cdf(q - 1) < p <= cdf(q).
        let d = NegativeBinomial::new(600.0 * 600.0 / (600.0 * 50.0 - 600.0), 1.0 / 50.0).unwrap();
        let q = nb_quantile(600.0, 600.0 * 50.0, 0.95) as u64;
        assert!(d.cdf(q - 1) < 0.95 && d.cdf(q) >= 0.95);
    }
}
