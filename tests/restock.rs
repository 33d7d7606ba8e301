//! Restock plans: hand-computed lines and the laws every plan obeys.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use skuplan::domain::{Dataset, DemandSeries, InventoryRecord, Product, SeriesForecast};
use skuplan::plan::demand::nb_quantile;
use skuplan::plan::restock::{Adjustments, Reason, RestockSettings, ServiceTargets, build_plan};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn product(sku: &str, pack: u32, moq: u32, lead: u32, cost: f64) -> Product {
    Product {
        sku: sku.into(),
        title: format!("{sku} title"),
        category: None,
        brand: None,
        unit_cost: Some(cost),
        price: Some(cost * 2.0),
        pack_size: pack,
        moq,
        lead_time_days: lead,
        supplier: Some("Acme".into()),
        synthesized: false,
        launch_date: None,
    }
}

fn forecast(sku: &str, p50: f64, sd: f64, days: usize) -> SeriesForecast {
    let w = 1.281_551_565_545 * sd;
    SeriesForecast {
        sku: sku.into(),
        warehouse: "W".into(),
        start: day(2025, 1, 1),
        p10: vec![p50 - w; days],
        p50: vec![p50; days],
        p90: vec![p50 + w; days],
        model: "test".into(),
        period: Default::default(),
    }
}

/// A flat forecast of `n` periods of `v` units from the stamp `start`, no
/// spread.
fn flat(start: NaiveDate, period: skuplan::domain::Period, v: f64, n: usize) -> SeriesForecast {
    SeriesForecast {
        start,
        period,
        ..forecast("A", v, 0.0, n)
    }
}

/// The one line a plan of `ds` makes from `f`, at a 90 % level.
fn line_of(ds: &Dataset, f: &SeriesForecast) -> skuplan::plan::RestockLine {
    build_plan(
        ds,
        std::slice::from_ref(f),
        &Adjustments::new(),
        &flat_service(0.9, 0.1),
    )
    .lines[0]
        .clone()
}

fn history(sku: &str, daily: f64) -> DemandSeries {
    DemandSeries {
        sku: sku.into(),
        warehouse: "W".into(),
        start: day(2024, 1, 1),
        values: vec![daily; 366],
        promo: None,
        period: Default::default(),
    }
}

fn inv(sku: &str, on_hand: f64, on_order: f64, due: Option<NaiveDate>) -> InventoryRecord {
    InventoryRecord {
        sku: sku.into(),
        warehouse: "W".into(),
        on_hand,
        on_order,
        due_date: due,
    }
}

fn flat_service(sl: f64, rho: f64) -> RestockSettings {
    RestockSettings {
        review_days: 7,
        service: ServiceTargets { a: sl, b: sl, c: sl },
        error_correlation: rho,
        ..RestockSettings::default()
    }
}

#[test]
fn hand_computed_plan() {
    let ds = Dataset {
        products: vec![
            product("A", 12, 0, 7, 2.0),
            product("B", 1, 0, 7, 5.0),
            product("C", 10, 50, 7, 1.0),
        ],
        demand: vec![history("A", 10.0), history("B", 10.0), history("C", 1.0)],
        inventory: vec![
            inv("A", 50.0, 30.0, Some(day(2025, 1, 4))),
            inv("B", 200.0, 0.0, None),
            inv("C", 3.0, 0.0, None),
        ],
        ..Dataset::default()
    };
    let fc = vec![
        forecast("A", 10.0, 0.0, 28),
        forecast("B", 10.0, 3.0, 28),
        forecast("C", 1.0, 0.0, 28),
    ];
    let plan = build_plan(&ds, &fc, &Adjustments::new(), &flat_service(0.95, 0.0));
    let a = &plan.lines[0];
    // S = 10/day over 7 + 7 days; position = 50 on hand + 30 due on day 3.
    assert_eq!(a.order_up_to, 140.0);
    assert_eq!(a.inventory_position, 80.0);
    assert_eq!(a.raw_qty, 60.0);
    assert_eq!(a.order_qty, 60); // 5 packs of 12
    assert_eq!(a.line_cost, 120.0);
    assert_eq!(a.arrival, day(2025, 1, 8));
    // Without the order: 80 - 10 (t + 1) < 0 first at t = 8.
    assert_eq!(a.stockout_without, Some(day(2025, 1, 9)));
    // With it (60 on day 7), stock lasts to t = 13 and runs out on t = 14:
    // the day the next review's order is due, so no stock-out counts.
    assert_eq!(a.stockout_with, None);
    assert!(a.projected_with[13].abs() < 1e-9 && a.projected_with[14] < 0.0);
    assert!(
        a.reasons
            .iter()
            .any(|r| matches!(r, Reason::StockOut(d) if *d == day(2025, 1, 9)))
    );
    // The reorder point covers the lead time alone: 70 < 80, so not below it;
    // the periodic review orders up to S all the same.
    assert_eq!(a.reorder_point, 70.0);
    assert!(!a.reasons.iter().any(|r| matches!(r, Reason::BelowReorderPoint { .. })));

    // B: sd 3 a day, independent days: S = 140 + 1.6449 * 3 * sqrt(14).
    let b = &plan.lines[1];
    assert!((b.order_up_to - (140.0 + 1.644_853_626_951 * 3.0 * 14f64.sqrt())).abs() < 1e-6);
    assert!((b.safety_stock - 1.644_853_626_951 * 3.0 * 14f64.sqrt()).abs() < 1e-6);
    assert_eq!(b.order_qty, 0);
    assert_eq!(b.reasons, vec![Reason::Covered]);

    // C: needs 14 - 3 = 11, raised to the MOQ of 50 (a multiple of 10).
    let c = &plan.lines[2];
    assert_eq!(c.order_qty, 50);
    assert!(c.reasons.iter().any(|r| matches!(r, Reason::MoqRaised { to: 50, .. })));
    // The text names the MOQ, and the packs where they took it higher
    // ("MOQ raised 13 to 36" read as if the MOQ were 36).
    let text = |from: f64, to: u32, moq: u32, pack: u32| Reason::MoqRaised { from, to, moq, pack }.to_string();
    assert_eq!(text(11.0, 50, 50, 10), "MOQ 50 raised 11 to 50");
    assert_eq!(text(13.0, 36, 30, 12), "MOQ 30 raised 13 to 36 (packs of 12)");
    assert_eq!(text(13.0, 36, 0, 0), "MOQ raised 13 to 36", "a plan saved before");
}

