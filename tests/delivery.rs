//! Delivery plans from orders and a fleet: feasible, repeatable, editable,
//! approvable and exported, through the library and the binary.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use chrono::NaiveDate;
use proptest::prelude::*;
use skuplan::domain::{Dataset, DeliveryOrder, Location, Vehicle, Warehouse};
use skuplan::plan::approval::{Action, Record, replay};
use skuplan::plan::delivery::{
    self, DeliveryExportRow, DeliveryPlan, DeliveryProblem, DeliverySettings, PLAN, RoadMatrix, delivery_rows,
};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn order(id: &str, wh: &str, lat: f64, lon: f64, qty: f64, ready: u32, due: u32) -> DeliveryOrder {
    DeliveryOrder {
        id: id.into(),
        warehouse: wh.into(),
        customer: Some(format!("C-{id}")),
        location: Location::LatLon { lat, lon },
        quantity: qty,
        date: Some(day()),
        ready_min: ready,
        due_min: due,
        service_min: 10,
    }
}

fn vehicle(id: &str, wh: &str, capacity: f64) -> Vehicle {
    Vehicle {
        id: id.into(),
        warehouse: wh.into(),
        capacity,
        shift_start_min: 8 * 60,
        shift_end_min: 18 * 60,
        speed_kmh: 40.0,
        cost_per_km: 0.5,
    }
}

/// Two warehouses with their own orders and vans, one order too heavy for
/// any van, one whose window closes before anyone can get there, one from
/// a warehouse without vans.
fn dataset() -> Dataset {
    let mut orders = Vec::new();
    for i in 0..12 {
        let f = f64::from(i);
        orders.push(order(
            &format!("L{i:02}"),
            "LON",
            51.45 + 0.02 * (f % 4.0),
            -0.3 + 0.05 * (f / 4.0),
            20.0,
            8 * 60,
            17 * 60,
        ));
    }
    for i in 0..6 {
        let f = f64::from(i);
        orders.push(order(
            &format!("M{i:02}"),
            "MAN",
            53.4 + 0.02 * f,
            -2.3,
            30.0,
            9 * 60,
            12 * 60 + 30 * i,
        ));
    }
    orders.push(order("HEAVY", "LON", 51.5, -0.2, 500.0, 8 * 60, 17 * 60));
    orders.push(order("EARLY", "LON", 52.4, -0.2, 1.0, 8 * 60, 8 * 60 + 5));
    orders.push(order("NOVAN", "BHX", 52.5, -1.7, 1.0, 8 * 60, 17 * 60));
    let mut other_day = order("TOMORROW", "LON", 51.5, -0.2, 1.0, 8 * 60, 17 * 60);
    other_day.date = NaiveDate::from_ymd_opt(2026, 11, 29);
    orders.push(other_day);
    Dataset {
        warehouses: vec![
            Warehouse {
                id: "LON".into(),
                name: "London".into(),
                lat: Some(51.5),
                lon: Some(-0.27),
                x: None,
                y: None,
            },
            Warehouse {
                id: "MAN".into(),
                name: "Manchester".into(),
                lat: Some(53.46),
                lon: Some(-2.32),
                x: None,
                y: None,
            },
            Warehouse {
                id: "BHX".into(),
                name: "Birmingham".into(),
                lat: Some(52.5),
                lon: Some(-1.7),
                x: None,
                y: None,
            },
        ],
        orders,
        fleet: vec![
            vehicle("LON-1", "LON", 100.0),
            vehicle("LON-2", "LON", 100.0),
            vehicle("LON-3", "LON", 100.0),
            vehicle("MAN-1", "MAN", 200.0),
        ],
        ..Dataset::default()
    }
}

fn settings() -> DeliverySettings {
    DeliverySettings {
        date: Some(day()),
        seconds: 60.0,
        iterations: Some(5_000),
        seed: 3,
    }
}

fn planned() -> (DeliveryProblem, DeliveryPlan) {
    let problem = DeliveryProblem::build(&dataset(), Some(day()), None).unwrap();
    let plan = delivery::plan(&problem, &settings(), None);
    (problem, plan)
}

