//! `skuplan bench tui`: drawing the workstation's frames and moving through 10,000 and 100,000 plan lines.

use std::fmt::Write as _;

use anyhow::{Context, Result};

/// `skuplan bench tui`: time to draw the Forecasts and Restock tabs (state
/// to buffer, 160x48) with `rows` rows, beside drawing an empty frame of
/// the same size; a key press (move down) to the redrawn buffer; resident
/// memory of the state.
pub fn tui_bench(sizes: &[usize], repeat: usize) -> Result<String> {
    use crate::plan::restock::{RestockLine, RestockPlan, RestockSettings};
    use crate::tui::action::Action;
    use crate::tui::app::{App, ForecastRow};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let mut out = String::new();
    writeln!(out, "bench tui: draw at 160x48, median of {repeat}")?;
    writeln!(
        out,
        "{:>8} {:<10} {:>10} {:>12} {:>10} {:>14}",
        "rows", "tab", "frame ms", "empty ms", "ratio", "key->frame ms"
    )?;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    for &n in sizes {
        let dir = tempfile::tempdir()?;
        let before = super::current_rss().unwrap_or(0);
        let mut app = App::new(crate::workspace::Workspace::open(dir.path())?, None);
        app.colors = false;
        app.loading = None;
        let line = |i: usize| RestockLine {
            sku: format!("SKU{i:06}"),
            warehouse: format!("W{}", i % 3),
            title: format!("product {i}"),
            method: "ma28".into(),
            supplier: Some(format!("supplier {}", i % 40)),
            abc: crate::plan::restock::Abc::B,
            service_level: 0.95,
            target_service: 0.95,
            intermittent: false,
            lead_time_days: 7,
            review_days: 7,
            period: Default::default(),
            lead_periods: 7,
            review_periods: 7,
            protect_periods: 14.0,
            on_hand: 10.0,
            stock_known: true,
            on_order_in_time: 0.0,
            inventory_position: 10.0,
            protection_demand: 20.0,
            order_up_to: 30.0,
            reorder_point: 25.0,
            safety_stock: 5.0,
            raw_qty: 20.0,
            order_qty: 20 + (i % 7) as u32,
            pack_size: 1,
            moq: 0,
            unit_cost: 2.5,
            line_cost: 50.0,
            order_date: day,
            arrival: day,
            stockout_without: Some(day),
            stockout_with: None,
            projected_without: vec![],
            projected_with: vec![],
            reasons: vec![],
        };
        app.plan = Some(RestockPlan {
            plan_date: day,
            settings: RestockSettings::default(),
            lines: (0..n).map(line).collect(),
            not_forecast: Vec::new(),
            data: None,
            data_key: None,
        });
        app.forecast_rows = (0..n)
            .map(|i| ForecastRow {
                series: Some(i),
                sku: format!("SKU{i:06}"),
                warehouse: format!("W{}", i % 3),
                method: "ets".into(),
                next: 70.0,
                horizon_total: 280.0,
                mase: Some(0.9),
                overridden: false,
            })
            .collect();
        app.refresh_totals();
        let state_mb = super::current_rss().unwrap_or(0).saturating_sub(before) as f64 / 1e6;
        let mut term = Terminal::new(TestBackend::new(160, 48))?;
        let empty = super::median_time(repeat, || {
            term.draw(|f| f.render_widget(ratatui::widgets::Paragraph::new(""), f.area()))?;
            Ok(())
        })?;
        for (tab, name) in [(2usize, "forecasts"), (3, "restock")] {
            app.update(Action::GoTab(tab));
            let frame = super::median_time(repeat, || {
                term.draw(|f| crate::tui::draw::draw(f, &mut app))?;
                Ok(())
            })?;
            let key = super::median_time(repeat, || {
                app.update(Action::Down);
                term.draw(|f| crate::tui::draw::draw(f, &mut app))?;
                Ok(())
            })?;
            writeln!(
                out,
                "{n:>8} {name:<10} {:>10.2} {:>12.3} {:>10.0} {:>14.2}",
                frame.as_secs_f64() * 1e3,
                empty.as_secs_f64() * 1e3,
                frame.as_secs_f64() / empty.as_secs_f64().max(1e-9),
                key.as_secs_f64() * 1e3
            )?;
        }
        writeln!(out, "{n:>8} state      {state_mb:.0} MB resident for the rows")?;
    }
    Ok(out)
}