#[test]
fn error_correlation_widens_the_interval() {
    let ds = Dataset {
        products: vec![product("B", 1, 0, 7, 5.0)],
        demand: vec![history("B", 10.0)],
        ..Dataset::default()
    };
    let fc = vec![forecast("B", 10.0, 3.0, 28)];
    let s = |rho| build_plan(&ds, &fc, &Adjustments::new(), &flat_service(0.95, rho)).lines[0].order_up_to;
    // Var = 0.7 * 14 * 9 + 0.3 * (14 * 3)^2 = 617.4.
    assert!((s(0.3) - (140.0 + 1.644_853_626_951 * 617.4f64.sqrt())).abs() < 1e-6);
    assert!(s(1.0) > s(0.3) && s(0.3) > s(0.0));
}

#[test]
fn budget_keeps_the_most_valuable_lines() {
    let ds = Dataset {
        products: vec![product("A", 1, 0, 7, 1.0), product("B", 1, 0, 7, 1.0)],
        demand: vec![history("A", 10.0), history("B", 10.0)],
        // A is out of stock: its order avoids shortage. B only tops up.
        inventory: vec![inv("A", 0.0, 0.0, None), inv("B", 130.0, 0.0, None)],
        ..Dataset::default()
    };
    let fc = vec![forecast("A", 10.0, 0.0, 28), forecast("B", 10.0, 0.0, 28)];
    let mut settings = flat_service(0.95, 0.0);
    settings.budget = HashMap::from([("W".to_string(), 145.0)]);
    let plan = build_plan(&ds, &fc, &Adjustments::new(), &settings);
    assert_eq!(plan.lines[0].order_qty, 140);
    assert_eq!(plan.lines[1].order_qty, 5);
    assert!(plan.lines[1].reasons.contains(&Reason::BudgetCut { from: 10 }));
    assert!(plan.total_cost() <= 145.0);
}

/// Between two lines short alike, the budget keeps the one that avoids
/// more shortage per unit of money: the cheaper (the unit cost cancelled
/// out of the ranking, and the first line in the data was kept).
#[test]
fn budget_prefers_the_shortage_avoided_per_money() {
    let ds = Dataset {
        products: vec![product("DEAR", 1, 0, 7, 10.0), product("CHEAP", 1, 0, 7, 1.0)],
        demand: vec![history("DEAR", 10.0), history("CHEAP", 10.0)],
        inventory: vec![inv("DEAR", 0.0, 0.0, None), inv("CHEAP", 0.0, 0.0, None)],
        ..Dataset::default()
    };
    let fc = vec![forecast("DEAR", 10.0, 0.0, 28), forecast("CHEAP", 10.0, 0.0, 28)];
    let mut settings = flat_service(0.95, 0.0);
    // Enough for the cheap line's 140 units, not for the dear one's.
    settings.budget = HashMap::from([("W".to_string(), 150.0)]);
    let plan = build_plan(&ds, &fc, &Adjustments::new(), &settings);
    let qty = |sku: &str| plan.lines.iter().find(|l| l.sku == sku).unwrap().order_qty;
    assert_eq!(qty("CHEAP"), 140);
    assert_eq!(qty("DEAR"), 1, "what the 10 left buy");
    assert!(plan.total_cost() <= 150.0);
}

