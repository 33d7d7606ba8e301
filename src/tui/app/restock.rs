//! The Restock tab's state: the plan from the base and the what-ifs, its
//! lines' decisions (approve, reject, quantity, undo, in the audit log) and
//! totals, the export, and the what-ifs and saved scenarios behind it.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{App, Confirm, Prompt, Tab};
use crate::plan::approval::{self, Record, State};
use crate::plan::export::{restock_fingerprint, restock_rows};
use crate::plan::scenario::{Change, Override, Scenario};

impl App {
    /// The plan and the tables from the base and the what-if scenario,
    /// each list's cursor kept on its line.
    pub fn recompute(&mut self) {
        self.keeping_lines(App::recompute_plan);
    }

    fn recompute_plan(&mut self) {
        let Some(l) = &self.loaded else { return };
        let scenario = (!self.scenario.overrides.is_empty()).then_some(&self.scenario);
        let clock = std::time::Instant::now();
        let mut plan = l.active(self.run_on()).plan(&l.dataset, scenario);
        plan.data_key = l.data_key.clone();
        let planned = clock.elapsed();
        // The plan on the screen is the workspace's plan: `skuplan approve`
        // and `skuplan export` act on these very lines (a provisional plan
        // is not one to decide on).
        // Nor is the plan of files that no longer import (`Loaded::stale`):
        // the workspace's plan stays the one saved from them when they did.
        if !l.provisional && l.stale.is_none() {
            // Another process wrote it since our last save (a `skuplan plan
            // restock --budget ...`): say that the screen's plan replaces it.
            let path = self.workspace.restock_path();
            let before = crate::fsio::stamp(&path);
            let replaced = self.plan_saved.is_some() && before.is_some() && before != self.plan_saved;
            match self.workspace.save_restock(&plan) {
                Ok(()) => {
                    self.plan_saved = crate::fsio::stamp(&path);
                    if replaced {
                        self.error = Some(format!(
                            "another process (skuplan plan restock?) had written the workspace's plan; it holds \
                             this screen's plan again ({})",
                            path.display()
                        ));
                    }
                }
                Err(e) => {
                    self.error = Some(format!("the plan was not saved: {e:#}"));
                    // The tab bar no longer says "saved" over it.
                    self.last_save = None;
                }
            }
        }
        tracing::debug!(?planned, saved = ?(clock.elapsed() - planned), lines = plan.lines.len(), "plan recomputed");
        self.plan = Some(plan);
        self.forecast_rows = super::forecasts::forecast_rows(l, self.run_on(), &self.scenario);
        self.refresh_totals();
    }

    /// Recompute the totals by warehouse (after the plan or a decision
    /// changed).
    /// `plan` with the planner's quantities where they stand (a decision
    /// on the line as it is), as the totals count them: comparisons of
    /// plans count the same units the screen shows (they left them out).
    pub(super) fn as_decided(&self, plan: &crate::plan::RestockPlan) -> crate::plan::RestockPlan {
        let mut p = plan.clone();
        for l in &mut p.lines {
            if let (_, _, Some(q)) = self.state_of(l) {
                l.order_qty = q;
                l.line_cost = f64::from(q) * l.unit_cost;
            }
        }
        p
    }

    /// The plan's total as the totals pane counts it: "cost 1234" or
    /// "567 units" (data without costs).
    pub(super) fn totals_text(&self) -> String {
        let sum: f64 = self.totals.iter().map(|t| t.1).sum();
        if self.totals_in_units {
            format!("{sum:.0} units")
        } else {
            format!("cost {sum:.0}")
        }
    }

