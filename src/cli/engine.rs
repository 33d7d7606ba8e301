//! The engine's headless commands: model import, train, forecast, similar,
//! and the training benchmark's wiring.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use super::args::{DtypeArg, ForecastArgs, MapArgs, RefitArgs, SimilarArgs, TrainArgs};
use crate::config::{Config, Paths};
use crate::data::import::{ImportOptions, import_paths};
use crate::data::report;
use crate::engine::encoder::{self, Encoder, ModelDir};
use crate::engine::events::TrainJob;
use crate::engine::run;
use crate::engine::train::Control;
use crate::engine::{EngineEvent, TrainConfig};
use crate::workspace::{DataSources, Workspace};
use anyhow::{Result, anyhow};
use indicatif::{ProgressBar, ProgressStyle};

use super::{emit, import_setup};

/// The model folder: `--model`, else the shipped MiniLM.
pub(crate) fn model_dir(given: Option<&PathBuf>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.clone()),
        None => encoder::default_model_dir().ok_or_else(|| {
            anyhow!(
                "the shipped model (assets/models/{}) is not here; pass --model DIR with a local BERT folder",
                encoder::DEFAULT_MODEL
            )
        }),
    }
}

pub fn model_import(dir: &std::path::Path, out: Option<&PathBuf>, dtype: DtypeArg, paths: &Paths) -> Result<ExitCode> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let dest = out
        .cloned()
        .unwrap_or_else(|| paths.data_dir.join("models").join(&name));
    let dtype = match dtype {
        DtypeArg::F16 => candle_core::DType::F16,
        DtypeArg::F32 => candle_core::DType::F32,
    };
    let m = encoder::import_model(dir, &dest, dtype)?;
    emit(&format!(
        "imported {} tensors ({:.1} M parameters, {:?}) into {}\nfiles: {}\nuse it with --model {}\n",
        m.tensors,
        m.parameters as f64 / 1e6,
        dtype,
        m.dest.display(),
        m.files.join(", "),
        m.dest.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Import the data for a command, remembering the sources it came from.
fn load(
    data: Option<&PathBuf>,
    map: &MapArgs,
    config: &Config,
    ws: &Workspace,
) -> Result<Option<(crate::domain::Dataset, DataSources)>> {
    let given: Vec<PathBuf> = data.into_iter().cloned().collect();
    let (sources, opts) = import_setup(&given, map, config, ws)?;
    match ws.import(&sources, &opts) {
        Ok(i) => Ok(Some((i.dataset, DataSources::of_import(&sources, &opts)))),
        Err(failed) => {
            emit(&report::render(&failed.report))?;
            Ok(None)
        }
    }
}

/// Progress on stderr for headless training.
struct BarControl {
    bar: ProgressBar,
    best: String,
    /// When the last line on the encoding's progress was written, without
    /// a terminal (the bar's message shows it on one).
    encoding_said: Option<std::time::Instant>,
}

impl BarControl {
    /// A line above the bar, or plain stderr when there is no terminal
    /// (the bar then draws nothing, and scripts still want the lines).
    fn say(&self, line: String) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }
}

impl Control for BarControl {
    fn keep_going(&mut self) -> bool {
        true
    }

    fn report(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Device { label, reason } => {
                self.say(format!("device: {label} ({reason})"));
            }
            EngineEvent::Started {
                train_samples,
                validation_samples,
                texts,
                parameters,
                steps_total,
                mode,
                ..
            } => {
                self.say(format!(
                    "mode {mode}: {train_samples} training windows, {validation_samples} validation windows, \
                     {texts} distinct texts, {parameters} trainable parameters"
                ));
                self.bar.set_length(steps_total as u64);
            }
            EngineEvent::Encoding {
                done,
                total,
                elapsed_secs,
            } => {
                if done == total {
                    self.say(format!("encoded {total} texts in {elapsed_secs:.1} s"));
                } else {
                    self.bar.set_message(format!("encoding texts {done}/{total}"));
                    // Minutes on a large data set (M5's 73,666 texts took
                    // 5): a log without a terminal says it is under way.
                    let due = self.encoding_said.is_none_or(|t| t.elapsed().as_secs() >= 30);
                    if self.bar.is_hidden() && due {
                        self.encoding_said = Some(std::time::Instant::now());
                        self.say(format!("encoding texts: {done} of {total} after {elapsed_secs:.0} s"));
                    }
                }
            }
            EngineEvent::Progress(p) => {
                self.bar.set_position(p.step as u64);
                self.bar.set_message(format!(
                    "epoch {}/{}  loss {:.4}  val MSE {}  {:.0} samples/s{}",
                    p.epoch,
                    p.epochs,
                    p.train_loss,
                    p.val_mse.map_or("-".into(), |v| format!("{v:.4}")),
                    p.samples_per_sec,
                    self.best
                ));
            }
            EngineEvent::EpochEnd {
                epoch,
                train_loss,
                validation,
                best,
            } => {
                if best {
                    self.best = format!("  best epoch {epoch}");
                }
                self.say(format!(
                    "epoch {epoch}: train {train_loss:.4}  validation pinball {:.4} MSE {:.4} MAE {:.4}{}",
                    validation.loss,
                    validation.mse,
                    validation.mae,
                    if best { "  (best so far)" } else { "" }
                ));
            }
            _ => {}
        }
    }
}

