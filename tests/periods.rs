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

    let firsts: Vec<_> = (1..=12u32).flat_map(|m| [(day(2023, m, 1), "A", m as f64)]).collect();
    let p = write(dir.path(), "sales.csv", &firsts);
    let i = import(&[p]).unwrap();
    assert_eq!(i.dataset.period(), Period::Month(MonthStamp::First));
    assert_eq!(i.dataset.demand[0].values, (1..=12).map(f64::from).collect::<Vec<_>>());

    let lasts: Vec<_> = (1..=12u32)
        .map(|m| {
            (
                day(2023, m, 1)
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap()
                    .pred_opt()
                    .unwrap(),
                "A",
                1.0,
            )
        })
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
    assert!(
        e.contains("2024-01-03 is followed by 2024-01-13 (10 days later)"),
        "{e}"
    );
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
    assert!(
        e.contains("expected a Friday: the file is weekly (stamped on Fridays)"),
        "{e}"
    );
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
    let warning = i
        .report
        .warnings()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        warning.contains("2 row(s) have a negative quantity (8.5 units in all; rows 6, 11)"),
        "{warning}"
    );
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

#[test]
fn a_partial_first_or_last_week_is_left_out_when_days_are_summed() {
    let dir = tempfile::tempdir().unwrap();
    // Wednesday 2024-01-03 to Tuesday 2024-02-13: the weeks of 01-01 and
    // 02-12 are partial.
    let rows: Vec<_> = (0..42u64).map(|i| (day(2024, 1, 3) + Days::new(i), "A", 1.0)).collect();
    let p = write(dir.path(), "sales.csv", &rows);
    let opts = ImportOptions {
        period: Some(PeriodKind::Week),
        ..ImportOptions::default()
    };
    let i = import_with(&[p], &opts).unwrap();
    let s = &i.dataset.demand[0];
    assert_eq!(s.start, day(2024, 1, 8));
    assert_eq!(s.values, vec![7.0; 5]);
    let w = i
        .report
        .warnings()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        w.contains("the first week (2024-01-01: the data starts 2024-01-03)"),
        "{w}"
    );
    assert!(
        w.contains("the last week (2024-02-12: the data ends 2024-02-13)"),
        "{w}"
    );
    assert!(w.contains("7 row(s) are left out"), "{w}");
    // The last week's sold days are remembered: plans count only the rest
    // of that week.
    assert_eq!(
        i.dataset.sold_until.into_iter().collect::<Vec<_>>(),
        vec![("W".to_string(), day(2024, 2, 13))]
    );
    // Two warehouses' files: one ends on a Sunday (its last week whole),
    // the other on a Wednesday. Only the second's stock went to a week
    // left out.
    let whole = dir.path().join("w1.csv");
    let part = dir.path().join("w2.csv");
    let rows = |wh: &str, to: u64| -> String {
        let mut t = String::from("date,sku,warehouse,quantity\n");
        for i in 0..to {
            t.push_str(&format!("{},A,{wh},1\n", day(2024, 1, 1) + Days::new(i)));
        }
        t
    };
    fs::write(&whole, rows("W1", 28)).unwrap();
    fs::write(&part, rows("W2", 31)).unwrap();
    let i = import_with(&[whole, part], &opts).unwrap();
    assert_eq!(
        i.dataset.sold_until.into_iter().collect::<Vec<_>>(),
        vec![("W2".to_string(), day(2024, 1, 31))]
    );
}

#[test]
fn a_weekly_plan_orders_in_whole_weeks_and_shows_the_converted_lead_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir_all(&data).unwrap();
    // Three years of Friday-stamped weeks: a level of 70 with a yearly bump.
    let first = day(2021, 1, 1);
    let rows: Vec<_> = (0..160u64)
        .map(|i| {
            let q = if i % 52 >= 44 { 110.0 } else { 70.0 } + (i % 3) as f64;
            (first + Days::new(7 * i), "A", q)
        })
        .collect();
    write(&data, "sales.csv", &rows);
    fs::write(
        data.join("products.csv"),
        "sku,title,lead_time_days,pack_size,unit_cost\nA,Widget,10,12,2.5\n",
    )
    .unwrap();
    fs::write(data.join("inventory.csv"), "sku,warehouse,on_hand\nA,W,40\n").unwrap();
    let i = import(&[data]).unwrap();
    let ds = &i.dataset;
    assert_eq!(ds.period(), Period::Week(Weekday::Fri));
    let settings = skuplan::plan::RestockSettings::default();
    let plan = skuplan::plan::base::plan_from_data(ds, None, &settings).unwrap();
    let line = &plan.lines[0];
    assert_eq!(line.period, Period::Week(Weekday::Fri));
    // 10 days of lead time arrive by the boundary 2 weeks on; the 7-day
    // review is one week; the demand protected is 10 days and a week.
    assert_eq!((line.lead_periods, line.review_periods), (2, 1));
    assert!((line.protect_periods - (10.0 / 7.0 + 1.0)).abs() < 1e-9);
    let text = line.protection_text();
    assert!(
        text.contains("lead time 10 d + review 7 d (1 week, whole) = 2.43 weeks"),
        "{text}"
    );
    // Dated on week boundaries: the week after the last one, arriving two
    // weeks later.
    let last = ds.demand[0].end();
    assert_eq!(line.order_date, last + Days::new(7));
    assert_eq!(line.arrival, line.order_date + Days::new(14));
    assert!(line.period.is_stamp(line.order_date) && line.period.is_stamp(line.arrival));
    // The protected demand is 2.43 weeks of it, not 2.43 days.
    assert!(
        line.protection_demand > 150.0 && line.protection_demand < 400.0,
        "{}",
        line.protection_demand
    );
    assert!(
        line.order_qty > 0 && line.order_qty.is_multiple_of(12),
        "{}",
        line.order_qty
    );
    // A stock-out is dated on the day it falls, at the week's even rate,
    // inside the protection or after the order day.
    if let Some(d) = line.stockout_without {
        assert!(d >= line.order_date, "{d}");
    }
}

