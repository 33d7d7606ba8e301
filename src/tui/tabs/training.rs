//! Training: device, model, mode, live loss and validation charts,
//! throughput, ETA; start, pause, resume, cancel.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};

use crate::tui::app::App;
use crate::tui::theme::Theme;

fn secs(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// How long a run will take here, from rates measured with `skuplan bench
/// train` on 2 CPU cores (MiniLM, batch 32, 32 tokens) with a release
/// build: head ~15,000 windows/s once the texts are encoded, top-k ~110/s,
/// full ~32/s. Encoding runs at ~160 texts/s (online-retail-2010: 14,986
/// texts in 90 s); a window's text is its product, warehouse, season and
/// promotion, and the distinct ones came to about a fifth of the windows
/// (15,041 of 75,000 on online-retail-2010's 4,306 series, 14,443 of
/// 66,240 on its 18,112 series by country), at most four seasons a series.
fn estimate(app: &App) -> String {
    let cfg = &app.train_config;
    let series = app.loaded.as_ref().map_or(0, |l| l.dataset.demand.len());
    let windows = (series * 150).min(cfg.max_train_samples) as f64;
    // Validation windows are a quarter of the training ones.
    let texts = (series as f64 * 4.0).min(0.2 * 1.25 * windows);
    let rate = match cfg.mode {
        crate::engine::Mode::Head => 15_000.0,
        crate::engine::Mode::TopK => 110.0,
        crate::engine::Mode::Full => 32.0,
    };
    // Full mode encodes in its steps (in `rate`), not before them.
    let upfront = if cfg.mode == crate::engine::Mode::Full {
        0.0
    } else {
        texts / 160.0
    };
    let secs = upfront + windows * cfg.epochs as f64 / rate;
    if secs < 1.5 {
        "a second".to_string()
    } else if secs < 90.0 {
        format!("{secs:.0} seconds")
    } else if secs < 5400.0 {
        format!("{:.0} minutes", secs / 60.0)
    } else {
        format!("{:.0} hours", secs / 3600.0)
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let t = &app.training;
    let cfg = &app.train_config;
    let mut info: Vec<Line> = Vec::new();
    let model = app
        .model_dir
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or("(none)".to_string(), |n| n.to_string_lossy().into_owned());
    let series = app.loaded.as_ref().map_or(0, |l| l.dataset.demand.len());
    let period = app
        .loaded
        .as_ref()
        .map_or_else(Default::default, |l| l.dataset.period());
    // Weekly and monthly data train their own default horizon.
    let horizon = if period == crate::domain::Period::Day {
        cfg.horizon
    } else {
        period.default_horizon()
    };
    info.push(Line::raw(format!(
        "model {model}  mode {}  epochs {}  horizon {}  {series} series",
        cfg.mode,
        cfg.epochs,
        period.count(horizon)
    )));
    info.push(Line::raw(format!("trains {}", cfg.mode.trains(cfg.top_k))));
    // Which run plans use, after a restart too.
    if let Some(a) = &app.active_run {
        // The run the plan has: this one, or an earlier one until this
        // one joins.
        let in_plan = app.loaded.as_ref().and_then(|l| l.run_in_plan());
        let joined = in_plan == Some(&a.run);
        let state = match (a.on, joined, app.joining) {
            (false, _, _) => "off, baselines only".to_string(),
            (true, true, true) => "refitting, then joined again".into(),
            (true, true, false) => "among the champions".into(),
            (true, false, true) => match in_plan {
                Some(earlier) => format!(
                    "being judged and joined to the champions (the plan keeps the run {} until then)",
                    crate::tui::app::run_name(earlier)
                ),
                None => "being judged and joined to the champions".into(),
            },
            // The reason it was refused, rather than advice that fails
            // the same way again.
            (true, false, false) => match &app.join_refused {
                // The line names the run already.
                Some(why) => format!(
                    "on, but refused: {}",
                    why.strip_prefix(&format!("{}: ", a.run.display())).unwrap_or(why)
                ),
                None => "on, but not joined to the champions (R twice joins it again)".into(),
            },
        };
        info.push(Line::raw(format!(
            "active run {}: {state} (R switches it {})",
            crate::tui::app::run_name(&a.run),
            if a.on { "off" } else { "on" }
        )));
        if let Some((learnt, last)) = app.refit_due.filter(|_| a.on && joined && !app.joining) {
            info.push(Line::raw(format!(
                "no refit up to {last}: its weights learnt up to {learnt} (f refits it)"
            )));
        }
    }
    info.push(Line::raw(format!(
        "device {}",
        if t.device.is_empty() {
            "chosen when training starts (auto: CUDA if built with it and a GPU answers, else CPU)"
        } else {
            &t.device
        }
    )));
    // During and after a refit, the run it refits comes first, then the
    // refit, and its progress and best epoch are named as the refit's (they
    // read as the run's).
    let refit = if t.refit { "refit: " } else { "" };
    if let Some(run) = t.trained.as_ref().filter(|_| t.refit) {
        info.push(Line::raw(format!("the run: {run}")));
        if let Some(o) = &t.outcome {
            info.push(Line::raw(o.clone()));
        }
    }
    match (&t.last, t.running) {
        // Two lines: one wrapped at 80 columns between its times.
        (Some(p), _) => {
            info.push(Line::raw(format!(
                "{refit}epoch {}/{}  step {}/{}  {} gone, {} left{}",
                p.epoch,
                p.epochs,
                p.step,
                p.steps_total,
                secs(p.elapsed_secs),
                if t.running { secs(p.eta_secs) } else { "-".into() },
                if t.paused { "  PAUSED" } else { "" },
            )));
            info.push(Line::raw(format!(
                "loss {:.4}  validation MSE {}  {:.0} windows/s",
                p.train_loss,
                p.val_mse.map_or("-".into(), |v| format!("{v:.4}")),
                p.samples_per_sec
            )));
        }
        (None, true) => info.push(Line::raw(match t.encoding {
            // The rate so far gives the time left.
            Some((done, total, secs_so_far)) if done > 0 && done < total => format!(
                "encoding the training texts: {done} of {total}  {} gone, {} left{}",
                secs(secs_so_far),
                secs(secs_so_far * (total - done) as f64 / done as f64),
                if t.paused { "  PAUSED" } else { "" }
            ),
            Some((_, total, _)) if total > 0 => format!(
                "encoded {total} training texts; the first step is coming{}",
                if t.paused { "  PAUSED" } else { "" }
            ),
            _ => format!(
                "preparing the training windows and text embeddings ...{}",
                if t.paused { "  PAUSED" } else { "" }
            ),
        })),
        (None, false) => info.push(Line::styled(
            format!(
                "press t to fine-tune on this data: about {} in {} mode on this CPU{} (m changes the mode, \
                 +/- the epochs)",
                estimate(app),
                cfg.mode,
                if app.texts_cached && cfg.mode == crate::engine::Mode::Head {
                    ", less with the texts an earlier run encoded"
                } else {
                    ""
                }
            ),
            theme.dim(),
        )),
    }
    if let Some(b) = &t.best {
        info.push(Line::styled(format!("{refit}best {b}"), theme.good()));
    }
    if !(t.refit && t.trained.is_some())
        && let Some(o) = &t.outcome
    {
        info.push(Line::raw(o.clone()));
    }
    // Long lines wrap on a narrow screen: leave them room.
    let width = area.width.max(1) as usize;
    let rows: usize = info.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let [top, chart] = Layout::vertical([Constraint::Length(rows as u16 + 1), Constraint::Min(3)]).areas(area);
    f.render_widget(
        Paragraph::new(info)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(Block::default().borders(Borders::TOP).title(" training ")),
        top,
    );
    if t.loss.is_empty() {
        return;
    }
    let max_x = t.loss.last().map_or(1.0, |p| p.0).max(1.0);
    // Training loss (pinball) and validation MSE differ in kind and size
    // (0.2 against 26 on online-retail-2010 drew the loss as a flat line
    // at 0): each is drawn against its own top, named in the legend.
    let top = |v: &[(f64, f64)]| {
        v.iter()
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max)
            .max(1e-9)
    };
    let scaled = |v: &[(f64, f64)], top: f64| -> Vec<(f64, f64)> { v.iter().map(|(x, y)| (*x, y / top)).collect() };
    let (loss_top, val_top) = (top(&t.loss), top(&t.val));
    let (loss, val) = (scaled(&t.loss, loss_top), scaled(&t.val, val_top));
    let marker = if app.colors { Marker::Braille } else { Marker::Dot };
    let sets = vec![
        Dataset::default()
            .name(format!("train loss (top {loss_top:.3})"))
            .marker(marker)
            .graph_type(GraphType::Line)
            .style(theme.accent())
            .data(&loss),
        Dataset::default()
            .name(format!("val MSE (top {val_top:.3})"))
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(theme.good())
            .data(&val),
    ];
    // No axis title: it was drawn over the line.
    let c = Chart::new(sets)
        .x_axis(
            Axis::default()
                .bounds([0.0, max_x])
                .labels(["step 0".to_string(), format!("{max_x:.0}")]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, 1.0])
                .labels(["0".to_string(), "top".to_string()]),
        );
    f.render_widget(c, chart);
}
