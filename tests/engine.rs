//! The engine on a tiny random BERT: gradients reach every weight, the loss
//! falls, checkpoints resume to the same numbers, the worker pauses,
//! cancels, survives a panic and reports NaN, and forecasts never cross.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use skuplan::cli::bench::synthetic_dataset;
use skuplan::engine::bert::{Bert, BertConfig, Dropout};
use skuplan::engine::encoder::{Encoder, ModelDir, write_random_model};
use skuplan::engine::events::{Stop, TrainJob};
use skuplan::engine::model::{HeadConfig, pinball_loss};
use skuplan::engine::optim::AdamW;
use skuplan::engine::run;
use skuplan::engine::train::DemandModel;
use skuplan::engine::{DeviceChoice, Engine, EngineCommand, EngineEvent};
use skuplan::engine::{Mode, TrainConfig};
use skuplan::forecast::features::feature_len;
use skuplan::workspace::DataSources;

mod engine_support;
use engine_support::{Quiet, push_titled, small_cfg, tiny_encoder, tiny_model};

/// Standard normal values of this shape, the same on every run (a test
/// that draws afresh each time can fail one run in many).
fn seeded_normal(shape: &[usize], seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.sample(rand_distr::StandardNormal)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

fn texts() -> Vec<String> {
    [
        "wireless mouse. category electronics",
        "bananas are yellow",
        "the order shipped late. warehouse w1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn every_parameter_of_our_encoder_gets_a_finite_nonzero_gradient() {
    let dir = tempfile::tempdir().unwrap();
    let enc = tiny_encoder(dir.path());
    let batch = enc.tokenize(&texts()).unwrap();
    let mut rng = rand::SeedableRng::seed_from_u64(3);
    let hidden = enc.bert.forward(&batch, &mut Dropout::train(&mut rng)).unwrap();
    let pooled = Bert::mean_pool(&hidden, &batch.mask).unwrap();
    let w = seeded_normal(pooled.dims(), 3);
    let loss = pooled.mul(&w).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let vars = enc.varmap.data().lock().unwrap();
    assert!(vars.len() >= 30, "{} variables", vars.len());
    for (name, var) in vars.iter() {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name} got no gradient"));
        let norm: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
        assert!(norm.is_finite() && norm > 0.0, "{name}: gradient norm {norm}");
    }
}

#[test]
fn stock_candle_bert_drops_gradients_and_ours_matches_its_outputs() {
    // Why we keep our own encoder: candle-transformers' BertModel on the
    // same weights computes the same hidden states, but its fused layer
    // norm has no backward, so most weights never see a gradient.
    let dir = tempfile::tempdir().unwrap();
    let md = ModelDir::open(&tiny_model(dir.path())).unwrap();
    let enc = Encoder::load(&md, &Device::Cpu, 32).unwrap();
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(md.path.join("config.json")).unwrap()).unwrap();
    json["initializer_range"] = serde_json::json!(0.02);
    let cfg: candle_transformers::models::bert::Config = serde_json::from_value(json).unwrap();
    let vb = VarBuilder::from_varmap(&enc.varmap, DType::F32, &Device::Cpu);
    let stock = candle_transformers::models::bert::BertModel::load(vb, &cfg).unwrap();
    // One text: no padding, so the two masks cannot differ.
    let batch = enc.tokenize(&texts()[..1]).unwrap();
    let ours = enc.bert.forward(&batch, &mut Dropout::off()).unwrap();
    let theirs = stock
        .forward(&batch.ids, &batch.ids.zeros_like().unwrap(), Some(&batch.mask))
        .unwrap();
    let diff: f32 = (ours - &theirs)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(diff < 1e-4, "hidden states differ by {diff}");
    let loss = theirs.sqr().unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let vars = enc.varmap.data().lock().unwrap();
    let with_grad = vars.values().filter(|v| grads.get(v.as_tensor()).is_some()).count();
    assert!(
        with_grad < vars.len() / 2,
        "candle-transformers' BertModel now back-propagates into {with_grad} of {} weights: \
         reconsider keeping our own encoder",
        vars.len()
    );
}

