//! The importer on good and bad files: every bad case names its file, row
//! and column, and nothing is imported when anything is wrong.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use skuplan::data::{ImportFailed, ImportOptions, Imported, Severity, import_paths};
use skuplan::domain::Location;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn import(paths: &[PathBuf]) -> Result<Imported, ImportFailed> {
    import_paths(paths, &ImportOptions::default())
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn good_folder_imports_every_kind() {
    let imported = import(&[fixture("good")]).unwrap_or_else(|e| panic!("{e}"));
    let ds = &imported.dataset;
    assert_eq!(imported.report.files.len(), 6);

    // Sales: gap-free daily series from each series' first day to the last
    // day of all data (2024-01-05); missing days are zeros.
    assert_eq!(ds.demand.len(), 4);
    let a1w1 = ds.demand.iter().find(|s| s.sku == "A1" && s.warehouse == "W1").unwrap();
    assert_eq!(a1w1.start, day(2024, 1, 1));
    assert_eq!(a1w1.values, vec![5.0, 3.0, 0.0, 7.0, 0.0]);
    assert_eq!(a1w1.promo.as_deref(), Some(&[false, false, false, true, false][..]));
    let c3 = ds.demand.iter().find(|s| s.sku == "C3").unwrap();
    assert_eq!(c3.start, day(2024, 1, 4));
    assert_eq!(c3.values, vec![4.0, 0.0]);

    // Products: the file's rows, and one made up for C3 titled by its code.
    assert_eq!(ds.products.len(), 3);
    let a1 = ds.product("A1").unwrap();
    assert_eq!(a1.title, "Oakfield Non-Stick Frying Pan, 28cm");
    assert_eq!((a1.pack_size, a1.moq, a1.lead_time_days), (6, 12, 7));
    let c3p = ds.product("C3").unwrap();
    assert!(c3p.synthesized);
    assert_eq!(c3p.title, "C3");
    assert!(
        imported
            .report
            .warnings()
            .any(|w| w.message.contains("not in the product file") && w.message.contains("C3"))
    );

    assert_eq!(ds.inventory.len(), 3);
    let inv = ds
        .inventory
        .iter()
        .find(|r| r.sku == "A1" && r.warehouse == "W1")
        .unwrap();
    assert_eq!(
        (inv.on_hand, inv.on_order, inv.due_date),
        (20.0, 12.0, Some(day(2024, 1, 9)))
    );

    assert_eq!(ds.warehouses.len(), 2);
    assert_eq!(ds.warehouses[0].lat, Some(51.529));

    assert_eq!(ds.orders.len(), 3);
    let o2 = &ds.orders[1];
    assert_eq!((o2.ready_min, o2.due_min, o2.service_min), (13 * 60, 17 * 60 + 30, 5));
    assert_eq!(o2.location, Location::LatLon { lat: 51.6, lon: -0.3 });
    assert_eq!(o2.date, Some(day(2024, 1, 6)));

    assert_eq!(ds.fleet.len(), 2);
    assert_eq!((ds.fleet[0].shift_start_min, ds.fleet[0].shift_end_min), (420, 1020));

    let s = imported.report.summary.as_ref().unwrap();
    assert_eq!((s.series, s.skus, s.warehouses), (4, 3, 2));
    assert_eq!(
        (s.first_day, s.last_day),
        (Some(day(2024, 1, 1)), Some(day(2024, 1, 5)))
    );
}

#[test]
fn online_retail_transactions_import_with_aliases_alone() {
    let imported = import(&[fixture("online_retail.csv")]).unwrap_or_else(|e| panic!("{e}"));
    let ds = &imported.dataset;
    let f = &imported.report.files[0];
    assert_eq!(f.kind.name(), "transactions");
    assert_eq!(f.date_format.as_deref(), Some("%m/%d/%Y %H:%M"));

    // Cancellations (invoice C...) and returns (negative quantity) are
    // counted apart and never reduce demand.
    let r = &ds.returns;
    assert_eq!((r.cancellation_lines, r.cancelled_units), (2, 2.0));
    assert_eq!((r.return_lines, r.returned_units), (1, 10.0));
    assert_eq!(r.by_sku.get("21777"), Some(&10.0));
    assert!(!ds.demand.iter().any(|s| s.sku == "D" || s.sku == "21777"));

    // Daily demand in the default warehouse: 85123A sold 6 + 4 on 1 Dec.
    let heart = ds.demand.iter().find(|s| s.sku == "85123A").unwrap();
    assert_eq!(heart.warehouse, "main");
    assert_eq!(heart.start, day(2010, 12, 1));
    assert_eq!(heart.values[0], 10.0);
    assert_eq!(heart.end(), day(2010, 12, 13));
    let warmer = ds.demand.iter().find(|s| s.sku == "22633").unwrap();
    assert_eq!(&warmer.values[..3], &[6.0, 0.0, 12.0]);

    // Products come from the descriptions; a SKU without one keeps its code.
    assert_eq!(ds.product("71053").unwrap().title, "WHITE METAL LANTERN");
    assert_eq!(ds.product("22139").unwrap().title, "22139");
    // ... and their price is the median unit price of their sold lines.
    assert_eq!(ds.product("85123A").unwrap().price, Some(2.55));
    // 71053 sold at 3.39 and at 4.25: the median of the two.
    assert!((ds.product("71053").unwrap().price.unwrap() - 3.82).abs() < 1e-9);
    let s = imported.report.summary.as_ref().unwrap();
    assert_eq!(s.returns.cancellation_lines, 2);
}

/// Two transaction files with the same line: a sample exported beside the
/// whole, say. Read both, its sales would count twice (importing the shared
/// online-retail folder did that with its sample.csv): an error that names
/// the file, the row, the invoice and the other file. An invoice cut in two
/// by an export in parts is no error.
#[test]
fn a_transaction_line_in_two_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let whole = fs::read_to_string(fixture("online_retail.csv")).unwrap();
    let mut lines = whole.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    // The sample: the header and the third data row.
    fs::write(dir.path().join("a-sample.csv"), format!("{header}\n{}\n", rows[2])).unwrap();
    fs::write(dir.path().join("b-all.csv"), &whole).unwrap();
    let Err(e) = import(&[dir.path().to_path_buf()]) else {
        panic!("the same invoice twice must fail");
    };
    let invoice = rows[2].split(',').next().unwrap();
    let msg = e.to_string();
    assert_has(
        &msg,
        &[
            &format!("b-all.csv, row 4, column 'InvoiceNo', value '{invoice}'"),
            &format!("this line of invoice {invoice} is also in"),
            "a-sample.csv (1 line like it, with SKU, date and quantity alike): their sales would be counted twice",
        ],
    );
    // Each file alone imports.
    assert!(import(&[dir.path().join("b-all.csv")]).is_ok());
    assert!(import(&[dir.path().join("a-sample.csv")]).is_ok());
    // The whole cut in two inside an invoice (its first line in one part,
    // the second in the other): every line once, so it imports.
    let parts = tempfile::tempdir().unwrap();
    fs::write(parts.path().join("part1.csv"), format!("{header}\n{}\n", rows[0])).unwrap();
    let rest: Vec<&str> = rows[1..].to_vec();
    fs::write(
        parts.path().join("part2.csv"),
        format!("{header}\n{}\n", rest.join("\n")),
    )
    .unwrap();
    assert!(
        rows[0].split(',').next() == rows[1].split(',').next(),
        "the first invoice has two lines"
    );
    let split = import(&[parts.path().to_path_buf()]).unwrap_or_else(|e| panic!("{e}"));
    let whole_one = import(&[dir.path().join("b-all.csv")]).unwrap();
    assert_eq!(split.dataset.demand, whole_one.dataset.demand);
}

