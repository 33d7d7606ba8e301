//! The policy replay: stock, service and stock-outs follow the rules.

use chrono::NaiveDate;
use skuplan::domain::{Dataset, DemandSeries};
use skuplan::forecast::baselines;
use skuplan::forecast::baselines::{ForecastError, Forecaster, QuantileForecast};
use skuplan::plan::restock::{RestockSettings, ServiceTargets};
use skuplan::plan::simulate::{
    ExternalForecasts, MethodChoice, SimulationSpec, replay_start, review_origins, simulate,
};

fn series(values: Vec<f64>) -> Dataset {
    Dataset {
        demand: vec![DemandSeries::daily(
            "A",
            "W",
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            values,
        )],
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
    // Fill and stock count from the day the first order can arrive (the
    // 7-day lead time into the 140 days), as cycle service does.
    assert_eq!(t.days, 133);
    assert_eq!(t.demand, 1330.0);
    assert_eq!(t.served, 1330.0);
    assert_eq!(t.stockout_days, 0);
    assert_eq!(t.cycle_service_level(), 1.0);
    // Order-up-to 14 days of a demand that does not vary: each week's
    // order arrives as the stock runs out, so the end-of-day stock runs
    // 60, 50, ..., 0 (30 on average). Counted from the start, the stock
    // the replay starts with (140) raised it.
    assert!((t.average_stock() - 30.0).abs() < 3.0, "{}", t.average_stock());
    // 20 reviews of 7 days; periods count once orders can arrive (from day
    // 7), the last one to the end of the window included.
    assert_eq!(t.periods_with_demand, 19);
    assert_eq!(t.periods_stocked_out, 0);
    assert_eq!(t.reviews, 20);
    // A lead time as long as the replay counts no day: no fill and no
    // stock to speak of (it read as 100 % fill and no stock).
    let none = skuplan::plan::replay::Outcome::default();
    assert!(none.fill_rate().is_nan() && none.average_stock().is_nan() && none.average_value().is_nan());
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
        ds.demand.push(DemandSeries::daily(sku, "W", start, values));
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

/// The same forecast every day, with no spread.
struct Flat(f64);

impl Forecaster for Flat {
    fn name(&self) -> &str {
        "flat"
    }
    fn forecast(&self, _history: &[f64], horizon: usize) -> Result<QuantileForecast, ForecastError> {
        let v = vec![self.0; horizon];
        Ok(QuantileForecast {
            p10: v.clone(),
            p50: v.clone(),
            p90: v,
        })
    }
}

#[test]
fn a_review_period_without_demand_counts_neither_way() {
    // Nothing is ever stocked (the forecast is zero): every period with
    // demand loses some. Days 260.. are replayed, reviews every 7 days.
    let full = vec![10.0; 400];
    let mut gap = full.clone();
    // The review period from day 260 + 70 has no demand.
    gap[330..337].fill(0.0);
    let never = Flat(0.0);
    let with = simulate(&series(full), MethodChoice::One(&never), &spec(0.95)).total;
    let without = simulate(&series(gap), MethodChoice::One(&never), &spec(0.95)).total;
    assert_eq!((with.periods_with_demand, with.periods_stocked_out), (19, 19));
    // The empty week is neither a period served nor one stocked out.
    assert_eq!((without.periods_with_demand, without.periods_stocked_out), (18, 18));
    assert_eq!(without.cycle_service_level(), 0.0);
    assert_eq!(without.stockout_share(), 1.0);
    assert_eq!(with.demand - without.demand, 70.0);
}

#[test]
fn the_last_partial_period_counts() {
    // 145 replayed days from day 255: reviews at 255, 262, ..., 395, and a
    // last period of 5 days (395..400) with the only demand, and no stock.
    let mut values = vec![0.0; 400];
    values[397] = 5.0;
    let spec = SimulationSpec {
        days: 145,
        ..spec(0.95)
    };
    let t = simulate(&series(values), MethodChoice::One(&Flat(0.0)), &spec).total;
    assert_eq!(t.reviews, 21);
    assert_eq!(t.periods_with_demand, 1);
    assert_eq!(t.periods_stocked_out, 1);
    assert_eq!(t.cycle_service_level(), 0.0);
    assert_eq!(t.stockout_share(), 1.0);
    assert_eq!(t.fill_rate(), 0.0);
    // Without any demand there is no period to judge.
    let none = simulate(&series(vec![0.0; 400]), MethodChoice::One(&Flat(0.0)), &spec).total;
    assert_eq!(none.periods_with_demand, 0);
    assert!(none.cycle_service_level().is_nan());
}

#[test]
fn average_value_is_average_units_at_unit_cost() {
    use skuplan::domain::Product;
    let values: Vec<f64> = (0..400).map(|i| 6.0 + f64::from(i % 7) * 2.0).collect();
    let mut ds = series(values);
    let m = baselines::baseline("ma28").unwrap();
    // Without a cost the stock has no value.
    let unknown = simulate(&ds, MethodChoice::One(m.as_ref()), &spec(0.95)).total;
    assert!(unknown.average_stock() > 0.0);
    assert_eq!(unknown.average_value(), 0.0);
    ds.products.push(Product {
        unit_cost: Some(2.5),
        ..Product::made_from_sales("A", None, &Default::default())
    });
    let t = simulate(&ds, MethodChoice::One(m.as_ref()), &spec(0.95)).total;
    assert!(t.average_stock() > 0.0);
    assert!(
        (t.average_value() - 2.5 * t.average_stock()).abs() < 1e-9 * t.average_value(),
        "{} vs {}",
        t.average_value(),
        t.average_stock()
    );
    // Value is the same stock at cost, units are unchanged by the cost.
    assert_eq!(t.average_stock(), unknown.average_stock());
}

/// Lumpy lines in packs of 6 (their fitted levels move away from the
/// targets), `len` days each.
fn lumpy(n: usize, len: usize, seed: u64) -> Dataset {
    use rand::Rng;
    let mut ds = generated(n, len, seed, |rng, k, i| {
        let rate = 1.0 + (k % 5) as f64 * 1.5;
        let week = [1.3, 1.1, 1.0, 0.9, 0.8, 0.9, 1.0][i % 7];
        (rate * week * (0.5 + rng.random::<f64>())).round()
    });
    ds.products = (0..n)
        .map(|k| skuplan::domain::Product {
            pack_size: 6,
            unit_cost: Some(1.0 + k as f64),
            ..skuplan::domain::Product::made_from_sales(&format!("S{k:02}"), None, &Default::default())
        })
        .collect();
    ds
}

/// `n` daily series S00.. at warehouse W from 2022-01-03, day `i` of
/// series `k` drawn by `draw(rng, k, i)`.
fn generated(
    n: usize,
    len: usize,
    seed: u64,
    mut draw: impl FnMut(&mut rand_chacha::ChaCha8Rng, usize, usize) -> f64,
) -> Dataset {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let start = NaiveDate::from_ymd_opt(2022, 1, 3).unwrap();
    let mut ds = Dataset::default();
    for k in 0..n {
        let values = (0..len).map(|i| draw(&mut rng, k, i)).collect();
        let sku = format!("S{k:02}");
        ds.demand.push(DemandSeries::daily(sku, "W", start, values));
    }
    ds
}

#[test]
fn level_fitting_never_reads_the_replayed_days() {
    let methods = baselines::all_baselines();
    let spec = SimulationSpec {
        days: 400,
        ..SimulationSpec::default()
    };
    // 900 days: fitted on the 400 days before the replay; 700 days: on the
    // 271 there are (a year earlier would be inside the replay).
    for (len, window) in [(900, (800, 400)), (700, (671, 400))] {
        let ds = lumpy(12, len, 7);
        let fitted = simulate(&ds, MethodChoice::Champions(&methods), &spec);
        assert_eq!(fitted.level_window, Some(window), "{len} days");
        let levels = fitted.levels.expect("levels fitted");
        let mut changed = ds.clone();
        for s in &mut changed.demand {
            let n = s.values.len();
            for (k, v) in s.values[n - spec.days..].iter_mut().enumerate() {
                *v = if k % 3 == 0 { *v * 4.0 + 7.0 } else { 0.0 };
            }
        }
        let again = simulate(&changed, MethodChoice::Champions(&methods), &spec);
        assert_eq!(again.levels, Some(levels), "{len} days");
        // The replay itself did see the change.
        assert_ne!(again.total.demand, fitted.total.demand);
    }
}

/// Forecasts of the actual demand after each replayed review's origin
/// (as much of it as the data has).
fn hindsight(ds: &Dataset, spec: &SimulationSpec, use_for: bool) -> ExternalForecasts {
    let by_origin = review_origins(ds, spec)
        .into_iter()
        .map(|d| {
            let per_series = ds
                .demand
                .iter()
                .map(|s| {
                    let t = usize::try_from((d - s.start).num_days() + 1).ok()?;
                    let future = s.values.get(t..(t + 28).min(s.values.len()))?.to_vec();
                    Some(QuantileForecast {
                        p10: future.clone(),
                        p50: future.clone(),
                        p90: future,
                    })
                })
                .collect();
            (d, per_series)
        })
        .collect();
    ExternalForecasts {
        name: "hindsight".into(),
        use_for: vec![use_for; ds.demand.len()],
        by_origin,
        calibration: None,
        levels: [None; 3],
        lumpy_mean: [None; 3],
        rejudge_every: None,
    }
}

#[test]
fn perfect_external_forecasts_serve_more_with_less_stock() {
    let ds = lumpy(10, 600, 11);
    let methods = baselines::all_baselines();
    let spec = SimulationSpec::default();
    let base = simulate(&ds, MethodChoice::Champions(&methods), &spec);
    let ext = hindsight(&ds, &spec, true);
    let with = simulate(&ds, MethodChoice::ChampionsWith(&methods, &ext), &spec);
    let (b, w) = (&base.total, &with.total);
    // The levels are fitted on the baselines for both.
    assert_eq!(with.levels, base.levels);
    // Forecasts cut short by the end of the data are extended as plans
    // extend them, so every review can use them.
    assert!(w.external_reviews > 0 && w.external_reviews <= w.reviews, "{w:?}");
    assert_eq!(b.external_reviews, 0);
    assert!(w.fill_rate() >= b.fill_rate(), "{} < {}", w.fill_rate(), b.fill_rate());
    assert!(
        w.average_stock() < b.average_stock(),
        "{} vs {}",
        w.average_stock(),
        b.average_stock()
    );
    assert!(w.average_value() < b.average_value());
    let table = skuplan::plan::simulate::render_side_by_side(&base, &with, &spec, "baselines", "with hindsight");
    assert!(table.contains("with hindsight"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("all    with hindsight") && l.trim_end().ends_with('%')),
        "{table}"
    );
}

#[test]
fn external_forecasts_for_no_series_replay_the_champions() {
    let ds = lumpy(6, 500, 3);
    let methods = baselines::all_baselines();
    let spec = SimulationSpec::default();
    let base = simulate(&ds, MethodChoice::Champions(&methods), &spec);
    let ext = hindsight(&ds, &spec, false);
    let with = simulate(&ds, MethodChoice::ChampionsWith(&methods, &ext), &spec);
    assert_eq!(with, base);
}

#[test]
fn review_origins_cover_every_replayed_review() {
    // Series of different lengths ending on different days.
    let mut ds = lumpy(3, 400, 5);
    ds.demand[1].values.truncate(390);
    ds.demand[2].values.truncate(120);
    let spec = SimulationSpec {
        days: 100,
        fit_levels: false,
        ..SimulationSpec::default()
    };
    let origins = review_origins(&ds, &spec);
    // Series 0 and 1 are replayed (series 2 is too short), 15 reviews each.
    assert_eq!(origins.len(), 30);
    assert_eq!(replay_start(&ds, &spec), Some(ds.demand[1].date_at(290)));
    let long = QuantileForecast {
        p10: vec![1.0; 60],
        p50: vec![2.0; 60],
        p90: vec![3.0; 60],
    };
    let ext = ExternalForecasts {
        name: "flat".into(),
        use_for: vec![true; 3],
        by_origin: origins.iter().map(|d| (*d, vec![Some(long.clone()); 3])).collect(),
        calibration: None,
        levels: [None; 3],
        lumpy_mean: [None; 3],
        rejudge_every: None,
    };
    let ma = vec![baselines::baseline("ma28").unwrap()];
    let t = simulate(&ds, MethodChoice::ChampionsWith(&ma, &ext), &spec).total;
    assert_eq!(t.series, 2);
    assert_eq!(t.reviews, 30);
    assert_eq!(t.external_reviews, 30);
    // Forecasts shorter than the protection interval (7 + 7 days) are
    // extended as plan lines extend them; under a week they are not used.
    // The same flat forecast of `days` days from every origin, for the 3 series.
    let flat = |days: usize| ExternalForecasts {
        by_origin: origins
            .iter()
            .map(|d| {
                let f = QuantileForecast {
                    p10: vec![1.0; days],
                    p50: vec![2.0; days],
                    p90: vec![3.0; days],
                };
                (*d, vec![Some(f); 3])
            })
            .collect(),
        ..ext.clone()
    };
    let week = flat(7);
    let t = simulate(&ds, MethodChoice::ChampionsWith(&ma, &week), &spec).total;
    assert_eq!(t.external_reviews, 30);
    let short = flat(6);
    let t = simulate(&ds, MethodChoice::ChampionsWith(&ma, &short), &spec).total;
    assert_eq!(t.external_reviews, 0);
}

/// The external method's own levels (fitted on its held-out days) set the
/// level of its regular reviews only (most of these series sell daily):
/// the baselines' fitted levels and reviews stay as they were.
#[test]
fn the_external_levels_move_only_the_external_reviews() {
    let ds = lumpy(10, 600, 11);
    let run = |use_for: bool, level: f64| {
        with_means(&ds, |e| {
            e.use_for = vec![use_for; ds.demand.len()];
            e.levels = [Some(level); 3];
        })
    };
    let (low, high) = (run(true, 0.5), run(true, 0.999));
    assert_eq!(low.levels, high.levels, "the baselines' levels are theirs");
    assert_eq!(high.external_levels, [Some(0.999); 3]);
    assert!(high.total.external_reviews > 0);
    assert!(
        high.total.average_stock() > low.total.average_stock(),
        "{} vs {}",
        high.total.average_stock(),
        low.total.average_stock()
    );
    assert!(high.total.cycle_service_level() >= low.total.cycle_service_level());
    assert!(high.total.fill_rate() >= low.total.fill_rate());
    // Used for no series, its levels change nothing.
    assert_eq!(run(false, 0.5).total, run(false, 0.999).total);
}

/// Its lumpy reviews stock to the baselines' level whatever its own
/// levels say: on series that sell on a third of the days, its levels
/// change nothing, while its scaled mean still does.
#[test]
fn the_external_levels_leave_its_lumpy_reviews_at_the_baselines_level() {
    let ds = intermittent(8, 600, 5);
    let run = |level: f64, scale: f64| {
        with_means(&ds, |e| {
            e.levels = [Some(level); 3];
            e.lumpy_mean = [Some(scale); 3];
        })
        .total
    };
    let low = run(0.5, 1.0);
    assert!(low.external_reviews > 0);
    assert_eq!(low, run(0.999, 1.0));
    let more = run(0.5, 2.0);
    assert!(more.average_stock() > low.average_stock(), "{more:?} vs {low:?}");
}

/// The default replay of `ds` with the champions and [`from_means`]'s
/// forecasts for every series, changed by `edit`.
fn with_means(ds: &Dataset, edit: impl FnOnce(&mut ExternalForecasts)) -> skuplan::plan::simulate::Simulation {
    let methods = baselines::all_baselines();
    let spec = SimulationSpec::default();
    let mut e = from_means(ds, &review_origins(ds, &spec), (0.5, 1.0, 1.5));
    edit(&mut e);
    simulate(ds, MethodChoice::ChampionsWith(&methods, &e), &spec)
}

/// Series that sell on about a third of the days, in lots of 2 to 10.
fn intermittent(n: usize, len: usize, seed: u64) -> Dataset {
    use rand::Rng;
    generated(n, len, seed, |rng, _, _| {
        if rng.random::<f64>() < 0.3 {
            (2.0 + 8.0 * rng.random::<f64>()).round()
        } else {
            0.0
        }
    })
}

/// From every origin, each series forecast flat at its mean over the
/// whole data times `(p10, p50, p90)`: forecasts with hindsight of the level.
fn from_means(ds: &Dataset, origins: &[NaiveDate], (lo, mid, hi): (f64, f64, f64)) -> ExternalForecasts {
    let means: Vec<f64> = ds
        .demand
        .iter()
        .map(|s| s.values.iter().sum::<f64>() / s.values.len() as f64)
        .collect();
    ExternalForecasts {
        name: "mean".into(),
        use_for: vec![true; ds.demand.len()],
        by_origin: origins
            .iter()
            .map(|d| {
                let per_series = means
                    .iter()
                    .map(|m| {
                        Some(QuantileForecast {
                            p10: vec![lo * m; 28],
                            p50: vec![mid * m; 28],
                            p90: vec![hi * m; 28],
                        })
                    })
                    .collect();
                (*d, per_series)
            })
            .collect(),
        ..ExternalForecasts::default()
    }
}

/// Re-judging the external method every 28 days: its lumpy scale is
/// measured again on its own lumpy reviews whose protection interval has
/// ended. Forecasts at half the demand's mean come out scaled by about 2,
/// serve more than the scale held from before the replay (1 here), and
/// demand from a re-judging date on never changes a scale measured by then.
#[test]
fn rejudging_rescales_lumpy_means_from_demand_already_seen() {
    let ds = intermittent(80, 500, 5);
    let spec = SimulationSpec::default();
    let ma = vec![baselines::baseline("ma28").unwrap()];
    let origins = review_origins(&ds, &spec);
    let ext = |rejudge_every: Option<usize>| ExternalForecasts {
        rejudge_every,
        ..from_means(&ds, &origins, (0.5, 0.5, 0.5))
    };
    let (rejudging, held) = (ext(Some(28)), ext(None));
    let sim = simulate(&ds, MethodChoice::ChampionsWith(&ma, &rejudging), &spec);
    let kept = simulate(&ds, MethodChoice::ChampionsWith(&ma, &held), &spec);
    assert!(kept.rejudged.iter().all(Vec::is_empty));
    let start = replay_start(&ds, &spec).unwrap();
    let a = &sim.rejudged[0];
    assert!(a.len() >= 4, "class A is re-judged every 28 days: {a:?}");
    for (k, (date, scale)) in a.iter().enumerate() {
        assert_eq!(*date, start + chrono::Days::new(28 * (k as u64 + 1)));
        assert!(
            (1.6..2.5).contains(scale),
            "half the mean is scaled by about 2: {scale}"
        );
    }
    assert!(
        sim.total.fill_rate() > kept.total.fill_rate() + 0.02,
        "{} vs {}",
        sim.total.fill_rate(),
        kept.total.fill_rate()
    );
    // Triple the demand from a middle re-judging date on: the scales
    // measured up to that date stay, later ones rise.
    let middle = a[a.len() / 2].0;
    let mut more = ds.clone();
    for s in &mut more.demand {
        let from = s.period.between(s.start, middle) as usize;
        for v in &mut s.values[from..] {
            *v *= 3.0;
        }
    }
    let after = simulate(&more, MethodChoice::ChampionsWith(&ma, &rejudging), &spec).rejudged[0].clone();
    let upto = |v: &[(NaiveDate, f64)]| v.iter().filter(|(d, _)| *d <= middle).copied().collect::<Vec<_>>();
    assert_eq!(upto(&after), upto(a));
    let later = after.iter().find(|(d, _)| *d > middle).expect("a later re-judging");
    assert!(later.1 > 2.5, "{later:?}");
}
