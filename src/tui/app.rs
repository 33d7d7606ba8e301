//! The workstation's state and what every action does to it. Drawing is a
//! pure function of this state (see `draw`); nothing here touches the
//! terminal, so every action is tested without one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use chrono::NaiveDate;

use super::action::Action;
use crate::domain::{Dataset, SeriesForecast};
use crate::engine::Mode;
use crate::engine::events::{EngineEvent, Progress};
use crate::engine::{EngineCommand, TrainConfig};
use crate::plan::approval::{self, LineDecision, Record, State};
use crate::plan::base::PlanBase;
use crate::plan::export::{restock_fingerprint, restock_rows, write_csv};
use crate::plan::restock::RestockPlan;
use crate::plan::scenario::{Change, Override, Scenario};
use crate::workspace::{DataSources, Workspace};

mod deliveries;
pub use deliveries::DeliveryJob;

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

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A similar product: (sku, cosine, product text).
pub type Neighbour = (String, f32, String);

/// What the bottom line is collecting from the keyboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Filter,
    /// A path to export the approved lines to.
    ExportPath,
    /// A file or folder to import.
    ImportPath,
    /// A what-if on the selected SKU: "+20% [FROM..TO] reason".
    EditDemand {
        sku: String,
    },
    /// A new order quantity for the selected line.
    SetQty {
        key: (String, String),
    },
    /// A name to save the what-ifs under (a scenario the CLI sees too).
    ScenarioName,
    /// A column mapping, "field=column,...".
    Mapping,
    /// "ORDER VEHICLE [STOP]": move an order onto a vehicle.
    MoveOrder,
    /// The name of a saved scenario to work on (its overrides replace the
    /// what-ifs).
    OpenScenario,
    /// A path to export the approved routes to.
    ExportDeliveries,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    Quit,
    ApproveAll { count: usize },
}

/// Everything loaded from the data, computed off the UI thread.
pub struct Loaded {
    pub sources: DataSources,
    pub dataset: Arc<Dataset>,
    pub report_text: String,
    pub base: PlanBase,
    /// The base is [`PlanBase::quick`]; the real one is on its way.
    pub provisional: bool,
    /// The data's cache key ([`PlanBase::key`]), when a workspace cache
    /// was consulted: the refinement saves under it.
    pub cache_key: Option<String>,
}

/// A row of the Forecasts table.
#[derive(Debug, Clone)]
pub struct ForecastRow {
    pub series: usize,
    pub sku: String,
    pub warehouse: String,
    pub method: String,
    pub next7: f64,
    pub horizon_total: f64,
    pub mase: Option<f64>,
    pub overridden: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TrainingView {
    pub running: bool,
    pub paused: bool,
    pub device: String,
    pub started: Option<String>,
    pub last: Option<Progress>,
    /// (step, train loss), bounded.
    pub loss: Vec<(f64, f64)>,
    /// (step, validation MSE) at epoch ends.
    pub val: Vec<(f64, f64)>,
    pub best: Option<String>,
    pub outcome: Option<String>,
    pub run_dir: Option<PathBuf>,
}

/// Most points a chart keeps (older ones are thinned by half).
const HISTORY_CAP: usize = 2000;

fn push_bounded(v: &mut Vec<(f64, f64)>, p: (f64, f64)) {
    v.push(p);
    if v.len() > HISTORY_CAP {
        let kept: Vec<(f64, f64)> = v.iter().step_by(2).copied().collect();
        *v = kept;
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
    pub filter: String,
    pub sort: usize,
    /// Selected row per tab (of the filtered view).
    pub selected: [usize; 5],
    pub prompt: Option<(Prompt, String)>,
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
    /// Rows that fit in the table (set by the last draw, for PgUp/PgDn).
    pub page: usize,
    /// Cost of the ordering lines by warehouse: (warehouse, all, approved);
    /// kept up to date on every change so a frame never walks the plan.
    pub totals: Vec<(String, f64, f64)>,
    /// The same by supplier, largest first.
    pub supplier_totals: Vec<(String, f64, f64)>,
    /// The report of the last import that failed.
    pub load_problems: Option<String>,
    /// Enter on a restock line: its whole story in a popup.
    pub details: bool,
    /// Products like a SKU: (sku, neighbours).
    pub similar: Option<(String, Vec<Neighbour>)>,
    /// The day's delivery plan, and the problem it solves.
    pub deliveries: Option<crate::plan::delivery::DeliveryPlan>,
    pub delivery_problem: Option<Arc<crate::plan::delivery::DeliveryProblem>>,
    pub route_decisions: HashMap<Vec<String>, LineDecision>,
    /// A planning run is going on off the UI thread.
    pub planning_routes: bool,
    /// How routes are planned (the date is the problem's).
    pub delivery_settings: crate::plan::delivery::DeliverySettings,
    /// Narrow screens: the map instead of the stops (Enter switches).
    pub delivery_map: bool,
    /// Draw maps in braille (a UTF-8 terminal), else in plain dots.
    pub braille: bool,
    /// Counts loads, so a refinement of data since replaced is dropped.
    pub generation: u64,
    /// Where the last frame drew the current tab's table rows, for clicks:
    /// (screen row of the first line, how many lines, the view index of the
    /// first line). Set by the table helper on each frame.
    pub table_rows: Option<(u16, u16, usize)>,
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
            sort: 0,
            selected: [0; 5],
            prompt: None,
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
            page: 10,
            totals: Vec::new(),
            supplier_totals: Vec::new(),
            load_problems: None,
            similar: None,
            details: false,
            deliveries: None,
            delivery_problem: None,
            route_decisions: HashMap::new(),
            planning_routes: false,
            delivery_settings: Default::default(),
            delivery_map: false,
            braille: utf8_locale(),
            generation: 0,
            table_rows: None,
        }
    }

