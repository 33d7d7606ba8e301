//! Reading files: CSV (separator sniffed) and Parquet, every column as text,
//! so that a bad value never stops the reader and can be reported with its
//! row and column.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use polars::prelude::*;

use crate::data::mapping::Field;
use crate::data::numbers::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Parquet,
    /// A workbook: each sheet with data is a table.
    Workbook,
}

pub(super) fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Some(Format::Csv),
        "parquet" | "pq" => Some(Format::Parquet),
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Some(Format::Workbook),
        _ => None,
    }
}

/// What `expected` says of the files that can be read.
pub(super) const READABLE: &str = "a .csv, .parquet or workbook (.xlsx, .xls, .ods) file";

pub(super) struct TextFrame {
    pub(super) df: DataFrame,
    /// Added to a 0-based data row index to give the row a planner sees.
    pub(super) row_base: usize,
    /// How its numbers mark decimals (a `;` file's are commas).
    pub(super) decimal: Decimal,
    /// For a table with a column per date read in long form (`wide`): the
    /// row a planner sees of each source row, the long rows repeating them
    /// once per date column. `None`: row `i` is `i + row_base`.
    pub(super) rows: Option<Vec<usize>>,
    /// The table's own rows, for one read in long form (`rows` may then
    /// name each long row).
    pub(super) table_rows: Option<usize>,
    /// Problems found while reading that count only if the table is read
    /// (a workbook's note sheet, left out, never reports them).
    pub(super) deferred: Vec<Deferred>,
    /// Warnings about how the file was read (an encoding other than
    /// UTF-8), said when the table is read.
    pub(super) notes: Vec<Deferred>,
}

/// A problem found while reading, reported once the table's columns are
/// known: always when `column` is `None`, else when that column gives a
/// field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Deferred {
    pub(super) row: Option<usize>,
    pub(super) column: Option<String>,
    pub(super) value: Option<String>,
    pub(super) message: String,
}

/// Why a file could not be read, and the row at fault when one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReadError {
    pub(super) row: Option<usize>,
    pub(super) message: String,
}

impl From<String> for ReadError {
    fn from(message: String) -> Self {
        ReadError { row: None, message }
    }
}

