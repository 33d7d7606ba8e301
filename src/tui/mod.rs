//! The full-screen workstation: ratatui + crossterm on tokio. Terminal
//! events, engine events and a tick are merged into one loop; keys become
//! actions through the keymap; `App::update` changes the state; `draw` is a
//! pure function of it. Logs go to the log file, never to the screen.

pub mod action;
pub mod ansi16;
pub mod app;
pub mod draw;
pub mod keymap;
pub mod tabs;
pub mod theme;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::Terminal;

use crate::data::{ImportOptions, import_paths, report};
use crate::engine::Engine;
use crate::plan::base::PlanBase;
use crate::plan::restock::RestockSettings;
use crate::workspace::{DataSources, Workspace};
use ansi16::Ansi16Backend;
use app::{App, Effect, Loaded, Stale};
use keymap::Keymap;

/// Import the sources and compute the plan's slow half.
pub fn load(sources: &DataSources, base_opts: &ImportOptions) -> Result<Loaded, String> {
    load_with_cache(sources, base_opts, None, false)
}

/// The plan's slow half for `dataset`, saved in the workspace's cache
/// under `key` (the loader's [`PlanBase::key`]; computed when `None`):
/// what replaces a provisional base.
pub fn refine(dataset: &crate::domain::Dataset, ws: &Workspace, key: Option<&str>) -> Result<PlanBase, String> {
    let settings = RestockSettings::default();
    let key = key.map_or_else(|| PlanBase::key(dataset, &settings), str::to_string);
    ws.compute_plan_base(dataset, &settings, &key)
}

/// The same, taking the plan's slow half (baseline forecasts, backtest,
/// calibration) from the workspace's cache when the data, the settings and
/// the binary are the ones it was computed for, and filling the cache
/// otherwise: a second start on 10,000 SKUs takes seconds, not minutes.
/// With `provisional_first`, a cache miss gives [`PlanBase::quick`] (the
/// `Loaded` says so) and the caller runs [`refine`] next.
pub fn load_with_cache(
    sources: &DataSources,
    base_opts: &ImportOptions,
    cache: Option<&Workspace>,
    provisional_first: bool,
) -> Result<Loaded, String> {
    let opts = sources.import_options(base_opts);
    let (imported, data_key, stale) = match cache {
        Some(ws) => match ws.import_keyed(&sources.paths, &opts) {
            Ok((i, key)) => (i, key, None),
            // The files no longer import: the last import of them that
            // did, with the failure, rather than nothing.
            Err(f) => {
                let failure = report::render(&f.report);
                let (last, at, key) = ws
                    .last_good_import(&sources.paths, &opts)
                    .ok_or_else(|| failure.clone())?;
                tracing::warn!(%at, "the sources failed to import; the last good import of them is shown");
                (last, key, Some(Stale { failure, at }))
            }
        },
        None => (
            import_paths(&sources.paths, &opts).map_err(|f| report::render(&f.report))?,
            crate::workspace::data_key(&sources.paths, &opts),
            None,
        ),
    };
    let report_text = report::render(&imported.report);
    let settings = RestockSettings::default();
    let key = cache.map(|_| PlanBase::key(&imported.dataset, &settings));
    let cached = cache.zip(key.as_deref()).and_then(|(ws, k)| ws.load_plan_base(k));
    let mut provisional = false;
    let base = match cached {
        Some(b) => {
            tracing::info!("baseline forecasts from the workspace cache");
            b
        }
        None if provisional_first => {
            provisional = true;
            PlanBase::quick(&imported.dataset, &settings)?
        }
        None => match (cache, key.as_deref()) {
            (Some(ws), Some(k)) => ws.compute_plan_base(&imported.dataset, &settings, k)?,
            _ => PlanBase::compute(&imported.dataset, &settings)?,
        },
    };
    // A restart with the active run's forecasts of this data in the cache
    // shows the plan with the run at once, not the baselines' plan for the
    // seconds the engine would take to read the same file.
    let joined = match cache {
        Some(ws) if !provisional => join_cached_run(ws, &imported.dataset, &base),
        _ => None,
    };
    let (model_run, model_base) = joined.unzip();
    Ok(Loaded {
        sources: DataSources {
            map: opts.map.clone(),
            ..sources.clone()
        },
        dataset: Arc::new(imported.dataset),
        report_text,
        base,
        model_base,
        model_run,
        launches: None,
        provisional,
        cache_key: key,
        data_key,
        stale,
    })
}