/// A product row that fails its checks is an error on that row; its SKU is
/// not also reported as missing from the product file (it was).
#[test]
fn a_bad_product_row_is_not_also_a_missing_product() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("products.csv"),
        "sku,title,unit_cost\nA,Apple crate,cheap\nB,Box,2.5\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("sales.csv"),
        "date,sku,warehouse,quantity\n2026-06-01,A,W,3\n2026-06-01,B,W,1\n2026-06-01,C,W,2\n",
    )
    .unwrap();
    let Err(e) = import(&[dir.path().to_path_buf()]) else {
        panic!("a bad unit cost must fail");
    };
    let msg = e.to_string();
    assert_has(&msg, &["products.csv, row 2, column 'unit_cost', value 'cheap'"]);
    let missing = e
        .report
        .warnings()
        .find(|w| w.message.contains("not in the product file"))
        .map(|w| w.message.clone())
        .unwrap_or_default();
    assert!(missing.contains("(e.g. C)"), "C has no row at all: {msg}");
}

/// Write `content` as `name` in a fresh folder and import it; it must fail.
fn bad(name: &str, content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    fs::write(&p, content).unwrap();
    match import(&[p]) {
        Ok(_) => panic!("{name} imported but should not have:\n{content}"),
        Err(e) => {
            assert!(e.report.summary.is_none());
            assert!(e.report.errors().count() > 0);
            e.to_string()
        }
    }
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "expected {p:?} in:\n{msg}");
    }
}

/// Blank lines and rows of empty cells (what exporters leave at a file's
/// end) are not rows: the file imports, and a bad row after them is named
/// by its line in the file (they failed the whole file, a date, SKU and
/// quantity missing on each).
#[test]
fn blank_rows_are_left_out_and_rows_keep_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.csv");
    fs::write(
        &p,
        "date,sku,warehouse,quantity\r\n2024-01-01,A,W,5\r\n\r\n2024-01-02,A,W,3\r\n,,,\r\n\r\n\r\n",
    )
    .unwrap();
    let ok = import(std::slice::from_ref(&p)).unwrap();
    assert_eq!(ok.dataset.demand[0].values, vec![5.0, 3.0]);
    // Wider than the header, but empty: passed over too.
    fs::write(
        &p,
        "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n2024-01-02,A,W,3\n,,,,,,,,,\n",
    )
    .unwrap();
    let ok = import(std::slice::from_ref(&p)).unwrap();
    assert_eq!(ok.dataset.demand[0].values, vec![5.0, 3.0]);
    // A longer row with something in it is still the error it was.
    let m = bad(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n2024-01-02,A,W,3,x\n",
    );
    assert_has(&m, &["row 3", "expected 4 fields, as in the header, but found 5"]);
    let m = bad(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n\n ,,\n2024-01-02,A,W,lots\n\n",
    );
    assert_has(&m, &["row 5, column 'quantity', value 'lots'"]);
    assert!(!m.contains("row 3"), "{m}");
}

#[test]
fn bad_sales_files_name_row_and_column() {
    let m = bad(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n2024-01-02,A,W,lots\n",
    );
    assert_has(
        &m,
        &["sales.csv, row 3, column 'quantity', value 'lots'", "expected a number"],
    );

    let m = bad(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n2024-13-45,A,W,1\n",
    );
    assert_has(
        &m,
        &[
            "row 3, column 'date', value '2024-13-45'",
            "expected a date like 2017-03-31",
        ],
    );

    let m = bad("sales.csv", "date,sku,warehouse,quantity\n2024-01-01,A,W,inf\n");
    assert_has(&m, &["row 2, column 'quantity'", "finite"]);
    // Finite, but no sale: it was read, and scores ran to 300 digits.
    let m = bad("sales.csv", "date,sku,warehouse,quantity\n2024-01-01,A,W,1e308\n");
    assert_has(
        &m,
        &["row 2, column 'quantity', value '1e308'", "at most a billion units"],
    );

    let m = bad("sales.csv", "date,sku,warehouse,quantity\n2024-01-01,,W,1\n");
    assert_has(&m, &["row 2, column 'sku'", "SKU is required"]);

    let m = bad(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W,1\n2024-01-02,A,W,1\n2024-01-01,A,W,2\n",
    );
    assert_has(
        &m,
        &[
            "row 4",
            "duplicate row: sku A, warehouse W, 2024-01-01 is already on row 2",
        ],
    );

    let m = bad("sales.csv", "date,sku,shipped\n2024-01-01,A,1\n");
    assert_has(
        &m,
        &["column 'quantity'", "needs a 'quantity' column", "date, sku, shipped"],
    );

    let m = bad("sales.csv", "date,sku,warehouse,quantity\nsoon,A,W,1\n");
    assert_has(&m, &["column 'date'", "cannot read dates like 'soon'"]);
}

