//! Workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods): each visible sheet with
//! data is a table of its own, read as text like a CSV file, its rows
//! numbered as the spreadsheet numbers them. Dates stored as dates are
//! written as ISO text (with the time where a column holds one), times of
//! day as `08:30:00`, numbers in plain digits. Only the cells used are
//! read (a stray value far down or right costs one cell, not a sheet's
//! worth), and rows and columns with nothing in them are not kept.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use calamine::{Data, Reader, SheetVisible, Sheets};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use polars::prelude::*;

use crate::data::numbers::Decimal;
use crate::data::read::{Deferred, ReadError, TextFrame};

/// One sheet of a workbook, read or not.
pub(super) struct Sheet {
    pub(super) name: String,
    /// Hidden in the workbook: left out, with a warning.
    pub(super) hidden: bool,
    pub(super) frame: Result<TextFrame, ReadError>,
}

/// A used cell: (row, column) from the sheet's top left, and its value.
type Used = (u32, u32, Data);

/// The used cells of a sheet, streamed where the format allows it.
fn used_cells<RS: std::io::Read + std::io::Seek>(book: &mut Sheets<RS>, name: &str) -> Result<Vec<Used>, String> {
    fn keep(v: &Data) -> bool {
        !matches!(v, Data::Empty) && !matches!(v, Data::String(s) if s.trim().is_empty())
    }
    let mut out = Vec::new();
    // The two streaming readers share their methods but no trait.
    macro_rules! stream {
        ($reader:expr) => {{
            let mut cells = $reader.map_err(|e| e.to_string())?;
            while let Some(c) = cells.next_cell().map_err(|e| e.to_string())? {
                let (r, col) = c.get_position();
                let v = Data::from(c.get_value().clone());
                if keep(&v) {
                    out.push((r, col, v));
                }
            }
        }};
    }
    match book {
        Sheets::Xlsx(x) => stream!(x.worksheet_cells_reader(name)),
        Sheets::Xlsb(x) => stream!(x.worksheet_cells_reader(name)),
        // These formats hold the whole sheet in memory anyway.
        other => {
            let range = other.worksheet_range(name).map_err(|e| e.to_string())?;
            let (top, left) = range.start().unwrap_or((0, 0));
            for (r, c, v) in range.used_cells() {
                if keep(v) {
                    out.push((top + r as u32, left + c as u32, v.clone()));
                }
            }
        }
    }
    out.sort_by_key(|(r, c, _)| (*r, *c));
    Ok(out)
}

/// Every sheet of the workbook at `path` that holds a cell, in the
/// workbook's order; an error when the file cannot be opened or no sheet
/// holds anything.
pub(super) fn read_workbook(path: &Path) -> Result<Vec<Sheet>, ReadError> {
    let mut book = calamine::open_workbook_auto(path).map_err(|e| format!("is not a readable workbook: {e}"))?;
    let sheets: Vec<(String, bool)> = book
        .sheets_metadata()
        .iter()
        .map(|m| (m.name.clone(), m.visible != SheetVisible::Visible))
        .collect();
    let mut out = Vec::new();
    for (name, hidden) in sheets {
        match used_cells(&mut book, &name) {
            Ok(cells) if cells.is_empty() => {}
            Ok(cells) => out.push(Sheet {
                frame: sheet_frame(&cells),
                hidden,
                name,
            }),
            Err(e) => out.push(Sheet {
                frame: Err(format!("cannot be read: {e}").into()),
                hidden,
                name,
            }),
        }
    }
    if out.is_empty() {
        return Err("has no sheet with data; expected a header row and data".into());
    }
    Ok(out)
}

/// A spreadsheet's name for a column: A, B, ..., Z, AA, ...
fn column_letters(mut i: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.iter().rev().map(|c| char::from(*c)).collect()
}

/// The date and time in a cell holding one (a date cell, or ISO text that
/// the format stored as a date).
fn when(cell: &Data) -> Option<NaiveDateTime> {
    match cell {
        Data::DateTime(d) if !d.is_duration() => d.as_datetime(),
        Data::DateTimeIso(s) => ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .or_else(|| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .map(|d| d.and_time(NaiveTime::MIN))
            }),
        _ => None,
    }
}

/// What a date or time cell holds, read once.
enum Stamp {
    /// A time of day without a date: a spreadsheet stores it on its day
    /// zero (1899-12-30 or -31), or as ISO text of a time.
    Time(NaiveTime),
    At(NaiveDateTime),
}

fn stamp(cell: &Data) -> Option<Stamp> {
    if let Data::DateTimeIso(s) = cell
        && let Ok(t) = NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
    {
        return Some(Stamp::Time(t));
    }
    let t = when(cell)?;
    let day_zero = matches!(cell, Data::DateTime(_)) && t.date().year() < 1900;
    Some(if day_zero { Stamp::Time(t.time()) } else { Stamp::At(t) })
}

