//! Benchmarks: each measures our code beside a reference in the same run and
//! prints the ratio, because wall-clock numbers on a shared machine mean
//! little alone. Never used in tests.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::data::{ImportOptions, import_paths};

/// Median wall time of `f` over `n` runs (at least one).
fn median_time<T>(n: usize, mut f: impl FnMut() -> Result<T>) -> Result<Duration> {
    let mut times = Vec::new();
    for _ in 0..n.max(1) {
        let t = Instant::now();
        let out = f()?;
        times.push(t.elapsed());
        drop(std::hint::black_box(out));
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Peak resident memory of this process in bytes (Linux), and a way to reset it.
pub fn peak_rss() -> Option<u64> {
    status_kb("VmHWM:").map(|kb| kb * 1024)
}

pub fn current_rss() -> Option<u64> {
    status_kb("VmRSS:").map(|kb| kb * 1024)
}

fn status_kb(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reset the peak so the next reading covers only what follows (Linux 4.0+).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Write a sales CSV of about `rows` rows: 5 warehouses, as many SKUs and
/// days as it takes, quantities with zeros and a weekly rhythm.
pub fn write_sales_csv(path: &Path, rows: usize) -> Result<()> {
    let warehouses = 5usize;
    let days = 365usize;
    let skus = rows.div_ceil(warehouses * days).max(1);
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).context("date")?;
    let dates: Vec<String> = (0..days)
        .map(|d| (start + chrono::Days::new(d as u64)).to_string())
        .collect();
    let mut out = String::with_capacity(rows * 32);
    out.push_str("date,sku,warehouse,quantity\n");
    let mut n = 0;
    'outer: for s in 0..skus {
        for w in 0..warehouses {
            for (d, date) in dates.iter().enumerate() {
                if n == rows {
                    break 'outer;
                }
                let q = (s * 7 + w * 3 + d * 11) % 23 % (3 + d % 7);
                let _ = writeln!(out, "{date},SKU-{s:05},WH-{w},{q}");
                n += 1;
            }
        }
    }
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
}

/// `skuplan bench import`.
pub fn import_bench(rows: usize, repeat: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("sales.csv");
    eprintln!("writing {rows} rows to {} ...", path.display());
    write_sales_csv(&path, rows)?;
    let size = std::fs::metadata(&path)?.len();
    // Warm the page cache so both sides read from memory.
    let _ = std::fs::read(&path)?;

    let raw = median_time(repeat, || Ok(std::fs::read(&path)?))?;
    // A second reference: polars' own CSV reader with types inferred, no
    // checks and no aggregation.
    let polars_read = median_time(repeat, || {
        use polars::prelude::*;
        let p = path.to_string_lossy().to_string();
        Ok(LazyCsvReader::new(PlRefPath::from(p.as_str())).finish()?.collect()?)
    })?;
    let opts = ImportOptions::default();
    let rss_before = current_rss().unwrap_or(0);
    let reset = reset_peak_rss();
    let mut series = 0;
    let import = median_time(repeat, || {
        let imported = import_paths(std::slice::from_ref(&path), &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
        series = imported.dataset.demand.len();
        Ok(imported)
    })?;
    let peak = peak_rss().unwrap_or(0);

    println!(
        "bench import: {rows} rows, {:.1} MB, {series} series, median of {repeat}",
        size as f64 / 1e6
    );
    println!("{:<34} {:>10} {:>8}", "step", "time", "ratio");
    println!(
        "{:<34} {:>8.1}ms {:>8}",
        "read the bytes (std::fs::read)",
        raw.as_secs_f64() * 1e3,
        "1.0x"
    );
    println!(
        "{:<34} {:>8.1}ms {:>7.1}x",
        "polars CSV read, typed, no checks",
        polars_read.as_secs_f64() * 1e3,
        polars_read.as_secs_f64() / raw.as_secs_f64().max(1e-9)
    );
    println!(
        "{:<34} {:>8.1}ms {:>7.1}x",
        "import + daily aggregation",
        import.as_secs_f64() * 1e3,
        import.as_secs_f64() / raw.as_secs_f64().max(1e-9)
    );
    if reset {
        println!(
            "peak memory during import: {:.0} MB above the {:.0} MB before it (file {:.0} MB)",
            peak.saturating_sub(rss_before) as f64 / 1e6,
            rss_before as f64 / 1e6,
            size as f64 / 1e6
        );
    } else {
        println!("peak memory of the process: {:.0} MB", peak as f64 / 1e6);
    }
    Ok(())
}

/// `skuplan bench backtest`: every baseline over `sizes` generated series.
pub fn backtest_bench(sizes: &[usize], windows: usize, horizon: usize) -> Result<()> {
    use crate::data::sample::{SalesFormat, SampleSpec, generate};
    use crate::forecast::backtest::{BacktestSpec, run};
    use crate::forecast::baselines::all_baselines;

    let methods = all_baselines();
    for &n in sizes {
        let dir = tempfile::tempdir()?;
        let spec = SampleSpec {
            skus: n.div_ceil(3) + n / 20 + 1,
            warehouses: 3,
            days: 730,
            seed: 7,
            sales_format: SalesFormat::Parquet,
            ..SampleSpec::default()
        };
        eprintln!("generating {n} series ...");
        generate(dir.path(), &spec)?;
        let mut ds = import_paths(&[dir.path().join("sales.parquet")], &ImportOptions::default())
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .dataset;
        ds.demand.truncate(n);
        let bspec = BacktestSpec {
            horizon,
            windows,
            step: horizon,
            ..BacktestSpec::default()
        };
        let before = current_rss().unwrap_or(0);
        let reset = reset_peak_rss();
        let bt = run(&ds, &methods, &bspec).map_err(anyhow::Error::msg)?;
        let peak = peak_rss().unwrap_or(0);
        let base = bt.method_time[0].as_secs_f64().max(1e-9);
        println!(
            "bench backtest: {} series x {} windows x {} days, {} threads: wall {:.1} s",
            ds.demand.len(),
            windows,
            horizon,
            rayon::current_num_threads(),
            bt.wall_time.as_secs_f64()
        );
        println!(
            "{:<10} {:>10} {:>12} {:>10}",
            "method", "cpu s", "ms/forecast", "x snaive7"
        );
        let fits = (ds.demand.len() * windows).max(1) as f64;
        for (m, name) in bt.methods.iter().enumerate() {
            let t = bt.method_time[m].as_secs_f64();
            println!("{name:<10} {t:>10.2} {:>12.3} {:>10.1}", t * 1e3 / fits, t / base);
        }
        if reset {
            println!(
                "peak memory during the backtest: {:.0} MB above {:.0} MB\n",
                peak.saturating_sub(before) as f64 / 1e6,
                before as f64 / 1e6
            );
        }
    }
    Ok(())
}

/// `skuplan bench plan`: recompute a restock plan of `lines` lines with a
/// what-if override on a tenth of them, beside a plain pass over the same
/// forecasts (summing them) as the reference.
pub fn plan_bench(lines: usize) -> Result<()> {
    use crate::domain::{Dataset, DemandSeries, InventoryRecord, Product, SeriesForecast};
    use crate::plan::restock::{RestockSettings, build_plan};
    use crate::plan::scenario::{Change, Override, Scenario};

    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).context("date")?;
    let skus = lines.div_ceil(3).max(1);
    let mut ds = Dataset::default();
    let mut forecasts = Vec::with_capacity(lines);
    for i in 0..lines {
        let sku = format!("S{:06}", i % skus);
        let wh = format!("W{}", i / skus);
        let level = 1.0 + (i % 37) as f64;
        if i < skus {
            ds.products.push(Product {
                sku: sku.clone(),
                title: sku.clone(),
                category: None,
                brand: None,
                unit_cost: Some(2.0 + (i % 13) as f64),
                price: None,
                pack_size: [1, 6, 12][i % 3],
                moq: [0, 10, 24][i % 3],
                lead_time_days: 3 + (i % 20) as u32,
                supplier: Some(format!("Supplier {}", i % 9)),
                synthesized: false,
            });
        }
        ds.demand.push(DemandSeries {
            sku: sku.clone(),
            warehouse: wh.clone(),
            start: start - chrono::Days::new(365),
            values: (0..365).map(|d| if (d + i) % 3 == 0 { 0.0 } else { level }).collect(),
            promo: None,
        });
        ds.inventory.push(InventoryRecord {
            sku: sku.clone(),
            warehouse: wh.clone(),
            on_hand: level * (i % 30) as f64,
            on_order: level * 5.0,
            due_date: Some(start + chrono::Days::new((i % 9) as u64)),
        });
        forecasts.push(SeriesForecast {
            sku,
            warehouse: wh,
            start,
            p10: vec![level * 0.6; 56],
            p50: vec![level; 56],
            p90: vec![level * 1.5; 56],
            model: "bench".into(),
        });
    }
    let scenario = Scenario {
        name: "bench".into(),
        overrides: (0..skus / 10)
            .map(|k| Override {
                skus: vec![format!("S{:06}", k * 10)],
                warehouse: None,
                from: start + chrono::Days::new(3),
                to: start + chrono::Days::new(20),
                change: Change::Percent(40.0),
                reason: "bench".into(),
            })
            .collect(),
    };
    let settings = RestockSettings::default();
    let reference = median_time(5, || {
        Ok(forecasts.iter().map(|f| f.p50.iter().sum::<f64>()).sum::<f64>())
    })?;
    let mut n_lines = 0;
    let recompute = median_time(5, || {
        let (f, adj) = scenario.apply(&forecasts);
        let plan = build_plan(&ds, &f, &adj, &settings);
        n_lines = plan.lines.len();
        Ok(plan)
    })?;
    println!(
        "bench plan: {n_lines} lines, {} overrides, median of 5",
        scenario.overrides.len()
    );
    println!("{:<40} {:>10} {:>8}", "step", "time", "ratio");
    println!(
        "{:<40} {:>8.2}ms {:>8}",
        "sum every forecast (reference)",
        reference.as_secs_f64() * 1e3,
        "1.0x"
    );
    println!(
        "{:<40} {:>8.2}ms {:>7.0}x",
        "apply overrides + recompute the plan",
        recompute.as_secs_f64() * 1e3,
        recompute.as_secs_f64() / reference.as_secs_f64().max(1e-9)
    );
    Ok(())
}

/// `skuplan bench vrp`: every Solomon instance in `dir`, solved for
/// `seconds` each, its routes checked independently, vehicles and distance
/// beside the best-known solutions, with averages per class.
pub fn vrp_bench(
    dir: &Path,
    budget: crate::plan::vrp::Budget,
    only: Option<&str>,
    routes_out: Option<&Path>,
) -> Result<()> {
    use std::collections::BTreeMap;

    use crate::plan::solomon::Instance;
    use crate::plan::vrp::{check, solve};

    #[derive(serde::Deserialize)]
    struct Bks {
        instance: String,
        bks_vehicles: f64,
        bks_distance: f64,
    }
    let bks_path = dir.join("solomon_bks.csv");
    let mut bks = std::collections::HashMap::new();
    let mut reader =
        csv::Reader::from_path(&bks_path).with_context(|| format!("cannot read {}", bks_path.display()))?;
    for row in reader.deserialize::<Bks>() {
        let row = row.with_context(|| format!("{} has a bad row", bks_path.display()))?;
        bks.insert(row.instance.to_ascii_uppercase(), (row.bks_vehicles, row.bks_distance));
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("txt")))
        .filter(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().to_ascii_uppercase())
                .unwrap_or_default();
            only.is_none_or(|o| stem.starts_with(&o.to_ascii_uppercase()))
        })
        .collect();
    files.sort();
    if let Some(out) = routes_out {
        std::fs::create_dir_all(out)?;
    }
    println!(
        "{:<7} {:>4} {:>4} {:>6} {:>10} {:>10} {:>7} {:>6} {:>8} feasible",
        "inst", "veh", "bks", "veh%", "distance", "bks", "dist%", "s", "iter"
    );
    // class -> (n, vehicle gap sum, distance gap sum)
    let mut classes: BTreeMap<String, (usize, f64, f64)> = BTreeMap::new();
    let mut infeasible = 0;
    for f in files {
        let inst = Instance::read(&f)?;
        let (matrix, jobs, vehicles) = inst.to_problem();
        let clock = Instant::now();
        let routing = solve(&matrix, &jobs, &vehicles, budget);
        let took = clock.elapsed().as_secs_f64();
        let problems = check(&matrix, &jobs, &vehicles, &routing);
        let ok = problems.is_empty() && routing.unassigned.is_empty();
        if !ok {
            infeasible += 1;
        }
        let used = routing.routes.iter().filter(|r| !r.visits.is_empty()).count();
        let key = inst.name.to_ascii_uppercase();
        let (bv, bd) = bks.get(&key).copied().unwrap_or((f64::NAN, f64::NAN));
        let vgap = 100.0 * (used as f64 - bv) / bv;
        let dgap = 100.0 * (routing.distance - bd) / bd;
        println!(
            "{:<7} {:>4} {:>4} {:>+6.1} {:>10.2} {:>10.2} {:>+7.2} {:>6.1} {:>8} {}",
            inst.name,
            used,
            bv,
            vgap,
            routing.distance,
            bd,
            dgap,
            took,
            routing.iterations,
            if ok {
                "yes".to_string()
            } else {
                format!("NO: {} problems, {} unserved", problems.len(), routing.unassigned.len())
            }
        );
        let class: String = key.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>()
            + &key
                .chars()
                .skip_while(|c| c.is_ascii_alphabetic())
                .take(1)
                .collect::<String>();
        let e = classes.entry(class).or_default();
        e.0 += 1;
        e.1 += vgap;
        e.2 += dgap;
        if let Some(out) = routes_out {
            let mut text = String::from("vehicle,seq,customer\n");
            for (n, r) in routing.routes.iter().filter(|r| !r.visits.is_empty()).enumerate() {
                for (seq, v) in r.visits.iter().enumerate() {
                    text.push_str(&format!(
                        "{},{},{}\n",
                        n + 1,
                        seq + 1,
                        inst.nodes[jobs[v.job].location].number
                    ));
                }
            }
            crate::workspace::atomic_write(&out.join(format!("{}.csv", inst.name)), text.as_bytes())?;
        }
    }
    println!("\n{:<6} {:>4} {:>10} {:>10}", "class", "n", "veh gap%", "dist gap%");
    let (mut n, mut vg, mut dg) = (0, 0.0, 0.0);
    for (c, (k, v, d)) in &classes {
        println!("{c:<6} {k:>4} {:>+10.2} {:>+10.2}", v / *k as f64, d / *k as f64);
        n += k;
        vg += v;
        dg += d;
    }
    if n > 0 {
        println!("{:<6} {n:>4} {:>+10.2} {:>+10.2}", "all", vg / n as f64, dg / n as f64);
    }
    println!("infeasible or incomplete: {infeasible}");
    Ok(())
}

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
    use crate::engine::bert::{Batch, Bert, Dropout};
    use crate::engine::encoder::{Encoder, ModelDir};
    use crate::engine::model::{HeadConfig, pinball_loss};
    use crate::engine::optim::AdamW;
    use crate::engine::train::{Calibration, DemandModel, Mode};
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
            let reset = reset_peak_rss();
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
                format!("{:.0}", peak_rss().unwrap_or(0) as f64 / 1e6)
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
    let data = synthetic_dataset(series, 800, 3);
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
    let reset = reset_peak_rss();
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
    let peak = peak_rss().unwrap_or(0);
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

