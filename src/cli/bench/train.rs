//! `skuplan bench train`: training steps per mode beside the device's own matmul rate, measured between the steps.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::emit;

/// The shapes the matmul reference is measured on: like the encoder's.
const MATMUL_SHAPES: [(usize, usize, usize); 3] = [(1024, 384, 1536), (2048, 384, 384), (1024, 1024, 1024)];

/// Operands for [`matmul_rate`], made once.
fn matmul_operands(dev: &candle_core::Device) -> Result<Vec<(candle_core::Tensor, candle_core::Tensor)>> {
    MATMUL_SHAPES
        .iter()
        .map(|&(m, k, n)| {
            let a = candle_core::Tensor::randn(0f32, 1.0, (m, k), dev)?;
            let b = candle_core::Tensor::randn(0f32, 1.0, (k, n), dev)?;
            Ok((a, b))
        })
        .collect()
}

/// The f32 matrix-multiply rate candle reaches now, in FLOP/s: the best of
/// one product of each shape.
fn matmul_rate(operands: &[(candle_core::Tensor, candle_core::Tensor)]) -> Result<f64> {
    let mut best = 0f64;
    for (a, b) in operands {
        let (m, k) = a.dims2()?;
        let n = b.dims2()?.1;
        let t = Instant::now();
        let _: f32 = a.matmul(b)?.sum_all()?.to_scalar()?;
        best = best.max(2.0 * (m * k * n) as f64 / t.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Median time of `step` and median matmul rate, measured alternately,
/// so that a load that comes and goes on a shared machine weighs on both
/// sides of the ratio alike.
fn interleaved(
    n: usize,
    operands: &[(candle_core::Tensor, candle_core::Tensor)],
    mut step: impl FnMut() -> Result<()>,
) -> Result<(f64, f64)> {
    let mut times = Vec::new();
    let mut rates = Vec::new();
    for _ in 0..n.max(1) {
        rates.push(matmul_rate(operands)?);
        let t = Instant::now();
        step()?;
        times.push(t.elapsed().as_secs_f64());
    }
    rates.push(matmul_rate(operands)?);
    times.sort_by(f64::total_cmp);
    rates.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], rates[rates.len() / 2]))
}