/// `PT08H30M00S` (an ODS time or duration) as `08:30:00`.
fn iso_duration(s: &str) -> Option<String> {
    let rest = s.strip_prefix("PT")?;
    let (mut h, mut m, mut sec, mut num) = (0.0, 0.0, 0.0, String::new());
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let v: f64 = num.parse().ok()?;
                num.clear();
                match c {
                    'H' => h = v,
                    'M' => m = v,
                    _ => sec = v,
                }
            }
            _ => return None,
        }
    }
    Some(format!("{:02}:{:02}:{:02}", h as u64, m as u64, sec as u64))
}

/// A cell as text; `None` when empty. `timed`: the column holds a time of
/// day somewhere, so its dates are written with their time.
fn cell_text(cell: &Data, timed: bool) -> Option<String> {
    let text = match cell {
        Data::Empty | Data::Error(_) => return None,
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Rust writes 6.0 as "6" and 2.55 as "2.55".
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DurationIso(s) => iso_duration(s).unwrap_or_else(|| s.clone()),
        Data::DateTime(d) if d.is_duration() => match d.as_duration() {
            Some(t) => format!("{:02}:{:02}", t.num_hours(), t.num_minutes() % 60),
            None => d.as_f64().to_string(),
        },
        Data::DateTime(_) | Data::DateTimeIso(_) => match stamp(cell) {
            Some(Stamp::Time(t)) => t.format("%H:%M:%S").to_string(),
            Some(Stamp::At(t)) if timed => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Some(Stamp::At(t)) => t.format("%Y-%m-%d").to_string(),
            None => match cell {
                Data::DateTimeIso(s) => s.clone(),
                Data::DateTime(d) => d.as_f64().to_string(),
                _ => return None,
            },
        },
    };
    (!text.trim().is_empty()).then_some(text)
}

fn has_time(cell: &Data) -> bool {
    matches!(stamp(cell), Some(Stamp::At(t)) if t.time() != NaiveTime::MIN)
}