#[test]
fn bad_small_tables_name_row_and_column() {
    // A launch date that is not a date: the row and the column are named,
    // and one that is reads as the product's launch.
    let m = bad(
        "products.csv",
        "sku,title,launch_date\nA,Pan,2024-03-01\nB,Pot,next week\n",
    );
    assert_has(
        &m,
        &[
            "row 3, column 'launch_date', value 'next week'",
            "expected a date like 2017-03-31",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("products.csv");
    fs::write(&p, "sku,title,launch date\nA,Pan,2024-03-01\nB,Pot,\n").unwrap();
    let ok = import(&[p]).unwrap();
    let launch = |sku: &str| ok.dataset.product(sku).and_then(|p| p.launch_date);
    assert_eq!((launch("A"), launch("B")), (Some(day(2024, 3, 1)), None));

    let m = bad("products.csv", "sku,title,pack_size\nA,Pan,6\nA,Pan again,6\n");
    assert_has(
        &m,
        &["row 3, column 'sku', value 'A'", "duplicate SKU: already on row 2"],
    );

    let m = bad(
        "products.csv",
        "sku,title,pack_size,lead_time_days\nA,Pan,0,7\nB,Pot,2,soon\n",
    );
    assert_has(
        &m,
        &[
            "row 2, column 'pack_size', value '0'",
            "row 3, column 'lead_time_days', value 'soon'",
        ],
    );

    let m = bad("inventory.csv", "sku,warehouse,on_hand\nA,W,ten\n");
    assert_has(
        &m,
        &["row 2, column 'on_hand', value 'ten'", "expected a quantity on hand"],
    );

    // A number no stock can be: refused, not taken (1e308 on hand stopped
    // the line's orders without a word).
    let m = bad(
        "inventory.csv",
        "sku,warehouse,on_hand,on_order\nA,W,1e308,0\nB,W,5,2e9\n",
    );
    assert_has(
        &m,
        &[
            "row 2, column 'on_hand', value '1e308'",
            "at most a billion units",
            "row 3, column 'on_order', value '2e9'",
        ],
    );

    let m = bad("products.csv", "sku,title,unit_cost\nA,Pan,2e12\n");
    assert_has(
        &m,
        &[
            "row 2, column 'unit_cost', value '2e12'",
            "a unit cost of 0 or more (at most a trillion)",
        ],
    );

    let m = bad("warehouses.csv", "id,name,lat,lon\nW1,North,95,0\n");
    assert_has(&m, &["row 2, column 'lat', value '95'", "latitude between -90 and 90"]);

    let m = bad(
        "orders.csv",
        "id,warehouse,lat,lon,quantity,ready,due\nO1,W,51,0,3,12:00,09:00\n",
    );
    assert_has(
        &m,
        &[
            "row 2, column 'due', value '09:00'",
            "due time is before the ready time",
        ],
    );

    let m = bad("orders.csv", "id,warehouse,quantity\nO1,W,3\n");
    assert_has(&m, &["needs coordinates"]);

    let m = bad("orders.csv", "id,warehouse,x,y,quantity,ready\nO1,W,1,2,3,lunchtime\n");
    assert_has(&m, &["row 2, column 'ready', value 'lunchtime'", "time of day"]);

    let m = bad("fleet.csv", "id,warehouse,capacity\nV1,W,0\n");
    assert_has(&m, &["row 2, column 'capacity', value '0'", "capacity above 0"]);

    let m = bad(
        "fleet.csv",
        "id,warehouse,capacity,shift_start,shift_end\nV1,W,10,18:00,08:00\n",
    );
    assert_has(&m, &["row 2, column 'shift_end'", "ends before it starts"]);
}

#[test]
fn unknown_warehouse_fails_the_whole_import() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["sales.csv", "warehouses.csv", "products.csv"] {
        fs::copy(fixture("good").join(f), dir.path().join(f)).unwrap();
    }
    fs::write(
        dir.path().join("fleet.csv"),
        "id,warehouse,capacity\nV1,W1,100\nV2,W9,100\n",
    )
    .unwrap();
    let e = import(&[dir.path().to_path_buf()]).unwrap_err();
    let m = e.to_string();
    assert_has(
        &m,
        &["fleet.csv, row 3, column 'warehouse', value 'W9'", "unknown warehouse"],
    );
    assert_has(&m, &["nothing was imported"]);
    assert_has(&m, &["unknown warehouse: it is not in the warehouses file"]);
    // A warehouse whose own row is wrong is in the file: the rows naming
    // it say where its row failed, not that it is missing.
    let wh = fs::read_to_string(dir.path().join("warehouses.csv")).unwrap();
    let header = wh.lines().next().unwrap();
    let cols = header.split(',').count();
    let mut row = vec!["W9".to_string()];
    row.extend(
        header
            .split(',')
            .skip(1)
            .map(|c| if c == "lat" { "123".into() } else { String::new() }),
    );
    assert_eq!(row.len(), cols);
    fs::write(dir.path().join("warehouses.csv"), format!("{}{}\n", wh, row.join(","))).unwrap();
    let rows = wh.lines().count() + 1;
    let m = import(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert_has(&m, &["expected a latitude between -90 and 90"]);
    assert_has(
        &m,
        &[
            "the warehouse's own row in ",
            &format!("(row {rows}) has errors, reported there"),
        ],
    );
    // The cause comes before what follows from it.
    let cause = m.find("expected a latitude between -90 and 90").unwrap();
    let follows = m.find("has errors, reported there").unwrap();
    assert!(cause < follows, "{m}");
}

#[test]
fn many_bad_rows_are_listed_briefly() {
    let mut csv = String::from("date,sku,warehouse,quantity\n");
    for i in 0..500 {
        csv.push_str(&format!("2024-01-01,S{i},W,x\n"));
    }
    let m = bad("sales.csv", &csv);
    assert_has(&m, &["row 2,", "row 11,", "490 more rows like this"]);
    assert!(!m.contains("row 12,"), "{m}");
}

#[test]
fn explicit_map_and_other_date_formats() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.csv");
    fs::write(&p, "Day;Article;Site;Shipped\n31/01/2024;X;S1;4\n01/02/2024;X;S1;6\n").unwrap();
    let opts = ImportOptions {
        map: "quantity=Shipped".parse().unwrap(),
        ..ImportOptions::default()
    };
    let imported = import_paths(&[p], &opts).unwrap_or_else(|e| panic!("{e}"));
    let s = &imported.dataset.demand[0];
    assert_eq!((s.sku.as_str(), s.warehouse.as_str()), ("X", "S1"));
    assert_eq!(s.start, day(2024, 1, 31));
    assert_eq!(s.values, vec![4.0, 6.0]);
    assert_eq!(imported.report.files[0].date_format.as_deref(), Some("%d/%m/%Y"));
}

/// Write `files` (name, content) in a fresh folder and import them.
fn import_written(files: &[(&str, &str)]) -> Imported {
    let dir = tempfile::tempdir().unwrap();
    import(&write_all(dir.path(), files)).unwrap_or_else(|e| panic!("{e}"))
}

/// Write `files` (name, content) in `dir`; their paths.
fn write_all(dir: &Path, files: &[(&str, &str)]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(name, content)| {
            let p = dir.join(name);
            fs::write(&p, content).unwrap();
            p
        })
        .collect()
}

#[test]
fn numbers_and_dates_as_spreadsheets_and_shops_write_them() {
    // A European spreadsheet's CSV: ';' between fields, decimal commas,
    // dots grouping thousands.
    let eu = import_written(&[
        (
            "sales.csv",
            "date;sku;warehouse;quantity\n01.02.2024;A;W;3,5\n02.02.2024;A;W;1.250\n03.02.2024;A;W;2\n",
        ),
        ("products.csv", "sku;title;unit_cost;price\nA;Mug;1,25;2.499,90\n"),
    ]);
    assert_eq!(eu.dataset.demand[0].values, vec![3.5, 1250.0, 2.0]);
    let a = eu.dataset.product("A").unwrap();
    assert_eq!((a.unit_cost, a.price), (Some(1.25), Some(2499.9)));
    // Thousands grouped by commas in a comma-separated file.
    let us = import_written(&[(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-02-01,A,W,\"1,200\"\n2024-02-02,A,W,7\n",
    )]);
    assert_eq!(us.dataset.demand[0].values, vec![1200.0, 7.0]);
    // A shop's timestamps with their UTC offset: a sale late in the evening
    // in New York counts on that day, not on the next day in UTC.
    let shop = import_written(&[(
        "shop_export.csv",
        "Order Date,Variant SKU,Qty\n2024-02-01 23:30:00 -0500,A,2\n2024-02-02 09:00:00 -0500,A,1\n",
    )]);
    let ds = &shop.dataset;
    assert_eq!(
        (ds.demand[0].start, ds.demand[0].values.clone()),
        (day(2024, 2, 1), vec![2.0, 1.0])
    );
    let z = import_written(&[(
        "sales.csv",
        "date,sku,quantity\n2024-02-01T10:00:00Z,A,2\n2024-02-02T10:00:00.5+01:00,A,4\n",
    )]);
    assert_eq!(z.dataset.demand[0].values, vec![2.0, 4.0]);
    assert_eq!(
        z.report.files[0].date_format.as_deref(),
        Some("%Y-%m-%dT%H:%M:%S%.f%:z")
    );
    // Monthly figures by month name.
    let m = import_written(&[(
        "sales.csv",
        "month,sku,quantity\nJan 2024,A,30\nFeb 2024,A,28\nMar 2024,A,31\n",
    )]);
    let s = &m.dataset.demand[0];
    assert_eq!((s.start, s.values.clone()), (day(2024, 1, 1), vec![30.0, 28.0, 31.0]));
    // Dots between groups of three and no comma in a ';' file: 1200 to a
    // spreadsheet, 1.2 to a program; not guessed at.
    let msg = bad("sales.csv", "date;sku;quantity\n2024-02-01;A;15\n2024-02-02;A;1.200\n");
    assert_has(&msg, &["row 3", "'quantity'", "'1.200' could be 1200"]);
    // A leading zero groups no thousands.
    let msg = bad("sales.csv", "date,sku,quantity\n2024-02-01,A,\"0,250\"\n");
    assert_has(&msg, &["value '0,250'", "decimal comma"]);
    // A decimal comma in a comma-separated file is not guessed at.
    let msg = bad("sales.csv", "date,sku,quantity\n2024-02-01,A,\"3,5\"\n");
    assert_has(
        &msg,
        &[
            "row 2",
            "'quantity'",
            "'3,5'",
            "decimal comma is read only in CSV files separated by ';'",
        ],
    );
}

