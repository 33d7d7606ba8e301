//! Checking the restock policy against history: replay it over held-out
//! days where the real demand is known. At every review the policy forecasts
//! from the history up to that day, orders up to S, and the order arrives
//! after the lead time; demand that finds no stock is lost. The replay's
//! mechanics are in `plan::replay`.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::domain::{Dataset, Product};
use crate::forecast::baselines::Forecaster;
use crate::plan::calibration::{calibrate, seasonal_origins};
pub use crate::plan::replay::{ExternalForecasts, Outcome, Prepared, fit_service_levels, prepare_all, replay};
use crate::plan::replay::{LumpyScale, prepare_with, rejudged_lumpy_means, replay_with, window};
use crate::plan::restock::{Abc, RestockSettings, ServiceTargets, abc_classes};

#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSpec {
    /// Days at the end of the history the policy is replayed over (on
    /// weekly or monthly data, as many whole periods as come closest).
    pub days: usize,
    pub settings: RestockSettings,
    /// Fit the service levels on days before the replay (as plans do on
    /// the days before them), or use the targets as levels.
    pub fit_levels: bool,
}

impl SimulationSpec {
    /// The replay's length in periods of `period`.
    pub fn steps(&self, period: crate::domain::Period) -> usize {
        period.from_days(self.days)
    }
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

/// Results per ABC class, with the target each class had.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Simulation {
    pub by_class: BTreeMap<Abc, (f64, Outcome)>,
    pub total: Outcome,
    /// The quantile levels the policy ran at, when fitted.
    pub levels: Option<ServiceTargets>,
    /// The periods the levels were fitted on, as (back, until_end): from
    /// `back` to `until_end` periods before the end of each series.
    pub level_window: Option<(usize, usize)>,
    /// What the replay counted in.
    pub period: crate::domain::Period,
    /// Per class (A, B, C), the level the external forecasts' reviews ran
    /// at, where one was fitted on their held-out days.
    pub external_levels: [Option<f64>; 3],
    /// Per class, the external forecasts' lumpy scale from each date it was
    /// re-measured on (see `ExternalForecasts::rejudge_every`).
    pub rejudged: [Vec<(NaiveDate, f64)>; 3],
}

/// Which forecasting method each series uses in a replay.
pub enum MethodChoice<'a> {
    /// The same method everywhere.
    One(&'a dyn Forecaster),
    /// Each series' champion among these, chosen by a backtest that ends
    /// where the replay starts (as `skuplan plan restock` chooses).
    Champions(&'a [Box<dyn Forecaster>]),
    /// The champions as `Champions` chooses them, but the series that the
    /// external forecasts are used for order from those at every review
    /// that has one covering the protection interval (their champion's
    /// elsewhere).
    ChampionsWith(&'a [Box<dyn Forecaster>], &'a ExternalForecasts),
}

/// Each series' champion among `methods` by a backtest whose last scored
/// day is the day before the replay of a series ending on the data's last day.
fn champions<'m>(ds: &Dataset, methods: &'m [Box<dyn Forecaster>], days: usize) -> Vec<&'m dyn Forecaster> {
    let last = ds.date_range().map(|r| r.1);
    let period = ds.period();
    let plan = crate::forecast::BacktestSpec::plan_for(period);
    let bspec = crate::forecast::BacktestSpec {
        origin: last.map(|l| period.step(period.floor(l), -((days + plan.horizon) as i64))),
        ..plan
    };
    let chosen = crate::forecast::backtest::run(ds, methods, &bspec)
        .map(|bt| bt.champions().final_choice)
        .unwrap_or_default();
    (0..ds.demand.len())
        .map(|i| methods[chosen.get(i).copied().flatten().unwrap_or(0)].as_ref())
        .collect()
}

/// The windows the service levels may be fitted on, as (back, until_end),
/// in order of preference: the same weeks a year before the replay
/// (forecast bias turns with the season: fitted on the half-year just
/// before, store-item's spring under-service raised the autumn's levels);
/// the `days` just before the replay; what history there is before the
/// replay. None of them reaches into the replayed days.
pub fn level_windows(ds: &Dataset, days: usize) -> Vec<(usize, usize)> {
    let longest = ds.demand.iter().map(|s| s.values.len()).max().unwrap_or(0);
    // The longest series' days before the replay, less the 28 days of
    // history a window needs before it (see `replay::window`).
    let there_is = longest.saturating_sub(days + 29).min(days);
    let year = ds.period().year();
    let mut out = vec![(days + year, year), (2 * days, days), (days + there_is, days)];
    out.retain(|&(back, until_end)| until_end >= days && back > until_end);
    out.dedup();
    out
}

