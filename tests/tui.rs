//! The workstation without a terminal: every tab rendered with TestBackend
//! at 80x24 and 160x48 (snapshots), and what each action does.

use std::path::Path;

use chrono::NaiveDate;
use skuplan::data::ImportOptions;
use skuplan::engine::events::{EngineEvent, Progress};
use skuplan::plan::approval::State;
use skuplan::tui::action::Action;
use skuplan::tui::app::{App, Effect, PaneView, Tab};
use skuplan::workspace::{DataSources, Workspace};

mod tui_support;
use tui_support::{engine_answer, keys, run_summary, sample, screen};

fn app(dir: &Path) -> App {
    let sources = sample(&dir.join("data"), 12, 2, 400, 3);
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let mut app = App::new(Workspace::open(dir.join("ws")).unwrap(), None);
    app.colors = false;
    // Maps in braille whatever the locale of the machine running the tests.
    app.braille = true;
    // A small fixed budget: the same routes on every machine.
    app.delivery_settings.iterations = Some(3_000);
    app.delivery_settings.seconds = 600.0;
    let effects = app.on_loaded(loaded);
    run_effects(&mut app, effects);
    app
}

/// Do what the runner does for route planning (the engine is not here).
fn run_effects(app: &mut App, effects: Vec<Effect>) {
    for e in effects {
        if let Effect::PlanDeliveries(job) = e {
            let plan = job.run();
            let more = app.on_deliveries(plan);
            run_effects(app, more);
        }
    }
}

#[test]
fn every_tab_renders_at_80x24_and_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    for (i, tab) in Tab::ALL.iter().enumerate() {
        app.update(Action::GoTab(i));
        assert_eq!(app.tab, *tab);
        for (w, h) in [(80, 24), (160, 48)] {
            let s = screen(&mut app, w, h, dir.path());
            insta::assert_snapshot!(format!("{}_{w}x{h}", tab.title().to_lowercase()), s);
        }
    }
    // A line's details, help over the restock tab, and a tiny terminal
    // that must not panic.
    app.update(Action::GoTab(3));
    app.update(Action::Submit);
    assert!(app.details);
    insta::assert_snapshot!("restock_details_80x24", screen(&mut app, 80, 24, dir.path()));
    app.update(Action::Back);
    assert!(!app.details);
    app.update(Action::Help);
    insta::assert_snapshot!("help_80x24", screen(&mut app, 80, 24, dir.path()));
    app.update(Action::Back);
    for (w, h) in [(20, 5), (40, 10), (1, 1)] {
        for i in 0..Tab::ALL.len() {
            app.update(Action::GoTab(i));
            screen(&mut app, w, h, dir.path());
        }
    }
}

/// The help scrolls where it does not fit (at 60x20 its last third could
/// not be read), within its keys, and opens at the top again.
#[test]
fn the_help_scrolls_on_a_small_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::Help);
    let s = screen(&mut app, 60, 20, dir.path());
    assert!(s.contains("keys: lines 1-"), "{s}");
    assert!(!s.contains("recent messages"), "{s}");
    for _ in 0..100 {
        app.update(Action::Down);
    }
    let s = screen(&mut app, 60, 20, dir.path());
    assert!(s.contains("recent messages"), "the last key: {s}");
    let scrolled = app.help_scroll;
    app.update(Action::Up);
    screen(&mut app, 60, 20, dir.path());
    assert_eq!(
        app.help_scroll,
        scrolled - 1,
        "one up from the bottom, not from 100 down"
    );
    app.update(Action::Back);
    app.update(Action::Help);
    assert_eq!(app.help_scroll, 0);
    // Where it fits, nothing to scroll.
    let s = screen(&mut app, 120, 60, dir.path());
    assert!(s.contains("keys (? or Esc closes)"), "{s}");
}

/// Filtering, clearing the filter and sorting keep the selected row on
/// its line wherever that line is still shown: a row number kept alone
/// landed on another line, and the next `a` approved that one.
#[test]
fn the_selection_stays_on_its_line_when_the_filter_or_sort_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(3));
    let key_of = |app: &App| app.selected_line().map(|l| l.key());
    let all = app.restock_view().len();
    let wh = app.plan.as_ref().unwrap().lines[app.restock_view()[all - 1]]
        .warehouse
        .clone();
    app.update(Action::Filter);
    keys(&mut app, &wh);
    app.update(Action::Submit);
    let shown = app.restock_view().len();
    assert!(shown >= 2 && shown < all, "{shown} of {all}");
    app.update(Action::Down);
    app.update(Action::Down);
    let chosen = key_of(&app).unwrap();
    assert_eq!(chosen.1, wh);
    app.update(Action::Back);
    assert_eq!(app.restock_view().len(), all, "filter cleared");
    assert_eq!(
        key_of(&app).unwrap(),
        chosen,
        "still on the line chosen under the filter"
    );
    for _ in 0..3 {
        app.update(Action::Sort);
        assert_eq!(key_of(&app).unwrap(), chosen, "sort {}", app.sort);
    }
    // Approving now approves that line.
    app.update(Action::Approve);
    let (state, _, _) = app.state_of(app.selected_line().unwrap());
    assert_eq!(state, State::Approved);
    assert_eq!(key_of(&app).unwrap(), chosen);
    // A filter that hides it starts at the first row shown.
    let other = app
        .plan
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .find(|l| l.warehouse != wh)
        .unwrap()
        .warehouse
        .clone();
    app.update(Action::Filter);
    keys(&mut app, &other);
    app.update(Action::Submit);
    assert_eq!(app.selected(), 0);
    assert_eq!(key_of(&app).unwrap().1, other);
}

/// A what-if that moves the selected line in a sorted list, and an undo
/// that hides a row above it, leave the cursor on the same line: the row
/// number stayed, and the next `a` approved another line.
#[test]
fn the_selection_stays_on_its_line_when_the_plan_or_its_decisions_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(3));
    app.update(Action::Sort);
    assert_eq!(app.sort, 1, "largest first");
    let key_of = |app: &App| app.selected_line().map(|l| l.key());
    let n = app.restock_view().len();
    app.selected[Tab::Restock.index()] = n - 1;
    let chosen = app.selected_line().unwrap().clone();
    app.update(Action::Edit);
    let (from, to) = (chosen.order_date, chosen.order_date + chrono::Days::new(120));
    keys(&mut app, &format!("+5000% {from}..{to} promotion"));
    app.update(Action::Submit);
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(
        app.selected() < n - 1,
        "the line moved up the list: row {}",
        app.selected()
    );
    assert_eq!(key_of(&app).unwrap(), chosen.key());
    app.update(Action::Approve);
    let line = app.selected_line().unwrap();
    assert_eq!(line.key(), chosen.key());
    assert_eq!(app.state_of(line).0, State::Approved);
    // A line of nothing a decision keeps on the tab goes when the
    // decision is undone: the rows below it move up, the cursor with its
    // line.
    app.update(Action::Sort);
    app.update(Action::Sort);
    assert_eq!(app.sort, 0, "data order");
    app.selected[Tab::Restock.index()] = 0;
    let first = app.selected_line().unwrap().clone();
    app.update(Action::Approve);
    app.update(Action::Edit);
    let (from, to) = (first.order_date, first.order_date + chrono::Days::new(120));
    keys(&mut app, &format!("=0 {from}..{to} discontinued"));
    app.update(Action::Submit);
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(key_of(&app).unwrap(), first.key(), "kept as review");
    app.selected[Tab::Restock.index()] = 2;
    let third = key_of(&app).unwrap();
    app.update(Action::Undo);
    let plan = app.plan.as_ref().unwrap();
    assert!(
        !app.restock_view().iter().any(|&i| plan.lines[i].key() == first.key()),
        "undone: a line of nothing, not shown"
    );
    assert_eq!(app.selected(), 1, "the rows below moved up");
    assert_eq!(key_of(&app).unwrap(), third);
}

/// While the routes are planned, a lock or a move is refused (the run's
/// routes were saved over it), and new data makes the run's routes stale:
/// they are dropped, not saved, and the orders as they are now planned.
#[test]
fn routes_planned_while_the_data_changed_are_dropped_and_planned_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(4));
    let effects = app.update(Action::Reoptimise);
    assert!(app.planning_routes);
    let locks = |app: &App| -> Vec<bool> {
        app.deliveries
            .as_ref()
            .unwrap()
            .routes
            .iter()
            .map(|r| r.locked)
            .collect()
    };
    let locked_before = locks(&app);
    app.update(Action::Lock);
    assert!(app.status.contains("the routes are being planned"), "{}", app.status);
    assert_eq!(locked_before, locks(&app), "nothing locked");
    app.update(Action::MoveOrder);
    assert!(app.prompt.is_none(), "no move asked for");
    // New orders arrive (one fewer) while the run plans the old ones.
    let orders = dir.path().join("data/orders.csv");
    let text = std::fs::read_to_string(&orders).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let gone = lines.remove(1).split(',').next().unwrap().to_string();
    std::fs::write(&orders, lines.join("\n") + "\n").unwrap();
    let sources = DataSources {
        paths: vec![dir.path().join("data")],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let on_load = app.on_loaded(loaded);
    assert!(
        !on_load.iter().any(|e| matches!(e, Effect::PlanDeliveries(_))),
        "one run at a time"
    );
    // The old run ends: its routes (with the order gone) are not kept.
    let mut again = Vec::new();
    for e in effects {
        if let Effect::PlanDeliveries(job) = e {
            again = app.on_deliveries(job.run());
        }
    }
    assert!(
        app.status.contains("the data changed while the routes were planned"),
        "{}",
        app.status
    );
    assert!(app.planning_routes, "planning the new orders");
    run_effects(&mut app, again);
    assert!(!app.planning_routes);
    let has = |p: &skuplan::plan::delivery::DeliveryPlan| {
        p.routes.iter().flat_map(|r| &r.stops).any(|s| s.order == gone) || p.unserved.iter().any(|u| u.order == gone)
    };
    assert!(
        !has(app.deliveries.as_ref().unwrap()),
        "{gone} is not in the orders any more"
    );
    let saved = Workspace::open(dir.path().join("ws"))
        .unwrap()
        .load_deliveries()
        .unwrap()
        .unwrap();
    assert!(!has(&saved), "nor in the saved plan");
    // Now a lock is taken.
    app.update(Action::Lock);
    assert!(app.deliveries.as_ref().unwrap().routes.iter().any(|r| r.locked));
    // Data loaded again with the same orders (new sales, say) keeps the
    // run's routes: only a change to the day's orders drops them.
    let effects = app.update(Action::Reoptimise);
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    app.on_loaded(loaded);
    for e in effects {
        if let Effect::PlanDeliveries(job) = e {
            assert!(app.on_deliveries(job.run()).is_empty(), "nothing planned again");
        }
    }
    assert!(app.status.starts_with("routes planned"), "{}", app.status);
    assert!(!app.planning_routes);
}

/// One import at a time: a second one asked for while the first runs is
/// refused (both ran, and the one that ended last was kept).
#[test]
fn an_import_waits_for_the_one_running() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.loading = Some("importing /data/big in place of the data loaded".into());
    app.update(Action::Import);
    assert!(app.prompt.is_none());
    let error = app.error.clone().unwrap_or_default();
    assert!(error.contains("an import is running (importing /data/big"), "{error}");
    app.loading = None;
    app.error = None;
    app.update(Action::Import);
    assert!(app.prompt.is_some());
}

