//! A restock plan in a few lines of text, as `skuplan plan restock` prints it.

use super::restock::{Abc, RestockLine, RestockPlan};

/// A short text summary: lines, units and cost in total, by warehouse and
/// by supplier.
pub fn summary(plan: &RestockPlan) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let mut out = String::new();
    let ordering: Vec<&RestockLine> = plan.ordering().collect();
    // Without any unit cost (sales data alone) the totals are units.
    let priced = plan.has_costs();
    let day = plan.order_day();
    let _ = writeln!(
        out,
        "restock plan for {day}{}: {} of {} lines order, {} units, {}",
        if day == plan.plan_date {
            String::new()
        } else {
            format!(" (its first period, from {}, counted from {day} on)", plan.plan_date)
        },
        ordering.len(),
        plan.lines.len(),
        ordering.iter().map(|l| u64::from(l.order_qty)).sum::<u64>(),
        if priced {
            format!("cost {:.2}", plan.total_cost())
        } else if plan.lines.iter().any(RestockLine::cost_known) {
            "not every line has a unit cost, so totals are in units".to_string()
        } else {
            "no unit costs in the data".to_string()
        }
    );
    let mut by_wh: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    let mut by_sup: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for l in &ordering {
        let amount = if priced { l.line_cost } else { f64::from(l.order_qty) };
        let w = by_wh.entry(&l.warehouse).or_default();
        w.0 += 1;
        w.1 += amount;
        let s = by_sup.entry(l.supplier.as_deref().unwrap_or("(none)")).or_default();
        s.0 += 1;
        s.1 += amount;
    }
    let s = &plan.settings;
    let _ = writeln!(
        out,
        "  service targets A/B/C {:.0}/{:.0}/{:.0} %, stocked to the {:.1}/{:.1}/{:.1} % quantiles{}",
        100.0 * s.service.a,
        100.0 * s.service.b,
        100.0 * s.service.c,
        100.0 * s.level(Abc::A),
        100.0 * s.level(Abc::B),
        100.0 * s.level(Abc::C),
        match (s.levels.is_some(), s.levels_on_recent_days) {
            (true, None) => " (fitted on a replay of the same weeks last year)".to_string(),
            // Under a year of history: said, as simulate says it (the
            // summary claimed last year's weeks, which the data lacks).
            (true, Some(days)) => {
                format!(" (fitted on a replay of the {days} days just before the plan: under a year of history)")
            }
            // Said, not left to be guessed (monthly data rarely has the
            // history a replay needs).
            (false, _) => {
                " (the targets themselves: too little history before the plan to replay the policy and fit levels)"
                    .to_string()
            }
        }
    );
    for (title, map) in [("warehouse", &by_wh), ("supplier", &by_sup)] {
        let _ = writeln!(out, "  by {title}:");
        for (k, (n, c)) in map.iter() {
            if priced {
                let _ = writeln!(out, "    {k:<30} {n:>5} lines {c:>12.2}");
            } else {
                let _ = writeln!(out, "    {k:<30} {n:>5} lines {c:>12.0} units");
            }
        }
    }
    let unknown_stock = plan.lines.iter().filter(|l| !l.stock_known).count();
    if unknown_stock > 0 {
        let _ = writeln!(
            out,
            "  note: {unknown_stock} lines have no inventory row; their stock is taken as zero"
        );
    }
    let no_cost = ordering.iter().filter(|l| !l.cost_known()).count();
    if no_cost > 0 && priced {
        let _ = writeln!(
            out,
            "  note: {no_cost} ordering lines have no unit cost, so costs and budgets leave them out"
        );
    }
    let mut by_method: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &plan.lines {
        *by_method
            .entry(if l.method.is_empty() { "(unknown)" } else { &l.method })
            .or_default() += 1;
    }
    let methods: Vec<String> = by_method.iter().map(|(m, n)| format!("{m} {n}")).collect();
    let _ = writeln!(out, "  lines forecast by: {}", methods.join(", "));
    // Lines that order: one that orders nothing has no order to be late.
    let short = plan
        .lines
        .iter()
        .filter(|l| l.order_qty > 0 && l.stockout_with.is_some())
        .count();
    let _ = writeln!(
        out,
        "  {short} lines run short before their next review even with the order (the order arrives too late)"
    );
    let launches = plan
        .lines
        .iter()
        .filter(|l| l.method == crate::forecast::launch::METHOD)
        .count();
    if launches > 0 {
        let _ = writeln!(
            out,
            "  {launches} launch lines: products not sold yet, forecast from similar products' launches"
        );
    }
    if !plan.not_forecast.is_empty() {
        let _ = writeln!(out, "  {} products not forecast:", plan.not_forecast.len());
        for n in plan.not_forecast.iter().take(20) {
            let _ = writeln!(out, "    {} ({}): {}", n.sku, n.title, n.reason);
        }
        if plan.not_forecast.len() > 20 {
            let _ = writeln!(out, "    ... and {} more", plan.not_forecast.len() - 20);
        }
    }
    out
}
