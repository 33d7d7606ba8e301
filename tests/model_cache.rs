//! A run between workstation starts: its forecasts kept in the workspace,
//! read back as they were saved, and forecast afresh when the run, its
//! refit or the data change, or the file is damaged; and a run the data has
//! outgrown, refit from the workstation with `f`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use skuplan::cli::bench::synthetic_dataset;
use skuplan::engine::events::TrainJob;
use skuplan::engine::protocol::{MODEL_CACHE_PREFIX, model_forecasts, model_forecasts_cached};
use skuplan::engine::run;
use skuplan::engine::{DeviceChoice, Mode};
use skuplan::workspace::DataSources;

// This file uses some of the shared helpers.
#[allow(dead_code)]
mod engine_support;
use engine_support::{Quiet, small_cfg, tiny_model};
#[allow(dead_code)]
mod tui_support;

fn cached(cache: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(MODEL_CACHE_PREFIX))
    });
    v
}

#[test]
fn a_runs_forecasts_are_kept_until_the_run_or_the_data_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = Arc::new(synthetic_dataset(8, 200, 1));
    let (_, last) = data.date_range().unwrap();
    let job = TrainJob {
        dataset: data.clone(),
        sources: DataSources::default(),
        train_end: Some(last - chrono::Days::new(21)),
        model_dir: tiny_model(dir.path()),
        config: small_cfg(Mode::Head, 1),
        out: dir.path().join("run"),
        device: DeviceChoice::Cpu,
        resume: false,
        text_cache: None,
    };
    run::train_run(&job, &mut Quiet).unwrap();
    let run = dir.path().join("run");
    let cache = dir.path().join("cache");
    let cpu = Some(DeviceChoice::Cpu);

    // Without a cache folder nothing is kept; with one, the first call
    // keeps exactly what it forecast.
    let fresh = model_forecasts(&run, &data, cpu).unwrap();
    assert_eq!(model_forecasts_cached(&run, &data, cpu, None).unwrap(), fresh);
    assert!(cached(&cache).is_empty());
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), fresh);
    let files = cached(&cache);
    assert_eq!(files.len(), 1, "{files:?}");

    // The next call reads the file, not the model: a file marked by hand
    // comes back as it is.
    let mut marked = fresh.clone();
    marked.future_from = "read from the cache".into();
    std::fs::write(&files[0], rmp_serde::to_vec(&marked).unwrap()).unwrap();
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), marked);

    // A damaged file is forecast again and rewritten.
    std::fs::write(&files[0], b"not msgpack").unwrap();
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), fresh);
    assert_eq!(model_forecasts_cached(&run, &data, cpu, Some(&cache)).unwrap(), fresh);

    // Other data: another file, and the old one is dropped.
    let mut other = (*data).clone();
    let s = &mut other.demand[0];
    let n = s.values.len();
    s.values[n - 1] += 5.0;
    let theirs = model_forecasts_cached(&run, &other, cpu, Some(&cache)).unwrap();
    assert_eq!(theirs, model_forecasts(&run, &other, cpu).unwrap());
    let after = cached(&cache);
    assert_eq!(after.len(), 1);
    assert_ne!(after, files);

    // A known event is a feature of the model: adding one forecasts again.
    let with_event_before = cached(&cache);
    other.events.push(skuplan::domain::Event {
        date: last,
        warehouse: None,
        name: "Christmas".into(),
        kind: "holiday".into(),
    });
    model_forecasts_cached(&run, &other, cpu, Some(&cache)).unwrap();
    assert_ne!(cached(&cache), with_event_before);

    // A run whose files changed (here its refit appeared) is forecast again.
    let before_refit = cached(&cache);
    std::fs::create_dir_all(run.join("refit")).unwrap();
    std::fs::write(run.join("refit").join("note"), b"x").unwrap();
    model_forecasts_cached(&run, &other, cpu, Some(&cache)).unwrap();
    assert_ne!(cached(&cache), before_refit);
}

