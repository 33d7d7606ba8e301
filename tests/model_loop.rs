//! The model in the loop: a run is judged only after its train end, joins
//! the champions on equal terms, and feeds the restock lines it wins; a run
//! trained on other data is refused.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use skuplan::domain::{Dataset, DemandSeries, InventoryRecord, Product, SeriesForecast};
use skuplan::forecast::QuantileForecast;
use skuplan::plan::RestockSettings;
use skuplan::plan::base::{ModelForecasts, PlanBase};
use skuplan::plan::restock::Abc;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn product(sku: &str, lead: u32) -> Product {
    Product {
        sku: sku.into(),
        title: format!("{sku} title"),
        category: None,
        brand: None,
        unit_cost: Some(2.0),
        price: Some(4.0),
        pack_size: 1,
        moq: 0,
        lead_time_days: lead,
        supplier: Some("Acme".into()),
        synthesized: false,
        launch_date: None,
    }
}

/// `n` series of `days` days ending on 2025-06-30: a weekly pattern with
/// a level per series and a little noise.
/// [`data`] where every series sells 10 units every fifth day and nothing
/// else: lumpy lines.
fn lumpy_data(n: usize, days: usize) -> Dataset {
    let mut ds = data(n, days);
    for s in &mut ds.demand {
        for (d, v) in s.values.iter_mut().enumerate() {
            *v = if d % 5 == 0 { 10.0 } else { 0.0 };
        }
    }
    ds
}

fn data(n: usize, days: usize) -> Dataset {
    let end = day(2025, 6, 30);
    let start = end - Days::new(days as u64 - 1);
    let mut demand = Vec::new();
    let mut products = Vec::new();
    let mut inventory = Vec::new();
    for i in 0..n {
        let sku = format!("S{i:02}");
        let level = 5.0 + i as f64;
        let values = (0..days)
            .map(|d| level * (1.0 + 0.3 * ((d % 7) as f64 - 3.0) / 3.0) + ((d * 7 + i * 13) % 5) as f64)
            .collect();
        demand.push(DemandSeries::daily(sku.clone(), "W", start, values));
        products.push(product(&sku, 7));
        inventory.push(InventoryRecord {
            sku: sku.clone(),
            warehouse: "W".into(),
            on_hand: 10.0,
            on_order: 0.0,
            due_date: None,
        });
    }
    Dataset {
        products,
        demand,
        inventory,
        ..Dataset::default()
    }
}

/// The baselines' champions without the slow half of planning.
fn light_base(ds: &Dataset) -> PlanBase {
    PlanBase::champions_only(ds, &RestockSettings::default()).unwrap()
}