    pub fn refresh_totals(&mut self) {
        type Sums = std::collections::BTreeMap<String, (f64, f64)>;
        let mut by_wh: Sums = Default::default();
        let mut by_supplier: Sums = Default::default();
        let in_units = self.plan.as_ref().is_some_and(|p| !p.has_costs());
        if let Some(plan) = &self.plan {
            for l in &plan.lines {
                // A quantity set on a line the plan ordered none of counts
                // too (as comparisons count it).
                let (state, _, qty) = self.state_of(l);
                let qty = f64::from(qty.unwrap_or(l.order_qty));
                if qty == 0.0 {
                    continue;
                }
                let cost = if in_units { qty } else { qty * l.unit_cost };
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
        self.totals_in_units = in_units;
        self.totals = by_wh.into_iter().map(|(w, (a, b))| (w, a, b)).collect();
        self.supplier_totals = by_supplier.into_iter().map(|(w, (a, b))| (w, a, b)).collect();
        self.supplier_totals.sort_by(|a, b| b.1.total_cmp(&a.1));
    }

    /// Decisions read again from the audit log (a decision here, or
    /// another process's), each list's cursor kept on its line.
    pub(super) fn reload_decisions(&mut self) {
        self.keeping_lines(App::read_decisions);
    }

    fn read_decisions(&mut self) {
        self.log_seen = crate::fsio::stamp(self.workspace.audit_log().path());
        match self.workspace.audit_log().load() {
            Ok(loaded) => {
                self.decisions = approval::replay(&loaded.records, "restock");
                self.route_decisions = approval::replay(&loaded.records, crate::plan::delivery::PLAN);
                if loaded.torn_tail {
                    self.status = "the audit log ends in a half-written line (a crash): it was skipped, and the next decision removes it".into();
                }
            }
            Err(e) => self.error = Some(format!("reading the audit log: {e:#}")),
        }
        self.refresh_totals();
    }

    /// Decisions recorded outside the workstation (`skuplan approve` from
    /// another shell, say) since the log was last read: read them, so the
    /// screen never shows a line as proposed that the log has approved.
    /// Returns whether anything changed. The runner calls it every second.
    pub fn poll_audit_log(&mut self) -> bool {
        // Before the data is in, nothing has been read yet.
        if self.loaded.is_none() || crate::fsio::stamp(self.workspace.audit_log().path()) == self.log_seen {
            return false;
        }
        self.reload_decisions();
        self.status =
            "the audit log changed outside the workstation (skuplan approve?): its decisions were read again".into();
        true
    }

    pub fn state_of(&self, l: &crate::plan::restock::RestockLine) -> (State, bool, Option<u32>) {
        let (s, review, d) = crate::plan::export::restock_state(&self.decisions, l);
        (s, review, d.and_then(|d| d.qty))
    }

    /// Indices of the plan lines shown (filtered, sorted).
    pub fn restock_view(&self) -> Vec<usize> {
        let Some(plan) = &self.plan else { return Vec::new() };
        let mut v: Vec<usize> = plan
            .lines
            .iter()
            .enumerate()
            // Lines that order, and those a decision names: a decided
            // line whose quantity changed (to nothing, say) shows as
            // `review`, not gone; one decided for an earlier order day
            // (its order is on order now) is not shown again.
            .filter(|(_, l)| {
                let (state, review, _) = self.state_of(l);
                l.order_qty > 0
                    || state != State::Proposed
                    || (review && crate::plan::export::decided_for_day(&self.decisions, l))
            })
            .filter(|(_, l)| {
                if self.filter.is_empty() {
                    return true;
                }
                // What the row shows: its state, the method that forecast
                // it, and its reason, besides the names.
                let supplier = l.supplier.as_deref().unwrap_or("");
                let (state, review, _) = self.state_of(l);
                let state = if review { "review" } else { state.name() };
                let (reason, short) = (l.reason_text(), l.reason_short());
                let fields = super::filter::Fields {
                    sku: &l.sku,
                    warehouse: &l.warehouse,
                    supplier,
                };
                self.matches(&fields, &[&l.title, state, &l.method, &reason, &short])
            })
            .map(|(i, _)| i)
            .collect();
        match self.sort % 3 {
            // Largest first: by cost, or by units where no line has a cost.
            1 if plan.has_costs() => {
                v.sort_by(|a, b| plan.lines[*b].line_cost.total_cmp(&plan.lines[*a].line_cost));
            }
            1 => v.sort_by_key(|i| std::cmp::Reverse(plan.lines[*i].order_qty)),
            2 => v.sort_by_key(|i| plan.lines[*i].stockout_without.unwrap_or(NaiveDate::MAX)),
            _ => {}
        }
        v
    }

    pub fn selected_line(&self) -> Option<&crate::plan::restock::RestockLine> {
        let view = self.restock_view();
        let idx = *view.get(self.selected[Tab::Restock.index()])?;
        self.plan.as_ref()?.lines.get(idx)
    }

    /// Decisions wait for the final plan: a provisional line would change.
    pub(super) fn provisional_refusal(&mut self) -> bool {
        if self.provisional() {
            self.status =
                "the plan is provisional for a few seconds more (champions and safety stock on the way); decide then"
                    .into();
            true
        } else {
            false
        }
    }

    pub(super) fn decide(&mut self, action: approval::Action) {
        let Some(l) = self.selected_line() else {
            self.status = "no line selected".into();
            return;
        };
        let key = vec![l.sku.clone(), l.warehouse.clone()];
        let (verb, target) = if action == approval::Action::Approve {
            ("approved", State::Approved)
        } else {
            ("rejected", State::Rejected)
        };
        // A second a (or r) on the same line writes nothing: the log would
        // repeat itself and u would then undo only the copy.
        let (state, review, _) = self.state_of(l);
        if state == target && !review {
            self.status = format!("{} at {} is already {verb} (u undoes it)", l.sku, l.warehouse);
            return;
        }
        let mut what = format!("{verb} {} at {}", l.sku, l.warehouse);
        let mut records: Vec<Record> = crate::plan::export::requantify(&self.decisions, l)
            .into_iter()
            .collect();
        if let Some(approval::Action::SetQty { qty }) = records.first().map(|r| &r.action) {
            what.push_str(&format!(
                " at {qty} (the quantity set before, in whole packs of {} now)",
                l.pack_size
            ));
        }
        records.push(Record::new("restock", key, restock_fingerprint(l), action, None));
        self.record(records, &what);
    }

    pub(super) fn approve_all(&mut self) {
        let Some(plan) = &self.plan else { return };
        let records: Vec<Record> = self
            .restock_view()
            .into_iter()
            .map(|i| &plan.lines[i])
            .filter(|l| l.order_qty > 0 && self.state_of(l).0 != State::Approved)
            .flat_map(|l| {
                let approve = Record::new(
                    "restock",
                    vec![l.sku.clone(), l.warehouse.clone()],
                    restock_fingerprint(l),
                    approval::Action::Approve,
                    None,
                );
                crate::plan::export::requantify(&self.decisions, l)
                    .into_iter()
                    .chain([approve])
            })
            .collect();
        let n = records.iter().filter(|r| r.action == approval::Action::Approve).count();
        self.record(records, &format!("approved {n} lines"));
    }

    /// A: ask before approving every line shown.
    pub(super) fn confirm_approve_all(&mut self) {
        let Some(plan) = &self.plan else { return };
        let states: Vec<State> = self
            .restock_view()
            .into_iter()
            .map(|i| &plan.lines[i])
            .filter(|l| l.order_qty > 0)
            .map(|l| self.state_of(l).0)
            .collect();
        self.ask_to_approve(
            &states,
            "nothing to approve: every line shown is approved or orders nothing",
        );
    }

    /// `A` on lines or routes in `states`: ask, counting those not yet
    /// approved and how many of them are rejected now, or say `none`.
    pub(super) fn ask_to_approve(&mut self, states: &[State], none: &str) {
        let open = states.iter().filter(|s| **s != State::Approved).count();
        if open == 0 {
            self.status = none.into();
            return;
        }
        let rejected = states.iter().filter(|s| **s == State::Rejected).count();
        self.confirm = Some(Confirm::ApproveAll { count: open, rejected });
    }

    pub(super) fn undo_decision(&mut self) {
        self.undo("restock");
    }

    /// =: ask for the selected line's order quantity.
    pub(super) fn ask_qty(&mut self) {
        if let Some(l) = self.selected_line() {
            let key = l.key();
            // The planner's quantity where they set one, else the plan's.
            let qty = self.state_of(l).2.unwrap_or(l.order_qty).to_string();
            self.suggest(Prompt::SetQty { key }, qty);
        }
    }

    /// The quantity typed for the line `key`, recorded as a decision.
    pub(super) fn set_qty(&mut self, key: (String, String), input: &str) {
        let max = approval::MAX_PLANNER_QTY;
        match input.trim().parse::<u64>() {
            Ok(asked) if asked > u64::from(max) => {
                self.error = Some(format!("{asked}: expected at most {max} units (a slip of the keys?)"));
            }
            Ok(asked) => {
                let asked = asked as u32;
                if let Some(l) = self.plan.as_ref().and_then(|p| p.lines.iter().find(|l| l.key() == key)) {
                    let (q, notes) = crate::plan::approval::planner_qty(l, asked);
                    let rec = Record::new(
                        "restock",
                        vec![key.0.clone(), key.1.clone()],
                        restock_fingerprint(l),
                        approval::Action::SetQty { qty: q },
                        None,
                    );
                    let mut what = format!("{} at {}: quantity set to {q}", key.0, key.1);
                    // Said, so that neither goes unnoticed: the decision
                    // taken before is void, and a slip of the keys.
                    let k = [key.0.clone(), key.1.clone()];
                    let (was, _, _) = approval::state_of(&self.decisions, &k, &restock_fingerprint(l));
                    if let s @ (approval::State::Approved | approval::State::Rejected) = was {
                        what.push_str(&format!(", no longer {} (a approves it)", s.name()));
                    }
                    if !notes.is_empty() {
                        what.push_str(&format!("; note: {}", notes.join("; ")));
                    }
                    self.record(vec![rec], &what);
                }
            }
            Err(_) => self.error = Some(format!("{input:?}: expected a whole number of units")),
        }
    }

    pub fn default_export_path(&self) -> PathBuf {
        self.workspace.root.join("exports").join(format!(
            "restock-approved-{}.csv",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        ))
    }

    pub(super) fn ask_export(&mut self) {
        let p = self.default_export_path();
        self.suggest(Prompt::ExportPath, p.display().to_string());
    }

    pub(super) fn export(&mut self, path: &str) {
        let Some(plan) = &self.plan else { return };
        let rows = restock_rows(plan, &self.decisions, false);
        self.write_export(path, &rows, "approved lines");
    }

    /// What the what-ifs change against the base plan, on the status line.
    pub(super) fn compare(&mut self) {
        let (Some(l), Some(plan)) = (&self.loaded, &self.plan) else {
            return;
        };
        if self.scenario.overrides.is_empty() {
            self.status = "no what-ifs: the plan is the base plan".into();
            return;
        }
        // The what-ifs' own effect: a quantity the planner typed stands in
        // both plans, as the totals pane counts it (it counted in the
        // what-if plan alone, as the what-if's doing).
        let mut base = l.active(self.run_on()).plan(&l.dataset, None);
        let after = self.as_decided(plan);
        let typed: std::collections::HashMap<(String, String), u32> = plan
            .lines
            .iter()
            .filter_map(|l| self.state_of(l).2.map(|q| (l.key(), q)))
            .collect();
        for b in &mut base.lines {
            if let Some(q) = typed.get(&b.key()) {
                b.order_qty = *q;
                b.line_cost = f64::from(*q) * b.unit_cost;
            }
        }
        let c = crate::plan::scenario::compare(&base, &after);
        self.status = format!(
            "what-if vs base: {} lines change; {}; short lines {} -> {}",
            c.changed.len(),
            c.change(),
            c.base_stockouts,
            c.scenario_stockouts
        );
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
        let mut rest: Vec<&str> = parts.collect();
        // "@WH" before the dates or the reason: one warehouse (every one
        // otherwise, as the prompt says).
        let warehouse_of = |t: &str| -> Result<Option<String>, String> {
            let Some(w) = t.strip_prefix('@') else {
                return Ok(None);
            };
            let known = self.loaded.as_ref().is_none_or(|l| {
                l.dataset.demand.iter().any(|s| s.warehouse == w)
                    || l.dataset.inventory.iter().any(|i| i.warehouse == w)
            });
            if w.is_empty() || !known {
                return Err(format!(
                    "@{w}: no such warehouse in the data (@WH limits a what-if to one)"
                ));
            }
            Ok(Some(w.to_string()))
        };
        let mut warehouse = match rest.first() {
            Some(t) => warehouse_of(t)?,
            None => None,
        };
        if warehouse.is_some() {
            rest.remove(0);
        }
        // "D .. D", "D to D" (TO, To), "D.. D" and "D ..D" are "D..D".
        let joined;
        let sep = rest.get(1).map(|w| w.to_lowercase()).unwrap_or_default();
        if rest.len() >= 3
            && matches!(sep.as_str(), ".." | "to")
            && looks_like_a_date(rest[0])
            && looks_like_a_date(rest[2])
        {
            joined = format!("{}..{}", rest[0], rest[2]);
            rest.splice(0..3, [joined.as_str()]);
        } else if rest.len() >= 2 {
            let (a, b) = (rest[0].trim_end_matches('.'), rest[1].trim_start_matches('.'));
            let split = rest[0].ends_with("..") != rest[1].starts_with("..");
            if split && looks_like_a_date(a) && looks_like_a_date(b) {
                joined = format!("{a}..{b}");
                rest.splice(0..2, [joined.as_str()]);
            }
        }
        // A date in another form (24/12/2026, 12/24/2026, 24.12.2026) is
        // refused, not kept as the reason's first word.
        if let Some(t) = rest.first().filter(|t| looks_like_a_date(t) && !t.contains('-')) {
            return Err(format!("{t:?}: expected a date YYYY-MM-DD"));
        }
        let start = self.plan.as_ref().map(|p| p.plan_date).unwrap_or_default();
        let d = |s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?}: expected a date YYYY-MM-DD"))
        };
        let four_weeks = |from: NaiveDate| {
            from.checked_add_days(chrono::Days::new(27))
                .ok_or_else(|| format!("{from}: too far ahead"))
        };
        let (from, to, reason) = match rest.first().map(|r| (r, r.split_once(".."))) {
            // "D..": from D, four weeks.
            Some((_, Some((a, "")))) => (d(a)?, four_weeks(d(a)?)?, rest[1..].join(" ")),
            Some((_, Some((a, b)))) => (d(a)?, d(b)?, rest[1..].join(" ")),
            // A date alone is where it starts (it was read as the reason's
            // first word, and the what-if started on the plan's first day).
            Some((r, None)) if d(r).is_ok() => (d(r)?, four_weeks(d(r)?)?, rest[1..].join(" ")),
            // Shaped like a date but none (2026-13-01): said, not taken
            // for the reason's first word.
            Some((r, None)) if r.matches('-').count() == 2 && r.chars().all(|c| c.is_ascii_digit() || c == '-') => {
                return Err(format!("{r:?}: expected a date YYYY-MM-DD"));
            }
            _ => (start, four_weeks(start)?, rest.join(" ")),
        };
        // Or after the dates: "+20% 2026-12-01..2026-12-24 @WH-MAN promo".
        let (first, more) = reason.split_once(' ').unwrap_or((reason.as_str(), ""));
        let reason = match warehouse_of(first)? {
            Some(w) if warehouse.is_none() => {
                warehouse = Some(w);
                more.to_string()
            }
            Some(_) => return Err("one @WH per what-if (a second went into the reason)".into()),
            None => reason,
        };
        // What is left of a range typed another way ("D.. D2", "D ..D2",
        // "D - D2", "D TO D2") is refused, not kept as the reason while
        // the what-if runs four weeks.
        let mut words = reason.split_whitespace();
        let (w1, w2) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let dateish = |w: &str| looks_like_a_date(w) || looks_like_a_date(w.trim_start_matches('.'));
        if dateish(w1) || w1.starts_with("..") || (matches!(w1.to_lowercase().as_str(), "to" | "-") && dateish(w2)) {
            return Err(format!(
                "{w1:?}: expected the reason after the dates; a range is FROM..TO (or FROM .. TO, FROM to TO)"
            ));
        }
        if w1.starts_with('@') {
            return Err("one @WH per what-if, before the dates or just after them".into());
        }
        if reason.trim().is_empty() {
            return Err("say why (a reason is kept with every what-if)".into());
        }
        let o = Override {
            skus: vec![sku.to_string()],
            warehouse,
            from,
            to,
            change,
            reason,
        };
        o.check()?;
        Ok(o)
    }
}