fn arb_case() -> impl Strategy<Value = (f64, f64, f64, f64, u32, u32, u32, bool)> {
    (
        0.0f64..50.0,  // p50
        0.0f64..20.0,  // daily sd
        0.0f64..400.0, // on hand
        0.0f64..200.0, // on order
        1u32..25,      // pack
        0u32..100,     // moq
        0u32..30,      // lead time
        any::<bool>(), // intermittent history
    )
}

fn plan_for(case: (f64, f64, f64, f64, u32, u32, u32, bool), sl: f64) -> skuplan::plan::RestockLine {
    let (p50, sd, on_hand, on_order, pack, moq, lead, sparse) = case;
    let mut h = history("X", p50);
    if sparse {
        for (i, v) in h.values.iter_mut().enumerate() {
            *v = if i % 5 == 0 { p50 * 5.0 } else { 0.0 };
        }
    }
    let ds = Dataset {
        products: vec![product("X", pack, moq, lead, 3.0)],
        demand: vec![h],
        inventory: vec![inv("X", on_hand, on_order, Some(day(2025, 1, 5)))],
        ..Dataset::default()
    };
    let fc = vec![forecast("X", p50, sd, 28)];
    build_plan(&ds, &fc, &Adjustments::new(), &flat_service(sl, 0.3))
        .lines
        .remove(0)
}

proptest! {
    #[test]
    fn orders_are_zero_or_valid_multiples(case in arb_case(), sl in 0.5f64..0.999) {
        let l = plan_for(case, sl);
        prop_assert!(l.order_qty == 0 || (l.order_qty >= l.moq && l.order_qty.is_multiple_of(l.pack_size)));
        // Never short of what S asks for.
        prop_assert!(f64::from(l.order_qty) + 1e-9 >= l.raw_qty);
    }

    #[test]
    fn order_up_to_never_below_median_demand(case in arb_case(), sl in 0.5f64..0.999) {
        let l = plan_for(case, sl);
        prop_assert!(l.order_up_to + 1e-9 >= l.protection_demand);
        prop_assert!(l.safety_stock >= -1e-9);
    }

    #[test]
    fn more_service_never_less_stock(case in arb_case(), lo in 0.5f64..0.99, extra in 0.0f64..0.009) {
        let a = plan_for(case, lo);
        let b = plan_for(case, lo + extra);
        prop_assert!(b.order_up_to + 1e-9 >= a.order_up_to);
        prop_assert!(b.order_qty >= a.order_qty);
    }

    /// A line that orders says why; one that does not says stock covers it.
    #[test]
    fn every_line_says_why(case in arb_case(), sl in 0.5f64..0.999) {
        let l = plan_for(case, sl);
        prop_assert!(!l.reasons.is_empty(), "{l:?}");
        prop_assert!(!l.reason_text().is_empty());
        let covered = l.reasons.iter().any(|r| {
            matches!(r, Reason::Covered | Reason::NoDemandForecast { .. })
        });
        prop_assert_eq!(covered, l.order_qty == 0);
    }

    #[test]
    fn the_reorder_point_never_exceeds_the_order_up_to_level(case in arb_case(), sl in 0.5f64..0.999) {
        let l = plan_for(case, sl);
        prop_assert!(l.reorder_point <= l.order_up_to + 1e-9, "{} > {}", l.reorder_point, l.order_up_to);
    }

    // Lumpy demand over a longer interval (a larger mean, the same
    // dispersion) never needs a lower quantile, here from below to above
    // the mean (400) where the exact walk gives way to a search: a normal
    // there once put a fortnight's quantile under a week's.
    #[test]
    fn negative_binomial_quantiles_grow_with_the_mean(
        mean in 100.0f64..400.0, more in 0.0f64..3.0, disp in 1.0f64..500.0, p in 0.9f64..0.9999
    ) {
        let (a, b) = (nb_quantile(mean, mean * disp, p), nb_quantile(mean * (1.0 + more), mean * (1.0 + more) * disp, p));
        prop_assert!(b + 1e-9 >= a, "{a} > {b}");
    }
}

#[test]
fn plan_starts_at_the_forecast_and_sorts_lines() {
    let ds = Dataset {
        products: vec![product("B", 1, 0, 3, 1.0), product("A", 1, 0, 3, 1.0)],
        ..Dataset::default()
    };
    let fc = vec![forecast("B", 1.0, 0.0, 7), forecast("A", 1.0, 0.0, 7)];
    let plan = build_plan(&ds, &fc, &Adjustments::new(), &RestockSettings::default());
    assert_eq!(plan.plan_date, day(2025, 1, 1));
    assert_eq!(plan.lines[0].sku, "A");
    assert_eq!(plan.lines[0].order_date + Days::new(3), plan.lines[0].arrival);
}

