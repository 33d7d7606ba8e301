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
/// time per forecast, their ratio, MASE and weighted quantile loss (on the
/// windows where both fitted) and the fits that failed. Its own horizons:
/// 28 days and 13 weeks, whatever `--horizon` says for the backtest.
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
        // Three years of weeks to fit before the earliest window, then the
        // 13-week windows.
        days: 7 * (156 + 13 * windows) + 7,
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
        "{:<6} {:<12} {:>12} {:>8} {:>7} {:>7} {:>7}",
        "data", "fit", "ms/forecast", "x ours", "MASE", "wQL", "failed"
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
        // Both fits on every window; each is scored only on the windows
        // where both fitted, so the two rows score the same forecasts.
        let mut acc = [Accum::default(); 2];
        let mut time = [Duration::ZERO; 2];
        let (mut tried, mut failed, mut too_short) = (0usize, [0usize; 2], 0usize);
        for values in &series {
            for w in 1..=windows {
                let Some(origin) = values.len().checked_sub(w * horizon) else {
                    too_short += 1;
                    continue;
                };
                let history = &values[origin.saturating_sub(window)..origin];
                if history.len() < 2 * period + 2 || history.iter().all(|v| *v == history[0]) {
                    too_short += 1;
                    continue;
                }
                tried += 1;
                let mut got = Vec::with_capacity(2);
                for (k, (_, fit)) in fits.iter().enumerate() {
                    let clock = Instant::now();
                    let f = fit(period, history, horizon)
                        .and_then(|f| quantiles_of("ets", &f, horizon).map_err(|e| e.to_string()));
                    time[k] += clock.elapsed();
                    match f {
                        Ok(f) => got.push(f),
                        Err(_) => failed[k] += 1,
                    }
                }
                if let [ours, theirs] = got.as_slice() {
                    let actual = &values[origin..origin + horizon];
                    let scale = mase_scale(&values[..origin], period);
                    acc[0].add(actual, &ours.p10, &ours.p50, &ours.p90, scale);
                    acc[1].add(actual, &theirs.p10, &theirs.p50, &theirs.p90, scale);
                }
            }
        }
        let ms = |k: usize| time[k].as_secs_f64() * 1e3 / tried.max(1) as f64;
        for (k, (name, _)) in fits.iter().enumerate() {
            let m = acc[k].metrics();
            println!(
                "{label:<6} {name:<12} {:>12.3} {:>8.1} {:>7.3} {:>7.3} {:>7}",
                ms(k),
                ms(k) / ms(0).max(1e-9),
                m.mase,
                m.wql,
                failed[k]
            );
        }
        if too_short > 0 {
            println!("{label:<6} {too_short} windows left out: under two seasons of history, or flat");
        }
    }
    println!();
    Ok(())
}
