//! What goes between the front ends and the engine thread: the commands the
//! UI (or the CLI, or a test) sends, the events the engine sends back, and
//! the plain results they carry. Training, runs and the worker all speak in
//! these types; this module imports none of them.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::config::{Mode, TrainConfig};
use super::device::DeviceChoice;
use super::model::{Calibration, Correction};
use crate::domain::{Dataset, SeriesForecast};
use crate::workspace::DataSources;

/// What the UI (or a test) asks the engine to do.
pub enum EngineCommand {
    Train(Box<TrainJob>),
    Pause,
    Resume,
    Cancel,
    /// Forecast the days after `origin` (default: the run's train end)
    /// with the loaded run (or load `run` first).
    Predict {
        run: Option<PathBuf>,
        data: Arc<Dataset>,
        origin: Option<NaiveDate>,
    },
    /// Score a run's forecasts on the days after its train end.
    Evaluate {
        run: PathBuf,
        data: Arc<Dataset>,
    },
    /// Load a finished run's best checkpoint for later predictions.
    LoadCheckpoint {
        run: PathBuf,
    },
    /// Products whose text embeddings are nearest to `sku`'s.
    Similar {
        model_dir: PathBuf,
        data: Arc<Dataset>,
        sku: String,
        top: usize,
        /// The file product-text embeddings are kept in (see `Launches`).
        cache: Option<PathBuf>,
    },
    /// Forecast the products waiting for their launch (a launch date, no
    /// sales) over `horizon` periods after the data's last day.
    Launches {
        model_dir: PathBuf,
        data: Arc<Dataset>,
        horizon: usize,
        /// The file product-text embeddings are kept in between starts
        /// (`engine::text_cache`), if any.
        cache: Option<PathBuf>,
    },
    /// Put a finished run among the plan's champions: refit it first when
    /// `refit` and there is no refit for this data (progress reported as
    /// training's), then judge it and join it to `base`.
    Adopt {
        run: PathBuf,
        data: Arc<Dataset>,
        base: Arc<crate::plan::base::PlanBase>,
        refit: bool,
        /// The refit's text-embedding cache (see `TrainJob::text_cache`).
        text_cache: Option<PathBuf>,
        /// Where the run's forecasts are kept between starts (see
        /// `protocol::model_forecasts_cached`).
        forecasts_cache: Option<PathBuf>,
    },
    Shutdown,
}

/// "1 epoch", "5 epochs".
pub fn epochs(n: usize) -> String {
    if n == 1 {
        "1 epoch".into()
    } else {
        format!("{n} epochs")
    }
}

/// One training step, as the Training tab shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    pub epoch: usize,
    pub epochs: usize,
    pub step: usize,
    pub steps_total: usize,
    pub train_loss: f64,
    pub val_mse: Option<f64>,
    pub val_mae: Option<f64>,
    pub samples_per_sec: f64,
    pub eta_secs: f64,
    pub elapsed_secs: f64,
}

/// A training cancelled while it encoded its texts ends with this error:
/// nothing was trained yet.
pub const CANCELLED_ENCODING: &str = "training cancelled while encoding its texts; nothing was trained";

/// A refit cancelled at any point ends with this error.
pub const REFIT_CANCELLED: &str = "the refit was cancelled; the run keeps its previous refit, if any";

/// The planner's own cancel, as an error (the work stopped where it was):
/// the engine reports it as [`EngineEvent::Failed`] with `cancelled` set,
/// which the workstation tells as status, not as a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled(pub &'static str);

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Cancelled {}