/// `n` daily series of `days` days over `warehouses` warehouses: weekly
/// rhythm, noise, and a product row each.
pub fn synthetic_dataset(n: usize, days: usize, warehouses: usize) -> crate::domain::Dataset {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let mut ds = crate::domain::Dataset::default();
    let skus = n.div_ceil(warehouses.max(1));
    for i in 0..skus {
        let mut p = crate::domain::Product::made_from_sales(
            &format!("SKU{i:05}"),
            Some(&format!("product {i}")),
            &Default::default(),
        );
        p.category = Some(format!("category {}", i % 20));
        ds.products.push(p);
    }
    for i in 0..n {
        let level: f64 = rng.random_range(0.2..40.0);
        let values = (0..days)
            .map(|d| {
                let wk = 1.0 + 0.3 * ((d % 7) as f64 / 6.0 - 0.5);
                (level * wk * rng.random_range(0.5..1.5)).round()
            })
            .collect();
        ds.demand.push(crate::domain::DemandSeries {
            sku: format!("SKU{:05}", i / warehouses.max(1)),
            warehouse: format!("W{}", i % warehouses.max(1)),
            start,
            values,
            promo: None,
        });
    }
    ds
}

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
    use crate::engine::run::{self, TrainJob};
    use crate::engine::train::{Control, TrainConfig};
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

