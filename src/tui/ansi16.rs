//! The screen's backend: crossterm's, except that colours go out as the
//! classic 16-colour SGR codes (31 red, 94 light blue, 42 green background).
//!
//! crossterm writes even the 16 named colours in the 256-colour form
//! (`38;5;9` for red), which a terminal limited to 16 colours (an old
//! console, a serial line, some SSH clients) may not take: the screen then
//! comes out without its colours, or with stray attributes. Only `draw`
//! differs from crossterm's backend; everything else is passed through.

use std::io::{self, Write};

use crossterm::cursor::MoveTo;
use crossterm::queue;
use crossterm::style::Print;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

pub struct Ansi16Backend<W: Write> {
    inner: CrosstermBackend<W>,
}

impl<W: Write> Ansi16Backend<W> {
    pub fn new(writer: W) -> Self {
        Self {
            inner: CrosstermBackend::new(writer),
        }
    }
}

/// The SGR parameter of a colour: `base` is 30 for the foreground, 40 for
/// the background. Named colours use the 8 normal and 8 bright codes; an
/// indexed or RGB colour (never used by the theme) keeps its long form.
fn color_code(color: Color, base: u8) -> String {
    let bright = base + 60;
    match color {
        Color::Reset => format!("{}", base + 9),
        Color::Black => format!("{base}"),
        Color::Red => format!("{}", base + 1),
        Color::Green => format!("{}", base + 2),
        Color::Yellow => format!("{}", base + 3),
        Color::Blue => format!("{}", base + 4),
        Color::Magenta => format!("{}", base + 5),
        Color::Cyan => format!("{}", base + 6),
        Color::Gray => format!("{}", base + 7),
        Color::DarkGray => format!("{bright}"),
        Color::LightRed => format!("{}", bright + 1),
        Color::LightGreen => format!("{}", bright + 2),
        Color::LightYellow => format!("{}", bright + 3),
        Color::LightBlue => format!("{}", bright + 4),
        Color::LightMagenta => format!("{}", bright + 5),
        Color::LightCyan => format!("{}", bright + 6),
        Color::White => format!("{}", bright + 7),
        Color::Indexed(i) => format!("{};5;{i}", base + 8),
        Color::Rgb(r, g, b) => format!("{};2;{r};{g};{b}", base + 8),
    }
}

const MODIFIER_CODES: [(Modifier, &str); 9] = [
    (Modifier::BOLD, "1"),
    (Modifier::DIM, "2"),
    (Modifier::ITALIC, "3"),
    (Modifier::UNDERLINED, "4"),
    (Modifier::SLOW_BLINK, "5"),
    (Modifier::RAPID_BLINK, "6"),
    (Modifier::REVERSED, "7"),
    (Modifier::HIDDEN, "8"),
    (Modifier::CROSSED_OUT, "9"),
];

/// One SGR sequence that sets a cell's whole style from nothing: a reset,
/// its attributes, then both colours. Simpler than undoing attributes one
/// by one, and right whatever the terminal held before.
fn sgr(modifier: Modifier, fg: Color, bg: Color) -> String {
    let mut params = vec!["0".to_string()];
    for (m, code) in MODIFIER_CODES {
        if modifier.contains(m) {
            params.push(code.to_string());
        }
    }
    params.push(color_code(fg, 30));
    params.push(color_code(bg, 40));
    format!("\x1b[{}m", params.join(";"))
}

impl<W: Write> Backend for Ansi16Backend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        // Each draw ends with a reset (below), so it starts from one.
        let mut style = (Modifier::empty(), Color::Reset, Color::Reset);
        let mut last: Option<(u16, u16)> = None;
        for (x, y, cell) in content {
            if !matches!(last, Some((px, py)) if py == y && px.checked_add(1) == Some(x)) {
                queue!(self.inner, MoveTo(x, y))?;
            }
            last = Some((x, y));
            let wanted = (cell.modifier, cell.fg, cell.bg);
            if wanted != style {
                self.inner.write_all(sgr(cell.modifier, cell.fg, cell.bg).as_bytes())?;
                style = wanted;
            }
            queue!(self.inner, Print(cell.symbol()))?;
        }
        self.inner.write_all(b"\x1b[0m")
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn drawn(buf: &Buffer) -> String {
        let mut out = Vec::new();
        {
            let mut backend = Ansi16Backend::new(&mut out);
            let width = buf.area.width;
            let cells = buf.content.iter().enumerate().map(|(i, c)| {
                let i = u16::try_from(i).expect("a small test buffer");
                (i % width, i / width, c)
            });
            backend.draw(cells).expect("drawing into memory");
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn the_theme_s_colours_go_out_as_16_colour_codes() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 2));
        buf.set_string(
            0,
            0,
            "ab",
            Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        );
        buf.set_string(2, 0, "c", Style::default().bg(Color::Blue).fg(Color::White));
        buf.set_string(3, 0, "d", Style::default().fg(Color::DarkGray));
        buf.set_string(
            0,
            1,
            "e",
            Style::default().fg(Color::Red).add_modifier(Modifier::REVERSED),
        );
        let out = drawn(&buf);
        assert!(!out.contains("38;5") && !out.contains("48;5"), "{out:?}");
        // Bold cyan once for both letters, then white on blue, then dark grey.
        assert!(out.contains("\x1b[0;1;36;49mab\x1b[0;97;44mc\x1b[0;90;49md"), "{out:?}");
        assert!(out.contains("\x1b[0;39;49m  "), "{out:?}");
        assert!(out.contains("\x1b[0;7;31;49me"), "{out:?}");
        // The second row starts with a cursor move to it, and the draw ends reset.
        assert!(out.contains("\x1b[2;1H"), "{out:?}");
        assert!(out.ends_with("\x1b[0m"), "{out:?}");
    }

    #[test]
    fn every_named_colour_has_its_own_code_and_others_keep_their_long_form() {
        let named = [
            Color::Black,
            Color::Red,
            Color::Green,
            Color::Yellow,
            Color::Blue,
            Color::Magenta,
            Color::Cyan,
            Color::Gray,
            Color::DarkGray,
            Color::LightRed,
            Color::LightGreen,
            Color::LightYellow,
            Color::LightBlue,
            Color::LightMagenta,
            Color::LightCyan,
            Color::White,
        ];
        let fg: Vec<String> = named.iter().map(|&c| color_code(c, 30)).collect();
        let expected: Vec<String> = (30..38).chain(90..98).map(|c: u8| c.to_string()).collect();
        assert_eq!(fg, expected);
        let bg: Vec<String> = named.iter().map(|&c| color_code(c, 40)).collect();
        let expected: Vec<String> = (40..48).chain(100..108).map(|c: u8| c.to_string()).collect();
        assert_eq!(bg, expected);
        assert_eq!(color_code(Color::Reset, 40), "49");
        assert_eq!(color_code(Color::Indexed(200), 30), "38;5;200");
        assert_eq!(color_code(Color::Rgb(1, 2, 3), 40), "48;2;1;2;3");
    }
}
