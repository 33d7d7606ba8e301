//! The importer: CSV and Parquet files in, a validated [`Dataset`] out, or a
//! report of every problem and nothing imported at all.
//!
//! This module runs the import: it expands folders to files, reads each one
//! (`read`), tells what it holds and which column is which field
//! (`mapping`), hands it to its reader (`aggregate` for sales and
//! transaction lines, summed to daily demand with polars expressions;
//! `validate` for the small tables, checked row by row) and summarizes the
//! result.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::data::aggregate::{Acc, DemandFile, DemandRules, read_demand};
use crate::data::mapping::{ColumnMap, Field, FileKind, ambiguous, detect_kind, normalize, resolve};
use crate::data::numbers::{ambiguous_message, plain_numbers};
use crate::data::problems::{Problem, Problems, Severity};
use crate::data::read::{Format, READABLE, ReadError, Table, TextFrame, format_of, read_text_frame};
use crate::data::sheets::read_workbook;
use crate::data::validate::{
    read_events, read_fleet, read_inventory, read_orders, read_prices, read_products, read_warehouses,
};
use crate::data::wide::{DayNames, lengthen};
use crate::domain::{Dataset, Period, PeriodKind, ProductDefaults, ReturnsSummary};

pub use crate::data::detect::{DateFormat, detect_date_format, parse_time_of_day};

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
    /// `--period`: count demand in days, weeks or months; detected from the
    /// dates when `None`.
    #[serde(default)]
    pub period: Option<PeriodKind>,
    /// `--strict`: reject negative quantities in sales files instead of
    /// reading them as returns.
    #[serde(default)]
    pub strict: bool,
    /// SKUs that are no stock (postage, fees, manual adjustments): left out
    /// of the data, so that nothing forecasts or orders them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_skus: Vec<String>,
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
            period: None,
            strict: false,
            exclude_skus: Vec::new(),
        }
    }
}

