//! The plan's base: the slow half of planning (backtest, champions, their
//! forecasts, the calibration, the fitted service levels), computed once and
//! cached, and the fast half that turns it into a plan with a scenario's
//! overrides. It sits on top of restock, scenario and simulate.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::calibration::{calibrate, seasonal_origins};
pub use super::model_fit::ModelForecasts;
use super::model_fit::{lumpy_mean_bias, model_errors, model_levels};
use super::restock::{Adjustments, Calibration, RestockPlan, RestockSettings, abc_classes, build_plan};
use super::scenario::Scenario;
use super::simulate;
use crate::domain::{Dataset, Product, SeriesForecast};
use crate::forecast::backtest::CHAMPION_MARGIN;
use crate::forecast::launch::{LaunchForecast, Launches};
use crate::forecast::metrics::{Accum, mase_scale};
use chrono::NaiveDate;

/// The whole planning run on a data set: backtest the baselines on two
/// 28-day windows, forecast each series with its champion, measure the
/// calibration on the same champions' past errors, apply the scenario's
/// overrides, and build the plan.
pub fn plan_from_data(
    ds: &Dataset,
    scenario: Option<&Scenario>,
    settings: &RestockSettings,
) -> Result<RestockPlan, String> {
    let base = PlanBase::compute(ds, settings)?;
    Ok(base.plan(ds, scenario))
}

/// Days replayed to fit the service levels of a plan, and the most series
/// per class replayed: a sample keeps 10,000 SKUs quick, and 50 series
/// give over a thousand review cycles per class (on the sample data the
/// levels moved by at most a point against 300 series).
const LEVEL_DAYS: usize = 182;
const LEVEL_SAMPLE: usize = 50;

/// The build of skuplan, for cache keys: its version, size and modification
/// time (a rebuilt binary may forecast differently).
pub fn hash_build(h: &mut impl std::hash::Hasher) {
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    if let Some(m) = std::env::current_exe().ok().and_then(|p| std::fs::metadata(p).ok()) {
        h.write_u64(m.len());
        if let Some(t) = crate::fsio::modified_nanos(&m) {
            h.write_u128(t);
        }
    }
}

/// What forecasts read of a data set, for cache keys: every series' demand,
/// period and promotions, the products and the warehouses (their names are
/// in the model's texts), and the known events (the model's features).
pub fn hash_data(h: &mut impl std::hash::Hasher, ds: &Dataset) {
    for s in &ds.demand {
        h.write(s.sku.as_bytes());
        h.write_u8(0);
        h.write(s.warehouse.as_bytes());
        h.write_u8(0);
        h.write(s.start.to_string().as_bytes());
        h.write(format!("{:?}", s.period).as_bytes());
        h.write_usize(s.values.len());
        for v in &s.values {
            h.write_u64(v.to_bits());
        }
        if let Some(p) = &s.promo {
            h.write_usize(p.iter().filter(|x| **x).count());
            for (i, x) in p.iter().enumerate() {
                if *x {
                    h.write_usize(i);
                }
            }
        }
    }
    h.write(&serde_json::to_vec(&ds.products).unwrap_or_default());
    h.write(&serde_json::to_vec(&ds.warehouses).unwrap_or_default());
    h.write(&serde_json::to_vec(&ds.events).unwrap_or_default());
}

/// Periods each plan forecast covers: the longest lead time plus the
/// review period, in the data's periods, and at least 28 days' worth.
fn plan_horizon(ds: &Dataset, settings: &RestockSettings) -> usize {
    use super::restock::steps;
    let p = ds.period();
    let longest = ds.products.iter().map(|p| p.lead_time_days).max().unwrap_or(7);
    // A first period partly sold already moves the order day into it, and
    // the lead time counts from there: one period more to cover. Months
    // count the lead time on the calendar, which average months can fall
    // a month short of (60 days from 1 February end in April).
    let partly_sold = usize::from(!ds.sold_until.is_empty());
    let calendar = usize::from(matches!(p, crate::domain::Period::Month(_)));
    (steps(p, longest) + steps(p, settings.review_days.max(1)) + partly_sold + calendar).max(p.from_days(28))
}

