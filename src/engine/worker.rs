//! The engine thread: it owns the device and the model, takes
//! [`EngineCommand`]s and reports [`EngineEvent`]s. It never touches the
//! terminal. Cancel and pause are read between training steps; a panic
//! inside becomes [`EngineEvent::Failed`].

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use anyhow::{Result, anyhow};
use chrono::NaiveDate;
use serde::Serialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::run::{self, LoadedRun, RunSummary, TrainJob};
use super::train::{Control, EvalMetrics, Mode};
use crate::domain::{Dataset, SeriesForecast};

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
    },
    Shutdown,
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
    /// (sku, cosine, product text), nearest first.
    Similar {
        sku: String,
        items: Vec<(String, f32, String)>,
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

/// The handle the UI keeps.
pub struct Engine {
    commands: Sender<EngineCommand>,
    pub events: UnboundedReceiver<EngineEvent>,
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    pub fn spawn() -> Result<Engine> {
        let (ctx, crx) = channel();
        let (etx, erx) = unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("skuplan-engine".into())
            .spawn(move || Worker::new(crx, etx).run())
            .map_err(|e| anyhow!("could not start the engine thread: {e}"))?;
        Ok(Engine {
            commands: ctx,
            events: erx,
            thread: Some(thread),
        })
    }

    pub fn send(&self, cmd: EngineCommand) -> Result<()> {
        self.commands
            .send(cmd)
            .map_err(|_| anyhow!("the engine thread has stopped"))
    }

    /// Every event waiting now, coalesced.
    pub fn drain(&mut self) -> Vec<EngineEvent> {
        let mut v = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            v.push(e);
        }
        coalesce(v)
    }

    /// Block for the next event (not from inside an async runtime).
    pub fn recv_blocking(&mut self) -> Option<EngineEvent> {
        self.events.blocking_recv()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.commands.send(EngineCommand::Cancel);
        let _ = self.commands.send(EngineCommand::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    commands: Receiver<EngineCommand>,
    events: UnboundedSender<EngineEvent>,
    /// Commands that arrived during training, handled after it.
    pending: VecDeque<EngineCommand>,
    loaded: Option<LoadedRun>,
    /// The encoder for "similar products", kept once loaded.
    encoder: Option<(PathBuf, super::encoder::Encoder)>,
    shutdown: bool,
}

/// Training's view of the worker: the command channel between steps.
struct ChannelControl<'a> {
    worker: &'a mut Worker,
}

impl Control for ChannelControl<'_> {
    fn keep_going(&mut self) -> bool {
        loop {
            match self.worker.commands.try_recv() {
                Ok(EngineCommand::Cancel) => return false,
                Ok(EngineCommand::Shutdown) => {
                    self.worker.shutdown = true;
                    return false;
                }
                Ok(EngineCommand::Pause) => {
                    self.worker.emit(EngineEvent::Paused);
                    loop {
                        match self.worker.commands.recv() {
                            Ok(EngineCommand::Resume) => {
                                self.worker.emit(EngineEvent::Resumed);
                                break;
                            }
                            Ok(EngineCommand::Cancel) => return false,
                            Ok(EngineCommand::Shutdown) | Err(_) => {
                                self.worker.shutdown = true;
                                return false;
                            }
                            Ok(EngineCommand::Pause) => {}
                            Ok(other) => self.worker.pending.push_back(other),
                        }
                    }
                }
                Ok(EngineCommand::Resume) => {}
                Ok(other) => self.worker.pending.push_back(other),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => {
                    self.worker.shutdown = true;
                    return false;
                }
            }
        }
    }

    fn report(&mut self, event: super::worker::EngineEvent) {
        self.worker.emit(event);
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

impl Worker {
    fn new(commands: Receiver<EngineCommand>, events: UnboundedSender<EngineEvent>) -> Self {
        Worker {
            commands,
            events,
            pending: VecDeque::new(),
            loaded: None,
            encoder: None,
            shutdown: false,
        }
    }

    fn emit(&self, e: EngineEvent) {
        // A closed receiver means the UI is gone; nothing to tell.
        let _ = self.events.send(e);
    }

    fn run(mut self) {
        while !self.shutdown {
            let cmd = match self.pending.pop_front() {
                Some(c) => c,
                None => match self.commands.recv() {
                    Ok(c) => c,
                    Err(_) => break,
                },
            };
            let result = catch_unwind(AssertUnwindSafe(|| self.handle(cmd)));
            let failure = match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(p) => Some(format!("the engine hit a bug: {}", panic_message(p))),
            };
            if let Some(message) = failure {
                tracing::error!(%message, "engine job failed");
                self.emit(EngineEvent::Failed { message });
            }
        }
    }

    fn handle(&mut self, cmd: EngineCommand) -> Result<()> {
        match cmd {
            EngineCommand::Train(job) => {
                let mut control = ChannelControl { worker: self };
                let summary = run::train_run(&job, &mut control)?;
                self.emit(EngineEvent::Finished(Box::new(summary)));
            }
            EngineCommand::LoadCheckpoint { run } => {
                let loaded = run::load_run(&run, None)?;
                let summary = loaded.describe();
                self.loaded = Some(loaded);
                self.emit(EngineEvent::Loaded { run, summary });
            }
            EngineCommand::Predict { run, data, origin } => {
                if let Some(r) = run
                    && self.loaded.as_ref().is_none_or(|l| l.dir != r)
                {
                    self.loaded = Some(run::load_run(&r, None)?);
                }
                let loaded = self
                    .loaded
                    .as_ref()
                    .ok_or_else(|| anyhow!("no model is loaded: train one or load a run first"))?;
                let forecasts = run::forecast(loaded, &data, origin)?;
                self.emit(EngineEvent::Forecasts {
                    run: loaded.dir.clone(),
                    forecasts: Arc::new(forecasts),
                });
            }
            EngineCommand::Evaluate { run, data } => {
                let loaded = run::load_run(&run, None)?;
                let report = run::evaluate_text(&loaded, &data)?;
                self.emit(EngineEvent::Evaluated { run, report });
            }
            EngineCommand::Similar {
                model_dir,
                data,
                sku,
                top,
            } => {
                if self.encoder.as_ref().is_none_or(|(d, _)| *d != model_dir) {
                    let dir = super::encoder::ModelDir::open(&model_dir)?;
                    let enc = super::encoder::Encoder::load(&dir, &candle_core::Device::Cpu, 64)?;
                    self.encoder = Some((model_dir, enc));
                }
                if let Some((_, enc)) = &self.encoder {
                    let items = super::similar::nearest(enc, &data, &sku, top)?;
                    self.emit(EngineEvent::Similar { sku, items });
                }
            }
            EngineCommand::Pause | EngineCommand::Resume | EngineCommand::Cancel => {
                // Nothing is training: nothing to do.
            }
            EngineCommand::Shutdown => self.shutdown = true,
        }
        Ok(())
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
