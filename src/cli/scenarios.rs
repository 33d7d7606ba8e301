//! `skuplan scenario ...`: named what-if scenarios, kept apart from the
//! forecast.

use std::process::ExitCode;

use anyhow::Result;

use super::args::ScenarioCommand;
use super::plans::plan_bases;
use super::{emit, load_dataset};
use crate::config::{Config, Paths};
use crate::workspace::Workspace;

pub fn scenario(cmd: ScenarioCommand, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use crate::plan::scenario::{Change, Override, Scenario, compare};

    let ws = Workspace::open(paths.workspace_dir())?;
    // The workstation keeps its what-ifs in a scenario and saves them as
    // they change: a scenario written beside it could be lost.
    let writes = matches!(
        cmd,
        ScenarioCommand::New { .. } | ScenarioCommand::Set(_) | ScenarioCommand::Discard { .. }
    );
    let _lock = if writes { Some(ws.lock()?) } else { None };
    match cmd {
        ScenarioCommand::New { name } => {
            if ws.list_scenarios()?.contains(&name) {
                anyhow::bail!("a scenario called '{name}' exists already");
            }
            ws.save_scenario(&Scenario {
                name: name.clone(),
                overrides: vec![],
            })?;
            emit(&format!("scenario '{name}' created\n"))?;
        }
        ScenarioCommand::Set(a) => {
            let to = a.to.unwrap_or(a.from);
            if to < a.from {
                return Err(super::usage(format!("--to {to} is before --from {}", a.from)));
            }
            let change = match (a.pct, a.qty) {
                (Some(p), _) => Change::Percent(p),
                (None, Some(q)) if q >= 0.0 => Change::Quantity(q),
                _ => return Err(super::usage("give --pct X or --qty N (0 or more)")),
            };
            let o = Override {
                skus: a.sku,
                warehouse: a.warehouse,
                from: a.from,
                to,
                change,
                reason: a.reason,
            };
            o.check().map_err(|e| super::usage(format!("{e}; nothing recorded")))?;
            // The request checked first: a usage error says so whether or
            // not the scenario is there.
            let mut s = ws.load_scenario(&a.name)?;
            emit(&format!("scenario '{}': {}\n", s.name, o.describe()))?;
            // Against the workspace's plan, what the override would miss:
            // kept all the same (the data may change), but said.
            if let Ok(Some(plan)) = ws.load_restock() {
                for sku in o.skus.iter().filter(|k| !plan.lines.iter().any(|l| &l.sku == *k)) {
                    emit(&format!(
                        "note: {sku} has no line in the workspace's plan; nothing changes for it\n"
                    ))?;
                }
                if let Some(w) = o
                    .warehouse
                    .as_ref()
                    .filter(|w| !plan.lines.iter().any(|l| &l.warehouse == *w))
                {
                    emit(&format!(
                        "note: the workspace's plan has no line at {w}; nothing changes there\n"
                    ))?;
                }
                if let Some(w) = &o.warehouse {
                    for sku in o.skus.iter().filter(|k| {
                        plan.lines.iter().any(|l| &l.sku == *k)
                            && !plan.lines.iter().any(|l| &l.sku == *k && &l.warehouse == w)
                    }) {
                        emit(&format!(
                            "note: {sku} has no line at {w}; nothing changes for it there\n"
                        ))?;
                    }
                }
                if o.to < plan.plan_date {
                    emit(&format!(
                        "note: {}..{} ends before the plan's first day ({}); it changes no forecast\n",
                        o.from, o.to, plan.plan_date
                    ))?;
                }
                // The last day the plan looks at (daily plans: the longest
                // line's projection).
                let days = plan
                    .lines
                    .iter()
                    .filter(|l| l.period == crate::domain::Period::Day)
                    .map(|l| l.projected_without.len())
                    .max()
                    .unwrap_or(0);
                if let Some(last) = plan.plan_date.checked_add_days(chrono::Days::new(days as u64))
                    && days > 0
                    && o.from >= last
                {
                    emit(&format!(
                        "note: {}..{} starts after the plan's last day ({}); it changes nothing in this plan\n",
                        o.from,
                        o.to,
                        last - chrono::Days::new(1)
                    ))?;
                }
            }
            s.overrides.push(o);
            ws.save_scenario(&s)?;
        }
        ScenarioCommand::List => {
            for name in ws.list_scenarios()? {
                let s = ws.load_scenario(&name)?;
                emit(&format!("{name:<20} {} override(s)\n", s.overrides.len()))?;
                for o in &s.overrides {
                    let who = if o.skus.is_empty() {
                        "all SKUs".to_string()
                    } else {
                        o.skus.join(",")
                    };
                    let wh = o.warehouse.clone().unwrap_or_else(|| "all warehouses".into());
                    emit(&format!("    {who} @ {wh}: {}\n", o.describe()))?;
                }
            }
        }
        ScenarioCommand::Compare {
            name,
            data,
            map,
            model,
            run,
        } => {
            let s = name.as_deref().map(|n| ws.load_scenario(n)).transpose()?;
            let Some(ds) = load_dataset(data.as_ref(), &map, config, &ws)? else {
                return Ok(ExitCode::from(1));
            };
            let settings = crate::plan::RestockSettings::default();
            // --model compares with the active run even when it is off.
            let run = match (run, model) {
                (Some(r), _) => Some(r),
                (None, true) => ws.load_active_run()?.map(|a| a.run),
                (None, false) => ws.run_in_use()?,
            };
            if model && run.is_none() {
                anyhow::bail!(
                    "no run to compare with: pass --run RUN, or choose one with `skuplan plan restock --run`"
                );
            }
            let (base_b, with) = plan_bases(&ds, &settings, run.as_deref(), &ws)?;
            // Which run the plans used, since it may be the active one.
            match (&run, model, with.is_some()) {
                (Some(r), true, _) => emit(&format!("without and with run {}\n", r.display()))?,
                (Some(r), false, true) => emit(&format!("both plans with run {} among the champions\n", r.display()))?,
                _ => {}
            }
            let (base, what_if, name) = if model {
                let with = with.ok_or_else(|| anyhow::anyhow!("the run could not join the plan"))?;
                (
                    base_b.plan(&ds, s.as_ref()),
                    with.plan(&ds, s.as_ref()),
                    "with model".to_string(),
                )
            } else {
                let b = with.as_ref().unwrap_or(&base_b);
                let n = name.clone().unwrap_or_default();
                (b.plan(&ds, None), b.plan(&ds, s.as_ref()), n)
            };
            let c = compare(&base, &what_if);
            // Sales data alone has no unit costs: no cost row of zeros.
            let cost = if c.base_cost > 0.0 || c.scenario_cost > 0.0 {
                format!(
                    "{:<22} {:>12.2} {:>12.2} {:>+12.2}\n",
                    "order cost",
                    c.base_cost,
                    c.scenario_cost,
                    c.scenario_cost - c.base_cost
                )
            } else {
                format!("{:<22} {:>12} {:>12} {:>12}\n", "order cost", "-", "-", "no costs")
            };
            emit(&format!(
                "{:<22} {:>12} {:>12} {:>12}\n{:<22} {:>12} {:>12} {:>+12}\n{cost}{:<22} {:>12} {:>12} {:>+12}\n",
                "",
                if model { "baselines" } else { "base" },
                name,
                "difference",
                "units ordered",
                c.base_qty,
                c.scenario_qty,
                c.scenario_qty as i64 - c.base_qty as i64,
                "lines short in horizon",
                c.base_stockouts,
                c.scenario_stockouts,
                c.scenario_stockouts as i64 - c.base_stockouts as i64,
            ))?;
            for ((sku, wh), (b, w)) in c.changed.iter().take(20) {
                emit(&format!("  {sku} @ {wh}: {b} -> {w}\n"))?;
            }
            if c.changed.len() > 20 {
                emit(&format!("  ... and {} more lines\n", c.changed.len() - 20))?;
            }
        }
        ScenarioCommand::Discard { name } => {
            ws.discard_scenario(&name)?;
            emit(&format!("scenario '{name}' discarded\n"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
