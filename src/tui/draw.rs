//! Drawing: a pure function of the state. The frame is the tab bar, the
//! tab's body, a message line and the keys that work here.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Confirm, Prompt, Tab};
use super::tabs;
use super::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App) {
    let theme = Theme { colors: app.colors };
    let [top, body, message, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(f.area());
    tab_bar(f, top, app, &theme);
    // Set again by whichever table this frame draws.
    app.table_rows = None;
    if let Some(what) = &app.loading {
        let p = Paragraph::new(format!("{what} ...")).style(theme.dim());
        f.render_widget(p, body);
    } else {
        match app.tab {
            Tab::Data => tabs::data::draw(f, body, app, &theme),
            Tab::Training => tabs::training::draw(f, body, app, &theme),
            Tab::Forecasts => tabs::forecasts::draw(f, body, app, &theme),
            Tab::Restock => tabs::restock::draw(f, body, app, &theme),
            Tab::Deliveries => tabs::deliveries::draw(f, body, app, &theme),
        }
    }
    message_line(f, message, app, &theme);
    let text = super::keymap::relabel(app.hints(), &app.relabels, true);
    f.render_widget(Paragraph::new(text).style(theme.dim()), hints);
    if app.details && app.tab == Tab::Restock {
        details(f, body, app, &theme);
    }
    if app.help {
        app.help_scroll = help(f, body, &theme, &app.relabels, app.help_scroll);
    }
    if app.show_messages {
        messages(f, body, app, &theme);
    }
}

/// The session's messages, newest first, whole and wrapped.
fn messages(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = area.width.min(100);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        width: w,
        ..area
    };
    // Scrolled by whole messages (a long one wraps), newest first.
    let mut lines: Vec<Line> = app
        .messages
        .iter()
        .rev()
        .skip(app.messages_scroll)
        .map(|(at, m)| Line::from(vec![Span::styled(format!("{at} "), theme.dim()), Span::raw(m.clone())]))
        .collect();
    if lines.is_empty() {
        lines.push(Line::raw("no messages yet"));
    }
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(if app.messages.len() > 1 {
                format!(
                    " messages, newest first: {} of {} (j/k, PgUp/PgDn scroll; H or Esc closes) ",
                    app.messages_scroll + 1,
                    app.messages.len()
                )
            } else {
                " messages (H or Esc closes) ".to_string()
            })),
        r,
    );
}

/// What a line in review was decided as, and for what quantity and day
/// (the line's details said only that it changed since).
fn was_decided(app: &App, l: &crate::plan::restock::RestockLine) -> String {
    let key = vec![l.sku.clone(), l.warehouse.clone()];
    let Some(d) = app.decisions.get(&key) else {
        return " (changed since the decision: review)".into();
    };
    let what = match crate::plan::export::fingerprint_parts(&d.fingerprint) {
        Some((q, day)) => format!(
            " at {} units on {day}",
            d.qty.map_or_else(|| q.to_string(), |q| q.to_string())
        ),
        None => String::new(),
    };
    let by = d.user.as_deref().map(|u| format!(" by {u}")).unwrap_or_default();
    let changed = match d.qty {
        Some(q) if !crate::plan::export::orderable(l, q) => format!(
            "{q} is not whole packs of {} of at least the MOQ {} now",
            l.pack_size, l.moq
        ),
        _ => "the line changed since".into(),
    };
    format!(" ({}{what}{by}; {changed}: review)", d.state.name())
}

