//! `skuplan bench start`: the workstation's first start against a start from the workspace cache.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

/// `skuplan bench start`: the workstation's load on `data` with a cold
/// cache (import, backtest, forecasts, calibration, cache written) beside
/// the same load from the cache, in a throw-away workspace.
pub fn start_bench(data: &Path) -> Result<String> {
    use crate::data::ImportOptions;
    use crate::workspace::{DataSources, Workspace};

    let tmp = tempfile::tempdir()?;
    let ws = Workspace::open(tmp.path().join("ws"))?;
    let sources = DataSources {
        paths: vec![data.to_path_buf()],
        ..DataSources::default()
    };
    let opts = ImportOptions::default();
    let clock = Instant::now();
    let quick = crate::tui::load_with_cache(&sources, &opts, None, true).map_err(anyhow::Error::msg)?;
    let quick_s = clock.elapsed().as_secs_f64();
    drop(quick);
    let clock = Instant::now();
    let cold = crate::tui::load_with_cache(&sources, &opts, Some(&ws), false).map_err(anyhow::Error::msg)?;
    let cold_s = clock.elapsed().as_secs_f64();
    let cache_bytes: u64 = std::fs::read_dir(ws.root.join("cache"))?
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let clock = Instant::now();
    let warm = crate::tui::load_with_cache(&sources, &opts, Some(&ws), false).map_err(anyhow::Error::msg)?;
    let warm_s = clock.elapsed().as_secs_f64();
    if warm.base.forecasts != cold.base.forecasts {
        anyhow::bail!("the cached forecasts differ from the computed ones");
    }
    // The import alone: read and parsed afresh, against the kept one.
    let clock = Instant::now();
    let fresh = crate::data::import_paths(&sources.paths, &opts).map_err(|f| anyhow::anyhow!("{f}"))?;
    let fresh_s = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let kept = ws.import(&sources.paths, &opts).map_err(|f| anyhow::anyhow!("{f}"))?;
    let kept_s = clock.elapsed().as_secs_f64();
    if kept.dataset != fresh.dataset {
        anyhow::bail!("the kept import differs from a fresh one");
    }
    Ok(format!(
        "{} series: provisional plan {quick_s:.2} s (import, 28-day averages); \
         first start {cold_s:.2} s (import, backtest, forecasts, calibration, service levels); \
         from the cache {warm_s:.2} s ({:.1} MB); ratio cache/first {:.3}\n\
         the import alone: afresh {fresh_s:.2} s, from the cache {kept_s:.2} s; ratio {:.3}\n",
        cold.dataset.demand.len(),
        cache_bytes as f64 / 1e6,
        warm_s / cold_s.max(1e-9),
        kept_s / fresh_s.max(1e-9)
    ))
}