impl From<&str> for ReadError {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

/// Read a file with every column as text.
pub(super) fn read_text_frame(path: &Path) -> Result<TextFrame, ReadError> {
    let fmt = format_of(path).ok_or_else(|| format!("expected {READABLE}"))?;
    let path_str = path.to_string_lossy().to_string();
    match fmt {
        Format::Csv => {
            let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
            if meta.len() == 0 {
                return Err("the file is empty; expected a header row and data".into());
            }
            // A file in another encoding is read from a UTF-8 copy of it,
            // made here and removed once read; its rows are the same.
            let (copy, notes) = match utf8_copy(path)? {
                Some((copy, note)) => (Some(copy), vec![note]),
                None => (None, Vec::new()),
            };
            let copy_str = copy.as_ref().map(|c| c.to_string_lossy().to_string());
            let path_str = copy_str.unwrap_or(path_str);
            let path: &Path = copy.as_deref().unwrap_or(path);
            let sep = sniff_separator(path).map_err(|e| format!("cannot read the file: {e}"))?;
            let read = |ragged: bool| {
                LazyCsvReader::new(PlRefPath::from(path_str.as_str()))
                    .with_glob(false)
                    .with_has_header(true)
                    .with_separator(sep)
                    .with_infer_schema_length(Some(0))
                    .with_encoding(CsvEncoding::LossyUtf8)
                    .with_truncate_ragged_lines(ragged)
                    .finish()
                    .and_then(LazyFrame::collect)
            };
            let df = match read(false) {
                Ok(df) => df,
                // polars names no row; a row longer than the header is the
                // usual cause, so look for it. Rows longer only by empty
                // fields (`,,,,,,` from an exporter) are read cut to the
                // header.
                Err(e) => match unclosed_quote(path, sep).or_else(|| long_row(path, sep)) {
                    Some(found) => return Err(found),
                    None => {
                        read(true).map_err(|_| format!("is not a readable CSV file: {}", first_line(&e.to_string())))?
                    }
                },
            };
            let deferred = named_twice(&df);
            let (df, rows) = without_blank_rows(df, 2).map_err(|e| e.to_string())?;
            Ok(TextFrame {
                df,
                row_base: 2,
                decimal: Decimal::of_separator(sep),
                rows,
                table_rows: None,
                deferred,
                notes,
            })
        }
        Format::Parquet => {
            let df = LazyFrame::scan_parquet(PlRefPath::from(path_str.as_str()), ScanArgsParquet::default())
                .and_then(LazyFrame::collect)
                .map_err(|e| format!("is not a readable Parquet file: {}", first_line(&e.to_string())))?;
            // A column that reads as no text is an error only where the
            // import uses it (a list column beside the data failed the file).
            let mut deferred = Vec::new();
            let cols: Vec<Column> = df
                .columns()
                .iter()
                .map(|c| {
                    parquet_text(c).unwrap_or_else(|e| {
                        deferred.push(Deferred {
                            row: None,
                            column: Some(c.name().to_string()),
                            value: None,
                            message: format!(
                                "its values ({}) cannot be read as text: {}",
                                c.dtype(),
                                first_line(&e.to_string())
                            ),
                        });
                        Column::full_null(c.name().clone(), c.len(), &DataType::String)
                    })
                })
                .collect();
            let df = DataFrame::new_infer_height(cols).map_err(|e| e.to_string())?;
            Ok(TextFrame {
                df,
                row_base: 1,
                decimal: Decimal::Point,
                rows: None,
                table_rows: None,
                deferred,
                notes: Vec::new(),
            })
        }
        Format::Workbook => Err("a workbook is read sheet by sheet".into()),
    }
}

/// A Parquet column as text. Whole floats read as their digits: a SKU kept
/// as 123.0 is the `123` a CSV file or a workbook gives (it matched no
/// product row). A timestamp with a time zone reads in UTC (its text
/// failed the whole file).
fn parquet_text(c: &Column) -> PolarsResult<Column> {
    match c.dtype() {
        DataType::Float32 | DataType::Float64 => {
            let f = c.cast(&DataType::Float64)?;
            let whole = f.f64()?.iter().flatten().all(|v| v.fract() == 0.0 && v.abs() < 9.0e15);
            if whole {
                f.cast(&DataType::Int64)?.cast(&DataType::String)
            } else {
                c.cast(&DataType::String)
            }
        }
        DataType::Datetime(unit, Some(_)) => c.cast(&DataType::Datetime(*unit, None))?.cast(&DataType::String),
        _ => c.cast(&DataType::String),
    }
}

/// Two columns of one name in a CSV header, as errors for when the file is
/// used (as a workbook's are). The reader renames the second
/// (`quantity_duplicated_0`), and reading the first alone would be a guess:
/// a file with `quantity` twice was read from the first, unsaid.
fn named_twice(df: &DataFrame) -> Vec<Deferred> {
    let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    names
        .iter()
        .enumerate()
        .filter_map(|(j, h)| {
            let (base, n) = h.rsplit_once("_duplicated_")?;
            // Columns without a name (a spreadsheet's trailing commas) are
            // not two of one name: they are read as nothing.
            if base.trim().is_empty() || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let first = names.iter().position(|o| *o == base)?;
            Some(Deferred {
                row: Some(1),
                column: None,
                value: None,
                message: format!(
                    "columns {} and {} are both called '{base}'; expected one column per name",
                    first + 1,
                    j + 1
                ),
            })
        })
        .collect()
}

/// Rows with nothing in any cell (blank lines, `,,,`, which spreadsheets
/// and exporters leave at a file's end) left out, and the rows a planner
/// sees of those kept (rows start at `row_base`); `None` when none was
/// blank. They failed the whole file, a required cell missing on each.
fn without_blank_rows(df: DataFrame, row_base: usize) -> PolarsResult<(DataFrame, Option<Vec<usize>>)> {
    let mut filled = vec![false; df.height()];
    for c in df.columns() {
        let Ok(text) = c.str() else {
            filled.fill(true);
            break;
        };
        for (i, v) in text.iter().enumerate() {
            if v.is_some_and(|v| !v.trim().is_empty()) {
                filled[i] = true;
            }
        }
    }
    if filled.iter().all(|f| *f) {
        return Ok((df, None));
    }
    let rows = filled
        .iter()
        .enumerate()
        .filter(|(_, f)| **f)
        .map(|(i, _)| i + row_base)
        .collect();
    let mask = BooleanChunked::from_slice("filled".into(), &filled);
    Ok((df.filter(&mask)?, Some(rows)))
}

/// The first row with more fields than the header, as an error naming it
/// (header = row 1, the way a spreadsheet numbers rows); `None` when every
/// row fits or the file cannot be scanned.
fn long_row(path: &Path, sep: u8) -> Option<ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sep)
        .from_path(path)
        .ok()?;
    let mut record = csv::ByteRecord::new();
    let mut expected = None;
    let mut row = 0;
    while reader.read_byte_record(&mut record).ok()? {
        // The csv crate skips blank lines and counts them into the record
        // after them; polars reads each as an empty row. Count them as rows
        // too, so rows agree with the other problems.
        let start = record.position().cloned()?;
        let blank = if reader.position().line() > start.line() + 1 {
            blank_lines_at(path, start.byte())
        } else {
            0
        };
        row += 1 + blank as usize;
        let line = start.line() + blank;
        let found = record.len();
        let Some(expected) = expected else {
            expected = Some(found);
            continue;
        };
        // Fields past the header's with nothing in them say nothing.
        let extra_empty = record
            .iter()
            .skip(expected)
            .all(|f| f.iter().all(u8::is_ascii_whitespace));
        if found > expected && !extra_empty {
            let place = if line == row as u64 {
                String::new()
            } else {
                format!(" (line {line} of the file)")
            };
            let sep = match sep {
                b'\t' => "tab".to_string(),
                c => format!("'{}'", char::from(c)),
            };
            return Some(ReadError {
                row: Some(row),
                message: format!(
                    "expected {expected} fields, as in the header, but found {found}{place}; is a value with a \
                     {sep} in it missing its quotes?"
                ),
            });
        }
    }
    None
}