/// `skuplan bench tui`: time to draw the Forecasts and Restock tabs (state
/// to buffer, 160x48) with `rows` rows, beside drawing an empty frame of
/// the same size; a key press (move down) to the redrawn buffer; resident
/// memory of the state.
pub fn tui_bench(sizes: &[usize], repeat: usize) -> Result<String> {
    use crate::plan::restock::{RestockLine, RestockPlan, RestockSettings};
    use crate::tui::action::Action;
    use crate::tui::app::{App, ForecastRow};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let mut out = String::new();
    writeln!(out, "bench tui: draw at 160x48, median of {repeat}")?;
    writeln!(
        out,
        "{:>8} {:<10} {:>10} {:>12} {:>10} {:>14}",
        "rows", "tab", "frame ms", "empty ms", "ratio", "key->frame ms"
    )?;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    for &n in sizes {
        let dir = tempfile::tempdir()?;
        let before = current_rss().unwrap_or(0);
        let mut app = App::new(crate::workspace::Workspace::open(dir.path())?, None);
        app.colors = false;
        app.loading = None;
        let line = |i: usize| RestockLine {
            sku: format!("SKU{i:06}"),
            warehouse: format!("W{}", i % 3),
            title: format!("product {i}"),
            supplier: Some(format!("supplier {}", i % 40)),
            abc: crate::plan::restock::Abc::B,
            service_level: 0.95,
            target_service: 0.95,
            intermittent: false,
            lead_time_days: 7,
            review_days: 7,
            on_hand: 10.0,
            stock_known: true,
            on_order_in_time: 0.0,
            inventory_position: 10.0,
            protection_demand: 20.0,
            order_up_to: 30.0,
            reorder_point: 25.0,
            safety_stock: 5.0,
            raw_qty: 20.0,
            order_qty: 20 + (i % 7) as u32,
            pack_size: 1,
            moq: 0,
            unit_cost: 2.5,
            line_cost: 50.0,
            order_date: day,
            arrival: day,
            stockout_without: Some(day),
            stockout_with: None,
            projected_without: vec![],
            projected_with: vec![],
            reasons: vec![],
        };
        app.plan = Some(RestockPlan {
            plan_date: day,
            settings: RestockSettings::default(),
            lines: (0..n).map(line).collect(),
        });
        app.forecast_rows = (0..n)
            .map(|i| ForecastRow {
                series: i,
                sku: format!("SKU{i:06}"),
                warehouse: format!("W{}", i % 3),
                method: "ets".into(),
                next7: 70.0,
                horizon_total: 280.0,
                mase: Some(0.9),
                overridden: false,
            })
            .collect();
        app.refresh_totals();
        let state_mb = current_rss().unwrap_or(0).saturating_sub(before) as f64 / 1e6;
        let mut term = Terminal::new(TestBackend::new(160, 48))?;
        let empty = median_time(repeat, || {
            term.draw(|f| f.render_widget(ratatui::widgets::Paragraph::new(""), f.area()))?;
            Ok(())
        })?;
        for (tab, name) in [(2usize, "forecasts"), (3, "restock")] {
            app.update(Action::GoTab(tab));
            let frame = median_time(repeat, || {
                term.draw(|f| crate::tui::draw::draw(f, &mut app))?;
                Ok(())
            })?;
            let key = median_time(repeat, || {
                app.update(Action::Down);
                term.draw(|f| crate::tui::draw::draw(f, &mut app))?;
                Ok(())
            })?;
            writeln!(
                out,
                "{n:>8} {name:<10} {:>10.2} {:>12.3} {:>10.0} {:>14.2}",
                frame.as_secs_f64() * 1e3,
                empty.as_secs_f64() * 1e3,
                frame.as_secs_f64() / empty.as_secs_f64().max(1e-9),
                key.as_secs_f64() * 1e3
            )?;
        }
        writeln!(out, "{n:>8} state      {state_mb:.0} MB resident for the rows")?;
    }
    Ok(out)
}