/// Everything about the selected restock line.
fn details(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(l) = app.selected_line() else { return };
    let (state, review, qty) = app.state_of(l);
    let d = |x: Option<chrono::NaiveDate>| x.map_or("none".to_string(), |d| d.to_string());
    let rows = [
        (
            "product",
            format!(
                "{} ({}), {}",
                l.title,
                l.sku,
                l.supplier.as_deref().unwrap_or("no supplier")
            ),
        ),
        ("warehouse", l.warehouse.clone()),
        (
            "state",
            format!(
                "{}{}",
                state.name(),
                if review { was_decided(app, l) } else { String::new() }
            ),
        ),
        (
            "order",
            format!(
                "{} units (pack {}, MOQ {}) on {}, arriving {}",
                qty.unwrap_or(l.order_qty),
                l.pack_size,
                l.moq,
                l.order_date,
                l.arrival
            ),
        ),
        (
            "cost",
            l.cost_for(qty.unwrap_or(l.order_qty)).map_or_else(
                || "unknown: the products file gives no unit cost (budgets leave the line out)".into(),
                |c| format!("{c:.2} at {:.2} a unit", l.unit_cost),
            ),
        ),
        (
            "class",
            format!(
                "{:?}, target service {:.0} %, stocked to the {:.1} % quantile{}",
                l.abc,
                100.0 * l.target_service,
                100.0 * l.service_level,
                if l.intermittent { ", lumpy" } else { "" }
            ),
        ),
        (
            "stock",
            format!(
                "on hand {:.0}{}, on order in time {:.0}, position {:.0}",
                l.on_hand,
                if l.stock_known {
                    ""
                } else {
                    " (no inventory row: taken as 0)"
                },
                l.on_order_in_time,
                l.inventory_position
            ),
        ),
        (
            "forecast",
            if l.method == crate::engine::run::METHOD && l.intermittent {
                // The scale a planner may want to question: measured on
                // which days, and how large.
                let model = app.loaded.as_ref().and_then(|x| x.active(app.run_on()).model.as_ref());
                let scale = match model.map(|m| (m.lumpy_mean[l.abc as usize], m.held_out)) {
                    Some((Some(k), (from, to))) => {
                        format!("times x{k:.2}, what it fell short by on its held-out days {from}..{to}")
                    }
                    Some((None, _)) => "not scaled: too few lumpy series to measure its shortfall".to_string(),
                    None => "scaled by its shortfall on its held-out days".to_string(),
                };
                format!(
                    "by the fine-tuned model (its mean from the last day, {scale}; stocked as the baselines' lumpy \
                     lines, at their level)"
                )
            } else if l.method == crate::engine::run::METHOD {
                "by the fine-tuned model (its p10/p50/p90 from the last day; safety stock from its errors, and the \
                 quantile from a replay, on its held-out days)"
                    .to_string()
            } else if l.method.is_empty() {
                "method not recorded (a plan saved by an older skuplan)".to_string()
            } else {
                format!("by {}, the series' champion among the baselines", l.method)
            },
        ),
        (
            "policy",
            format!(
                "{}: demand {:.0}, safety stock {:.0}, reorder point {:.0}, order-up-to {:.0}",
                l.protection_text(),
                l.protection_demand,
                l.safety_stock,
                // Rounded up, as orders are (an order-up-to of 243.4 read 243
                // beside an order of 244 from nothing).
                l.reorder_point.ceil(),
                l.order_up_to.ceil()
            ),
        ),
        (
            "stock-out",
            format!(
                "without the order {}, with it {}",
                d(l.stockout_without),
                d(l.stockout_with)
            ),
        ),
        ("why", l.reason_text()),
    ];
    let w = area.width.saturating_sub(4).min(100);
    let lines: Vec<Line> = rows
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:<10}"), theme.title()),
                Span::raw(v.clone()),
            ])
        })
        .collect();
    let h = (lines.len() as u16 * 2 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" line (Esc closes) ")),
        r,
    );
}

fn tab_bar(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, t) in Tab::ALL.iter().enumerate() {
        let style = if *t == app.tab {
            theme.selected()
        } else {
            Default::default()
        };
        spans.push(Span::styled(format!(" {} {} ", i + 1, t.title()), style));
    }
    let engine = if app.training.running {
        let what = if app.training.refit { "refit" } else { "training" };
        match app.training.last {
            Some(p) if app.training.paused => format!("paused at step {}", p.step),
            // Paused before the first step (encoding the texts).
            None if app.training.paused => format!("{what} paused"),
            Some(p) => format!("{what} {:.0}%", 100.0 * p.step as f64 / p.steps_total.max(1) as f64),
            None => format!("{what}: starting"),
        }
    } else if app.joining {
        "judging the run".into()
    } else if app.launching {
        "encoding products".into()
    } else {
        "engine idle".into()
    };
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used);
    // At 80 columns there is room for one of the two: an idle engine says
    // least, and a busy one more than the time of the last save.
    let idle = !app.training.running && !app.joining && !app.launching;
    // Data the files no longer hold is said first, whatever else fits.
    let stale = app.stale().is_some();
    let right = match &app.last_save {
        _ if stale => match format!("OLD DATA | {engine} ") {
            both if !idle && both.chars().count() <= room => both,
            _ => "OLD DATA: see Data ".to_string(),
        },
        Some(t) if format!("{engine} | saved {t} ").chars().count() <= room => format!("{engine} | saved {t} "),
        Some(t) if idle => format!("saved {t} "),
        _ => format!("{engine} "),
    };
    let pad = (area.width as usize).saturating_sub(used + right.chars().count());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(right, if stale { theme.bad() } else { theme.dim() }));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn message_line(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = if let Some((prompt, buf)) = &app.prompt {
        let label = match prompt {
            Prompt::Filter => "filter: ".to_string(),
            Prompt::ExportPath => "export approved lines to: ".to_string(),
            Prompt::ImportPath => "import file or folder: ".to_string(),
            Prompt::EditDemand { sku } => {
                format!("what-if for {sku}, every warehouse (+20% [@WH] [FROM..TO] reason | =N ...): ")
            }
            Prompt::SetQty { key } => format!("order quantity for {} at {}: ", key.0, key.1),
            Prompt::ScenarioName => "save the what-ifs as scenario: ".to_string(),
            Prompt::Mapping => "column mapping (field=column,...): ".to_string(),
            Prompt::MoveOrder => "move ORDER VEHICLE [STOP]: ".to_string(),
            Prompt::OpenScenario => "open scenario: ".to_string(),
            Prompt::ExportDeliveries => "export approved routes to: ".to_string(),
        };
        // A suggestion shows as selected: typing replaces it. What does not
        // fit shows its end, where typing goes, after a `…` (a long export
        // path was cut at the screen's edge).
        let room = usize::from(area.width).saturating_sub(label.chars().count() + 1).max(8);
        let tail = |s: &str| {
            let n = s.chars().count();
            if n <= room {
                s.to_string()
            } else {
                format!("…{}", s.chars().skip(n + 1 - room).collect::<String>())
            }
        };
        let text = if app.prompt_fresh {
            Span::styled(tail(buf), theme.selected())
        } else {
            Span::raw(tail(&format!("{buf}_")))
        };
        Line::from(vec![Span::styled(label, theme.accent()), text])
    } else if let Some(c) = &app.confirm {
        let q = match c {
            Confirm::Quit => "training is running: cancel it and quit? (y/n)".to_string(),
            Confirm::ApproveAll { count, rejected } => {
                let what = if app.tab == Tab::Deliveries { "routes" } else { "lines" };
                let overturned = match rejected {
                    0 => String::new(),
                    n => format!(", {n} of them rejected now"),
                };
                format!("approve {count} {what} shown{overturned}? (y/n)")
            }
            Confirm::DropWhatIfs { count: 0 } => "remove the saved what-ifs' file, which cannot be read? (y/n)".into(),
            Confirm::DropWhatIfs { count } => format!(
                "drop {}? they are gone unless saved with S (y/n)",
                crate::tui::app::what_ifs(*count)
            ),
            Confirm::ReplaceScenario { name, had } => format!(
                "scenario {name:?} holds {}: replace them? (y/n)",
                crate::tui::app::what_ifs(*had)
            ),
            Confirm::OpenScenario { name, unsaved } => format!(
                "open {name:?}? your {} are saved under no name: gone unless saved with S (y/n)",
                crate::tui::app::what_ifs(*unsaved)
            ),
        };
        Line::styled(q, theme.warn())
    } else if let Some(e) = &app.error {
        Line::styled(cut(e, area.width), theme.bad())
    } else {
        Line::raw(cut(&app.status, area.width))
    };
    f.render_widget(Paragraph::new(line), area);
}

