//! Training the demand model: samples from time-ordered windows, the text
//! side per mode (cached embeddings, cached lower layers, or the whole
//! encoder), AdamW with warm-up and decay, clipping, early stopping, NaN
//! detection, checkpoints that resume to the same numbers.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use chrono::NaiveDate;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::bert::{Bert, Dropout};
use super::checkpoint::{self, MetricRow, TrainState};
use super::config::{Mode, TrainConfig};
use super::encoder::Encoder;
use super::events::{EngineEvent, EvalMetrics, Progress, Stop};
use super::model::{Calibration, DemandHead, HeadConfig, pinball_loss};
use super::optim::{AdamW, schedule};
use crate::domain::Dataset;
use crate::domain::Period;
use crate::forecast::features::{self, index_of, splits_for};
use crate::forecast::text::TextBuilder;

/// Windows of one split, flattened row-major.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub n: usize,
    pub feats: Vec<f32>,
    pub targets: Vec<f32>,
    pub text: Vec<u32>,
    pub scale: Vec<f32>,
    pub series: Vec<u32>,
}

impl Samples {
    fn push(&mut self, data: &Dataset, at: (usize, i64), horizon: usize, text: u32, pooled: &features::Pooled) {
        let (series, o) = at;
        let s = &data.demand[series];
        let scale = features::push_features(s, o, horizon, pooled, &mut self.feats);
        features::push_targets(s, o, horizon, scale, &mut self.targets);
        self.text.push(text);
        self.scale.push(scale as f32);
        self.series.push(series as u32);
        self.n += 1;
    }
}

/// Everything training needs, built once from the data.
pub struct Prepared {
    pub texts: Vec<String>,
    pub train: Samples,
    pub validation: Samples,
    pub test: Samples,
    pub features: usize,
    pub horizon: usize,
    pub splits: features::Splits,
    pub fingerprint: String,
}

/// Interns texts so each distinct one is encoded once.
#[derive(Default)]
pub struct TextTable {
    pub texts: Vec<String>,
    index: HashMap<String, u32>,
}

impl TextTable {
    pub fn id(&mut self, text: String) -> u32 {
        if let Some(i) = self.index.get(&text) {
            return *i;
        }
        let i = self.texts.len() as u32;
        self.index.insert(text.clone(), i);
        self.texts.push(text);
        i
    }
}

/// The text of series `i` at origin index `o`.
pub fn text_at(tb: &TextBuilder, data: &Dataset, i: usize, o: i64, horizon: usize) -> String {
    let s = &data.demand[i];
    let first = s.period.step(s.start, o + 1);
    tb.series_text(&s.sku, &s.warehouse, first, features::promotion_ahead(s, o, horizon))
}

/// A stable fingerprint (FNV-1a) of the series up to `train_end`, so a run
/// knows whether it is looking at the data it learnt from.
pub fn fingerprint(data: &Dataset, train_end: NaiveDate) -> String {
    let mut h = crate::fsio::Fnv1a::default();
    let mut eat = |bytes: &[u8]| h.eat(bytes);
    // Series that begin after the train end hold nothing the run learnt
    // from: the same data cut at any later day has the same fingerprint.
    for s in data.demand.iter().filter(|s| s.start <= train_end) {
        eat(s.sku.as_bytes());
        eat(&[0]);
        eat(s.warehouse.as_bytes());
        eat(s.start.to_string().as_bytes());
        let upto = (index_of(s, train_end) + 1).clamp(0, s.values.len() as i64) as usize;
        for v in &s.values[..upto] {
            eat(&v.to_le_bytes());
        }
    }
    h.hex()
}