/// Whether a word is a date in some form: digits with '-', '/' or '.'
/// between them (2026-12-24, 24/12/2026, 24.12.2026).
fn looks_like_a_date(t: &str) -> bool {
    let seps = t.chars().filter(|c| matches!(c, '-' | '/' | '.')).count();
    let digits = t.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.'));
    // Or eight digits, as the importer reads 20261224.
    (seps == 2 && digits) || (t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()))
}

impl App {
    /// What-ifs kept in the workspace that name no SKU of the data loaded
    /// (made on other data): said after the load's message, since they
    /// count in the tab's "N what-ifs" and change nothing here.
    pub(super) fn say_foreign_what_ifs(&mut self) {
        let Some(l) = &self.loaded else { return };
        // Sold, or listed (a launch waiting for its first sale).
        let skus: std::collections::HashSet<&str> = l
            .dataset
            .demand
            .iter()
            .map(|s| s.sku.as_str())
            .chain(l.dataset.products.iter().map(|p| p.sku.as_str()))
            .collect();
        let foreign = self
            .scenario
            .overrides
            .iter()
            .filter(|o| !o.skus.is_empty() && o.skus.iter().all(|s| !skus.contains(s.as_str())))
            .count();
        if foreign > 0 {
            self.status.push_str(&format!(
                "; {foreign} of the {} what-ifs name no SKU of this data (made on other data? D drops every what-if)",
                self.scenario.overrides.len()
            ));
        }
    }

