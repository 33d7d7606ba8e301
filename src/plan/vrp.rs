//! Vehicle routing with time windows, capacities and shifts, solved by
//! vrp-core behind our own small types: locations by index into a distance
//! matrix, jobs with a demand, service time and a time window, vehicles
//! with a depot, a shift and a capacity. The rest of skuplan never sees
//! vrp-core's types.
//!
//! Limits of the library (1.25), see the crate's issues #136 and #147: its
//! search is not deterministic, even with its repeatable random source.

use std::sync::Arc;

use vrp_core::construction::features::create_minimize_tours_feature;
use vrp_core::construction::heuristics::UnassignmentInfo;
use vrp_core::models::Goal;
use vrp_core::models::common::TimeWindow;
use vrp_core::models::problem::{JobIdDimension, VehicleIdDimension};
use vrp_core::prelude::*;
use vrp_core::rosomaxa::evolution::TelemetryMode;
use vrp_core::rosomaxa::utils::{Parallelism, TimeQuota};

/// A delivery: where, how much, when, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Index into the matrix.
    pub location: usize,
    pub demand: u32,
    /// Service may start from `ready` to `due` (same unit as the matrix's
    /// durations).
    pub ready: f64,
    pub due: f64,
    pub service: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VehicleSpec {
    pub id: String,
    pub start: usize,
    pub end: usize,
    pub shift_start: f64,
    pub shift_end: f64,
    pub capacity: u32,
}

/// A square matrix of travel distances and durations, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub size: usize,
    pub distance: Vec<f64>,
    pub duration: Vec<f64>,
}

impl Matrix {
    /// Euclidean distances between points; duration equal to distance (the
    /// Solomon convention: one unit of distance takes one unit of time).
    pub fn euclidean(points: &[(f64, f64)]) -> Matrix {
        let d: Vec<f64> = points
            .iter()
            .flat_map(|a| points.iter().map(move |b| (a.0 - b.0).hypot(a.1 - b.1)))
            .collect();
        Matrix {
            size: points.len(),
            distance: d.clone(),
            duration: d,
        }
    }

    pub fn distance(&self, a: usize, b: usize) -> f64 {
        self.distance[a * self.size + b]
    }

    pub fn duration(&self, a: usize, b: usize) -> f64 {
        self.duration[a * self.size + b]
    }
}

/// One stop of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// Index into the jobs.
    pub job: usize,
    pub arrival: f64,
    pub departure: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutePlan {
    /// Index into the vehicles.
    pub vehicle: usize,
    pub visits: Vec<Visit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub routes: Vec<RoutePlan>,
    /// Jobs no vehicle could take, with the constraint that stopped them.
    pub unassigned: Vec<(usize, Unserved)>,
    /// Total distance of the routes.
    pub distance: f64,
}

/// Why a job was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unserved {
    /// No vehicle reaches it within its window and shift.
    TimeWindow,
    /// Too heavy for every vehicle that could go.
    Capacity,
    Unknown,
}

const TIME_CODE: ViolationCode = ViolationCode(1);
const CAPACITY_CODE: ViolationCode = ViolationCode(2);

