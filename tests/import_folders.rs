//! A downloaded data set imported as its folder, as a new user does: the
//! files beside the sales (a price table, a template for forecasts, the
//! same sales twice) are read, left out with a warning, or refused with a
//! hint, never a bare "cannot tell".

use std::fs;

use skuplan::data::{ImportFailed, ImportOptions, Imported, import_paths};

const SALES: &str = "item_id,store_id,date,sales\nA,S1,2024-01-01,3\nA,S1,2024-01-02,4\nB,S1,2024-01-01,1\n";

fn import_folder(files: &[(&str, &str)]) -> Result<Imported, ImportFailed> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    import_paths(&[dir.path().to_path_buf()], &ImportOptions::default())
}

/// `other` beside good sales fails the import as a file nothing knows.
fn assert_cannot_tell(other: &str) {
    let failed = import_folder(&[("sales.csv", SALES), ("other.csv", other)]).unwrap_err();
    assert!(
        failed.to_string().contains("cannot tell what this file holds"),
        "{other}: {failed}"
    );
}

fn price(imported: &Imported, sku: &str) -> Option<f64> {
    imported.dataset.product(sku).and_then(|p| p.price)
}

#[test]
fn a_price_table_prices_the_products() {
    // M5's layout: store, item, week, price; the median of a SKU's rows.
    let prices = "store_id,item_id,wm_yr_wk,sell_price\nS1,A,11101,2.0\nS1,A,11102,2.5\nS2,A,11101,9.0\n\
                  S1,B,11101,1.25\nS1,C,11101,7\n";
    let imported =
        import_folder(&[("sales.csv", SALES), ("sell_prices.csv", prices)]).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<String> = imported.report.files.iter().map(|f| f.kind.to_string()).collect();
    assert!(kinds.contains(&"prices".to_string()), "{kinds:?}");
    assert_eq!(price(&imported, "A"), Some(2.5));
    assert_eq!(price(&imported, "B"), Some(1.25));
    // A priced SKU without sales makes no product.
    assert!(imported.dataset.product("C").is_none());

    // A product file's own price stands; one without gets the table's.
    let products = "sku,title,price\nA,Mug,3.0\nB,Plate,\n";
    let imported = import_folder(&[("sales.csv", SALES), ("products.csv", products), ("prices.csv", prices)])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(price(&imported, "A"), Some(3.0));
    assert_eq!(price(&imported, "B"), Some(1.25));

    // A file named prices that lists products is read as products.
    let listed = "sku,title,category,unit_cost,price\nA,Mug,Kitchen,1.0,3.0\nB,Plate,Kitchen,0.5,2.0\n";
    let imported = import_folder(&[("sales.csv", SALES), ("prices.csv", listed)]).unwrap_or_else(|e| panic!("{e}"));
    let mug = imported.dataset.product("A").unwrap();
    assert_eq!(
        (mug.title.as_str(), mug.unit_cost, mug.price),
        ("Mug", Some(1.0), Some(3.0))
    );

    // A SKU and a price beside anything but a period is no price table:
    // its other columns would be dropped.
    for other in [
        "sku,price,stock_level\nA,2,5\n",
        "sku,warehouse,price,on_order\nA,S1,2,5\n",
        "sku,price,W1,W2\nA,2,5,6\n",
        "sku,price,revenue\nA,2,50\n",
    ] {
        assert_cannot_tell(other);
    }

    // A price that is not a number is an error naming its place.
    let bad = "store_id,item_id,wm_yr_wk,sell_price\nS1,A,11101,2.0\nS1,B,11101,cheap\n";
    let failed = import_folder(&[("sales.csv", SALES), ("sell_prices.csv", bad)]).unwrap_err();
    let text = failed.to_string();
    assert!(
        text.contains("sell_prices.csv, row 3, column 'sell_price', value 'cheap'"),
        "{text}"
    );
}

#[test]
fn a_template_for_forecasts_is_left_out_with_a_warning() {
    let template = "id,F1,F2,F3\nA_S1,0,0,0\nB_S1,0,0,0\n";
    let imported =
        import_folder(&[("sales.csv", SALES), ("sample_submission.csv", template)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.dataset.demand.len(), 2);
    assert!(
        imported
            .report
            .warnings()
            .any(|w| w.file.ends_with("sample_submission.csv") && w.message.contains("template for forecasts")),
        "{:?}",
        imported.report.problems
    );
    // Tables that only look alike are not left out: other columns beside
    // F1, F2; numbers under them (a headerless export); F columns out of order.
    for other in [
        "id,name,F1,F2\nx,y,0,0\n",
        "sku,F1,F2,F3\nA,3,1,4\n",
        "id,F1,F3\nx,0,0\n",
    ] {
        assert_cannot_tell(other);
    }
}

#[test]
fn the_same_sales_in_two_files_are_refused_with_a_hint() {
    let failed = import_folder(&[("sales_a.csv", SALES), ("sales_b.csv", SALES)]).unwrap_err();
    let text = failed.to_string();
    assert!(
        text.contains("is already on") && text.contains("two files of the same sales? import one of them"),
        "{text}"
    );
}
