//! A training run on disk: what it learnt from (data paths, mapping, train
//! end, fingerprint), its configuration, checkpoints, metrics and text
//! cache; and what can be done with one (forecast, evaluate, resume).
//!
//! Layout of RUN/:
//!   run.json                  RunMeta (written first as "training", then final)
//!   metrics.csv               step, epoch, train_loss, val_mse, val_mae, samples_per_sec
//!   checkpoint/               state.json, epoch-NNN[.optim].safetensors, best.safetensors
//!   texts.json + text_embeddings.safetensors   (head mode: the frozen encoder's output)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use candle_core::{Device, Tensor};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::bert::{BertConfig, Dropout};
use super::checkpoint::{self, TrainState};
use super::config::{Mode, TrainConfig};
use super::device::{self, DeviceChoice};
use super::encoder::{Encoder, ModelDir};
use super::events::{EngineEvent, EvalMetrics, RunSummary, Stop, TrainJob};
use super::model::{Calibration, Correction, HeadConfig};
use super::selection::Outcome;
use super::train::{self, Control, DemandModel};
use crate::domain::{Dataset, Period, SeriesForecast};
use crate::forecast::baselines::QuantileForecast;
use crate::forecast::features::{self, FEATURES_VERSION, index_of};
use crate::forecast::text::TextBuilder;
use crate::fsio::atomic_write;
use crate::workspace::DataSources;

/// The method name the model has in evaluation tables and forecast files.
pub const METHOD: &str = crate::domain::MODEL_METHOD;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub format: u32,
    pub created: String,
    pub sources: DataSources,
    pub train_end: NaiveDate,
    /// Periods the model forecasts.
    pub horizon: usize,
    /// What the horizon counts: the period of the data it learnt from.
    #[serde(default)]
    pub period: Period,
    pub model_dir: PathBuf,
    pub model_name: String,
    pub bert: BertConfig,
    pub head: HeadConfig,
    pub train: TrainConfig,
    pub features_version: u32,
    pub fingerprint: String,
    pub device: String,
    /// None while training.
    pub stop: Option<Stop>,
    pub epochs_done: usize,
    pub best_epoch: usize,
    pub validation: Option<EvalMetrics>,
    pub test: Option<EvalMetrics>,
    pub calibration: Calibration,
    /// The validation losses behind `calibration.correction`.
    #[serde(default)]
    pub correction: Option<Correction>,
    pub parameters: usize,
    pub samples: [usize; 3],
    pub train_seconds: f64,
    /// The refit on later data, once made (see `engine::protocol`).
    #[serde(default)]
    pub refit: Option<RefitInfo>,
    /// What the text added on the validation windows, and whether the
    /// forecasts read it.
    #[serde(default)]
    pub text: Option<super::events::TextAblation>,
}

fn meta_path(dir: &Path) -> PathBuf {
    dir.join("run.json")
}

