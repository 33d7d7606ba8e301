//! Routing: the solver's routes obey every rule, checked independently.

mod common;

use proptest::prelude::*;
use skuplan::plan::route_check::check;
use skuplan::plan::solomon::Instance;
use skuplan::plan::vrp::{Budget, JobSpec, Matrix, RoutePlan, Routing, Stop, Unserved, VehicleSpec, Visit, solve};

fn vehicles(n: usize, capacity: u32, end: f64) -> Vec<VehicleSpec> {
    (0..n)
        .map(|i| VehicleSpec {
            id: format!("V{i}"),
            start: 0,
            end: 0,
            shift_start: 0.0,
            shift_end: end,
            capacity,
            time_factor: 1.0,
        })
        .collect()
}

#[test]
fn hand_checked_instance() {
    // Depot at the origin; two customers north, one east. Capacity 10 forces
    // two vehicles: north (6 + 4) and east (7).
    let m = Matrix::euclidean(&[(0.0, 0.0), (0.0, 10.0), (0.0, 20.0), (15.0, 0.0)]);
    let jobs = vec![
        JobSpec {
            location: 1,
            demand: 6,
            ready: 0.0,
            due: 100.0,
            service: 5.0,
        },
        JobSpec {
            location: 2,
            demand: 4,
            ready: 0.0,
            due: 100.0,
            service: 5.0,
        },
        JobSpec {
            location: 3,
            demand: 7,
            ready: 0.0,
            due: 100.0,
            service: 5.0,
        },
    ];
    let v = vehicles(3, 10, 200.0);
    let r = solve(&m, &jobs, &v, Budget::iterations(2000, 7));
    assert!(check(&m, &jobs, &v, &r).is_empty(), "{:?}", check(&m, &jobs, &v, &r));
    assert!(r.unassigned.is_empty());
    let used: Vec<&RoutePlan> = r.routes.iter().collect();
    assert_eq!(used.len(), 2);
    assert_eq!(r.stop, Stop::Iterations);
    // 0-10-20-0 is 40, 0-15-0 is 30.
    assert!((r.distance - 70.0).abs() < 1e-9, "{}", r.distance);
    // Either way round the north route is 40 long; arrivals follow it.
    let north = used.iter().find(|x| x.visits.len() == 2).unwrap();
    let first = jobs[north.visits[0].job].location;
    let (a, b) = if first == 1 { (10.0, 25.0) } else { (20.0, 35.0) };
    assert_eq!((north.visits[0].arrival, north.visits[1].arrival), (a, b));
}

#[test]
fn impossible_jobs_are_listed_with_their_reason() {
    let m = Matrix::euclidean(&[(0.0, 0.0), (5.0, 0.0), (50.0, 0.0)]);
    let jobs = vec![
        JobSpec {
            location: 1,
            demand: 50,
            ready: 0.0,
            due: 100.0,
            service: 0.0,
        },
        JobSpec {
            location: 2,
            demand: 1,
            ready: 0.0,
            due: 10.0,
            service: 0.0,
        },
    ];
    let v = vehicles(2, 10, 500.0);
    let r = solve(&m, &jobs, &v, Budget::iterations(2000, 7));
    assert!(check(&m, &jobs, &v, &r).is_empty());
    let mut un = r.unassigned.clone();
    un.sort_by_key(|u| u.0);
    assert_eq!(un, vec![(0, Unserved::Capacity), (1, Unserved::TimeWindow)]);
}

#[test]
fn the_checker_catches_broken_routes() {
    let m = Matrix::euclidean(&[(0.0, 0.0), (10.0, 0.0)]);
    let jobs = vec![JobSpec {
        location: 1,
        demand: 8,
        ready: 0.0,
        due: 5.0,
        service: 0.0,
    }];
    let v = vehicles(1, 5, 15.0);
    let visit = Visit {
        job: 0,
        arrival: 10.0,
        start: 10.0,
        departure: 10.0,
    };
    let bad = Routing {
        routes: vec![RoutePlan {
            vehicle: 0,
            depart: 0.0,
            back: 20.0,
            visits: vec![visit.clone(), visit],
            distance: 20.0,
        }],
        unassigned: vec![],
        distance: 20.0,
        iterations: 0,
        stop: Stop::Iterations,
    };
    let e = check(&m, &jobs, &v, &bad).join("\n");
    assert!(e.contains("capacity"), "{e}");
    assert!(e.contains("after its window closes"), "{e}");
    assert!(e.contains("after its shift ends"), "{e}");
    assert!(e.contains("visited 2 times"), "{e}");
}

