//! `skuplan bench plan`: building a restock plan and recomputing it after a what-if, at 10,000 lines.

use anyhow::{Context, Result};

/// `skuplan bench plan`: recompute a restock plan of `lines` lines with a
/// what-if override on a tenth of them, beside a plain pass over the same
/// forecasts (summing them) as the reference.
pub fn plan_bench(lines: usize) -> Result<()> {
    use crate::domain::{Dataset, DemandSeries, InventoryRecord, Product, SeriesForecast};
    use crate::plan::restock::{RestockSettings, build_plan};
    use crate::plan::scenario::{Change, Override, Scenario};

    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).context("date")?;
    let skus = lines.div_ceil(3).max(1);
    let mut ds = Dataset::default();
    let mut forecasts = Vec::with_capacity(lines);
    for i in 0..lines {
        let sku = format!("S{:06}", i % skus);
        let wh = format!("W{}", i / skus);
        let level = 1.0 + (i % 37) as f64;
        if i < skus {
            ds.products.push(Product {
                sku: sku.clone(),
                title: sku.clone(),
                category: None,
                brand: None,
                unit_cost: Some(2.0 + (i % 13) as f64),
                price: None,
                pack_size: [1, 6, 12][i % 3],
                moq: [0, 10, 24][i % 3],
                lead_time_days: 3 + (i % 20) as u32,
                supplier: Some(format!("Supplier {}", i % 9)),
                synthesized: false,
                launch_date: None,
            });
        }
        ds.demand.push(DemandSeries {
            sku: sku.clone(),
            warehouse: wh.clone(),
            start: start - chrono::Days::new(365),
            values: (0..365).map(|d| if (d + i) % 3 == 0 { 0.0 } else { level }).collect(),
            promo: None,
            period: Default::default(),
        });
        ds.inventory.push(InventoryRecord {
            sku: sku.clone(),
            warehouse: wh.clone(),
            on_hand: level * (i % 30) as f64,
            on_order: level * 5.0,
            due_date: Some(start + chrono::Days::new((i % 9) as u64)),
        });
        forecasts.push(SeriesForecast {
            sku,
            warehouse: wh,
            start,
            p10: vec![level * 0.6; 56],
            p50: vec![level; 56],
            p90: vec![level * 1.5; 56],
            model: "bench".into(),
            period: Default::default(),
        });
    }
    let scenario = Scenario {
        name: "bench".into(),
        overrides: (0..skus / 10)
            .map(|k| Override {
                skus: vec![format!("S{:06}", k * 10)],
                warehouse: None,
                from: start + chrono::Days::new(3),
                to: start + chrono::Days::new(20),
                change: Change::Percent(40.0),
                reason: "bench".into(),
            })
            .collect(),
    };
    let settings = RestockSettings::default();
    let reference = super::median_time(5, || {
        Ok(forecasts.iter().map(|f| f.p50.iter().sum::<f64>()).sum::<f64>())
    })?;
    let mut n_lines = 0;
    let recompute = super::median_time(5, || {
        let (f, adj) = scenario.apply(&forecasts);
        let plan = build_plan(&ds, &f, &adj, &settings);
        n_lines = plan.lines.len();
        Ok(plan)
    })?;
    println!(
        "bench plan: {n_lines} lines, {} overrides, median of 5",
        scenario.overrides.len()
    );
    println!("{:<40} {:>10} {:>8}", "step", "time", "ratio");
    println!(
        "{:<40} {:>8.2}ms {:>8}",
        "sum every forecast (reference)",
        reference.as_secs_f64() * 1e3,
        "1.0x"
    );
    println!(
        "{:<40} {:>8.2}ms {:>7.0}x",
        "apply overrides + recompute the plan",
        recompute.as_secs_f64() * 1e3,
        recompute.as_secs_f64() / reference.as_secs_f64().max(1e-9)
    );

    // A finished run joins the champions: its forecasts are given (the
    // engine's own forecasting is not counted), each series' baseline
    // champion forecasts the run's held-out days again, the champions are
    // chosen again and the plan recomputed. Goal: under 5 s at 10,000.
    let clock = std::time::Instant::now();
    let mut base = crate::plan::base::PlanBase::champions_only(&ds, &settings).map_err(anyhow::Error::msg)?;
    base.forecasts = forecasts.clone();
    let backtest = clock.elapsed();
    let (_, last) = ds.date_range().context("no history")?;
    let model = crate::plan::base::ModelForecasts {
        name: "finetuned".into(),
        run: "bench".into(),
        held_out_origin: last - chrono::Days::new(28),
        held_out: ds
            .demand
            .iter()
            .map(|s| {
                let level = s.values.iter().rev().take(28).sum::<f64>() / 28.0;
                Some(crate::forecast::QuantileForecast {
                    p10: vec![level * 0.7; 28],
                    p50: vec![level; 28],
                    p90: vec![level * 1.3; 28],
                })
            })
            .collect(),
        future: forecasts
            .iter()
            .map(|f| {
                Some(SeriesForecast {
                    model: "finetuned".into(),
                    ..f.clone()
                })
            })
            .collect(),
        future_from: "bench".into(),
        reviews: Vec::new(),
    };
    let mut wins = 0;
    let join = super::median_time(3, || {
        let with = base.with_model(&ds, &model).map_err(anyhow::Error::msg)?;
        wins = with.model.as_ref().map_or(0, |m| m.wins());
        Ok(with.plan(&ds, None))
    })?;
    println!(
        "{:<40} {:>8.2}ms {:>7.0}x",
        "join a run to the champions + plan",
        join.as_secs_f64() * 1e3,
        join.as_secs_f64() / reference.as_secs_f64().max(1e-9)
    );
    println!(
        "  the run won {wins} of {} series; goal: under 5 s ({}); for scale, the baselines' backtest \
         behind the champions took {:.1} s once",
        ds.demand.len(),
        if join.as_secs_f64() < 5.0 { "met" } else { "missed" },
        backtest.as_secs_f64()
    );
    Ok(())
}