/// A quoted value that is never closed (the file ends inside it), as an
/// error naming the row and line where it opened; `None` when every quote
/// closes or the file cannot be read. Quotes count only where a value
/// starts (after the separator or a line break), as in a CSV reader; a
/// doubled quote inside a quoted value is a quote character.
fn unclosed_quote(path: &Path, sep: u8) -> Option<ReadError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path).ok()?.read_to_end(&mut bytes).ok()?;
    // Rows end at a line break outside quotes; a blank line is a row too.
    let (mut row, mut line) = (1usize, 1u64);
    let mut at_value_start = true;
    // (row, line, byte) where the open quoted value started.
    let mut open: Option<(usize, u64, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match open {
            Some(_) if b == b'"' => {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    open = None;
                    at_value_start = false;
                }
            }
            Some(_) => {
                if b == b'\n' {
                    line += 1;
                }
            }
            None if b == b'"' && at_value_start => open = Some((row, line, i)),
            None if b == b'\n' => {
                row += 1;
                line += 1;
                at_value_start = true;
            }
            None => at_value_start = b == sep || (b == b'\r' && at_value_start),
        }
        i += 1;
    }
    let (row, line, start) = open?;
    let excerpt: String = String::from_utf8_lossy(&bytes[start..bytes.len().min(start + 40)])
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let place = if line == row as u64 {
        String::new()
    } else {
        format!(" (line {line} of the file)")
    };
    Some(ReadError {
        row: Some(row),
        message: format!(
            "a quoted value opens here{place} and is never closed, so the rest of the file would be read into \
             it: {excerpt}…; is its closing '\"' missing?"
        ),
    })
}

