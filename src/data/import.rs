//! The importer: CSV and Parquet files in, a validated [`Dataset`] out, or a
//! report of every problem and nothing imported at all.
//!
//! Files are read with polars as text columns, so that a bad value never
//! stops the reader and can be reported with its row and column. The large
//! tables (sales and transaction lines) are parsed, checked and aggregated to
//! daily demand with polars expressions; the small ones (products, inventory,
//! warehouses, orders, fleet) are checked row by row.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::mapping::{ColumnMap, Field, FileKind, detect_kind, normalize, resolve};
use crate::data::problems::{Problem, Problems, Severity};
use crate::domain::{
    Dataset, DeliveryOrder, DemandSeries, InventoryRecord, Location, Product, ProductDefaults, ReturnsSummary, Vehicle,
    Warehouse,
};

/// How to read the files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// Explicit field -> column mapping; aliases cover the rest.
    pub map: ColumnMap,
    /// A chrono format for dates, when detection cannot tell (e.g. 01/02/2017).
    pub date_format: Option<String>,
    pub product_defaults: ProductDefaults,
    /// The warehouse of sales that name none.
    pub default_warehouse: String,
    /// Problems of one sort (file, column, message) listed in full; the rest
    /// are counted.
    pub max_problems_per_sort: usize,
    /// A series with less history than this many days counts as new.
    pub new_series_days: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            map: ColumnMap::default(),
            date_format: None,
            product_defaults: ProductDefaults::default(),
            default_warehouse: "main".to_string(),
            max_problems_per_sort: 10,
            new_series_days: 90,
        }
    }
}

/// One file that was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub rows: usize,
    /// Which column gave each field.
    pub columns: BTreeMap<Field, String>,
    pub date_format: Option<String>,
}

/// What a planner reads after an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Input rows of sales or transaction files.
    pub demand_rows: usize,
    pub series: usize,
    pub skus: usize,
    pub warehouses: usize,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// Share of series-days with zero demand.
    pub zero_share: f64,
    pub intermittent_series: usize,
    /// Series with less than `new_series_days` of history.
    pub new_series: usize,
    pub products: usize,
    /// Products made up from sales because the product file lacked them.
    pub synthesized_products: usize,
    pub inventory_rows: usize,
    pub orders: usize,
    pub vehicles: usize,
    pub returns: ReturnsSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub files: Vec<SourceFile>,
    pub problems: Vec<Problem>,
    pub summary: Option<Summary>,
}

impl ImportReport {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Warning)
    }

    pub fn error_count(&self) -> usize {
        self.errors().count()
    }
}

/// A successful import: the data and what was noticed on the way.
#[derive(Debug, Clone)]
pub struct Imported {
    pub dataset: Dataset,
    pub report: ImportReport,
}

/// The import failed; nothing was imported. The report says why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", failure_text(.report))]
pub struct ImportFailed {
    pub report: Box<ImportReport>,
}

fn failure_text(report: &ImportReport) -> String {
    let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
    format!(
        "the data cannot be imported ({} problem{}); nothing was imported:\n{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        errors.join("\n")
    )
}

/// Import files and folders (a folder means every .csv and .parquet file in it).
pub fn import_paths(paths: &[PathBuf], opts: &ImportOptions) -> Result<Imported, ImportFailed> {
    let mut problems = Problems::new(opts.max_problems_per_sort);
    let mut acc = Acc::default();
    let mut files = Vec::new();
    let mut map_used: HashSet<Field> = HashSet::new();

    for path in expand(paths, &mut problems) {
        let label = path.display().to_string();
        let clock = std::time::Instant::now();
        let frame = match read_text_frame(&path) {
            Ok(df) => df,
            Err(msg) => {
                problems.error(&label, None, None, None, msg);
                continue;
            }
        };
        let headers: Vec<String> = frame.df.get_column_names().iter().map(|s| s.to_string()).collect();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let Some(kind) = FileKind::from_stem(&stem).or_else(|| detect_kind(&headers, &opts.map)) else {
            problems.error(
                &label,
                None,
                None,
                None,
                format!(
                    "cannot tell what this file holds from its columns ({}); name it sales, transactions, products, \
                     inventory, warehouses, orders or fleet (.csv or .parquet), or use --map to name its columns",
                    headers.join(", ")
                ),
            );
            continue;
        };
        let columns = resolve(kind, &headers, &opts.map);
        for f in columns.keys() {
            if opts
                .map
                .get(*f)
                .is_some_and(|src| normalize(src) == normalize(&columns[f]))
            {
                map_used.insert(*f);
            }
        }
        let missing: Vec<Field> = kind
            .fields()
            .iter()
            .filter(|(f, req)| *req && !columns.contains_key(f))
            .map(|(f, _)| *f)
            .collect();
        if !missing.is_empty() {
            for f in missing {
                let hint = match opts.map.get(f) {
                    Some(src) => format!("--map {f}={src} names a column the file does not have"),
                    None => format!(
                        "no column is called {} (or give --map {f}=COLUMN)",
                        f.aliases(kind).iter().take(5).copied().collect::<Vec<_>>().join(" / ")
                    ),
                };
                problems.error(
                    &label,
                    None,
                    Some(f.name()),
                    None,
                    format!(
                        "the {kind} file needs a '{f}' column: {hint}; its columns are: {}",
                        headers.join(", ")
                    ),
                );
            }
            continue;
        }
        let rows = frame.df.height();
        let t = Table {
            label: label.clone(),
            df: frame.df,
            columns,
            row_base: frame.row_base,
        };
        tracing::debug!(file = %label, rows = t.height(), ms = clock.elapsed().as_millis(), "read as text");
        let date_format = match kind {
            FileKind::Sales | FileKind::Transactions => read_demand(&t, kind, opts, &mut problems, &mut acc)
                .unwrap_or_else(|e| {
                    problems.error(&label, None, None, None, format!("could not be processed: {e}"));
                    None
                }),
            FileKind::Products => {
                read_products(&t, opts, &mut problems, &mut acc);
                None
            }
            FileKind::Inventory => read_inventory(&t, opts, &mut problems, &mut acc),
            FileKind::Warehouses => {
                read_warehouses(&t, &mut problems, &mut acc);
                None
            }
            FileKind::Orders => read_orders(&t, opts, &mut problems, &mut acc),
            FileKind::Fleet => {
                read_fleet(&t, &mut problems, &mut acc);
                None
            }
        };
        files.push(SourceFile {
            path: path.clone(),
            kind,
            rows,
            columns: t.columns.clone(),
            date_format,
        });
    }

    for (field, src) in &opts.map.0 {
        if !map_used.contains(field) && !files.is_empty() {
            problems.error(
                "--map",
                None,
                Some(field.name()),
                Some(src),
                format!("no file that was read has a column '{src}' for field '{field}'"),
            );
        }
    }
    if files.is_empty() && !problems.has_errors() {
        problems.error(
            &paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            None,
            None,
            None,
            "no .csv or .parquet file was found",
        );
    }

    let clock = std::time::Instant::now();
    let dataset = acc.finish(opts, &mut problems);
    tracing::debug!(
        ms = clock.elapsed().as_millis(),
        series = dataset.demand.len(),
        "dataset built"
    );
    let mut report = ImportReport {
        files,
        problems: Vec::new(),
        summary: None,
    };
    let failed = problems.has_errors();
    report.problems = problems.finish();
    if failed {
        return Err(ImportFailed {
            report: Box::new(report),
        });
    }
    report.summary = Some(summarize(&dataset, acc_rows(&report), opts));
    Ok(Imported { dataset, report })
}