#[test]
fn reads_the_real_solomon_files() {
    let Some(p) = common::shared_data("solomon/C101.txt") else {
        return;
    };
    let i = Instance::read(&p).unwrap();
    assert_eq!(i.name, "C101");
    assert_eq!((i.vehicles, i.capacity, i.nodes.len()), (25, 200, 101));
    assert_eq!((i.nodes[0].x, i.nodes[0].y, i.nodes[0].due), (40.0, 50.0, 1236.0));
    assert_eq!(i.nodes[100].number, 100);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Random instances and mixed fleets: nothing breaks a capacity, a
    /// window or a shift; every job is served once or listed as unserved,
    /// and a job called too heavy or out of reach really is.
    #[test]
    fn routes_never_break_the_rules(
        pts in prop::collection::vec((0.0f64..100.0, 0.0f64..100.0, 1u32..70, 0.0f64..300.0, 10.0f64..200.0), 3..25),
        fleet in prop::collection::vec((20u32..80, 1.0f64..2.0, 300.0f64..700.0), 1..5),
        seed in 0u64..1000,
    ) {
        let mut points = vec![(50.0, 50.0)];
        points.extend(pts.iter().map(|p| (p.0, p.1)));
        let m = Matrix::euclidean(&points);
        let jobs: Vec<JobSpec> = pts
            .iter()
            .enumerate()
            .map(|(i, p)| JobSpec { location: i + 1, demand: p.2, ready: p.3, due: p.3 + p.4, service: 10.0 })
            .collect();
        let v: Vec<VehicleSpec> = fleet
            .iter()
            .enumerate()
            .map(|(i, f)| VehicleSpec {
                id: format!("V{i}"),
                start: 0,
                end: 0,
                shift_start: 0.0,
                shift_end: f.2,
                capacity: f.0,
                time_factor: f.1,
            })
            .collect();
        let r = solve(&m, &jobs, &v, Budget::iterations(300, seed));
        let problems = check(&m, &jobs, &v, &r);
        prop_assert!(problems.is_empty(), "{:?}", problems);
        for (j, why) in &r.unassigned {
            match why {
                Unserved::Capacity => prop_assert!(v.iter().all(|x| x.capacity < jobs[*j].demand)),
                Unserved::TimeWindow => prop_assert_eq!(skuplan::plan::vrp::explain(&m, &jobs[*j], &v), Some(Unserved::TimeWindow)),
                Unserved::FleetFull => prop_assert_eq!(skuplan::plan::vrp::explain(&m, &jobs[*j], &v), None),
            }
        }
    }
}

/// A random instance on a 100 x 100 square around a central depot.
fn random_instance(n: usize, seed: u64) -> (Matrix, Vec<JobSpec>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut points = vec![(50.0, 50.0)];
    let mut jobs = Vec::new();
    for i in 0..n {
        points.push((rng.random_range(0.0..100.0), rng.random_range(0.0..100.0)));
        let ready = rng.random_range(0.0..400.0);
        jobs.push(JobSpec {
            location: i + 1,
            demand: rng.random_range(1..20),
            ready,
            due: ready + rng.random_range(30.0..200.0),
            service: 10.0,
        });
    }
    (Matrix::euclidean(&points), jobs)
}

#[test]
fn the_same_seed_gives_the_same_routes() {
    let (m, jobs) = random_instance(60, 3);
    let v = vehicles(12, 80, 800.0);
    let a = solve(&m, &jobs, &v, Budget::iterations(3000, 11));
    let b = solve(&m, &jobs, &v, Budget::iterations(3000, 11));
    assert_eq!(a, b);
    assert!(check(&m, &jobs, &v, &a).is_empty());
    // Another seed searches differently (and is just as valid).
    let c = solve(&m, &jobs, &v, Budget::iterations(3000, 12));
    assert!(check(&m, &jobs, &v, &c).is_empty());
    assert_eq!(a.iterations, 3000);
}

