//! What-if scenarios: the planner's demand overrides, kept apart from the
//! statistical forecast and applied on top of it when a plan is computed.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::SeriesForecast;
use crate::plan::restock::{Adjustments, RestockPlan};

/// How an override changes demand on its days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// +x % or -x % on the forecast (p10, p50 and p90 alike).
    Percent(f64),
    /// This many units a day; p10 and p90 keep their ratio to p50.
    Quantity(f64),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Percent(p) => write!(f, "{p:+}%"),
            Change::Quantity(q) => write!(f, "{q} a day"),
        }
    }
}

/// One override: which lines, which days, what change, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    /// The SKUs it applies to; empty means every SKU.
    pub skus: Vec<String>,
    /// One warehouse, or all.
    pub warehouse: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub change: Change,
    pub reason: String,
}

impl Override {
    pub fn matches(&self, sku: &str, warehouse: &str) -> bool {
        (self.skus.is_empty() || self.skus.iter().any(|s| s == sku))
            && self.warehouse.as_deref().is_none_or(|w| w == warehouse)
    }

    pub fn describe(&self) -> String {
        format!("{} from {} to {} ({})", self.change, self.from, self.to, self.reason)
    }

    /// Whether the change can mean anything: a percentage from -100 % (no
    /// demand) to +10,000 %, a quantity from 0 to a million a day (larger
    /// ones ran orders into the u32 ceiling), and a range in order.
    pub fn check(&self) -> Result<(), String> {
        match self.change {
            Change::Percent(p) if !(-100.0..=10_000.0).contains(&p) => {
                return Err(format!("{p:+}%: a change runs from -100% (no demand) to +10000%"));
            }
            Change::Quantity(q) if !(0.0..=MAX_A_DAY).contains(&q) => {
                return Err(format!("{q} a day: a quantity runs from 0 to {MAX_A_DAY} a day"));
            }
            _ => {}
        }
        if self.to < self.from {
            return Err(format!("the range {}..{} ends before it starts", self.from, self.to));
        }
        Ok(())
    }
}

/// The largest quantity a day a what-if may set.
pub const MAX_A_DAY: f64 = 1_000_000.0;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub overrides: Vec<Override>,
}

impl Scenario {
    /// The forecasts with this scenario's overrides applied (later
    /// overrides on top of earlier ones), and the reason for each line
    /// that changed. The base forecasts are not touched.
    pub fn apply(&self, base: &[SeriesForecast]) -> (Vec<SeriesForecast>, Adjustments) {
        let mut reasons: Adjustments = HashMap::new();
        // Overrides by SKU, so ten thousand lines do not each scan them all.
        let mut by_sku: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut every: Vec<usize> = Vec::new();
        for (i, o) in self.overrides.iter().enumerate() {
            if o.skus.is_empty() {
                every.push(i);
            }
            for s in &o.skus {
                by_sku.entry(s.as_str()).or_default().push(i);
            }
        }
        let out = base
            .iter()
            .map(|f| {
                let mut which: Vec<usize> = every.clone();
                if let Some(v) = by_sku.get(f.sku.as_str()) {
                    which.extend(v);
                }
                if which.is_empty() {
                    return f.clone();
                }
                // Later overrides apply on top of earlier ones.
                which.sort_unstable();
                which.dedup();
                let mut f = f.clone();
                for o in which
                    .iter()
                    .map(|i| &self.overrides[*i])
                    .filter(|o| o.matches(&f.sku, &f.warehouse))
                {
                    let mut touched = false;
                    for i in 0..f.p50.len() {
                        // A week or month is changed on the days of it the
                        // override covers, its demand taken as spread
                        // evenly over its days (it used to change whole:
                        // +100 % on two days doubled the week, and "10 a
                        // day" set the week to 10).
                        let (d, last_day) = f.period.days_of(f.date_at(i));
                        if last_day < o.from || d > o.to {
                            continue;
                        }
                        touched = true;
                        let len = (last_day - d).num_days() as f64 + 1.0;
                        let days = (last_day.min(o.to) - d.max(o.from)).num_days() as f64 + 1.0;
                        let share = days / len;
                        match o.change {
                            Change::Percent(p) => {
                                let k = 1.0 + ((1.0 + p / 100.0).max(0.0) - 1.0) * share;
                                f.p10[i] *= k;
                                f.p50[i] *= k;
                                f.p90[i] *= k;
                            }
                            Change::Quantity(q) => {
                                let q = q.max(0.0);
                                let (lo, hi) = if f.p50[i] > 0.0 {
                                    (f.p10[i] / f.p50[i], f.p90[i] / f.p50[i])
                                } else {
                                    (1.0, 1.0)
                                };
                                let kept = 1.0 - share;
                                f.p10[i] = f.p10[i] * kept + q * days * lo;
                                f.p50[i] = f.p50[i] * kept + q * days;
                                f.p90[i] = f.p90[i] * kept + q * days * hi;
                            }
                        }
                    }
                    if touched {
                        let r = reasons.entry((f.sku.clone(), f.warehouse.clone())).or_default();
                        if !r.is_empty() {
                            r.push_str("; ");
                        }
                        r.push_str(&o.describe());
                    }
                }
                f
            })
            .collect();
        (out, reasons)
    }
}

