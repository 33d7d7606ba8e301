//! How the workstation reads to a planner: a plan without unit costs in
//! units, and status messages cut at the terminal's width kept whole.

use chrono::NaiveDate;
use skuplan::data::ImportOptions;
use skuplan::tui::action::Action;
use skuplan::tui::app::App;
use skuplan::workspace::{DataSources, Workspace};

// This file uses one of the shared helpers.
#[allow(dead_code)]
mod tui_support;
use tui_support::{run_summary, screen};

/// Sales alone have no unit costs: the Restock tab totals units, shows no
/// cost of 0, sorts by units and says in a line's details why there is no
/// cost.
#[test]
fn a_plan_without_unit_costs_is_read_in_units() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut sales = String::from("date,sku,warehouse,quantity\n");
    for d in 0..120u64 {
        for (k, sku) in ["A", "B", "C"].iter().enumerate() {
            let _ = writeln!(
                sales,
                "{},{sku},W,{}",
                first + chrono::Days::new(d),
                5 * (k + 1) as u64 + d % 3
            );
        }
    }
    std::fs::write(data.join("sales.csv"), sales).unwrap();
    let sources = DataSources {
        paths: vec![data],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let mut app = App::new(Workspace::open(dir.path().join("ws")).unwrap(), None);
    app.colors = false;
    let _ = app.on_loaded(loaded);
    app.update(Action::GoTab(3));
    let plan = app.plan.clone().expect("a plan");
    assert!(!plan.has_costs());
    let units: u32 = plan.ordering().map(|l| l.order_qty).sum();
    assert!(units > 0);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains(&format!("by warehouse: W: {units} units (0 approved)")),
        "{s}"
    );
    assert!(
        s.contains(&format!("by supplier: (no supplier): {units} units (0)")),
        "{s}"
    );
    // The cost cells say there is none rather than 0.
    for sku in ["A", "B", "C"] {
        let row = s
            .lines()
            .find(|r| r.starts_with("proposed") && r.split_whitespace().nth(1) == Some(sku))
            .unwrap_or_else(|| panic!("{sku}: {s}"));
        assert_eq!(row.split_whitespace().nth(4), Some("-"), "{row}");
    }
    app.update(Action::Sort);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("sorted by units"), "{s}");
    let order: Vec<&str> = s
        .lines()
        .filter(|r| r.starts_with("proposed"))
        .filter_map(|r| r.split_whitespace().nth(1))
        .collect();
    assert_eq!(order, ["C", "B", "A"], "largest order first: {s}");
    app.update(Action::Submit);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("unknown: the products file gives no unit cost"), "{s}");
}

/// A message longer than the terminal is cut on the message line, which
/// says where the rest is; `H` shows every message of the session whole,
/// newest first, and closes again. An unchanged message is kept once.
#[test]
fn messages_cut_at_the_width_are_kept_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::new(Workspace::open(dir.path().join("ws")).unwrap(), None);
    app.colors = false;
    app.status = "first message".into();
    assert_eq!(app.record_status(), ["first message"]);
    assert!(app.record_status().is_empty(), "the same message is kept once");
    // An error shows over the status and is kept too; once a key clears
    // it, the status under it is not kept again.
    app.error = Some("a file could not be read".into());
    assert_eq!(app.record_status(), ["a file could not be read"]);
    app.error = None;
    assert!(app.record_status().is_empty());
    let long = "the model is champion on 2671 of 4306 series; plan units +15.1 % \
                (1462749 -> 1683882; the data has no unit costs); review 812 lines";
    app.status = long.into();
    assert_eq!(app.record_status(), [long]);
    let s = screen(&mut app, 80, 24, dir.path());
    let line = s.lines().nth(22).unwrap();
    assert!(
        line.starts_with("the model is champion on 2671") && line.ends_with("~ (H: all)"),
        "{s}"
    );
    app.update(Action::Messages);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("messages, newest first"), "{s}");
    // Wrapped whole in the popup, above the first message.
    let text: String = s
        .lines()
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    let (newest, first) = (text.find("2671 of 4306").unwrap(), text.find("first message").unwrap());
    assert!(newest < first, "{s}");
    assert!(text.contains("review 812 lines"), "{s}");
    // j scrolls past the newest, so older ones come into reach (they
    // could not be reached beyond a screenful); g goes back to the top.
    app.update(Action::Down);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("2 of 3 (j/k"), "{s}");
    let top = s.lines().nth(2).unwrap();
    assert!(top.contains("a file could not be read"), "{s}");
    app.update(Action::Bottom);
    assert_eq!(app.messages_scroll, 2);
    app.update(Action::Down);
    assert_eq!(app.messages_scroll, 2, "not past the oldest");
    app.update(Action::Top);
    assert_eq!(app.messages_scroll, 0);
    app.update(Action::Back);
    assert!(!app.show_messages);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(!s.contains("messages, newest first"), "{s}");
}