    /// The workspace's what-ifs, read as data loads. A file that cannot be
    /// read is left as it is and said: it was passed over in silence, and
    /// the next `e` saved one what-if over all of them.
    pub(super) fn read_what_ifs(&mut self) {
        match self.workspace.scenario_if_any("what-if") {
            Ok(Some(s)) => {
                self.scenario = s;
                self.what_ifs_unread = None;
            }
            Ok(None) => self.what_ifs_unread = None,
            Err(e) => {
                let why = format!("{e:#}");
                // Those read at an earlier load are not planned either.
                self.scenario.overrides.clear();
                self.error = Some(format!(
                    "the saved what-ifs could not be read, so the plan leaves them out ({why}); new what-ifs wait \
                     until the file is fixed, or D drops it"
                ));
                self.what_ifs_unread = Some(why);
            }
        }
    }

    /// e: ask for a what-if on the selected SKU.
    pub(super) fn ask_what_if(&mut self) {
        if let Some(why) = &self.what_ifs_unread {
            self.error = Some(format!(
                "the saved what-ifs could not be read ({why}): a new one would be saved over them; fix the file, \
                 or D drops it"
            ));
            return;
        }
        if let Some(sku) = self.selected_sku() {
            self.prompt = Some((Prompt::EditDemand { sku }, String::new()));
        }
    }