#[test]
fn loss_falls_on_a_fixed_batch_in_full_mode() {
    let dir = tempfile::tempdir().unwrap();
    let enc = tiny_encoder(dir.path());
    let h = 7;
    let cfg = HeadConfig {
        text_dim: enc.hidden_size(),
        text_proj: 8,
        features: 12,
        hidden: 32,
        horizon: h,
        dropout: 0.0,
        use_text: true,
        base_offset: None,
    };
    let model = DemandModel::new(enc, &cfg, 1).unwrap();
    let mut opt = AdamW::new(0.0);
    for (n, v, is_enc) in model.trainable(Mode::Full, 0).unwrap() {
        opt.add(&n, v, if is_enc { 0.3 } else { 1.0 }).unwrap();
    }
    let batch = model.encoder.tokenize(&texts()).unwrap();
    let feats = seeded_normal(&[3, 12], 5);
    let target = Tensor::new(&[[1f32; 7], [3.0; 7], [0.5; 7]], &Device::Cpu).unwrap();
    let mut losses = Vec::new();
    for _ in 0..40 {
        let hidden = model.encoder.bert.forward(&batch, &mut Dropout::off()).unwrap();
        let emb = Bert::mean_pool(&hidden, &batch.mask).unwrap();
        let pred = model.head.forward(&emb, &feats, &mut Dropout::off()).unwrap();
        let loss = pinball_loss(&pred, &target).unwrap();
        losses.push(loss.to_scalar::<f32>().unwrap());
        let grads = loss.backward().unwrap();
        opt.step(&grads, 3e-3, 1.0).unwrap();
    }
    assert!(
        losses[39] < 0.3 * losses[0],
        "loss went from {} to {}",
        losses[0],
        losses[39]
    );
}

fn job(dir: &Path, out: &str, cfg: TrainConfig, resume: bool) -> TrainJob {
    TrainJob {
        dataset: Arc::new(synthetic_dataset(12, 200, 2)),
        sources: DataSources::default(),
        train_end: None,
        model_dir: tiny_model(dir),
        config: cfg,
        out: dir.join(out),
        device: DeviceChoice::Cpu,
        resume,
        text_cache: None,
    }
}

/// Head mode keeps the frozen encoder's text embeddings in a cache between
/// runs: the first run fills it with every training text, a second run on
/// the same data reads them back without writing it again, and learns
/// exactly what the first learnt.
#[test]
fn head_mode_reads_training_text_embeddings_back_from_the_cache() {
    use skuplan::engine::text_cache::EmbeddingCache;
    let dir = tempfile::tempdir().unwrap();
    // One model folder for both runs: a rewritten model is another encoder.
    let model = dir.path().join("model");
    write_random_model(&model, &BertConfig::tiny(0), 7).unwrap();
    let cache = dir.path().join("ws").join("cache").join("train-embeddings.msgpack");
    let cached = |out: &str| TrainJob {
        model_dir: model.clone(),
        text_cache: Some(cache.clone()),
        ..job(dir.path(), out, small_cfg(Mode::Head, 2), false)
    };
    let first = run::train_run(&cached("first"), &mut Quiet).unwrap();
    let written = std::fs::metadata(&cache)
        .expect("the cache is saved")
        .modified()
        .unwrap();
    let max_len = Encoder::load(
        &ModelDir::open(&model).unwrap(),
        &Device::Cpu,
        small_cfg(Mode::Head, 2).max_len,
    )
    .unwrap()
    .max_len;
    let held = EmbeddingCache::open(&cache, EmbeddingCache::identity(&model, max_len).unwrap());
    let texts: Vec<String> =
        serde_json::from_slice(&std::fs::read(dir.path().join("first").join("texts.json")).unwrap()).unwrap();
    assert!(!texts.is_empty());
    assert_eq!(held.len(), texts.len(), "every training text is kept");
    let second = run::train_run(&cached("second"), &mut Quiet).unwrap();
    assert_eq!(
        std::fs::metadata(&cache).unwrap().modified().unwrap(),
        written,
        "nothing new to embed, nothing written"
    );
    assert_eq!(first.validation, second.validation);
}

/// Cancels at the first step after epoch `n` ended: an interrupted run.
struct StopAfterEpoch {
    n: usize,
    done: bool,
}
impl skuplan::engine::train::Control for StopAfterEpoch {
    fn keep_going(&mut self) -> bool {
        !self.done
    }
    fn report(&mut self, e: EngineEvent) {
        if let EngineEvent::EpochEnd { epoch, .. } = e
            && epoch == self.n
        {
            self.done = true;
        }
    }
}