/// A line that sells every day but now and then takes an order twenty
/// times its usual one is stocked from the negative binomial with its
/// history's dispersion, as an intermittent one is; the same history with
/// those days flagged as promotions is a smooth line, stocked from its
/// forecast's band.
#[test]
fn erratic_lines_are_stocked_from_the_negative_binomial_unless_their_spikes_are_promotions() {
    let values: Vec<f64> = (0..366).map(|i| if i % 10 == 0 { 100.0 } else { 5.0 }).collect();
    let mut h = history("X", 0.0);
    h.values = values.clone();
    let plan = |h: DemandSeries| {
        let ds = Dataset {
            products: vec![product("X", 1, 0, 7, 3.0)],
            demand: vec![h],
            inventory: vec![inv("X", 0.0, 0.0, None)],
            ..Dataset::default()
        };
        // The forecast's mean: 14.5 a day, its band narrow.
        build_plan(
            &ds,
            &[forecast("X", 14.5, 1.0, 28)],
            &Adjustments::new(),
            &flat_service(0.95, 0.0),
        )
        .lines
        .remove(0)
    };
    let erratic = plan(h.clone());
    assert!(erratic.intermittent);
    // 14 days (lead 7 + review 7) at 14.5 a day, dispersion 56 (the last
    // year's variance over its mean).
    let last_year = &values[values.len() - 365..];
    let m = last_year.iter().sum::<f64>() / 365.0;
    let disp = last_year.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 365.0 / m;
    let mean = 14.0 * 14.5;
    assert!((erratic.protection_demand - mean).abs() < 1e-6);
    assert_eq!(erratic.order_up_to, nb_quantile(mean, mean * disp, 0.95));
    // Far above what the narrow band asks for.
    h.promo = Some(values.iter().map(|v| *v > 50.0).collect());
    let promoted = plan(h);
    assert!(!promoted.intermittent);
    assert!(
        promoted.order_up_to < 0.6 * erratic.order_up_to,
        "{} against {}",
        promoted.order_up_to,
        erratic.order_up_to
    );
}

/// Daily data summed into weeks, ending on a Friday: its last week is left
/// out of demand, but its five days of sales are gone from stock on hand.
/// The plan counts only the two days left of that week, and orders from
/// the day after the data's last day (it planned the whole week again, and
/// dated the orders four days back).
#[test]
fn a_week_partly_sold_already_counts_only_its_days_ahead() {
    use skuplan::domain::Period;
    let week = Period::Week(chrono::Weekday::Mon);
    let f = SeriesForecast {
        start: day(2026, 11, 23),
        p10: vec![60.0; 4],
        p50: vec![70.0; 4],
        p90: vec![80.0; 4],
        period: week,
        ..forecast("A", 70.0, 5.0, 4)
    };
    let plan_with = |sold_until: Option<NaiveDate>| {
        let ds = Dataset {
            products: vec![product("A", 1, 0, 7, 2.0)],
            inventory: vec![inv("A", 10.0, 0.0, None)],
            sold_until: sold_until.map(|d| ("W".to_string(), d)).into_iter().collect(),
            ..Dataset::default()
        };
        build_plan(
            &ds,
            std::slice::from_ref(&f),
            &Adjustments::new(),
            &flat_service(0.9, 0.1),
        )
    };
    let whole = plan_with(None);
    let rest = plan_with(Some(day(2026, 11, 27)));
    let (a, b) = (&whole.lines[0], &rest.lines[0]);
    assert_eq!(a.order_date, day(2026, 11, 23));
    assert_eq!(b.order_date, day(2026, 11, 28), "ordered the day after the data ends");
    // The 7-day lead time counts from the order day: it arrives 12-05,
    // within the week of 11-30, so by the boundary of 12-07 in whole weeks
    // (it counted from the Monday before, and arrived "by" 11-30).
    assert_eq!(a.arrival, day(2026, 11, 30));
    assert_eq!(b.arrival, day(2026, 12, 7));
    assert!(b.stockout_without.is_none_or(|d| d >= b.order_date));
    for r in &b.reasons {
        if let Reason::StockOut(d) = r {
            assert!(*d >= b.order_date, "{r:?}");
        }
    }
    // Protection: the 14 days from the order day, 7 of lead time and a
    // week's review: the 2 days left of the first week, a whole week, and
    // 5 days of the next (they were rounded up to whole weeks, 160 units);
    // the whole plan counted the 5 sold days again.
    assert!((a.protection_demand - 140.0).abs() < 1e-6, "{}", a.protection_demand);
    assert!(
        (b.protection_demand - (20.0 + 70.0 + 50.0)).abs() < 1e-6,
        "{}",
        b.protection_demand
    );
    assert_eq!(rest.order_day(), day(2026, 11, 28));
    let text = skuplan::plan::summary::summary(&rest);
    assert!(
        text.starts_with("restock plan for 2026-11-28 (its first period, from 2026-11-23, counted from 2026-11-28 on)"),
        "{text}"
    );
    // Outside the first period the day changes nothing.
    assert_eq!(plan_with(Some(day(2026, 11, 22))).lines[0].order_qty, a.order_qty);
}