/// Cut the windows. Origins need two weeks of history, so SKUs with
/// little history are in the training data and the head learns to lean on
/// the text for them.
pub fn prepare(data: &Dataset, train_end: NaiveDate, cfg: &TrainConfig) -> Result<Prepared> {
    let h = cfg.horizon;
    let period = data.period();
    if h == 0 || h > period.year() {
        bail!("the horizon must be 1..={} {}, not {h}", period.year(), period.plural());
    }
    let first_start = data
        .demand
        .iter()
        .map(|s| s.start)
        .min()
        .ok_or_else(|| anyhow!("there are no demand series to learn from"))?;
    let min_history: i64 = 13;
    // Daily origins 3 days apart cycle through the weekdays; weekly and
    // monthly ones take every period.
    let step = if period == Period::Day { cfg.origin_step } else { 1 };
    let sp = splits_for(period, period.step(first_start, min_history), train_end, h, step);
    if sp.train.is_empty() || sp.validation.is_empty() {
        let spacing = if period == Period::Day { 21 } else { 7 };
        let need = 3 * h + spacing + min_history as usize + 1;
        bail!(
            "not enough history to train a model forecasting {}: it needs about {} up to {train_end} \
             (train, validation and test windows follow each other), the data starts {first_start}",
            period.count(h),
            period.count(need)
        );
    }
    let tb = TextBuilder::new(data);
    let pooled = features::Pooled::build(&data.demand, train_end).with_events(&data.events);
    let mut table = TextTable::default();
    let mut cut = |dates: &[NaiveDate], limit: Option<usize>, seed: u64| -> Samples {
        let mut pairs: Vec<(usize, i64)> = Vec::new();
        for (i, s) in data.demand.iter().enumerate() {
            for d in dates {
                let o = index_of(s, *d);
                if o >= min_history && (o as usize) < s.values.len() {
                    pairs.push((i, o));
                }
            }
        }
        if let Some(limit) = limit
            && pairs.len() > limit
        {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            pairs.shuffle(&mut rng);
            pairs.truncate(limit);
            pairs.sort_unstable();
        }
        let mut out = Samples::default();
        for (i, o) in pairs {
            let t = table.id(text_at(&tb, data, i, o, h));
            out.push(data, (i, o), h, t, &pooled);
        }
        out
    };
    let train = cut(&sp.train, Some(cfg.max_train_samples), cfg.seed);
    let validation = cut(&sp.validation, Some(cfg.max_train_samples / 4), cfg.seed + 1);
    let test = cut(&sp.test, None, 0);
    if train.n == 0 || validation.n == 0 {
        bail!("no series has enough history before {train_end} to train on");
    }
    Ok(Prepared {
        texts: table.texts,
        train,
        validation,
        test,
        features: features::feature_len_for(period, h),
        horizon: h,
        splits: sp,
        fingerprint: fingerprint(data, train_end),
    })
}

/// The encoder and the head together.
pub struct DemandModel {
    pub encoder: Encoder,
    pub head: DemandHead,
    pub head_vars: VarMap,
}

impl DemandModel {
    /// The encoder with a new head, initialised from `seed` (uniform in
    /// +-1/sqrt(fan_in), as PyTorch's Linear does): candle's initialisers
    /// cannot be seeded on the CPU, and two runs with one seed must agree.
    pub fn new(encoder: Encoder, cfg: &HeadConfig, seed: u64) -> Result<DemandModel> {
        use rand::Rng;
        let head_vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&head_vars, DType::F32, &encoder.device);
        let head = DemandHead::new(cfg, vb)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        {
            let vars = head_vars
                .data()
                .lock()
                .map_err(|_| anyhow!("the model's variables are poisoned by an earlier panic"))?;
            let mut names: Vec<&String> = vars.keys().collect();
            names.sort();
            // Weights first, so each bias can use its weight's fan-in.
            let fan_in: HashMap<String, usize> = names
                .iter()
                .filter_map(|n| {
                    let v = &vars[*n];
                    let prefix = n.strip_suffix(".weight")?;
                    Some((prefix.to_string(), v.dims().get(1).copied().unwrap_or(1)))
                })
                .collect();
            for n in names {
                let var = &vars[n];
                let prefix = n.rsplit_once('.').map_or(n.as_str(), |p| p.0);
                let mut bound = 1.0 / (fan_in.get(prefix).copied().unwrap_or(1).max(1) as f32).sqrt();
                if prefix == "out" {
                    // Start close to the base forecast.
                    bound *= 0.1;
                }
                let values: Vec<f32> = (0..var.elem_count()).map(|_| rng.random_range(-bound..bound)).collect();
                var.set(&Tensor::from_vec(values, var.dims(), &Device::Cpu)?.to_device(var.device())?)?;
            }
        }
        Ok(DemandModel {
            encoder,
            head,
            head_vars,
        })
    }

    pub fn device(&self) -> &Device {
        &self.encoder.device
    }

    /// The variables that train in `mode`, named `head.*` / `encoder.*`.
    pub fn trainable(&self, mode: Mode, top_k: usize) -> Result<Vec<(String, Var, bool)>> {
        let mut out = Vec::new();
        let lock = |vm: &VarMap| -> Result<Vec<(String, Var)>> {
            let d = vm
                .data()
                .lock()
                .map_err(|_| anyhow!("the model's variables are poisoned by an earlier panic"))?;
            let mut v: Vec<(String, Var)> = d.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(v)
        };
        for (k, v) in lock(&self.head_vars)? {
            out.push((format!("head.{k}"), v, false));
        }
        let layers = self.encoder.bert.num_layers();
        let first_trained = match mode {
            Mode::Head => return Ok(out),
            Mode::TopK => layers.saturating_sub(top_k),
            Mode::Full => 0,
        };
        for (k, v) in lock(&self.encoder.varmap)? {
            let trains = match mode {
                Mode::Full => true,
                _ => (first_trained..layers).any(|i| k.starts_with(&Bert::layer_prefix(i))),
            };
            if trains {
                out.push((format!("encoder.{k}"), v, true));
            }
        }
        Ok(out)
    }
}

