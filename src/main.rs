use std::process::ExitCode;

mod delivery_commands;
mod engine_commands;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches};

use std::path::PathBuf;

use skuplan::cli::{
    ApproveArgs, ApproveCommand, BenchCommand, Cli, Command, EvaluateArgs, ExportCommand, ImportArgs, MapArgs,
    ModelCommand, PlanCommand, PlanRestockArgs, SalesFormatArg, SampleArgs, ScenarioCommand, SimulateArgs,
};
use skuplan::config::{Config, Paths};
use skuplan::data::report;
use skuplan::data::sample::{SalesFormat, SampleSpec, generate};
use skuplan::data::{ImportOptions, import_paths};
use skuplan::workspace::{DataSources, Workspace, default_sources};
use skuplan::{bench, logging};

// mimalloc: glibc's malloc maps and unmaps every large temporary, which
// costs candle and polars dearly (see DESIGN.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        // `skuplan evaluate | head` closes the pipe early: not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skuplan: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Write command output to stdout; a closed pipe comes back as an error
/// instead of the panic `print!` would raise.
fn emit(text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn run() -> Result<ExitCode> {
    let paths = Paths::discover()?;
    let long_version = format!(
        "{}\nconfig: {}\ndata:   {}\nlogs:   {}",
        env!("CARGO_PKG_VERSION"),
        paths.config_file.display(),
        paths.data_dir.display(),
        paths.log_dir.join("skuplan.log").display()
    );
    // Built once per process; leaking it gives clap the 'static str it wants.
    let matches = Cli::command()
        .long_version(&*Box::leak(long_version.into_boxed_str()))
        .get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    let config_path = cli.config.clone().unwrap_or_else(|| paths.config_file.clone());
    let config = Config::load(&config_path)?;
    let _guard = logging::init(&paths.log_dir, &config.log.level)?;
    tracing::info!(command = ?cli.command, "start");

    let Some(command) = cli.command else {
        return tui(skuplan::cli::TuiArgs::default(), &config, &paths);
    };
    match command {
        Command::Tui(args) => tui(args, &config, &paths),
        Command::Import(args) => import(args, &config, &paths),
        Command::SampleData(args) => sample(args),
        Command::Evaluate(args) => evaluate(args, &config, &paths),
        Command::Plan(PlanCommand::Restock(args)) => plan_restock(args, &config, &paths),
        Command::Plan(PlanCommand::Deliveries(args)) => delivery_commands::plan_deliveries(args, &config, &paths),
        Command::Deliveries(cmd) => delivery_commands::deliveries(cmd, &config, &paths),
        Command::Approve(ApproveCommand::Restock(args)) => approve_restock(args, &paths),
        Command::Approve(ApproveCommand::Deliveries {
            vehicle,
            all,
            reject,
            comment,
        }) => delivery_commands::approve_deliveries(vehicle, all, reject, comment, &paths),
        Command::Export(ExportCommand::Restock { out, all }) => export_restock(&out, all, &paths),
        Command::Export(ExportCommand::Deliveries { out, all }) => {
            delivery_commands::export_deliveries(&out, all, &paths)
        }
        Command::Scenario(cmd) => scenario(cmd, &config, &paths),
        Command::Simulate(args) => simulate(args, &config, &paths),
        Command::Bench(BenchCommand::Vrp {
            solomon,
            time_limit,
            iterations,
            seed,
            only,
            routes_out,
        }) => {
            let budget = skuplan::plan::vrp::Budget {
                seed,
                seconds: time_limit,
                iterations,
            };
            bench::vrp_bench(&solomon, budget, only.as_deref(), routes_out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Model(ModelCommand::Import { dir, out, dtype }) => {
            engine_commands::model_import(&dir, out.as_ref(), dtype, &paths)
        }
        Command::Train(args) => engine_commands::train(args, &config, &paths),
        Command::Forecast(args) => engine_commands::forecast(args, &config),
        Command::Similar(args) => engine_commands::similar(args, &config, &paths),
        Command::Bench(BenchCommand::Train {
            model,
            batch,
            seq,
            steps,
            series,
            device,
        }) => engine_commands::bench_train(model.as_ref(), batch, &seq, steps, series, device),
        Command::Bench(BenchCommand::Coldstart {
            data,
            model,
            share,
            history,
            horizon,
            epochs,
        }) => engine_commands::bench_coldstart(data, model.as_ref(), share, history, horizon, epochs),
        Command::Bench(BenchCommand::Start { data }) => {
            let data = match data {
                Some(d) => d,
                None => skuplan::workspace::shipped_sample()
                    .ok_or_else(|| anyhow::anyhow!("no sample data here: pass --data DIR"))?,
            };
            emit(&bench::start_bench(&data)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Tui { rows, repeat }) => {
            emit(&bench::tui_bench(&rows, repeat)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Plan { lines }) => {
            bench::plan_bench(lines)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Import { rows, repeat }) => {
            bench::import_bench(rows, repeat)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Backtest {
            series,
            windows,
            horizon,
        }) => {
            bench::backtest_bench(&series, windows, horizon)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn tui(args: skuplan::cli::TuiArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("the workstation needs a terminal; for scripts use the commands (see --help)");
    }
    let ws = Workspace::open(paths.workspace_dir())?;
    let given: Vec<PathBuf> = args.data.iter().cloned().collect();
    let (sources, opts) = import_setup(&given, &args.map, config, &ws)?;
    let sources = DataSources::of_import(&sources, &opts);
    let model_dir = args.model.clone().or_else(skuplan::engine::encoder::default_model_dir);
    skuplan::tui::run(skuplan::tui::TuiOptions {
        workspace: ws,
        sources,
        import: opts,
        keys: config.keys.clone(),
        model_dir,
        mouse: config.ui.mouse,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The paths and options an import uses: the given paths, or the workspace's
/// data with its saved mapping; the config's mapping under the command line's.
fn import_setup(
    given: &[PathBuf],
    map_args: &MapArgs,
    config: &Config,
    ws: &Workspace,
) -> Result<(Vec<PathBuf>, ImportOptions)> {
    let (sources, saved_map, saved_date_format) = if given.is_empty() {
        let d = default_sources(ws)?;
        (d.paths, d.map, d.date_format)
    } else {
        (given.to_vec(), Default::default(), None)
    };
    let mut map = config.import.map.merged_with(&saved_map);
    if let Some(m) = &map_args.map {
        map = map.merged_with(m);
    }
    let opts = ImportOptions {
        map,
        date_format: map_args
            .date_format
            .clone()
            .or(saved_date_format)
            .or_else(|| config.import.date_format.clone()),
        product_defaults: config.products.clone(),
        default_warehouse: config.import.default_warehouse.clone(),
        ..ImportOptions::default()
    };
    Ok((sources, opts))
}

fn import(args: ImportArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    let (sources, opts) = import_setup(&args.paths, &args.map, config, &ws)?;
    let result = import_paths(&sources, &opts);
    let report = match &result {
        Ok(imported) => &imported.report,
        Err(failed) => &failed.report,
    };
    if args.json {
        emit(&format!("{}\n", serde_json::to_string_pretty(report)?))?;
    } else {
        emit(&report::render(report))?;
    }
    match result {
        Ok(_) if args.check => Ok(ExitCode::SUCCESS),
        Ok(_) => {
            ws.save_sources(&DataSources::of_import(&sources, &opts))?;
            emit(&format!("saved as the workspace's data: {}\n", ws.root.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => Ok(ExitCode::from(1)),
    }
}

fn sample(args: SampleArgs) -> Result<ExitCode> {
    let spec = SampleSpec {
        skus: args.skus,
        warehouses: args.warehouses,
        days: args.days,
        seed: args.seed,
        end: args.end,
        sales_format: match args.sales_format {
            SalesFormatArg::Csv => SalesFormat::Csv,
            SalesFormatArg::Parquet => SalesFormat::Parquet,
        },
    };
    let written = generate(&args.out, &spec)?;
    for (path, rows) in written.files {
        emit(&format!("{:>9} rows  {}\n", rows, path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn evaluate(args: EvaluateArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use skuplan::forecast::{backtest, baselines, report as fc_report};

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
        Some(dir) => Some(skuplan::engine::run::load_run(dir, None)?),
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
        skuplan::engine::run::add_to_backtest(r, &imported.dataset, &mut bt)?;
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
                let own = skuplan::engine::run::forecast(r, &imported.dataset, last)?;
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

/// Import the data (the given path or the workspace's), or print why not.
fn load_dataset(
    data: Option<&PathBuf>,
    map: &MapArgs,
    config: &Config,
    ws: &Workspace,
) -> Result<Option<skuplan::domain::Dataset>> {
    let given: Vec<PathBuf> = data.into_iter().cloned().collect();
    let (sources, opts) = import_setup(&given, map, config, ws)?;
    match import_paths(&sources, &opts) {
        Ok(i) => Ok(Some(i.dataset)),
        Err(failed) => {
            emit(&report::render(&failed.report))?;
            Ok(None)
        }
    }
}

/// The restock plan for a dataset, with a scenario's overrides if named.
fn restock_plan(
    ds: &skuplan::domain::Dataset,
    scenario: Option<&skuplan::plan::scenario::Scenario>,
    settings: &skuplan::plan::RestockSettings,
) -> Result<skuplan::plan::RestockPlan> {
    skuplan::plan::restock::plan_from_data(ds, scenario, settings).map_err(anyhow::Error::msg)
}

fn plan_restock(args: PlanRestockArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use skuplan::data::export::{restock_rows, write_csv};
    use skuplan::plan::approval::replay;

    let ws = Workspace::open(paths.workspace_dir())?;
    let Some(ds) = load_dataset(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    let mut settings = skuplan::plan::RestockSettings {
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
    let plan = restock_plan(&ds, scenario.as_ref(), &settings)?;
    ws.save_restock(&plan)?;
    let decisions = replay(&ws.audit_log().load()?.records, "restock");
    let rows = restock_rows(&plan, &decisions, true);
    emit(&skuplan::plan::restock::summary(&plan))?;
    if let Some(out) = &args.out {
        write_csv(out, &rows)?;
        emit(&format!("wrote {} lines to {}\n", rows.len(), out.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn approve_restock(args: ApproveArgs, paths: &Paths) -> Result<ExitCode> {
    use skuplan::data::export::restock_fingerprint;
    use skuplan::plan::approval::{Action, Record};

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
        skuplan::plan::approval::current_user(),
        log.path().display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn export_restock(out: &std::path::Path, all: bool, paths: &Paths) -> Result<ExitCode> {
    use skuplan::data::export::{restock_rows, write_csv};
    use skuplan::plan::approval::replay;

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

fn scenario(cmd: ScenarioCommand, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use skuplan::plan::scenario::{Change, Override, Scenario, compare};

    let ws = Workspace::open(paths.workspace_dir())?;
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
            let mut s = ws.load_scenario(&a.name)?;
            let to = a.to.unwrap_or(a.from);
            if to < a.from {
                anyhow::bail!("--to {to} is before --from {}", a.from);
            }
            let change = match (a.pct, a.qty) {
                (Some(p), _) => Change::Percent(p),
                (None, Some(q)) if q >= 0.0 => Change::Quantity(q),
                _ => anyhow::bail!("give --pct X or --qty N (0 or more)"),
            };
            let o = Override {
                skus: a.sku,
                warehouse: a.warehouse,
                from: a.from,
                to,
                change,
                reason: a.reason,
            };
            emit(&format!("scenario '{}': {}\n", s.name, o.describe()))?;
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
        ScenarioCommand::Compare { name, data, map } => {
            let s = ws.load_scenario(&name)?;
            let Some(ds) = load_dataset(data.as_ref(), &map, config, &ws)? else {
                return Ok(ExitCode::from(1));
            };
            let settings = skuplan::plan::RestockSettings::default();
            let base = restock_plan(&ds, None, &settings)?;
            let what_if = restock_plan(&ds, Some(&s), &settings)?;
            let c = compare(&base, &what_if);
            emit(&format!(
                "{:<22} {:>12} {:>12} {:>12}\n{:<22} {:>12} {:>12} {:>+12}\n{:<22} {:>12.2} {:>12.2} {:>+12.2}\n{:<22} {:>12} {:>12} {:>+12}\n",
                "",
                "base",
                name,
                "difference",
                "units ordered",
                c.base_qty,
                c.scenario_qty,
                c.scenario_qty as i64 - c.base_qty as i64,
                "order cost",
                c.base_cost,
                c.scenario_cost,
                c.scenario_cost - c.base_cost,
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

fn simulate(args: SimulateArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use skuplan::plan::simulate::{MethodChoice, SimulationSpec, render, simulate};

    let ws = Workspace::open(paths.workspace_dir())?;
    let methods = skuplan::forecast::all_baselines();
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
        settings: skuplan::plan::RestockSettings {
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
