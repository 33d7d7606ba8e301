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
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::events::{EngineCommand, EngineEvent, coalesce};
use super::run::{self, LoadedRun};
use super::train::Control;

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

    /// Stop the engine: cancel what it does and wait up to `wait` for it to
    /// finish. Training stops at its next step and an encoding of product
    /// texts after its batch (keeping what it encoded); an engine still
    /// busy after `wait` (one long step) is left to end with the process,
    /// so that quitting never hangs on it; everything it saves is written
    /// atomically. True when it stopped in time.
    pub fn stop_within(&mut self, wait: std::time::Duration) -> bool {
        let _ = self.commands.send(EngineCommand::Cancel);
        let _ = self.commands.send(EngineCommand::Shutdown);
        let Some(t) = self.thread.take() else {
            return true;
        };
        let clock = std::time::Instant::now();
        while !t.is_finished() && clock.elapsed() < wait {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if t.is_finished() {
            let _ = t.join();
            true
        } else {
            tracing::info!("the engine was still busy on quitting: left to end with the process");
            false
        }
    }

    /// Block for the next event (not from inside an async runtime).
    pub fn recv_blocking(&mut self) -> Option<EngineEvent> {
        self.events.blocking_recv()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop_within(std::time::Duration::from_secs(2));
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
        // A cancel or pause sent while an encoding of product texts ran
        // waits in `pending` behind this job (see `until_shutdown`): it is
        // this job's, in the order it was sent.
        let mut paused = false;
        while let Some(i) = self.worker.pending.iter().position(is_control) {
            match self.worker.pending.remove(i) {
                Some(EngineCommand::Cancel) => return false,
                Some(EngineCommand::Shutdown) => {
                    self.worker.shutdown = true;
                    return false;
                }
                Some(EngineCommand::Pause) if !paused => {
                    self.worker.emit(EngineEvent::Paused);
                    paused = true;
                }
                Some(EngineCommand::Resume) if paused => {
                    self.worker.emit(EngineEvent::Resumed);
                    paused = false;
                }
                _ => {}
            }
        }
        if paused && !self.wait_for_resume() {
            return false;
        }
        loop {
            match self.worker.commands.try_recv() {
                Ok(EngineCommand::Cancel) => return false,
                Ok(EngineCommand::Shutdown) => {
                    self.worker.shutdown = true;
                    return false;
                }
                Ok(EngineCommand::Pause) => {
                    self.worker.emit(EngineEvent::Paused);
                    if !self.wait_for_resume() {
                        return false;
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

    fn report(&mut self, event: EngineEvent) {
        self.worker.emit(event);
    }
}

impl ChannelControl<'_> {
    /// Paused: block until a resume (true) or a cancel or shutdown (false);
    /// other commands wait for after the job.
    fn wait_for_resume(&mut self) -> bool {
        loop {
            match self.worker.commands.recv() {
                Ok(EngineCommand::Resume) => {
                    self.worker.emit(EngineEvent::Resumed);
                    return true;
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
}

/// The commands that steer a running job rather than start one.
fn is_control(c: &EngineCommand) -> bool {
    matches!(
        c,
        EngineCommand::Cancel | EngineCommand::Pause | EngineCommand::Resume | EngineCommand::Shutdown
    )
}

/// The encoder [`Worker::load_encoder`] loaded, borrowed apart from the
/// command channel so that an encoding can read it.
fn loaded(encoder: &Option<(PathBuf, super::encoder::Encoder)>) -> Result<&super::encoder::Encoder> {
    encoder
        .as_ref()
        .map(|(_, e)| e)
        .ok_or_else(|| anyhow!("the encoder is not loaded"))
}

/// Progress for a long encoding of product texts (thousands of them take
/// minutes): between batches, commands that arrived wait in `pending`, and
/// a shutdown (or a workstation gone) stops the encoding, which keeps what
/// it encoded in the embedding cache. A `Cancel` waits too: it is meant for
/// a training, and the plan needs the launches this encoding is for.
fn until_shutdown<'a>(
    commands: &'a Receiver<EngineCommand>,
    pending: &'a mut VecDeque<EngineCommand>,
    shutdown: &'a mut bool,
) -> impl FnMut(usize, usize) -> Result<()> + 'a {
    move |_, _| loop {
        match commands.try_recv() {
            Ok(EngineCommand::Shutdown) | Err(TryRecvError::Disconnected) => {
                *shutdown = true;
                return Err(super::events::Cancelled("the engine is shutting down").into());
            }
            Ok(other) => pending.push_back(other),
            Err(TryRecvError::Empty) => return Ok(()),
        }
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

    /// Load the encoder in `model_dir` (on the CPU: embedding product texts
    /// is quick there) unless it is the one kept; [`loaded`] borrows it.
    fn load_encoder(&mut self, model_dir: PathBuf) -> Result<()> {
        if self.encoder.as_ref().is_none_or(|(d, _)| *d != model_dir) {
            let dir = super::encoder::ModelDir::open(&model_dir)?;
            let enc =
                super::encoder::Encoder::load(&dir, &candle_core::Device::Cpu, super::similar::PRODUCT_TEXT_TOKENS)?;
            self.encoder = Some((model_dir, enc));
        }
        Ok(())
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
                Ok(Err(e)) => Some((format!("{e:#}"), e.is::<super::events::Cancelled>())),
                Err(p) => Some((format!("the engine hit a bug: {}", panic_message(p)), false)),
            };
            if let Some((message, cancelled)) = failure {
                if cancelled {
                    tracing::info!(%message, "engine job cancelled");
                } else {
                    tracing::error!(%message, "engine job failed");
                }
                self.emit(EngineEvent::Failed { message, cancelled });
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
                cache,
            } => {
                self.load_encoder(model_dir.clone())?;
                let items = {
                    let enc = loaded(&self.encoder)?;
                    let mut cache = super::text_cache::EmbeddingCache::at(cache.as_deref(), &model_dir, enc)?;
                    let mut stop = until_shutdown(&self.commands, &mut self.pending, &mut self.shutdown);
                    super::similar::nearest(enc, &data, (&sku, top), cache.as_mut(), &mut stop)?
                };
                self.emit(EngineEvent::Similar { sku, items });
            }
            EngineCommand::Launches {
                model_dir,
                data,
                horizon,
                cache,
            } => {
                if let Some((_, last)) = data.date_range() {
                    self.load_encoder(model_dir.clone())?;
                    let launches = {
                        let enc = loaded(&self.encoder)?;
                        let mut cache = super::text_cache::EmbeddingCache::at(cache.as_deref(), &model_dir, enc)?;
                        let mut stop = until_shutdown(&self.commands, &mut self.pending, &mut self.shutdown);
                        super::similar::launches(enc, &data, last, horizon, cache.as_mut(), &mut stop)?
                    };
                    self.emit(EngineEvent::Launches {
                        launches: Arc::new(launches),
                        data: data.clone(),
                    });
                }
            }
            EngineCommand::Adopt {
                run,
                data,
                base,
                refit,
                text_cache,
                forecasts_cache,
            } => {
                if refit && super::protocol::usable_refit(&run, &data).is_none() {
                    let meta = run::read_meta(&run)?;
                    if let Some((_, last)) = data.date_range()
                        && last > meta.train_end
                    {
                        self.emit(EngineEvent::RefitStarted {
                            run: run.clone(),
                            until: last,
                            epochs: meta.best_epoch,
                        });
                        let mut control = ChannelControl { worker: self };
                        super::protocol::refit(
                            &run,
                            data.clone(),
                            (None, text_cache.as_deref()),
                            super::DeviceChoice::Auto,
                            &mut control,
                        )?;
                    }
                }
                let model = super::protocol::model_forecasts_cached(&run, &data, None, forecasts_cache.as_deref())?;
                let with = base
                    .with_model(&data, &model)
                    .map_err(|e| anyhow!("{}: {e}", run.display()))?;
                self.emit(EngineEvent::Adopted {
                    run,
                    base: Box::new(with),
                    data: data.clone(),
                });
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

    #[test]
    fn an_encoding_stops_on_shutdown_and_keeps_the_other_commands() {
        let (tx, rx) = channel();
        let (mut pending, mut shutdown) = (VecDeque::new(), false);
        tx.send(EngineCommand::Cancel).expect("send");
        tx.send(EngineCommand::Pause).expect("send");
        {
            let mut stop = until_shutdown(&rx, &mut pending, &mut shutdown);
            // Nothing that stops it: the encoding goes on, the commands wait.
            assert!(stop(64, 4096).is_ok());
            tx.send(EngineCommand::Shutdown).expect("send");
            let err = stop(128, 4096).expect_err("a shutdown stops the encoding");
            assert!(err.is::<super::super::events::Cancelled>(), "{err:#}");
        }
        assert!(shutdown);
        assert!(matches!(
            pending.iter().collect::<Vec<_>>().as_slice(),
            [EngineCommand::Cancel, EngineCommand::Pause]
        ));
    }

    #[test]
    fn a_cancel_sent_during_an_encoding_reaches_the_training_queued_before_it() {
        let (tx, rx) = channel();
        let (events, _rx_events) = unbounded_channel();
        let mut worker = Worker::new(rx, events);
        // Sent while product texts were encoded: the training, then its cancel.
        worker.pending.push_back(EngineCommand::Pause);
        worker.pending.push_back(EngineCommand::Resume);
        worker.pending.push_back(EngineCommand::Cancel);
        let mut control = ChannelControl { worker: &mut worker };
        assert!(!control.keep_going(), "the queued cancel stops the job");
        assert!(worker.pending.is_empty());
        assert!(!worker.shutdown);
        // With nothing queued and nothing sent the job goes on; a pause
        // queued with its resume still in the channel waits for it.
        worker.pending.push_back(EngineCommand::Pause);
        tx.send(EngineCommand::Resume).expect("send");
        let mut control = ChannelControl { worker: &mut worker };
        assert!(control.keep_going());
        assert!(control.keep_going());
    }

    #[test]
    fn an_encoding_stops_when_the_workstation_is_gone() {
        let (tx, rx) = channel::<EngineCommand>();
        drop(tx);
        let (mut pending, mut shutdown) = (VecDeque::new(), false);
        let mut stop = until_shutdown(&rx, &mut pending, &mut shutdown);
        assert!(stop(1, 2).is_err());
        drop(stop);
        assert!(shutdown);
    }
}
