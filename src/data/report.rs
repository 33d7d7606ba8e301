//! The import report as text for a terminal.

use std::fmt::Write as _;

use crate::data::import::ImportReport;

/// Files read, the summary (when the data is usable) and every problem.
pub fn render(report: &ImportReport) -> String {
    let mut out = String::new();
    for f in &report.files {
        let cols: Vec<String> = f
            .columns
            .iter()
            .filter(|(field, col)| field.name() != col.as_str())
            .map(|(field, col)| format!("{field}<-{col}"))
            .collect();
        let _ = write!(out, "read {}", f.path.display());
        if let Some(sheet) = &f.sheet {
            let _ = write!(out, ", sheet '{sheet}'");
        }
        let _ = write!(out, " ({}, {} rows", f.kind, f.rows);
        if let Some(df) = &f.date_format {
            let _ = write!(out, ", dates {df}");
        }
        if let Some(p) = &f.period {
            let _ = write!(out, ", {p}");
        }
        if !cols.is_empty() {
            let _ = write!(out, "; columns {}", cols.join(" "));
        }
        out.push_str(")\n");
    }
    if let Some(s) = &report.summary {
        out.push('\n');
        let p = s.period;
        let range = match (s.first_day, s.last_day) {
            (Some(a), Some(b)) => format!("{a} to {b} ({})", p.count(p.between(a, b).max(0) as usize + 1)),
            _ => "no sales history".to_string(),
        };
        let rows = [
            ("demand rows", s.demand_rows.to_string()),
            (
                "series",
                format!(
                    "{} ({} SKU{} x {} warehouse{})",
                    s.series,
                    s.skus,
                    if s.skus == 1 { "" } else { "s" },
                    s.warehouses,
                    if s.warehouses == 1 { "" } else { "s" }
                ),
            ),
            ("period", p.describe()),
            ("date range", range),
            (
                "zero demand",
                format!("{:.1} % of {}", s.zero_share * 100.0, p.plural()),
            ),
            (
                "intermittent",
                format!(
                    "{} series (demand in fewer than 3 {} in 4)",
                    s.intermittent_series,
                    p.plural()
                ),
            ),
            (
                "new",
                format!(
                    "{} series with under {} of history",
                    s.new_series,
                    p.count(p.from_days(90))
                ),
            ),
            (
                "products",
                format!("{} ({} made from sales data)", s.products, s.synthesized_products),
            ),
            (
                "returns",
                format!(
                    "{} return lines ({} units), {} cancelled lines ({} units), kept apart from demand",
                    s.returns.return_lines,
                    s.returns.returned_units,
                    s.returns.cancellation_lines,
                    s.returns.cancelled_units
                ),
            ),
            ("inventory", format!("{} SKU x warehouse rows", s.inventory_rows)),
            ("deliveries", format!("{} orders, {} vehicles", s.orders, s.vehicles)),
            (
                "events",
                if s.events == 0 {
                    "none (a calendar file of holidays or markdowns can be given)".to_string()
                } else {
                    format!(
                        "{} known events, read by the model for the periods it forecasts",
                        s.events
                    )
                },
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(out, "  {k:<17} {v}");
        }
    }
    let errors = report.error_count();
    let warnings = report.warnings().count();
    if !report.problems.is_empty() {
        out.push('\n');
        for p in &report.problems {
            let _ = writeln!(out, "{p}");
        }
    }
    let _ = writeln!(
        out,
        "\n{} error{}, {} warning{}: {}",
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
        if errors == 0 {
            "the data is usable"
        } else {
            "the data is NOT usable; nothing was imported"
        }
    );
    out
}