pub fn train(args: TrainArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    let Some((dataset, sources)) = load(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    let d = TrainConfig::default();
    let cfg = TrainConfig {
        mode: match args.mode {
            Some(m) => m,
            None => {
                let cuda = crate::engine::device::select(args.device).is_ok_and(|s| s.device.is_cuda());
                let m = crate::engine::Mode::default_for(cuda);
                emit(&format!(
                    "mode {m} (the default on {}): trains {}\n",
                    if cuda { "CUDA" } else { "a CPU" },
                    m.trains(args.top_k)
                ))?;
                m
            }
        },
        top_k: args.top_k,
        epochs: args.epochs.max(1),
        horizon: args.horizon.unwrap_or(dataset.period().default_horizon()).max(1),
        batch_size: args.batch_size.unwrap_or(d.batch_size).max(1),
        lr: args.lr.unwrap_or(d.lr),
        max_train_samples: args.max_samples.unwrap_or(d.max_train_samples).max(1),
        seed: args.seed.unwrap_or(d.seed),
        patience: args.patience.unwrap_or(d.patience),
        use_text: !args.no_text,
        budget_minutes: args.minutes.filter(|m| *m > 0.0),
        ..d
    };
    // By default the last horizon is held out: the run is judged on it,
    // then refit up to the last day (see engine::protocol).
    let last = dataset.date_range().map(|(_, l)| l);
    let train_end = match (args.train_end, last) {
        (Some(d), _) => Some(d),
        (None, Some(l)) if !args.resume => {
            let p = dataset.period();
            let d = p.step(p.floor(l), -(cfg.horizon as i64));
            emit(&format!(
                "training up to {d}: the last {} are held out to judge the run, then it is refit up to {l} \
                 (--train-end to choose, --no-refit to skip the refit)\n",
                p.count(cfg.horizon)
            ))?;
            Some(d)
        }
        // A resumed run keeps the train end it was started with.
        _ => run::read_meta(&args.out).ok().map(|m| m.train_end),
    };
    let dataset = Arc::new(dataset);
    let job = TrainJob {
        dataset: dataset.clone(),
        sources,
        train_end,
        model_dir: model_dir(args.model.as_ref())?,
        config: cfg,
        out: args.out.clone(),
        device: args.device,
        resume: args.resume,
        text_cache: Some(ws.training_embeddings_path()),
    };
    let summary = train_job(&job)?;
    emit(&summary.describe())?;
    emit(&format!(
        "run saved in {} (run.json, metrics.csv, checkpoint/)\n",
        summary.dir.display()
    ))?;
    let meta = run::read_meta(&summary.dir)?;
    let until = args.refit_until.or(last);
    if args.no_refit || summary.best_epoch == 0 || until.is_none_or(|u| u <= meta.train_end) {
        return Ok(ExitCode::SUCCESS);
    }
    emit(&format!(
        "refitting on the data up to {} with the same settings, {}\n",
        until.map(|u| u.to_string()).unwrap_or_default(),
        crate::engine::events::epochs(summary.best_epoch)
    ))?;
    run_refit(&summary.dir, dataset, until, args.device, &ws)
}

/// Train with a progress bar on stderr.
pub(crate) fn train_job(job: &TrainJob) -> Result<crate::engine::events::RunSummary> {
    with_bar(|control| run::train_run(job, control))
}

/// Run a training (or a refit) with its progress bar on stderr, cleared
/// when it ends.
fn with_bar<T>(work: impl FnOnce(&mut BarControl) -> Result<T>) -> Result<T> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {elapsed_precise} eta {eta}  {msg}")
            .map_err(|e| anyhow!("{e}"))?,
    );
    let mut control = BarControl {
        bar: bar.clone(),
        best: String::new(),
        encoding_said: None,
    };
    let out = work(&mut control);
    bar.finish_and_clear();
    out
}

