//! Whether a saved delivery plan still matches the day's orders and fleet:
//! the routes whose orders changed since they were planned (closed, or
//! another quantity, window or place) or whose vehicle did, in the
//! planner's words. Such a route is planned again rather than shown,
//! exported or approved as it was.

use super::delivery::{DeliveryPlan, DeliveryProblem, DeliveryRoute, DeliveryStop, Depot, hhmm};

/// A route of a saved plan that the data no longer gives as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub vehicle: String,
    /// The first change found, e.g. "order O020's quantity is 90 (planned 33)".
    pub why: String,
}

/// Every route of `plan` with stops that `problem` (the same day's orders
/// and fleet as they are now) no longer gives as planned.
pub fn changed_routes(plan: &DeliveryPlan, problem: &DeliveryProblem) -> Vec<Drift> {
    plan.routes
        .iter()
        .filter(|r| !r.stops.is_empty())
        .filter_map(|r| {
            let why = match problem.depots.iter().find(|d| d.warehouse == r.warehouse) {
                None => format!("warehouse {} has no orders to plan now", r.warehouse),
                Some(d) => route_change(d, r)?,
            };
            Some(Drift {
                vehicle: r.vehicle.clone(),
                why,
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

fn route_change(d: &Depot, r: &DeliveryRoute) -> Option<String> {
    let Some(v) = d.fleet.iter().find(|v| v.id == r.vehicle) else {
        return Some(format!("vehicle {} is no longer in {}'s fleet", r.vehicle, d.warehouse));
    };
    if (v.capacity - r.capacity).abs() > 1e-9 {
        return Some(format!("its capacity is {} (planned {})", v.capacity, r.capacity));
    }
    r.stops.iter().find_map(|s| stop_change(d, s))
}

fn stop_change(d: &Depot, s: &DeliveryStop) -> Option<String> {
    let Some(o) = d.orders.iter().find(|o| o.id == s.order) else {
        return Some(format!("order {} is no longer open that day", s.order));
    };
    let id = &s.order;
    if (o.quantity - s.quantity).abs() > 1e-9 {
        return Some(format!(
            "order {id}'s quantity is {} (planned {})",
            o.quantity, s.quantity
        ));
    }
    let (ready, due) = (f64::from(o.ready_min), f64::from(o.due_min));
    if (ready - s.ready).abs() > 1e-9 || (due - s.due).abs() > 1e-9 {
        return Some(format!(
            "order {id}'s window is {}-{} (planned {}-{})",
            hhmm(ready),
            hhmm(due),
            hhmm(s.ready),
            hhmm(s.due)
        ));
    }
    (o.location != s.location).then(|| format!("order {id}'s place changed"))
}
