//! The workstation and launches: products with a launch date and no
//! sales, and series only days old, forecast from similar products'
//! launches, in the Forecasts tab, the plan and the status line.

use std::path::Path;

use chrono::NaiveDate;
use skuplan::data::ImportOptions;
use skuplan::engine::EngineCommand;
use skuplan::engine::events::EngineEvent;
use skuplan::tui::action::Action;
use skuplan::tui::app::{App, Effect};
use skuplan::workspace::{DataSources, Workspace};

// This file uses most of the shared helpers, not the run summary.
#[allow(dead_code)]
mod tui_support;
use tui_support::{engine_answer, keys, sample, screen};

/// A product with a launch date and no sales: loading asks the engine for
/// launch forecasts; once they arrive the Forecasts tab lists the launch
/// (method "launch"), `n` on it lists the neighbours it borrowed from
/// (without asking the engine again), the Restock tab has its line, and
/// the undated new product is named as not forecast.
#[test]
fn launches_reach_the_forecasts_and_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sources = sample(&data, 12, 2, 400, 3);
    let products = data.join("products.csv");
    let text = std::fs::read_to_string(&products).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        out.push_str(if i == 0 { ",launch_date\n" } else { ",\n" });
    }
    let first = text.lines().nth(1).unwrap().split(',').collect::<Vec<_>>();
    // A sibling of the first product, and a product nobody dated.
    out.push_str(&format!(
        "NEW-1,{} Mk2,{},{},{},{},{},{},{},{},2026-07-06\n",
        first[1], first[2], first[3], first[4], first[5], first[6], first[7], first[8], first[9]
    ));
    out.push_str("NEW-2,Mystery Widget,Gadgets,Acme,3.00,9.00,1,0,10,Acme,\n");
    std::fs::write(&products, out).unwrap();

    let (mut app, cmd) = loaded_with_tiny_encoder(dir.path(), &sources);
    let cmd = cmd.expect("loading asks the engine for the launch");
    // Before the launches arrive the undated and the dated product are
    // both named as not forecast.
    let plan = app.plan.clone().unwrap();
    assert_eq!(plan.not_forecast.len(), 2);
    // The engine is busy with them, and the tab bar says so (not "idle").
    assert!(app.launching);
    let waiting = screen(&mut app, 80, 24, dir.path());
    let top = waiting.lines().next().unwrap_or_default();
    assert!(top.contains("encoding products"), "{top}");
    let mut engine = skuplan::engine::Engine::spawn().unwrap();
    engine.send(cmd).unwrap();
    loop {
        match engine.recv_blocking() {
            Some(EngineEvent::Launches { launches, data }) => {
                // Made for other data (a reimport since): ignored.
                let other = std::sync::Arc::new((*data).clone());
                app.on_engine(EngineEvent::Launches {
                    launches: launches.clone(),
                    data: other,
                });
                assert_eq!(
                    app.plan.as_ref().unwrap().not_forecast.len(),
                    2,
                    "stale launches are ignored"
                );
                assert!(app.launching, "the answer for this data is still to come");
                app.on_engine(EngineEvent::Launches { launches, data });
                break;
            }
            Some(EngineEvent::Failed { message, .. }) => panic!("{message}"),
            Some(_) => {}
            None => panic!("the engine stopped"),
        }
    }
    assert!(!app.launching, "the launches ended the engine's work");
    assert!(
        app.status.contains("launches forecast from similar products"),
        "{}",
        app.status
    );
    let plan = app.plan.clone().unwrap();
    let lines: Vec<_> = plan.lines.iter().filter(|l| l.sku == "NEW-1").collect();
    assert_eq!(lines.len(), 2, "one line per warehouse");
    assert!(
        lines
            .iter()
            .all(|l| l.method == "launch" && l.reason_text().starts_with("launch on 2026-07-06"))
    );
    assert_eq!(plan.not_forecast.len(), 1);
    assert_eq!(plan.not_forecast[0].sku, "NEW-2");

    app.update(Action::GoTab(2));
    app.update(Action::Filter);
    keys(&mut app, "NEW-1");
    app.update(Action::Submit);
    assert_eq!(app.forecast_view().len(), 2);
    let effects = app.update(Action::Similar);
    assert!(effects.is_empty(), "a launch's neighbours are known already");
    let (sku, items) = app.similar.clone().unwrap();
    assert_eq!(sku, "NEW-1");
    assert!(!items.is_empty());
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("launch") && s.contains("neighbours:"), "{s}");
    insta::assert_snapshot!("forecasts_launch_80x24", s);
    // Wide enough, the neighbours are named by title too.
    let wide = screen(&mut app, 160, 48, dir.path());
    let title: String = items[0].2.chars().take(12).collect();
    assert!(wide.contains(&format!("{} {title}", items[0].0)), "{wide}");

    app.update(Action::GoTab(3));
    let s = screen(&mut app, 80, 24, dir.path());
    assert!(s.contains("not forecast (1, plan restock lists them): NEW-2"), "{s}");
    insta::assert_snapshot!("restock_launch_80x24", s);
}

