//! Deliveries: the day's routes (state, stops, load, distance, times,
//! lock), the stops of the selected route, and the orders left out with
//! the reason.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

use super::{decision_style, fit, table_window};
use crate::domain::Location;
use crate::plan::approval::State;
use crate::plan::delivery::{DeliveryPlan, hhmm};
use crate::tui::app::{App, PaneView};
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &mut App, theme: &Theme) {
    if app.deliveries.is_none() {
        let text = if app.planning_routes {
            "planning the day's routes ...".to_string()
        } else if app.delivery_problem.is_none() {
            "no delivery orders or no fleet in the data. Routes are planned from an orders file \
             (id, warehouse, lat/lon or x/y, quantity, ready, due, service_min) and a fleet file \
             (id, warehouse, capacity, shift_start, shift_end, speed_kmh); import them on the Data tab."
                .to_string()
        } else {
            "no routes yet: press o to plan them".to_string()
        };
        f.render_widget(
            Paragraph::new(text)
                .style(theme.dim())
                .wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let unserved = app.deliveries.as_ref().map_or(0, |p| p.unserved.len());
    let wide = area.width >= 120;
    app.lower.wide = wide;
    // The orders not served are gone (a re-plan served them): back to the
    // stops for good. A narrow screen's map is kept across a resize.
    if app.lower.view == PaneView::NotServed && unserved == 0 {
        app.lower.view = PaneView::Stops;
    }
    let pane = match app.lower.view {
        PaneView::Map if wide => PaneView::Stops,
        v => v,
    };
    // The strip under the stops: the first few orders not served, unless
    // the pane lists them all.
    let unserved_h = if unserved == 0 || pane == PaneView::NotServed {
        0
    } else {
        unserved.min(3) as u16 + 1
    };
    let routes = app.delivery_view().len().min(usize::from(u16::MAX)) as u16;
    let routes_h = routes
        .saturating_add(2)
        .clamp(4, (area.height.saturating_sub(unserved_h) / 2).max(4));
    let [routes_area, stops_area, unserved_area] = Layout::vertical([
        Constraint::Length(routes_h),
        Constraint::Min(3),
        Constraint::Length(unserved_h),
    ])
    .areas(area);
    let view = app.delivery_view();
    let (height, sel, off) = table_window(app, view.len(), routes_area);
    // The orders not served, laid out once: their wrapped length is what
    // the pane scrolls over.
    let listed = match (&app.deliveries, pane) {
        (Some(p), PaneView::NotServed) => Some(not_served_text(p)),
        _ => None,
    };
    let (rows, total) = match &listed {
        Some(text) => (stops_area.height.saturating_sub(1), text.line_count(stops_area.width)),
        None => (
            stops_area.height.saturating_sub(2),
            app.selected_route().map_or(0, |r| r.stops.len()),
        ),
    };
    set_pane_extent(app, usize::from(rows), total);
    let app = &*app;
    let Some(plan) = &app.deliveries else { return };

    // Under 78 columns the warehouse, distance and lock columns go, so that
    // the vehicle, load and times stay whole; the breaks take what is left,
    // cut with a mark (the stops' title gives them whole).
    let narrow = area.width < 78;
    let breaks_width = usize::from(area.width.saturating_sub(if narrow { 50 } else { 70 })).max(6);
    let rows: Vec<Row> = view
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(pos, &i)| {
            let r = &plan.routes[i];
            let (state, review) = app.route_state(r);
            let style = if pos != sel && !r.problems.is_empty() {
                theme.bad()
            } else {
                decision_style(theme, state, review, pos == sel)
            };
            let state = if review { "review" } else { state.name() };
            let breaks = fit(&r.problems.join("; "), breaks_width);
            let load = format!("{:.0}/{:.0}", r.load(), r.capacity);
            let times = format!("{}-{}", hhmm(r.depart), hhmm(r.back));
            let cells = if narrow {
                vec![
                    state.to_string(),
                    fit(&r.vehicle, 12),
                    r.stops.len().to_string(),
                    load,
                    times,
                    breaks,
                ]
            } else {
                vec![
                    state.to_string(),
                    fit(&r.vehicle, 12),
                    fit(&r.warehouse, 7),
                    r.stops.len().to_string(),
                    load,
                    format!("{:.1}", r.distance_km),
                    times,
                    if r.locked { "lock" } else { "" }.to_string(),
                    breaks,
                ]
            };
            Row::new(cells).style(style)
        })
        .collect();
    let approved = plan
        .routes
        .iter()
        .filter(|r| app.route_state(r).0 == State::Approved)
        .count();
    let title = format!(
        " routes for {}: {} routes, {} stops, {:.0} km, cost {:.0}; {approved} approved{}{} ",
        plan.date
            .map_or_else(|| "any day".into(), |d| d.format("%a %d %b").to_string()),
        plan.routes.len(),
        plan.stop_count(),
        plan.distance_km(),
        plan.cost(),
        if app.planning_routes { "; re-planning ..." } else { "" },
        if app.route_filter.is_empty() {
            String::new()
        } else {
            format!(", filter {:?}", app.route_filter)
        }
    );
    let (widths, header) = if narrow {
        (
            vec![
                Constraint::Length(8),
                Constraint::Length(12),
                Constraint::Length(5),
                Constraint::Length(9),
                Constraint::Length(11),
                Constraint::Min(6),
            ],
            vec!["state", "vehicle", "stops", "load", "out-back", "breaks"],
        )
    } else {
        (
            vec![
                Constraint::Length(8),
                Constraint::Length(12),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(9),
                Constraint::Length(6),
                Constraint::Length(11),
                Constraint::Length(4),
                Constraint::Min(6),
            ],
            vec![
                "state", "vehicle", "WH", "stops", "load", "km", "out-back", "", "breaks",
            ],
        )
    };
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.header()))
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(fit(&title, area.width as usize)),
            ),
        routes_area,
    );

    // The stops of the selected route, and the map: side by side when
    // wide, else one of them; or every order not served (Enter cycles).
    if let Some(text) = listed {
        not_served(f, stops_area, text, plan.unserved.len(), app.pane_offset(), theme);
        return;
    }
    let (stops_area, map_area) = if wide {
        let [a, b] = pane_split(stops_area);
        (Some(a), Some(b))
    } else if pane == PaneView::Map {
        (None, Some(stops_area))
    } else {
        (Some(stops_area), None)
    };
    if let Some(a) = map_area {
        route_map(f, a, app, theme);
    }
    if let Some(a) = stops_area {
        stops(f, a, app, theme);
    }
    if unserved > 0 {
        unserved_lines(f, unserved_area, plan, theme);
    }
}