/// How the text embedding of a batch is produced in each mode.
pub enum TextSide {
    /// Frozen encoder: one pooled embedding per distinct text.
    Cached(Tensor),
    /// top-k: hidden states below the trained layers, per text.
    Lower { states: Vec<Tensor>, from: usize },
    /// full: run the encoder on the batch's texts.
    Full,
}

impl TextSide {
    /// The texts' side for `mode`; `each` is told how the encoding goes
    /// (see [`super::encoder::Progress`]).
    pub fn build(
        model: &DemandModel,
        texts: &[String],
        (mode, top_k): (Mode, usize),
        each: &mut super::encoder::Progress<'_>,
    ) -> Result<Self> {
        Ok(match mode {
            Mode::Head => TextSide::Cached(model.encoder.embed_each(texts, 64, each)?),
            Mode::TopK => {
                let from = model.encoder.bert.num_layers().saturating_sub(top_k);
                TextSide::Lower {
                    states: model.encoder.lower_states(texts, from, each)?,
                    from,
                }
            }
            Mode::Full => TextSide::Full,
        })
    }

    /// Head mode's table from `cache`: texts it holds are read back, the
    /// rest embedded and kept (see `EmbeddingCache::embed_and_keep`).
    pub fn from_cache(
        model: &DemandModel,
        texts: &[String],
        cache: &mut super::text_cache::EmbeddingCache,
        each: &mut super::encoder::Progress<'_>,
    ) -> Result<Self> {
        let rows = cache.embed_and_keep(&model.encoder, texts, each)?;
        let dim = model.encoder.hidden_size();
        let flat: Vec<f32> = rows.into_iter().flatten().collect();
        Ok(TextSide::Cached(Tensor::from_vec(
            flat,
            (texts.len(), dim),
            model.device(),
        )?))
    }

