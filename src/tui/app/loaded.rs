//! What the loader hands the workstation: the data, the plan's slow half
//! (the baselines', and with the active run once joined) and the launches.

use std::sync::Arc;

use crate::domain::Dataset;
use crate::plan::base::PlanBase;
use crate::workspace::DataSources;

/// Everything loaded from the data, computed off the UI thread.
pub struct Loaded {
    pub sources: DataSources,
    pub dataset: Arc<Dataset>,
    pub report_text: String,
    pub base: PlanBase,
    /// The base is [`PlanBase::quick`]; the real one is on its way.
    pub provisional: bool,
    /// The data's cache key ([`PlanBase::key`]), when a workspace cache
    /// was consulted: the refinement saves under it.
    pub cache_key: Option<String>,
    /// The files' [`crate::workspace::data_key`] as imported: the plans
    /// saved from this data record it, so an export can tell when the
    /// files changed since.
    pub data_key: Option<String>,
    /// `base` with the active run among the champions, once joined.
    pub model_base: Option<PlanBase>,
    /// The run `model_base` was joined with.
    pub model_run: Option<std::path::PathBuf>,
    /// Launch forecasts, once the engine has made them.
    pub launches: Option<std::sync::Arc<crate::forecast::launch::Launches>>,
    /// The sources failed to import, and this is the last import of them
    /// that worked.
    pub stale: Option<Stale>,
}

/// Why the data shown is not what the files hold now.
#[derive(Debug, Clone)]
pub struct Stale {
    /// The failed import's report: every problem with file, row, column.
    pub failure: String,
    /// When the import shown was made ("2026-12-02 09:14").
    pub at: String,
}

impl Loaded {
    /// The base plans and tables use: with the run when `run_on` (the
    /// active run is on, see [`super::App::run_on`]) and it has joined, else the
    /// baselines'.
    pub fn active(&self, run_on: bool) -> &PlanBase {
        match &self.model_base {
            Some(m) if run_on => m,
            _ => &self.base,
        }
    }

    /// The run whose join the plan can use: the active run's, or an
    /// earlier one's until the active run joins.
    pub fn run_in_plan(&self) -> Option<&std::path::PathBuf> {
        self.model_run.as_ref().filter(|_| self.model_base.is_some())
    }

    /// What the short-history check on the baselines' base decided, for
    /// the status line; None without series forecast from their first
    /// days.
    pub fn short_verdict(&self) -> Option<String> {
        let l = self.launches.as_ref()?;
        let short = l.forecasts.iter().filter(|f| f.observed > 0).count();
        if short == 0 {
            return None;
        }
        let check = self.base.short_histories.as_ref().map(|c| (c.use_launch, c.too_few()));
        Some(match check {
            Some((true, _)) => format!("{short} new series forecast as launches (they won a horizon back)"),
            Some((false, false)) => "new series keep their champions (launches lost a horizon back)".into(),
            Some((false, true)) | None => "new series keep their champions (too few a horizon back to judge)".into(),
        })
    }

    /// Join the launch forecasts to the bases that lack them (a base that
    /// arrived after them, or before).
    pub fn join_launches(&mut self) {
        let Some(l) = &self.launches else { return };
        if self.base.launches.is_none() {
            self.base = self.base.with_launches(&self.dataset, l.clone());
            if let Some(c) = &self.base.short_histories {
                tracing::info!("{}", c.describe());
            }
        }
        if let Some(m) = &mut self.model_base
            && m.launches.is_none()
        {
            *m = m.with_launches(&self.dataset, l.clone());
        }
    }
}
