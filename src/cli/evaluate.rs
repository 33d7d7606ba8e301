//! `skuplan evaluate`: baselines (and a run) scored by rolling-origin
//! backtests, the champion per series.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::args::EvaluateArgs;
use super::{emit, import_setup};
use crate::config::{Config, Paths};
use crate::data::import_paths;
use crate::data::report;
use crate::workspace::Workspace;

pub fn evaluate(args: EvaluateArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use crate::forecast::{backtest, baselines, report as fc_report};

    let ws = Workspace::open(paths.workspace_dir())?;
    let given: Vec<PathBuf> = args.data.iter().cloned().collect();
    let (sources, opts) = import_setup(&given, &args.map, config, &ws)?;
    let imported = match import_paths(&sources, &opts) {
        Ok(i) => i,
        Err(failed) => {
            emit(&report::render(&failed.report))?;
            return Ok(ExitCode::from(1));
        }
    };
    let mut methods = baselines::all_baselines();
    if let Some(names) = &args.methods {
        for n in names {
            if !methods.iter().any(|m| m.name() == n) {
                let known: Vec<&str> = methods.iter().map(|m| m.name()).collect();
                anyhow::bail!("unknown method '{n}'; methods are: {}", known.join(", "));
            }
        }
        methods.retain(|m| names.iter().any(|n| n == m.name()));
    }
    let run = match &args.run {
        Some(dir) => Some(crate::engine::run::load_run(dir, None)?),
        None => None,
    };
    let horizon = args
        .horizon
        .or(run.as_ref().map(|r| r.meta.horizon))
        .unwrap_or(28)
        .max(1);
    let mut origin = args.origin;
    if let Some(r) = &run {
        if let Some(o) = origin
            && o != r.meta.train_end
        {
            anyhow::bail!(
                "--origin {o}: the run learnt up to {}, so it can only be judged from that day",
                r.meta.train_end
            );
        }
        if horizon > r.meta.horizon {
            anyhow::bail!("--horizon {horizon}: the run forecasts {} days", r.meta.horizon);
        }
        origin = Some(r.meta.train_end);
    }
    let spec = backtest::BacktestSpec {
        horizon,
        windows: args.windows.max(1),
        step: args.step.unwrap_or(horizon).max(1),
        origin,
        ..backtest::BacktestSpec::default()
    };
    let mut bt = backtest::run(&imported.dataset, &methods, &spec).map_err(anyhow::Error::msg)?;
    if let Some(r) = &run {
        crate::engine::run::add_to_backtest(r, &imported.dataset, &mut bt)?;
    }
    let champions = bt.champions();
    emit(&fc_report::render(&bt, &champions))?;
    if let Some(dir) = &args.out {
        let mut forecasts = backtest::champion_forecasts(&imported.dataset, &methods, &champions, spec.horizon);
        if let Some(r) = &run {
            // Where the model won, its forecast from the data's last day
            // (it learnt only from days before its train end, so any later
            // origin is honest).
            let model_index = methods.len();
            let last = imported.dataset.date_range().map(|(_, l)| l);
            let won: std::collections::HashSet<(String, String)> = champions
                .final_choice
                .iter()
                .zip(&imported.dataset.demand)
                .filter(|(c, _)| **c == Some(model_index))
                .map(|(_, s)| (s.sku.clone(), s.warehouse.clone()))
                .collect();
            if !won.is_empty() {
                let own = crate::engine::run::forecast(r, &imported.dataset, last)?;
                let own: std::collections::HashMap<(String, String), _> = own
                    .into_iter()
                    .map(|f| ((f.sku.clone(), f.warehouse.clone()), f))
                    .collect();
                for f in &mut forecasts {
                    let key = (f.sku.clone(), f.warehouse.clone());
                    if won.contains(&key)
                        && let Some(m) = own.get(&key)
                    {
                        let n = f.p50.len().min(m.p50.len());
                        *f = m.clone();
                        f.p10.truncate(n);
                        f.p50.truncate(n);
                        f.p90.truncate(n);
                    }
                }
            }
        }
        for p in fc_report::write_outputs(dir, &bt, &champions, &forecasts)? {
            emit(&format!("wrote {}\n", p.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