/// The progress line reads its times as gone and left (at 80 columns it
/// wrapped between them, and `0:00:04 ETA` read as four seconds left); an
/// epoch's end shows its own validation MSE at once, and the best epoch is
/// named by the pinball loss it was judged by.
#[test]
fn the_training_progress_reads_its_times_and_the_epoch_it_judged() {
    use skuplan::engine::EngineEvent;
    use skuplan::engine::events::{EvalMetrics, Progress};
    let dir = tempfile::tempdir().unwrap();
    let mut app = bare_app(dir.path());
    app.loading = None;
    app.training.running = true;
    app.update(Action::GoTab(1));
    let progress = Progress {
        epoch: 2,
        epochs: 4,
        step: 363,
        steps_total: 1368,
        train_loss: 0.1069,
        val_mse: Some(0.3113),
        val_mae: Some(0.2),
        samples_per_sec: 11395.0,
        eta_secs: 11.0,
        elapsed_secs: 4.0,
    };
    app.on_engine(EngineEvent::Progress(progress));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains("epoch 2/4  step 363/1368  0:00:04 gone, 0:00:11 left"),
        "{s}"
    );
    assert!(s.contains("loss 0.1069  validation MSE 0.3113  11395 windows/s"), "{s}");
    app.on_engine(EngineEvent::EpochEnd {
        epoch: 2,
        train_loss: 0.1,
        validation: EvalMetrics {
            loss: 0.1234,
            mse: 0.2752,
            mae: 0.3,
            coverage: 0.8,
            n: 100,
        },
        best: true,
    });
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("validation MSE 0.2752"), "{s}");
    assert!(
        s.contains("best epoch 2: validation pinball loss 0.1234 (MSE 0.2752)"),
        "{s}"
    );
    // Each curve against its own top, named in the legend.
    let s = screen(&mut app, 120, 40, dir.path());
    assert!(s.contains("train loss (top 0.107)"), "{s}");
    assert!(s.contains("val MSE (top 0.275)"), "{s}");
}

/// While a training encodes its texts (before its first step) the
/// Training tab shows how far it is and the time left; a cancel then is
/// the planner's own, told on the status line, not an engine failure.
#[test]
fn the_training_tab_shows_the_texts_being_encoded_and_a_cancel_there() {
    use skuplan::engine::EngineEvent;
    use skuplan::engine::events::CANCELLED_ENCODING;
    let dir = tempfile::tempdir().unwrap();
    let mut app = bare_app(dir.path());
    // No data is needed to watch a training start.
    app.loading = None;
    app.training.running = true;
    app.update(Action::GoTab(1));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("preparing the training windows"), "{s}");
    app.on_engine(EngineEvent::Encoding {
        done: 2000,
        total: 10000,
        elapsed_secs: 20.0,
    });
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains("encoding the training texts: 2000 of 10000  0:00:20 gone, 0:01:20 left"),
        "{s}"
    );
    // Paused once the texts are encoded, before the first step.
    app.on_engine(EngineEvent::Encoding {
        done: 10000,
        total: 10000,
        elapsed_secs: 100.0,
    });
    app.on_engine(EngineEvent::Paused);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains("encoded 10000 training texts; the first step is coming  PAUSED"),
        "{s}"
    );
    let _ = app.on_engine(EngineEvent::Failed {
        message: CANCELLED_ENCODING.into(),
        cancelled: true,
    });
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(app.status, CANCELLED_ENCODING);
    assert!(!app.training.running);
    // Cancelled after its first steps but before an epoch ended: no model,
    // and the status does not pretend to forecast with one.
    app.training.running = true;
    let effects = app.on_engine(EngineEvent::Finished(Box::new(run_summary(
        &dir.path().join("ws/runs/r"),
        skuplan::engine::events::Stop::Cancelled,
        0,
    ))));
    assert!(effects.is_empty());
    assert_eq!(
        app.status,
        "training cancelled: stopped before its first epoch ended, so there is no model to use"
    );
    // ... and the tab shows no validation figures for it (it showed those
    // of no model).
    let o = app.training.outcome.clone().unwrap_or_default();
    assert!(o.ends_with("no epoch finished: no model to use"), "{o}");
    assert!(!o.contains("validation"), "{o}");
    // Cancelled after two epochs: the planner stopped it, so it does not
    // replace the run plans use (nor become one); it is kept on disk.
    let ws = skuplan::workspace::Workspace::open(dir.path().join("ws")).unwrap();
    let good = skuplan::workspace::ActiveRun {
        run: dir.path().join("ws/runs/good"),
        on: true,
    };
    ws.save_active_run(&good).unwrap();
    app.active_run = Some(good.clone());
    app.training.running = true;
    let cancelled = dir.path().join("ws/runs/half");
    let effects = app.on_engine(EngineEvent::Finished(Box::new(run_summary(
        &cancelled,
        skuplan::engine::events::Stop::Cancelled,
        2,
    ))));
    assert!(effects.is_empty(), "not judged, refit or joined");
    assert!(
        app.status
            .starts_with("training cancelled after 2 epochs: plans keep the run good; the cancelled run is in "),
        "{}",
        app.status
    );
    assert_eq!(app.active_run.as_ref(), Some(&good));
    assert_eq!(ws.load_active_run().unwrap().as_ref(), Some(&good));
    // Before the next start: texts an earlier run encoded shorten head
    // mode (only head mode reads them back).
    app.texts_cached = true;
    let s = screen(&mut app, 80, 24, dir.path()).replace('\n', " ");
    assert!(
        s.contains("on this CPU, less with the texts an earlier run encoded"),
        "{s}"
    );
    app.update(Action::CycleMode);
    let s = screen(&mut app, 80, 24, dir.path()).replace('\n', " ");
    assert!(s.contains("in top-k mode on this CPU (m"), "{s}");
    assert!(!s.contains("less with the texts"), "{s}");
}

