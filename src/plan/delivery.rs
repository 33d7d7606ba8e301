//! Delivery schedules: the day's open orders turned into routes per
//! vehicle, in skuplan's own words (orders, vehicles, routes, stops), with
//! the solver of [`crate::plan::vrp`] underneath.
//!
//! Each warehouse is its own problem: its vehicles start and end there and
//! carry only its orders. Travel comes from coordinates (great-circle
//! distance for lat/lon, straight lines for planar x/y read as kilometres)
//! at each vehicle's speed, or from a road matrix file when the planner has
//! one. Times are minutes after midnight, as in the orders and fleet files.
//!
//! A plan can be edited: move an order to another vehicle (at a position,
//! or where it fits best), lock a route, re-optimise the rest. Locked
//! routes are kept as they are by every later planning run for that day.

pub use super::export::DeliveryExportRow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{Dataset, DeliveryOrder, Location, Vehicle};
use crate::plan::approval::{LineDecision, State, state_of};
use crate::plan::route_check;
use crate::plan::vrp::{self, Budget, JobSpec, Matrix, RoutePlan, VehicleSpec};

/// The plan's name in the audit log.
pub const PLAN: &str = "deliveries";

/// Quantities are handed to the solver in hundredths.
const QTY_SCALE: f64 = 100.0;

#[derive(Debug, Clone, PartialEq)]
pub struct DeliverySettings {
    /// Orders of this day (and orders without a date); `None`: see
    /// [`default_date`].
    pub date: Option<NaiveDate>,
    /// Wall-clock cap for the whole plan, in seconds.
    pub seconds: f64,
    /// Ruin-and-recreate iterations for the whole plan; `None`: 2,000 per
    /// order. With the cap not reached, the plan repeats for a seed.
    pub iterations: Option<u64>,
    pub seed: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            date: None,
            seconds: 5.0,
            iterations: None,
            seed: 1,
        }
    }
}

/// The day planned when none is named: the first order date on or after
/// `today`, else the last date any order has.
pub fn default_date(orders: &[DeliveryOrder], today: NaiveDate) -> Option<NaiveDate> {
    let dates: Vec<NaiveDate> = orders.iter().filter_map(|o| o.date).collect();
    dates
        .iter()
        .filter(|d| **d >= today)
        .min()
        .or_else(|| dates.iter().max())
        .copied()
}

/// Road distances (km) and driving times (minutes) between places named by
/// order or warehouse id: a CSV with columns `from,to,distance_km,duration_min`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoadMatrix {
    legs: HashMap<(String, String), (f64, f64)>,
}

impl RoadMatrix {
    pub fn read(path: &Path) -> Result<RoadMatrix> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .with_context(|| format!("cannot read the road matrix {}", path.display()))?;
        let headers = reader.headers()?.clone();
        let col = |name: &str| -> Result<usize> {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .with_context(|| {
                    format!(
                        "{}: no column '{name}' (expected from,to,distance_km,duration_min)",
                        path.display()
                    )
                })
        };
        let (from, to, dist, dur) = (col("from")?, col("to")?, col("distance_km")?, col("duration_min")?);
        let mut legs = HashMap::new();
        for (i, row) in reader.records().enumerate() {
            let row = row.with_context(|| format!("{}: row {} is not CSV", path.display(), i + 2))?;
            let num = |c: usize, name: &str| -> Result<f64> {
                let text = row.get(c).unwrap_or("");
                text.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .with_context(|| {
                        format!(
                            "{}: row {}, column {name}: '{text}' is not a number of 0 or more",
                            path.display(),
                            i + 2
                        )
                    })
            };
            let key = (
                row.get(from).unwrap_or("").to_string(),
                row.get(to).unwrap_or("").to_string(),
            );
            legs.insert(key, (num(dist, "distance_km")?, num(dur, "duration_min")?));
        }
        Ok(RoadMatrix { legs })
    }

    pub fn leg(&self, from: &str, to: &str) -> Option<(f64, f64)> {
        self.legs.get(&(from.to_string(), to.to_string())).copied()
    }
}