/// The first replayed date of any series (None when no series has enough
/// history to be replayed): a model that forecasts for the replay must
/// have stopped learning before it.
pub fn replay_start(ds: &Dataset, spec: &SimulationSpec) -> Option<NaiveDate> {
    ds.demand
        .iter()
        .filter_map(|s| window(s.values.len(), spec.steps(s.period), 0).map(|(from, _)| s.date_at(from)))
        .min()
}

/// Every origin (the last day of history seen) that a review of the replay
/// asks a forecast from, over all replayed series, sorted: the dates to
/// fill [`ExternalForecasts::by_origin`] for.
pub fn review_origins(ds: &Dataset, spec: &SimulationSpec) -> Vec<NaiveDate> {
    let period = ds.period();
    let review = crate::plan::restock::steps(period, spec.settings.review_days.max(1));
    let mut out: Vec<NaiveDate> = ds
        .demand
        .iter()
        .filter_map(|s| window(s.values.len(), spec.steps(period), 0).map(|w| (s, w)))
        .flat_map(|(s, (from, to))| (from..to).step_by(review).map(move |t| s.date_at(t - 1)))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Replay the policy on every series of `ds` that has more history than
/// the replay period.
pub fn simulate(ds: &Dataset, choice: MethodChoice<'_>, spec: &SimulationSpec) -> Simulation {
    let period = ds.period();
    let days = spec.steps(period);
    let products: HashMap<&str, &Product> = ds.products.iter().map(|p| (p.sku.as_str(), p)).collect();
    // Classes from the history before the replay, as a plan made then would.
    let before = Dataset {
        products: ds.products.clone(),
        demand: ds
            .demand
            .iter()
            .map(|s| crate::domain::DemandSeries {
                values: s.values[..s.values.len().saturating_sub(days)].to_vec(),
                promo: None,
                ..s.clone()
            })
            .collect(),
        ..Dataset::default()
    };
    let abc = abc_classes(&before, spec.settings.abc_cuts);
    let (per_series, external): (Vec<&dyn Forecaster>, _) = match choice {
        MethodChoice::One(m) => (vec![m; ds.demand.len()], None),
        MethodChoice::Champions(methods) => (champions(ds, methods, days), None),
        MethodChoice::ChampionsWith(methods, ext) => (champions(ds, methods, days), Some(ext)),
    };
    // Calibrate on origins before the replay: the replay is never looked at.
    let mut settings = spec.settings.clone();
    let seasonal = seasonal_origins(period, days);
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
    // The service levels that met the targets on days before the replay
    // (see `level_windows`), with the baselines' forecasts and the same
    // rules; external forecasts of those days could have been learnt from
    // them. Every series runs at the same fitted levels.
    let mut level_window = None;
    if spec.fit_levels {
        let mut prepared = Vec::new();
        for w in level_windows(ds, days) {
            prepared = prepare_all(ds, &per_series, &abc, &settings, &products, w.0, w.1, usize::MAX);
            if !prepared.is_empty() {
                level_window = Some(w);
                break;
            }
        }
        settings.levels = Some(fit_service_levels(ds, &prepared, &settings));
    }
    let mut outside = settings.clone();
    if let Some(c) = external.and_then(|e| e.calibration.as_ref()) {
        outside.calibration = c.clone();
    }
    // The external method's reviews run at its own levels, fitted on its
    // held-out days before the replay (see `ExternalForecasts::levels`).
    let external_levels = external.map_or([None; 3], |e| e.levels);
    let prepared = prepare_with(
        ds,
        &per_series,
        &abc,
        &settings,
        &products,
        (days, 0),
        usize::MAX,
        external,
    );
    let review = super::restock::steps(period, settings.review_days.max(1));
    let rejudged = match external.and_then(|e| Some((e, e.rejudge_every?))) {
        Some((e, every)) => rejudged_lumpy_means(ds, &prepared, e, review, every),
        None => Default::default(),
    };
    let s = &settings;
    let outcomes: Vec<(Abc, f64, Outcome)> = prepared
        .par_iter()
        .map(|p| {
            let target = s.target(p.class);
            let c = p.class as usize;
            let scale = LumpyScale {
                fixed: external.and_then(|e| e.lumpy_mean[c]).unwrap_or(1.0),
                from: &rejudged[c],
            };
            let ext = (&outside, external_levels[c], scale);
            let o = replay_with(&ds.demand[p.series], p, s.level(p.class), s, ext);
            (p.class, target, o)
        })
        .collect();
    let mut sim = Simulation {
        levels: settings.levels,
        external_levels,
        rejudged,
        level_window,
        period,
        ..Simulation::default()
    };
    for (class, sl, o) in outcomes {
        let e = sim.by_class.entry(class).or_insert((sl, Outcome::default()));
        e.1.merge(&o);
        sim.total.merge(&o);
    }
    sim
}

/// A share in percent, "-" when there is none (no period with demand).
fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "-".to_string()
    }
}