fn acc_rows(report: &ImportReport) -> usize {
    report
        .files
        .iter()
        .filter(|f| matches!(f.kind, FileKind::Sales | FileKind::Transactions))
        .map(|f| f.rows)
        .sum()
}

fn summarize(ds: &Dataset, demand_rows: usize, opts: &ImportOptions) -> Summary {
    let (first, last) = ds.date_range().unzip();
    let days: usize = ds.demand.iter().map(|s| s.values.len()).sum();
    let zeros: usize = ds
        .demand
        .iter()
        .map(|s| s.values.iter().filter(|v| **v == 0.0).count())
        .sum();
    let mut warehouses: BTreeSet<&str> = ds.demand.iter().map(|s| s.warehouse.as_str()).collect();
    warehouses.extend(ds.warehouses.iter().map(|w| w.id.as_str()));
    Summary {
        demand_rows,
        series: ds.demand.len(),
        skus: ds.sku_count(),
        warehouses: warehouses.len(),
        first_day: first,
        last_day: last,
        zero_share: if days == 0 { 0.0 } else { zeros as f64 / days as f64 },
        intermittent_series: ds.demand.iter().filter(|s| s.is_intermittent()).count(),
        new_series: ds
            .demand
            .iter()
            .filter(|s| s.values.len() < opts.new_series_days)
            .count(),
        products: ds.products.len(),
        synthesized_products: ds.products.iter().filter(|p| p.synthesized).count(),
        inventory_rows: ds.inventory.len(),
        orders: ds.orders.len(),
        vehicles: ds.fleet.len(),
        returns: ds.returns.clone(),
    }
}

/// Expand folders to their data files, in name order.
fn expand(paths: &[PathBuf], problems: &mut Problems) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        let label = p.display().to_string();
        if p.is_dir() {
            match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|f| f.is_file() && format_of(f).is_some())
                        .collect();
                    found.sort();
                    out.extend(found);
                }
                Err(e) => problems.error(&label, None, None, None, format!("cannot read the folder: {e}")),
            }
        } else if !p.exists() {
            problems.error(&label, None, None, None, "no such file or folder");
        } else if format_of(p).is_none() {
            problems.error(&label, None, None, None, "expected a .csv or .parquet file");
        } else {
            out.push(p.clone());
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Some(Format::Csv),
        "parquet" | "pq" => Some(Format::Parquet),
        _ => None,
    }
}

struct TextFrame {
    df: DataFrame,
    /// Added to a 0-based data row index to give the row a planner sees.
    row_base: usize,
}

/// Read a file with every column as text.
fn read_text_frame(path: &Path) -> Result<TextFrame, String> {
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

use std::io::Read as _;

/// A file being read: its text columns and which column is which field.
struct Table {
    label: String,
    df: DataFrame,
    columns: BTreeMap<Field, String>,
    row_base: usize,
}

impl Table {
    fn col(&self, f: Field) -> Option<&str> {
        self.columns.get(&f).map(String::as_str)
    }

    fn text_column(&self, f: Field) -> Option<&StringChunked> {
        let name = self.col(f)?;
        self.df.column(name).ok()?.str().ok()
    }

    /// The trimmed text of a cell; `None` when empty.
    fn cell(&self, f: Field, row: usize) -> Option<&str> {
        self.text_column(f)?.get(row).map(str::trim).filter(|s| !s.is_empty())
    }

    fn row(&self, i: usize) -> usize {
        i + self.row_base
    }

    fn height(&self) -> usize {
        self.df.height()
    }
}

// ---------------------------------------------------------------- dates

/// Date formats we try, most common first. Ambiguous day/month orders are
/// resolved by the data when a day above 12 appears.
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d",
];
const DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    pub format: String,
    pub has_time: bool,
}

/// Parse one value with a format.
fn parse_with(s: &str, f: &DateFormat) -> Option<NaiveDate> {
    if f.has_time {
        NaiveDateTime::parse_from_str(s, &f.format).ok().map(|d| d.date())
    } else {
        NaiveDate::parse_from_str(s, &f.format).ok()
    }
}

