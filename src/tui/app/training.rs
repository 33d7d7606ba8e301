//! The Training tab's state: the fine-tuning run's settings, its progress
//! (loss and validation curves, bounded), and what the engine reports.

use std::path::PathBuf;
use std::sync::Arc;

use super::{App, Effect};
use crate::engine::EngineCommand;
use crate::engine::Mode;
use crate::engine::events::{EngineEvent, Progress};

#[derive(Debug, Clone, Default)]
pub struct TrainingView {
    pub running: bool,
    pub paused: bool,
    pub device: String,
    pub started: Option<String>,
    pub last: Option<Progress>,
    /// (step, train loss), bounded.
    pub loss: Vec<(f64, f64)>,
    /// (step, validation MSE) at epoch ends.
    pub val: Vec<(f64, f64)>,
    pub best: Option<String>,
    pub outcome: Option<String>,
    pub run_dir: Option<PathBuf>,
    /// What runs is a refit (the tab bar says so).
    pub refit: bool,
    /// Encoding the training texts before the first step: (done, total,
    /// seconds so far).
    pub encoding: Option<(usize, usize, f64)>,
    /// During and after a refit: how the run it refits finished (its
    /// validation, correction and text lines), which the refit's own
    /// progress would otherwise replace.
    pub trained: Option<String>,
}

/// Most points a chart keeps (older ones are thinned by half).
const HISTORY_CAP: usize = 2000;

fn push_bounded(v: &mut Vec<(f64, f64)>, p: (f64, f64)) {
    v.push(p);
    if v.len() > HISTORY_CAP {
        let kept: Vec<(f64, f64)> = v.iter().step_by(2).copied().collect();
        *v = kept;
    }
}

impl App {
    pub(super) fn start_training(&mut self) -> Vec<Effect> {
        if self.training.running {
            self.status = "training is already running".into();
            return Vec::new();
        }
        let Some(l) = &self.loaded else {
            self.status = "no data yet".into();
            return Vec::new();
        };
        let Some(model_dir) = self.model_dir.clone() else {
            self.error = Some(
                "no encoder model: the shipped one is missing (assets/models); start skuplan with --model DIR".into(),
            );
            return Vec::new();
        };
        let out = self
            .workspace
            .root
            .join("runs")
            .join(chrono::Local::now().format("%Y%m%d-%H%M%S").to_string());
        self.training = TrainingView {
            running: true,
            started: Some(chrono::Local::now().format("%H:%M:%S").to_string()),
            run_dir: Some(out.clone()),
            ..TrainingView::default()
        };
        self.status = format!(
            "training {} epoch{} in {} mode",
            self.train_config.epochs,
            if self.train_config.epochs == 1 { "" } else { "s" },
            self.train_config.mode
        );
        // Weekly and monthly data forecast their own default horizon (13
        // weeks, 6 months) rather than the daily 28.
        let p = l.dataset.period();
        let mut config = self.train_config.clone();
        if p != crate::domain::Period::Day {
            config.horizon = p.default_horizon();
        }
        // The last horizon is held out: the run is judged on it beside the
        // champions, then refit up to the last day (engine::protocol).
        let train_end = l
            .dataset
            .date_range()
            .map(|(_, last)| p.step(p.floor(last), -(config.horizon as i64)));
        vec![Effect::Engine(EngineCommand::Train(Box::new(
            crate::engine::events::TrainJob {
                dataset: l.dataset.clone(),
                sources: l.sources.clone(),
                train_end,
                model_dir,
                config,
                out,
                device: crate::engine::DeviceChoice::Auto,
                resume: false,
                text_cache: Some(self.workspace.training_embeddings_path()),
            },
        )))]
    }