#[test]
fn a_resumed_run_reproduces_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let whole = run::train_run(&job(dir.path(), "whole", small_cfg(Mode::TopK, 3), false), &mut Quiet).unwrap();
    let cut = run::train_run(
        &job(dir.path(), "split", small_cfg(Mode::TopK, 3), false),
        &mut StopAfterEpoch { n: 1, done: false },
    )
    .unwrap();
    assert_eq!((cut.stop, cut.epochs_done), (Stop::Cancelled, 1));
    // Starting again without --resume is refused rather than overwriting.
    let err = run::train_run(&job(dir.path(), "split", small_cfg(Mode::TopK, 3), false), &mut Quiet)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("--resume"), "{err}");
    let resumed = run::train_run(&job(dir.path(), "split", small_cfg(Mode::TopK, 3), true), &mut Quiet).unwrap();
    assert_eq!(whole.epochs_done, 3);
    assert_eq!(resumed.epochs_done, 3);
    assert_eq!(whole.validation, resumed.validation);
    let a = std::fs::read_to_string(dir.path().join("whole/metrics.csv")).unwrap();
    let b = std::fs::read_to_string(dir.path().join("split/metrics.csv")).unwrap();
    let cols = |s: &str| -> Vec<String> {
        // samples/s is wall-clock; everything else must match exactly.
        s.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect()
    };
    assert_eq!(cols(&a), cols(&b));
    assert!(a.starts_with("step,epoch,train_loss,val_mse,val_mae,samples_per_sec"));
    // And the saved best weights load back to the same forecasts.
    let data = synthetic_dataset(12, 200, 2);
    let fa = run::forecast(
        &run::load_run(&dir.path().join("whole"), Some(DeviceChoice::Cpu)).unwrap(),
        &data,
        None,
    )
    .unwrap();
    let fb = run::forecast(
        &run::load_run(&dir.path().join("split"), Some(DeviceChoice::Cpu)).unwrap(),
        &data,
        None,
    )
    .unwrap();
    assert_eq!(fa, fb);
}

#[test]
fn forecasts_never_cross_and_cover_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let s = run::train_run(&job(dir.path(), "r", small_cfg(Mode::Head, 2), false), &mut Quiet).unwrap();
    assert_eq!(s.stop, Stop::Finished);
    let data = synthetic_dataset(12, 200, 2);
    let loaded = run::load_run(&dir.path().join("r"), Some(DeviceChoice::Cpu)).unwrap();
    let fc = run::forecast(&loaded, &data, None).unwrap();
    assert_eq!(fc.len(), 12);
    for f in &fc {
        assert_eq!(f.p50.len(), 7);
        for d in 0..7 {
            assert!(0.0 <= f.p10[d] && f.p10[d] <= f.p50[d] && f.p50[d] <= f.p90[d], "{f:?}");
        }
    }
    // The share of the head's correction kept is the one with the lowest
    // validation loss, travels with the run, and moves p50 along the line
    // from the base forecast (share 0) to the head's (share 1).
    let c = &s.correction;
    assert_eq!(
        c.losses.iter().map(|l| l.0).collect::<Vec<_>>(),
        [0.0, 0.25, 0.5, 0.75, 1.0]
    );
    let best = c.losses.iter().map(|l| l.1).fold(f64::INFINITY, f64::min);
    assert!(
        c.losses.iter().any(|&(share, loss)| share == c.chosen && loss == best),
        "{c:?}"
    );
    assert_eq!(loaded.model.head.correction, c.chosen);
    assert_eq!(loaded.meta.calibration.correction, c.chosen);
    let mut at = loaded;
    at.model.head.correction = 0.0;
    let base = run::forecast(&at, &data, None).unwrap();
    at.model.head.correction = 1.0;
    let head = run::forecast(&at, &data, None).unwrap();
    assert_ne!(base, head, "the head learnt no correction at all");
    for ((b, h), f) in base.iter().zip(&head).zip(&fc) {
        for d in 0..7 {
            if b.p50[d] > 0.0 && h.p50[d] > 0.0 {
                let line = b.p50[d] + c.chosen * (h.p50[d] - b.p50[d]);
                assert!(
                    (f.p50[d] - line).abs() < 1e-3 * (1.0 + line.abs()),
                    "{} vs {line}",
                    f.p50[d]
                );
            }
        }
    }
    at.model.head.correction = c.chosen;
    let loaded = at;
    // A new SKU with no history still gets a forecast (from its text).
    let mut with_new = data.clone();
    let mut fresh = with_new.demand[0].clone();
    fresh.sku = "NEW1".into();
    fresh.start = with_new.demand[0].end();
    fresh.values = vec![3.0];
    with_new.demand.push(fresh);
    let origin = data.demand[0].end();
    let fc = run::forecast(&loaded, &with_new, Some(origin)).unwrap();
    let new = fc.iter().find(|f| f.sku == "NEW1").expect("the new SKU is forecast");
    assert_eq!(new.start, origin + chrono::Days::new(1));
    assert_eq!(new.p50.len(), 7);
    for d in 0..7 {
        assert!(new.p10[d] >= 0.0 && new.p10[d].is_finite(), "{new:?}");
        assert!(new.p10[d] <= new.p50[d] && new.p50[d] <= new.p90[d], "{new:?}");
    }
    // It sold 3 on its one day: the forecast is neither zero nor a point.
    assert!(new.p50.iter().sum::<f64>() > 0.0, "{new:?}");
    assert!((0..7).any(|d| new.p90[d] > new.p10[d]), "no band: {new:?}");
    let path = dir.path().join("f.csv");
    let rows = run::write_forecast_csv(&path, &fc).unwrap();
    assert_eq!(rows, 13 * 7);
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("sku,warehouse,date,p10,p50,p90,model\n"));
}

