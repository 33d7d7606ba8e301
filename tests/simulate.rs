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