/// Find the format that reads the most sampled values (a few bad cells are
/// then reported on their own rows). Returns the format and, when the
/// day/month order could not be told apart, a note saying so.
pub fn detect_date_format(samples: &[&str], forced: Option<&str>) -> Result<(DateFormat, Option<String>), String> {
    if let Some(fmt) = forced {
        let has_time = ["%H", "%M", "%S", "%T", "%R"].iter().any(|t| fmt.contains(t));
        let f = DateFormat {
            format: fmt.to_string(),
            has_time,
        };
        if !samples.iter().any(|s| parse_with(s, &f).is_some()) {
            let shown = samples.first().copied().unwrap_or_default();
            return Err(format!("dates like '{shown}' do not match --date-format {fmt}"));
        }
        return Ok((f, None));
    }
    let candidates: Vec<DateFormat> = DATE_FORMATS
        .iter()
        .map(|f| DateFormat {
            format: f.to_string(),
            has_time: false,
        })
        .chain(DATETIME_FORMATS.iter().map(|f| DateFormat {
            format: f.to_string(),
            has_time: true,
        }))
        .collect();
    let scores: Vec<usize> = candidates
        .iter()
        .map(|f| samples.iter().filter(|s| parse_with(s, f).is_some()).count())
        .collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    // Most values must read with one format; otherwise the column is not
    // dates, or mixes formats, and row-by-row errors would only bury that.
    if best == 0 || best * 2 < samples.len() {
        let shown: Vec<&str> = samples.iter().take(3).copied().collect();
        return Err(format!(
            "cannot read dates like '{}'; expected a date such as 2017-03-31, 31/03/2017, 03/31/2017 or \
             2017-03-31 14:05 (or give --date-format)",
            shown.join("', '")
        ));
    }
    let Some(i) = scores.iter().position(|s| *s == best) else {
        return Err("no date format fits".into());
    };
    let first = candidates[i].clone();
    let swapped = first
        .format
        .contains("%m/%d")
        .then(|| first.format.replace("%m/%d", "%d/%m"));
    let ambiguous = swapped.is_some_and(|sw| {
        candidates
            .iter()
            .zip(&scores)
            .any(|(f, s)| f.format == sw && *s == best)
    });
    let note = ambiguous.then(|| {
        format!(
            "dates such as '{}' could be month/day or day/month; read as {} (give --date-format to choose)",
            samples.first().copied().unwrap_or_default(),
            first.format
        )
    });
    Ok((first, note))
}

/// Up to `n` non-empty values spread over the whole column.
fn sample_values(ca: &StringChunked, n: usize) -> Vec<&str> {
    let len = ca.len();
    if len == 0 {
        return Vec::new();
    }
    let step = (len / n).max(1);
    let mut out: Vec<&str> = (0..len)
        .step_by(step)
        .filter_map(|i| ca.get(i))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    // The first rows too, where mistakes in a header-ish line show up.
    out.extend(ca.iter().take(50).flatten().map(str::trim).filter(|s| !s.is_empty()));
    out
}

fn days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

#[cfg(test)]
fn date_to_days(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - 719_163
}

// ------------------------------------------------------------- accumulator

/// One day's row of a demand series, before series are built.
#[derive(Debug, Clone, Copy)]
struct DayRow {
    /// Days since 1970-01-01.
    day: i32,
    qty: f64,
    promo: bool,
    /// Index into `Acc::files` and the row a planner sees, for messages.
    file: u32,
    row: u32,
}

#[derive(Default)]
struct SeriesAcc {
    /// Rows in no particular order.
    days: Vec<DayRow>,
    has_promo: bool,
    /// Transaction lines add up; two sales rows for one day are an error.
    sums_duplicates: bool,
}

#[derive(Default)]
struct Acc {
    series: HashMap<(String, String), SeriesAcc>,
    /// Labels of the demand files, indexed by `DayRow::file`.
    demand_files: Vec<String>,
    /// Transaction descriptions by SKU (the first seen).
    descriptions: HashMap<String, String>,
    /// Warehouses named by demand rows: id -> (file, first row).
    demand_warehouses: BTreeMap<String, (String, Option<usize>)>,
    products: Vec<Product>,
    product_rows: HashMap<String, (String, usize)>,
    warehouses: Vec<Warehouse>,
    warehouse_rows: HashMap<String, (String, usize)>,
    inventory: Vec<(InventoryRecord, String, usize)>,
    orders: Vec<(DeliveryOrder, String, usize)>,
    fleet: Vec<(Vehicle, String, usize)>,
    returns: ReturnsSummary,
    saw_warehouse_file: bool,
    saw_product_file: bool,
}

impl Acc {
    fn finish(&mut self, opts: &ImportOptions, problems: &mut Problems) -> Dataset {
        // Warehouses named anywhere must exist when a warehouse file was given.
        let known: HashSet<String> = self.warehouses.iter().map(|w| w.id.clone()).collect();
        if self.saw_warehouse_file {
            for (wh, (file, row)) in &self.demand_warehouses {
                if !known.contains(wh) {
                    problems.error(
                        file,
                        *row,
                        Some("warehouse"),
                        Some(wh),
                        "unknown warehouse: it is not in the warehouses file",
                    );
                }
            }
            let refs = self
                .inventory
                .iter()
                .map(|(r, f, row)| (&r.warehouse, f, *row))
                .chain(self.orders.iter().map(|(o, f, row)| (&o.warehouse, f, *row)))
                .chain(self.fleet.iter().map(|(v, f, row)| (&v.warehouse, f, *row)));
            for (wh, file, row) in refs {
                if !known.contains(wh) {
                    problems.error(
                        file,
                        Some(row),
                        Some("warehouse"),
                        Some(wh),
                        "unknown warehouse: it is not in the warehouses file",
                    );
                }
            }
        }

        // Demand series: gap-free from each series' first day to the last
        // day of all the data; missing days are zero demand.
        let last_day = self.series.values().flat_map(|s| s.days.iter().map(|d| d.day)).max();
        let mut demand = Vec::with_capacity(self.series.len());
        let mut keys: Vec<(String, String)> = self.series.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let Some(mut acc) = self.series.remove(&key) else {
                continue;
            };
            let Some(last) = last_day else { break };
            acc.days.sort_by_key(|d| (d.day, d.file, d.row));
            let first = acc.days.first().map_or(last, |d| d.day);
            let len = (last - first + 1).max(0) as usize;
            let mut values = vec![0.0; len];
            let mut promo = acc.has_promo.then(|| vec![false; len]);
            let mut prev: Option<DayRow> = None;
            for d in &acc.days {
                if let Some(p) = prev.filter(|p| p.day == d.day && !acc.sums_duplicates) {
                    let file = &self.demand_files[d.file as usize];
                    let place = if p.file == d.file {
                        format!("row {}", p.row)
                    } else {
                        format!("{} row {}", self.demand_files[p.file as usize], p.row)
                    };
                    problems.error(
                        file,
                        Some(d.row as usize),
                        None,
                        None,
                        format!(
                            "duplicate row: sku {}, warehouse {}, {} is already on {place}; expected one row per \
                             day, SKU and warehouse",
                            key.0,
                            key.1,
                            days_to_date(d.day).map(|d| d.to_string()).unwrap_or_default(),
                        ),
                    );
                }
                prev = Some(*d);
                let i = (d.day - first) as usize;
                values[i] += d.qty;
                if let Some(pr) = promo.as_mut() {
                    pr[i] |= d.promo;
                }
            }
            let Some(start) = days_to_date(first) else { continue };
            demand.push(DemandSeries {
                sku: key.0,
                warehouse: key.1,
                start,
                values,
                promo,
            });
        }