fn wait_for(engine: &mut Engine, what: &str, pred: impl Fn(&EngineEvent) -> bool) -> Vec<EngineEvent> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        for e in engine.drain() {
            let hit = pred(&e);
            seen.push(e);
            if hit {
                return seen;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("timed out waiting for {what}; saw {seen:?}");
}

fn last_step(events: &[EngineEvent]) -> usize {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Progress(p) => Some(p.step),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn worker_pauses_resumes_and_cancels_within_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::spawn().unwrap();
    engine
        .send(EngineCommand::Train(Box::new(job(
            dir.path(),
            "w",
            small_cfg(Mode::Full, 500),
            false,
        ))))
        .unwrap();
    wait_for(
        &mut engine,
        "progress",
        |e| matches!(e, EngineEvent::Progress(p) if p.step >= 2),
    );
    engine.send(EngineCommand::Pause).unwrap();
    let seen = wait_for(&mut engine, "paused", |e| matches!(e, EngineEvent::Paused));
    let at_pause = last_step(&seen);
    std::thread::sleep(Duration::from_millis(300));
    let during = engine.drain();
    assert!(
        during.iter().all(|e| !e.is_progress()),
        "steps ran while paused: {during:?}"
    );
    engine.send(EngineCommand::Resume).unwrap();
    wait_for(
        &mut engine,
        "progress after resume",
        |e| matches!(e, EngineEvent::Progress(p) if p.step > at_pause),
    );
    engine.send(EngineCommand::Cancel).unwrap();
    let sent_at = Instant::now();
    let seen = wait_for(&mut engine, "finished", |e| matches!(e, EngineEvent::Finished(_)));
    let Some(EngineEvent::Finished(summary)) = seen.last() else {
        unreachable!()
    };
    assert_eq!(summary.stop, Stop::Cancelled);
    // Within one step: a tiny step is milliseconds; the wrap-up validates
    // once more, which is what the rest of the time is.
    assert!(sent_at.elapsed() < Duration::from_secs(30));
    let steps_after_cancel = seen.iter().filter(|e| e.is_progress()).count();
    assert!(steps_after_cancel <= 1, "{steps_after_cancel} steps ran after cancel");
}

#[test]
fn worker_reports_nan_and_panics_as_failures_and_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::spawn().unwrap();
    let mut bad = job(dir.path(), "nan", small_cfg(Mode::Head, 2), false);
    let mut data = (*bad.dataset).clone();
    for v in data.demand[3].values.iter_mut().step_by(5) {
        *v = f64::NAN;
    }
    bad.dataset = Arc::new(data);
    engine.send(EngineCommand::Train(Box::new(bad))).unwrap();
    let seen = wait_for(&mut engine, "failure", |e| matches!(e, EngineEvent::Failed { .. }));
    let Some(EngineEvent::Failed { message, .. }) = seen.last() else {
        unreachable!()
    };
    assert!(message.contains("NaN"), "{message}");

    let mut cfg = small_cfg(Mode::Head, 2);
    cfg.panic_at_step = Some(3);
    engine
        .send(EngineCommand::Train(Box::new(job(dir.path(), "panic", cfg, false))))
        .unwrap();
    let seen = wait_for(&mut engine, "failure", |e| matches!(e, EngineEvent::Failed { .. }));
    let Some(EngineEvent::Failed { message, .. }) = seen.last() else {
        unreachable!()
    };
    assert!(message.contains("panic_at_step 3"), "{message}");

    // Still alive: a normal run finishes.
    engine
        .send(EngineCommand::Train(Box::new(job(
            dir.path(),
            "ok",
            small_cfg(Mode::Head, 1),
            false,
        ))))
        .unwrap();
    wait_for(&mut engine, "finished", |e| matches!(e, EngineEvent::Finished(_)));
    engine
        .send(EngineCommand::Predict {
            run: Some(dir.path().join("ok")),
            data: Arc::new(synthetic_dataset(12, 200, 2)),
            origin: None,
        })
        .unwrap();
    let seen = wait_for(&mut engine, "forecasts", |e| matches!(e, EngineEvent::Forecasts { .. }));
    let Some(EngineEvent::Forecasts { forecasts, .. }) = seen.last() else {
        unreachable!()
    };
    assert_eq!(forecasts.len(), 12);
}