#[test]
fn numbered_days_are_dated_by_the_calendar_given_with_them() {
    // M5's layout: a column per numbered day, dated by calendar.csv (given
    // after the sales, as a planner might), whose events are read too.
    let sales = "id,item_id,dept_id,cat_id,store_id,state_id,d_1,d_2,d_3,d_4\n\
                 HOBBIES_1_001_CA_1_evaluation,HOBBIES_1_001,HOBBIES_1,HOBBIES,CA_1,CA,0,2,1,3\n\
                 HOBBIES_1_001_TX_1_evaluation,HOBBIES_1_001,HOBBIES_1,HOBBIES,TX_1,TX,1,1,0,0\n";
    let calendar = "date,wm_yr_wk,weekday,wday,month,year,d,event_name_1,event_type_1,event_name_2,event_type_2,\
                    snap_CA,snap_TX,snap_WI\n2011-01-29,11101,Saturday,1,1,2011,d_1,,,,,0,0,0\n\
                    2011-01-30,11101,Sunday,2,1,2011,d_2,,,,,0,0,0\n2011-01-31,11101,Monday,3,1,2011,d_3,,,,,0,0,0\n\
                    2011-02-01,11101,Tuesday,4,2,2011,d_4,,,,,1,1,0\n2011-02-06,11102,Sunday,2,2,2011,d_9,SuperBowl,\
                    Sporting,,,1,1,1\n";
    let m5 = import_written(&[("sales_train_evaluation.csv", sales), ("calendar.csv", calendar)]);
    let ds = &m5.dataset;
    let ca = ds.demand.iter().find(|s| s.warehouse == "CA_1").unwrap();
    assert_eq!((ca.sku.as_str(), ca.start), ("HOBBIES_1_001", day(2011, 1, 29)));
    assert_eq!(ca.values, vec![0.0, 2.0, 1.0, 3.0]);
    assert!(
        ds.events
            .iter()
            .any(|e| e.name == "SuperBowl" && e.date == day(2011, 2, 6))
    );
    // Without the calendar, or with a day it lacks, nothing is guessed.
    let msg = bad("sales_train_evaluation.csv", sales);
    assert_has(
        &msg,
        &[
            "columns d_1, d_2, ... number days",
            "calendar file with columns d and date",
        ],
    );
    let short = calendar.replace("d_4", "d_40");
    let dir = tempfile::tempdir().unwrap();
    let paths = write_all(dir.path(), &[("sales.csv", sales), ("calendar.csv", short.as_str())]);
    assert_has(
        &import(&paths).unwrap_err().to_string(),
        &["column d_4 is a day the calendar does not date"],
    );
    // A day dated twice, or two days one date: an error, not a guess.
    for (calendar, expected) in [
        (
            format!("{calendar}2011-06-01,11120,Wednesday,5,6,2011,d_4,,,,,0,0,0\n"),
            "day d_4 is dated both 2011-02-01 and 2011-06-01",
        ),
        (
            calendar.replace("2011-02-01", "2011-01-31"),
            "days d_3 and d_4 are both dated 2011-01-31",
        ),
    ] {
        fs::write(&paths[1], calendar).unwrap();
        assert_has(&import(&paths).unwrap_err().to_string(), &[expected]);
    }
}

#[test]
fn workbooks_import_sheet_by_sheet() {
    // Sheets named for their kind (a title above one table), and a note
    // sheet that is left out with a warning. Excel's owner file of an open
    // workbook is passed over in a folder.
    let dir = tempfile::tempdir().unwrap();
    fs::copy(fixture("workbooks/shop.xlsx"), dir.path().join("shop.xlsx")).unwrap();
    fs::write(dir.path().join("~$shop.xlsx"), b"owner").unwrap();
    let imported = import(&[dir.path().to_path_buf()]).unwrap_or_else(|e| panic!("{e}"));
    let sheets: Vec<(Option<&str>, String)> = imported
        .report
        .files
        .iter()
        .map(|f| (f.sheet.as_deref(), f.kind.to_string()))
        .collect();
    assert_eq!(
        sheets,
        [
            (Some("Sales"), "sales".to_string()),
            (Some("products"), "products".to_string())
        ]
    );
    let ds = &imported.dataset;
    // A SKU stored as a number reads as its digits; dates stored as dates.
    let s = ds.demand.iter().find(|s| s.sku == "85123").unwrap();
    assert_eq!((s.warehouse.as_str(), s.start), ("S1", day(2024, 1, 1)));
    assert_eq!(s.values, vec![5.0, 3.0, 4.5]);
    assert_eq!(ds.product("85123").unwrap().pack_size, 6);
    assert!(
        imported
            .report
            .warnings()
            .any(|w| w.to_string().contains("sheet 'Notes'") && w.message.contains("left out"))
    );
    // A bad cell is named by file, sheet, the row the spreadsheet shows, and
    // column; timestamps stored as dates keep their times.
    let e = import(&[fixture("workbooks/bad_transactions.xlsx")]).unwrap_err();
    assert_eq!(
        e.report.files[0].date_format.as_deref(),
        Some("%Y-%m-%d %H:%M:%S"),
        "{:?}",
        e.report.files
    );
    assert_has(
        &e.to_string(),
        &["bad_transactions.xlsx, sheet 'Year 2010', row 5, column 'Quantity', value 'lots'"],
    );
    // A hidden sheet and a blank row are left out; a formula's error in a
    // column nothing reads is no matter.
    let checks = import(&[fixture("workbooks/checks.xlsx")]).unwrap_or_else(|e| panic!("{e}"));
    let s = &checks.dataset.demand[0];
    assert_eq!((s.start, s.values.clone()), (day(2024, 1, 1), vec![3.0, 4.0]));
    assert!(
        checks
            .report
            .warnings()
            .any(|w| w.to_string().contains("sheet 'Old': a hidden sheet"))
    );
    // One in the SKU column is an error naming the cell.
    let e = import(&[fixture("workbooks/formula_error.xlsx")]).unwrap_err();
    assert_has(
        &e.to_string(),
        &["sheet 'Sales', row 3, column 'sku', value '#N/A': the cell holds a formula's error"],
    );
    // A sales sheet without warehouses beside one with them would count
    // twice if it sums the other.
    let e = import(&[fixture("workbooks/summary.xlsx")]).unwrap_err();
    assert_has(
        &e.to_string(),
        &["sheet 'By SKU': holds sales without a warehouse column, beside sheet 'Sales'"],
    );
    // Something that is not a workbook is an error naming the file.
    let p = dir.path().join("fake.xlsx");
    fs::write(&p, "date,sku,quantity\n").unwrap();
    assert_has(
        &import(&[p]).unwrap_err().to_string(),
        &["fake.xlsx", "is not a readable workbook"],
    );
}