/// The workspace's active run, when it is on, joined to `base` from the
/// forecasts of it kept in the workspace's cache for this data and build.
/// None when any of that is missing: the engine then joins it
/// ([`crate::engine::EngineCommand::Adopt`]), forecasting if it must.
fn join_cached_run(ws: &Workspace, data: &crate::domain::Dataset, base: &PlanBase) -> Option<(PathBuf, PlanBase)> {
    let run = ws.run_in_use().ok().flatten()?;
    let m = crate::engine::protocol::cached_model_forecasts(&run, data, &ws.cache_dir())?;
    match base.with_model(data, &m) {
        Ok(b) => {
            tracing::info!("the active run {} joined from its cached forecasts", run.display());
            Some((run, b))
        }
        Err(e) => {
            tracing::warn!("the active run's cached forecasts did not join ({e}); the engine will judge it");
            None
        }
    }
}

pub struct TuiOptions {
    pub workspace: Workspace,
    pub sources: DataSources,
    pub import: ImportOptions,
    pub keys: std::collections::BTreeMap<String, String>,
    pub model_dir: Option<PathBuf>,
    /// Capture the mouse (clicks and the wheel).
    pub mouse: bool,
}

fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped: on quit, on error and on unwinding.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// A panic on the UI thread restores the terminal before the message is
/// printed; a panic elsewhere (the engine turns its own into Failed
/// events) is only logged, so the screen stays intact.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        tracing::error!(thread = thread.name().unwrap_or("?"), "panic: {info}");
        if thread.name() == Some("main") {
            restore_terminal();
            default(info);
        }
    }));
}