    /// Pooled embeddings (batch, hidden) for text ids `ids`.
    pub fn embed(&self, model: &DemandModel, texts: &[String], ids: &[u32], drop: &mut Dropout) -> Result<Tensor> {
        let dev = model.device();
        if let TextSide::Cached(table) = self {
            let idx = Tensor::from_slice(ids, ids.len(), dev)?;
            return Ok(table.index_select(&idx, 0)?);
        }
        // Distinct texts of the batch, encoded once each.
        let mut uniq: Vec<u32> = ids.to_vec();
        uniq.sort_unstable();
        uniq.dedup();
        let pos: HashMap<u32, u32> = uniq.iter().enumerate().map(|(p, id)| (*id, p as u32)).collect();
        let pooled = match self {
            TextSide::Lower { states, from } => {
                let len = uniq
                    .iter()
                    .map(|i| states[*i as usize].dim(0))
                    .collect::<candle_core::Result<Vec<_>>>()?
                    .into_iter()
                    .max()
                    .unwrap_or(1);
                let hidden = model.encoder.hidden_size();
                let mut rows = Vec::with_capacity(uniq.len());
                let mut mask = Vec::with_capacity(uniq.len() * len);
                for i in &uniq {
                    let s = &states[*i as usize];
                    let n = s.dim(0)?;
                    let padded = if n < len {
                        Tensor::cat(&[s, &Tensor::zeros((len - n, hidden), s.dtype(), dev)?], 0)?
                    } else {
                        s.clone()
                    };
                    rows.push(padded);
                    mask.extend(std::iter::repeat_n(1u32, n));
                    mask.extend(std::iter::repeat_n(0u32, len - n));
                }
                let hidden_states = Tensor::stack(&rows, 0)?;
                let mask = Tensor::from_vec(mask, (uniq.len(), len), dev)?;
                let out = model.encoder.bert.forward_upper(&hidden_states, &mask, *from, drop)?;
                Bert::mean_pool(&out, &mask)?
            }
            TextSide::Full => {
                let batch_texts: Vec<String> = uniq.iter().map(|i| texts[*i as usize].clone()).collect();
                let batch = model.encoder.tokenize(&batch_texts)?;
                let out = model.encoder.bert.forward(&batch, drop)?;
                Bert::mean_pool(&out, &batch.mask)?
            }
            TextSide::Cached(_) => unreachable!("handled above"),
        };
        let idx: Vec<u32> = ids.iter().map(|i| pos[i]).collect();
        let idx = Tensor::from_vec(idx, ids.len(), dev)?;
        Ok(pooled.index_select(&idx, 0)?)
    }
}

/// Gather rows of a split into tensors.
fn batch_tensors(s: &Samples, rows: &[usize], f: usize, h: usize, dev: &Device) -> Result<(Tensor, Tensor, Vec<u32>)> {
    let mut feats = Vec::with_capacity(rows.len() * f);
    let mut targets = Vec::with_capacity(rows.len() * h);
    let mut text = Vec::with_capacity(rows.len());
    for &r in rows {
        feats.extend_from_slice(&s.feats[r * f..(r + 1) * f]);
        targets.extend_from_slice(&s.targets[r * h..(r + 1) * h]);
        text.push(s.text[r]);
    }
    Ok((
        Tensor::from_vec(feats, (rows.len(), f), dev)?,
        Tensor::from_vec(targets, (rows.len(), h), dev)?,
        text,
    ))
}

/// Predictions for every row of a split: (n, 3, h) scaled, row-major.
pub fn predict_split(model: &DemandModel, side: &TextSide, texts: &[String], s: &Samples) -> Result<Vec<f32>> {
    predict_split_as(model, side, texts, s, &TextInput::Own)
}

/// Which text each row reads when the text's worth is measured.
pub enum TextInput {
    /// Its own.
    Own,
    /// Another product's: text id `i` reads `map[i]`.
    Shuffled(Vec<u32>),
    /// None: one embedding (1, hidden) for every row.
    Same(Tensor),
}