/// How many empty lines start at byte `at` of the file.
fn blank_lines_at(path: &Path, at: u64) -> u64 {
    use std::io::{BufRead, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else { return 0 };
    if f.seek(SeekFrom::Start(at)).is_err() {
        return 0;
    }
    let mut lines = 0;
    let mut reader = std::io::BufReader::new(f);
    loop {
        let Ok(buf) = reader.fill_buf() else { return lines };
        if buf.is_empty() {
            return lines;
        }
        let n = buf.iter().take_while(|b| **b == b'\n' || **b == b'\r').count();
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        let done = n < buf.len();
        reader.consume(n);
        if done {
            return lines;
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// A UTF-8 copy of a CSV file that is not UTF-8, and the warning that
/// says so; `None` for a UTF-8 file (with or without its BOM). A file
/// with a UTF-16 byte order mark is read as UTF-16. In any other, each
/// line that is not UTF-8 is read as Windows-1252, the Western European
/// encoding spreadsheet programs save CSV in on Windows, and the others as
/// they are (two exports pasted together keep both their letters): until
/// session 26 each such byte was replaced by one sign, so `CAFé` and
/// `CAFè` became one SKU, unsaid. (In Windows-1252 every byte is a letter,
/// so it reads any line; what it cannot know is that the file was Greek
/// or Cyrillic, hence the warning.) The copy is written a line at a time.
fn utf8_copy(path: &Path) -> Result<Option<(tempfile::TempPath, Deferred)>, ReadError> {
    use std::io::{BufRead as _, Write as _};
    let cannot = |e: std::io::Error| format!("cannot read the file: {e}");
    if is_utf8(path).map_err(cannot)? {
        return Ok(None);
    }
    let copy = tempfile::Builder::new()
        .prefix(".skuplan-utf8-")
        .suffix(".csv")
        .tempfile()
        .map_err(|e| format!("cannot make a UTF-8 copy of the file to read: {e}"))?;
    let mut out = std::io::BufWriter::new(copy.as_file());
    let mut input = std::io::BufReader::new(std::fs::File::open(path).map_err(cannot)?);
    let written = |e: std::io::Error| format!("cannot make a UTF-8 copy of the file to read: {e}");
    let utf16 =
        encoding_rs::Encoding::for_bom(input.fill_buf().map_err(cannot)?).filter(|(e, _)| *e != encoding_rs::UTF_8);
    let (row, message) = if let Some((enc, bom)) = utf16 {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(cannot)?;
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom..]);
        out.write_all(text.as_bytes()).map_err(written)?;
        (None, format!("the file is {}: read as such", enc.name()))
    } else {
        let (mut line, mut row, mut first, mut others) = (Vec::new(), 0usize, None, 0usize);
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line).map_err(cannot)? == 0 {
                break;
            }
            row += 1;
            match std::str::from_utf8(&line) {
                Ok(text) => out.write_all(text.as_bytes()).map_err(written)?,
                Err(e) => {
                    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&line);
                    if first.is_none() {
                        let shown: String = text.trim_end().chars().take(60).collect();
                        first = Some((row, line[e.valid_up_to()], shown));
                    } else {
                        others += 1;
                    }
                    out.write_all(text.as_bytes()).map_err(written)?;
                }
            }
        }
        let (row, byte, shown) = first.unwrap_or_default();
        let more = match others {
            0 => String::new(),
            n => format!(" (and {n} more rows)"),
        };
        (
            Some(row),
            format!(
                "not UTF-8 (the byte 0x{byte:02X}): this row{more} read as Windows-1252, as spreadsheet programs \
                 save CSV on Windows, so it reads '{shown}'; if letters look wrong, save the file as UTF-8"
            ),
        )
    };
    out.flush().map_err(written)?;
    drop(out);
    Ok(Some((
        copy.into_temp_path(),
        Deferred {
            row,
            column: None,
            value: None,
            message,
        },
    )))
}

/// Whether a file is UTF-8 without a UTF-16 byte order mark, read a
/// megabyte at a time (a large sales file is not held twice).
fn is_utf8(path: &Path) -> std::io::Result<bool> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    // The bytes of a character cut by the end of a read, carried over.
    let mut carry = 0usize;
    let mut first = true;
    loop {
        let n = f.read(&mut buf[carry..])?;
        let end = carry + n;
        if first && encoding_rs::Encoding::for_bom(&buf[..end]).is_some_and(|(e, _)| e != encoding_rs::UTF_8) {
            return Ok(false);
        }
        first = false;
        match std::str::from_utf8(&buf[..end]) {
            Ok(_) => carry = 0,
            // Cut mid-character: only while more is to come.
            Err(e) if e.error_len().is_none() && n > 0 => {
                let at = e.valid_up_to();
                buf.copy_within(at..end, 0);
                carry = end - at;
            }
            Err(_) => return Ok(false),
        }
        if n == 0 {
            return Ok(true);
        }
    }
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
    /// The rows a planner sees, for a table read in long form from a column
    /// per date (see [`TextFrame::rows`]).
    pub(super) rows: Option<Vec<usize>>,
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
        match &self.rows {
            Some(rows) if !rows.is_empty() => rows[i % rows.len()],
            _ => i + self.row_base,
        }
    }

    pub(super) fn height(&self) -> usize {
        self.df.height()
    }
}
