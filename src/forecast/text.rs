//! What the encoder reads about a SKU x warehouse at a forecast origin:
//! what planners know in words (title, category, brand, warehouse, price
//! band, promotion, season). Numbers stay numbers (see `features.rs`).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::domain::{Dataset, Product};

/// Price tertiles of the catalogue, so "budget" and "premium" mean
/// something relative to this assortment.
#[derive(Debug, Clone, Default)]
pub struct PriceBands {
    low: f64,
    high: f64,
    known: bool,
}

impl PriceBands {
    pub fn from_products(products: &[Product]) -> PriceBands {
        let mut prices: Vec<f64> = products
            .iter()
            .filter_map(|p| p.price)
            .filter(|p| p.is_finite() && *p > 0.0)
            .collect();
        if prices.len() < 3 {
            return PriceBands::default();
        }
        prices.sort_by(f64::total_cmp);
        let at = |q: f64| prices[((prices.len() - 1) as f64 * q).round() as usize];
        PriceBands {
            low: at(1.0 / 3.0),
            high: at(2.0 / 3.0),
            known: true,
        }
    }

    pub fn band(&self, price: Option<f64>) -> Option<&'static str> {
        let p = price?;
        if !self.known {
            return None;
        }
        Some(if p <= self.low {
            "budget"
        } else if p >= self.high {
            "premium"
        } else {
            "mid-priced"
        })
    }
}

/// Meteorological season in the northern hemisphere.
pub fn season(date: NaiveDate) -> &'static str {
    match date.month() {
        12 | 1 | 2 => "winter",
        3..=5 => "spring",
        6..=8 => "summer",
        _ => "autumn",
    }
}

/// Builds the text of each series; holds the lookups once.
pub struct TextBuilder<'a> {
    products: HashMap<&'a str, &'a Product>,
    warehouses: HashMap<&'a str, &'a str>,
    bands: PriceBands,
}

impl<'a> TextBuilder<'a> {
    pub fn new(data: &'a Dataset) -> Self {
        TextBuilder {
            products: data.products.iter().map(|p| (p.sku.as_str(), p)).collect(),
            warehouses: data
                .warehouses
                .iter()
                .map(|w| (w.id.as_str(), w.name.as_str()))
                .collect(),
            bands: PriceBands::from_products(&data.products),
        }
    }

    /// The product part alone (used for "similar products").
    pub fn product_text(&self, sku: &str) -> String {
        let mut parts = Vec::new();
        match self.products.get(sku) {
            Some(p) => {
                parts.push(p.title.clone());
                if let Some(c) = &p.category {
                    parts.push(format!("category {c}"));
                }
                if let Some(b) = &p.brand {
                    parts.push(format!("brand {b}"));
                }
                if let Some(band) = self.bands.band(p.price) {
                    parts.push(band.to_string());
                }
            }
            None => parts.push(format!("item {sku}")),
        }
        parts.join(". ")
    }

    /// The text of one series at a forecast whose first day is `first_day`.
    pub fn series_text(&self, sku: &str, warehouse: &str, first_day: NaiveDate, promotion: bool) -> String {
        let wh = self.warehouses.get(warehouse).copied().unwrap_or(warehouse);
        let mut s = self.product_text(sku);
        s.push_str(&format!(". warehouse {wh}"));
        if promotion {
            s.push_str(". on promotion");
        }
        s.push_str(&format!(". {} season", season(first_day)));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasons_and_bands() {
        let d = |m| NaiveDate::from_ymd_opt(2024, m, 10).unwrap();
        assert_eq!(season(d(1)), "winter");
        assert_eq!(season(d(4)), "spring");
        assert_eq!(season(d(7)), "summer");
        assert_eq!(season(d(10)), "autumn");
        let mut products = Vec::new();
        for (i, price) in [1.0, 2.0, 3.0, 10.0, 20.0, 30.0].iter().enumerate() {
            let mut p = Product::made_from_sales(&format!("S{i}"), None, &Default::default());
            p.price = Some(*price);
            products.push(p);
        }
        let bands = PriceBands::from_products(&products);
        assert_eq!(bands.band(Some(1.0)), Some("budget"));
        assert_eq!(bands.band(Some(5.0)), Some("mid-priced"));
        assert_eq!(bands.band(Some(30.0)), Some("premium"));
        assert_eq!(bands.band(None), None);
    }

    #[test]
    fn text_names_what_planners_know() {
        let mut data = Dataset::default();
        let mut p = Product::made_from_sales("A1", Some("Wireless mouse"), &Default::default());
        p.category = Some("electronics".into());
        p.brand = Some("Acme".into());
        data.products.push(p);
        let tb = TextBuilder::new(&data);
        let t = tb.series_text("A1", "W1", NaiveDate::from_ymd_opt(2024, 11, 1).unwrap(), true);
        assert_eq!(
            t,
            "Wireless mouse. category electronics. brand Acme. warehouse W1. on promotion. autumn season"
        );
        assert_eq!(tb.product_text("ZZ"), "item ZZ", "an unknown SKU still gets a text");
    }
}