/// A day's plan kept aside (another day was planned since) and shown when
/// the workstation opens on that day becomes the workspace's plan again:
/// `approve deliveries` in another shell acted on the other day's.
#[test]
fn the_day_kept_aside_becomes_the_workspace_plan_when_shown() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(4));
    app.update(Action::Lock);
    let day = app.deliveries.clone().unwrap();
    let locked = day.routes.iter().filter(|r| r.locked).count();
    assert_eq!(locked, 1);
    // Another day planned from the shell: this one goes aside.
    let mut other = day.clone();
    other.date = other.date.map(|d| d + chrono::Days::new(30));
    let aside = app.workspace.save_deliveries(&other).unwrap();
    assert_eq!(aside, Some((day.date, 1)));
    drop(app);
    let app = self::app(dir.path());
    assert_eq!(app.deliveries.as_ref().map(|p| p.date), Some(day.date));
    let saved = app.workspace.load_deliveries().unwrap().unwrap();
    assert_eq!(saved.date, day.date, "the day shown is the workspace's plan");
    assert_eq!(saved.routes.iter().filter(|r| r.locked).count(), 1);
    // ... and the other day's goes aside in turn, said after the load's
    // own message (it was overwritten by it).
    let later = other.date.unwrap();
    assert!(
        app.status.contains(&format!(
            "the plan for {later} (1 locked routes) is kept aside for that day"
        )),
        "{}",
        app.status
    );
    assert_eq!(
        app.workspace.deliveries_for(Some(later)).unwrap().map(|p| p.date),
        Some(Some(later))
    );
}

#[test]
fn tabs_switch_with_numbers_tab_and_shift_tab() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    assert_eq!(app.tab, Tab::Restock);
    app.update(Action::NextTab);
    assert_eq!(app.tab, Tab::Deliveries);
    app.update(Action::NextTab);
    assert_eq!(app.tab, Tab::Data, "wraps around");
    app.update(Action::PrevTab);
    app.update(Action::PrevTab);
    assert_eq!(app.tab, Tab::Restock);
    app.update(Action::GoTab(2));
    assert_eq!(app.tab, Tab::Forecasts);
    app.update(Action::GoTab(9));
    assert_eq!(app.tab, Tab::Forecasts, "no such tab: nothing happens");
}

/// The Restock title with a filter at 80 columns: the sort, which the
/// table's order shows anyway, goes before the title is cut mid-word
/// ("sorted by d").
#[test]
fn the_restock_title_drops_its_sort_before_it_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(3));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("sorted by data order"), "{s}");
    app.update(Action::Filter);
    keys(&mut app, "supplier:Porto Textile Works");
    app.update(Action::Submit);
    let s = screen(&mut app, 80, 24, dir.path());
    let title = s.lines().nth(1).unwrap();
    assert!(title.contains("filter \"supplier:Porto Textile Works\""), "{title}");
    assert!(!title.contains("sorted by"), "{title}");
}

#[test]
fn filter_narrows_and_escape_clears() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(2));
    let all = app.forecast_view().len();
    assert_eq!(all, app.forecast_rows.len());
    app.update(Action::Filter);
    let wh = app.forecast_rows[0].warehouse.clone();
    keys(&mut app, &wh);
    app.update(Action::Submit);
    let shown = app.forecast_view();
    assert!(!shown.is_empty() && shown.len() < all);
    assert!(shown.iter().all(|i| app.forecast_rows[*i].warehouse == wh));
    app.update(Action::Back);
    assert_eq!(app.forecast_view().len(), all);
    // Movement stays inside the view.
    app.update(Action::Bottom);
    assert_eq!(app.selected(), all - 1);
    app.update(Action::Down);
    assert_eq!(app.selected(), all - 1);
    app.update(Action::Top);
    assert_eq!(app.selected(), 0);

    // The lines' filter carries between Forecasts and Restock (both list
    // SKUs); Deliveries has its own, so a SKU filter does not empty it.
    let routes = app.delivery_view().len();
    assert!(routes > 0);
    app.update(Action::Filter);
    keys(&mut app, &wh);
    app.update(Action::Submit);
    app.update(Action::GoTab(3));
    let lines = app.restock_view();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|i| app.plan.as_ref().unwrap().lines[*i].warehouse == wh)
    );
    app.update(Action::GoTab(4));
    assert_eq!(app.delivery_view().len(), routes);
    app.update(Action::Filter);
    assert!(!app.prompt_fresh, "the routes' filter is empty: nothing suggested");
    keys(&mut app, "V1");
    app.update(Action::Submit);
    let v1 = app.delivery_view();
    assert!(!v1.is_empty() && v1.len() < routes);
    app.update(Action::Back);
    assert_eq!(app.delivery_view().len(), routes);
    app.update(Action::GoTab(3));
    assert_eq!(app.restock_view(), lines, "the lines' filter is still there");
    app.update(Action::Back);
    // Restock also matches what a row shows: its state and method.
    app.update(Action::Approve);
    let first = app.plan.as_ref().unwrap().lines[app.restock_view()[0]].clone();
    app.update(Action::Filter);
    keys(&mut app, "approved");
    app.update(Action::Submit);
    let approved = app.restock_view();
    assert_eq!(approved.len(), 1);
    assert_eq!(app.plan.as_ref().unwrap().lines[approved[0]].sku, first.sku);
    // ... and the reason in the words the 80-column table shows.
    app.update(Action::Filter);
    keys(&mut app, "below ROP");
    app.update(Action::Submit);
    assert!(!app.restock_view().is_empty());
    app.update(Action::Filter);
    keys(&mut app, &first.method);
    app.update(Action::Submit);
    let plan = app.plan.as_ref().unwrap();
    assert!(!app.restock_view().is_empty());
    assert!(app.restock_view().iter().all(|i| {
        let l = &plan.lines[*i];
        l.method == first.method || l.sku.contains(&first.method) || l.title.to_lowercase().contains(&first.method)
    }));
}

#[test]
fn approve_reject_undo_and_approve_all_go_to_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let view = app.restock_view();
    assert!(view.len() >= 2, "the sample plan orders something");
    let line = |app: &App, k: usize| app.plan.as_ref().unwrap().lines[app.restock_view()[k]].clone();
    app.update(Action::Approve);
    assert_eq!(app.state_of(&line(&app, 0)).0, State::Approved);
    // A second a writes nothing (u would otherwise undo only the copy).
    app.update(Action::Approve);
    assert!(app.status.contains("is already approved"), "{}", app.status);
    app.update(Action::Down);
    app.update(Action::Reject);
    assert_eq!(app.state_of(&line(&app, 1)).0, State::Rejected);
    app.update(Action::Undo);
    assert_eq!(app.state_of(&line(&app, 1)).0, State::Proposed);
    // u says what it took back.
    let l1 = line(&app, 1);
    assert_eq!(app.status, format!("undid reject of {} at {}", l1.sku, l1.warehouse));
    // The log is what survives: a new app on the same workspace agrees.
    let log = std::fs::read_to_string(dir.path().join("ws/audit.log")).unwrap();
    assert_eq!(log.lines().count(), 3);
    app.update(Action::ApproveAll);
    assert!(app.confirm.is_some());
    app.update(Action::Back);
    assert_eq!(app.state_of(&line(&app, 1)).0, State::Proposed, "no: nothing approved");
    app.update(Action::ApproveAll);
    app.update(Action::Yes);
    let n = app.restock_view().len();
    for k in 0..n {
        assert_eq!(app.state_of(&line(&app, k)).0, State::Approved);
    }
    // One u takes back the whole "approve all" (every line it approved;
    // the first line was approved before it, and stays so) ...
    app.update(Action::Undo);
    // ... naming the first few.
    let l1 = line(&app, 1);
    assert!(
        app.status.starts_with(&format!(
            "undid approve of {} lines at once: {} at {},",
            n - 1,
            l1.sku,
            l1.warehouse
        )),
        "{}",
        app.status
    );
    assert_eq!(app.state_of(&line(&app, 0)).0, State::Approved);
    for k in 1..n {
        assert_eq!(app.state_of(&line(&app, k)).0, State::Proposed, "line {k}");
    }
    // ... then the single approval before it, and then there is nothing
    // left: u writes nothing and says so.
    app.update(Action::Undo);
    assert_eq!(app.state_of(&line(&app, 0)).0, State::Proposed);
    let records = || {
        std::fs::read_to_string(dir.path().join("ws/audit.log"))
            .unwrap()
            .lines()
            .count()
    };
    let before = records();
    app.update(Action::Undo);
    assert_eq!(app.status, "nothing to undo");
    assert_eq!(records(), before);
    // A counts the lines it would approve and says how many of them are
    // rejected now: it used to overturn rejections unsaid.
    app.update(Action::Reject);
    assert_eq!(app.state_of(&line(&app, 1)).0, State::Rejected);
    app.update(Action::ApproveAll);
    assert_eq!(
        app.confirm,
        Some(skuplan::tui::app::Confirm::ApproveAll { count: n, rejected: 1 })
    );
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains(&format!("approve {n} lines shown, 1 of them rejected now? (y/n)")),
        "{s}"
    );
    app.update(Action::Yes);
    assert_eq!(app.state_of(&line(&app, 1)).0, State::Approved);
    app.update(Action::ApproveAll);
    assert!(app.confirm.is_none());
    assert_eq!(
        app.status,
        "nothing to approve: every line shown is approved or orders nothing"
    );
}

/// An approved line a what-if takes to nothing stays on the Restock tab as
/// `review` (it vanished: the tab shows lines that order, and those a
/// decision names, and its decision no longer matched).
#[test]
fn an_approved_line_that_drops_to_nothing_shows_as_review() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let first = app.plan.as_ref().unwrap().lines[app.restock_view()[0]].clone();
    assert!(first.order_qty > 0);
    app.update(Action::Approve);
    app.update(Action::Edit);
    let (from, to) = (first.order_date, first.order_date + chrono::Days::new(120));
    keys(&mut app, &format!("=0 {from}..{to} discontinued"));
    app.update(Action::Submit);
    assert!(app.error.is_none(), "{:?}", app.error);
    let plan = app.plan.as_ref().unwrap();
    let i = plan.lines.iter().position(|l| l.key() == first.key()).unwrap();
    assert_eq!(plan.lines[i].order_qty, 0);
    assert!(app.restock_view().contains(&i), "the line left the tab");
    let (state, review, _) = app.state_of(&plan.lines[i]);
    assert_eq!((state, review), (State::Proposed, true));
    // Its details say what was decided.
    app.update(Action::GoTab(3));
    app.selected[Tab::Restock.index()] = app.restock_view().iter().position(|&k| k == i).unwrap();
    app.update(Action::Submit);
    let s = screen(&mut app, 120, 40, dir.path());
    assert!(
        s.contains(&format!(
            "proposed (approved at {} units on {}",
            first.order_qty, first.order_date
        )),
        "{s}"
    );
    assert!(s.contains("the line changed since: review)"), "{s}");
    // A decision for an earlier order day (its order on order now, as
    // after the next day's import) does not bring a line of nothing back.
    app.update(Action::Back);
    let key = vec![first.sku.clone(), first.warehouse.clone()];
    let d = app.decisions.get_mut(&key).unwrap();
    d.fingerprint = format!("{}@{}", first.order_qty, first.order_date - chrono::Days::new(1));
    assert!(!app.restock_view().contains(&i), "an earlier day's decision");
}