#[test]
fn f16_import_agrees_with_f32_to_f16_precision() {
    let dir = tempfile::tempdir().unwrap();
    let src = tiny_model(dir.path());
    let dst = dir.path().join("half");
    let m = skuplan::engine::encoder::import_model(&src, &dst, DType::F16).unwrap();
    assert!(m.files.contains(&"vocab.txt".to_string()));
    let a = Encoder::load(&ModelDir::open(&src).unwrap(), &Device::Cpu, 32).unwrap();
    let b = Encoder::load(&ModelDir::open(&dst).unwrap(), &Device::Cpu, 32).unwrap();
    let ea: Vec<Vec<f32>> = a.embed(&texts(), 8).unwrap().to_vec2().unwrap();
    let eb: Vec<Vec<f32>> = b.embed(&texts(), 8).unwrap().to_vec2().unwrap();
    for (x, y) in ea.iter().zip(&eb) {
        let cos = skuplan::engine::encoder::cosine(x, y);
        assert!(cos > 0.999, "cosine {cos}");
        for (p, q) in x.iter().zip(y) {
            assert!((p - q).abs() <= 2e-2 * p.abs().max(1.0), "{p} vs {q}");
        }
    }
}

/// The head reads its starting point at `base_offset` and the recent days
/// at the front: on a noise-free series with a weekday pattern and a steady
/// level, those positions must hold the last 28 days and a base forecast
/// equal to the days that follow, and every horizon must write exactly
/// `feature_len` values (the head's input width).
#[test]
fn feature_layout_matches_the_head() {
    use skuplan::domain::DemandSeries;
    use skuplan::forecast::features::{Pooled, base_offset, push_features};
    let start = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let pattern = [5.0, 6.0, 7.0, 8.0, 9.0, 12.0, 3.0];
    let days = 1100;
    let values: Vec<f64> = (0..days)
        .map(|i| {
            let d = start + chrono::Days::new(i as u64);
            pattern[chrono::Datelike::weekday(&d).num_days_from_monday() as usize]
        })
        .collect();
    let series = DemandSeries::daily("a", "w", start, values.clone());
    let pooled = Pooled::build(std::slice::from_ref(&series), series.end());
    for horizon in [1usize, 7, 28, 35] {
        for o in [3i64, 30, 400, 1000] {
            let mut out = Vec::new();
            let scale = push_features(&series, o, horizon, &pooled, &mut out);
            assert_eq!(out.len(), feature_len(horizon), "horizon {horizon}, origin {o}");
            assert!(out.iter().all(|v| v.is_finite()), "horizon {horizon}, origin {o}");
            if o < 800 {
                continue;
            }
            for k in 0..28 {
                let want = values[(o - 27) as usize + k];
                let got = f64::from(out[k]) * scale;
                assert!((got - want).abs() < 1e-3, "recent day {k}: {got} vs {want}");
            }
            let at = base_offset(horizon);
            assert!(at + horizon <= out.len());
            for j in 0..horizon {
                let want = values[o as usize + 1 + j];
                let got = f64::from(out[at + j]) * scale;
                assert!(
                    (got - want).abs() <= 0.05 * want,
                    "base forecast, horizon {horizon}, day {j}: {got} vs {want}"
                );
            }
        }
    }
}

