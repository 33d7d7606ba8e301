//! Weekly and monthly data: the period is found from the dates (or given),
//! carried by every series, and used downstream; net sales with returns.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use skuplan::data::{ImportOptions, Imported, import_paths};
use skuplan::domain::{MonthStamp, Period, PeriodKind};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn write(dir: &Path, name: &str, rows: &[(NaiveDate, &str, f64)]) -> PathBuf {
    let mut text = String::from("date,sku,warehouse,quantity\n");
    for (d, sku, q) in rows {
        text.push_str(&format!("{d},{sku},W,{q}\n"));
    }
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn import_with(paths: &[PathBuf], opts: &ImportOptions) -> Result<Imported, String> {
    import_paths(paths, opts).map_err(|e| e.to_string())
}

fn import(paths: &[PathBuf]) -> Result<Imported, String> {
    import_with(paths, &ImportOptions::default())
}

/// `n` dates from `first`, `step` days apart, two SKUs each.
fn every(first: NaiveDate, step: u64, n: u64) -> Vec<(NaiveDate, &'static str, f64)> {
    (0..n)
        .flat_map(|i| {
            let d = first + Days::new(step * i);
            [(d, "A", 10.0 + (i % 5) as f64), (d, "B", (i % 3) as f64)]
        })
        .collect()
}

#[test]
fn daily_weekly_on_any_weekday_and_monthly_files_are_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let daily = write(dir.path(), "sales.csv", &every(day(2024, 1, 1), 1, 40));
    let i = import(&[daily]).unwrap();
    assert_eq!(i.dataset.period(), Period::Day);
    assert_eq!(i.report.summary.as_ref().unwrap().period, Period::Day);

    for offset in 0..7 {
        let first = day(2024, 1, 1) + Days::new(offset);
        let p = write(dir.path(), "sales.csv", &every(first, 7, 20));
        let i = import(&[p]).unwrap();
        let want = Period::Week(first.weekday());
        assert_eq!(i.dataset.period(), want);
        let s = &i.dataset.demand[0];
        assert_eq!(s.values.len(), 20, "one value a week, no empty days between");
        assert_eq!(s.date_at(3), first + Days::new(21));
        let text = skuplan::data::report::render(&i.report);
        assert!(text.contains("period            weekly (stamped on"), "{text}");
        assert!(text.contains("(20 weeks)"), "{text}");
    }

    let firsts: Vec<_> = (1..=12u32)
        .flat_map(|m| [(day(2023, m, 1), "A", m as f64)])
        .collect();
    let p = write(dir.path(), "sales.csv", &firsts);
    let i = import(&[p]).unwrap();
    assert_eq!(i.dataset.period(), Period::Month(MonthStamp::First));
    assert_eq!(i.dataset.demand[0].values, (1..=12).map(f64::from).collect::<Vec<_>>());

    let lasts: Vec<_> = (1..=12u32)
        .map(|m| (day(2023, m, 1).checked_add_months(chrono::Months::new(1)).unwrap().pred_opt().unwrap(), "A", 1.0))
        .collect();
    let p = write(dir.path(), "sales.csv", &lasts);
    let i = import(&[p]).unwrap();
    assert_eq!(i.dataset.period(), Period::Month(MonthStamp::Last));
    assert_eq!(i.dataset.demand[0].end(), day(2023, 12, 31));
}

#[test]
fn irregular_dates_are_an_error_with_an_example_unless_a_period_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "sales.csv", &every(day(2024, 1, 3), 10, 12));
    let e = import(std::slice::from_ref(&p)).unwrap_err();
    assert!(e.contains("sales.csv, column 'date'"), "{e}");
    assert!(e.contains("2024-01-03 is followed by 2024-01-13 (10 days later)"), "{e}");
    assert!(e.contains("--period"), "{e}");
    let opts = ImportOptions {
        period: Some(PeriodKind::Week),
        ..ImportOptions::default()
    };
    let i = import_with(&[p], &opts).unwrap();
    assert_eq!(i.dataset.period(), Period::Week(Weekday::Mon));
}

