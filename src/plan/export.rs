//! CSV exports of what the planner approved: proper CSV (a header, quoting,
//! UTF-8), written atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::fsio::atomic_write;
use crate::plan::approval::{LineDecision, Record, State, export_columns, state_of};
use crate::plan::restock::{RestockLine, RestockPlan};

/// One exported restock line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct RestockExportRow {
    pub sku: String,
    pub warehouse: String,
    pub supplier: String,
    pub order_qty: u32,
    pub order_date: String,
    pub expected_arrival: String,
    /// Empty where the products file gives no unit cost (not a cost of 0).
    pub unit_cost: Option<f64>,
    pub line_cost: Option<f64>,
    /// The forecasting method behind the line: a baseline's name, or
    /// `finetuned` where the model was the series' champion.
    pub method: String,
    pub reason: String,
    pub state: String,
    pub approver: String,
    pub approved_at: String,
    /// The comment given with the decision in force (`--comment`), if any.
    #[serde(default)]
    pub comment: String,
}

/// The fingerprint a decision on this line is tied to.
pub fn restock_fingerprint(l: &RestockLine) -> String {
    format!("{}@{}", l.order_qty, l.order_date)
}

/// The state of a restock line's decision, as `approval::state_of` has
/// it, except that a planner's quantity the line can no longer order (not
/// whole packs, or under the MOQ, after the products file changed them)
/// goes to review: the decision was tied to the plan's quantity, which
/// may not have moved, and 36 of a product now packed in 24 was exported.
pub fn restock_state(
    decisions: &HashMap<Vec<String>, LineDecision>,
    l: &RestockLine,
) -> (State, bool, Option<LineDecision>) {
    let key = [l.sku.clone(), l.warehouse.clone()];
    let found = state_of(decisions, &key, &restock_fingerprint(l));
    match &found.2 {
        Some(LineDecision { qty: Some(q), .. }) if !orderable(l, *q) => (State::Proposed, true, None),
        _ => found,
    }
}

/// A decision on a line whose planner's quantity it can no longer order
/// (see [`restock_state`]) first sets that quantity again, raised to the
/// MOQ and whole packs as `=` would: a new approval alone kept the old
/// quantity, and the line stayed in review however often it was approved.
/// The record to write before the decision, if any.
pub fn requantify(decisions: &HashMap<Vec<String>, LineDecision>, l: &RestockLine) -> Option<Record> {
    let key = vec![l.sku.clone(), l.warehouse.clone()];
    let q = decisions.get(&key)?.qty.filter(|q| !orderable(l, *q))?;
    let (again, _) = crate::plan::approval::planner_qty(l, q);
    Some(Record::new(
        "restock",
        key,
        restock_fingerprint(l),
        crate::plan::approval::Action::SetQty { qty: again },
        None,
    ))
}

/// Whether `qty` can be ordered on the line: none, or whole packs of at
/// least the MOQ.
pub fn orderable(l: &RestockLine, qty: u32) -> bool {
    qty == 0 || (qty.is_multiple_of(l.pack_size.max(1)) && qty >= l.moq)
}

/// The quantity and order day a [`restock_fingerprint`] names.
pub fn fingerprint_parts(fingerprint: &str) -> Option<(&str, &str)> {
    fingerprint.split_once('@')
}

/// Whether the line's decision, matching or not, was made for its present
/// order day: a line of nothing whose decision is for an earlier day (its
/// order is on order now) is not asked about again.
pub fn decided_for_day(decisions: &HashMap<Vec<String>, LineDecision>, l: &RestockLine) -> bool {
    let key = vec![l.sku.clone(), l.warehouse.clone()];
    decisions
        .get(&key)
        .and_then(|d| fingerprint_parts(&d.fingerprint).map(|(_, day)| day == l.order_date.to_string()))
        .unwrap_or(false)
}