/// The slow half of planning (backtest, champions, their forecasts, the
/// calibration, the fitted service levels), kept so a what-if edit only
/// redoes the fast half.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanBase {
    pub forecasts: Vec<SeriesForecast>,
    pub settings: RestockSettings,
    /// The champions' backtest, for tables of errors per series.
    pub backtest: crate::forecast::backtest::Backtest,
    pub champions: crate::forecast::backtest::Champions,
    /// The calibration (not part of the settings' own serde form).
    #[serde(default)]
    pub calibration: Calibration,
    /// Where a trained run joined the champions ([`PlanBase::with_model`]);
    /// never cached: the baselines' base is, and the run is added on top.
    #[serde(skip)]
    pub model: Option<ModelChoice>,
    /// Launch forecasts joined by [`PlanBase::with_launches`] (never
    /// cached: they need the encoder).
    #[serde(skip)]
    pub launches: Option<std::sync::Arc<Launches>>,
    /// How the launch forecasts of short histories did against the
    /// champions a horizon back, and so whether they replace them (joined
    /// with the launches).
    #[serde(skip)]
    pub short_histories: Option<ShortHistoryCheck>,
}

/// Series with under four weeks of sales a plan judges launch forecasts on
/// before it uses them: fewer, and the champions are kept.
const SHORT_CHECK_MIN_SERIES: usize = 10;

/// Launch forecasts of short histories against the plan's baseline
/// champions, both made a horizon before the last day of data for the
/// series that had under four weeks of sales then, and scored on the days
/// since. The launch forecasts replace the champions on today's short
/// histories only where they clearly won there (the margin champions need
/// to beat the overall best), on at least `SHORT_CHECK_MIN_SERIES` series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShortHistoryCheck {
    /// The day both forecast from.
    pub origin: NaiveDate,
    pub series: usize,
    pub launch: Accum,
    pub champions: Accum,
    pub use_launch: bool,
}

impl ShortHistoryCheck {
    /// Too few short histories a horizon back to judge on.
    pub fn too_few(&self) -> bool {
        self.series < SHORT_CHECK_MIN_SERIES
    }

    /// One line for `plan restock` and the log.
    pub fn describe(&self) -> String {
        let (l, c) = (self.launch.metrics(), self.champions.metrics());
        let verdict = if self.use_launch {
            "launch forecasts used for today's short histories"
        } else if self.too_few() {
            "too few to judge: champions kept for today's short histories"
        } else {
            "champions kept for today's short histories"
        };
        // Series that sold nothing since leave the loss a share of nothing.
        let sold = self.launch.abs_actual > 0.0;
        let show = |w: f64, pct: bool| match (w.is_finite(), pct) {
            (true, false) if sold => format!("{w:.3}"),
            (true, true) => format!("{:.0} %", 100.0 * w),
            _ => "n/a".to_string(),
        };
        let sold = if sold {
            ""
        } else {
            " (nothing was sold on those days to score by)"
        };
        format!(
            "short histories: on the {} series with under {} days of sales on {}, launch forecasts scored wQL \
             {} (p10..p90 coverage {}) against the champions' {} ({}) over the days since{sold}; {verdict}",
            self.series,
            crate::forecast::launch::SHORT_HISTORY_DAYS,
            self.origin,
            show(l.wql, false),
            show(l.coverage, true),
            show(c.wql, false),
            show(c.coverage, true)
        )
    }
}

/// The run's place among the champions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelChoice {
    pub name: String,
    pub run: String,
    /// First and last day the run and the champions were compared on.
    pub held_out: (NaiveDate, NaiveDate),
    pub future_from: String,
    /// Per series: the run's and the baseline champion's scores on those
    /// days, from the same origin (None where either could not forecast).
    pub scores: Vec<Option<(Accum, Accum)>>,
    /// Per series: the run is its champion.
    pub chosen: Vec<bool>,
    /// The run is better than the baseline champions over all series (the
    /// default a series keeps unless the other clearly wins on it).
    pub better_overall: bool,
    /// Standardised errors behind the run's own safety-stock calibration.
    pub calibration_samples: usize,
    /// Per class (A, B, C), the quantile level its regular lines are
    /// stocked to, fitted on a replay of its held-out days; None where too
    /// few review periods could be replayed. Its lumpy lines stock to the
    /// baselines' levels (see [`super::restock::ExternalRules::level`]).
    #[serde(default)]
    pub levels: [Option<f64>; 3],
    /// Per class, what its lumpy lines' mean is scaled by (see
    /// [`super::restock::ExternalRules::lumpy_mean`]).
    #[serde(default)]
    pub lumpy_mean: [Option<f64>; 3],
}

impl ModelChoice {
    /// Series the run is champion of.
    pub fn wins(&self) -> usize {
        self.chosen.iter().filter(|c| **c).count()
    }