#[test]
fn a_calendar_of_events_is_read_by_its_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir_all(&data).unwrap();
    write(&data, "sales.csv", &every(day(2024, 1, 5), 7, 20));
    // Walmart's columns: a yes/no flag per store and week; only the set
    // flags are events, named by the flag's column.
    fs::write(
        data.join("weeks.csv"),
        "Date,Store,IsHoliday\n2024-02-09,W,TRUE\n2024-02-16,W,FALSE\n2024-05-24,W,TRUE\n",
    )
    .unwrap();
    // A named calendar for every warehouse, by its file name.
    fs::write(
        data.join("calendar.csv"),
        "date,event,type\n2024-03-01,Spring sale,markdown\n2024-03-01,Spring sale,markdown\n",
    )
    .unwrap();
    let i = import(&[data]).unwrap();
    let ev = &i.dataset.events;
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert_eq!(ev[0].date, day(2024, 2, 9));
    assert_eq!((ev[0].name.as_str(), ev[0].kind.as_str()), ("IsHoliday", "holiday"));
    assert_eq!(ev[0].warehouse.as_deref(), Some("W"));
    assert_eq!((ev[1].name.as_str(), ev[1].kind.as_str()), ("Spring sale", "markdown"));
    assert_eq!(ev[1].warehouse, None);
    assert_eq!(
        i.dataset.events_between("W", day(2024, 2, 1), day(2024, 3, 31)).count(),
        2
    );
    let text = skuplan::data::report::render(&i.report);
    assert!(text.contains("events            3 known events"), "{text}");

    let bad = dir.path().join("bad");
    fs::create_dir_all(&bad).unwrap();
    fs::write(bad.join("holidays.csv"), "date,event\n2024-02-09,Easter\nsoon,Other\n").unwrap();
    let e = import(&[bad]).unwrap_err();
    assert!(e.contains("holidays.csv, row 3, column 'date', value 'soon'"), "{e}");
}

#[test]
fn known_events_reach_the_model_features_for_the_periods_they_fall_in() {
    use skuplan::domain::{DemandSeries, Event};
    use skuplan::forecast::features::{Pooled, feature_len_for, push_features};
    let s = DemandSeries {
        sku: "A".into(),
        warehouse: "W".into(),
        start: day(2022, 1, 3),
        values: (0..120).map(|i| 10.0 + (i % 4) as f64).collect(),
        promo: None,
        period: Period::Week(Weekday::Mon),
    };
    let o = 100i64;
    let h = 4;
    // An event on the Wednesday of the second forecast week, another for a
    // different warehouse, and one 52 weeks before the first forecast week.
    let first = s.date_at(o as usize + 1);
    let events = vec![
        Event {
            date: first + Days::new(9),
            warehouse: None,
            name: "Sale".into(),
            kind: "markdown".into(),
        },
        Event {
            date: first + Days::new(16),
            warehouse: Some("X".into()),
            name: "Elsewhere".into(),
            kind: "holiday".into(),
        },
        Event {
            date: first - Days::new(7 * 52),
            warehouse: Some("W".into()),
            name: "Last year".into(),
            kind: "holiday".into(),
        },
    ];
    let pooled = Pooled::build(std::slice::from_ref(&s), s.date_at(o as usize)).with_events(&events);
    let mut f = Vec::new();
    push_features(&s, o, h, &pooled, &mut f);
    assert_eq!(f.len(), feature_len_for(s.period, h));
    let tail = &f[f.len() - 2 * h..];
    assert_eq!(&tail[..h], &[0.0, 1.0, 0.0, 0.0], "this year's flags");
    assert_eq!(&tail[h..], &[1.0, 0.0, 0.0, 0.0], "a year earlier");
}