fn stops(f: &mut Frame, stops_area: Rect, app: &App, theme: &Theme) {
    let rows = stops_area.height.saturating_sub(2) as usize;
    let total = app.selected_route().map_or(0, |r| r.stops.len());
    let first = app.pane_offset().min(total.saturating_sub(rows));
    let stop_rows: Vec<Row> = app
        .selected_route()
        .map(|r| {
            r.stops
                .iter()
                .enumerate()
                .skip(first)
                .take(rows)
                .map(|(i, s)| {
                    let waits = s.start > s.arrival + 0.5;
                    Row::new(vec![
                        (i + 1).to_string(),
                        fit(&s.order, 11),
                        fit(s.customer.as_deref().unwrap_or(""), 11),
                        hhmm(s.arrival),
                        hhmm(s.start),
                        format!("{}-{}", hhmm(s.ready), hhmm(s.due)),
                        format!("{:.0}", s.quantity),
                        format!("{:.0}", s.load_after),
                    ])
                    .style(if waits { theme.dim() } else { Default::default() })
                })
                .collect()
        })
        .unwrap_or_default();
    let stops_title = app.selected_route().map_or_else(
        || " no route selected ".to_string(),
        |r| {
            // The rules it breaks, whole and first: the routes' column
            // cuts them.
            let breaks = if r.problems.is_empty() {
                String::new()
            } else {
                format!(" (breaks: {})", r.problems.join("; "))
            };
            let title = match super::shown_of(first, rows, total) {
                None => format!(" stops of {}{breaks} ", r.vehicle),
                Some(shown) => format!(" stops of {}{breaks}: {shown} ([ ] scroll) ", r.vehicle),
            };
            fit(&title, usize::from(stops_area.width))
        },
    );
    f.render_widget(
        Table::new(
            stop_rows,
            [
                Constraint::Length(3),
                Constraint::Length(11),
                Constraint::Length(11),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(11),
                Constraint::Length(5),
                Constraint::Length(6),
            ],
        )
        .header(Row::new(["#", "order", "customer", "arrive", "start", "window", "qty", "load"]).style(theme.header()))
        .block(Block::default().borders(Borders::TOP).title(stops_title)),
        stops_area,
    );
}

fn unserved_lines(f: &mut Frame, unserved_area: Rect, plan: &DeliveryPlan, theme: &Theme) {
    let unserved = plan.unserved.len();
    let width = unserved_area.width as usize;
    let shown = unserved_area.height.saturating_sub(1) as usize;
    // How many are not listed goes in the heading: at the end of a long
    // reason it was cut off at 80 columns.
    let heading = if unserved > shown {
        format!("{unserved} orders not served ({shown} here; Enter lists all):")
    } else {
        format!("{unserved} order{} not served:", if unserved == 1 { "" } else { "s" })
    };
    let mut lines = vec![Line::styled(fit(&heading, width), theme.warn())];
    for u in plan.unserved.iter().take(shown) {
        lines.push(Line::raw(fit(
            &format!("  {} {} ({:.0}): {}", u.warehouse, u.order, u.quantity, u.reason),
            width,
        )));
    }
    f.render_widget(Paragraph::new(lines), unserved_area);
}

/// The stops beside the map on a wide screen.
fn pane_split(area: Rect) -> [Rect; 2] {
    Layout::horizontal([Constraint::Length(70), Constraint::Min(20)]).areas(area)
}

