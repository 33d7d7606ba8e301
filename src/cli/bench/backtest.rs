//! `skuplan bench backtest`: rolling-origin backtests of every baseline at 500 and 10,000 series.

use anyhow::Result;

use crate::data::{ImportOptions, import_paths};

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
