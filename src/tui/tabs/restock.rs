//! Restock: plan lines with state, quantity, cost and projected stock-out;
//! approve, reject, undo, edit; totals by warehouse.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

use super::{decision_style, fit, table_window};
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &mut App, theme: &Theme) {
    let unforecast = app.plan.as_ref().map_or(0, |p| p.not_forecast.len());
    let foot = if unforecast > 0 { 3 } else { 2 };
    let [table_area, totals_area] = Layout::vertical([Constraint::Min(4), Constraint::Length(foot)]).areas(area);
    let view = app.restock_view();
    let (height, sel, off) = table_window(app, view.len(), table_area);
    let app = &*app;
    let Some(plan) = &app.plan else {
        f.render_widget(Paragraph::new("no plan yet"), area);
        return;
    };
    let wide = area.width >= 120;
    // Under 78 columns the cost, stock-out and method columns go, so that
    // the state, SKU and warehouse that name a line stay whole (at 60 every
    // SKU read `SKU-00`, and every line looked alike).
    let narrow = area.width < 78;
    // What is left for the reason after the fixed columns and the space
    // after each: cut there with a mark, as other cells are (cut silently,
    // "below ROP 3418<6750" read "3418<675").
    let fixed: u16 = if wide {
        8 + 12 + 6 + 6 + 8 + 6 + 9 + 28 + 8
    } else if narrow {
        8 + 12 + 6 + 6 + 4
    } else {
        8 + 12 + 6 + 6 + 8 + 6 + 9 + 7
    };
    let reason_width = usize::from(table_area.width.saturating_sub(fixed)).max(10);
    let rows: Vec<Row> = view
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(pos, &i)| {
            let l = &plan.lines[i];
            let (state, review, qty) = app.state_of(l);
            let state_text = if review { "review" } else { state.name() };
            let qty = qty.unwrap_or(l.order_qty);
            let mut cells = vec![
                state_text.to_string(),
                fit(&l.sku, 12),
                fit(&l.warehouse, 6),
                // Six columns: millions shortened, not cut to a wrong number.
                if qty > 999_999 {
                    format!("{:.1}M", f64::from(qty) / 1e6)
                } else {
                    qty.to_string()
                },
            ];
            if !narrow {
                cells.push(l.cost_for(qty).map_or("-".into(), |c| format!("{c:.0}")));
                cells.push(l.stockout_without.map_or("-".into(), |d| d.format("%m-%d").to_string()));
                cells.push(fit(&l.method, 9));
            }
            if wide {
                cells.push(fit(&l.title, 28));
                cells.push(fit(&l.reason_text(), reason_width));
            } else {
                // At 80 columns the full reason was cut mid-date.
                cells.push(fit(&l.reason_short(), reason_width));
            }
            Row::new(cells).style(decision_style(theme, state, review, pos == sel))
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    let mut header = vec!["state", "SKU", "WH", "qty"];
    if !narrow {
        widths.extend([Constraint::Length(8), Constraint::Length(6), Constraint::Length(9)]);
        header.extend(["cost", "out", "by"]);
    }
    if wide {
        widths.push(Constraint::Length(28));
        header.push("product");
    }
    widths.push(Constraint::Min(10));
    header.push("reason");
    let by_cost = if app.totals_in_units { "units" } else { "cost" };
    let sort = ["data order", by_cost, "stock-out date"][app.sort % 3];
    let what_if = if app.scenario.overrides.is_empty() {
        String::new()
    } else {
        format!(", {}", crate::tui::app::what_ifs(app.scenario.overrides.len()))
    };
    // Counted among the lines shown, so the title's numbers add up.
    let shown_by = |method: &str| {
        view.iter()
            .filter(|&&i| plan.lines.get(i).is_some_and(|l| l.method == method))
            .count()
    };
    let by_model = shown_by(crate::engine::run::METHOD);
    let launches = shown_by(crate::forecast::launch::METHOD);
    let model = match (by_model, launches) {
        (0, 0) => String::new(),
        (m, 0) => format!(", {m} by the model"),
        (0, n) => format!(", {n} launches"),
        (m, n) => format!(", {m} by the model, {n} launches"),
    };
    // What narrows or changes the lines first: at 80 columns the end is
    // cut, and a filter or a what-if out of sight misleads.
    let title = format!(
        " {}plan of {}: {} line{} shown{}{what_if}{model}",
        if app.provisional() { "provisional " } else { "" },
        plan.order_day(),
        view.len(),
        if view.len() == 1 { "" } else { "s" },
        if app.filter.is_empty() {
            String::new()
        } else {
            format!(", filter {:?}", app.filter)
        }
    );
    // The sort goes first when the line is full (the header's order shows
    // it), and what is still too long ends in `~` rather than mid-word.
    let width = usize::from(table_area.width).saturating_sub(1);
    let sorted = format!("{title}, sorted by {sort} ");
    let title = if sorted.chars().count() <= width {
        sorted
    } else {
        format!("{} ", super::fit(&title, width.saturating_sub(1)))
    };
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.header()))
            .block(Block::default().borders(Borders::TOP).title(title)),
        table_area,
    );
    // Without unit costs the totals are units (see `App::totals`).
    let unit = if app.totals_in_units { " units" } else { "" };
    let text: Vec<String> = app
        .totals
        .iter()
        .map(|(wh, all, ok)| format!("{wh}: {all:.0}{unit} ({ok:.0} approved)"))
        .collect();
    let suppliers: Vec<String> = app
        .supplier_totals
        .iter()
        .map(|(s, all, ok)| format!("{s}: {all:.0}{unit} ({ok:.0})"))
        .collect();
    let width = totals_area.width as usize;
    let mut by_wh = format!("by warehouse: {}", text.join("  "));
    if by_wh.chars().count() > width {
        // Every warehouse's total, and what is approved in all of them,
        // rather than a line cut in its third warehouse.
        // A colon after each name: numeric warehouses ran into their totals
        // ("1 9482  2 13453").
        let each: Vec<String> = app
            .totals
            .iter()
            .map(|(wh, all, _)| format!("{wh}: {all:.0}"))
            .collect();
        let approved: f64 = app.totals.iter().map(|(_, _, ok)| ok).sum();
        by_wh = format!("by warehouse{unit}: {}; approved {approved:.0}", each.join("  "));
    }
    let mut foot = vec![
        Line::raw(super::fit(&by_wh, width)),
        Line::raw(super::fit(&format!("by supplier: {}", suppliers.join("  ")), width)),
    ];
    if let Some(first) = plan.not_forecast.first() {
        // The count first: at 80 columns the reason is cut.
        let text = format!(
            "not forecast ({}, plan restock lists them): {} {}",
            plan.not_forecast.len(),
            first.sku,
            first.reason
        );
        foot.push(Line::styled(super::fit(&text, width), theme.warn()));
    }
    f.render_widget(Paragraph::new(foot), totals_area);
}
