use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches};

use skuplan::cli::{BenchCommand, Cli, Command, ImportArgs, SalesFormatArg, SampleArgs};
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
        Err(e) => {
            eprintln!("skuplan: {e:#}");
            ExitCode::from(2)
        }
    }
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
        Command::Bench(BenchCommand::Import { rows, repeat }) => {
            bench::import_bench(rows, repeat)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn import(args: ImportArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    // No paths: the data skuplan opens by default, with its saved mapping.
    let (sources, saved_map, saved_date_format) = if args.paths.is_empty() {
        let d = default_sources(&ws)?;
        (d.paths, d.map, d.date_format)
    } else {
        (args.paths.clone(), Default::default(), None)
    };
    let mut map = config.import.map.merged_with(&saved_map);
    if let Some(m) = &args.map.map {
        map = map.merged_with(m);
    }
    let opts = ImportOptions {
        map,
        date_format: args
            .map
            .date_format
            .clone()
            .or(saved_date_format)
            .or_else(|| config.import.date_format.clone()),
        product_defaults: config.products.clone(),
        default_warehouse: config.import.default_warehouse.clone(),
        ..ImportOptions::default()
    };
    let result = import_paths(&sources, &opts);
    let report = match &result {
        Ok(imported) => &imported.report,
        Err(failed) => &failed.report,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report::render(report));
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
            println!("saved as the workspace's data: {}", ws.root.display());
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
        println!("{:>9} rows  {}", rows, path.display());
    }
    Ok(ExitCode::SUCCESS)
}