    /// The data has been imported and the plan's slow half computed.
    /// Returns the delivery planning run to start, if one is needed.
    pub fn on_loaded(&mut self, loaded: Loaded) -> Vec<Effect> {
        self.loading = None;
        self.load_problems = None;
        if let Ok(s) = self.workspace.load_scenario("what-if") {
            self.scenario = s;
        }
        self.loaded = Some(loaded);
        if let Err(e) = self.workspace.save_sources(&self.loaded_sources()) {
            self.error = Some(format!("could not remember the data: {e:#}"));
        }
        self.recompute();
        self.reload_decisions();
        self.generation += 1;
        let provisional = self.provisional();
        let mut effects = self.load_deliveries();
        self.status = if provisional {
            "data loaded; a provisional plan from 28-day averages while champions are chosen and safety stock calibrated ..."
                .into()
        } else {
            "data loaded; baseline forecasts and the restock plan are ready".into()
        };
        if self.planning_routes {
            self.status.push_str("; planning the day's routes");
        } else if self.deliveries.is_some() && !provisional {
            self.status.push_str("; delivery routes from the saved plan");
        }
        if provisional && let Some(l) = &self.loaded {
            effects.push(Effect::Refine {
                generation: self.generation,
                dataset: l.dataset.clone(),
                key: l.cache_key.clone(),
            });
        }
        effects
    }

    /// A left click at (`x`, `y`): a tab in the tab bar, a row of the
    /// table. Ignored while a prompt, a question or the help is open.
    /// Returns whether anything changed.
    pub fn click(&mut self, x: u16, y: u16) -> bool {
        if self.prompt.is_some() || self.confirm.is_some() || self.help || self.details {
            return false;
        }
        if y == 0 {
            // The tab bar: " 1 Data  2 Training ..." (see draw::tab_bar).
            let mut at = 0u16;
            for (i, t) in Tab::ALL.iter().enumerate() {
                let w = format!(" {} {} ", i + 1, t.title()).chars().count() as u16;
                if x >= at && x < at + w {
                    self.update(Action::GoTab(i));
                    return true;
                }
                at += w;
            }
            return false;
        }
        let Some((top, rows, first)) = self.table_rows else {
            return false;
        };
        if y < top || y >= top + rows {
            return false;
        }
        let n = self.view_len();
        let i = first + usize::from(y - top);
        if i >= n {
            return false;
        }
        self.selected[self.tab.index()] = i;
        true
    }