/// The orders not served, one paragraph each, wrapped.
fn not_served_text(plan: &DeliveryPlan) -> Paragraph<'static> {
    let lines: Vec<Line> = plan
        .unserved
        .iter()
        .map(|u| Line::raw(format!("{} {} ({:.0}): {}", u.warehouse, u.order, u.quantity, u.reason)))
        .collect();
    Paragraph::new(lines).wrap(Wrap { trim: true })
}

/// Tell the pane's scroll how much there is to scroll over, as this frame
/// lays it out: `rows` shown of `total`.
fn set_pane_extent(app: &mut App, rows: usize, total: usize) {
    app.lower.page = rows.max(1);
    app.lower.last = total.saturating_sub(rows);
    // A list that got shorter (a re-plan, a taller terminal) keeps the
    // scroll inside it, so [ moves at once.
    app.lower.scroll = app.lower.scroll.min(app.lower.last);
}

/// Every order not served and why, scrolled to `offset` wrapped lines.
fn not_served(f: &mut Frame, area: Rect, text: Paragraph<'static>, count: usize, offset: usize, theme: &Theme) {
    let rows = area.height.saturating_sub(1) as usize;
    let total = text.line_count(area.width);
    let first = offset.min(total.saturating_sub(rows));
    let title = match super::shown_of(first, rows, total) {
        Some(shown) => format!(" {count} orders not served: lines {shown} ([ ] scroll, Enter: next view) "),
        None => format!(" {count} orders not served (Enter: next view) "),
    };
    f.render_widget(
        text.scroll((first.min(u16::MAX as usize) as u16, 0))
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(ratatui::text::Span::styled(
                        fit(&title, area.width as usize),
                        theme.warn(),
                    )),
            ),
        area,
    );
}

/// The routes of the selected route's warehouse on a map: longitude across
/// (scaled by the cosine of the latitude, so distances look right), the
/// warehouse marked W, the selected route drawn last and brightest.
fn route_map(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    use ratatui::style::Color;
    use ratatui::symbols::Marker;
    use ratatui::widgets::canvas::{Canvas, Line as Segment, Points};

    let (Some(plan), Some(sel)) = (&app.deliveries, app.selected_route()) else {
        return;
    };
    let depot = app
        .delivery_problem
        .as_ref()
        .and_then(|p| p.depots.iter().find(|d| d.warehouse == sel.warehouse))
        .map(|d| d.location);
    let routes: Vec<_> = plan.routes.iter().filter(|r| r.warehouse == sel.warehouse).collect();
    let mean_lat = {
        let lats: Vec<f64> = routes
            .iter()
            .flat_map(|r| r.stops.iter())
            .filter_map(|s| match s.location {
                Location::LatLon { lat, .. } => Some(lat),
                Location::Xy { .. } => None,
            })
            .collect();
        if lats.is_empty() {
            0.0
        } else {
            lats.iter().sum::<f64>() / lats.len() as f64
        }
    };
    let xy = |l: Location| match l {
        Location::LatLon { lat, lon } => (lon * mean_lat.to_radians().cos(), lat),
        Location::Xy { x, y } => (x, y),
    };
    let mut pts: Vec<(f64, f64)> = routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| xy(s.location)))
        .collect();
    pts.extend(depot.map(xy));
    if pts.is_empty() {
        return;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in &pts {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    let pad = ((x1 - x0).max(y1 - y0) * 0.05).max(1e-6);
    const PALETTE: [Color; 6] = [
        Color::Cyan,
        Color::Green,
        Color::Yellow,
        Color::Magenta,
        Color::Blue,
        Color::Red,
    ];
    let path = |r: &crate::plan::delivery::DeliveryRoute| -> Vec<(f64, f64)> {
        let mut p: Vec<(f64, f64)> = depot.map(xy).into_iter().collect();
        p.extend(r.stops.iter().map(|s| xy(s.location)));
        p.extend(depot.map(xy));
        p
    };
    let colors = theme.colors;
    let canvas = Canvas::default()
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" map of {} ({} highlighted) ", sel.warehouse, sel.vehicle)),
        )
        .marker(if app.braille { Marker::Braille } else { Marker::Dot })
        .x_bounds([x0 - pad, x1 + pad])
        .y_bounds([y0 - pad, y1 + pad])
        .paint(|ctx| {
            for (k, r) in routes.iter().enumerate() {
                if r.vehicle == sel.vehicle {
                    continue;
                }
                let p = path(r);
                if colors {
                    let color = PALETTE[k % PALETTE.len()];
                    for w in p.windows(2) {
                        ctx.draw(&Segment::new(w[0].0, w[0].1, w[1].0, w[1].1, color));
                    }
                } else {
                    // Without colours only the selected route is drawn as
                    // a line; the others are their stops.
                    ctx.draw(&Points {
                        coords: &p,
                        color: Color::Reset,
                    });
                }
            }
            ctx.layer();
            let p = path(sel);
            let color = if colors { Color::White } else { Color::Reset };
            for w in p.windows(2) {
                ctx.draw(&Segment::new(w[0].0, w[0].1, w[1].0, w[1].1, color));
            }
            if let Some((x, y)) = depot.map(xy) {
                ctx.print(x, y, "W");
            }
        });
    f.render_widget(canvas, area);
}