pub fn run(opts: TuiOptions) -> Result<()> {
    let keymap = Keymap::with_overrides(&opts.keys).map_err(|e| anyhow::anyhow!("config: {e}"))?;
    let _lock = opts.workspace.lock()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(main_loop(opts, keymap));
    // Work still running in the background (a plan's backtest, routes) is
    // left to end with the process rather than waited for.
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn main_loop(opts: TuiOptions, keymap: Keymap) -> Result<()> {
    // Declared before the terminal's guard, so dropped after it on any
    // way out: the screen is given back before the engine is stopped.
    let mut engine = Engine::spawn()?;
    install_panic_hook();
    crossterm::terminal::enable_raw_mode()?;
    let _guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    if opts.mouse {
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
    }
    let mut terminal = Terminal::new(Ansi16Backend::new(std::io::stdout()))?;
    terminal.clear()?;
    let mut app = App::new(opts.workspace.clone(), opts.model_dir.clone());
    app.relabels = Keymap::relabels(&opts.keys);
    let (load_tx, mut load_rx) = tokio::sync::mpsc::unbounded_channel::<Result<Loaded, String>>();
    let start_load = |sources: DataSources| {
        let tx = load_tx.clone();
        let import = opts.import.clone();
        let ws = opts.workspace.clone();
        tokio::task::spawn_blocking(move || {
            let r = load_with_cache(&sources, &import, Some(&ws), true);
            let _ = tx.send(r);
        });
    };
    start_load(opts.sources.clone());
    let (refine_tx, mut refine_rx) = tokio::sync::mpsc::unbounded_channel();
    let start_refine = |generation: u64, dataset: Arc<crate::domain::Dataset>, key: Option<String>| {
        let tx = refine_tx.clone();
        let ws = opts.workspace.clone();
        tokio::task::spawn_blocking(move || {
            let _ = tx.send((generation, refine(&dataset, &ws, key.as_deref())));
        });
    };
    let (route_tx, mut route_rx) = tokio::sync::mpsc::unbounded_channel();
    let start_routes = |job: crate::tui::app::DeliveryJob| {
        let tx = route_tx.clone();
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(job.run());
        });
    };
    // A hang-up (the SSH connection dropped) or a polite kill ends the
    // session like q does: the terminal is restored and nothing is lost
    // (every decision is already on disk).
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hung_up = false;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut last_poll = Instant::now();
    let mut dirty = true;
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    // The status line is cut at the terminal's width; `H` and the log
    // keep each one whole.
    loop {
        record_statuses(&mut app);
        if dirty && last_draw.elapsed() >= Duration::from_millis(100) {
            if !draw_or_gone(&mut terminal, &mut app) {
                hung_up = true;
                break;
            }
            last_draw = Instant::now();
            dirty = false;
        }
        let mut effects = Vec::new();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    let action = if app.prompt.is_some() {
                        Keymap::prompt_action(&k)
                    } else if app.confirm.is_some() {
                        Some(Keymap::confirm_action(&k))
                    } else {
                        keymap.action(&k)
                    };
                    if let Some(a) = action {
                        effects = app.update(a);
                        // A key is answered at once, not on the next tick.
                        hung_up |= !draw_or_gone(&mut terminal, &mut app);
                        last_draw = Instant::now();
                        dirty = false;
                    }
                }
                Some(Ok(Event::Mouse(m))) => {
                    use crossterm::event::{MouseButton, MouseEventKind};
                    let acted = match m.kind {
                        MouseEventKind::Down(MouseButton::Left) => app.click(m.column, m.row),
                        MouseEventKind::ScrollUp => app.wheel(-3),
                        MouseEventKind::ScrollDown => app.wheel(3),
                        _ => false,
                    };
                    if acted {
                        hung_up |= !draw_or_gone(&mut terminal, &mut app);
                        last_draw = Instant::now();
                        dirty = false;
                    }
                }
                Some(Ok(Event::Resize(_, _))) => {
                    hung_up |= terminal.autoresize().is_err();
                    dirty = true;
                    last_draw = Instant::now() - Duration::from_secs(1);
                }
                Some(Ok(_)) => {}
                // The terminal is gone (the connection dropped without a
                // hang-up signal, or its input closed): closing as on one.
                Some(Err(e)) => {
                    tracing::info!("reading the terminal: {e}; closing");
                    hung_up = true;
                }
                None => hung_up = true,
            },
            ev = engine.events.recv() => {
                if let Some(ev) = ev {
                    let mut batch = vec![ev];
                    while let Ok(more) = engine.events.try_recv() {
                        batch.push(more);
                    }
                    for e in crate::engine::events::coalesce(batch) {
                        effects.extend(app.on_engine(e));
                        // Each event's status is kept, not only the
                        // batch's last (a run finishing and its refit
                        // starting often arrive together).
                        record_statuses(&mut app);
                    }
                    dirty = true;
                }
            },
            loaded = load_rx.recv() => {
                match loaded {
                    Some(Ok(l)) => effects = app.on_loaded(l),
                    Some(Err(e)) => app.on_load_failed(e),
                    None => {}
                }
                dirty = true;
                last_draw = Instant::now() - Duration::from_secs(1);
            },
            refined = refine_rx.recv() => {
                if let Some((generation, base)) = refined {
                    effects = app.on_refined(generation, base);
                    dirty = true;
                }
            },
            plan = route_rx.recv() => {
                if let Some(plan) = plan {
                    effects = app.on_deliveries(plan);
                    dirty = true;
                }
            },
            _ = tick.tick() => {
                // Decisions another process wrote to the log.
                if last_poll.elapsed() >= Duration::from_secs(1) {
                    last_poll = Instant::now();
                    dirty |= app.poll_audit_log();
                }
            }
            _ = hangup.recv() => {
                tracing::info!("hang-up: closing");
                hung_up = true;
                app.quit = true;
            }
            _ = term.recv() => {
                tracing::info!("terminated: closing");
                app.quit = true;
            }
        }
        for e in effects {
            match e {
                Effect::Engine(cmd) => {
                    if let Err(e) = engine.send(cmd) {
                        app.error = Some(format!("{e:#}"));
                    }
                }
                Effect::Load(sources) => start_load(sources),
                Effect::PlanDeliveries(job) => start_routes(job),
                Effect::Refine {
                    generation,
                    dataset,
                    key,
                } => start_refine(generation, dataset, key),
            }
        }
        if app.quit || hung_up {
            break;
        }
    }
    // The screen goes back to the shell first, then the engine is given a
    // moment to stop: q never leaves a frozen screen behind.
    if hung_up {
        // Nothing to restore: showing the cursor on a terminal that is gone
        // would only fail (and ratatui reports that on stderr, gone too).
        std::mem::forget(terminal);
    } else {
        drop(terminal);
        drop(_guard);
    }
    // The engine, declared first, is dropped last: stopped within two
    // seconds (`Engine::drop`).
    Ok(())
}

/// Draw the screen; false when the terminal is gone (the connection dropped).
fn draw_or_gone(terminal: &mut Terminal<Ansi16Backend<std::io::Stdout>>, app: &mut App) -> bool {
    match terminal.draw(|f| draw::draw(f, app)) {
        Ok(_) => true,
        Err(e) => {
            tracing::info!("the terminal cannot be drawn on: {e}; closing");
            false
        }
    }
}

/// Keep the status and error lines that changed for `H`, and log them
/// whole (the status line is cut at the terminal's width).
fn record_statuses(app: &mut App) {
    for status in app.record_status() {
        tracing::info!(status = %status, "status line");
    }
}