/// A sheet's used cells as text columns under its header: the first row
/// with two cells or more (a title above the table is passed over).
fn sheet_frame(cells: &[Used]) -> Result<TextFrame, ReadError> {
    // Cells by row, in order.
    let mut rows: BTreeMap<u32, Vec<(u32, &Data)>> = BTreeMap::new();
    for (r, c, v) in cells {
        rows.entry(*r).or_default().push((*c, v));
    }
    let columns_used = {
        let mut c: Vec<u32> = cells.iter().map(|(_, c, _)| *c).collect();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    let need = columns_used.min(2);
    let (&header_at, header) = rows
        .iter()
        .find(|(_, r)| r.len() >= need)
        .ok_or("has no header row; expected a row of column names, then data")?;
    // The table's rows: those under the header with a cell in a named
    // column. A blank row between sections, or a stray value far below or
    // to the right, is not a row of the table.
    let named: std::collections::HashSet<u32> = header
        .iter()
        .filter(|(_, v)| cell_text(v, false).is_some())
        .map(|(c, _)| *c)
        .collect();
    let body: Vec<(u32, &Vec<(u32, &Data)>)> = rows
        .range(header_at + 1..)
        .filter(|(_, r)| r.iter().any(|(c, _)| named.contains(c)))
        .map(|(r, cells)| (*r, cells))
        .collect();
    // Its columns: the header's, and any other used in those rows.
    let mut cols: Vec<u32> = header
        .iter()
        .map(|(c, _)| *c)
        .chain(body.iter().flat_map(|(_, r)| r.iter().map(|(c, _)| *c)))
        .collect();
    cols.sort_unstable();
    cols.dedup();
    let index: HashMap<u32, usize> = cols.iter().enumerate().map(|(j, c)| (*c, j)).collect();
    let header_row = header_at as usize + 1;
    let mut names: Vec<String> = cols.iter().map(|c| format!("column {}", column_letters(*c))).collect();
    for (c, v) in header {
        if let Some(t) = cell_text(v, false) {
            names[index[c]] = t.trim().to_string();
        }
    }
    let mut deferred = Vec::new();
    // Two columns of one name: renamed apart so the sheet can be read, an
    // error only if the sheet is used (a note sheet is left out anyway).
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (j, c) in cols.iter().enumerate() {
        let key = names[j].to_lowercase();
        if let Some(first) = seen.get(&key) {
            deferred.push(Deferred {
                row: Some(header_row),
                column: None,
                value: None,
                message: format!(
                    "columns {} and {} are both called '{}'; expected one column per name",
                    column_letters(*first),
                    column_letters(*c),
                    names[j]
                ),
            });
            names[j] = format!("{} ({})", names[j], column_letters(*c));
        } else {
            seen.insert(key, *c);
        }
    }
    let mut timed = vec![false; cols.len()];
    for (_, r) in &body {
        for (c, v) in r.iter() {
            timed[index[c]] |= has_time(v);
        }
    }
    let mut values: Vec<Vec<Option<String>>> = vec![vec![None; body.len()]; cols.len()];
    for (i, (r, row)) in body.iter().enumerate() {
        let r = *r;
        for (c, v) in row.iter() {
            let j = index[c];
            if let Data::Error(e) = v {
                deferred.push(Deferred {
                    row: Some(r as usize + 1),
                    column: Some(names[j].clone()),
                    value: Some(e.to_string()),
                    message: "the cell holds a formula's error; expected a value (mend the formula, or paste \
                              the values)"
                        .to_string(),
                });
            }
            values[j][i] = cell_text(v, timed[j]);
        }
    }
    let columns: Vec<Column> = names
        .iter()
        .zip(values)
        .map(|(name, v)| {
            v.into_iter()
                .collect::<StringChunked>()
                .with_name(name.as_str().into())
                .into_column()
        })
        .collect();
    let df = DataFrame::new_infer_height(columns).map_err(|e| e.to_string())?;
    Ok(TextFrame {
        df,
        row_base: header_row + 1,
        decimal: Decimal::Point,
        // The rows as the spreadsheet numbers them.
        rows: Some(body.iter().map(|(r, _)| *r as usize + 1).collect()),
        table_rows: None,
        deferred,
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_as_a_spreadsheet_names_them() {
        let got: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(got, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn cells_as_text() {
        assert_eq!(cell_text(&Data::Float(6.0), false).as_deref(), Some("6"));
        assert_eq!(cell_text(&Data::Float(2.55), false).as_deref(), Some("2.55"));
        assert_eq!(cell_text(&Data::Int(-3), false).as_deref(), Some("-3"));
        assert_eq!(cell_text(&Data::String("  ".into()), false), None);
        assert_eq!(cell_text(&Data::Empty, false), None);
        assert_eq!(cell_text(&Data::Bool(true), false).as_deref(), Some("true"));
        // ODS stores times and dates as ISO text.
        assert_eq!(
            cell_text(&Data::DurationIso("PT08H30M00S".into()), false).as_deref(),
            Some("08:30:00")
        );
        assert_eq!(
            cell_text(&Data::DateTimeIso("2024-03-05".into()), true).as_deref(),
            Some("2024-03-05 00:00:00")
        );
        assert_eq!(
            cell_text(&Data::DateTimeIso("2024-03-06T10:30:00".into()), true).as_deref(),
            Some("2024-03-06 10:30:00")
        );
        assert!(has_time(&Data::DateTimeIso("2024-03-06T10:30:00".into())));
        // A time of day stored as a date on day zero, even at midnight.
        let midnight = Data::DateTime(calamine::ExcelDateTime::new(
            0.0,
            calamine::ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&midnight, false).as_deref(), Some("00:00:00"));
        let half_past_eight = Data::DateTime(calamine::ExcelDateTime::new(
            8.5 / 24.0,
            calamine::ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&half_past_eight, true).as_deref(), Some("08:30:00"));
    }

    fn text(s: &str) -> Data {
        Data::String(s.into())
    }

    #[test]
    fn a_sheet_reads_with_its_rows_numbered_as_shown() {
        // A title on B1, the table from B3: header on row 3, data from row 4;
        // a value without a header in D4.
        let cells = vec![
            (0, 1, text("Sales by store")),
            (2, 1, text("date")),
            (2, 2, text("sku")),
            (3, 1, text("2024-01-01")),
            (3, 2, Data::Float(85123.0)),
            (3, 3, Data::Float(2.5)),
            (4, 2, text("B")),
        ];
        let f = sheet_frame(&cells).unwrap();
        assert_eq!(f.rows, Some(vec![4, 5]));
        let names: Vec<&str> = f.df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["date", "sku", "column D"]);
        let sku = f.df.column("sku").unwrap().str().unwrap();
        assert_eq!((sku.get(0), sku.get(1)), (Some("85123"), Some("B")));
        assert_eq!(f.df.column("date").unwrap().str().unwrap().get(1), None);
        assert!(f.deferred.is_empty());

        // A blank row between sections is passed over, and a stray value
        // far below and to the right is not part of the table.
        let far = vec![
            (0, 0, text("sku")),
            (0, 1, text("qty")),
            (1, 0, text("A")),
            (1, 1, Data::Int(1)),
            (3, 0, text("B")),
            (1_048_575, 16_383, text("x")),
        ];
        let f = sheet_frame(&far).unwrap();
        assert_eq!((f.df.width(), f.df.height()), (2, 2));
        assert_eq!(f.rows, Some(vec![2, 4]));

        // Two columns of one name, and a formula's error: kept for the
        // import to report if the sheet is read.
        let twice = vec![
            (0, 0, text("SKU")),
            (0, 1, text("sku")),
            (1, 0, Data::Error(calamine::CellErrorType::NA)),
        ];
        let f = sheet_frame(&twice).unwrap();
        assert_eq!(f.deferred.len(), 2);
        assert!(
            f.deferred[0].message.contains("columns A and B are both called 'sku'"),
            "{}",
            f.deferred[0].message
        );
        assert_eq!(
            (f.deferred[1].row, f.deferred[1].column.as_deref()),
            (Some(2), Some("SKU"))
        );
        assert_eq!(f.deferred[1].value.as_deref(), Some("#N/A"));
    }
}
