//! Forecasts: every SKU x warehouse with its champion method, totals and
//! backtest error; the selected series' history, forecast and band; the
//! methods' errors on it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Row, Table};

use super::{fit, table_window};
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &mut App, theme: &Theme) {
    let wide = area.width >= 120;
    let (table_area, detail_area) = if wide {
        let [a, b] = Layout::horizontal([Constraint::Length(64), Constraint::Min(30)]).areas(area);
        (a, b)
    } else {
        let [a, b] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
        (a, b)
    };
    let view = app.forecast_view();
    let period = app
        .loaded
        .as_ref()
        .map_or_else(Default::default, |l| l.dataset.period());
    let (height, sel, off) = table_window(app, view.len(), table_area);
    let rows: Vec<Row> = view
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(pos, &i)| {
            let r = &app.forecast_rows[i];
            let row = Row::new(vec![
                fit(&r.sku, 12),
                fit(&r.warehouse, 6),
                fit(&r.method, 9),
                format!("{:.0}", r.next),
                format!("{:.0}", r.horizon_total),
                r.mase.map_or("-".into(), |m| format!("{m:.2}")),
                if r.overridden { "*".into() } else { String::new() },
            ]);
            if pos == sel { row.style(theme.selected()) } else { row }
        })
        .collect();
    let sort = ["data order", "horizon total", "MASE"][app.sort % 3];
    let title = format!(
        " {} of {} series, sorted by {sort}{}{} ",
        view.len(),
        app.forecast_rows.len(),
        if app.filter.is_empty() {
            String::new()
        } else {
            format!(", filter {:?}", app.filter)
        },
        // What the * column marks, once it marks anything.
        if app.scenario.overrides.is_empty() {
            String::new()
        } else {
            format!(", * = {}", crate::tui::app::what_ifs(app.scenario.overrides.len()))
        }
    );
    let t = Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(5),
            Constraint::Length(1),
        ],
    )
    .header(
        Row::new(vec![
            "SKU".to_string(),
            "WH".to_string(),
            "champion".to_string(),
            period.near_heading(app.loaded.as_ref().map_or(usize::MAX, |l| {
                l.active(app.run_on())
                    .forecasts
                    .iter()
                    .map(|f| f.p50.len())
                    .max()
                    .unwrap_or(usize::MAX)
            })),
            "horizon".to_string(),
            "MASE".to_string(),
            "*".to_string(),
        ])
        .style(theme.header()),
    )
    .block(Block::default().borders(Borders::TOP).title(title));
    f.render_widget(t, table_area);
    let Some(&i) = view.get(sel) else {
        f.render_widget(Paragraph::new("no series match the filter"), detail_area);
        return;
    };
    detail(f, detail_area, app, i, theme);
}