/// [`predict_split`] with the rows' texts replaced as `input` says.
pub fn predict_split_as(
    model: &DemandModel,
    side: &TextSide,
    texts: &[String],
    s: &Samples,
    input: &TextInput,
) -> Result<Vec<f32>> {
    let f = model.head.config.features;
    let h = model.head.config.horizon;
    let mut out = Vec::with_capacity(s.n * 3 * h);
    let rows: Vec<usize> = (0..s.n).collect();
    for chunk in rows.chunks(512) {
        let (feats, _t, text) = batch_tensors(s, chunk, f, h, model.device())?;
        let emb = match input {
            TextInput::Own => side.embed(model, texts, &text, &mut Dropout::off())?,
            TextInput::Shuffled(map) => {
                let ids: Vec<u32> = text.iter().map(|i| map[*i as usize]).collect();
                side.embed(model, texts, &ids, &mut Dropout::off())?
            }
            TextInput::Same(mean) => mean.broadcast_as((chunk.len(), mean.dim(1)?))?.contiguous()?,
        };
        let pred = model.head.forward(&emb, &feats, &mut Dropout::off())?;
        out.extend(pred.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// Score predictions against a split's targets.
pub fn score(pred: &[f32], s: &Samples, h: usize, cal: Calibration) -> EvalMetrics {
    let mut m = EvalMetrics {
        n: s.n,
        ..Default::default()
    };
    let count = (s.n * h).max(1) as f64;
    for r in 0..s.n {
        for d in 0..h {
            let y = s.targets[r * h + d] as f64;
            let (p10, p50, p90) = cal.apply(
                pred[r * 3 * h + d] as f64,
                pred[r * 3 * h + h + d] as f64,
                pred[r * 3 * h + 2 * h + d] as f64,
            );
            let e = y - p50;
            m.mse += e * e;
            m.mae += e.abs();
            for (q, p) in [(0.1, p10), (0.5, p50), (0.9, p90)] {
                let diff = y - p;
                m.loss += (q * diff).max((q - 1.0) * diff) / 3.0;
            }
            if y >= p10 && y <= p90 {
                m.coverage += 1.0;
            }
        }
    }
    m.loss /= count;
    m.mse /= count;
    m.mae /= count;
    m.coverage /= count;
    m
}

impl Calibration {
    pub fn fit(pred: &[f32], s: &Samples, h: usize) -> Calibration {
        let mut lo = Vec::new();
        let mut hi = Vec::new();
        for r in 0..s.n {
            for d in 0..h {
                let y = s.targets[r * h + d] as f64;
                let p10 = pred[r * 3 * h + d] as f64;
                let p50 = pred[r * 3 * h + h + d] as f64;
                let p90 = pred[r * 3 * h + 2 * h + d] as f64;
                if p50 - p10 > 1e-6 {
                    lo.push((p50 - y) / (p50 - p10));
                }
                if p90 - p50 > 1e-6 {
                    hi.push((y - p50) / (p90 - p50));
                }
            }
        }
        let q90 = |mut v: Vec<f64>| -> f64 {
            if v.len() < 20 {
                return 1.0;
            }
            v.sort_by(f64::total_cmp);
            v[((v.len() - 1) as f64 * 0.9).round() as usize].clamp(0.05, 5.0)
        };
        Calibration {
            lower: q90(lo),
            upper: q90(hi),
            correction: 1.0,
        }
    }
}

/// Between-step control: the worker turns its command channel into this,
/// the CLI its progress bar.
pub trait Control {
    /// Called between steps; returns false to stop (cancel). Pausing
    /// blocks inside.
    fn keep_going(&mut self) -> bool;
    fn report(&mut self, event: EngineEvent);
}

/// [`Control::keep_going`], adding the time it took to `waited`: a pause
/// blocks inside it, and paused time is not working time (elapsed time,
/// samples/s and ETAs leave it out).
fn keep_going_timed(control: &mut dyn Control, waited: &mut std::time::Duration) -> bool {
    let asked = Instant::now();
    let go = control.keep_going();
    *waited += asked.elapsed();
    go
}

/// What the training loop leaves: the weights are in the model (the best
/// epoch's), the texts' side for predicting, and how it ended.
pub struct Trained {
    pub stop: Stop,
    pub state: TrainState,
    pub parameters: usize,
    pub side: TextSide,
}

fn epoch_rng(seed: u64, epoch: usize, salt: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ ((epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ salt)
}

/// Train `model` on `prep`. With `ckpt_dir`, a checkpoint is written at
/// every epoch end (and the best weights kept); with `resume`, training
/// continues from that state; in head mode with `text_cache`, the frozen
/// encoder embeds only the texts the cache does not hold. On return the
/// model holds the best weights.
pub fn train(
    model: &mut DemandModel,
    prep: &Prepared,
    cfg: &TrainConfig,
    (ckpt_dir, resume): (Option<&Path>, Option<TrainState>),
    text_cache: Option<&mut super::text_cache::EmbeddingCache>,
    control: &mut dyn Control,
) -> Result<Trained> {
    let _memory = super::memory::HoldMemory::new();
    // The whole correction while learning (a model loaded from a run may
    // carry a smaller share); choose_correction sets it after.
    model.head.correction = 1.0;
    let dev = model.device().clone();
    let f = prep.features;
    let h = prep.horizon;
    if model.head.config.features != f || model.head.config.horizon != h {
        bail!("the head was built for another feature layout or horizon");
    }
    let vars = model.trainable(cfg.mode, cfg.top_k)?;
    let mut opt = AdamW::new(cfg.weight_decay);
    let enc_scale = cfg.encoder_lr / cfg.lr;
    for (name, var, is_encoder) in &vars {
        opt.add(name, var.clone(), if *is_encoder { enc_scale } else { 1.0 })?;
    }
    let parameters = opt.parameter_count();
    // Encoding the texts can take minutes before the first step: it is
    // reported as it goes, and a cancel (or a pause) is heard between its
    // batches too.
    let encoding = Instant::now();
    let mut waited = std::time::Duration::ZERO;
    let mut each = |done: usize, total: usize| -> Result<()> {
        control.report(EngineEvent::Encoding {
            done,
            total,
            elapsed_secs: encoding.elapsed().saturating_sub(waited).as_secs_f64(),
        });
        if keep_going_timed(control, &mut waited) {
            Ok(())
        } else {
            Err(super::events::Cancelled(super::events::CANCELLED_ENCODING).into())
        }
    };
    let side = match (cfg.mode, text_cache) {
        (Mode::Head, Some(cache)) => TextSide::from_cache(model, &prep.texts, cache, &mut each)?,
        _ => TextSide::build(model, &prep.texts, (cfg.mode, cfg.top_k), &mut each)?,
    };
    let bs = cfg.batch_size.max(1);
    let steps_per_epoch = prep.train.n.div_ceil(bs);
    let total_steps = steps_per_epoch * cfg.epochs.max(1);
    let warmup = ((total_steps as f64 * cfg.warmup_frac) as usize).max(1);

    let mut state = match resume {
        Some(s) => {
            if let Some(dir) = ckpt_dir {
                checkpoint::load_into(dir, &s.last_tag(), &vars, Some(&mut opt), s.step)?;
            }
            s
        }
        None => TrainState::default(),
    };
    control.report(EngineEvent::Started {
        device: format!("{dev:?}"),
        mode: cfg.mode,
        train_samples: prep.train.n,
        validation_samples: prep.validation.n,
        texts: prep.texts.len(),
        parameters,
        steps_total: total_steps,
    });
    let started = Instant::now();
    let mut paused = std::time::Duration::ZERO;
    let mut steps_this_run = 0usize;
    let mut stop = Stop::Finished;
    let mut best_weights: Option<HashMap<String, Tensor>> = None;
    'epochs: while state.epochs_done < cfg.epochs {
        let epoch = state.epochs_done + 1;
        let mut order: Vec<usize> = (0..prep.train.n).collect();
        order.shuffle(&mut epoch_rng(cfg.seed, epoch, 1));
        let mut drop_rng = epoch_rng(cfg.seed, epoch, 2);
        let mut loss_sum = 0.0;
        let mut loss_n = 0usize;
        let mut window_loss = 0.0;
        let mut window_n = 0usize;
        for (k, rows) in order.chunks(bs).enumerate() {
            if !keep_going_timed(control, &mut paused) {
                stop = Stop::Cancelled;
                break 'epochs;
            }
            if cfg
                .budget_minutes
                .is_some_and(|m| started.elapsed().saturating_sub(paused).as_secs_f64() > 60.0 * m)
            {
                stop = Stop::OutOfTime;
                break 'epochs;
            }
            if cfg.panic_at_step == Some(state.step + 1) {
                panic!("panic_at_step {} (a test asked for it)", state.step + 1);
            }
            let step_started = Instant::now();
            let (feats, targets, text) = batch_tensors(&prep.train, rows, f, h, &dev)?;
            let mut drop = Dropout::train(&mut drop_rng);
            let emb = side.embed(model, &prep.texts, &text, &mut drop)?;
            let pred = model.head.forward(&emb, &feats, &mut drop)?;
            let loss = pinball_loss(&pred, &targets)?;
            let l: f32 = loss.to_dtype(DType::F32)?.to_scalar()?;
            if !l.is_finite() {
                bail!(
                    "training stopped at epoch {epoch}, step {}: the loss is {l} (NaN or infinite). \
                     Check the data for extreme values, or lower the learning rate (now {})",
                    state.step + 1,
                    cfg.lr
                );
            }
            let grads = loss.backward()?;
            let lr = schedule(cfg.lr, state.step, warmup, total_steps);
            opt.step(&grads, lr, cfg.clip_norm).map_err(|e| {
                anyhow!(
                    "training stopped at epoch {epoch}, step {}: {e} (NaN or infinite gradients)",
                    state.step + 1
                )
            })?;
            state.step += 1;
            steps_this_run += 1;
            loss_sum += l as f64;
            loss_n += 1;
            window_loss += l as f64;
            window_n += 1;
            let elapsed = started.elapsed().saturating_sub(paused).as_secs_f64();
            let sps = (steps_this_run * bs) as f64 / elapsed.max(1e-9);
            let step_secs = step_started.elapsed().as_secs_f64();
            let remaining = total_steps.saturating_sub(state.step) as f64;
            let eta = if steps_this_run > 0 {
                remaining * elapsed / steps_this_run as f64
            } else {
                remaining * step_secs
            };
            let last_val = state.history.iter().rev().find_map(|r| r.val_mse.zip(r.val_mae));
            if state.step % cfg.log_every.max(1) == 0 || k + 1 == steps_per_epoch {
                state.history.push(MetricRow {
                    step: state.step,
                    epoch,
                    train_loss: window_loss / window_n.max(1) as f64,
                    val_mse: None,
                    val_mae: None,
                    samples_per_sec: sps,
                });
                window_loss = 0.0;
                window_n = 0;
            }
            control.report(EngineEvent::Progress(Progress {
                epoch,
                epochs: cfg.epochs,
                step: state.step,
                steps_total: total_steps,
                train_loss: l as f64,
                val_mse: last_val.map(|v| v.0),
                val_mae: last_val.map(|v| v.1),
                samples_per_sec: sps,
                eta_secs: eta,
                elapsed_secs: elapsed,
            }));
        }
        // Epoch end: validate, keep the best, checkpoint.
        let pred = predict_split(model, &side, &prep.texts, &prep.validation)?;
        let val = score(&pred, &prep.validation, h, Calibration::default());
        if !val.loss.is_finite() {
            bail!(
                "training stopped after epoch {epoch}: the validation loss is {}",
                val.loss
            );
        }
        let train_loss = loss_sum / loss_n.max(1) as f64;
        if let Some(last) = state.history.last_mut() {
            last.val_mse = Some(val.mse);
            last.val_mae = Some(val.mae);
        }
        let improved = state.best_loss.is_none_or(|b| val.loss < b);
        state.epochs_done = epoch;
        if improved {
            state.best_loss = Some(val.loss);
            state.best_epoch = epoch;
            state.bad_epochs = 0;
            best_weights = Some(snapshot(&vars)?);
        } else {
            state.bad_epochs += 1;
        }
        if let Some(dir) = ckpt_dir {
            checkpoint::save(dir, &vars, &opt, &state, improved)?;
        }
        control.report(EngineEvent::EpochEnd {
            epoch,
            train_loss,
            validation: val,
            best: improved,
        });
        if state.bad_epochs >= cfg.patience.max(1) {
            stop = Stop::EarlyStopped;
            break;
        }
    }
    // Restore the best weights (from memory, or from the best checkpoint
    // when this run resumed after the best epoch).
    if let Some(best) = best_weights {
        restore(&vars, &best)?;
    } else if let Some(dir) = ckpt_dir
        && state.best_epoch > 0
    {
        checkpoint::load_into(dir, checkpoint::BEST, &vars, None, state.step)?;
    }
    Ok(Trained {
        stop,
        state,
        parameters,
        side,
    })
}

/// A copy of the variables' values (`Var::set` writes in place, so a
/// plain clone would follow later updates).
fn snapshot(vars: &[(String, Var, bool)]) -> Result<HashMap<String, Tensor>> {
    vars.iter()
        .map(|(n, v, _)| Ok((n.clone(), v.as_tensor().copy()?)))
        .collect()
}

fn restore(vars: &[(String, Var, bool)], saved: &HashMap<String, Tensor>) -> Result<()> {
    for (n, v, _) in vars {
        let t = saved.get(n).with_context(|| format!("no saved value for {n}"))?;
        v.set(t)?;
    }
    Ok(())
}
