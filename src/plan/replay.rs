//! The mechanics of a policy replay: each series' window made ready (the
//! forecast the policy had at every review), the day-by-day replay of one
//! series, and the service levels fitted by replaying. `plan::simulate`
//! and `plan::base` sit on top of it.

use std::collections::HashMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::domain::{Dataset, DemandSeries, Product, SeriesForecast};
use crate::forecast::baselines::{Forecaster, QuantileForecast};
use crate::plan::restock::{
    Abc, Calibration, DailyForecast, RestockSettings, ServiceTargets, intermittency_up_to, protection_quantile,
    round_order, with_mean_as_median,
};

/// What one series (or a class of them) went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub series: usize,
    /// Review periods (review to review, and the last, partial one to the
    /// end of the window) that start once the first order could have
    /// arrived and had some demand. A period without demand can neither
    /// meet nor miss it, so it is left out.
    pub periods_with_demand: usize,
    /// Of those, the periods that lost some demand.
    pub periods_stocked_out: usize,
    /// Units demanded and served from stock, on the days counted: from
    /// the day the first order could have arrived (the lead time after
    /// the replay starts), as for the periods above.
    pub demand: f64,
    pub served: f64,
    /// Sum of end-of-day stock, and the days counted (as for `demand`).
    pub stock_days: f64,
    /// Sum of end-of-day stock at the product's unit cost (at its price
    /// where the cost is unknown, 0 where both are).
    pub value_days: f64,
    pub days: usize,
    pub stockout_days: usize,
    pub orders: usize,
    /// Reviews replayed, and those that ordered from external forecasts.
    pub reviews: usize,
    pub external_reviews: usize,
}

impl Outcome {
    pub fn merge(&mut self, o: &Outcome) {
        self.series += o.series;
        self.periods_with_demand += o.periods_with_demand;
        self.periods_stocked_out += o.periods_stocked_out;
        self.demand += o.demand;
        self.served += o.served;
        self.stock_days += o.stock_days;
        self.value_days += o.value_days;
        self.days += o.days;
        self.stockout_days += o.stockout_days;
        self.orders += o.orders;
        self.reviews += o.reviews;
        self.external_reviews += o.external_reviews;
    }

    /// Share of review periods with demand that lost none (NaN when no
    /// period had demand).
    pub fn cycle_service_level(&self) -> f64 {
        1.0 - self.stockout_share()
    }

    /// Share of review periods with demand that lost some (NaN when no
    /// period had demand).
    pub fn stockout_share(&self) -> f64 {
        if self.periods_with_demand == 0 {
            f64::NAN
        } else {
            self.periods_stocked_out as f64 / self.periods_with_demand as f64
        }
    }

    /// Units served from stock over units demanded (1 without demand; NaN
    /// without a day counted: a lead time as long as the replay).
    pub fn fill_rate(&self) -> f64 {
        if self.days == 0 {
            f64::NAN
        } else if self.demand > 0.0 {
            self.served / self.demand
        } else {
            1.0
        }
    }

    /// End-of-day stock in units, per series per day (NaN without a day
    /// counted).
    pub fn average_stock(&self) -> f64 {
        if self.days == 0 {
            f64::NAN
        } else {
            self.stock_days / self.days as f64
        }
    }

    /// End-of-day stock at unit cost, per series per day (NaN without a
    /// day counted).
    pub fn average_value(&self) -> f64 {
        if self.days == 0 {
            f64::NAN
        } else {
            self.value_days / self.days as f64
        }
    }
}

/// Forecasts made outside plan (the fine-tuned model) for a replay.
#[derive(Debug, Clone, Default)]
pub struct ExternalForecasts {
    /// The method's name in tables ("finetuned").
    pub name: String,
    /// Per series (index into ds.demand): true where this method is the series' champion.
    pub use_for: Vec<bool>,
    /// Forecasts by origin date: `by_origin[d][i]` forecasts series i for the days after d
    /// (d is the last day of history it saw). May be shorter than the protection interval
    /// or missing: that review then falls back to the series' baseline champion.
    pub by_origin: HashMap<NaiveDate, Vec<Option<QuantileForecast>>>,
    /// Standardised errors measured on days the method never learnt from, for its
    /// safety stock (see restock::Calibration); None: the baselines' calibration is used.
    pub calibration: Option<Calibration>,
    /// Per class (A, B, C), its regular reviews' level fitted on the same
    /// days ([`fit_external_levels`]); None: the class's target. Its lumpy
    /// reviews stock to the baselines' level (see `ExternalRules::level`).
    pub levels: [Option<f64>; 3],
    /// Per class, the factor its lumpy reviews' Swanson mean is scaled by
    /// (see `ExternalRules::lumpy_mean`; None: 1).
    pub lumpy_mean: [Option<f64>; 3],
    /// Re-judge the method every this many periods of the replay, as a
    /// planner who retrains it that often would have it judged: from then
    /// on its lumpy scale is the one measured on its own forecasts of the
    /// periods just before ([`rejudged_lumpy_means`]). None: the scale
    /// measured before the replay holds throughout.
    pub rejudge_every: Option<usize>,
}