fn detail(f: &mut Frame, area: Rect, app: &App, row: usize, theme: &Theme) {
    let Some(l) = &app.loaded else { return };
    let r = &app.forecast_rows[row];
    let Some(series) = r.series else {
        launch_detail(f, area, app, r, theme);
        return;
    };
    let s = &l.dataset.demand[series];
    let similar = app.similar.as_ref().filter(|(sku, _)| *sku == r.sku);
    let hist_days = 56usize.min(s.values.len());
    let start = s.values.len() - hist_days;
    let history: Vec<(f64, f64)> = s.values[start..]
        .iter()
        .enumerate()
        .map(|(k, v)| (k as f64 - hist_days as f64 + 1.0, *v))
        .collect();
    let fc = l
        .active(app.run_on())
        .forecasts
        .iter()
        .find(|f| f.sku == r.sku && f.warehouse == r.warehouse);
    let horizon = fc.map_or(0, |f| f.p50.len().min(56));
    let band = band_points(fc, horizon);
    let model: Vec<(f64, f64)> = app
        .model_forecasts
        .get(&(r.sku.clone(), r.warehouse.clone()))
        .map(|f| points(&f.p50, horizon))
        .unwrap_or_default();
    let max_y = history
        .iter()
        .chain(&band[2])
        .chain(&model)
        .map(|p| p.1)
        .fold(1.0f64, f64::max);
    // Known events in the window: a mark at the top of the chart in the
    // period each falls in, history and forecast alike.
    let last_stamp = s.end();
    let mut upcoming: Vec<String> = Vec::new();
    let events: Vec<(f64, f64)> = if l.dataset.events.is_empty() {
        Vec::new()
    } else {
        (-(hist_days as i64) + 1..=horizon as i64)
            .filter_map(|x| {
                let from = s.period.step(last_stamp, x);
                let to = s.period.step(last_stamp, x + 1).pred_opt().unwrap_or(from).max(from);
                let mut here = l.dataset.events_between(&s.warehouse, from, to).peekable();
                let first = here.peek().map(|e| e.name.clone());
                let any = here.count() > 0;
                if x > 0
                    && let Some(name) = first
                    && upcoming.len() < 3
                {
                    upcoming.push(format!("{name} {from}"));
                }
                any.then_some((x as f64, max_y * 1.02))
            })
            .collect()
    };
    let marker = if app.colors { Marker::Braille } else { Marker::Dot };
    let mut sets = vec![
        Dataset::default()
            .name("history")
            .marker(marker)
            .graph_type(GraphType::Line)
            .data(&history),
    ];
    let p50_name = if r.overridden { "p50 (what-if not shown)" } else { "p50" };
    sets.extend(band_sets(&band, p50_name, marker, theme));
    if !model.is_empty() {
        sets.push(
            Dataset::default()
                .name("finetuned")
                .marker(marker)
                .graph_type(GraphType::Line)
                .style(theme.good())
                .data(&model),
        );
    }
    // Today as a line at its place: an axis spaces its labels evenly, so a
    // "today" label sat mid-axis whatever the history and horizon (on
    // weeks, 56 back and 4 ahead, it belongs at 93 % of the way).
    let today = [(0.0, 0.0), (0.0, max_y * 1.05)];
    sets.push(
        Dataset::default()
            .name("today")
            .marker(Marker::Dot)
            .graph_type(GraphType::Line)
            .style(theme.dim())
            .data(&today),
    );
    if !events.is_empty() {
        sets.push(
            Dataset::default()
                .name("events")
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(theme.warn())
                .data(&events),
        );
    }
    let c = Chart::new(sets)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" {} at {} ", r.sku, r.warehouse)),
        )
        .x_axis(
            Axis::default()
                .bounds([-(hist_days as f64), horizon.max(1) as f64])
                .labels(axis_labels(
                    format!("-{hist_days}{}", s.period.abbrev()),
                    hist_days as f64 / (hist_days + horizon.max(1)) as f64,
                    format!("+{horizon}{}", s.period.abbrev()),
                    area.width,
                )),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, max_y * 1.05])
                .labels(["0".to_string(), format!("{max_y:.0}")]),
        );
    // The methods' errors on this series (MASE over the backtest windows).
    // A run is judged on its own held-out days, beside its baseline
    // champion on the same days: its figure beside the baselines' windows
    // read as a like-for-like comparison it was not.
    let active = l.active(app.run_on());
    let bt = &active.backtest;
    let run = active.model.as_ref();
    let scores: Vec<(&String, f64)> = bt
        .methods
        .iter()
        .enumerate()
        .filter(|(_, name)| run.is_none_or(|m| m.name != **name))
        .map(|(m, name)| (name, bt.series_total(series, m).metrics().mase))
        .collect();
    let mut parts: Vec<String> = scores
        .iter()
        .map(|(name, mase)| {
            if mase.is_finite() {
                format!("{name} {mase:.2}")
            } else {
                format!("{name} -")
            }
        })
        .collect();
    // Every `-` alike: the history has no season of the scale's lag to
    // scale the errors by (weekly data under a year), which it did not say.
    if !scores.is_empty() && scores.iter().all(|(_, mase)| !mase.is_finite()) {
        parts.insert(
            0,
            format!(
                "(- : no scale for the errors: under {} of history before the windows, or none that varies \
                 over {})",
                s.period.count(bt.spec.mase_lag + 1),
                s.period.count(bt.spec.mase_lag)
            ),
        );
    }
    parts.insert(0, "MASE by method:".into());
    // The run's like-for-like figure first: after the baselines' list it
    // was cut off at 80x24, and the run read as a champion with the worst
    // score of all.
    if let Some(m) = run {
        let fmt = |a: &crate::forecast::metrics::Accum| {
            let mase = a.metrics().mase;
            if mase.is_finite() {
                format!("{mase:.2}")
            } else {
                "-".into()
            }
        };
        let said = match m.scores.get(series).copied().flatten() {
            Some((run, champion)) => format!(
                "MASE on the run's held-out days {}..{}: {} {}, the baselines' champion {} |",
                m.held_out.0,
                m.held_out.1,
                m.name,
                fmt(&run),
                fmt(&champion)
            ),
            None => format!("{}: not judged on this series |", m.name),
        };
        parts.insert(0, said);
    }
    if !upcoming.is_empty() {
        parts.push(format!("| events ahead: {}", upcoming.join(", ")));
    }
    if let Some((_, items)) = similar {
        parts.push(format!("| similar products: {}", neighbours(items, area.width)));
    }
    let info = Paragraph::new(Line::styled(parts.join("  "), theme.dim())).wrap(ratatui::widgets::Wrap { trim: true });
    // As many rows as the text wraps to, leaving the chart five at least
    // (two rows, four with the neighbours, cut the rest off).
    let rows = u16::try_from(info.line_count(area.width)).unwrap_or(u16::MAX);
    let rows = rows.min(area.height.saturating_sub(5)).max(2);
    let [chart_area, info_area] = Layout::vertical([Constraint::Min(5), Constraint::Length(rows)]).areas(area);
    f.render_widget(c, chart_area);
    f.render_widget(info, info_area);
}