#[test]
fn quantity_edit_and_what_if_recompute_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let first = app.plan.as_ref().unwrap().lines[app.restock_view()[0]].clone();
    app.update(Action::Approve);
    // The prompt suggests the line's quantity: typing replaces it (it was
    // appended to it: 366 and 400 made 366400).
    app.update(Action::SetQty);
    assert!(app.prompt_fresh);
    keys(&mut app, "7");
    app.update(Action::Submit);
    assert_eq!(app.state_of(&first).2, Some(7));
    assert_eq!(app.state_of(&first).0, State::Proposed);
    assert!(
        app.status
            .ends_with(": quantity set to 7, no longer approved (a approves it)"),
        "{}",
        app.status
    );
    // Backspace edits the suggestion instead; Enter alone keeps it.
    app.update(Action::SetQty);
    app.update(Action::Backspace);
    assert!(!app.prompt_fresh);
    keys(&mut app, "0");
    assert_eq!(app.prompt.as_ref().unwrap().1, "0");
    app.update(Action::Back);
    app.update(Action::SetQty);
    app.update(Action::Submit);
    assert_eq!(app.state_of(&first).2, Some(7));
    // A quantity far above the proposal is taken, and pointed out.
    let big = first.order_qty.max(1) * 50;
    app.update(Action::SetQty);
    keys(&mut app, &big.to_string());
    app.update(Action::Submit);
    assert_eq!(app.state_of(&first).2, Some(big));
    assert!(
        app.status
            .ends_with(&format!("; note: 50x the {} proposed", first.order_qty)),
        "{}",
        app.status
    );
    app.update(Action::SetQty);
    keys(&mut app, "7");
    app.update(Action::Submit);
    // What-if: double the demand of the selected SKU.
    app.update(Action::Edit);
    keys(&mut app, "+100% trade show");
    app.update(Action::Submit);
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(app.scenario.overrides.len(), 1);
    let after = app
        .plan
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .find(|l| l.key() == first.key())
        .unwrap()
        .clone();
    assert!(
        after.order_qty > first.order_qty,
        "{} -> {}",
        first.order_qty,
        after.order_qty
    );
    assert!(after.reason_text().contains("trade show"), "{}", after.reason_text());
    // The Forecasts table says what its * column marks.
    let tab = app.tab;
    app.update(Action::GoTab(2));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains(", * = 1 what-if "), "{s}");
    app.tab = tab;
    // Saved with the workspace, compared with the base, saved by name.
    assert!(dir.path().join("ws/scenarios/what-if.json").exists());
    // A quantity set on a line of another SKU, which the what-if leaves.
    let other = app
        .restock_view()
        .into_iter()
        .position(|i| {
            app.plan.as_ref().unwrap().lines[i].sku != first.sku && app.plan.as_ref().unwrap().lines[i].order_qty > 0
        })
        .unwrap();
    let at = app.selected();
    for _ in 0..other {
        app.update(Action::Down);
    }
    app.update(Action::SetQty);
    keys(&mut app, "5000");
    app.update(Action::Submit);
    for _ in 0..other {
        app.update(Action::Up);
    }
    assert_eq!(app.selected(), at);
    app.update(Action::Compare);
    assert!(
        app.status.starts_with("what-if vs base: ") && app.status.contains("lines change"),
        "{}",
        app.status
    );
    // The line set to 5000 is not the what-if's doing: it stands in both
    // plans, so only the what-if SKU's lines change.
    let of_sku = app
        .plan
        .as_ref()
        .unwrap()
        .lines
        .iter()
        .filter(|l| l.sku == first.sku)
        .count();
    let changed: usize = app.status["what-if vs base: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(changed >= 1 && changed <= of_sku, "{}", app.status);
    // It counts the quantity set with = as the totals pane does (it left
    // it out).
    let shown: f64 = app.totals.iter().map(|t| t.1).sum();
    assert!(
        app.status.contains(&format!("-> {shown:.0}")),
        "{} vs {shown}",
        app.status
    );
    app.update(Action::SaveScenario);
    keys(&mut app, "show");
    app.update(Action::Submit);
    assert!(dir.path().join("ws/scenarios/show.json").exists(), "{}", app.status);
    // Bad input is explained.
    app.update(Action::Edit);
    keys(&mut app, "lots");
    app.update(Action::Submit);
    assert!(
        app.error.as_deref().unwrap_or("").contains("expected"),
        "{:?}",
        app.error
    );
    app.update(Action::Edit);
    keys(&mut app, "+10%");
    app.update(Action::Submit);
    assert!(app.error.as_deref().unwrap_or("").contains("why"), "{:?}", app.error);
    // ... and so are what-ifs that cannot mean anything: they used to be
    // kept, and counted as what-ifs.
    for (input, says) in [
        ("-150% crash", "a change runs from -100% (no demand)"),
        ("=2000000 flood", "a quantity runs from 0 to 1000000 a day"),
    ] {
        app.error = None;
        app.update(Action::Edit);
        keys(&mut app, input);
        app.update(Action::Submit);
        assert!(
            app.error.as_deref().unwrap_or("").contains(says),
            "{input}: {:?}",
            app.error
        );
    }
    assert_eq!(app.scenario.overrides.len(), 1);
    // One before the plan's first day is kept (the CLI keeps it too) and
    // said to change nothing.
    app.error = None;
    app.update(Action::Edit);
    keys(&mut app, "+20% 2020-01-01..2020-01-31 past");
    app.update(Action::Submit);
    assert!(app.status.contains("it changes no forecast"), "{}", app.status);
    assert_eq!(app.scenario.overrides.len(), 2);
    // D asks first: n keeps them, y drops them.
    app.update(Action::DropEdits);
    assert!(app.confirm.is_some());
    app.update(Action::Back);
    assert!(!app.scenario.overrides.is_empty());
    assert_eq!(app.status, "the what-ifs are kept");
    app.update(Action::DropEdits);
    app.update(Action::Yes);
    assert!(app.scenario.overrides.is_empty());
    app.update(Action::DropEdits);
    assert!(app.confirm.is_none());
    assert_eq!(app.status, "no what-ifs to drop");
}

/// Saved what-ifs that cannot be read (a damaged file, a hand-edited
/// +1e300 %) are said, left out of the plan and kept: `e` no longer saves
/// one what-if over all of them, and `D` removes the file only when asked.
#[test]
fn unreadable_what_ifs_are_said_and_not_saved_over() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let file = dir.path().join("ws/scenarios/what-if.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let reload = |app: &mut App| {
        let sources = DataSources {
            paths: vec![dir.path().join("data")],
            ..DataSources::default()
        };
        app.error = None;
        app.on_loaded(skuplan::tui::load(&sources, &ImportOptions::default()).unwrap());
    };
    std::fs::write(&file, "{\"name\": \"what-if\", \"overrides\": [").unwrap();
    reload(&mut app);
    let error = app.error.clone().unwrap_or_default();
    assert!(error.contains("the saved what-ifs could not be read"), "{error}");
    assert!(error.contains("what-if.json is damaged"), "{error}");
    app.update(Action::GoTab(3));
    app.error = None;
    app.update(Action::Edit);
    assert!(app.prompt.is_none(), "no what-if asked for");
    assert!(
        app.error
            .as_deref()
            .unwrap_or_default()
            .contains("would be saved over them")
    );
    // Nor is a scenario opened over them.
    app.update(Action::OpenScenario);
    assert!(app.prompt.is_none(), "no scenario asked for");
    assert!(
        app.error
            .as_deref()
            .unwrap_or_default()
            .contains("opening a scenario would save over them")
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"name\": \"what-if\", \"overrides\": ["
    );
    // A what-if that cannot mean anything, written by hand.
    let mut bad = skuplan::plan::scenario::Scenario {
        name: "what-if".into(),
        overrides: Vec::new(),
    };
    let day = app.plan.as_ref().unwrap().plan_date;
    bad.overrides.push(skuplan::plan::scenario::Override {
        skus: Vec::new(),
        warehouse: None,
        from: day,
        to: day,
        change: skuplan::plan::scenario::Change::Percent(1e300),
        reason: "typo".into(),
    });
    std::fs::write(&file, serde_json::to_vec(&bad).unwrap()).unwrap();
    reload(&mut app);
    let error = app.error.clone().unwrap_or_default();
    assert!(
        error.contains("what-if 1 of 1") && error.contains("a change runs from -100%"),
        "{error}"
    );
    assert!(app.scenario.overrides.is_empty(), "left out of the plan");
    // D asks, then removes the file; what-ifs can be made again.
    app.update(Action::DropEdits);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("remove the saved what-ifs' file"), "{s}");
    app.update(Action::Yes);
    assert!(!file.exists());
    assert!(app.what_ifs_unread.is_none());
    app.update(Action::Edit);
    assert!(app.prompt.is_some());
}

#[test]
fn export_writes_the_approved_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::Approve);
    app.update(Action::Export);
    let (_, default) = app.prompt.clone().unwrap();
    assert!(default.contains("exports/restock-approved-"), "{default}");
    // A path longer than the line shows its end after a `…`.
    let s = screen(&mut app, 80, 24, dir.path());
    let prompt = s
        .lines()
        .find(|l| l.starts_with("export approved lines to: "))
        .expect("the prompt");
    assert!(prompt.trim_end().ends_with(".csv"), "{prompt}");
    if default.chars().count() + 27 > 80 {
        assert!(prompt.contains('…'), "{prompt}");
    }
    for _ in 0..default.len() {
        app.update(Action::Backspace);
    }
    let out = dir.path().join("out/approved.csv");
    keys(&mut app, &out.display().to_string());
    app.update(Action::Submit);
    assert!(app.status.contains("exported 1 approved line to "), "{}", app.status);
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 2);
    assert!(csv.lines().nth(1).unwrap().contains("approved"));
}

#[test]
fn training_events_fold_into_bounded_charts_and_quit_asks_while_training() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.training.running = true;
    for step in 1..=5000 {
        app.on_engine(EngineEvent::Progress(Progress {
            epoch: 1,
            epochs: 1,
            step,
            steps_total: 5000,
            train_loss: 1.0 / step as f64,
            val_mse: None,
            val_mae: None,
            samples_per_sec: 100.0,
            eta_secs: 1.0,
            elapsed_secs: 1.0,
        }));
    }
    assert!(app.training.loss.len() <= 2000);
    assert_eq!(app.training.last.unwrap().step, 5000);
    app.update(Action::Quit);
    assert!(!app.quit, "asks first");
    let effects = app.update(Action::Yes);
    assert!(app.quit);
    assert!(
        matches!(effects.first(), Some(Effect::Engine(_))),
        "cancels the training"
    );
    app.on_engine(EngineEvent::Failed {
        message: "boom".into(),
        cancelled: false,
    });
    assert!(!app.training.running);
    assert!(app.error.as_deref().unwrap().contains("boom"));
    // Once the error is read, the status under it does not say training
    // goes on.
    assert_eq!(app.status, "the engine stopped: its error is in the messages (H)");
}

#[test]
fn a_broken_import_changes_nothing_and_names_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(0));
    app.update(Action::Import);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "date,sku,warehouse,quantity\n2026-06-01,A,W,3\n2026-06-02,A,W,lots\n",
    )
    .unwrap();
    keys(&mut app, &bad.display().to_string());
    let effects = app.update(Action::Submit);
    let Some(Effect::Load(sources)) = effects.into_iter().next() else {
        panic!("an import is started off the UI thread");
    };
    assert_eq!(sources.paths.len(), 2, "the new file joins the loaded ones");
    let series_before = app.forecast_rows.len();
    let report = match skuplan::tui::load(&sources, &ImportOptions::default()) {
        Err(r) => r,
        Ok(_) => panic!("the bad file must fail the import"),
    };
    app.on_load_failed(report);
    assert_eq!(app.forecast_rows.len(), series_before, "nothing was lost");
    assert!(app.error.as_deref().unwrap().contains("nothing was changed"));
    let s = screen(&mut app, 160, 48, dir.path());
    assert!(s.contains("bad.csv") && s.contains("row 3"), "{s}");
    assert!(s.contains("lots"), "{s}");
    // The next key clears the error line; the status line still says the
    // import failed, not what the last good import said.
    app.update(Action::Down);
    assert!(app.error.is_none());
    assert!(
        app.status.starts_with("the import failed, nothing was changed"),
        "{}",
        app.status
    );
}

#[test]
fn import_is_asked_from_any_tab_and_shown_on_the_data_tab() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    for tab in 1..5 {
        app.update(Action::GoTab(tab));
        app.update(Action::Import);
        assert_eq!(app.tab, Tab::Data);
        let s = screen(&mut app, 80, 24, dir.path());
        assert!(s.contains("import file or folder:"), "{s}");
        app.update(Action::Back);
        assert_eq!(app.filter, "", "nothing typed went into a filter");
    }
}

