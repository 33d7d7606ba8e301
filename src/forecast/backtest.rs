//! Rolling-origin backtests: each method forecasts every series from several
//! past origins, seeing only the history up to each origin, and is scored on
//! what happened next. The champion of each series is chosen on earlier
//! windows than the one it is judged on.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{Dataset, DemandSeries, Period, SeriesForecast};
use crate::forecast::baselines::{ForecastError, Forecaster, QuantileForecast};
use crate::forecast::metrics::{Accum, Metrics, mase_scale};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestSpec {
    /// Periods (days, weeks or months: the data's own) forecast from each
    /// origin.
    pub horizon: usize,
    pub windows: usize,
    /// Periods between two origins.
    pub step: usize,
    /// The last day the latest window may learn from (the last period
    /// stamped on or before it). By default the last period of the data
    /// minus the horizon, so its actuals are complete.
    pub origin: Option<NaiveDate>,
    /// Lag of the MASE scale in periods (7 on days: weekly seasonal
    /// differences; 52 on weeks, 12 on months: yearly ones).
    pub mase_lag: usize,
    /// Series with fewer periods of history than this at an origin count
    /// as new.
    pub new_days: usize,
}

impl Default for BacktestSpec {
    fn default() -> Self {
        BacktestSpec {
            horizon: 28,
            windows: 4,
            step: 28,
            origin: None,
            mase_lag: 7,
            new_days: 90,
        }
    }
}

impl BacktestSpec {
    /// The backtest plans choose their champions by: two 28-day windows
    /// ending on the data's last day.
    pub fn plan() -> Self {
        BacktestSpec {
            horizon: 28,
            windows: 2,
            step: 28,
            ..BacktestSpec::default()
        }
    }

    /// The default backtest for data counted in `period`: four windows of
    /// 28 days, 13 weeks or 6 months, MASE on the period's seasonal lag,
    /// new below 90 days (13 weeks, 3 months) of history.
    pub fn for_period(period: Period) -> Self {
        let h = period.default_horizon();
        BacktestSpec {
            horizon: h,
            step: h,
            mase_lag: period.cycle(),
            new_days: period.from_days(90),
            ..BacktestSpec::default()
        }
    }

    /// [`BacktestSpec::plan`] in `period`: two windows of 28 days, 4 weeks
    /// or 3 months (a short horizon, as restock needs).
    pub fn plan_for(period: Period) -> Self {
        let h = match period {
            Period::Day => 28,
            Period::Week(_) => 4,
            Period::Month(_) => 3,
        };
        BacktestSpec {
            horizon: h,
            windows: 2,
            step: h,
            ..BacktestSpec::for_period(period)
        }
    }
}

/// How a series sells, for tables per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkuClass {
    /// Above the median daily volume, sells most days.
    Fast,
    /// Below the median daily volume, sells most days.
    Slow,
    /// Sells on fewer than about three days in four (ADI > 1.32).
    Intermittent,
    /// Less history than `new_days` at the latest origin.
    New,
}

impl SkuClass {
    pub const ALL: [SkuClass; 4] = [SkuClass::Fast, SkuClass::Slow, SkuClass::Intermittent, SkuClass::New];

    pub fn name(self) -> &'static str {
        match self {
            SkuClass::Fast => "fast",
            SkuClass::Slow => "slow",
            SkuClass::Intermittent => "intermittent",
            SkuClass::New => "new",
        }
    }
}

/// One series in a backtest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesInfo {
    pub sku: String,
    pub warehouse: String,
    pub class: SkuClass,
}

