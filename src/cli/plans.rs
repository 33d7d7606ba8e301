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
    ws: &Workspace,
) -> Result<(PlanBase, Option<PlanBase>)> {
    // The workstation's cache of the slow half, shared: the same data,
    // settings and build give the same base.
    let mut base = ws.plan_base(ds, settings).map_err(anyhow::Error::msg)?;
    if crate::engine::similar::wants_launches(ds) {
        let horizon = base.forecasts.iter().map(|f| f.p50.len()).max().unwrap_or(28);
        let launches = crate::cli::engine::model_dir(None)
            .and_then(|dir| crate::engine::similar::plan_launches(ds, horizon, &dir, Some(&ws.embeddings_path())));
        match launches {
            Ok(Some(l)) => {
                emit(&format!("{}\n", l.describe()))?;
                base = base.with_launches(ds, std::sync::Arc::new(l));
                if let Some(c) = &base.short_histories {
                    emit(&format!("{}\n", c.describe()))?;
                }
            }
            Ok(None) => {}
            Err(e) => emit(&format!("launches not forecast: {e:#}\n"))?,
        }
    }
    let Some(run) = run else { return Ok((base, None)) };
    let with = join_run(&base, ds, run, ws)?;
    Ok((base, Some(with)))
}

/// `base` with the run among the champions.
fn join_run(base: &PlanBase, ds: &crate::domain::Dataset, run: &std::path::Path, ws: &Workspace) -> Result<PlanBase> {
    let model = crate::engine::protocol::model_forecasts_cached(run, ds, None, Some(&ws.cache_dir()))?;
    base.with_model(ds, &model)
        .map_err(|e| anyhow::anyhow!("{}: {e}", run.display()))
}

