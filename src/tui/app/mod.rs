//! The workstation's state and what every action does to it. Drawing is a
//! pure function of this state (see `draw`); nothing here touches the
//! terminal, so every action is tested without one.
//!
//! This module holds what every tab shares (the tabs, prompts, loading,
//! navigation, the one `update` dispatch); each tab's own state changes
//! live in its module (data, training, forecasts, restock, deliveries).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::action::Action;
use crate::domain::{Dataset, SeriesForecast};
use crate::engine::{EngineCommand, TrainConfig};
use crate::plan::approval::{self, LineDecision, Record};
use crate::plan::base::PlanBase;
use crate::plan::export::write_csv;
use crate::plan::restock::RestockPlan;
use crate::plan::scenario::Scenario;
use crate::workspace::{DataSources, Workspace};

mod data;
mod deliveries;
mod filter;
mod forecasts;
mod loaded;
mod prompts;
mod restock;
mod selection;
mod training;

pub use data::{complete_path, is_shipped_sample};
pub use deliveries::DeliveryJob;
pub use deliveries::{LowerPane, PaneView};
pub use forecasts::{ForecastRow, Neighbour};
pub use loaded::{Loaded, Stale};
pub use prompts::{Confirm, Prompt, what_ifs};
pub use training::TrainingView;
pub(crate) use training::run_name;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Data,
    Training,
    Forecasts,
    Restock,
    Deliveries,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Data, Tab::Training, Tab::Forecasts, Tab::Restock, Tab::Deliveries];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Data => "Data",
            Tab::Training => "Training",
            Tab::Forecasts => "Forecasts",
            Tab::Restock => "Restock",
            Tab::Deliveries => "Deliveries",
        }
    }

    /// Its position among the tabs (0-based).
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

