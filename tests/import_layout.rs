//! How a table's cells are laid out does not change what is read: spaces
//! around a cell, rows grouped by series or by date, a row per date or a
//! column per date.

use std::fs;
use std::path::PathBuf;

use skuplan::data::{ImportOptions, import_paths};
use skuplan::domain::DemandSeries;

fn series_of(files: &[(&str, &str)]) -> Vec<DemandSeries> {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, text)| {
            let p = dir.path().join(name);
            fs::write(&p, text).unwrap();
            p
        })
        .collect();
    let imported = import_paths(&paths, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut demand = imported.dataset.demand;
    demand.sort_by(|a, b| (&a.sku, &a.warehouse).cmp(&(&b.sku, &b.warehouse)));
    demand
}

#[test]
fn spaces_around_cells_read_as_the_cells() {
    let plain = series_of(&[(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W1,3\n2024-01-02,A,W1,4\n2024-01-01,B,W1,1\n",
    )]);
    // Some columns padded and others not: each is read for itself.
    for padded in [
        "date,sku,warehouse,quantity\n 2024-01-01 ,A , W1,3 \n2024-01-02, A,W1 , 4\n2024-01-01,\tB,W1,1\n",
        "date,sku,warehouse,quantity\n2024-01-01, A,W1,3\n2024-01-02,A,W1,4\n2024-01-01,B,W1,1\n",
        "date,sku,warehouse,quantity\n2024-01-01,A,W1, 3\n2024-01-02,A,W1,4\n2024-01-01,B,W1,1\n",
    ] {
        assert_eq!(series_of(&[("sales.csv", padded)]), plain, "{padded}");
    }
    assert_eq!(plain.len(), 2);
    assert_eq!(plain[0].values, vec![3.0, 4.0]);
    assert_eq!(plain[1].values, vec![1.0, 0.0]);
}

#[test]
fn rows_by_date_read_as_rows_by_series() {
    let by_series = series_of(&[(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W1,3\n2024-01-02,A,W1,4\n2024-01-03,A,W1,0\n\
         2024-01-01,B,W2,1\n2024-01-02,B,W2,0\n2024-01-03,B,W2,2\n",
    )]);
    let by_date = series_of(&[(
        "sales.csv",
        "date,sku,warehouse,quantity\n2024-01-01,A,W1,3\n2024-01-01,B,W2,1\n2024-01-02,A,W1,4\n\
         2024-01-02,B,W2,0\n2024-01-03,B,W2,2\n2024-01-03,A,W1,0\n",
    )]);
    let wide = series_of(&[(
        "sales.csv",
        "sku,warehouse,2024-01-01,2024-01-02,2024-01-03\nA,W1,3,4,0\nB,W2,1,0,2\n",
    )]);
    assert_eq!(by_date, by_series);
    assert_eq!(wide, by_series);
    assert_eq!(by_series[1].values, vec![1.0, 0.0, 2.0]);
}