#[test]
fn a_mapping_after_a_failed_import_maps_the_files_that_failed() {
    // A planner's own file with columns nothing recognises: the import
    // fails, and M then maps that file, not the data still loaded.
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(0));
    app.update(Action::Import);
    let own = dir.path().join("verkauf.csv");
    std::fs::write(
        &own,
        "Datum;Lager;Artikel;Menge\n01.06.2026;WH-LON;A;3,5\n02.06.2026;WH-LON;A;2\n03.06.2026;WH-LON;A;4\n",
    )
    .unwrap();
    keys(&mut app, &own.display().to_string());
    let Some(Effect::Load(sources)) = app.update(Action::Submit).into_iter().next() else {
        panic!("an import is started");
    };
    let Err(report) = skuplan::tui::load(&sources, &ImportOptions::default()) else {
        panic!("columns nothing recognises must fail the import");
    };
    assert!(report.contains("--map"), "{report}");
    app.on_load_failed(report);
    // The way out named is the workstation's key, not the flag.
    let said = format!(
        "{} {}",
        app.error.clone().unwrap_or_default(),
        app.load_problems.clone().unwrap_or_default()
    );
    assert!(!said.contains("--map") && said.contains("M (the mapping)"), "{said}");
    app.update(Action::Remap);
    keys(&mut app, "date=Datum,sku=Artikel,warehouse=Lager,quantity=Menge");
    let Some(Effect::Load(mapped)) = app.update(Action::Submit).into_iter().next() else {
        panic!("a new mapping imports again");
    };
    assert_eq!(mapped.paths, sources.paths, "the failed import's files");
    assert_eq!(
        mapped.map.to_string(),
        "date=Datum,sku=Artikel,warehouse=Lager,quantity=Menge"
    );
    let loaded = skuplan::tui::load(&mapped, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let a = loaded
        .dataset
        .demand
        .iter()
        .find(|s| s.sku == "A")
        .expect("the file's series");
    assert_eq!(&a.values[..3], &[3.5, 2.0, 4.0]);
}

#[test]
fn similar_products_come_from_the_engine_and_remap_reimports() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let tiny = dir.path().join("tiny");
    skuplan::engine::encoder::write_random_model(&tiny, &skuplan::engine::bert::BertConfig::tiny(0), 2).unwrap();
    app.model_dir = Some(tiny);
    app.update(Action::GoTab(2));
    let mut effects = app.update(Action::Similar);
    let Some(Effect::Engine(cmd)) = effects.pop() else {
        panic!("similar products are asked of the engine");
    };
    let ev = engine_answer(cmd, |e| matches!(e, EngineEvent::Similar { .. }));
    app.on_engine(ev);
    let (sku, items) = app.similar.clone().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|(s, _, _)| *s != sku));
    let s = screen(&mut app, 160, 48, dir.path());
    assert!(s.contains("similar products:"), "{s}");
    // Named with their titles: on the wide chart and, at any width, in the
    // status message (H keeps it whole).
    let (code, _, title) = &items[0];
    let short: String = title.chars().take(12).collect();
    assert!(s.contains(&format!("{code} {short}")), "{s}");
    // The status names the product by its title alone (the text the
    // encoder read adds its category and price band).
    let product = app
        .loaded
        .as_ref()
        .unwrap()
        .dataset
        .product(code)
        .unwrap()
        .title
        .clone();
    assert!(title.starts_with(&product), "{title} / {product}");
    assert!(app.status.contains(&format!("{code} {product} 0.")), "{}", app.status);

    app.update(Action::GoTab(0));
    app.update(Action::Remap);
    for _ in 0..200 {
        app.update(Action::Backspace);
    }
    keys(&mut app, "quantity=qty_sold");
    let mut effects = app.update(Action::Submit);
    let Some(Effect::Load(sources)) = effects.pop() else {
        panic!("a new mapping imports again");
    };
    assert_eq!(sources.map.to_string(), "quantity=qty_sold");
    // The mapping in force is offered selected: typing replaces it (it was
    // appended to, "quantity=qty_soldsku=item").
    app.loaded.as_mut().unwrap().sources.map = "quantity=qty_sold".parse().unwrap();
    app.update(Action::Remap);
    assert_eq!(app.prompt.as_ref().map(|p| p.1.as_str()), Some("quantity=qty_sold"));
    keys(&mut app, "quantity=units");
    assert_eq!(app.prompt.as_ref().map(|p| p.1.as_str()), Some("quantity=units"));
    app.update(Action::Back);
    app.update(Action::Remap);
    for _ in 0..200 {
        app.update(Action::Backspace);
    }
    keys(&mut app, "colour=x");
    app.update(Action::Submit);
    assert!(app.error.is_some(), "an unknown field is explained");
}

/// Under 80 columns the columns that name a line or a route stay whole
/// (at 60 every SKU read `SKU-00` and every vehicle `WH-LON-`), and a
/// route's broken rules, cut in its row, are given whole in the title of
/// its stops.
#[test]
fn narrow_screens_keep_names_whole_and_breaks_are_read_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(3));
    let first = app.plan.as_ref().unwrap().lines[app.restock_view()[0]].clone();
    let s = screen(&mut app, 60, 20, dir.path());
    let row = s.lines().nth(3).unwrap();
    assert!(row.contains(&format!(" {} ", first.sku)), "{s}");
    assert!(row.contains(&first.warehouse), "{s}");
    assert!(!s.contains("cost "), "the cost column goes: {s}");
    app.update(Action::GoTab(4));
    let why = "the orders exceed the vehicle's capacity";
    let sel = app.delivery_view()[0];
    app.deliveries.as_mut().unwrap().routes[sel].problems.push(why.into());
    let vehicle = app.deliveries.as_ref().unwrap().routes[sel].vehicle.clone();
    for (w, h) in [(80, 24), (60, 20)] {
        let s = screen(&mut app, w, h, dir.path());
        let whole = format!("stops of {vehicle} (breaks: {why})");
        let shown = if w >= 80 { whole.as_str() } else { &whole[..30] };
        assert!(s.contains(shown), "{w}x{h}: {s}");
        let row = s
            .lines()
            .find(|l| l.contains(&vehicle) && !l.contains("stops of"))
            .unwrap();
        assert!(row.trim_end().ends_with('~'), "cut with a mark: {row}");
    }
}

/// Moving an order between approved routes says their approvals lapsed
/// (they went to review without a word); moving it to where it is moves
/// nothing (it locked the route all the same).
#[test]
fn a_move_says_which_approvals_lapse_and_a_move_in_place_is_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(4));
    app.update(Action::ApproveAll);
    app.update(Action::Yes);
    let plan = app.deliveries.clone().unwrap();
    let r = &plan.routes[0];
    let order = r.stops[0].order.clone();
    app.update(Action::MoveOrder);
    keys(&mut app, &format!("{order} {} 1", r.vehicle));
    app.update(Action::Submit);
    assert_eq!(
        app.status,
        format!("{order} is already stop 1 of {}: nothing moved", r.vehicle)
    );
    assert_eq!(
        app.deliveries.as_ref().unwrap(),
        &plan,
        "nothing changed, nothing locked"
    );
    // Some order of one route moves onto another of its warehouse.
    let mut moved = false;
    'search: for a in &plan.routes {
        for b in plan
            .routes
            .iter()
            .filter(|b| b.warehouse == a.warehouse && b.vehicle != a.vehicle)
        {
            for s in &b.stops {
                app.error = None;
                app.update(Action::MoveOrder);
                keys(&mut app, &format!("{} {}", s.order, a.vehicle));
                app.update(Action::Submit);
                if app.error.is_none() {
                    let both = [&a.vehicle, &b.vehicle];
                    assert!(app.status.contains("; the approvals of "), "{}", app.status);
                    for v in both {
                        assert!(app.status.contains(v.as_str()), "{}", app.status);
                    }
                    assert!(app.status.ends_with(" are in review now"), "{}", app.status);
                    moved = true;
                    break 'search;
                }
            }
        }
    }
    assert!(moved, "no order of the sample could move");
}