    /// The wheel: `lines` down (negative: up).
    pub fn wheel(&mut self, lines: i64) -> bool {
        if self.prompt.is_some() || self.confirm.is_some() || self.help {
            return false;
        }
        self.move_by(lines);
        true
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
                    l.provisional = false;
                }
                self.recompute();
                self.refresh_totals();
                self.status = "champions chosen and safety stock calibrated: the plan is final".into();
            }
            Err(e) => self.error = Some(format!("the plan could not be finished: {e}")),
        }
        Vec::new()
    }

    /// Decisions wait for the final plan: a provisional line would change.
    fn provisional_refusal(&mut self) -> bool {
        if self.provisional() {
            self.status =
                "the plan is provisional for a few seconds more (champions and safety stock on the way); decide then"
                    .into();
            true
        } else {
            false
        }
    }

    /// The import failed: nothing changes (the data already loaded stays),
    /// and the Data tab shows every problem with its file, row and column.
    pub fn on_load_failed(&mut self, message: String) {
        self.loading = None;
        self.error = Some(format!(
            "the import failed, nothing was changed: {}",
            message
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("see the Data tab")
        ));
        self.load_problems = Some(message);
        self.tab = Tab::Data;
    }

    fn loaded_sources(&self) -> DataSources {
        self.loaded.as_ref().map(|l| l.sources.clone()).unwrap_or_default()
    }

    /// The plan and the tables from the base and the what-if scenario.
    pub fn recompute(&mut self) {
        let Some(l) = &self.loaded else { return };
        let scenario = (!self.scenario.overrides.is_empty()).then_some(&self.scenario);
        self.plan = Some(l.base.plan(&l.dataset, scenario));
        let overridden: std::collections::HashSet<&str> = self
            .scenario
            .overrides
            .iter()
            .flat_map(|o| o.skus.iter().map(String::as_str))
            .collect();
        let bt = &l.base.backtest;
        let fc: HashMap<(&str, &str), &SeriesForecast> = l
            .base
            .forecasts
            .iter()
            .map(|f| ((f.sku.as_str(), f.warehouse.as_str()), f))
            .collect();
        self.forecast_rows = l
            .dataset
            .demand
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let choice = l.base.champions.final_choice.get(i).copied().flatten();
                let f = fc.get(&(s.sku.as_str(), s.warehouse.as_str()));
                let sum = |n: usize| f.map_or(0.0, |f| f.p50.iter().take(n).sum::<f64>());
                let mase = choice.and_then(|m| {
                    let acc = bt.series_total(i, m);
                    let m = acc.metrics();
                    m.mase.is_finite().then_some(m.mase)
                });
                ForecastRow {
                    series: i,
                    sku: s.sku.clone(),
                    warehouse: s.warehouse.clone(),
                    method: choice
                        .and_then(|m| bt.methods.get(m).cloned())
                        .unwrap_or_else(|| "-".into()),
                    next7: sum(7),
                    horizon_total: sum(usize::MAX),
                    mase,
                    overridden: overridden.contains(s.sku.as_str()),
                }
            })
            .collect();
        self.refresh_totals();
    }

    /// Recompute the totals by warehouse (after the plan or a decision
    /// changed).
    pub fn refresh_totals(&mut self) {
        type Sums = std::collections::BTreeMap<String, (f64, f64)>;
        let mut by_wh: Sums = Default::default();
        let mut by_supplier: Sums = Default::default();
        if let Some(plan) = &self.plan {
            for l in plan.lines.iter().filter(|l| l.order_qty > 0) {
                let (state, _, qty) = self.state_of(l);
                let cost = f64::from(qty.unwrap_or(l.order_qty)) * l.unit_cost;
                let approved = if state == State::Approved { cost } else { 0.0 };
                for (map, key) in [
                    (&mut by_wh, l.warehouse.clone()),
                    (
                        &mut by_supplier,
                        l.supplier.clone().unwrap_or_else(|| "(no supplier)".into()),
                    ),
                ] {
                    let e = map.entry(key).or_default();
                    e.0 += cost;
                    e.1 += approved;
                }
            }
        }
        self.totals = by_wh.into_iter().map(|(w, (a, b))| (w, a, b)).collect();
        self.supplier_totals = by_supplier.into_iter().map(|(w, (a, b))| (w, a, b)).collect();
        self.supplier_totals.sort_by(|a, b| b.1.total_cmp(&a.1));
    }

    fn reload_decisions(&mut self) {
        match self.workspace.audit_log().load() {
            Ok(loaded) => {
                self.decisions = approval::replay(&loaded.records, "restock");
                self.route_decisions = approval::replay(&loaded.records, crate::plan::delivery::PLAN);
                if loaded.torn_tail {
                    self.status = "the audit log ended in a half-written line (a crash); it was cut".into();
                }
            }
            Err(e) => self.error = Some(format!("reading the audit log: {e:#}")),
        }
        self.refresh_totals();
    }

    pub fn state_of(&self, l: &crate::plan::restock::RestockLine) -> (State, bool, Option<u32>) {
        let key = vec![l.sku.clone(), l.warehouse.clone()];
        let (s, review, d) = approval::state_of(&self.decisions, &key, &restock_fingerprint(l));
        (s, review, d.and_then(|d| d.qty))
    }

    fn matches(&self, text: &[&str]) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        text.iter().any(|t| t.to_lowercase().contains(&f))
    }

    /// Indices of the plan lines shown (filtered, sorted).
    pub fn restock_view(&self) -> Vec<usize> {
        let Some(plan) = &self.plan else { return Vec::new() };
        let mut v: Vec<usize> = plan
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.order_qty > 0 || self.state_of(l).0 != State::Proposed)
            .filter(|(_, l)| {
                let supplier = l.supplier.as_deref().unwrap_or("");
                self.matches(&[&l.sku, &l.warehouse, &l.title, supplier])
            })
            .map(|(i, _)| i)
            .collect();
        match self.sort % 3 {
            1 => v.sort_by(|a, b| plan.lines[*b].line_cost.total_cmp(&plan.lines[*a].line_cost)),
            2 => v.sort_by_key(|i| plan.lines[*i].stockout_without.unwrap_or(NaiveDate::MAX)),
            _ => {}
        }
        v
    }

    /// Indices into `forecast_rows` shown (filtered, sorted).
    pub fn forecast_view(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .forecast_rows
            .iter()
            .enumerate()
            .filter(|(_, r)| self.matches(&[&r.sku, &r.warehouse, &r.method]))
            .map(|(i, _)| i)
            .collect();
        let rows = &self.forecast_rows;
        match self.sort % 3 {
            1 => v.sort_by(|a, b| rows[*b].horizon_total.total_cmp(&rows[*a].horizon_total)),
            2 => v.sort_by(|a, b| rows[*b].mase.unwrap_or(0.0).total_cmp(&rows[*a].mase.unwrap_or(0.0))),
            _ => {}
        }
        v
    }

    fn view_len(&self) -> usize {
        match self.tab {
            Tab::Restock => self.restock_view().len(),
            Tab::Forecasts => self.forecast_view().len(),
            Tab::Deliveries => self.delivery_view().len(),
            _ => 0,
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

    pub fn selected_line(&self) -> Option<&crate::plan::restock::RestockLine> {
        let view = self.restock_view();
        let idx = *view.get(self.selected[Tab::Restock.index()])?;
        self.plan.as_ref()?.lines.get(idx)
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
            Err(e) => self.error = Some(format!("the decision was not saved: {e:#}")),
        }
    }

    fn decide(&mut self, action: approval::Action) {
        let Some(l) = self.selected_line() else {
            self.status = "no line selected".into();
            return;
        };
        let key = vec![l.sku.clone(), l.warehouse.clone()];
        let what = format!(
            "{} {} at {}",
            if action == approval::Action::Approve {
                "approved"
            } else {
                "rejected"
            },
            l.sku,
            l.warehouse
        );
        let rec = Record::new("restock", key, restock_fingerprint(l), action, None);
        self.record(vec![rec], &what);
    }

    fn approve_all(&mut self) {
        let Some(plan) = &self.plan else { return };
        let records: Vec<Record> = self
            .restock_view()
            .into_iter()
            .map(|i| &plan.lines[i])
            .filter(|l| l.order_qty > 0 && self.state_of(l).0 != State::Approved)
            .map(|l| {
                Record::new(
                    "restock",
                    vec![l.sku.clone(), l.warehouse.clone()],
                    restock_fingerprint(l),
                    approval::Action::Approve,
                    None,
                )
            })
            .collect();
        let n = records.len();
        self.record(records, &format!("approved {n} lines"));
    }

    /// What the what-ifs change against the base plan, on the status line.
    fn compare(&mut self) {
        let (Some(l), Some(plan)) = (&self.loaded, &self.plan) else {
            return;
        };
        if self.scenario.overrides.is_empty() {
            self.status = "no what-ifs: the plan is the base plan".into();
            return;
        }
        let base = l.base.plan(&l.dataset, None);
        let c = crate::plan::scenario::compare(&base, plan);
        self.status = format!(
            "what-if vs base: {} lines change; units {} -> {}; cost {:.0} -> {:.0}; short lines {} -> {}",
            c.changed.len(),
            c.base_qty,
            c.scenario_qty,
            c.base_cost,
            c.scenario_cost,
            c.base_stockouts,
            c.scenario_stockouts
        );
    }

    pub fn default_export_path(&self) -> PathBuf {
        self.workspace.root.join("exports").join(format!(
            "restock-approved-{}.csv",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        ))
    }

    fn export(&mut self, path: &str) {
        let Some(plan) = &self.plan else { return };
        let rows = restock_rows(plan, &self.decisions, false);
        self.write_export(path, &rows, "approved lines");
    }

    /// Write export rows to the path typed (its folder made if needed);
    /// the message line says where they went, or why not.
    fn write_export<T: serde::Serialize>(&mut self, path: &str, rows: &[T], what: &str) {
        let path = PathBuf::from(path.trim());
        let result = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(anyhow::Error::from)
            .and_then(|_| write_csv(&path, rows));
        match result {
            Ok(()) => self.status = format!("exported {} {what} to {}", rows.len(), path.display()),
            Err(e) => self.error = Some(format!("export failed: {e:#}")),
        }
    }

    /// "+20% [2026-12-01..2026-12-24] reason" or "=15 reason" (units a day).
    pub fn parse_edit(&self, sku: &str, input: &str) -> Result<Override, String> {
        let mut parts = input.split_whitespace();
        let change = parts.next().ok_or("type a change, e.g. +20% promotion")?;
        let change = if let Some(p) = change.strip_suffix('%') {
            Change::Percent(
                p.parse()
                    .map_err(|_| format!("{change:?}: expected a percentage like +20%"))?,
            )
        } else if let Some(q) = change.strip_prefix('=') {
            let q: f64 = q.parse().map_err(|_| format!("{change:?}: expected =N units a day"))?;
            if q < 0.0 {
                return Err("units a day cannot be negative".into());
            }
            Change::Quantity(q)
        } else {
            return Err(format!("{change:?}: expected +N% / -N% or =N units a day"));
        };
        let rest: Vec<&str> = parts.collect();
        let start = self.plan.as_ref().map(|p| p.plan_date).unwrap_or_default();
        let (from, to, reason) = match rest.first().and_then(|r| r.split_once("..")) {
            Some((a, b)) => {
                let d = |s: &str| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?}: expected a date YYYY-MM-DD"))
                };
                (d(a)?, d(b)?, rest[1..].join(" "))
            }
            None => (start, start + chrono::Days::new(27), rest.join(" ")),
        };
        if to < from {
            return Err(format!("the range {from}..{to} ends before it starts"));
        }
        if reason.trim().is_empty() {
            return Err("say why (a reason is kept with every what-if)".into());
        }
        Ok(Override {
            skus: vec![sku.to_string()],
            warehouse: None,
            from,
            to,
            change,
            reason,
        })
    }

    fn submit_prompt(&mut self, prompt: Prompt, input: String) -> Vec<Effect> {
        match prompt {
            Prompt::Filter => {
                self.filter = input;
                self.selected[self.tab.index()] = 0;
            }
            Prompt::ExportPath => self.export(&input),
            Prompt::ExportDeliveries => self.export_deliveries(&input),
            Prompt::MoveOrder => self.move_order(&input),
            Prompt::ImportPath => {
                let path = PathBuf::from(input.trim());
                if !path.exists() {
                    self.error = Some(format!("{}: no such file or folder", path.display()));
                    return Vec::new();
                }
                let mut sources = self.loaded_sources();
                let abs = std::path::absolute(&path).unwrap_or(path);
                if !sources.paths.contains(&abs) {
                    sources.paths.push(abs);
                }
                self.loading = Some("importing".into());
                return vec![Effect::Load(sources)];
            }
            Prompt::EditDemand { sku } => match self.parse_edit(&sku, &input) {
                Ok(o) => {
                    let text = format!("{} {} {}..{}: {}", sku, o.change, o.from, o.to, o.reason);
                    self.scenario.overrides.push(o);
                    match self.workspace.save_scenario(&self.scenario) {
                        Ok(()) => self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string()),
                        Err(e) => self.error = Some(format!("the what-if was not saved: {e:#}")),
                    }
                    self.recompute();
                    self.status = format!("what-if {text}; plan recomputed");
                }
                Err(e) => self.error = Some(e),
            },
            Prompt::Mapping => match input.trim().parse::<crate::data::ColumnMap>() {
                Ok(map) => {
                    let mut sources = self.loaded_sources();
                    sources.map = map;
                    self.loading = Some("importing with the new mapping".into());
                    return vec![Effect::Load(sources)];
                }
                Err(e) => self.error = Some(e.to_string()),
            },
            Prompt::ScenarioName => {
                let name = input.trim().to_string();
                let s = Scenario {
                    name: name.clone(),
                    overrides: self.scenario.overrides.clone(),
                };
                match self.workspace.save_scenario(&s) {
                    Ok(()) => {
                        self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string());
                        self.status = format!(
                            "saved {} what-ifs as scenario {name:?} (skuplan scenario list shows it)",
                            s.overrides.len()
                        );
                    }
                    Err(e) => self.error = Some(format!("not saved: {e:#}")),
                }
            }
            Prompt::OpenScenario => {
                let name = input.trim();
                match self.workspace.load_scenario(name) {
                    Ok(s) => {
                        self.scenario.overrides = s.overrides;
                        match self.workspace.save_scenario(&self.scenario) {
                            Ok(()) => self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string()),
                            Err(e) => self.error = Some(format!("the what-ifs were not saved: {e:#}")),
                        }
                        self.recompute();
                        self.status = format!(
                            "scenario {name:?} opened: {} what-ifs, plan recomputed (C compares with the base)",
                            self.scenario.overrides.len()
                        );
                    }
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
            Prompt::SetQty { key } => match input.trim().parse::<u32>() {
                Ok(q) => {
                    if let Some(l) = self.plan.as_ref().and_then(|p| p.lines.iter().find(|l| l.key() == key)) {
                        let rec = Record::new(
                            "restock",
                            vec![key.0.clone(), key.1.clone()],
                            restock_fingerprint(l),
                            approval::Action::SetQty { qty: q },
                            None,
                        );
                        self.record(vec![rec], &format!("{} at {}: quantity set to {q}", key.0, key.1));
                    }
                }
                Err(_) => self.error = Some(format!("{input:?}: expected a whole number of units")),
            },
        }
        Vec::new()
    }

    /// Apply one action.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.error = None;
        if let Some((prompt, mut buf)) = self.prompt.take() {
            match action {
                Action::Char(c) => {
                    buf.push(c);
                    self.prompt = Some((prompt, buf));
                }
                Action::Backspace => {
                    buf.pop();
                    self.prompt = Some((prompt, buf));
                }
                Action::Complete => {
                    if prompt == Prompt::ImportPath || prompt == Prompt::ExportPath {
                        buf = complete_path(&buf);
                    }
                    self.prompt = Some((prompt, buf));
                }
                Action::Submit => return self.submit_prompt(prompt, buf),
                Action::Back => {
                    if prompt == Prompt::Filter {
                        self.filter.clear();
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
                },
                _ => self.status = "cancelled".into(),
            }
            return Vec::new();
        }
        if self.help {
            if matches!(action, Action::Help | Action::Back | Action::Quit) {
                self.help = false;
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
            Action::Help => self.help = true,
            Action::Submit if self.tab == Tab::Deliveries => {
                self.delivery_map = !self.delivery_map;
                self.status = if self.delivery_map {
                    "the map of the selected route's warehouse (Enter: back to the stops)".into()
                } else {
                    "the stops of the selected route (Enter: the map)".into()
                };
            }
            Action::Submit if self.tab == Tab::Restock && self.selected_line().is_some() => {
                self.details = true;
            }
            Action::Back if !self.filter.is_empty() => {
                self.filter.clear();
                self.status = "filter cleared".into();
            }
            Action::Approve if self.tab == Tab::Deliveries => self.decide_route(approval::Action::Approve),
            Action::Reject if self.tab == Tab::Deliveries => self.decide_route(approval::Action::Reject),
            Action::ApproveAll if self.tab == Tab::Deliveries => self.confirm_approve_routes(),
            Action::Undo if self.tab == Tab::Deliveries => {
                let rec = Record::new(
                    crate::plan::delivery::PLAN,
                    Vec::new(),
                    String::new(),
                    approval::Action::Undo,
                    None,
                );
                self.record(vec![rec], "undid the last route decision");
            }
            Action::Lock if self.tab == Tab::Deliveries => self.toggle_lock(),
            Action::MoveOrder if self.tab == Tab::Deliveries => self.ask_move(),
            Action::Reoptimise if self.tab == Tab::Deliveries => return self.reoptimise(),
            Action::Export if self.tab == Tab::Deliveries => {
                let p = self.default_delivery_export_path();
                self.prompt = Some((Prompt::ExportDeliveries, p.display().to_string()));
            }
            Action::Filter if matches!(self.tab, Tab::Forecasts | Tab::Restock | Tab::Deliveries) => {
                self.prompt = Some((Prompt::Filter, self.filter.clone()));
            }
            Action::Sort if matches!(self.tab, Tab::Forecasts | Tab::Restock) => {
                self.sort = (self.sort + 1) % 3;
                self.selected[self.tab.index()] = 0;
            }
            Action::Approve | Action::Reject | Action::ApproveAll | Action::SetQty
                if self.tab == Tab::Restock && self.provisional_refusal() => {}
            Action::Approve if self.tab == Tab::Restock => self.decide(approval::Action::Approve),
            Action::Reject if self.tab == Tab::Restock => self.decide(approval::Action::Reject),
            Action::ApproveAll if self.tab == Tab::Restock => {
                let count = self.restock_view().len();
                self.confirm = Some(Confirm::ApproveAll { count });
            }
            Action::Undo if self.tab == Tab::Restock => {
                let rec = Record::new("restock", Vec::new(), String::new(), approval::Action::Undo, None);
                self.record(vec![rec], "undid the last decision");
            }
            Action::SetQty if self.tab == Tab::Restock => {
                if let Some(l) = self.selected_line() {
                    let key = l.key();
                    self.prompt = Some((Prompt::SetQty { key }, l.order_qty.to_string()));
                }
            }
            Action::Edit if matches!(self.tab, Tab::Forecasts | Tab::Restock) => {
                if let Some(sku) = self.selected_sku() {
                    self.prompt = Some((Prompt::EditDemand { sku }, String::new()));
                }
            }
            Action::DropEdits if matches!(self.tab, Tab::Forecasts | Tab::Restock) => {
                self.scenario.overrides.clear();
                if let Err(e) = self.workspace.discard_scenario("what-if") {
                    tracing::warn!("discarding the what-if: {e:#}");
                }
                self.recompute();
                self.status = "what-ifs discarded; back to the base forecast".into();
            }
            Action::Compare if matches!(self.tab, Tab::Forecasts | Tab::Restock) => self.compare(),
            Action::SaveScenario if matches!(self.tab, Tab::Forecasts | Tab::Restock) => {
                if self.scenario.overrides.is_empty() {
                    self.status = "no what-ifs to save: press e on a SKU first".into();
                } else {
                    self.prompt = Some((Prompt::ScenarioName, String::new()));
                }
            }
            Action::OpenScenario if matches!(self.tab, Tab::Forecasts | Tab::Restock) => {
                match self.workspace.list_scenarios() {
                    Ok(names) => {
                        let names: Vec<String> = names.into_iter().filter(|n| n != "what-if").collect();
                        if names.is_empty() {
                            self.status = "no saved scenarios yet: S saves the what-ifs as one".into();
                        } else {
                            self.status = format!("saved scenarios: {}", names.join(", "));
                            self.prompt = Some((Prompt::OpenScenario, String::new()));
                        }
                    }
                    Err(e) => self.error = Some(format!("{e:#}")),
                }
            }
            Action::Export if self.tab == Tab::Restock => {
                let p = self.default_export_path();
                self.prompt = Some((Prompt::ExportPath, p.display().to_string()));
            }
            Action::Remap if self.tab == Tab::Data => {
                let current = self.loaded_sources().map.to_string();
                self.prompt = Some((Prompt::Mapping, current));
            }
            Action::Similar if self.tab == Tab::Forecasts => {
                let (Some(sku), Some(l), Some(dir)) = (self.selected_sku(), &self.loaded, &self.model_dir) else {
                    self.status = "similar products need the encoder (assets/models or --model DIR)".into();
                    return Vec::new();
                };
                self.status = format!("finding products like {sku} ...");
                return vec![Effect::Engine(EngineCommand::Similar {
                    model_dir: dir.clone(),
                    data: l.dataset.clone(),
                    sku,
                    top: 5,
                })];
            }
            Action::Import if self.tab == Tab::Data => {
                self.prompt = Some((Prompt::ImportPath, String::new()));
            }
            Action::StartTraining if self.tab == Tab::Training => return self.start_training(),
            Action::PauseResume if self.tab == Tab::Training && self.training.running => {
                let cmd = if self.training.paused {
                    EngineCommand::Resume
                } else {
                    EngineCommand::Pause
                };
                return vec![Effect::Engine(cmd)];
            }
            Action::CancelTraining if self.tab == Tab::Training && self.training.running => {
                self.status = "cancelling after this step".into();
                return vec![Effect::Engine(EngineCommand::Cancel)];
            }
            Action::CycleMode if self.tab == Tab::Training && !self.training.running => {
                self.train_config.mode = match self.train_config.mode {
                    Mode::Head => Mode::TopK,
                    Mode::TopK => Mode::Full,
                    Mode::Full => Mode::Head,
                };
            }
            Action::MoreEpochs if self.tab == Tab::Training && !self.training.running => {
                self.train_config.epochs = (self.train_config.epochs + 1).min(200);
            }
            Action::FewerEpochs if self.tab == Tab::Training && !self.training.running => {
                self.train_config.epochs = self.train_config.epochs.saturating_sub(1).max(1);
            }
            _ => {}
        }
        Vec::new()
    }

    fn start_training(&mut self) -> Vec<Effect> {
        if self.training.running {
            self.status = "training is already running".into();
            return Vec::new();
        }
        let Some(l) = &self.loaded else {
            self.status = "no data yet".into();
            return Vec::new();
        };
        let Some(model_dir) = self.model_dir.clone() else {
            self.error = Some(
                "no encoder model: the shipped one is missing (assets/models); start skuplan with --model DIR".into(),
            );
            return Vec::new();
        };
        let out = self
            .workspace
            .root
            .join("runs")
            .join(chrono::Local::now().format("%Y%m%d-%H%M%S").to_string());
        self.training = TrainingView {
            running: true,
            started: Some(chrono::Local::now().format("%H:%M:%S").to_string()),
            run_dir: Some(out.clone()),
            ..TrainingView::default()
        };
        self.status = format!(
            "training {} epochs in {} mode",
            self.train_config.epochs, self.train_config.mode
        );
        vec![Effect::Engine(EngineCommand::Train(Box::new(
            crate::engine::events::TrainJob {
                dataset: l.dataset.clone(),
                sources: l.sources.clone(),
                train_end: None,
                model_dir,
                config: self.train_config.clone(),
                out,
                device: crate::engine::DeviceChoice::Auto,
                resume: false,
            },
        )))]
    }

    /// Fold an engine event into the state; may ask the engine for more.
    pub fn on_engine(&mut self, ev: EngineEvent) -> Vec<Effect> {
        let t = &mut self.training;
        match ev {
            EngineEvent::Device { label, reason } => t.device = format!("{label} ({reason})"),
            EngineEvent::Started {
                train_samples,
                texts,
                parameters,
                ..
            } => {
                t.outcome = Some(format!(
                    "{train_samples} training windows, {texts} texts, {parameters} trainable parameters"
                ));
            }
            EngineEvent::Progress(p) => {
                push_bounded(&mut t.loss, (p.step as f64, p.train_loss));
                t.last = Some(p);
            }
            EngineEvent::EpochEnd {
                epoch,
                validation,
                best,
                ..
            } => {
                let step = t.last.map_or(0.0, |p| p.step as f64);
                push_bounded(&mut t.val, (step, validation.mse));
                if best {
                    t.best = Some(format!("epoch {epoch}: validation MSE {:.4}", validation.mse));
                }
            }
            EngineEvent::Paused => {
                t.paused = true;
                self.status = "training paused".into();
            }
            EngineEvent::Resumed => {
                t.paused = false;
                self.status = "training resumed".into();
            }
            EngineEvent::Finished(s) => {
                t.running = false;
                t.paused = false;
                let mut outcome = s.describe().lines().take(2).collect::<Vec<_>>().join("  ");
                if !s.correction.losses.is_empty() {
                    outcome.push_str(&format!(
                        "  the head's correction to the base forecast: {:.0} % kept (best on validation)",
                        100.0 * s.correction.chosen
                    ));
                }
                t.outcome = Some(outcome);
                self.status = format!("training {:?}; forecasting with the model", s.stop);
                if let Some(l) = &self.loaded
                    && s.best_epoch > 0
                {
                    let last = l.dataset.date_range().map(|(_, e)| e);
                    return vec![Effect::Engine(EngineCommand::Predict {
                        run: Some(s.dir.clone()),
                        data: l.dataset.clone(),
                        origin: last,
                    })];
                }
            }
            EngineEvent::Failed { message } => {
                t.running = false;
                t.paused = false;
                self.error = Some(format!("engine: {message}"));
            }
            EngineEvent::Forecasts { forecasts, .. } => {
                self.model_forecasts = forecasts
                    .iter()
                    .map(|f| ((f.sku.clone(), f.warehouse.clone()), f.clone()))
                    .collect();
                self.status = format!("the fine-tuned model forecast {} series", forecasts.len());
            }
            EngineEvent::Loaded { summary, .. } => self.status = summary,
            EngineEvent::Similar { sku, items } => {
                self.status = format!("{} products like {sku}", items.len());
                self.similar = Some((sku, items));
            }
            EngineEvent::Evaluated { report, .. } => self.status = report.lines().next().unwrap_or("").to_string(),
        }
        Vec::new()
    }

    /// The keys that work here, for the bottom bar.
    pub fn hints(&self) -> &'static str {
        if self.prompt.is_some() {
            return "Enter accept  Esc cancel  Tab complete";
        }
        if self.confirm.is_some() {
            return "y yes  any other key: no";
        }
        match self.tab {
            Tab::Data => "i import  M column mapping  1-5/Tab tabs  ? help  q quit",
            Tab::Training => "t start  p pause/resume  c cancel  m mode  +/- epochs  ? help  q quit",
            Tab::Forecasts => "j/k move  / filter  s sort  e what-if  n similar  D drop what-ifs  ? help",
            Tab::Restock => "a approve  r reject  A all  u undo  = qty  e what-if  C compare  x export  ? help",
            Tab::Deliveries => "a approve  r reject  A all  u undo  v move  L lock  o re-plan  Enter map  x export",
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

/// Complete a path prefix with the longest common prefix of the matches.
pub fn complete_path(input: &str) -> String {
    let p = std::path::Path::new(input);
    let (dir, prefix) = if input.ends_with('/') {
        (p.to_path_buf(), String::new())
    } else {
        (
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), |d| d.to_path_buf()),
            p.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return input.to_string();
    };
    let mut names: Vec<(String, bool)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().is_dir()))
        .filter(|(n, _)| n.starts_with(&prefix))
        .collect();
    names.sort();
    let Some(first) = names.first() else {
        return input.to_string();
    };
    let mut common = first.0.clone();
    for (n, _) in &names[1..] {
        while !n.starts_with(&common) {
            common.pop();
        }
    }
    let base = input.strip_suffix(&prefix).unwrap_or(input);
    let mut out = format!("{base}{common}");
    if names.len() == 1 && first.1 {
        out.push('/');
    }
    out
}