#[test]
fn a_fleet_too_small_leaves_orders_out_with_that_reason() {
    // Three orders of 6 and one vehicle of capacity 10: one fits, two stay.
    let m = Matrix::euclidean(&[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]);
    let jobs: Vec<JobSpec> = (1..4)
        .map(|l| JobSpec {
            location: l,
            demand: 6,
            ready: 0.0,
            due: 100.0,
            service: 1.0,
        })
        .collect();
    let v = vehicles(1, 10, 100.0);
    let r = solve(&m, &jobs, &v, Budget::iterations(500, 1));
    assert!(check(&m, &jobs, &v, &r).is_empty());
    assert_eq!(r.routes.len(), 1);
    assert_eq!(r.routes[0].visits.len(), 1);
    assert_eq!(r.unassigned.len(), 2);
    assert!(r.unassigned.iter().all(|u| u.1 == Unserved::FleetFull));
}

#[test]
fn a_slower_vehicle_takes_longer_and_the_checker_knows_it() {
    // One stop 30 away that closes at 40: a vehicle at half speed (factor
    // 2) cannot reach it, so it is out of reach for the whole fleet.
    let m = Matrix::euclidean(&[(0.0, 0.0), (30.0, 0.0)]);
    let jobs = vec![JobSpec {
        location: 1,
        demand: 1,
        ready: 0.0,
        due: 40.0,
        service: 0.0,
    }];
    let mut v = vehicles(1, 10, 500.0);
    v[0].time_factor = 2.0;
    let r = solve(&m, &jobs, &v, Budget::iterations(100, 1));
    assert_eq!(r.unassigned, vec![(0, Unserved::TimeWindow)]);
    v[0].time_factor = 1.0;
    let r = solve(&m, &jobs, &v, Budget::iterations(100, 1));
    assert_eq!(r.routes[0].visits[0].arrival, 30.0);
    // The same route is late for the slow vehicle.
    v[0].time_factor = 2.0;
    assert!(!check(&m, &jobs, &v, &r).is_empty());
}

#[test]
fn waits_for_a_window_and_leaves_the_depot_late_enough() {
    // The only stop opens at 100 and is 10 away: leave at 90, not at 0.
    let m = Matrix::euclidean(&[(0.0, 0.0), (10.0, 0.0)]);
    let jobs = vec![JobSpec {
        location: 1,
        demand: 1,
        ready: 100.0,
        due: 120.0,
        service: 5.0,
    }];
    let v = vehicles(1, 10, 500.0);
    let r = solve(&m, &jobs, &v, Budget::iterations(50, 1));
    let route = &r.routes[0];
    assert_eq!(route.depart, 90.0);
    assert_eq!(
        (
            route.visits[0].arrival,
            route.visits[0].start,
            route.visits[0].departure
        ),
        (100.0, 100.0, 105.0)
    );
    assert_eq!(route.back, 115.0);
}

/// The search minimises distance; the day's cost then hands the longest
/// routes to the cheapest vehicles alike in depot, shift and speed that
/// have room for them (a re-plan gave a 125 km route to the dearest van).
#[test]
fn routes_go_to_the_cheapest_alike_vehicles_with_room() {
    use skuplan::plan::vrp_cost::cheapest_vehicles;
    let mut fleet = vehicles(3, 100, 600.0);
    fleet[2].capacity = 10;
    let job = |demand| JobSpec {
        location: 1,
        demand,
        ready: 0.0,
        due: 600.0,
        service: 0.0,
    };
    let jobs = vec![job(50), job(5)];
    let route = |vehicle, job, distance| RoutePlan {
        vehicle,
        depart: 0.0,
        back: 10.0,
        visits: vec![Visit {
            job,
            arrival: 1.0,
            start: 1.0,
            departure: 1.0,
        }],
        distance,
    };
    let routing = |routes: Vec<RoutePlan>| Routing {
        distance: routes.iter().map(|r| r.distance).sum(),
        routes,
        unassigned: Vec::new(),
        iterations: 0,
        stop: Stop::Iterations,
    };
    // Vehicle 0 dear, 1 cheap, 2 cheapest but small.
    let costs = [0.65, 0.45, 0.30];
    let mut r = routing(vec![route(1, 1, 20.0), route(0, 0, 125.0)]);
    cheapest_vehicles(&mut r, &jobs, &fleet, &costs);
    // The long heavy route takes the cheap van with room; the light one
    // the cheapest small one.
    assert_eq!(r.routes[1].vehicle, 1);
    assert_eq!(r.routes[0].vehicle, 2);
    // A vehicle of another shift is never given a route.
    let mut other = fleet.clone();
    other[1].shift_end = 300.0;
    other[2].shift_end = 300.0;
    let mut r = routing(vec![route(0, 0, 125.0)]);
    cheapest_vehicles(&mut r, &jobs, &other, &costs);
    assert_eq!(r.routes[0].vehicle, 0);
}