/// "A x, B y, C z": one value per class, `each` writing a class's value
/// (or its absence).
fn per_class(values: &[Option<f64>; 3], each: impl Fn(Option<f64>) -> String) -> String {
    let parts: Vec<String> = ["A", "B", "C"]
        .iter()
        .zip(values)
        .map(|(class, v)| format!("{class} {}", each(*v)))
        .collect();
    parts.join(", ")
}

/// Where the external method's lines are stocked to, in words: its
/// regular lines to its own levels per class, its lumpy ones to the
/// baselines'.
pub fn external_levels(levels: &[Option<f64>; 3]) -> String {
    let regular = if levels.iter().all(Option::is_none) {
        "its regular lines to the class's target (too few review periods on its held-out days to fit a level)"
            .to_string()
    } else {
        let why = if levels.iter().any(Option::is_none) {
            " (not fitted: too few review periods there, so the class's target)"
        } else {
            ""
        };
        format!(
            "its regular lines to levels {} of its own errors, fitted on its held-out days{why}",
            per_class(levels, |l| l.map_or_else(|| "not fitted".to_string(), pct))
        )
    };
    format!("{regular}; its lumpy lines to the baselines' levels")
}

/// The factors the external method's lumpy lines' mean is scaled by, per
/// class, in words.
pub fn lumpy_means(scale: &[Option<f64>; 3]) -> String {
    format!(
        "its lumpy lines' Swanson mean scaled by {} (actual demand over that mean on its held-out days)",
        per_class(scale, |f| f.map_or_else(
            || "x1 (too few lumpy series)".to_string(),
            |f| format!("x{f:.2}")
        ))
    )
}

/// The level a simulation ran a class at.
fn level_of(sim: &Simulation, class: Abc, target: f64) -> f64 {
    sim.levels.map_or(target, |l| l.of(class))
}

/// One line of the tables: `who` is the class (and the forecasts' label),
/// `target` the class's target and level (none on the `all` line).
fn line(who: &str, o: &Outcome, target: Option<(f64, f64)>) -> String {
    let csl = o.cycle_service_level();
    let (t, l, gap) = match target {
        Some((t, l)) => (
            pct(t),
            pct(l),
            if csl.is_finite() {
                format!("{:+.1}", (csl - t) * 100.0)
            } else {
                "-".to_string()
            },
        ),
        None => Default::default(),
    };
    // Data without costs or prices has no stock value: "-", not 0.00.
    let value = o.average_value();
    let value = if value > 0.0 { format!("{value:.2}") } else { "-".into() };
    // A lead time as long as the replay counts no day: "-", not 0.
    let units = o.average_stock();
    let units = if units.is_finite() {
        format!("{units:.1}")
    } else {
        "-".into()
    };
    format!(
        "{who} {:>7} {t:>7} {l:>7} {:>9} {gap:>8} {:>7} {units:>10} {value:>11} {:>10}",
        o.series,
        pct(csl),
        pct(o.fill_rate()),
        pct(o.stockout_share()),
    )
}