#[test]
fn a_column_per_date_reads_as_a_row_per_date() {
    // A planner's pivot: SKUs down, weeks across, blanks for no sales, a
    // total row and a total column.
    let wide = import_written(&[(
        "weekly.csv",
        "SKU,Store,2024-01-01,2024-01-08,2024-01-15,2024-01-22,Total\nA1,S1,3,,4,5,12\nB2,S1,1,2,3,4,10\n\
         Grand Total,,4,2,7,9,22\n",
    )]);
    let ds = &wide.dataset;
    assert_eq!(ds.demand.len(), 2);
    let a1 = ds.demand.iter().find(|s| s.sku == "A1").unwrap();
    assert_eq!((a1.warehouse.as_str(), a1.start), ("S1", day(2024, 1, 1)));
    assert_eq!(a1.values, vec![3.0, 0.0, 4.0, 5.0]);
    assert!(
        wide.report
            .warnings()
            .any(|w| w.row == Some(4) && w.message.contains("a total row"))
    );
    // Blanks before a SKU's first value are no history at all: it starts
    // at its first value (a blank later is a week without sales).
    let late = import_written(&[(
        "weekly.csv",
        "SKU,2024-01-01,2024-01-08,2024-01-15,2024-01-22\nA1,3,1,2,1\nC3,,,2,\n",
    )]);
    let c3 = late.dataset.demand.iter().find(|s| s.sku == "C3").unwrap();
    assert_eq!((c3.start, c3.values.clone()), (day(2024, 1, 15), vec![2.0, 0.0]));
    assert_eq!(wide.report.files[0].rows, 2);
    // The same in a workbook, the weeks stored as dates under a title.
    let book = import(&[fixture("workbooks/pivot.xlsx")]).unwrap_or_else(|e| panic!("{e}"));
    let s = book.dataset.demand.iter().find(|s| s.sku == "85123").unwrap();
    assert_eq!((s.start, s.values.clone()), (day(2024, 1, 1), vec![1.0, 2.0, 3.0, 4.0]));
    // A bad cell is named by its row and its date column; a decimal comma
    // in a ';' file reads.
    let msg = bad(
        "weekly.csv",
        "SKU;2024-01-01;2024-01-08;2024-01-15\nA1;3,5;1;2\nB2;1;x;2\n",
    );
    assert_has(
        &msg,
        &["row 3", "column '2024-01-08'", "value 'x'", "units sold on 2024-01-08"],
    );
    let eu = import_written(&[("weekly.csv", "SKU;2024-01-01;2024-01-08;2024-01-15\nA1;3,5;1;2\n")]);
    assert_eq!(eu.dataset.demand[0].values, vec![3.5, 1.0, 2.0]);
    // A formula's error under a date is no number of sales.
    let e = import(&[fixture("workbooks/pivot_errors.xlsx")]).unwrap_err();
    assert_has(&e.to_string(), &["row 2, column '2024-01-08', value '#DIV/0!'"]);
    // A week with nothing in it yet is left out, not read as no sales.
    let ahead = import_written(&[(
        "weekly.csv",
        "SKU,2024-01-01,2024-01-08,2024-01-15,2024-01-22\nA1,3,4,5,\nB2,1,2,3,\n",
    )]);
    assert_eq!(ahead.dataset.demand[0].values, vec![3.0, 4.0, 5.0]);
    assert!(
        ahead
            .report
            .warnings()
            .any(|w| w.message.contains("no value in this date's column"))
    );
    // A date twice is an error; stock by month beside on-hand stays stock.
    let msg = bad(
        "weekly.csv",
        "SKU,2024-01-01,2024-01-08,2024-01-15,2024-01-08\nA1,1,2,3,4\n",
    );
    assert_has(&msg, &["two columns are named 2024-01-08"]);
    let stock = import_written(&[(
        "stock.csv",
        "sku,warehouse,on_hand,2024-01-31,2024-02-29,2024-03-31\nA1,W,5,1,2,3\n",
    )]);
    assert_eq!(stock.report.files[0].kind.to_string(), "inventory");
    // A SKU twice is a duplicate named by its rows in the file.
    let msg = bad(
        "weekly.csv",
        "SKU,2024-01-01,2024-01-08,2024-01-15\nA1,1,1,1\nB2,1,1,1\nA1,2,2,2\n",
    );
    assert_has(&msg, &["row 4"]);
}

#[test]
fn a_map_naming_no_column_is_an_error() {
    let opts = ImportOptions {
        map: "quantity=salez".parse().unwrap(),
        ..ImportOptions::default()
    };
    let e = import_paths(&[fixture("good").join("sales.csv")], &opts).unwrap_err();
    assert_has(&e.to_string(), &["--map", "no file that was read has a column 'salez'"]);
}

#[test]
fn parquet_reads_like_csv() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.parquet");
    let mut df = df!(
        "date" => ["2024-01-01", "2024-01-03"],
        "item" => ["A", "A"],
        "store" => ["1", "1"],
        "sales" => [3i64, 5],
    )
    .unwrap();
    let f = fs::File::create(&p).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    let imported = import(&[p]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.dataset.demand[0].values, vec![3.0, 0.0, 5.0]);
}

#[test]
fn missing_and_unreadable_paths_are_errors() {
    let e = import(&[PathBuf::from("/no/such/file.csv")]).unwrap_err();
    assert_has(&e.to_string(), &["/no/such/file.csv", "no such file"]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.csv");
    fs::write(&p, "colour,shape\nred,round\n").unwrap();
    let e = import(&[p]).unwrap_err();
    assert_has(
        &e.to_string(),
        &["notes.csv", "cannot tell what this file holds", "colour, shape"],
    );
    let p = dir.path().join("sales.csv");
    fs::write(&p, "").unwrap();
    let e = import(&[p]).unwrap_err();
    assert_has(&e.to_string(), &["sales.csv", "empty"]);
    assert!(e.report.problems.iter().all(|p| p.severity == Severity::Error));
}

#[test]
fn bad_transaction_lines_name_row_and_column() {
    let head = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";
    let m = bad(
        "retail.csv",
        &format!(
            "{head}536365,85123A,HEART,6,12/1/2010 8:26,2.55,17850,UK\n536366,71053,LANTERN,6,12/1/2010 8:28,3.39,,UK\n\
             536367,22633,WARMER,six,12/1/2010 8:34,1.85,,UK\n536368,22633,WARMER,2,31/31/2010 9:00,1.85,,UK\n"
        ),
    );
    assert_has(
        &m,
        &["retail.csv, row 4, column 'Quantity', value 'six'", "expected a number"],
    );
    assert_has(
        &m,
        &["row 5, column 'InvoiceDate', value '31/31/2010 9:00'", "%m/%d/%Y %H:%M"],
    );
}

#[test]
fn two_columns_for_one_field_are_an_error_unless_mapped() {
    let csv = "date,sku,qty,quantity\n2024-01-01,A,1,10\n2024-01-02,A,2,20\n";
    let m = bad("sales.csv", csv);
    assert_has(
        &m,
        &[
            "sales.csv: columns 'qty' and 'quantity' both look like the 'quantity' field",
            "--map quantity=qty",
        ],
    );

    // Naming one of them settles it: the mapped column is read.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.csv");
    fs::write(&p, csv).unwrap();
    let opts = ImportOptions {
        map: "quantity=qty".parse().unwrap(),
        ..ImportOptions::default()
    };
    let imported = import_paths(&[p], &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.dataset.demand[0].values, vec![1.0, 2.0]);
    assert_eq!(imported.report.errors().count(), 0);
}

/// The warnings an import reported, as printed.
fn warnings_of(imported: &Imported) -> Vec<String> {
    imported
        .report
        .problems
        .iter()
        .filter(|p| p.severity == skuplan::data::problems::Severity::Warning)
        .map(|p| p.to_string())
        .collect()
}

/// Stock of a SKU that no sales or product row names is said (it was
/// left out of every plan unsaid).
#[test]
fn stock_of_a_sku_nothing_else_names_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("sales.csv"),
        "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n2024-01-02,A,W,6\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("inventory.csv"),
        "sku,warehouse,on_hand\nA,W,10\nZZ-9,W,5\nZZ-8,W,1\n",
    )
    .unwrap();
    let ok = import(&[dir.path().to_path_buf()]).unwrap();
    let warnings = warnings_of(&ok);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_has(
        &warnings[0],
        &[
            "inventory.csv, row 3, column 'sku', value 'ZZ-9'",
            "no sales or product row names this SKU (nor 1 more inventory row(s))",
        ],
    );
}