/// A model that knows what happens after `origin` (its held-out forecast
/// is the actual demand, padded to `horizon`) and forecasts `future` a day
/// from the last day.
fn oracle(ds: &Dataset, origin: NaiveDate, horizon: usize, future: f64) -> ModelForecasts {
    let (_, last) = ds.date_range().unwrap();
    let held_out = ds
        .demand
        .iter()
        .map(|s| {
            let from = (origin - s.start).num_days() as usize + 1;
            let mut v: Vec<f64> = s.values[from.min(s.values.len())..]
                .iter()
                .take(horizon)
                .copied()
                .collect();
            v.resize(horizon, 0.0);
            Some(QuantileForecast {
                p10: v.clone(),
                p50: v.clone(),
                p90: v,
            })
        })
        .collect();
    let future = ds
        .demand
        .iter()
        .map(|s| {
            Some(SeriesForecast {
                sku: s.sku.clone(),
                warehouse: s.warehouse.clone(),
                start: last + Days::new(1),
                p10: vec![future - 1.0; 28],
                p50: vec![future; 28],
                p90: vec![future + 1.0; 28],
                model: "finetuned".into(),
                period: Default::default(),
            })
        })
        .collect();
    ModelForecasts {
        name: "finetuned".into(),
        run: "oracle".into(),
        held_out_origin: origin,
        held_out,
        future,
        future_from: "test".into(),
        reviews: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Days up to the train end are poisoned (a million units): a model
    /// that knows the future exactly scores zero error only if no such day
    /// is ever scored, and it is scored on exactly the days after its train
    /// end that the data has, up to its horizon.
    #[test]
    fn a_run_is_never_scored_on_or_before_its_train_end(back in 1u64..70, horizon in 1usize..36) {
        let clean = data(6, 300);
        let (_, last) = clean.date_range().unwrap();
        let origin = last - Days::new(back);
        let base = light_base(&clean);
        let model = oracle(&clean, origin, horizon, 3.0);
        let mut poisoned = clean.clone();
        for s in &mut poisoned.demand {
            let upto = (origin - s.start).num_days() as usize;
            for v in &mut s.values[..=upto] {
                *v = 1e6;
            }
        }
        let with = base.with_model(&poisoned, &model).unwrap();
        let m = with.model.as_ref().unwrap();
        let expected = (back as usize).min(horizon);
        prop_assert_eq!(m.held_out, (origin + Days::new(1), (origin + Days::new(horizon as u64)).min(last)));
        for score in &m.scores {
            let (run, champion) = score.as_ref().unwrap();
            prop_assert_eq!(run.points, expected);
            prop_assert_eq!(champion.points, expected);
            prop_assert!(run.abs_err < 1e-9, "the run was scored on a poisoned day: {}", run.abs_err);
        }
        // In the backtest table the run fills at most the window whose
        // origin is its train end, with the same days.
        let col = with.backtest.methods.len() - 1;
        for (i, cells) in with.backtest.cells.iter().enumerate() {
            for (w, cell) in cells[col].iter().enumerate() {
                if let Some(c) = cell {
                    prop_assert_eq!(with.backtest.origins[w], origin, "series {}", i);
                    prop_assert!(c.abs_err < 1e-9);
                }
            }
        }
    }
}

#[test]
fn a_run_with_no_day_after_its_train_end_is_refused() {
    let ds = data(3, 200);
    let (_, last) = ds.date_range().unwrap();
    let err = light_base(&ds)
        .with_model(&ds, &oracle(&ds, last, 28, 3.0))
        .unwrap_err();
    assert!(err.contains("no day after its train end"), "{err}");
}

#[test]
fn where_the_run_is_champion_its_quantiles_make_the_line_and_the_export_says_so() {
    let ds = data(8, 500);
    let (_, last) = ds.date_range().unwrap();
    let base = PlanBase::compute(&ds, &RestockSettings::default()).unwrap();
    let with = base
        .with_model(&ds, &oracle(&ds, last - Days::new(28), 28, 4.0))
        .unwrap();
    let m = with.model.as_ref().unwrap();
    assert_eq!(m.wins(), 8, "a model that knew the held-out days wins everywhere");
    assert!(m.better_overall);
    let plan = with.plan(&ds, None);
    let baselines = base.plan(&ds, None);
    for l in &plan.lines {
        assert_eq!(l.method, "finetuned");
        // Lead time 7 + review 7 days of the run's p50 (4 a day).
        assert!((l.protection_demand - 56.0).abs() < 1e-9, "{}", l.protection_demand);
    }
    for l in &baselines.lines {
        assert_ne!(l.method, "finetuned");
        assert!(!l.method.is_empty());
    }
    // The champions table names the run where it won.
    let model_index = with.backtest.methods.iter().position(|n| n == "finetuned").unwrap();
    assert!(with.champions.final_choice.iter().all(|c| *c == Some(model_index)));
    let rows = skuplan::plan::export::restock_rows(&plan, &HashMap::new(), true);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.method == "finetuned"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.csv");
    skuplan::plan::export::write_csv(&path, &rows).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "method").unwrap();
    for line in text.lines().skip(1) {
        assert_eq!(line.split(',').nth(col), Some("finetuned"), "{line}");
    }
    // The baselines' base is left as it was.
    assert!(base.model.is_none());
    assert_eq!(base.plan(&ds, None), baselines);
}

#[test]
fn a_run_that_loses_on_the_held_out_days_is_champion_nowhere() {
    let ds = data(6, 400);
    let (_, last) = ds.date_range().unwrap();
    let mut model = oracle(&ds, last - Days::new(28), 28, 4.0);
    for f in model.held_out.iter_mut().flatten() {
        for v in f.p10.iter_mut().chain(f.p50.iter_mut()).chain(f.p90.iter_mut()) {
            *v += 50.0;
        }
    }
    let base = light_base(&ds);
    let with = base.with_model(&ds, &model).unwrap();
    let m = with.model.as_ref().unwrap();
    assert_eq!(m.wins(), 0);
    assert!(!m.better_overall);
}