/// `p` and `c` on the Training tab say why nothing happens when no training
/// runs (a finished run's judging looks like work there), and the tab bar
/// says "paused" for a training paused before its first step.
#[test]
fn pause_and_cancel_without_a_training_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = bare_app(dir.path());
    // Away from the Training tab its keys say where they work (they did
    // nothing, unsaid).
    for key in [Action::StartTraining, Action::CycleMode, Action::MoreEpochs] {
        app.status.clear();
        assert!(app.update(key).is_empty());
        assert_eq!(app.status, "that key works on the Training tab (2)");
    }
    app.update(Action::GoTab(1));
    for key in [Action::PauseResume, Action::CancelTraining] {
        app.status.clear();
        assert!(app.update(key).is_empty());
        assert_eq!(app.status, "no training is running (t starts one)");
    }
    app.joining = true;
    assert!(app.update(Action::PauseResume).is_empty());
    assert!(app.status.contains("being judged"), "{}", app.status);
    app.joining = false;
    // Encoding the texts, before the first step, paused.
    app.training.running = true;
    app.training.paused = true;
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.lines().next().unwrap().contains("training paused"), "{s}");
    // Running, p asks the engine to resume.
    assert_eq!(app.update(Action::PauseResume).len(), 1);
}

/// A workstation on an empty workspace, without colours (for screens).
fn bare_app(dir: &std::path::Path) -> App {
    let mut app = App::new(Workspace::open(dir.join("ws")).unwrap(), None);
    app.colors = false;
    app
}

