//! Sales and transaction lines summed to demand per period (day, week or
//! month), SKU and warehouse (parsed and checked with polars expressions),
//! and the accumulator every file adds to, finished into a [`Dataset`] once
//! all files are read.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::data::day_rows::{DayRow, RowsOf, group_rows};
use crate::data::detect::{
    FAR_DAYS, PeriodChoice, choose_period, days_to_date, demand_date_format, example_date, sample_values,
    usual_date_range,
};
use crate::data::mapping::{Field, FileKind};
use crate::data::problems::Problems;
use crate::data::read::Table;
use crate::domain::{
    Dataset, DeliveryOrder, DemandSeries, InventoryRecord, Period, PeriodKind, Product, ProductDefaults,
    ReturnsSummary, Vehicle, Warehouse,
};

#[derive(Default)]
struct SeriesAcc {
    /// Rows in no particular order.
    days: Vec<DayRow>,
    has_promo: bool,
    /// Transaction lines, and sales summed into longer periods, add up; two
    /// sales rows for one period are an error.
    sums_duplicates: bool,
}

#[derive(Default)]
pub(super) struct Acc {
    series: HashMap<(String, String), SeriesAcc>,
    /// Labels of the demand files, indexed by `DayRow::file`.
    demand_files: Vec<String>,
    /// Transaction descriptions by SKU (the first seen).
    descriptions: HashMap<String, String>,
    /// Median unit price of each SKU's sold transaction lines.
    prices: HashMap<String, f64>,
    /// Every price a price table gives each SKU.
    listed_prices: HashMap<String, Vec<f64>>,
    /// Warehouses named by demand rows: id -> (file, first row).
    demand_warehouses: BTreeMap<String, (String, Option<usize>)>,
    pub(super) products: Vec<Product>,
    pub(super) product_rows: HashMap<String, (String, usize)>,
    pub(super) warehouses: Vec<Warehouse>,
    pub(super) warehouse_rows: HashMap<String, (String, usize)>,
    pub(super) inventory: Vec<(InventoryRecord, String, usize)>,
    pub(super) orders: Vec<(DeliveryOrder, String, usize)>,
    pub(super) fleet: Vec<(Vehicle, String, usize)>,
    pub(super) events: Vec<crate::domain::Event>,
    /// The warehouse each event row names, with its file and row.
    pub(super) event_warehouses: Vec<(String, String, usize)>,
    returns: ReturnsSummary,
    /// The period of the demand files, and the first file that set it.
    period: Option<(Period, String)>,
    pub(super) saw_warehouse_file: bool,
    pub(super) saw_product_file: bool,
    /// See `Dataset::sold_until`.
    sold_until: BTreeMap<String, NaiveDate>,
    /// The transaction lines read so far, to catch one in two files.
    transaction_lines: crate::data::invoices::SeenLines,
}