/// The whole planning run on weekly data whose last week is partly sold:
/// the order day moves into that week and the lead time counts from it,
/// so the forecast reaches a week further (it stopped a week short, and
/// the protection's last days were the last forecast weeks' average).
#[test]
fn a_partly_sold_week_is_forecast_one_week_further() {
    use skuplan::domain::Period;
    let week = Period::Week(chrono::Weekday::Mon);
    // 60 whole weeks of 70 units from Monday 2025-09-29; the week of
    // 2026-11-23 is left out, sold through Friday 11-27.
    let ds = |sold: bool| Dataset {
        products: vec![product("A", 1, 0, 21, 2.0)],
        inventory: vec![inv("A", 10.0, 0.0, None)],
        demand: vec![DemandSeries {
            start: day(2025, 9, 29),
            values: vec![70.0; 60],
            period: week,
            ..history("A", 70.0)
        }],
        sold_until: sold.then(|| ("W".to_string(), day(2026, 11, 27))).into_iter().collect(),
        ..Dataset::default()
    };
    let settings = flat_service(0.9, 0.1);
    let whole = skuplan::plan::base::plan_from_data(&ds(false), None, &settings).unwrap();
    let rest = skuplan::plan::base::plan_from_data(&ds(true), None, &settings).unwrap();
    let (a, b) = (&whole.lines[0], &rest.lines[0]);
    // 21 days of lead and a 7-day review: 4 weeks from Monday 11-23. From
    // Saturday 11-28 it arrives 12-19, shown by the boundary of 12-21; it
    // protects the 28 days from 11-28: the 2 days left of the first week,
    // 3 whole weeks and 5 days of the fifth week.
    assert!(
        (a.protection_demand - 4.0 * 70.0).abs() < 1e-6,
        "{}",
        a.protection_demand
    );
    assert_eq!(b.arrival, day(2026, 12, 21));
    assert!(
        (b.protection_demand - (20.0 + 3.0 * 70.0 + 50.0)).abs() < 1e-6,
        "{}",
        b.protection_demand
    );
    // The forecast itself reaches the fifth week.
    for (sold, line) in [(false, a), (true, b)] {
        let base = skuplan::plan::base::PlanBase::compute(&ds(sold), &settings).unwrap();
        assert!(
            base.forecasts[0].p50.len() as f64 >= line.protect_periods,
            "{} weeks forecast, {} protected",
            base.forecasts[0].p50.len(),
            line.protect_periods
        );
    }
}

/// Months on the calendar: ordered on 28 February with a 3-day lead time,
/// it arrives 3 March, so by the boundary of 1 April (an average month put
/// it on 1 March, before it could arrive).
#[test]
fn a_month_partly_sold_counts_the_lead_time_on_the_calendar() {
    use skuplan::domain::Period;
    let f = SeriesForecast {
        start: day(2026, 2, 1),
        p10: vec![60.0; 4],
        p50: vec![70.0; 4],
        p90: vec![80.0; 4],
        period: Period::Month(skuplan::domain::MonthStamp::First),
        ..forecast("A", 70.0, 5.0, 4)
    };
    let ds = Dataset {
        products: vec![product("A", 1, 0, 3, 2.0)],
        inventory: vec![inv("A", 10.0, 0.0, None)],
        sold_until: [("W".to_string(), day(2026, 2, 27))].into_iter().collect(),
        ..Dataset::default()
    };
    let l = &line_of(&ds, &f);
    assert_eq!(l.order_date, day(2026, 2, 28));
    assert_eq!(l.arrival, day(2026, 4, 1));
}

/// Monthly data with a 7-day lead time and a weekly review: the lead time
/// protects its 7 days of December (7/31 of the month), the review a whole
/// month (a review waits for a month's data). Rounding the lead time up to
/// the month boundary protected two whole months, and the plan held about
/// twice the stock a daily plan of the same data held.
#[test]
fn a_monthly_lead_time_protects_its_days_not_a_whole_month() {
    use skuplan::domain::Period;
    let f = flat(
        day(2026, 12, 1),
        Period::Month(skuplan::domain::MonthStamp::First),
        310.0,
        3,
    );
    let ds = Dataset {
        products: vec![product("A", 1, 0, 7, 2.0)],
        inventory: vec![inv("A", 0.0, 0.0, None)],
        ..Dataset::default()
    };
    let l = &line_of(&ds, &f);
    // From the order day to a month after the arrival, on the calendar:
    // December's own 31 days count.
    assert!(
        (l.protect_periods - (7.0 / 31.0 + 1.0)).abs() < 1e-9,
        "{}",
        l.protect_periods
    );
    assert!((l.protection_demand - 380.0).abs() < 1e-6, "{}", l.protection_demand);
    assert_eq!(l.arrival, day(2027, 1, 1), "shown by the boundary it arrives by");
}