    /// The what-if typed for `sku`: kept, saved, and the plan recomputed.
    pub(super) fn add_what_if(&mut self, sku: &str, input: &str) {
        match self.parse_edit(sku, input) {
            Ok(o) => {
                let at = o
                    .warehouse
                    .as_deref()
                    .map_or_else(|| "every warehouse".to_string(), |w| format!("at {w}"));
                let mut text = format!("{} {} {}..{} {at}: {}", sku, o.change, o.from, o.to, o.reason);
                // Kept, as the CLI keeps it (the what-if may be meant for
                // later), but said.
                if let Some(first) = self.plan.as_ref().map(|p| p.plan_date).filter(|f| o.to < *f) {
                    text.push_str(&format!(
                        " (note: it ends before the plan's first day, {first}: it changes no forecast)"
                    ));
                }
                // The last day any line's forecast reaches.
                let last = self.plan.as_ref().and_then(|p| {
                    let n = p.lines.iter().map(|l| l.projected_without.len()).max()?;
                    Some(p.lines.first()?.period.step(p.plan_date, n as i64) - chrono::Days::new(1))
                });
                if let Some(last) = last.filter(|l| o.from > *l) {
                    text.push_str(&format!(
                        " (note: it starts after the forecast's last day, {last}: it changes nothing in this plan)"
                    ));
                }
                self.scenario.overrides.push(o);
                match self.workspace.save_scenario(&self.scenario) {
                    Ok(()) => self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string()),
                    Err(e) => self.error = Some(format!("the what-if was not saved: {e:#}")),
                }
                self.recompute();
                self.status = format!("what-if {text}; plan recomputed");
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// D: drop every what-if; back to the base forecast.
    /// D: asks first (a dropped what-if is gone unless saved with S).
    pub(super) fn confirm_drop_what_ifs(&mut self) {
        match self.scenario.overrides.len() {
            0 if self.what_ifs_unread.is_some() => self.confirm = Some(super::Confirm::DropWhatIfs { count: 0 }),
            0 => self.status = "no what-ifs to drop".into(),
            count => self.confirm = Some(super::Confirm::DropWhatIfs { count }),
        }
    }

    pub(super) fn drop_what_ifs(&mut self) {
        self.scenario.overrides.clear();
        let saved = self
            .workspace
            .scenario_path("what-if")
            .map(|p| p.exists())
            .unwrap_or(false);
        let gone = if saved {
            self.workspace.discard_scenario("what-if")
        } else {
            Ok(())
        };
        self.recompute();
        match gone {
            Ok(()) => {
                self.what_ifs_unread = None;
                self.status = "what-ifs discarded; back to the base forecast".into();
            }
            // They come back at the next start: not "discarded".
            Err(e) => {
                self.error = Some(format!(
                    "the what-ifs are off this screen, but their file was not removed and they come back at the \
                     next start: {e:#}"
                ));
            }
        }
    }

    /// S: ask for a name to save the what-ifs under.
    pub(super) fn ask_scenario_name(&mut self) {
        if self.scenario.overrides.is_empty() {
            self.status = "no what-ifs to save: press e on a SKU first".into();
        } else {
            self.prompt = Some((Prompt::ScenarioName, String::new()));
        }
    }

    /// The what-ifs saved as the scenario named, after asking where that
    /// name holds other what-ifs (it used to be replaced unasked).
    pub(super) fn save_scenario_as(&mut self, input: &str) {
        let name = input.trim().to_string();
        match self.workspace.scenario_if_any(&name) {
            Ok(Some(old)) if !old.overrides.is_empty() && old.overrides != self.scenario.overrides => {
                let had = old.overrides.len();
                self.confirm = Some(Confirm::ReplaceScenario { name, had });
                return;
            }
            // Not replaced unread: what it holds is not known.
            Err(e) if self.workspace.scenario_path(&name).is_ok() => {
                self.error = Some(format!(
                    "not saved: scenario {name:?} is there but cannot be read ({e:#}); choose another name"
                ));
                return;
            }
            _ => {}
        }
        self.save_scenario(&name);
    }

    /// The what-ifs saved as the scenario named (the CLI sees it too).
    pub(super) fn save_scenario(&mut self, name: &str) {
        let name = name.to_string();
        let s = Scenario {
            name: name.clone(),
            overrides: self.scenario.overrides.clone(),
        };
        match self.workspace.save_scenario(&s) {
            Ok(()) => {
                self.last_save = Some(chrono::Local::now().format("%H:%M:%S").to_string());
                self.status = format!(
                    "saved {} as scenario {name:?} (skuplan scenario list shows it)",
                    super::what_ifs(s.overrides.len())
                );
            }
            Err(e) => self.error = Some(format!("not saved: {e:#}")),
        }
    }

    /// O: list the saved scenarios and ask which to open.
    pub(super) fn ask_open_scenario(&mut self) {
        // Opening one saves it as the what-ifs, over a file not read.
        if let Some(why) = &self.what_ifs_unread {
            self.error = Some(format!(
                "the saved what-ifs could not be read ({why}): opening a scenario would save over them; fix the \
                 file, or D drops it"
            ));
            return;
        }
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

    /// O's answer: open the scenario named, after asking where the
    /// what-ifs it replaces are kept under no saved name (they used to be
    /// lost unasked; `D` asked already).
    pub(super) fn ask_before_opening(&mut self, input: &str) {
        let name = input.trim().to_string();
        let unsaved = self.scenario.overrides.len();
        let known = self.workspace.load_scenario(&name).is_ok();
        if known && unsaved > 0 && !self.what_ifs_saved() {
            self.confirm = Some(Confirm::OpenScenario { name, unsaved });
            return;
        }
        self.open_scenario(&name);
    }

    /// Tab in `O`'s prompt: `typed` completed as far as the saved
    /// scenarios' names that begin with it agree.
    pub(super) fn complete_scenario(&self, typed: &str) -> String {
        let names: Vec<String> = self
            .workspace
            .list_scenarios()
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n != "what-if" && n.starts_with(typed))
            .collect();
        let Some(first) = names.first() else {
            return typed.to_string();
        };
        let mut common = first.clone();
        for n in &names[1..] {
            let same = common.chars().zip(n.chars()).take_while(|(a, b)| a == b).count();
            common = common.chars().take(same).collect();
        }
        if common.len() > typed.len() {
            common
        } else {
            typed.to_string()
        }
    }

    /// Whether a saved scenario holds exactly the what-ifs.
    fn what_ifs_saved(&self) -> bool {
        let names = self.workspace.list_scenarios().unwrap_or_default();
        names.iter().filter(|n| *n != "what-if").any(|n| {
            self.workspace
                .load_scenario(n)
                .is_ok_and(|s| s.overrides == self.scenario.overrides)
        })
    }

    /// The saved scenario named: its overrides replace the what-ifs.
    pub(super) fn open_scenario(&mut self, input: &str) {
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
                    "scenario {name:?} opened: {}, plan recomputed (C compares with the base)",
                    super::what_ifs(self.scenario.overrides.len())
                );
            }
            Err(e) => self.error = Some(format!("{e:#}")),
        }
    }
}
