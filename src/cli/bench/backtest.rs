//! `skuplan bench backtest`: rolling-origin backtests of every baseline at
//! 500 and 10,000 series, after ETS as we fit it beside the crate's own fit.

use anyhow::Result;

use crate::data::{ImportOptions, import_paths};

/// `skuplan bench backtest`: every baseline over `sizes` generated series.
pub fn backtest_bench(sizes: &[usize], windows: usize, horizon: usize) -> Result<()> {
    use crate::data::sample::{SalesFormat, SampleSpec, generate};
    use crate::forecast::backtest::{BacktestSpec, run};
    use crate::forecast::baselines::all_baselines;

    let methods = all_baselines();
    ets_comparison(ETS_COMPARED, windows)?;
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
        let before = super::current_rss().unwrap_or(0);
        let reset = super::reset_peak_rss();
        let bt = run(&ds, &methods, &bspec).map_err(anyhow::Error::msg)?;
        let peak = super::peak_rss().unwrap_or(0);
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

/// Series the ETS comparison runs on: the crate's own fit takes 30-50 ms a
/// forecast on weeks, so a few hundred forecasts are enough to read.
const ETS_COMPARED: usize = 120;

/// ETS(A,N,A) fitted as the baselines fit it (`forecast::ets`) beside the
/// crate's maximum-likelihood fit of the same model, on the same generated
/// series and windows: on days (weekly season, a year of history) and on
/// the same days summed into weeks (yearly season, three years). Prints
/// time per forecast, their ratio, MASE and weighted quantile loss.
fn ets_comparison(n: usize, windows: usize) -> Result<()> {
    use crate::data::sample::{SalesFormat, SampleSpec, generate};
    use crate::forecast::baselines::quantiles_of;
    use crate::forecast::ets;
    use crate::forecast::metrics::{Accum, mase_scale};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir()?;
    let spec = SampleSpec {
        skus: n.div_ceil(3) + 1,
        warehouses: 3,
        // Three years of weeks to fit and four 13-week windows before them.
        days: 1_250,
        seed: 11,
        sales_format: SalesFormat::Parquet,
        ..SampleSpec::default()
    };
    eprintln!("generating {n} series for the ETS comparison ...");
    generate(dir.path(), &spec)?;
    let mut ds = import_paths(&[dir.path().join("sales.parquet")], &ImportOptions::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .dataset;
    ds.demand.truncate(n);
    println!(
        "bench backtest: ETS as the baselines fit it beside anofox-forecast's own fit, {n} series x {windows} windows, one thread"
    );
    println!(
        "{:<6} {:<12} {:>12} {:>8} {:>7} {:>7}",
        "data", "fit", "ms/forecast", "x ours", "MASE", "wQL"
    );
    type Fit = fn(usize, &[f64], usize) -> Result<anofox_forecast::core::Forecast, String>;
    let fits: [(&str, Fit); 2] = [("ours", ets::forecast), ("the crate's", ets::fit_by_crate)];
    for (label, period, window, horizon) in [("days", 7, 364, 28), ("weeks", 52, 156, 13)] {
        let series: Vec<Vec<f64>> = ds
            .demand
            .iter()
            .map(|s| {
                if period == 7 {
                    s.values.clone()
                } else {
                    let rest = s.values.len() % 7;
                    s.values[rest..].chunks(7).map(|w| w.iter().sum()).collect()
                }
            })
            .collect();
        let mut rows = Vec::new();
        for (name, fit) in fits {
            let (mut acc, mut time, mut count) = (Accum::default(), Duration::ZERO, 0usize);
            for values in &series {
                for w in 1..=windows {
                    let Some(origin) = values.len().checked_sub(w * horizon) else {
                        continue;
                    };
                    let history = &values[origin.saturating_sub(window)..origin];
                    if history.len() < 2 * period + 2 || history.iter().all(|v| *v == history[0]) {
                        continue;
                    }
                    let clock = Instant::now();
                    let f = fit(period, history, horizon);
                    time += clock.elapsed();
                    count += 1;
                    if let Ok(f) = f.and_then(|f| quantiles_of("ets", &f, horizon).map_err(|e| e.to_string())) {
                        let actual = &values[origin..origin + horizon];
                        acc.add(actual, &f.p10, &f.p50, &f.p90, mase_scale(&values[..origin], period));
                    }
                }
            }
            rows.push((name, time.as_secs_f64() * 1e3 / count.max(1) as f64, acc.metrics()));
        }
        let ours_ms = rows[0].1.max(1e-9);
        for (name, ms, m) in rows {
            println!(
                "{label:<6} {name:<12} {ms:>12.3} {:>8.1} {:>7.3} {:>7.3}",
                ms / ours_ms,
                m.mase,
                m.wql
            );
        }
    }
    println!();
    Ok(())
}