pub struct App {
    pub tab: Tab,
    pub workspace: Workspace,
    pub loaded: Option<Loaded>,
    pub loading: Option<String>,
    pub plan: Option<RestockPlan>,
    pub scenario: Scenario,
    pub decisions: HashMap<Vec<String>, LineDecision>,
    pub forecast_rows: Vec<ForecastRow>,
    pub model_forecasts: HashMap<(String, String), SeriesForecast>,
    /// The filter of the Forecasts and Restock tabs (both list SKUs, so a
    /// SKU filtered on one is the same SKU on the other).
    pub filter: String,
    /// The Deliveries tab's own filter (vehicles, warehouses, orders): the
    /// lines' filter left it empty.
    pub route_filter: String,
    pub sort: usize,
    /// Selected row per tab (of the filtered view).
    pub selected: [usize; 5],
    pub prompt: Option<(Prompt, String)>,
    /// The prompt's text is a suggestion (the line's quantity, the current
    /// filter, a default path): the first key typed replaces it, as a
    /// selected text would be; Backspace or Tab edit it instead.
    pub prompt_fresh: bool,
    pub confirm: Option<Confirm>,
    pub help: bool,
    pub status: String,
    pub error: Option<String>,
    pub training: TrainingView,
    pub train_config: TrainConfig,
    pub model_dir: Option<PathBuf>,
    pub quit: bool,
    pub last_save: Option<String>,
    pub colors: bool,
    /// Default letters the config's `[keys]` moved, for footers and help.
    pub relabels: Vec<(String, String)>,
    /// Rows that fit in the table (set by the last draw, for PgUp/PgDn).
    pub page: usize,
    /// Cost of the ordering lines by warehouse: (warehouse, all, approved);
    /// kept up to date on every change so a frame never walks the plan.
    /// Units instead where no line has a unit cost (`totals_in_units`).
    pub totals: Vec<(String, f64, f64)>,
    pub totals_in_units: bool,
    /// The same by supplier, largest first.
    pub supplier_totals: Vec<(String, f64, f64)>,
    /// The report of the last import that failed.
    pub load_problems: Option<String>,
    /// The sources of the last import asked for: `M` after a failed import
    /// maps the files that failed, not the data loaded.
    pub attempted: Option<DataSources>,
    /// Enter on a restock line: its whole story in a popup.
    pub details: bool,
    /// The status and error lines of this session, oldest first, each
    /// with the local time it appeared (see [`App::record_status`]).
    pub messages: std::collections::VecDeque<(String, String)>,
    /// `H`: the recent messages in a popup.
    pub show_messages: bool,
    /// Messages scrolled past at the top of that list (j/k, PgUp/PgDn, g/G).
    pub messages_scroll: usize,
    /// Lines the help is scrolled down.
    pub help_scroll: u16,
    /// The status and error lines last recorded in `messages`.
    recorded: (String, Option<String>),
    /// The workspace holds training-text embeddings from an earlier run
    /// (head mode then encodes only new texts); read at load and after a
    /// training, for the Training tab's estimate.
    pub texts_cached: bool,
    /// Products like a SKU: (sku, neighbours).
    pub similar: Option<(String, Vec<Neighbour>)>,
    /// The day's delivery plan, and the problem it solves.
    pub deliveries: Option<crate::plan::delivery::DeliveryPlan>,
    pub delivery_problem: Option<Arc<crate::plan::delivery::DeliveryProblem>>,
    pub route_decisions: HashMap<Vec<String>, LineDecision>,
    /// A planning run is going on off the UI thread.
    pub planning_routes: bool,
    /// Why the saved what-ifs could not be read: until they can, or `D`
    /// drops them, no what-if is saved over them.
    pub what_ifs_unread: Option<String>,
    /// The data changed while the routes were planned: the run's routes
    /// are for orders as they were, and are dropped when it ends.
    routes_outdated: bool,
    /// How routes are planned (the date is the problem's).
    pub delivery_settings: crate::plan::delivery::DeliverySettings,
    /// What the Deliveries tab's lower pane shows (Enter cycles: stops,
    /// map, orders not served) and how far it is scrolled (`[` and `]`).
    pub lower: LowerPane,
    /// Draw maps in braille (a UTF-8 terminal), else in plain dots.
    pub braille: bool,
    /// Counts loads, so a refinement of data since replaced is dropped.
    pub generation: u64,
    /// Where the last frame drew the current tab's table rows, for clicks:
    /// (screen row of the first line, how many lines, the view index of the
    /// first line). Set by the table helper on each frame.
    pub table_rows: Option<(u16, u16, usize)>,
    /// How many first rows the Data tab's text can start at, as last drawn
    /// (its rows past a screenful, plus one).
    pub data_rows: usize,
    /// The audit log's size and time when last read (see `poll_audit_log`).
    pub log_seen: Option<(u64, u128)>,
    /// The workspace's plan file as this session last saved it, to notice
    /// another process writing it.
    pub plan_saved: Option<(u64, u128)>,
    /// The training run plans use beside the baselines, and whether it is
    /// on (`R` switches it; kept in the workspace).
    pub active_run: Option<crate::workspace::ActiveRun>,
    /// The engine is judging the active run and joining it to the
    /// champions (after a refit, or on its own).
    pub joining: bool,
    /// Why the last join failed (a run trained on other data, say).
    pub join_refused: Option<String>,
    /// The engine is encoding product texts for the plan's launches (a
    /// minute or more on tens of thousands of products, the first time).
    pub launching: bool,
    /// The data of the latest join asked of the engine: its answer ends
    /// `joining`, whether or not that data is still loaded.
    pub join_data: Option<Arc<Dataset>>,
    /// The joined active run forecasts with weights learnt up to the first
    /// date (an earlier refit's, else its own) for data that runs to the
    /// second: its refit is older than the data (`f` on the Training tab
    /// refits it).
    pub refit_due: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
}

/// What the runner must do after an update (the engine lives outside).
pub enum Effect {
    Engine(EngineCommand),
    /// Re-import these sources off the UI thread.
    Load(DataSources),
    /// Plan delivery routes off the UI thread; the runner hands the plan
    /// to `on_deliveries`.
    PlanDeliveries(DeliveryJob),
    /// Compute the plan's slow half (`tui::refine`) off the UI thread and
    /// hand it to `on_refined` with this generation.
    Refine {
        generation: u64,
        dataset: Arc<Dataset>,
        key: Option<String>,
    },
}

