//! Tables with one column per date (a planner's pivot: SKUs down, days,
//! weeks or months across), turned into one row per SKU and date before
//! they are read like any sales file. A blank cell gives no row: inside a
//! series' history it is a period without sales (missing periods are), and
//! before its first value it is not history at all (a product launched in
//! the pivot's tenth week has nine weeks fewer, not nine weeks of zeros). A
//! cell that is not a number is an error naming its row and date column. A
//! total row is left out.

use std::collections::HashMap;

use polars::prelude::*;

use crate::data::detect::{detect_date_format, parse_with};
use crate::data::mapping::{ColumnMap, Field, FileKind, normalize, resolve};
use crate::data::numbers;
use crate::data::problems::Problems;
use crate::data::read::TextFrame;

/// Columns named by dates a table needs before it is read as one column
/// per date.
const MIN_DATE_COLUMNS: usize = 3;

/// Names of the columns a wide table becomes.
pub(super) const DATE: &str = "date";
pub(super) const QUANTITY: &str = "quantity";

/// Row labels of a pivot's totals.
fn is_total(s: &str) -> bool {
    matches!(
        s.trim().to_lowercase().as_str(),
        "total" | "grand total" | "totals" | "sum" | "all"
    )
}

/// The indices of the columns named by dates of one format, when there are
/// enough of them to call the table wide.
fn date_columns(headers: &[String]) -> Option<Vec<usize>> {
    let dated: Vec<&str> = headers
        .iter()
        .map(|h| h.trim())
        .filter(|h| detect_date_format(&[h], None).is_ok())
        .collect();
    if dated.len() < MIN_DATE_COLUMNS {
        return None;
    }
    let (fmt, _) = detect_date_format(&dated, None).ok()?;
    let cols: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| parse_with(h.trim(), &fmt).is_some())
        .map(|(i, _)| i)
        .collect();
    (cols.len() >= MIN_DATE_COLUMNS).then_some(cols)
}

/// The dates of numbered days, from a calendar table with a `d` and a
/// `date` column (M5's `calendar.csv`: `d_1` is 2011-01-29).
#[derive(Debug, Default)]
pub(super) struct DayNames {
    dates: HashMap<String, String>,
    /// Days given two different dates: (day, one date, the other).
    twice: Vec<(String, String, String)>,
}

