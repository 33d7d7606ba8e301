//! `skuplan import` and `skuplan sample-data`.

use std::process::ExitCode;

use anyhow::Result;

use super::args::{ImportArgs, SalesFormatArg, SampleArgs};
use super::{emit, import_setup};
use crate::config::{Config, Paths};
use crate::data::import_paths;
use crate::data::report;
use crate::data::sample::{SalesFormat, SampleSpec, generate};
use crate::workspace::{DataSources, Workspace};

pub fn import(args: ImportArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    // An import replaces the workspace's data: not under a workstation.
    let _lock = if args.check { None } else { Some(ws.lock()?) };
    let (sources, opts) = import_setup(&args.paths, &args.map, config, &ws)?;
    // A check writes nothing; an import is kept for the next start.
    let result = if args.check {
        import_paths(&sources, &opts)
    } else {
        ws.import(&sources, &opts)
    };
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

pub fn sample(args: SampleArgs) -> Result<ExitCode> {
    let spec = SampleSpec {
        skus: args.skus as usize,
        warehouses: args.warehouses as usize,
        days: args.days as usize,
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
