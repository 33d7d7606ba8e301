//! The Deliveries tab's state: the day's delivery plan, routes approved or
//! rejected like restock lines (same audit log, plan "deliveries"), orders
//! moved between vehicles, routes locked, the rest re-planned off the UI
//! thread.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::{App, Effect, Prompt, Tab};
use crate::plan::approval::{self, Record, State};
use crate::plan::delivery::{self, DeliveryPlan, DeliveryProblem, DeliveryRoute, DeliverySettings, PLAN};
use crate::plan::route_drift;

/// A planning run for the runner to do off the UI thread.
pub struct DeliveryJob {
    pub problem: Arc<DeliveryProblem>,
    pub settings: DeliverySettings,
    pub keep: Option<DeliveryPlan>,
    /// Approved routes of `keep` held as if locked, for this run only.
    pub hold: Vec<String>,
}

/// What the Deliveries tab's lower pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaneView {
    /// The selected route's stops (with the map beside them when wide).
    #[default]
    Stops,
    /// The map of the selected route's warehouse (narrow screens).
    Map,
    /// Every order not served, with its reason.
    NotServed,
}

/// The lower pane: its view, and its scroll as the last frame drew it.
#[derive(Debug, Clone, Default)]
pub struct LowerPane {
    pub view: PaneView,
    /// The first row shown (stops or wrapped lines of the orders).
    pub scroll: usize,
    /// Whose list `scroll` is for (the route's vehicle; empty for the
    /// orders not served).
    pub scroll_of: String,
    /// Rows the pane showed, and the last first row that still fills it
    /// (set by the draw).
    pub page: usize,
    pub last: usize,
    /// The stops and the map show side by side (a wide terminal).
    pub wide: bool,
}

impl DeliveryJob {
    pub fn run(self) -> DeliveryPlan {
        delivery::plan_holding(&self.problem, &self.settings, self.keep.as_ref(), &self.hold)
    }
}

impl App {
    /// After a load: the day's problem, and the saved plan when it still
    /// covers exactly the day's orders as they are; otherwise a planning
    /// run (keeping the saved plan's locked routes, and its approved ones
    /// whose orders did not change).
    /// Also what it kept aside, or which routes changed, to be said once
    /// the load's own message is.
    pub(super) fn load_deliveries(&mut self) -> (Vec<Effect>, Option<String>) {
        // A run already under way plans the orders as they were: its
        // routes are dropped when it ends, and these orders planned then
        // (they were saved as the workspace's plan, for orders gone).
        if self.planning_routes {
            self.routes_outdated = true;
            return (Vec::new(), None);
        }
        self.delivery_problem = None;
        let Some(l) = &self.loaded else {
            return (Vec::new(), None);
        };
        if l.dataset.orders.is_empty() || l.dataset.fleet.is_empty() {
            self.deliveries = None;
            return (Vec::new(), None);
        }
        let date = delivery::default_date(&l.dataset.orders, chrono::Local::now().date_naive());
        let problem = match DeliveryProblem::build(&l.dataset, date, None) {
            Ok(p) => Arc::new(p),
            Err(e) => {
                self.error = Some(format!("delivery orders: {e:#}"));
                return (Vec::new(), None);
            }
        };
        self.delivery_problem = Some(problem.clone());
        // The day's plan, also when another day's was planned since.
        let saved = match self.workspace.deliveries_for(date) {
            Ok(s) => s.filter(|p| p.matrix_file.is_none()),
            Err(e) => {
                self.error = Some(format!("{e:#}"));
                None
            }
        };
        if let Some(plan) = saved {
            let changed = route_drift::changed_routes(&plan, &l.dataset);
            if holds_the_orders(&plan, &problem) && changed.is_empty() {
                // One kept aside for this day becomes the workspace's plan
                // again, so `approve deliveries` in another shell acts on
                // the routes shown (it kept acting on the other day's).
                let current = self.workspace.load_deliveries().ok().flatten();
                if current.is_some_and(|c| c.date == plan.date) {
                    self.keeping_lines(|app| app.deliveries = Some(plan));
                    return (Vec::new(), None);
                }
                return (Vec::new(), self.set_deliveries(plan, false));
            }
            // Approved routes are held as they are, unless their own
            // orders changed: those are planned again and asked about anew.
            let mut hold = delivery::approved_unlocked(&plan, &self.route_decisions);
            hold.retain(|v| !changed.iter().any(|c| &c.vehicle == v));
            // Said after the load's own message, which says they are
            // being planned.
            let why = (!changed.is_empty()).then(|| {
                format!(
                    "the orders changed since the routes were planned ({}): {}",
                    route_drift::describe(&changed),
                    route_drift::what_replanning_does(&changed)
                )
            });
            return (
                self.replan(Some(plan), hold, "the orders changed: re-planning the routes"),
                why,
            );
        }
        (self.replan(None, Vec::new(), "planning the day's routes"), None)
    }

