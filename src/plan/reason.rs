//! Why a restock line orders what it does, in full (a line's details, the
//! CSV export) and in a few words (the table at 80 columns).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a line orders what it orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reason {
    /// Inventory position is below the reorder point.
    BelowReorderPoint { position: f64, reorder_point: f64 },
    /// At or above the reorder point but below the order-up-to level: the
    /// review tops it up (the policy orders S minus the position).
    BelowOrderUpTo { position: f64, order_up_to: f64 },
    /// Without the order, projected stock runs out on this day.
    StockOut(NaiveDate),
    /// A promotion falls in the protection interval.
    Promotion,
    /// The planner's what-if changed the demand.
    Override(String),
    /// The MOQ raised the quantity (and packs, where `to` is above it; 0
    /// for both in plans saved before they were kept).
    MoqRaised {
        from: f64,
        to: u32,
        #[serde(default)]
        moq: u32,
        #[serde(default)]
        pack: u32,
    },
    /// The budget cap cut the quantity.
    BudgetCut { from: u32 },
    /// Stock covers the protection interval: nothing to order.
    Covered,
    /// Nothing to order because the forecast has no demand over the
    /// protection interval; `sold` units sold over the history's last
    /// `over` ("28 days"), so a planner sees a quiet forecast of a line that
    /// still sells (a champion chosen on absolute error forecasts zero on
    /// many lumpy lines).
    NoDemandForecast { sold: f64, over: String },
    /// A product not sold yet, forecast from similar products' launches.
    Launch {
        date: NaiveDate,
        neighbours: usize,
        /// Borrowed the neighbours' recent sales (too few launches).
        #[serde(default)]
        recent_sales: bool,
        nearest: String,
        /// Periods it has sold (a short history; 0 for a product not sold
        /// yet): its forecast is scaled by what it sold so far.
        #[serde(default)]
        observed: usize,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::BelowReorderPoint {
                position,
                reorder_point,
            } => {
                // Whole units, the point rounded up as the order is: a
                // point of 0.4 read "0 < 0" beside an order of 1.
                write!(f, "below reorder point ({position:.0} < {:.0})", reorder_point.ceil())
            }
            Reason::BelowOrderUpTo { position, order_up_to } => write!(
                f,
                "topped up to the order-up-to level at this review ({position:.0} < {:.0})",
                order_up_to.ceil()
            ),
            Reason::StockOut(d) => write!(f, "stock-out on {d} without this order"),
            Reason::Promotion => write!(f, "promotion in the protection interval"),
            Reason::Override(r) => write!(f, "override: {r}"),
            // "MOQ 30 raised 13 to 36 (packs of 12)": the MOQ gave 30, the
            // packs the rest (it read as if the MOQ were 36).
            Reason::MoqRaised { from, to, moq, pack } if *pack > 1 && to > moq => {
                write!(f, "MOQ {moq} raised {from:.0} to {to} (packs of {pack})")
            }
            Reason::MoqRaised { from, to, moq, .. } if *moq > 0 => write!(f, "MOQ {moq} raised {from:.0} to {to}"),
            Reason::MoqRaised { from, to, .. } => write!(f, "MOQ raised {from:.0} to {to}"),
            Reason::BudgetCut { from } => write!(f, "budget cap cut it from {from}"),
            Reason::Covered => write!(f, "stock covers lead time and review period"),
            Reason::NoDemandForecast { sold, over } if *sold > 0.0 => write!(
                f,
                "no demand forecast over lead time and review period, though it sold {sold:.0} in its last {over}"
            ),
            Reason::NoDemandForecast { over, .. } => write!(
                f,
                "no demand forecast over lead time and review period (none sold in its last {over})"
            ),
            Reason::Launch {
                date,
                neighbours,
                recent_sales,
                nearest,
                observed: 0,
            } => write!(
                f,
                "launch on {date}: forecast from {neighbours} similar products' {} (nearest: {nearest})",
                if *recent_sales { "recent sales" } else { "launches" }
            ),
            Reason::Launch {
                date,
                neighbours,
                nearest,
                observed,
                ..
            } => write!(
                f,
                "new on {date} ({observed} periods sold): forecast from {neighbours} similar products' launches, \
                 scaled by its own sales (nearest: {nearest})"
            ),
        }
    }
}

impl Reason {
    /// The reason in a few words, for a table at 80 columns (the line's
    /// details say it in full).
    pub fn short(&self) -> String {
        match self {
            Reason::BelowReorderPoint {
                position,
                reorder_point,
            } => format!("below ROP {position:.0}<{:.0}", reorder_point.ceil()),
            Reason::BelowOrderUpTo { position, order_up_to } => {
                format!("top-up {position:.0}<{:.0}", order_up_to.ceil())
            }
            Reason::StockOut(d) => format!("out {}", d.format("%m-%d")),
            Reason::Promotion => "promo".into(),
            Reason::Override(r) => format!("what-if {r}"),
            Reason::MoqRaised { from, to, .. } => format!("MOQ {from:.0}->{to}"),
            Reason::BudgetCut { from } => format!("budget cut {from}"),
            Reason::Covered => "covered".into(),
            Reason::NoDemandForecast { sold, .. } if *sold > 0.0 => format!("0 forecast, sold {sold:.0}"),
            Reason::NoDemandForecast { .. } => "0 forecast".into(),
            Reason::Launch { date, observed: 0, .. } => format!("launch {}", date.format("%m-%d")),
            Reason::Launch { date, .. } => format!("new {}", date.format("%m-%d")),
        }
    }
}