/// One warehouse's problem in the solver's terms. Location 0 is the
/// warehouse, location i + 1 is order i; job i is order i.
#[derive(Debug, Clone)]
pub struct Depot {
    pub warehouse: String,
    pub location: Location,
    pub orders: Vec<DeliveryOrder>,
    pub fleet: Vec<Vehicle>,
    pub matrix: Matrix,
    pub jobs: Vec<JobSpec>,
    pub vehicles: Vec<VehicleSpec>,
}

impl Depot {
    fn order_index(&self, id: &str) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    fn vehicle_index(&self, id: &str) -> Option<usize> {
        self.fleet.iter().position(|v| v.id == id)
    }
}

/// The day's orders, by warehouse, ready to plan.
#[derive(Debug, Clone)]
pub struct DeliveryProblem {
    pub date: Option<NaiveDate>,
    pub depots: Vec<Depot>,
    /// Orders no planning can serve, with why (their warehouse has no
    /// vehicle, or no coordinates).
    pub unplannable: Vec<UnservedOrder>,
}

impl DeliveryProblem {
    /// The open orders of `date` (and those without a date) from `ds`.
    pub fn build(ds: &Dataset, date: Option<NaiveDate>, road: Option<&RoadMatrix>) -> Result<DeliveryProblem> {
        let mut by_wh: Vec<(String, Vec<DeliveryOrder>)> = Vec::new();
        for o in ds
            .orders
            .iter()
            .filter(|o| date.is_none() || o.date.is_none() || o.date == date)
        {
            match by_wh.iter_mut().find(|(w, _)| *w == o.warehouse) {
                Some((_, v)) => v.push(o.clone()),
                None => by_wh.push((o.warehouse.clone(), vec![o.clone()])),
            }
        }
        by_wh.sort_by(|a, b| a.0.cmp(&b.0));
        let mut depots = Vec::new();
        let mut unplannable = Vec::new();
        for (wh, orders) in by_wh {
            let fleet: Vec<Vehicle> = ds.fleet.iter().filter(|v| v.warehouse == wh).cloned().collect();
            let planar = matches!(orders[0].location, Location::Xy { .. });
            if orders
                .iter()
                .any(|o| matches!(o.location, Location::Xy { .. }) != planar)
            {
                bail!("the orders of warehouse {wh} mix lat/lon and x/y coordinates; use one kind");
            }
            let site = ds.warehouses.iter().find(|w| w.id == wh);
            // Planar orders read the warehouse's x/y, or else its lat/lon
            // columns as y/x (as before x/y were read for warehouses).
            let location = site.and_then(|w| match (w.x, w.y, w.lat, w.lon) {
                (Some(x), Some(y), _, _) if planar => Some(Location::Xy { x, y }),
                (_, _, Some(lat), Some(lon)) if planar => Some(Location::Xy { x: lon, y: lat }),
                (_, _, Some(lat), Some(lon)) => Some(Location::LatLon { lat, lon }),
                _ => None,
            });
            let why = if fleet.is_empty() {
                Some(format!("no vehicle is based at {wh}"))
            } else if location.is_none() && road.is_none() {
                let wanted = if planar { "x, y" } else { "lat, lon" };
                Some(if ds.warehouses.iter().all(|w| w.lat.is_none() && w.x.is_none()) {
                    format!("no warehouse has coordinates: give a warehouses file with id and {wanted}")
                } else {
                    format!("warehouse {wh} has no {wanted} in the warehouses file (its orders are placed by {wanted})")
                })
            } else {
                None
            };
            if let Some(why) = why {
                unplannable.extend(orders.iter().map(|o| UnservedOrder {
                    order: o.id.clone(),
                    warehouse: wh.clone(),
                    quantity: o.quantity,
                    reason: why.clone(),
                }));
                continue;
            }
            let location = location.unwrap_or(Location::Xy { x: 0.0, y: 0.0 });
            depots.push(Depot::build(wh, location, orders, fleet, road)?);
        }
        Ok(DeliveryProblem {
            date,
            depots,
            unplannable,
        })
    }

    pub fn order_count(&self) -> usize {
        self.depots.iter().map(|d| d.orders.len()).sum::<usize>() + self.unplannable.len()
    }