#[test]
fn the_fingerprint_ignores_series_that_begin_after_the_train_end() {
    let ds = data(4, 300);
    let (_, last) = ds.date_range().unwrap();
    let end = last - Days::new(40);
    let mut later = ds.clone();
    later
        .demand
        .push(DemandSeries::daily("NEW", "W", last - Days::new(10), vec![1.0; 11]));
    let fp = skuplan::engine::train::fingerprint(&ds, end);
    assert_eq!(skuplan::engine::train::fingerprint(&later, end), fp);
    assert_eq!(skuplan::engine::train::fingerprint(&later.up_to(end), end), fp);
    let mut other = ds.clone();
    other.demand[1].values[5] += 1.0;
    assert_ne!(skuplan::engine::train::fingerprint(&other, end), fp);
    // A change after the train end is not the run's business.
    let mut after = ds.clone();
    after.demand[1].values[299] += 1.0;
    assert_eq!(skuplan::engine::train::fingerprint(&after, end), fp);
}

#[test]
fn the_runs_lumpy_lines_are_stocked_from_its_mean_as_the_baselines_lumpy_lines_are() {
    let ds = lumpy_data(6, 500);
    let (_, last) = ds.date_range().unwrap();
    let mut model = oracle(&ds, last - Days::new(28), 28, 0.0);
    for f in model.future.iter_mut().flatten() {
        f.p10 = vec![0.0; 28];
        f.p50 = vec![0.0; 28];
        f.p90 = vec![5.0; 28];
    }
    let with = light_base(&ds).with_model(&ds, &model).unwrap();
    assert_eq!(with.model.as_ref().unwrap().wins(), 6);
    let plan = with.plan(&ds, None);
    for l in &plan.lines {
        assert_eq!(l.method, "finetuned");
        assert!(l.intermittent);
        // Swanson's mean, 0.3 * 0 + 0.4 * 0 + 0.3 * 5 a day, over lead
        // time 7 + review 7 days; the median (0) would stock nothing.
        assert!((l.protection_demand - 21.0).abs() < 1e-9, "{}", l.protection_demand);
        assert!(l.order_up_to > l.protection_demand);
        // At the baselines' level: the run's own levels are for its
        // regular lines, and none is fitted on lumpy series.
        assert_eq!(l.service_level, with.settings.level(l.abc));
        assert_eq!(with.model.as_ref().unwrap().levels[l.abc as usize], None);
    }
}

