//! Checking the restock policy against history: replay it over held-out
//! days where the real demand is known. At every review the policy forecasts
//! from the history up to that day, orders up to S, and the order arrives
//! after the lead time; demand that finds no stock is lost.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;

use crate::domain::{Dataset, DemandSeries, Product, SeriesForecast};
use crate::forecast::baselines::Forecaster;
use crate::plan::restock::{
    Abc, DailyForecast, RestockSettings, ServiceTargets, abc_classes, calibrate, intermittency_of, protection_quantile,
    round_order, seasonal_origins,
};

#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSpec {
    /// Days at the end of the history the policy is replayed over.
    pub days: usize,
    pub settings: RestockSettings,
    /// Fit the service levels on the `days` before the replay (as plans
    /// do on the days before them), or use the targets as levels.
    pub fit_levels: bool,
}

impl Default for SimulationSpec {
    fn default() -> Self {
        SimulationSpec {
            days: 182,
            settings: RestockSettings::default(),
            fit_levels: true,
        }
    }
}

/// What one series (or a class of them) went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub series: usize,
    /// Review periods after the first order could arrive.
    pub cycles: usize,
    /// Of those, periods in which no demand was lost.
    pub cycles_without_stockout: usize,
    pub demand: f64,
    pub served: f64,
    /// Sum of end-of-day stock, and the days counted.
    pub stock_days: f64,
    pub days: usize,
    pub stockout_days: usize,
    pub orders: usize,
}

impl Outcome {
    fn merge(&mut self, o: &Outcome) {
        self.series += o.series;
        self.cycles += o.cycles;
        self.cycles_without_stockout += o.cycles_without_stockout;
        self.demand += o.demand;
        self.served += o.served;
        self.stock_days += o.stock_days;
        self.days += o.days;
        self.stockout_days += o.stockout_days;
        self.orders += o.orders;
    }

    /// Share of review cycles without a stock-out.
    pub fn cycle_service_level(&self) -> f64 {
        if self.cycles == 0 {
            f64::NAN
        } else {
            self.cycles_without_stockout as f64 / self.cycles as f64
        }
    }

    pub fn fill_rate(&self) -> f64 {
        if self.demand > 0.0 {
            self.served / self.demand
        } else {
            1.0
        }
    }

    pub fn average_stock(&self) -> f64 {
        if self.days == 0 {
            0.0
        } else {
            self.stock_days / self.days as f64
        }
    }
}

/// Results per ABC class, with the target each class had.
#[derive(Debug, Clone, Default)]
pub struct Simulation {
    pub by_class: BTreeMap<Abc, (f64, Outcome)>,
    pub total: Outcome,
    /// The quantile levels the policy ran at, when fitted.
    pub levels: Option<ServiceTargets>,
}

