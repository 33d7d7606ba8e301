//! Benchmarks (`skuplan bench ...`), one module each: each measures our code beside a reference in the same run and
//! prints the ratio, because wall-clock numbers on a shared machine mean
//! little alone. Never used in tests.

mod backtest;
mod coldstart;
mod encode;
mod import;
mod periods;
mod plan;
mod start;
mod text;
mod train;
mod tui;
mod vrp;

use std::time::{Duration, Instant};

use std::process::ExitCode;

use anyhow::Result;

use super::args::BenchCommand;
use super::emit;

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
            period: Default::default(),
        });
    }
    ds
}

/// Run one benchmark and print its table.
pub fn run(cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Vrp {
            solomon,
            time_limit,
            iterations,
            seed,
            only,
            routes_out,
        } => {
            let budget = crate::plan::vrp::Budget {
                seed,
                seconds: time_limit,
                iterations,
            };
            vrp::vrp_bench(&solomon, budget, only.as_deref(), routes_out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Train {
            model,
            batch,
            seq,
            steps,
            series,
            device,
        } => train::bench_train(model.as_ref(), batch, &seq, steps, series, device),
        BenchCommand::Coldstart {
            data,
            model,
            share,
            history,
            horizon,
            epochs,
        } => coldstart::bench_coldstart(data, model.as_ref(), share, history, horizon, epochs),
        BenchCommand::Text {
            data,
            origin,
            horizon,
            minutes,
            epochs,
            model,
        } => {
            let b = text::TextBench {
                data,
                origin,
                horizon,
                minutes: minutes.max(0.0),
                epochs: epochs.max(1),
                model,
            };
            emit(&text::text_bench(&b)?)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Start { data } => {
            let data = match data {
                Some(d) => d,
                None => crate::workspace::shipped_sample()
                    .ok_or_else(|| anyhow::anyhow!("no sample data here: pass --data DIR"))?,
            };
            emit(&start::start_bench(&data)?)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Encode {
            data,
            model,
            batch,
            texts,
        } => {
            let data = match data {
                Some(d) => d,
                None => crate::workspace::shipped_sample()
                    .ok_or_else(|| anyhow::anyhow!("no sample data here: pass --data DIR"))?,
            };
            let imported = crate::data::import_paths(std::slice::from_ref(&data), &Default::default())
                .map_err(|f| anyhow::anyhow!("{f}"))?;
            let model = crate::cli::engine::model_dir(model.as_ref())?;
            emit(&encode::encode_bench(&imported.dataset, &model, batch, texts)?)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Tui { rows, repeat } => {
            emit(&tui::tui_bench(&rows, repeat)?)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Plan { lines } => {
            plan::plan_bench(lines)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Import { rows, repeat, period } => {
            import::import_bench(rows, repeat, period)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Periods {
            data,
            period,
            origin,
            horizon,
            model,
            epochs,
            no_model,
            mase_lag,
            keep,
        } => {
            let b = periods::PeriodsBench {
                data,
                period,
                origin,
                horizon,
                model,
                epochs: epochs.max(1),
                no_model,
                mase_lag,
                keep,
            };
            emit(&periods::periods_bench(&b)?)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Backtest {
            series,
            windows,
            horizon,
        } => {
            backtest::backtest_bench(&series, windows, horizon)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A training run's progress on stderr for a bench: a dot per epoch.
pub(super) struct EpochDots;

impl crate::engine::train::Control for EpochDots {
    fn keep_going(&mut self) -> bool {
        true
    }
    fn report(&mut self, e: crate::engine::EngineEvent) {
        if let crate::engine::EngineEvent::EpochEnd { .. } = e {
            eprint!(".");
        }
    }
}
