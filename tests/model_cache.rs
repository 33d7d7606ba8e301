//! A run's forecasts kept in the workspace between starts: read back as
//! they were saved, and forecast afresh when the run, its refit or the data
//! change, or the file is damaged.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use skuplan::cli::bench::synthetic_dataset;
use skuplan::engine::events::TrainJob;
use skuplan::engine::protocol::{MODEL_CACHE_PREFIX, model_forecasts, model_forecasts_cached};
use skuplan::engine::run;
use skuplan::engine::{DeviceChoice, Mode};
use skuplan::workspace::DataSources;

// This file uses some of the shared helpers.
#[allow(dead_code)]
mod engine_support;
use engine_support::{Quiet, small_cfg, tiny_model};

fn cached(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(MODEL_CACHE_PREFIX))
    });
    v
}

#[test]
fn a_runs_forecasts_are_kept_until_the_run_or_the_data_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = Arc::new(synthetic_dataset(8, 200, 1));
    let (_, last) = data.date_range().unwrap();
    let job = TrainJob {
        dataset: data.clone(),
        sources: DataSources::default(),
        train_end: Some(last - chrono::Days::new(21)),
        model_dir: tiny_model(dir.path()),
        config: small_cfg(Mode::Head, 1),
        out: dir.path().join("run"),
        device: DeviceChoice::Cpu,
        resume: false,
        text_cache: None,
    };
    run::train_run(&job, &mut Quiet).unwrap();
    let run = dir.path().join("run");
    let cache = dir.path().join("cache");
    let cpu = Some(DeviceChoice::Cpu);

    // Without a cache folder nothing is kept; with one, the first call
    // keeps exactly what it forecast.
    let fresh = model_forecasts(&run, &data, cpu).unwrap();
    assert_eq!(model_forecasts_cached(&run, &data, cpu, None).unwrap(), fresh);
    assert!(cached(&cache).is_empty());
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), fresh);
    let files = cached(&cache);
    assert_eq!(files.len(), 1, "{files:?}");

    // The next call reads the file, not the model: a file marked by hand
    // comes back as it is.
    let mut marked = fresh.clone();
    marked.future_from = "read from the cache".into();
    std::fs::write(&files[0], rmp_serde::to_vec(&marked).unwrap()).unwrap();
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), marked);

    // A damaged file is forecast again and rewritten.
    std::fs::write(&files[0], b"not msgpack").unwrap();
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), fresh);
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), fresh);

    // Other data: another file, and the old one is dropped.
    let mut other = (*data).clone();
    let s = &mut other.demand[0];
    let n = s.values.len();
    s.values[n - 1] += 5.0;
    let theirs = model_forecasts_cached(&run, &other, cpu, Some(&cache)).unwrap();
    assert_eq!(theirs, model_forecasts(&run, &other, cpu).unwrap());
    let after = cached(&cache);
    assert_eq!(after.len(), 1);
    assert_ne!(after, files);

    // A known event is a feature of the model: adding one forecasts again.
    let with_event_before = cached(&cache);
    other.events.push(skuplan::domain::Event {
        date: last,
        warehouse: None,
        name: "Christmas".into(),
        kind: "holiday".into(),
    });
    model_forecasts_cached(&run, &other, cpu, Some(&cache)).unwrap();
    assert_ne!(cached(&cache), with_event_before);

    // A run whose files changed (here its refit appeared) is forecast again.
    let before_refit = cached(&cache);
    std::fs::create_dir_all(run.join("refit")).unwrap();
    std::fs::write(run.join("refit").join("note"), b"x").unwrap();
    model_forecasts_cached(&run, &other, cpu, Some(&cache)).unwrap();
    assert_ne!(cached(&cache), before_refit);
}
