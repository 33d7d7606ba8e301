//! The rules of a route, checked apart from the solver that made it:
//! capacity, time windows and the shift, for one route or a whole routing.

use super::vrp::{JobSpec, Matrix, RoutePlan, Routing, VehicleSpec};

/// A rule a route breaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    Capacity {
        load: u64,
        capacity: u32,
    },
    /// Service at job `job` would start at `start`, after `due`.
    Late {
        job: usize,
        start: f64,
        due: f64,
    },
    /// Back at the depot at `back`, after the shift's `end`.
    ShiftEnd {
        back: f64,
        end: f64,
    },
    UnknownJob(usize),
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Capacity { load, capacity } => write!(f, "carries {load} > capacity {capacity}"),
            Violation::Late { job, start, due } => {
                write!(f, "starts job {job} at {start:.2}, after its window closes at {due}")
            }
            Violation::ShiftEnd { back, end } => write!(f, "is back at {back:.2}, after its shift ends at {end}"),
            Violation::UnknownJob(j) => write!(f, "visits unknown job {j}"),
        }
    }
}

/// Every rule one route breaks: capacity, a service started after its
/// window closes, back after the shift ends.
pub fn check_route(matrix: &Matrix, jobs: &[JobSpec], v: &VehicleSpec, r: &RoutePlan) -> Vec<Violation> {
    let mut errors = Vec::new();
    let load: u64 = r
        .visits
        .iter()
        .filter_map(|s| jobs.get(s.job))
        .map(|j| u64::from(j.demand))
        .sum();
    if load > u64::from(v.capacity) {
        errors.push(Violation::Capacity {
            load,
            capacity: v.capacity,
        });
    }
    let (mut at, mut time) = (v.start, v.shift_start.max(r.depart));
    for s in &r.visits {
        let Some(j) = jobs.get(s.job) else {
            errors.push(Violation::UnknownJob(s.job));
            continue;
        };
        let arrive = time + matrix.duration(at, j.location) * v.time_factor;
        let start = arrive.max(j.ready);
        if start > j.due + 1e-6 {
            errors.push(Violation::Late {
                job: s.job,
                start,
                due: j.due,
            });
        }
        time = start + j.service;
        at = j.location;
    }
    let back = time + matrix.duration(at, v.end) * v.time_factor;
    if back > v.shift_end + 1e-6 {
        errors.push(Violation::ShiftEnd { back, end: v.shift_end });
    }
    errors
}

/// Check routes against the rules, independently of the solver: each job
/// at most once (exactly once unless listed as unassigned), loads within
/// capacity, service started within each window, vehicles back before
/// their shift ends. Returns every broken rule.
pub fn check(matrix: &Matrix, jobs: &[JobSpec], vehicles: &[VehicleSpec], routing: &Routing) -> Vec<String> {
    let mut errors = Vec::new();
    let mut seen = vec![0usize; jobs.len()];
    let mut vehicle_used = vec![false; vehicles.len()];
    for r in &routing.routes {
        let Some(v) = vehicles.get(r.vehicle) else {
            errors.push(format!("route for unknown vehicle {}", r.vehicle));
            continue;
        };
        if std::mem::replace(&mut vehicle_used[r.vehicle], true) {
            errors.push(format!("vehicle {} has two routes", v.id));
        }
        errors.extend(
            check_route(matrix, jobs, v, r)
                .into_iter()
                .map(|e| format!("vehicle {} {e}", v.id)),
        );
        for s in &r.visits {
            if let Some(n) = seen.get_mut(s.job) {
                *n += 1;
            }
        }
    }
    let mut listed = vec![false; jobs.len()];
    for (j, _) in &routing.unassigned {
        if let Some(l) = listed.get_mut(*j) {
            *l = true;
        }
    }
    for (j, n) in seen.iter().enumerate() {
        match (*n, listed[j]) {
            (1, false) | (0, true) => {}
            (0, false) => errors.push(format!("job {j} is neither routed nor listed as unserved")),
            (n, _) => errors.push(format!("job {j} is visited {n} times")),
        }
    }
    errors
}
