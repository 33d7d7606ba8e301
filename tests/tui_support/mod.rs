//! Helpers the workstation tests share (tests/tui.rs, tests/tui_launch.rs).

use std::path::Path;

use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use skuplan::data::sample::{SalesFormat, SampleSpec, generate};
use skuplan::engine::events::EngineEvent;
use skuplan::tui::action::Action;
use skuplan::tui::app::App;
use skuplan::workspace::DataSources;

/// Generated sample data (CSV sales) written to `data`, as sources.
pub fn sample(data: &Path, skus: usize, warehouses: usize, days: usize, seed: u64) -> DataSources {
    generate(
        data,
        &SampleSpec {
            skus,
            warehouses,
            days,
            seed,
            end: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            sales_format: SalesFormat::Csv,
        },
    )
    .unwrap();
    DataSources {
        paths: vec![data.to_path_buf()],
        ..DataSources::default()
    }
}

/// The screen as text, with the sources' temporary path made stable.
pub fn screen(app: &mut App, w: u16, h: u16, dir: &Path) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| skuplan::tui::draw::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    let out = out.replace(&dir.display().to_string(), "<tmp>");
    // The time of the last save changes from run to run.
    match out.find("saved ") {
        Some(p) => {
            let (head, tail) = out.split_at(p + 6);
            let n = tail.chars().take_while(|c| c.is_ascii_digit() || *c == ':').count();
            format!("{head}{}{}", "#".repeat(n), &tail[n..])
        }
        None => out,
    }
}

pub fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Char(c));
    }
}

/// Send `cmd` to a fresh engine thread and return its first event that
/// `wanted` accepts; a failure or a stopped engine fails the test.
pub fn engine_answer(cmd: skuplan::engine::EngineCommand, wanted: impl Fn(&EngineEvent) -> bool) -> EngineEvent {
    let mut engine = skuplan::engine::Engine::spawn().unwrap();
    engine.send(cmd).unwrap();
    loop {
        match engine.recv_blocking() {
            Some(e) if wanted(&e) => return e,
            Some(EngineEvent::Failed { message, .. }) => panic!("{message}"),
            Some(_) => {}
            None => panic!("the engine stopped"),
        }
    }
}

/// What the engine reports of a training run that stopped as `stop` with
/// `best_epoch` as its best (0: no epoch ended), saved in `dir`.
pub fn run_summary(
    dir: &Path,
    stop: skuplan::engine::events::Stop,
    best_epoch: usize,
) -> skuplan::engine::events::RunSummary {
    skuplan::engine::events::RunSummary {
        dir: dir.to_path_buf(),
        stop,
        epochs_done: best_epoch,
        best_epoch,
        validation: Default::default(),
        test: None,
        calibration: Default::default(),
        correction: skuplan::engine::model::Correction {
            chosen: 1.0,
            losses: vec![],
        },
        parameters: 10,
        text: None,
        train_seconds: 1.0,
        device: "CPU".into(),
    }
}