/// A promotion flag that reads as neither yes nor no is read as no, and
/// said once with its first row and how many more (it was dropped unsaid).
#[test]
fn a_promotion_flag_that_is_no_word_for_yes_or_no_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.csv");
    fs::write(
        &p,
        "date,sku,warehouse,quantity,promo\n2024-01-01,A,W,5,1\n2024-01-02,A,W,6,abc\n2024-01-03,A,W,6,YES\n2024-01-04,A,W,6,20%\n",
    )
    .unwrap();
    let ok = import(&[p]).unwrap_or_else(|e| panic!("{e}"));
    let warnings = warnings_of(&ok);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_has(
        &warnings[0],
        &[
            "sales.csv, row 3, column 'promo', value 'abc'",
            "expected a yes/no flag",
            "read as no (1 more rows like it)",
        ],
    );
    let promo = ok.dataset.demand[0].promo.clone().expect("a promo column");
    assert_eq!(promo, vec![true, false, true, false]);
}

/// One name twice in a CSV header is an error, as in a workbook: the
/// reader renames the second, and the first was read unsaid.
#[test]
fn two_columns_of_one_name_in_a_csv_are_an_error() {
    let m = bad(
        "sales.csv",
        "date,sku,warehouse,quantity,price,quantity\n2024-01-01,A,W1,5,1.0,999\n2024-01-02,A,W1,6,1.0,999\n",
    );
    assert_has(
        &m,
        &[
            "sales.csv, row 1: columns 4 and 6 are both called 'quantity'",
            "expected one column per name",
        ],
    );
    // Columns without a name (trailing commas from a spreadsheet) are no
    // such pair: the file imports.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.csv");
    fs::write(
        &p,
        "date,sku,warehouse,quantity,,,\n2024-01-01,A,W1,5,,,\n2024-01-02,A,W1,6,,,\n",
    )
    .unwrap();
    let ok = import(&[p]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.dataset.demand[0].values, vec![5.0, 6.0]);
}

/// A quote opened and never closed swallows the rest of the file: the
/// error names the row where it opened, not the end of the file.
#[test]
fn an_unclosed_quote_is_named_where_it_opens() {
    let m = bad(
        "products.csv",
        "sku,title,category\nA,\"lamp, red\",Home\nB,\"say \"\"hi\"\"\",Toys\nC,\"unterminated title,Toys\nD,plain,Home\n",
    );
    assert_has(
        &m,
        &[
            "products.csv, row 4: a quoted value opens here and is never closed",
            "\"unterminated title,Toys",
            "closing '\"' missing",
        ],
    );

    // After a quoted value over two lines the row is the record, the line the file's.
    let m = bad(
        "products.csv",
        "sku,title,category\nA,\"two\nlines\",Home\nB,x,\"open\n",
    );
    assert_has(&m, &["row 3: a quoted value opens here (line 4 of the file)"]);
}

#[test]
fn a_row_longer_than_the_header_is_named() {
    let m = bad(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W,1\n2024-01-02,A,W,2\n2024-01-03,A,W,1,5\n2024-01-04,A,W,1,5\n",
    );
    assert_has(
        &m,
        &[
            "sales.csv, row 4: expected 4 fields, as in the header, but found 5",
            "a ',' in it missing its quotes",
        ],
    );
    assert!(!m.contains("row 5"), "{m}");

    // Semicolons, and a quoted value over two lines: the row is still the record.
    let m = bad(
        "sales.csv",
        "date;sku;warehouse;quantity\n2024-01-01;\"A\nB\";W;1\n2024-01-02;A;W;2;0\n",
    );
    assert_has(&m, &["row 3: expected 4 fields", "found 5 (line 4 of the file)", "';'"]);

    // A blank line is a row, for polars as for a spreadsheet.
    let m = bad(
        "sales.csv",
        "date\tsku\twarehouse\tquantity\n2024-01-01\tA\tW\t1\n\n\n2024-01-02\tA\tW\t2\t0\n",
    );
    assert_has(
        &m,
        &["sales.csv, row 5: expected 4 fields", "found 5; is a value with a tab"],
    );
}

#[test]
fn dates_years_from_the_rest_are_warned_about_and_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.csv");
    fs::write(
        &p,
        "date,sku,warehouse,quantity\n2024-01-01,A,W,1\n1900-01-02,A,W,2\n2024-01-02,A,W,3\n2024-01-03,A,W,4\n\
         2400-01-01,A,W,5\n",
    )
    .unwrap();
    let imported = import(&[p]).unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = imported.report.warnings().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let far = "more than 5 years from the rest of the file's dates (2024-01-01 to 2024-01-03); the row is left out";
    assert_has(
        &warnings[0],
        &["sales.csv, row 3, column 'date', value '1900-01-02'", far],
    );
    assert_has(
        &warnings[1],
        &["sales.csv, row 6, column 'date', value '2400-01-01'", far],
    );
    let s = &imported.dataset.demand[0];
    assert_eq!((s.start, s.values.clone()), (day(2024, 1, 1), vec![1.0, 3.0, 4.0]));

    // Transaction lines too, with their timestamps.
    let p = dir.path().join("retail.csv");
    fs::write(
        &p,
        "InvoiceNo,StockCode,Quantity,InvoiceDate\n1,A,1,12/13/2010 8:26\n2,A,1,12/13/2101 8:26\n3,A,1,12/14/2010 9:00\n",
    )
    .unwrap();
    let imported = import(&[p]).unwrap_or_else(|e| panic!("{e}"));
    let w: Vec<String> = imported.report.warnings().map(ToString::to_string).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_has(
        &w[0],
        &["retail.csv, row 3, column 'InvoiceDate', value '12/13/2101 8:26'"],
    );
    assert_eq!(imported.dataset.demand[0].values, vec![1.0, 1.0]);
}

