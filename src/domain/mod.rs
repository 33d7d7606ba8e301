//! Plain domain types: what the rest of skuplan talks about.
//!
//! Nothing here knows about files, polars or the terminal. Dates are
//! `chrono::NaiveDate` (planning is done in whole days); times of day are
//! minutes after midnight so routing can do arithmetic on them directly.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

mod period;
pub use period::{MonthStamp, Period, PeriodKind, weekday_name};

/// A product as the planner knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    /// Title or description in words; the SKU code when nothing better is known.
    pub title: String,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub unit_cost: Option<f64>,
    pub price: Option<f64>,
    /// Orders are rounded up to a multiple of this (at least 1).
    pub pack_size: u32,
    /// Minimum order quantity (0 when there is none).
    pub moq: u32,
    pub lead_time_days: u32,
    pub supplier: Option<String>,
    /// True when the product file did not list this SKU and the row was made
    /// from the sales data.
    pub synthesized: bool,
    /// The day a product not yet sold goes on sale (`launch_date` in the
    /// products file): from then on it is forecast from the products whose
    /// text is nearest (see `forecast::launch`).
    #[serde(default)]
    pub launch_date: Option<NaiveDate>,
}

impl Product {
    /// The row made for a SKU that sales mention but the product file lacks.
    pub fn made_from_sales(sku: &str, description: Option<&str>, defaults: &ProductDefaults) -> Self {
        Product {
            sku: sku.to_string(),
            title: description
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .unwrap_or(sku)
                .to_string(),
            category: None,
            brand: None,
            unit_cost: None,
            price: None,
            pack_size: defaults.pack_size,
            moq: defaults.moq,
            lead_time_days: defaults.lead_time_days,
            supplier: None,
            synthesized: true,
            launch_date: None,
        }
    }
}

/// The longest lead time a products file or the config may give, in days
/// (two years): a plan forecasts the lead time ahead, and 100000 days ran
/// one out of memory.
pub const MAX_LEAD_DAYS: u32 = 730;

/// Values used for product fields a file leaves out. A config's
/// `[products]` may give any of them; the others keep their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProductDefaults {
    pub pack_size: u32,
    pub moq: u32,
    pub lead_time_days: u32,
}

impl Default for ProductDefaults {
    fn default() -> Self {
        ProductDefaults {
            pack_size: 1,
            moq: 0,
            lead_time_days: 7,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warehouse {
    pub id: String,
    pub name: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Planar coordinates (kilometres), for orders given as x/y.
    #[serde(default)]
    pub x: Option<f64>,
    #[serde(default)]
    pub y: Option<f64>,
}

/// Demand of one SKU in one warehouse per period (day, week or month),
/// without gaps: `values[i]` is the demand of the period stamped
/// `period.step(start, i)`. Periods without sales are zeros.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandSeries {
    pub sku: String,
    pub warehouse: String,
    pub start: NaiveDate,
    #[serde(serialize_with = "whole_numbers")]
    pub values: Vec<f64>,
    /// Days with a promotion flag set (same indexing as `values`), if the
    /// sales file carried one.
    pub promo: Option<Vec<bool>>,
    /// What one value counts: daily unless the data said otherwise.
    #[serde(default)]
    pub period: Period,
}

/// Demand values written as whole numbers where they are (nearly every
/// value of every data set): MessagePack then spends a byte on a small
/// count rather than nine on a float, and M5's workspace cache is a tenth
/// the size. They read back as the same `f64`s.
fn whole_numbers<S: serde::Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(values.len()))?;
    for &v in values {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            seq.serialize_element(&(v as i64))?;
        } else {
            seq.serialize_element(&v)?;
        }
    }
    seq.end()
}

impl DemandSeries {
    /// A daily series from `start`, without promotion flags.
    pub fn daily(sku: impl Into<String>, warehouse: impl Into<String>, start: NaiveDate, values: Vec<f64>) -> Self {
        DemandSeries {
            sku: sku.into(),
            warehouse: warehouse.into(),
            start,
            values,
            promo: None,
            period: Period::Day,
        }
    }