impl ExternalForecasts {
    /// The forecast of series `i` from `origin`, if the method is that
    /// series' choice and forecast at least a week (or the whole `days`,
    /// when shorter): beyond its horizon it is extended with its last
    /// week's average, exactly as a plan line extends it.
    fn get(&self, i: usize, origin: NaiveDate, days: usize) -> Option<&QuantileForecast> {
        if !self.use_for.get(i).copied().unwrap_or(false) {
            return None;
        }
        self.by_origin
            .get(&origin)?
            .get(i)?
            .as_ref()
            .filter(|f| f.p10.len().min(f.p50.len()).min(f.p90.len()) >= days.min(7))
    }
}

/// The replayed window of a series of `len` days that ends `until_end`
/// days before its end and starts `back` days before it: first and
/// one-past-last day, or None when the series has no 28 days of history
/// before the window (such a series is not replayed).
pub fn window(len: usize, back: usize, until_end: usize) -> Option<(usize, usize)> {
    (len > back + 28).then(|| (len - back, len - until_end.min(back)))
}

/// One review of a prepared window.
struct Review {
    day: usize,
    /// The forecast of the protection interval made then, if any.
    forecast: Option<SeriesForecast>,
    intermittency: Option<f64>,
    /// The forecast came from [`ExternalForecasts`].
    external: bool,
}

/// One series made ready for replays: its rules, and at each review of
/// the replayed days the forecast the policy would have had then.
pub struct Prepared {
    /// Index into the data's demand.
    pub series: usize,
    pub class: Abc,
    lead: usize,
    pack: u32,
    moq: u32,
    unit_cost: f64,
    /// First and one-past-last replayed day.
    from: usize,
    to: usize,
    reviews: Vec<Review>,
}

/// Forecast every review of the window that ends `until_end` days before
/// the end of each series and lasts `back - until_end` days; at most `cap`
/// series per class (every k-th, so the sample spans the data).
#[allow(clippy::too_many_arguments)]
pub fn prepare_all(
    ds: &Dataset,
    per_series: &[&dyn Forecaster],
    abc: &HashMap<(String, String), Abc>,
    s: &RestockSettings,
    products: &HashMap<&str, &Product>,
    back: usize,
    until_end: usize,
    cap: usize,
) -> Vec<Prepared> {
    prepare_with(ds, per_series, abc, s, products, (back, until_end), cap, None)
}