/// A message cut to `width`, saying where the rest is.
fn cut(message: &str, width: u16) -> String {
    const MORE: &str = " (H: all)";
    let width = usize::from(width);
    if message.chars().count() <= width || width <= MORE.len() + 8 {
        message.to_string()
    } else {
        format!("{}{MORE}", tabs::fit(message, width - MORE.len()))
    }
}

const HELP: &[(&str, &str)] = &[
    ("1-5, Tab/S-Tab, h/l", "switch tabs"),
    ("j/k, arrows", "move"),
    ("PgUp/PgDn, g/G", "page, top, bottom"),
    ("Enter / Esc", "a restock line's details / back"),
    ("/", "filter (Esc clears)"),
    ("s", "sort (cycle)"),
    ("a / r / A", "approve / reject / approve all shown"),
    ("u", "undo the last decision"),
    ("=", "set the line's quantity"),
    ("e", "what-if: edit demand of the SKU"),
    ("D", "drop all what-ifs"),
    ("C / S / O", "compare with base / save / open a scenario"),
    ("x", "export approved lines to CSV"),
    ("i / M", "import a file or folder (any tab) / the mapping (Data)"),
    ("n", "products like the selected one (Forecasts)"),
    ("t/p/c, m, +/-", "train / pause-resume / cancel, mode, epochs"),
    ("R / f", "the run among the champions on-off / refit (Training)"),
    (
        "v/L/o, Enter, [/]",
        "Deliveries: move, lock, re-plan; next view, scroll",
    ),
    ("? / H / q", "this help / recent messages, whole / quit"),
];

/// The keys, scrolled `scroll` lines down where they do not fit (at
/// 60x20 the last third could not be read); returns the scroll, within
/// what there is to scroll.
fn help(f: &mut Frame, area: Rect, theme: &Theme, relabels: &[(String, String)], scroll: u16) -> u16 {
    let w = area.width.min(76);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            let k = super::keymap::relabel(k, relabels, false);
            Line::from(vec![Span::styled(format!("{k:<20}"), theme.title()), Span::raw(*what)])
        })
        .collect();
    let text = Paragraph::new(lines).wrap(Wrap { trim: true });
    let total = u16::try_from(text.line_count(w.saturating_sub(2))).unwrap_or(u16::MAX);
    // As tall as the keys wrap to, where the screen allows.
    let h = total.saturating_add(2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let room = h.saturating_sub(2);
    let scroll = scroll.min(total.saturating_sub(room));
    let title = match tabs::shown_of(usize::from(scroll), usize::from(room), usize::from(total)) {
        Some(shown) => format!(" keys: lines {shown} (j/k, g/G scroll; ? or Esc closes) "),
        None => " keys (? or Esc closes) ".to_string(),
    };
    f.render_widget(Clear, r);
    f.render_widget(
        text.scroll((scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
    scroll
}
