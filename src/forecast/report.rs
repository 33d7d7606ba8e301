//! Backtest results as tables for the terminal and CSV files for the
//! planner's spreadsheet. The TUI's forecast tab reads the same numbers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::domain::SeriesForecast;
use crate::forecast::backtest::{Backtest, Champions, SkuClass, fva};
use crate::forecast::metrics::{Accum, Metrics};
use crate::fsio::atomic_write;

fn f(v: f64, width: usize, prec: usize) -> String {
    if v.is_finite() {
        format!("{v:>width$.prec$}")
    } else {
        format!("{:>width$}", "-")
    }
}

fn metric_row(name: &str, m: &Metrics, reference: &Metrics, cpu: Option<f64>) -> String {
    format!(
        "{name:<10} {} {} {} {} {} {} {} {} {} {} {} {}",
        f(m.smape, 6, 2),
        f(m.mase, 5, 3),
        f(m.wape, 5, 3),
        f(m.bias, 6, 3),
        f(m.mse, 9, 2),
        f(m.pinball[0], 6, 3),
        f(m.pinball[1], 6, 3),
        f(m.pinball[2], 6, 3),
        f(m.wql, 5, 3),
        f(m.coverage * 100.0, 5, 1),
        f(fva(m, reference), 6, 1),
        cpu.map_or_else(|| format!("{:>7}", "-"), |c| f(c, 7, 2)),
    )
}

/// The tables `skuplan evaluate` prints.
pub fn render(bt: &Backtest, champions: &Champions) -> String {
    let mut out = String::new();
    let series_with_scores = bt
        .cells
        .iter()
        .filter(|per_method| per_method.iter().any(|w| w.iter().any(Option::is_some)))
        .count();
    let (first, last) = (bt.origins.first(), bt.origins.last());
    let _ = writeln!(
        out,
        "backtest: {} series ({} scored, {}), {} window{} of {}, origins {} .. {} every {}, {:.1} s",
        bt.series.len(),
        series_with_scores,
        bt.period.describe(),
        bt.origins.len(),
        if bt.origins.len() == 1 { "" } else { "s" },
        bt.period.count(bt.spec.horizon),
        first.map(ToString::to_string).unwrap_or_default(),
        last.map(ToString::to_string).unwrap_or_default(),
        bt.period.count(bt.spec.step),
        bt.wall_time.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "\n{:<10} {:>6} {:>5} {:>5} {:>6} {:>9} {:>6} {:>6} {:>6} {:>5} {:>5} {:>6} {:>7}",
        "method", "sMAPE", "MASE", "WAPE", "bias", "MSE", "pin10", "pin50", "pin90", "wQL", "cov%", "FVA%", "cpu s"
    );
    let reference = bt.total(0, None).metrics();
    for (m, name) in bt.methods.iter().enumerate() {
        let metrics = bt.total(m, None).metrics();
        let _ = writeln!(
            out,
            "{}",
            metric_row(name, &metrics, &reference, Some(bt.method_time[m].as_secs_f64()))
        );
    }
    if bt.origins.len() > 1 {
        let mut acc = Accum::default();
        for a in &champions.judged {
            acc.merge(a);
        }
        // The reference on the same (later) windows, for a fair FVA.
        let mut refacc = Accum::default();
        for s in 0..bt.series.len() {
            for c in bt.cells[s][0][1..].iter().flatten() {
                refacc.merge(c);
            }
        }
        let _ = writeln!(
            out,
            "{}",
            metric_row("champion", &acc.metrics(), &refacc.metrics(), None)
        );
        // The fair comparison: every single method on the same later windows.
        let later = |m: usize| {
            let mut a = Accum::default();
            for s in 0..bt.series.len() {
                for c in bt.cells[s][m][1..].iter().flatten() {
                    a.merge(c);
                }
            }
            a.metrics()
        };
        if let Some((m, best)) = (0..bt.methods.len())
            .map(|m| (m, later(m)))
            .min_by(|a, b| a.1.mae.total_cmp(&b.1.mae))
        {
            let _ = writeln!(
                out,
                "{}",
                metric_row(&format!("={}", bt.methods[m]), &best, &refacc.metrics(), None)
            );
        }
        let _ = writeln!(
            out,
            "  (champion: each series' best method by MAE on earlier windows, scored on windows 2..{}; \
             =method: the best single method on those same windows; FVA of both against {} there)",
            bt.origins.len(),
            bt.methods[0]
        );
    } else if bt.methods.iter().any(|m| m == crate::domain::MODEL_METHOD) {
        // A run is scored only after its train end: one window, whatever
        // --windows says.
        let _ = writeln!(
            out,
            "  (one window, the days after the run's train end, the only days it can be scored on: champions \
             are chosen there but cannot be judged on a later window)"
        );
    } else {
        let _ = writeln!(
            out,
            "  (one window: champions are chosen but cannot be judged; use --windows 2 or more)"
        );
    }
    let _ = writeln!(
        out,
        "  FVA: share of {}'s mean absolute error removed. cov%: actuals inside p10..p90 (80 % is right).\n  \
         MASE: scaled by each series' mean absolute difference at lag {} ({} back) in its history.",
        bt.methods[0],
        bt.spec.mase_lag,
        bt.period.count(bt.spec.mase_lag)
    );

    // MASE per class.
    let counts: Vec<usize> = SkuClass::ALL
        .iter()
        .map(|c| bt.series.iter().filter(|s| s.class == *c).count())
        .collect();
    let _ = write!(out, "\nMASE by class   ");
    for (c, n) in SkuClass::ALL.iter().zip(&counts) {
        let _ = write!(out, " {:>17}", format!("{} ({n})", c.name()));
    }
    out.push('\n');
    for (m, name) in bt.methods.iter().enumerate() {
        let _ = write!(out, "{name:<16}");
        for c in SkuClass::ALL {
            let _ = write!(out, " {}", f(bt.total(m, Some(c)).metrics().mase, 17, 3));
        }
        out.push('\n');
    }
    let _ = write!(out, "\nchampions        ");
    for (m, name) in bt.methods.iter().enumerate() {
        let n = champions.final_choice.iter().filter(|c| **c == Some(m)).count();
        if n > 0 {
            let _ = write!(out, " {name} {n}");
        }
    }
    // A series with no score in any window takes the overall best: say
    // so, rather than count it as won.
    let unscored = bt.series.len() - series_with_scores;
    if unscored > 0 {
        let _ = write!(
            out,
            " ({unscored} of them without a score of their own, given the best method overall)"
        );
    }
    out.push('\n');
    if !bt.failures.is_empty() {
        let _ = writeln!(out, "\n{} forecasts failed and are left out, e.g.:", bt.failures.len());
        for (m, s, w, e) in bt.failures.iter().take(5) {
            let info = &bt.series[*s];
            let _ = writeln!(
                out,
                "  {} on {} / {} from {}: {e}",
                bt.methods[*m], info.sku, info.warehouse, bt.origins[*w]
            );
        }
    }
    out
}