/// Every stop within its window, loads within capacity, back in shift,
/// loads falling stop by stop, each order of the day once.
fn assert_sound(ds: &Dataset, plan: &DeliveryPlan) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in &plan.routes {
        assert!(r.problems.is_empty(), "{}: {:?}", r.vehicle, r.problems);
        let v = ds.fleet.iter().find(|v| v.id == r.vehicle).unwrap();
        assert!(r.load() <= v.capacity + 1e-9);
        assert!(r.depart >= f64::from(v.shift_start_min) - 1e-9);
        assert!(r.back <= f64::from(v.shift_end_min) + 1e-9);
        let mut onboard = r.load();
        let mut t = r.depart;
        for s in &r.stops {
            assert!(s.arrival >= t - 1e-9);
            assert!(s.start >= s.ready - 1e-9 && s.start <= s.due + 1e-9, "{s:?}");
            onboard -= s.quantity;
            assert!((s.load_after - onboard).abs() < 1e-6);
            t = s.departure;
            *seen.entry(&s.order).or_default() += 1;
        }
    }
    for u in &plan.unserved {
        assert!(!u.reason.is_empty());
        *seen.entry(&u.order).or_default() += 1;
    }
    for o in ds.orders.iter().filter(|o| o.date == Some(day())) {
        assert_eq!(seen.get(o.id.as_str()), Some(&1), "order {}", o.id);
    }
    assert!(!seen.contains_key("TOMORROW"));
}

