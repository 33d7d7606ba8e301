//! Restock plans: a periodic-review, order-up-to policy per SKU and
//! warehouse, computed from the forecast quantiles.
//!
//! Every `review_days` the planner orders up to S, the service-level
//! quantile of demand over the protection interval (lead time + review
//! period). Order = S - inventory position (on hand + what is on order and
//! arrives within the interval), never negative, raised to the MOQ and
//! rounded up to the pack size. Every line says why it is there.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use super::abc::{Abc, abc_classes};

use super::demand::z;
pub use super::demand::{
    DailyForecast, intermittency, intermittency_up_to, nb_quantile, round_order, sum_stats, sum_stats_part,
    swanson_mean, with_mean_as_median,
};
pub use super::reason::Reason;
use crate::domain::{Dataset, DemandSeries, InventoryRecord, Period, Product, SeriesForecast};

/// Service level targets by ABC class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServiceTargets {
    pub a: f64,
    pub b: f64,
    pub c: f64,
}

impl ServiceTargets {
    /// The value for one class.
    pub fn of(&self, class: Abc) -> f64 {
        match class {
            Abc::A => self.a,
            Abc::B => self.b,
            Abc::C => self.c,
        }
    }
}

impl Default for ServiceTargets {
    fn default() -> Self {
        ServiceTargets {
            a: 0.98,
            b: 0.95,
            c: 0.90,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestockSettings {
    /// Days between two orders of the same line.
    pub review_days: u32,
    pub service: ServiceTargets,
    /// Cumulative value shares that end classes A and B.
    pub abc_cuts: (f64, f64),
    /// Correlation assumed between the forecast errors of two days when
    /// daily spreads are added up over the protection interval: 0 treats
    /// days as independent (too little safety stock when a level is off for
    /// weeks), 1 as moving together.
    pub error_correlation: f64,
    /// Spend cap per warehouse (in unit-cost money), if any.
    pub budget: HashMap<String, f64>,
    /// Measured spread of forecast errors (see [`calibrate`]); the normal
    /// distribution is used until one is measured.
    #[serde(skip)]
    pub calibration: Calibration,
    /// The quantile levels that met the targets in a replay of the recent
    /// past (see `plan::replay::fit_service_levels`); the
    /// targets themselves until fitted. Lumpy demand, packs, MOQs and
    /// whole units make a line served more often than the quantile it is
    /// stocked to; the fitted level takes that back.
    #[serde(default)]
    pub levels: Option<ServiceTargets>,
    /// Days of the replay `levels` were fitted on, when that was the days
    /// just before the plan (under a year of history), not the same weeks
    /// a year before: the summary says which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels_on_recent_days: Option<usize>,
    /// Forecasts made outside plan (the fine-tuned model) and their own
    /// safety-stock rules, measured on days that method never learnt from:
    /// lines whose forecast carries this method name use them instead of
    /// `calibration` and `levels` (its lumpy lines, as the baselines', are
    /// stocked from a negative binomial, with its mean).
    #[serde(skip)]
    pub external: Option<ExternalRules>,
}

/// Safety-stock rules of a method whose forecasts are made outside plan
/// (the fine-tuned model), measured on its held-out days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExternalRules {
    /// The method's name, as its forecasts carry it.
    pub name: String,
    /// Its standardised errors over the protection interval.
    pub calibration: Calibration,
    /// Per class (A, B, C), the quantile level that met the target in a
    /// replay of its held-out days (as `RestockSettings::levels` does for
    /// the baselines), for its regular and lumpy lines alike. None where
    /// it was not fitted: regular lines then stock to the target, lumpy
    /// ones to the baselines' level.
    pub levels: [Option<f64>; 3],
    /// Per class, actual demand over its Swanson mean on the held-out days
    /// of the lumpy series it forecast: what its lumpy lines' mean is
    /// scaled by (None: 1).
    pub lumpy_mean: [Option<f64>; 3],
}

impl ExternalRules {
    /// The quantile level a class's lines are stocked to: its regular
    /// lines to its own level (the class's target where none was fitted),
    /// its lumpy ones to the baselines' level. A lumpy line's order-up-to
    /// level comes from the same negative binomial with the history's
    /// dispersion whichever method gives the mean, and the run's mean is
    /// already scaled for its bias (`lumpy_mean`), so the level that makes
    /// that distribution's tail meet the target is the one fitted on the
    /// baselines' half-year of reviews, not one fitted on the few lumpy
    /// periods of the run's held-out days.
    pub fn level(&self, class: Abc, lumpy: bool, settings: &RestockSettings) -> f64 {
        match (self.levels[class as usize], lumpy) {
            (_, true) => settings.level(class),
            (Some(l), false) => l,
            (None, false) => settings.target(class),
        }
    }
}

impl RestockSettings {
    /// The target cycle service level of a class.
    pub fn target(&self, class: Abc) -> f64 {
        self.service.of(class)
    }

    /// The quantile level a class is stocked to.
    pub fn level(&self, class: Abc) -> f64 {
        self.levels.map_or_else(|| self.target(class), |l| l.of(class))
    }
}

impl Default for RestockSettings {
    fn default() -> Self {
        RestockSettings {
            review_days: 7,
            service: ServiceTargets::default(),
            abc_cuts: (0.80, 0.95),
            error_correlation: 0.1,
            budget: HashMap::new(),
            calibration: Calibration::default(),
            levels: None,
            levels_on_recent_days: None,
            external: None,
        }
    }
}

/// One proposed order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestockLine {
    pub sku: String,
    pub warehouse: String,
    pub title: String,
    /// The forecasting method behind the line (a baseline's name, or the
    /// fine-tuned model's). Plans saved before this field read as empty.
    #[serde(default)]
    pub method: String,
    pub supplier: Option<String>,
    pub abc: Abc,
    pub service_level: f64,
    /// The class's target cycle service level (`service_level` is the
    /// quantile stocked to, fitted to meet it).
    #[serde(default)]
    pub target_service: f64,
    /// Stocked from the negative binomial: intermittent or erratic demand
    /// (see `demand::intermittency_with`).
    pub intermittent: bool,
    pub lead_time_days: u32,
    pub review_days: u32,
    /// The period the line's forecast counts (days unless the data is
    /// weekly or monthly).
    #[serde(default)]
    pub period: Period,
    /// The periods to the boundary the order arrives by, and the review
    /// in whole periods, rounded up (equal to the days on daily data).
    #[serde(default)]
    pub lead_periods: u32,
    #[serde(default)]
    pub review_periods: u32,
    /// The periods of demand the order-up-to level covers: the lead time
    /// in days (the last period by its share) and the review in whole
    /// periods.
    #[serde(default)]
    pub protect_periods: f64,
    pub on_hand: f64,
    /// False when the inventory file had no row for the line: stock is
    /// then taken as zero. (Plans saved before this field read as known.)
    #[serde(default = "known")]
    pub stock_known: bool,
    /// On order and due within the protection interval.
    pub on_order_in_time: f64,
    pub inventory_position: f64,
    /// Expected (p50) demand over lead time + review period.
    pub protection_demand: f64,
    pub order_up_to: f64,
    pub reorder_point: f64,
    pub safety_stock: f64,
    /// S - position before MOQ, pack and budget.
    pub raw_qty: f64,
    pub order_qty: u32,
    pub pack_size: u32,
    pub moq: u32,
    pub unit_cost: f64,
    pub line_cost: f64,
    pub order_date: NaiveDate,
    pub arrival: NaiveDate,
    /// First projected stock-out without the order, over the whole forecast.
    pub stockout_without: Option<NaiveDate>,
    /// First projected stock-out with the order, before the next review's
    /// order arrives (lead time + review period).
    pub stockout_with: Option<NaiveDate>,
    /// Projected on hand at the end of each forecast day.
    pub projected_without: Vec<f64>,
    pub projected_with: Vec<f64>,
    pub reasons: Vec<Reason>,
}

impl RestockLine {
    /// The products file gave the line a unit cost (0 stands for none:
    /// costs and budgets leave such a line out).
    pub fn cost_known(&self) -> bool {
        self.unit_cost > 0.0
    }