/// Which forecasting method each series uses in a replay.
pub enum MethodChoice<'a> {
    /// The same method everywhere.
    One(&'a dyn Forecaster),
    /// Each series' champion among these, chosen by a backtest that ends
    /// where the replay starts (as `skuplan plan restock` chooses).
    Champions(&'a [Box<dyn Forecaster>]),
}

/// Replay the policy on every series of `ds` that has more history than
/// the replay period.
pub fn simulate(ds: &Dataset, choice: MethodChoice<'_>, spec: &SimulationSpec) -> Simulation {
    let products: HashMap<&str, &Product> = ds.products.iter().map(|p| (p.sku.as_str(), p)).collect();
    // Classes from the history before the replay, as a plan made then would.
    let before = Dataset {
        products: ds.products.clone(),
        demand: ds
            .demand
            .iter()
            .map(|s| crate::domain::DemandSeries {
                values: s.values[..s.values.len().saturating_sub(spec.days)].to_vec(),
                promo: None,
                ..s.clone()
            })
            .collect(),
        ..Dataset::default()
    };
    let abc = abc_classes(&before, spec.settings.abc_cuts);
    let per_series: Vec<&dyn Forecaster> = match choice {
        MethodChoice::One(m) => vec![m; ds.demand.len()],
        MethodChoice::Champions(methods) => {
            let last = ds.date_range().map(|r| r.1);
            let bspec = crate::forecast::BacktestSpec {
                horizon: 28,
                windows: 2,
                step: 28,
                origin: last.map(|l| l - chrono::Days::new(spec.days as u64 + 28)),
                ..crate::forecast::BacktestSpec::default()
            };
            let chosen = crate::forecast::backtest::run(ds, methods, &bspec)
                .map(|bt| bt.champions().final_choice)
                .unwrap_or_default();
            (0..ds.demand.len())
                .map(|i| methods[chosen.get(i).copied().flatten().unwrap_or(0)].as_ref())
                .collect()
        }
    };
    // Calibrate on origins before the replay: the replay is never looked at.
    let mut settings = spec.settings.clone();
    let days = spec.days;
    let seasonal = seasonal_origins(days);
    settings.calibration = calibrate(
        ds,
        &settings,
        // The replay starts `days` before the end: calibrate as a plan made
        // on that day would, never on the replayed days themselves.
        |len, protect| {
            seasonal(len.saturating_sub(days), protect)
                .into_iter()
                .filter(|o| o + protect <= len.saturating_sub(days))
                .collect()
        },
        |i, history, n| per_series[i].forecast(history, n).ok(),
    );
    // The service levels that met the targets on the same weeks a year
    // before the replay (forecast bias turns with the season: fitted on
    // the half-year just before, store-item's spring under-service raised
    // the autumn's levels), with the same forecasts and rules; the
    // half-year just before when no series has that much history.
    if spec.fit_levels {
        let mut earlier = prepare_all(ds, &per_series, &abc, &settings, &products, days + 364, 364, usize::MAX);
        if earlier.is_empty() {
            earlier = prepare_all(ds, &per_series, &abc, &settings, &products, 2 * days, days, usize::MAX);
        }
        settings.levels = Some(fit_service_levels(ds, &earlier, &settings));
    }
    let prepared = prepare_all(ds, &per_series, &abc, &settings, &products, days, 0, usize::MAX);
    let s = &settings;
    let outcomes: Vec<(Abc, f64, Outcome)> = prepared
        .par_iter()
        .map(|p| {
            let target = s.target(p.class);
            (p.class, target, replay(&ds.demand[p.series], p, s.level(p.class), s))
        })
        .collect();
    let mut sim = Simulation {
        levels: settings.levels,
        ..Simulation::default()
    };
    for (class, sl, o) in outcomes {
        let e = sim.by_class.entry(class).or_insert((sl, Outcome::default()));
        e.1.merge(&o);
        sim.total.merge(&o);
    }
    sim
}

/// One series made ready for replays: its rules, and at each review of
/// the replayed days the forecast the policy would have had then.
pub struct Prepared {
    /// Index into the data's demand.
    pub series: usize,
    pub class: Abc,
    lead: usize,
    pack: u32,
    moq: u32,
    /// First and one-past-last replayed day.
    from: usize,
    to: usize,
    /// (day, forecast of the protection interval, intermittency), by review.
    reviews: Vec<(usize, Option<SeriesForecast>, Option<f64>)>,
}

/// Forecast every review of the window that ends `until_end` days before
/// the end of each series and lasts `back - until_end` days; at most `cap`
/// series per class (every k-th, so the sample spans the data).
#[allow(clippy::too_many_arguments)]
pub fn prepare_all(
    ds: &Dataset,
    per_series: &[&dyn Forecaster],
    abc: &HashMap<(String, String), Abc>,
    s: &RestockSettings,
    products: &HashMap<&str, &Product>,
    back: usize,
    until_end: usize,
    cap: usize,
) -> Vec<Prepared> {
    let review = s.review_days.max(1) as usize;
    let class_of = |i: usize| {
        let series = &ds.demand[i];
        abc.get(&(series.sku.clone(), series.warehouse.clone()))
            .copied()
            .unwrap_or(Abc::C)
    };
    let eligible: Vec<usize> = (0..ds.demand.len())
        .filter(|i| ds.demand[*i].values.len() > back + 28)
        .collect();
    // Every k-th series of each class, up to `cap` of them.
    let mut chosen = Vec::new();
    for class in [Abc::A, Abc::B, Abc::C] {
        let of: Vec<usize> = eligible.iter().copied().filter(|i| class_of(*i) == class).collect();
        let step = of.len().div_ceil(cap.max(1)).max(1);
        chosen.extend(of.into_iter().step_by(step));
    }
    chosen.sort_unstable();
    chosen
        .par_iter()
        .map(|&i| {
            let series = &ds.demand[i];
            let method = per_series[i];
            let p = products.get(series.sku.as_str()).copied();
            let lead = p.map_or(7, |p| p.lead_time_days) as usize;
            let protect = lead + review;
            let from = series.values.len() - back;
            let to = series.values.len() - until_end;
            let reviews = (from..to)
                .step_by(review)
                .map(|t| {
                    let history = &series.values[..t];
                    let fc = method.forecast(history, protect).ok().map(|f| SeriesForecast {
                        sku: series.sku.clone(),
                        warehouse: series.warehouse.clone(),
                        start: series.date_at(t),
                        p10: f.p10,
                        p50: f.p50,
                        p90: f.p90,
                        model: method.name().to_string(),
                    });
                    (t, fc, intermittency_of(history))
                })
                .collect();
            Prepared {
                series: i,
                class: class_of(i),
                lead,
                pack: p.map_or(1, |p| p.pack_size.max(1)),
                moq: p.map_or(0, |p| p.moq),
                from,
                to,
                reviews,
            }
        })
        .collect()
}

/// Replay the policy over a prepared window at service level `sl`: order
/// up to S at each review, orders arrive after the lead time, demand that
/// finds no stock is lost.
pub fn replay(series: &DemandSeries, p: &Prepared, sl: f64, s: &RestockSettings) -> Outcome {
    let review = s.review_days.max(1) as usize;
    let protect = p.lead + review;
    let mut out = Outcome {
        series: 1,
        ..Outcome::default()
    };
    // Orders in the pipeline: (arrival day, quantity).
    let mut pipeline: Vec<(usize, f64)> = Vec::new();
    let mut on_hand: Option<f64> = None;
    let mut cycle_lost = false;
    let mut next_review = p.reviews.iter().peekable();
    for t in p.from..p.to {
        let since = t - p.from;
        if let Some((_, fc, disp)) = next_review.next_if(|r| r.0 == t) {
            // Close the cycle that ends here, once orders can arrive.
            if since >= p.lead + review {
                out.cycles += 1;
                if !cycle_lost {
                    out.cycles_without_stockout += 1;
                }
            }
            cycle_lost = false;
            if let Some(fc) = fc {
                let (_, level) = protection_quantile(&DailyForecast::new(fc), 0, protect, sl, p.class, s, *disp);
                // Start the replay in steady state: stock at S.
                let stock = *on_hand.get_or_insert(level);
                let position = stock + pipeline.iter().map(|o| o.1).sum::<f64>();
                let q = round_order(level - position, p.moq, p.pack);
                if q > 0 {
                    pipeline.push((t + p.lead, f64::from(q)));
                    out.orders += 1;
                }
            }
        }
        let mut stock = on_hand.unwrap_or(0.0);
        pipeline.retain(|(day, q)| {
            if *day <= t {
                stock += q;
                false
            } else {
                true
            }
        });
        let demand = series.values[t].max(0.0);
        let served = demand.min(stock);
        stock -= served;
        out.demand += demand;
        out.served += served;
        if demand - served > 1e-9 {
            out.stockout_days += 1;
            cycle_lost = true;
        }
        out.stock_days += stock;
        out.days += 1;
        on_hand = Some(stock);
    }
    out
}

/// Per class, the quantile level whose replay over `prepared` comes
/// closest to the class's target cycle service level: a bisection between
/// 0.50 and 0.999 (service rises with the level), keeping the closest of
/// the levels tried (the higher on a tie). A class without replayed cycles
/// keeps its target.
pub fn fit_service_levels(ds: &Dataset, prepared: &[Prepared], s: &RestockSettings) -> ServiceTargets {
    let fit = |class: Abc| -> f64 {
        let target = s.target(class);
        let of: Vec<&Prepared> = prepared.iter().filter(|p| p.class == class).collect();
        let achieved = |level: f64| -> f64 {
            let total = of.par_iter().map(|p| replay(&ds.demand[p.series], p, level, s)).reduce(
                Outcome::default,
                |mut a, b| {
                    a.merge(&b);
                    a
                },
            );
            total.cycle_service_level()
        };
        let (mut lo, mut hi) = (0.50, 0.999);
        let mut best: Option<(f64, f64)> = None;
        let mut consider = |level: f64, csl: f64| {
            let closer = best.is_none_or(|(l, c)| {
                let (d, bd) = ((csl - target).abs(), (c - target).abs());
                d < bd - 1e-12 || ((d - bd).abs() <= 1e-12 && level > l)
            });
            if closer {
                best = Some((level, csl));
            }
        };
        for level in [lo, hi] {
            let csl = achieved(level);
            if !csl.is_finite() {
                return target;
            }
            consider(level, csl);
        }
        for _ in 0..9 {
            let mid = (lo + hi) / 2.0;
            let csl = achieved(mid);
            consider(mid, csl);
            if csl < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        best.map_or(target, |(l, _)| (l * 1000.0).round() / 1000.0)
    };
    ServiceTargets {
        a: fit(Abc::A),
        b: fit(Abc::B),
        c: fit(Abc::C),
    }
}

/// The table `skuplan simulate` prints.
pub fn render(sim: &Simulation, spec: &SimulationSpec, method: &str) -> String {
    // `method` names what forecast: a method, or "each series' champion".
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy replayed over the last {} days, review every {} days, forecasts by {method}",
        spec.days, spec.settings.review_days
    );
    let _ = writeln!(
        out,
        "{:<6} {:>7} {:>7} {:>7} {:>9} {:>8} {:>9} {:>11} {:>9}",
        "class", "series", "target", "level", "achieved", "gap pts", "fill", "avg stock", "out days"
    );
    for (class, (target, o)) in &sim.by_class {
        let csl = o.cycle_service_level();
        let level = sim.levels.map(|l| match class {
            Abc::A => l.a,
            Abc::B => l.b,
            Abc::C => l.c,
        });
        let _ = writeln!(
            out,
            "{:<6} {:>7} {:>6.1}% {:>6.1}% {:>8.1}% {:>+8.1} {:>8.1}% {:>11.1} {:>9}",
            format!("{class:?}"),
            o.series,
            target * 100.0,
            level.unwrap_or(*target) * 100.0,
            csl * 100.0,
            (csl - target) * 100.0,
            o.fill_rate() * 100.0,
            o.average_stock(),
            o.stockout_days
        );
    }
    let t = &sim.total;
    let _ = writeln!(
        out,
        "{:<6} {:>7} {:>7} {:>7} {:>8.1}% {:>8} {:>8.1}% {:>11.1} {:>9}",
        "all",
        t.series,
        "",
        "",
        t.cycle_service_level() * 100.0,
        "",
        t.fill_rate() * 100.0,
        t.average_stock(),
        t.stockout_days
    );
    let _ = writeln!(
        out,
        "  level: the quantile stocked to, {};\n  \
         achieved: share of review periods with no lost demand; avg stock: units per series per day",
        if sim.levels.is_some() {
            format!(
                "fitted to meet the target on the same {} days a year earlier",
                spec.days
            )
        } else {
            "the target itself (--unfitted)".to_string()
        }
    );
    out
}