impl Acc {
    /// A SKU's selling price, for products the data does not list: the
    /// median unit price of `sold` rows (those with a price above 0).
    fn note_prices(&mut self, sold: LazyFrame) -> PolarsResult<()> {
        let prices = sold
            .filter(col("price").gt(lit(0.0)))
            .group_by([col("sku")])
            .agg([col("price").median().alias("price")])
            .collect()?;
        let skus = prices.column("sku")?.str()?;
        let ps = prices.column("price")?.f64()?;
        for (s, p) in skus.iter().zip(ps.iter()) {
            if let (Some(s), Some(p)) = (s, p)
                && p.is_finite()
            {
                self.prices.entry(s.to_string()).or_insert(p);
            }
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, defaults: &ProductDefaults, problems: &mut Problems) -> Dataset {
        // Warehouses named anywhere must exist when a warehouse file was given.
        let known: HashSet<String> = self.warehouses.iter().map(|w| w.id.clone()).collect();
        // A warehouse whose own row failed is in the file: say that instead.
        let why = |wh: &str| match self.warehouse_rows.get(wh) {
            // No colon: its own sort, apart from "unknown warehouse: it is
            // not in the warehouses file", and its summary line keeps the
            // ending that sorts it after the cause.
            Some((f, r)) => format!(
                "the warehouse's own row in {f} (row {r}) has errors, {}",
                crate::data::problems::KNOCK_ON
            ),
            None => "unknown warehouse: it is not in the warehouses file".to_string(),
        };
        if self.saw_warehouse_file {
            for (wh, (file, row)) in &self.demand_warehouses {
                if !known.contains(wh) {
                    problems.error(file, *row, Some("warehouse"), Some(wh), why(wh));
                }
            }
            let refs = self
                .inventory
                .iter()
                .map(|(r, f, row)| (&r.warehouse, f, *row))
                .chain(self.orders.iter().map(|(o, f, row)| (&o.warehouse, f, *row)))
                .chain(self.fleet.iter().map(|(v, f, row)| (&v.warehouse, f, *row)))
                .chain(self.event_warehouses.iter().map(|(w, f, row)| (w, f, *row)));
            for (wh, file, row) in refs {
                if !known.contains(wh) {
                    problems.error(file, Some(row), Some("warehouse"), Some(wh), why(wh));
                }
            }
        }

        // Stock of a SKU that no sales or product row names: no plan line
        // can use it, which used to go unsaid.
        let skus: HashSet<&str> = self
            .series
            .keys()
            .map(|k| k.0.as_str())
            .chain(self.products.iter().map(|p| p.sku.as_str()))
            .chain(self.product_rows.keys().map(String::as_str))
            .collect();
        let mut stray = self.inventory.iter().filter(|(r, _, _)| !skus.contains(r.sku.as_str()));
        if let Some((first, file, row)) = stray.next() {
            let more = stray.count();
            problems.warning(
                file,
                Some(*row),
                Some("sku"),
                Some(&first.sku),
                format!(
                    "no sales or product row names this SKU{}; expected a SKU the data sells or lists (its \
                     stock is left out of plans)",
                    match more {
                        0 => String::new(),
                        n => format!(" (nor {n} more inventory row(s))"),
                    }
                ),
            );
        }

        // Demand series: gap-free from each series' first period to the last
        // period of all the data; missing periods are zero demand.
        let period = self.period.as_ref().map_or(Period::Day, |p| p.0);
        let last_day = self.series.values().flat_map(|s| s.days.iter().map(|d| d.day)).max();
        let index = |first: i32, day: i32| -> i64 {
            match period {
                Period::Day => i64::from(day - first),
                Period::Week(_) => i64::from(day - first).div_euclid(7),
                Period::Month(_) => match (days_to_date(first), days_to_date(day)) {
                    (Some(a), Some(b)) => period.between(a, b),
                    _ => 0,
                },
            }
        };
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
            let len = (index(first, last) + 1).max(0) as usize;
            let mut values = vec![0.0; len];
            let mut promo = acc.has_promo.then(|| vec![false; len]);
            let mut prev: Option<DayRow> = None;
            for d in &acc.days {
                if let Some(p) = prev.filter(|p| p.day == d.day && !acc.sums_duplicates) {
                    let file = &self.demand_files[d.file as usize];
                    // Two files of the same sales (M5's validation and
                    // evaluation files): one of them is meant.
                    let place = if p.file == d.file {
                        format!("row {}", p.row)
                    } else {
                        format!(
                            "{} row {} (two files of the same sales? import one of them)",
                            self.demand_files[p.file as usize], p.row
                        )
                    };
                    problems.error(
                        file,
                        Some(d.row as usize),
                        None,
                        None,
                        format!(
                            "duplicate row: sku {}, warehouse {}, {} is already on {place}; expected one row per \
                             {}, SKU and warehouse",
                            key.0,
                            key.1,
                            days_to_date(d.day).map(|d| d.to_string()).unwrap_or_default(),
                            period.name(),
                        ),
                    );
                }
                prev = Some(*d);
                let i = index(first, d.day) as usize;
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
                period,
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
        // A SKU whose row is there but failed its checks has its own error:
        // it is not "missing from the file".
        let absent: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|s| !self.product_rows.contains_key(*s))
            .collect();
        if self.saw_product_file && !absent.is_empty() {
            problems.warning(
                "products",
                None,
                None,
                None,
                format!(
                    "{} SKU(s) with sales are not in the product file (e.g. {}); they get a product row titled \
                     by their code or transaction description, with default pack size, MOQ and lead time",
                    absent.len(),
                    absent.iter().take(5).copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        for sku in missing {
            let mut p = Product::made_from_sales(sku, self.descriptions.get(sku).map(String::as_str), defaults);
            p.price = self.prices.get(sku).copied();
            products.push(p);
        }
        // A price table's median, where a product has no price of its own:
        // it says more than what transaction lines were sold at.
        for p in &mut products {
            if let Some(v) = self.listed_prices.get_mut(&p.sku)
                && (p.price.is_none() || p.synthesized)
            {
                v.sort_by(f64::total_cmp);
                p.price = Some(v[v.len() / 2]);
            }
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
                    x: None,
                    y: None,
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
            sold_until: std::mem::take(&mut self.sold_until),
            events: {
                let mut e = std::mem::take(&mut self.events);
                e.sort();
                e.dedup();
                e
            },
        }
    }
}

const ROW: &str = "__row";

/// The largest quantity one row may hold: more is a slip (1e308 was read,
/// and scores ran to 300 digits), not a sale.
const MAX_QUANTITY: f64 = 1e9;

/// How demand files are read, from the import options.
pub(super) struct DemandRules<'a> {
    pub forced_date_format: Option<&'a str>,
    pub default_warehouse: &'a str,
    /// `--period`: what to count demand in; detected from the dates when
    /// `None`.
    pub period: Option<PeriodKind>,
    /// `--strict`: a negative quantity in a sales file is an error instead
    /// of a return.
    pub strict: bool,
}

/// What reading a demand file found, for the report.
#[derive(Debug, Default)]
pub(super) struct DemandFile {
    pub date_format: Option<String>,
    pub period: Option<PeriodChoice>,
}

impl Acc {
    /// A price a price table gives `sku`.
    pub(super) fn list_price(&mut self, sku: &str, price: f64) {
        match self.listed_prices.get_mut(sku) {
            Some(v) => v.push(price),
            None => {
                self.listed_prices.insert(sku.to_string(), vec![price]);
            }
        }
    }

    /// The demand files' period, once a demand file was read.
    pub(super) fn period(&self) -> Option<Period> {
        self.period.as_ref().map(|p| p.0)
    }
}

/// Whether no cell of `ca` has a space (or tab) before or after it.
fn trimmed(ca: &StringChunked) -> bool {
    ca.iter().flatten().all(|s| s.trim().len() == s.len())
}

/// Parse, check and aggregate a sales or transactions file with polars.
pub(super) fn read_demand(
    t: &Table,
    kind: FileKind,
    rules: &DemandRules<'_>,
    problems: &mut Problems,
    acc: &mut Acc,
) -> PolarsResult<DemandFile> {
    let forced_date_format = rules.forced_date_format;
    let default_warehouse = rules.default_warehouse;
    let mut found = DemandFile::default();
    let label = t.label.clone();
    let date_col = t.col(Field::Date).unwrap_or_default().to_string();
    let Some(date_ca) = t.text_column(Field::Date) else {
        return Ok(found);
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
        return Ok(found);
    }
    let (fmt, note) = match demand_date_format(&samples, forced_date_format, &date_col) {
        Ok(x) => x,
        Err(msg) => {
            problems.error(&label, None, Some(&date_col), None, msg);
            return Ok(found);
        }
    };
    found.date_format = Some(fmt.shown());
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
    // A column with no space around any cell is read as it is: stripping
    // copies every cell (two gigabytes over M5's 59 million rows).
    let fixed = fmt.fixed_column(date_ca);
    let text = |f: Field| {
        let e = col(t.col(f)?);
        Some(if t.text_column(f).is_some_and(trimmed) {
            e
        } else {
            e.str().strip_chars(lit(NULL))
        })
    };
    let date_text = match &fixed {
        Some(_) => col(date_col.as_str()).str().strip_chars(lit(NULL)),
        None => text(Field::Date).unwrap_or_else(|| col(date_col.as_str())),
    };
    let date_expr = if fmt.has_time {
        date_text
            .str()
            .to_datetime(Some(TimeUnit::Milliseconds), None, strptime, lit("raise"))
            .dt()
            .date()
    } else {
        date_text.str().to_date(strptime)
    };
    let qty_name = t.col(Field::Quantity).unwrap_or_default().to_string();
    let number = |e: Expr| e.str().strip_chars(lit(NULL)).cast(DataType::Float64);
    let mut exprs = vec![
        col(ROW),
        date_expr.alias("date"),
        text(Field::Sku)
            .unwrap_or_else(|| lit(NULL).cast(DataType::String))
            .alias("sku"),
        text(Field::Warehouse)
            .unwrap_or_else(|| lit(default_warehouse))
            .alias("wh"),
        text(Field::Quantity)
            .unwrap_or_else(|| col(qty_name.as_str()))
            .cast(DataType::Float64)
            .alias("qty"),
    ];
    // A yes/no column: true where the cell reads as yes.
    let yes = |e: Expr| {
        let v = e.str().strip_chars(lit(NULL)).str().to_lowercase();
        super::mapping::YES
            .into_iter()
            .map(|s| v.clone().eq(lit(s)))
            .reduce(Expr::or)
            .unwrap_or(lit(false))
            .fill_null(lit(false))
    };
    if let Some(p) = c(Field::Promo) {
        exprs.push(yes(p).alias("promo"));
    }
    let flag_col = t.col(Field::Flag).map(str::to_string);
    if let Some(p) = c(Field::Flag) {
        exprs.push(yes(p).alias("flag"));
    }
    if kind == FileKind::Transactions {
        crate::data::invoices::lines_in_one_file(t, problems, &mut acc.transaction_lines);
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
    if let Some(p) = c(Field::Price) {
        exprs.push(number(p).alias("price"));
    }
    // DataFrame clones share their column buffers: this copies no data,
    // but for a date column whose cells are fixed up before they are read
    // (an offset dropped, a month given its first day).
    let clock = std::time::Instant::now();
    let mut df = t.df.clone();
    if let Some(fixed) = fixed {
        df.with_column(fixed.into_column())?;
    }
    let parsed = df.lazy().with_row_index(ROW, None).select(exprs).collect()?;
    tracing::debug!(ms = clock.elapsed().as_millis(), "parsed");

    // Rows that cannot be used, each reported with its row and column.
    let sales = kind == FileKind::Sales;
    let strict_sales = sales && rules.strict;
    let mut bad = col("date")
        .is_null()
        .or(col("sku").is_null())
        .or(col("sku").eq(lit("")))
        .or(col("wh").is_null())
        .or(col("wh").eq(lit("")))
        .or(col("qty").is_null())
        .or(col("qty").is_finite().not())
        .or(col("qty").gt(lit(MAX_QUANTITY)))
        .or(col("qty").lt(lit(-MAX_QUANTITY)));
    if strict_sales {
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
                    let msg = match v.as_deref() {
                        Some(s) if !s.trim().is_empty() => format!(
                            "expected a number (a quantity such as 12 or 3.5){}",
                            crate::data::numbers::hint(s)
                        ),
                        _ => "a quantity is required here".to_string(),
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
                Some(q) if q.abs() > MAX_QUANTITY => {
                    problems.error(
                        &label,
                        row,
                        t.col(Field::Quantity),
                        raw_cell(Field::Quantity, i).as_deref(),
                        "expected a quantity of at most a billion units in one row",
                    );
                }
                Some(q) if strict_sales && q < 0.0 => problems.error(
                    &label,
                    row,
                    t.col(Field::Quantity),
                    Some(&q.to_string()),
                    "expected a quantity of 0 or more (--strict: a negative quantity is not read as returns)",
                ),
                _ => {}
            }
        }
        return Ok(found);
    }
    super::flags::warn_unread_flags(t, problems);
    super::flags::warn_unread_prices(t, problems);
    let parsed = leave_out_far_dates(t, parsed, problems)?;

    // The file's period, from its distinct dates.
    let distinct: Vec<i32> = {
        let u = parsed.column("date")?.date()?.physical().unique()?;
        let mut v: Vec<i32> = u.iter().flatten().collect();
        v.sort_unstable();
        v
    };
    let choice = match choose_period(&distinct, kind == FileKind::Transactions, rules.period) {
        Ok(c) => c,
        Err(msg) => {
            problems.error(&label, None, Some(&date_col), None, msg);
            return Ok(found);
        }
    };
    found.period = Some(choice);
    let period = choice.period;
    // Summed into weeks or months, a first or last period the file covers
    // only in part would read as a slump: it is left out, with a warning.
    let parsed = if choice.sums() {
        let (kept, sold) = super::partial::leave_out_partial_periods(t, parsed, period, &distinct, problems)?;
        for (wh, day) in sold {
            let at = acc.sold_until.entry(wh).or_insert(day);
            *at = (*at).max(day);
        }
        kept
    } else {
        parsed
    };
    match &acc.period {
        Some((p, other)) if *p != period => {
            problems.error(
                &label,
                None,
                Some(&date_col),
                None,
                format!(
                    "this file is {} but {other} is {}; expected every sales and transaction file in one period \
                     (give --period to sum both into the same one)",
                    period.describe(),
                    p.describe()
                ),
            );
            return Ok(found);
        }
        Some(_) => {}
        None => acc.period = Some((period, label.clone())),
    }
    if sales && !rules.strict {
        // Net sales: a negative quantity is returns, kept apart from demand.
        let neg = parsed
            .clone()
            .lazy()
            .filter(col("qty").lt(lit(0.0)))
            .group_by([col("sku")])
            .agg([(lit(0.0) - col("qty")).sum().alias("units"), len().alias("lines")])
            .collect()?;
        if neg.height() > 0 {
            let skus = neg.column("sku")?.str()?;
            let units = neg.column("units")?.f64()?;
            let lines = neg.column("lines")?.idx()?;
            let (mut n_lines, mut n_units) = (0usize, 0.0);
            for k in 0..neg.height() {
                let (Some(sku), Some(u), Some(n)) = (skus.get(k), units.get(k), lines.get(k)) else {
                    continue;
                };
                n_lines += n as usize;
                n_units += u;
                *acc.returns.by_sku.entry(sku.to_string()).or_insert(0.0) += u;
            }
            acc.returns.return_lines += n_lines;
            acc.returns.returned_units += n_units;
            // Name the first rows, so a planner can look (the count alone
            // sent them searching the file).
            let first = parsed
                .clone()
                .lazy()
                .filter(col("qty").lt(lit(0.0)))
                .select([col(ROW)])
                .limit(3)
                .collect()?;
            let rows: Vec<usize> = first
                .column(ROW)?
                .idx()?
                .iter()
                .flatten()
                .map(|i| t.row(i as usize))
                .collect();
            let shown = rows.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            let more = n_lines.saturating_sub(rows.len());
            problems.warning(
                &label,
                None,
                t.col(Field::Quantity),
                None,
                format!(
                    "{n_lines} row(s) have a negative quantity ({n_units} units in all; row{} {shown}{}); they are \
                     read as returns: counted apart from demand, which is 0 on those rows (give --strict to reject \
                     them)",
                    if rows.len() == 1 { "" } else { "s" },
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ),
            );
        }
    }

    if let Some(name) = &flag_col {
        // A sales file's own holiday flag (Walmart's IsHoliday): the flagged
        // periods of each warehouse are known events.
        let flagged = parsed
            .clone()
            .lazy()
            .filter(col("flag"))
            .select([col("date"), col("wh")])
            .unique(None, UniqueKeepStrategy::First)
            .collect()?;
        let dates = flagged.column("date")?.date()?.physical().clone();
        let whs = flagged.column("wh")?.str()?.clone();
        let kind = super::mapping::flag_kind(name);
        for (d, w) in dates.iter().zip(whs.iter()) {
            if let (Some(date), Some(w)) = (d.and_then(days_to_date), w) {
                acc.events.push(crate::domain::Event {
                    date,
                    warehouse: Some(w.to_string()),
                    name: name.clone(),
                    kind: kind.to_string(),
                });
            }
        }
    }
    let has_promo = t.col(Field::Promo).is_some();
    let demand_rows = if sales {
        // A daily sales file's prices, as a transaction file's (until
        // session 26 they were not read at all).
        if t.col(Field::Price).is_some() {
            acc.note_prices(parsed.clone().lazy().filter(col("qty").gt(lit(0.0))))?;
        }
        // One row per period already (unless summed into longer ones);
        // duplicates are found when series are built.
        parsed
            .lazy()
            .with_column(
                when(col("qty").lt(lit(0.0)))
                    .then(lit(0.0))
                    .otherwise(col("qty"))
                    .alias("qty"),
            )
            .collect()?
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
        if t.col(Field::Price).is_some() {
            acc.note_prices(
                good.clone()
                    .filter(cancelled.clone().not().and(col("qty").gt(lit(0.0)))),
            )?;
        }
        // Several lines a day add up when the series is built.
        good.filter(cancelled.not().and(col("qty").gt(lit(0.0)))).collect()?
    };
    tracing::debug!(ms = clock.elapsed().as_millis(), rows = demand_rows.height(), "split");

    let file = acc.demand_files.len() as u32;
    acc.demand_files.push(label.clone());
    let of = RowsOf {
        t,
        period,
        sums: choice.sums(),
        file,
    };
    let (series, strays) = group_rows(&demand_rows, &of, ROW, problems)?;
    tracing::debug!(ms = clock.elapsed().as_millis(), strays, "rows to series");
    for (sku, wh, days) in series {
        if !acc.demand_warehouses.contains_key(wh) {
            let first_row = days.iter().map(|d| d.row as usize).min();
            acc.demand_warehouses.insert(wh.to_string(), (label.clone(), first_row));
        }
        let s = acc.series.entry((sku.to_string(), wh.to_string())).or_default();
        s.has_promo |= has_promo;
        s.sums_duplicates |= !sales || of.sums;
        if s.days.is_empty() {
            s.days = days;
        } else {
            s.days.extend(days);
        }
    }
    tracing::debug!(ms = clock.elapsed().as_millis(), "collected");
    Ok(found)
}

/// Warn about each row whose date is years away from the rest of the file
/// (1900 or 2400 among 2024 dates: a typo, most likely) and leave it out,
/// so that it cannot stretch every series over centuries of zeros.
fn leave_out_far_dates(t: &Table, parsed: DataFrame, problems: &mut Problems) -> PolarsResult<DataFrame> {
    // No gap can exceed the whole span: the usual file needs no per-day
    // counts (a hash of every row's date, 10 % of a million-row import).
    let span = {
        let d = parsed.column("date")?.date()?.physical();
        d.min().zip(d.max()).map(|(lo, hi)| i64::from(hi) - i64::from(lo))
    };
    if span.is_none_or(|s| s <= FAR_DAYS) {
        return Ok(parsed);
    }
    let counts = parsed
        .clone()
        .lazy()
        .group_by([col("date")])
        .agg([len().alias("rows")])
        .collect()?;
    let dates = counts.column("date")?.date()?.physical();
    let rows = counts.column("rows")?.idx()?;
    let mut days: Vec<(i32, usize)> = dates
        .iter()
        .zip(rows.iter())
        .filter_map(|(d, n)| Some((d?, n? as usize)))
        .collect();
    days.sort_unstable();
    let Some((lo, hi)) = usual_date_range(&days) else {
        return Ok(parsed);
    };
    let day = col("date").cast(DataType::Int32);
    let usual = day.clone().gt_eq(lit(lo)).and(day.lt_eq(lit(hi)));
    let far = parsed.clone().lazy().filter(usual.clone().not()).collect()?;
    let range = format!(
        "{} to {}",
        days_to_date(lo).map(|d| d.to_string()).unwrap_or_default(),
        days_to_date(hi).map(|d| d.to_string()).unwrap_or_default()
    );
    let message = format!(
        "this date is more than 5 years from the rest of the file's dates ({range}); the row is left out \
         (a typo in the year?)"
    );
    let raw = t.text_column(Field::Date);
    for i in far.column(ROW)?.idx()?.iter().flatten() {
        let i = i as usize;
        let value = raw.and_then(|c| c.get(i)).map(str::trim);
        problems.warning(&t.label, Some(t.row(i)), t.col(Field::Date), value, message.as_str());
    }
    parsed.lazy().filter(usual).collect()
}