/// Which run a plan uses: `--run` (made the active run by the caller once
/// the plan has taken it, so a run refused for this data does not replace
/// the planner's active one), `--no-run` (the active run switched off),
/// else the active run when it is on.
pub fn chosen_run(ws: &Workspace, run: Option<&std::path::Path>, no_run: bool) -> Result<Option<PathBuf>> {
    if let Some(r) = run {
        let r = std::path::absolute(r).unwrap_or_else(|_| r.to_path_buf());
        crate::engine::run::read_meta(&r)?;
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
    let c = crate::plan::scenario::compare(without, with);
    format!(
        "run {}: champion of {} of {} series, judged {}..{} (run WAPE {:.3}, wQL {:.3}; baseline champions \
         {:.3}, {:.3});\n  its forecasts: {}\n  stocked: {}\n  {}\n  the plan with the run against baselines \
         only: {}\n",
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
        crate::plan::simulate::external_levels(&m.levels),
        crate::plan::simulate::lumpy_means(&m.lumpy_mean),
        c.change()
    )
}

/// What each warehouse's budget did: spent, lines kept whole, cut, cut to
/// nothing (those order nothing, so only `--out` lists them).
fn budget_lines(plan: &crate::plan::RestockPlan) -> String {
    use crate::plan::restock::Reason;
    let mut out = String::new();
    let mut budgets: Vec<(&String, &f64)> = plan.settings.budget.iter().collect();
    budgets.sort_by(|a, b| a.0.cmp(b.0));
    for (wh, cap) in budgets {
        let lines: Vec<_> = plan.lines.iter().filter(|l| &l.warehouse == wh).collect();
        let cut =
            |l: &&crate::plan::restock::RestockLine| l.reasons.iter().any(|r| matches!(r, Reason::BudgetCut { .. }));
        let spent: f64 = lines.iter().map(|l| l.line_cost).sum();
        let whole = lines.iter().filter(|l| l.order_qty > 0 && !cut(l)).count();
        let part = lines.iter().filter(|l| l.order_qty > 0 && cut(l)).count();
        let zero = lines.iter().filter(|l| l.order_qty == 0 && cut(l)).count();
        out.push_str(&format!(
            "budget {wh} {cap:.2}: {spent:.2} spent on {whole} lines in full and {part} cut down; {zero} lines cut to \
             nothing (listed with --out)\n"
        ));
    }
    out
}

pub fn plan_restock(args: PlanRestockArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use crate::plan::approval::replay;
    use crate::plan::export::{restock_rows, write_csv};

    let ws = Workspace::open(paths.workspace_dir())?;
    let _lock = ws.lock()?;
    // Before anything is saved: a bad path replaced the workspace's plan,
    // then failed.
    if let Some(out) = &args.out {
        super::check_out(out, &ws.data_paths(args.data.as_ref()))?;
    }
    let Some((ds, data_key)) = super::load_dataset_keyed(args.data.as_ref(), &args.map, config, &ws)? else {
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
            .ok_or_else(|| super::usage(format!("--budget {b}: expected WAREHOUSE=AMOUNT")))?;
        let amount: f64 = amount
            .trim()
            .parse()
            .map_err(|_| super::usage(format!("--budget {b}: '{amount}' is not an amount")))?;
        let wh = wh.trim();
        if !ds.warehouses.iter().any(|w| w.id == wh) && !ds.demand.iter().any(|s| s.warehouse == wh) {
            let mut known: Vec<&str> = ds
                .demand
                .iter()
                .map(|s| s.warehouse.as_str())
                .chain(ds.warehouses.iter().map(|w| w.id.as_str()))
                .collect();
            known.sort_unstable();
            known.dedup();
            anyhow::bail!(
                "--budget {b}: no warehouse {wh} in the data; its warehouses: {}",
                known.join(", ")
            );
        }
        if !(amount >= 0.0 && amount.is_finite()) {
            return Err(super::usage(format!("--budget {b}: the amount must be 0 or more")));
        }
        settings.budget.insert(wh.to_string(), amount);
    }
    // The workspace's plan is the one the workstation shows: with its
    // what-ifs unless told otherwise (it was planned without them, and
    // the approvals of the lines they changed were voided unsaid).
    let scenario = match (&args.scenario, args.no_what_ifs) {
        (Some(n), _) => Some(ws.load_scenario(n)?),
        (None, true) => None,
        (None, false) => {
            let own = ws
                .scenario_if_any("what-if")
                .map_err(|e| anyhow::anyhow!("{e:#} (`--no-what-ifs` plans without the workspace's what-ifs)"))?
                .filter(|s| !s.overrides.is_empty());
            if let Some(s) = &own {
                emit(&format!(
                    "with the workspace's {} (the workstation's; `--no-what-ifs` plans without them)\n",
                    crate::tui::app::what_ifs(s.overrides.len())
                ))?;
            }
            own
        }
    };
    let run = chosen_run(&ws, args.run.as_deref(), args.no_run)?;
    let (base, _) = plan_bases(&ds, &settings, None, &ws)?;
    let with = match run.as_deref().map(|r| join_run(&base, &ds, r, &ws)) {
        None => None,
        Some(Ok(w)) => Some(w),
        // The workspace's active run, not asked for by name, that cannot
        // join this data (other data, no finished epoch): plan without it,
        // as the workstation does, and say why.
        Some(Err(e)) if args.run.is_none() => {
            emit(&format!(
                "the active run is not used: {e:#}\n  planning from the baselines alone (`--no-run` switches the run \
                 off, `--run RUN` chooses another)\n"
            ))?;
            None
        }
        Some(Err(e)) => return Err(e),
    };
    // The run joined the plan: now it is the workspace's active run.
    if let (Some(r), Some(_)) = (&args.run, &with) {
        ws.save_active_run(&crate::workspace::ActiveRun {
            run: std::path::absolute(r).unwrap_or_else(|_| r.clone()),
            on: true,
        })?;
    }
    let plan = match &with {
        Some(w) => w.plan(&ds, scenario.as_ref()),
        None => base.plan(&ds, scenario.as_ref()),
    };
    if let Some(w) = &with
        && let Some(m) = &w.model
    {
        emit(&describe_model(m, &base.plan(&ds, scenario.as_ref()), &plan))?;
    }
    let mut plan = plan;
    plan.data = args
        .data
        .as_ref()
        .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone()));
    // Options given here are not kept, so an export could not read the
    // data as this plan did: such a plan is not checked, as one of --data.
    let m = &args.map;
    let own_reading = m.map.is_some() || m.date_format.is_some() || m.period.is_some() || m.strict;
    plan.data_key = data_key.filter(|_| !own_reading);
    ws.save_restock(&plan)?;
    emit(&budget_lines(&plan))?;
    let decisions = replay(&ws.audit_log().load()?.records, "restock");
    let rows = restock_rows(&plan, &decisions, true);
    emit(&crate::plan::summary::summary(&plan))?;
    if let Some(out) = &args.out {
        write_csv(out, &rows)?;
        let in_file: u64 = rows.iter().map(|r| u64::from(r.order_qty)).sum();
        let planned: u64 = plan.lines.iter().map(|l| u64::from(l.order_qty)).sum();
        let note = if in_file == planned {
            String::new()
        } else {
            format!(" ({in_file} units against the plan's {planned}: quantities the planner set stand)")
        };
        emit(&format!("wrote {} lines to {}{note}\n", rows.len(), out.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a saved plan whose data changed since it was planned: the
/// workspace's files (or the import settings: the config's mapping,
/// exclusions, product defaults) no longer import to what it was planned
/// from, say after `skuplan import`, or a workstation killed between
/// taking new files and saving their plan. Its lines would be decided and
/// exported on numbers the data no longer gives. Files that no longer
/// import at all cannot be planned again: the plan of their last import
/// that did is then the one to act on (as the workstation shows it), said.
/// A plan made from a command's `--data` (or its own `--map`, `--period`,
/// `--strict` or `--date-format`) is not checked, as those are not kept;
/// nor one saved before plans recorded their data.
fn check_plan_current(plan: &RestockPlan, stale_ok: bool, config: &Config, ws: &Workspace) -> Result<()> {
    let (Some(planned), None) = (&plan.data_key, &plan.data) else {
        return Ok(());
    };
    let (why, fix) = match super::import_setup(&[], &Default::default(), config, ws) {
        Err(e) => (
            format!("the workspace's data cannot be read now ({e:#})"),
            "Import the data again (`skuplan import PATH`) and plan again",
        ),
        Ok((sources, opts)) => {
            if crate::workspace::data_key(&sources, &opts).as_deref() == Some(planned.as_str()) {
                return Ok(());
            }
            match stale_why(&sources, &opts, planned, ws)? {
                Some(why) => why,
                None => return Ok(()),
            }
        }
    };
    if stale_ok {
        emit(&format!(
            "note: the saved restock plan ({}) may be out of date: {why} (--stale-ok)\n",
            plan.plan_date
        ))?;
        return Ok(());
    }
    anyhow::bail!(
        "the saved restock plan (planned for {}) was made from other data: {why}. {fix}, or pass --stale-ok to use \
         the plan as it is",
        plan.plan_date
    )
}

/// Why a plan of data `planned` is not the data's now, and what to do;
/// `None` when the files no longer import and the plan is of their last
/// import that did (said in a note): as current as a plan can be.
fn stale_why(
    sources: &[PathBuf],
    opts: &crate::data::ImportOptions,
    planned: &str,
    ws: &Workspace,
) -> Result<Option<(String, &'static str)>> {
    Ok(Some(match ws.import(sources, opts) {
        Ok(_) => (
            "the workspace's data or its import settings changed since".to_string(),
            "Plan again with `skuplan plan restock` (decisions on lines whose quantity and order day stay the same \
             carry over)",
        ),
        Err(failed) => {
            let last = ws.last_good_import(sources, opts);
            let problems = match failed.report.problems.len() {
                1 => "1 problem".to_string(),
                n => format!("{n} problems"),
            };
            if let Some((_, at, _)) = last.filter(|(_, _, key)| key.as_deref() == Some(planned)) {
                emit(&format!(
                    "note: the workspace's files do not import now ({problems}: `skuplan import --check` lists \
                     them); this plan is of their last import that did, of {at}\n"
                ))?;
                return Ok(None);
            }
            (
                format!(
                    "the workspace's files do not import now ({problems}), and it is older than their last import \
                     that did"
                ),
                "Fix the files (`skuplan import --check` lists the problems) and plan again",
            )
        }
    }))
}

pub fn approve_restock(args: ApproveArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use crate::plan::approval::{Action, Record, State};
    use crate::plan::export::restock_fingerprint;

    if args.sku.is_none() && args.warehouse.is_none() && !args.all {
        return Err(super::usage("say which lines: --sku S, --warehouse W, or --all"));
    }
    let ws = Workspace::open(paths.workspace_dir())?;
    let plan = ws
        .load_restock()?
        .ok_or_else(|| anyhow::anyhow!("no restock plan yet: run `skuplan plan restock` first"))?;
    check_plan_current(&plan, args.stale_ok, config, &ws)?;
    let chosen: Vec<_> = plan
        .lines
        .iter()
        .filter(|l| l.order_qty > 0 || args.qty.is_some())
        .filter(|l| args.sku.as_deref().is_none_or(|s| s == l.sku))
        .filter(|l| args.warehouse.as_deref().is_none_or(|w| w == l.warehouse))
        .collect();
    if chosen.is_empty() {
        // Say which: a name the plan does not know, or lines ordering nothing.
        let known = |f: &dyn Fn(&crate::plan::restock::RestockLine) -> bool| plan.lines.iter().any(f);
        if let Some(s) = args.sku.as_deref().filter(|s| !known(&|l| l.sku == *s)) {
            anyhow::bail!("the saved plan has no line for SKU {s}; nothing recorded");
        }
        if let Some(w) = args.warehouse.as_deref().filter(|w| !known(&|l| l.warehouse == *w)) {
            anyhow::bail!("the saved plan has no line at warehouse {w}; nothing recorded");
        }
        emit("no plan line orders anything for that selection (--qty N sets a quantity); nothing recorded\n")?;
        return Ok(ExitCode::from(1));
    }
    let mut records = Vec::new();
    let mut notes = String::new();
    let decided = crate::plan::approval::replay(&ws.audit_log().load()?.records, "restock");
    let wanted = if args.reject { State::Rejected } else { State::Approved };
    let mut already = 0usize;
    for l in &chosen {
        let key = vec![l.sku.clone(), l.warehouse.clone()];
        let fp = restock_fingerprint(l);
        // A decision already in force on this very line is not recorded
        // again, as the workstation's `a` does: a second record of it was
        // what an undo took back, the line staying approved.
        let (state, _, d) = crate::plan::approval::state_of(&decided, &key, &fp);
        if args.qty.is_none()
            && state == wanted
            && crate::plan::export::requantify(&decided, l).is_none()
            && (args.comment.is_none() || d.as_ref().is_some_and(|d| d.comment == args.comment))
        {
            already += 1;
            continue;
        }
        // A quantity set before that the line can no longer order (its
        // pack size changed) is set again in whole packs, or the decision
        // would not take.
        if args.qty.is_none()
            && let Some(again) = crate::plan::export::requantify(&decided, l)
        {
            if let crate::plan::approval::Action::SetQty { qty } = again.action {
                notes.push_str(&format!(
                    "{} at {}: the quantity set before is now {qty} (whole packs of {})\n",
                    l.sku, l.warehouse, l.pack_size
                ));
            }
            records.push(again);
        }
        if let Some(asked) = args.qty {
            let (q, said) = crate::plan::approval::planner_qty(l, asked);
            if !said.is_empty() {
                notes.push_str(&format!("{} at {}: {}\n", l.sku, l.warehouse, said.join("; ")));
            }
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
    emit(&notes)?;
    let what = if args.reject { "rejected" } else { "approved" };
    if already > 0 {
        emit(&format!(
            "{already} of the lines chosen {} {what} already: nothing recorded for {}\n",
            if already == 1 { "was" } else { "were" },
            if already == 1 { "it" } else { "them" }
        ))?;
    }
    if already < chosen.len() {
        emit(&format!(
            "recorded {} {} by {} in {}\n",
            chosen.len() - already,
            if args.reject { "rejections" } else { "approvals" },
            crate::plan::approval::current_user(),
            log.path().display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export_restock(
    out: &std::path::Path,
    all: bool,
    stale_ok: bool,
    config: &Config,
    paths: &Paths,
) -> Result<ExitCode> {
    use crate::plan::approval::replay;
    use crate::plan::export::{restock_rows, write_csv};

    let ws = Workspace::open(paths.workspace_dir())?;
    super::check_out(out, &ws.data_paths(None))?;
    let plan = ws
        .load_restock()?
        .ok_or_else(|| anyhow::anyhow!("no restock plan yet: run `skuplan plan restock` first"))?;
    check_plan_current(&plan, stale_ok, config, &ws)?;
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
    let Some(ds) = load_dataset(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    // The replay needs days to replay and days before them to fit on.
    if let Some((first, last)) = ds.date_range() {
        let span = (last - first).num_days() + 1;
        // 28 days to replay at least, and 28 before them to forecast from
        // (one day of history replayed nothing and printed a 100 % fill).
        if span < 56 {
            anyhow::bail!(
                "this data has {span} days ({first} to {last}): a replay needs at least 28 days to replay and 28 \
                 before them"
            );
        }
        if args.days < 28 || args.days as i64 > span - 28 {
            return Err(super::usage(format!(
                "--days {}: the replay needs at least 28 days, and 28 days of history before it; this data has \
                 {span} days ({first} to {last}), so --days can be 28 to {}",
                args.days,
                span - 28
            )));
        }
    }
    let methods = crate::forecast::baselines::baselines_for(ds.period());
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
    let mut spec = SimulationSpec {
        days: args.days,
        settings: crate::plan::RestockSettings {
            review_days: args.review_days.max(1),
            ..Default::default()
        },
        fit_levels: !args.unfitted,
    };
    if let Some(rho) = args.error_correlation {
        spec.settings.error_correlation = rho.clamp(0.0, 1.0);
    }
    if let Some(run) = &args.run {
        if one.is_some() {
            return Err(super::usage("--run replays each series' champion: leave out --method"));
        }
        let ds = std::sync::Arc::new(ds);
        let ext = replay_model(&args, run, &ds, &spec, &ws)?;
        let baselines = simulate(&ds, MethodChoice::Champions(&methods), &spec);
        let with = simulate(&ds, MethodChoice::ChampionsWith(&methods, &ext), &spec);
        emit(&crate::plan::simulate::render_side_by_side(
            &baselines,
            &with,
            &spec,
            "baselines only",
            "with the model",
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let (choice, label) = match one {
        Some(m) => (MethodChoice::One(m), m.name().to_string()),
        None => (MethodChoice::Champions(&methods), "each series' champion".to_string()),
    };
    let sim = simulate(&ds, choice, &spec);
    emit(&render(&sim, &spec, &label))?;
    Ok(ExitCode::SUCCESS)
}

/// The run's forecasts at every review of the replay, and where it is
/// champion: judged beside the baseline champions on the days between its
/// train end and the replay (the replayed days are never looked at).
/// With `--train` the run is trained first: up to 28 days before the
/// replay, then refit up to its eve.
fn replay_model(
    args: &SimulateArgs,
    run: &std::path::Path,
    ds: &std::sync::Arc<crate::domain::Dataset>,
    spec: &crate::plan::simulate::SimulationSpec,
    ws: &Workspace,
) -> Result<crate::plan::simulate::ExternalForecasts> {
    use crate::engine::{protocol, run as runs};
    use crate::forecast::QuantileForecast;
    use crate::plan::simulate::{ExternalForecasts, replay_start, review_origins};

    let start = replay_start(ds, spec).ok_or_else(|| anyhow::anyhow!("no series is long enough to replay"))?;
    let period = ds.period();
    let eve = period.step(start, -1);
    if args.train {
        // 28 days, or 4 weeks, or a month.
        let horizon = period.from_days(28);
        let train_end = period.step(eve, -(horizon as i64));
        emit(&format!(
            "training {} up to {train_end}, judged on {}..{eve}, refit up to {eve}; the replay starts on {start}\n",
            run.display(),
            period.step(train_end, 1)
        ))?;
        let sources = ws.load_sources()?.unwrap_or_default();
        let cfg = crate::engine::TrainConfig {
            epochs: args.epochs.max(1),
            horizon,
            ..crate::engine::TrainConfig::default()
        };
        let job = crate::engine::events::TrainJob {
            dataset: ds.clone(),
            sources,
            train_end: Some(train_end),
            model_dir: super::engine::model_dir(args.model.as_ref())?,
            config: cfg,
            out: run.to_path_buf(),
            device: crate::engine::DeviceChoice::Auto,
            resume: false,
            text_cache: Some(ws.training_embeddings_path()),
        };
        super::engine::train_job(&job)?;
        super::engine::run_refit(run, ds.clone(), Some(eve), crate::engine::DeviceChoice::Auto, ws)?;
    }
    let loaded = runs::load_run(run, None)?;
    protocol::check_data(run, &loaded.meta, ds)?;
    let learnt = loaded.meta.train_end;
    // What would do: a run that learnt up to four weeks before the replay,
    // judged on those weeks (what --train trains).
    let suggest = period.step(eve, -(period.from_days(28) as i64));
    let fix = format!(
        "train one that learnt only up to {suggest} (`skuplan train --train-end {suggest}`), or give --train to \
         train it here (runs trained in the workstation or with `train`'s defaults learn up to the data's last {} \
         {}, too late for any replay)",
        loaded.meta.horizon,
        period.plural()
    );
    if learnt >= start {
        anyhow::bail!(
            "{}: the run learnt up to {learnt}, into the replayed days (from {start}); a replay uses only days the \
             run never learnt from: {fix}",
            run.display()
        );
    }
    if learnt == eve {
        anyhow::bail!(
            "{}: the run learnt up to {learnt}, the {} before the replay, so none is left between them to judge it \
             on: {fix}",
            run.display(),
            period.name()
        );
    }
    // Champions as a plan made on the replay's eve would choose them.
    let before = ds.up_to(eve);
    let base = PlanBase::champions_only(&before, &spec.settings).map_err(anyhow::Error::msg)?;
    let model = protocol::model_forecasts(run, &before, None)?;
    let with = base
        .with_model(&before, &model)
        .map_err(|e| anyhow::anyhow!("{}: {e}", run.display()))?;
    let choice = with
        .model
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the run could not be judged"))?;
    let chosen: std::collections::HashSet<(&str, &str)> = before
        .demand
        .iter()
        .zip(&choice.chosen)
        .filter(|(_, c)| **c)
        .map(|(s, _)| (s.sku.as_str(), s.warehouse.as_str()))
        .collect();
    let use_for: Vec<bool> = ds
        .demand
        .iter()
        .map(|s| chosen.contains(&(s.sku.as_str(), s.warehouse.as_str())))
        .collect();
    emit(&format!(
        "run {}: champion of {} of {} series (judged {}..{}); replay forecasts: {}\n  {}\n",
        choice.run,
        choice.wins(),
        before.demand.len(),
        choice.held_out.0,
        choice.held_out.1,
        model.future_from.replace(&eve.to_string(), "the replay's eve"),
        crate::plan::simulate::lumpy_means(&choice.lumpy_mean)
    ))?;
    // The weights that forecast the replay: the refit up to the eve when
    // there is one, else the run's own.
    let weights = match protocol::usable_refit(run, &before) {
        Some(r) => runs::load_run(&r, None)?,
        None => loaded,
    };
    let mut by_origin = std::collections::HashMap::new();
    for origin in review_origins(ds, spec) {
        let fc = runs::forecast(&weights, ds, Some(origin))?;
        by_origin.insert(
            origin,
            fc.into_iter()
                .map(|f| {
                    Some(QuantileForecast {
                        p10: f.p10,
                        p50: f.p50,
                        p90: f.p90,
                    })
                })
                .collect(),
        );
    }
    Ok(ExternalForecasts {
        name: model.name,
        use_for,
        by_origin,
        levels: with.settings.external.as_ref().map_or([None; 3], |r| r.levels),
        lumpy_mean: with.settings.external.as_ref().map_or([None; 3], |r| r.lumpy_mean),
        calibration: with.settings.external.map(|r| r.calibration),
        rejudge_every: args.rejudge_every.map(|d| period.from_days(d as usize).max(1)),
    })
}