impl App {
    pub fn new(workspace: Workspace, model_dir: Option<PathBuf>) -> App {
        App {
            tab: Tab::Restock,
            workspace,
            loaded: None,
            loading: Some("loading the data".into()),
            plan: None,
            scenario: Scenario {
                name: "what-if".into(),
                overrides: Vec::new(),
            },
            decisions: HashMap::new(),
            forecast_rows: Vec::new(),
            model_forecasts: HashMap::new(),
            filter: String::new(),
            route_filter: String::new(),
            sort: 0,
            selected: [0; 5],
            prompt: None,
            prompt_fresh: false,
            confirm: None,
            help: false,
            status: String::new(),
            error: None,
            training: TrainingView::default(),
            train_config: TrainConfig {
                epochs: 4,
                ..TrainConfig::default()
            },
            model_dir,
            quit: false,
            last_save: None,
            colors: std::env::var_os("NO_COLOR").is_none(),
            relabels: Vec::new(),
            page: 10,
            totals: Vec::new(),
            totals_in_units: false,
            supplier_totals: Vec::new(),
            load_problems: None,
            attempted: None,
            similar: None,
            details: false,
            messages: std::collections::VecDeque::new(),
            show_messages: false,
            messages_scroll: 0,
            help_scroll: 0,
            recorded: (String::new(), None),
            texts_cached: false,
            deliveries: None,
            delivery_problem: None,
            route_decisions: HashMap::new(),
            planning_routes: false,
            what_ifs_unread: None,
            routes_outdated: false,
            delivery_settings: Default::default(),
            lower: LowerPane::default(),
            braille: utf8_locale(),
            generation: 0,
            table_rows: None,
            data_rows: 0,
            log_seen: None,
            plan_saved: None,
            active_run: None,
            joining: false,
            join_refused: None,
            launching: false,
            join_data: None,
            refit_due: None,
        }
        .with_active_run()
    }

    fn with_active_run(mut self) -> App {
        match self.workspace.load_active_run() {
            Ok(a) => self.active_run = a,
            Err(e) => self.error = Some(format!("the active run is not known: {e:#}")),
        }
        // The mode and epochs chosen before (a damaged file: the defaults).
        if let Ok(Some(c)) = self.workspace.load_training_choice() {
            if let Ok(mode) = <crate::engine::Mode as clap::ValueEnum>::from_str(&c.mode, true) {
                self.train_config.mode = mode;
            }
            self.train_config.epochs = c.epochs.clamp(1, 200);
        }
        self
    }

    /// The data has been imported and the plan's slow half computed.
    /// Returns the delivery planning run to start, if one is needed.
    pub fn on_loaded(&mut self, loaded: Loaded) -> Vec<Effect> {
        if self.import_failed_over_data(&loaded) {
            return Vec::new();
        }
        self.loading = None;
        self.load_problems = None;
        self.read_what_ifs();
        self.loaded = Some(loaded);
        // Joined from the cache by the loader: kept only for the run that
        // is active and on now.
        let active = self.active_run.as_ref().filter(|a| a.on).map(|a| a.run.clone());
        let joined = match self.loaded.as_mut() {
            Some(l) if l.model_run.is_some() && l.model_run == active => {
                l.model_base.as_ref().and_then(|b| b.model.clone())
            }
            Some(l) => {
                l.model_base = None;
                l.model_run = None;
                None
            }
            None => None,
        };
        self.note_refit_due();
        self.refresh_texts_cached();
        if let Err(e) = self.workspace.save_sources(&self.loaded_sources()) {
            self.error = Some(format!("could not remember the data: {e:#}"));
        }
        self.recompute();
        self.reload_decisions();
        self.generation += 1;
        let provisional = self.provisional();
        let (mut effects, aside) = self.load_deliveries();
        self.status = if provisional {
            let window = match self.loaded.as_ref().map(|l| l.dataset.period()) {
                Some(crate::domain::Period::Week(_)) => "4-week",
                Some(crate::domain::Period::Month(_)) => "3-month",
                _ => "28-day",
            };
            format!(
                "data loaded; a provisional plan from {window} averages while champions are chosen and safety stock \
                 calibrated ..."
            )
        } else if let Some(m) = &joined {
            format!(
                "data loaded; the model is champion on {} of {} series (its forecasts from the workspace's cache; \
                 judged {}..{}){}",
                m.wins(),
                m.chosen.len(),
                m.held_out.0,
                m.held_out.1,
                match self.refit_due {
                    Some((learnt, _)) => format!(
                        "; no refit for this data: its weights learnt up to {learnt} (f on the Training tab refits it)"
                    ),
                    None => String::new(),
                }
            )
        } else {
            "data loaded; baseline forecasts and the restock plan are ready".into()
        };
        if let Some(aside) = aside {
            self.status = format!("{}; {aside}", self.status);
        }
        self.say_if_stale();
        self.say_foreign_what_ifs();
        if self.planning_routes {
            self.status.push_str("; planning the day's routes");
        } else if self.deliveries.is_some() && !provisional {
            self.status.push_str("; delivery routes from the saved plan");
        }
        effects.extend(self.ask_launches());
        if provisional && let Some(l) = &self.loaded {
            effects.push(Effect::Refine {
                generation: self.generation,
                dataset: l.dataset.clone(),
                key: l.cache_key.clone(),
            });
        } else if joined.is_none() {
            effects.extend(self.adopt(false));
        } else {
            // A join still on its way is for data since replaced.
            self.joining = false;
        }
        effects
    }