#[test]
fn deliveries_are_approved_moved_locked_replanned_and_exported() {
    use skuplan::plan::delivery::PLAN;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(4));
    assert_eq!(app.tab, Tab::Deliveries);
    let plan = app.deliveries.clone().expect("routes planned after the load");
    assert!(plan.routes.len() >= 2, "{}", plan.routes.len());
    // The plan is saved in the workspace as soon as it is made.
    let saved = app.workspace.load_deliveries().unwrap().unwrap();
    let fingerprints = |p: &skuplan::plan::delivery::DeliveryPlan| -> Vec<String> {
        p.routes
            .iter()
            .map(|r| format!("{}:{}", r.vehicle, r.fingerprint()))
            .collect()
    };
    assert_eq!(fingerprints(&saved), fingerprints(&plan));

    // Approve the first route: one record in the audit log, and a second
    // a adds none.
    app.update(Action::Approve);
    let first = plan.routes[0].clone();
    assert_eq!(app.route_state(&first).0, State::Approved);
    let log = app.workspace.audit_log().load().unwrap();
    assert_eq!(log.records.last().unwrap().plan, PLAN);
    app.update(Action::Approve);
    assert!(app.status.contains("is already approved"), "{}", app.status);
    assert_eq!(
        app.workspace.audit_log().load().unwrap().records.len(),
        log.records.len()
    );

    // Move the second route's first order onto the first vehicle when it
    // has room, else expect a refusal that names the rule.
    app.update(Action::Down);
    let second = app.selected_route().unwrap().clone();
    let order = second.stops[0].order.clone();
    app.update(Action::MoveOrder);
    let (_, typed) = app.prompt.clone().unwrap();
    assert_eq!(
        typed.trim(),
        order,
        "the prompt starts with the selected route's first order"
    );
    keys(&mut app, &first.vehicle);
    app.update(Action::Submit);
    let same_wh = first.warehouse == second.warehouse;
    if same_wh && app.error.is_none() {
        let now = app.deliveries.clone().unwrap();
        let r = now.route(&first.vehicle).unwrap();
        assert!(r.locked && r.stops.iter().any(|s| s.order == order));
        // The approved route changed: it needs a fresh look.
        assert_eq!(app.route_state(r), (State::Proposed, true));
    } else {
        let e = app.error.clone().unwrap_or_default();
        assert!(e.starts_with("not moved:"), "{e}");
    }
    // "ORDER VEHICLE" typed in full after the order the prompt offers is
    // read as typed (it read "VEHICLE: expected a stop number").
    app.error = None;
    app.update(Action::MoveOrder);
    keys(&mut app, &format!("{order} {}", first.vehicle));
    app.update(Action::Submit);
    let e = app.error.clone().unwrap_or_default();
    assert!(e.is_empty() || e.starts_with("not moved:"), "{e}");
    // So is a vehicle the fleet does not have, and it is said as such.
    app.error = None;
    app.update(Action::MoveOrder);
    keys(&mut app, &format!("{order} NO-SUCH-VAN"));
    app.update(Action::Submit);
    let e = app.error.clone().unwrap_or_default();
    assert!(e.contains("no vehicle called NO-SUCH-VAN"), "{e}");

    // Lock the selected route, re-plan: the lock survives.
    let locked = app.selected_route().unwrap().vehicle.clone();
    let was_locked = app.selected_route().unwrap().locked;
    if !was_locked {
        app.update(Action::Lock);
    }
    let kept = app.deliveries.as_ref().unwrap().route(&locked).unwrap().clone();
    assert!(kept.locked);
    let effects = app.update(Action::Reoptimise);
    assert!(app.planning_routes);
    run_effects(&mut app, effects);
    assert!(!app.planning_routes);
    assert_eq!(app.deliveries.as_ref().unwrap().route(&locked), Some(&kept));

    // Approve every route, export: one row per stop.
    app.update(Action::ApproveAll);
    app.update(Action::Yes);
    // A re-plan holds the approved routes as it holds locked ones (for that
    // run only): each keeps its stops, its approval and its lock state.
    let approved = app.deliveries.clone().unwrap();
    let effects = app.update(Action::Reoptimise);
    assert!(app.status.contains(" approved routes"), "{}", app.status);
    run_effects(&mut app, effects);
    let after = app.deliveries.clone().unwrap();
    for r in approved.routes.iter().filter(|r| !r.stops.is_empty()) {
        let now = after.route(&r.vehicle).unwrap();
        assert_eq!((&now.stops, now.locked), (&r.stops, r.locked), "{}", r.vehicle);
        assert_eq!(app.route_state(now), (State::Approved, false), "{}", r.vehicle);
    }
    // An order left out because the routes that could take it are kept is
    // not called too heavy (it was: the search saw no free vehicle).
    for u in &after.unserved {
        assert!(!u.reason.contains("too heavy"), "{}: {}", u.order, u.reason);
    }
    app.update(Action::Export);
    let (_, default) = app.prompt.clone().unwrap();
    assert!(default.contains("exports/deliveries-approved-"), "{default}");
    for _ in 0..default.len() {
        app.update(Action::Backspace);
    }
    let out = dir.path().join("out/routes.csv");
    keys(&mut app, &out.display().to_string());
    app.update(Action::Submit);
    let stops = app.deliveries.as_ref().unwrap().stop_count();
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), stops + 1, "{}", app.status);
    insta::assert_snapshot!("deliveries_after_edits_80x24", screen(&mut app, 80, 24, dir.path()));
    // The stops of a route longer than the pane scroll with [ and ]; the
    // next route starts at its first stop.
    app.update(Action::Top);
    let route = app.selected_route().unwrap().clone();
    let s = screen(&mut app, 80, 24, dir.path());
    let shown = format!("stops of {}: 1-", route.vehicle);
    assert!(s.contains(&shown), "a long route says which stops show:\n{s}");
    let last = route.stops.last().unwrap().order.clone();
    assert!(!s.contains(&last), "{s}");
    app.update(Action::ScrollDown);
    app.update(Action::ScrollDown);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains(&last), "] scrolls to the last stop:\n{s}");
    assert!(s.contains(&format!(" of {} ([ ] scroll)", route.stops.len())), "{s}");
    assert!(!s.contains(&format!(" {} ", route.stops[0].order)), "{s}");
    app.update(Action::Down);
    let next = app.selected_route().unwrap().clone();
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains(&format!(" {} ", next.stops[0].order)),
        "another route starts at its first stop:\n{s}"
    );
    app.update(Action::Up);
    // Back on the first route, which was scrolled: [ goes up at once.
    app.update(Action::ScrollUp);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains(&format!(" {} ", route.stops[0].order)),
        "[ scrolls back up:\n{s}"
    );

    // More orders left out than the strip has rows: the heading says how
    // many it lists and where the rest are; Enter (past the map on a
    // narrow screen) lists all of them with their reasons, and [ ] scroll.
    let saved = app.deliveries.clone();
    let mut many = saved.clone().unwrap();
    let one = many.unserved[0].clone();
    many.unserved = (0..30)
        .map(|k| skuplan::plan::delivery::UnservedOrder {
            order: format!("ORD-X{k}"),
            ..one.clone()
        })
        .collect();
    app.deliveries = Some(many);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("30 orders not served (3 here; Enter lists all):"), "{s}");
    app.update(Action::Submit);
    assert_eq!(app.lower.view, PaneView::NotServed);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("30 orders not served: lines 1-"), "{s}");
    assert!(s.contains("ORD-X0 ") && !s.contains("ORD-X29 "), "{s}");
    // Reasons wrap whole instead of ending in '~'.
    assert!(!s.contains('~'), "{s}");
    for _ in 0..20 {
        app.update(Action::ScrollDown);
    }
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains("ORD-X29 ") && !s.contains("ORD-X0 "),
        "] reaches the last order:\n{s}"
    );
    // The orders served after all (a re-plan): the pane goes back to the
    // stops, and Enter goes on from there.
    let mut served = app.deliveries.clone().unwrap();
    served.unserved.clear();
    app.deliveries = Some(served);
    let s = screen(&mut app, 80, 24, dir.path());
    assert_eq!(app.lower.view, PaneView::Stops, "{s}");
    assert!(s.contains(&format!("stops of {}", route.vehicle)), "{s}");
    app.deliveries = saved;

    // Enter shows the orders not served, then the map on a narrow screen
    // (plain dots without UTF-8), then the stops again.
    app.update(Action::Submit);
    assert_eq!(app.lower.view, PaneView::NotServed);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("2 orders not served (Enter: next view)"), "{s}");
    app.update(Action::Submit);
    assert_eq!(app.lower.view, PaneView::Map);
    insta::assert_snapshot!("deliveries_map_80x24", screen(&mut app, 80, 24, dir.path()));
    app.braille = false;
    let dots = screen(&mut app, 80, 24, dir.path());
    assert!(
        dots.contains(" W") || dots.contains("W "),
        "the warehouse is marked:\n{dots}"
    );
    app.update(Action::Submit);
    assert_eq!(app.lower.view, PaneView::Stops);
    // On a wide screen the map shows beside the stops, so Enter skips it.
    screen(&mut app, 160, 48, dir.path());
    app.update(Action::Submit);
    assert_eq!(app.lower.view, PaneView::NotServed);
    app.update(Action::Submit);
    assert_eq!(app.lower.view, PaneView::Stops);
}

#[test]
fn a_second_start_takes_the_baselines_from_the_workspace_cache() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sources = sample(&data, 6, 1, 300, 5);
    let ws = Workspace::open(dir.path().join("ws")).unwrap();
    let files_of = |prefix: &str| -> Vec<String> {
        std::fs::read_dir(ws.root.join("cache"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(prefix))
                    .collect()
            })
            .unwrap_or_default()
    };
    let cache_files = || files_of("planbase-");
    let first = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), false).unwrap();
    assert_eq!(cache_files().len(), 1);
    // The import is kept beside it.
    let imports = files_of("import-");
    assert_eq!(imports.len(), 1);
    let second = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), false).unwrap();
    assert_eq!(second.base.forecasts, first.base.forecasts);
    assert_eq!(
        second.base.settings, first.base.settings,
        "the calibration comes back too"
    );
    let plan = |l: &skuplan::tui::app::Loaded| l.base.plan(&l.dataset, None);
    assert_eq!(plan(&second), plan(&first));
    // A damaged cache is recomputed, not trusted.
    let name = cache_files().remove(0);
    std::fs::write(ws.root.join("cache").join(&name), b"\x93garbage").unwrap();
    let third = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), false).unwrap();
    assert_eq!(third.base.forecasts, first.base.forecasts);
    // Other data: another key, and the old cache file is dropped.
    let sales = data.join("sales.csv");
    let text = std::fs::read_to_string(&sales).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop();
    std::fs::write(&sales, lines.join("\n") + "\n").unwrap();
    skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), false).unwrap();
    let files = cache_files();
    assert_eq!(files.len(), 1);
    assert_ne!(files[0], name);
    let now = files_of("import-");
    assert_eq!(now.len(), 2, "the import of the data before is kept beside it");
    assert!(now.contains(&imports[0]));
}

#[test]
fn a_first_start_shows_a_provisional_plan_then_the_final_one() {
    let dir = tempfile::tempdir().unwrap();
    let sources = sample(&dir.path().join("data"), 8, 1, 400, 9);
    let ws = Workspace::open(dir.path().join("ws")).unwrap();
    let loaded = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), true).unwrap();
    assert!(loaded.provisional);
    assert!(loaded.base.forecasts.iter().all(|f| f.model == "ma28"));
    let mut app = App::new(ws.clone(), None);
    app.colors = false;
    app.delivery_settings.iterations = Some(500);
    let effects = app.on_loaded(loaded);
    assert!(app.provisional());
    assert!(app.status.contains("provisional"), "{}", app.status);
    assert!(screen(&mut app, 80, 24, dir.path()).contains("provisional plan of"));
    // Decisions wait for the final plan.
    app.update(Action::Approve);
    assert!(app.status.contains("provisional"), "{}", app.status);
    assert!(ws.audit_log().load().unwrap().records.is_empty());
    // The runner refines; a refinement of older data is dropped.
    let mut refine = None;
    for e in effects {
        match e {
            Effect::Refine {
                generation, dataset, ..
            } => refine = Some((generation, dataset)),
            Effect::PlanDeliveries(job) => {
                let more = app.on_deliveries(job.run());
                run_effects(&mut app, more);
            }
            _ => {}
        }
    }
    let (generation, dataset) = refine.expect("a refinement is asked for");
    app.on_refined(generation + 1, skuplan::tui::refine(&dataset, &ws, None));
    assert!(app.provisional(), "a stale refinement changes nothing");
    app.on_refined(generation, skuplan::tui::refine(&dataset, &ws, None));
    assert!(!app.provisional());
    assert!(app.status.contains("final"), "{}", app.status);
    assert!(!screen(&mut app, 80, 24, dir.path()).contains("provisional"));
    app.update(Action::Approve);
    assert_eq!(ws.audit_log().load().unwrap().records.len(), 1);
    // The refinement filled the cache: the next start is final at once.
    let again = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), true).unwrap();
    assert!(!again.provisional);
}

#[test]
fn clicks_pick_tabs_and_rows_and_the_wheel_scrolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(3));
    screen(&mut app, 80, 24, dir.path());
    // " 1 Data  2 Training  3 Forecasts ...": column 22 is in "3 Forecasts".
    assert!(app.click(22, 0));
    assert_eq!(app.tab, Tab::Forecasts);
    screen(&mut app, 80, 24, dir.path());
    let (top, rows, first) = app.table_rows.expect("the table said where its rows are");
    assert_eq!(first, 0);
    assert!(rows >= 3);
    assert!(app.click(5, top + 2));
    assert_eq!(app.selected(), 2);
    // Below the last row, and over the help, a click does nothing.
    assert!(!app.click(5, top + rows + 5));
    assert_eq!(app.selected(), 2);
    app.update(Action::Help);
    assert!(!app.click(5, top));
    app.update(Action::Back);
    assert!(app.wheel(3));
    assert_eq!(app.selected(), 5);
    assert!(app.wheel(-10));
    assert_eq!(app.selected(), 0);
    // The Deliveries tab's routes are rows too.
    assert!(app.click(50, 0));
    assert_eq!(app.tab, Tab::Deliveries);
    screen(&mut app, 80, 24, dir.path());
    let (top, _, _) = app.table_rows.unwrap();
    assert!(app.click(3, top + 1));
    assert_eq!(
        app.selected_route().map(|r| r.vehicle.clone()),
        app.deliveries.as_ref().map(|p| p.routes[1].vehicle.clone())
    );
}

