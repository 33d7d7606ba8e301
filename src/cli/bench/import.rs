//! `skuplan bench import`: importing a large sales file against polars' own typed read of it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::data::{ImportOptions, import_paths};
use crate::domain::PeriodKind;

/// Write a sales CSV of about `rows` rows: 5 warehouses, as many SKUs and
/// days as it takes, quantities with zeros and a weekly rhythm. Weekly: as
/// many Friday-stamped weeks as a year has days, so the file has as many
/// rows per SKU as the daily one.
pub fn write_sales_csv(path: &Path, rows: usize, period: PeriodKind) -> Result<()> {
    let warehouses = 5usize;
    let days = 365usize;
    let skus = rows.div_ceil(warehouses * days).max(1);
    let (start, step) = match period {
        PeriodKind::Week => (chrono::NaiveDate::from_ymd_opt(2010, 1, 1).context("date")?, 7),
        _ => (chrono::NaiveDate::from_ymd_opt(2024, 1, 1).context("date")?, 1),
    };
    let dates: Vec<String> = (0..days)
        .map(|d| (start + chrono::Days::new((d * step) as u64)).to_string())
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
pub fn import_bench(rows: usize, repeat: usize, period: PeriodKind) -> Result<()> {
    if period == PeriodKind::Month {
        anyhow::bail!("bench import writes daily or weekly files");
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("sales.csv");
    eprintln!("writing {rows} {} rows to {} ...", period.name(), path.display());
    write_sales_csv(&path, rows, period)?;
    let size = std::fs::metadata(&path)?.len();
    // Warm the page cache so both sides read from memory.
    let _ = std::fs::read(&path)?;

    let raw = super::median_time(repeat, || Ok(std::fs::read(&path)?))?;
    // A second reference: polars' own CSV reader with types inferred, no
    // checks and no aggregation.
    let polars_read = super::median_time(repeat, || {
        use polars::prelude::*;
        let p = path.to_string_lossy().to_string();
        Ok(LazyCsvReader::new(PlRefPath::from(p.as_str())).finish()?.collect()?)
    })?;
    let opts = ImportOptions::default();
    let rss_before = super::current_rss().unwrap_or(0);
    let reset = super::reset_peak_rss();
    let mut series = 0;
    let import = super::median_time(repeat, || {
        let imported = import_paths(std::slice::from_ref(&path), &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
        series = imported.dataset.demand.len();
        Ok(imported)
    })?;
    let peak = super::peak_rss().unwrap_or(0);

    println!(
        "bench import: {rows} rows by {}, {:.1} MB, {series} series, median of {repeat}",
        period.name(),
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
        format!("import + {} series", period.name()),
        import.as_secs_f64() * 1e3,
        import.as_secs_f64() / raw.as_secs_f64().max(1e-9)
    );
    println!(
        "import / polars typed read: {:.2}x (goal: at most 3x)",
        import.as_secs_f64() / polars_read.as_secs_f64().max(1e-9)
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
