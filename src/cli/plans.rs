//! Restock plans from the command line: `plan restock`, `approve restock`,
//! `export restock` and `simulate`.

use std::process::ExitCode;

use anyhow::Result;

use super::args::{ApproveArgs, PlanRestockArgs, SimulateArgs};
use super::{emit, load_dataset};
use crate::config::{Config, Paths};
use crate::plan::RestockPlan;
use crate::plan::base::PlanBase;
use crate::workspace::Workspace;
use std::path::PathBuf;

/// The baselines' plan base, and the same with the run among the
/// champions when one is given.
pub fn plan_bases(
    ds: &crate::domain::Dataset,
    settings: &crate::plan::RestockSettings,
    run: Option<&std::path::Path>,
) -> Result<(PlanBase, Option<PlanBase>)> {
    let base = PlanBase::compute(ds, settings).map_err(anyhow::Error::msg)?;
    let Some(run) = run else { return Ok((base, None)) };
    let model = crate::engine::protocol::model_forecasts(run, ds, None)?;
    let with = base
        .with_model(ds, &model)
        .map_err(|e| anyhow::anyhow!("{}: {e}", run.display()))?;
    Ok((base, Some(with)))
}

/// Which run a plan uses: `--run` (made the active run), `--no-run` (the
/// active run switched off), else the active run when it is on.
pub fn chosen_run(ws: &Workspace, run: Option<&std::path::Path>, no_run: bool) -> Result<Option<PathBuf>> {
    use crate::workspace::ActiveRun;
    if let Some(r) = run {
        let r = std::path::absolute(r).unwrap_or_else(|_| r.to_path_buf());
        crate::engine::run::read_meta(&r)?;
        ws.save_active_run(&ActiveRun {
            run: r.clone(),
            on: true,
        })?;
        return Ok(Some(r));
    }
    if no_run {
        if let Some(mut a) = ws.load_active_run()? {
            a.on = false;
            ws.save_active_run(&a)?;
        }
        return Ok(None);
    }
    ws.run_in_use()
}

/// What the run changed, in a few lines.
pub fn describe_model(m: &crate::plan::base::ModelChoice, without: &RestockPlan, with: &RestockPlan) -> String {
    let (a, b) = m.totals();
    let (ma, mb) = (a.metrics(), b.metrics());
    let units = |p: &RestockPlan| p.lines.iter().map(|l| u64::from(l.order_qty)).sum::<u64>();
    format!(
        "run {}: champion of {} of {} series, judged {}..{} (run WAPE {:.3}, wQL {:.3}; baseline champions \
         {:.3}, {:.3});\n  its forecasts: {}\n  plan with the run: {:.2} cost, {} units; baselines only: {:.2}, {} \
         units ({:+.1} % cost)\n",
        m.run,
        m.wins(),
        m.chosen.len(),
        m.held_out.0,
        m.held_out.1,
        ma.wape,
        ma.wql,
        mb.wape,
        mb.wql,
        m.future_from,
        with.total_cost(),
        units(with),
        without.total_cost(),
        units(without),
        if without.total_cost() > 0.0 {
            100.0 * (with.total_cost() - without.total_cost()) / without.total_cost()
        } else {
            0.0
        }
    )
}