/// X-axis labels: `first` and `last` at the ends and "today" at `at` (a
/// share of the axis) of a chart `width` wide. The axis gives each of its
/// n labels a slot of width/n columns and centres a middle label j in slot
/// j + 1/2, so "today" goes to the slot whose centre is nearest its place,
/// among as many empty labels as leave a slot room for it (six columns).
/// (One "today" label alone sat mid-axis whatever the history and horizon.)
fn axis_labels(first: String, at: f64, last: String, width: u16) -> Vec<String> {
    // The graph is the chart less the y labels and the axis line.
    let graph = usize::from(width.saturating_sub(5));
    let n = (graph / 6).clamp(3, 40);
    let j = (at * n as f64 - 0.5).round().clamp(1.0, (n - 2) as f64) as usize;
    let mut labels = vec![String::new(); n];
    labels[0] = first;
    labels[n - 1] = last;
    labels[j] = "today".into();
    labels
}

/// A launch's detail: its forecast band from the launch on, and where it
/// came from (`n` lists the neighbours).
fn launch_detail(f: &mut Frame, area: Rect, app: &App, r: &crate::tui::app::ForecastRow, theme: &Theme) {
    let Some(l) = &app.loaded else { return };
    let fc = l
        .active(app.run_on())
        .forecasts
        .iter()
        .find(|x| x.sku == r.sku && x.warehouse == r.warehouse);
    let launch = l.launches.as_ref().and_then(|x| x.get(&r.sku, &r.warehouse));
    let similar = app.similar.as_ref().filter(|(sku, _)| *sku == r.sku);
    let info_rows = if similar.is_some() { 4 } else { 2 };
    let [chart_area, info_area] = Layout::vertical([Constraint::Min(5), Constraint::Length(info_rows)]).areas(area);
    let horizon = fc.map_or(0, |x| x.p50.len().min(56));
    let band = band_points(fc, horizon);
    let max_y = band[2].iter().chain(&band[1]).map(|p| p.1).fold(1.0f64, f64::max);
    let marker = if app.colors { Marker::Braille } else { Marker::Dot };
    let sets = band_sets(&band, "p50", marker, theme);
    let abbrev = fc.map_or("d", |x| x.period.abbrev());
    let c = Chart::new(sets)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" {} at {}: launch, no sales yet ", r.sku, r.warehouse)),
        )
        .x_axis(
            Axis::default()
                .bounds([0.0, horizon.max(1) as f64])
                .labels(["today".to_string(), format!("+{horizon}{abbrev}")]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, max_y * 1.05])
                .labels(["0".to_string(), format!("{max_y:.0}")]),
        );
    f.render_widget(c, chart_area);
    let mut parts = vec![match launch {
        Some(x) if x.observed > 0 => format!(
            "new on {} ({} periods sold): forecast from {} similar products' launches scaled by its sales, {:.0} \
             units over the horizon (p50); n lists them",
            x.launch,
            x.observed,
            x.borrowed_from(),
            r.horizon_total
        ),
        Some(x) => format!(
            "launch on {}: forecast from {} similar products' {}, {:.0} units over the horizon (p50); n lists them",
            x.launch,
            x.borrowed_from(),
            if x.recent_sales { "recent sales" } else { "launches" },
            r.horizon_total
        ),
        None => "launch forecast".to_string(),
    }];
    if let Some((_, items)) = similar {
        parts.push(format!("| neighbours: {}", neighbours(items, area.width)));
    }
    f.render_widget(
        Paragraph::new(Line::styled(parts.join("  "), theme.dim())).wrap(ratatui::widgets::Wrap { trim: true }),
        info_area,
    );
}

/// Similar products with their similarity: with their titles where there is
/// room (a planner knows products by name), codes alone at 80 columns (the
/// status line and H have the titles at any width).
fn neighbours(items: &[(String, f32, String)], width: u16) -> String {
    items
        .iter()
        .map(|(s, c, title)| {
            if width >= 90 {
                format!("{s} {} {c:.2}", fit(title, 24).trim_end())
            } else {
                format!("{s} {c:.2}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first `horizon` values of `v` as chart points at x = 1, 2, ...
fn points(v: &[f64], horizon: usize) -> Vec<(f64, f64)> {
    v.iter()
        .take(horizon)
        .enumerate()
        .map(|(k, x)| ((k + 1) as f64, *x))
        .collect()
}

/// A forecast's p10, p50 and p90 as chart points (none without one).
fn band_points(fc: Option<&crate::domain::SeriesForecast>, horizon: usize) -> [Vec<(f64, f64)>; 3] {
    match fc {
        Some(f) => [
            points(&f.p10, horizon),
            points(&f.p50, horizon),
            points(&f.p90, horizon),
        ],
        None => Default::default(),
    }
}

/// The band's lines: p10 and p90 dim, the median accented.
fn band_sets<'a>(band: &'a [Vec<(f64, f64)>; 3], p50: &'a str, marker: Marker, theme: &Theme) -> Vec<Dataset<'a>> {
    let line = |name: &'a str, data: &'a [(f64, f64)]| {
        Dataset::default()
            .name(name)
            .marker(marker)
            .graph_type(GraphType::Line)
            .data(data)
    };
    vec![
        line("p10", &band[0]).style(theme.dim()),
        line("p90", &band[2]).style(theme.dim()),
        line(p50, &band[1]).style(theme.accent()),
    ]
}