/// How a scenario's plan differs from the base plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comparison {
    pub base_qty: u64,
    pub scenario_qty: u64,
    pub base_cost: f64,
    pub scenario_cost: f64,
    /// Lines projected to run out within the forecast, with their order.
    pub base_stockouts: usize,
    pub scenario_stockouts: usize,
    /// (sku, warehouse) -> (base qty, scenario qty), for lines that differ.
    pub changed: BTreeMap<(String, String), (u32, u32)>,
}

impl Comparison {
    /// The change in cost and units in one line; units alone where no
    /// line has a cost ("cost +0.0 %" would read as if nothing changed).
    pub fn change(&self) -> String {
        let (cb, cp, ub, up) = (self.base_cost, self.scenario_cost, self.base_qty, self.scenario_qty);
        // A change from nothing has no percentage.
        let pct = |a: f64, b: f64| {
            if a > 0.0 {
                let v = 100.0 * (b - a) / a;
                // A change under 0.05 % read "-0.0 %": two decimals then,
                // and under 0.005 % only its direction.
                if v != 0.0 && v.abs() < 0.005 {
                    format!("{} under 0.01 %", if v < 0.0 { "down" } else { "up" })
                } else if v != 0.0 && v.abs() < 0.05 {
                    format!("{v:+.2} %")
                } else {
                    format!("{v:+.1} %")
                }
            } else if b > 0.0 {
                "up from none".to_string()
            } else {
                "+0.0 %".to_string()
            }
        };
        if ub == up && (cb - cp).abs() < 0.005 {
            // Lines may have moved and still add up to the same.
            let what = if self.changed.is_empty() {
                "plan unchanged"
            } else {
                "plan totals unchanged"
            };
            return if cb > 0.0 {
                format!("{what} (cost {cb:.0}, units {ub})")
            } else {
                format!("{what} ({ub} units)")
            };
        }
        if cb <= 0.0 && cp <= 0.0 {
            return format!(
                "plan units {} ({ub} -> {up}; the data has no unit costs)",
                pct(ub as f64, up as f64)
            );
        }
        format!(
            "plan cost {}, units {} (cost {cb:.0} -> {cp:.0}, units {ub} -> {up})",
            pct(cb, cp),
            pct(ub as f64, up as f64)
        )
    }
}