#[derive(Serialize)]
struct SeriesRow<'a> {
    sku: &'a str,
    warehouse: &'a str,
    class: &'static str,
    method: &'a str,
    champion: bool,
    points: usize,
    // Empty where a score cannot be had (no demand to scale WAPE by, a
    // series that never varies at the MASE lag): `NaN` was written.
    smape: Option<f64>,
    mase: Option<f64>,
    wape: Option<f64>,
    bias: Option<f64>,
    mse: Option<f64>,
    pinball_p10: Option<f64>,
    pinball_p50: Option<f64>,
    pinball_p90: Option<f64>,
    wql: Option<f64>,
    coverage: Option<f64>,
}

/// A score, or nothing where it is not a number.
fn score(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

#[derive(Serialize)]
struct ForecastRow<'a> {
    sku: &'a str,
    warehouse: &'a str,
    date: String,
    p10: f64,
    p50: f64,
    p90: f64,
    model: &'a str,
}

fn csv_bytes<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Write `metrics_by_series.csv` (one row per series and method) and, when
/// given, `champion_forecast.csv`, atomically. Returns the files written.
pub fn write_outputs(
    dir: &Path,
    bt: &Backtest,
    champions: &Champions,
    forecasts: &[SeriesForecast],
) -> Result<Vec<PathBuf>> {
    let mut rows = Vec::new();
    for (s, info) in bt.series.iter().enumerate() {
        for (m, name) in bt.methods.iter().enumerate() {
            let acc = bt.series_total(s, m);
            if acc.points == 0 {
                continue;
            }
            let x = acc.metrics();
            rows.push(SeriesRow {
                sku: &info.sku,
                warehouse: &info.warehouse,
                class: info.class.name(),
                method: name,
                champion: champions.final_choice[s] == Some(m),
                points: x.points,
                smape: score(x.smape),
                mase: score(x.mase),
                wape: score(x.wape),
                bias: score(x.bias),
                mse: score(x.mse),
                pinball_p10: score(x.pinball[0]),
                pinball_p50: score(x.pinball[1]),
                pinball_p90: score(x.pinball[2]),
                wql: score(x.wql),
                coverage: score(x.coverage),
            });
        }
    }
    let mut written = Vec::new();
    let p = dir.join("metrics_by_series.csv");
    atomic_write(&p, &csv_bytes(rows)?)?;
    written.push(p);
    if !forecasts.is_empty() {
        let rows = forecasts.iter().flat_map(|fc| {
            (0..fc.p50.len()).map(move |i| ForecastRow {
                sku: &fc.sku,
                warehouse: &fc.warehouse,
                date: fc.date_at(i).to_string(),
                p10: fc.p10[i],
                p50: fc.p50[i],
                p90: fc.p90[i],
                model: &fc.model,
            })
        });
        let p = dir.join("champion_forecast.csv");
        atomic_write(&p, &csv_bytes(rows)?)?;
        written.push(p);
    }
    Ok(written)
}