    /// Start a planning run; locked routes of `keep` stay as they are.
    fn replan(&mut self, keep: Option<DeliveryPlan>, hold: Vec<String>, what: &str) -> Vec<Effect> {
        let Some(problem) = self.delivery_problem.clone() else {
            self.status = "no delivery orders and fleet in the data".into();
            return Vec::new();
        };
        if self.planning_routes {
            self.status = "the routes are being planned already".into();
            return Vec::new();
        }
        self.planning_routes = true;
        self.status = format!("{what} ...");
        let settings = DeliverySettings {
            date: problem.date,
            ..self.delivery_settings.clone()
        };
        vec![Effect::PlanDeliveries(DeliveryJob {
            problem,
            settings,
            keep,
            hold,
        })]
    }

    /// A planning run finished: its routes are kept and saved, unless the
    /// data changed while it ran; then they are dropped and the day's
    /// orders as they are now are planned (the effects to run).
    pub fn on_deliveries(&mut self, plan: DeliveryPlan) -> Vec<Effect> {
        self.planning_routes = false;
        // Routes for orders as they still are (new sales, same orders) are
        // kept: only a change to the day's orders or fleet drops them.
        if std::mem::take(&mut self.routes_outdated) && !self.fits_the_data(&plan) {
            let (effects, why) = self.load_deliveries();
            let mut said = "the data changed while the routes were planned: planned again for the orders as they \
                            are now"
                .to_string();
            if effects.is_empty() {
                said =
                    "the data changed while the routes were planned: those routes were dropped (o plans again)".into();
            }
            self.status = match why {
                Some(why) => format!("{said}; {why}"),
                None => said,
            };
            return effects;
        }
        self.status = format!(
            "routes planned: {} routes, {} stops, {:.0} km, {} unserved",
            plan.routes.len(),
            plan.stop_count(),
            plan.distance_km(),
            plan.unserved.len()
        );
        if let Some(aside) = self.set_deliveries(plan, false) {
            self.status = format!("{}; {aside}", self.status);
        }
        Vec::new()
    }

    /// Whether `plan` is for the day's orders of the data loaded now, each
    /// as it was when planned, with the fleet it was planned for.
    fn fits_the_data(&self, plan: &DeliveryPlan) -> bool {
        let Some(l) = &self.loaded else { return false };
        if l.dataset.orders.is_empty() || l.dataset.fleet.is_empty() {
            return false;
        }
        let date = delivery::default_date(&l.dataset.orders, chrono::Local::now().date_naive());
        let Ok(problem) = DeliveryProblem::build(&l.dataset, date, None) else {
            return false;
        };
        // The problem the run planned (kept while it ran) has this fleet.
        let same_fleet = self.delivery_problem.as_ref().is_some_and(|p| {
            let fleet = |p: &DeliveryProblem| p.depots.iter().flat_map(|d| d.fleet.clone()).collect::<Vec<_>>();
            fleet(p) == fleet(&problem)
        });
        plan.date == problem.date
            && same_fleet
            && holds_the_orders(plan, &problem)
            && route_drift::changed_routes(plan, &l.dataset).is_empty()
    }

    /// Whether a change to the routes must wait for the planning run under
    /// way (its routes would replace the change, saved over it); says so.
    fn wait_for_routes(&mut self, what: &str) -> bool {
        if self.planning_routes {
            self.status = format!("the routes are being planned: {what} once they are in (they would replace it)");
        }
        self.planning_routes
    }

