//! The delivery plan's headless commands: plan, edit, approve, export.

use std::path::Path;
use std::process::ExitCode;

use super::args::{DeliveriesCommand, MapArgs, PlanDeliveriesArgs};
use crate::config::{Config, Paths};
use crate::domain::Dataset;
use crate::plan::approval::{Action, Record, current_user, replay};
use crate::plan::delivery::{
    self, DeliveryPlan, DeliveryProblem, DeliverySettings, PLAN, RoadMatrix, delivery_rows, summary,
};
use crate::plan::export::write_csv;
use crate::plan::route_drift::{self, changed_routes};
use crate::workspace::Workspace;
use anyhow::{Context, Result, anyhow, bail};

use super::{emit, load_dataset};

/// The problem for `date` from `ds`, with the road matrix if one is named.
fn problem(ds: &Dataset, date: Option<chrono::NaiveDate>, matrix: Option<&Path>) -> Result<DeliveryProblem> {
    let road = matrix.map(RoadMatrix::read).transpose()?;
    DeliveryProblem::build(ds, date, road.as_ref())
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

pub fn plan_deliveries(args: PlanDeliveriesArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    let _lock = ws.lock()?;
    if let Some(out) = &args.out {
        let mut data = ws.data_paths(args.data.as_ref());
        data.extend(args.matrix.iter().cloned());
        super::check_out(out, &data)?;
    }
    let Some(ds) = load_dataset(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    if ds.orders.is_empty() {
        bail!("the data has no delivery orders (an orders file with id, warehouse, coordinates and quantity)");
    }
    if ds.fleet.is_empty() {
        bail!("the data has no fleet (a fleet file with id, warehouse, capacity, shift_start, shift_end)");
    }
    let date = args.date.or_else(|| delivery::default_date(&ds.orders, today()));
    let settings = DeliverySettings {
        date,
        seconds: args.time_limit.max(0.1),
        iterations: args.iterations,
        seed: args.seed,
    };
    // That day's plan, also when another day's was planned since.
    let saved = if args.unlock_all {
        None
    } else {
        ws.deliveries_for(date)?
    };
    let decisions = replay(&ws.audit_log().load()?.records, PLAN);
    // A plan made from other data (a command's --data, or the workspace's
    // when this one has --data) is not this data's to carry on: its locks
    // were held over other orders and the changes said were nonsense.
    // With the planner's work on it, it is not replaced unasked.
    let absolute = |p: &std::path::PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let data = args.data.as_ref().map(absolute);
    let saved = match saved {
        Some(p) if p.data != data => {
            let worked = p
                .routes
                .iter()
                .filter(|r| r.locked || decisions.contains_key(&p.key(r)))
                .count();
            let from = |d: &Option<std::path::PathBuf>| {
                d.as_ref().map_or_else(
                    || "the workspace's data".to_string(),
                    |d| format!("--data {}", d.display()),
                )
            };
            if worked > 0 {
                bail!(
                    "the saved delivery plan was made from {} and has {worked} locked or decided routes; this plans \
                     {}. Plan it with the data it came from, or --unlock-all to plan this data afresh (its routes' \
                     decisions stay in the audit log)",
                    from(&p.data),
                    from(&data)
                );
            }
            emit(&format!(
                "the saved delivery plan was made from {}: this plans {} afresh\n",
                from(&p.data),
                from(&data)
            ))?;
            None
        }
        other => other,
    };
    let same_day = saved.as_ref().filter(|p| p.date == date);
    let kept = same_day.map_or(0, |p| p.routes.iter().filter(|r| r.locked).count());
    let problem = problem(&ds, date, args.matrix.as_deref())?;
    // Approved routes are held as locked ones are (as `reoptimise` and the
    // workstation do), unless their own orders changed since.
    let changed = same_day.map(|p| changed_routes(p, &ds)).unwrap_or_default();
    let mut hold = same_day
        .map(|p| delivery::approved_unlocked(p, &decisions))
        .unwrap_or_default();
    hold.retain(|v| !changed.iter().any(|c| &c.vehicle == v));
    let mut plan = delivery::plan_holding(&problem, &settings, saved.as_ref(), &hold);
    plan.matrix_file = args.matrix.as_ref().map(absolute);
    plan.data = data;
    let aside = ws.save_deliveries(&plan)?;
    emit(&summary(&plan))?;
    if let Some((day, locked)) = aside {
        let day = day.map_or_else(|| "no date".to_string(), |d| d.to_string());
        emit(&format!(
            "the plan for {day} ({locked} locked routes) is kept aside: planning {day} again takes it up\n"
        ))?;
    }
    if kept > 0 {
        emit(&format!(
            "kept {kept} locked routes as they were (--unlock-all plans afresh)\n"
        ))?;
    }
    if !hold.is_empty() {
        emit(&format!(
            "{} approved routes kept as they were: {} (--unlock-all plans afresh)\n",
            hold.len(),
            hold.join(", ")
        ))?;
    }
    say_changed(&changed)?;
    if let Some(out) = &args.out {
        // The audit log read above: nothing was recorded since.
        let rows = delivery_rows(&plan, &decisions, true);
        write_csv(out, &rows)?;
        emit(&format!("wrote {} stops to {}\n", rows.len(), out.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// What a re-plan did with routes whose orders changed under them.
fn say_changed(changed: &[route_drift::Drift]) -> Result<()> {
    if !changed.is_empty() {
        emit(&format!(
            "the orders of {} route{} changed since {} planned ({}): {}\n",
            changed.len(),
            if changed.len() == 1 { "" } else { "s" },
            if changed.len() == 1 { "it was" } else { "they were" },
            route_drift::describe(changed),
            route_drift::what_replanning_does(changed)
        ))?;
    }
    Ok(())
}

fn saved_plan(ws: &Workspace) -> Result<DeliveryPlan> {
    ws.load_deliveries()?
        .ok_or_else(|| anyhow!("no delivery plan yet: run `skuplan plan deliveries` first"))
}

pub fn deliveries(cmd: DeliveriesCommand, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    // Every edit rewrites the plan a workstation would save over.
    let _lock = if matches!(cmd, DeliveriesCommand::Show) {
        None
    } else {
        Some(ws.lock()?)
    };
    let mut plan = saved_plan(&ws)?;
    // Edits need the day's data as it is now.
    let with_problem = |plan: &DeliveryPlan| -> Result<Option<(Dataset, DeliveryProblem)>> {
        let Some(ds) = load_dataset(plan.data.as_ref(), &MapArgs::default(), config, &ws)? else {
            return Ok(None);
        };
        let p = problem(&ds, plan.date, plan.matrix_file.as_deref())?;
        Ok(Some((ds, p)))
    };
    match cmd {
        DeliveriesCommand::Show => {
            emit(&summary(&plan))?;
            // What changed under the routes, checked first: a changed route
            // stands in review (it was counted as approved).
            let drift = changes_since(&plan, config, &ws);
            let changed: std::collections::HashSet<&str> = drift
                .as_ref()
                .map(|(c, _)| c.iter().map(|d| d.vehicle.as_str()).collect())
                .unwrap_or_default();
            // Where each route stands, as the workstation shows it.
            let decisions = replay(&ws.audit_log().load()?.records, PLAN);
            let mut by_state: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
            for r in plan.routes.iter().filter(|r| !r.stops.is_empty()) {
                let (state, review, _) = delivery::route_state(&plan, r, &decisions);
                // An approval the data changed under asks again; a
                // rejection stands.
                let approved = state == crate::plan::approval::State::Approved;
                let review = review || (approved && changed.contains(r.vehicle.as_str()));
                let name = if review { "review" } else { state.name() };
                by_state.entry(name).or_default().push(&r.vehicle);
            }
            let states: Vec<String> = by_state
                .iter()
                .map(|(s, v)| format!("{s} {} ({})", v.len(), v.join(", ")))
                .collect();
            if !states.is_empty() {
                emit(&format!("routes: {}\n", states.join("; ")))?;
            }
            // Shown whatever the data says; what changed under it, noted.
            match drift {
                Ok((changed, new)) => {
                    if !changed.is_empty() {
                        emit(&format!(
                            "the data changed since these routes were planned ({}): `skuplan plan deliveries` plans \
                             them again; until then they are not approved or exported\n",
                            route_drift::describe(&changed)
                        ))?;
                    }
                    say_new_orders(&new)?;
                }
                Err(e) => emit(&format!(
                    "note: the routes could not be checked against the data: {e:#}\n"
                ))?,
            }
            return Ok(ExitCode::SUCCESS);
        }
        DeliveriesCommand::Move { order, to, position } => {
            let Some((_, problem)) = with_problem(&plan)? else {
                return Ok(ExitCode::from(1));
            };
            if position == Some(0) {
                return Err(super::usage("--position counts from 1 (the first stop)"));
            }
            // The approved routes the move changes: their approvals lapse,
            // and it says so (the workstation does too).
            let decisions = replay(&ws.audit_log().load()?.records, PLAN);
            let approved = delivery::approvals_a_move_changes(&plan, &decisions, &order, &to);
            plan = delivery::move_order(&problem, &plan, &order, &to, position.map(|p| p - 1))?;
            let r = plan.route(&to).context("the moved-to route vanished")?;
            let at = r.stops.iter().position(|s| s.order == order).map_or(0, |p| p + 1);
            emit(&format!(
                "order {order} is stop {at} of {} on {to} (route locked)\n",
                r.stops.len()
            ))?;
            match approved.as_slice() {
                [] => {}
                [one] => emit(&format!(
                    "the approval of {one} lapsed: the route changed (approve it again once checked)\n"
                ))?,
                many => emit(&format!(
                    "the approvals of {} lapsed: the routes changed (approve them again once checked)\n",
                    many.join(" and ")
                ))?,
            }
        }
        DeliveriesCommand::Lock { vehicle } => {
            delivery::set_locked(&mut plan, &vehicle, true)?;
            emit(&format!("route of {vehicle} locked\n"))?;
        }
        DeliveriesCommand::Unlock { vehicle } => {
            delivery::set_locked(&mut plan, &vehicle, false)?;
            emit(&format!("route of {vehicle} unlocked\n"))?;
        }
        DeliveriesCommand::Reoptimise {
            time_limit,
            iterations,
            seed,
        } => {
            let Some((ds, problem)) = with_problem(&plan)? else {
                return Ok(ExitCode::from(1));
            };
            let settings = DeliverySettings {
                date: plan.date,
                seconds: time_limit.max(0.1),
                iterations,
                seed,
            };
            let (matrix_file, data) = (plan.matrix_file.clone(), plan.data.clone());
            // Approved routes are held as locked ones are, as in the
            // workstation.
            let decisions = crate::plan::approval::replay(&ws.audit_log().load()?.records, "deliveries");
            let changed = changed_routes(&plan, &ds);
            let mut hold = delivery::approved_unlocked(&plan, &decisions);
            hold.retain(|v| !changed.iter().any(|c| &c.vehicle == v));
            plan = delivery::plan_holding(&problem, &settings, Some(&plan), &hold);
            plan.matrix_file = matrix_file;
            plan.data = data;
            if !hold.is_empty() {
                emit(&format!(
                    "{} approved routes kept as they were: {}\n",
                    hold.len(),
                    hold.join(", ")
                ))?;
            }
            say_changed(&changed)?;
            emit(&summary(&plan))?;
        }
    }
    ws.save_deliveries(&plan)?;
    Ok(ExitCode::SUCCESS)
}

/// The routes of `plan` whose orders or vehicle changed since they were
/// planned, read against the plan's data as it is now (the data alone: a
/// road matrix need not be at hand). An error when the data cannot be read.
/// Also the day's orders that came in since, in no route.
fn changes_since(
    plan: &DeliveryPlan,
    config: &Config,
    ws: &Workspace,
) -> Result<(Vec<route_drift::Drift>, Vec<String>)> {
    let given: Vec<std::path::PathBuf> = plan.data.iter().cloned().collect();
    let (sources, opts) = super::import_setup(&given, &MapArgs::default(), config, ws)?;
    let ds = ws
        .import(&sources, &opts)
        .map_err(|f| anyhow!("the data does not import ({} errors)", f.report.errors().count()))?
        .dataset;
    Ok((changed_routes(plan, &ds), route_drift::orders_not_in(plan, &ds)))
}

/// "N orders of the day are in no route", when some came in since.
fn say_new_orders(new: &[String]) -> Result<()> {
    if let Some(first) = new.first() {
        emit(&format!(
            "note: {} of the day's orders came in since the routes were planned and are in no route (first: \
             {first}); `skuplan plan deliveries` plans them\n",
            new.len()
        ))?;
    }
    Ok(())
}

/// The routes among `vehicles` whose orders or vehicle changed since they
/// were planned; new orders of the day, and data that cannot be read, are
/// said (the plan is what was decided on).
fn changed_among(
    plan: &DeliveryPlan,
    vehicles: &[&str],
    config: &Config,
    ws: &Workspace,
) -> Result<Vec<route_drift::Drift>> {
    let mut changed = match changes_since(plan, config, ws) {
        Ok((c, new)) => {
            say_new_orders(&new)?;
            c
        }
        Err(e) => {
            emit(&format!(
                "note: the routes could not be checked against the data: {e:#}\n"
            ))?;
            return Ok(Vec::new());
        }
    };
    changed.retain(|c| vehicles.contains(&c.vehicle.as_str()));
    Ok(changed)
}

/// Refuse to act on routes of `plan` whose orders or vehicle changed since
/// they were planned (the data now says otherwise): only those among
/// `vehicles`. Data that cannot be read is said, not a refusal: the plan
/// is what was decided on.
fn refuse_changed(plan: &DeliveryPlan, vehicles: &[&str], config: &Config, ws: &Workspace) -> Result<()> {
    let changed = changed_among(plan, vehicles, config, ws)?;
    if !changed.is_empty() {
        bail!(
            "the orders changed since the routes of {} were planned ({}): plan them again with `skuplan plan \
             deliveries` (approved routes whose orders did not change keep their approvals)",
            plan.date.map_or_else(|| "no date".to_string(), |d| d.to_string()),
            route_drift::describe(&changed)
        );
    }
    Ok(())
}

pub fn approve_deliveries(
    vehicle: Option<String>,
    all: bool,
    reject: bool,
    comment: Option<String>,
    config: &Config,
    paths: &Paths,
) -> Result<ExitCode> {
    if vehicle.is_none() && !all {
        return Err(super::usage("say which routes: --vehicle V, or --all"));
    }
    let ws = Workspace::open(paths.workspace_dir())?;
    let plan = saved_plan(&ws)?;
    let mut chosen: Vec<_> = plan
        .routes
        .iter()
        .filter(|r| vehicle.as_deref().is_none_or(|v| v == r.vehicle))
        .collect();
    // --all approves the routes that break no rule, and says which it left.
    if vehicle.is_none() && !reject {
        let broken: Vec<&str> = chosen
            .iter()
            .filter(|r| !r.problems.is_empty())
            .map(|r| r.vehicle.as_str())
            .collect();
        if !broken.is_empty() {
            emit(&format!(
                "left out, as they break a rule (see `deliveries show`): {}\n",
                broken.join(", ")
            ))?;
            chosen.retain(|r| r.problems.is_empty());
        }
    }
    if chosen.is_empty() {
        emit("no route of the saved plan matches; nothing recorded\n")?;
        return Ok(ExitCode::from(1));
    }
    // Rejecting a route the data has moved on from, or one that breaks a
    // rule, is fine; approving either is not.
    if !reject {
        if let Some(r) = chosen.iter().find(|r| !r.problems.is_empty()) {
            bail!(
                "the route of {} breaks: {}; move orders off it (`deliveries move`) or unlock it and plan again; \
                 nothing recorded",
                r.vehicle,
                r.problems.join("; ")
            );
        }
        let names: Vec<&str> = chosen.iter().map(|r| r.vehicle.as_str()).collect();
        refuse_changed(&plan, &names, config, &ws)?;
    }
    let action = if reject { Action::Reject } else { Action::Approve };
    let records: Vec<Record> = chosen
        .iter()
        .map(|r| Record::new(PLAN, plan.key(r), r.fingerprint(), action.clone(), comment.clone()))
        .collect();
    let log = ws.audit_log();
    log.append(&records)?;
    emit(&format!(
        "recorded {} route {} by {} in {}\n",
        records.len(),
        if reject { "rejections" } else { "approvals" },
        current_user(),
        log.path().display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn export_deliveries(out: &Path, all: bool, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    super::check_out(out, &ws.data_paths(None))?;
    let plan = saved_plan(&ws)?;
    let decisions = replay(&ws.audit_log().load()?.records, PLAN);
    // The routes exported: every one with --all, else the approved.
    let exported: Vec<&str> = plan
        .routes
        .iter()
        .filter(|r| !r.stops.is_empty())
        .filter(|r| all || delivery::route_state(&plan, r, &decisions).0 == crate::plan::approval::State::Approved)
        .map(|r| r.vehicle.as_str())
        .collect();
    // Routes the data changed under are left out, and said: the rest of
    // the day still goes to dispatch (one changed route held back every
    // approved one).
    let changed = changed_among(&plan, &exported, config, &ws)?;
    if !changed.is_empty() && changed.len() == exported.len() {
        bail!(
            "the orders changed since the routes of {} were planned ({}): plan them again with `skuplan plan \
             deliveries`; nothing was exported",
            plan.date.map_or_else(|| "no date".to_string(), |d| d.to_string()),
            route_drift::describe(&changed)
        );
    }
    let left_out: std::collections::HashSet<&str> = changed.iter().map(|c| c.vehicle.as_str()).collect();
    let mut rows = delivery_rows(&plan, &decisions, all);
    rows.retain(|r| !left_out.contains(r.vehicle.as_str()));
    write_csv(out, &rows)?;
    emit(&format!(
        "wrote {} {}stops to {}\n",
        rows.len(),
        if all { "" } else { "approved " },
        out.display()
    ))?;
    if !changed.is_empty() {
        let (what, it, them) = if changed.len() == 1 {
            ("1 route".to_string(), "it was", "it")
        } else {
            (format!("{} routes", changed.len()), "they were", "them")
        };
        emit(&format!(
            "left out {what} changed since {it} planned ({}): plan {them} again with `skuplan plan deliveries` \
             (approved routes whose orders did not change keep their approvals)\n",
            route_drift::describe(&changed)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