fn header(who: &str) -> String {
    format!(
        "{who} {:>7} {:>7} {:>7} {:>9} {:>8} {:>7} {:>10} {:>11} {:>10}",
        "series", "target", "level", "achieved", "gap pts", "fill", "avg units", "avg value", "out share"
    )
}

/// What the columns mean, and where the levels came from.
fn footer(sim: &Simulation, spec: &SimulationSpec) -> String {
    let levels = match (sim.levels, sim.level_window) {
        (None, _) => "the target itself (--unfitted)".to_string(),
        (Some(_), Some((back, until_end)))
            if until_end == sim.period.year() && back == spec.steps(sim.period) + until_end =>
        {
            format!(
                "fitted to meet the target on the same {} a year earlier",
                sim.period.count(spec.steps(sim.period))
            )
        }
        (Some(_), Some((back, until_end))) => {
            format!(
                "fitted to meet the target on the {} just before the replay",
                sim.period.count(back - until_end)
            )
        }
        (Some(_), None) => "the target (no history before the replay to fit it on)".to_string(),
    };
    let p = sim.period.name();
    format!(
        "  level: the quantile stocked to, {levels};\n  \
         achieved: share of review periods with demand that lost none (the periods from one review to the\n  \
         next and the last, partial one, once the first order could arrive; a period without demand\n  \
         counts neither way); out share: the rest, periods with demand that lost some;\n  \
         fill: units served from stock / units demanded;\n  \
         avg units, avg value: end-of-{p} stock per series per {p}, in units and at unit cost\n  \
         (at the selling price where no cost is known, 0 where neither is);\n  \
         fill and stock, like achieved, from the {p} the first order could arrive (before it, the\n  \
         replay sells from the stock it starts with)\n"
    )
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
    let _ = writeln!(out, "{}", header(&format!("{:<6}", "class")));
    for (class, (target, o)) in &sim.by_class {
        let who = format!("{:<6}", format!("{class:?}"));
        let _ = writeln!(
            out,
            "{}",
            line(&who, o, Some((*target, level_of(sim, *class, *target))))
        );
    }
    let _ = writeln!(out, "{}", line(&format!("{:<6}", "all"), &sim.total, None));
    out.push_str(&footer(sim, spec));
    out
}

/// Two replays of the same days per class on adjacent lines (`a` first,
/// as the reference), with the change in average stock value of `b`
/// against `a`: "with the model" against "baselines only".
/// The re-judged lumpy scales in a line: per class, how many times it was
/// re-measured and its range.
fn rejudged(r: &[Vec<(NaiveDate, f64)>; 3]) -> String {
    let each: Vec<String> = ["A", "B", "C"]
        .iter()
        .zip(r)
        .map(|(name, v)| {
            let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, f)| {
                (l.min(*f), h.max(*f))
            });
            match v.len() {
                0 => format!("{name} kept"),
                n => format!("{name} x{lo:.2}..x{hi:.2} ({n} times)"),
            }
        })
        .collect();
    format!(
        "its lumpy means re-measured on its own forecasts of the periods before each re-judging: {}",
        each.join(", ")
    )
}

