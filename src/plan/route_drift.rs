//! Whether a saved delivery plan still matches the day's orders and fleet:
//! the routes whose orders changed since they were planned (closed, or
//! another quantity, window, service time or place) or whose vehicle did
//! (gone, another capacity or shift), in the planner's words. Such a route
//! is planned again rather than shown, exported or approved as it was.
//!
//! The check reads the data alone, not the day's routing problem: a road
//! matrix the plan was made with need not be at hand to see that an order
//! changed.

use crate::domain::{Dataset, Location};

use super::delivery::{DeliveryPlan, DeliveryRoute, DeliveryStop, hhmm};

impl DeliveryRoute {
    /// The orders in sequence, and what they and the vehicle were when it
    /// was planned (quantity, window, service time, place; capacity and
    /// shift): what
    /// an approval is tied to, so a route whose orders changed since asks
    /// for a fresh look. The numbers are hashed as rounded text: a plan
    /// read back from its JSON file need not give back the last bit of a
    /// long decimal.
    pub fn fingerprint(&self) -> String {
        let mut h = crate::fsio::Fnv1a::default();
        h.eat(format!("{:.6};", self.capacity).as_bytes());
        if let Some((start, end)) = self.shift {
            h.eat(format!("{start:.0}-{end:.0};").as_bytes());
        }
        for s in &self.stops {
            h.eat(format!("{:.0};", s.departure - s.start).as_bytes());
            let (a, b) = match s.location {
                Location::LatLon { lat, lon } => (lat, lon),
                Location::Xy { x, y } => (x, y),
            };
            let stop = format!(
                "{}|{:.6}|{:.0}|{:.0}|{a:.7}|{b:.7};",
                s.order, s.quantity, s.ready, s.due
            );
            h.eat(stop.as_bytes());
        }
        format!("{}#{}", self.order_sequence(), h.hex())
    }

    /// The orders in sequence alone.
    pub fn order_sequence(&self) -> String {
        self.stops
            .iter()
            .map(|s| s.order.as_str())
            .collect::<Vec<_>>()
            .join(">")
    }
}

/// A route of a saved plan that the data no longer gives as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub vehicle: String,
    /// The first change found, e.g. "order O020's quantity is 90 (planned 33)".
    pub why: String,
    /// The route is locked: re-planning keeps it (with the rules it now
    /// breaks shown) rather than planning it again.
    pub locked: bool,
}

/// Quantities and places are compared to these (the plan file stores them
/// as JSON text, which need not give back the last bit of a long decimal).
const QTY_EPS: f64 = 1e-6;
const PLACE_EPS: f64 = 1e-7;

/// Every route of `plan` with stops that `ds` (its orders of the plan's day
/// and its fleet, as they are now) no longer gives as planned.
pub fn changed_routes(plan: &DeliveryPlan, ds: &Dataset) -> Vec<Drift> {
    plan.routes
        .iter()
        .filter(|r| !r.stops.is_empty())
        .filter_map(|r| {
            Some(Drift {
                vehicle: r.vehicle.clone(),
                why: route_change(plan, ds, r)?,
                locked: r.locked,
            })
        })
        .collect()
}

/// The day's orders in `ds` that `plan` neither routes nor lists as
/// unserved (they came in since it was made).
pub fn orders_not_in(plan: &DeliveryPlan, ds: &Dataset) -> Vec<String> {
    let known: std::collections::HashSet<&str> = plan
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| s.order.as_str()))
        .chain(plan.unserved.iter().map(|u| u.order.as_str()))
        .collect();
    ds.orders
        .iter()
        .filter(|o| plan.date.is_none() || o.date.is_none() || o.date == plan.date)
        .filter(|o| !known.contains(o.id.as_str()))
        .map(|o| o.id.clone())
        .collect()
}

/// One line for a message: the first changes, and how many more.
pub fn describe(changed: &[Drift]) -> String {
    let mut parts: Vec<String> = changed
        .iter()
        .take(3)
        .map(|c| format!("{}: {}", c.vehicle, c.why))
        .collect();
    match changed.len() {
        0..=3 => {}
        4 => parts.push("1 more route".into()),
        n => parts.push(format!("{} more routes", n - 3)),
    }
    parts.join("; ")
}