/// A lumpy line whose champion forecasts no demand over lead time and
/// review orders nothing, and says so, with what it sold lately: "stock
/// covers lead time and review period" read wrongly beside no stock.
#[test]
fn a_line_forecast_at_zero_says_so_and_what_it_sold() {
    let mut h = history("A", 0.0);
    let n = h.values.len();
    for k in [3, 10, 20, 40, 90] {
        h.values[n - 1 - k] = 1.0;
    }
    let ds = |h: DemandSeries| Dataset {
        products: vec![product("A", 1, 0, 8, 2.0)],
        inventory: vec![inv("A", 0.0, 0.0, None)],
        demand: vec![h],
        ..Dataset::default()
    };
    let zero = SeriesForecast {
        p10: vec![0.0; 28],
        p50: vec![0.0; 28],
        p90: vec![0.0; 28],
        ..forecast("A", 0.0, 0.0, 28)
    };
    let plan = build_plan(
        &ds(h.clone()),
        std::slice::from_ref(&zero),
        &Adjustments::new(),
        &flat_service(0.9, 0.1),
    );
    let l = &plan.lines[0];
    assert_eq!(l.order_qty, 0);
    assert_eq!(
        l.reasons,
        vec![Reason::NoDemandForecast {
            sold: 3.0,
            over: "28 days".into()
        }]
    );
    assert_eq!(
        l.reason_text(),
        "no demand forecast over lead time and review period, though it sold 3 in its last 28 days"
    );
    assert_eq!(l.reason_short(), "0 forecast, sold 3");
    // Stock that covers a forecast with demand is covered, as before.
    let stocked = Dataset {
        inventory: vec![inv("A", 500.0, 0.0, None)],
        ..ds(h)
    };
    let some = forecast("A", 1.0, 0.5, 28);
    let plan = build_plan(
        &stocked,
        std::slice::from_ref(&some),
        &Adjustments::new(),
        &flat_service(0.9, 0.1),
    );
    assert_eq!(plan.lines[0].reasons, vec![Reason::Covered]);
}

/// Months on the calendar without a partly sold first month: 61 days from
/// 1 November are November and December, so the order arrives by 1
/// January (average months made it three, and the projection took it in
/// February, after the stock-out its own protection covered).
#[test]
fn a_monthly_arrival_counts_the_calendar_months() {
    use skuplan::domain::Period;
    let f = flat(
        day(2026, 11, 1),
        Period::Month(skuplan::domain::MonthStamp::First),
        310.0,
        5,
    );
    let ds = Dataset {
        products: vec![product("A", 1, 0, 61, 2.0)],
        inventory: vec![inv("A", 700.0, 0.0, None)],
        ..Dataset::default()
    };
    let l = &line_of(&ds, &f);
    assert_eq!(l.lead_periods, 2);
    assert_eq!(l.arrival, day(2027, 1, 1));
    assert!(
        (l.protection_demand - 3.0 * 310.0).abs() < 1e-6,
        "{}",
        l.protection_demand
    );
    // The order is in stock from January: no stock-out with it.
    assert!(l.order_qty > 0);
    assert_eq!(l.stockout_with, None, "{:?}", l.projected_with);
}

/// A week partly sold and a lead time shorter than what is left of it:
/// the reorder point is the lead time's own days of the rest of the week
/// (the share was taken of the whole week, sold days included).
#[test]
fn a_short_lead_time_inside_a_partly_sold_week() {
    use skuplan::domain::Period;
    let f = flat(day(2026, 11, 23), Period::Week(chrono::Weekday::Mon), 70.0, 4);
    let ds = Dataset {
        products: vec![product("A", 1, 0, 1, 2.0)],
        inventory: vec![inv("A", 100.0, 0.0, None)],
        sold_until: [("W".to_string(), day(2026, 11, 27))].into_iter().collect(),
        ..Dataset::default()
    };
    let l = &line_of(&ds, &f);
    // One day of the 2 left (20 units): 10.
    assert!((l.reorder_point - 10.0).abs() < 1e-6, "{}", l.reorder_point);
    // A day and a week's review: the 2 days left, and 6 days of the next.
    assert!(
        (l.protection_demand - (20.0 + 60.0)).abs() < 1e-6,
        "{}",
        l.protection_demand
    );
}