    /// The run's and the baseline champions' scores over all series.
    pub fn totals(&self) -> (Accum, Accum) {
        let (mut m, mut c) = (Accum::default(), Accum::default());
        for (a, b) in self.scores.iter().flatten() {
            m.merge(a);
            c.merge(b);
        }
        (m, c)
    }
}

impl PlanBase {
    /// What `compute` depends on, as a hex string: the demand history, the
    /// products, the settings, and the build of skuplan (its size and
    /// modification time: a rebuilt binary may forecast differently). Two
    /// datasets with the same key give the same PlanBase.
    pub fn key(ds: &Dataset, settings: &RestockSettings) -> String {
        use std::hash::{DefaultHasher, Hasher};
        let mut h = DefaultHasher::new();
        h.write(b"planbase-2");
        hash_build(&mut h);
        h.write(&serde_json::to_vec(settings).unwrap_or_default());
        hash_data(&mut h, ds);
        format!("{:016x}", h.finish())
    }

    pub fn compute(ds: &Dataset, settings: &RestockSettings) -> Result<PlanBase, String> {
        use crate::forecast::backtest::{BacktestSpec, champion_forecasts, run};
        let methods = crate::forecast::baselines::baselines_for(ds.period());
        let clock = std::time::Instant::now();
        let bt = run(ds, &methods, &BacktestSpec::plan_for(ds.period()))?;
        let champions = bt.champions();
        let t_backtest = clock.elapsed();
        let horizon = plan_horizon(ds, settings);
        let forecasts = champion_forecasts(ds, &methods, &champions, horizon);
        let t_forecasts = clock.elapsed();
        let mut settings = settings.clone();
        settings.calibration = calibrate(ds, &settings, seasonal_origins(ds.period(), 0), |i, history, days| {
            let m = champions.final_choice.get(i).copied().flatten().unwrap_or(0);
            methods[m].forecast(history, days).ok()
        });
        // Service levels fitted on a replay of the coming half-year's weeks
        // one year ago (the season's forecast bias included), on up to
        // LEVEL_SAMPLE series per class; the last half-year when no series
        // goes back that far.
        let t_calibration = clock.elapsed();
        let per_series: Vec<&dyn crate::forecast::baselines::Forecaster> = (0..ds.demand.len())
            .map(|i| methods[champions.final_choice.get(i).copied().flatten().unwrap_or(0)].as_ref())
            .collect();
        let products: HashMap<&str, &Product> = ds.products.iter().map(|p| (p.sku.as_str(), p)).collect();
        let abc = abc_classes(ds, settings.abc_cuts);
        let prepare = |back: usize, until_end: usize| {
            simulate::prepare_all(
                ds,
                &per_series,
                &abc,
                &settings,
                &products,
                back,
                until_end,
                LEVEL_SAMPLE,
            )
        };
        let (year, level) = (ds.period().year(), ds.period().from_days(LEVEL_DAYS));
        let mut prepared = prepare(year, year - level);
        let mut recent = None;
        if prepared.is_empty() {
            prepared = prepare(level, 0);
            recent = Some(LEVEL_DAYS);
        }
        let t_replays = clock.elapsed();
        if !prepared.is_empty() {
            settings.levels = Some(simulate::fit_service_levels(ds, &prepared, &settings));
            settings.levels_on_recent_days = recent;
        }
        tracing::info!(
            backtest = ?t_backtest,
            forecasts = ?(t_forecasts - t_backtest),
            calibration = ?(t_calibration - t_forecasts),
            level_replays = ?(t_replays - t_calibration),
            level_fit = ?(clock.elapsed() - t_replays),
            "baselines for the plan computed"
        );
        Ok(PlanBase {
            forecasts,
            calibration: settings.calibration.clone(),
            settings,
            backtest: bt,
            champions,
            model: None,
            launches: None,
            short_histories: None,
        })
    }

    /// The baselines' champions alone: the plan's backtest, without the
    /// forecasts, the calibration or the fitted levels. Enough to judge a
    /// run beside them ([`PlanBase::with_model`]).
    pub fn champions_only(ds: &Dataset, settings: &RestockSettings) -> Result<PlanBase, String> {
        use crate::forecast::backtest::{BacktestSpec, run};
        let bt = run(
            ds,
            &crate::forecast::baselines::baselines_for(ds.period()),
            &BacktestSpec::plan_for(ds.period()),
        )?;
        let champions = bt.champions();
        Ok(PlanBase {
            forecasts: Vec::new(),
            settings: settings.clone(),
            backtest: bt,
            champions,
            calibration: Calibration::default(),
            model: None,
            launches: None,
            short_histories: None,
        })
    }