#[test]
fn a_date_off_the_weekly_stamp_is_named_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = every(day(2024, 1, 5), 7, 20);
    rows[14].0 = rows[14].0.pred_opt().unwrap();
    let p = write(dir.path(), "sales.csv", &rows);
    let e = import(&[p]).unwrap_err();
    assert!(e.contains("row 16, column 'date', value '2024-02-22'"), "{e}");
    assert!(e.contains("expected a Friday: the file is weekly (stamped on Fridays)"), "{e}");
}

#[test]
fn files_of_different_periods_are_an_error_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let daily = write(&a, "sales.csv", &every(day(2024, 1, 1), 1, 30));
    let weekly = write(&b, "sales.csv", &every(day(2024, 1, 5), 7, 10));
    let e = import(&[daily.clone(), weekly.clone()]).unwrap_err();
    assert!(e.contains(&weekly.display().to_string()), "{e}");
    assert!(e.contains(&format!("but {} is daily", daily.display())), "{e}");
}

#[test]
fn daily_rows_summed_into_weeks_equal_the_weekly_file_of_their_sums() {
    let dir = tempfile::tempdir().unwrap();
    // 2024-01-01 is a Monday: 120 whole Monday-to-Sunday weeks.
    let daily_rows: Vec<_> = (0..840u64)
        .map(|i| (day(2024, 1, 1) + Days::new(i), "A", ((i * 7) % 11) as f64))
        .collect();
    let weekly_rows: Vec<_> = daily_rows
        .chunks(7)
        .map(|w| (w[0].0, "A", w.iter().map(|r| r.2).sum::<f64>()))
        .collect();
    let d = dir.path().join("d");
    let w = dir.path().join("w");
    fs::create_dir_all(&d).unwrap();
    fs::create_dir_all(&w).unwrap();
    let daily = write(&d, "sales.csv", &daily_rows);
    let weekly = write(&w, "sales.csv", &weekly_rows);
    let opts = ImportOptions {
        period: Some(PeriodKind::Week),
        ..ImportOptions::default()
    };
    let summed = import_with(&[daily], &opts).unwrap();
    let given = import(&[weekly]).unwrap();
    assert_eq!(summed.dataset.demand, given.dataset.demand);
    // The weekly baselines' reference, seasonal naive 52 weeks back, gives
    // the same forecast from both.
    let methods = skuplan::forecast::baselines::baselines_for(summed.dataset.period());
    assert_eq!(methods[0].name(), "snaive52");
    let a = methods[0].forecast(&summed.dataset.demand[0].values, 13).unwrap();
    let b = methods[0].forecast(&given.dataset.demand[0].values, 13).unwrap();
    assert_eq!(a, b);
    let v = &given.dataset.demand[0].values;
    assert_eq!(a.p50, v[v.len() - 52..v.len() - 39].to_vec());
    assert!(
        summed.report.files[0].period.as_deref() == Some("daily, summed into weeks"),
        "{:?}",
        summed.report.files[0].period
    );
}

#[test]
fn negative_net_sales_are_returns_by_default_and_rejected_when_strict() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = every(day(2024, 1, 5), 7, 12);
    rows[4].2 = -6.0;
    rows[9].2 = -2.5;
    let p = write(dir.path(), "sales.csv", &rows);
    let i = import(std::slice::from_ref(&p)).unwrap();
    let r = &i.dataset.returns;
    assert_eq!(r.return_lines, 2);
    assert_eq!(r.returned_units, 8.5);
    let a = i.dataset.demand.iter().find(|s| s.sku == "A").unwrap();
    assert_eq!(a.values[2], 0.0, "a negative week is no demand");
    assert!(a.values.iter().all(|v| *v >= 0.0));
    let warning = i.report.warnings().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    assert!(warning.contains("2 row(s) have a negative quantity (8.5 units"), "{warning}");
    let text = skuplan::data::report::render(&i.report);
    assert!(text.contains("2 return lines (8.5 units)"), "{text}");

    let strict = ImportOptions {
        strict: true,
        ..ImportOptions::default()
    };
    let e = import_with(&[p], &strict).unwrap_err();
    assert!(e.contains("row 6, column 'quantity', value '-6'"), "{e}");
    assert!(e.contains("row 11, column 'quantity', value '-2.5'"), "{e}");
    assert!(e.contains("--strict"), "{e}");
}