        // Products: every SKU with demand has one; made up when missing.
        let mut products = std::mem::take(&mut self.products);
        let have: HashSet<String> = products.iter().map(|p| p.sku.clone()).collect();
        let mut missing: Vec<&str> = demand
            .iter()
            .map(|s| s.sku.as_str())
            .filter(|s| !have.contains(*s))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if self.saw_product_file && !missing.is_empty() {
            problems.warning(
                "products",
                None,
                None,
                None,
                format!(
                    "{} SKU(s) with sales are not in the product file (e.g. {}); they get a product row titled \
                     by their code or transaction description, with default pack size, MOQ and lead time",
                    missing.len(),
                    missing.iter().take(5).copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        for sku in missing {
            products.push(Product::made_from_sales(
                sku,
                self.descriptions.get(sku).map(String::as_str),
                &opts.product_defaults,
            ));
        }
        products.sort_by(|a, b| a.sku.cmp(&b.sku));

        // Warehouses: from the file, or made from the ids the data uses.
        let mut warehouses = std::mem::take(&mut self.warehouses);
        if !self.saw_warehouse_file {
            let mut ids: BTreeSet<String> = self.demand_warehouses.keys().cloned().collect();
            ids.extend(self.inventory.iter().map(|(r, _, _)| r.warehouse.clone()));
            ids.extend(self.orders.iter().map(|(o, _, _)| o.warehouse.clone()));
            ids.extend(self.fleet.iter().map(|(v, _, _)| v.warehouse.clone()));
            warehouses = ids
                .into_iter()
                .map(|id| Warehouse {
                    name: id.clone(),
                    id,
                    lat: None,
                    lon: None,
                })
                .collect();
        }

        Dataset {
            products,
            warehouses,
            demand,
            inventory: self.inventory.drain(..).map(|(r, _, _)| r).collect(),
            orders: self.orders.drain(..).map(|(o, _, _)| o).collect(),
            fleet: self.fleet.drain(..).map(|(v, _, _)| v).collect(),
            returns: std::mem::take(&mut self.returns),
        }
    }
}

// ------------------------------------------------------- sales, transactions

const ROW: &str = "__row";

/// Parse, check and aggregate a sales or transactions file with polars.
/// Returns the date format that was used.
fn read_demand(
    t: &Table,
    kind: FileKind,
    opts: &ImportOptions,
    problems: &mut Problems,
    acc: &mut Acc,
) -> PolarsResult<Option<String>> {
    let label = t.label.clone();
    let date_col = t.col(Field::Date).unwrap_or_default().to_string();
    let Some(date_ca) = t.text_column(Field::Date) else {
        return Ok(None);
    };
    let samples = sample_values(date_ca, 1000);
    if samples.is_empty() {
        problems.error(
            &label,
            None,
            Some(&date_col),
            None,
            "the date column is empty; expected dates",
        );
        return Ok(None);
    }
    let (fmt, note) = match detect_date_format(&samples, opts.date_format.as_deref()) {
        Ok(x) => x,
        Err(msg) => {
            problems.error(&label, None, Some(&date_col), None, msg);
            return Ok(None);
        }
    };
    if let Some(note) = note {
        problems.warning(&label, None, Some(&date_col), None, note);
    }

    let c = |f: Field| t.col(f).map(col);
    let strptime = StrptimeOptions {
        format: Some(fmt.format.as_str().into()),
        strict: false,
        exact: true,
        cache: true,
    };
    let date_expr = if fmt.has_time {
        col(date_col.as_str())
            .str()
            .strip_chars(lit(NULL))
            .str()
            .to_datetime(Some(TimeUnit::Milliseconds), None, strptime, lit("raise"))
            .dt()
            .date()
    } else {
        col(date_col.as_str())
            .str()
            .strip_chars(lit(NULL))
            .str()
            .to_date(strptime)
    };
    let qty_name = t.col(Field::Quantity).unwrap_or_default().to_string();
    let number = |e: Expr| e.str().strip_chars(lit(NULL)).cast(DataType::Float64);
    let mut exprs = vec![
        col(ROW),
        date_expr.alias("date"),
        c(Field::Sku)
            .map_or(lit(NULL).cast(DataType::String), |e| e.str().strip_chars(lit(NULL)))
            .alias("sku"),
        c(Field::Warehouse)
            .map_or(lit(opts.default_warehouse.as_str()), |e| e.str().strip_chars(lit(NULL)))
            .alias("wh"),
        number(col(qty_name.as_str())).alias("qty"),
    ];
    if let Some(p) = c(Field::Promo) {
        let v = p.str().strip_chars(lit(NULL)).str().to_lowercase();
        let yes = ["1", "1.0", "true", "yes", "y", "t"]
            .into_iter()
            .map(|s| v.clone().eq(lit(s)))
            .reduce(Expr::or)
            .unwrap_or(lit(false));
        exprs.push(yes.fill_null(lit(false)).alias("promo"));
    }
    if kind == FileKind::Transactions {
        exprs.push(
            c(Field::Invoice)
                .map_or(lit(false), |e| {
                    e.str()
                        .strip_chars(lit(NULL))
                        .str()
                        .starts_with(lit("C"))
                        .fill_null(lit(false))
                })
                .alias("cancelled"),
        );
        if let Some(d) = c(Field::Description) {
            exprs.push(d.str().strip_chars(lit(NULL)).alias("description"));
        }
    }
    // DataFrame clones share their column buffers: this copies no data.
    let clock = std::time::Instant::now();
    let parsed = t.df.clone().lazy().with_row_index(ROW, None).select(exprs).collect()?;
    tracing::debug!(ms = clock.elapsed().as_millis(), "parsed");

    // Rows that cannot be used, each reported with its row and column.
    let sales = kind == FileKind::Sales;
    let mut bad = col("date")
        .is_null()
        .or(col("sku").is_null())
        .or(col("sku").eq(lit("")))
        .or(col("wh").is_null())
        .or(col("wh").eq(lit("")))
        .or(col("qty").is_null())
        .or(col("qty").is_finite().not());
    if sales {
        bad = bad.or(col("qty").lt(lit(0.0)));
    }
    let bad_rows = parsed.clone().lazy().filter(bad.clone()).collect()?;
    tracing::debug!(ms = clock.elapsed().as_millis(), bad = bad_rows.height(), "checked");
    if bad_rows.height() > 0 {
        let raw_cell = |field: Field, i: usize| -> Option<String> { t.text_column(field)?.get(i).map(str::to_string) };
        let rows = bad_rows.column(ROW)?.idx()?;
        let dates = bad_rows.column("date")?.date()?.physical().clone();
        let skus = bad_rows.column("sku")?.str()?;
        let whs = bad_rows.column("wh")?.str()?;
        let qtys = bad_rows.column("qty")?.f64()?;
        for k in 0..bad_rows.height() {
            let Some(i) = rows.get(k).map(|r| r as usize) else {
                continue;
            };
            let row = Some(t.row(i));
            if dates.get(k).is_none() {
                let v = raw_cell(Field::Date, i);
                let msg = if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    "a date is required here".to_string()
                } else {
                    format!("expected a date like {}", example_date(&fmt))
                };
                problems.error(&label, row, t.col(Field::Date), v.as_deref(), msg);
            }
            if skus.get(k).is_none_or(str::is_empty) {
                problems.error(&label, row, t.col(Field::Sku), None, "a SKU is required here");
            }
            if whs.get(k).is_none_or(str::is_empty) {
                problems.error(
                    &label,
                    row,
                    t.col(Field::Warehouse),
                    None,
                    "a warehouse is required here",
                );
            }
            match qtys.get(k) {
                None => {
                    let v = raw_cell(Field::Quantity, i);
                    let msg = if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
                        "a quantity is required here"
                    } else {
                        "expected a number (a quantity such as 12 or 3.5)"
                    };
                    problems.error(&label, row, t.col(Field::Quantity), v.as_deref(), msg);
                }
                Some(q) if !q.is_finite() => {
                    problems.error(
                        &label,
                        row,
                        t.col(Field::Quantity),
                        Some(&q.to_string()),
                        "expected a finite quantity",
                    );
                }
                Some(q) if sales && q < 0.0 => problems.error(
                    &label,
                    row,
                    t.col(Field::Quantity),
                    Some(&q.to_string()),
                    "expected a quantity of 0 or more; returns belong in a transactions file (negative \
                     quantities or invoices starting with C)",
                ),
                _ => {}
            }
        }
        return Ok(Some(fmt.format));
    }