/// Rows for the approved lines, or with `all` every line that orders
/// something or carries a decision, each with its state.
pub fn restock_rows(
    plan: &RestockPlan,
    decisions: &HashMap<Vec<String>, LineDecision>,
    all: bool,
) -> Vec<RestockExportRow> {
    plan.lines
        .iter()
        .filter_map(|l| {
            let (state, review, d) = restock_state(decisions, l);
            // A line a budget cut to nothing is listed too, with why.
            let cut = l
                .reasons
                .iter()
                .any(|r| matches!(r, crate::plan::restock::Reason::BudgetCut { .. }));
            let qty = d.as_ref().and_then(|d| d.qty).unwrap_or(l.order_qty);
            // An approved order of nothing (the planner's `=0`) is a
            // decision, not a line for a supplier: `--all` lists it.
            let keep = if all {
                l.order_qty > 0 || d.is_some() || (review && decided_for_day(decisions, l)) || cut
            } else {
                state == State::Approved && qty > 0
            };
            if !keep {
                return None;
            }
            let (state, approver, approved_at) = export_columns(state, review, d.as_ref());
            Some(RestockExportRow {
                sku: l.sku.clone(),
                warehouse: l.warehouse.clone(),
                supplier: l.supplier.clone().unwrap_or_default(),
                order_qty: qty,
                order_date: l.order_date.to_string(),
                expected_arrival: l.arrival.to_string(),
                unit_cost: l.cost_known().then_some(l.unit_cost),
                line_cost: l.cost_for(qty).map(|c| (c * 100.0).round() / 100.0),
                method: l.method.clone(),
                // The planner's quantity said beside the plan's reason
                // (an order of 12 went out as "stock covers lead time").
                reason: match d.as_ref().and_then(|d| d.qty) {
                    Some(q) if q != l.order_qty => {
                        format!(
                            "the planner's quantity {q} (the plan's {}: {})",
                            l.order_qty,
                            l.reason_text()
                        )
                    }
                    _ => l.reason_text(),
                },
                state,
                approver,
                approved_at,
                comment: as_text(&d.as_ref().and_then(|d| d.comment.clone()).unwrap_or_default()),
            })
        })
        .collect()
}

/// Free text typed by a planner (a comment), as a spreadsheet reads it:
/// text that starts like a formula (`=`, `+`, `-`, `@`) gets a leading
/// `'`, so `=HYPERLINK(...)` in a comment is shown, not run, when the
/// export is opened.
pub fn as_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Refuse an export path before anything is written: a folder, one of the
/// data files (`data`: the files and folders imported), or a file inside
/// a data folder (the next import would read the export as data). An
/// export to the sales file replaced the sales history.
pub fn check_export_path(out: &Path, data: &[PathBuf]) -> Result<()> {
    if out.is_dir() {
        bail!("{} is a folder, not a file: name the CSV file to write", out.display());
    }
    let out_real = real_path(out);
    for d in data {
        let d_real = real_path(d);
        if out_real == d_real {
            bail!(
                "{} is a file skuplan reads (the data, a run, or the workspace's own): an export there would \
                 replace it; name another file",
                out.display()
            );
        }
        if d_real.is_dir() && out_real.starts_with(&d_real) {
            bail!(
                "{} is inside {}, a folder skuplan reads (the data, a run, or the workspace's own; a new file in \
                 a data folder is read as data at the next import): name a file elsewhere",
                out.display(),
                d.display()
            );
        }
    }
    Ok(())
}

/// `p` with its links resolved as far as it exists: the file itself, or
/// its folder and its name (a file not written yet).
fn real_path(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if let Ok(real) = abs.canonicalize() {
        return real;
    }
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => dir.canonicalize().map_or_else(|_| abs.clone(), |d| d.join(name)),
        _ => abs,
    }
}

/// Write rows as CSV with a header, atomically.
pub fn write_csv<T: Serialize + Default>(path: &Path, rows: &[T]) -> Result<()> {
    let mut w = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    let mut bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    if rows.is_empty() {
        // Nothing to export still names the columns, so a spreadsheet or
        // a script reading the file sees an empty table, not no file
        // format at all. The header comes from an empty row.
        let mut w = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
        w.serialize(T::default())?;
        let full = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        let end = full.iter().position(|b| *b == b'\n').map_or(full.len(), |i| i + 1);
        bytes = full[..end].to_vec();
    }
    atomic_write(path, &bytes)
}
/// One exported stop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryExportRow {
    pub date: String,
    pub warehouse: String,
    pub vehicle: String,
    pub seq: usize,
    pub order: String,
    pub customer: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub arrival: String,
    pub service_start: String,
    pub departure: String,
    pub quantity: f64,
    pub load_after: f64,
    pub state: String,
    pub approver: String,
    pub approved_at: String,
    /// The comment given with the decision in force, if any.
    #[serde(default)]
    pub comment: String,
}