#[test]
fn plans_every_order_once_or_says_why_not() {
    let (_, plan) = planned();
    let ds = dataset();
    assert_sound(&ds, &plan);
    let why: HashMap<&str, &str> = plan
        .unserved
        .iter()
        .map(|u| (u.order.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(why["HEAVY"].contains("too heavy"), "{why:?}");
    assert!(why["EARLY"].contains("window"), "{why:?}");
    assert!(why["NOVAN"].contains("no vehicle is based at BHX"), "{why:?}");
    // 240 units of London orders in vans of 100: three vans, no fewer.
    assert_eq!(plan.routes.iter().filter(|r| r.warehouse == "LON").count(), 3);
    assert!(!plan.stopped_by_time);
}

#[test]
fn the_same_seed_gives_the_same_plan() {
    let (_, a) = planned();
    let (_, b) = planned();
    assert_eq!(a, b);
}

#[test]
fn moving_an_order_locks_the_route_and_replanning_keeps_it() {
    let (problem, plan) = planned();
    let ds = dataset();
    let from = plan.routes.iter().find(|r| r.warehouse == "LON").unwrap();
    let moving = from.stops[0].order.clone();
    let to = plan
        .routes
        .iter()
        .find(|r| r.warehouse == "LON" && r.vehicle != from.vehicle && r.load() + 20.0 <= 100.0)
        .map(|r| r.vehicle.clone())
        .expect("a London van with room");
    let moved = delivery::move_order(&problem, &plan, &moving, &to, None).unwrap();
    assert_sound(&ds, &moved);
    let route = moved.route(&to).unwrap();
    assert!(route.locked);
    assert!(route.stops.iter().any(|s| s.order == moving));
    // Re-planning keeps the locked route exactly.
    let again = delivery::plan(&problem, &settings(), Some(&moved));
    assert_eq!(again.route(&to), moved.route(&to));
    assert_sound(&ds, &again);
    // Unlocked and re-planned, the solver is free again.
    let mut unlocked = moved.clone();
    delivery::set_locked(&mut unlocked, &to, false).unwrap();
    let free = delivery::plan(&problem, &settings(), Some(&unlocked));
    assert!(free.routes.iter().all(|r| !r.locked));
}

#[test]
fn impossible_moves_are_refused_with_the_rule() {
    let (problem, plan) = planned();
    let full = plan
        .routes
        .iter()
        .find(|r| r.warehouse == "LON" && r.load() > 80.0)
        .unwrap();
    let other = plan
        .routes
        .iter()
        .find(|r| r.warehouse == "LON" && r.vehicle != full.vehicle)
        .unwrap();
    // Too much for a nearly full van.
    let heavy_enough: Vec<_> = other.stops.iter().map(|s| s.order.clone()).collect();
    let mut p = plan.clone();
    let mut refused = None;
    for o in heavy_enough {
        match delivery::move_order(&problem, &p, &o, &full.vehicle, None) {
            Ok(next) => p = next,
            Err(e) => {
                refused = Some(e.to_string());
                break;
            }
        }
    }
    let e = refused.expect("a van of 100 cannot take every London order");
    assert!(e.contains("capacity"), "{e}");
    let e = delivery::move_order(&problem, &plan, "M00", "LON-1", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ships from MAN"), "{e}");
    let e = delivery::move_order(&problem, &plan, "L00", "NOPE", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no vehicle called NOPE"), "{e}");
}

#[test]
fn approvals_follow_the_route_and_export_lists_approved_stops() {
    let (problem, plan) = planned();
    let r0 = &plan.routes[0];
    let records = vec![Record::new(PLAN, plan.key(r0), r0.fingerprint(), Action::Approve, None)];
    let d = replay(&records, PLAN);
    let rows = delivery_rows(&plan, &d, false);
    assert_eq!(rows.len(), r0.stops.len());
    assert!(rows.iter().all(|r| r.vehicle == r0.vehicle && r.state == "approved"));
    assert_eq!(rows[0].seq, 1);
    assert_eq!(rows[0].arrival.len(), 5);
    // A changed route needs a fresh look.
    let mover = plan
        .routes
        .iter()
        .find(|r| r.vehicle != r0.vehicle && r.warehouse == r0.warehouse)
        .and_then(|r| r.stops.first())
        .map(|s| s.order.clone());
    if let Some(o) = mover
        && let Ok(changed) = delivery::move_order(&problem, &plan, &o, &r0.vehicle, None)
    {
        assert!(delivery_rows(&changed, &d, false).is_empty());
        let all = delivery_rows(&changed, &d, true);
        assert!(all.iter().any(|r| r.state == "review"));
    }
    // An approval recorded before the orders' contents joined the
    // fingerprint (the sequence alone) cannot tell whether they changed
    // since: the route asks for a fresh look.
    let legacy = vec![Record::new(
        PLAN,
        plan.key(r0),
        r0.order_sequence(),
        Action::Approve,
        None,
    )];
    let rows = delivery_rows(&plan, &replay(&legacy, PLAN), true);
    let r0_rows: Vec<_> = rows.iter().filter(|r| r.vehicle == r0.vehicle).collect();
    assert!(r0_rows.iter().all(|r| r.state == "review"), "{r0_rows:?}");
    // The same route with an order's quantity changed is another route.
    let mut more = r0.clone();
    more.stops[0].quantity += 1.0;
    assert_ne!(more.fingerprint(), r0.fingerprint());
    assert_eq!(more.order_sequence(), r0.order_sequence());
}

/// A re-plan may hand a rejected route, stop for stop, to a twin vehicle
/// (same capacity and shift): it stays rejected there (it came back as
/// "proposed"), with the rejection's author; an approval stays with its
/// vehicle.
#[test]
fn a_rejected_route_on_a_twin_vehicle_is_still_rejected() {
    use skuplan::plan::approval::State;
    let (_, plan) = planned();
    let r0 = plan.routes.iter().find(|r| !r.stops.is_empty()).unwrap().clone();
    let mut twin = r0.clone();
    twin.vehicle = format!("{}-TWIN", r0.vehicle);
    let mut again = plan.clone();
    again.routes.push(twin.clone());
    let decided = |action: Action| {
        replay(
            &[Record::new(PLAN, plan.key(&r0), r0.fingerprint(), action, None)],
            PLAN,
        )
    };
    let (state, review, d) = delivery::route_state(&again, &twin, &decided(Action::Reject));
    assert_eq!((state, review), (State::Rejected, false));
    assert!(d.is_some_and(|d| d.user.is_some()));
    assert!(
        delivery_rows(&again, &decided(Action::Reject), true)
            .iter()
            .filter(|r| r.vehicle == twin.vehicle)
            .all(|r| r.state == "rejected")
    );
    assert_eq!(
        delivery::route_state(&again, &twin, &decided(Action::Approve)).0,
        State::Proposed
    );
    // Another day's rejection is not this day's.
    let mut other_day = again.clone();
    other_day.date = other_day.date.map(|d| d.succ_opt().unwrap());
    assert_eq!(
        delivery::route_state(&other_day, &twin, &decided(Action::Reject)).0,
        State::Proposed
    );
}

#[test]
fn a_road_matrix_replaces_straight_lines_and_gaps_in_it_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset {
        orders: vec![order("A", "W", 0.0, 0.1, 1.0, 0, 1440)],
        fleet: vec![vehicle("V", "W", 10.0)],
        warehouses: vec![Warehouse {
            id: "W".into(),
            name: "W".into(),
            lat: Some(0.0),
            lon: Some(0.0),
            x: None,
            y: None,
        }],
        ..Dataset::default()
    };
    let p = dir.path().join("m.csv");
    fs::write(&p, "from,to,distance_km,duration_min\nW,A,30,45\nA,W,32,50\n").unwrap();
    let m = RoadMatrix::read(&p).unwrap();
    let problem = DeliveryProblem::build(&ds, Some(day()), Some(&m)).unwrap();
    let plan = delivery::plan(&problem, &settings(), None);
    assert!((plan.distance_km() - 62.0).abs() < 1e-9);
    let r = &plan.routes[0];
    assert!((r.stops[0].arrival - r.depart - 45.0).abs() < 1e-9);
    fs::write(&p, "from,to,distance_km,duration_min\nW,A,30,45\n").unwrap();
    let e = DeliveryProblem::build(&ds, Some(day()), Some(&RoadMatrix::read(&p).unwrap()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no leg from A to W"), "{e}");
    fs::write(&p, "from,to,distance_km,duration_min\nW,A,far,45\n").unwrap();
    let e = format!("{:#}", RoadMatrix::read(&p).unwrap_err());
    assert!(e.contains("row 2, column distance_km: 'far'"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Random orders and vans: no route breaks a rule, and every order is
    /// on exactly one route or listed as unserved with a reason.
    #[test]
    fn random_days_are_always_sound(
        orders in prop::collection::vec((0.0f64..0.5, 0.0f64..0.5, 1.0f64..60.0, 480u32..900, 30u32..400), 1..30),
        vans in prop::collection::vec(20.0f64..150.0, 1..4),
        seed in 0u64..100,
    ) {
        let ds = Dataset {
            warehouses: vec![Warehouse { id: "W".into(), name: "W".into(), lat: Some(51.25), lon: Some(0.25), x: None, y: None }],
            orders: orders
                .iter()
                .enumerate()
                .map(|(i, o)| order(&format!("O{i}"), "W", 51.0 + o.0, o.1, o.2, o.3, o.3 + o.4))
                .collect(),
            fleet: vans.iter().enumerate().map(|(i, c)| vehicle(&format!("V{i}"), "W", *c)).collect(),
            ..Dataset::default()
        };
        let problem = DeliveryProblem::build(&ds, Some(day()), None).unwrap();
        let plan = delivery::plan(&problem, &DeliverySettings { seed, iterations: Some(400), ..settings() }, None);
        assert_sound(&ds, &plan);
    }
}

// ------------------------------------------------------------- the binary

fn skuplan(home: &Path) -> Command {
    let mut c = Command::cargo_bin("skuplan").unwrap();
    c.env("SKUPLAN_HOME", home)
        .env("USER", "alice")
        .env_remove("SKUPLAN_CONFIG");
    c
}

#[test]
fn plan_approve_and_export_deliveries_headless() {
    let home = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let all = home.path().join("all.csv");
    let out = skuplan(home.path())
        .args([
            "plan",
            "deliveries",
            "--date",
            "2026-11-28",
            "--iterations",
            "20000",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&all)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("deliveries for 2026-11-28"), "{text}");
    let read = |p: &Path| -> Vec<DeliveryExportRow> {
        csv::Reader::from_path(p)
            .unwrap()
            .deserialize()
            .map(|r| r.unwrap())
            .collect()
    };
    let rows = read(&all);
    let orders = fs::read_to_string(data.join("orders.csv")).unwrap().lines().count() - 1;
    assert_eq!(rows.len(), orders, "every sample order is routed");
    assert!(rows.iter().all(|r| r.state == "proposed" && r.lat.is_some()));
    let header = fs::read_to_string(&all).unwrap();
    assert!(header.starts_with(
        "date,warehouse,vehicle,seq,order,customer,lat,lon,x,y,arrival,service_start,departure,quantity,load_after,state"
    ));
    // Approve one van; only its stops are exported.
    let van = rows[0].vehicle.clone();
    skuplan(home.path())
        .args(["approve", "deliveries", "--vehicle", &van])
        .assert()
        .success();
    let approved = home.path().join("approved.csv");
    skuplan(home.path())
        .args(["export", "deliveries", "--out"])
        .arg(&approved)
        .assert()
        .success();
    let got = read(&approved);
    assert!(!got.is_empty());
    assert!(
        got.iter()
            .all(|r| r.vehicle == van && r.state == "approved" && r.approver == "alice")
    );
    // Lock it, re-optimise the rest: the approval still holds.
    skuplan(home.path())
        .args(["deliveries", "lock", &van])
        .assert()
        .success();
    skuplan(home.path())
        .args(["deliveries", "reoptimise", "--iterations", "5000", "--seed", "9"])
        .assert()
        .success();
    skuplan(home.path())
        .args(["export", "deliveries", "--out"])
        .arg(&approved)
        .assert()
        .success();
    assert_eq!(read(&approved), got);
    // Unlocked but approved, it is kept as well, and left unlocked.
    skuplan(home.path())
        .args(["deliveries", "unlock", &van])
        .assert()
        .success();
    let out = skuplan(home.path())
        .args(["deliveries", "reoptimise", "--iterations", "5000", "--seed", "11"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(&format!("1 approved routes kept as they were: {van}")),
        "{text}"
    );
    skuplan(home.path())
        .args(["export", "deliveries", "--out"])
        .arg(&approved)
        .assert()
        .success();
    assert_eq!(read(&approved), got);
    let saved: skuplan::plan::delivery::DeliveryPlan =
        serde_json::from_str(&fs::read_to_string(home.path().join("data/workspace/plans/deliveries.json")).unwrap())
            .unwrap();
    assert!(!saved.route(&van).unwrap().locked);
    // A bad request says what is wrong.
    skuplan(home.path())
        .args(["deliveries", "move", "NOPE", "--to", &van])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no open order NOPE"));
}

/// `plan deliveries --date DATE` on `data`, its output.
fn plan_day(home: &Path, data: &Path, date: &str) -> String {
    let out = skuplan(home)
        .args(["plan", "deliveries", "--date", date, "--iterations", "2000", "--data"])
        .arg(data)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// A plan made from a command's `--data` is not planned over from other
/// data (the workspace's) while it has the planner's work on it: the locks
/// were held over other orders and the "changed" routes said were another
/// data's. `--unlock-all` plans the other data afresh; without work on the
/// plan, it is planned afresh and said.
#[test]
fn a_plan_of_other_data_is_not_planned_over_unasked() {
    use predicates::prelude::*;
    let home = tempfile::tempdir().unwrap();
    let own = home.path().join("own");
    fs::create_dir_all(&own).unwrap();
    for f in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")).unwrap() {
        let f = f.unwrap().path();
        fs::copy(&f, own.join(f.file_name().unwrap())).unwrap();
    }
    plan_day(home.path(), &own, "2026-11-28");
    let plain = || {
        let mut c = skuplan(home.path());
        c.args(["plan", "deliveries", "--date", "2026-11-28", "--iterations", "500"]);
        c
    };
    let ws = skuplan::workspace::Workspace::open(home.path().join("data/workspace")).unwrap();
    let van = ws.load_deliveries().unwrap().unwrap().routes[0].vehicle.clone();
    skuplan(home.path())
        .args(["deliveries", "lock", &van])
        .assert()
        .success();
    let before = fs::read(home.path().join("data/workspace/plans/deliveries.json")).unwrap();
    plain()
        .assert()
        .code(1)
        .stderr(predicate::str::contains("was made from --data").and(predicate::str::contains("1 locked or decided")));
    assert_eq!(
        fs::read(home.path().join("data/workspace/plans/deliveries.json")).unwrap(),
        before
    );
    plain().arg("--unlock-all").assert().success();
    let now = ws.load_deliveries().unwrap().unwrap();
    assert_eq!(now.data, None);
    assert!(now.routes.iter().all(|r| !r.locked));
    // Back to its own data, with nothing on the plan: planned afresh, said.
    let text = plan_day(home.path(), &own, "2026-11-28");
    assert!(
        text.contains("was made from the workspace's data: this plans --data"),
        "{text}"
    );
}

/// Planning another day keeps the planner's locked routes of the day
/// planned before aside (they used to be dropped without a word), and
/// planning that day again takes them up.
#[test]
fn planning_another_day_keeps_the_locked_routes_of_the_day_before() {
    let home = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let plan = |date: &str| plan_day(home.path(), &data, date);
    plan("2026-11-28");
    let saved = || -> skuplan::plan::delivery::DeliveryPlan {
        serde_json::from_str(&fs::read_to_string(home.path().join("data/workspace/plans/deliveries.json")).unwrap())
            .unwrap()
    };
    let first = saved();
    let van = first.routes[0].vehicle.clone();
    skuplan(home.path())
        .args(["deliveries", "lock", &van])
        .assert()
        .success();
    let text = plan("2030-01-01");
    assert!(
        text.contains("the plan for 2026-11-28 (1 locked routes) is kept aside"),
        "{text}"
    );
    assert_eq!(saved().date, chrono::NaiveDate::from_ymd_opt(2030, 1, 1));
    let text = plan("2026-11-28");
    assert!(text.contains("kept 1 locked routes as they were"), "{text}");
    let again = saved();
    let route = again.route(&van).unwrap();
    assert!(route.locked);
    assert_eq!(route.stops, first.route(&van).unwrap().stops);

    // Unlocked and replaced again, that day has nothing left to keep.
    skuplan(home.path())
        .args(["deliveries", "unlock", &van])
        .assert()
        .success();
    assert!(!plan("2030-01-01").contains("kept aside"));
    assert!(!plan("2026-11-28").contains("locked routes"));
    assert!(!saved().route(&van).is_some_and(|r| r.locked));
}

/// A day whose routes were approved (or rejected) but not locked is the
/// planner's work too: planning another day keeps it aside, and the
/// workstation shows those routes again on that day.
#[test]
fn planning_another_day_keeps_the_decided_routes_of_the_day_before() {
    let home = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let plan = |date: &str| plan_day(home.path(), &data, date);
    plan("2026-11-28");
    let saved: skuplan::plan::delivery::DeliveryPlan =
        serde_json::from_str(&fs::read_to_string(home.path().join("data/workspace/plans/deliveries.json")).unwrap())
            .unwrap();
    let van = saved.routes[0].vehicle.clone();
    skuplan(home.path())
        .args(["approve", "deliveries", "--vehicle", &van])
        .assert()
        .success();
    let text = plan("2030-01-01");
    assert!(
        text.contains("the plan for 2026-11-28 (0 locked routes) is kept aside"),
        "{text}"
    );
    let ws = skuplan::workspace::Workspace::open(home.path().join("data/workspace")).unwrap();
    let aside = ws
        .deliveries_for(chrono::NaiveDate::from_ymd_opt(2026, 11, 28))
        .unwrap()
        .expect("kept aside");
    assert_eq!(aside.route(&van), saved.route(&van));
}

/// The rows of a deliveries export.
fn exported_rows(out: &Path) -> Vec<DeliveryExportRow> {
    csv::Reader::from_path(out)
        .unwrap()
        .deserialize()
        .map(|r| r.unwrap())
        .collect()
}

/// Orders changed under a saved plan (same ids, another quantity): the
/// changed route is neither exported nor approved as it was; `show` says
/// so; planning the day again re-plans it and asks about it anew, while the
/// approved routes whose orders did not change keep their approvals.
#[test]
fn a_route_whose_orders_changed_is_planned_again_not_exported() {
    let home = tempfile::tempdir().unwrap();
    let data = sample_copy(home.path());
    plan_day(home.path(), &data, "2026-11-28");
    skuplan(home.path())
        .args(["approve", "deliveries", "--all"])
        .assert()
        .success();
    let saved: skuplan::plan::delivery::DeliveryPlan =
        serde_json::from_str(&fs::read_to_string(home.path().join("data/workspace/plans/deliveries.json")).unwrap())
            .unwrap();
    let routed: Vec<_> = saved.routes.iter().filter(|r| !r.stops.is_empty()).collect();
    assert!(routed.len() >= 2, "the sample needs two routes");
    let (van, order) = (routed[0].vehicle.clone(), routed[0].stops[0].order.clone());
    let others: Vec<String> = routed[1..].iter().map(|r| r.vehicle.clone()).collect();
    // One order of the first route now asks for one unit more.
    let text = fs::read_to_string(data.join("orders.csv")).unwrap();
    let changed: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
            if f[0] == order {
                f[6] = (f[6].parse::<f64>().unwrap() + 1.0).to_string();
            }
            f.join(",") + "\n"
        })
        .collect();
    fs::write(data.join("orders.csv"), changed).unwrap();

    // The changed route is left out of the export, and said; the rest of
    // the day goes to dispatch.
    let out = home.path().join("approved.csv");
    skuplan(home.path())
        .args(["export", "deliveries", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains(format!(
            "left out 1 route changed since it was planned ({van}: order {order}'s quantity is"
        )));
    let rows = exported_rows(&out);
    assert!(
        rows.iter().all(|r| r.vehicle != van),
        "the changed route is not exported"
    );
    for v in &others {
        assert!(rows.iter().any(|r| &r.vehicle == v), "{v} is exported");
    }
    fs::remove_file(&out).unwrap();
    // `show` counts the approved route the data changed under as review.
    skuplan(home.path())
        .args(["deliveries", "show"])
        .assert()
        .success()
        .stdout(predicates::str::contains(format!("review 1 ({van})")));
    skuplan(home.path())
        .args(["approve", "deliveries", "--vehicle", &van])
        .assert()
        .failure();
    // Rejecting what the data moved on from is fine.
    skuplan(home.path())
        .args(["approve", "deliveries", "--reject", "--vehicle", &van])
        .assert()
        .success();
    skuplan(home.path())
        .args(["deliveries", "show"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "the data changed since these routes were planned",
        ))
        .stdout(predicates::str::contains(format!("rejected 1 ({van})")))
        .stdout(predicates::str::contains("routes: approved "));

    let text = plan_day(home.path(), &data, "2026-11-28");
    assert!(
        text.contains("the orders of 1 route changed since it was planned"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} approved routes kept as they were: {}",
            others.len(),
            others.join(", ")
        )),
        "{text}"
    );
    skuplan(home.path())
        .args(["export", "deliveries", "--out"])
        .arg(&out)
        .assert()
        .success();
    let rows = exported_rows(&out);
    assert!(
        rows.iter().all(|r| r.order != order),
        "the changed order waits for a fresh approval"
    );
    for v in &others {
        assert!(rows.iter().any(|r| &r.vehicle == v), "{v}'s approval was kept");
    }
}

/// Planar data: a warehouses file with x and y places its depots (they
/// used to be dropped without a word, and lat/lon standing in for y/x
/// refused a depot beyond 90); without any coordinates the reason says
/// what to give.
#[test]
fn warehouses_with_x_and_y_place_planar_depots() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("sales.csv"),
        "date,sku,warehouse,quantity\n2026-11-01,A,W1,1\n2026-11-01,A,W2,1\n",
    )
    .unwrap();
    fs::write(
        d.join("orders.csv"),
        "id,warehouse,x,y,quantity,ready,due,service_min\nO1,W1,3,4,5,08:00,18:00,5\nO2,W2,103,104,5,08:00,18:00,5\n",
    )
    .unwrap();
    fs::write(
        d.join("fleet.csv"),
        "id,warehouse,capacity,shift_start,shift_end\nV1,W1,50,08:00,18:00\nV2,W2,50,08:00,18:00\n",
    )
    .unwrap();
    let import = |files: &[&str]| {
        let paths: Vec<_> = files.iter().map(|f| d.join(f)).collect();
        skuplan::data::import_paths(&paths, &skuplan::data::ImportOptions::default())
            .unwrap_or_else(|e| panic!("{}", skuplan::data::report::render(&e.report)))
            .dataset
    };
    let base = ["sales.csv", "orders.csv", "fleet.csv"];
    let ds = import(&base);
    let problem = DeliveryProblem::build(&ds, None, None).unwrap();
    assert_eq!(problem.unplannable.len(), 2);
    assert!(
        problem.unplannable[0]
            .reason
            .contains("no warehouse has coordinates: give a warehouses file with id and x, y"),
        "{}",
        problem.unplannable[0].reason
    );
    fs::write(
        d.join("warehouses.csv"),
        "id,name,x,y\nW1,North,0,0\nW2,South,100,100\n",
    )
    .unwrap();
    let ds = import(&["sales.csv", "orders.csv", "fleet.csv", "warehouses.csv"]);
    let w2 = ds.warehouses.iter().find(|w| w.id == "W2").unwrap();
    assert_eq!((w2.x, w2.y), (Some(100.0), Some(100.0)));
    let problem = DeliveryProblem::build(&ds, None, None).unwrap();
    assert!(problem.unplannable.is_empty(), "{:?}", problem.unplannable);
    let plan = delivery::plan(&problem, &settings(), None);
    assert!(plan.unserved.is_empty());
    // 5 km out and 5 back from each depot.
    assert!((plan.distance_km() - 20.0).abs() < 1e-9, "{}", plan.distance_km());
}

/// Long decimals (a geocoder's 15 digits, quantities of a third) survive
/// the plan file: the plan read back is not taken for a changed one, and
/// its approvals hold.
#[test]
fn long_decimals_do_not_read_as_changed_orders() {
    let mut ds = dataset();
    for (i, o) in ds.orders.iter_mut().enumerate() {
        if let Location::LatLon { lat, lon } = &mut o.location {
            *lat += 1.234_567_891_234_5e-3 * (i as f64 + 1.0) / 7.0;
            *lon -= 9.876_543_210_987_6e-4 * (i as f64 + 1.0) / 3.0;
        }
        o.quantity += 1.0 / 3.0;
    }
    let problem = DeliveryProblem::build(&ds, Some(day()), None).unwrap();
    let plan = delivery::plan(&problem, &settings(), None);
    let back: DeliveryPlan = serde_json::from_str(&serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    for (a, b) in plan.routes.iter().zip(&back.routes) {
        assert_eq!(a.fingerprint(), b.fingerprint());
    }
    assert!(skuplan::plan::route_drift::changed_routes(&back, &ds).is_empty());
    // A real change is still seen.
    let first = back.routes.iter().find(|r| !r.stops.is_empty()).unwrap();
    let id = first.stops[0].order.clone();
    let o = ds.orders.iter_mut().find(|o| o.id == id).unwrap();
    o.service_min += 5;
    let changed = skuplan::plan::route_drift::changed_routes(&back, &ds);
    assert_eq!(changed.len(), 1);
    assert!(changed[0].why.contains("service takes"), "{}", changed[0].why);
}

/// A locked route kept past its shift after the data changed shows the rule
/// it breaks; the next check does not take that for another change (it
/// was flagged for good, so export and approve stayed refused).
#[test]
fn a_locked_route_past_its_shift_is_not_changed_again() {
    let (_, plan) = planned();
    let van = plan
        .routes
        .iter()
        .find(|r| !r.stops.is_empty())
        .unwrap()
        .vehicle
        .clone();
    let mut locked = plan.clone();
    delivery::set_locked(&mut locked, &van, true).unwrap();
    let mut ds = dataset();
    let first = locked.route(&van).unwrap().stops[0].order.clone();
    ds.orders.iter_mut().find(|o| o.id == first).unwrap().service_min += 900;
    let changed = skuplan::plan::route_drift::changed_routes(&locked, &ds);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].why.contains("service takes"), "{}", changed[0].why);
    let problem = DeliveryProblem::build(&ds, Some(day()), None).unwrap();
    let again = delivery::plan(&problem, &settings(), Some(&locked));
    let kept = again.route(&van).unwrap();
    assert!(kept.locked);
    assert!(
        kept.problems.iter().any(|p| p.contains("shift ends")),
        "{:?}",
        kept.problems
    );
    assert!(skuplan::plan::route_drift::changed_routes(&again, &ds).is_empty());
    // Its approval, taken before the change, asks for a fresh look.
    assert_ne!(kept.fingerprint(), locked.route(&van).unwrap().fingerprint());
    // And while it breaks a rule, no approval holds on it, whatever the
    // fingerprint saw (a slower vehicle, another road matrix).
    let rec = vec![Record::new(
        PLAN,
        again.key(kept),
        kept.fingerprint(),
        Action::Approve,
        None,
    )];
    let (state, review, _) = delivery::route_state(&again, kept, &replay(&rec, PLAN));
    assert_eq!(state, skuplan::plan::approval::State::Proposed);
    assert!(review);
}

/// A vehicle's shift changed under a route: seen (the route keeps the
/// shift it was planned in), and its approval asks for a fresh look; an
/// order that came in since is in no route, and said.
#[test]
fn shift_changes_and_new_orders_are_seen() {
    let (_, plan) = planned();
    let r = plan.routes.iter().find(|r| !r.stops.is_empty()).unwrap();
    let van = r.vehicle.clone();
    let mut ds = dataset();
    let v = ds.fleet.iter_mut().find(|v| v.id == van).unwrap();
    v.shift_end_min += 60;
    let changed = skuplan::plan::route_drift::changed_routes(&plan, &ds);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].why.starts_with("its shift is"), "{}", changed[0].why);
    assert!(changed[0].why.contains("planned in"), "{}", changed[0].why);
    let problem = DeliveryProblem::build(&ds, Some(day()), None).unwrap();
    let mut locked = plan.clone();
    delivery::set_locked(&mut locked, &van, true).unwrap();
    let again = delivery::plan(&problem, &settings(), Some(&locked));
    assert_ne!(again.route(&van).unwrap().fingerprint(), r.fingerprint());
    assert!(skuplan::plan::route_drift::changed_routes(&again, &ds).is_empty());

    let mut more = dataset();
    let mut o = more.orders[0].clone();
    o.id = "LATE-1".into();
    more.orders.push(o);
    assert_eq!(
        skuplan::plan::route_drift::orders_not_in(&plan, &more),
        vec!["LATE-1".to_string()]
    );
    assert!(skuplan::plan::route_drift::orders_not_in(&plan, &dataset()).is_empty());
}

