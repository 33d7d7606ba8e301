//! How a trained run enters the plans: it is judged on days after its train
//! end (which it never learnt or validated from), beside each series'
//! baseline champion from the same origin; then it is refit on all data up
//! to the last day with the same settings and as many epochs as its best,
//! and the refit forecasts from the last day wherever the run won.
//!
//! Layout: the refit is a whole run in `RUN/refit/`; `RUN/run.json` records
//! it under `refit` (its train end, epochs and data fingerprint).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;

use super::device::DeviceChoice;
use super::events::{RunSummary, TrainJob};
use super::run::{self, LoadedRun, METHOD, RefitInfo, RunMeta};
use super::train::{self, Control};
use crate::domain::Dataset;
use crate::forecast::QuantileForecast;
use crate::plan::base::ModelForecasts;

/// The folder of a run's refit.
pub const REFIT_DIR: &str = "refit";

/// The protocol, in the words README and `run.json` use.
pub const PROTOCOL: &str = "judged on the days after its train end beside each series' baseline champion from \
     the same origin; refit on all data up to the last day with the same settings and its best epoch count; the \
     refit forecasts from the last day where the run is champion";

/// Refuse data other than the run learnt from: the data up to the run's
/// train end must have the run's fingerprint.
pub fn check_data(dir: &Path, meta: &RunMeta, data: &Dataset) -> Result<()> {
    let (_, last) = data
        .date_range()
        .ok_or_else(|| anyhow!("the data has no sales history"))?;
    let paths = || {
        meta.sources
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if meta.period != data.period() {
        bail!(
            "{}: the run learnt from {} data and this data is {}; train a run on this data",
            dir.display(),
            meta.period.describe(),
            data.period().describe()
        );
    }
    if last < meta.train_end {
        bail!(
            "{}: the run learnt from data up to {}, and this data ends on {last}: it is not the data the run was \
             trained on ({}); train a run on this data",
            dir.display(),
            meta.train_end,
            paths()
        );
    }
    let found = train::fingerprint(data, meta.train_end);
    if found != meta.fingerprint {
        bail!(
            "{}: the run was trained on other data than this: up to its train end {} this data has fingerprint \
             {found}, the run learnt from {} ({}); import the data it learnt from, or train a run on this data",
            dir.display(),
            meta.train_end,
            meta.fingerprint,
            paths()
        );
    }
    Ok(())
}

/// The run's refit, with the day it learnt up to, when it learnt from this
/// very data (its fingerprint up to that day) and has a finished epoch:
/// either up to the data's last day ([`usable_refit`]) or up to an earlier
/// one ([`earlier_refit`]). Reads the refit's `run.json` once.
pub fn refit_of(dir: &Path, data: &Dataset) -> Option<(PathBuf, NaiveDate)> {
    let (_, last) = data.date_range()?;
    let refit = dir.join(REFIT_DIR);
    let meta = run::read_meta(&refit).ok()?;
    (meta.train_end <= last && meta.best_epoch > 0 && train::fingerprint(data, meta.train_end) == meta.fingerprint)
        .then_some((refit, meta.train_end))
}

/// The refit of a run, when there is one for exactly this data up to `last`.
pub fn usable_refit(dir: &Path, data: &Dataset) -> Option<PathBuf> {
    let (_, last) = data.date_range()?;
    refit_of(dir, data).filter(|(_, end)| *end == last).map(|(r, _)| r)
}

/// The run's refit when it learnt from this very data up to a day before
/// its last (days were added since), with the day it learnt up to: its
/// weights are newer than the run's own, so the plan forecasts with them
/// until the run is refit again.
pub fn earlier_refit(dir: &Path, data: &Dataset) -> Option<(PathBuf, NaiveDate)> {
    let (_, last) = data.date_range()?;
    refit_of(dir, data).filter(|(_, end)| *end < last)
}

/// Refit the run in `dir` on `data` up to `until` (default: its last day):
/// the same configuration, epochs = the run's best epoch, no early stop;
/// text embeddings kept in the file `text_cache` when given.
/// Trains into a fresh folder and only then replaces `RUN/refit`, so a
/// refit cut short leaves the previous one whole.
pub fn refit(
    dir: &Path,
    data: Arc<Dataset>,
    (until, text_cache): (Option<NaiveDate>, Option<&Path>),
    device: DeviceChoice,
    control: &mut dyn Control,
) -> Result<RunSummary> {
    let mut meta = run::read_meta(dir)?;
    if meta.best_epoch == 0 {
        bail!("{}: the run has no finished epoch to refit from", dir.display());
    }
    check_data(dir, &meta, &data)?;
    let (_, last) = data
        .date_range()
        .ok_or_else(|| anyhow!("the data has no sales history"))?;
    let until = until.unwrap_or(last);
    if until > last {
        bail!("--until {until} is after the last day of data ({last})");
    }
    if until <= meta.train_end {
        bail!(
            "{}: the run already learnt up to {}; a refit needs later days (up to {until} asked)",
            dir.display(),
            meta.train_end
        );
    }
    let mut cfg = meta.train.clone();
    cfg.epochs = meta.best_epoch;
    cfg.patience = cfg.epochs + 1;
    remove_abandoned(dir);
    let fresh = dir.join(format!("{REFIT_DIR}.new-{}", std::process::id()));
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).with_context(|| format!("removing {}", fresh.display()))?;
    }
    let job = TrainJob {
        dataset: data,
        sources: meta.sources.clone(),
        train_end: Some(until),
        model_dir: meta.model_dir.clone(),
        config: cfg,
        out: fresh.clone(),
        device,
        resume: false,
        text_cache: text_cache.map(Path::to_path_buf),
    };
    let summary = match run::train_run(&job, control) {
        Ok(s) if s.stop != super::events::Stop::Cancelled => s,
        outcome => {
            let _ = std::fs::remove_dir_all(&fresh);
            // Cancelled while it trained or while it encoded its texts:
            // the same for the planner.
            return Err(match outcome {
                Err(e) if !e.is::<super::events::Cancelled>() => e,
                _ => super::events::Cancelled(super::events::REFIT_CANCELLED).into(),
            });
        }
    };
    // The old refit is moved aside, not deleted, until the new one is in
    // place: a process killed between the two keeps one of them (see
    // `remove_abandoned`).
    let target = dir.join(REFIT_DIR);
    let old = dir.join(format!("{REFIT_DIR}.old-{}", std::process::id()));
    if target.exists() {
        std::fs::rename(&target, &old).with_context(|| format!("replacing {}", target.display()))?;
    }
    if let Err(e) = std::fs::rename(&fresh, &target) {
        let _ = std::fs::rename(&old, &target);
        return Err(e).with_context(|| format!("moving the refit into {}", target.display()));
    }
    let _ = std::fs::remove_dir_all(&old);
    let refit_meta = run::read_meta(&target)?;
    meta.refit = Some(RefitInfo {
        train_end: until,
        epochs: refit_meta.epochs_done,
        fingerprint: refit_meta.fingerprint,
        seconds: summary.train_seconds,
        judged_on: Some((
            meta.period.step(meta.period.floor(meta.train_end), 1),
            meta.period
                .step(meta.period.floor(meta.train_end), meta.horizon as i64)
                .min(until),
        )),
        protocol: PROTOCOL.to_string(),
    });
    run::write_meta(dir, &meta)?;
    Ok(RunSummary { dir: target, ..summary })
}