/// `skuplan bench start`: the workstation's load on `data` with a cold
/// cache (import, backtest, forecasts, calibration, cache written) beside
/// the same load from the cache, in a throw-away workspace.
pub fn start_bench(data: &Path) -> Result<String> {
    use crate::data::ImportOptions;
    use crate::workspace::{DataSources, Workspace};

    let tmp = tempfile::tempdir()?;
    let ws = Workspace::open(tmp.path().join("ws"))?;
    let sources = DataSources {
        paths: vec![data.to_path_buf()],
        ..DataSources::default()
    };
    let opts = ImportOptions::default();
    let clock = Instant::now();
    let quick = crate::tui::load_with_cache(&sources, &opts, None, true).map_err(anyhow::Error::msg)?;
    let quick_s = clock.elapsed().as_secs_f64();
    drop(quick);
    let clock = Instant::now();
    let cold = crate::tui::load_with_cache(&sources, &opts, Some(&ws), false).map_err(anyhow::Error::msg)?;
    let cold_s = clock.elapsed().as_secs_f64();
    let cache_bytes: u64 = std::fs::read_dir(ws.root.join("cache"))?
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let clock = Instant::now();
    let warm = crate::tui::load_with_cache(&sources, &opts, Some(&ws), false).map_err(anyhow::Error::msg)?;
    let warm_s = clock.elapsed().as_secs_f64();
    if warm.base.forecasts != cold.base.forecasts {
        anyhow::bail!("the cached forecasts differ from the computed ones");
    }
    Ok(format!(
        "{} series: provisional plan {quick_s:.2} s (import, 28-day averages); \
         first start {cold_s:.2} s (import, backtest, forecasts, calibration, service levels); \
         from the cache {warm_s:.2} s ({:.1} MB); ratio cache/first {:.3}\n",
        cold.dataset.demand.len(),
        cache_bytes as f64 / 1e6,
        warm_s / cold_s.max(1e-9)
    ))
}