    /// Whether plans use the active run (when it has joined).
    pub fn run_on(&self) -> bool {
        self.active_run.as_ref().is_some_and(|a| a.on)
    }

    /// Whether the plan shown is the provisional one.
    pub fn provisional(&self) -> bool {
        self.loaded.as_ref().is_some_and(|l| l.provisional)
    }

    /// The real base arrived: the champions' forecasts, the calibration and
    /// the fitted levels replace the provisional plan.
    pub fn on_refined(&mut self, generation: u64, base: Result<PlanBase, String>) -> Vec<Effect> {
        if generation != self.generation {
            return Vec::new();
        }
        match base {
            Ok(base) => {
                if let Some(l) = self.loaded.as_mut() {
                    l.base = base;
                    l.model_base = None;
                    l.model_run = None;
                    l.provisional = false;
                    l.join_launches();
                }
                self.refit_due = None;
                self.recompute();
                self.refresh_totals();
                self.status = format!(
                    "champions chosen and safety stock calibrated: the plan is final ({})",
                    self.totals_text()
                );
                // The check of short histories ran again on the final base;
                // say what it decided there (the provisional one may differ).
                if let Some(v) = self.loaded.as_ref().and_then(Loaded::short_verdict) {
                    self.status.push_str("; ");
                    self.status.push_str(&v);
                }
                let adopt = self.adopt(false);
                if !adopt.is_empty() {
                    self.status.push_str("; adding the trained run to the champions ...");
                    return adopt;
                }
            }
            Err(e) => self.error = Some(format!("the plan could not be finished: {e}")),
        }
        Vec::new()
    }

    fn loaded_sources(&self) -> DataSources {
        self.loaded.as_ref().map(|l| l.sources.clone()).unwrap_or_default()
    }

    fn matches(&self, fields: &filter::Fields, text: &[&str]) -> bool {
        filter::matches_row(&self.filter, fields, text)
    }

    /// The filter of the tab shown.
    pub fn tab_filter(&self) -> &str {
        if self.tab == Tab::Deliveries {
            &self.route_filter
        } else {
            &self.filter
        }
    }

    fn tab_filter_mut(&mut self) -> &mut String {
        if self.tab == Tab::Deliveries {
            &mut self.route_filter
        } else {
            &mut self.filter
        }
    }

    fn view_len(&self) -> usize {
        match self.tab {
            Tab::Restock => self.restock_view().len(),
            Tab::Forecasts => self.forecast_view().len(),
            Tab::Deliveries => self.delivery_view().len(),
            // The first row shown of the Data tab's text (as last drawn).
            Tab::Data => self.data_rows,
            Tab::Training => 0,
        }
    }

    pub fn selected(&self) -> usize {
        self.selected[self.tab.index()]
    }

    fn move_by(&mut self, delta: i64) {
        let n = self.view_len();
        let i = self.tab.index();
        if n == 0 {
            self.selected[i] = 0;
            return;
        }
        let cur = self.selected[i] as i64;
        self.selected[i] = (cur + delta).clamp(0, n as i64 - 1) as usize;
    }