    /// Keep and save a changed plan; `edit`: the planner changed it (the
    /// tab bar then shows when it was saved). Says what it kept aside of
    /// another day's plan, for the caller's message.
    fn set_deliveries(&mut self, plan: DeliveryPlan, edit: bool) -> Option<String> {
        let mut said = None;
        match self.workspace.save_deliveries(&plan) {
            Ok(aside) => {
                if edit {
                    self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string());
                }
                said = aside.map(|(day, locked)| {
                    let day = day.map_or_else(|| "no date".to_string(), |d| d.to_string());
                    format!("the plan for {day} ({locked} locked routes) is kept aside for that day")
                });
            }
            Err(e) => self.error = Some(format!("the delivery plan was not saved: {e:#}")),
        }
        self.keeping_lines(|app| app.deliveries = Some(plan));
        said
    }

    /// Indices of the routes shown (filtered).
    pub fn delivery_view(&self) -> Vec<usize> {
        let Some(plan) = &self.deliveries else {
            return Vec::new();
        };
        plan.routes
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let orders: Vec<&str> = r.stops.iter().map(|s| s.order.as_str()).collect();
                let f = &self.route_filter;
                super::filter::matches_filter(f, &[&r.vehicle, &r.warehouse])
                    || super::filter::matches_filter(f, &orders)
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn selected_route(&self) -> Option<&DeliveryRoute> {
        let view = self.delivery_view();
        let i = *view.get(self.selected[Tab::Deliveries.index()])?;
        self.deliveries.as_ref()?.routes.get(i)
    }

    pub fn route_state(&self, r: &DeliveryRoute) -> (State, bool) {
        let Some(plan) = &self.deliveries else {
            return (State::Proposed, false);
        };
        let (s, review, _) = delivery::route_state(plan, r, &self.route_decisions);
        (s, review)
    }

    pub(super) fn decide_route(&mut self, action: approval::Action) {
        if self.wait_for_routes("approve or reject a route") {
            return;
        }
        let (Some(plan), Some(r)) = (&self.deliveries, self.selected_route()) else {
            self.status = "no route selected".into();
            return;
        };
        let (verb, target) = if action == approval::Action::Approve {
            ("approved", State::Approved)
        } else {
            ("rejected", State::Rejected)
        };
        // As for restock lines: a repeated decision writes nothing.
        let (state, review, _) = delivery::route_state(plan, r, &self.route_decisions);
        if state == target && !review {
            self.status = format!("the route of {} is already {verb} (u undoes it)", r.vehicle);
            return;
        }
        // A route that breaks a rule (kept locked after the data changed)
        // is not sent out approved: it is fixed first.
        if target == State::Approved && !r.problems.is_empty() {
            self.error = Some(format!(
                "the route of {} breaks: {}; move orders off it (v), or plan again (o; a locked route first unlocked with L)",
                r.vehicle,
                r.problems.join("; ")
            ));
            return;
        }
        let what = format!("{verb} the route of {}", r.vehicle);
        let rec = Record::new(PLAN, plan.key(r), r.fingerprint(), action, None);
        self.record(vec![rec], &what);
    }

    pub(super) fn approve_all_routes(&mut self) {
        let Some(plan) = &self.deliveries else { return };
        let (ok, broken): (Vec<&DeliveryRoute>, Vec<&DeliveryRoute>) = self
            .delivery_view()
            .into_iter()
            .map(|i| &plan.routes[i])
            .partition(|r| r.problems.is_empty());
        let broken = broken.len();
        let records: Vec<Record> = ok
            .into_iter()
            .filter(|r| self.route_state(r).0 != State::Approved)
            .map(|r| Record::new(PLAN, plan.key(r), r.fingerprint(), approval::Action::Approve, None))
            .collect();
        let n = records.len();
        let left = if broken > 0 {
            format!(" ({broken} that break a rule left out)")
        } else {
            String::new()
        };
        self.record(records, &format!("approved {n} routes{left}"));
    }

    pub(super) fn toggle_lock(&mut self) {
        if self.wait_for_routes("lock or unlock a route") {
            return;
        }
        let Some(r) = self.selected_route() else { return };
        let (vehicle, locked) = (r.vehicle.clone(), !r.locked);
        let Some(mut plan) = self.deliveries.clone() else {
            return;
        };
        if let Err(e) = delivery::set_locked(&mut plan, &vehicle, locked) {
            self.error = Some(format!("{e:#}"));
            return;
        }
        self.set_deliveries(plan, true);
        self.status = format!(
            "route of {vehicle} {}",
            if locked {
                "locked: re-planning keeps it"
            } else {
                "unlocked"
            }
        );
    }

    pub(super) fn ask_move(&mut self) {
        if self.deliveries.is_none() || self.wait_for_routes("move an order") {
            return;
        }
        let first = self
            .selected_route()
            .and_then(|r| r.stops.first())
            .map(|s| format!("{} ", s.order))
            .unwrap_or_default();
        self.prompt = Some((Prompt::MoveOrder, first));
    }

    /// "ORDER VEHICLE [STOP]": move an order, refused with the rule it
    /// would break.
    pub(super) fn move_order(&mut self, input: &str) {
        if self.wait_for_routes("move an order") {
            return;
        }
        let mut parts: Vec<&str> = input.split_whitespace().collect();
        // The prompt opens with the selected route's first order; a planner
        // who types "ORDER VEHICLE" in full types after it ("O1 O7 V3"):
        // the order typed is the one meant.
        let is_vehicle = |v: &str| {
            self.delivery_problem
                .as_ref()
                .is_some_and(|p| p.depots.iter().any(|d| d.fleet.iter().any(|f| f.id == v)))
        };
        // (A third word that is no stop number is the vehicle too, one the
        // fleet may not have: said as such, not as a bad stop number.)
        if parts.len() >= 3 && !is_vehicle(parts[1]) && (is_vehicle(parts[2]) || parts[2].parse::<usize>().is_err()) {
            parts.remove(0);
        }
        let (order, vehicle, position) = match parts.as_slice() {
            [o, v] => (*o, *v, None),
            [o, v, p] => match p.parse::<usize>() {
                Ok(n) if n >= 1 => (*o, *v, Some(n - 1)),
                _ => {
                    self.error = Some(format!("{p:?}: expected a stop number from 1"));
                    return;
                }
            },
            _ => {
                self.error = Some("type: ORDER VEHICLE [STOP], e.g. ORD-000012 WH-LON-V2 3".into());
                return;
            }
        };
        let (Some(problem), Some(plan)) = (&self.delivery_problem, &self.deliveries) else {
            return;
        };
        // Where it is now: a move to the same place moves nothing (it
        // locked the route all the same).
        let from = plan.routes.iter().find_map(|r| {
            r.stops
                .iter()
                .position(|s| s.order == order)
                .map(|at| (r.vehicle.clone(), at))
        });
        if let Some((v, at)) = &from
            && v == vehicle
            && position == Some(*at)
        {
            self.status = format!("{order} is already stop {} of {vehicle}: nothing moved", at + 1);
            return;
        }
        // The approved routes the move changes: their approvals lapse.
        let approved = delivery::approvals_a_move_changes(plan, &self.route_decisions, order, vehicle);
        match delivery::move_order(problem, plan, order, vehicle, position) {
            Ok(next) => {
                let at = next
                    .route(vehicle)
                    .and_then(|r| r.stops.iter().position(|s| s.order == order))
                    .map_or(0, |p| p + 1);
                self.set_deliveries(next, true);
                let lapsed = match approved.as_slice() {
                    [] => String::new(),
                    [one] => format!("; the approval of {one} is in review now"),
                    many => format!("; the approvals of {} are in review now", many.join(" and ")),
                };
                if let Some(i) = self.delivery_view().iter().position(|i| {
                    self.deliveries
                        .as_ref()
                        .is_some_and(|p| p.routes[*i].vehicle == vehicle)
                }) {
                    self.selected[Tab::Deliveries.index()] = i;
                }
                self.status = format!("{order} is now stop {at} of {vehicle}; that route is locked{lapsed}");
            }
            Err(e) => self.error = Some(format!("not moved: {e:#}")),
        }
    }

    /// `o`: plan again every route that is neither locked nor approved. An
    /// approved route is the planner's decision: re-planning kept only the
    /// locked ones, and the solver could hand an approved route's stops to
    /// another vehicle, sending the approval to review. It is held as a
    /// locked route is, for this run only.
    pub(super) fn reoptimise(&mut self) -> Vec<Effect> {
        let keep = self.deliveries.clone();
        let locked = keep
            .as_ref()
            .map_or(0, |p| p.routes.iter().filter(|r| r.locked).count());
        let hold = keep
            .as_ref()
            .map(|p| delivery::approved_unlocked(p, &self.route_decisions))
            .unwrap_or_default();
        let what = match hold.len() {
            0 => format!("re-planning all but {locked} locked routes"),
            n => format!("re-planning all but {locked} locked and {n} approved routes"),
        };
        self.replan(keep, hold, &what)
    }

    pub fn default_delivery_export_path(&self) -> PathBuf {
        self.workspace.root.join("exports").join(format!(
            "deliveries-approved-{}.csv",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        ))
    }

    pub(super) fn export_deliveries(&mut self, path: &str) {
        let Some(plan) = &self.deliveries else { return };
        let rows = delivery::delivery_rows(plan, &self.route_decisions, false);
        self.write_export(path, &rows, "approved stops");
    }

    pub(super) fn confirm_approve_routes(&mut self) {
        if self.wait_for_routes("approve routes") {
            return;
        }
        let Some(plan) = &self.deliveries else { return };
        let states: Vec<State> = self
            .delivery_view()
            .into_iter()
            .map(|i| self.route_state(&plan.routes[i]).0)
            .collect();
        self.ask_to_approve(&states, "nothing to approve: every route shown is approved");
    }

    pub(super) fn undo_route(&mut self) {
        self.undo(PLAN);
    }

    /// Enter: the next view of the lower pane (stops, orders not served,
    /// map), skipping the map where the stops show it beside them and the
    /// orders not served when there are none.
    pub(super) fn cycle_delivery_pane(&mut self) {
        let wide = self.lower.wide;
        let unserved = self.deliveries.as_ref().map_or(0, |p| p.unserved.len());
        let next = |v: PaneView| match v {
            PaneView::Stops => PaneView::NotServed,
            PaneView::NotServed => PaneView::Map,
            PaneView::Map => PaneView::Stops,
        };
        let mut v = next(self.lower.view);
        if v == PaneView::Map && wide {
            v = next(v);
        }
        if v == PaneView::NotServed && unserved == 0 {
            v = next(v);
        }
        self.lower.view = v;
        self.lower.scroll = 0;
        self.status = match v {
            PaneView::Stops if wide => "the stops and the map of the selected route ([ and ] scroll the stops)".into(),
            PaneView::Stops => "the stops of the selected route ([ and ] scroll; Enter: the next view)".into(),
            PaneView::Map => "the map of the selected route's warehouse (Enter: the stops)".into(),
            PaneView::NotServed => {
                format!("{unserved} orders not served, with the reasons ([ and ] scroll; Enter: the next view)")
            }
        };
    }

    /// `[` and `]`: the lower pane's list a page up or down (the draw
    /// clamps it to the list).
    pub(super) fn scroll_pane(&mut self, pages: i64) {
        let of = self.pane_subject();
        if self.lower.scroll_of != of {
            self.lower.scroll_of = of;
            self.lower.scroll = 0;
        }
        let step = self.lower.page.max(1) as i64 * pages;
        self.lower.scroll = (self.lower.scroll as i64 + step).clamp(0, self.lower.last as i64) as usize;
    }

    /// What the pane's scroll belongs to: the selected route's stops, or
    /// the orders not served.
    fn pane_subject(&self) -> String {
        match self.lower.view {
            PaneView::NotServed => String::new(),
            _ => self.selected_route().map_or_else(String::new, |r| r.vehicle.clone()),
        }
    }

    /// How far the pane is scrolled for what it shows now: a route other
    /// than the one scrolled starts at its first stop.
    pub fn pane_offset(&self) -> usize {
        if self.lower.scroll_of == self.pane_subject() {
            self.lower.scroll
        } else {
            0
        }
    }

    pub(super) fn ask_delivery_export(&mut self) {
        let p = self.default_delivery_export_path();
        self.suggest(Prompt::ExportDeliveries, p.display().to_string());
    }
}

/// Whether `plan` routes (or lists as not served) exactly the orders of
/// `problem`'s day.
fn holds_the_orders(plan: &DeliveryPlan, problem: &DeliveryProblem) -> bool {
    let wanted: HashSet<&str> = problem
        .depots
        .iter()
        .flat_map(|d| d.orders.iter().map(|o| o.id.as_str()))
        .chain(problem.unplannable.iter().map(|u| u.order.as_str()))
        .collect();
    let have: HashSet<&str> = plan
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| s.order.as_str()))
        .chain(plan.unserved.iter().map(|u| u.order.as_str()))
        .collect();
    have == wanted
}