#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// The device the engine opened, and why.
    Device {
        label: String,
        reason: String,
    },
    Started {
        device: String,
        mode: Mode,
        train_samples: usize,
        validation_samples: usize,
        texts: usize,
        parameters: usize,
        steps_total: usize,
    },
    Progress(Progress),
    /// Encoding the training texts, before the first step: `done` of
    /// `total` texts after `elapsed_secs`.
    Encoding {
        done: usize,
        total: usize,
        elapsed_secs: f64,
    },
    EpochEnd {
        epoch: usize,
        train_loss: f64,
        validation: EvalMetrics,
        best: bool,
    },
    Paused,
    Resumed,
    Finished(Box<RunSummary>),
    Failed {
        message: String,
        /// The planner cancelled it ([`Cancelled`]): not a failure.
        cancelled: bool,
    },
    Loaded {
        run: PathBuf,
        summary: String,
    },
    Forecasts {
        run: PathBuf,
        forecasts: Arc<Vec<SeriesForecast>>,
    },
    Evaluated {
        run: PathBuf,
        report: String,
    },
    /// A refit of `run` began (the progress that follows is the refit's).
    RefitStarted {
        run: PathBuf,
        until: NaiveDate,
        epochs: usize,
    },
    /// The run joined the champions: `base` is the plan's base with it
    /// (`base` as sent with [`EngineCommand::Adopt`], plus the run).
    Adopted {
        run: PathBuf,
        base: Box<crate::plan::base::PlanBase>,
        /// The data it was joined for (as sent with the command): a result
        /// for data since replaced is dropped.
        data: Arc<Dataset>,
    },
    /// (sku, cosine, product text), nearest first.
    Similar {
        sku: String,
        items: Vec<(String, f32, String)>,
    },
    /// Launch forecasts for the data (see `forecast::launch`).
    Launches {
        launches: Arc<crate::forecast::launch::Launches>,
        /// The data they were made for (a reimport since makes them stale).
        data: Arc<Dataset>,
    },
}

impl EngineEvent {
    pub fn is_progress(&self) -> bool {
        matches!(self, EngineEvent::Progress(_))
    }
}

/// Collapse runs of progress events to the latest of each run, keeping
/// every other event in order: a UI that drains its queue ten times a
/// second draws one progress update per frame, whatever the step rate.
pub fn coalesce(events: impl IntoIterator<Item = EngineEvent>) -> Vec<EngineEvent> {
    let mut out: Vec<EngineEvent> = Vec::new();
    for e in events {
        if e.is_progress()
            && let Some(last) = out.last_mut()
            && last.is_progress()
        {
            *last = e;
            continue;
        }
        out.push(e);
    }
    out
}

/// A training job, as the CLI or the UI describes it.
pub struct TrainJob {
    pub dataset: Arc<Dataset>,
    pub sources: DataSources,
    /// The last day the model may learn from (default: the data's last day).
    pub train_end: Option<NaiveDate>,
    pub model_dir: PathBuf,
    pub config: TrainConfig,
    pub out: PathBuf,
    pub device: DeviceChoice,
    /// Continue the run in `out` from its last checkpoint.
    pub resume: bool,
    /// The file the frozen encoder's text embeddings are kept in between
    /// runs (`engine::text_cache`; head mode), if any.
    pub text_cache: Option<PathBuf>,
}

/// What a finished run reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub dir: PathBuf,
    pub stop: Stop,
    pub epochs_done: usize,
    pub best_epoch: usize,
    pub validation: EvalMetrics,
    pub test: Option<EvalMetrics>,
    pub calibration: Calibration,
    pub correction: Correction,
    pub parameters: usize,
    /// What the text added on validation (None without text).
    pub text: Option<TextAblation>,
    pub train_seconds: f64,
    pub device: String,
}

impl RunSummary {
    pub fn describe(&self) -> String {
        // "Stopped early after 5 epochs", in words.
        let mut stop = self.stop.to_string();
        if let Some(first) = stop.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let mut s = format!(
            "{stop} after {} (best {}), {} trainable parameters, {:.1} s on {}\n\
             validation: pinball {:.4}  MSE {:.4}  MAE {:.4}  p10..p90 coverage {:.1} %\n",
            epochs(self.epochs_done),
            self.best_epoch,
            self.parameters,
            self.train_seconds,
            self.device,
            self.validation.loss,
            self.validation.mse,
            self.validation.mae,
            100.0 * self.validation.coverage
        );
        if let Some(t) = &self.test {
            s.push_str(&format!(
                "test:       pinball {:.4}  MSE {:.4}  MAE {:.4}  p10..p90 coverage {:.1} %\n",
                t.loss,
                t.mse,
                t.mae,
                100.0 * t.coverage
            ));
        }
        if !self.correction.losses.is_empty() {
            let tried: Vec<String> = self
                .correction
                .losses
                .iter()
                .map(|(share, loss)| format!("{:.0} % {loss:.4}", 100.0 * share))
                .collect();
            s.push_str(&format!(
                "the head's correction to the base forecast: {:.0} % kept (validation pinball by share kept: {})\n",
                100.0 * self.correction.chosen,
                tried.join(", ")
            ));
        }
        if let Some(t) = &self.text {
            s.push_str(&t.line());
            s.push('\n');
        }
        s.push_str("(on demand scaled per series: 1 = one plus the series' mean over its last quarter: 91 days, 13 weeks or 3 months)\n");
        s
    }
}