/// A run's forecasts for a plan: on the days after its train end (to judge
/// it), and from the last day of data (the refit's where there is one for
/// this data, else the run's own weights, which is said).
pub fn model_forecasts(dir: &Path, data: &Dataset, device: Option<DeviceChoice>) -> Result<ModelForecasts> {
    let loaded = run::load_run(dir, device)?;
    check_data(dir, &loaded.meta, data)?;
    let (_, last) = data
        .date_range()
        .ok_or_else(|| anyhow!("the data has no sales history"))?;
    if loaded.meta.train_end >= last {
        bail!(
            "{}: the run learnt up to {}, the last day of this data, so no day is left to judge it on; train it \
             with an earlier --train-end (by default `skuplan train` holds out the last {} and refits)",
            dir.display(),
            loaded.meta.train_end,
            loaded.meta.period.count(loaded.meta.horizon)
        );
    }
    // The run's own weights' quantiles from `origin` (its train end when None).
    let quantiles = |origin: Option<NaiveDate>| -> Result<Vec<Option<QuantileForecast>>> {
        Ok(run::forecast(&loaded, data, origin)?
            .into_iter()
            .map(|f| {
                Some(QuantileForecast {
                    p10: f.p10,
                    p50: f.p50,
                    p90: f.p90,
                })
            })
            .collect())
    };
    let held_out = quantiles(None)?;
    // The same weights from each week inside the held-out days: what a
    // plan made on those days would have had (for the run's safety stock).
    let period = loaded.meta.period;
    let week = period.from_days(7).max(1) as i64;
    let mut reviews = Vec::new();
    for k in 1.. {
        let day = period.step(loaded.meta.train_end, k * week);
        if day >= last || (k * week) as usize >= loaded.meta.horizon {
            break;
        }
        reviews.push((day, quantiles(Some(day))?));
    }
    let (future, future_from) = future_forecast(dir, &loaded, data, device)?;
    Ok(ModelForecasts {
        name: METHOD.to_string(),
        run: run_label(&loaded),
        held_out_origin: loaded.meta.train_end,
        held_out,
        future: future.into_iter().map(Some).collect(),
        future_from,
        reviews,
    })
}

