//! Logs go to a file in the log directory, never to the terminal: stdout
//! belongs to the TUI and to command output.

use std::path::Path;

use anyhow::{Context, Result};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Start logging to `dir/skuplan.log`. Keep the guard alive until exit so
/// the last lines are flushed. `SKUPLAN_LOG` overrides `level`. A log that
/// cannot be written (a read-only home) is no reason to stop: the command
/// runs without one, and `Err` says why (tracing-appender's own start
/// panicked there, for every command).
pub fn init(dir: &Path, level: &str) -> Result<WorkerGuard> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create log folder {}", dir.display()))?;
    let appender = tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::NEVER)
        .filename_prefix("skuplan.log")
        .build(dir)
        .with_context(|| format!("cannot write the log {}", dir.join("skuplan.log").display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("SKUPLAN_LOG")
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}
