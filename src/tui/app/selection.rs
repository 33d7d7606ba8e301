//! Keeping the selected row on its line when what a list shows changes,
//! and choosing a row or a tab with the mouse.

use super::{Action, App, Tab};

/// The lists whose rows are lines of something (a series, a plan line, a
/// route), each shown through a filtered, sorted view of indices.
const LISTS: [Tab; 3] = [Tab::Forecasts, Tab::Restock, Tab::Deliveries];

impl App {
    /// The indices `tab` shows, in order.
    fn view_of(&self, tab: Tab) -> Vec<usize> {
        match tab {
            Tab::Forecasts => self.forecast_view(),
            Tab::Restock => self.restock_view(),
            Tab::Deliveries => self.delivery_view(),
            Tab::Data | Tab::Training => Vec::new(),
        }
    }

    /// What names line `i` of `tab`'s list across a recompute: its series
    /// (SKU and warehouse) or its route's vehicle. Indices do not carry
    /// over, since a new plan's lines are a new list.
    fn line_key(&self, tab: Tab, i: usize) -> Option<(&str, &str)> {
        match tab {
            Tab::Forecasts => self
                .forecast_rows
                .get(i)
                .map(|r| (r.sku.as_str(), r.warehouse.as_str())),
            Tab::Restock => self
                .plan
                .as_ref()?
                .lines
                .get(i)
                .map(|l| (l.sku.as_str(), l.warehouse.as_str())),
            Tab::Deliveries => {
                let r = self.deliveries.as_ref()?.routes.get(i)?;
                Some((r.vehicle.as_str(), r.warehouse.as_str()))
            }
            Tab::Data | Tab::Training => None,
        }
    }

    /// Apply `change`, keeping each list's selection on the line it was
    /// on wherever that line is still shown. A line no longer shown
    /// leaves the selection on the first row when `to_top`, else on the
    /// same row number (the line after it), within the list.
    fn keeping(&mut self, to_top: bool, change: impl FnOnce(&mut App)) {
        let before: Vec<(usize, Option<(String, String)>)> = LISTS
            .iter()
            .map(|t| {
                let row = self.selected[t.index()];
                // Owned: `change` replaces the lines it names.
                let key = self.view_of(*t).get(row).and_then(|i| self.line_key(*t, *i));
                (row, key.map(|(a, b)| (a.to_string(), b.to_string())))
            })
            .collect();
        change(self);
        for (t, (row, key)) in LISTS.iter().zip(before) {
            let view = self.view_of(*t);
            // Compared in place, with no copy of every row's names.
            let found = key.and_then(|(a, b)| {
                view.iter()
                    .position(|i| self.line_key(*t, *i) == Some((a.as_str(), b.as_str())))
            });
            self.selected[t.index()] = match found {
                Some(at) => at,
                None if to_top => 0,
                None => row.min(view.len().saturating_sub(1)),
            };
        }
    }

    /// Apply `change` (a filter set or cleared, another sort), keeping each
    /// list's selection on the line it was on wherever that line is still
    /// shown, else on the first row. A row number alone would land on
    /// another line, and the next `a`, `=` or `e` act on it.
    pub(super) fn keeping_selection(&mut self, change: impl FnOnce(&mut App)) {
        self.keeping(true, change);
    }

    /// Apply `change` (a recomputed plan, decisions read again, new
    /// routes), keeping each list's selection on its line: a what-if that
    /// moves the line in a sorted list, or a decision that hides a row
    /// above it, must not leave the cursor on another line.
    pub(super) fn keeping_lines(&mut self, change: impl FnOnce(&mut App)) {
        self.keeping(false, change);
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
}