/// Solve: fewest unserved jobs first, then fewest vehicles, then distance;
/// stop after `seconds`.
pub fn solve(matrix: &Matrix, jobs: &[JobSpec], vehicles: &[VehicleSpec], seconds: usize) -> GenericResult<Routing> {
    let transport: Arc<dyn TransportCost> = Arc::new(SimpleTransportCost::new(
        matrix.duration.clone(),
        matrix.distance.clone(),
    )?);
    let features = vec![
        MinimizeUnassignedBuilder::new("min_unassigned").build()?,
        create_minimize_tours_feature("min_tours")?,
        TransportFeatureBuilder::new("min_distance")
            .set_transport_cost(transport.clone())
            .set_time_constrained(true)
            .set_violation_code(TIME_CODE)
            .build_minimize_distance()?,
        CapacityFeatureBuilder::<SingleDimLoad>::new("capacity")
            .set_violation_code(CAPACITY_CODE)
            .build()?,
    ];
    let goal = GoalContextBuilder::with_features(&features)?
        .set_main_goal(Goal::subset_of(
            &features,
            &["min_unassigned", "min_tours", "min_distance"],
        )?)
        .add_alternative_goal(Goal::subset_of(&features, &["min_unassigned", "min_distance"])?, 0.1)
        .build()?;

    let core_jobs = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            SingleBuilder::default()
                .id(&i.to_string())
                .demand(Demand::delivery(i32::try_from(j.demand).unwrap_or(i32::MAX)))
                .location(j.location)?
                .duration(j.service)?
                .times(vec![TimeWindow::new(j.ready, j.due)])?
                .build_as_job()
        })
        .collect::<GenericResult<Vec<_>>>()?;
    let core_vehicles = vehicles
        .iter()
        .enumerate()
        .map(|(i, v)| {
            VehicleBuilder::default()
                .id(&i.to_string())
                .capacity(SingleDimLoad::new(i32::try_from(v.capacity).unwrap_or(i32::MAX)))
                .add_detail(
                    VehicleDetailBuilder::default()
                        .set_start_location(v.start)
                        .set_start_time(v.shift_start)
                        .set_end_location(v.end)
                        .set_end_time(v.shift_end)
                        .build()?,
                )
                .build()
        })
        .collect::<GenericResult<Vec<_>>>()?;

    let quiet: InfoLogger = Arc::new(|_: &str| {});
    let problem = Arc::new(
        ProblemBuilder::default()
            .add_jobs(core_jobs.into_iter())
            .add_vehicles(core_vehicles.into_iter())
            .with_goal(goal)
            .with_transport_cost(transport)
            .with_logger(quiet.clone())
            .build()?,
    );
    let environment = Arc::new(Environment::new(
        Arc::new(DefaultRandom::new_repeatable()),
        Some(Arc::new(TimeQuota::new(seconds as Float))),
        Parallelism::default(),
        quiet,
        false,
    ));
    let config = VrpConfigBuilder::new(problem.clone())
        .set_environment(environment)
        .set_telemetry_mode(TelemetryMode::None)
        .prebuild()?
        .with_max_time(Some(seconds.max(1)))
        .build()?;
    let solution = Solver::new(problem, config).solve()?;

    let mut routes = Vec::new();
    let mut distance = 0.0;
    for r in &solution.routes {
        let vehicle = r
            .actor
            .vehicle
            .dimens
            .get_vehicle_id()
            .and_then(|id| id.parse::<usize>().ok())
            .ok_or("a route without a vehicle")?;
        let acts: Vec<_> = r.tour.all_activities().collect();
        for w in acts.windows(2) {
            distance += matrix.distance(w[0].place.location, w[1].place.location);
        }
        let visits = acts
            .iter()
            .filter_map(|a| {
                let job = a.job.as_ref()?;
                let index = job.dimens.get_job_id()?.parse::<usize>().ok()?;
                Some(Visit {
                    job: index,
                    arrival: a.schedule.arrival,
                    departure: a.schedule.departure,
                })
            })
            .collect();
        routes.push(RoutePlan { vehicle, visits });
    }
    let unassigned = solution
        .unassigned
        .iter()
        .filter_map(|(job, info)| {
            let index = job.dimens().get_job_id()?.parse::<usize>().ok()?;
            let code = match info {
                UnassignmentInfo::Simple(c) => Some(*c),
                UnassignmentInfo::Detailed(v) => v.first().map(|(_, c)| *c),
                UnassignmentInfo::Unknown => None,
            };
            // Our own reading first: it does not depend on which constraint
            // the solver happened to try last.
            let why = explain(matrix, jobs.get(index)?, vehicles).unwrap_or(match code {
                Some(c) if c == TIME_CODE => Unserved::TimeWindow,
                Some(c) if c == CAPACITY_CODE => Unserved::Capacity,
                _ => Unserved::Unknown,
            });
            Some((index, why))
        })
        .collect();
    routes.sort_by_key(|r| r.vehicle);
    Ok(Routing {
        routes,
        unassigned,
        distance,
    })
}

/// Why no vehicle could ever serve this job alone, if that is so: too
/// heavy for every vehicle, or out of reach of every shift within its
/// window. `None` when some vehicle could (the job fell out for the sake of
/// the others).
pub fn explain(matrix: &Matrix, job: &JobSpec, vehicles: &[VehicleSpec]) -> Option<Unserved> {
    if vehicles.iter().all(|v| v.capacity < job.demand) {
        return Some(Unserved::Capacity);
    }
    let reachable = vehicles.iter().filter(|v| v.capacity >= job.demand).any(|v| {
        let start = (v.shift_start + matrix.duration(v.start, job.location)).max(job.ready);
        start <= job.due && start + job.service + matrix.duration(job.location, v.end) <= v.shift_end
    });
    (!reachable).then_some(Unserved::TimeWindow)
}

/// Check routes against the rules, independently of the solver: each job
/// at most once (exactly once unless listed as unassigned), loads within
/// capacity, service started within each window, vehicles back before
/// their shift ends. Returns every broken rule.
pub fn check(matrix: &Matrix, jobs: &[JobSpec], vehicles: &[VehicleSpec], routing: &Routing) -> Vec<String> {
    let mut errors = Vec::new();
    let mut seen = vec![0usize; jobs.len()];
    for r in &routing.routes {
        let Some(v) = vehicles.get(r.vehicle) else {
            errors.push(format!("route for unknown vehicle {}", r.vehicle));
            continue;
        };
        let load: u64 = r.visits.iter().map(|s| u64::from(jobs[s.job].demand)).sum();
        if load > u64::from(v.capacity) {
            errors.push(format!("vehicle {} carries {load} > capacity {}", v.id, v.capacity));
        }
        let (mut at, mut time) = (v.start, v.shift_start);
        for s in &r.visits {
            let Some(j) = jobs.get(s.job) else {
                errors.push(format!("unknown job {}", s.job));
                continue;
            };
            seen[s.job] += 1;
            let arrive = time + matrix.duration(at, j.location);
            let start = arrive.max(j.ready);
            if start > j.due + 1e-6 {
                errors.push(format!(
                    "vehicle {} starts job {} at {start:.2}, after its window closes at {}",
                    v.id, s.job, j.due
                ));
            }
            time = start + j.service;
            at = j.location;
        }
        let back = time + matrix.duration(at, v.end);
        if back > v.shift_end + 1e-6 {
            errors.push(format!(
                "vehicle {} is back at {back:.2}, after its shift ends at {}",
                v.id, v.shift_end
            ));
        }
    }
    let unassigned: Vec<usize> = routing.unassigned.iter().map(|u| u.0).collect();
    for (j, n) in seen.iter().enumerate() {
        match (*n, unassigned.contains(&j)) {
            (1, false) | (0, true) => {}
            (0, false) => errors.push(format!("job {j} is neither routed nor listed as unserved")),
            (n, _) => errors.push(format!("job {j} is visited {n} times")),
        }
    }
    errors
}