    /// What `qty` units of the line cost, where its unit cost is known.
    pub fn cost_for(&self, qty: u32) -> Option<f64> {
        self.cost_known().then(|| f64::from(qty) * self.unit_cost)
    }

    pub fn key(&self) -> (String, String) {
        (self.sku.clone(), self.warehouse.clone())
    }

    /// The lead time and review period the line protects, as a planner
    /// reads them: in days, and on weekly or monthly data the whole
    /// periods they were converted to.
    pub fn protection_text(&self) -> String {
        if self.period == Period::Day {
            return format!("lead time {} d + review {} d", self.lead_time_days, self.review_days);
        }
        format!(
            "lead time {} d + review {} d ({}, whole) = {:.2} {}",
            self.lead_time_days,
            self.review_days,
            self.period.count(self.review_periods as usize),
            self.protect_periods,
            self.period.plural()
        )
    }

    pub fn reason_text(&self) -> String {
        self.reasons
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// [`Reason::short`] of each reason; the stock-out date only where it
    /// is the only reason (the table's `out` column shows it).
    pub fn reason_short(&self) -> String {
        let alone = self.reasons.len() == 1;
        self.reasons
            .iter()
            .filter(|r| alone || !matches!(r, Reason::StockOut(_)))
            .map(Reason::short)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn known() -> bool {
    true
}

/// A plan: one line per SKU and warehouse with a forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestockPlan {
    pub plan_date: NaiveDate,
    pub settings: RestockSettings,
    pub lines: Vec<RestockLine>,
    /// Products in the products file that no line covers, and why.
    #[serde(default)]
    pub not_forecast: Vec<crate::forecast::launch::NotForecast>,
    /// The data a command's `--data` planned it from, which exports must
    /// not land on (the workspace's own data is in its sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<std::path::PathBuf>,
    /// The [`crate::workspace::data_key`] of the files it was planned
    /// from: an export of it checks that they have not changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
}

impl RestockPlan {
    /// The day orders are placed: the first forecast day, or the day after
    /// the data's last day when that falls inside the first week or month.
    pub fn order_day(&self) -> NaiveDate {
        self.lines
            .iter()
            .map(|l| l.order_date)
            .max()
            .unwrap_or(self.plan_date)
            .max(self.plan_date)
    }

    pub fn total_cost(&self) -> f64 {
        self.lines.iter().map(|l| l.line_cost).sum()
    }

    pub fn ordering(&self) -> impl Iterator<Item = &RestockLine> {
        self.lines.iter().filter(|l| l.order_qty > 0)
    }

    /// Whether money totals count every line: each line that orders has a
    /// unit cost. Without (sales data alone, or a products file costing
    /// only some SKUs, whose other lines a money total counted as nothing)
    /// the plan is read in units.
    pub fn has_costs(&self) -> bool {
        let mut ordering = self.ordering().peekable();
        if ordering.peek().is_none() {
            return self.lines.iter().any(RestockLine::cost_known);
        }
        ordering.all(RestockLine::cost_known)
    }
}

/// A lead time or review period given in days, counted in whole periods of
/// `period` (rounded up: a 3-day lead time is a week of a weekly plan).
pub fn steps(period: Period, days: u32) -> usize {
    period.periods_for_days(f64::from(days))
}

/// The service-level quantile of the sum of `n` daily demands.
///
/// Regular items: the forecast mean plus the calibrated quantile of the
/// standardised error times the spread of the sum (the normal's z until a
/// calibration is measured). Intermittent items: negative binomial with
/// the same mean and the history's dispersion.
pub fn protection_quantile(
    daily: &DailyForecast<'_>,
    from: usize,
    n: usize,
    sl: f64,
    class: Abc,
    settings: &RestockSettings,
    intermittent: Option<f64>,
) -> (f64, f64) {
    protection_quantile_with(
        daily,
        from,
        n as f64,
        sl,
        class,
        settings,
        &settings.calibration,
        intermittent,
    )
}

/// [`protection_quantile`] with another calibration (a method's own), over
/// `n` periods, the last of them perhaps a part.
#[allow(clippy::too_many_arguments)]
pub fn protection_quantile_with(
    daily: &DailyForecast<'_>,
    from: usize,
    n: f64,
    sl: f64,
    class: Abc,
    settings: &RestockSettings,
    calibration: &Calibration,
    intermittent: Option<f64>,
) -> (f64, f64) {
    let (mean, sd) = sum_stats_part(daily, from, n, settings.error_correlation);
    let q = match intermittent {
        Some(dispersion) => nb_quantile(mean, mean * dispersion.max(1.0), sl),
        None => mean + calibration.z_for(sl, class) * sd,
    };
    // Never below the median demand of the interval.
    (mean, q.max(mean))
}

/// How far actual demand over a protection interval strayed from its
/// forecast, in units of the forecast's own spread, measured on past
/// origins of the data. Its quantiles stand in for the normal's z, which
/// corrects both a biased forecast and a spread of the wrong shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Standardised errors of every series, sorted.
    errors: Vec<f64>,
    /// The same by ABC class (A, B, C), sorted: low-volume lines err
    /// differently from high-volume ones.
    by_class: [Vec<f64>; 3],
}

impl Calibration {
    /// Fewer errors than this and the pooled errors (or the normal
    /// distribution) are used.
    pub const MIN_SAMPLES: usize = 100;

