//! Where state lives on disk: data sources, runs, plans, scenarios, the
//! audit log, the cache and the lock. Every file is written through
//! [`crate::fsio::atomic_write`], so a crash leaves the old file or the new
//! one, never half of one.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::data::ColumnMap;
use crate::fsio::atomic_write;
use crate::plan::approval::AuditLog;
use crate::plan::restock::RestockPlan;
use crate::plan::scenario::Scenario;

mod imports;
pub use imports::{data_key, import_key};

/// What the workspace remembers about the data the planner works on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSources {
    /// Files and folders last imported successfully.
    pub paths: Vec<PathBuf>,
    /// The column mapping they were imported with.
    #[serde(default)]
    pub map: ColumnMap,
    #[serde(default)]
    pub date_format: Option<String>,
    /// `--period` as imported (detected from the dates when `None`).
    #[serde(default)]
    pub period: Option<crate::domain::PeriodKind>,
    /// `--strict` as imported.
    #[serde(default)]
    pub strict: bool,
}

impl DataSources {
    /// What an import read, its paths made absolute so the workspace (or a
    /// training run) finds them from any folder.
    pub fn of_import(paths: &[PathBuf], opts: &crate::data::ImportOptions) -> DataSources {
        DataSources {
            paths: paths
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .collect(),
            map: opts.map.clone(),
            date_format: opts.date_format.clone(),
            period: opts.period,
            strict: opts.strict,
        }
    }

    /// The options to read these sources with: their own mapping, date
    /// format, period and strictness over `base`'s.
    pub fn import_options(&self, base: &crate::data::ImportOptions) -> crate::data::ImportOptions {
        crate::data::ImportOptions {
            map: base.map.merged_with(&self.map),
            date_format: self.date_format.clone().or_else(|| base.date_format.clone()),
            period: self.period.or(base.period),
            strict: self.strict || base.strict,
            ..base.clone()
        }
    }
}

/// The sample data shipped with skuplan: in the current folder, or in the
/// source tree this binary was built from.
pub fn shipped_sample() -> Option<PathBuf> {
    [
        PathBuf::from("sample-data"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

/// The training run plans use beside the baselines, and whether it is on
/// (`skuplan plan restock --run`, or the workstation's toggle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveRun {
    pub run: PathBuf,
    pub on: bool,
}

/// What the Training tab's `m` and `+`/`-` chose, kept between starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingChoice {
    /// The mode's name as `train --mode` takes it ("head", "top-k", "full"):
    /// the workspace knows nothing of the engine.
    pub mode: String,
    pub epochs: usize,
}

/// The planner's workspace: a folder under the data directory.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
}

/// File names of the plan's slow half in the cache start so.
const PLAN_BASE_PREFIX: &str = "planbase-";
/// The plan base of other settings than the default (a `plan restock
/// --budget ...`) has a slot of its own, so that it does not evict the
/// workstation's, which always plans with the defaults.
const OTHER_PLAN_BASE_PREFIX: &str = "settings-planbase-";

/// The cache slot of a plan base computed with `settings`.
fn plan_base_prefix(settings: &crate::plan::RestockSettings) -> &'static str {
    let default = crate::plan::RestockSettings::default();
    if serde_json::to_vec(settings).ok() == serde_json::to_vec(&default).ok() {
        PLAN_BASE_PREFIX
    } else {
        OTHER_PLAN_BASE_PREFIX
    }
}