/// The forecast a plan uses: from the data's last day, with the run's
/// refit for this data (up to that day, or an earlier one when days were
/// added since), else the run's own weights; and which, in words.
pub fn future_forecast(
    dir: &Path,
    loaded: &LoadedRun,
    data: &Dataset,
    device: Option<DeviceChoice>,
) -> Result<(Vec<crate::domain::SeriesForecast>, String)> {
    let (_, last) = data
        .date_range()
        .ok_or_else(|| anyhow!("the data has no sales history"))?;
    Ok(match refit_of(dir, data) {
        Some((r, until)) if until == last => {
            let refit = run::load_run(&r, device)?;
            (
                run::forecast(&refit, data, Some(last))?,
                format!("refit up to {last}, {}", super::events::epochs(refit.meta.epochs_done)),
            )
        }
        Some((r, until)) => (
            run::forecast(&run::load_run(&r, device)?, data, Some(last))?,
            format!("no refit for this data: its refit up to {until} (learnt up to {until}) from {last}"),
        ),
        None => (
            run::forecast(loaded, data, Some(last))?,
            format!(
                "no refit for this data: the run's own weights (learnt up to {}) from {last}",
                loaded.meta.train_end
            ),
        ),
    })
}

/// [`model_forecasts`], kept in `cache` (the workspace's cache folder)
/// between starts: a workstation that opens with an active run, and each
/// `plan restock` with one, would otherwise forecast every series five times
/// again (about a minute on online-retail-2010 on 2 cores). The file is
/// keyed on the data ([`hash_data`]), every file of the run, its refit and
/// its encoder (names, sizes, times; `run.json` whole) and the build of
/// skuplan, so a retrained or refit run, other data, another encoder or
/// another binary forecast afresh.
///
/// [`hash_data`]: crate::plan::base::hash_data An unreadable
/// file is ignored; a cache that cannot be written is only logged.
pub fn model_forecasts_cached(
    dir: &Path,
    data: &Dataset,
    device: Option<DeviceChoice>,
    cache: Option<&Path>,
) -> Result<ModelForecasts> {
    let Some(cache) = cache else {
        return model_forecasts(dir, data, device);
    };
    if let Some(m) = cached_model_forecasts(dir, data, cache) {
        return Ok(m);
    }
    let m = model_forecasts(dir, data, device)?;
    if let Err(e) = keep_model_forecasts(dir, data, cache, &m) {
        tracing::warn!("the run's forecasts were not cached: {e:#}");
    }
    Ok(m)
}

/// Keep `m`, the run's forecasts of `data`, in `cache` (atomically) for
/// [`cached_model_forecasts`]. One run's forecasts are kept: the active
/// run's, for this data; an older file is dropped.
pub fn keep_model_forecasts(dir: &Path, data: &Dataset, cache: &Path, m: &ModelForecasts) -> Result<()> {
    crate::fsio::save_keyed(cache, MODEL_CACHE_PREFIX, &forecasts_key(dir, data), m)
}

/// The run's forecasts of `data` as [`model_forecasts_cached`] kept them in
/// `cache`, when a file made for this run, its files, this data and this
/// build is there; None otherwise. Forecasts nothing and loads no model.
pub fn cached_model_forecasts(dir: &Path, data: &Dataset, cache: &Path) -> Option<ModelForecasts> {
    crate::fsio::load_keyed(cache, MODEL_CACHE_PREFIX, &forecasts_key(dir, data))
}

