//! The policy replay: stock, service and stock-outs follow the rules.

use chrono::NaiveDate;
use skuplan::domain::{Dataset, DemandSeries};
use skuplan::forecast::baselines;
use skuplan::plan::restock::{RestockSettings, ServiceTargets};
use skuplan::plan::simulate::{MethodChoice, SimulationSpec, simulate};

fn series(values: Vec<f64>) -> Dataset {
    Dataset {
        demand: vec![DemandSeries {
            sku: "A".into(),
            warehouse: "W".into(),
            start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            values,
            promo: None,
        }],
        ..Dataset::default()
    }
}

fn spec(sl: f64) -> SimulationSpec {
    SimulationSpec {
        days: 140,
        settings: RestockSettings {
            service: ServiceTargets { a: sl, b: sl, c: sl },
            ..RestockSettings::default()
        },
        // The replay's mechanics at the level asked for.
        fit_levels: false,
    }
}

#[test]
fn steady_demand_is_always_served() {
    let ds = series(vec![10.0; 400]);
    let m = baselines::baseline("ma28").unwrap();
    let sim = simulate(&ds, MethodChoice::One(m.as_ref()), &spec(0.95));
    let t = sim.total;
    assert_eq!(t.series, 1);
    assert_eq!(t.demand, 1400.0);
    assert_eq!(t.served, 1400.0);
    assert_eq!(t.stockout_days, 0);
    assert_eq!(t.cycle_service_level(), 1.0);
    // Order-up-to 14 days of demand: stock stays within that.
    assert!(t.average_stock() <= 140.0 && t.average_stock() > 0.0);
    // 20 reviews of 7 days; cycles count once orders can arrive (after 14 days).
    assert_eq!(t.cycles, 18);
}

#[test]
fn more_service_never_serves_less() {
    // Noisy weekly demand with a surge in the replay period.
    let values: Vec<f64> = (0..500)
        .map(|i| {
            let base = 8.0 + [4.0, 1.0, 0.0, -2.0, -3.0, -2.0, 2.0][i % 7] + ((i * 7919) % 9) as f64;
            if i > 420 { base * 1.6 } else { base }
        })
        .collect();
    let ds = series(values);
    let m = baselines::baseline("ets").unwrap();
    let lo = simulate(&ds, MethodChoice::One(m.as_ref()), &spec(0.80)).total;
    let hi = simulate(&ds, MethodChoice::One(m.as_ref()), &spec(0.99)).total;
    assert!(hi.served >= lo.served - 1e-9, "{} < {}", hi.served, lo.served);
    assert!(hi.cycle_service_level() >= lo.cycle_service_level());
    assert!(hi.average_stock() > lo.average_stock());
}

#[test]
fn fitted_levels_take_back_the_over_service_of_lumpy_lines() {
    use rand::{Rng, SeedableRng};
    use skuplan::domain::Product;
    // Slow lines sold in whole units and ordered in packs of 6: stocked to
    // their targets as they are, they are served far more often than asked.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut ds = Dataset::default();
    for k in 0..60 {
        let rate = 0.5 + f64::from(k % 6) * 0.4;
        let values = (0..700)
            .map(|_| {
                // A geometric-ish count with mean about `rate`.
                let mut n = 0.0;
                while rng.random::<f64>() < rate / (1.0 + rate) {
                    n += 1.0;
                }
                n
            })
            .collect();
        let sku = format!("S{k:02}");
        ds.products.push(Product {
            pack_size: 6,
            unit_cost: Some(1.0),
            ..Product::made_from_sales(&sku, None, &Default::default())
        });
        ds.demand.push(DemandSeries {
            sku,
            warehouse: "W".into(),
            start,
            values,
            promo: None,
        });
    }
    let m = baselines::baseline("ma28").unwrap();
    let spec = |fit: bool| SimulationSpec {
        days: 182,
        fit_levels: fit,
        ..SimulationSpec::default()
    };
    let plain = simulate(&ds, MethodChoice::One(m.as_ref()), &spec(false));
    let fitted = simulate(&ds, MethodChoice::One(m.as_ref()), &spec(true));
    let levels = fitted.levels.expect("levels fitted");
    assert!(plain.levels.is_none());
    let mut worse = 0.0f64;
    let mut better = 0.0f64;
    for (class, (target, o)) in &plain.by_class {
        let f = &fitted.by_class[class].1;
        worse = worse.max((o.cycle_service_level() - target).abs());
        better = better.max((f.cycle_service_level() - target).abs());
        // Fitting lowers the level where the plain policy over-serves.
        if o.cycle_service_level() > target + 0.02 {
            let level = match class {
                skuplan::plan::restock::Abc::A => levels.a,
                skuplan::plan::restock::Abc::B => levels.b,
                skuplan::plan::restock::Abc::C => levels.c,
            };
            assert!(level < *target, "{class:?}: level {level} target {target}");
        }
    }
    assert!(worse > 0.02, "the plain policy over-serves these lines ({worse})");
    assert!(better < worse, "fitted gap {better} vs plain {worse}");
    // A class stocked to a lower level holds less stock.
    let c = &skuplan::plan::restock::Abc::C;
    assert!(levels.c < 0.9);
    assert!(fitted.by_class[c].1.average_stock() < plain.by_class[c].1.average_stock());
}
