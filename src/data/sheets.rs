//! Workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods): each sheet with data is a
//! table of its own, read as text like a CSV file, its rows numbered as the
//! spreadsheet numbers them. Dates stored as dates are written as ISO text
//! (with the time where a column holds one), numbers in plain digits.

use std::collections::HashMap;
use std::path::Path;

use calamine::{Data, Range, Reader};
use chrono::NaiveTime;
use polars::prelude::*;

use crate::data::numbers::Decimal;
use crate::data::read::{ReadError, TextFrame};

/// One sheet of a workbook, read or not.
pub(super) struct Sheet {
    pub(super) name: String,
    pub(super) frame: Result<TextFrame, ReadError>,
}

/// Every sheet of the workbook at `path` that holds a cell, in the
/// workbook's order; an error when the file cannot be opened or no sheet
/// holds anything.
pub(super) fn read_workbook(path: &Path) -> Result<Vec<Sheet>, ReadError> {
    let mut book = calamine::open_workbook_auto(path).map_err(|e| format!("is not a readable workbook: {e}"))?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        match book.worksheet_range(&name) {
            Ok(range) if range.is_empty() => {}
            Ok(range) => out.push(Sheet {
                frame: sheet_frame(&range),
                name,
            }),
            Err(e) => out.push(Sheet {
                frame: Err(format!("cannot be read: {e}").into()),
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

/// A cell as text; `None` when empty. `timed`: the column holds a time of
/// day somewhere, so its dates are written with their time.
fn cell_text(cell: &Data, timed: bool) -> Option<String> {
    let text = match cell {
        Data::Empty => return None,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Rust writes 6.0 as "6" and 2.55 as "2.55".
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) if d.is_duration() => match d.as_duration() {
            Some(t) => format!("{}:{:02}", t.num_hours(), t.num_minutes() % 60),
            None => d.as_f64().to_string(),
        },
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if timed => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Some(t) => t.format("%Y-%m-%d").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::Error(e) => e.to_string(),
    };
    (!text.trim().is_empty()).then_some(text)
}

fn has_time(cell: &Data) -> bool {
    match cell {
        Data::DateTime(d) if !d.is_duration() => d.as_datetime().is_some_and(|t| t.time() != NaiveTime::MIN),
        _ => false,
    }
}

/// A sheet as text columns under its header: the first row with two cells
/// or more (a title above the table is passed over).
fn sheet_frame(range: &Range<Data>) -> Result<TextFrame, ReadError> {
    let (top, left) = range.start().unwrap_or((0, 0));
    let rows: Vec<&[Data]> = range.rows().collect();
    let need = range.width().min(2);
    let filled = |r: &[Data]| r.iter().filter(|c| cell_text(c, false).is_some()).count();
    let at = rows
        .iter()
        .position(|r| filled(r) >= need)
        .ok_or("has no header row; expected a row of column names, then data")?;
    let header = rows[at];
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(j, c)| match cell_text(c, false) {
            Some(t) => t.trim().to_string(),
            None => format!("column {}", column_letters(left + j as u32)),
        })
        .collect();
    let header_row = top as usize + at + 1;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (j, n) in names.iter().enumerate() {
        if let Some(k) = seen.insert(n.to_lowercase(), j) {
            return Err(ReadError {
                row: Some(header_row),
                message: format!(
                    "columns {} and {} are both called '{n}'; expected one column per name",
                    column_letters(left + k as u32),
                    column_letters(left + j as u32)
                ),
            });
        }
    }
    let width = names.len();
    let body = &rows[at + 1..];
    let timed: Vec<bool> = (0..width)
        .map(|j| body.iter().any(|r| r.get(j).is_some_and(has_time)))
        .collect();
    let columns: Vec<Column> = names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            body.iter()
                .map(|r| r.get(j).and_then(|c| cell_text(c, timed[j])))
                .collect::<StringChunked>()
                .with_name(name.as_str().into())
                .into_column()
        })
        .collect();
    let df = DataFrame::new_infer_height(columns).map_err(|e| e.to_string())?;
    Ok(TextFrame {
        df,
        // Data starts on the row after the header.
        row_base: header_row + 1,
        decimal: Decimal::Point,
        rows: None,
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
    }

    #[test]
    fn a_sheet_reads_with_its_rows_numbered_as_shown() {
        // A title on B1, the table from B3: header on row 3, data from row 4.
        let mut range: Range<Data> = Range::new((0, 1), (4, 3));
        range.set_value((0, 1), Data::String("Sales by store".into()));
        range.set_value((2, 1), Data::String("date".into()));
        range.set_value((2, 2), Data::String("sku".into()));
        range.set_value((3, 1), Data::String("2024-01-01".into()));
        range.set_value((3, 2), Data::Float(85123.0));
        range.set_value((3, 3), Data::Float(2.5));
        range.set_value((4, 2), Data::String("B".into()));
        let f = sheet_frame(&range).unwrap();
        assert_eq!(f.row_base, 4);
        let names: Vec<&str> = f.df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["date", "sku", "column D"]);
        let sku = f.df.column("sku").unwrap().str().unwrap();
        assert_eq!((sku.get(0), sku.get(1)), (Some("85123"), Some("B")));
        assert_eq!(f.df.column("date").unwrap().str().unwrap().get(1), None);

        let mut twice: Range<Data> = Range::new((0, 0), (1, 1));
        twice.set_value((0, 0), Data::String("SKU".into()));
        twice.set_value((0, 1), Data::String("sku".into()));
        let e = sheet_frame(&twice).err().unwrap();
        assert_eq!(e.row, Some(1));
        assert!(
            e.message.contains("columns A and B are both called 'sku'"),
            "{}",
            e.message
        );
    }
}
