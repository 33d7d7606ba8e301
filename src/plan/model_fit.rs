//! What a trained run brings to a plan, and what a plan fits from it on
//! the run's held-out days: the standardised errors behind its
//! safety-stock calibration, its own service levels, and its lumpy lines'
//! mean bias.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::restock::RestockSettings;
use crate::domain::{Dataset, DemandSeries, Product, SeriesForecast};
use crate::forecast::QuantileForecast;

/// What a trained run brings to a plan, as plain data (plan never imports
/// the engine): its forecasts of the days it is judged on, and from the
/// last day of data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelForecasts {
    /// The method's name in tables and on plan lines.
    pub name: String,
    /// The run, as the planner knows it (its folder).
    pub run: String,
    /// The run's train end: the last day it learnt or validated from. It
    /// is judged only on the days after.
    pub held_out_origin: NaiveDate,
    /// Per series, in the data's order: its forecast of the days after
    /// `held_out_origin`.
    pub held_out: Vec<Option<QuantileForecast>>,
    /// Per series, in the data's order: its forecast of the days after the
    /// last day of data (the refit's, or the run's own weights').
    pub future: Vec<Option<SeriesForecast>>,
    /// How `future` was made ("refit up to 2010-11-30, 7 epochs").
    pub future_from: String,
    /// Forecasts by the same weights from later days inside the held-out
    /// days (a week apart: what a plan made on each of those days would
    /// have had), per series in the data's order. They measure the run's
    /// safety stock as its plans would use it; may be empty.
    pub reviews: Vec<(NaiveDate, Vec<Option<QuantileForecast>>)>,
}

/// Standardised errors of the run's held-out forecasts over each line's
/// protection interval (lead time + review period, cut to the held-out
/// days, at least a week), by ABC class.
pub(super) fn model_errors(
    ds: &Dataset,
    settings: &RestockSettings,
    abc: &HashMap<(String, String), super::restock::Abc>,
    origin: NaiveDate,
    forecasts: &[Option<QuantileForecast>],
) -> Vec<(super::restock::Abc, f64)> {
    use super::restock::{Abc, DailyForecast};
    let leads: HashMap<&str, u32> = ds.products.iter().map(|p| (p.sku.as_str(), p.lead_time_days)).collect();
    let mut out = Vec::new();
    for (i, s) in ds.demand.iter().enumerate() {
        let Some(Some(f)) = forecasts.get(i) else { continue };
        let end = s.period.between(s.start, origin);
        if end < 0 {
            continue;
        }
        let from = end as usize + 1;
        // Lumpy lines are stocked from a negative binomial, not from this
        // calibration (as the baselines' calibration leaves them out).
        if lumpy_up_to(s, origin) {
            continue;
        }
        let available = s.values.len().saturating_sub(from).min(f.horizon());
        let lead = leads.get(s.sku.as_str()).copied().unwrap_or(7);
        // As the plan counts it (the lead time in days, the review in
        // periods), cut to the held-out days.
        let protect = super::demand::Span::new(s.period, s.date_at(from), 0, lead, settings.review_days.max(1)).cover;
        let days = protect.min(available as f64);
        if days < 7f64.min(protect) {
            continue;
        }
        let fc = SeriesForecast {
            sku: String::new(),
            warehouse: String::new(),
            start: s.start,
            p10: f.p10.clone(),
            p50: f.p50.clone(),
            p90: f.p90.clone(),
            model: String::new(),
            period: s.period,
        };
        let (mean, sd) = super::demand::sum_stats_part(&DailyForecast::new(&fc), 0, days, settings.error_correlation);
        let Some(actual) = super::demand::part_sum(&s.values, from, days) else {
            continue;
        };
        if sd > 1e-9 {
            let class = abc
                .get(&(s.sku.clone(), s.warehouse.clone()))
                .copied()
                .unwrap_or(Abc::C);
            out.push((class, (actual - mean) / sd));
        }
    }
    out
}

/// Series-review periods with demand a class needs in the replay of the
/// run's held-out days before its level is fitted rather than its target
/// used (about 1.4 points of sampling error at a 98 % target).
const MIN_LEVEL_PERIODS: usize = 100;

