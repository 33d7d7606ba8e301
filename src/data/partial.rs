//! Weeks and months a sales file covers only in part: a file that starts
//! on a Wednesday, or ends mid-month, summed into periods, would show its
//! first or last period as a slump.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::data::detect::days_to_date;
use crate::data::mapping::Field;
use crate::data::problems::Problems;
use crate::data::read::Table;
use crate::domain::Period;

/// Leave out the rows of a first or last period the file's dates do not
/// cover whole (a file that starts on a Wednesday, or ends mid-month), and
/// say so. `days` are the file's distinct dates, sorted. Also, when its
/// last period was left out, the warehouses that sold in it with the
/// file's last day (see `Dataset::sold_until`).
pub(super) fn leave_out_partial_periods(
    t: &Table,
    parsed: DataFrame,
    period: Period,
    days: &[i32],
    problems: &mut Problems,
) -> PolarsResult<(DataFrame, Vec<(String, NaiveDate)>)> {
    let (Some(first), Some(last)) = (
        days.first().and_then(|d| days_to_date(*d)),
        days.last().and_then(|d| days_to_date(*d)),
    ) else {
        return Ok((parsed, Vec::new()));
    };
    let to_day = |d: NaiveDate| d.num_days_from_ce() - 719_163;
    // Summed periods are stamped on their first day.
    let first_start = period.floor(first);
    let last_start = period.floor(last);
    let last_end = period.step(last_start, 1).pred_opt().unwrap_or(last);
    let mut lo = to_day(first_start);
    let mut hi = to_day(last_end);
    let mut dropped = Vec::new();
    if first != first_start {
        lo = to_day(period.step(first_start, 1));
        dropped.push(format!(
            "the first {} ({first_start}: the data starts {first})",
            period.name()
        ));
    }
    let mut tail = false;
    if last != last_end {
        hi = to_day(last_start) - 1;
        tail = true;
        dropped.push(format!(
            "the last {} ({last_start}: the data ends {last})",
            period.name()
        ));
    }
    if dropped.is_empty() {
        return Ok((parsed, Vec::new()));
    }
    let day = col("date").cast(DataType::Int32);
    // The warehouses whose stock went to the last period's sales (another
    // warehouse's file may end on a whole period).
    let mut sold_until = Vec::new();
    if tail {
        let sold = parsed
            .clone()
            .lazy()
            .filter(day.clone().gt(lit(hi)))
            .select([col("wh").unique()])
            .collect()?;
        let whs = sold.column("wh")?.str()?;
        for k in 0..sold.height() {
            if let Some(wh) = whs.get(k) {
                sold_until.push((wh.to_string(), last));
            }
        }
    }
    let keep = day.clone().gt_eq(lit(lo)).and(day.lt_eq(lit(hi)));
    let kept = parsed.clone().lazy().filter(keep).collect()?;
    let rows = parsed.height() - kept.height();
    problems.warning(
        &t.label,
        None,
        t.col(Field::Date),
        None,
        format!(
            "{} covered only in part, so it would read as a slump; its {rows} row(s) are left out",
            dropped.join(" and ")
        ),
    );
    Ok((kept, sold_until))
}