/// Every run with text measures what its text adds on the validation
/// windows (own texts, texts shuffled across products, one mean embedding
/// for all), keeps it in run.json and says it in its summary; where no
/// text did as well, the run turns its text off and its forecasts then do
/// not depend on any title. A run without text measures nothing.
#[test]
fn each_run_measures_its_text_and_turns_it_off_where_it_does_not_help() {
    use rand::{Rng, SeedableRng};
    use skuplan::domain::Dataset;
    let dir = tempfile::tempdir().unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut ds = Dataset::default();
    // Rare lumpy sales whose size one word of the title sets.
    for i in 0..24 {
        let sku = format!("P{i:02}");
        let red = i % 2 == 0;
        let size = if red { 60.0 } else { 6.0 };
        let values = (0..240)
            .map(|_| if rng.random::<f64>() < 0.03 { size } else { 0.0 })
            .collect();
        push_titled(&mut ds, sku, if red { "red lamp" } else { "blue lamp" }, start, values);
    }
    let ds = Arc::new(ds);
    let run_with = |out: &str, use_text: bool| {
        let job = TrainJob {
            dataset: ds.clone(),
            sources: DataSources::default(),
            train_end: None,
            model_dir: tiny_model(dir.path()),
            config: TrainConfig {
                use_text,
                max_train_samples: 2000,
                ..small_cfg(Mode::Head, 6)
            },
            out: dir.path().join(out),
            device: DeviceChoice::Cpu,
            resume: false,
            text_cache: None,
        };
        run::train_run(&job, &mut Quiet).unwrap()
    };
    let with = run_with("text", true);
    let t = with.text.expect("a run with text measures it");
    assert!(
        t.own.is_finite() && t.shuffled.is_finite() && t.none.is_finite(),
        "{t:?}"
    );
    assert_eq!(
        t.used,
        t.own < t.none * (1.0 - skuplan::engine::events::TEXT_MIN_GAIN),
        "{t:?}"
    );
    let dir_text = dir.path().join("text");
    let meta = run::read_meta(&dir_text).unwrap();
    assert_eq!(meta.text, Some(t));
    let summary = with.describe();
    if t.used {
        assert!(summary.contains("% validation loss against no text"), "{summary}");
        assert!(!dir_text.join("text_mean.safetensors").exists());
    } else {
        assert!(
            summary.contains("text: off (it removed under 0.5 % of the validation loss"),
            "{summary}"
        );
        // Forecasts read no title: renaming every product changes nothing.
        let loaded = run::load_run(&dir_text, Some(DeviceChoice::Cpu)).unwrap();
        let a = run::forecast(&loaded, &ds, None).unwrap();
        let mut renamed = (*ds).clone();
        for p in &mut renamed.products {
            p.title = "green chair".into();
        }
        let b = run::forecast(&loaded, &renamed, None).unwrap();
        assert_eq!(a, b);
    }
    let without = run_with("notext", false);
    assert!(without.text.is_none());
}

/// `--minutes`: a run stops at the first step past its budget, says so,
/// and keeps what it learnt by then.
#[test]
fn a_time_budget_stops_training_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        budget_minutes: Some(0.5 / 60.0),
        patience: 1000,
        ..small_cfg(Mode::Head, 10_000)
    };
    let s = run::train_run(&job(dir.path(), "budget", cfg, false), &mut Quiet).unwrap();
    assert_eq!(s.stop, Stop::OutOfTime);
    assert!(s.epochs_done < 10_000);
    let meta = run::read_meta(&dir.path().join("budget")).unwrap();
    assert_eq!(meta.stop, Some(Stop::OutOfTime));
}