    let has_promo = t.col(Field::Promo).is_some();
    let demand_rows = if sales {
        // One row per day already; duplicates are found when series are built.
        parsed
    } else {
        let good = parsed.lazy();
        // Returns and cancellations are kept apart from demand.
        let cancelled = col("cancelled");
        let returns = good
            .clone()
            .filter(cancelled.clone().or(col("qty").lt(lit(0.0))))
            .group_by([col("sku"), col("cancelled")])
            .agg([
                when(col("qty").lt(lit(0.0)))
                    .then(lit(0.0) - col("qty"))
                    .otherwise(col("qty"))
                    .sum()
                    .alias("units"),
                len().alias("lines"),
            ])
            .collect()?;
        let skus = returns.column("sku")?.str()?;
        let canc = returns.column("cancelled")?.bool()?;
        let units = returns.column("units")?.f64()?;
        let lines = returns.column("lines")?.idx()?;
        for k in 0..returns.height() {
            let (Some(sku), Some(c), Some(u), Some(n)) = (skus.get(k), canc.get(k), units.get(k), lines.get(k)) else {
                continue;
            };
            if c {
                acc.returns.cancellation_lines += n as usize;
                acc.returns.cancelled_units += u;
            } else {
                acc.returns.return_lines += n as usize;
                acc.returns.returned_units += u;
            }
            *acc.returns.by_sku.entry(sku.to_string()).or_insert(0.0) += u;
        }
        if t.col(Field::Description).is_some() {
            let desc = good
                .clone()
                .filter(col("description").is_not_null().and(col("description").neq(lit(""))))
                .group_by([col("sku")])
                .agg([col("description").first().alias("description")])
                .collect()?;
            let skus = desc.column("sku")?.str()?;
            let ds = desc.column("description")?.str()?;
            for (s, d) in skus.iter().zip(ds.iter()) {
                if let (Some(s), Some(d)) = (s, d) {
                    acc.descriptions.entry(s.to_string()).or_insert_with(|| d.to_string());
                }
            }
        }
        // Several lines a day add up when the series is built.
        good.filter(cancelled.not().and(col("qty").gt(lit(0.0)))).collect()?
    };
    tracing::debug!(ms = clock.elapsed().as_millis(), rows = demand_rows.height(), "split");

    let file = acc.demand_files.len() as u32;
    acc.demand_files.push(label.clone());
    let skus = demand_rows.column("sku")?.str()?;
    let whs = demand_rows.column("wh")?.str()?;
    let dates = demand_rows.column("date")?.date()?.physical();
    let qtys = demand_rows.column("qty")?.f64()?;
    let rows = demand_rows.column(ROW)?.idx()?;
    let promos = if has_promo {
        Some(demand_rows.column("promo")?.bool()?)
    } else {
        None
    };
    // Series are found by borrowed keys: a million rows allocate nothing.
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut found: Vec<(&str, &str, Vec<DayRow>)> = Vec::new();
    let mut promo_iter = promos.map(|p| p.iter());
    for ((((sku, wh), day), q), row) in skus
        .iter()
        .zip(whs.iter())
        .zip(dates.iter())
        .zip(qtys.iter())
        .zip(rows.iter())
    {
        let promo = promo_iter.as_mut().and_then(Iterator::next).flatten().unwrap_or(false);
        let (Some(sku), Some(wh), Some(day), Some(qty), Some(row)) = (sku, wh, day, q, row) else {
            continue;
        };
        let n = found.len();
        let i = *index.entry((sku, wh)).or_insert(n);
        if i == n {
            found.push((sku, wh, Vec::new()));
        }
        found[i].2.push(DayRow {
            day,
            qty,
            promo,
            file,
            row: t.row(row as usize) as u32,
        });
    }
    for (sku, wh, days) in found {
        if !acc.demand_warehouses.contains_key(wh) {
            let first_row = days.iter().map(|d| d.row as usize).min();
            acc.demand_warehouses.insert(wh.to_string(), (label.clone(), first_row));
        }
        let s = acc.series.entry((sku.to_string(), wh.to_string())).or_default();
        s.has_promo |= has_promo;
        s.sums_duplicates |= !sales;
        s.days.extend(days);
    }
    tracing::debug!(ms = clock.elapsed().as_millis(), "collected");
    Ok(Some(fmt.format))
}

