//! `skuplan bench periods`: daily data summed into weeks or months (written
//! as a file of its own and imported as such), then every baseline of that
//! period, the champions and the fine-tuned model forecast the same periods
//! from the same origin, with MASE on the period's yearly lag.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;

use crate::data::{ImportOptions, import_paths};
use crate::domain::{Dataset, Period, PeriodKind};

/// What `skuplan bench periods` runs.
pub struct PeriodsBench {
    pub data: PathBuf,
    pub period: PeriodKind,
    /// The last day any method learns from (default: the last period of
    /// the data minus the horizon).
    pub origin: Option<NaiveDate>,
    pub horizon: Option<usize>,
    /// Train and score the model too (needs the encoder).
    pub model: Option<PathBuf>,
    pub epochs: usize,
    pub no_model: bool,
    /// The MASE scale's lag (default: a year of the period).
    pub mase_lag: Option<usize>,
    /// Keep the converted file here.
    pub keep: Option<PathBuf>,
}

/// Write `ds` summed into `period` (Monday-to-Sunday weeks stamped on
/// their Monday, or calendar months stamped on their first day) as a sales
/// CSV: only whole periods, so the first and last ones read no slump.
pub fn write_summed_csv(ds: &Dataset, period: PeriodKind, path: &Path) -> Result<usize> {
    let target = match period {
        PeriodKind::Day => bail!("choose week or month"),
        PeriodKind::Week => Period::Week(chrono::Weekday::Mon),
        PeriodKind::Month => Period::Month(crate::domain::MonthStamp::First),
    };
    if ds.period() != Period::Day {
        bail!("the data is already {}", ds.period().describe());
    }
    let (first, last) = ds.date_range().context("the data has no sales history")?;
    // Whole periods only: from the first period that starts on or after
    // the first day to the last that ends on or before the last day.
    let from = if target.floor(first) == first {
        first
    } else {
        target.step(target.floor(first), 1)
    };
    let last_start = target.floor(last);
    let to = if target.step(last_start, 1).pred_opt() == Some(last) {
        last_start
    } else {
        target.step(last_start, -1)
    };
    let mut out = String::from("date,sku,warehouse,quantity\n");
    let mut rows = 0;
    for s in &ds.demand {
        let mut sums: std::collections::BTreeMap<NaiveDate, f64> = std::collections::BTreeMap::new();
        for (i, v) in s.values.iter().enumerate() {
            let stamp = target.floor(s.date_at(i));
            if stamp >= from && stamp <= to {
                *sums.entry(stamp).or_insert(0.0) += v;
            }
        }
        // A series that starts mid-period: its first period is partial.
        let first_full = if target.floor(s.start) == s.start {
            s.start
        } else {
            target.step(target.floor(s.start), 1)
        };
        for (d, v) in sums.range(first_full..) {
            let _ = writeln!(out, "{d},{},{},{v}", s.sku, s.warehouse);
            rows += 1;
        }
    }
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(rows)
}