#[test]
fn a_saved_scenario_can_be_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::OpenScenario);
    assert!(app.prompt.is_none());
    assert!(app.status.contains("no saved scenarios"), "{}", app.status);
    // A what-if, saved as "promo", then dropped.
    app.update(Action::Edit);
    keys(&mut app, "+50% promotion");
    app.update(Action::Submit);
    let with = app.plan.clone().unwrap();
    app.update(Action::SaveScenario);
    keys(&mut app, "promo");
    app.update(Action::Submit);
    app.update(Action::DropEdits);
    app.update(Action::Yes);
    assert!(app.scenario.overrides.is_empty());
    assert_ne!(app.plan.as_ref(), Some(&with));
    // Opened again: the same what-ifs, the same plan.
    app.update(Action::OpenScenario);
    assert!(app.status.contains("promo"), "{}", app.status);
    keys(&mut app, "promo");
    app.update(Action::Submit);
    assert_eq!(app.scenario.overrides.len(), 1);
    assert_eq!(app.plan.as_ref(), Some(&with));
    app.update(Action::OpenScenario);
    keys(&mut app, "nope");
    app.update(Action::Submit);
    assert!(
        app.error.as_deref().unwrap_or("").contains("no scenario called 'nope'"),
        "{:?}",
        app.error
    );

    // A second what-if, saved under no name: O asks before it is lost,
    // and n keeps it.
    app.error = None;
    app.update(Action::Down);
    app.update(Action::Edit);
    keys(&mut app, "+20% second");
    app.update(Action::Submit);
    assert_eq!(app.scenario.overrides.len(), 2);
    let two = app.scenario.overrides.clone();
    app.update(Action::OpenScenario);
    keys(&mut app, "promo");
    app.update(Action::Submit);
    assert!(matches!(
        app.confirm,
        Some(skuplan::tui::app::Confirm::OpenScenario { unsaved: 2, .. })
    ));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains("open \"promo\"? your 2 what-ifs are saved under no name"),
        "{s}"
    );
    app.update(Action::Back);
    assert_eq!(app.scenario.overrides, two, "kept");
    // S onto "promo" (one other what-if) asks before replacing it; n
    // leaves the saved one as it was.
    app.update(Action::SaveScenario);
    keys(&mut app, "promo");
    app.update(Action::Submit);
    assert_eq!(
        app.confirm,
        Some(skuplan::tui::app::Confirm::ReplaceScenario {
            name: "promo".into(),
            had: 1
        })
    );
    app.update(Action::Back);
    assert_eq!(app.workspace.load_scenario("promo").unwrap().overrides.len(), 1);
    // Saved under a new name, the what-ifs are safe: O opens without asking.
    app.update(Action::SaveScenario);
    keys(&mut app, "both");
    app.update(Action::Submit);
    assert!(app.confirm.is_none());
    app.update(Action::OpenScenario);
    keys(&mut app, "promo");
    app.update(Action::Submit);
    assert!(app.confirm.is_none());
    assert_eq!(app.scenario.overrides.len(), 1);
    // And y on S replaces.
    app.update(Action::SaveScenario);
    keys(&mut app, "both");
    app.update(Action::Submit);
    app.update(Action::Yes);
    assert_eq!(app.workspace.load_scenario("both").unwrap().overrides.len(), 1);
    // Tab completes a scenario's name in O's prompt.
    app.update(Action::OpenScenario);
    keys(&mut app, "b");
    app.update(Action::Complete);
    assert_eq!(app.prompt.as_ref().map(|p| p.1.as_str()), Some("both"));
    assert_eq!(app.hints(), "Enter accept  Esc cancel  Tab complete");
    app.update(Action::Back);
    app.update(Action::Edit);
    assert_eq!(
        app.hints(),
        "Enter accept  Esc cancel",
        "no Tab where it completes nothing"
    );
}

/// Over the shipped sample (a stand-in until the planner's own data is
/// there), an imported path replaces it: the sample's warehouses would make
/// the planner's own data fail to import.
#[test]
fn an_import_over_the_shipped_sample_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let sample = skuplan::workspace::shipped_sample().expect("the shipped sample");
    app.loaded.as_mut().unwrap().sources = DataSources {
        paths: vec![std::path::absolute(&sample).unwrap()],
        ..DataSources::default()
    };
    assert!(skuplan::tui::app::is_shipped_sample(
        &app.loaded.as_ref().unwrap().sources
    ));
    let own = dir.path().join("own.csv");
    std::fs::write(&own, "date,sku,quantity\n2026-06-01,A,3\n").unwrap();
    app.update(Action::GoTab(0));
    app.update(Action::Import);
    keys(&mut app, &own.display().to_string());
    let Some(Effect::Load(sources)) = app.update(Action::Submit).into_iter().next() else {
        panic!("an import is started off the UI thread");
    };
    assert_eq!(sources.paths, vec![std::path::absolute(&own).unwrap()]);
}

/// A model that knew the held-out days of every series (its forecast of
/// them is what happened) and forecasts `future` a day from the last day.
fn oracle(ds: &skuplan::domain::Dataset, future: f64) -> skuplan::plan::base::ModelForecasts {
    let (_, last) = ds.date_range().unwrap();
    let origin = last - chrono::Days::new(28);
    skuplan::plan::base::ModelForecasts {
        name: "finetuned".into(),
        run: "run1".into(),
        held_out_origin: origin,
        held_out: ds
            .demand
            .iter()
            .map(|s| {
                let from = (origin - s.start).num_days() as usize + 1;
                let v: Vec<f64> = s.values[from..].to_vec();
                Some(skuplan::forecast::QuantileForecast {
                    p10: v.clone(),
                    p50: v.clone(),
                    p90: v,
                })
            })
            .collect(),
        future: ds
            .demand
            .iter()
            .map(|s| {
                Some(skuplan::domain::SeriesForecast {
                    sku: s.sku.clone(),
                    warehouse: s.warehouse.clone(),
                    start: last + chrono::Days::new(1),
                    p10: vec![future * 0.8; 28],
                    p50: vec![future; 28],
                    p90: vec![future * 1.2; 28],
                    model: "finetuned".into(),
                    period: Default::default(),
                })
            })
            .collect(),
        future_from: "refit up to the last day".into(),
        reviews: Vec::new(),
    }
}

/// A run finishes and the engine joins it (an oracle's forecasts).
fn finish_and_join(app: &mut App, run: &Path) {
    use skuplan::engine::events::Stop;
    app.on_engine(EngineEvent::Finished(Box::new(run_summary(run, Stop::Finished, 2))));
    let l = app.loaded.as_ref().unwrap();
    let with = l.base.with_model(&l.dataset, &oracle(&l.dataset, 50.0)).unwrap();
    let data = l.dataset.clone();
    app.on_engine(EngineEvent::Adopted {
        run: run.to_path_buf(),
        base: Box::new(with),
        data,
    });
}

/// `R` while a new run is still being judged: the plan had the run before
/// it, and the status line says the change is against that run's plan
/// (it read as the new run's own change).
#[test]
fn r_before_a_new_run_joins_names_the_run_the_plan_had() {
    use skuplan::engine::events::Stop;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let runs = dir.path().join("ws").join("runs");
    let (run1, run2) = (runs.join("run1"), runs.join("run2"));
    finish_and_join(&mut app, &run1);
    assert!(app.status.contains("against baselines only"), "{}", app.status);
    // A second run finishes; before its join arrives, R.
    app.on_engine(EngineEvent::Finished(Box::new(run_summary(&run2, Stop::Finished, 2))));
    app.update(Action::ToggleRun);
    assert!(
        app.status.starts_with(
            "baselines only: the run run2 is off before it joined the plan (against the plan with the run run1: "
        ),
        "{}",
        app.status
    );
    let baselines = app.plan.clone().unwrap();
    // On again: the plan has run1 until run2 joins; a join that fails
    // leaves the baselines, not run1 in run2's place.
    app.update(Action::ToggleRun);
    assert_ne!(app.plan.as_ref().unwrap(), &baselines, "run1's plan until run2 joins");
    assert!(app.joining);
    let tab = app.tab;
    app.update(Action::GoTab(1));
    let s = screen(&mut app, 120, 30, dir.path());
    assert!(
        s.contains(
            "active run run2: being judged and joined to the champions (the plan keeps the run run1 until then)"
        ),
        "{s}"
    );
    app.tab = tab;
    app.on_engine(EngineEvent::Failed {
        message: format!("{}: the run forecast none of these series", run2.display()),
        cancelled: false,
    });
    assert!(app.loaded.as_ref().unwrap().model_base.is_none());
    assert_eq!(app.plan.as_ref().unwrap(), &baselines);
}

/// A run switched off is not brought back by the next run's judging: a
/// new run finishing (on) while the earlier one is off leaves the plan to
/// the baselines until the new one joins (edits planned from the earlier
/// run, which the new run being on brought back).
#[test]
fn a_run_switched_off_stays_off_while_the_next_is_judged() {
    use skuplan::engine::events::Stop;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let baselines = app.plan.clone().unwrap();
    let runs = dir.path().join("ws").join("runs");
    let (run1, run2) = (runs.join("run1"), runs.join("run2"));
    finish_and_join(&mut app, &run1);
    app.update(Action::ToggleRun);
    assert_eq!(app.plan.as_ref().unwrap(), &baselines);
    app.on_engine(EngineEvent::Finished(Box::new(run_summary(&run2, Stop::Finished, 2))));
    assert!(app.loaded.as_ref().unwrap().model_base.is_none());
    // An edit now plans from the baselines.
    app.update(Action::GoTab(3));
    app.update(Action::SetQty);
    keys(&mut app, "7");
    app.update(Action::Submit);
    let plan = app.plan.as_ref().unwrap();
    assert!(plan.lines.iter().all(|l| l.method != "finetuned"));
    app.update(Action::GoTab(1));
    let s = screen(&mut app, 120, 30, dir.path());
    assert!(
        s.contains("active run run2: being judged and joined to the champions"),
        "{s}"
    );
    assert!(!s.contains("the plan keeps the run run1"), "{s}");
}