    /// A provisional base in a fraction of the time: every series
    /// forecast by its 28-day moving average, safety stock from the normal
    /// distribution at the targets, no calibration or fitted levels. The
    /// workstation shows it while [`PlanBase::compute`] runs.
    pub fn quick(ds: &Dataset, settings: &RestockSettings) -> Result<PlanBase, String> {
        use crate::forecast::backtest::{BacktestSpec, champion_forecasts, run};
        // The moving average of the data's period (28 days, 4 weeks, 3 months).
        let methods: Vec<Box<dyn crate::forecast::baselines::Forecaster>> =
            crate::forecast::baselines::baselines_for(ds.period())
                .into_iter()
                .filter(|m| m.name().starts_with("ma"))
                .take(1)
                .collect();
        let spec = BacktestSpec {
            windows: 1,
            ..BacktestSpec::plan_for(ds.period())
        };
        let bt = run(ds, &methods, &spec)?;
        let champions = bt.champions();
        let horizon = plan_horizon(ds, settings);
        let forecasts = champion_forecasts(ds, &methods, &champions, horizon);
        Ok(PlanBase {
            forecasts,
            calibration: Calibration::default(),
            settings: settings.clone(),
            backtest: bt,
            champions,
            model: None,
            launches: None,
            short_histories: None,
        })
    }

