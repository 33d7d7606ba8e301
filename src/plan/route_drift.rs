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

/// One line for a message: the first changes, and how many more.
pub fn describe(changed: &[Drift]) -> String {
    let mut parts: Vec<String> = changed
        .iter()
        .take(3)
        .map(|c| format!("{}: {}", c.vehicle, c.why))
        .collect();
    if changed.len() > 3 {
        parts.push(format!("{} more routes", changed.len() - 3));
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
    // A locked route kept past its shift says so in its problems already:
    // that is the rule it breaks, not a change since (the route does not
    // keep the shift it was planned with).
    let known = r.problems.iter().any(|p| p.contains("shift ends"));
    if !known && (r.depart + 1e-6 < start || r.back > end + 1e-6) {
        return Some(format!(
            "its shift is {}-{}, and the route runs {}-{}",
            hhmm(start),
            hhmm(end),
            hhmm(r.depart),
            hhmm(r.back)
        ));
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