pub fn render_side_by_side(
    a: &Simulation,
    b: &Simulation,
    spec: &SimulationSpec,
    label_a: &str,
    label_b: &str,
) -> String {
    use std::fmt::Write as _;
    let width = label_a.chars().count().max(label_b.chars().count()).max(9);
    let who = |class: &str, label: &str| format!("{class:<6} {label:<width$}");
    let change = |x: &Outcome, y: &Outcome| {
        let (va, vb) = (x.average_value(), y.average_value());
        if va > 0.0 {
            format!("{:>+10.1}%", (vb / va - 1.0) * 100.0)
        } else {
            format!("{:>11}", "-")
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy replayed over the last {} days, review every {} days: {label_a} against {label_b}",
        spec.days, spec.settings.review_days
    );
    let _ = writeln!(out, "{} {:>11}", header(&who("class", "forecasts")), "value chg");
    let mut classes: Vec<Abc> = a.by_class.keys().chain(b.by_class.keys()).copied().collect();
    classes.sort_unstable();
    classes.dedup();
    let none = (f64::NAN, Outcome::default());
    for class in classes {
        let (ta, oa) = a.by_class.get(&class).unwrap_or(&none);
        let (tb, ob) = b.by_class.get(&class).unwrap_or(&none);
        let name = format!("{class:?}");
        let _ = writeln!(
            out,
            "{}",
            line(&who(&name, label_a), oa, Some((*ta, level_of(a, class, *ta))))
        );
        let _ = writeln!(
            out,
            "{} {}",
            line(&who(&name, label_b), ob, Some((*tb, level_of(b, class, *tb)))),
            change(oa, ob)
        );
    }
    let _ = writeln!(out, "{}", line(&who("all", label_a), &a.total, None));
    let _ = writeln!(
        out,
        "{} {}",
        line(&who("all", label_b), &b.total, None),
        change(&a.total, &b.total)
    );
    for (label, sim) in [(label_a, a), (label_b, b)] {
        if sim.total.external_reviews > 0 {
            let _ = writeln!(
                out,
                "  {label}: {} of {} reviews ordered from the external forecasts",
                sim.total.external_reviews, sim.total.reviews
            );
            let _ = writeln!(out, "  {label}: {}", external_levels(&sim.external_levels));
            if sim.rejudged.iter().any(|r| !r.is_empty()) {
                let _ = writeln!(out, "  {label}: {}", rejudged(&sim.rejudged));
            }
        }
    }
    out.push_str(&footer(b, spec));
    out.push_str("  value chg: average stock value of the second line against the first\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Data without costs or prices has no stock value: the column says
    /// "-", not 0.00.
    #[test]
    fn a_stock_value_of_nothing_reads_as_none() {
        let text = line("all    baselines", &Outcome::default(), None);
        assert!(!text.contains("0.00"), "{text}");
        assert!(text.split_whitespace().any(|w| w == "-"), "{text}");
    }

    fn of_len(len: usize) -> Dataset {
        Dataset {
            demand: vec![crate::domain::DemandSeries {
                sku: "A".into(),
                warehouse: "W".into(),
                start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                values: vec![1.0; len],
                promo: None,
                period: Default::default(),
            }],
            ..Dataset::default()
        }
    }

    #[test]
    fn level_windows_stay_before_the_replay() {
        // A year earlier where it fits, then the half-year just before.
        assert_eq!(level_windows(&of_len(1000), 182), vec![(546, 364), (364, 182)]);
        // Over a year replayed: the year-earlier weeks would overlap it.
        assert_eq!(level_windows(&of_len(900), 400), vec![(800, 400)]);
        assert_eq!(level_windows(&of_len(700), 400), vec![(800, 400), (671, 400)]);
        // Nothing before the replay: nothing to fit on.
        assert_eq!(level_windows(&of_len(420), 400), vec![(800, 400)]);
        for (len, days) in [(2000, 30), (2000, 364), (2000, 365), (800, 500), (300, 200)] {
            for (back, until_end) in level_windows(&of_len(len), days) {
                assert!(
                    until_end >= days && back > until_end,
                    "{len} {days}: {back} {until_end}"
                );
            }
        }
    }

    #[test]
    fn side_by_side_shows_the_change_in_stock_value() {
        let o = |value_days: f64| Outcome {
            series: 1,
            periods_with_demand: 10,
            periods_stocked_out: 1,
            demand: 100.0,
            served: 95.0,
            stock_days: value_days / 2.0,
            value_days,
            days: 10,
            ..Outcome::default()
        };
        let sim = |value_days: f64| Simulation {
            by_class: [(Abc::A, (0.98, o(value_days)))].into_iter().collect(),
            total: o(value_days),
            ..Simulation::default()
        };
        let spec = SimulationSpec::default();
        let text = render_side_by_side(&sim(200.0), &sim(150.0), &spec, "baselines", "with model");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].starts_with("A      baselines "), "{text}");
        assert!(
            lines[3].starts_with("A      with model") && lines[3].ends_with("-25.0%"),
            "{text}"
        );
        assert!(
            lines[5].starts_with("all    with model") && lines[5].ends_with("-25.0%"),
            "{text}"
        );
        assert!(lines[2].contains("90.0%") && lines[2].contains("10.0%"), "{text}");
        let one = render(&sim(200.0), &spec, "ma28");
        assert!(one.contains("review periods with demand"), "{one}");
    }
}