#[test]
fn a_weekly_net_sales_file_with_a_holiday_flag_gives_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("weekly.csv");
    fs::write(
        &p,
        "Store,Dept,Date,Weekly_Sales,IsHoliday\n\
         1,7,2024-02-02,10,FALSE\n1,7,2024-02-09,-3,TRUE\n1,7,2024-02-16,12,FALSE\n\
         2,7,2024-02-02,5,FALSE\n2,7,2024-02-09,6,TRUE\n2,7,2024-02-16,7,FALSE\n",
    )
    .unwrap();
    let opts = ImportOptions {
        map: "sku=Dept".parse().unwrap(),
        ..ImportOptions::default()
    };
    let i = import_with(&[p], &opts).unwrap();
    assert_eq!(i.dataset.period(), Period::Week(Weekday::Fri));
    assert_eq!(i.dataset.returns.return_lines, 1);
    let ev = &i.dataset.events;
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(ev.iter().all(|e| e.date == day(2024, 2, 9) && e.kind == "holiday"));
    assert_eq!(ev[0].warehouse.as_deref(), Some("1"));
}

#[test]
fn sales_without_a_sku_column_say_which_mapping_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("weekly.csv");
    fs::write(&p, "Store,Dept,Date,Weekly_Sales,IsHoliday\n1,7,2024-02-02,10,FALSE\n").unwrap();
    let e = import(&[p]).unwrap_err();
    assert!(
        e.contains("this looks like sales (dates in 'Date', quantities in 'Weekly_Sales') but no column names the SKU"),
        "{e}"
    );
    assert!(e.contains("--map sku=COLUMN (one of: Dept)"), "{e}");
}

/// Periods a number of days covers, from a period's first day: whole
/// periods, and the last by its share of its own days.
#[test]
fn cover_counts_whole_periods_and_the_share_of_the_last() {
    let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    let month = Period::Month(skuplan::domain::MonthStamp::First);
    assert!((Period::Day.cover(d(2026, 3, 1), 5.0) - 5.0).abs() < 1e-12);
    assert!((Period::Week(Weekday::Mon).cover(d(2026, 11, 23), 10.0) - 10.0 / 7.0).abs() < 1e-12);
    assert!((month.cover(d(2026, 2, 1), 28.0) - 1.0).abs() < 1e-12);
    assert!((month.cover(d(2026, 2, 1), 35.0) - (1.0 + 7.0 / 31.0)).abs() < 1e-12);
    assert!((month.cover(d(2026, 12, 1), 7.0) - 7.0 / 31.0).abs() < 1e-12);
    assert_eq!(month.cover(d(2026, 12, 1), 0.0), 0.0);
    // Months stamped on their last day count from the month's first day.
    let last = Period::Month(skuplan::domain::MonthStamp::Last);
    assert!((last.cover(d(2026, 2, 28), 42.0) - (1.0 + 14.0 / 31.0)).abs() < 1e-12);
    // Whole periods on from any day.
    assert_eq!(month.add(d(2026, 1, 10), 1), d(2026, 2, 10));
    assert_eq!(month.add(d(2026, 1, 31), 1), d(2026, 2, 28));
    assert_eq!(Period::Week(Weekday::Mon).add(d(2026, 3, 4), 2), d(2026, 3, 18));
    assert_eq!(Period::Day.add(d(2026, 3, 1), 5), d(2026, 3, 6));
}

/// ABC classes and the lumpy rule read a year of the series' periods: 52
/// weeks of weekly data, not 365 (seven years, where a line that sold well
/// long ago outranked this year's best seller), and a year of months.
#[test]
fn a_year_of_weeks_or_months_is_a_year() {
    use skuplan::domain::{Dataset, DemandSeries};
    use skuplan::plan::demand::intermittency_up_to;
    use skuplan::plan::restock::{Abc, abc_classes};
    let weekly = |sku: &str, values: Vec<f64>| DemandSeries {
        sku: sku.into(),
        warehouse: "W".into(),
        start: day(2020, 1, 6),
        values,
        promo: None,
        period: Period::Week(Weekday::Mon),
    };
    // Three years of weeks: OLD sold 100 a week in the first two, nothing
    // since; NEW sold 20 a week in the last year only.
    let old: Vec<f64> = (0..156).map(|i| if i < 104 { 100.0 } else { 0.0 }).collect();
    let new: Vec<f64> = (0..156).map(|i| if i >= 104 { 20.0 } else { 0.0 }).collect();
    let ds = Dataset {
        demand: vec![weekly("OLD", old), weekly("NEW", new)],
        ..Dataset::default()
    };
    let classes = abc_classes(&ds, (0.8, 0.95));
    assert_eq!(classes[&("NEW".to_string(), "W".to_string())], Abc::A);
    assert_ne!(classes[&("OLD".to_string(), "W".to_string())], Abc::A);
    // Sold every week of the last year, after two years of nothing: smooth
    // now, not intermittent over 156 weeks.
    let s = weekly(
        "NEW",
        (0..156)
            .map(|i| if i >= 104 { 20.0 + (i % 3) as f64 } else { 0.0 })
            .collect(),
    );
    assert_eq!(intermittency_up_to(&s, s.values.len()), None);
    // Two years of months, sold in one month in three: judged on its
    // year (it needed 28 months of history, so monthly data was never
    // lumpy before its third year).
    let months = DemandSeries {
        period: Period::Month(MonthStamp::First),
        start: day(2023, 1, 1),
        values: (0..24).map(|i| if i % 3 == 0 { 50.0 } else { 0.0 }).collect(),
        ..s
    };
    assert!(intermittency_up_to(&months, months.values.len()).is_some());
}
