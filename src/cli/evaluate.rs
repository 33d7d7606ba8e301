//! `skuplan evaluate`: baselines (and a run) scored by rolling-origin
//! backtests, the champion per series.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::args::EvaluateArgs;
use super::{emit, import_setup};
use crate::config::{Config, Paths};
use crate::data::report;
use crate::workspace::Workspace;

pub fn evaluate(args: EvaluateArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use crate::forecast::{backtest, baselines, report as fc_report};

    let ws = Workspace::open(paths.workspace_dir())?;
    let given: Vec<PathBuf> = args.data.iter().cloned().collect();
    let (sources, opts) = import_setup(&given, &args.map, config, &ws)?;
    // Its two files go into --out: not into the data (the next import
    // would read them as data).
    if let Some(dir) = &args.out {
        let mut data = ws.data_paths(None);
        data.extend(sources.iter().cloned());
        for f in ["metrics_by_series.csv", "champion_forecast.csv"] {
            super::check_out(&dir.join(f), &data)?;
        }
    }
    let imported = match ws.import(&sources, &opts) {
        Ok(i) => i,
        Err(failed) => {
            emit(&report::render(&failed.report))?;
            return Ok(ExitCode::from(1));
        }
    };
    let period = imported.dataset.period();
    if args.horizon == Some(0) || args.windows == Some(0) || args.step == Some(0) || args.mase_lag == Some(0) {
        return Err(super::usage(
            "--horizon, --windows, --step and --mase-lag count periods: each must be 1 or more",
        ));
    }
    // An origin outside the data scores nothing: say so rather than print
    // a table of zeros.
    if let (Some(o), Some((first, last))) = (args.origin, imported.dataset.date_range())
        && (o < first || o >= last)
    {
        anyhow::bail!(
            "--origin {o} is outside the data: it runs from {first} to {last}, and the origin is the last day a \
             window learns from, so it must lie on or after {first} and before {last}"
        );
    }
    let mut methods = baselines::baselines_for(period);
    if let Some(names) = &args.methods {
        for n in names {
            if !methods.iter().any(|m| m.name() == n) {
                let known: Vec<&str> = methods.iter().map(|m| m.name()).collect();
                return Err(super::usage(format!(
                    "unknown method '{n}'; methods are: {}",
                    known.join(", ")
                )));
            }
        }
        methods.retain(|m| names.iter().any(|n| n == m.name()));
    }
    let run = match &args.run {
        Some(dir) => {
            let r = crate::engine::run::load_run(dir, None)?;
            crate::engine::protocol::check_data(dir, &r.meta, &imported.dataset)?;
            Some(r)
        }
        None => None,
    };
    let horizon = args
        .horizon
        .or(run.as_ref().map(|r| r.meta.horizon))
        .unwrap_or(period.default_horizon())
        .max(1);
    let mut origin = args.origin;
    if let Some(r) = &run {
        if let Some(o) = origin
            && o != r.meta.train_end
        {
            return Err(super::usage(format!(
                "--origin {o}: the run learnt up to {}, so it can only be judged from that day",
                r.meta.train_end
            )));
        }
        if horizon > r.meta.horizon {
            return Err(super::usage(format!(
                "--horizon {horizon}: the run forecasts {} days",
                r.meta.horizon
            )));
        }
        origin = Some(r.meta.train_end);
    }
    // With a run, every method is scored on the same days: the run's only
    // window, after its train end.
    if let (Some(r), Some(w)) = (&run, args.windows.filter(|w| *w > 1)) {
        anyhow::bail!(
            "--windows {w}: with --run every method is scored on one window, the days after the run's train end \
             ({}), the only days the run did not learn from; leave --windows out",
            r.meta.train_end
        );
    }
    let windows = if run.is_some() {
        1
    } else {
        args.windows.unwrap_or(4).max(1)
    };
    let mut spec = backtest::BacktestSpec {
        horizon,
        windows,
        step: args.step.unwrap_or(horizon).max(1),
        origin,
        mase_lag: args.mase_lag.unwrap_or(period.cycle()).max(1),
        ..backtest::BacktestSpec::for_period(period)
    };
    // Windows that reach back before the data score nothing: a horizon
    // longer than the data is refused rather than printed as a table of
    // zeros (a zero reads as a perfect score), and windows past its start
    // are left out, and said.
    if let (Some((first, last)), None) = (imported.dataset.date_range(), origin) {
        let periods = (period.between(period.floor(first), period.floor(last)) + 1).max(0) as usize;
        if spec.horizon >= periods {
            anyhow::bail!(
                "--horizon {}: the data has {periods} {} ({first} to {last}), and a window needs at least one \
                 before it to learn from; use a horizon under {periods}",
                spec.horizon,
                period.plural()
            );
        }
        let fit = (periods - 1 - spec.horizon) / spec.step + 1;
        if spec.windows > fit {
            emit(&format!(
                "note: {} windows {} {} apart reach back before the data ({first}); scoring the {fit} that fit\n",
                spec.windows,
                spec.step,
                period.plural()
            ))?;
            spec.windows = fit;
        }
    }
    // From a given origin the windows step back: those whose origin lies
    // before the data's first day learn from nothing and scored a row of
    // zeros (a champion at 0.000).
    if let (Some((first, _)), Some(o), None) = (imported.dataset.date_range(), origin, &run) {
        let before = period.between(period.floor(first), period.floor(o)).max(0) as usize;
        let fit = before / spec.step + 1;
        if spec.windows > fit {
            emit(&format!(
                "note: {} windows {} {} apart from --origin {o} reach back before the data ({first}); scoring the \
                 {fit} that fit\n",
                spec.windows,
                spec.step,
                period.plural()
            ))?;
            spec.windows = fit;
        }
    }
    // A window from a late --origin ends at the data's last day: said, as
    // the header counts the horizon ("1 window of 28 days" scored 7).
    if let (Some((_, last)), Some(o)) = (imported.dataset.date_range(), origin) {
        let o = period.floor(o);
        let left = period.between(o, period.floor(last)).max(0) as usize;
        if left < spec.horizon {
            emit(&format!(
                "note: from --origin {o} the data ends after {left} {} ({last}): the latest window scores {left} of \
                 its {}\n",
                period.plural(),
                spec.horizon
            ))?;
        }
    }
    let mut bt = backtest::run(&imported.dataset, &methods, &spec).map_err(anyhow::Error::msg)?;
    if let Some(r) = &run {
        crate::engine::run::add_to_backtest(r, &imported.dataset, &mut bt)?;
    }
    let champions = bt.champions();
    emit(&fc_report::render(&bt, &champions))?;
    if let (Some(r), Some(dir)) = (&run, &args.run) {
        emit(&protocol_table(dir, r, &imported.dataset, horizon)?)?;
    }
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

/// The run as plans use it, judged after the fact: with the data cut at the
/// refit's last day, the plan's champions (baselines only, and with the run
/// judged on the days between its train end and the refit's) forecast the
/// `horizon` days after the cut; so do the refit alone and every baseline.
/// Nothing after the cut decides anything.
fn protocol_table(
    dir: &std::path::Path,
    run: &crate::engine::run::LoadedRun,
    data: &crate::domain::Dataset,
    horizon: usize,
) -> Result<String> {
    use crate::forecast::metrics::Accum;
    use std::collections::HashMap;
    use std::fmt::Write as _;

    let Some(refit) = &run.meta.refit else {
        return Ok(format!(
            "\nno refit in {}: the champion with the run is judged once the run is refit to a later day \
             (`skuplan refit RUN --until DATE`)\n",
            dir.display()
        ));
    };
    let (_, last) = data.date_range().ok_or_else(|| anyhow::anyhow!("no sales history"))?;
    let cut = refit.train_end;
    if cut >= last {
        return Ok(format!(
            "\nthe refit learnt up to {cut}, the last day of this data: no later day to judge the champions on\n"
        ));
    }
    let before = data.up_to(cut);
    let settings = crate::plan::RestockSettings::default();
    let base = crate::plan::base::PlanBase::compute(&before, &settings).map_err(anyhow::Error::msg)?;
    let model = crate::engine::protocol::model_forecasts(dir, &before, None)?;
    let with = base.with_model(&before, &model).map_err(anyhow::Error::msg)?;
    let actual: HashMap<(&str, &str), &[f64]> = data
        .demand
        .iter()
        .filter_map(|s| {
            let from = s.period.between(s.start, cut) + 1;
            (from >= 1 && (from as usize) < s.values.len()).then(|| {
                let from = from as usize;
                (
                    (s.sku.as_str(), s.warehouse.as_str()),
                    &s.values[from..(from + horizon).min(s.values.len())],
                )
            })
        })
        .collect();
    let scales: HashMap<(&str, &str), Option<f64>> = before
        .demand
        .iter()
        .map(|s| {
            (
                (s.sku.as_str(), s.warehouse.as_str()),
                crate::forecast::metrics::mase_scale(&s.values, s.period.cycle()),
            )
        })
        .collect();
    let score = |fs: &[crate::domain::SeriesForecast]| -> Accum {
        let mut acc = Accum::default();
        for f in fs {
            let key = (f.sku.as_str(), f.warehouse.as_str());
            if let Some(a) = actual.get(&key) {
                acc.add(a, &f.p10, &f.p50, &f.p90, scales.get(&key).copied().flatten());
            }
        }
        acc
    };
    let mut rows: Vec<(String, Accum)> = vec![
        ("champions with the run".into(), score(&with.forecasts)),
        ("champions, baselines only".into(), score(&base.forecasts)),
    ];
    let refit_forecasts: Vec<_> = model.future.iter().flatten().cloned().collect();
    rows.push((
        format!("the run alone ({})", model.future_from),
        score(&refit_forecasts),
    ));
    let methods = crate::forecast::baselines::baselines_for(data.period());
    let mut best: Option<(String, Accum)> = None;
    for m in &methods {
        let fs: Vec<_> = before
            .demand
            .iter()
            .filter_map(|s| {
                let f = m.forecast(&s.values, horizon).ok()?;
                Some(crate::domain::SeriesForecast {
                    sku: s.sku.clone(),
                    warehouse: s.warehouse.clone(),
                    start: s.period.step(s.period.floor(cut), 1),
                    p10: f.p10,
                    p50: f.p50,
                    p90: f.p90,
                    model: m.name().to_string(),
                    period: s.period,
                })
            })
            .collect();
        let acc = score(&fs);
        if best.as_ref().is_none_or(|(_, b)| acc.metrics().wql < b.metrics().wql) {
            best = Some((m.name().to_string(), acc));
        }
    }
    if let Some((name, acc)) = best {
        rows.push((format!("best single baseline on these days: {name}"), acc));
    }
    let mut out = String::new();
    let m = with.model.as_ref();
    let _ = writeln!(
        out,
        "\nthe plan's forecasts judged on {}..{} (data cut at {cut}; the run judged on {}; in the plan it is champion \
         of {} of {} series, each weighed against that series' baseline champion, where the champions line above \
         weighs every method at once):",
        cut + chrono::Days::new(1),
        (cut + chrono::Days::new(horizon as u64)).min(last),
        m.map(|m| format!("{}..{}", m.held_out.0, m.held_out.1))
            .unwrap_or_default(),
        m.map_or(0, |m| m.wins()),
        before.demand.len()
    );
    let _ = writeln!(
        out,
        "{:<58} {:>6} {:>6} {:>6} {:>6}",
        "forecast", "WAPE", "MASE", "wQL", "cov%"
    );
    for (name, acc) in rows {
        let x = acc.metrics();
        let _ = writeln!(
            out,
            "{name:<58} {:>6.3} {:>6.3} {:>6.3} {:>6.1}",
            x.wape,
            x.mase,
            x.wql,
            100.0 * x.coverage
        );
    }
    Ok(out)
}