    /// This base with a trained run among the champions: the run and each
    /// series' baseline champion forecast the same held-out days (after the
    /// run's train end) from the same origin; the run becomes the series'
    /// champion under the rule [`Backtest::champions`] uses (the better of
    /// the two over all series is the default, and a series keeps the
    /// other only where it errs less than `CHAMPION_MARGIN` times as much
    /// there). Where the run is champion its future forecast replaces the
    /// baseline's, and its safety stock comes from its own errors on the
    /// held-out days. `self` is left as it was: the baselines' plan.
    ///
    /// [`Backtest::champions`]: crate::forecast::backtest::Backtest::champions
    pub fn with_model(&self, ds: &Dataset, m: &ModelForecasts) -> Result<PlanBase, String> {
        use rayon::prelude::*;
        let n = ds.demand.len();
        if m.held_out.len() != n || m.future.len() != n {
            return Err(format!(
                "the run's forecasts cover {} series, the data has {n}",
                m.held_out.len()
            ));
        }
        let (_, last) = ds.date_range().ok_or("the data has no sales history")?;
        if m.held_out_origin >= last {
            return Err(format!(
                "the run learnt up to {} and the data ends on {last}: there is no day after its train end to judge \
                 it on (train it up to an earlier day; the workstation and `skuplan train` hold the last 28 days out \
                 and refit)",
                m.held_out_origin
            ));
        }
        let horizon = m.held_out.iter().flatten().map(|f| f.horizon()).max().unwrap_or(0);
        if horizon == 0 {
            return Err("the run forecast none of these series".into());
        }
        let period = ds.period();
        let origin = period.floor(m.held_out_origin);
        let judged_to = period.step(origin, horizon as i64).min(last);
        let methods = self.baseline_methods(period);
        // Both forecasts of each series from the held-out origin, scored
        // on the same days.
        let scores: Vec<Option<(Accum, Accum)>> = ds
            .demand
            .par_iter()
            .enumerate()
            .map(|(i, s)| {
                let model = m.held_out[i].as_ref()?;
                let champion = self.champions.final_choice.get(i).copied().flatten()?;
                let method = methods.get(champion)?.as_ref()?;
                let end = s.period.between(s.start, m.held_out_origin);
                if end < 0 || end as usize + 1 >= s.values.len() {
                    return None;
                }
                let end = end as usize;
                let history = &s.values[..=end];
                let actual = &s.values[end + 1..(end + 1 + model.horizon()).min(s.values.len())];
                let base = method.forecast(history, actual.len()).ok()?;
                let scale = mase_scale(history, self.backtest.spec.mase_lag);
                let (mut a, mut b) = (Accum::default(), Accum::default());
                a.add(actual, &model.p10, &model.p50, &model.p90, scale);
                b.add(actual, &base.p10, &base.p50, &base.p90, scale);
                (a.points > 0 && b.points > 0).then_some((a, b))
            })
            .collect();
        let (mut total_m, mut total_c) = (0.0, 0.0);
        for (a, b) in scores.iter().flatten() {
            total_m += a.abs_err;
            total_c += b.abs_err;
        }
        let better_overall = total_m < total_c;
        let chosen: Vec<bool> = scores
            .iter()
            .zip(&m.future)
            .map(|(sc, fut)| match (sc, fut) {
                (Some((a, b)), Some(_)) => {
                    if better_overall {
                        b.abs_err >= CHAMPION_MARGIN * a.abs_err
                    } else {
                        a.abs_err < CHAMPION_MARGIN * b.abs_err
                    }
                }
                _ => false,
            })
            .collect();

        let mut out = self.clone();
        let origin_window = self.backtest.origins.iter().position(|o| *o == m.held_out_origin);
        out.backtest.add_external(ds, &m.name, |i, w| {
            (Some(w) == origin_window).then(|| m.held_out[i].clone()).flatten()
        });
        let model_index = out.backtest.methods.len() - 1;
        for (i, c) in chosen.iter().enumerate() {
            if *c && let Some(slot) = out.champions.final_choice.get_mut(i) {
                *slot = Some(model_index);
            }
        }
        let position: HashMap<(&str, &str), usize> = out
            .forecasts
            .iter()
            .enumerate()
            .map(|(k, f)| ((f.sku.as_str(), f.warehouse.as_str()), k))
            .collect();
        let mut replace: Vec<(Option<usize>, SeriesForecast)> = Vec::new();
        for (i, s) in ds.demand.iter().enumerate() {
            if let (true, Some(f)) = (chosen[i], &m.future[i]) {
                let mut f = f.clone();
                f.model = m.name.clone();
                replace.push((position.get(&(s.sku.as_str(), s.warehouse.as_str())).copied(), f));
            }
        }
        for (k, f) in replace {
            match k {
                Some(k) => out.forecasts[k] = f,
                None => out.forecasts.push(f),
            }
        }
        // The run's own calibration: its standardised errors over each
        // line's protection interval on the held-out days (cut to the days
        // there are), which it never learnt from, from the train end and
        // from each later review it forecast from.
        let abc = abc_classes(ds, self.settings.abc_cuts);
        let mut errors = model_errors(ds, &self.settings, &abc, m.held_out_origin, &m.held_out);
        for (day, f) in &m.reviews {
            if f.len() == n {
                errors.extend(model_errors(ds, &self.settings, &abc, *day, f));
            }
        }
        let calibration = Calibration::from_class_errors(errors);
        let samples = calibration.samples();
        let mut rules = super::restock::ExternalRules {
            name: m.name.clone(),
            calibration,
            levels: [None; 3],
            lumpy_mean: lumpy_mean_bias(ds, &abc, m, &chosen),
        };
        let per_series: Vec<Option<&dyn crate::forecast::Forecaster>> = (0..n)
            .map(|i| {
                let c = self.champions.final_choice.get(i).copied().flatten()?;
                methods.get(c)?.as_deref()
            })
            .collect();
        rules.levels =
            model_levels(ds, (&self.settings, &abc), &rules, m, (&chosen, &per_series), judged_to).unwrap_or_default();
        let (levels, lumpy_mean) = (rules.levels, rules.lumpy_mean);
        out.settings.external = Some(rules);
        out.model = Some(ModelChoice {
            name: m.name.clone(),
            run: m.run.clone(),
            held_out: (period.step(origin, 1), judged_to),
            future_from: m.future_from.clone(),
            scores,
            chosen,
            better_overall,
            calibration_samples: samples,
            levels,
            lumpy_mean,
        });
        Ok(out)
    }

    /// The plan with a scenario's overrides (fast: no forecasting).
    /// Launch lines say so; products no line covers are listed with why.
    pub fn plan(&self, ds: &Dataset, scenario: Option<&Scenario>) -> RestockPlan {
        let (forecasts, adjustments) = match scenario {
            Some(s) => s.apply(&self.forecasts),
            None => (self.forecasts.clone(), Adjustments::new()),
        };
        let mut plan = build_plan(ds, &forecasts, &adjustments, &self.settings);
        if let Some(l) = &self.launches {
            for line in &mut plan.lines {
                if line.method == crate::forecast::launch::METHOD
                    && let Some(f) = l.get(&line.sku, &line.warehouse)
                {
                    line.reasons.insert(0, launch_reason(f));
                }
            }
        }
        plan.not_forecast = crate::forecast::launch::not_forecast(ds, self.launches.as_deref());
        plan
    }