    pub fn from_errors(errors: Vec<f64>) -> Self {
        Self::from_class_errors(errors.into_iter().map(|e| (Abc::C, e)).collect())
    }

    pub fn from_class_errors(errors: Vec<(Abc, f64)>) -> Self {
        let mut c = Calibration::default();
        for (class, e) in errors.into_iter().filter(|(_, e)| e.is_finite()) {
            c.errors.push(e);
            c.by_class[class as usize].push(e);
        }
        c.errors.sort_by(f64::total_cmp);
        for v in &mut c.by_class {
            v.sort_by(f64::total_cmp);
        }
        c
    }

    pub fn samples(&self) -> usize {
        self.errors.len()
    }

    /// The standardised error not exceeded with probability `sl`, over all
    /// series.
    pub fn z(&self, sl: f64) -> f64 {
        quantile_of(&self.errors, sl).unwrap_or_else(|| z(sl))
    }

    /// The same for one class, falling back to all series.
    pub fn z_for(&self, sl: f64, class: Abc) -> f64 {
        quantile_of(&self.by_class[class as usize], sl).unwrap_or_else(|| self.z(sl))
    }

    /// The highest level a class's errors support: the one whose quantile
    /// leaves `TAIL_SUPPORT` errors above it (0.999 where the normal
    /// stands in). A level fitted above it would read one of the few
    /// largest errors as its z, and with heavy tails (a line that sold a
    /// few a day, then one order of thousands) those run to thousands of
    /// spreads: every line of the class would be stocked to them.
    pub fn supported_level(&self, class: Abc) -> f64 {
        let n = [&self.by_class[class as usize], &self.errors]
            .into_iter()
            .map(Vec::len)
            .find(|n| *n >= Self::MIN_SAMPLES);
        n.map_or(0.999, |n| (1.0 - TAIL_SUPPORT as f64 / n as f64).clamp(0.5, 0.999))
    }
}

/// Errors a fitted level must leave above its quantile (see
/// [`Calibration::supported_level`]).
pub const TAIL_SUPPORT: usize = 10;

fn quantile_of(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n < Calibration::MIN_SAMPLES {
        return None;
    }
    let rank = (p.clamp(0.0, 1.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Lines whose forecast the planner overrode, with the override's reason,
/// keyed by (sku, warehouse). The forecasts passed in already carry the
/// overrides (see `plan::scenario`).
pub type Adjustments = HashMap<(String, String), String>;

/// Build the plan. `plan_date` is the first forecast day (the day after the
/// history ends); forecasts are matched to inventory by SKU and warehouse.
pub fn build_plan(
    ds: &Dataset,
    forecasts: &[SeriesForecast],
    adjustments: &Adjustments,
    settings: &RestockSettings,
) -> RestockPlan {
    let plan_date = forecasts
        .iter()
        .map(|f| f.period.days_of(f.start).0)
        .min()
        .unwrap_or_else(|| {
            ds.date_range()
                .map_or(NaiveDate::MIN, |(_, l)| l + chrono::Days::new(1))
        });
    let products: HashMap<&str, &Product> = ds.products.iter().map(|p| (p.sku.as_str(), p)).collect();
    let inventory: HashMap<(&str, &str), &InventoryRecord> = ds
        .inventory
        .iter()
        .map(|r| ((r.sku.as_str(), r.warehouse.as_str()), r))
        .collect();
    let history: HashMap<(&str, &str), &DemandSeries> = ds
        .demand
        .iter()
        .map(|s| ((s.sku.as_str(), s.warehouse.as_str()), s))
        .collect();
    let abc = abc_classes(ds, settings.abc_cuts);

    let mut lines: Vec<RestockLine> = forecasts
        .iter()
        .map(|f| {
            let key = (f.sku.as_str(), f.warehouse.as_str());
            let product = products.get(f.sku.as_str()).copied();
            let adj = adjustments.get(&(f.sku.clone(), f.warehouse.clone()));
            // A first week or month partly sold already (its days up to
            // the data's last day left out of demand, but gone from stock
            // on hand): only the rest of it is demand to plan for.
            let trimmed;
            let sold = ds.sold_until.get(&f.warehouse).and_then(|d| f.rest_of_first_period(*d));
            let f = match sold {
                Some((share, _)) => {
                    trimmed = f.with_first_period_scaled(share);
                    &trimmed
                }
                None => f,
            };
            let mut line = line_for(
                f,
                product,
                inventory.get(&key).copied(),
                history.get(&key).copied(),
                abc.get(&(f.sku.clone(), f.warehouse.clone()))
                    .copied()
                    .unwrap_or(Abc::C),
                adj,
                settings,
                sold.map_or(0, |(_, day)| (day - f.start).num_days().max(0) as u32),
            );
            if let Some((_, day)) = sold {
                // Ordered that day; a stock-out the first period foresees
                // falls on a day still ahead, in the line and its reasons.
                line.order_date = day;
                for s in [&mut line.stockout_without, &mut line.stockout_with] {
                    *s = s.map(|d| d.max(day));
                }
                for r in &mut line.reasons {
                    if let Reason::StockOut(d) = r {
                        *d = (*d).max(day);
                    }
                }
            }
            line
        })
        .collect();
    apply_budgets(&mut lines, settings);
    lines.sort_by(|a, b| (&a.sku, &a.warehouse).cmp(&(&b.sku, &b.warehouse)));
    RestockPlan {
        plan_date,
        settings: settings.clone(),
        lines,
        not_forecast: Vec::new(),
        data: None,
        data_key: None,
    }
}

/// `sold_days`: days of the first period gone before the order day (a last
/// period left out as partial): the lead time counts from the order day, so
/// the arrival falls that much later in the periods.
#[allow(clippy::too_many_arguments)]
fn line_for(
    f: &SeriesForecast,
    product: Option<&Product>,
    inv: Option<&InventoryRecord>,
    history: Option<&DemandSeries>,
    abc: Abc,
    adj: Option<&String>,
    settings: &RestockSettings,
    sold_days: u32,
) -> RestockLine {
    let lead = product.map_or(7, |p| p.lead_time_days);
    let review = settings.review_days.max(1);
    let pack = product.map_or(1, |p| p.pack_size.max(1));
    let moq = product.map_or(0, |p| p.moq);
    let unit_cost = product.and_then(|p| p.unit_cost).unwrap_or(0.0);
    let disp = intermittency(history);
    let period = f.period;
    let span = super::demand::Span::new(f.period, f.start, sold_days, lead, review);
    let (review_p, lead_cover, cover, until) = (span.review, span.lead, span.cover, span.until);
    let protect = cover.ceil() as usize;
    // Shown to arrive by the period boundary on or after its arrival;
    // the projection takes it in the period it arrives in.
    let lead_p = lead_cover.ceil() as usize;
    // A method with its own calibration (the fine-tuned model) stocks its
    // regular lines from its quantiles and calibration to its own levels
    // fitted on its held-out days (the baselines' levels correct their
    // errors, its levels its own), and its lumpy ones as the baselines'
    // are (negative binomial with the history's dispersion) from its
    // scaled mean, at the baselines' levels (see `ExternalRules::level`).
    let external = settings.external.as_ref().filter(|e| e.name == f.model);
    let lumpy;
    let f = match (external, disp) {
        (Some(e), Some(_)) => {
            lumpy = with_mean_as_median(f, e.lumpy_mean[abc as usize].unwrap_or(1.0));
            &lumpy
        }
        _ => f,
    };
    let daily = DailyForecast::new(f);
    // A launch's band is its own, chosen on past launches: it is stocked
    // to the class's target from that band (normal), not through the
    // baselines' calibration and fitted levels, which correct the
    // baselines' errors on series with history.
    let normal = Calibration::default();
    let (calibration, spread, sl) = match external {
        Some(e) if disp.is_none() => (&e.calibration, None, e.level(abc, false, settings)),
        Some(e) => (&settings.calibration, disp, e.level(abc, true, settings)),
        _ if f.model == crate::forecast::launch::METHOD => (&normal, None, settings.target(abc)),
        _ => (&settings.calibration, disp, settings.level(abc)),
    };
    let (mean, s) = protection_quantile_with(&daily, 0, cover, sl, abc, settings, calibration, spread);
    let rop_cover = if lead_cover > 0.0 { lead_cover } else { span.day };
    let (_, rop) = protection_quantile_with(&daily, 0, rop_cover, sl, abc, settings, calibration, spread);

    // The first day of period t: dates are days of the calendar (a month
    // stamped on its last day starts on its 1st; it ordered on the 30th).
    let at = |t: usize| period.days_of(period.step(f.start, t as i64)).0;
    let plan_date = at(0);
    // The day the protection ends: on-order stock due before it counts.
    let in_time = until;
    let on_hand = inv.map_or(0.0, |r| r.on_hand);
    // Stock on order without a due date is taken to arrive after the lead time.
    let due = inv.map(|r| {
        r.due_date
            .unwrap_or(plan_date + chrono::Days::new(u64::from(sold_days.saturating_add(lead))))
    });
    let on_order = inv.map_or(0.0, |r| r.on_order);
    let on_order_in_time = if due.is_some_and(|d| d < in_time) {
        on_order
    } else {
        0.0
    };
    let position = on_hand + on_order_in_time;
    let raw = (s - position).max(0.0);
    let qty = round_order(raw, moq, pack);

    // Projected stock, day by day, with the p50 demand.
    let horizon = f.p50.len().max(protect);
    let arrival_day = lead_cover.floor() as usize;
    let arrival_share = lead_cover - lead_cover.floor();
    // The period holding a day (stock due then counts from its start).
    let due_day = due.and_then(|d| (0..horizon).find(|&t| period.days_of(period.step(f.start, t as i64)).1 >= d));
    let out_on = |t: usize, stock: f64, demand: f64| super::demand::stock_out_day(period, f.start, t, stock, demand);
    // `until`: the periods a stock-out counts in (the last by its share).
    // With the order that is the end of the protection interval; after it
    // the next review's order is due to arrive. In the period the order
    // arrives in, stock can run out before it does.
    let project = |with: u32, until: f64| -> (Vec<f64>, Option<NaiveDate>) {
        let mut stock = on_hand;
        let mut out = Vec::with_capacity(horizon);
        let mut first = None;
        for t in 0..horizon {
            if due_day == Some(t) {
                stock += on_order;
            }
            let demand = daily.at(t).1;
            let share = (until - t as f64).clamp(0.0, 1.0);
            if t == arrival_day && with > 0 {
                let before = arrival_share.min(share);
                if first.is_none() && share > 0.0 && stock - demand * before < -1e-9 {
                    first = Some(out_on(t, stock, demand));
                }
                stock += f64::from(with);
            }
            if first.is_none() && share > 0.0 && stock - demand * share < -1e-9 {
                first = Some(out_on(t, stock, demand));
            }
            stock -= demand;
            out.push(stock);
        }
        (out, first)
    };
    let (projected_without, stockout_without) = project(0, horizon as f64);
    let (projected_with, stockout_with) = project(qty, cover);

    let mut reasons = Vec::new();
    if position < rop {
        reasons.push(Reason::BelowReorderPoint {
            position,
            reorder_point: rop,
        });
    }
    // A stock-out after the next review is the next order's business.
    if let Some(d) = stockout_without.filter(|_| qty > 0) {
        reasons.push(Reason::StockOut(d));
    }
    let promo_soon = history
        .and_then(|h| h.promo.as_ref())
        .is_some_and(|p| p.iter().rev().take(3).any(|x| *x));
    if promo_soon && qty > 0 {
        reasons.push(Reason::Promotion);
    }
    if let Some(why) = adj {
        reasons.push(Reason::Override(why.clone()));
    }
    if qty > 0 && f64::from(moq) > raw.ceil() {
        reasons.push(Reason::MoqRaised {
            from: raw,
            to: qty,
            moq,
            pack,
        });
    }
    if qty == 0 && s <= 1e-9 {
        // What it sold over the last four weeks, in the data's periods.
        let n = period.from_days(28);
        let sold = history.map_or(0.0, |h| h.values.iter().rev().take(n).map(|v| v.max(0.0)).sum());
        // "its last month", "its last 4 weeks".
        let over = if n == 1 {
            period.name().to_string()
        } else {
            period.count(n)
        };
        reasons.push(Reason::NoDemandForecast { sold, over });
    } else if qty == 0 {
        reasons.push(Reason::Covered);
    } else if reasons.is_empty() {
        // Above the reorder point, with no stock-out ahead, the review
        // still orders S minus the position: say so (such lines gave no
        // reason at all).
        reasons.push(Reason::BelowOrderUpTo {
            position,
            order_up_to: s,
        });
    }

    RestockLine {
        sku: f.sku.clone(),
        warehouse: f.warehouse.clone(),
        title: product.map_or_else(|| f.sku.clone(), |p| p.title.clone()),
        method: f.model.clone(),
        supplier: product.and_then(|p| p.supplier.clone()),
        abc,
        service_level: sl,
        target_service: settings.target(abc),
        intermittent: disp.is_some(),
        lead_time_days: lead,
        review_days: review,
        period,
        lead_periods: lead_p as u32,
        review_periods: review_p as u32,
        protect_periods: span.calendar,
        on_hand,
        stock_known: inv.is_some(),
        on_order_in_time,
        inventory_position: position,
        protection_demand: mean,
        order_up_to: s,
        reorder_point: rop,
        safety_stock: s - mean,
        raw_qty: raw,
        order_qty: qty,
        pack_size: pack,
        moq,
        unit_cost,
        line_cost: f64::from(qty) * unit_cost,
        order_date: plan_date,
        // On daily data the lead time's day; otherwise the period boundary
        // the order is planned to arrive by.
        arrival: at(lead_p).max(plan_date + chrono::Days::new(u64::from(sold_days))),
        stockout_without,
        stockout_with,
        projected_without,
        projected_with,
        reasons,
    }
}

/// Cut each warehouse's orders to its budget, keeping the lines that avoid
/// the most expected shortage value per unit of money; a line that does not
/// fit whole is cut to the largest valid quantity that does, or to zero.
fn apply_budgets(lines: &mut [RestockLine], settings: &RestockSettings) {
    for (wh, budget) in &settings.budget {
        let mut idx: Vec<usize> = (0..lines.len())
            .filter(|i| lines[*i].warehouse == *wh && lines[*i].order_qty > 0)
            .collect();
        // Shortage avoided: what the order covers of the demand the current
        // position does not, in units per money spent on the line (the
        // unit cost cancelled out, and a dear line outranked a cheap one
        // that avoided three times the shortage per money).
        let worth = |l: &RestockLine| {
            let short = (l.protection_demand - l.inventory_position)
                .max(0.0)
                .min(f64::from(l.order_qty));
            (short + 0.01 * f64::from(l.order_qty)) / l.line_cost.max(1e-9)
        };
        idx.sort_by(|a, b| worth(&lines[*b]).total_cmp(&worth(&lines[*a])).then(a.cmp(b)));
        let mut left = *budget;
        for i in idx {
            let l = &mut lines[i];
            if l.line_cost <= left {
                left -= l.line_cost;
                continue;
            }
            let from = l.order_qty;
            let affordable = if l.unit_cost > 0.0 {
                (left / l.unit_cost).floor()
            } else {
                0.0
            };
            let pack = l.pack_size.max(1);
            let mut q = (affordable as u32 / pack) * pack;
            if q < l.moq {
                q = 0;
            }
            l.order_qty = q;
            l.line_cost = f64::from(q) * l.unit_cost;
            left -= l.line_cost;
            l.reasons.push(Reason::BudgetCut { from });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_respects_moq_and_pack() {
        assert_eq!(round_order(0.0, 10, 6), 0);
        assert_eq!(round_order(-3.0, 10, 6), 0);
        assert_eq!(round_order(0.2, 0, 1), 1);
        assert_eq!(round_order(3.0, 10, 6), 12);
        assert_eq!(round_order(13.0, 10, 6), 18);
        assert_eq!(round_order(12.0, 0, 6), 12);
        assert_eq!(round_order(5.0, 0, 0), 5);
        assert_eq!(round_order(1e12, 0, 7) % 7, 0, "whole packs at the ceiling");
    }

    #[test]
    fn calibration_quantiles_fall_back_to_the_normal() {
        let few = Calibration::from_errors(vec![0.0; 10]);
        assert!((few.z(0.95) - 1.644_853_626_951).abs() < 1e-6);
        // 0.00, 0.01, ... 0.99 (and a NaN that is dropped).
        let mut e: Vec<f64> = (0..100).rev().map(|i| f64::from(i) / 100.0).collect();
        e.push(f64::NAN);
        let c = Calibration::from_errors(e);
        assert_eq!(c.samples(), 100);
        assert_eq!(c.z(0.95), 0.94);
        assert_eq!(c.z(1.0), 0.99);
        assert_eq!(c.z(0.0), 0.0);
    }

    #[test]
    fn the_supported_level_leaves_ten_errors_above_it() {
        assert_eq!(Calibration::default().supported_level(Abc::A), 0.999);
        let mut e: Vec<(Abc, f64)> = (0..400).map(|i| (Abc::C, f64::from(i))).collect();
        e.extend((0..50).map(|i| (Abc::A, f64::from(i))));
        let c = Calibration::from_class_errors(e);
        // C has its own 400 errors; A has 50, too few, so the pooled 450.
        assert!((c.supported_level(Abc::C) - 0.975).abs() < 1e-12);
        assert!((c.supported_level(Abc::A) - (1.0 - 10.0 / 450.0)).abs() < 1e-12);
        let big = Calibration::from_errors((0..100_000).map(f64::from).collect());
        assert_eq!(big.supported_level(Abc::C), 0.999);
    }

    #[test]
    fn negative_binomial_quantiles() {
        // Poisson(2): P(X<=3) = 0.857, P(X<=4) = 0.947.
        assert_eq!(nb_quantile(2.0, 2.0, 0.85), 3.0);
        assert_eq!(nb_quantile(2.0, 2.0, 0.90), 4.0);
        // Overdispersed: a higher quantile than Poisson with the same mean.
        assert!(nb_quantile(2.0, 8.0, 0.95) > nb_quantile(2.0, 2.0, 0.95));
        assert_eq!(nb_quantile(0.0, 0.0, 0.95), 0.0);
    }
}
