//! The plan's base: the slow half of planning (backtest, champions, their
//! forecasts, the calibration, the fitted service levels), computed once and
//! cached, and the fast half that turns it into a plan with a scenario's
//! overrides. It sits on top of restock, scenario and simulate.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::restock::{
    Adjustments, Calibration, RestockPlan, RestockSettings, abc_classes, build_plan, calibrate, seasonal_origins,
};
use super::scenario::Scenario;
use super::simulate;
use crate::domain::{Dataset, Product, SeriesForecast};

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
        if let Some(m) = std::env::current_exe().ok().and_then(|p| std::fs::metadata(p).ok()) {
            h.write_u64(m.len());
            if let Ok(t) = m
                .modified()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).map_err(std::io::Error::other))
            {
                h.write_u128(t.as_nanos());
            }
        }
        h.write(&serde_json::to_vec(settings).unwrap_or_default());
        for s in &ds.demand {
            h.write(s.sku.as_bytes());
            h.write_u8(0);
            h.write(s.warehouse.as_bytes());
            h.write_u8(0);
            h.write(s.start.to_string().as_bytes());
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
        format!("{:016x}", h.finish())
    }

    pub fn compute(ds: &Dataset, settings: &RestockSettings) -> Result<PlanBase, String> {
        use crate::forecast::backtest::{BacktestSpec, champion_forecasts, run};
        let methods = crate::forecast::all_baselines();
        let spec = BacktestSpec {
            horizon: 28,
            windows: 2,
            step: 28,
            ..BacktestSpec::default()
        };
        let clock = std::time::Instant::now();
        let bt = run(ds, &methods, &spec)?;
        let champions = bt.champions();
        let t_backtest = clock.elapsed();
        let longest = ds.products.iter().map(|p| p.lead_time_days).max().unwrap_or(7);
        let horizon = (longest + settings.review_days).max(28) as usize;
        let forecasts = champion_forecasts(ds, &methods, &champions, horizon);
        let t_forecasts = clock.elapsed();
        let mut settings = settings.clone();
        settings.calibration = calibrate(ds, &settings, seasonal_origins(0), |i, history, days| {
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
        let mut prepared = prepare(364, 364 - LEVEL_DAYS);
        if prepared.is_empty() {
            prepared = prepare(LEVEL_DAYS, 0);
        }
        let t_replays = clock.elapsed();
        if !prepared.is_empty() {
            settings.levels = Some(simulate::fit_service_levels(ds, &prepared, &settings));
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
        })
    }

    /// A provisional base in a fraction of the time: every series
    /// forecast by its 28-day moving average, safety stock from the normal
    /// distribution at the targets, no calibration or fitted levels. The
    /// workstation shows it while [`PlanBase::compute`] runs.
    pub fn quick(ds: &Dataset, settings: &RestockSettings) -> Result<PlanBase, String> {
        use crate::forecast::backtest::{BacktestSpec, champion_forecasts, run};
        let methods: Vec<Box<dyn crate::forecast::baselines::Forecaster>> =
            crate::forecast::baselines::baseline("ma28").into_iter().collect();
        let spec = BacktestSpec {
            horizon: 28,
            windows: 1,
            step: 28,
            ..BacktestSpec::default()
        };
        let bt = run(ds, &methods, &spec)?;
        let champions = bt.champions();
        let longest = ds.products.iter().map(|p| p.lead_time_days).max().unwrap_or(7);
        let horizon = (longest + settings.review_days).max(28) as usize;
        let forecasts = champion_forecasts(ds, &methods, &champions, horizon);
        Ok(PlanBase {
            forecasts,
            calibration: Calibration::default(),
            settings: settings.clone(),
            backtest: bt,
            champions,
        })
    }

    /// The plan with a scenario's overrides (fast: no forecasting).
    pub fn plan(&self, ds: &Dataset, scenario: Option<&Scenario>) -> RestockPlan {
        let (forecasts, adjustments) = match scenario {
            Some(s) => s.apply(&self.forecasts),
            None => (self.forecasts.clone(), Adjustments::new()),
        };
        build_plan(ds, &forecasts, &adjustments, &self.settings)
    }
}