pub fn plan_restock(args: PlanRestockArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use crate::plan::approval::replay;
    use crate::plan::export::{restock_rows, write_csv};

    let ws = Workspace::open(paths.workspace_dir())?;
    let Some(ds) = load_dataset(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    let mut settings = crate::plan::RestockSettings {
        review_days: args.review_days.max(1),
        ..Default::default()
    };
    if let Some(rho) = args.error_correlation {
        settings.error_correlation = rho.clamp(0.0, 1.0);
    }
    for b in &args.budget {
        let (wh, amount) = b
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--budget {b}: expected WAREHOUSE=AMOUNT"))?;
        let amount: f64 = amount
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("--budget {b}: '{amount}' is not an amount"))?;
        settings.budget.insert(wh.trim().to_string(), amount);
    }
    let scenario = args.scenario.as_deref().map(|n| ws.load_scenario(n)).transpose()?;
    let run = chosen_run(&ws, args.run.as_deref(), args.no_run)?;
    let (base, with) = plan_bases(&ds, &settings, run.as_deref())?;
    let plan = match &with {
        Some(w) => w.plan(&ds, scenario.as_ref()),
        None => base.plan(&ds, scenario.as_ref()),
    };
    if let Some(w) = &with
        && let Some(m) = &w.model
    {
        emit(&describe_model(m, &base.plan(&ds, scenario.as_ref()), &plan))?;
    }
    ws.save_restock(&plan)?;
    let decisions = replay(&ws.audit_log().load()?.records, "restock");
    let rows = restock_rows(&plan, &decisions, true);
    emit(&crate::plan::restock::summary(&plan))?;
    if let Some(out) = &args.out {
        write_csv(out, &rows)?;
        emit(&format!("wrote {} lines to {}\n", rows.len(), out.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn approve_restock(args: ApproveArgs, paths: &Paths) -> Result<ExitCode> {
    use crate::plan::approval::{Action, Record};
    use crate::plan::export::restock_fingerprint;

    if args.sku.is_none() && args.warehouse.is_none() && !args.all {
        anyhow::bail!("say which lines: --sku S, --warehouse W, or --all");
    }
    let ws = Workspace::open(paths.workspace_dir())?;
    let plan = ws
        .load_restock()?
        .ok_or_else(|| anyhow::anyhow!("no restock plan yet: run `skuplan plan restock` first"))?;
    let chosen: Vec<_> = plan
        .lines
        .iter()
        .filter(|l| l.order_qty > 0 || args.qty.is_some())
        .filter(|l| args.sku.as_deref().is_none_or(|s| s == l.sku))
        .filter(|l| args.warehouse.as_deref().is_none_or(|w| w == l.warehouse))
        .collect();
    if chosen.is_empty() {
        emit("no plan line orders anything for that selection; nothing recorded\n")?;
        return Ok(ExitCode::from(1));
    }
    let mut records = Vec::new();
    for l in &chosen {
        let key = vec![l.sku.clone(), l.warehouse.clone()];
        let fp = restock_fingerprint(l);
        if let Some(q) = args.qty {
            records.push(Record::new(
                "restock",
                key.clone(),
                fp.clone(),
                Action::SetQty { qty: q },
                None,
            ));
        }
        let action = if args.reject { Action::Reject } else { Action::Approve };
        records.push(Record::new("restock", key, fp, action, args.comment.clone()));
    }
    let log = ws.audit_log();
    log.append(&records)?;
    emit(&format!(
        "recorded {} {} by {} in {}\n",
        chosen.len(),
        if args.reject { "rejections" } else { "approvals" },
        crate::plan::approval::current_user(),
        log.path().display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn export_restock(out: &std::path::Path, all: bool, paths: &Paths) -> Result<ExitCode> {
    use crate::plan::approval::replay;
    use crate::plan::export::{restock_rows, write_csv};

    let ws = Workspace::open(paths.workspace_dir())?;
    let plan = ws
        .load_restock()?
        .ok_or_else(|| anyhow::anyhow!("no restock plan yet: run `skuplan plan restock` first"))?;
    let loaded = ws.audit_log().load()?;
    let rows = restock_rows(&plan, &replay(&loaded.records, "restock"), all);
    write_csv(out, &rows)?;
    emit(&format!(
        "wrote {} {}lines to {}\n",
        rows.len(),
        if all { "" } else { "approved " },
        out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn simulate(args: SimulateArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use crate::plan::simulate::{MethodChoice, SimulationSpec, render, simulate};

    let ws = Workspace::open(paths.workspace_dir())?;
    let methods = crate::forecast::all_baselines();
    let one = if args.method == "champion" {
        None
    } else {
        let m = methods.iter().find(|m| m.name() == args.method).ok_or_else(|| {
            let known: Vec<&str> = methods.iter().map(|m| m.name()).collect();
            anyhow::anyhow!(
                "unknown method '{}'; methods are: champion, {}",
                args.method,
                known.join(", ")
            )
        })?;
        Some(m.as_ref())
    };
    let Some(ds) = load_dataset(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    let mut spec = SimulationSpec {
        days: args.days.max(28),
        settings: crate::plan::RestockSettings {
            review_days: args.review_days.max(1),
            ..Default::default()
        },
        fit_levels: !args.unfitted,
    };
    if let Some(rho) = args.error_correlation {
        spec.settings.error_correlation = rho.clamp(0.0, 1.0);
    }
    let (choice, label) = match one {
        Some(m) => (MethodChoice::One(m), m.name().to_string()),
        None => (MethodChoice::Champions(&methods), "each series' champion".to_string()),
    };
    let sim = simulate(&ds, choice, &spec);
    emit(&render(&sim, &spec, &label))?;
    Ok(ExitCode::SUCCESS)
}