/// File names of [`model_forecasts_cached`]'s cache start so.
pub const MODEL_CACHE_PREFIX: &str = "model-forecasts-";

/// What a run's forecasts of `data` depend on, as a hex string.
fn forecasts_key(dir: &Path, data: &Dataset) -> String {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    h.write(b"model-forecasts-2");
    crate::plan::base::hash_build(&mut h);
    crate::plan::base::hash_data(&mut h, data);
    h.write(
        std::path::absolute(dir)
            .unwrap_or_else(|_| dir.to_path_buf())
            .as_os_str()
            .as_encoded_bytes(),
    );
    h.write(&std::fs::read(dir.join("run.json")).unwrap_or_default());
    hash_files(&mut h, dir, 0);
    // The encoder it reads texts with lives outside the run.
    if let Ok(meta) = run::read_meta(dir) {
        h.write(meta.model_dir.as_os_str().as_encoded_bytes());
        hash_files(&mut h, &meta.model_dir, 0);
    }
    format!("{:016x}", h.finish())
}

/// Names, sizes and modification times of the files under `dir`, in name
/// order (a run's weights, checkpoints and refit).
fn hash_files(h: &mut impl std::hash::Hasher, dir: &Path, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(m) = e.metadata() else { continue };
        h.write(e.file_name().as_encoded_bytes());
        h.write_u8(0);
        if m.is_dir() {
            if depth < 4 {
                hash_files(h, &e.path(), depth + 1);
            }
        } else {
            h.write_u64(m.len());
            h.write_u128(crate::fsio::modified_nanos(&m).unwrap_or(0));
        }
    }
}

/// The run's folder name, as tables show it.
pub fn run_label(run: &LoadedRun) -> String {
    run.dir
        .file_name()
        .map_or_else(|| run.dir.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Remove the folders of refits whose process was killed (`refit.new-PID`
/// with no such process). Only where the process table can be read
/// (Linux); elsewhere they stay, and are ignored.
fn remove_abandoned(dir: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let dead = |pid: &str| pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists();
    let mut entries: Vec<_> = entries.flatten().collect();
    // The refit moved aside first: put back where the new one never
    // arrived, else dropped.
    entries.sort_by_key(|e| !e.file_name().to_string_lossy().contains(".old-"));
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(&format!("{REFIT_DIR}.old-"))
            && dead(pid)
        {
            let target = dir.join(REFIT_DIR);
            if target.exists() || std::fs::rename(e.path(), &target).is_err() {
                let _ = std::fs::remove_dir_all(e.path());
            } else {
                tracing::info!(folder = %target.display(), "put back the refit a killed refit had moved aside");
            }
            continue;
        }
        let Some(pid) = name.strip_prefix(&format!("{REFIT_DIR}.new-")) else {
            continue;
        };
        if dead(pid) {
            tracing::info!(folder = %e.path().display(), "removing an abandoned refit");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refit killed while it swapped folders: the old refit it had moved
    /// aside comes back where the new one never arrived, and is dropped
    /// where it did; a half-trained new one is dropped. Process ids over
    /// Linux's 2^22 are nobody's.
    #[test]
    fn folders_a_killed_refit_left_are_put_back_or_dropped() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let make = |name: &str, mark: &str| {
            std::fs::create_dir_all(d.join(name)).unwrap();
            std::fs::write(d.join(name).join("run.json"), mark).unwrap();
        };
        make("refit.old-999999999", "old");
        make("refit.new-999999998", "half");
        remove_abandoned(d);
        assert_eq!(std::fs::read_to_string(d.join("refit/run.json")).unwrap(), "old");
        assert!(!d.join("refit.old-999999999").exists());
        assert!(!d.join("refit.new-999999998").exists());

        make("refit.old-999999997", "older");
        remove_abandoned(d);
        assert_eq!(std::fs::read_to_string(d.join("refit/run.json")).unwrap(), "old");
        assert!(!d.join("refit.old-999999997").exists());

        // A live process's folders are its own.
        let mine = format!("refit.old-{}", std::process::id());
        make(&mine, "mine");
        remove_abandoned(d);
        assert!(d.join(&mine).exists());
    }
}