pub fn compare(base: &RestockPlan, scenario: &RestockPlan) -> Comparison {
    let mut c = Comparison {
        base_qty: base.lines.iter().map(|l| u64::from(l.order_qty)).sum(),
        scenario_qty: scenario.lines.iter().map(|l| u64::from(l.order_qty)).sum(),
        base_cost: base.total_cost(),
        scenario_cost: scenario.total_cost(),
        base_stockouts: base.lines.iter().filter(|l| l.stockout_with.is_some()).count(),
        scenario_stockouts: scenario.lines.iter().filter(|l| l.stockout_with.is_some()).count(),
        changed: BTreeMap::new(),
    };
    let base_qty: HashMap<(String, String), u32> = base.lines.iter().map(|l| (l.key(), l.order_qty)).collect();
    for l in &scenario.lines {
        let b = base_qty.get(&l.key()).copied().unwrap_or(0);
        if b != l.order_qty {
            c.changed.insert(l.key(), (b, l.order_qty));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    fn fc(sku: &str, wh: &str) -> SeriesForecast {
        SeriesForecast {
            sku: sku.into(),
            warehouse: wh.into(),
            start: d(1, 1),
            p10: vec![8.0; 5],
            p50: vec![10.0; 5],
            p90: vec![15.0; 5],
            model: "m".into(),
            period: Default::default(),
        }
    }

    #[test]
    fn override_arithmetic() {
        let s = Scenario {
            name: "promo".into(),
            overrides: vec![
                Override {
                    skus: vec!["A".into()],
                    warehouse: None,
                    from: d(1, 2),
                    to: d(1, 3),
                    change: Change::Percent(50.0),
                    reason: "TV spot".into(),
                },
                Override {
                    skus: vec![],
                    warehouse: Some("W2".into()),
                    from: d(1, 5),
                    to: d(1, 9),
                    change: Change::Quantity(4.0),
                    reason: "store closing".into(),
                },
                Override {
                    skus: vec!["A".into()],
                    warehouse: Some("W1".into()),
                    from: d(1, 1),
                    to: d(1, 1),
                    change: Change::Percent(-100.0),
                    reason: "recall".into(),
                },
            ],
        };
        let base = vec![fc("A", "W1"), fc("A", "W2"), fc("B", "W1")];
        let (out, reasons) = s.apply(&base);
        assert_eq!(out[0].p50, vec![0.0, 15.0, 15.0, 10.0, 10.0]);
        assert_eq!(out[0].p90[1], 22.5);
        assert_eq!(out[1].p50, vec![10.0, 15.0, 15.0, 10.0, 4.0]);
        assert_eq!((out[1].p10[4], out[1].p90[4]), (3.2, 6.0));
        assert_eq!(out[2], base[2]);
        assert!(reasons[&("A".into(), "W1".into())].contains("TV spot"));
        assert!(reasons[&("A".into(), "W1".into())].contains("recall"));
        assert!(!reasons.contains_key(&("B".into(), "W1".into())));
        // The base is untouched.
        assert_eq!(base[0].p50, vec![10.0; 5]);
    }

    proptest::proptest! {
        /// A what-if on weekly or monthly demand is the same what-if on that
        /// demand spread evenly over its days, summed back into periods: a
        /// period changes on the days the what-if covers (a month stamped on
        /// its last day ends there), and "N a day" is N a day whatever the
        /// period.
        #[test]
        fn a_what_if_on_periods_is_the_same_on_their_days_summed(
            values in proptest::collection::vec(0.0f64..500.0, 1..6),
            which in 0usize..3,
            from in 0i64..150,
            span in 0i64..40,
            pct in -100.0f64..200.0,
            qty in 0.0f64..40.0,
            by_qty in proptest::bool::ANY,
        ) {
            use crate::domain::{MonthStamp, Period};
            let (period, start) = [
                (Period::Week(chrono::Weekday::Mon), d(1, 6)),
                (Period::Month(MonthStamp::First), d(1, 1)),
                (Period::Month(MonthStamp::Last), d(1, 31)),
            ][which];
            let coarse = SeriesForecast {
                start,
                p10: values.iter().map(|w| w * 0.5).collect(),
                p50: values.clone(),
                p90: values.iter().map(|w| w * 2.0).collect(),
                period,
                ..fc("A", "W1")
            };
            let spans: Vec<(NaiveDate, NaiveDate)> = (0..values.len()).map(|i| period.days_of(coarse.date_at(i))).collect();
            let lens: Vec<usize> = spans.iter().map(|(a, b)| (*b - *a).num_days() as usize + 1).collect();
            let each = |k: f64| -> Vec<f64> {
                values.iter().zip(&lens).flat_map(|(v, n)| std::iter::repeat_n(v * k / *n as f64, *n)).collect()
            };
            let daily = SeriesForecast {
                start: spans[0].0,
                p10: each(0.5),
                p50: each(1.0),
                p90: each(2.0),
                ..fc("A", "W1")
            };
            let first = spans[0].0 + chrono::Days::new(from as u64);
            let s = Scenario {
                name: "w".into(),
                overrides: vec![Override {
                    skus: vec![],
                    warehouse: None,
                    from: first,
                    to: first + chrono::Days::new(span as u64),
                    change: if by_qty { Change::Quantity(qty) } else { Change::Percent(pct) },
                    reason: "law".into(),
                }],
            };
            let (c, _) = s.apply(&[coarse]);
            let (dd, _) = s.apply(&[daily]);
            let mut at = 0;
            for (i, n) in lens.iter().enumerate() {
                let p50: f64 = dd[0].p50[at..at + n].iter().sum();
                let p90: f64 = dd[0].p90[at..at + n].iter().sum();
                at += n;
                proptest::prop_assert!((c[0].p50[i] - p50).abs() < 1e-6 * (1.0 + p50), "period {i}: {} vs {p50}", c[0].p50[i]);
                proptest::prop_assert!((c[0].p90[i] - p90).abs() < 1e-6 * (1.0 + p90));
            }
        }
    }

    #[test]
    fn a_change_without_costs_is_told_in_units() {
        let c = Comparison {
            base_qty: 1000,
            scenario_qty: 1156,
            ..Comparison::default()
        };
        assert_eq!(
            c.change(),
            "plan units +15.6 % (1000 -> 1156; the data has no unit costs)"
        );
        let c = Comparison {
            base_qty: 10,
            scenario_qty: 8,
            base_cost: 200.0,
            scenario_cost: 150.0,
            ..Comparison::default()
        };
        assert_eq!(
            c.change(),
            "plan cost -25.0 %, units -20.0 % (cost 200 -> 150, units 10 -> 8)"
        );
        let c = Comparison {
            scenario_qty: 40,
            ..Comparison::default()
        };
        assert_eq!(
            c.change(),
            "plan units up from none (0 -> 40; the data has no unit costs)"
        );
        // A change too small for one decimal is not "-0.0 %".
        let c = Comparison {
            base_qty: 10_000,
            scenario_qty: 9_997,
            ..Comparison::default()
        };
        assert_eq!(
            c.change(),
            "plan units -0.03 % (10000 -> 9997; the data has no unit costs)"
        );
        let c = Comparison {
            base_qty: 1_000_000,
            scenario_qty: 999_990,
            ..Comparison::default()
        };
        assert_eq!(
            c.change(),
            "plan units down under 0.01 % (1000000 -> 999990; the data has no unit costs)"
        );
        // Nothing moved: said so, not "+0.0 %".
        let same = Comparison {
            base_qty: 40,
            scenario_qty: 40,
            ..Comparison::default()
        };
        assert_eq!(same.change(), "plan unchanged (40 units)");
        let same = Comparison {
            base_cost: 80.0,
            scenario_cost: 80.0,
            ..same
        };
        assert_eq!(same.change(), "plan unchanged (cost 80, units 40)");
        // Quantities moved between lines, the totals did not.
        let mut moved = same.clone();
        moved.changed.insert(("A".into(), "W1".into()), (10, 15));
        moved.changed.insert(("B".into(), "W1".into()), (15, 10));
        assert_eq!(moved.change(), "plan totals unchanged (cost 80, units 40)");
    }
}