    /// The stamp of the last period.
    pub fn end(&self) -> NaiveDate {
        self.period.step(self.start, self.values.len().saturating_sub(1) as i64)
    }

    /// The stamp of period `i`.
    pub fn date_at(&self, i: usize) -> NaiveDate {
        self.period.step(self.start, i as i64)
    }

    /// Periods of this series whose stamp is on or before `day`.
    pub fn len_up_to(&self, day: NaiveDate) -> usize {
        (self.period.between(self.start, day) + 1).clamp(0, self.values.len() as i64) as usize
    }

    /// Share of days with zero demand.
    pub fn zero_share(&self) -> f64 {
        if self.values.is_empty() {
            return 0.0;
        }
        self.values.iter().filter(|v| **v == 0.0).count() as f64 / self.values.len() as f64
    }

    /// Average number of days between two days with demand (the ADI of
    /// Syntetos and Boylan). Infinite when nothing ever sold.
    pub fn average_demand_interval(&self) -> f64 {
        let nonzero = self.values.iter().filter(|v| **v > 0.0).count();
        if nonzero == 0 {
            f64::INFINITY
        } else {
            self.values.len() as f64 / nonzero as f64
        }
    }

    /// Intermittent in the Syntetos-Boylan sense: demand on fewer than about
    /// three days in four (ADI above 1.32).
    pub fn is_intermittent(&self) -> bool {
        self.average_demand_interval() > 1.32
    }
}

/// Stock of one SKU in one warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryRecord {
    pub sku: String,
    pub warehouse: String,
    pub on_hand: f64,
    pub on_order: f64,
    /// When the quantity on order is due; `None` when nothing is on order or
    /// the file did not say.
    pub due_date: Option<NaiveDate>,
}

/// The method name a training run's model has in evaluation tables,
/// forecast files and plans (`engine::run::METHOD`).
pub const MODEL_METHOD: &str = "finetuned";

/// Where a delivery goes: geographic or planar coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Location {
    LatLon { lat: f64, lon: f64 },
    Xy { x: f64, y: f64 },
}

/// An open order to deliver from a warehouse to a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOrder {
    pub id: String,
    pub warehouse: String,
    pub customer: Option<String>,
    pub location: Location,
    pub quantity: f64,
    /// Delivery day, when the file gives one.
    pub date: Option<NaiveDate>,
    /// Earliest service start, minutes after midnight.
    pub ready_min: u32,
    /// Latest service start, minutes after midnight.
    pub due_min: u32,
    pub service_min: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub id: String,
    pub warehouse: String,
    pub capacity: f64,
    /// Shift start and end, minutes after midnight.
    pub shift_start_min: u32,
    pub shift_end_min: u32,
    pub speed_kmh: f64,
    pub cost_per_km: f64,
}

/// Returns and cancellations found in transaction data: kept apart from
/// demand, counted, never subtracted from it silently.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnsSummary {
    /// Lines with a negative quantity that are not cancellations.
    pub return_lines: usize,
    pub returned_units: f64,
    /// Lines of invoices whose number starts with `C`.
    pub cancellation_lines: usize,
    pub cancelled_units: f64,
    /// Returned and cancelled units per SKU.
    pub by_sku: BTreeMap<String, f64>,
}

/// A known event on the calendar: a holiday, a markdown week, a campaign.
/// Known in advance, so the model may read it for the days it forecasts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Event {
    pub date: NaiveDate,
    /// The warehouse (store) it concerns; every warehouse when `None`.
    pub warehouse: Option<String>,
    /// "Christmas", or the flag's column name ("IsHoliday") when the file
    /// names none.
    pub name: String,
    /// What sort of event: "holiday", "markdown", ... (lower case).
    pub kind: String,
}

impl Event {
    /// True when it concerns `warehouse`.
    pub fn concerns(&self, warehouse: &str) -> bool {
        self.warehouse.as_deref().is_none_or(|w| w == warehouse)
    }
}