/// One file that was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The sheet, for a workbook.
    #[serde(default)]
    pub sheet: Option<String>,
    pub kind: FileKind,
    pub rows: usize,
    /// Which column gave each field.
    pub columns: BTreeMap<Field, String>,
    pub date_format: Option<String>,
    /// A demand file's period in words ("weekly (stamped on Fridays)",
    /// "daily, summed into weeks").
    #[serde(default)]
    pub period: Option<String>,
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
    /// What each demand value counts.
    #[serde(default)]
    pub period: Period,
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
    /// Known events read from a calendar file.
    #[serde(default)]
    pub events: usize,
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Import files and folders (a folder means every file in it that can be
/// read: CSV, Parquet and workbooks).
pub fn import_paths(paths: &[PathBuf], opts: &ImportOptions) -> Result<Imported, ImportFailed> {
    let mut problems = Problems::new(opts.max_problems_per_sort);
    let mut acc = Acc::default();
    let mut files = Vec::new();
    let mut map_used: HashSet<Field> = HashSet::new();

    // Every file is read before any is taken apart: a table of numbered
    // days (M5's `d_1`, `d_2`, ...) is dated by a calendar given anywhere
    // in the import.
    let mut read = Vec::new();
    for path in expand(paths, &mut problems) {
        match read_parts(&path) {
            Ok(parts) => read.push((path, parts)),
            Err(e) => problems.error(&path.display().to_string(), e.row, None, None, e.message),
        }
    }
    let mut days = DayNames::default();
    for frame in read
        .iter()
        .flat_map(|(_, parts)| parts)
        .filter_map(|p| p.frame.as_ref().ok())
    {
        days.learn(&frame.df);
    }
    for (path, parts) in read {
        // In a workbook of several sheets, each sheet is named for what it
        // holds (or recognised by its columns); one that is neither, a
        // note or a pivot beside the data, is left out with a warning.
        let sheets = parts.iter().filter(|p| p.sheet.is_some()).count();
        for part in parts {
            let label = match &part.sheet {
                Some(name) => format!("{}, sheet '{name}'", path.display()),
                None => path.display().to_string(),
            };
            let clock = std::time::Instant::now();
            if part.hidden {
                problems.warning(
                    &label,
                    None,
                    None,
                    None,
                    "a hidden sheet: left out (show it in the workbook to have it read)",
                );
                continue;
            }
            let frame = match part.frame {
                Ok(df) => df,
                Err(e) => {
                    problems.error(&label, e.row, None, None, e.message);
                    continue;
                }
            };
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let by_name = match &part.sheet {
                Some(name) => {
                    FileKind::from_stem(name).or_else(|| (sheets == 1).then(|| FileKind::from_stem(&stem)).flatten())
                }
                None => FileKind::from_stem(&stem),
            };
            // A column per date (a pivot of sales): read as a row per SKU
            // and date.
            let Ok((frame, wide)) = lengthen(frame, by_name, &opts.map, &days, &label, &mut problems) else {
                continue;
            };
            let headers: Vec<String> = frame.df.get_column_names().iter().map(|s| s.to_string()).collect();
            let Some(kind) = by_name.or_else(|| detect_kind(&headers, &opts.map)) else {
                if is_forecast_template(&frame.df) {
                    problems.warning(
                        &label,
                        None,
                        None,
                        None,
                        "a template for forecasts (an id and columns F1, F2, ...), not data: left out",
                    );
                    continue;
                }
                if sheets > 1 {
                    problems.warning(
                        &label,
                        None,
                        None,
                        None,
                        format!(
                            "cannot tell what this sheet holds from its columns ({}); left out (name the sheet \
                             sales, transactions, products, inventory, warehouses, orders or fleet, or use --map)",
                            headers.join(", ")
                        ),
                    );
                    continue;
                }
                // Dates and quantities but nothing that names a SKU: most likely
                // sales by some other key (Walmart's Dept), which --map names.
                let sales = resolve(FileKind::Sales, &headers, &opts.map);
                if sales.contains_key(&Field::Date) && sales.contains_key(&Field::Quantity) {
                    let unused: Vec<&str> = headers
                        .iter()
                        .filter(|h| !sales.values().any(|v| v == *h))
                        .map(String::as_str)
                        .collect();
                    problems.error(
                        &label,
                        None,
                        None,
                        None,
                        format!(
                            "this looks like sales (dates in '{}', quantities in '{}') but no column names the SKU; \
                             expected one called sku, item or product, or give --map sku=COLUMN (one of: {})",
                            sales[&Field::Date],
                            sales[&Field::Quantity],
                            unused.join(", ")
                        ),
                    );
                    continue;
                }
                problems.error(
                    &label,
                    None,
                    None,
                    None,
                    format!(
                        "cannot tell what this file holds from its columns ({}); name it sales, transactions, products, \
                         inventory, warehouses, orders or fleet (the file, or its sheet in a workbook), or use --map to \
                         name its columns",
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
            // Two columns that could give one field: reading either would be a guess.
            let clashes = ambiguous(kind, &headers, &opts.map, &columns);
            for (f, cols) in &clashes {
                let quoted: Vec<String> = cols.iter().map(|c| format!("'{c}'")).collect();
                let (last, rest) = quoted.split_last().map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
                problems.error(
                    &label,
                    None,
                    None,
                    None,
                    format!(
                        "columns {} and {last} {} look like the '{f}' field; expected one of them: rename or \
                         drop the {}, or choose with --map {f}={}",
                        rest.join(", "),
                        if cols.len() > 2 { "all" } else { "both" },
                        if cols.len() > 2 { "others" } else { "other" },
                        cols.first().map_or("COLUMN", String::as_str)
                    ),
                );
            }
            if !missing.is_empty() || !clashes.is_empty() {
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
            // What reading found, where it matters: a formula's error in a
            // column that gives a field, two columns of one name.
            let mut deferred = false;
            for d in &frame.deferred {
                if d.column.as_ref().is_none_or(|c| columns.values().any(|v| v == c)) {
                    problems.error(
                        &label,
                        d.row,
                        d.column.as_deref(),
                        d.value.as_deref(),
                        d.message.clone(),
                    );
                    deferred = true;
                }
            }
            if deferred {
                continue;
            }
            for n in &frame.notes {
                problems.warning(&label, n.row, None, None, n.message.clone());
            }
            // The table's own rows (a wide table's, not its long form's).
            let rows = frame.table_rows.unwrap_or(frame.df.height());
            let mut df = frame.df;
            // A pivot's quantities are plain digits already.
            let skip = if wide { Some(Field::Quantity) } else { None };
            match plain_numbers(&mut df, &columns, frame.decimal, skip) {
                Ok(unclear) if unclear.is_empty() => {}
                Ok(unclear) => {
                    for (i, column, value) in unclear {
                        let row = frame.rows.as_ref().map_or(i + frame.row_base, |r| r[i % r.len()]);
                        problems.error(&label, Some(row), Some(&column), None, ambiguous_message(&value));
                    }
                    continue;
                }
                Err(e) => {
                    problems.error(&label, None, None, None, format!("could not be processed: {e}"));
                    continue;
                }
            }
            let t = Table {
                label: label.clone(),
                df,
                columns,
                row_base: frame.row_base,
                rows: frame.rows,
            };
            tracing::debug!(file = %label, rows = t.height(), ms = clock.elapsed().as_millis(), "read as text");
            let mut period = None;
            // A sales file without rows is an error where it is read; any
            // other kind would be read as nothing without a word.
            if t.height() == 0 && !matches!(kind, FileKind::Sales | FileKind::Transactions) {
                problems.warning(
                    &label,
                    None,
                    None,
                    None,
                    format!(
                        "read as {} but has no rows below its header: nothing was read from it",
                        kind.name()
                    ),
                );
            }
            let date_format = match kind {
                FileKind::Sales | FileKind::Transactions => {
                    let rules = DemandRules {
                        forced_date_format: opts.date_format.as_deref(),
                        default_warehouse: &opts.default_warehouse,
                        period: opts.period,
                        strict: opts.strict,
                    };
                    let found = read_demand(&t, kind, &rules, &mut problems, &mut acc).unwrap_or_else(|e| {
                        problems.error(&label, None, None, None, format!("could not be processed: {e}"));
                        DemandFile::default()
                    });
                    period = found.period.map(|c| match c.found {
                        Some(f) if f == c.period => f.describe(),
                        Some(f) if c.sums() => format!("{}, summed into {}", f.describe(), c.period.plural()),
                        Some(f) => format!("{}, read as {} (--period)", f.describe(), c.period.plural()),
                        None if c.sums() => format!("irregular dates, summed into {}", c.period.plural()),
                        None => format!("irregular dates, read as {} (--period)", c.period.plural()),
                    });
                    found.date_format
                }
                FileKind::Products => {
                    read_products(
                        &t,
                        &opts.product_defaults,
                        opts.date_format.as_deref(),
                        &mut problems,
                        &mut acc,
                    );
                    None
                }
                FileKind::Inventory => read_inventory(&t, opts.date_format.as_deref(), &mut problems, &mut acc),
                FileKind::Warehouses => {
                    read_warehouses(&t, &mut problems, &mut acc);
                    None
                }
                FileKind::Orders => read_orders(&t, opts.date_format.as_deref(), &mut problems, &mut acc),
                FileKind::Events => read_events(&t, opts.date_format.as_deref(), &mut problems, &mut acc),
                FileKind::Fleet => {
                    read_fleet(&t, &mut problems, &mut acc);
                    None
                }
                FileKind::Prices => {
                    read_prices(&t, &mut problems, &mut acc);
                    None
                }
            };
            files.push(SourceFile {
                path: path.clone(),
                sheet: part.sheet.clone(),
                kind,
                rows,
                columns: t.columns.clone(),
                date_format,
                period,
            });
        }
        summary_sheets(&path, &files, &mut problems);
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
            if problems.warning_count() > 0 {
                "nothing to import: every sheet was left out (see the warnings)".to_string()
            } else {
                format!("nothing to import: expected {READABLE} with data")
            },
        );
    }

    let clock = std::time::Instant::now();
    let period = acc.period().unwrap_or_default();
    let mut dataset = acc.finish(&opts.product_defaults, &mut problems);
    leave_out(&mut dataset, &opts.exclude_skus, &mut problems);
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
    report.summary = Some(summarize(&dataset, acc_rows(&report), opts, period));
    Ok(Imported { dataset, report })
}

/// Leave out the SKUs the config's `[import] exclude_skus` names: their
/// sales, product rows and stock. Said, with those found, so a planner
/// sees what the plans do not hold (online-retail-2010's POST, DOT and
/// BANK CHARGES were planned as orders).
fn leave_out(ds: &mut Dataset, skus: &[String], problems: &mut Problems) {
    if skus.is_empty() {
        return;
    }
    let listed: HashSet<&str> = skus.iter().map(|s| s.trim()).collect();
    let mut found: BTreeSet<String> = BTreeSet::new();
    ds.demand.retain(|s| {
        let out = listed.contains(s.sku.as_str());
        if out {
            found.insert(s.sku.clone());
        }
        !out
    });
    ds.products.retain(|p| !listed.contains(p.sku.as_str()));
    ds.inventory.retain(|i| !listed.contains(i.sku.as_str()));
    ds.sold_until.retain(|sku, _| !listed.contains(sku.as_str()));
    // A listed SKU the data does not hold is said too (a typo in the
    // config would otherwise leave its SKU planned, unsaid).
    let mut absent: Vec<String> = listed
        .iter()
        .filter(|s| !found.contains(**s))
        .map(|s| format!("{s:?}"))
        .collect();
    if !absent.is_empty() {
        absent.sort_unstable();
        problems.warning(
            "config [import] exclude_skus",
            None,
            None,
            None,
            format!("no SKU in the data is called {}", absent.join(", ")),
        );
    }
    if found.is_empty() {
        return;
    }
    let shown: Vec<&str> = found.iter().take(8).map(String::as_str).collect();
    let more = found.len().saturating_sub(shown.len());
    problems.warning(
        "config [import] exclude_skus",
        None,
        None,
        None,
        format!(
            "{} SKUs left out, as the config asks (no stock: nothing forecasts or orders them): {}{}",
            found.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
    );
}

fn acc_rows(report: &ImportReport) -> usize {
    report
        .files
        .iter()
        .filter(|f| matches!(f.kind, FileKind::Sales | FileKind::Transactions))
        .map(|f| f.rows)
        .sum()
}

fn summarize(ds: &Dataset, demand_rows: usize, opts: &ImportOptions, period: Period) -> Summary {
    let new_periods = period.from_days(opts.new_series_days);
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
        period,
        zero_share: if days == 0 { 0.0 } else { zeros as f64 / days as f64 },
        intermittent_series: ds.demand.iter().filter(|s| s.is_intermittent()).count(),
        new_series: ds.demand.iter().filter(|s| s.values.len() < new_periods).count(),
        products: ds.products.len(),
        synthesized_products: ds.products.iter().filter(|p| p.synthesized).count(),
        inventory_rows: ds.inventory.len(),
        orders: ds.orders.len(),
        vehicles: ds.fleet.len(),
        returns: ds.returns.clone(),
        events: ds.events.len(),
    }
}

/// A workbook's sales sheet without warehouses beside one with them is
/// most likely a summary of the other: read both and its sales count
/// twice, so it is an error naming both.
fn summary_sheets(path: &std::path::Path, files: &[SourceFile], problems: &mut Problems) {
    let demand: Vec<&SourceFile> = files
        .iter()
        .filter(|f| f.path == path && f.sheet.is_some())
        .filter(|f| matches!(f.kind, FileKind::Sales | FileKind::Transactions))
        .collect();
    let placed = demand.iter().find(|f| f.columns.contains_key(&Field::Warehouse));
    let Some(placed) = placed else { return };
    for f in demand.iter().filter(|f| !f.columns.contains_key(&Field::Warehouse)) {
        problems.error(
            &format!("{}, sheet '{}'", path.display(), f.sheet.as_deref().unwrap_or_default()),
            None,
            None,
            None,
            format!(
                "holds sales without a warehouse column, beside sheet '{}' with one: if it sums that sheet, its \
                 sales would count twice; expected it hidden or out of the workbook, or with its warehouse column",
                placed.sheet.as_deref().unwrap_or_default()
            ),
        );
    }
}

/// One table of a file: the file itself, or one sheet of a workbook.
struct Part {
    /// The sheet's name (`None` for a CSV or Parquet file).
    sheet: Option<String>,
    /// A hidden sheet, left out.
    hidden: bool,
    frame: Result<TextFrame, ReadError>,
}

/// The tables of a file: one for a CSV or Parquet file, one per sheet with
/// data for a workbook (an error when the workbook cannot be opened).
fn read_parts(path: &std::path::Path) -> Result<Vec<Part>, ReadError> {
    if format_of(path) == Some(Format::Workbook) {
        let sheets = read_workbook(path)?;
        return Ok(sheets
            .into_iter()
            .map(|s| Part {
                sheet: Some(s.name),
                hidden: s.hidden,
                frame: s.frame,
            })
            .collect());
    }
    Ok(vec![Part {
        sheet: None,
        hidden: false,
        frame: read_text_frame(path),
    }])
}

/// The owner file a spreadsheet program keeps beside a workbook it has open
/// (`~$book.xlsx`), or the one macOS leaves beside a file on a foreign disk
/// (`._book.xlsx`): not data.
fn is_lock_file(path: &std::path::Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.starts_with("~$") || name.starts_with("._")
}

/// A table to fill with forecasts (M5's `sample_submission.csv`): an id,
/// then columns F1, F2, ... in order, every cell 0 or blank. Anything else
/// (numbers under F1, F2: a headerless export's columns) is data.
fn is_forecast_template(df: &polars::prelude::DataFrame) -> bool {
    let columns = df.columns();
    let Some((_, numbered)) = columns.split_first() else {
        return false;
    };
    numbered.len() >= 2
        && numbered.iter().enumerate().all(|(i, c)| {
            c.name().trim().eq_ignore_ascii_case(&format!("F{}", i + 1))
                && c.str().is_ok_and(|ca| {
                    ca.iter()
                        .flatten()
                        .all(|v| v.trim().is_empty() || v.trim().parse::<f64>().is_ok_and(|x| x == 0.0))
                })
        })
}

/// The files an import of `paths` reads (folders expanded), or `None` when
/// a path cannot be read (the import then says why).
pub fn source_files(paths: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let mut problems = Problems::new(1);
    let files = expand(paths, &mut problems);
    (!problems.has_errors()).then_some(files)
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
                        .filter(|f| f.is_file() && format_of(f).is_some() && !is_lock_file(f))
                        .collect();
                    found.sort();
                    out.extend(found);
                }
                Err(e) => problems.error(&label, None, None, None, format!("cannot read the folder: {e}")),
            }
        } else if !p.exists() {
            problems.error(&label, None, None, None, "no such file or folder");
        } else if format_of(p).is_none() {
            problems.error(&label, None, None, None, format!("expected {READABLE}"));
        } else {
            out.push(p.clone());
        }
    }
    out
}
