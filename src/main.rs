//! The `skuplan` binary: the allocator, the paths, the config and the log,
//! then [`skuplan::cli::dispatch`] runs the command (the workstation when
//! none is given).

use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches};
use skuplan::cli::Cli;
use skuplan::config::{Config, Paths};
use skuplan::logging;

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
            // Not eprintln!: with the terminal gone (a dropped SSH
            // connection) it would panic.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "skuplan: {e:#}");
            ExitCode::from(skuplan::cli::exit_code(&e))
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
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
    // Messages about the config name the file read (`--config`,
    // SKUPLAN_CONFIG), not the default one.
    let paths = Paths {
        config_file: config_path,
        ..paths
    };
    let _guard = match logging::init(&paths.log_dir, &config.log.level) {
        Ok(g) => Some(g),
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skuplan: running without a log: {e} ({})",
                e.root_cause()
            );
            None
        }
    };
    tracing::info!(command = ?cli.command, "start");

    skuplan::cli::dispatch(cli.command, &config, &paths)
}