    fn depot_of_vehicle(&self, vehicle: &str) -> Option<&Depot> {
        self.depots.iter().find(|d| d.vehicle_index(vehicle).is_some())
    }
}

impl Depot {
    fn build(
        warehouse: String,
        location: Location,
        orders: Vec<DeliveryOrder>,
        fleet: Vec<Vehicle>,
        road: Option<&RoadMatrix>,
    ) -> Result<Depot> {
        let places: Vec<Location> = std::iter::once(location)
            .chain(orders.iter().map(|o| o.location))
            .collect();
        let names: Vec<&str> = std::iter::once(warehouse.as_str())
            .chain(orders.iter().map(|o| o.id.as_str()))
            .collect();
        let n = places.len();
        let mut distance = vec![0.0; n * n];
        let mut duration = vec![0.0; n * n];
        let mut missing = Vec::new();
        for a in 0..n {
            for b in 0..n {
                if a == b {
                    continue;
                }
                let (km, min) = match road {
                    Some(r) => match r.leg(names[a], names[b]) {
                        Some(leg) => leg,
                        None => {
                            missing.push((names[a], names[b]));
                            (0.0, 0.0)
                        }
                    },
                    // Minutes at 60 km/h; each vehicle scales by its speed.
                    None => {
                        let km = straight_km(places[a], places[b]);
                        (km, km)
                    }
                };
                distance[a * n + b] = km;
                duration[a * n + b] = min;
            }
        }
        if let Some((a, b)) = missing.first() {
            bail!(
                "the road matrix has no leg from {a} to {b} ({} legs of warehouse {warehouse}'s orders are missing)",
                missing.len()
            );
        }
        let matrix = Matrix {
            size: n,
            distance,
            duration,
        };
        let jobs = orders
            .iter()
            .enumerate()
            .map(|(i, o)| JobSpec {
                location: i + 1,
                demand: (o.quantity.max(0.0) * QTY_SCALE).ceil().min(f64::from(u32::MAX)) as u32,
                ready: f64::from(o.ready_min),
                due: f64::from(o.due_min),
                service: f64::from(o.service_min),
            })
            .collect();
        let vehicles = fleet
            .iter()
            .map(|v| VehicleSpec {
                id: v.id.clone(),
                start: 0,
                end: 0,
                shift_start: f64::from(v.shift_start_min),
                shift_end: f64::from(v.shift_end_min),
                capacity: (v.capacity.max(0.0) * QTY_SCALE).floor().min(f64::from(u32::MAX)) as u32,
                // Road times are taken as given; straight lines at speed.
                time_factor: if road.is_some() || v.speed_kmh <= 0.0 {
                    1.0
                } else {
                    60.0 / v.speed_kmh
                },
            })
            .collect();
        Ok(Depot {
            warehouse,
            location,
            orders,
            fleet,
            matrix,
            jobs,
            vehicles,
        })
    }
}

/// Kilometres between two places: great-circle for lat/lon, straight for
/// planar coordinates (taken as kilometres).
pub fn straight_km(a: Location, b: Location) -> f64 {
    match (a, b) {
        (Location::LatLon { lat: la, lon: oa }, Location::LatLon { lat: lb, lon: ob }) => {
            const R: f64 = 6371.0088;
            let (p1, p2) = (la.to_radians(), lb.to_radians());
            let dp = p2 - p1;
            let dl = (ob - oa).to_radians();
            let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
            2.0 * R * h.sqrt().min(1.0).asin()
        }
        (Location::Xy { x: xa, y: ya }, Location::Xy { x: xb, y: yb }) => (xa - xb).hypot(ya - yb),
        // Mixed kinds never meet in one depot (checked when building).
        _ => 0.0,
    }
}

