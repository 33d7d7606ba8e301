//! The headless command line: the clap definitions (args.rs), one module per
//! command family, and the benchmarks (bench/). `main.rs` sets up the
//! allocator, config and logging and hands the parsed command to [`dispatch`].

pub mod args;
pub mod bench;
mod data;
mod deliveries;
mod engine;
mod evaluate;
mod plans;
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::{Config, Paths};
use crate::data::ImportOptions;
use crate::data::report;
use crate::workspace::{DataSources, Workspace, default_sources};
pub use args::Cli;
use args::{ApproveCommand, Command, ExportCommand, MapArgs, ModelCommand, PlanCommand, TuiArgs};

/// Run one command (the workstation when none is given).
/// An error in how a command was asked for (options that do not go
/// together, a value out of range, an unknown name among fixed ones): the
/// process exits 2, as for the options clap itself refuses. Every other
/// error (a file, the data, the workspace's state) exits 1.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error saying `message` (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// The exit code of an error: 2 for a usage error anywhere in its chain,
/// 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.is::<UsageError>()) { 2 } else { 1 }
}

/// `--out` checked before anything is written or saved (see
/// `check_export_path`): a path it refuses is a usage error.
fn check_out(out: &std::path::Path, data: &[PathBuf]) -> Result<()> {
    crate::plan::export::check_export_path(out, data).map_err(|e| usage(format!("{e:#}")))
}

pub fn dispatch(command: Option<Command>, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let Some(mut command) = command else {
        return tui(TuiArgs::default(), config, paths);
    };
    resolve_runs(&mut command, paths)?;
    match command {
        Command::Tui(args) => tui(args, config, paths),
        Command::Import(args) => data::import(args, config, paths),
        Command::SampleData(args) => data::sample(args),
        Command::Evaluate(args) => evaluate::evaluate(args, config, paths),
        Command::Plan(PlanCommand::Restock(args)) => plans::plan_restock(args, config, paths),
        Command::Plan(PlanCommand::Deliveries(args)) => deliveries::plan_deliveries(args, config, paths),
        Command::Deliveries(cmd) => deliveries::deliveries(cmd, config, paths),
        Command::Approve(ApproveCommand::Restock(args)) => plans::approve_restock(args, config, paths),
        Command::Approve(ApproveCommand::Deliveries {
            vehicle,
            all,
            reject,
            comment,
        }) => deliveries::approve_deliveries(vehicle, all, reject, comment, config, paths),
        Command::Export(ExportCommand::Restock { out, all, stale_ok }) => {
            plans::export_restock(&out, all, stale_ok, config, paths)
        }
        Command::Export(ExportCommand::Deliveries { out, all }) => {
            deliveries::export_deliveries(&out, all, config, paths)
        }
        Command::Scenario(cmd) => scenarios::scenario(cmd, config, paths),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Simulate(args) => plans::simulate(args, config, paths),
        Command::Model(ModelCommand::Import { dir, out, dtype }) => {
            engine::model_import(&dir, out.as_ref(), dtype, paths)
        }
        Command::Train(args) => engine::train(args, config, paths),
        Command::Refit(args) => engine::refit(args, config, paths),
        Command::Forecast(args) => engine::forecast(args, config),
        Command::Similar(args) => engine::similar(args, config, paths),
    }
}

/// Every `RUN` a command reads: a run folder, or the name of a run in the
/// workspace's `runs/` folder, where the workstation trains (`--run
/// 20261202-051300`). A folder given that exists is taken as it is.
fn resolve_runs(command: &mut Command, paths: &Paths) -> Result<()> {
    let runs = paths.workspace_dir().join("runs");
    let resolve = |run: &mut PathBuf| -> Result<()> {
        if run.exists() {
            return Ok(());
        }
        let named = runs.join(&*run);
        if run.is_relative() && named.join("run.json").is_file() {
            *run = named;
            return Ok(());
        }
        anyhow::bail!(
            "{}: no such training run (a run is a folder `skuplan train` wrote, or the name of one in {})",
            run.display(),
            runs.display()
        )
    };
    let run = match command {
        Command::Evaluate(a) => a.run.as_mut(),
        Command::Plan(PlanCommand::Restock(a)) => a.run.as_mut(),
        // --train writes the run: its folder need not exist yet.
        Command::Simulate(a) if !a.train => a.run.as_mut(),
        Command::Refit(a) => Some(&mut a.run),
        Command::Forecast(a) => Some(&mut a.run),
        Command::Scenario(args::ScenarioCommand::Compare { run, .. }) => run.as_mut(),
        _ => None,
    };
    match run {
        Some(r) => resolve(r),
        None => Ok(()),
    }
}

