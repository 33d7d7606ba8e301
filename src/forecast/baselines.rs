//! Classical baselines behind one trait, so the fine-tuned model is always
//! judged against honest simple methods on the planner's own data.
//!
//! The statistical models come from anofox-forecast (pinned exactly in
//! Cargo.toml); this module wraps them, guards against the inputs they
//! refuse (short or all-zero histories), and turns their 80 % intervals into
//! p10 and p90. Small seasonal-naive and Croston implementations of our own
//! live in [`oracle`] and check the crate in tests.

use std::fmt;

use anofox_forecast::models::Forecaster as AnofoxForecaster;
use anofox_forecast::models::baseline::{Naive as AfNaive, SeasonalNaive as AfSeasonalNaive, SimpleMovingAverage};
use anofox_forecast::models::intermittent::{Croston as AfCroston, TSB};
use anofox_forecast::models::theta::Theta as AfTheta;

use crate::domain::Period;

/// Demand quantiles for the days after an origin.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuantileForecast {
    pub p10: Vec<f64>,
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
}

impl QuantileForecast {
    /// Clamp to demand's range and order the quantiles, so p10 <= p50 <= p90
    /// and nothing is negative or NaN, whatever a model produced.
    pub fn tidy(mut self) -> Self {
        let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
        for i in 0..self.p50.len() {
            let mut q = [clean(self.p10[i]), clean(self.p50[i]), clean(self.p90[i])];
            q.sort_by(f64::total_cmp);
            self.p10[i] = q[0];
            self.p50[i] = q[1];
            self.p90[i] = q[2];
        }
        self
    }

    pub fn flat(level: f64, lo: f64, hi: f64, horizon: usize) -> Self {
        QuantileForecast {
            p10: vec![lo; horizon],
            p50: vec![level; horizon],
            p90: vec![hi; horizon],
        }
        .tidy()
    }

    pub fn horizon(&self) -> usize {
        self.p50.len()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("no history to forecast from")]
    NoHistory,
    #[error("{method}: {message}")]
    Model { method: String, message: String },
}

/// A forecasting method: history in, quantiles out. `history` is daily
/// demand up to and including the origin, oldest first, and holds nothing
/// later than the origin.
pub trait Forecaster: Send + Sync {
    /// Short name shown in tables ("snaive7", "ets", ...).
    fn name(&self) -> &str;
    fn forecast(&self, history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError>;
}

impl fmt::Debug for dyn Forecaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Forecaster({})", self.name())
    }
}

/// Every baseline for daily data, in the order tables show them. The first
/// is the reference that forecast value added is measured against.
pub fn all_baselines() -> Vec<Box<dyn Forecaster>> {
    baselines_for(Period::Day)
}

/// Every baseline for data counted in `period`, reference first:
/// - days: seasonal naive a week and a year back, the 28-day mean, ETS and
///   Theta with the week's season, Croston and TSB;
/// - weeks and months: seasonal naive a year back (52 weeks, 12 months)
///   and one period back, the mean of the last 4 weeks or 3 months, ETS and
///   Theta with the year's season, Croston and TSB.
pub fn baselines_for(period: Period) -> Vec<Box<dyn Forecaster>> {
    match period {
        Period::Day => vec![
            Box::new(SeasonalNaive::weekly()),
            Box::new(SeasonalNaive::yearly()),
            Box::new(MovingAverage::new(28)),
            Box::new(Ets::default()),
            Box::new(Theta {
                period: 7,
                window: DAILY_FIT_WINDOW,
            }),
            Box::new(Croston),
            Box::new(Tsb),
        ],
        Period::Week(_) | Period::Month(_) => {
            let year = period.year();
            // Three years: two whole seasons to fit, one to spare.
            let window = 3 * year;
            let mean_of = if year == 52 { 4 } else { 3 };
            vec![
                Box::new(SeasonalNaive::new(year, Some(1))),
                Box::new(SeasonalNaive::new(1, None)),
                Box::new(MovingAverage::new(mean_of)),
                Box::new(Ets { period: year, window }),
                Box::new(Theta { period: year, window }),
                Box::new(Croston),
                Box::new(Tsb),
            ]
        }
    }
}

/// Find a daily baseline by name.
pub fn baseline(name: &str) -> Option<Box<dyn Forecaster>> {
    baseline_for(Period::Day, name)
}