/// One stop of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStop {
    pub order: String,
    pub customer: Option<String>,
    pub location: Location,
    pub quantity: f64,
    /// Minutes after midnight.
    pub arrival: f64,
    pub start: f64,
    pub departure: f64,
    /// Still on board after this stop.
    pub load_after: f64,
    /// The order's window.
    pub ready: f64,
    pub due: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRoute {
    pub vehicle: String,
    pub warehouse: String,
    /// Kept as it is by re-planning until unlocked.
    pub locked: bool,
    pub capacity: f64,
    pub depart: f64,
    pub back: f64,
    pub distance_km: f64,
    pub cost: f64,
    pub stops: Vec<DeliveryStop>,
    /// Rules the route breaks (only ever after a data change under a
    /// locked route): shown to the planner, never hidden.
    #[serde(default)]
    pub problems: Vec<String>,
    /// The vehicle's shift it was planned in (minutes; none in plans
    /// saved before session 23).
    #[serde(default)]
    pub shift: Option<(f64, f64)>,
}

impl DeliveryRoute {
    pub fn load(&self) -> f64 {
        self.stops.iter().map(|s| s.quantity).sum()
    }
    // Its fingerprint, what an approval is tied to, is in `route_drift`:
    // what counts as a changed route is decided there.
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnservedOrder {
    pub order: String,
    pub warehouse: String,
    pub quantity: f64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryPlan {
    pub date: Option<NaiveDate>,
    pub routes: Vec<DeliveryRoute>,
    pub unserved: Vec<UnservedOrder>,
    pub seed: u64,
    pub iterations: u64,
    /// The time cap ended the search: another run may differ.
    pub stopped_by_time: bool,
    /// The road matrix file it was planned with, if any (edits use it too).
    #[serde(default)]
    pub matrix_file: Option<std::path::PathBuf>,
    /// The data it was planned from when named with --data (edits read the
    /// same); `None`: the workspace's data.
    #[serde(default)]
    pub data: Option<std::path::PathBuf>,
}

impl DeliveryPlan {
    /// The approval key of a route.
    pub fn key(&self, route: &DeliveryRoute) -> Vec<String> {
        vec![
            self.date.map(|d| d.to_string()).unwrap_or_default(),
            route.vehicle.clone(),
        ]
    }

    // `+ 0.0`: an empty sum of f64 is -0.0, printed "-0.0 km".
    pub fn distance_km(&self) -> f64 {
        self.routes.iter().map(|r| r.distance_km).sum::<f64>() + 0.0
    }

    pub fn cost(&self) -> f64 {
        self.routes.iter().map(|r| r.cost).sum::<f64>() + 0.0
    }

    pub fn stop_count(&self) -> usize {
        self.routes.iter().map(|r| r.stops.len()).sum()
    }

    pub fn route(&self, vehicle: &str) -> Option<&DeliveryRoute> {
        self.routes.iter().find(|r| r.vehicle == vehicle)
    }
}

/// Plan the day. Routes locked in `keep` (same day) stay as they are, with
/// their orders; everything else is planned afresh.
pub fn plan(problem: &DeliveryProblem, settings: &DeliverySettings, keep: Option<&DeliveryPlan>) -> DeliveryPlan {
    let keep = keep.filter(|k| k.date == problem.date);
    let total_orders = problem.depots.iter().map(|d| d.orders.len()).sum::<usize>().max(1);
    let total_iterations = settings.iterations.unwrap_or(2_000 * total_orders as u64);
    let mut routes = Vec::new();
    let mut unserved = problem.unplannable.clone();
    let mut iterations = 0;
    let mut stopped_by_time = false;
    for depot in &problem.depots {
        // Locked routes whose vehicle and orders are all still here.
        let mut fixed: Vec<(usize, Vec<usize>)> = Vec::new();
        for r in keep
            .iter()
            .flat_map(|k| &k.routes)
            .filter(|r| r.locked && r.warehouse == depot.warehouse)
        {
            let Some(v) = depot.vehicle_index(&r.vehicle) else {
                continue;
            };
            let seq: Vec<usize> = r.stops.iter().filter_map(|s| depot.order_index(&s.order)).collect();
            fixed.push((v, seq));
        }
        let fixed_vehicles: HashSet<usize> = fixed.iter().map(|f| f.0).collect();
        let fixed_jobs: HashSet<usize> = fixed.iter().flat_map(|f| f.1.iter().copied()).collect();
        let free_v: Vec<usize> = (0..depot.vehicles.len())
            .filter(|v| !fixed_vehicles.contains(v))
            .collect();
        let free_j: Vec<usize> = (0..depot.jobs.len()).filter(|j| !fixed_jobs.contains(j)).collect();
        let share = depot.orders.len() as f64 / total_orders as f64;
        let budget = Budget {
            seed: settings.seed,
            seconds: settings.seconds * share,
            iterations: Some(((total_iterations as f64 * share).round() as u64).max(100)),
        };
        let sub_jobs: Vec<JobSpec> = free_j.iter().map(|j| depot.jobs[*j].clone()).collect();
        let sub_veh: Vec<VehicleSpec> = free_v.iter().map(|v| depot.vehicles[*v].clone()).collect();
        let mut solved = vrp::solve(&depot.matrix, &sub_jobs, &sub_veh, budget);
        let costs: Vec<f64> = free_v.iter().map(|v| depot.fleet[*v].cost_per_km).collect();
        super::vrp_cost::cheapest_vehicles(&mut solved, &sub_jobs, &sub_veh, &costs);
        iterations += solved.iterations;
        stopped_by_time |= solved.stop == vrp::Stop::Time;
        for (v, seq) in &fixed {
            routes.push(route_of(depot, *v, seq, true));
        }
        for r in &solved.routes {
            let seq: Vec<usize> = r.visits.iter().map(|s| free_j[s.job]).collect();
            routes.push(route_of(depot, free_v[r.vehicle], &seq, false));
        }
        for (j, why) in &solved.unassigned {
            let o = &depot.orders[free_j[*j]];
            // The search saw only the vehicles whose routes were not kept:
            // an order the whole fleet could take is not "too heavy".
            let reason = match why {
                _ if fixed.is_empty() => why.reason(),
                vrp::Unserved::FleetFull => {
                    "no room left on the routes re-planned (the others are locked or approved, so kept)"
                }
                _ if vrp::explain(&depot.matrix, &depot.jobs[free_j[*j]], &depot.vehicles).is_none() => {
                    "the vehicles that could take it have locked or approved routes: unlock one, or move the order \
                     onto one"
                }
                _ => why.reason(),
            };
            unserved.push(UnservedOrder {
                order: o.id.clone(),
                warehouse: depot.warehouse.clone(),
                quantity: o.quantity,
                reason: reason.to_string(),
            });
        }
    }
    sort_routes(&mut routes, problem);
    DeliveryPlan {
        date: problem.date,
        routes,
        unserved,
        seed: settings.seed,
        iterations,
        stopped_by_time,
        matrix_file: None,
        data: None,
    }
}

/// The vehicles whose routes the planner approved (the decision still in
/// force) and did not lock: a re-plan holds them as it holds locked ones.
pub fn approved_unlocked(plan: &DeliveryPlan, decisions: &HashMap<Vec<String>, LineDecision>) -> Vec<String> {
    plan.routes
        .iter()
        .filter(|r| !r.locked && !r.stops.is_empty())
        .filter(|r| matches!(route_state(plan, r, decisions), (State::Approved, false, _)))
        .map(|r| r.vehicle.clone())
        .collect()
}

/// The approved routes (the decision still in force) that moving `order`
/// onto `to` changes, the route it leaves and the one it joins: their
/// approvals lapse, and the workstation and `deliveries move` say so.
pub fn approvals_a_move_changes(
    plan: &DeliveryPlan,
    decisions: &HashMap<Vec<String>, LineDecision>,
    order: &str,
    to: &str,
) -> Vec<String> {
    let from = plan.routes.iter().find(|r| r.stops.iter().any(|s| s.order == order));
    plan.routes
        .iter()
        .filter(|r| r.vehicle == to || from.is_some_and(|f| f.vehicle == r.vehicle))
        .filter(|r| matches!(route_state(plan, r, decisions), (State::Approved, false, _)))
        .map(|r| r.vehicle.clone())
        .collect()
}

/// [`plan`], holding the routes of the vehicles in `hold` as locked routes
/// are held, without leaving them locked: a re-plan that kept only locked
/// routes could hand an approved route's stops to another vehicle and send
/// its approval to review.
pub fn plan_holding(
    problem: &DeliveryProblem,
    settings: &DeliverySettings,
    keep: Option<&DeliveryPlan>,
    hold: &[String],
) -> DeliveryPlan {
    let mut keep = keep.cloned();
    let mut held = Vec::new();
    for r in keep.iter_mut().flat_map(|k| k.routes.iter_mut()) {
        if !r.locked && hold.contains(&r.vehicle) {
            r.locked = true;
            held.push(r.vehicle.clone());
        }
    }
    let mut out = plan(problem, settings, keep.as_ref());
    for r in out.routes.iter_mut().filter(|r| held.contains(&r.vehicle)) {
        r.locked = false;
    }
    out
}

/// Routes in warehouse order, then in fleet order.
fn sort_routes(routes: &mut [DeliveryRoute], problem: &DeliveryProblem) {
    let rank = |r: &DeliveryRoute| {
        problem
            .depots
            .iter()
            .enumerate()
            .find_map(|(d, depot)| depot.vehicle_index(&r.vehicle).map(|v| (d, v)))
            .unwrap_or((usize::MAX, usize::MAX))
    };
    routes.sort_by_key(rank);
}

/// A route in our terms: vehicle `v` of `depot` serving jobs `seq`.
fn route_of(depot: &Depot, v: usize, seq: &[usize], locked: bool) -> DeliveryRoute {
    let spec = &depot.vehicles[v];
    let rp: RoutePlan = vrp::timeline(&depot.matrix, &depot.jobs, v, spec, seq);
    let problems = route_check::check_route(&depot.matrix, &depot.jobs, spec, &rp)
        .into_iter()
        .map(|p| readable(depot, &p))
        .collect();
    let vehicle = &depot.fleet[v];
    let mut load: f64 = seq.iter().map(|j| depot.orders[*j].quantity).sum();
    let stops = rp
        .visits
        .iter()
        .map(|s| {
            let o = &depot.orders[s.job];
            load -= o.quantity;
            DeliveryStop {
                order: o.id.clone(),
                customer: o.customer.clone(),
                location: o.location,
                quantity: o.quantity,
                arrival: s.arrival,
                start: s.start,
                departure: s.departure,
                load_after: load.max(0.0),
                ready: f64::from(o.ready_min),
                due: f64::from(o.due_min),
            }
        })
        .collect();
    DeliveryRoute {
        vehicle: vehicle.id.clone(),
        warehouse: depot.warehouse.clone(),
        locked,
        capacity: vehicle.capacity,
        depart: rp.depart,
        back: rp.back,
        distance_km: rp.distance,
        cost: rp.distance * vehicle.cost_per_km,
        stops,
        problems,
        shift: Some((spec.shift_start, spec.shift_end)),
    }
}

/// A broken rule in the planner's words: orders and times of day.
fn readable(depot: &Depot, v: &route_check::Violation) -> String {
    match v {
        route_check::Violation::Capacity { .. } => "the orders exceed the vehicle's capacity".into(),
        route_check::Violation::Late { job, start, due } => format!(
            "order {} would start at {}, after its window closes at {}",
            depot.orders.get(*job).map_or("?", |o| o.id.as_str()),
            hhmm(*start),
            hhmm(*due)
        ),
        route_check::Violation::ShiftEnd { back, end } => format!(
            "the vehicle would be back at {}, after its shift ends at {}",
            hhmm(*back),
            hhmm(*end)
        ),
        route_check::Violation::UnknownJob(_) => "an order that is no longer open".into(),
    }
}

/// Minutes after midnight as HH:MM (hours past 23 for the next day).
pub fn hhmm(minutes: f64) -> String {
    let m = minutes.round().max(0.0) as u64;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Move an order onto a vehicle: at `position` (0 = first stop), or where
/// it adds the least distance. Refused, with the rule it would break, when
/// the vehicle cannot take it there. The vehicle's route is then locked, so
/// re-planning keeps the planner's choice.
pub fn move_order(
    problem: &DeliveryProblem,
    plan: &DeliveryPlan,
    order: &str,
    vehicle: &str,
    position: Option<usize>,
) -> Result<DeliveryPlan> {
    let depot = problem
        .depot_of_vehicle(vehicle)
        .with_context(|| format!("no vehicle called {vehicle} in the fleet"))?;
    let Some(j) = depot.order_index(order) else {
        match problem.depots.iter().find(|d| d.order_index(order).is_some()) {
            Some(d) => bail!(
                "order {order} ships from {}, vehicle {vehicle} is based at {}",
                d.warehouse,
                depot.warehouse
            ),
            None => bail!("no open order {order} on this day"),
        }
    };
    let v = depot.vehicle_index(vehicle).context("vehicle vanished")?;
    let seq_of =
        |r: &DeliveryRoute| -> Vec<usize> { r.stops.iter().filter_map(|s| depot.order_index(&s.order)).collect() };
    let mut target: Vec<usize> = plan.route(vehicle).map(seq_of).unwrap_or_default();
    target.retain(|x| *x != j);
    let candidates: Vec<usize> = match position {
        Some(p) if p > target.len() => bail!(
            "vehicle {vehicle} has {} other stops: position {} is past the end (1 to {})",
            target.len(),
            p + 1,
            target.len() + 1
        ),
        Some(p) => vec![p],
        None => (0..=target.len()).collect(),
    };
    let spec = &depot.vehicles[v];
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut first_problem = None;
    for p in candidates {
        let mut seq = target.clone();
        seq.insert(p, j);
        let rp = vrp::timeline(&depot.matrix, &depot.jobs, v, spec, &seq);
        let problems = route_check::check_route(&depot.matrix, &depot.jobs, spec, &rp);
        if problems.is_empty() {
            if best.as_ref().is_none_or(|b| rp.distance < b.0) {
                best = Some((rp.distance, seq));
            }
        } else if first_problem.is_none() {
            first_problem = problems.first().map(|p| readable(depot, p));
        }
    }
    let Some((_, seq)) = best else {
        bail!(
            "vehicle {vehicle} cannot take order {order}{}: {}",
            if position.is_some() { " there" } else { " anywhere" },
            first_problem.unwrap_or_else(|| "it breaks a rule".into())
        );
    };
    let mut out = plan.clone();
    out.unserved.retain(|u| u.order != order);
    // Off its old route (which keeps its lock, if it had one).
    for r in out.routes.iter_mut() {
        if r.vehicle != vehicle && r.stops.iter().any(|s| s.order == order) {
            let locked = r.locked;
            if let Some(d) = problem.depot_of_vehicle(&r.vehicle)
                && let Some(rv) = d.vehicle_index(&r.vehicle)
            {
                let rest: Vec<usize> = r
                    .stops
                    .iter()
                    .filter(|s| s.order != order)
                    .filter_map(|s| d.order_index(&s.order))
                    .collect();
                *r = route_of(d, rv, &rest, locked);
            }
        }
    }
    out.routes.retain(|r| r.vehicle != vehicle && !r.stops.is_empty());
    out.routes.push(route_of(depot, v, &seq, true));
    sort_routes(&mut out.routes, problem);
    Ok(out)
}

/// Lock or unlock a vehicle's route.
pub fn set_locked(plan: &mut DeliveryPlan, vehicle: &str, locked: bool) -> Result<()> {
    let r = plan
        .routes
        .iter_mut()
        .find(|r| r.vehicle == vehicle)
        .with_context(|| format!("vehicle {vehicle} has no route in this plan"))?;
    r.locked = locked;
    Ok(())
}

/// The state of a route given the audit log's decisions, and whether a
/// decision taken on an earlier version of it needs a fresh look.
pub fn route_state(
    plan: &DeliveryPlan,
    route: &DeliveryRoute,
    decisions: &HashMap<Vec<String>, LineDecision>,
) -> (State, bool, Option<LineDecision>) {
    // A decision recorded before session 23 names the sequence alone: it
    // cannot tell whether the orders changed since, so it asks for a fresh
    // look (it stays in the audit log).
    let fingerprint = route.fingerprint();
    let key = plan.key(route);
    let (state, review, d) = state_of(decisions, &key, &fingerprint);
    // The very route the planner rejected, planned again for a twin vehicle
    // (same capacity and shift: a re-plan hands equal routes to either),
    // is still rejected: it came back as "proposed", the rejection passed
    // over unsaid. An approval stays with its vehicle.
    if state == State::Proposed
        && !route.stops.is_empty()
        && let Some(d) = decisions
            .iter()
            .filter(|(k, d)| k.first() == key.first() && d.state == State::Rejected && d.fingerprint == fingerprint)
            .map(|(_, d)| d)
            .max_by(|a, b| a.at.cmp(&b.at))
    {
        return (State::Rejected, false, Some(d.clone()));
    }
    // A route that breaks a rule (after a change the fingerprint does not
    // see: a slower vehicle, another road matrix) is no longer approved.
    if state == State::Approved && !route.problems.is_empty() {
        return (State::Proposed, true, None);
    }
    (state, review, d)
}

/// A row per stop of the approved routes, or with `all` of every route,
/// each with its state.
pub fn delivery_rows(
    plan: &DeliveryPlan,
    decisions: &HashMap<Vec<String>, LineDecision>,
    all: bool,
) -> Vec<DeliveryExportRow> {
    let mut rows = Vec::new();
    for r in &plan.routes {
        let (state, review, d) = route_state(plan, r, decisions);
        if !all && state != State::Approved {
            continue;
        }
        let (state, approver, approved_at) = crate::plan::approval::export_columns(state, review, d.as_ref());
        let comment = crate::plan::export::as_text(&d.as_ref().and_then(|d| d.comment.clone()).unwrap_or_default());
        for (i, s) in r.stops.iter().enumerate() {
            let (lat, lon, x, y) = match s.location {
                Location::LatLon { lat, lon } => (Some(lat), Some(lon), None, None),
                Location::Xy { x, y } => (None, None, Some(x), Some(y)),
            };
            rows.push(DeliveryExportRow {
                date: plan.date.map(|d| d.to_string()).unwrap_or_default(),
                warehouse: r.warehouse.clone(),
                vehicle: r.vehicle.clone(),
                seq: i + 1,
                order: s.order.clone(),
                customer: s.customer.clone().unwrap_or_default(),
                lat,
                lon,
                x,
                y,
                arrival: hhmm(s.arrival),
                service_start: hhmm(s.start),
                departure: hhmm(s.departure),
                quantity: s.quantity,
                load_after: (s.load_after * 1000.0).round() / 1000.0,
                state: state.clone(),
                approver: approver.clone(),
                approved_at: approved_at.clone(),
                comment: comment.clone(),
            });
        }
    }
    rows
}

/// A few lines for the terminal.
pub fn summary(plan: &DeliveryPlan) -> String {
    let mut s = format!(
        "deliveries for {}: {} routes, {} stops, {:.1} km, cost {:.2}; {} unserved; {} iterations{}\n",
        plan.date.map_or_else(|| "any day".into(), |d| d.to_string()),
        plan.routes.len(),
        plan.stop_count(),
        plan.distance_km(),
        plan.cost(),
        plan.unserved.len(),
        plan.iterations,
        if plan.stopped_by_time {
            " (the time limit paced or stopped the search: another run may differ)"
        } else {
            ""
        }
    );
    for r in &plan.routes {
        s.push_str(&format!(
            "  {:<12} {:<8} {:>3} stops  load {:>7.1}/{:<7.1} {:>7.1} km  {}-{}{}{}\n",
            r.vehicle,
            r.warehouse,
            r.stops.len(),
            r.load(),
            r.capacity,
            r.distance_km,
            hhmm(r.depart),
            hhmm(r.back),
            if r.locked { "  locked" } else { "" },
            if r.problems.is_empty() {
                String::new()
            } else {
                format!("  BREAKS: {}", r.problems.join("; "))
            }
        ));
    }
    for u in &plan.unserved {
        s.push_str(&format!("  unserved {} ({}): {}\n", u.order, u.warehouse, u.reason));
    }
    s
}