/// Each mode trains exactly the weights it says it does: gradients reach
/// every weight the mode lists (the head always; the top layers in top-k;
/// every encoder weight in full) and no other.
#[test]
fn each_mode_trains_exactly_the_weights_it_claims() {
    use skuplan::engine::train::TextSide;
    let dir = tempfile::tempdir().unwrap();
    let enc = tiny_encoder(dir.path());
    let cfg = HeadConfig {
        text_dim: enc.hidden_size(),
        text_proj: 8,
        features: 12,
        hidden: 32,
        horizon: 7,
        dropout: 0.0,
        use_text: true,
        base_offset: None,
    };
    let model = DemandModel::new(enc, &cfg, 1).unwrap();
    let texts = texts();
    let ids = [0u32, 1, 2];
    let feats = seeded_normal(&[3, 12], 5);
    let every = model.trainable(Mode::Full, 0).unwrap();
    for mode in [Mode::Head, Mode::TopK, Mode::Full] {
        let listed: std::collections::HashSet<String> = model
            .trainable(mode, 1)
            .unwrap()
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        let side = TextSide::build(&model, &texts, (mode, 1), &mut |_, _| Ok(())).unwrap();
        let emb = side.embed(&model, &texts, &ids, &mut Dropout::off()).unwrap();
        let pred = model.head.forward(&emb, &feats, &mut Dropout::off()).unwrap();
        let grads = pred.sqr().unwrap().mean_all().unwrap().backward().unwrap();
        let mut encoder_listed = 0;
        for (name, var, is_encoder) in &every {
            let g = grads
                .get(var.as_tensor())
                .map(|g| g.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap());
            if listed.contains(name) {
                assert!(
                    g.is_some_and(|s| s > 0.0),
                    "{mode}: {name} should train, gradient {g:?}"
                );
                encoder_listed += usize::from(*is_encoder);
            } else {
                assert!(
                    g.is_none_or(|s| s == 0.0),
                    "{mode}: {name} should not train, gradient {g:?}"
                );
            }
        }
        match mode {
            Mode::Head => assert_eq!(encoder_listed, 0, "head trains no encoder weight"),
            Mode::TopK => assert!(encoder_listed > 0 && encoder_listed < every.iter().filter(|v| v.2).count()),
            Mode::Full => assert_eq!(encoder_listed, every.iter().filter(|v| v.2).count()),
        }
    }
}

