//! `skuplan bench coldstart`: new SKUs forecast with and without their text, beside a moving average.

use std::fmt::Write as _;
use std::path::Path;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use crate::cli::emit;

use crate::data::{ImportOptions, import_paths};

/// `skuplan bench coldstart`: hide all but the last `history` days of a
/// share of SKUs (in every warehouse), train the model with and without
/// its text, and score the hidden SKUs' next `horizon` days against
/// baselines that see the same short history. Measures what a new SKU
/// borrows from products whose text is alike.
pub fn coldstart_bench(
    data_dir: &Path,
    model_dir: &Path,
    share: f64,
    history: usize,
    horizon: usize,
    epochs: usize,
) -> Result<String> {
    use crate::engine::TrainConfig;
    use crate::engine::events::TrainJob;
    use crate::engine::run;
    use crate::engine::train::Control;
    use crate::engine::{DeviceChoice, EngineEvent};
    use crate::forecast::baselines::baseline;
    use crate::forecast::metrics::smape;
    use std::sync::Arc;

    struct Quiet;
    impl Control for Quiet {
        fn keep_going(&mut self) -> bool {
            true
        }
        fn report(&mut self, _e: EngineEvent) {}
    }

    let full = import_paths(&[data_dir.to_path_buf()], &ImportOptions::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .dataset;
    let (_, last) = full.date_range().context("no sales history")?;
    let train_end = last - chrono::Days::new(horizon as u64);
    let mut skus: Vec<String> = full.demand.iter().map(|s| s.sku.clone()).collect();
    skus.sort();
    skus.dedup();
    let every = (1.0 / share.clamp(0.01, 1.0)).round().max(1.0) as usize;
    let cold: std::collections::HashSet<String> = skus.iter().step_by(every).cloned().collect();
    // Cut the cold SKUs' past: only `history` days before the train end.
    let mut cut = full.clone();
    for s in &mut cut.demand {
        if cold.contains(&s.sku) {
            let keep_from = (train_end - chrono::Days::new(history as u64 - 1) - s.start).num_days();
            if keep_from > 0 {
                let k = keep_from as usize;
                s.values.drain(..k.min(s.values.len()));
                if let Some(p) = &mut s.promo {
                    p.drain(..k.min(p.len()));
                }
                s.start = s.start + chrono::Days::new(k as u64);
            }
        }
    }
    let tmp = tempfile::tempdir()?;
    let mut out = String::new();
    writeln!(
        out,
        "bench coldstart: {} of {} SKUs keep only {history} days of history before {train_end}; \
         {horizon}-day forecasts scored on the days after",
        cold.len(),
        skus.len()
    )?;
    // sMAPE (mean over series) and WAPE (absolute error over demand) of
    // the cold and the warm series: sMAPE punishes any forecast on a day
    // without sales, so intermittent SKUs need the second.
    let score = |fc: &dyn Fn(usize) -> Option<Vec<f64>>| -> [f64; 4] {
        let mut sm = [(0.0, 0usize); 2];
        let mut wape = [(0.0, 0.0); 2];
        for (i, s) in full.demand.iter().enumerate() {
            let o = (train_end - s.start).num_days();
            if o < 0 || (o as usize + horizon) >= s.values.len() {
                continue;
            }
            let actual = &s.values[o as usize + 1..=o as usize + horizon];
            if let Some(p) = fc(i) {
                let k = usize::from(!cold.contains(&s.sku));
                sm[k].0 += smape(actual, &p[..horizon]);
                sm[k].1 += 1;
                wape[k].0 += actual.iter().zip(&p).map(|(a, f)| (a - f).abs()).sum::<f64>();
                wape[k].1 += actual.iter().sum::<f64>();
            }
        }
        [
            sm[0].0 / sm[0].1.max(1) as f64,
            wape[0].0 / wape[0].1.max(1e-9),
            sm[1].0 / sm[1].1.max(1) as f64,
            wape[1].0 / wape[1].1.max(1e-9),
        ]
    };
    writeln!(
        out,
        "{:<24} {:>10} {:>10} {:>10} {:>10}",
        "method", "cold sMAPE", "cold WAPE", "warm sMAPE", "warm WAPE"
    )?;
    let row = |out: &mut String, name: &str, r: [f64; 4]| {
        writeln!(
            out,
            "{name:<24} {:>10.2} {:>10.3} {:>10.2} {:>10.3}",
            r[0], r[1], r[2], r[3]
        )
    };
    for name in ["snaive7", "ma28"] {
        let m = baseline(name).context("baseline")?;
        let r = score(&|i| {
            let s = &cut.demand[i];
            let o = (train_end - s.start).num_days();
            if o < 0 {
                return None;
            }
            m.forecast(&s.values[..=o as usize], horizon).ok().map(|f| f.p50)
        });
        row(&mut out, &format!("{name} (cut history)"), r)?;
    }
    for use_text in [true, false] {
        let job = TrainJob {
            dataset: Arc::new(cut.clone()),
            sources: Default::default(),
            train_end: Some(train_end),
            model_dir: model_dir.to_path_buf(),
            config: TrainConfig {
                epochs,
                horizon,
                use_text,
                ..TrainConfig::default()
            },
            out: tmp.path().join(if use_text { "text" } else { "notext" }),
            device: DeviceChoice::Cpu,
            resume: false,
            text_cache: None,
        };
        run::train_run(&job, &mut Quiet)?;
        let loaded = run::load_run(&job.out, Some(DeviceChoice::Cpu))?;
        let fc = run::forecast(&loaded, &cut, Some(train_end))?;
        let r = score(&|i| Some(fc[i].p50.clone()));
        let name = if use_text { "finetuned" } else { "finetuned, no text" };
        row(&mut out, name, r)?;
    }
    Ok(out)
}

pub fn bench_coldstart(
    data: Option<PathBuf>,
    model: Option<&PathBuf>,
    share: f64,
    history: usize,
    horizon: usize,
    epochs: usize,
) -> Result<ExitCode> {
    let data = data
        .or_else(crate::workspace::shipped_sample)
        .ok_or_else(|| anyhow!("no sample-data folder here; pass --data DIR"))?;
    let report = coldstart_bench(
        &data,
        &crate::cli::engine::model_dir(model)?,
        share,
        history.max(1),
        horizon.max(1),
        epochs.max(1),
    )?;
    emit(&report)?;
    Ok(ExitCode::SUCCESS)
}