/// The active run joined with its own weights to data that runs past them
/// (no refit for this data): the status line and the Training tab say so,
/// and `f` there refits it on the engine thread while the plan keeps the
/// run's forecasts; once the refit joins, nothing is due.
#[test]
fn f_refits_the_active_run_when_the_data_has_outgrown_it() {
    use skuplan::engine::EngineCommand;
    use skuplan::engine::events::EngineEvent;
    use skuplan::tui::action::Action;
    use skuplan::tui::app::{App, Effect};
    use skuplan::workspace::{ActiveRun, Workspace};

    let dir = tempfile::tempdir().unwrap();
    let sources = tui_support::sample(&dir.path().join("data"), 6, 1, 300, 4);
    let ws = Workspace::open(dir.path().join("ws")).unwrap();
    let opts = skuplan::data::ImportOptions::default();
    let loaded = skuplan::tui::load_with_cache(&sources, &opts, Some(&ws), false).unwrap();
    let data = loaded.dataset.clone();
    let (_, last) = data.date_range().unwrap();
    let learnt = last - chrono::Days::new(7);
    let run = dir.path().join("run");
    let job = TrainJob {
        dataset: data.clone(),
        sources: DataSources::default(),
        train_end: Some(learnt),
        model_dir: tiny_model(dir.path()),
        config: small_cfg(Mode::Head, 1),
        out: run.clone(),
        device: DeviceChoice::Cpu,
        resume: false,
        text_cache: None,
    };
    run::train_run(&job, &mut Quiet).unwrap();
    ws.save_active_run(&ActiveRun {
        run: run.clone(),
        on: true,
    })
    .unwrap();
    let cpu = Some(DeviceChoice::Cpu);
    let adopt = |effects: &[Effect], refit: bool| {
        effects.iter().any(
            |e| matches!(e, Effect::Engine(EngineCommand::Adopt { refit: r, run: d, .. }) if *r == refit && *d == run),
        )
    };

    let mut app = App::new(ws.clone(), None);
    app.colors = false;
    let effects = app.on_loaded(loaded);
    assert!(adopt(&effects, false), "the active run is joined as it is");
    // What the engine does for that: the run's own weights from the last day.
    let joined = |app: &App| {
        let l = app.loaded.as_ref().unwrap();
        let m = model_forecasts(&run, &data, cpu).unwrap();
        Box::new(l.base.with_model(&data, &m).unwrap())
    };
    let base = joined(&app);
    assert!(base.model.as_ref().unwrap().future_from.starts_with("no refit"));
    app.on_engine(EngineEvent::Adopted {
        run: run.clone(),
        base,
        data: data.clone(),
    });
    assert_eq!(app.refit_due, Some((learnt, last)));
    assert!(
        app.status.ends_with("(f on the Training tab refits it)"),
        "{}",
        app.status
    );
    app.update(Action::GoTab(1));
    let s = tui_support::screen(&mut app, 100, 30, dir.path());
    assert!(
        s.contains(&format!(
            "no refit up to {last}: its weights learnt up to {learnt} (f refits it)"
        )),
        "{s}"
    );

    // f: the engine is asked to refit and join; the plan keeps the run.
    let plan = app.plan.clone();
    let effects = app.update(Action::RefitRun);
    assert!(adopt(&effects, true), "{}", app.status);
    assert!(app.joining);
    assert!(app.status.starts_with("refitting the run run up to"), "{}", app.status);
    assert_eq!(app.plan, plan, "the plan keeps its forecasts meanwhile");
    let s = tui_support::screen(&mut app, 100, 30, dir.path());
    assert!(s.contains("refitting, then joined again"), "{s}");
    assert!(!s.contains("no refit up to"), "{s}");
    assert!(app.update(Action::RefitRun).is_empty());
    assert!(app.status.contains("busy"), "{}", app.status);

    // R switches the run off meanwhile; the engine refits and joins the
    // refit, which is kept (the plan stays the baselines') for R to bring
    // back without asking the engine again.
    app.update(Action::ToggleRun);
    let baselines = app.plan.clone();
    skuplan::engine::protocol::refit(&run, data.clone(), (None, None), DeviceChoice::Cpu, &mut Quiet).unwrap();
    let base = joined(&app);
    assert!(base.model.as_ref().unwrap().future_from.starts_with("refit up to"));
    app.on_engine(EngineEvent::Adopted {
        run: run.clone(),
        base,
        data: data.clone(),
    });
    assert!(!app.joining);
    assert_eq!(app.plan, baselines);
    assert!(
        app.status
            .ends_with("is off (R switches it on); joined again, refit up to the last day"),
        "{}",
        app.status
    );
    assert!(
        app.update(Action::ToggleRun).is_empty(),
        "the refit is there: nothing to ask"
    );
    assert_ne!(app.plan, baselines);
    assert_eq!(app.refit_due, None);
    assert!(!app.status.contains("refits it"), "{}", app.status);
    let s = tui_support::screen(&mut app, 100, 30, dir.path());
    assert!(!s.contains("no refit up to"), "{s}");
    assert!(app.update(Action::RefitRun).is_empty());
    assert!(
        app.status.contains("already refit up to the last day"),
        "{}",
        app.status
    );

    // Days come in again: until the next refit, the plan forecasts with the
    // refit's weights, newer than the run's own.
    let mut grown = (*data).clone();
    for s in &mut grown.demand {
        let v = s.values.last().copied().unwrap_or(0.0);
        s.values.extend([v; 3]);
    }
    let (_, new_last) = grown.date_range().unwrap();
    assert_eq!(new_last, last + chrono::Days::new(3));
    let (refit_dir, until) = skuplan::engine::protocol::earlier_refit(&run, &grown).unwrap();
    assert_eq!((refit_dir, until), (run.join("refit"), last));
    let m = model_forecasts(&run, &grown, cpu).unwrap();
    assert!(
        m.future_from
            .starts_with(&format!("no refit for this data: its refit up to {last}")),
        "{}",
        m.future_from
    );
    // Other data up to the refit's last day is not this data grown.
    let mut other = grown.clone();
    other.demand[0].values[10] += 1.0;
    assert!(skuplan::engine::protocol::earlier_refit(&run, &other).is_none());
}