fn example_date(f: &DateFormat) -> String {
    let d = NaiveDate::from_ymd_opt(2017, 3, 31)
        .and_then(|d| d.and_hms_opt(14, 5, 0))
        .map(|dt| dt.format(&f.format).to_string())
        .unwrap_or_default();
    format!("{d} ({})", f.format)
}

// ------------------------------------------------------- small tables

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A required text cell, or an error.
fn required_text<'a>(t: &'a Table, f: Field, i: usize, problems: &mut Problems) -> Option<&'a str> {
    let v = t.cell(f, i);
    if v.is_none() {
        problems.error(
            &t.label,
            Some(t.row(i)),
            t.col(f),
            None,
            format!("a {f} is required here"),
        );
    }
    v
}

/// An optional number cell at or above `min`; `Err` after reporting a bad one.
fn number_cell(
    t: &Table,
    f: Field,
    i: usize,
    min: f64,
    what: &str,
    problems: &mut Problems,
) -> Result<Option<f64>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    match parse_number(s) {
        Some(v) if v >= min => Ok(Some(v)),
        _ => {
            problems.error(&t.label, Some(t.row(i)), t.col(f), Some(s), format!("expected {what}"));
            Err(())
        }
    }
}

fn whole_cell(t: &Table, f: Field, i: usize, min: u32, what: &str, problems: &mut Problems) -> Result<Option<u32>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    match parse_number(s) {
        Some(v) if v.fract() == 0.0 && v >= f64::from(min) && v <= f64::from(u32::MAX) => Ok(Some(v as u32)),
        _ => {
            problems.error(&t.label, Some(t.row(i)), t.col(f), Some(s), format!("expected {what}"));
            Err(())
        }
    }
}

fn date_cell(
    t: &Table,
    f: Field,
    i: usize,
    fmt: Option<&DateFormat>,
    problems: &mut Problems,
) -> Result<Option<NaiveDate>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    // Without a format the column as a whole was already reported.
    let Some(fmt) = fmt else { return Err(()) };
    match parse_with(s, fmt) {
        Some(d) => Ok(Some(d)),
        None => {
            let ex = example_date(fmt);
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(f),
                Some(s),
                format!("expected a date like {ex}"),
            );
            Err(())
        }
    }
}

/// Detect the date format of a small table's date column, reporting when no
/// format fits.
fn column_date_format(t: &Table, f: Field, opts: &ImportOptions, problems: &mut Problems) -> Option<DateFormat> {
    let ca = t.text_column(f)?;
    let samples = sample_values(ca, 1000);
    if samples.is_empty() {
        return None;
    }
    match detect_date_format(&samples, opts.date_format.as_deref()) {
        Ok((fmt, note)) => {
            if let Some(note) = note {
                problems.warning(&t.label, None, t.col(f), None, note);
            }
            Some(fmt)
        }
        Err(msg) => {
            problems.error(&t.label, None, t.col(f), None, msg);
            None
        }
    }
}

/// Minutes after midnight from "08:30", "8:30:00", "2024-05-01 08:30", or a
/// plain number of minutes (as in the Solomon instances).
pub fn parse_time_of_day(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(v) = parse_number(s) {
        return (v >= 0.0 && v <= f64::from(u32::MAX)).then_some(v.round() as u32);
    }
    let t = NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%d %H:%M",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%dT%H:%M:%S",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(|d| d.time())
        });
    if let Some(t) = t {
        return Some(t.hour() * 60 + t.minute());
    }
    // "24:00" is a common way to say end of day.
    (s == "24:00" || s == "24:00:00").then_some(24 * 60)
}

fn time_cell(t: &Table, f: Field, i: usize, problems: &mut Problems) -> Result<Option<u32>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    match parse_time_of_day(s) {
        Some(v) => Ok(Some(v)),
        None => {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(f),
                Some(s),
                "expected a time of day like 08:30 or a number of minutes after midnight",
            );
            Err(())
        }
    }
}

/// Report a key seen before in this or another file of the same kind.
fn check_duplicate(
    seen: &mut HashMap<String, (String, usize)>,
    key: &str,
    t: &Table,
    i: usize,
    column: Field,
    what: &str,
    problems: &mut Problems,
) -> bool {
    let row = t.row(i);
    if let Some((file, first)) = seen.get(key) {
        let place = if *file == t.label {
            format!("row {first}")
        } else {
            format!("{file} row {first}")
        };
        problems.error(
            &t.label,
            Some(row),
            t.col(column),
            Some(key),
            format!("duplicate {what}: already on {place}; expected each {what} once"),
        );
        true
    } else {
        seen.insert(key.to_string(), (t.label.clone(), row));
        false
    }
}

