//! ABC classes: a line's class by the value of its last year's demand,
//! which sets its service target.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::{Dataset, Product};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Abc {
    A,
    B,
    C,
}

/// ABC class of each (sku, warehouse) by the value of its last year's
/// demand at unit cost (price when there is no cost, 1 when neither).
pub fn abc_classes(ds: &Dataset, cuts: (f64, f64)) -> HashMap<(String, String), Abc> {
    let products: HashMap<&str, &Product> = ds.products.iter().map(|p| (p.sku.as_str(), p)).collect();
    let mut values: Vec<((String, String), f64)> = ds
        .demand
        .iter()
        .map(|s| {
            let unit = products
                .get(s.sku.as_str())
                .and_then(|p| p.unit_cost.or(p.price))
                .unwrap_or(1.0);
            // A year of the series' periods (365 weeks of weekly data
            // were read as a year, and old lines outranked new ones).
            let recent = &s.values[s.values.len().saturating_sub(s.period.from_days(365))..];
            ((s.sku.clone(), s.warehouse.clone()), recent.iter().sum::<f64>() * unit)
        })
        .collect();
    values.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total: f64 = values.iter().map(|v| v.1).sum();
    let mut cum = 0.0;
    values
        .into_iter()
        .map(|(k, v)| {
            // Class by the share before this item, so the top item is A.
            let share = if total > 0.0 { cum / total } else { 1.0 };
            cum += v;
            let c = if share < cuts.0 {
                Abc::A
            } else if share < cuts.1 {
                Abc::B
            } else {
                Abc::C
            };
            (k, c)
        })
        .collect()
}