/// Scores on one split, on the scaled axis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Mean pinball loss over p10, p50, p90.
    pub loss: f64,
    pub mse: f64,
    pub mae: f64,
    /// Share of targets inside p10..p90.
    pub coverage: f64,
    pub n: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stop {
    Finished,
    EarlyStopped,
    Cancelled,
    /// The time budget (`--minutes`) ran out; the best epoch so far is kept.
    OutOfTime,
}

impl std::fmt::Display for Stop {
    /// In words, for status lines ("training stopped early; ...").
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stop::Finished => "finished",
            Stop::EarlyStopped => "stopped early",
            Stop::Cancelled => "cancelled",
            Stop::OutOfTime => "out of time",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(step: usize) -> EngineEvent {
        EngineEvent::Progress(Progress {
            epoch: 1,
            epochs: 1,
            step,
            steps_total: 10,
            train_loss: 1.0,
            val_mse: None,
            val_mae: None,
            samples_per_sec: 1.0,
            eta_secs: 1.0,
            elapsed_secs: 1.0,
        })
    }

    #[test]
    fn coalesce_keeps_the_latest_progress_and_every_other_event() {
        let out = coalesce(vec![
            progress(1),
            progress(2),
            EngineEvent::Paused,
            progress(3),
            progress(4),
            progress(5),
        ]);
        assert_eq!(out.len(), 3);
        assert!(matches!(out[0], EngineEvent::Progress(Progress { step: 2, .. })));
        assert!(matches!(out[1], EngineEvent::Paused));
        assert!(matches!(out[2], EngineEvent::Progress(Progress { step: 5, .. })));
    }
}

/// The least share of validation loss the text must remove to be kept:
/// below it the difference is noise, and a forecast that reads the text
/// would change with every retitled product for nothing.
pub const TEXT_MIN_GAIN: f64 = 0.005;

/// What the text adds, measured on the validation windows once the head is
/// trained: the loss with each product's own text, with the texts shuffled
/// across products, and with one mean embedding for all (no text at all).
/// Every variant gets its own calibrated band, so only the text differs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TextAblation {
    /// Validation pinball loss with each product's own text.
    pub own: f64,
    /// With another product's text.
    pub shuffled: f64,
    /// With the mean embedding in place of every text.
    pub none: f64,
    /// Whether forecasts read the text: false unless it removed at least
    /// [`TEXT_MIN_GAIN`] of the loss the mean embedding has on validation;
    /// forecasts then use the mean embedding.
    pub used: bool,
}

impl TextAblation {
    /// The share of validation loss the text removes against no text
    /// (negative when it adds loss).
    pub fn gain(&self) -> f64 {
        if self.none > 0.0 {
            1.0 - self.own / self.none
        } else {
            0.0
        }
    }

    /// The line the Training tab and `skuplan train` show.
    pub fn line(&self) -> String {
        let shuffled = if self.shuffled > 0.0 {
            format!(
                "; with texts shuffled across products {:+.1} %",
                100.0 * (self.shuffled / self.own.max(1e-12) - 1.0)
            )
        } else {
            String::new()
        };
        if self.used {
            format!(
                "text: {:+.1} % validation loss against no text{shuffled}",
                -100.0 * self.gain()
            )
        } else {
            format!(
                "text: off (it removed under {:.1} % of the validation loss: {:+.2} %); forecasts read one mean \
                 embedding for every product",
                100.0 * TEXT_MIN_GAIN,
                -100.0 * self.gain()
            )
        }
    }
}