/// The run's own service levels (see [`ModelChoice::levels`]): the
/// restock policy replayed over its held-out days on the series it is
/// champion of (ending on the data's last day), with a review every
/// `review_days` from the day after its train end. Each review orders
/// from the run's forecast made that day ([`ModelForecasts::reviews`]),
/// or, where it made none, from its train end's forecast of the same
/// days, with its calibration, at the level being fitted. Only the series
/// that were regular at its train end are replayed: its lumpy lines stock
/// to the baselines' levels whatever this fit says.
pub(super) fn model_levels(
    ds: &Dataset,
    (settings, abc): (&RestockSettings, &HashMap<(String, String), super::restock::Abc>),
    rules: &super::restock::ExternalRules,
    m: &ModelForecasts,
    (chosen, per_series): (&[bool], &[Option<&dyn crate::forecast::Forecaster>]),
    judged_to: NaiveDate,
) -> Option<[Option<f64>; 3]> {
    use super::replay::{ExternalForecasts, fit_external_levels, prepare_with};
    let period = ds.period();
    let (_, last) = ds.date_range()?;
    // With a baseline champion for a review the run made no forecast for;
    // regular (not lumpy) up to its train end.
    let keep: Vec<usize> = (0..ds.demand.len())
        .filter(|&i| {
            chosen.get(i).copied().unwrap_or(false)
                && ds.demand[i].end() == last
                && per_series.get(i).copied().flatten().is_some()
                && !lumpy_up_to(&ds.demand[i], m.held_out_origin)
        })
        .collect();
    if keep.is_empty() {
        return None;
    }
    let review = super::restock::steps(period, settings.review_days.max(1));
    let days = period.between(m.held_out_origin, judged_to).max(0) as usize;
    let fresh: HashMap<NaiveDate, &Vec<Option<QuantileForecast>>> = m.reviews.iter().map(|(d, f)| (*d, f)).collect();
    let by_origin: HashMap<NaiveDate, Vec<Option<QuantileForecast>>> = (0..days)
        .step_by(review)
        .map(|k| {
            let day = period.step(m.held_out_origin, k as i64);
            let made = fresh.get(&day).filter(|f| f.len() == ds.demand.len());
            let of = keep
                .iter()
                .map(|&i| match made {
                    Some(f) => f[i].clone(),
                    None => m.held_out[i].as_ref().map(|f| QuantileForecast {
                        p10: f.p10.get(k..).unwrap_or_default().to_vec(),
                        p50: f.p50.get(k..).unwrap_or_default().to_vec(),
                        p90: f.p90.get(k..).unwrap_or_default().to_vec(),
                    }),
                })
                .collect();
            (day, of)
        })
        .collect();
    let sub = Dataset {
        products: ds.products.clone(),
        demand: keep.iter().map(|&i| ds.demand[i].clone()).collect(),
        ..Dataset::default()
    };
    let external = ExternalForecasts {
        name: m.name.clone(),
        use_for: vec![true; keep.len()],
        by_origin,
        calibration: Some(rules.calibration.clone()),
        levels: [None; 3],
        lumpy_mean: rules.lumpy_mean,
        rejudge_every: None,
    };
    let methods: Vec<&dyn crate::forecast::Forecaster> = keep
        .iter()
        .filter_map(|&i| per_series.get(i).copied().flatten())
        .collect();
    let products: HashMap<&str, &Product> = ds.products.iter().map(|p| (p.sku.as_str(), p)).collect();
    let back = period.between(m.held_out_origin, last).max(0) as usize;
    let until_end = period.between(judged_to, last).max(0) as usize;
    let prepared = prepare_with(
        &sub,
        &methods,
        abc,
        settings,
        &products,
        (back, until_end),
        usize::MAX,
        Some(&external),
    );
    let mut outside = settings.clone();
    outside.calibration = rules.calibration.clone();
    Some(fit_external_levels(
        &sub,
        &prepared,
        settings,
        (&outside, rules.lumpy_mean),
        MIN_LEVEL_PERIODS,
    ))
}

/// Whether a series was lumpy on its history up to `day` (inclusive), as
/// a plan made that day would have judged it.
fn lumpy_up_to(s: &DemandSeries, day: NaiveDate) -> bool {
    let seen = usize::try_from(s.period.between(s.start, day) + 1).unwrap_or(0);
    super::demand::intermittency_up_to(s, seen).is_some()
}

/// Lumpy series of a class the run must win before its Swanson mean's
/// bias there is measured rather than taken as none.
const MIN_LUMPY_SERIES: usize = 30;

/// Per class, actual demand over the run's Swanson mean (the mean its
/// lumpy lines are stocked from, see `restock::with_mean_as_median`) on
/// its held-out days, summed over the series it is champion of that were
/// lumpy up to its train end. On skewed demand the rule's mean from three
/// quantiles falls short of the true one; this takes the shortfall back,
/// as the calibration does for regular lines. None for a class with fewer
/// than `MIN_LUMPY_SERIES` such series.
pub(super) fn lumpy_mean_bias(
    ds: &Dataset,
    abc: &HashMap<(String, String), super::restock::Abc>,
    m: &ModelForecasts,
    chosen: &[bool],
) -> [Option<f64>; 3] {
    use super::restock::{Abc, swanson_mean};
    // Per class: series, actual demand, Swanson mean.
    let mut sums = [(0usize, 0.0f64, 0.0f64); 3];
    for (i, s) in ds.demand.iter().enumerate() {
        let Some(Some(f)) = m.held_out.get(i).filter(|_| chosen.get(i).copied().unwrap_or(false)) else {
            continue;
        };
        let Ok(end) = usize::try_from(s.period.between(s.start, m.held_out_origin)) else {
            continue;
        };
        let from = end + 1;
        if from >= s.values.len() || !lumpy_up_to(s, m.held_out_origin) {
            continue;
        }
        let days = (s.values.len() - from)
            .min(f.p10.len())
            .min(f.p50.len())
            .min(f.p90.len());
        let actual: f64 = s.values[from..from + days].iter().map(|v| v.max(0.0)).sum();
        let mean: f64 = (0..days)
            .map(|t| swanson_mean(f.p10[t], f.p50[t], f.p90[t]).max(f.p50[t]))
            .sum();
        let class = abc
            .get(&(s.sku.clone(), s.warehouse.clone()))
            .copied()
            .unwrap_or(Abc::C) as usize;
        sums[class].0 += 1;
        sums[class].1 += actual;
        sums[class].2 += mean;
    }
    sums.map(|(n, actual, mean)| (n >= MIN_LUMPY_SERIES && mean > 1e-9).then(|| actual / mean))
}