/// Find a baseline for data counted in `period` by name.
pub fn baseline_for(period: Period, name: &str) -> Option<Box<dyn Forecaster>> {
    baselines_for(period).into_iter().find(|m| m.name() == name)
}

/// Days of history the slower models fit on for daily data. A year holds
/// every weekly pattern and the recent level; older data mostly costs time.
const DAILY_FIT_WINDOW: usize = 364;

/// z of the normal distribution at 0.9: p10 and p90 are mean -/+ 1.2816 sd.
const Z90: f64 = 1.281_551_565_545;

/// Fit an anofox model and read its 80 % interval as p10..p90.
fn run_anofox(
    name: &str,
    mut model: impl AnofoxForecaster,
    history: &[f64],
    horizon: usize,
) -> Result<QuantileForecast, ForecastError> {
    let err = |message: String| ForecastError::Model {
        method: name.to_string(),
        message,
    };
    let ts = super::ets::series(history).map_err(err)?;
    model.fit(&ts).map_err(|e| err(e.to_string()))?;
    let f = model
        .predict_with_intervals(horizon, 0.80)
        .map_err(|e| err(e.to_string()))?;
    quantiles_of(name, &f, horizon)
}

/// A fitted anofox model's forecast with its 80 % interval as p10..p90.
pub fn quantiles_of(
    name: &str,
    f: &anofox_forecast::core::Forecast,
    horizon: usize,
) -> Result<QuantileForecast, ForecastError> {
    let p50 = f.primary().to_vec();
    let p10 = f.lower_series(0).map(<[f64]>::to_vec).unwrap_or_else(|_| p50.clone());
    let p90 = f.upper_series(0).map(<[f64]>::to_vec).unwrap_or_else(|_| p50.clone());
    if p50.len() != horizon {
        return Err(ForecastError::Model {
            method: name.to_string(),
            message: format!("gave {} days, expected {horizon}", p50.len()),
        });
    }
    Ok(QuantileForecast { p10, p50, p90 }.tidy())
}

fn tail(history: &[f64], n: usize) -> &[f64] {
    &history[history.len().saturating_sub(n)..]
}

/// Mean and spread of a short history: the fallback for every method that
/// cannot fit yet (new SKUs).
fn fallback(history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
    if history.is_empty() {
        return Err(ForecastError::NoHistory);
    }
    let recent = tail(history, 28);
    let m = recent.iter().sum::<f64>() / recent.len() as f64;
    let sd = (recent.iter().map(|v| (v - m).powi(2)).sum::<f64>() / recent.len() as f64).sqrt();
    Ok(QuantileForecast::flat(m, m - Z90 * sd, m + Z90 * sd, horizon))
}

/// Fit a seasonal model on the last `window` periods of history with `fit`;
/// the recent mean when there are fewer than two seasons, the history is
/// flat, or the fit fails.
fn seasonal_fit(
    period: usize,
    window: usize,
    history: &[f64],
    horizon: usize,
    fit: impl FnOnce(&[f64]) -> Result<QuantileForecast, ForecastError>,
) -> Result<QuantileForecast, ForecastError> {
    let h = tail(history, window);
    if h.len() < 2 * period + 2 || h.iter().all(|v| *v == h[0]) {
        return fallback(history, horizon);
    }
    fit(h).or_else(|_| fallback(history, horizon))
}

/// The value `lag` periods before each forecast period ("same weekday last
/// week" with lag 7 on days, "same week last year" with lag 52 on weeks).
/// Named `snaive` and its lag ("snaive7", "snaive52"), or `naive` at lag 1.
#[derive(Debug, Clone)]
pub struct SeasonalNaive {
    pub lag: usize,
    /// The shorter lag used while the history holds less than one season.
    pub short_lag: Option<usize>,
    name: String,
}

impl SeasonalNaive {
    pub fn new(lag: usize, short_lag: Option<usize>) -> Self {
        let name = if lag == 1 {
            "naive".to_string()
        } else {
            format!("snaive{lag}")
        };
        SeasonalNaive { lag, short_lag, name }
    }

    pub fn weekly() -> Self {
        SeasonalNaive::new(7, None)
    }

    pub fn yearly() -> Self {
        SeasonalNaive::new(364, Some(7))
    }
}