    /// Ask the engine to join the active run (when on) to the champions,
    /// refitting it first with `refit`.
    pub(super) fn adopt(&mut self, refit: bool) -> Vec<Effect> {
        let Some(a) = self.active_run.clone().filter(|a| a.on) else {
            return Vec::new();
        };
        let Some(l) = &self.loaded else { return Vec::new() };
        if l.provisional {
            return Vec::new();
        }
        self.joining = true;
        self.join_refused = None;
        self.join_data = Some(l.dataset.clone());
        vec![Effect::Engine(EngineCommand::Adopt {
            run: a.run,
            data: l.dataset.clone(),
            base: std::sync::Arc::new(l.base.clone()),
            refit,
            text_cache: Some(self.workspace.training_embeddings_path()),
            forecasts_cache: Some(self.workspace.cache_dir()),
        })]
    }

    /// `f`: refit the active run on all data up to the last day on the
    /// engine thread (its progress on this tab, like any training), then
    /// join it again. The plan keeps the run's current forecasts until then.
    pub(super) fn refit_run(&mut self) -> Vec<Effect> {
        let Some(a) = self.active_run.clone() else {
            self.status = "no trained run yet: train one on the Training tab (t)".into();
            return Vec::new();
        };
        let name = run_name(&a.run);
        if !a.on {
            self.status = format!("the run {name} is off: R switches it on");
            return Vec::new();
        }
        if self.training.running || self.joining {
            self.status = "the engine is busy with a run: refit once it is done".into();
            return Vec::new();
        }
        let Some(l) = self.loaded.as_ref().filter(|l| !l.provisional) else {
            self.status = "the plan is not ready yet: refit once it is".into();
            return Vec::new();
        };
        let Some((_, last)) = l.dataset.date_range() else {
            self.status = "the data has no sales history".into();
            return Vec::new();
        };
        if crate::engine::protocol::usable_refit(&a.run, &l.dataset).is_some() {
            self.status = format!("the run {name} is already refit up to the last day ({last})");
            return Vec::new();
        }
        match crate::engine::run::read_meta(&a.run) {
            Ok(meta) if last <= meta.train_end => {
                self.status = format!("the run {name} learnt up to {last}, the last day: nothing to refit");
                return Vec::new();
            }
            Ok(_) => {}
            Err(e) => {
                self.error = Some(format!("the run {name} cannot be read: {e:#}"));
                return Vec::new();
            }
        }
        self.status =
            format!("refitting the run {name} up to {last}; the plan keeps its forecasts until the refit joins");
        self.adopt(true)
    }

    /// Whether the joined active run forecasts with its own weights on data
    /// that runs past them (see [`App::refit_due`]).
    pub(super) fn note_refit_due(&mut self) {
        self.refit_due = None;
        let (Some(a), Some(l)) = (self.active_run.as_ref(), &self.loaded) else {
            return;
        };
        if l.model_run.as_ref() != Some(&a.run) {
            return;
        }
        let Some((_, last)) = l.dataset.date_range() else {
            return;
        };
        // The weights that forecast: the refit's, else the run's own.
        let learnt = crate::engine::protocol::refit_of(&a.run, &l.dataset)
            .map(|(_, until)| until)
            .or_else(|| crate::engine::run::read_meta(&a.run).ok().map(|m| m.train_end));
        if let Some(learnt) = learnt.filter(|d| *d < last) {
            self.refit_due = Some((learnt, last));
        }
    }