impl Workspace {
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        crate::fsio::create_dir_durably(&root)
            .with_context(|| format!("cannot create workspace folder {}", root.display()))?;
        Ok(Workspace { root })
    }

    fn sources_path(&self) -> PathBuf {
        self.root.join("sources.json")
    }

    /// The files and folders an export must not land on: those imported
    /// (the workspace's sources) and `data` (a command's `--data`).
    /// Also the data the saved plans were made from (a `plan --data`
    /// without an `import`), and the workspace's own files: everything but
    /// its `exports/` folder (an export over `audit.log` lost every
    /// decision).
    pub fn data_paths(&self, data: Option<&PathBuf>) -> Vec<PathBuf> {
        let mut paths = self.load_sources().ok().flatten().map(|s| s.paths).unwrap_or_default();
        paths.extend(data.cloned());
        if let Ok(Some(p)) = self.load_restock() {
            paths.extend(p.data);
        }
        if let Ok(Some(p)) = self.load_deliveries() {
            paths.extend(p.data);
            paths.extend(p.matrix_file);
        }
        if let Ok(entries) = fs::read_dir(&self.root) {
            paths.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.file_name().is_some_and(|n| n != "exports")),
            );
        }
        paths
    }

    /// The data sources saved by the last successful import, if any. A file
    /// that cannot be read is an error, never silently replaced.
    pub fn load_sources(&self) -> Result<Option<DataSources>> {
        let path = self.sources_path();
        if !path.exists() {
            return Ok(None);
        }
        let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        match serde_json::from_str(&text) {
            Ok(s) => Ok(Some(s)),
            Err(e) => bail!(
                "{} is damaged ({e}); it was left as it is: move it away to start afresh",
                path.display()
            ),
        }
    }

    pub fn save_sources(&self, sources: &DataSources) -> Result<()> {
        let json = serde_json::to_vec_pretty(sources)?;
        atomic_write(&self.sources_path(), &json)
    }

    fn active_run_path(&self) -> PathBuf {
        self.root.join("active_run.json")
    }

    fn training_choice_path(&self) -> PathBuf {
        self.root.join("training.json")
    }

    /// The mode and epochs last chosen on the Training tab, if any.
    pub fn load_training_choice(&self) -> Result<Option<TrainingChoice>> {
        load_json(&self.training_choice_path())
    }

    pub fn save_training_choice(&self, choice: &TrainingChoice) -> Result<()> {
        atomic_write(&self.training_choice_path(), &serde_json::to_vec_pretty(choice)?)
    }

    /// The active run, if one was ever chosen. A damaged file is an error.
    pub fn load_active_run(&self) -> Result<Option<ActiveRun>> {
        load_json(&self.active_run_path())
    }

    pub fn save_active_run(&self, active: &ActiveRun) -> Result<()> {
        atomic_write(&self.active_run_path(), &serde_json::to_vec_pretty(active)?)
    }

    /// The run plans should use now: the active one, when it is on.
    pub fn run_in_use(&self) -> Result<Option<PathBuf>> {
        Ok(self.load_active_run()?.filter(|a| a.on).map(|a| a.run))
    }

    /// The audit log of every approval decision.
    pub fn audit_log(&self) -> AuditLog {
        AuditLog::open(self.root.join("audit.log"))
    }

    pub fn restock_path(&self) -> PathBuf {
        self.root.join("plans").join("restock.json")
    }

    pub fn save_restock(&self, plan: &RestockPlan) -> Result<()> {
        atomic_write(&self.restock_path(), &serde_json::to_vec(plan)?)
    }

    pub fn load_restock(&self) -> Result<Option<RestockPlan>> {
        load_json(&self.restock_path())
    }

    fn deliveries_path(&self) -> PathBuf {
        self.root.join("plans").join("deliveries.json")
    }

    /// Where the plan for `date` waits while another day's is the plan.
    fn dated_deliveries_path(&self, date: Option<chrono::NaiveDate>) -> PathBuf {
        let day = date.map_or_else(|| "undated".to_string(), |d| d.to_string());
        self.root.join("plans").join(format!("deliveries-{day}.json"))
    }

    /// Save `plan` as the delivery plan. A saved plan for another day with
    /// the planner's work on it, routes locked (a move locks its route
    /// too) or decided in the audit log, is first kept aside under its
    /// day, so that planning another day loses none of it
    /// ([`Workspace::deliveries_for`] gives it back); its day and locked
    /// routes are returned, for the caller to say so.
    pub fn save_deliveries(
        &self,
        plan: &crate::plan::delivery::DeliveryPlan,
    ) -> Result<Option<(Option<chrono::NaiveDate>, usize)>> {
        // An unreadable plan is replaced, as before; it holds nothing to keep.
        let old = self.load_deliveries().ok().flatten().filter(|o| o.date != plan.date);
        let mut aside = None;
        if let Some(old) = old {
            let path = self.dated_deliveries_path(old.date);
            let locked = old.routes.iter().filter(|r| r.locked).count();
            let decided = || {
                let records = self.audit_log().load().map(|l| l.records).unwrap_or_default();
                let decisions = crate::plan::approval::replay(&records, crate::plan::delivery::PLAN);
                old.routes.iter().any(|r| decisions.contains_key(&old.key(r)))
            };
            if locked > 0 || decided() {
                atomic_write(&path, &serde_json::to_vec(&old)?)?;
                aside = Some((old.date, locked));
            } else if path.exists() {
                // Older edits of that day were undone since.
                std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
        atomic_write(&self.deliveries_path(), &serde_json::to_vec(plan)?)?;
        Ok(aside)
    }

    pub fn load_deliveries(&self) -> Result<Option<crate::plan::delivery::DeliveryPlan>> {
        load_json(&self.deliveries_path())
    }

    /// The saved delivery plan for `date`: the plan, if it is that day's,
    /// else one kept aside for that day when another day was planned.
    pub fn deliveries_for(
        &self,
        date: Option<chrono::NaiveDate>,
    ) -> Result<Option<crate::plan::delivery::DeliveryPlan>> {
        if let Some(p) = self.load_deliveries()?.filter(|p| p.date == date) {
            return Ok(Some(p));
        }
        load_json(&self.dated_deliveries_path(date))
    }

    /// Caches: recomputed whenever they are missing or unreadable.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// Where product-text embeddings are kept between starts (see
    /// `engine::text_cache`).
    pub fn embeddings_path(&self) -> PathBuf {
        self.cache_dir().join("embeddings.msgpack")
    }

    /// Where the frozen encoder's embeddings of training texts (product
    /// text with calendar words) are kept between runs: apart from the
    /// product texts', so neither use evicts the other's.
    pub fn training_embeddings_path(&self) -> PathBuf {
        self.cache_dir().join("train-embeddings.msgpack")
    }

    /// The baseline forecasts and backtest saved for data with this key
    /// (see [`PlanBase::key`]); `None` when there is none or it cannot be
    /// read (a cache: it is then recomputed, never trusted half-read).
    ///
    /// [`PlanBase::key`]: crate::plan::base::PlanBase::key
    pub fn load_plan_base(&self, key: &str) -> Option<crate::plan::base::PlanBase> {
        let mut base: crate::plan::base::PlanBase = [PLAN_BASE_PREFIX, OTHER_PLAN_BASE_PREFIX]
            .iter()
            .find_map(|prefix| crate::fsio::load_keyed(&self.cache_dir(), prefix, key))?;
        base.settings.calibration = base.calibration.clone();
        Some(base)
    }

    /// Save the baseline forecasts for data with this key, computed with
    /// `settings`, atomically, and drop the caches of other data in the
    /// same slot (the default settings' or the others').
    pub fn save_plan_base(
        &self,
        key: &str,
        settings: &crate::plan::RestockSettings,
        base: &crate::plan::base::PlanBase,
    ) -> Result<()> {
        crate::fsio::save_keyed(&self.cache_dir(), plan_base_prefix(settings), key, base)
    }

    /// The plan's slow half of `ds` under `settings`: from the cache when
    /// it holds this data, settings and build, else computed and kept.
    pub fn plan_base(
        &self,
        ds: &crate::domain::Dataset,
        settings: &crate::plan::RestockSettings,
    ) -> Result<crate::plan::base::PlanBase, String> {
        let key = crate::plan::base::PlanBase::key(ds, settings);
        match self.load_plan_base(&key) {
            Some(b) => Ok(b),
            None => self.compute_plan_base(ds, settings, &key),
        }
    }

    /// Compute the plan's slow half and keep it under `key` (a cache that
    /// cannot be written is only logged).
    pub fn compute_plan_base(
        &self,
        ds: &crate::domain::Dataset,
        settings: &crate::plan::RestockSettings,
        key: &str,
    ) -> Result<crate::plan::base::PlanBase, String> {
        let base = crate::plan::base::PlanBase::compute(ds, settings)?;
        if let Err(e) = self.save_plan_base(key, settings, &base) {
            tracing::warn!("could not save the plan cache: {e:#}");
        }
        Ok(base)
    }

    pub fn scenario_path(&self, name: &str) -> Result<PathBuf> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            bail!("scenario name '{name}': use 1 to 64 letters, digits, '-' or '_'");
        }
        Ok(self.root.join("scenarios").join(format!("{name}.json")))
    }

    pub fn save_scenario(&self, s: &Scenario) -> Result<()> {
        atomic_write(&self.scenario_path(&s.name)?, &serde_json::to_vec_pretty(s)?)
    }

    pub fn load_scenario(&self, name: &str) -> Result<Scenario> {
        self.scenario_if_any(name)?
            .with_context(|| format!("no scenario called '{name}' (see `skuplan scenario list`)"))
    }

    /// The scenario named, `None` when there is none; an error naming the
    /// file when it does not parse or holds a what-if that cannot mean
    /// anything (a file edited by hand: +1e300 %, a range ending before
    /// it starts), which was applied as written.
    pub fn scenario_if_any(&self, name: &str) -> Result<Option<Scenario>> {
        let p = self.scenario_path(name)?;
        let Some(s) = load_json::<Scenario>(&p)? else {
            return Ok(None);
        };
        for (i, o) in s.overrides.iter().enumerate() {
            if let Err(e) = o.check() {
                bail!(
                    "{}: what-if {} of {} ({}): {e}",
                    p.display(),
                    i + 1,
                    s.overrides.len(),
                    o.describe()
                );
            }
        }
        Ok(Some(s))
    }

    pub fn list_scenarios(&self) -> Result<Vec<String>> {
        let dir = self.root.join("scenarios");
        let mut names = Vec::new();
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.filter_map(Result::ok) {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "json")
                    && let Some(stem) = p.file_stem()
                {
                    names.push(stem.to_string_lossy().to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Remove a scenario; its overrides are gone, the audit log keeps the
    /// decisions that were taken under it.
    pub fn discard_scenario(&self, name: &str) -> Result<()> {
        let p = self.scenario_path(name)?;
        if !p.exists() {
            bail!("no scenario called '{name}'");
        }
        fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))
    }
}