/// A products file that costs only some SKUs: money totals would count the
/// others as nothing, so the plan's totals are in units, and it says why.
#[test]
fn totals_are_in_units_when_some_lines_have_no_cost() {
    let ds = Dataset {
        products: vec![product("A", 1, 0, 7, 2.0), product("B", 1, 0, 7, 0.0)],
        inventory: vec![inv("A", 0.0, 0.0, None), inv("B", 0.0, 0.0, None)],
        ..Dataset::default()
    };
    let fs = [forecast("A", 10.0, 2.0, 28), forecast("B", 10.0, 2.0, 28)];
    let plan = build_plan(&ds, &fs, &Adjustments::new(), &flat_service(0.9, 0.1));
    assert!(plan.lines.iter().all(|l| l.order_qty > 0));
    assert!(!plan.has_costs());
    let text = skuplan::plan::summary::summary(&plan);
    assert!(
        text.contains("not every line has a unit cost, so totals are in units"),
        "{text}"
    );
    let costed = Dataset {
        products: vec![product("A", 1, 0, 7, 2.0), product("B", 1, 0, 7, 3.0)],
        ..ds
    };
    assert!(build_plan(&costed, &fs, &Adjustments::new(), &flat_service(0.9, 0.1)).has_costs());
}

/// What happened over a protection that ends inside a period counts that
/// period by its share, as the forecast of it does.
#[test]
fn a_part_sum_counts_the_last_period_by_its_share() {
    use skuplan::plan::demand::part_sum;
    let v = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(part_sum(&v, 1, 1.5), Some(2.0 + 1.5));
    assert_eq!(part_sum(&v, 0, 4.0), Some(10.0));
    assert_eq!(part_sum(&v, 2, 2.5), None, "past the end");
    assert_eq!(part_sum(&v, 0, 0.0), Some(0.0));
}

/// `export restock --all` lists a line of nothing that a decision names
/// for its own order day (a what-if took it there), not one decided for
/// an earlier day (its order is on order now; they piled up with daily
/// imports), as the Restock tab shows them.
#[test]
fn an_export_of_all_leaves_out_decisions_of_earlier_days() {
    use skuplan::plan::approval::{LineDecision, State};
    use skuplan::plan::export::restock_rows;
    let ds = Dataset {
        products: vec![product("A", 1, 0, 7, 2.0)],
        inventory: vec![inv("A", 10_000.0, 0.0, None)],
        ..Dataset::default()
    };
    let plan = build_plan(
        &ds,
        &[forecast("A", 10.0, 2.0, 28)],
        &Adjustments::new(),
        &flat_service(0.9, 0.1),
    );
    let l = &plan.lines[0];
    assert_eq!(l.order_qty, 0);
    let decided = |day: NaiveDate| {
        let d = LineDecision {
            state: State::Approved,
            user: None,
            at: None,
            comment: None,
            qty: None,
            fingerprint: format!("120@{day}"),
        };
        [(vec!["A".to_string(), "W".to_string()], d)]
            .into_iter()
            .collect::<HashMap<_, _>>()
    };
    assert_eq!(restock_rows(&plan, &decided(l.order_date), true).len(), 1);
    assert!(restock_rows(&plan, &decided(l.order_date - Days::new(1)), true).is_empty());
}

/// A planner's quantity the line can no longer order (the products file
/// changed its pack size, the plan's own quantity did not move) goes to
/// review and out of the export: 36 of a product now packed in 24 was
/// exported as approved.
#[test]
fn a_planner_quantity_that_is_no_longer_whole_packs_goes_to_review() {
    use skuplan::plan::approval::{LineDecision, State};
    use skuplan::plan::export::{restock_fingerprint, restock_rows, restock_state};
    let plan_with = |pack: u32, moq: u32| {
        let ds = Dataset {
            products: vec![product("A", pack, moq, 7, 2.0)],
            inventory: vec![inv("A", 0.0, 0.0, None)],
            ..Dataset::default()
        };
        build_plan(
            &ds,
            &[forecast("A", 10.0, 2.0, 28)],
            &Adjustments::new(),
            &flat_service(0.9, 0.1),
        )
    };
    let before = plan_with(12, 0);
    let l = &before.lines[0];
    assert!(l.order_qty > 0 && l.order_qty.is_multiple_of(12));
    let decisions: HashMap<_, _> = [(
        vec!["A".to_string(), "W".to_string()],
        LineDecision {
            state: State::Approved,
            user: None,
            at: None,
            comment: None,
            qty: Some(36),
            fingerprint: restock_fingerprint(l),
        },
    )]
    .into_iter()
    .collect();
    assert_eq!(restock_state(&decisions, l).0, State::Approved);
    assert_eq!(restock_rows(&before, &decisions, false)[0].order_qty, 36);
    // Packs of 24 (the plan's quantity kept, say), or a MOQ of 48: 36
    // cannot be ordered as it stands.
    for (pack, moq) in [(24, 0), (12, 48)] {
        let mut after = before.clone();
        after.lines[0].pack_size = pack;
        after.lines[0].moq = moq;
        let (state, review, d) = restock_state(&decisions, &after.lines[0]);
        assert_eq!((state, review), (State::Proposed, true), "pack {pack}, MOQ {moq}");
        assert!(d.is_none());
        assert!(restock_rows(&after, &decisions, false).is_empty(), "not exported");
    }
    // Approving it again takes: the quantity is first set again in whole
    // packs (an approval alone kept 36, and the line stayed in review).
    use skuplan::plan::approval::{Action, Record, replay};
    use skuplan::plan::export::requantify;
    let fp = restock_fingerprint(l);
    let key = vec!["A".to_string(), "W".to_string()];
    let mut log = vec![
        Record::new("restock", key.clone(), fp.clone(), Action::SetQty { qty: 36 }, None),
        Record::new("restock", key.clone(), fp.clone(), Action::Approve, None),
    ];
    let mut after = before.clone();
    after.lines[0].pack_size = 24;
    let again = requantify(&replay(&log, "restock"), &after.lines[0]).expect("set again");
    assert_eq!(again.action, Action::SetQty { qty: 48 });
    log.push(again);
    log.push(Record::new("restock", key, fp, Action::Approve, None));
    let decided = replay(&log, "restock");
    assert_eq!(restock_state(&decided, &after.lines[0]).0, State::Approved);
    assert_eq!(restock_rows(&after, &decided, false)[0].order_qty, 48);
    assert!(requantify(&decided, &after.lines[0]).is_none(), "nothing more to set");
}