/// A series that began selling days before the data ends is forecast from
/// its first days where that beat the champions a horizon back. The check
/// runs again when the final base arrives after the launches, and the
/// status line says what it decided there, not only on the provisional
/// base.
#[test]
fn the_final_plan_says_what_the_short_history_check_decided() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sources = sample(&data, 12, 2, 400, 3);
    let products = data.join("products.csv");
    let mut text = std::fs::read_to_string(&products).unwrap();
    let first = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect::<Vec<_>>();
    text.push_str(&format!("NEW-3,{} Mk3,{}\n", first[1], first[2..].join(",")));
    // Six earlier launches of the same family to borrow first days from.
    for k in 0..6 {
        text.push_str(&format!("OLD-{k},{} v{k},{}\n", first[1], first[2..].join(",")));
    }
    std::fs::write(&products, text).unwrap();
    let sales_path = data.join("sales.csv");
    let mut sales = std::fs::read_to_string(&sales_path).unwrap();
    let warehouse = sales.lines().nth(1).unwrap().split(',').nth(2).unwrap().to_string();
    let end = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    for k in 0..6u64 {
        let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + chrono::Days::new(15 * k);
        let mut d = start;
        while d <= end {
            sales.push_str(&format!(
                "{d},OLD-{k},{warehouse},{},9.00,0\n",
                2 + ((d - start).num_days() as u64 + k) % 5
            ));
            d = d + chrono::Days::new(1);
        }
    }
    for d in 21..=30 {
        sales.push_str(&format!("2026-06-{d},NEW-3,{warehouse},{},9.00,0\n", 3 + d % 4));
    }
    std::fs::write(&sales_path, sales).unwrap();

    let (mut app, cmd) = loaded_with_tiny_encoder(dir.path(), &sources);
    let cmd = cmd.expect("a short history asks the engine for launch forecasts");
    let ev = engine_answer(cmd, |e| matches!(e, EngineEvent::Launches { .. }));
    // The launches arrive while the plan shown is still the provisional
    // one (on a first start they usually do).
    app.loaded.as_mut().unwrap().provisional = true;
    app.on_engine(ev);
    let verdict = app
        .loaded
        .as_ref()
        .unwrap()
        .short_verdict()
        .expect("NEW-3 is a short history");
    assert!(app.status.contains(&verdict), "{}", app.status);
    // The plan shown is the provisional one: no change of cost against it
    // is told (it said "plan unchanged" with the provisional's cost).
    assert!(app.provisional());
    assert!(
        app.status.ends_with("; the plan is still provisional"),
        "{}",
        app.status
    );
    // One short history a horizon back is too few to judge.
    assert!(verdict.contains("too few a horizon back"), "{verdict}");

    let dataset = app.loaded.as_ref().unwrap().dataset.clone();
    let ws = Workspace::open(dir.path().join("ws")).unwrap();
    app.on_refined(app.generation, skuplan::tui::refine(&dataset, &ws, None));
    assert!(app.status.starts_with("champions chosen"), "{}", app.status);
    // The final plan's total, as the totals pane counts it.
    let total: f64 = app.totals.iter().map(|t| t.1).sum();
    let told = if app.totals_in_units {
        format!("{total:.0} units")
    } else {
        format!("cost {total:.0}")
    };
    assert!(
        app.status.ends_with(&format!("the plan is final ({told}); {verdict}")),
        "{}",
        app.status
    );
}

/// The workstation on `sources` (plain colours, braille maps, for stable
/// snapshots) with a tiny random encoder in `dir`, and the launch
/// forecasts it asked the engine for on loading, if any.
fn loaded_with_tiny_encoder(dir: &Path, sources: &DataSources) -> (App, Option<EngineCommand>) {
    let loaded = skuplan::tui::load(sources, &ImportOptions::default()).unwrap();
    let mut app = App::new(Workspace::open(dir.join("ws")).unwrap(), None);
    app.colors = false;
    app.braille = true;
    let tiny = dir.join("tiny");
    skuplan::engine::encoder::write_random_model(&tiny, &skuplan::engine::bert::BertConfig::tiny(0), 2).unwrap();
    app.model_dir = Some(tiny);
    let cmd = app.on_loaded(loaded).into_iter().find_map(|e| match e {
        Effect::Engine(c @ EngineCommand::Launches { .. }) => Some(c),
        _ => None,
    });
    (app, cmd)
}