/// Read a JSON file saved by the workspace: `None` when absent, an error
/// naming the file when damaged (the file is left as it is).
fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{} is damaged ({e}); it was left as it is", path.display()))
}

/// The data skuplan opens when none is named: the workspace's last
/// successful import, else the sample data shipped with skuplan (in the
/// current folder, or in the source tree it was built from).
pub fn default_sources(ws: &Workspace) -> Result<DataSources> {
    if let Some(s) = ws.load_sources()? {
        return Ok(s);
    }
    match shipped_sample() {
        Some(p) => Ok(DataSources {
            paths: vec![p],
            ..DataSources::default()
        }),
        None => bail!(
            "no data to open: import some with `skuplan import PATH`, or make a sample with \
             `skuplan sample-data --out DIR`"
        ),
    }
}

/// One writer per workspace: an exclusive lock on `skuplan.lock`, held by
/// the workstation for as long as it runs, or by a command while it
/// changes a plan, a scenario or the data. The kernel lets go of it when
/// the process ends however it ends (until session 22 a pid in the file
/// was checked, which a process being torn down after a kill, or a second
/// process between the file's creation and its pid, got wrong). The file
/// holds the pid of the holder, for the message, and is removed when the
/// holder lets go normally.
pub struct WorkspaceLock {
    path: PathBuf,
    file: fs::File,
}