/// Packs make a line served more often than the quantile it is stocked
/// to. The run's own levels, fitted on a replay of its held-out days with
/// its forecasts from each week of them, take that back (as the baselines'
/// fitted levels do), and its regular lines are stocked to them.
#[test]
fn the_runs_regular_lines_are_stocked_to_levels_fitted_on_its_held_out_days() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Poisson};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut ds = data(150, 400);
    let means: Vec<f64> = (0..150).map(|i| 4.0 + (i % 10) as f64).collect();
    for (s, mean) in ds.demand.iter_mut().zip(&means) {
        let poisson = Poisson::new(*mean).unwrap();
        for v in &mut s.values {
            *v = poisson.sample(&mut rng);
        }
    }
    for p in &mut ds.products {
        p.pack_size = 60;
    }
    let (_, last) = ds.date_range().unwrap();
    let origin = last - Days::new(28);
    // The run knows each series' rate, and its spread.
    let knows = |mean: f64, days: usize| QuantileForecast {
        p10: vec![mean - 1.28 * mean.sqrt(); days],
        p50: vec![mean; days],
        p90: vec![mean + 1.28 * mean.sqrt(); days],
    };
    let mut model = oracle(&ds, origin, 28, 0.0);
    model.held_out = means.iter().map(|m| Some(knows(*m, 28))).collect();
    model.reviews = (1..4)
        .map(|k| {
            (
                origin + Days::new(7 * k),
                means.iter().map(|m| Some(knows(*m, 28))).collect(),
            )
        })
        .collect();
    for (f, m) in model.future.iter_mut().zip(&means) {
        let f = f.as_mut().unwrap();
        let q = knows(*m, 28);
        (f.p10, f.p50, f.p90) = (q.p10, q.p50, q.p90);
    }
    let with = light_base(&ds).with_model(&ds, &model).unwrap();
    let m = with.model.as_ref().unwrap();
    assert!(
        m.wins() > 100,
        "a run that knows the rates wins most series: {}",
        m.wins()
    );
    let levels = m.levels;
    let a = levels[0].expect("150 series with three weekly periods each are enough to fit class A on");
    let settings = RestockSettings::default();
    assert!(
        a < settings.service.a,
        "packs of 60 against 4-13 a day serve class A above its target at the target's quantile: {levels:?}"
    );
    let calibration = &with.settings.external.as_ref().unwrap().calibration;
    for (class, l) in [Abc::A, Abc::B, Abc::C].into_iter().zip(levels) {
        let Some(l) = l else { continue };
        assert!((0.5..=0.999).contains(&l), "{levels:?}");
        assert!(l <= calibration.supported_level(class), "{levels:?}");
    }
    let plan = with.plan(&ds, None);
    let runs: Vec<_> = plan.lines.iter().filter(|l| l.method == "finetuned").collect();
    assert!(!runs.is_empty());
    for l in runs {
        assert!(!l.intermittent);
        // Fitted, or (a class with too few periods) the target.
        let level = levels[l.abc as usize].unwrap_or(settings.target(l.abc));
        assert_eq!(l.service_level, level, "{}", l.sku);
        assert_eq!(l.target_service, settings.target(l.abc));
    }
    // Without forecasts from the later weeks the fit still runs, on the
    // train end's forecast of the same days.
    model.reviews.clear();
    let stale = light_base(&ds).with_model(&ds, &model).unwrap();
    assert!(stale.model.as_ref().unwrap().levels[0].is_some());
}

/// Swanson's rule takes a lumpy line's mean from three quantiles, which
/// on skewed demand falls short. The shortfall on the run's held-out days
/// (actual over that mean, per class) scales its lumpy lines' mean.
#[test]
fn the_runs_lumpy_mean_is_scaled_by_its_shortfall_on_the_held_out_days() {
    let ds = lumpy_data(40, 500);
    let (_, last) = ds.date_range().unwrap();
    let origin = last - Days::new(28);
    let mut model = oracle(&ds, origin, 28, 0.0);
    // Its quantiles say 1 a day by Swanson's rule (0.3 x 10/3).
    for f in model.held_out.iter_mut().flatten() {
        *f = QuantileForecast {
            p10: vec![0.0; 28],
            p50: vec![0.0; 28],
            p90: vec![10.0 / 3.0; 28],
        };
    }
    for f in model.future.iter_mut().flatten() {
        f.p10 = vec![0.0; 28];
        f.p50 = vec![0.0; 28];
        f.p90 = vec![5.0; 28];
    }
    let with = light_base(&ds).with_model(&ds, &model).unwrap();
    let m = with.model.as_ref().unwrap();
    assert_eq!(m.wins(), 40);
    // What the 28 held-out days held (10 every fifth day), over 28 x 1.
    let s = &ds.demand[0];
    let from = s.values.len() - 28;
    let held: f64 = s.values[from..].iter().sum();
    let scale = m.lumpy_mean[0].expect("class A has 30 or more lumpy series");
    assert!((scale - held / 28.0).abs() < 1e-9, "{scale} vs {}", held / 28.0);
    assert!(scale > 1.5);
    let plan = with.plan(&ds, None);
    let a_lines: Vec<_> = plan
        .lines
        .iter()
        .filter(|l| l.abc == skuplan::plan::restock::Abc::A)
        .collect();
    assert!(a_lines.len() >= 30);
    for l in a_lines {
        assert!(l.intermittent);
        // 1.5 a day by the rule (0.3 x 5), scaled, over lead 7 + review 7.
        assert!(
            (l.protection_demand - 14.0 * 1.5 * scale).abs() < 1e-6,
            "{}",
            l.protection_demand
        );
    }
}