    fn selected_sku(&self) -> Option<String> {
        match self.tab {
            Tab::Restock => self.selected_line().map(|l| l.sku.clone()),
            Tab::Forecasts => {
                let view = self.forecast_view();
                let r = *view.get(self.selected[Tab::Forecasts.index()])?;
                Some(self.forecast_rows[r].sku.clone())
            }
            _ => None,
        }
    }

    fn record(&mut self, records: Vec<Record>, what: &str) {
        match self.workspace.audit_log().append(&records) {
            Ok(()) => {
                self.reload_decisions();
                self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string());
                self.status = what.to_string();
            }
            Err(e) => {
                // The screen shows the log as it stands.
                self.reload_decisions();
                self.error = Some(format!("the decision was not saved: {e:#}"));
            }
        }
    }

    /// `u`: take back the most recent decision on `plan` still in force (a
    /// whole "approve all" at once), saying what it was; nothing is written
    /// when there is none.
    fn undo(&mut self, plan: &str) {
        // Chosen and written under the log's lock: a decision another shell
        // appended since the screen last read the log is not undone unsaid.
        let (keys, actions) = match self.workspace.audit_log().undo(plan) {
            Ok(Some(undone)) => undone,
            Ok(None) => {
                self.status = "nothing to undo".into();
                return;
            }
            Err(e) => {
                self.reload_decisions();
                self.error = Some(format!("nothing was undone: {e:#}"));
                return;
            }
        };
        let mut lines = keys.clone();
        lines.sort();
        lines.dedup();
        // A restock line is SKU then warehouse; a route, date then vehicle.
        let name = |k: &[String]| match (plan, k) {
            ("restock", [sku, wh]) => format!("{sku} at {wh}"),
            (_, [date, vehicle]) => format!("route {vehicle} of {date}"),
            _ => k.join(" "),
        };
        // A batch's quantities differ line by line (each to its packs).
        let did: Vec<String> = actions
            .iter()
            .map(|a| match a {
                approval::Action::SetQty { .. } if lines.len() > 1 => "quantities".to_string(),
                a => a.describe(),
            })
            .collect();
        let did = did.join(" and ");
        // Named, a few at least: a batch from another shell was a count.
        let what = match lines.as_slice() {
            [k] => format!("undid {did} of {}", name(k)),
            ks => {
                let named: Vec<String> = ks.iter().take(3).map(|k| name(k)).collect();
                let more = if ks.len() > 3 { ", ..." } else { "" };
                let unit = if plan == "restock" { "lines" } else { "routes" };
                format!("undid {did} of {} {unit} at once: {}{more}", ks.len(), named.join(", "))
            }
        };
        self.reload_decisions();
        self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string());
        self.status = what;
    }

    /// Write export rows to the path typed (its folder made if needed);
    /// the message line says where they went, or why not.
    fn write_export<T: serde::Serialize + Default>(&mut self, path: &str, rows: &[T], what: &str) {
        // Said in full: "rel.csv" alone hid that it went to the folder the
        // workstation was started from.
        let path = data::typed_path(path);
        let path = std::path::absolute(&path).unwrap_or(path);
        let mut data = self.loaded_sources().paths;
        data.extend(self.workspace.data_paths(None));
        let result = crate::plan::export::check_export_path(&path, &data);
        let result = result.and_then(|()| {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or(Ok(()), crate::fsio::create_dir_durably)
                .and_then(|()| write_csv(&path, rows))
        });
        // "1 approved line".
        let what = if rows.len() == 1 {
            what.strip_suffix('s').unwrap_or(what)
        } else {
            what
        };
        match result {
            Ok(()) => self.status = format!("exported {} {what} to {}", rows.len(), path.display()),
            Err(e) => self.error = Some(format!("export failed: {e:#}")),
        }
    }

    fn submit_prompt(&mut self, prompt: Prompt, input: String) -> Vec<Effect> {
        match prompt {
            Prompt::Filter => self.keeping_selection(|app| *app.tab_filter_mut() = input),
            Prompt::ExportPath => self.export(&input),
            Prompt::ExportDeliveries => self.export_deliveries(&input),
            Prompt::MoveOrder => self.move_order(&input),
            Prompt::ImportPath => return self.import(&input),
            Prompt::EditDemand { sku } => self.add_what_if(&sku, &input),
            Prompt::Mapping => return self.remap(&input),
            Prompt::ScenarioName => self.save_scenario_as(&input),
            Prompt::OpenScenario => self.ask_before_opening(&input),
            Prompt::SetQty { key } => self.set_qty(key, &input),
        }
        Vec::new()
    }

    /// Open `prompt` with `text` suggested: Enter takes it, typing
    /// replaces it (see [`App::prompt_fresh`]).
    pub(super) fn suggest(&mut self, prompt: Prompt, text: String) {
        self.prompt_fresh = !text.is_empty();
        self.prompt = Some((prompt, text));
    }

    /// Apply one action.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.error = None;
        if let Some((prompt, mut buf)) = self.prompt.take() {
            match action {
                Action::Char(c) => {
                    if std::mem::take(&mut self.prompt_fresh) {
                        buf.clear();
                    }
                    buf.push(c);
                    self.prompt = Some((prompt, buf));
                }
                Action::Backspace => {
                    self.prompt_fresh = false;
                    buf.pop();
                    self.prompt = Some((prompt, buf));
                }
                Action::Complete => {
                    self.prompt_fresh = false;
                    match prompt {
                        Prompt::ImportPath | Prompt::ExportPath | Prompt::ExportDeliveries => buf = complete_path(&buf),
                        Prompt::OpenScenario => buf = self.complete_scenario(&buf),
                        _ => {}
                    }
                    self.prompt = Some((prompt, buf));
                }
                Action::Submit => {
                    self.prompt_fresh = false;
                    return self.submit_prompt(prompt, buf);
                }
                Action::Back => {
                    self.prompt_fresh = false;
                    if prompt == Prompt::Filter {
                        self.keeping_selection(|app| app.tab_filter_mut().clear());
                    }
                }
                _ => self.prompt = Some((prompt, buf)),
            }
            return Vec::new();
        }
        if let Some(c) = self.confirm.take() {
            match action {
                Action::Yes => match c {
                    Confirm::Quit => {
                        self.quit = true;
                        if self.training.running {
                            return vec![Effect::Engine(EngineCommand::Cancel)];
                        }
                    }
                    Confirm::ApproveAll { .. } if self.tab == Tab::Deliveries => self.approve_all_routes(),
                    Confirm::ApproveAll { .. } => self.approve_all(),
                    Confirm::DropWhatIfs { .. } => self.drop_what_ifs(),
                    Confirm::ReplaceScenario { name, .. } => self.save_scenario(&name),
                    Confirm::OpenScenario { name, .. } => self.open_scenario(&name),
                },
                _ => {
                    self.status = match c {
                        Confirm::Quit => "not quitting: the training goes on",
                        Confirm::ApproveAll { .. } => "nothing approved",
                        Confirm::DropWhatIfs { .. } | Confirm::OpenScenario { .. } => "the what-ifs are kept",
                        Confirm::ReplaceScenario { .. } => "the saved scenario is kept as it was",
                    }
                    .into()
                }
            }
            return Vec::new();
        }
        if self.help {
            let s = &mut self.help_scroll;
            match action {
                Action::Help | Action::Back | Action::Quit => self.help = false,
                // Kept within the keys by the draw.
                Action::Down => *s = s.saturating_add(1),
                Action::Up => *s = s.saturating_sub(1),
                Action::PageDown => *s = s.saturating_add(10),
                Action::PageUp => *s = s.saturating_sub(10),
                Action::Top => *s = 0,
                Action::Bottom => *s = u16::MAX,
                _ => {}
            }
            return Vec::new();
        }
        if self.show_messages {
            let last = self.messages.len().saturating_sub(1);
            let s = &mut self.messages_scroll;
            match action {
                Action::Messages | Action::Back | Action::Quit => self.show_messages = false,
                Action::Down => *s = (*s + 1).min(last),
                Action::Up => *s = s.saturating_sub(1),
                Action::PageDown => *s = (*s + 10).min(last),
                Action::PageUp => *s = s.saturating_sub(10),
                Action::Top => *s = 0,
                Action::Bottom => *s = last,
                _ => {}
            }
            return Vec::new();
        }
        if self.details && matches!(action, Action::Back | Action::Submit) {
            self.details = false;
            return Vec::new();
        }
        match action {
            Action::Quit => {
                if self.training.running {
                    self.confirm = Some(Confirm::Quit);
                } else {
                    self.quit = true;
                }
            }
            Action::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Action::PrevTab => self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()],
            Action::GoTab(i) => {
                if let Some(t) = Tab::ALL.get(i) {
                    self.tab = *t;
                }
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(self.page.max(1) as i64)),
            Action::PageDown => self.move_by(self.page.max(1) as i64),
            Action::Top => self.move_by(i64::MIN / 2),
            Action::Bottom => self.move_by(i64::MAX / 2),
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::Messages => {
                self.show_messages = true;
                self.messages_scroll = 0;
            }
            Action::Submit if self.tab == Tab::Deliveries => self.cycle_delivery_pane(),
            Action::ScrollUp if self.tab == Tab::Deliveries => self.scroll_pane(-1),
            Action::ScrollDown if self.tab == Tab::Deliveries => self.scroll_pane(1),
            Action::Submit if self.tab == Tab::Restock && self.selected_line().is_some() => {
                self.details = true;
            }
            Action::Back if !self.tab_filter().is_empty() => {
                self.keeping_selection(|app| app.tab_filter_mut().clear());
                self.status = "filter cleared".into();
            }
            Action::Approve if self.tab == Tab::Deliveries => self.decide_route(approval::Action::Approve),
            Action::Reject if self.tab == Tab::Deliveries => self.decide_route(approval::Action::Reject),
            Action::ApproveAll if self.tab == Tab::Deliveries => self.confirm_approve_routes(),
            Action::Undo if self.tab == Tab::Deliveries => self.undo_route(),
            Action::Lock if self.tab == Tab::Deliveries => self.toggle_lock(),
            Action::MoveOrder if self.tab == Tab::Deliveries => self.ask_move(),
            Action::Reoptimise if self.tab == Tab::Deliveries => return self.reoptimise(),
            Action::ToggleRun => return self.toggle_run(),
            Action::Export if self.tab == Tab::Deliveries => self.ask_delivery_export(),
            Action::Filter if matches!(self.tab, Tab::Forecasts | Tab::Restock | Tab::Deliveries) => {
                self.suggest(Prompt::Filter, self.tab_filter().to_string());
            }
            Action::Sort if matches!(self.tab, Tab::Forecasts | Tab::Restock) => {
                self.keeping_selection(|app| app.sort = (app.sort + 1) % 3);
            }
            Action::Approve | Action::Reject | Action::ApproveAll | Action::SetQty
                if self.tab == Tab::Restock && self.provisional_refusal() => {}
            Action::Approve if self.tab == Tab::Restock => self.decide(approval::Action::Approve),
            Action::Reject if self.tab == Tab::Restock => self.decide(approval::Action::Reject),
            Action::ApproveAll if self.tab == Tab::Restock => self.confirm_approve_all(),
            Action::Undo if self.tab == Tab::Restock => self.undo_decision(),
            Action::SetQty if self.tab == Tab::Restock => self.ask_qty(),
            Action::Edit if matches!(self.tab, Tab::Forecasts | Tab::Restock) => self.ask_what_if(),
            Action::DropEdits if matches!(self.tab, Tab::Forecasts | Tab::Restock) => self.confirm_drop_what_ifs(),
            Action::Compare if matches!(self.tab, Tab::Forecasts | Tab::Restock) => self.compare(),
            Action::SaveScenario if matches!(self.tab, Tab::Forecasts | Tab::Restock) => self.ask_scenario_name(),
            Action::OpenScenario if matches!(self.tab, Tab::Forecasts | Tab::Restock) => self.ask_open_scenario(),
            Action::Export if self.tab == Tab::Restock => self.ask_export(),
            Action::Remap if self.tab == Tab::Data => self.ask_mapping(),
            Action::Similar if self.tab == Tab::Forecasts => return self.find_similar(),
            // From any tab: a path typed after `i` elsewhere went into the
            // filter. The Data tab shows what the import read.
            Action::Import => {
                self.tab = Tab::Data;
                self.ask_import();
            }
            Action::StartTraining if self.tab == Tab::Training => return self.start_training(),
            Action::RefitRun if self.tab == Tab::Training => return self.refit_run(),
            Action::PauseResume if self.tab == Tab::Training && self.training.running => return self.pause_resume(),
            Action::CancelTraining if self.tab == Tab::Training && self.training.running => {
                return self.cancel_training();
            }
            // Said rather than ignored: after a run finishes, its judging
            // looks like work on the tab.
            Action::PauseResume | Action::CancelTraining if self.tab == Tab::Training => {
                self.status = if self.joining {
                    "the run is being judged and joined to the plan: there is nothing to pause or cancel"
                } else {
                    "no training is running (t starts one)"
                }
                .into();
            }
            Action::CycleMode if self.tab == Tab::Training && !self.training.running => self.cycle_mode(),
            Action::MoreEpochs if self.tab == Tab::Training && !self.training.running => self.more_epochs(),
            Action::FewerEpochs if self.tab == Tab::Training && !self.training.running => self.fewer_epochs(),
            // Said, not passed over in silence.
            Action::StartTraining
            | Action::RefitRun
            | Action::PauseResume
            | Action::CancelTraining
            | Action::CycleMode
            | Action::MoreEpochs
            | Action::FewerEpochs
                if self.tab != Tab::Training =>
            {
                self.status = "that key works on the Training tab (2)".into();
            }
            _ => {}
        }
        Vec::new()
    }

    /// Whether the workspace holds training-text embeddings (see
    /// `texts_cached`): read at load and after a training ends.
    pub(super) fn refresh_texts_cached(&mut self) {
        self.texts_cached = self.workspace.training_embeddings_path().is_file();
    }

    /// Keeps the status line and the error line among the session's
    /// messages, each once per change (an error cleared by a key does not
    /// bring the status back as new), and returns what it kept (for the
    /// log). The main loop calls it after each event it handles (each
    /// engine event of a batch too); of several changes inside one handler
    /// the last is kept.
    pub fn record_status(&mut self) -> Vec<String> {
        const KEEP: usize = 200;
        let mut new = Vec::new();
        if self.status != self.recorded.0 {
            self.recorded.0.clone_from(&self.status);
            if !self.status.is_empty() {
                new.push(self.status.clone());
            }
        }
        if self.error != self.recorded.1 {
            self.recorded.1.clone_from(&self.error);
            new.extend(self.error.clone());
        }
        let at = chrono::Local::now().format("%H:%M:%S").to_string();
        for m in &new {
            self.messages.push_back((at.clone(), m.clone()));
        }
        while self.messages.len() > KEEP {
            self.messages.pop_front();
        }
        new
    }

    /// The keys that work here, for the bottom bar.
    pub fn hints(&self) -> &'static str {
        if let Some((p, _)) = &self.prompt {
            // Only where Tab completes something (it was offered everywhere).
            return match p {
                Prompt::ImportPath | Prompt::ExportPath | Prompt::ExportDeliveries | Prompt::OpenScenario => {
                    "Enter accept  Esc cancel  Tab complete"
                }
                _ => "Enter accept  Esc cancel",
            };
        }
        if self.confirm.is_some() {
            return "y yes  any other key: no";
        }
        match self.tab {
            Tab::Data => "i import  M column mapping  1-5/Tab tabs  ? help  q quit",
            Tab::Training => "t train  f refit  p pause  c cancel  R run on/off  m mode  +/- epochs  ? help",
            Tab::Forecasts => "j/k move  / filter  s sort  e what-if  n similar  D drop what-ifs  ? help",
            // Each fits 80 columns.
            Tab::Restock => "a/r approve/reject  A all  u undo  = qty  e what-if  C compare  x export  ? help",
            Tab::Deliveries => "a/r approve/reject  A all  u undo  v move  L lock  o plan  x export  Enter view",
        }
    }
}

/// Whether the locale says UTF-8 (LC_ALL, then LC_CTYPE, then LANG).
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}
