//! Keeping the selected row on its line when what a list shows changes.

use super::{App, Tab};

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

    /// Apply `change` (a filter set or cleared, another sort), keeping each
    /// list's selection on the line it was on wherever that line is still
    /// shown, else on the first row. A row number alone would land on
    /// another line, and the next `a`, `=` or `e` act on it.
    pub(super) fn keeping_selection(&mut self, change: impl FnOnce(&mut App)) {
        let before: Vec<Option<usize>> = LISTS
            .iter()
            .map(|t| self.view_of(*t).get(self.selected[t.index()]).copied())
            .collect();
        change(self);
        for (t, line) in LISTS.iter().zip(before) {
            let view = self.view_of(*t);
            self.selected[t.index()] = line.and_then(|l| view.iter().position(|v| *v == l)).unwrap_or(0);
        }
    }
}