/// Refit with a progress bar, and say where it went.
pub(crate) fn run_refit(
    dir: &std::path::Path,
    data: Arc<crate::domain::Dataset>,
    until: Option<chrono::NaiveDate>,
    device: crate::engine::DeviceChoice,
    ws: &Workspace,
) -> Result<ExitCode> {
    let cache = ws.training_embeddings_path();
    let summary =
        with_bar(|control| crate::engine::protocol::refit(dir, data, (until, Some(&cache)), device, control))?;
    emit(&format!(
        "refit saved in {} ({} epochs, {:.1} s)\n",
        summary.dir.display(),
        summary.epochs_done,
        summary.train_seconds
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn refit(args: RefitArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    let Some((dataset, _)) = load(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    run_refit(&args.run, Arc::new(dataset), args.until, args.device, &ws)
}

pub fn forecast(args: ForecastArgs, config: &Config) -> Result<ExitCode> {
    let loaded = run::load_run(&args.run, Some(args.device))?;
    let sources = match &args.data {
        Some(p) => DataSources {
            paths: vec![p.clone()],
            ..loaded.meta.sources.clone()
        },
        None => loaded.meta.sources.clone(),
    };
    // Nor into the run it reads (over its run.json, it was lost).
    let mut reads = sources.paths.clone();
    reads.push(args.run.clone());
    super::check_out(&args.out, &reads)?;
    let opts = sources.import_options(&ImportOptions {
        product_defaults: config.products.clone(),
        default_warehouse: config.import.default_warehouse.clone(),
        exclude_skus: config.import.exclude_skus.clone(),
        ..ImportOptions::default()
    });
    let data = match import_paths(&sources.paths, &opts) {
        Ok(i) => i.dataset,
        Err(failed) => {
            emit(&report::render(&failed.report))?;
            return Ok(ExitCode::from(1));
        }
    };
    crate::engine::protocol::check_data(&args.run, &loaded.meta, &data)?;
    // By default the forecast a plan uses, from the data's last day (until
    // session 26 the run's train end: a month already past, with the
    // run's own weights though a refit was there).
    let (fc, from) = match args.origin {
        Some(origin) => (
            run::forecast(&loaded, &data, Some(origin))?,
            format!("{origin}, the run's own weights"),
        ),
        None => {
            let (fc, how) = crate::engine::protocol::future_forecast(&args.run, &loaded, &data, Some(args.device))?;
            let last = data.date_range().map(|(_, l)| l.to_string()).unwrap_or_default();
            (fc, format!("{last}, the data's last day ({how})"))
        }
    };
    let rows = run::write_forecast_csv(&args.out, &fc)?;
    emit(&format!(
        "{} series x {} days ({rows} rows) from {from} written to {}\n",
        fc.len(),
        loaded.meta.horizon,
        args.out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn similar(args: SimilarArgs, config: &Config, paths: &Paths) -> Result<ExitCode> {
    let ws = Workspace::open(paths.workspace_dir())?;
    let Some((data, _)) = load(args.data.as_ref(), &args.map, config, &ws)? else {
        return Ok(ExitCode::from(1));
    };
    let model = model_dir(args.model.as_ref())?;
    let enc = Encoder::load(
        &ModelDir::open(&model)?,
        &candle_core::Device::Cpu,
        crate::engine::similar::PRODUCT_TEXT_TOKENS,
    )?;
    let mut cache = crate::engine::text_cache::EmbeddingCache::at(Some(&ws.embeddings_path()), &model, &enc)?;
    let found =
        crate::engine::similar::nearest(&enc, &data, (&args.sku, args.top), cache.as_mut(), &mut |_, _| Ok(()))?;
    let mut out = format!("{:<6} {:<16} product\n", "cosine", "sku");
    for (sku, score, text) in found {
        out.push_str(&format!("{score:<6.3} {sku:<16} {text}\n"));
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}
