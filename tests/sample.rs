//! The sample data generator keeps its promises: determinism, seasonality,
//! promotions, slow movers, new SKUs, stock, orders and a fleet.

use chrono::{Datelike, NaiveDate, Weekday};
use skuplan::data::sample::{SalesFormat, SampleSpec, generate};
use skuplan::data::{ImportOptions, import_paths};
use skuplan::domain::{Dataset, Location};

fn make(spec: &SampleSpec) -> (tempfile::TempDir, Dataset) {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), spec).unwrap();
    let imported =
        import_paths(&[dir.path().to_path_buf()], &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.report.error_count(), 0);
    (dir, imported.dataset)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let spec = SampleSpec {
        skus: 15,
        days: 90,
        ..SampleSpec::default()
    };
    let (a, _) = make(&spec);
    let (b, _) = make(&spec);
    let (c, _) = make(&SampleSpec {
        seed: 7,
        ..spec.clone()
    });
    let read = |d: &tempfile::TempDir| std::fs::read(d.path().join("sales.csv")).unwrap();
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));
}

#[test]
fn two_years_show_the_promised_shapes() {
    let spec = SampleSpec {
        skus: 120,
        warehouses: 2,
        days: 730,
        ..SampleSpec::default()
    };
    let (_dir, ds) = make(&spec);
    assert_eq!(ds.sku_count(), 120);
    assert!(ds.warehouses.iter().all(|w| w.lat.is_some()));

    // Weekly rhythm: Mondays sell more than Saturdays over all series.
    let mut by_wd = [0.0f64; 7];
    for s in &ds.demand {
        for (i, v) in s.values.iter().enumerate() {
            by_wd[s.date_at(i).weekday().num_days_from_monday() as usize] += v;
        }
    }
    assert!(
        by_wd[Weekday::Mon as usize] > 1.2 * by_wd[Weekday::Sat as usize],
        "{by_wd:?}"
    );

    // Yearly rhythm: toys sell far more in December than in June.
    let toys: Vec<&str> = ds
        .products
        .iter()
        .filter(|p| p.category.as_deref() == Some("Toys"))
        .map(|p| p.sku.as_str())
        .collect();
    assert!(!toys.is_empty());
    let month_total = |m: u32| -> f64 {
        ds.demand
            .iter()
            .filter(|s| toys.contains(&s.sku.as_str()))
            .flat_map(|s| {
                s.values
                    .iter()
                    .enumerate()
                    .filter(move |(i, _)| s.date_at(*i).month() == m)
                    .map(|(_, v)| *v)
            })
            .sum()
    };
    assert!(
        month_total(12) > 1.8 * month_total(6),
        "dec {} jun {}",
        month_total(12),
        month_total(6)
    );

    // Slow movers, new SKUs with short history, promotions.
    assert!(ds.demand.iter().filter(|s| s.is_intermittent()).count() >= 20);
    assert!(ds.demand.iter().any(|s| s.values.len() < 160));
    assert!(
        ds.demand
            .iter()
            .any(|s| s.promo.as_ref().is_some_and(|p| p.iter().any(|x| *x)))
    );

    // Stock on hand and on order with due dates after the history ends.
    let end = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    assert!(
        ds.inventory
            .iter()
            .any(|r| r.on_order > 0.0 && r.due_date.is_some_and(|d| d > end))
    );
    assert!(ds.inventory.iter().any(|r| r.on_hand == 0.0));

    // Orders near their warehouse with sensible windows; a fleet per warehouse.
    for o in &ds.orders {
        let wh = ds.warehouses.iter().find(|w| w.id == o.warehouse).unwrap();
        let Location::LatLon { lat, lon } = o.location else {
            panic!("planar order")
        };
        let km = ((lat - wh.lat.unwrap()) * 111.0).hypot((lon - wh.lon.unwrap()) * 111.0 * lat.to_radians().cos());
        assert!(km < 40.0, "{} is {km} km away", o.id);
        assert!(o.ready_min >= 8 * 60 && o.due_min <= 18 * 60 && o.ready_min < o.due_min);
    }
    for w in &ds.warehouses {
        assert!(ds.fleet.iter().filter(|v| v.warehouse == w.id).count() >= 3);
        assert!(ds.orders.iter().filter(|o| o.warehouse == w.id).count() >= 30);
    }
    // Titles are words, not codes.
    assert!(ds.products.iter().all(|p| p.title.split_whitespace().count() >= 3));
}

#[test]
fn parquet_sales_replace_csv_sales() {
    let spec = SampleSpec {
        skus: 5,
        days: 30,
        sales_format: SalesFormat::Parquet,
        ..SampleSpec::default()
    };
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        &SampleSpec {
            sales_format: SalesFormat::Csv,
            ..spec.clone()
        },
    )
    .unwrap();
    generate(dir.path(), &spec).unwrap();
    assert!(dir.path().join("sales.parquet").exists());
    assert!(!dir.path().join("sales.csv").exists());
    let imported =
        import_paths(&[dir.path().to_path_buf()], &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.dataset.sku_count(), 5);
}