mod properties {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever the rows, every series is gap-free, ends on the last day
        /// of the data, and keeps every unit that was sold on the right day.
        #[test]
        fn sales_become_gap_free_series_that_keep_every_unit(
            rows in prop::collection::btree_map((0u8..4, 0u8..3, 0u16..60), 0u32..50, 1..120)
        ) {
            let mut csv = String::from("date,sku,warehouse,quantity\n");
            for ((s, w, d), q) in &rows {
                let date = day(2024, 1, 1) + chrono::Days::new(u64::from(*d));
                writeln!(csv, "{date},S{s},W{w},{q}").unwrap();
            }
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("sales.csv");
            fs::write(&p, csv).unwrap();
            // Random days are too irregular to call daily on their own.
            let daily = ImportOptions { period: Some(skuplan::domain::PeriodKind::Day), ..ImportOptions::default() };
            let imported = import_paths(&[p], &daily).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let last = rows.keys().map(|k| k.2).max().unwrap();
            let mut expected: BTreeMap<(String, String, u16), f64> = BTreeMap::new();
            for ((s, w, d), q) in &rows {
                *expected.entry((format!("S{s}"), format!("W{w}"), *d)).or_default() += f64::from(*q);
            }
            let mut got: BTreeMap<(String, String, u16), f64> = BTreeMap::new();
            for s in &imported.dataset.demand {
                prop_assert_eq!(s.end(), day(2024, 1, 1) + chrono::Days::new(u64::from(last)));
                for (i, v) in s.values.iter().enumerate() {
                    let d = (s.date_at(i) - day(2024, 1, 1)).num_days() as u16;
                    if *v != 0.0 {
                        got.insert((s.sku.clone(), s.warehouse.clone(), d), *v);
                    }
                }
            }
            expected.retain(|_, v| *v != 0.0);
            prop_assert_eq!(got, expected);
        }
    }
}

/// A delivery file with a header and no rows, and negative stock on hand,
/// are read as before and said: they used to pass as "0 warnings".
#[test]
fn empty_side_files_and_negative_stock_are_said() {
    let ok = import_written(&[
        (
            "sales.csv",
            "date,sku,warehouse,quantity\n2026-01-01,A,W1,3\n2026-01-02,A,W1,4\n",
        ),
        ("orders.csv", "id,warehouse,lat,lon,quantity\n"),
        ("inventory.csv", "sku,warehouse,on_hand\nA,W1,-50\n"),
    ]);
    let warnings = warnings_of(&ok);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("orders.csv") && w.contains("read as orders but has no rows below its header")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("inventory.csv") && w.contains("row 2") && w.contains("stock on hand is negative")),
        "{warnings:?}"
    );
    assert_eq!(ok.dataset.inventory[0].on_hand, -50.0, "taken as it is");
}

/// A date format that does not fit the dates says where such a format
/// comes from (it named only --date-format, though the config's
/// `[import] date_format` or the workspace's last import can give it).
#[test]
fn a_given_date_format_that_does_not_fit_says_where_it_comes_from() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.csv");
    fs::write(&p, "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n2024-01-02,A,W,3\n").unwrap();
    let opts = ImportOptions {
        date_format: Some("%d.%m.%Y".into()),
        ..ImportOptions::default()
    };
    let e = import_paths(&[p], &opts).unwrap_err().to_string();
    assert!(
        e.contains("do not match the date format %d.%m.%Y (given by --date-format, the config's [import] date_format"),
        "{e}"
    );
}

/// SKUs the config's `[import] exclude_skus` names are no stock (postage,
/// fees): their sales, product rows and stock are left out, and the import
/// says which it found (online-retail-2010's POST and BANK CHARGES were
/// planned as orders, and an approve-all sent them to the supplier file).
#[test]
fn skus_the_config_excludes_are_left_out_and_said() {
    use skuplan::data::{ImportOptions, import_paths};
    let dir = tempfile::tempdir().unwrap();
    let mut sales = String::from("date,sku,warehouse,quantity\n");
    for d in 1..=28 {
        sales.push_str(&format!(
            "2026-02-{d:02},A1,W,3\n2026-02-{d:02},POST,W,1\n2026-02-{d:02},BANK CHARGES,W,1\n"
        ));
    }
    std::fs::write(dir.path().join("sales.csv"), sales).unwrap();
    std::fs::write(
        dir.path().join("inventory.csv"),
        "sku,warehouse,on_hand\nA1,W,5\nPOST,W,0\n",
    )
    .unwrap();
    let opts = ImportOptions {
        exclude_skus: vec!["POST".into(), "BANK CHARGES".into(), "NOT THERE".into()],
        ..ImportOptions::default()
    };
    let i = import_paths(&[dir.path().to_path_buf()], &opts).unwrap();
    let skus: Vec<&str> = i.dataset.demand.iter().map(|s| s.sku.as_str()).collect();
    assert_eq!(skus, ["A1"]);
    assert!(i.dataset.inventory.iter().all(|r| r.sku == "A1"));
    let said: Vec<String> = i.report.problems.iter().map(|p| p.message.clone()).collect();
    assert!(
        said.iter()
            .any(|m| m.starts_with("2 SKUs left out, as the config asks") && m.ends_with("BANK CHARGES, POST")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|m| m == "no SKU in the data is called \"NOT THERE\""),
        "{said:?}"
    );
    // Without the list, all three are read.
    let all = import_paths(&[dir.path().to_path_buf()], &ImportOptions::default()).unwrap();
    assert_eq!(all.dataset.demand.len(), 3);
}

/// A CSV saved in Windows-1252 (a spreadsheet's "Save as CSV" on Windows)
/// or UTF-16 reads with its letters, the row where it stopped being UTF-8
/// said: replacing each accented byte with one sign made `CAFé` and `CAFè`
/// one SKU, unsaid, and a header byte failed the whole file.
#[test]
fn csv_files_in_other_encodings_keep_their_letters_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let cp1252 = dir.path().join("sales.csv");
    let mut bytes = b"date,sku,quantity,Bemerkung f".to_vec();
    bytes.push(0xFC); // ü
    bytes.extend_from_slice(b"r\n2024-01-01,CAF");
    bytes.push(0xE9); // é
    bytes.extend_from_slice(b",1,\n2024-01-01,CAF");
    bytes.push(0xE8); // è
    bytes.extend_from_slice(b",2,\n");
    fs::write(&cp1252, &bytes).unwrap();
    let i = import(std::slice::from_ref(&cp1252)).unwrap_or_else(|e| panic!("{e}"));
    let mut skus: Vec<&str> = i.dataset.demand.iter().map(|s| s.sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, ["CAFè", "CAFé"]);
    let said = i
        .report
        .problems
        .iter()
        .find(|p| p.message.contains("not UTF-8"))
        .expect("the encoding is said");
    assert_eq!(said.severity, Severity::Warning);
    assert_eq!(said.row, Some(1), "the header's ü is the first");
    assert!(
        said.message.contains("Windows-1252")
            && said.message.contains("Bemerkung für")
            && said.message.contains("(and 2 more rows)"),
        "{said:?}"
    );

    // UTF-16 with its byte order mark, as some exporters write.
    let utf16 = dir.path().join("utf16.csv");
    let text = "date,sku,quantity\n2024-01-01,CAFé,3\n";
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    fs::write(&utf16, &bytes).unwrap();
    let i = import(&[utf16]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(i.dataset.demand[0].sku, "CAFé");
    assert_eq!(i.dataset.demand[0].values, vec![3.0]);
    assert!(i.report.problems.iter().any(|p| p.message.contains("UTF-16LE")));

    // Two exports pasted together: the UTF-8 rows keep their letters (the
    // whole file read as Windows-1252 made `CAFé` into `CAFÃ©`).
    let mixed = dir.path().join("mixed.csv");
    let mut bytes = "date,sku,quantity\n2024-01-01,CAFé,1\n2024-01-01,CAF"
        .as_bytes()
        .to_vec();
    bytes.push(0xE8); // è
    bytes.extend_from_slice(b",2\n");
    fs::write(&mixed, &bytes).unwrap();
    let i = import(&[mixed]).unwrap_or_else(|e| panic!("{e}"));
    let mut skus: Vec<&str> = i.dataset.demand.iter().map(|s| s.sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, ["CAFè", "CAFé"]);
    let said = i
        .report
        .problems
        .iter()
        .find(|p| p.message.contains("not UTF-8"))
        .unwrap();
    assert_eq!(said.row, Some(3));
}