pub fn read_meta(dir: &Path) -> Result<RunMeta> {
    let p = meta_path(dir);
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("{}: not a training run (no run.json)", dir.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is damaged", p.display()))
}

pub(crate) fn write_meta(dir: &Path, meta: &RunMeta) -> Result<()> {
    atomic_write(&meta_path(dir), &serde_json::to_vec_pretty(meta)?)
}

fn write_metrics_csv(dir: &Path, state: &TrainState) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["step", "epoch", "train_loss", "val_mse", "val_mae", "samples_per_sec"])?;
    for r in &state.history {
        let opt = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
        w.write_record([
            r.step.to_string(),
            r.epoch.to_string(),
            format!("{:.6}", r.train_loss),
            opt(r.val_mse),
            opt(r.val_mae),
            format!("{:.1}", r.samples_per_sec),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow!("{e}"))?;
    atomic_write(&dir.join("metrics.csv"), &bytes)
}

fn head_config(encoder: &Encoder, cfg: &TrainConfig, period: Period) -> HeadConfig {
    HeadConfig {
        text_dim: encoder.hidden_size(),
        text_proj: cfg.text_proj,
        features: features::feature_len_for(period, cfg.horizon),
        hidden: cfg.hidden,
        horizon: cfg.horizon,
        dropout: cfg.dropout,
        use_text: cfg.use_text,
        base_offset: Some(features::base_offset_for(period, cfg.horizon)),
    }
}

/// Train (or resume) a run and write everything it learnt into `job.out`.
pub fn train_run(job: &TrainJob, control: &mut dyn Control) -> Result<RunSummary> {
    let clock = Instant::now();
    let selected = device::select(job.device)?;
    control.report(EngineEvent::Device {
        label: selected.label.clone(),
        reason: selected.reason.clone(),
    });
    let (_, last) = job
        .dataset
        .date_range()
        .ok_or_else(|| anyhow!("the data has no sales history to learn from"))?;
    let train_end = job.train_end.unwrap_or(last);
    if train_end > last {
        bail!("--train-end {train_end} is after the last day of data ({last})");
    }
    let out = &job.out;
    let ckpt = out.join("checkpoint");
    let existing = meta_path(out).is_file();
    if existing && !job.resume {
        bail!(
            "{} already holds a training run; pass --resume to continue it, or choose another --out",
            out.display()
        );
    }
    if job.resume && !existing {
        bail!("{}: there is no run to resume", out.display());
    }
    let cfg = &job.config;
    let dir = ModelDir::open(&job.model_dir)?;
    let encoder = Encoder::load(&dir, &selected.device, cfg.max_len)?;
    let period = job.dataset.period();
    let head_cfg = head_config(&encoder, cfg, period);
    let prep = train::prepare(&job.dataset, train_end, cfg)?;
    let mut resume_state = None;
    if job.resume {
        let old = read_meta(out)?;
        if old.fingerprint != prep.fingerprint {
            bail!(
                "{}: the data differs from what this run learnt from (fingerprint {} against {}); start a new run",
                out.display(),
                prep.fingerprint,
                old.fingerprint
            );
        }
        if old.train.mode != cfg.mode
            || old.horizon != cfg.horizon
            || old.head != head_cfg
            || old.train.seed != cfg.seed
        {
            bail!(
                "{}: the run was trained with another mode, horizon or head; resume with the same settings",
                out.display()
            );
        }
        resume_state = Some(checkpoint::load_state(&ckpt)?);
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut meta = RunMeta {
        format: 1,
        created: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        sources: job.sources.clone(),
        train_end,
        horizon: cfg.horizon,
        period,
        model_dir: std::path::absolute(&job.model_dir).unwrap_or_else(|_| job.model_dir.clone()),
        model_name: encoder.name.clone(),
        bert: encoder.bert.config.clone(),
        head: head_cfg.clone(),
        train: cfg.clone(),
        features_version: FEATURES_VERSION,
        fingerprint: prep.fingerprint.clone(),
        device: selected.label.clone(),
        stop: None,
        epochs_done: 0,
        best_epoch: 0,
        validation: None,
        test: None,
        calibration: Calibration::default(),
        correction: None,
        parameters: 0,
        samples: [prep.train.n, prep.validation.n, prep.test.n],
        train_seconds: 0.0,
        refit: None,
        text: None,
    };
    write_meta(out, &meta)?;
    let mut text_cache = match cfg.mode {
        super::config::Mode::Head => {
            super::text_cache::EmbeddingCache::at(job.text_cache.as_deref(), &job.model_dir, &encoder)?
        }
        _ => None,
    };
    let mut model = DemandModel::new(encoder, &head_cfg, cfg.seed)?;
    if let Some(s) = &resume_state
        && s.epochs_done == 0
    {
        resume_state = None;
    }
    let trained = match train::train(
        &mut model,
        &prep,
        cfg,
        (Some(&ckpt), resume_state),
        text_cache.as_mut(),
        control,
    ) {
        Ok(t) => t,
        Err(e) => {
            // A new run cancelled before its first step holds nothing but
            // its run.json: it is not left among the runs.
            if !job.resume && e.is::<super::events::Cancelled>() {
                let _ = std::fs::remove_dir_all(out);
            }
            return Err(e);
        }
    };
    let outcome: Outcome = super::selection::finish(&mut model, trained, &prep, cfg.seed)?;
    write_metrics_csv(out, &outcome.state)?;
    if let Some(table) = outcome.text_table.clone() {
        // The frozen encoder's embeddings, so forecasts need not run it.
        checkpoint::save_tensors(
            &HashMap::from([("embeddings".to_string(), table)]),
            &out.join("text_embeddings.safetensors"),
        )?;
        atomic_write(&out.join("texts.json"), &serde_json::to_vec(&prep.texts)?)?;
    }
    meta.stop = Some(outcome.stop);
    meta.epochs_done = outcome.state.epochs_done;
    meta.best_epoch = outcome.state.best_epoch;
    meta.validation = Some(outcome.best);
    meta.test = outcome.test;
    meta.calibration = outcome.calibration;
    meta.correction = Some(outcome.correction.clone());
    meta.parameters = outcome.parameters;
    meta.text = outcome.text;
    if let Some(mean) = &outcome.text_mean {
        checkpoint::save_tensors(
            &HashMap::from([("mean".to_string(), mean.clone())]),
            &out.join(TEXT_MEAN),
        )?;
    }
    meta.train_seconds = clock.elapsed().as_secs_f64();
    write_meta(out, &meta)?;
    Ok(RunSummary {
        dir: out.clone(),
        stop: outcome.stop,
        epochs_done: meta.epochs_done,
        best_epoch: meta.best_epoch,
        validation: outcome.best,
        test: outcome.test,
        calibration: outcome.calibration,
        correction: outcome.correction,
        parameters: outcome.parameters,
        text: outcome.text,
        train_seconds: meta.train_seconds,
        device: selected.label,
    })
}

/// What `run.json` says of the refit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefitInfo {
    /// The last day of data the refit was given (its own test window is the
    /// last horizon before it: the days the run was judged on).
    pub train_end: NaiveDate,
    pub epochs: usize,
    pub fingerprint: String,
    pub seconds: f64,
    /// The days after the run's train end that judge it, up to the
    /// refit's end (first, last).
    #[serde(default)]
    pub judged_on: Option<(NaiveDate, NaiveDate)>,
    /// The protocol in words (`engine::protocol::PROTOCOL`).
    #[serde(default)]
    pub protocol: String,
}

/// A run loaded for forecasting: the model with its best weights.
pub struct LoadedRun {
    pub dir: PathBuf,
    pub meta: RunMeta,
    pub model: DemandModel,
    cache: HashMap<String, usize>,
    table: Option<Tensor>,
    /// The embedding every product reads when validation turned the text
    /// off.
    text_mean: Option<Tensor>,
}

/// Where a run keeps the mean embedding it forecasts with when its text
/// did not help.
const TEXT_MEAN: &str = "text_mean.safetensors";

impl LoadedRun {
    pub fn describe(&self) -> String {
        let m = &self.meta;
        format!(
            "{}: {} ({} mode), horizon {} days, learnt up to {}, best epoch {}",
            self.dir.display(),
            m.model_name,
            m.train.mode,
            m.horizon,
            m.train_end,
            m.best_epoch
        )
    }
}

/// Load a run's best checkpoint.
pub fn load_run(dir: &Path, device: Option<DeviceChoice>) -> Result<LoadedRun> {
    let meta = read_meta(dir)?;
    if meta.features_version != FEATURES_VERSION {
        bail!(
            "{}: trained with feature layout {}, this skuplan uses {}; train it again",
            dir.display(),
            meta.features_version,
            FEATURES_VERSION
        );
    }
    if meta.best_epoch == 0 {
        bail!("{}: the run has no finished epoch to forecast with", dir.display());
    }
    let selected = device::select(device.unwrap_or_default())?;
    let mdir = ModelDir::open(&meta.model_dir).with_context(|| {
        format!(
            "{}: the run's encoder folder {} cannot be opened",
            dir.display(),
            meta.model_dir.display()
        )
    })?;
    let encoder = Encoder::load(&mdir, &selected.device, meta.train.max_len)?;
    let mut model = DemandModel::new(encoder, &meta.head, meta.train.seed)?;
    model.head.correction = meta.calibration.correction;
    let vars = model.trainable(meta.train.mode, meta.train.top_k)?;
    checkpoint::load_into(&dir.join("checkpoint"), checkpoint::BEST, &vars, None, 0)?;
    let mut cache = HashMap::new();
    let mut table = None;
    let texts_path = dir.join("texts.json");
    if meta.train.mode == Mode::Head && texts_path.is_file() {
        let texts: Vec<String> = serde_json::from_slice(&std::fs::read(&texts_path)?)
            .with_context(|| format!("{} is damaged", texts_path.display()))?;
        let t = candle_core::safetensors::load(dir.join("text_embeddings.safetensors"), &selected.device)?;
        if let Some(emb) = t.get("embeddings") {
            cache = texts.into_iter().enumerate().map(|(i, s)| (s, i)).collect();
            table = Some(emb.clone());
        }
    }
    let text_mean = match meta.text {
        Some(t) if !t.used => {
            let p = dir.join(TEXT_MEAN);
            let t = candle_core::safetensors::load(&p, &selected.device).with_context(|| {
                format!(
                    "{}: the run turned its text off but {} is missing",
                    dir.display(),
                    p.display()
                )
            })?;
            Some(
                t.get("mean")
                    .cloned()
                    .ok_or_else(|| anyhow!("{} holds no mean embedding", p.display()))?,
            )
        }
        _ => None,
    };
    Ok(LoadedRun {
        dir: dir.to_path_buf(),
        meta,
        model,
        cache,
        table,
        text_mean,
    })
}

/// Embeddings of `texts` from the run's cache, encoding what is missing.
fn embed_texts(run: &LoadedRun, texts: &[String]) -> Result<Tensor> {
    let dev = run.model.device();
    if let Some(mean) = &run.text_mean {
        return Ok(mean.broadcast_as((texts.len(), mean.dim(1)?))?.contiguous()?);
    }
    if let Some(table) = &run.table
        && texts.iter().all(|t| run.cache.contains_key(t))
    {
        let idx: Vec<u32> = texts.iter().map(|t| run.cache[t] as u32).collect();
        return Ok(table.index_select(&Tensor::from_vec(idx, texts.len(), dev)?, 0)?);
    }
    // Some or all are new: encode the distinct ones (the encoder holds the
    // trained weights in top-k / full mode).
    let mut uniq: Vec<String> = texts.to_vec();
    uniq.sort();
    uniq.dedup();
    let emb = run.model.encoder.embed(&uniq, 64)?;
    let pos: HashMap<&str, u32> = uniq.iter().enumerate().map(|(i, s)| (s.as_str(), i as u32)).collect();
    let idx: Vec<u32> = texts.iter().map(|t| pos[t.as_str()]).collect();
    Ok(emb.index_select(&Tensor::from_vec(idx, texts.len(), dev)?, 0)?)
}

/// Forecast the `horizon` days after `origin` (default: the run's train
/// end) for every series of `data`. Quantiles are calibrated on the
/// validation windows, put back on each series' scale and floored at 0.
pub fn forecast(run: &LoadedRun, data: &Dataset, origin: Option<NaiveDate>) -> Result<Vec<SeriesForecast>> {
    let origin = origin.unwrap_or(run.meta.train_end);
    forecast_with(&run.model, run.meta.calibration, data, origin, &mut |texts| {
        embed_texts(run, texts)
    })
}

/// The forecasting core: features and texts of every series at `origin`,
/// embeddings from `embed` (a cache, or the encoder), the head, then back
/// to units.
pub fn forecast_with(
    model: &DemandModel,
    cal: Calibration,
    data: &Dataset,
    origin: NaiveDate,
    embed: &mut dyn FnMut(&[String]) -> Result<Tensor>,
) -> Result<Vec<SeriesForecast>> {
    let (_, last) = data
        .date_range()
        .ok_or_else(|| anyhow!("the data has no sales history"))?;
    if origin > last {
        bail!("the forecast origin {origin} is after the last day of data ({last})");
    }
    let h = model.head.config.horizon;
    let f = model.head.config.features;
    let tb = TextBuilder::new(data);
    let pooled = features::Pooled::build(&data.demand, origin).with_events(&data.events);
    let mut out = Vec::with_capacity(data.demand.len());
    let idx: Vec<usize> = (0..data.demand.len()).collect();
    for chunk in idx.chunks(1024) {
        let mut feats = Vec::with_capacity(chunk.len() * f);
        let mut scales = Vec::with_capacity(chunk.len());
        let mut texts = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let s = &data.demand[i];
            let o = index_of(s, origin);
            scales.push(features::push_features(s, o, h, &pooled, &mut feats));
            texts.push(train::text_at(&tb, data, i, o, h));
        }
        let dev = model.device();
        let feats = Tensor::from_vec(feats, (chunk.len(), f), dev)?;
        let emb = embed(&texts)?;
        let pred = model.head.forward(&emb, &feats, &mut Dropout::off())?;
        let pred: Vec<f32> = pred.to_device(&Device::Cpu)?.flatten_all()?.to_vec1()?;
        for (k, &i) in chunk.iter().enumerate() {
            let s = &data.demand[i];
            let sc = scales[k];
            let base = k * 3 * h;
            let mut p10 = Vec::with_capacity(h);
            let mut p50 = Vec::with_capacity(h);
            let mut p90 = Vec::with_capacity(h);
            for d in 0..h {
                let (a, b, c) = cal.apply(
                    pred[base + d] as f64,
                    pred[base + h + d] as f64,
                    pred[base + 2 * h + d] as f64,
                );
                // max(0, .) keeps the order of the three.
                p10.push((a * sc).max(0.0));
                p50.push((b * sc).max(0.0));
                p90.push((c * sc).max(0.0));
            }
            out.push(SeriesForecast {
                sku: s.sku.clone(),
                warehouse: s.warehouse.clone(),
                start: s.period.step(s.period.floor(origin), 1),
                p10,
                p50,
                p90,
                model: METHOD.to_string(),
                period: s.period,
            });
        }
    }
    Ok(out)
}