    /// `R`: plans with the active run among the champions, or from the
    /// baselines alone. The choice is saved in the workspace.
    pub(super) fn toggle_run(&mut self) -> Vec<Effect> {
        let Some(mut a) = self.active_run.clone() else {
            self.status = "no trained run yet: train one on the Training tab (t)".into();
            return Vec::new();
        };
        a.on = !a.on;
        if let Err(e) = self.workspace.save_active_run(&a) {
            self.error = Some(format!("the choice was not saved: {e:#}"));
            return Vec::new();
        }
        self.active_run = Some(a.clone());
        let before = self.plan.clone();
        // The run the plan had: an earlier one while a new run is still
        // being judged.
        let had = self.loaded.as_ref().and_then(|l| l.run_in_plan().cloned());
        let joined = had.as_ref() == Some(&a.run);
        self.recompute();
        if !a.on {
            self.status = match had {
                Some(other) if other != a.run => format!(
                    "baselines only: the run {} is off before it joined the plan (against the plan with the run {}: \
                     {})",
                    run_name(&a.run),
                    run_name(&other),
                    self.plan_change(before.as_ref())
                ),
                _ => format!(
                    "baselines only: the run {} is off ({})",
                    run_name(&a.run),
                    self.plan_change(before.as_ref())
                ),
            };
            return Vec::new();
        }
        if joined {
            self.status = format!(
                "the run {} is on: {}",
                run_name(&a.run),
                self.plan_change(before.as_ref())
            );
            return Vec::new();
        }
        self.status = format!(
            "the run {} is on: judging it beside the champions ...",
            run_name(&a.run)
        );
        self.adopt(false)
    }

    /// How the plan changed from `before`: units and cost.
    fn plan_change(&self, before: Option<&crate::plan::RestockPlan>) -> String {
        let (Some(b), Some(p)) = (before, &self.plan) else {
            return String::new();
        };
        crate::plan::scenario::compare(&self.as_decided(b), &self.as_decided(p)).change()
    }

    pub(super) fn pause_resume(&mut self) -> Vec<Effect> {
        let cmd = if self.training.paused {
            EngineCommand::Resume
        } else {
            EngineCommand::Pause
        };
        vec![Effect::Engine(cmd)]
    }

    pub(super) fn cancel_training(&mut self) -> Vec<Effect> {
        self.status = "cancelling after this step".into();
        vec![Effect::Engine(EngineCommand::Cancel)]
    }

    pub(super) fn cycle_mode(&mut self) {
        self.train_config.mode = match self.train_config.mode {
            Mode::Head => Mode::TopK,
            Mode::TopK => Mode::Full,
            Mode::Full => Mode::Head,
        };
        self.keep_training_choice();
    }

    pub(super) fn more_epochs(&mut self) {
        self.train_config.epochs = (self.train_config.epochs + 1).min(200);
        self.keep_training_choice();
    }

    pub(super) fn fewer_epochs(&mut self) {
        self.train_config.epochs = self.train_config.epochs.saturating_sub(1).max(1);
        self.keep_training_choice();
    }

    /// The mode and epochs survive a restart (they went back to head and 4).
    fn keep_training_choice(&mut self) {
        let mode = <Mode as clap::ValueEnum>::to_possible_value(&self.train_config.mode)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        let choice = crate::workspace::TrainingChoice {
            mode,
            epochs: self.train_config.epochs,
        };
        if let Err(e) = self.workspace.save_training_choice(&choice) {
            self.error = Some(format!("the training choice was not saved: {e:#}"));
        }
    }

