//! The Training tab's state: the fine-tuning run's settings, its progress
//! (loss and validation curves, bounded), and what the engine reports.

use std::path::PathBuf;

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
            "training {} epochs in {} mode",
            self.train_config.epochs, self.train_config.mode
        );
        vec![Effect::Engine(EngineCommand::Train(Box::new(
            crate::engine::events::TrainJob {
                dataset: l.dataset.clone(),
                sources: l.sources.clone(),
                train_end: None,
                model_dir,
                config: self.train_config.clone(),
                out,
                device: crate::engine::DeviceChoice::Auto,
                resume: false,
            },
        )))]
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
    }

    pub(super) fn more_epochs(&mut self) {
        self.train_config.epochs = (self.train_config.epochs + 1).min(200);
    }

    pub(super) fn fewer_epochs(&mut self) {
        self.train_config.epochs = self.train_config.epochs.saturating_sub(1).max(1);
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
                t.outcome = Some(format!(
                    "{train_samples} training windows, {texts} texts, {parameters} trainable parameters"
                ));
            }
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
                if best {
                    t.best = Some(format!("epoch {epoch}: validation MSE {:.4}", validation.mse));
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
                t.running = false;
                t.paused = false;
                let mut outcome = s.describe().lines().take(2).collect::<Vec<_>>().join("  ");
                if !s.correction.losses.is_empty() {
                    outcome.push_str(&format!(
                        "  the head's correction to the base forecast: {:.0} % kept (best on validation)",
                        100.0 * s.correction.chosen
                    ));
                }
                t.outcome = Some(outcome);
                self.status = format!("training {:?}; forecasting with the model", s.stop);
                if let Some(l) = &self.loaded
                    && s.best_epoch > 0
                {
                    let last = l.dataset.date_range().map(|(_, e)| e);
                    return vec![Effect::Engine(EngineCommand::Predict {
                        run: Some(s.dir.clone()),
                        data: l.dataset.clone(),
                        origin: last,
                    })];
                }
            }
            EngineEvent::Failed { message } => {
                t.running = false;
                t.paused = false;
                self.error = Some(format!("engine: {message}"));
            }
            EngineEvent::Forecasts { forecasts, .. } => {
                self.model_forecasts = forecasts
                    .iter()
                    .map(|f| ((f.sku.clone(), f.warehouse.clone()), f.clone()))
                    .collect();
                self.status = format!("the fine-tuned model forecast {} series", forecasts.len());
            }
            EngineEvent::Loaded { summary, .. } => self.status = summary,
            EngineEvent::Similar { sku, items } => {
                self.status = format!("{} products like {sku}", items.len());
                self.similar = Some((sku, items));
            }
            EngineEvent::Evaluated { report, .. } => self.status = report.lines().next().unwrap_or("").to_string(),
        }
        Vec::new()
    }
}