/// Everything a backtest found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Backtest {
    pub spec: BacktestSpec,
    /// What the horizon, steps and scores count.
    #[serde(default)]
    pub period: Period,
    pub methods: Vec<String>,
    /// Origins, earliest first.
    pub origins: Vec<NaiveDate>,
    pub series: Vec<SeriesInfo>,
    /// Scores: `cells[series][method][window]`, `None` when the series had
    /// no history or no actuals at that origin.
    pub cells: Vec<Vec<Vec<Option<Accum>>>>,
    /// Forecasts that failed (method, series, window, message); counted in
    /// the report, the cell stays empty.
    pub failures: Vec<(usize, usize, usize, String)>,
    /// CPU time spent in each method's forecasts, over all threads.
    pub method_time: Vec<Duration>,
    pub wall_time: Duration,
}

/// Which method each series should use, and what choosing that way scored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Champions {
    /// Per series: the method chosen on all windows (for future forecasts).
    pub final_choice: Vec<Option<usize>>,
    /// Per series: scores of the method chosen on earlier windows, on each
    /// later window. Empty when there is only one window.
    pub judged: Vec<Accum>,
}

impl Backtest {
    /// Scores of one method over all series and windows, or one class.
    pub fn total(&self, method: usize, class: Option<SkuClass>) -> Accum {
        let mut acc = Accum::default();
        for (s, info) in self.series.iter().enumerate() {
            if class.is_some_and(|c| c != info.class) {
                continue;
            }
            for c in self.cells[s][method].iter().flatten() {
                acc.merge(c);
            }
        }
        acc
    }

    pub fn series_total(&self, series: usize, method: usize) -> Accum {
        let mut acc = Accum::default();
        for c in self.cells[series][method].iter().flatten() {
            acc.merge(c);
        }
        acc
    }