/// `skuplan bench train`: samples/s of a training step (batch x seq tokens)
/// in each mode, the FLOP/s it achieves over candle's matmul rate, peak
/// memory, and forecast throughput with cached embeddings.
pub fn train_bench(
    model_dir: &Path,
    batch: usize,
    seqs: &[usize],
    steps: usize,
    series: usize,
    device: crate::engine::DeviceChoice,
) -> Result<String> {
    use crate::engine::Mode;
    use crate::engine::bert::{Batch, Bert, Dropout};
    use crate::engine::encoder::{Encoder, ModelDir};
    use crate::engine::model::Calibration;
    use crate::engine::model::{HeadConfig, pinball_loss};
    use crate::engine::optim::AdamW;
    use crate::engine::train::DemandModel;
    use crate::forecast::features::feature_len;
    use candle_core::Tensor;
    use rand::{Rng, SeedableRng};

    let selected = crate::engine::device::select(device)?;
    let dev = selected.device.clone();
    let mdir = ModelDir::open(model_dir)?;
    let cfg = mdir.config.clone();
    let mut out = String::new();
    let operands = matmul_operands(&dev)?;
    matmul_rate(&operands)?;
    writeln!(
        out,
        "bench train: {} ({} layers, hidden {}), batch {batch}, on {} ({})\n\
         reference: candle's f32 matmul rate, measured between the steps of each case",
        model_dir.display(),
        cfg.num_hidden_layers,
        cfg.hidden_size,
        selected.label,
        selected.reason,
    )?;
    writeln!(
        out,
        "{:<6} {:<6} {:>10} {:>10} {:>12} {:>12} {:>8} {:>12}",
        "seq", "mode", "ms/step", "samples/s", "GFLOP/s", "matmul GF/s", "x matmul", "peak RSS MB"
    )?;
    let h = cfg.hidden_size as f64;
    let inter = cfg.intermediate_size as f64;
    let horizon = 28;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for &seq in seqs {
        for (mode, k) in [(Mode::Head, 0), (Mode::TopK, 2), (Mode::Full, cfg.num_hidden_layers)] {
            let reset = super::reset_peak_rss();
            // As training does; dropped (and what it kept handed back)
            // before the next case resets the peak.
            let _memory = crate::engine::memory::HoldMemory::new();
            let enc = Encoder::load(&mdir, &dev, seq)?;
            let head_cfg = HeadConfig {
                text_dim: cfg.hidden_size,
                text_proj: 32,
                features: feature_len(horizon),
                hidden: 256,
                horizon,
                dropout: 0.1,
                use_text: true,
                base_offset: None,
            };
            let model = DemandModel::new(enc, &head_cfg, 1)?;
            let mut opt = AdamW::new(1e-4);
            for (name, var, is_enc) in model.trainable(mode, 2)? {
                opt.add(&name, var, if is_enc { 0.03 } else { 1.0 })?;
            }
            let vocab = cfg.vocab_size as u32;
            let ids: Vec<u32> = (0..batch * seq)
                .map(|_| rng.random_range(1000.min(vocab - 1)..vocab))
                .collect();
            let tokens = Batch {
                ids: Tensor::from_vec(ids, (batch, seq), &dev)?,
                mask: Tensor::ones((batch, seq), candle_core::DType::U32, &dev)?,
            };
            let layers = model.encoder.bert.num_layers();
            let cached =
                Bert::mean_pool(&model.encoder.bert.forward(&tokens, &mut Dropout::off())?, &tokens.mask)?.detach();
            let lower = model
                .encoder
                .bert
                .forward_lower(&tokens, layers - k.min(layers), &mut Dropout::off())?
                .detach();
            let feats = Tensor::randn(0f32, 1.0, (batch, head_cfg.features), &dev)?;
            let targets = Tensor::randn(1f32, 0.5, (batch, horizon), &dev)?;
            let mut drop_rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
            let mut step = || -> Result<()> {
                let mut drop = Dropout::train(&mut drop_rng);
                let emb = match mode {
                    Mode::Head => cached.clone(),
                    Mode::TopK => {
                        let x = model
                            .encoder
                            .bert
                            .forward_upper(&lower, &tokens.mask, layers - k, &mut drop)?;
                        Bert::mean_pool(&x, &tokens.mask)?
                    }
                    Mode::Full => {
                        let x = model.encoder.bert.forward(&tokens, &mut drop)?;
                        Bert::mean_pool(&x, &tokens.mask)?
                    }
                };
                let pred = model.head.forward(&emb, &feats, &mut drop)?;
                let loss = pinball_loss(&pred, &targets)?;
                let grads = loss.backward()?;
                opt.step(&grads, 1e-4, 1.0)?;
                Ok(())
            };
            step()?;
            let (t, rate) = interleaved(steps, &operands, &mut step)?;
            // Forward FLOPs per token per trained layer: QKV and output
            // (8h^2), feed-forward (4 h i), attention (4 s h); a training
            // step costs about three forwards.
            let per_layer = 8.0 * h * h + 4.0 * h * inter + 4.0 * seq as f64 * h;
            let flops = 3.0 * per_layer * k as f64 * (batch * seq) as f64;
            // Absolute peak since the reset: freed memory is reused by the
            // allocator, so a difference from the start would understate it.
            let peak = if reset {
                format!("{:.0}", super::peak_rss().unwrap_or(0) as f64 / 1e6)
            } else {
                "-".into()
            };
            let (gf, ratio) = if k == 0 {
                ("-".to_string(), "-".to_string())
            } else {
                (format!("{:.1}", flops / t / 1e9), format!("{:.2}", flops / t / rate))
            };
            writeln!(
                out,
                "{seq:<6} {:<6} {:>10.1} {:>10.1} {gf:>12} {:>12.1} {ratio:>8} {peak:>12}",
                mode.to_string(),
                t * 1e3,
                batch as f64 / t,
                rate / 1e9
            )?;
        }
    }
    writeln!(
        out,
        "peak RSS: the highest resident size since the case began, in this one process; memory \
         the allocator kept from earlier cases counts, so read them as upper bounds"
    )?;
    // Forecast throughput: features, cached embeddings and the head for
    // `series` series, beside reading their values once as the reference.
    let data = super::synthetic_dataset(series, 800, 3);
    let enc = Encoder::load(&mdir, &dev, 32)?;
    let head_cfg = HeadConfig {
        text_dim: cfg.hidden_size,
        text_proj: 32,
        features: feature_len(horizon),
        hidden: 256,
        horizon,
        dropout: 0.0,
        use_text: true,
        base_offset: None,
    };
    let model = DemandModel::new(enc, &head_cfg, 1)?;
    let table = Tensor::randn(0f32, 1.0, (series * 2, cfg.hidden_size), &dev)?;
    let mut cache: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let reset = super::reset_peak_rss();
    let origin = data.date_range().map(|(_, l)| l).context("no data")?;
    let clock = Instant::now();
    let fc = crate::engine::run::forecast_with(&model, Calibration::default(), &data, origin, &mut |texts| {
        // Each distinct text gets its own row of the (random) table.
        let rows = series as u32 * 2;
        let idx: Vec<u32> = texts
            .iter()
            .map(|t| {
                let n = cache.len() as u32 % rows;
                *cache.entry(t.clone()).or_insert(n)
            })
            .collect();
        Ok(table.index_select(&Tensor::from_vec(idx, texts.len(), &dev)?, 0)?)
    })?;
    let t = clock.elapsed().as_secs_f64();
    let peak = super::peak_rss().unwrap_or(0);
    let clock = Instant::now();
    let total: f64 = data.demand.iter().map(|s| s.values.iter().sum::<f64>()).sum();
    std::hint::black_box(total);
    let reference = clock.elapsed().as_secs_f64();
    writeln!(
        out,
        "forecast with cached embeddings: {} series x {horizon} days in {:.2} s ({:.0} series/s); \
         summing their history once takes {:.3} s ({:.0}x); peak resident {}",
        fc.len(),
        t,
        fc.len() as f64 / t,
        reference,
        t / reference.max(1e-9),
        if reset {
            format!("{:.0} MB", peak as f64 / 1e6)
        } else {
            "-".into()
        }
    )?;
    Ok(out)
}

pub fn bench_train(
    model: Option<&PathBuf>,
    batch: usize,
    seq: &[usize],
    steps: usize,
    series: usize,
    device: crate::engine::DeviceChoice,
) -> Result<ExitCode> {
    let dir = crate::cli::engine::model_dir(model)?;
    let report = train_bench(&dir, batch, seq, steps, series, device)
        .with_context(|| format!("benchmarking {}", dir.display()))?;
    emit(&report)?;
    Ok(ExitCode::SUCCESS)
}