/// Write forecasts as `sku,warehouse,date,p10,p50,p90,model`.
pub fn write_forecast_csv(path: &Path, forecasts: &[SeriesForecast]) -> Result<usize> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["sku", "warehouse", "date", "p10", "p50", "p90", "model"])?;
    let mut rows = 0;
    for f in forecasts {
        for d in 0..f.p50.len() {
            w.write_record([
                f.sku.as_str(),
                f.warehouse.as_str(),
                &f.date_at(d).to_string(),
                &format!("{:.4}", f.p10[d]),
                &format!("{:.4}", f.p50[d]),
                &format!("{:.4}", f.p90[d]),
                f.model.as_str(),
            ])?;
            rows += 1;
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow!("{e}"))?;
    atomic_write(path, &bytes)?;
    Ok(rows)
}

/// Score the run's forecasts as one more method of `bt`, in its latest
/// window, whose origin is the run's train end.
pub fn add_to_backtest(run: &LoadedRun, data: &Dataset, bt: &mut crate::forecast::backtest::Backtest) -> Result<()> {
    // One forecast per series, in the data's order.
    let fc = forecast(run, data, None)?;
    let last = bt.origins.len().saturating_sub(1);
    bt.add_external(data, METHOD, |i, w| {
        (w == last).then(|| QuantileForecast {
            p10: fc[i].p10.clone(),
            p50: fc[i].p50.clone(),
            p90: fc[i].p90.clone(),
        })
    });
    Ok(())
}

/// The evaluation table of a run against every baseline, on the days after
/// its train end (the text the CLI prints and the UI shows).
pub fn evaluate_text(run: &LoadedRun, data: &Dataset) -> Result<String> {
    use crate::forecast::{backtest, baselines, report};
    let spec = backtest::BacktestSpec {
        horizon: run.meta.horizon,
        windows: 1,
        step: run.meta.horizon,
        origin: Some(run.meta.train_end),
        ..backtest::BacktestSpec::default()
    };
    let methods = baselines::all_baselines();
    let mut bt = backtest::run(data, &methods, &spec).map_err(anyhow::Error::msg)?;
    add_to_backtest(run, data, &mut bt)?;
    let champions = bt.champions();
    Ok(report::render(&bt, &champions))
}