fn read_products(t: &Table, opts: &ImportOptions, problems: &mut Problems, acc: &mut Acc) {
    acc.saw_product_file = true;
    let d = &opts.product_defaults;
    for i in 0..t.height() {
        let Some(sku) = required_text(t, Field::Sku, i, problems) else {
            continue;
        };
        if check_duplicate(&mut acc.product_rows, sku, t, i, Field::Sku, "SKU", problems) {
            continue;
        }
        let unit_cost = number_cell(t, Field::UnitCost, i, 0.0, "a unit cost of 0 or more", problems);
        let price = number_cell(t, Field::Price, i, 0.0, "a price of 0 or more", problems);
        let pack = whole_cell(t, Field::PackSize, i, 1, "a whole pack size of 1 or more", problems);
        let moq = whole_cell(
            t,
            Field::Moq,
            i,
            0,
            "a whole minimum order quantity of 0 or more",
            problems,
        );
        let lead = whole_cell(
            t,
            Field::LeadTime,
            i,
            0,
            "a lead time in whole days, 0 or more",
            problems,
        );
        let (Ok(unit_cost), Ok(price), Ok(pack), Ok(moq), Ok(lead)) = (unit_cost, price, pack, moq, lead) else {
            continue;
        };
        acc.products.push(Product {
            sku: sku.to_string(),
            title: t.cell(Field::Title, i).unwrap_or(sku).to_string(),
            category: t.cell(Field::Category, i).map(str::to_string),
            brand: t.cell(Field::Brand, i).map(str::to_string),
            unit_cost,
            price,
            pack_size: pack.unwrap_or(d.pack_size),
            moq: moq.unwrap_or(d.moq),
            lead_time_days: lead.unwrap_or(d.lead_time_days),
            supplier: t.cell(Field::Supplier, i).map(str::to_string),
            synthesized: false,
        });
    }
}

fn read_inventory(t: &Table, opts: &ImportOptions, problems: &mut Problems, acc: &mut Acc) -> Option<String> {
    let fmt = column_date_format(t, Field::DueDate, opts, problems);
    let mut seen: HashMap<String, (String, usize)> = acc
        .inventory
        .iter()
        .map(|(r, f, row)| (format!("{} / {}", r.sku, r.warehouse), (f.clone(), *row)))
        .collect();
    for i in 0..t.height() {
        let sku = required_text(t, Field::Sku, i, problems);
        let wh = required_text(t, Field::Warehouse, i, problems);
        let on_hand = match t.cell(Field::OnHand, i) {
            None => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(Field::OnHand),
                    None,
                    "a quantity on hand is required here",
                );
                Err(())
            }
            Some(_) => number_cell(t, Field::OnHand, i, f64::MIN, "a quantity on hand (a number)", problems),
        };
        let on_order = number_cell(t, Field::OnOrder, i, 0.0, "a quantity on order of 0 or more", problems);
        let due = date_cell(t, Field::DueDate, i, fmt.as_ref(), problems);
        let (Some(sku), Some(wh), Ok(Some(on_hand)), Ok(on_order), Ok(due)) = (sku, wh, on_hand, on_order, due) else {
            continue;
        };
        let key = format!("{sku} / {wh}");
        if check_duplicate(&mut seen, &key, t, i, Field::Sku, "SKU and warehouse", problems) {
            continue;
        }
        let on_order = on_order.unwrap_or(0.0);
        if on_order > 0.0 && due.is_none() && t.col(Field::DueDate).is_some() {
            problems.warning(
                &t.label,
                Some(t.row(i)),
                t.col(Field::DueDate),
                None,
                "stock is on order but no due date is given; it will be treated as due after the lead time",
            );
        }
        acc.inventory.push((
            InventoryRecord {
                sku: sku.to_string(),
                warehouse: wh.to_string(),
                on_hand,
                on_order,
                due_date: due,
            },
            t.label.clone(),
            t.row(i),
        ));
    }
    fmt.map(|f| f.format)
}

fn read_warehouses(t: &Table, problems: &mut Problems, acc: &mut Acc) {
    acc.saw_warehouse_file = true;
    for i in 0..t.height() {
        let Some(id) = required_text(t, Field::Id, i, problems) else {
            continue;
        };
        let lat = number_cell(t, Field::Lat, i, -90.0, "a latitude between -90 and 90", problems)
            .and_then(|v| check_max(t, Field::Lat, i, v, 90.0, "a latitude between -90 and 90", problems));
        let lon = number_cell(t, Field::Lon, i, -180.0, "a longitude between -180 and 180", problems)
            .and_then(|v| check_max(t, Field::Lon, i, v, 180.0, "a longitude between -180 and 180", problems));
        if check_duplicate(&mut acc.warehouse_rows, id, t, i, Field::Id, "warehouse", problems) {
            continue;
        }
        let (Ok(lat), Ok(lon)) = (lat, lon) else { continue };
        acc.warehouses.push(Warehouse {
            id: id.to_string(),
            name: t.cell(Field::Name, i).unwrap_or(id).to_string(),
            lat,
            lon,
        });
    }
}

fn check_max(
    t: &Table,
    f: Field,
    i: usize,
    v: Option<f64>,
    max: f64,
    what: &str,
    problems: &mut Problems,
) -> Result<Option<f64>, ()> {
    match v {
        Some(x) if x > max => {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(f),
                Some(&x.to_string()),
                format!("expected {what}"),
            );
            Err(())
        }
        _ => Ok(v),
    }
}