impl DayNames {
    /// Learn the numbered days of a table that has them.
    pub(super) fn learn(&mut self, df: &DataFrame) {
        let find = |name: &str| {
            df.get_column_names()
                .into_iter()
                .find(|h| normalize(h) == name)
                .and_then(|h| df.column(h).ok())
                .and_then(|c| c.str().ok().cloned())
        };
        let (Some(d), Some(date)) = (find("d"), find(DATE)) else {
            return;
        };
        for (k, v) in d.iter().zip(date.iter()) {
            let (Some(k), Some(v)) = (k.map(str::trim), v.map(str::trim)) else {
                continue;
            };
            if !is_day_number(k) || v.is_empty() {
                continue;
            }
            match self.dates.get(k) {
                Some(was) if was != v => self.twice.push((k.to_string(), was.clone(), v.to_string())),
                Some(_) => {}
                None => {
                    self.dates.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
}

/// `d_1`, `d_1941`: a day by its number, as M5 names its columns.
fn is_day_number(h: &str) -> bool {
    h.strip_prefix("d_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The headers with numbered days named by their dates, when a calendar
/// gave them; an error naming a day no calendar has.
fn name_days(headers: &[String], days: &DayNames) -> Result<Option<Vec<String>>, String> {
    let numbered: Vec<&String> = headers.iter().filter(|h| is_day_number(h.trim())).collect();
    if numbered.len() < MIN_DATE_COLUMNS {
        return Ok(None);
    }
    if days.dates.is_empty() {
        return Err(format!(
            "columns {}, {}, ... number days; expected a calendar file with columns d and date in the same import \
             (as M5's calendar.csv) to date them",
            numbered[0], numbered[1]
        ));
    }
    if let Some(missing) = numbered.iter().find(|h| !days.dates.contains_key(h.trim())) {
        return Err(format!(
            "column {missing} is a day the calendar does not date; expected it in the calendar's d column, with a date"
        ));
    }
    if let Some((day, a, b)) = days
        .twice
        .iter()
        .find(|(d, _, _)| numbered.iter().any(|h| h.trim() == d))
    {
        return Err(format!(
            "day {day} is dated both {a} and {b} by the calendar; expected one date for each day"
        ));
    }
    let named: Vec<String> = headers
        .iter()
        .map(|h| days.dates.get(h.trim()).cloned().unwrap_or_else(|| h.clone()))
        .collect();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (h, n) in headers.iter().zip(&named).filter(|(h, _)| is_day_number(h.trim())) {
        if let Some(first) = seen.insert(n.as_str(), h.as_str()) {
            return Err(format!(
                "days {first} and {h} are both dated {n} by the calendar; expected one day for each date"
            ));
        }
    }
    Ok(Some(named))
}

/// Whether a table with a column per date is a pivot of sales: not named
/// for another kind, with a SKU and nothing a product, stock, order or
/// fleet row holds among its other columns (a products file with a column
/// per month of forecast, or stock by month, is not sales).
fn holds_sales(ids: &[String], named: Option<FileKind>, map: &ColumnMap) -> bool {
    if named.is_some_and(|k| k != FileKind::Sales) {
        return false;
    }
    let has = |kind: FileKind, field: Field| resolve(kind, ids, map).contains_key(&field);
    let other = [
        (FileKind::Inventory, Field::OnHand),
        (FileKind::Inventory, Field::OnOrder),
        (FileKind::Products, Field::UnitCost),
        (FileKind::Products, Field::PackSize),
        (FileKind::Products, Field::Moq),
        (FileKind::Products, Field::LeadTime),
        (FileKind::Products, Field::Supplier),
        (FileKind::Products, Field::Brand),
        (FileKind::Products, Field::LaunchDate),
        (FileKind::Fleet, Field::Capacity),
        (FileKind::Orders, Field::Lat),
        (FileKind::Orders, Field::X),
    ];
    has(FileKind::Sales, Field::Sku) && !other.iter().any(|(k, f)| has(*k, *f))
}

/// A column the CSV reader renamed because its name came twice
/// (`2024-01-08_duplicated_0`, `2024-01-08.1`): the name it had.
fn renamed_twice(h: &str) -> Option<&str> {
    h.rsplit_once("_duplicated_")
        .or_else(|| h.rsplit_once('.'))
        .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map(|(base, _)| base)
}

/// The table in long form (its other columns, then `date` and `quantity`),
/// and `true`, when it is a pivot of sales with a column per date; as it
/// is, and `false`, otherwise. `named`: the kind its file or sheet is named
/// for. `Err` after reporting its problems.
pub(super) fn lengthen(
    mut frame: TextFrame,
    named: Option<FileKind>,
    map: &ColumnMap,
    days: &DayNames,
    label: &str,
    problems: &mut Problems,
) -> Result<(TextFrame, bool), ()> {
    let mut headers: Vec<String> = frame.df.get_column_names().iter().map(|s| s.to_string()).collect();
    let header_row = (frame.row_base > 1).then(|| frame.row_base - 1);
    // Numbered days, dated by a calendar.
    match name_days(&headers, days) {
        Ok(None) => {}
        Ok(Some(named)) => {
            if let Err(e) = frame.df.set_column_names(&named) {
                problems.error(label, None, None, None, format!("could not be processed: {e}"));
                return Err(());
            }
            headers = named;
        }
        Err(message) => {
            problems.error(label, header_row, None, None, message);
            return Err(());
        }
    }
    let Some(dates) = date_columns(&headers) else {
        return Ok((frame, false));
    };
    let ids: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| !dates.contains(i))
        .map(|(_, h)| h.clone())
        .collect();
    if ids.is_empty() {
        problems.error(
            label,
            header_row,
            None,
            None,
            "every column is named by a date; expected a column that names the SKU beside the columns of dates",
        );
        return Err(());
    }
    if !holds_sales(&ids, named, map) {
        return Ok((frame, false));
    }
    if let Some(clash) = ids.iter().find(|h| {
        let n = normalize(h);
        n == DATE || n == QUANTITY
    }) {
        problems.error(
            label,
            header_row,
            Some(clash),
            None,
            format!("the table has a column per date, and a column '{clash}' too; expected one or the other"),
        );
        return Err(());
    }
    // A date twice: which column holds its sales would be a guess.
    let named_dates: Vec<&str> = dates.iter().map(|j| headers[*j].trim()).collect();
    if let Some((h, base)) = ids.iter().find_map(|h| {
        renamed_twice(h)
            .filter(|b| named_dates.contains(&b.trim()))
            .map(|b| (h, b))
    }) {
        problems.error(
            label,
            header_row,
            Some(h),
            None,
            format!("two columns are named {base}; expected one column per date"),
        );
        return Err(());
    }
    // A formula's error in a date's cell is no number of sales.
    let mut bad = false;
    for d in &frame.deferred {
        if d.column.as_ref().is_none_or(|c| named_dates.contains(&c.trim())) {
            problems.error(label, d.row, d.column.as_deref(), d.value.as_deref(), d.message.clone());
            bad = true;
        }
    }
    let fail = |e: PolarsError, problems: &mut Problems| {
        problems.error(label, None, None, None, format!("could not be processed: {e}"));
    };
    let df = &frame.df;
    let n = df.height();
    // The row a planner sees of each row of the table.
    let source = |i: usize| frame.rows.as_ref().map_or(frame.row_base + i, |r| r[i]);
    // Total rows: left out, with a warning naming them.
    let mut keep = vec![true; n];
    for h in &ids {
        let Ok(ca) = df.column(h.as_str()).and_then(|c| c.str().cloned()) else {
            continue;
        };
        for (i, v) in ca.iter().enumerate() {
            if v.is_some_and(is_total) && keep[i] {
                keep[i] = false;
                problems.warning(
                    label,
                    Some(source(i)),
                    Some(h),
                    v,
                    "a total row: left out (each SKU's own rows are read)",
                );
            }
        }
    }
    let totals = keep.contains(&false);
    // Every value must be a number (a blank is no sales); a date's column
    // with nothing in it (a week not yet in the data) is left out.
    let mut values: Vec<(usize, StringChunked)> = Vec::with_capacity(dates.len());
    for &j in &dates {
        let name = &headers[j];
        let Ok(ca) = df.column(name).and_then(|c| c.str().cloned()) else {
            continue;
        };
        // The total rows' values are not read, nor judged.
        let ca: StringChunked = if totals {
            ca.iter()
                .zip(&keep)
                .map(|(v, k)| v.filter(|_| *k))
                .collect::<StringChunked>()
                .with_name(ca.name().clone())
        } else {
            ca
        };
        if ca.iter().flatten().all(|s| s.trim().is_empty()) {
            problems.warning(
                label,
                header_row,
                Some(name),
                None,
                "no value in this date's column: left out (a period not in the data yet)",
            );
            continue;
        }
        let ca = match numbers::reading(&ca, frame.decimal) {
            numbers::Reading::AsIs => ca,
            numbers::Reading::Rewritten(fixed) => fixed,
            numbers::Reading::Ambiguous(i, s) => {
                bad = true;
                let message = numbers::ambiguous_message(&s);
                problems.error(label, Some(source(i)), Some(name), None, message);
                continue;
            }
        };
        for (i, v) in ca.iter().enumerate() {
            let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            if s.parse::<f64>().ok().is_none_or(|x| !x.is_finite()) {
                bad = true;
                problems.error(
                    label,
                    Some(source(i)),
                    Some(name),
                    Some(s),
                    format!(
                        "expected a number (the units sold on {}; blank for none){}",
                        name.trim(),
                        numbers::hint(s)
                    ),
                );
            }
        }
        // A column already as wanted (every cell a trimmed value, as in M5)
        // is shared, not copied: 59 million cells are a gigabyte of text.
        let clean = ca
            .iter()
            .all(|v| v.is_some_and(|s| !s.is_empty() && s.trim().len() == s.len()));
        let given: StringChunked = if clean {
            ca
        } else {
            ca.iter().map(|v| v.map(str::trim).filter(|s| !s.is_empty())).collect()
        };
        values.push((j, given.with_name(QUANTITY.into())));
    }
    if bad {
        return Err(());
    }
    // One block of rows per date column, each the table's rows in order.
    let id_columns: Vec<Column> = match ids.iter().map(|h| df.column(h.as_str()).cloned()).collect() {
        Ok(c) => c,
        Err(e) => {
            fail(e, problems);
            return Err(());
        }
    };
    // Which long rows are kept: not a total row's, not a blank cell's.
    let dropped = keep.contains(&false) || values.iter().any(|(_, q)| q.null_count() > 0);
    let mut mask: Vec<bool> = Vec::new();
    let mut long: Option<DataFrame> = None;
    for (j, qty) in values {
        if dropped {
            mask.extend(qty.iter().zip(&keep).map(|(v, k)| *k && v.is_some()));
        }
        let mut cols = id_columns.clone();
        cols.push(StringChunked::full(DATE.into(), headers[j].trim(), n).into_column());
        cols.push(qty.into_column());
        let block = DataFrame::new_infer_height(cols);
        let joined = block.and_then(|b| match long.as_mut() {
            Some(l) => l.vstack_mut_owned(b).map(|_| ()),
            None => {
                long = Some(b);
                Ok(())
            }
        });
        if let Err(e) = joined {
            fail(e, problems);
            return Err(());
        }
    }
    let Some(long) = long else {
        problems.error(
            label,
            header_row,
            None,
            None,
            "no date's column holds a value; expected sales under the dates",
        );
        return Err(());
    };
    // Left in one chunk per date: the id columns' chunks are shared, not
    // copied (M5's 59 million rows would need gigabytes more). The rows
    // map back to the table's: through each block's rows in turn when all
    // are kept, else one by one.
    let rows: Vec<usize> = if mask.is_empty() {
        (0..n).map(source).collect()
    } else {
        mask.iter()
            .enumerate()
            .filter(|(_, k)| **k)
            .map(|(i, _)| source(i % n))
            .collect()
    };
    let long = if mask.is_empty() {
        long
    } else {
        match long.filter(&mask.into_iter().collect::<BooleanChunked>()) {
            Ok(l) => l,
            Err(e) => {
                fail(e, problems);
                return Err(());
            }
        }
    };
    if long.height() == 0 {
        problems.error(
            label,
            header_row,
            None,
            None,
            "no row holds a value under the dates; expected sales",
        );
        return Err(());
    }
    // The deferred problems left are of columns the long form keeps.
    let deferred = frame
        .deferred
        .iter()
        .filter(|d| d.column.as_ref().is_some_and(|c| !named_dates.contains(&c.trim())))
        .cloned()
        .collect();
    Ok((
        TextFrame {
            df: long,
            row_base: frame.row_base,
            decimal: frame.decimal,
            rows: Some(rows),
            table_rows: Some(keep.iter().filter(|k| **k).count()),
            deferred,
            notes: frame.notes.clone(),
        },
        true,
    ))
}
