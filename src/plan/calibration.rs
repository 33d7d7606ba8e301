//! Measuring a [`Calibration`]: how far past forecasts of the protection
//! interval missed, on origins before the plan (their quantiles set safety
//! stock in place of the normal's z), and which origins to measure on.

use std::collections::HashMap;

use super::demand::{Span, part_sum};
use super::restock::{
    Abc, Calibration, DailyForecast, RestockSettings, abc_classes, intermittency_up_to, sum_stats_part,
};
use crate::domain::{Dataset, Period, SeriesForecast};

/// Measure a [`Calibration`]: for every regular series and each origin
/// that `origins(history length, protection days)` names, forecast the
/// protection interval with `forecast(series, history, days)` from the
/// history before the origin and compare with what happened.
pub fn calibrate<O, F>(ds: &Dataset, settings: &RestockSettings, origins: O, forecast: F) -> Calibration
where
    O: Fn(usize, usize) -> Vec<usize> + Sync,
    F: Fn(usize, &[f64], usize) -> Option<crate::forecast::QuantileForecast> + Sync,
{
    use rayon::prelude::*;
    let leads: HashMap<&str, u32> = ds.products.iter().map(|p| (p.sku.as_str(), p.lead_time_days)).collect();
    let classes = abc_classes(ds, settings.abc_cuts);
    let errors: Vec<(Abc, f64)> = ds
        .demand
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, s)| {
            let lead = leads.get(s.sku.as_str()).copied().unwrap_or(7);
            let review = settings.review_days.max(1);
            let min_history = s.period.from_days(56);
            let class = classes
                .get(&(s.sku.clone(), s.warehouse.clone()))
                .copied()
                .unwrap_or(Abc::C);
            let mut out = Vec::new();
            // The periods a plan made at each origin protects, as the plan
            // counts them (the lead time in days, the review in periods):
            // the same at every origin but for months' lengths.
            let cover_at = |origin: usize| Span::new(s.period, s.date_at(origin), 0, lead, review).cover;
            let protect = cover_at(s.values.len()).ceil() as usize;
            for origin in origins(s.values.len(), protect) {
                if origin < min_history || origin + protect > s.values.len() {
                    continue;
                }
                let cover = cover_at(origin);
                // Only what was known at the origin decides whether the line
                // is regular (intermittent ones use the negative binomial).
                let history = &s.values[..origin];
                if intermittency_up_to(s, origin).is_some() {
                    continue;
                }
                let Some(f) = forecast(i, history, cover.ceil() as usize) else {
                    continue;
                };
                let fc = SeriesForecast {
                    sku: String::new(),
                    warehouse: String::new(),
                    start: s.start,
                    p10: f.p10,
                    p50: f.p50,
                    p90: f.p90,
                    model: String::new(),
                    period: s.period,
                };
                let (mean, sd) = sum_stats_part(&DailyForecast::new(&fc), 0, cover, settings.error_correlation);
                let Some(actual) = part_sum(&s.values, origin, cover) else {
                    continue;
                };
                if sd > 1e-9 {
                    out.push((class, (actual - mean) / sd));
                }
            }
            out
        })
        .collect();
    Calibration::from_class_errors(errors)
}

/// Origins for a calibration that looks `ahead` periods forward from the
/// end of the history: the same weeks one year (364 days, 52 weeks, 12
/// months) earlier, where the history is that long, because a forecast's
/// errors follow the season (a weekly model over-forecasts every autumn);
/// the last 16 weeks otherwise. Origins are 28 days (4 weeks, a month)
/// apart.
pub fn seasonal_origins(period: Period, ahead: usize) -> impl Fn(usize, usize) -> Vec<usize> + Sync {
    let year = period.year();
    let month = period.from_days(28);
    let min = period.from_days(56);
    move |len: usize, protect: usize| -> Vec<usize> {
        let span = ahead.max(month);
        let start_last_year = (len + ahead).checked_sub(year + ahead);
        match start_last_year.filter(|s| *s >= min + month) {
            // From four weeks before the same day last year to the end of
            // the period that will be planned or replayed, a year earlier.
            Some(s) => (0..=span / month + 1).map(|k| s - month + k * month).collect(),
            None => (1..=4).filter_map(|k| len.checked_sub(protect + k * month)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_origins_look_a_year_back() {
        let o = seasonal_origins(Period::Day, 0)(1000, 14);
        assert_eq!(o, vec![1000 - 364 - 28, 1000 - 364, 1000 - 364 + 28]);
        // Less than a year and a bit of history: the last 16 weeks.
        assert_eq!(seasonal_origins(Period::Day, 0)(300, 14), vec![258, 230, 202, 174]);
    }
}