fn read_orders(t: &Table, opts: &ImportOptions, problems: &mut Problems, acc: &mut Acc) -> Option<String> {
    let latlon = t.col(Field::Lat).is_some() && t.col(Field::Lon).is_some();
    let xy = t.col(Field::X).is_some() && t.col(Field::Y).is_some();
    if !latlon && !xy {
        problems.error(
            &t.label,
            None,
            None,
            None,
            "the orders file needs coordinates: lat and lon columns, or x and y columns",
        );
        return None;
    }
    let fmt = column_date_format(t, Field::Date, opts, problems);
    let mut seen: HashMap<String, (String, usize)> = acc
        .orders
        .iter()
        .map(|(o, f, row)| (o.id.clone(), (f.clone(), *row)))
        .collect();
    for i in 0..t.height() {
        let id = required_text(t, Field::Id, i, problems);
        let wh = required_text(t, Field::Warehouse, i, problems);
        let (a, b) = if latlon {
            (Field::Lat, Field::Lon)
        } else {
            (Field::X, Field::Y)
        };
        let ca = number_cell(t, a, i, f64::MIN, "a coordinate (a number)", problems);
        let cb = number_cell(t, b, i, f64::MIN, "a coordinate (a number)", problems);
        let location = match (ca, cb) {
            (Ok(Some(p)), Ok(Some(q))) => {
                if latlon && (p.abs() > 90.0 || q.abs() > 180.0) {
                    problems.error(
                        &t.label,
                        Some(t.row(i)),
                        t.col(Field::Lat),
                        Some(&format!("{p}, {q}")),
                        "expected a latitude between -90 and 90 and a longitude between -180 and 180",
                    );
                    None
                } else if latlon {
                    Some(Location::LatLon { lat: p, lon: q })
                } else {
                    Some(Location::Xy { x: p, y: q })
                }
            }
            (Ok(None), _) | (_, Ok(None)) => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(a),
                    None,
                    "coordinates are required here",
                );
                None
            }
            _ => None,
        };
        let qty = match number_cell(t, Field::Quantity, i, 0.0, "a quantity of 0 or more", problems) {
            Ok(None) => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(Field::Quantity),
                    None,
                    "a quantity is required here",
                );
                Err(())
            }
            other => other,
        };
        let date = date_cell(t, Field::Date, i, fmt.as_ref(), problems);
        let ready = time_cell(t, Field::Ready, i, problems);
        let due = time_cell(t, Field::Due, i, problems);
        let service = number_cell(t, Field::Service, i, 0.0, "service minutes, 0 or more", problems);
        let (Some(id), Some(wh), Some(location), Ok(Some(qty)), Ok(date), Ok(ready), Ok(due), Ok(service)) =
            (id, wh, location, qty, date, ready, due, service)
        else {
            continue;
        };
        let ready = ready.unwrap_or(0);
        let due = due.unwrap_or(24 * 60);
        if due < ready {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(Field::Due),
                t.cell(Field::Due, i),
                format!(
                    "the due time is before the ready time ({}); expected due at or after ready",
                    fmt_minutes(ready)
                ),
            );
            continue;
        }
        if check_duplicate(&mut seen, id, t, i, Field::Id, "order id", problems) {
            continue;
        }
        acc.orders.push((
            DeliveryOrder {
                id: id.to_string(),
                warehouse: wh.to_string(),
                customer: t.cell(Field::Customer, i).map(str::to_string),
                location,
                quantity: qty,
                date,
                ready_min: ready,
                due_min: due,
                service_min: service.map_or(0, |s| s.round() as u32),
            },
            t.label.clone(),
            t.row(i),
        ));
    }
    fmt.map(|f| f.format)
}

fn fmt_minutes(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn read_fleet(t: &Table, problems: &mut Problems, acc: &mut Acc) {
    let mut seen: HashMap<String, (String, usize)> = acc
        .fleet
        .iter()
        .map(|(v, f, row)| (v.id.clone(), (f.clone(), *row)))
        .collect();
    for i in 0..t.height() {
        let id = required_text(t, Field::Id, i, problems);
        let wh = required_text(t, Field::Warehouse, i, problems);
        let cap = match number_cell(t, Field::Capacity, i, f64::MIN_POSITIVE, "a capacity above 0", problems) {
            Ok(None) => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(Field::Capacity),
                    None,
                    "a capacity is required here",
                );
                Err(())
            }
            other => other,
        };
        let start = time_cell(t, Field::ShiftStart, i, problems);
        let end = time_cell(t, Field::ShiftEnd, i, problems);
        let speed = number_cell(
            t,
            Field::Speed,
            i,
            f64::MIN_POSITIVE,
            "a speed in km/h above 0",
            problems,
        );
        let cost = number_cell(t, Field::CostPerKm, i, 0.0, "a cost per km of 0 or more", problems);
        let (Some(id), Some(wh), Ok(Some(cap)), Ok(start), Ok(end), Ok(speed), Ok(cost)) =
            (id, wh, cap, start, end, speed, cost)
        else {
            continue;
        };
        let start = start.unwrap_or(8 * 60);
        let end = end.unwrap_or(18 * 60);
        if end <= start {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(Field::ShiftEnd),
                t.cell(Field::ShiftEnd, i),
                format!(
                    "the shift ends before it starts ({}); expected an end after the start",
                    fmt_minutes(start)
                ),
            );
            continue;
        }
        if check_duplicate(&mut seen, id, t, i, Field::Id, "vehicle id", problems) {
            continue;
        }
        acc.fleet.push((
            Vehicle {
                id: id.to_string(),
                warehouse: wh.to_string(),
                capacity: cap,
                shift_start_min: start,
                shift_end_min: end,
                speed_kmh: speed.unwrap_or(40.0),
                cost_per_km: cost.unwrap_or(0.0),
            },
            t.label.clone(),
            t.row(i),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_iso_and_us_and_european_dates() {
        let (f, note) = detect_date_format(&["2017-01-01", "2017-12-31"], None).unwrap();
        assert_eq!(f.format, "%Y-%m-%d");
        assert!(note.is_none());
        let (f, _) = detect_date_format(&["12/1/2010 8:26", "12/13/2010 17:02"], None).unwrap();
        assert_eq!(f.format, "%m/%d/%Y %H:%M");
        let (f, _) = detect_date_format(&["31/01/2017", "01/02/2017"], None).unwrap();
        assert_eq!(f.format, "%d/%m/%Y");
        let (f, note) = detect_date_format(&["01/02/2017", "03/04/2017"], None).unwrap();
        assert_eq!(f.format, "%m/%d/%Y");
        assert!(note.unwrap().contains("month/day or day/month"));
        let err = detect_date_format(&["yesterday"], None).unwrap_err();
        assert!(err.contains("'yesterday'"), "{err}");
        let (f, _) = detect_date_format(&["01/02/2017"], Some("%d/%m/%Y")).unwrap();
        assert_eq!(parse_with("01/02/2017", &f), NaiveDate::from_ymd_opt(2017, 2, 1));
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("08:30"), Some(510));
        assert_eq!(parse_time_of_day("8:30:00"), Some(510));
        assert_eq!(parse_time_of_day("912"), Some(912));
        assert_eq!(parse_time_of_day("2024-05-01 17:15"), Some(17 * 60 + 15));
        assert_eq!(parse_time_of_day("24:00"), Some(1440));
        assert_eq!(parse_time_of_day("noon"), None);
        assert_eq!(parse_time_of_day("-5"), None);
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2017, 9, 30).unwrap();
        assert_eq!(days_to_date(date_to_days(d)), Some(d));
        assert_eq!(days_to_date(0), NaiveDate::from_ymd_opt(1970, 1, 1));
    }
}
