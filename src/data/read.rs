//! Reading files: CSV (separator sniffed) and Parquet, every column as text,
//! so that a bad value never stops the reader and can be reported with its
//! row and column.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use polars::prelude::*;

use crate::data::mapping::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Parquet,
}

pub(super) fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Some(Format::Csv),
        "parquet" | "pq" => Some(Format::Parquet),
        _ => None,
    }
}

pub(super) struct TextFrame {
    pub(super) df: DataFrame,
    /// Added to a 0-based data row index to give the row a planner sees.
    pub(super) row_base: usize,
}

/// Read a file with every column as text.
pub(super) fn read_text_frame(path: &Path) -> Result<TextFrame, String> {
    let fmt = format_of(path).ok_or("expected a .csv or .parquet file")?;
    let path_str = path.to_string_lossy().to_string();
    match fmt {
        Format::Csv => {
            let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
            if meta.len() == 0 {
                return Err("the file is empty; expected a header row and data".into());
            }
            let sep = sniff_separator(path).map_err(|e| format!("cannot read the file: {e}"))?;
            let df = LazyCsvReader::new(PlRefPath::from(path_str.as_str()))
                .with_glob(false)
                .with_has_header(true)
                .with_separator(sep)
                .with_infer_schema_length(Some(0))
                .with_encoding(CsvEncoding::LossyUtf8)
                .finish()
                .and_then(LazyFrame::collect)
                .map_err(|e| format!("is not a readable CSV file: {}", first_line(&e.to_string())))?;
            Ok(TextFrame { df, row_base: 2 })
        }
        Format::Parquet => {
            let df = LazyFrame::scan_parquet(PlRefPath::from(path_str.as_str()), ScanArgsParquet::default())
                .and_then(LazyFrame::collect)
                .map_err(|e| format!("is not a readable Parquet file: {}", first_line(&e.to_string())))?;
            let cols: Vec<Column> = df
                .columns()
                .iter()
                .map(|c| c.cast(&DataType::String))
                .collect::<PolarsResult<_>>()
                .map_err(|e| format!("has a column that cannot be read as text: {e}"))?;
            let df = DataFrame::new_infer_height(cols).map_err(|e| e.to_string())?;
            Ok(TextFrame { df, row_base: 1 })
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// Comma unless the header line has more semicolons or tabs.
fn sniff_separator(path: &Path) -> std::io::Result<u8> {
    use std::io::BufRead;
    let f = std::fs::File::open(path)?;
    let mut line = String::new();
    std::io::BufReader::new(f).take(64 * 1024).read_line(&mut line)?;
    let count = |c: char| line.matches(c).count();
    let (commas, semis, tabs) = (count(','), count(';'), count('\t'));
    Ok(if tabs > commas && tabs >= semis {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    })
}

/// A file being read: its text columns and which column is which field.
pub(super) struct Table {
    pub(super) label: String,
    pub(super) df: DataFrame,
    pub(super) columns: BTreeMap<Field, String>,
    /// Added to a 0-based data row index to give the row a planner sees.
    pub(super) row_base: usize,
}

impl Table {
    pub(super) fn col(&self, f: Field) -> Option<&str> {
        self.columns.get(&f).map(String::as_str)
    }

    pub(super) fn text_column(&self, f: Field) -> Option<&StringChunked> {
        let name = self.col(f)?;
        self.df.column(name).ok()?.str().ok()
    }

    /// The trimmed text of a cell; `None` when empty.
    pub(super) fn cell(&self, f: Field, row: usize) -> Option<&str> {
        self.text_column(f)?.get(row).map(str::trim).filter(|s| !s.is_empty())
    }

    pub(super) fn row(&self, i: usize) -> usize {
        i + self.row_base
    }

    pub(super) fn height(&self) -> usize {
        self.df.height()
    }
}