/// Run the comparison and return the table.
pub fn periods_bench(b: &PeriodsBench) -> Result<String> {
    use crate::forecast::backtest::{BacktestSpec, run};
    use crate::forecast::baselines::baselines_for;
    use crate::forecast::metrics::{Accum, Metrics};

    let mut out = String::new();
    let daily = import_paths(std::slice::from_ref(&b.data), &ImportOptions::default())
        .map_err(|e| anyhow!("{e}"))?
        .dataset;
    let tmp = tempfile::tempdir()?;
    let ds = if daily.period() == Period::Day {
        let dir = b.keep.clone().unwrap_or_else(|| tmp.path().join("converted"));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("sales.csv");
        let rows = write_summed_csv(&daily, b.period, &file)?;
        let _ = writeln!(
            out,
            "converted: {rows} rows of {} sums in {}",
            b.period.name(),
            file.display()
        );
        // Products (titles, lead times) come with it where the data had them.
        let mut paths = vec![file];
        if let Some(p) = products_file(&b.data) {
            paths.push(p);
        }
        import_paths(&paths, &ImportOptions::default())
            .map_err(|e| anyhow!("{e}"))?
            .dataset
    } else {
        daily
    };
    let period = ds.period();
    if period.kind() != b.period {
        bail!("the data is {}, not by {}", period.describe(), b.period.name());
    }
    let (_, last) = ds.date_range().context("no sales history")?;
    let horizon = b.horizon.unwrap_or(period.default_horizon()).max(1);
    let origin = period.floor(b.origin.unwrap_or_else(|| period.step(last, -(horizon as i64))));
    let mase_lag = b.mase_lag.unwrap_or(period.year());
    let _ = writeln!(
        out,
        "{} series, {}; origin: the period stamped {origin}, forecast {} ({} .. {}); MASE scale: lag {mase_lag}",
        ds.demand.len(),
        period.describe(),
        period.count(horizon),
        period.step(origin, 1),
        period.step(origin, horizon as i64).min(last)
    );
    // Two windows: champions chosen on the first, everything scored on the
    // second (the origin).
    let methods = baselines_for(period);
    let spec = BacktestSpec {
        horizon,
        windows: 2,
        step: horizon,
        origin: Some(origin),
        mase_lag,
        ..BacktestSpec::for_period(period)
    };
    let mut bt = run(&ds, &methods, &spec).map_err(|e| anyhow!(e))?;
    let mut model_seconds = None;
    if !b.no_model {
        let model_dir = crate::cli::engine::model_dir(b.model.as_ref())?;
        let (forecasts, seconds) = train_and_forecast(&ds, &model_dir, origin, horizon, b.epochs, tmp.path())?;
        model_seconds = Some(seconds);
        let later = bt.origins.len() - 1;
        bt.add_external(&ds, "finetuned", |i, w| {
            (w == later).then(|| forecasts[i].clone()).flatten()
        });
    }
    let last_window = |m: usize| -> Metrics {
        let mut a = Accum::default();
        for s in 0..bt.series.len() {
            if let Some(Some(c)) = bt.cells[s][m].last() {
                a.merge(c);
            }
        }
        a.metrics()
    };
    let _ = writeln!(
        out,
        "\n{:<22} {:>7} {:>7} {:>7} {:>7} {:>6}",
        "method", "MASE", "wQL", "WAPE", "sMAPE", "cov%"
    );
    let row = |out: &mut String, name: &str, m: &Metrics| {
        let mase = if m.mase.is_finite() {
            format!("{:.3}", m.mase)
        } else {
            "-".into()
        };
        let _ = writeln!(
            out,
            "{name:<22} {mase:>7} {:>7.3} {:>7.3} {:>7.2} {:>6.1}",
            m.wql,
            m.wape,
            m.smape,
            100.0 * m.coverage
        );
    };
    let n_base = methods.len();
    let scores: Vec<Metrics> = (0..bt.methods.len()).map(last_window).collect();
    for (m, name) in bt.methods.iter().enumerate() {
        row(&mut out, name, &scores[m]);
    }
    // Champions among the baselines, chosen on the earlier window only.
    let baseline_only = {
        let mut b2 = bt.clone();
        for cells in &mut b2.cells {
            cells.truncate(n_base);
        }
        b2.methods.truncate(n_base);
        b2.champions()
    };
    let mut acc = Accum::default();
    for a in &baseline_only.judged {
        acc.merge(a);
    }
    row(&mut out, "champion (baselines)", &acc.metrics());
    let _ = writeln!(
        out,
        "  (champion: each series' best baseline by MAE on the window before, {} .. {}; the model forecasts only \
         the scored window, so it cannot be chosen that way here)",
        period.step(bt.origins[0], 1),
        bt.origins[bt.origins.len() - 1]
    );
    // The goals, as ratios on the scored window.
    let by_mase = |m: usize| scores[m].mase;
    let best = (0..n_base)
        .filter(|m| scores[*m].mase.is_finite())
        .min_by(|a, b| scores[*a].mase.total_cmp(&scores[*b].mase));
    let best_wql = (0..n_base).min_by(|a, b| scores[*a].wql.total_cmp(&scores[*b].wql));
    if let Some(secs) = model_seconds {
        let model = n_base;
        let _ = writeln!(
            out,
            "\nthe model trained in {secs:.0} s on {} data up to {origin}",
            period.describe()
        );
        if by_mase(model).is_finite() && by_mase(0).is_finite() {
            let _ = writeln!(
                out,
                "MASE: the model {:.3} against {} {:.3}: {:+.1} % (goal: at least 25 % lower)",
                by_mase(model),
                bt.methods[0],
                by_mase(0),
                100.0 * (by_mase(model) / by_mase(0) - 1.0)
            );
        } else {
            let _ = writeln!(
                out,
                "MASE at lag {mase_lag}: undefined here (no series has {} of history before the origin); \
                 compare wQL, or pass --mase-lag 1",
                period.count(mase_lag + 1)
            );
        }
        if let Some(b) = best {
            let _ = writeln!(
                out,
                "MASE: the model against the best baseline {} {:.3}: {:+.1} % (goal: at least 5 % lower)",
                bt.methods[b],
                by_mase(b),
                100.0 * (by_mase(model) / by_mase(b) - 1.0)
            );
        }
        if let Some(b) = best_wql {
            let _ = writeln!(
                out,
                "wQL: the model {:.3} against the best baseline {} {:.3}: {:+.1} %",
                scores[model].wql,
                bt.methods[b],
                scores[b].wql,
                100.0 * (scores[model].wql / scores[b].wql - 1.0)
            );
        }
    }
    Ok(out)
}

/// The products file beside a sales file (or in a data folder), if any.
fn products_file(data: &Path) -> Option<PathBuf> {
    let dir = if data.is_dir() { data } else { data.parent()? };
    ["products.csv", "products.parquet"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

type ModelOut = (Vec<Option<crate::forecast::QuantileForecast>>, f64);

/// Train the model on data up to `origin` (the head on frozen embeddings,
/// the CPU default) and forecast every series from there.
fn train_and_forecast(
    ds: &Dataset,
    model_dir: &Path,
    origin: NaiveDate,
    horizon: usize,
    epochs: usize,
    tmp: &Path,
) -> Result<ModelOut> {
    use crate::engine::events::TrainJob;
    use crate::engine::run;
    use crate::engine::{DeviceChoice, TrainConfig};

    let job = TrainJob {
        dataset: std::sync::Arc::new(ds.clone()),
        sources: Default::default(),
        train_end: Some(origin),
        model_dir: model_dir.to_path_buf(),
        config: TrainConfig {
            epochs,
            horizon,
            ..TrainConfig::default()
        },
        out: tmp.join("run"),
        device: DeviceChoice::Auto,
        resume: false,
        text_cache: None,
    };
    eprint!("training");
    let summary = run::train_run(&job, &mut super::EpochDots)?;
    eprintln!(" {:.0} s", summary.train_seconds);
    let loaded = run::load_run(&job.out, None)?;
    let fc = run::forecast(&loaded, ds, Some(origin))?;
    let out = fc
        .into_iter()
        .map(|f| {
            Some(crate::forecast::QuantileForecast {
                p10: f.p10,
                p50: f.p50,
                p90: f.p90,
            })
        })
        .collect();
    Ok((out, summary.train_seconds))
}