/// Months stamped on their last day: the plan orders on the month's first
/// day (it ordered on the 30th), arrivals are first days of months, and
/// stock due on 3 December comes in December, not November.
#[test]
fn months_stamped_on_their_last_day_plan_from_their_first() {
    use skuplan::domain::{MonthStamp, Period};
    let f = |stamp| SeriesForecast {
        start: if stamp == MonthStamp::Last {
            day(2026, 11, 30)
        } else {
            day(2026, 11, 1)
        },
        p10: vec![300.0; 5],
        p50: vec![300.0; 5],
        p90: vec![300.0; 5],
        period: Period::Month(stamp),
        ..forecast("A", 300.0, 0.0, 5)
    };
    let ds = Dataset {
        products: vec![product("A", 1, 0, 3, 2.0)],
        inventory: vec![inv("A", 50.0, 81.0, Some(day(2026, 12, 3)))],
        ..Dataset::default()
    };
    let plan = |stamp| build_plan(&ds, &[f(stamp)], &Adjustments::new(), &flat_service(0.9, 0.1));
    let (first, last) = (plan(MonthStamp::First), plan(MonthStamp::Last));
    let (a, b) = (&first.lines[0], &last.lines[0]);
    assert_eq!(b.order_date, day(2026, 11, 1));
    assert_eq!(last.order_day(), day(2026, 11, 1), "the plan's day too");
    assert_eq!(b.arrival, day(2026, 12, 1));
    assert_eq!(
        (a.order_qty, a.arrival, a.stockout_without),
        (b.order_qty, b.arrival, b.stockout_without)
    );
    // The 81 due on 3 December do not save November: 50 on hand last 5
    // days at 10 a day, and run out on the 6th.
    assert_eq!(b.projected_without[0], 50.0 - 300.0);
    assert_eq!(b.stockout_without, Some(day(2026, 11, 6)));
}

/// Weekly: a stock-out is dated on its day at the week's even rate, one
/// before the order arrives inside its week is seen, and the part of the
/// last week after the protection ends is not counted against the order.
#[test]
fn weekly_stock_outs_fall_on_their_day() {
    use skuplan::domain::Period;
    let f = flat(day(2026, 11, 23), Period::Week(chrono::Weekday::Mon), 70.0, 6);
    let plan = |on_hand: f64, lead: u32| {
        let ds = Dataset {
            products: vec![product("A", 1, 0, lead, 2.0)],
            inventory: vec![inv("A", on_hand, 0.0, None)],
            // The data ended on Tuesday 24th, partway into the first week
            // (for the lead time of 0 below).
            sold_until: if lead == 0 {
                [("W".to_string(), day(2026, 11, 24))].into_iter().collect()
            } else {
                Default::default()
            },
            ..Dataset::default()
        };
        build_plan(
            &ds,
            std::slice::from_ref(&f),
            &Adjustments::new(),
            &flat_service(0.9, 0.1),
        )
        .lines[0]
            .clone()
    };
    // 25 on hand at 10 a day run out on the 3rd day (Wednesday 25th); the
    // order, 10 days out, arrives Thursday 3 December: short before it.
    let l = plan(25.0, 10);
    assert_eq!(l.stockout_without, Some(day(2026, 11, 25)));
    assert_eq!(l.stockout_with, Some(day(2026, 11, 25)));
    // With stock to the arrival, the order covers to the protection's end.
    let l = plan(110.0, 10);
    assert!(l.order_qty > 0);
    assert_eq!(l.stockout_with, None, "{:?}", l.projected_with);
    // A lead time of 0 arrives on the order day (Wednesday 25th), not on
    // the week's Monday before it.
    let l = plan(0.0, 0);
    assert_eq!((l.order_date, l.arrival), (day(2026, 11, 25), day(2026, 11, 25)));
}
