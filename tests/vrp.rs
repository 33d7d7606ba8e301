//! Routing: the solver's routes obey every rule, checked independently.

use std::path::Path;

use proptest::prelude::*;
use skuplan::plan::solomon::Instance;
use skuplan::plan::vrp::{JobSpec, Matrix, RoutePlan, Routing, Unserved, VehicleSpec, Visit, check, solve};

fn vehicles(n: usize, capacity: u32, end: f64) -> Vec<VehicleSpec> {
    (0..n)
        .map(|i| VehicleSpec {
            id: format!("V{i}"),
            start: 0,
            end: 0,
            shift_start: 0.0,
            shift_end: end,
            capacity,
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
    let r = solve(&m, &jobs, &v, 1).unwrap();
    assert!(check(&m, &jobs, &v, &r).is_empty(), "{:?}", check(&m, &jobs, &v, &r));
    assert!(r.unassigned.is_empty());
    let used: Vec<&RoutePlan> = r.routes.iter().filter(|x| !x.visits.is_empty()).collect();
    assert_eq!(used.len(), 2);
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
    let r = solve(&m, &jobs, &v, 1).unwrap();
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
    let bad = Routing {
        routes: vec![RoutePlan {
            vehicle: 0,
            visits: vec![
                Visit {
                    job: 0,
                    arrival: 10.0,
                    departure: 10.0,
                },
                Visit {
                    job: 0,
                    arrival: 10.0,
                    departure: 10.0,
                },
            ],
        }],
        unassigned: vec![],
        distance: 20.0,
    };
    let e = check(&m, &jobs, &v, &bad).join("\n");
    assert!(e.contains("capacity"), "{e}");
    assert!(e.contains("after its window closes"), "{e}");
    assert!(e.contains("after its shift ends"), "{e}");
    assert!(e.contains("visited 2 times"), "{e}");
}

#[test]
fn reads_the_real_solomon_files() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/solomon/C101.txt");
    if !p.exists() {
        eprintln!("skipped: {} is not here", p.display());
        return;
    }
    let i = Instance::read(&p).unwrap();
    assert_eq!(i.name, "C101");
    assert_eq!((i.vehicles, i.capacity, i.nodes.len()), (25, 200, 101));
    assert_eq!((i.nodes[0].x, i.nodes[0].y, i.nodes[0].due), (40.0, 50.0, 1236.0));
    assert_eq!(i.nodes[100].number, 100);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Random instances: nothing breaks a capacity, a window or a shift, and
    /// every job is served once or listed as unserved.
    #[test]
    fn routes_never_break_the_rules(
        pts in prop::collection::vec((0.0f64..100.0, 0.0f64..100.0, 1u32..30, 0.0f64..300.0, 10.0f64..200.0), 3..25),
        fleet in 1usize..5,
    ) {
        let mut points = vec![(50.0, 50.0)];
        points.extend(pts.iter().map(|p| (p.0, p.1)));
        let m = Matrix::euclidean(&points);
        let jobs: Vec<JobSpec> = pts
            .iter()
            .enumerate()
            .map(|(i, p)| JobSpec { location: i + 1, demand: p.2, ready: p.3, due: p.3 + p.4, service: 10.0 })
            .collect();
        let v = vehicles(fleet, 60, 600.0);
        let r = solve(&m, &jobs, &v, 1).unwrap();
        let problems = check(&m, &jobs, &v, &r);
        prop_assert!(problems.is_empty(), "{:?}", problems);
    }
}