/// Encoding the training texts (minutes on a large catalogue) reports its
/// progress before the first step, and a cancel is heard between its
/// batches: the run stops there, before any step, and says so. What it
/// encoded before the cancel is kept in the text cache for the next start.
#[test]
fn encoding_the_texts_reports_progress_and_hears_a_cancel() {
    #[derive(Default)]
    struct Watch {
        encoding: Vec<(usize, usize)>,
        elapsed: Vec<f64>,
        texts: usize,
        steps_before_encoding_ended: usize,
        cancel: bool,
        /// Pause a second after the first batch (as a planner's `p`).
        pause: bool,
    }
    impl skuplan::engine::train::Control for Watch {
        fn keep_going(&mut self) -> bool {
            if self.pause && self.encoding.len() == 1 && self.elapsed.len() == 1 {
                std::thread::sleep(Duration::from_secs(1));
                self.elapsed.push(-1.0);
            }
            !self.cancel || self.encoding.is_empty()
        }
        fn report(&mut self, e: EngineEvent) {
            match e {
                EngineEvent::Encoding {
                    done,
                    total,
                    elapsed_secs,
                } => {
                    self.encoding.push((done, total));
                    self.elapsed.push(elapsed_secs);
                }
                EngineEvent::Started { texts, .. } => self.texts = texts,
                EngineEvent::Progress(_) if self.encoding.last().is_none_or(|(d, t)| d < t) => {
                    self.steps_before_encoding_ended += 1;
                }
                _ => {}
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let many = |out: &str| TrainJob {
        dataset: Arc::new(synthetic_dataset(40, 200, 2)),
        config: TrainConfig {
            max_train_samples: 400,
            ..small_cfg(Mode::Head, 1)
        },
        ..job(dir.path(), out, small_cfg(Mode::Head, 1), false)
    };
    let mut watch = Watch::default();
    run::train_run(&many("whole"), &mut watch).unwrap();
    let total = watch.texts;
    assert!(total > 64, "more texts than one batch: {total}");
    assert!(watch.encoding.len() >= 2, "{:?}", watch.encoding);
    assert!(
        watch.encoding.windows(2).all(|w| w[0].0 < w[1].0),
        "{:?}",
        watch.encoding
    );
    assert!(watch.encoding.iter().all(|(_, t)| *t == total));
    assert_eq!(watch.encoding.last().map(|e| e.0), Some(total));
    assert_eq!(watch.steps_before_encoding_ended, 0);
    // A pause is not encoding time: the time reported after it leaves the
    // second out (a tiny model encodes a batch in milliseconds).
    let mut paused = Watch {
        pause: true,
        ..Watch::default()
    };
    run::train_run(&many("paused"), &mut paused).unwrap();
    assert_eq!(
        paused.elapsed[1], -1.0,
        "paused after the first batch: {:?}",
        paused.elapsed
    );
    let after = paused.elapsed[2];
    assert!((0.0..0.9).contains(&after), "{:?}", paused.elapsed);

    // One model folder for the cached runs: a rewritten model is another
    // encoder to the cache.
    let model = dir.path().join("model");
    write_random_model(&model, &BertConfig::tiny(0), 7).unwrap();
    let cache = dir.path().join("cache.msgpack");
    let cached = |out: &str| TrainJob {
        model_dir: model.clone(),
        text_cache: Some(cache.clone()),
        ..many(out)
    };
    let mut cancelling = Watch {
        cancel: true,
        ..Watch::default()
    };
    let err = run::train_run(&cached("cancelled"), &mut cancelling).unwrap_err();
    assert_eq!(format!("{err:#}"), skuplan::engine::events::CANCELLED_ENCODING);
    assert!(err.downcast_ref::<skuplan::engine::events::Cancelled>().is_some());
    assert_eq!(cancelling.encoding, [(64, total)], "stopped after its first batch");
    assert_eq!(cancelling.texts, 0, "training never started");
    assert!(!dir.path().join("cancelled").exists(), "nothing is left among the runs");
    assert!(dir.path().join("whole/run.json").exists());
    // The next start encodes only what the cancelled one had not.
    let mut again = Watch::default();
    run::train_run(&cached("again"), &mut again).unwrap();
    assert_eq!(again.texts, total);
    assert_eq!(
        again.encoding.last(),
        Some(&(total - 64, total - 64)),
        "{:?}",
        again.encoding
    );
}

/// A refit cancelled while it encodes its texts ends as the planner's
/// cancel, in the refit's own words (the run itself was trained), and
/// leaves the run without a half-made refit.
#[test]
fn a_refit_cancelled_while_encoding_says_so_and_leaves_no_refit() {
    use skuplan::engine::events::{Cancelled, REFIT_CANCELLED};
    use skuplan::engine::protocol;
    struct CancelAtOnce;
    impl skuplan::engine::train::Control for CancelAtOnce {
        fn keep_going(&mut self) -> bool {
            false
        }
        fn report(&mut self, _e: EngineEvent) {}
    }
    let dir = tempfile::tempdir().unwrap();
    let data = Arc::new(synthetic_dataset(12, 200, 2));
    let (_, last) = data.date_range().unwrap();
    let trained = TrainJob {
        dataset: data.clone(),
        train_end: Some(last - chrono::Days::new(30)),
        ..job(dir.path(), "run", small_cfg(Mode::Head, 1), false)
    };
    run::train_run(&trained, &mut Quiet).unwrap();
    let run = dir.path().join("run");
    let err = protocol::refit(&run, data, (None, None), DeviceChoice::Cpu, &mut CancelAtOnce).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Cancelled>(),
        Some(&Cancelled(REFIT_CANCELLED)),
        "{err:#}"
    );
    let left: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("refit"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(run.join("run.json").exists(), "the run itself stays");
}

/// A pause during training is not training time: the elapsed time (and so
/// samples/s and the ETA) reported after it leave it out, and so does the
/// time budget (`--minutes`).
#[test]
fn a_pause_is_not_counted_as_training_time() {
    #[derive(Default)]
    struct PauseAtStep {
        steps: usize,
        elapsed: Vec<f64>,
    }
    impl skuplan::engine::train::Control for PauseAtStep {
        fn keep_going(&mut self) -> bool {
            if self.steps == 2 && self.elapsed.len() == 2 {
                std::thread::sleep(Duration::from_secs(2));
            }
            true
        }
        fn report(&mut self, e: EngineEvent) {
            if let EngineEvent::Progress(p) = e {
                self.steps = p.step;
                self.elapsed.push(p.elapsed_secs);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut watch = PauseAtStep::default();
    // A budget of 1.5 s, shorter than the pause: a tiny model's epoch
    // takes milliseconds, so only the pause could use it up.
    let cfg = TrainConfig {
        budget_minutes: Some(1.5 / 60.0),
        ..small_cfg(Mode::Head, 1)
    };
    let s = run::train_run(&job(dir.path(), "run", cfg, false), &mut watch).unwrap();
    assert_eq!(s.stop, Stop::Finished, "the pause counted against the budget");
    assert!(watch.elapsed.len() > 2, "{:?}", watch.elapsed);
    // Step 3 came two seconds of pause after step 2.
    let gap = watch.elapsed[2] - watch.elapsed[1];
    assert!((0.0..1.5).contains(&gap), "{:?}", watch.elapsed);
}