    /// This base with launch forecasts for the products not sold yet, and
    /// for the series with under four weeks of sales where the launch
    /// forecasts of the short histories a horizon back beat the champions
    /// ([`ShortHistoryCheck`]; on online-retail-2010 they erred far more,
    /// on the generated sample less). A series the run is champion of keeps
    /// the run.
    pub fn with_launches(&self, ds: &Dataset, launches: std::sync::Arc<Launches>) -> PlanBase {
        let mut out = self.clone();
        out.short_histories = self.short_history_check(ds, &launches.past_short);
        let use_short = out.short_histories.as_ref().is_some_and(|c| c.use_launch);
        let run_chosen: std::collections::HashSet<(&str, &str)> = match &self.model {
            Some(m) => ds
                .demand
                .iter()
                .zip(&m.chosen)
                .filter(|(_, c)| **c)
                .map(|(s, _)| (s.sku.as_str(), s.warehouse.as_str()))
                .collect(),
            None => Default::default(),
        };
        let position: HashMap<(String, String), usize> = out
            .forecasts
            .iter()
            .enumerate()
            .map(|(k, f)| ((f.sku.clone(), f.warehouse.clone()), k))
            .collect();
        for l in launches.forecasts.iter().filter(|l| {
            l.observed == 0
                || (use_short && !run_chosen.contains(&(l.forecast.sku.as_str(), l.forecast.warehouse.as_str())))
        }) {
            let f = l.forecast.clone();
            match position.get(&(f.sku.clone(), f.warehouse.clone())) {
                Some(&k) => out.forecasts[k] = f,
                None => out.forecasts.push(f),
            }
        }
        out.launches = Some(launches);
        out
    }

    /// The backtest's methods by index (None for one that is not a
    /// baseline, such as a run that joined).
    fn baseline_methods(&self, period: crate::domain::Period) -> Vec<Option<Box<dyn crate::forecast::Forecaster>>> {
        self.backtest
            .methods
            .iter()
            .map(|name| crate::forecast::baselines::baseline_for(period, name))
            .collect()
    }

    /// Score the launch forecasts of past short histories (see
    /// [`Launches::past_short`]) and the baseline champions' forecasts of
    /// the same series from the same day on the days since. None when there
    /// were none.
    fn short_history_check(&self, ds: &Dataset, past: &[LaunchForecast]) -> Option<ShortHistoryCheck> {
        let first = past.first()?;
        let period = first.forecast.period;
        let origin = period.step(first.forecast.start, -1);
        let index = ds.series_index();
        let methods = self.baseline_methods(period);
        let (mut launch, mut champions, mut series) = (Accum::default(), Accum::default(), 0);
        for l in past {
            let f = &l.forecast;
            let Some(&i) = index.get(&(f.sku.as_str(), f.warehouse.as_str())) else {
                continue;
            };
            let s = &ds.demand[i];
            let end = s.period.between(s.start, origin);
            if end < 0 || end as usize + 1 >= s.values.len() {
                continue;
            }
            let end = end as usize;
            let actual = &s.values[end + 1..(end + 1 + f.p50.len()).min(s.values.len())];
            let Some(method) = self
                .champions
                .final_choice
                .get(i)
                .copied()
                .flatten()
                .and_then(|m| methods.get(m)?.as_ref())
            else {
                continue;
            };
            let Ok(base) = method.forecast(&s.values[..=end], actual.len()) else {
                continue;
            };
            launch.add(actual, &f.p10, &f.p50, &f.p90, None);
            champions.add(actual, &base.p10, &base.p50, &base.p90, None);
            series += 1;
        }
        let use_launch = series >= SHORT_CHECK_MIN_SERIES
            && launch.points > 0
            && launch.metrics().wql < CHAMPION_MARGIN * champions.metrics().wql;
        Some(ShortHistoryCheck {
            origin,
            series,
            launch,
            champions,
            use_launch,
        })
    }
}

fn launch_reason(f: &LaunchForecast) -> super::restock::Reason {
    super::restock::Reason::Launch {
        date: f.launch,
        neighbours: f.borrowed_from(),
        recent_sales: f.recent_sales,
        observed: f.observed,
        nearest: f
            .neighbours
            .first()
            .map_or_else(|| "-".to_string(), |n| format!("{} {:.2}", n.title, n.similarity)),
    }
}