impl Forecaster for SeasonalNaive {
    fn name(&self) -> &str {
        &self.name
    }

    fn forecast(&self, history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
        if history.len() < self.lag.max(2) {
            // Not a full season yet: the shorter lag if possible, else the mean.
            return match self.short_lag {
                Some(short) if history.len() >= short.max(2) => {
                    SeasonalNaive::new(short, None).forecast(history, horizon)
                }
                _ => fallback(history, horizon),
            };
        }
        if self.lag == 1 {
            return run_anofox(&self.name, AfNaive::new(), history, horizon);
        }
        run_anofox(&self.name, AfSeasonalNaive::new(self.lag), history, horizon)
    }
}

/// The mean of the last `window` periods, flat ("ma28": 28 days).
#[derive(Debug, Clone)]
pub struct MovingAverage {
    pub window: usize,
    name: String,
}

impl MovingAverage {
    pub fn new(window: usize) -> Self {
        MovingAverage {
            window,
            name: format!("ma{window}"),
        }
    }
}

impl Forecaster for MovingAverage {
    fn name(&self) -> &str {
        &self.name
    }

    fn forecast(&self, history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
        if history.len() < self.window + 1 {
            return fallback(history, horizon);
        }
        run_anofox(&self.name, SimpleMovingAverage::new(self.window), history, horizon)
    }
}

/// Exponential smoothing with seasonality: ETS(A,N,A), the week's season
/// fitted on the last year of days, or the year's on three years of weeks
/// or months. No trend: a trend extrapolated over a quarter runs away on
/// noisy daily data. The model is anofox's; its parameters and states are
/// estimated by [`super::ets`], about 6 times faster on days than the crate's
/// own fit and hundreds of times on weeks.
#[derive(Debug, Clone)]
pub struct Ets {
    pub period: usize,
    /// Periods of history it fits on.
    pub window: usize,
}

impl Default for Ets {
    fn default() -> Self {
        Ets {
            period: 7,
            window: DAILY_FIT_WINDOW,
        }
    }
}

impl Forecaster for Ets {
    fn name(&self) -> &str {
        "ets"
    }

    fn forecast(&self, history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
        seasonal_fit(self.period, self.window, history, horizon, |h| {
            let f = super::ets::forecast(self.period, h, horizon).map_err(|message| ForecastError::Model {
                method: "ets".to_string(),
                message,
            })?;
            quantiles_of("ets", &f, horizon)
        })
    }
}

/// The Theta method on seasonally adjusted data (decomposed by the week on
/// days, by the year on weeks and months).
#[derive(Debug, Clone)]
pub struct Theta {
    pub period: usize,
    /// Periods of history it fits on.
    pub window: usize,
}

impl Forecaster for Theta {
    fn name(&self) -> &str {
        "theta"
    }

    fn forecast(&self, history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
        seasonal_fit(self.period, self.window, history, horizon, |h| {
            run_anofox("theta", AfTheta::seasonal(self.period), h, horizon)
        })
    }
}

/// Croston's method with the Syntetos-Boylan correction, for intermittent
/// demand: smoothed demand size over smoothed interval, flat.
#[derive(Debug, Clone)]
pub struct Croston;

impl Forecaster for Croston {
    fn name(&self) -> &str {
        "croston"
    }

    fn forecast(&self, history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
        if history.len() < 4 || history.iter().filter(|v| **v > 0.0).count() < 2 {
            return fallback(history, horizon);
        }
        run_anofox("croston", AfCroston::new().sba(), history, horizon)
    }
}

/// Teunter-Syntetos-Babai: smooths the probability of a sale and its size,
/// so the forecast decays when sales stop (Croston's does not).
#[derive(Debug, Clone)]
pub struct Tsb;

impl Forecaster for Tsb {
    fn name(&self) -> &str {
        "tsb"
    }

    fn forecast(&self, history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
        if history.len() < 2 {
            return fallback(history, horizon);
        }
        run_anofox("tsb", TSB::new(), history, horizon)
    }
}