/// `i` with a folder replaces the data loaded (the same files twice only
/// failed as duplicates); a file already part of the data imports it again;
/// another file joins it. A failed import names how many errors and the
/// first, and the Data tab scrolls through all of them.
#[test]
fn import_a_folder_replaces_a_file_joins_and_every_error_can_be_read() {
    use skuplan::tui::app::{Effect, Tab};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sources = tui_support::sample(&data, 6, 1, 200, 2);
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let mut app = App::new(Workspace::open(dir.path().join("ws")).unwrap(), None);
    app.colors = false;
    app.on_loaded(loaded);
    let import = |app: &mut App, path: &std::path::Path| -> (DataSources, String) {
        app.update(Action::GoTab(0));
        app.update(Action::Import);
        tui_support::keys(app, &path.display().to_string());
        let Some(Effect::Load(s)) = app.update(Action::Submit).into_iter().next() else {
            panic!("an import is started: {:?}", app.error);
        };
        // Not loaded here: the next import may start (one at a time).
        (s, app.loading.take().unwrap_or_default())
    };
    let abs = |p: &std::path::Path| std::path::absolute(p).unwrap();
    // A corrected copy of the whole data set, in another folder.
    let fixed = dir.path().join("fixed");
    std::fs::create_dir_all(&fixed).unwrap();
    for e in std::fs::read_dir(&data).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), fixed.join(e.file_name())).unwrap();
    }
    let (s, what) = import(&mut app, &fixed);
    assert_eq!(s.paths, vec![abs(&fixed)]);
    assert!(what.contains("in place of the data loaded"), "{what}");
    assert!(skuplan::tui::load(&s, &ImportOptions::default()).is_ok());
    // A file of the data, again: the same sources.
    let (s, what) = import(&mut app, &data.join("sales.csv"));
    assert_eq!(s.paths, vec![abs(&data)]);
    assert!(what.contains("importing the data again"), "{what}");
    // Another file joins.
    let events = dir.path().join("events.csv");
    std::fs::write(&events, "date,name,kind\n2026-06-20,Midsummer,holiday\n").unwrap();
    let (s, what) = import(&mut app, &events);
    assert_eq!(s.paths, vec![abs(&data), abs(&events)]);
    assert!(what.starts_with("adding "), "{what}");

    // A folder with many bad rows: the message line counts them and names
    // the first; the Data tab shows the last ones after scrolling.
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    let mut sales = String::from("date,sku,warehouse,quantity\n");
    for d in 1..=60 {
        sales.push_str(&format!("2026-05-{:02},A,W,x{d}\n", d % 28 + 1));
    }
    std::fs::write(broken.join("sales.csv"), sales).unwrap();
    let (s, _) = import(&mut app, &broken);
    let Err(report) = skuplan::tui::load(&s, &ImportOptions::default()) else {
        panic!("the broken folder must fail");
    };
    let errors = report.lines().filter(|l| l.starts_with("error: ")).count();
    // Ten per column, then a count of the rest.
    assert_eq!(errors, 11, "{report}");
    app.on_load_failed(report.clone());
    let e = app.error.clone().unwrap();
    assert!(
        e.starts_with(&format!(
            "the import failed, nothing was changed: {errors} errors (Data tab), the first: "
        )),
        "{e}"
    );
    assert!(e.contains("row 2, column 'quantity', value 'x1'"), "{e}");
    assert_eq!(app.tab, Tab::Data);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("(j/k, PgDn, G scroll)"), "{s}");
    assert!(!s.contains("more rows like"), "below the fold at 80x24: {s}");
    assert!(!s.contains("the data is NOT usable"), "{s}");
    app.update(Action::PageDown);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("more rows like"), "a page down shows the last error: {s}");
    assert!(s.contains("the data is NOT usable"), "{s}");
    // Below: the data still loaded, to its last line.
    app.update(Action::Bottom);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("events            none"), "{s}");
    app.update(Action::Top);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("the last import failed; nothing was changed:"), "{s}");
    // The data loaded before is still there.
    assert!(app.loaded.is_some() && app.plan.is_some());
}

/// Every tab's key bar fits 80 columns (two ended in "? hel" and "x expo").
#[test]
fn every_key_bar_fits_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = bare_app(dir.path());
    for t in 0..5 {
        app.update(Action::GoTab(t));
        let h = app.hints();
        assert!(h.chars().count() <= 80, "tab {t}: {h:?} is {} wide", h.chars().count());
    }
}

/// The Training tab's mode and epochs survive a restart (they went back to
/// head mode and 4 epochs).
#[test]
fn the_training_choice_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = bare_app(dir.path());
    assert_eq!(app.train_config.mode, skuplan::engine::Mode::Head);
    app.update(Action::GoTab(1));
    app.update(Action::CycleMode);
    for _ in 0..3 {
        app.update(Action::FewerEpochs);
    }
    assert_eq!(
        (app.train_config.mode, app.train_config.epochs),
        (skuplan::engine::Mode::TopK, 1)
    );
    let again = bare_app(dir.path());
    assert_eq!(
        (again.train_config.mode, again.train_config.epochs),
        (skuplan::engine::Mode::TopK, 1)
    );
    // A damaged file leaves the defaults.
    std::fs::write(dir.path().join("ws/training.json"), "{").unwrap();
    let fresh = bare_app(dir.path());
    assert_eq!(
        (fresh.train_config.mode, fresh.train_config.epochs),
        (skuplan::engine::Mode::Head, 4)
    );
}