impl Workspace {
    /// Take the workspace's lock, or say who holds it. The workstation
    /// keeps what it shows in memory and saves it as it changes, so a
    /// change another process made to the same files meanwhile would be
    /// overwritten; only the audit log (decisions) is read again.
    pub fn lock(&self) -> Result<WorkspaceLock> {
        use std::io::Write as _;
        use std::os::unix::fs::MetadataExt as _;
        let path = self.root.join("skuplan.lock");
        for _ in 0..3 {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            // A holder on its way out (a process killed a moment ago lets
            // go only once it is torn down) gets a second to go.
            let mut tried = file.try_lock();
            for _ in 0..10 {
                if !matches!(tried, Err(fs::TryLockError::WouldBlock)) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
                tried = file.try_lock();
            }
            match tried {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    let pid = fs::read_to_string(&path).unwrap_or_default();
                    let pid = pid.trim();
                    let who = if pid.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {pid})")
                    };
                    bail!(
                        "another skuplan{who} has the workspace {} open, the workstation or a command still \
                         running: it would overwrite this change. Make the change there, or close it first; \
                         approvals and exports need no lock",
                        self.root.display()
                    );
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {}", path.display()));
                }
            }
            // The holder before us may have removed the file between our
            // open and our lock: then ours is a lock on nothing; again.
            let same = fs::metadata(&path).is_ok_and(|m| m.ino() == file.metadata().map_or(0, |f| f.ino()));
            if !same {
                continue;
            }
            file.set_len(0)
                .and_then(|()| writeln!(file, "{}", std::process::id()))
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            return Ok(WorkspaceLock { path, file });
        }
        bail!("could not lock {}", path.display())
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        // Removed while still held, so nobody locks it on its way out.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sources_prefer_the_last_import_then_the_sample() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let d = default_sources(&ws).unwrap();
        assert!(d.paths[0].ends_with("sample-data"), "{d:?}");
        let saved = DataSources {
            paths: vec![PathBuf::from("/data/x.csv")],
            ..DataSources::default()
        };
        ws.save_sources(&saved).unwrap();
        assert_eq!(default_sources(&ws).unwrap(), saved);
    }

    #[test]
    fn sources_round_trip_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        assert_eq!(ws.load_sources().unwrap(), None);
        let s = DataSources {
            paths: vec![PathBuf::from("/data/sales.csv")],
            map: "sku=item".parse().unwrap(),
            date_format: None,
            period: Some(crate::domain::PeriodKind::Week),
            strict: true,
        };
        ws.save_sources(&s).unwrap();
        assert_eq!(ws.load_sources().unwrap(), Some(s));
        fs::write(ws.root.join("sources.json"), b"{\"paths\": [").unwrap();
        let err = ws.load_sources().unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
        // Still there for the planner to look at.
        assert!(ws.root.join("sources.json").exists());
    }

    #[test]
    fn demand_reads_back_as_written_whole_or_not() {
        let values = vec![0.0, 1.0, 2.5, -3.0, 1e17, 123_456_789_012.0, f64::MAX, -0.25, 300.0];
        let s = crate::domain::DemandSeries::daily("A", "W", chrono::NaiveDate::MIN, values.clone());
        let bytes = rmp_serde::to_vec(&s).unwrap();
        let back: crate::domain::DemandSeries = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back.values, values);
        // Small whole numbers take a byte each, not nine.
        let zeros = crate::domain::DemandSeries::daily("A", "W", chrono::NaiveDate::MIN, vec![0.0; 1000]);
        assert!(rmp_serde::to_vec(&zeros).unwrap().len() < 1100);
    }

    #[test]
    fn one_lock_at_a_time_and_gone_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let held = ws.lock().unwrap();
        let lock = dir.path().join("ws/skuplan.lock");
        assert_eq!(
            std::fs::read_to_string(&lock).unwrap().trim(),
            std::process::id().to_string()
        );
        let e = ws.lock().err().expect("held already").to_string();
        assert!(
            e.contains(&format!("another skuplan (pid {})", std::process::id())),
            "{e}"
        );
        drop(held);
        assert!(!lock.exists());
        // A file left behind (a killed holder) is no lock.
        std::fs::write(&lock, "999999\n").unwrap();
        let again = ws.lock().unwrap();
        drop(again);
    }
}
