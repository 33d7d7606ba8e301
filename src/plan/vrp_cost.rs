//! The search minimises distance, not money: a route it gives a dear
//! vehicle could be driven, stop for stop and minute for minute, by a
//! cheaper one alike in depot, shift and speed. This hands each route to
//! such a vehicle where that lowers the day's cost.

use super::vrp::{JobSpec, Routing, VehicleSpec};

/// Vehicles that drive a route the same way: same start and end, shift and
/// speed (capacity is checked against the route's load).
fn alike(a: &VehicleSpec, b: &VehicleSpec) -> bool {
    a.start == b.start
        && a.end == b.end
        && a.shift_start == b.shift_start
        && a.shift_end == b.shift_end
        && a.time_factor == b.time_factor
}

/// Reassign `routing`'s routes among alike vehicles with room for their
/// load, the longest routes to the cheapest vehicles, when that costs less
/// than the search's assignment; otherwise leave it. `cost_per_km[v]` is
/// vehicle `v`'s cost.
pub fn cheapest_vehicles(routing: &mut Routing, jobs: &[JobSpec], vehicles: &[VehicleSpec], cost_per_km: &[f64]) {
    let cost = |v: usize| cost_per_km.get(v).copied().unwrap_or(0.0);
    let load = |r: usize| -> u64 {
        routing.routes[r]
            .visits
            .iter()
            .map(|s| u64::from(jobs.get(s.job).map_or(0, |j| j.demand)))
            .sum()
    };
    let before: f64 = routing.routes.iter().map(|r| r.distance * cost(r.vehicle)).sum();
    let mut order: Vec<usize> = (0..routing.routes.len()).collect();
    order.sort_by(|a, b| routing.routes[*b].distance.total_cmp(&routing.routes[*a].distance));
    // Vehicles with a route, and those without one: both may take a route.
    let mut taken = vec![false; vehicles.len()];
    let mut given = vec![usize::MAX; routing.routes.len()];
    for &r in &order {
        let Some(own) = vehicles.get(routing.routes[r].vehicle) else {
            return;
        };
        let need = load(r);
        let best = (0..vehicles.len())
            .filter(|&v| !taken[v] && alike(own, &vehicles[v]) && u64::from(vehicles[v].capacity) >= need)
            .min_by(|&a, &b| cost(a).total_cmp(&cost(b)).then(a.cmp(&b)));
        let Some(v) = best else {
            // A dead end (a large cheap vehicle went to a light route):
            // the search's assignment stands.
            return;
        };
        taken[v] = true;
        given[r] = v;
    }
    let after: f64 = routing
        .routes
        .iter()
        .zip(&given)
        .map(|(r, v)| r.distance * cost(*v))
        .sum();
    if after < before - 1e-9 {
        for (r, v) in routing.routes.iter_mut().zip(given) {
            r.vehicle = v;
        }
    }
}
