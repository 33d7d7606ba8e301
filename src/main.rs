use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches};

use std::path::PathBuf;

use skuplan::cli::{BenchCommand, Cli, Command, EvaluateArgs, ImportArgs, MapArgs, SalesFormatArg, SampleArgs};
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

    match cli.command {
        Command::Import(args) => import(args, &config, &paths),
        Command::SampleData(args) => sample(args),
        Command::Evaluate(args) => evaluate(args, &config, &paths),
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
            let abs: Vec<_> = sources
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .collect();
            ws.save_sources(&DataSources {
                paths: abs,
                map: opts.map.clone(),
                date_format: opts.date_format.clone(),
            })?;
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
    let spec = backtest::BacktestSpec {
        horizon: args.horizon.max(1),
        windows: args.windows.max(1),
        step: args.step.unwrap_or(args.horizon).max(1),
        origin: args.origin,
        ..backtest::BacktestSpec::default()
    };
    let bt = backtest::run(&imported.dataset, &methods, &spec).map_err(anyhow::Error::msg)?;
    let champions = bt.champions();
    emit(&fc_report::render(&bt, &champions))?;
    if let Some(dir) = &args.out {
        let forecasts = backtest::champion_forecasts(&imported.dataset, &methods, &champions, spec.horizon);
        for p in fc_report::write_outputs(dir, &bt, &champions, &forecasts)? {
            emit(&format!("wrote {}\n", p.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