/// [`prepare_all`], where series that `external` is used for take its
/// forecast at each review that has one long enough, and their baseline
/// champion's elsewhere.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare_with(
    ds: &Dataset,
    per_series: &[&dyn Forecaster],
    abc: &HashMap<(String, String), Abc>,
    s: &RestockSettings,
    products: &HashMap<&str, &Product>,
    (back, until_end): (usize, usize),
    cap: usize,
    external: Option<&ExternalForecasts>,
) -> Vec<Prepared> {
    let period = ds.period();
    let review = super::restock::steps(period, s.review_days.max(1));
    let class_of = |i: usize| {
        let series = &ds.demand[i];
        abc.get(&(series.sku.clone(), series.warehouse.clone()))
            .copied()
            .unwrap_or(Abc::C)
    };
    let eligible: Vec<usize> = (0..ds.demand.len())
        .filter(|i| window(ds.demand[*i].values.len(), back, until_end).is_some())
        .collect();
    // Every k-th series of each class, up to `cap` of them.
    let mut chosen = Vec::new();
    for class in [Abc::A, Abc::B, Abc::C] {
        let of: Vec<usize> = eligible.iter().copied().filter(|i| class_of(*i) == class).collect();
        let step = of.len().div_ceil(cap.max(1)).max(1);
        chosen.extend(of.into_iter().step_by(step));
    }
    chosen.sort_unstable();
    chosen
        .par_iter()
        .map(|&i| {
            let series = &ds.demand[i];
            let method = per_series[i];
            let p = products.get(series.sku.as_str()).copied();
            let lead = super::restock::steps(period, p.map_or(7, |p| p.lead_time_days));
            let protect = lead + review;
            let (from, to) = window(series.values.len(), back, until_end).unwrap_or_default();
            let reviews = (from..to)
                .step_by(review)
                .map(|t| {
                    let history = &series.values[..t];
                    let made = |f: &QuantileForecast, model: &str| SeriesForecast {
                        sku: series.sku.clone(),
                        warehouse: series.warehouse.clone(),
                        start: series.date_at(t),
                        p10: f.p10[..protect.min(f.p10.len())].to_vec(),
                        p50: f.p50[..protect.min(f.p50.len())].to_vec(),
                        p90: f.p90[..protect.min(f.p90.len())].to_vec(),
                        model: model.to_string(),
                        period: series.period,
                    };
                    // The history is values[..t]: its last day is t - 1.
                    let outside = external.and_then(|e| {
                        let f = e.get(i, series.date_at(t.checked_sub(1)?), protect)?;
                        Some(made(f, &e.name))
                    });
                    let external = outside.is_some();
                    let forecast = outside.or_else(|| {
                        let f = method.forecast(history, protect).ok()?;
                        Some(made(&f, method.name()))
                    });
                    Review {
                        day: t,
                        forecast,
                        intermittency: intermittency_up_to(series, t),
                        external,
                    }
                })
                .collect();
            Prepared {
                series: i,
                class: class_of(i),
                lead,
                pack: p.map_or(1, |p| p.pack_size.max(1)),
                moq: p.map_or(0, |p| p.moq),
                // At cost; at the selling price where the data has no cost (a
                // transactions file gives prices only).
                unit_cost: p
                    .and_then(|p| p.unit_cost.or(p.price))
                    .filter(|c| c.is_finite())
                    .unwrap_or(0.0),
                from,
                to,
                reviews,
            }
        })
        .collect()
}

/// The factor an external method's lumpy reviews scale their Swanson mean
/// by over a replay: `fixed` until the first date in `from`, then from each
/// date in `from` on, the factor measured then.
#[derive(Debug, Clone, Copy)]
pub struct LumpyScale<'a> {
    pub fixed: f64,
    pub from: &'a [(NaiveDate, f64)],
}

impl LumpyScale<'_> {
    pub fn fixed(fixed: f64) -> LumpyScale<'static> {
        LumpyScale { fixed, from: &[] }
    }

    fn at(&self, date: NaiveDate) -> f64 {
        self.from
            .iter()
            .rev()
            .find(|(d, _)| *d <= date)
            .map_or(self.fixed, |(_, f)| *f)
    }
}

/// Lumpy review intervals a class needs in a re-judging window before its
/// scale is re-measured rather than kept.
const MIN_REJUDGE_INTERVALS: usize = 100;

/// Per class (A, B, C), an external method's lumpy scale re-measured every
/// `every` periods of the replay: on each such date, actual demand over the
/// Swanson mean of its lumpy reviews (on the series it is used for) whose
/// protection interval ended in the `every` periods before that date, so
/// only demand already seen counts. A class with fewer than
/// `MIN_REJUDGE_INTERVALS` such intervals keeps its previous scale.
pub fn rejudged_lumpy_means(
    ds: &Dataset,
    prepared: &[Prepared],
    external: &ExternalForecasts,
    review: usize,
    every: usize,
) -> [Vec<(NaiveDate, f64)>; 3] {
    let mut out: [Vec<(NaiveDate, f64)>; 3] = Default::default();
    let every = every.max(1);
    // (class, last day of the interval, Swanson mean, actual demand).
    let mut intervals: Vec<(Abc, NaiveDate, f64, f64)> = Vec::new();
    for p in prepared
        .iter()
        .filter(|p| external.use_for.get(p.series).copied().unwrap_or(false))
    {
        let series = &ds.demand[p.series];
        let protect = p.lead + review;
        for r in &p.reviews {
            let Some(fc) = r.forecast.as_ref().filter(|_| r.external && r.intermittency.is_some()) else {
                continue;
            };
            if r.day + protect > p.to {
                continue;
            }
            let unscaled = with_mean_as_median(fc, 1.0);
            let daily = DailyForecast::new(&unscaled);
            let mean: f64 = (0..protect).map(|t| daily.at(t).1).sum();
            let actual: f64 = series.values[r.day..r.day + protect].iter().map(|v| v.max(0.0)).sum();
            intervals.push((p.class, series.date_at(r.day + protect - 1), mean, actual));
        }
    }
    let Some(start) = prepared.iter().map(|p| ds.demand[p.series].date_at(p.from)).min() else {
        return out;
    };
    let Some(end) = intervals.iter().map(|i| i.1).max() else {
        return out;
    };
    let period = ds.period();
    let mut k = 1i64;
    loop {
        let date = period.step(start, k * every as i64);
        if date > end {
            break;
        }
        let after = period.step(date, -(every as i64));
        for class in [Abc::A, Abc::B, Abc::C] {
            let (mut n, mut mean, mut actual) = (0usize, 0.0, 0.0);
            for i in intervals.iter().filter(|i| i.0 == class && i.1 < date && i.1 >= after) {
                n += 1;
                mean += i.2;
                actual += i.3;
            }
            if n >= MIN_REJUDGE_INTERVALS && mean > 1e-9 {
                out[class as usize].push((date, actual / mean));
            }
        }
        k += 1;
    }
    out
}

