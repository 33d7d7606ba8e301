//! A demand file's rows, once parsed and checked, grouped into one list of
//! periods per SKU and warehouse (the series are built from these lists
//! when every file is read).

use chrono::Datelike;
use polars::prelude::*;

use crate::data::detect::days_to_date;
use crate::data::mapping::Field;
use crate::data::problems::Problems;
use crate::data::read::Table;
use crate::domain::Period;

/// One period's row of a demand series, before series are built.
#[derive(Debug, Clone, Copy)]
pub(super) struct DayRow {
    /// The period's stamp, in days since 1970-01-01.
    pub day: i32,
    pub qty: f64,
    pub promo: bool,
    /// Index into `Acc::files` and the row a planner sees, for messages.
    pub file: u32,
    pub row: u32,
}

/// The stamp of the period holding `day` (days since 1970-01-01).
fn stamp_of(period: Period, day: i32) -> i32 {
    match period {
        Period::Day => day,
        Period::Week(w) => {
            // 1970-01-01 was a Thursday: weekday 3 counted from Monday.
            let weekday = (day + 3).rem_euclid(7);
            day - (weekday - w.num_days_from_monday() as i32).rem_euclid(7)
        }
        Period::Month(_) => days_to_date(day)
            .map(|d| period.floor(d))
            .map_or(day, |d| d.num_days_from_ce() - 719_163),
    }
}

/// How a file's rows count: in `period`, summed into it (`sums`) or one
/// row per period, read from file number `file` of the import.
pub(super) struct RowsOf<'a> {
    pub t: &'a Table,
    pub period: Period,
    pub sums: bool,
    pub file: u32,
}

/// A series' SKU, warehouse and rows.
pub(super) type SeriesRows<'d> = (&'d str, &'d str, Vec<DayRow>);

/// Marks a row that is in no series (a date off the file's period).
const STRAY: u32 = u32::MAX;

/// The rows of `rows` (columns `sku`, `wh`, `date`, `qty`, the row index
/// and `promo` where the file has one; no nulls but in `promo`) grouped by
/// series, in the order each series first appears. A date that is not the
/// stamp of its period, in a file not summed into periods, is an error
/// and in no series; the count of those is returned too.
///
/// Two passes: the first finds each row's series and counts them, so the
/// second fills lists of the right size. Files in a column per date (M5's
/// 59 million cells) come date by date, every row another series, so a
/// list grown by doubling would copy and hold up to twice the rows.
pub(super) fn group_rows<'d>(
    rows: &'d DataFrame,
    of: &RowsOf<'_>,
    row_col: &str,
    problems: &mut Problems,
) -> PolarsResult<(Vec<SeriesRows<'d>>, usize)> {
    let skus = rows.column("sku")?.str()?;
    let whs = rows.column("wh")?.str()?;
    let dates = rows.column("date")?.date()?.physical();
    let qtys = rows.column("qty")?.f64()?;
    let index = rows.column(row_col)?.idx()?;
    let promos = match rows.column("promo") {
        Ok(c) => Some(c.bool()?),
        Err(_) => None,
    };
    let t = of.t;
    let mut strays = 0usize;
    // Series are found by borrowed keys: a million rows allocate nothing.
    let mut found: PlHashMap<(&str, &str), u32> = PlHashMap::new();
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    let mut ids: Vec<u32> = Vec::with_capacity(rows.height());
    let mut last: Option<u32> = None;
    for (((sku, wh), day), row) in skus.iter().zip(whs.iter()).zip(dates.iter()).zip(index.iter()) {
        let (Some(sku), Some(wh), Some(day)) = (sku, wh, day) else {
            ids.push(STRAY);
            continue;
        };
        if !of.sums && stamp_of(of.period, day) != day {
            strays += 1;
            ids.push(STRAY);
            let shown = days_to_date(day).map(|d| d.to_string());
            problems.error(
                &t.label,
                row.map(|r| t.row(r as usize)),
                t.col(Field::Date),
                shown.as_deref(),
                format!(
                    "expected {}: the file is {}",
                    match of.period {
                        Period::Week(w) => format!("a {}", crate::domain::weekday_name(w)),
                        Period::Month(crate::domain::MonthStamp::First) => "the first day of a month".into(),
                        Period::Month(crate::domain::MonthStamp::Last) => "the last day of a month".into(),
                        Period::Day => "a date".into(),
                    },
                    of.period.describe()
                ),
            );
            continue;
        }
        // Files are mostly grouped by SKU and warehouse: the row before's
        // series saves a hash lookup.
        let i = match last {
            Some(i) if keys[i as usize] == (sku, wh) => i,
            _ => {
                let n = keys.len() as u32;
                let i = *found.entry((sku, wh)).or_insert(n);
                if i == n {
                    keys.push((sku, wh));
                    counts.push(0);
                }
                i
            }
        };
        last = Some(i);
        counts[i as usize] += 1;
        ids.push(i);
    }
    drop(found);
    let mut series: Vec<SeriesRows<'_>> = keys
        .into_iter()
        .zip(&counts)
        .map(|((sku, wh), n)| (sku, wh, Vec::with_capacity(*n as usize)))
        .collect();
    let mut promo_iter = promos.map(|p| p.iter());
    for (((id, day), qty), row) in ids.into_iter().zip(dates.iter()).zip(qtys.iter()).zip(index.iter()) {
        let promo = promo_iter.as_mut().and_then(Iterator::next).flatten().unwrap_or(false);
        let (Some(list), Some(day), Some(qty), Some(row)) = (series.get_mut(id as usize), day, qty, row) else {
            continue;
        };
        list.2.push(DayRow {
            day: stamp_of(of.period, day),
            qty,
            promo,
            file: of.file,
            row: t.row(row as usize) as u32,
        });
    }
    Ok((series, strays))
}