/// What a re-plan does with them, for the message that follows.
pub fn what_replanning_does(changed: &[Drift]) -> &'static str {
    match (changed.iter().any(|c| c.locked), changed.iter().all(|c| c.locked)) {
        (false, _) => "planned again, and asked about anew",
        (true, true) => "locked, so kept with what they now break shown, and asked about anew",
        (true, false) => "planned again, the locked ones kept with what they now break shown; all asked about anew",
    }
}

fn route_change(plan: &DeliveryPlan, ds: &Dataset, r: &DeliveryRoute) -> Option<String> {
    let Some(v) = ds
        .fleet
        .iter()
        .find(|v| v.id == r.vehicle && v.warehouse == r.warehouse)
    else {
        return Some(format!("vehicle {} is no longer in {}'s fleet", r.vehicle, r.warehouse));
    };
    if (v.capacity - r.capacity).abs() > QTY_EPS {
        return Some(format!("its capacity is {} (planned {})", v.capacity, r.capacity));
    }
    let (start, end) = (f64::from(v.shift_start_min), f64::from(v.shift_end_min));
    let changed = match r.shift {
        Some((a, b)) => (a - start).abs() > 1e-6 || (b - end).abs() > 1e-6,
        // Saved before routes kept their shift: a route outside today's
        // shift, unless kept past it knowingly (its problems say so).
        None => {
            let known = r.problems.iter().any(|p| p.contains("shift ends"));
            !known && (r.depart + 1e-6 < start || r.back > end + 1e-6)
        }
    };
    if changed {
        let was = match r.shift {
            Some((a, b)) => format!("planned in {}-{}", hhmm(a), hhmm(b)),
            None => format!("the route runs {}-{}", hhmm(r.depart), hhmm(r.back)),
        };
        return Some(format!("its shift is {}-{} ({was})", hhmm(start), hhmm(end)));
    }
    r.stops.iter().find_map(|s| stop_change(plan, ds, &r.warehouse, s))
}

fn stop_change(plan: &DeliveryPlan, ds: &Dataset, warehouse: &str, s: &DeliveryStop) -> Option<String> {
    let id = &s.order;
    // The day's orders, as a plan of that day reads them.
    let Some(o) = ds
        .orders
        .iter()
        .find(|o| o.id == *id && (plan.date.is_none() || o.date.is_none() || o.date == plan.date))
    else {
        return Some(format!("order {id} is no longer open that day"));
    };
    if o.warehouse != warehouse {
        return Some(format!("order {id} ships from {} now", o.warehouse));
    }
    if (o.quantity - s.quantity).abs() > QTY_EPS {
        return Some(format!(
            "order {id}'s quantity is {} (planned {})",
            o.quantity, s.quantity
        ));
    }
    let (ready, due) = (f64::from(o.ready_min), f64::from(o.due_min));
    if (ready - s.ready).abs() > 1e-6 || (due - s.due).abs() > 1e-6 {
        return Some(format!(
            "order {id}'s window is {}-{} (planned {}-{})",
            hhmm(ready),
            hhmm(due),
            hhmm(s.ready),
            hhmm(s.due)
        ));
    }
    let service = s.departure - s.start;
    if (f64::from(o.service_min) - service).abs() > 1e-6 {
        return Some(format!(
            "order {id}'s service takes {} minutes (planned {service:.0})",
            o.service_min
        ));
    }
    let moved = match (o.location, s.location) {
        (Location::LatLon { lat, lon }, Location::LatLon { lat: a, lon: b })
        | (Location::Xy { x: lat, y: lon }, Location::Xy { x: a, y: b }) => {
            (lat - a).abs() > PLACE_EPS || (lon - b).abs() > PLACE_EPS
        }
        _ => true,
    };
    moved.then(|| format!("order {id}'s place changed"))
}