/// Everything imported, in domain form. Built whole or not at all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub products: Vec<Product>,
    pub warehouses: Vec<Warehouse>,
    pub demand: Vec<DemandSeries>,
    pub inventory: Vec<InventoryRecord>,
    pub orders: Vec<DeliveryOrder>,
    pub fleet: Vec<Vehicle>,
    pub returns: ReturnsSummary,
    /// Known events from a calendar file, sorted by date.
    #[serde(default)]
    pub events: Vec<Event>,
    /// By warehouse, the data's last day when its last week or month,
    /// covered only in part, was left out of demand: that warehouse's stock
    /// on hand already went to the sales up to that day, so its plans count
    /// only the rest of that period.
    #[serde(default)]
    pub sold_until: std::collections::BTreeMap<String, NaiveDate>,
}

impl Dataset {
    /// Each series' index in `demand`, by (SKU, warehouse).
    pub fn series_index(&self) -> std::collections::HashMap<(&str, &str), usize> {
        self.demand
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.sku.as_str(), s.warehouse.as_str()), i))
            .collect()
    }

    pub fn product(&self, sku: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.sku == sku)
    }

    /// First and last day of demand history over all series.
    pub fn date_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.demand.iter().map(|s| s.start).min()?;
        let last = self.demand.iter().map(|s| s.end()).max()?;
        Some((first, last))
    }

    /// The same data as it stood at the end of `day`: demand after it cut
    /// off, series that had not begun by then left out.
    pub fn up_to(&self, day: NaiveDate) -> Dataset {
        let demand = self
            .demand
            .iter()
            .filter(|s| s.start <= day)
            .map(|s| {
                let n = s.len_up_to(day);
                DemandSeries {
                    values: s.values[..n].to_vec(),
                    promo: s.promo.as_ref().map(|p| p[..n.min(p.len())].to_vec()),
                    ..s.clone()
                }
            })
            .collect();
        // Cut at `day`, no period is covered in part any more.
        Dataset {
            demand,
            sold_until: Default::default(),
            ..self.clone()
        }
    }

    /// The period all demand counts in (daily for a data set without demand).
    pub fn period(&self) -> Period {
        self.demand.first().map_or(Period::Day, |s| s.period)
    }

    /// Events concerning `warehouse` between `from` and `to` (inclusive).
    pub fn events_between<'a>(
        &'a self,
        warehouse: &'a str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        let start = self.events.partition_point(|e| e.date < from);
        self.events[start..]
            .iter()
            .take_while(move |e| e.date <= to)
            .filter(move |e| e.concerns(warehouse))
    }

    pub fn sku_count(&self) -> usize {
        let mut skus: Vec<&str> = self.demand.iter().map(|s| s.sku.as_str()).collect();
        skus.sort_unstable();
        skus.dedup();
        skus.len()
    }
}

/// Demand quantiles for one SKU in one warehouse, period by period from
/// `start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesForecast {
    pub sku: String,
    pub warehouse: String,
    /// The first forecast day (the day after the history ends).
    pub start: NaiveDate,
    pub p10: Vec<f64>,
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
    /// The method that made it ("snaive364", "ets", the fine-tuned model ...).
    pub model: String,
    /// The period each value counts; the series' own.
    #[serde(default)]
    pub period: Period,
}

impl SeriesForecast {
    /// The stamp of forecast period `i` (0: the first).
    pub fn date_at(&self, i: usize) -> NaiveDate {
        self.period.step(self.start, i as i64)
    }

    /// When `sold_until` falls inside the first period: the share of its
    /// days still ahead, and the first of them.
    pub fn rest_of_first_period(&self, sold_until: NaiveDate) -> Option<(f64, NaiveDate)> {
        let end = self.period.step(self.start, 1);
        if sold_until < self.start || sold_until >= end {
            return None;
        }
        let total = (end - self.start).num_days() as f64;
        let left = (end - sold_until).num_days() as f64 - 1.0;
        Some((left / total, sold_until.succ_opt()?))
    }

    /// The forecast with its first period's quantiles scaled by `share`.
    pub fn with_first_period_scaled(&self, share: f64) -> SeriesForecast {
        let mut out = self.clone();
        for q in [&mut out.p10, &mut out.p50, &mut out.p90] {
            if let Some(v) = q.first_mut() {
                *v *= share;
            }
        }
        out
    }
}