    /// Pick each series' champion by mean absolute error of p50: for the
    /// score of window k, only windows before k are looked at.
    ///
    /// A series' own best method wins only when it beats the method that is
    /// best over all series by `CHAMPION_MARGIN` on that series; otherwise
    /// the overall best is used. Choosing per series on one or two short
    /// windows mostly chases noise (on the store-item data it scored worse
    /// than the best single method); the margin keeps the choices that are
    /// clearly earned.
    pub fn champions(&self) -> Champions {
        let n_methods = self.methods.len();
        let windows = self.origins.len();
        // mae[s][m][k]: sum of absolute errors and points, window by window.
        let sums = |s: usize, m: usize, k: usize| -> (f64, usize) {
            self.cells[s][m][..k]
                .iter()
                .flatten()
                .fold((0.0, 0), |(e, n), c| (e + c.abs_err, n + c.points))
        };
        let global_best = |k: usize| -> Option<usize> {
            (0..n_methods)
                .filter_map(|m| {
                    let (e, n) = (0..self.series.len())
                        .map(|s| sums(s, m, k))
                        .fold((0.0, 0), |(e, n), (a, b)| (e + a, n + b));
                    (n > 0).then(|| (m, e / n as f64))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(m, _)| m)
        };
        let globals: Vec<Option<usize>> = (0..=windows).map(global_best).collect();
        let choose = |s: usize, k: usize| -> Option<usize> {
            let mae = |m: usize| {
                let (e, n) = sums(s, m, k);
                (n > 0).then(|| e / n as f64)
            };
            let own = (0..n_methods)
                .filter_map(|m| mae(m).map(|v| (m, v)))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            match (own, globals[k].and_then(|g| mae(g).map(|v| (g, v)))) {
                (Some((m, v)), Some((g, gv))) => Some(if v < CHAMPION_MARGIN * gv { m } else { g }),
                (Some((m, _)), None) => Some(m),
                (None, _) => globals[k],
            }
        };
        let mut final_choice = Vec::with_capacity(self.series.len());
        let mut judged = Vec::with_capacity(self.series.len());
        for s in 0..self.series.len() {
            final_choice.push(choose(s, windows));
            let mut acc = Accum::default();
            for k in 1..windows {
                if let Some(m) = choose(s, k)
                    && let Some(c) = &self.cells[s][m][k]
                {
                    acc.merge(c);
                }
            }
            judged.push(acc);
        }
        Champions { final_choice, judged }
    }

    /// Add a method that forecasts outside this module (the fine-tuned
    /// model): `forecast(series, window)` gives its forecast from that
    /// window's origin, or None. Scored exactly like the baselines.
    pub fn add_external(
        &mut self,
        dataset: &Dataset,
        name: &str,
        mut forecast: impl FnMut(usize, usize) -> Option<QuantileForecast>,
    ) {
        let h = self.spec.horizon.max(1);
        for (i, s) in dataset.demand.iter().enumerate().take(self.cells.len()) {
            let mut row = vec![None; self.origins.len()];
            for (w, origin) in self.origins.iter().enumerate() {
                let Some(end) = index_of(s, *origin) else { continue };
                if end + 1 >= s.values.len() {
                    continue;
                }
                let history = &s.values[..=end];
                let actual = &s.values[end + 1..(end + 1 + h).min(s.values.len())];
                let Some(f) = forecast(i, w) else { continue };
                let n = actual.len().min(f.horizon());
                if n == 0 {
                    continue;
                }
                let mut acc = Accum::default();
                acc.add(
                    &actual[..n],
                    &f.p10[..n],
                    &f.p50[..n],
                    &f.p90[..n],
                    mase_scale(history, self.spec.mase_lag),
                );
                row[w] = Some(acc);
            }
            self.cells[i].push(row);
        }
        self.methods.push(name.to_string());
        self.method_time.push(Duration::ZERO);
    }
}

/// A series keeps its own best method only when that method's error on it
/// is below this share of the overall best method's error.
pub const CHAMPION_MARGIN: f64 = 0.9;

/// The index of the period holding `date` in a series, if the series has
/// begun by then.
fn index_of(s: &DemandSeries, date: NaiveDate) -> Option<usize> {
    let d = s.period.between(s.start, date);
    (d >= 0).then_some(d as usize)
}

/// Run every method on every series from every origin.
pub fn run(dataset: &Dataset, methods: &[Box<dyn Forecaster>], spec: &BacktestSpec) -> Result<Backtest, String> {
    let clock = Instant::now();
    let (_, last) = dataset
        .date_range()
        .ok_or("the data has no sales history to backtest")?;
    let h = spec.horizon.max(1);
    let period = dataset.period();
    let latest = period.floor(spec.origin.unwrap_or(period.step(last, -(h as i64))));
    if latest >= last {
        return Err(format!(
            "the origin {latest} leaves no {} to score: the data ends on {last}",
            period.plural()
        ));
    }
    let windows = spec.windows.max(1);
    let origins: Vec<NaiveDate> = (0..windows)
        .rev()
        .map(|k| period.step(latest, -((k * spec.step) as i64)))
        .collect();

    let series = classify(&dataset.demand, latest, spec.new_days);
    let n_methods = methods.len();
    type SeriesOut = (Vec<Vec<Option<Accum>>>, Vec<(usize, usize, String)>, Vec<Duration>);
    let results: Vec<SeriesOut> = dataset
        .demand
        .par_iter()
        .map(|s| {
            let mut cells = vec![vec![None; origins.len()]; n_methods];
            let mut fails = Vec::new();
            let mut times = vec![Duration::ZERO; n_methods];
            for (w, origin) in origins.iter().enumerate() {
                let Some(end) = index_of(s, *origin) else { continue };
                if end + 1 >= s.values.len() {
                    continue;
                }
                // Only days up to the origin are ever handed to a method.
                let history = &s.values[..=end];
                let actual = &s.values[end + 1..(end + 1 + h).min(s.values.len())];
                let scale = mase_scale(history, spec.mase_lag);
                for (m, method) in methods.iter().enumerate() {
                    let t = Instant::now();
                    let f = method.forecast(history, actual.len());
                    times[m] += t.elapsed();
                    match f {
                        Ok(f) => {
                            let mut acc = Accum::default();
                            acc.add(actual, &f.p10, &f.p50, &f.p90, scale);
                            cells[m][w] = Some(acc);
                        }
                        Err(ForecastError::NoHistory) => {}
                        Err(e) => fails.push((m, w, e.to_string())),
                    }
                }
            }
            (cells, fails, times)
        })
        .collect();

    let mut cells = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    let mut method_time = vec![Duration::ZERO; n_methods];
    for (i, (c, f, t)) in results.into_iter().enumerate() {
        cells.push(c);
        failures.extend(f.into_iter().map(|(m, w, e)| (m, i, w, e)));
        for (m, d) in t.into_iter().enumerate() {
            method_time[m] += d;
        }
    }
    Ok(Backtest {
        spec: spec.clone(),
        period,
        methods: methods.iter().map(|m| m.name().to_string()).collect(),
        origins,
        series,
        cells,
        failures,
        method_time,
        wall_time: clock.elapsed(),
    })
}

/// Classes as of `origin`: new, intermittent, then fast and slow split at
/// the median daily volume of the rest.
pub fn classify(demand: &[DemandSeries], origin: NaiveDate, new_days: usize) -> Vec<SeriesInfo> {
    let stats: Vec<(usize, f64, f64)> = demand
        .iter()
        .map(|s| {
            let n = index_of(s, origin).map_or(0, |e| (e + 1).min(s.values.len()));
            let h = &s.values[..n];
            let nonzero = h.iter().filter(|v| **v > 0.0).count();
            let adi = if nonzero == 0 {
                f64::INFINITY
            } else {
                n as f64 / nonzero as f64
            };
            let mean = if n == 0 { 0.0 } else { h.iter().sum::<f64>() / n as f64 };
            (n, adi, mean)
        })
        .collect();
    let mut regular: Vec<f64> = stats
        .iter()
        .filter(|(n, adi, _)| *n >= new_days && *adi <= 1.32)
        .map(|s| s.2)
        .collect();
    regular.sort_by(f64::total_cmp);
    let median = regular.get(regular.len() / 2).copied().unwrap_or(0.0);
    demand
        .iter()
        .zip(stats)
        .map(|(s, (n, adi, mean))| SeriesInfo {
            sku: s.sku.clone(),
            warehouse: s.warehouse.clone(),
            class: if n < new_days {
                SkuClass::New
            } else if adi > 1.32 {
                SkuClass::Intermittent
            } else if mean >= median {
                SkuClass::Fast
            } else {
                SkuClass::Slow
            },
        })
        .collect()
}

/// Forecast the `horizon` days after each series' last day with the method
/// the backtest chose for it (the first method where it chose none, or
/// where it chose an external method such as the fine-tuned model, which
/// forecasts through the engine, not here).
pub fn champion_forecasts(
    dataset: &Dataset,
    methods: &[Box<dyn Forecaster>],
    champions: &Champions,
    horizon: usize,
) -> Vec<SeriesForecast> {
    dataset
        .demand
        .par_iter()
        .zip(champions.final_choice.par_iter())
        .filter_map(|(s, choice)| {
            let m = choice.filter(|m| *m < methods.len()).unwrap_or(0);
            let f = methods[m].forecast(&s.values, horizon).ok()?;
            Some(SeriesForecast {
                sku: s.sku.clone(),
                warehouse: s.warehouse.clone(),
                start: s.period.step(s.end(), 1),
                p10: f.p10,
                p50: f.p50,
                p90: f.p90,
                model: methods[m].name().to_string(),
                period: s.period,
            })
        })
        .collect()
}

/// Forecast value added of `m` against the reference method `r`: the share
/// of the reference's mean absolute error that `m` removes, in percent.
pub fn fva(m: &Metrics, reference: &Metrics) -> f64 {
    if reference.mae > 0.0 {
        100.0 * (reference.mae - m.mae) / reference.mae
    } else {
        f64::NAN
    }
}