#[test]
fn a_finished_run_joins_the_champions_and_r_switches_it_off_and_on() {
    use skuplan::engine::EngineCommand;
    use skuplan::engine::events::Stop;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let baselines = app.plan.clone().unwrap();
    let run = dir.path().join("ws").join("runs").join("run1");
    // Training finished: the run becomes the active one, and the engine is
    // asked to refit it and join it to the champions.
    let effects = app.on_engine(EngineEvent::Finished(Box::new(run_summary(&run, Stop::Finished, 2))));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Engine(EngineCommand::Adopt { refit: true, run: r, .. }) if *r == run)),
        "the run is refit and joined"
    );
    assert!(
        app.status.starts_with("training finished; judging the run"),
        "{}",
        app.status
    );
    let active = Workspace::open(dir.path().join("ws"))
        .unwrap()
        .load_active_run()
        .unwrap()
        .unwrap();
    assert_eq!(active.run, run);
    assert!(active.on);
    // The refit's progress shows on the Training tab like any training.
    app.on_engine(EngineEvent::RefitStarted {
        run: run.clone(),
        until: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        epochs: 2,
    });
    assert!(app.training.running);
    assert!(app.training.outcome.as_deref().unwrap().contains("refit"));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.lines().next().unwrap().contains("refit: starting"), "{s}");
    // The run's own finished line stays on the Training tab through the
    // refit, whose size joins what it is.
    app.on_engine(EngineEvent::Started {
        device: "Cpu".into(),
        mode: skuplan::engine::Mode::Head,
        train_samples: 100,
        validation_samples: 10,
        texts: 7,
        parameters: 10,
        steps_total: 5,
    });
    let o = app.training.outcome.clone().unwrap();
    assert!(o.starts_with("refit of run1 on all data up to 2026-06-30"), "{o}");
    assert!(
        o.ends_with("; 100 training windows, 7 texts, 10 trainable parameters"),
        "{o}"
    );
    let tab = app.tab;
    app.update(Action::GoTab(1));
    let s = screen(&mut app, 120, 30, dir.path());
    assert!(s.contains("the run: Finished after 2 epochs (best 2)"), "{s}");
    assert!(
        s.contains("active run run1: being judged and joined to the champions (R switches it off)"),
        "{s}"
    );
    // The run first, then the refit, whose best epoch is named as its own
    // (it read as the run's, beside the run's own validation figures).
    let (run_at, refit_at) = (s.find("the run: Finished").unwrap(), s.find("refit of run1").unwrap());
    assert!(run_at < refit_at, "{s}");
    app.training.best = Some("epoch 2: validation MSE 0.3045".into());
    let s = screen(&mut app, 120, 30, dir.path());
    assert!(s.contains("refit: best epoch 2: validation MSE 0.3045"), "{s}");
    app.tab = tab;
    // The engine joined it.
    let l = app.loaded.as_ref().unwrap();
    let with = l.base.with_model(&l.dataset, &oracle(&l.dataset, 50.0)).unwrap();
    let wins = with.model.as_ref().unwrap().wins();
    assert!(wins > 0);
    // A join made for other data (since replaced by this) is dropped.
    let other = std::sync::Arc::new((*l.dataset).clone());
    app.on_engine(EngineEvent::Adopted {
        run: run.clone(),
        base: Box::new(with.clone()),
        data: other,
    });
    assert!(app.loaded.as_ref().unwrap().model_base.is_none());
    assert!(app.joining, "the join of this data is still on its way");
    let data = app.loaded.as_ref().unwrap().dataset.clone();
    app.on_engine(EngineEvent::Adopted {
        run: run.clone(),
        base: Box::new(with),
        data,
    });
    assert!(!app.training.running);
    assert!(
        app.status.contains(&format!("the model is champion on {wins} of")),
        "{}",
        app.status
    );
    assert!(app.status.contains("plan cost"), "{}", app.status);
    assert!(
        app.status.contains(") against baselines only; judged"),
        "{}",
        app.status
    );
    let tab = app.tab;
    app.update(Action::GoTab(1));
    let s = screen(&mut app, 120, 30, dir.path());
    assert!(
        s.contains("active run run1: among the champions (R switches it off)"),
        "{s}"
    );
    app.tab = tab;
    let plan = app.plan.clone().unwrap();
    let by_model = plan.lines.iter().filter(|l| l.method == "finetuned").count();
    assert_eq!(by_model, wins);
    app.update(Action::GoTab(3));
    let s = screen(&mut app, 80, 24, dir.path());
    // The title counts the lines it shows (ordering ones).
    let view = app.restock_view();
    let shown = view.iter().filter(|&&i| plan.lines[i].method == "finetuned").count();
    assert!(shown > 0 && shown <= by_model);
    assert!(
        s.contains(&format!("{} lines shown, {shown} by the model", view.len())),
        "{s}"
    );
    assert!(s.contains("finetuned"), "{s}");
    // A lumpy line the model forecast says what its mean was scaled by;
    // this data has too few lumpy series to measure it.
    let lumpy = view
        .iter()
        .position(|&i| plan.lines[i].method == "finetuned" && plan.lines[i].intermittent)
        .expect("the sample has lumpy lines the model forecast");
    app.selected[Tab::Restock.index()] = lumpy;
    app.update(Action::Submit);
    let s = screen(&mut app, 160, 48, dir.path());
    assert!(s.contains("not scaled: too few lumpy series"), "{s}");
    app.update(Action::Back);
    // The Forecasts tab gives the run's MASE on its own held-out days,
    // beside the baselines' champion on those days, not among the
    // baselines' backtest windows; first, so that 80x24 shows it whole
    // (after the baselines' list it was cut off).
    app.update(Action::GoTab(2));
    for (w, h) in [(160, 48), (80, 24)] {
        let s = screen(&mut app, w, h, dir.path());
        let held = s.find("MASE on the run's held-out days").expect("the run's own days");
        let at = s.find("MASE by method:").expect("the MASE line");
        assert!(held < at, "{s}");
        let run_part = &s[held..at];
        assert!(run_part.contains("finetuned") && run_part.contains("champion"), "{s}");
        assert!(!s[at..].contains("finetuned"), "{s}");
    }
    app.update(Action::GoTab(3));
    // Off: exactly the baselines' plan; on again: the model's.
    app.update(Action::ToggleRun);
    assert_eq!(app.plan.as_ref().unwrap(), &baselines);
    assert!(app.status.contains("baselines only"), "{}", app.status);
    let saved = Workspace::open(dir.path().join("ws"))
        .unwrap()
        .load_active_run()
        .unwrap()
        .unwrap();
    assert!(!saved.on, "the choice is saved");
    let effects = app.update(Action::ToggleRun);
    assert!(effects.is_empty(), "the joined base is kept: nothing to ask the engine");
    assert_eq!(app.plan.as_ref().unwrap(), &plan);
    // The choice survives a restart: a new session starts with it on and
    // asks the engine to join the run again.
    let mut again = App::new(Workspace::open(dir.path().join("ws")).unwrap(), None);
    assert!(again.active_run.as_ref().unwrap().on);
    let sources = DataSources {
        paths: vec![dir.path().join("data")],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let effects = again.on_loaded(loaded);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Engine(EngineCommand::Adopt { refit: false, .. }))),
        "a restart joins the active run again"
    );
    // With the run's forecasts of this data kept in the workspace's cache,
    // the loader joins it: the first plan shown is already the run's (no
    // baselines' plan for the seconds the engine would take, so no line
    // approved with the run's quantity flickers to review), and the engine
    // is not asked.
    let ws = Workspace::open(dir.path().join("ws")).unwrap();
    let data = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap().dataset;
    skuplan::engine::protocol::keep_model_forecasts(&run, &data, &ws.cache_dir(), &oracle(&data, 50.0)).unwrap();
    // (Not on a first start, whose plan is provisional: the engine joins
    // the run once the plan is final.)
    let loaded = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), true).unwrap();
    assert!(loaded.provisional && loaded.model_run.is_none());
    let loaded = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), false).unwrap();
    assert_eq!(loaded.model_run.as_ref(), Some(&run));
    let mut again = App::new(ws.clone(), None);
    let effects = again.on_loaded(loaded);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Engine(EngineCommand::Adopt { .. }))),
        "joined from the cache: nothing to ask the engine"
    );
    assert!(!again.joining);
    assert_eq!(again.plan.as_ref().unwrap(), &plan);
    assert!(
        again.status.contains(&format!("the model is champion on {wins} of")),
        "{}",
        again.status
    );
    // Switched off, the run is not joined from the cache: the engine joins
    // it when R switches it on.
    ws.save_active_run(&skuplan::workspace::ActiveRun {
        run: run.clone(),
        on: false,
    })
    .unwrap();
    let loaded = skuplan::tui::load_with_cache(&sources, &ImportOptions::default(), Some(&ws), true).unwrap();
    assert!(loaded.model_base.is_none() && loaded.model_run.is_none());
    let mut off = App::new(ws.clone(), None);
    off.on_loaded(loaded);
    assert_eq!(off.plan.as_ref().unwrap(), &baselines);
    let effects = off.update(Action::ToggleRun);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Engine(EngineCommand::Adopt { refit: false, .. })))
    );
}

/// Weekly data of under a year: MASE at the 52-week lag has no scale, and
/// the Forecasts tab says why its every figure is `-`.
#[test]
fn weekly_data_under_a_year_says_why_mase_is_missing() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let first = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let mut sales = String::from("date,sku,warehouse,quantity\n");
    for w in 0..40u64 {
        let d = first + chrono::Days::new(7 * w);
        let _ = writeln!(sales, "{d},A,W,{}", 60 + w % 5);
    }
    std::fs::write(data.join("sales.csv"), sales).unwrap();
    let sources = DataSources {
        paths: vec![data.clone()],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let mut app = App::new(Workspace::open(dir.path().join("ws")).unwrap(), None);
    app.colors = false;
    let effects = app.on_loaded(loaded);
    run_effects(&mut app, effects);
    app.update(Action::GoTab(2));
    let s = screen(&mut app, 160, 48, dir.path());
    assert!(
        s.contains("MASE by method:  (- : no scale for the errors: under 53 weeks of history"),
        "{s}"
    );
}

/// Weekly data with a calendar of events: the Forecasts tab sums the next
/// four weeks, its axis counts weeks and the events are marked and listed;
/// a restock line's details show the lead time in whole weeks.
#[test]
fn weekly_data_shows_weeks_events_and_converted_lead_times() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let first = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let mut sales = String::from("date,sku,warehouse,quantity\n");
    for w in 0..160u64 {
        let d = first + chrono::Days::new(7 * w);
        for (k, sku) in ["A", "B", "C"].iter().enumerate() {
            let bump = if w % 52 >= 46 { 40.0 } else { 0.0 };
            let _ = writeln!(sales, "{d},{sku},W,{}", 60.0 + 10.0 * k as f64 + bump + (w % 5) as f64);
        }
    }
    std::fs::write(data.join("sales.csv"), sales).unwrap();
    std::fs::write(
        data.join("products.csv"),
        "sku,title,lead_time_days,unit_cost\nA,Red mug,10,2\nB,Blue mug,10,2\nC,Green mug,3,2\n",
    )
    .unwrap();
    // The last week is stamped 2024-01-19; the plan's first week 2024-01-26.
    std::fs::write(
        data.join("events.csv"),
        "date,event,type\n2023-11-24,Black Friday,markdown\n2024-02-06,Spring sale,markdown\n",
    )
    .unwrap();
    let sources = DataSources {
        paths: vec![data.clone()],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let mut app = App::new(Workspace::open(dir.path().join("ws")).unwrap(), None);
    app.colors = false;
    app.braille = true;
    let effects = app.on_loaded(loaded);
    run_effects(&mut app, effects);
    app.update(Action::GoTab(2));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("next 4w"), "{s}");
    assert!(s.contains("+4w"), "{s}");
    assert!(s.contains("events ahead: Spring sale 2024-02-02"), "{s}");
    insta::assert_snapshot!("forecasts_weekly_80x24", s);
    app.update(Action::GoTab(3));
    app.update(Action::Submit);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(
        s.contains("lead time 10 d + review 7 d (1 week, whole) = 2.43 weeks"),
        "{s}"
    );
    assert!(s.contains("on 2024-01-26, arriving 2024-02-09"), "{s}");
}

/// Breaks the quantity of the first sales row of `data`'s sales.csv.
fn break_sales(data: &Path) {
    let path = data.join("sales.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let q = header.iter().position(|c| *c == "quantity").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[q] = "twelve".into();
    lines[1] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// Files that imported yesterday and fail today: the workstation shows
/// their last good import, marked as old on every tab, with every problem
/// on the Data tab; a fixed file imports afresh. An import of other files
/// that fails changes nothing, even where those files once imported.
#[test]
fn files_that_no_longer_import_show_their_last_good_import() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(dir.path().join("ws")).unwrap();
    let data = dir.path().join("data");
    let sources = sample(&data, 6, 2, 200, 1);
    let opts = ImportOptions::default();
    let good = skuplan::tui::load_with_cache(&sources, &opts, Some(&ws), false).unwrap();
    assert!(good.stale.is_none());
    break_sales(&data);
    let loaded = skuplan::tui::load_with_cache(&sources, &opts, Some(&ws), false).unwrap();
    let stale = loaded.stale.clone().expect("the last good import, marked as such");
    assert!(stale.failure.contains("row 2, column 'quantity'"), "{}", stale.failure);
    assert_eq!(loaded.dataset.demand, good.dataset.demand);

    let mut app = App::new(ws.clone(), None);
    app.colors = false;
    app.on_loaded(loaded);
    assert_eq!(app.tab, Tab::Data);
    assert!(app.plan.is_some(), "the plan of the last good import is there");
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.lines().next().unwrap().contains("OLD DATA"), "{s}");
    assert!(
        s.contains("the files shown no longer import; below is their last good"),
        "{s}"
    );
    assert!(s.contains("value 'twelve'"), "{s}");
    let error = app.error.clone().unwrap_or_default();
    assert!(error.contains("showing their last good import, of "), "{error}");
    // Not the workspace's plan: `skuplan approve` and `export` keep acting
    // on the one saved when the files imported.
    assert!(!ws.restock_path().exists());
    // A save's time does not push the mark out of the tab bar at 80 columns.
    app.last_save = Some("09:14:02".into());
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.lines().next().unwrap().contains("OLD DATA"), "{s}");

    // Other files, imported once and broken since, while these are shown.
    let other_data = dir.path().join("other");
    let other = sample(&other_data, 4, 1, 120, 2);
    skuplan::tui::load_with_cache(&other, &opts, Some(&ws), false).unwrap();
    break_sales(&other_data);
    let shown = app.loaded.as_ref().unwrap().dataset.clone();
    let attempt = skuplan::tui::load_with_cache(&other, &opts, Some(&ws), false).unwrap();
    assert!(attempt.stale.is_some());
    app.on_loaded(attempt);
    assert!(
        std::sync::Arc::ptr_eq(&app.loaded.as_ref().unwrap().dataset, &shown),
        "nothing changed"
    );
    // The Data tab says both: that import failed, and why the data is old.
    app.tab = Tab::Data;
    let s = screen(&mut app, 160, 48, dir.path());
    assert!(s.contains("the last import failed; nothing was changed"), "{s}");
    assert!(s.contains("the files shown no longer import"), "{s}");

    // Fresh data on screen and its own files failing on `i`: nothing changes
    // either (no older import of them replaces what is shown).
    let fresh_data = dir.path().join("fresh");
    let fresh = sample(&fresh_data, 4, 1, 120, 3);
    let loaded = skuplan::tui::load_with_cache(&fresh, &opts, Some(&ws), false).unwrap();
    let mut app = App::new(ws.clone(), None);
    app.on_loaded(loaded);
    let shown = app.loaded.as_ref().unwrap().dataset.clone();
    break_sales(&fresh_data);
    let attempt = skuplan::tui::load_with_cache(&fresh, &opts, Some(&ws), false).unwrap();
    app.on_loaded(attempt);
    assert!(std::sync::Arc::ptr_eq(&app.loaded.as_ref().unwrap().dataset, &shown));
    assert!(app.loaded.as_ref().unwrap().stale.is_none());

    // Without a workspace (nothing kept) a broken file is an error.
    assert!(skuplan::tui::load(&sources, &opts).is_err());
}