/// A delivery order or a vehicle of more than 40 million units is refused
/// with the row and the bound: the solver counts loads in hundredths in 32
/// bits, and larger ones were clamped alike (an order of 50 million fitted
/// a vehicle of 45 million).
#[test]
fn loads_beyond_what_the_solver_counts_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let data = sample_copy(home.path());
    let bump = |file: &str, col: usize, value: &str| {
        let text = fs::read_to_string(data.join(file)).unwrap();
        let changed: String = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
                if i == 1 {
                    f[col] = value.to_string();
                }
                f.join(",") + "\n"
            })
            .collect();
        fs::write(data.join(file), changed).unwrap();
    };
    bump("orders.csv", 6, "50000000");
    let header = fs::read_to_string(data.join("fleet.csv")).unwrap();
    let cap = header
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "capacity")
        .unwrap();
    bump("fleet.csv", cap, "45000000");
    skuplan(home.path())
        .args(["import", "--check"])
        .arg(&data)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("row 2, column 'quantity', value '50000000'"))
        .stdout(predicates::str::contains(
            "at most 40 million units: no route carries more",
        ))
        .stdout(predicates::str::contains(
            "a capacity above 0 (at most 40 million units)",
        ));
}

/// A copy of the shipped sample data in `home/data-in`, to change.
fn sample_copy(home: &Path) -> std::path::PathBuf {
    let data = home.join("data-in");
    fs::create_dir_all(&data).unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    for f in fs::read_dir(&sample).unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), data.join(f.file_name())).unwrap();
    }
    data
}