/// Our own small versions of two methods, written from their textbook
/// definitions, to check the crate in tests.
pub mod oracle {
    /// y[n - lag + (h mod lag)] for h = 0..horizon.
    pub fn seasonal_naive(history: &[f64], lag: usize, horizon: usize) -> Option<Vec<f64>> {
        let n = history.len();
        if lag == 0 || n < lag {
            return None;
        }
        Some((0..horizon).map(|h| history[n - lag + h % lag]).collect())
    }

    /// Croston (1972): exponential smoothing of the non-zero demand sizes
    /// and of the intervals between them (an interval counts the days since
    /// the previous sale, the first one from the start of the history), both
    /// started at their first value; forecast size / interval, times
    /// (1 - alpha / 2) with the Syntetos-Boylan correction.
    pub fn croston(history: &[f64], alpha: f64, sba: bool) -> Option<f64> {
        let mut size: Option<f64> = None;
        let mut interval: Option<f64> = None;
        let mut since = 0.0;
        for &v in history {
            since += 1.0;
            if v > 0.0 {
                size = Some(size.map_or(v, |s| alpha * v + (1.0 - alpha) * s));
                interval = Some(interval.map_or(since, |p| alpha * since + (1.0 - alpha) * p));
                since = 0.0;
            }
        }
        let f = size? / interval?;
        Some(if sba { f * (1.0 - alpha / 2.0) } else { f })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly_series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 10.0 + [3.0, 1.0, 0.0, -1.0, -2.0, -3.0, 2.0][i % 7] + ((i * 7919) % 5) as f64 * 0.3)
            .collect()
    }

    #[test]
    fn seasonal_naive_matches_the_oracle() {
        let h = weekly_series(400);
        for lag in [7usize, 364] {
            let ours = oracle::seasonal_naive(&h, lag, 92).unwrap();
            let m = SeasonalNaive::new(lag, None);
            let f = m.forecast(&h, 92).unwrap();
            for (a, b) in ours.iter().zip(&f.p50) {
                assert!((a - b).abs() < 1e-9, "lag {lag}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn croston_matches_the_oracle() {
        let h = [0.0, 0.0, 3.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0, 2.0, 0.0, 0.0, 5.0, 0.0];
        let ours = oracle::croston(&h, 0.1, true).unwrap();
        let f = Croston.forecast(&h, 5).unwrap();
        for v in &f.p50 {
            assert!((v - ours).abs() < 1e-9, "{v} vs {ours}");
        }
        // Hand check of the oracle: sizes 3,1,4,2,5 and intervals 3,2,4,1,3.
        let mut s = 3.0;
        let mut p = 3.0;
        for (z, q) in [(1.0, 2.0), (4.0, 4.0), (2.0, 1.0), (5.0, 3.0)] {
            s = 0.1 * z + 0.9 * s;
            p = 0.1 * q + 0.9 * p;
        }
        assert!((oracle::croston(&h, 0.1, false).unwrap() - s / p).abs() < 1e-12);
    }

    #[test]
    fn every_baseline_survives_awkward_histories() {
        let cases: Vec<Vec<f64>> = vec![
            vec![5.0],
            vec![0.0; 3],
            vec![0.0; 400],
            vec![7.0; 50],
            {
                let mut v = vec![0.0; 60];
                v[10] = 1.0;
                v
            },
            weekly_series(30),
            weekly_series(800),
        ];
        for m in all_baselines() {
            for h in &cases {
                let f = m
                    .forecast(h, 28)
                    .unwrap_or_else(|e| panic!("{} on {} days: {e}", m.name(), h.len()));
                assert_eq!(f.horizon(), 28);
                for i in 0..28 {
                    assert!(f.p10[i] <= f.p50[i] && f.p50[i] <= f.p90[i], "{} crossed", m.name());
                    assert!(f.p10[i] >= 0.0 && f.p90[i].is_finite());
                }
            }
            assert_eq!(m.forecast(&[], 5), Err(ForecastError::NoHistory), "{}", m.name());
        }
    }

    #[test]
    fn seasonal_models_follow_the_week() {
        let h = weekly_series(500);
        for name in ["ets", "theta", "snaive7"] {
            let f = baseline(name).unwrap().forecast(&h, 14).unwrap();
            // Day 500 is weekday 500 % 7 = 3 (pattern -1), day 503 is 6 (+2).
            assert!(f.p50[3] > f.p50[0] + 1.5, "{name}: {:?}", &f.p50[..7]);
        }
    }
}