/// Orders changed under the saved routes (same ids, another quantity): the
/// next start re-plans the day and says which route changed, instead of
/// showing the saved routes with the old quantities.
#[test]
fn changed_orders_under_saved_routes_are_planned_again() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let plan = app.deliveries.clone().expect("the sample has deliveries");
    let route = plan.routes.iter().find(|r| !r.stops.is_empty()).unwrap();
    let (van, order) = (route.vehicle.clone(), route.stops[0].order.clone());
    let path = dir.path().join("data").join("orders.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let qty = header.iter().position(|h| *h == "quantity").unwrap();
    let changed: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
            if f[0] == order {
                f[qty] = (f[qty].parse::<f64>().unwrap() + 1.0).to_string();
            }
            f.join(",") + "\n"
        })
        .collect();
    std::fs::write(&path, changed).unwrap();

    let sources = DataSources {
        paths: vec![dir.path().join("data")],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let mut again = App::new(Workspace::open(dir.path().join("ws")).unwrap(), None);
    again.delivery_settings.iterations = Some(3_000);
    let effects = again.on_loaded(loaded);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::PlanDeliveries(_))),
        "the day is planned again"
    );
    assert!(
        again.status.contains(&format!(
            "the orders changed since the routes were planned ({van}: order {order}'s quantity is"
        )),
        "{}",
        again.status
    );
    run_effects(&mut again, effects);
    let stop = again
        .deliveries
        .as_ref()
        .unwrap()
        .routes
        .iter()
        .flat_map(|r| &r.stops)
        .find(|s| s.order == order)
        .map(|s| s.quantity);
    let before = route.stops[0].quantity;
    assert_eq!(stop, Some(before + 1.0), "the routes carry the new quantity");
}

/// An active run the engine refuses for this data: the Training tab says
/// why, not advice that fails the same way again.
#[test]
fn a_refused_active_run_says_why_on_the_training_tab() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let run = dir.path().join("ws/runs/other");
    app.active_run = Some(skuplan::workspace::ActiveRun {
        run: run.clone(),
        on: true,
    });
    app.update(Action::ToggleRun);
    let effects = app.update(Action::ToggleRun);
    assert!(app.joining, "switched on again, the run is asked to join");
    assert!(!effects.is_empty());
    app.on_engine(EngineEvent::Failed {
        message: format!("{}: the run was trained on other data than this", run.display()),
        cancelled: false,
    });
    app.update(Action::GoTab(1));
    let s = screen(&mut app, 160, 48, dir.path());
    assert!(
        s.contains("active run other: on, but refused: the run was trained on other data than this"),
        "{s}"
    );
    assert!(!s.contains("R twice joins it again"), "{s}");
}

/// A footer too narrow for every warehouse's total and approved amount
/// keeps every total and sums the approved, rather than cutting the line
/// in a warehouse.
#[test]
fn warehouse_totals_fit_a_narrow_screen_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(3));
    assert_eq!(app.totals.len(), 2);
    let wide = screen(&mut app, 80, 24, dir.path());
    let full: Vec<String> = app
        .totals
        .iter()
        .map(|(wh, all, ok)| format!("{wh}: {all:.0} ({ok:.0} approved)"))
        .collect();
    assert!(wide.contains(&format!("by warehouse: {}", full.join("  "))), "{wide}");
    let narrow = screen(&mut app, 56, 24, dir.path());
    let each: Vec<String> = app
        .totals
        .iter()
        .map(|(wh, all, _)| format!("{wh}: {all:.0}"))
        .collect();
    assert!(
        narrow.contains(&format!("by warehouse: {}; approved 0", each.join("  "))),
        "{narrow}"
    );
}

/// A what-if's dates: a range, a start alone (`D` or `D..`: four weeks
/// from it; a lone date was read as the reason's first word), and a range
/// past the forecast is kept but said.
#[test]
fn what_if_dates_are_read_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let sku = app.plan.as_ref().unwrap().lines[0].sku.clone();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let o = app.parse_edit(&sku, "+50% 2026-07-10..2026-07-12 fair").unwrap();
    assert_eq!(
        (o.from, o.to, o.reason.as_str()),
        (d("2026-07-10"), d("2026-07-12"), "fair")
    );
    let o = app.parse_edit(&sku, "+50% 2026-07-10 from only").unwrap();
    assert_eq!(
        (o.from, o.to, o.reason.as_str()),
        (d("2026-07-10"), d("2026-08-06"), "from only")
    );
    let o = app.parse_edit(&sku, "+50% 2026-07-10.. open").unwrap();
    assert_eq!(
        (o.from, o.to, o.reason.as_str()),
        (d("2026-07-10"), d("2026-08-06"), "open")
    );
    assert!(
        app.parse_edit(&sku, "+50% 2026-07-10").is_err(),
        "a reason is still asked for"
    );
    let e = app.parse_edit(&sku, "+50% 2026-13-01 bad month").unwrap_err();
    assert!(e.contains("expected a date YYYY-MM-DD"), "{e}");
    // Spaced ranges are ranges (the second date went into the reason, and
    // the what-if ran four weeks); other date forms are refused (they
    // were kept as the reason, from the plan's first day).
    for typed in [
        "+50% 2026-07-10 .. 2026-07-12 fair",
        "+50% 2026-07-10 to 2026-07-12 fair",
    ] {
        let o = app.parse_edit(&sku, typed).unwrap();
        assert_eq!(
            (o.from, o.to, o.reason.as_str()),
            (d("2026-07-10"), d("2026-07-12"), "fair"),
            "{typed}"
        );
    }
    for typed in [
        "+20% 24/12/2026 uk date",
        "+20% 12/24/2026 us",
        "+20% 24.12.2026 dotted",
    ] {
        let e = app.parse_edit(&sku, typed).unwrap_err();
        assert!(e.contains("expected a date YYYY-MM-DD"), "{typed}: {e}");
    }
    // Every warehouse unless @WH names one, before the dates or after.
    let wh = app.plan.as_ref().unwrap().lines[0].warehouse.clone();
    assert_eq!(app.parse_edit(&sku, "+50% fair").unwrap().warehouse, None);
    for typed in [
        format!("+50% @{wh} 2026-07-10..2026-07-12 fair"),
        format!("+50% 2026-07-10..2026-07-12 @{wh} fair"),
    ] {
        let o = app.parse_edit(&sku, &typed).unwrap();
        assert_eq!(
            (o.warehouse.as_deref(), o.reason.as_str()),
            (Some(wh.as_str()), "fair"),
            "{typed}"
        );
        assert_eq!((o.from, o.to), (d("2026-07-10"), d("2026-07-12")), "{typed}");
    }
    let e = app.parse_edit(&sku, "+50% @NOWHERE fair").unwrap_err();
    assert!(e.contains("no such warehouse"), "{e}");
    // Ranges typed other ways are ranges, or refused: never four weeks
    // with the end date in the reason.
    for typed in [
        "+50% 2026-07-10.. 2026-07-12 fair",
        "+50% 2026-07-10 ..2026-07-12 fair",
        "+50% 2026-07-10 TO 2026-07-12 fair",
    ] {
        let o = app.parse_edit(&sku, typed).unwrap();
        assert_eq!((o.to, o.reason.as_str()), (d("2026-07-12"), "fair"), "{typed}");
    }
    for typed in [
        "+50% 2026-07-10 - 2026-07-12 fair",
        "+50% 2026-07-10 .. fair",
        "+50% 20260710 fair",
        "+50% @WH-A @WH-B two",
    ] {
        assert!(app.parse_edit(&sku, typed).is_err(), "{typed}");
    }
    let e = app.parse_edit(&sku, &format!("+50% @{wh} @{wh} twice")).unwrap_err();
    assert!(e.contains("one @WH per what-if"), "{e}");
    // "to" starting a reason is the reason's, not a range.
    let o = app.parse_edit(&sku, "+30% 2026-07-10 to match a rival").unwrap();
    assert_eq!((o.from, o.reason.as_str()), (d("2026-07-10"), "to match a rival"));
    let mut app = app;
    app.update(Action::GoTab(3));
    app.update(Action::Edit);
    keys(&mut app, "+20% 2030-01-01..2030-02-01 far away");
    app.update(Action::Submit);
    assert!(
        app.status.contains("starts after the forecast's last day"),
        "{}",
        app.status
    );
}

/// What-ifs kept from other data (they name none of this data's SKUs) are
/// said on loading: they count in the tab's what-ifs and change nothing.
#[test]
fn what_ifs_made_on_other_data_are_said_on_loading() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.scenario.overrides.push(skuplan::plan::scenario::Override {
        skus: vec!["FROM-ANOTHER-SHOP".into()],
        warehouse: None,
        from: NaiveDate::from_ymd_opt(2018, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2018, 1, 10).unwrap(),
        change: skuplan::plan::scenario::Change::Percent(50.0),
        reason: "fair".into(),
    });
    let ws = Workspace::open(dir.path().join("ws")).unwrap();
    ws.save_scenario(&app.scenario).unwrap();
    let sources = DataSources {
        paths: vec![dir.path().join("data")],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &ImportOptions::default()).unwrap();
    let mut again = App::new(ws, None);
    again.delivery_settings.iterations = Some(500);
    again.on_loaded(loaded);
    assert!(
        again
            .status
            .contains("1 of the 1 what-ifs name no SKU of this data (made on other data? D drops every what-if)"),
        "{}",
        again.status
    );
}

/// A quantity past any plausible order is refused with the limit, and one
/// in the millions shows shortened, not cut to a wrong number.
#[test]
fn huge_quantities_are_refused_or_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    app.update(Action::GoTab(3));
    let first = app.plan.as_ref().unwrap().lines[app.restock_view()[0]].clone();
    for typed in ["4294967295", "99999999999"] {
        app.update(Action::SetQty);
        keys(&mut app, typed);
        app.update(Action::Submit);
        let e = app.error.clone().unwrap_or_default();
        assert!(e.contains("expected at most 10000000 units"), "{typed}: {e}");
        assert_eq!(app.state_of(&first).2, None, "nothing recorded");
    }
    app.update(Action::SetQty);
    keys(&mut app, "2500000");
    app.update(Action::Submit);
    let set = app.state_of(&first).2.unwrap();
    assert!(set >= 2_500_000);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains(&format!("{:.1}M", f64::from(set) / 1e6)), "{s}");
}

/// Keys the config moved are the keys the footer and the help name.
#[test]
fn the_footer_and_help_name_the_keys_the_config_moved() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let mut o = std::collections::BTreeMap::new();
    o.insert("approve".to_string(), "y".to_string());
    o.insert("quit".to_string(), "Q".to_string());
    app.relabels = skuplan::tui::keymap::Keymap::relabels(&o);
    app.update(Action::GoTab(3));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("y/r approve/reject"), "{s}");
    app.update(Action::Help);
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("y / r / A") && s.contains("? / H / Q"), "{s}");
}