    /// Fold an engine event into the state; may ask the engine for more.
    pub fn on_engine(&mut self, ev: EngineEvent) -> Vec<Effect> {
        let t = &mut self.training;
        match ev {
            EngineEvent::Device { label, reason } => t.device = format!("{label} ({reason})"),
            EngineEvent::Started {
                train_samples,
                texts,
                parameters,
                ..
            } => {
                let size =
                    format!("{train_samples} training windows, {texts} texts, {parameters} trainable parameters");
                // A refit keeps what it is ("refit of ... up to ...").
                t.outcome = Some(match t.outcome.take().filter(|_| t.refit) {
                    Some(refit) => format!("{refit}; {size}"),
                    None => size,
                });
            }
            EngineEvent::Encoding {
                done,
                total,
                elapsed_secs,
            } => t.encoding = Some((done, total, elapsed_secs)),
            EngineEvent::Progress(p) => {
                push_bounded(&mut t.loss, (p.step as f64, p.train_loss));
                t.last = Some(p);
            }
            EngineEvent::EpochEnd {
                epoch,
                validation,
                best,
                ..
            } => {
                let step = t.last.map_or(0.0, |p| p.step as f64);
                push_bounded(&mut t.val, (step, validation.mse));
                // The progress line shows this epoch's validation from now
                // on (it kept the one before until the next step).
                if let Some(p) = &mut t.last {
                    p.val_mse = Some(validation.mse);
                    p.val_mae = Some(validation.mae);
                }
                // Epochs are judged by pinball loss; MSE is shown beside it.
                if best {
                    t.best = Some(format!(
                        "epoch {epoch}: validation pinball loss {:.4} (MSE {:.4})",
                        validation.loss, validation.mse
                    ));
                }
            }
            EngineEvent::Paused => {
                t.paused = true;
                self.status = "training paused".into();
            }
            EngineEvent::Resumed => {
                t.paused = false;
                self.status = "training resumed".into();
            }
            EngineEvent::Finished(s) => {
                self.refresh_texts_cached();
                let t = &mut self.training;
                t.running = false;
                t.paused = false;
                // Before its first epoch ends a run has no validation to
                // tell (the figures it showed were of no model).
                let lines = if s.best_epoch == 0 { 1 } else { 2 };
                let mut outcome = s.describe().lines().take(lines).collect::<Vec<_>>().join("  ");
                if s.best_epoch == 0 {
                    outcome.push_str("  no epoch finished: no model to use");
                } else if !s.correction.losses.is_empty() {
                    outcome.push_str(&format!(
                        "  the head's correction to the base forecast: {:.0} % kept (best on validation)",
                        100.0 * s.correction.chosen
                    ));
                }
                if let Some(text) = s.text.as_ref().filter(|_| s.best_epoch > 0) {
                    outcome.push_str("  ");
                    outcome.push_str(&text.line());
                }
                t.outcome = Some(if t.refit { format!("refit: {outcome}") } else { outcome });
                // A run stopped before its first epoch ended has nothing to
                // forecast with; one that finished one is judged below.
                self.status = format!(
                    "training {}: stopped before its first epoch ended, so there is no model to use",
                    s.stop
                );
                // The planner stopped it: it does not replace the run the
                // plans use (a half-trained run used to), but it is kept.
                if s.stop == crate::engine::events::Stop::Cancelled && s.best_epoch > 0 {
                    let keep = match self.active_run.as_ref() {
                        Some(a) if a.on => format!("plans keep the run {}", run_name(&a.run)),
                        _ => "plans keep the baselines".to_string(),
                    };
                    self.status = format!(
                        "training cancelled after {}: {keep}; the cancelled run is in {} \
                         (plan restock --run uses it)",
                        crate::engine::events::epochs(s.epochs_done),
                        s.dir.display()
                    );
                    return Vec::new();
                }
                if let Some(l) = &self.loaded
                    && s.best_epoch > 0
                {
                    let last = l.dataset.date_range().map(|(_, e)| e);
                    let mut effects = vec![Effect::Engine(EngineCommand::Predict {
                        run: Some(s.dir.clone()),
                        data: l.dataset.clone(),
                        origin: last,
                    })];
                    // The finished run becomes the active one: judged, refit
                    // and joined to the champions on the engine thread.
                    // The run the plan has now: kept until the new one
                    // joins only where it is the active run, switched on.
                    let shown = self.active_run.as_ref().filter(|a| a.on).map(|a| a.run.clone());
                    let active = crate::workspace::ActiveRun {
                        run: s.dir.clone(),
                        on: true,
                    };
                    if let Err(e) = self.workspace.save_active_run(&active) {
                        self.error = Some(format!("the run could not be made active: {e:#}"));
                    }
                    self.active_run = Some(active);
                    // The plan keeps the run it had (if any) until this one
                    // joins, or its join fails (see `Failed`): it dropped
                    // it without recomputing, so the plan shown was the
                    // earlier run's while every later edit planned from
                    // the baselines. A run switched off is dropped: the
                    // new run being on would bring it back.
                    if let Some(l) = self.loaded.as_mut()
                        && l.model_run.is_some()
                        && l.model_run != shown
                    {
                        l.model_base = None;
                        l.model_run = None;
                        self.recompute();
                    }
                    self.refit_due = None;
                    effects.extend(self.adopt(true));
                    self.status = format!(
                        "training {}; judging the run on its held-out days and refitting it up to the last day",
                        s.stop
                    );
                    return effects;
                }
            }
            EngineEvent::RefitStarted { run, until, epochs } => {
                // The run's own finished line stays on the tab.
                let trained = if t.refit { t.trained.take() } else { t.outcome.take() };
                *t = TrainingView {
                    trained,
                    running: true,
                    started: Some(chrono::Local::now().format("%H:%M:%S").to_string()),
                    run_dir: Some(run.join(crate::engine::protocol::REFIT_DIR)),
                    device: t.device.clone(),
                    refit: true,
                    outcome: Some(format!(
                        "refit of {} on all data up to {until}: same settings, {}",
                        run_name(&run),
                        crate::engine::events::epochs(epochs)
                    )),
                    ..TrainingView::default()
                };
                self.status = format!(
                    "refitting the run up to {until} ({})",
                    crate::engine::events::epochs(epochs)
                );
            }
            EngineEvent::Adopted { run, base, data } => {
                t.running = false;
                t.paused = false;
                // The answer to the latest join asked: nothing is pending.
                if self.join_data.as_ref().is_some_and(|d| Arc::ptr_eq(d, &data)) {
                    self.joining = false;
                    self.join_data = None;
                }
                // Made for data since replaced (a join of the new data is
                // on its way, or the loader joined it): dropped, as it was
                // never the plan of what is loaded now.
                let Some(l) = self.loaded.as_mut().filter(|l| Arc::ptr_eq(&l.dataset, &data)) else {
                    return Vec::new();
                };
                self.joining = false;
                // Another run since: dropped. The active run switched off
                // meanwhile (R during a refit): kept, so that R brings it
                // back, but the plan stays the baselines'.
                let Some(on) = self.active_run.as_ref().filter(|a| a.run == run).map(|a| a.on) else {
                    return Vec::new();
                };
                let before = self.plan.clone();
                // What the plan had: the status line's change is against it.
                let against = match l.run_in_plan() {
                    Some(r) if *r == run => "against its earlier forecasts".to_string(),
                    Some(r) => format!("against the run {}", run_name(r)),
                    None => "against baselines only".to_string(),
                };
                let (wins, series, judged) = base.model.as_ref().map_or((0, 0, String::new()), |m| {
                    (
                        m.wins(),
                        m.chosen.len(),
                        format!("judged {}..{}; {}", m.held_out.0, m.held_out.1, m.future_from),
                    )
                });
                l.model_base = Some(*base);
                l.model_run = Some(run.clone());
                l.join_launches();
                self.recompute();
                self.note_refit_due();
                if !on {
                    self.status = format!(
                        "the run {} is off (R switches it on); joined again, {}",
                        run_name(&run),
                        if self.refit_due.is_some() {
                            "not refit up to the last day"
                        } else {
                            "refit up to the last day"
                        }
                    );
                    return Vec::new();
                }
                // What matters first, for an 80-column status line.
                self.status = format!(
                    "the model is champion on {wins} of {series} series; {} {against}; {judged}{}",
                    self.plan_change(before.as_ref()),
                    if self.refit_due.is_some() {
                        " (f on the Training tab refits it)"
                    } else {
                        ""
                    }
                );
            }
            EngineEvent::Failed { message, cancelled } => {
                // The join's own failure names the run first (another
                // command failing meanwhile is not the join's reason).
                let run = self.active_run.as_ref().map(|a| a.run.display().to_string());
                if self.joining && !cancelled && run.is_some_and(|r| message.starts_with(&r)) {
                    self.join_refused = Some(message.clone());
                }
                // A join that ends without joining leaves no earlier run in
                // the plan in place of the active one.
                // Any failure while a join is on its way counts: not every
                // failure of a join names its run (a refit's device error,
                // a panic), and an earlier run kept then planned every edit.
                let stale = self.joining
                    && self
                        .loaded
                        .as_ref()
                        .and_then(|l| l.run_in_plan())
                        .is_some_and(|r| Some(r) != self.active_run.as_ref().map(|a| &a.run));
                self.joining = false;
                self.launching = false;
                t.running = false;
                t.paused = false;
                t.encoding = None;
                if stale && let Some(l) = self.loaded.as_mut() {
                    l.model_base = None;
                    l.model_run = None;
                    self.recompute();
                }
                // A cancel keeps the texts encoded so far.
                self.refresh_texts_cached();
                // The planner's own cancel is no failure.
                if cancelled {
                    self.status = message;
                } else {
                    // The status under the error said what was asked
                    // ("training 1 epoch ..."), and showed again once the
                    // error was read.
                    self.status = "the engine stopped: its error is in the messages (H)".into();
                    self.error = Some(format!("engine: {message}"));
                }
            }
            EngineEvent::Forecasts { forecasts, .. } => {
                self.model_forecasts = forecasts
                    .iter()
                    .map(|f| ((f.sku.clone(), f.warehouse.clone()), f.clone()))
                    .collect();
                self.status = format!("the fine-tuned model forecast {} series", forecasts.len());
            }
            EngineEvent::Loaded { summary, .. } => self.status = summary,
            EngineEvent::Launches { launches, data } => {
                // Made for data since replaced: the new data asked again,
                // and the tab bar still says so until that answer comes.
                let Some(l) = self.loaded.as_mut().filter(|l| Arc::ptr_eq(&l.dataset, &data)) else {
                    return Vec::new();
                };
                self.launching = false;
                let before = self.plan.clone();
                tracing::info!("{}", launches.describe());
                let n = launches.forecasts.iter().filter(|f| f.observed == 0).count();
                l.launches = Some(launches);
                l.base.launches = None;
                if let Some(m) = &mut l.model_base {
                    m.launches = None;
                }
                l.join_launches();
                let verdict = l.short_verdict();
                let l_provisional = l.provisional;
                self.recompute();
                self.refresh_totals();
                let change = self.plan_change(before.as_ref());
                let mut what = Vec::new();
                if n > 0 {
                    what.push(format!("{n} launches forecast from similar products (n lists them)"));
                }
                what.extend(verdict);
                // Against the provisional plan a change means nothing (it
                // said "plan unchanged" with the provisional's cost).
                if l_provisional {
                    what.push("the plan is still provisional".into());
                } else {
                    what.push(change);
                }
                self.status = what.join("; ");
            }
            EngineEvent::Similar { sku, items } => {
                // With their titles: a planner knows products by name, and
                // the chart's list has room for codes only at 80 columns.
                // The product's title (the text the encoder read also has
                // its price band and category).
                let title = |s: &str, text: &str| {
                    self.loaded
                        .as_ref()
                        .and_then(|l| l.dataset.product(s))
                        .map_or_else(|| text.trim().to_string(), |p| p.title.trim().to_string())
                };
                let named: Vec<String> = items
                    .iter()
                    .map(|(s, c, text)| format!("{s} {} {c:.2}", title(s, text)))
                    .collect();
                self.status = format!("{} products like {sku}: {}", items.len(), named.join(", "));
                self.similar = Some((sku, items));
            }
            EngineEvent::Evaluated { report, .. } => self.status = report.lines().next().unwrap_or("").to_string(),
        }
        Vec::new()
    }
}

/// A run's folder name, for the status line.
pub(crate) fn run_name(run: &std::path::Path) -> String {
    run.file_name()
        .map_or_else(|| run.display().to_string(), |n| n.to_string_lossy().into_owned())
}