/// Rules an audit found missing: an event at a warehouse the warehouses
/// file does not list is an error like any other row's; a typo among a
/// flag column's yes/no words is read as no and said (it made an event of
/// kind "maybe"); a pack of billions is refused (a plan ordered 4,294,967,295
/// units); the config's map names fields as `--map` does.
#[test]
fn events_packs_and_maps_are_checked_like_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixture("good");
    let copy = |name: &str| {
        let to = dir.path().join(name);
        fs::copy(good.join(name), &to).unwrap();
        to
    };
    let sales = copy("sales.csv");
    let warehouses = copy("warehouses.csv");
    let holidays = dir.path().join("holidays.csv");
    fs::write(
        &holidays,
        "Date,Store,IsHoliday\n2024-01-01,W1,TRUE\n2024-01-02,W9,TRUE\n2024-01-03,W1,maybe\n2024-01-04,W2,FALSE\n",
    )
    .unwrap();
    let e = import(&[sales.clone(), warehouses.clone(), holidays.clone()]).unwrap_err();
    let p = e
        .report
        .problems
        .iter()
        .find(|p| p.value.as_deref() == Some("W9"))
        .unwrap_or_else(|| panic!("{e}"));
    assert_eq!((p.severity, p.row), (Severity::Error, Some(3)));
    assert!(p.message.contains("not in the warehouses file"), "{p:?}");

    fs::write(
        &holidays,
        "Date,Store,IsHoliday\n2024-01-01,W1,TRUE\n2024-01-03,W1,maybe\n2024-01-04,W2,FALSE\n2024-01-05,W2,perhaps\n\
         2024-01-06,W2,FALSE\n2024-01-07,W2,FALSE\n",
    )
    .unwrap();
    let i = import(&[sales.clone(), warehouses, holidays]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(i.dataset.events.len(), 1, "{:?}", i.dataset.events);
    let p = i
        .report
        .problems
        .iter()
        .find(|p| p.value.as_deref() == Some("maybe"))
        .expect("the typo is said");
    assert_eq!((p.severity, p.row), (Severity::Warning, Some(3)));
    assert!(p.message.contains("read as no (and 1 more rows)"), "{p:?}");
    // A column of kinds, with "no" on days without one, is read as kinds.
    let kinds = dir.path().join("events.csv");
    fs::write(
        &kinds,
        "date,flag\n2024-01-01,holiday\n2024-01-02,no\n2024-01-03,0\n2024-01-04,markdown\n",
    )
    .unwrap();
    let i = import(&[sales.clone(), kinds]).unwrap_or_else(|e| panic!("{e}"));
    let mut got: Vec<&str> = i.dataset.events.iter().map(|e| e.kind.as_str()).collect();
    got.sort_unstable();
    assert_eq!(got, ["holiday", "markdown"]);

    let products = dir.path().join("products.csv");
    fs::write(
        &products,
        "sku,title,pack_size,moq\nA1,Pan,4294967295,0\nB2,Jacket,6,20000000\n",
    )
    .unwrap();
    let e = import(&[sales, products]).unwrap_err();
    let said: Vec<(Option<usize>, Option<&str>, &str)> = e
        .report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_deref(), p.message.as_str()))
        .collect();
    assert!(
        said.contains(&(
            Some(2),
            Some("pack_size"),
            "expected a whole pack size of 1 to 1,000,000"
        )),
        "{said:?}"
    );
    assert!(
        said.contains(&(
            Some(3),
            Some("moq"),
            "expected a whole minimum order quantity of 0 to 10,000,000"
        )),
        "{said:?}"
    );

    // The config's map names fields as --map does (and the old names still read).
    let from_config: skuplan::data::ColumnMap =
        toml::from_str("lead_time_days = \"lt\"\nservice_min = \"svc\"\nspeed = \"kmh\"\n").unwrap();
    let again: skuplan::data::ColumnMap = "lead_time_days=lt,service_min=svc,speed_kmh=kmh".parse().unwrap();
    assert_eq!(from_config, again);
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        r#"{"lead_time_days":"lt","service_min":"svc","speed_kmh":"kmh"}"#
    );
}

/// A daily sales file's prices are read as a transaction file's are (the
/// median of the sold rows', for a SKU the products file does not list),
/// and a price that is no number of 0 or more is said and left out: both
/// went unread, unsaid.
#[test]
fn a_sales_files_prices_are_read_and_bad_ones_said() {
    let i = import_written(&[(
        "sales.csv",
        "date,sku,warehouse,quantity,price\n2024-01-01,A,W,2,4.00\n2024-01-02,A,W,1,abc\n2024-01-03,A,W,3,5.00\n\
         2024-01-04,A,W,0,99\n2024-01-05,A,W,1,-7\n2024-01-06,A,W,1,6.00\n",
    )]);
    let a = i.dataset.products.iter().find(|p| p.sku == "A").unwrap();
    assert_eq!(
        a.price,
        Some(5.0),
        "the median of 4, 5 and 6 (a row selling none is not a sale)"
    );
    let p = i
        .report
        .problems
        .iter()
        .find(|p| p.column.as_deref() == Some("price"))
        .expect("said");
    assert_eq!(
        (p.severity, p.row, p.value.as_deref()),
        (Severity::Warning, Some(3), Some("abc"))
    );
    assert!(
        p.message.contains("expected a price of 0 or more") && p.message.contains("(1 more rows like it)"),
        "{p:?}"
    );
}

/// Parquet as pandas writes it: a SKU kept as a float (123.0) is the `123`
/// of the products file (it made an orphan product row), a timestamp with
/// a time zone reads (it failed the whole file), and a column no text can
/// be made of fails the file only where a field is read from it.
#[test]
fn parquet_floats_and_zoned_timestamps_read_as_the_other_files_do() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let ms: Vec<i64> = (0..3).map(|d| 1_704_067_200_000 + d * 86_400_000).collect(); // 2024-01-01..03 UTC
    let date = Series::new("date".into(), ms)
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)))
        .unwrap();
    let mut df = DataFrame::new_infer_height(vec![
        date.into_column(),
        Column::new("sku".into(), [123.0f64, 123.0, 124.0]),
        Column::new("quantity".into(), [2.0f64, 3.5, 1.0]),
    ])
    .unwrap();
    let sales = dir.path().join("sales.parquet");
    let mut f = fs::File::create(&sales).unwrap();
    ParquetWriter::new(&mut f).finish(&mut df).unwrap();
    let products = dir.path().join("products.csv");
    fs::write(&products, "sku,title\n123,Mug\n124,Jug\n").unwrap();
    let i = import(&[sales, products]).unwrap_or_else(|e| panic!("{e}"));
    let mut skus: Vec<&str> = i.dataset.demand.iter().map(|s| s.sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, ["123", "124"]);
    assert!(
        i.dataset.products.iter().all(|p| !p.synthesized),
        "{:?}",
        i.dataset.products
    );
    let mug = i.dataset.demand.iter().find(|s| s.sku == "123").unwrap();
    assert_eq!(mug.values, vec![2.0, 3.5, 0.0], "to the data's last day");
    assert_eq!(mug.start, day(2024, 1, 1));
}
