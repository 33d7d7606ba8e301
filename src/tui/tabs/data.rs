//! Data: what was loaded, the import summary and every problem found.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &mut App, theme: &Theme) {
    let mut lines: Vec<Line> = Vec::new();
    let stale = app.stale();
    // A later import that failed, then why the data shown is old.
    let mut problems: Vec<(String, &str)> = Vec::new();
    if let Some(p) = app.load_problems.as_deref() {
        problems.push(("the last import failed; nothing was changed:".to_string(), p));
    }
    if let Some(s) = stale {
        problems.push((
            format!(
                "the files shown no longer import; below is their last good import, of {} (fix the files, then i):",
                s.at
            ),
            &s.failure,
        ));
    }
    for (head, p) in problems {
        lines.push(Line::styled(head, theme.bad()));
        for t in p.lines() {
            lines.push(Line::raw(t.to_string()));
        }
        lines.push(Line::raw(""));
    }
    match &app.loaded {
        Some(l) => {
            lines.push(Line::styled("files", theme.title()));
            for p in &l.sources.paths {
                lines.push(Line::raw(format!("  {}", p.display())));
            }
            if !l.sources.map.is_empty() {
                lines.push(Line::raw(format!("  column mapping: {}", l.sources.map)));
            }
            lines.push(Line::raw(""));
            for t in l.report_text.lines() {
                let style = if t.contains("error") {
                    theme.bad()
                } else if t.contains("warning") {
                    theme.warn()
                } else {
                    Default::default()
                };
                lines.push(Line::styled(t.to_string(), style));
            }
        }
        None => lines.push(Line::raw("no data loaded: press i to import a file or folder")),
    }
    // A long list of problems scrolls: j/k, PgUp/PgDn, g/G move the first
    // row shown, over the rows the text wraps into at this width.
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let rows = text.line_count(area.width);
    let visible = usize::from(area.height.saturating_sub(1)).max(1);
    let top = app.selected[0].min(rows.saturating_sub(visible));
    app.data_rows = rows.saturating_sub(visible) + 1;
    app.page = visible;
    app.selected[0] = top;
    let title = match super::shown_of(top, visible, rows) {
        Some(shown) => format!(" data: rows {shown} (j/k, PgDn, G scroll) "),
        None => " data ".to_string(),
    };
    f.render_widget(
        text.scroll((u16::try_from(top).unwrap_or(u16::MAX), 0))
            .block(Block::default().borders(Borders::TOP).title(title)),
        area,
    );
}