/// Replay the policy over a prepared window at service level `sl`: order
/// up to S at each review, orders arrive after the lead time, demand that
/// finds no stock is lost.
pub fn replay(series: &DemandSeries, p: &Prepared, sl: f64, s: &RestockSettings) -> Outcome {
    replay_with(series, p, sl, s, (s, None, LumpyScale::fixed(1.0)))
}

/// [`replay`], where the reviews that ordered from external forecasts
/// use the settings `external.0` (its calibration) at level `external.1`
/// where regular (without one, the class's target), and at `sl`, the
/// baselines' level, where lumpy, its lumpy reviews' mean scaled by
/// `external.2` as of the review's date.
pub(crate) fn replay_with(
    series: &DemandSeries,
    p: &Prepared,
    sl: f64,
    s: &RestockSettings,
    (external, external_sl, lumpy_mean): (&RestockSettings, Option<f64>, LumpyScale<'_>),
) -> Outcome {
    let review = super::restock::steps(series.period, s.review_days.max(1));
    let protect = p.lead + review;
    let mut out = Outcome {
        series: 1,
        ..Outcome::default()
    };
    // Orders in the pipeline: (arrival day, quantity).
    let mut pipeline: Vec<(usize, f64)> = Vec::new();
    let mut on_hand: Option<f64> = None;
    // The review period under way: its first day, whether it had demand,
    // whether it lost some.
    let mut period: Option<(usize, bool, bool)> = None;
    // A period counts once the first order could have arrived when it starts.
    let close = |period: Option<(usize, bool, bool)>, out: &mut Outcome| {
        if let Some((start, demand, lost)) = period
            && start - p.from >= p.lead
            && demand
        {
            out.periods_with_demand += 1;
            out.periods_stocked_out += usize::from(lost);
        }
    };
    let mut next_review = p.reviews.iter().peekable();
    for t in p.from..p.to {
        if let Some(r) = next_review.next_if(|r| r.day == t) {
            close(period.take(), &mut out);
            period = Some((t, false, false));
            out.reviews += 1;
            if let Some(fc) = &r.forecast {
                out.external_reviews += usize::from(r.external);
                // As on plan lines: an external method's regular lines stock
                // from its quantiles and its own calibration to its own level
                // (the baselines' levels correct their errors, not its), its
                // lumpy lines as the baselines' are, from its scaled mean, at
                // the baselines' level (see `ExternalRules::level`).
                let lumpy;
                let (fc, rules, q) = match (r.external, r.intermittency) {
                    (true, None) => (fc, external, external_sl.unwrap_or_else(|| s.target(p.class))),
                    (true, Some(_)) => {
                        lumpy = with_mean_as_median(fc, lumpy_mean.at(series.date_at(r.day)));
                        (&lumpy, s, sl)
                    }
                    (false, _) => (fc, s, sl),
                };
                let (_, level) =
                    protection_quantile(&DailyForecast::new(fc), 0, protect, q, p.class, rules, r.intermittency);
                // Start the replay in steady state: stock at S.
                let stock = *on_hand.get_or_insert(level);
                let position = stock + pipeline.iter().map(|o| o.1).sum::<f64>();
                let q = round_order(level - position, p.moq, p.pack);
                if q > 0 {
                    pipeline.push((t + p.lead, f64::from(q)));
                    out.orders += 1;
                }
            }
        }
        let mut stock = on_hand.unwrap_or(0.0);
        pipeline.retain(|(day, q)| {
            if *day <= t {
                stock += q;
                false
            } else {
                true
            }
        });
        let demand = series.values[t].max(0.0);
        let served = demand.min(stock);
        stock -= served;
        let lost = demand - served > 1e-9;
        if let Some((_, had_demand, had_loss)) = &mut period {
            *had_demand |= demand > 0.0;
            *had_loss |= lost;
        }
        // The replay starts with S on hand and nothing on order, so until
        // the first order can arrive it sells from a stock no policy holds
        // (a 38-day lead: 45 days' worth, drained for 38 days). Fill and
        // stock count from then on, the days cycle service counts: over
        // the whole window a long lead's average stock came out 3 to 6
        // times the policy's.
        if t - p.from >= p.lead {
            out.demand += demand;
            out.served += served;
            out.stockout_days += usize::from(lost);
            out.stock_days += stock;
            out.value_days += stock * p.unit_cost;
            out.days += 1;
        }
        on_hand = Some(stock);
    }
    // The last, partial period: from the last review to the window's end.
    close(period, &mut out);
    out
}

/// Per class, the quantile level whose replay over `prepared` comes
/// closest to the class's target cycle service level: a bisection between
/// 0.50 and 0.999 (service rises with the level), keeping the closest of
/// the levels tried (the higher on a tie). A class without a replayed
/// review period with demand keeps its target.
pub fn fit_service_levels(ds: &Dataset, prepared: &[Prepared], s: &RestockSettings) -> ServiceTargets {
    let [a, b, c] = fit_levels(prepared, s, (1, [0.999; 3]), |p, level| {
        replay(&ds.demand[p.series], p, level, s)
    });
    ServiceTargets {
        a: a.unwrap_or(s.service.a),
        b: b.unwrap_or(s.service.b),
        c: c.unwrap_or(s.service.c),
    }
}

/// [`fit_service_levels`] for an external method's regular reviews
/// (`external`: its calibration): the baselines' reviews and its lumpy
/// ones keep `s`'s levels, and only its own level is fitted, no higher
/// than its calibration supports ([`Calibration::supported_level`]). A
/// class with fewer than `min_periods` replayed review periods with demand
/// gets None: a level fitted on a handful of periods is noise.
pub fn fit_external_levels(
    ds: &Dataset,
    prepared: &[Prepared],
    s: &RestockSettings,
    (external, lumpy_mean): (&RestockSettings, [Option<f64>; 3]),
    min_periods: usize,
) -> [Option<f64>; 3] {
    let top = [Abc::A, Abc::B, Abc::C].map(|c| external.calibration.supported_level(c));
    fit_levels(prepared, s, (min_periods, top), |p, level| {
        let scale = lumpy_mean[p.class as usize].unwrap_or(1.0);
        replay_with(
            &ds.demand[p.series],
            p,
            s.level(p.class),
            s,
            (external, Some(level), LumpyScale::fixed(scale)),
        )
    })
}

/// Per class (A, B, C), the level whose replay (`replay_at(series,
/// level)`, summed over the class's prepared series) comes closest to the
/// class's target cycle service level, by bisection between 0.50 and the
/// class's `top` (at most 0.999); None for a class with fewer than
/// `min_periods` review periods with demand.
fn fit_levels<R>(
    prepared: &[Prepared],
    s: &RestockSettings,
    (min_periods, top): (usize, [f64; 3]),
    replay_at: R,
) -> [Option<f64>; 3]
where
    R: Fn(&Prepared, f64) -> Outcome + Sync,
{
    let fit = |class: Abc| -> Option<f64> {
        let target = s.target(class);
        let of: Vec<&Prepared> = prepared.iter().filter(|p| p.class == class).collect();
        let replayed = |level: f64| -> Outcome {
            of.par_iter()
                .map(|p| replay_at(p, level))
                .reduce(Outcome::default, |mut a, b| {
                    a.merge(&b);
                    a
                })
        };
        if min_periods > 1 && replayed(target).periods_with_demand < min_periods {
            return None;
        }
        let achieved = |level: f64| -> f64 { replayed(level).cycle_service_level() };
        let (mut lo, mut hi) = (0.50, top[class as usize].clamp(0.50, 0.999));
        let mut best: Option<(f64, f64)> = None;
        let mut consider = |level: f64, csl: f64| {
            let closer = best.is_none_or(|(l, c)| {
                let (d, bd) = ((csl - target).abs(), (c - target).abs());
                d < bd - 1e-12 || ((d - bd).abs() <= 1e-12 && level > l)
            });
            if closer {
                best = Some((level, csl));
            }
        };
        for level in [lo, hi] {
            let csl = achieved(level);
            if !csl.is_finite() {
                return None;
            }
            consider(level, csl);
        }
        for _ in 0..9 {
            let mid = (lo + hi) / 2.0;
            let csl = achieved(mid);
            consider(mid, csl);
            if csl < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        best.map(|(l, _)| (l * 1000.0).round() / 1000.0)
    };
    [fit(Abc::A), fit(Abc::B), fit(Abc::C)]
}