fn tui(args: TuiArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    use std::io::IsTerminal;
    // Key bindings are the workstation's: checked here, naming the file.
    crate::tui::keymap::Keymap::with_overrides(&config.keys)
        .map_err(|e| anyhow::anyhow!("config {}: {e}", paths.config_file.display()))?;
    if !std::io::stdout().is_terminal() {
        return Err(usage(
            "the workstation needs a terminal; for scripts use the commands (see --help)",
        ));
    }
    let ws = Workspace::open(paths.workspace_dir())?;
    let given: Vec<PathBuf> = args.data.iter().cloned().collect();
    let (sources, opts) = import_setup(&given, &args.map, config, &ws)?;
    let sources = DataSources::of_import(&sources, &opts);
    let model_dir = args.model.clone().or_else(crate::engine::encoder::default_model_dir);
    crate::tui::run(crate::tui::TuiOptions {
        workspace: ws,
        sources,
        import: opts,
        keys: config.keys.clone(),
        model_dir,
        mouse: config.ui.mouse,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Write command output to stdout; a closed pipe comes back as an error
/// instead of the panic `print!` would raise.
pub(crate) fn emit(text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The paths and options an import uses: the given paths, or the workspace's
/// data with its saved mapping; the config's mapping under the command line's.
pub(crate) fn import_setup(
    given: &[PathBuf],
    map_args: &MapArgs,
    config: &Config,
    ws: &Workspace,
) -> Result<(Vec<PathBuf>, ImportOptions)> {
    // Absolute, as the workspace saves them: the same files are then the
    // same import, and its kept copy is found, from any folder (the shipped
    // sample is found as `sample-data` in the current folder).
    let absolute = |paths: &[PathBuf]| -> Vec<PathBuf> {
        paths
            .iter()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .collect()
    };
    let (sources, saved_map, saved_date_format, saved_period, saved_strict) = if given.is_empty() {
        let d = default_sources(ws)?;
        (absolute(&d.paths), d.map, d.date_format, d.period, d.strict)
    } else {
        (absolute(given), Default::default(), None, None, false)
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
        exclude_skus: config.import.exclude_skus.clone(),
        period: map_args.period.or(saved_period),
        strict: map_args.strict || saved_strict,
        ..ImportOptions::default()
    };
    Ok((sources, opts))
}

/// Import the data (the given path or the workspace's), or print why not.
pub(crate) fn load_dataset(
    data: Option<&PathBuf>,
    map: &MapArgs,
    config: &Config,
    ws: &Workspace,
) -> Result<Option<crate::domain::Dataset>> {
    Ok(load_dataset_keyed(data, map, config, ws)?.map(|(d, _)| d))
}

/// The same, with the files' [`crate::workspace::data_key`] as read.
pub(crate) fn load_dataset_keyed(
    data: Option<&PathBuf>,
    map: &MapArgs,
    config: &Config,
    ws: &Workspace,
) -> Result<Option<(crate::domain::Dataset, Option<String>)>> {
    let given: Vec<PathBuf> = data.into_iter().cloned().collect();
    let (sources, opts) = import_setup(&given, map, config, ws)?;
    match ws.import_keyed(&sources, &opts) {
        Ok((i, key)) => Ok(Some((i.dataset, key))),
        Err(failed) => {
            emit(&report::render(&failed.report))?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan saved by the workstation records the key of the data it
    /// loaded, and the commands check it against the key they compute
    /// for the workspace's data: the two must agree on the same files, or
    /// every export of a workstation's plan would be refused as stale.
    #[test]
    fn the_workstation_and_the_commands_key_the_same_data_alike() {
        let home = tempfile::tempdir().unwrap();
        let ws = Workspace::open(home.path().join("ws")).unwrap();
        let config = Config::default();
        // As `tui` starts on a new workspace (the shipped sample).
        let (paths, opts) = import_setup(&[], &MapArgs::default(), &config, &ws).unwrap();
        let sources = DataSources::of_import(&paths, &opts);
        let loaded = crate::tui::load_with_cache(&sources, &opts, Some(&ws), true).unwrap();
        let commands = || {
            let (paths, opts) = import_setup(&[], &MapArgs::default(), &config, &ws).unwrap();
            crate::workspace::data_key(&paths, &opts)
        };
        assert!(loaded.data_key.is_some());
        assert_eq!(loaded.data_key, commands());
        // And once the workstation has remembered the data as its own.
        ws.save_sources(&loaded.sources).unwrap();
        assert_eq!(loaded.data_key, commands());
    }
}
