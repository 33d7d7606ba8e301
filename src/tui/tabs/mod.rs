//! One module per tab, each a `draw(frame, area, app, theme)`.

pub mod data;
pub mod deliveries;
pub mod forecasts;
pub mod restock;
pub mod training;

/// The style of a table row that carries a decision: the selection first,
/// then approved, rejected, or changed since its decision (review).
pub fn decision_style(
    theme: &crate::tui::theme::Theme,
    state: crate::plan::approval::State,
    review: bool,
    selected: bool,
) -> ratatui::style::Style {
    use crate::plan::approval::State;
    match state {
        _ if selected => theme.selected(),
        State::Approved => theme.good(),
        State::Rejected => theme.dim(),
        State::Proposed if review => theme.warn(),
        State::Proposed => Default::default(),
    }
}

/// "3-20 of 39": the lines a scrolled view shows from `first` (counted
/// from 0), `rows` at a time, of `total`; `None` when they all fit. Every
/// scrolled view's title says it so.
pub fn shown_of(first: usize, rows: usize, total: usize) -> Option<String> {
    (total > rows).then(|| format!("{}-{} of {total}", first + 1, (first + rows).min(total)))
}

/// Cut `s` to `n` characters, marking the cut.
pub fn fit(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else if n == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('~');
        out
    }
}

/// The first row to show so that `selected` is visible in `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    }
}

/// The rows a table in `area` (a title line and a header) shows of a view
/// of `len` rows: (height, selected, first row). Records the page size for
/// PgUp / PgDn.
pub fn table_window(app: &mut crate::tui::app::App, len: usize, area: ratatui::layout::Rect) -> (usize, usize, usize) {
    let height = area.height.saturating_sub(2) as usize;
    app.page = height.max(1);
    let sel = app.selected().min(len.saturating_sub(1));
    let first = scroll_offset(sel, height);
    app.table_rows = Some((area.y + 2, height.min(len.saturating_sub(first)) as u16, first));
    (height, sel, first)
}
