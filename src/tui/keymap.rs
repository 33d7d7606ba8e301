//! Keys to actions: defaults built in, overridable in the config file's
//! `[keys]` table (`approve = "y"`), conflicts reported when it loads.

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// A key without the modifiers that do not matter (shift on letters is in
/// the letter's case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Key {
        Key {
            code: e.code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// "a", "A", "?", "tab", "backtab", "enter", "esc", "up", "pgdn",
    /// "ctrl-c", "f1" ...
    pub fn parse(s: &str) -> Result<Key, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => {
                KeyCode::F(f[1..].parse().map_err(|_| format!("{s:?}: not a key"))?)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => {
                        return Err(format!(
                            "{s:?}: not a key (a character, or tab, enter, esc, up, pgdn, ctrl-x, f1 ...)"
                        ));
                    }
                }
            }
        };
        Ok(Key { code, ctrl })
    }
}

pub struct Keymap {
    map: HashMap<Key, Action>,
}

fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

impl Default for Keymap {
    fn default() -> Self {
        let mut map = HashMap::new();
        let pairs: Vec<(Key, Action)> = vec![
            (k('q'), Action::Quit),
            (
                Key {
                    code: KeyCode::Char('c'),
                    ctrl: true,
                },
                Action::Quit,
            ),
            (code(KeyCode::Tab), Action::NextTab),
            (code(KeyCode::BackTab), Action::PrevTab),
            (code(KeyCode::Up), Action::Up),
            (k('k'), Action::Up),
            (code(KeyCode::Down), Action::Down),
            (k('j'), Action::Down),
            (code(KeyCode::PageUp), Action::PageUp),
            (code(KeyCode::PageDown), Action::PageDown),
            (k('g'), Action::Top),
            (code(KeyCode::Home), Action::Top),
            (k('G'), Action::Bottom),
            (code(KeyCode::End), Action::Bottom),
            (k('?'), Action::Help),
            (code(KeyCode::Enter), Action::Submit),
            (code(KeyCode::Esc), Action::Back),
            (k('/'), Action::Filter),
            (k('s'), Action::Sort),
            (k('a'), Action::Approve),
            (k('r'), Action::Reject),
            (k('A'), Action::ApproveAll),
            (k('u'), Action::Undo),
            (k('='), Action::SetQty),
            (k('e'), Action::Edit),
            (k('D'), Action::DropEdits),
            (k('C'), Action::Compare),
            (k('S'), Action::SaveScenario),
            (k('O'), Action::OpenScenario),
            (k('x'), Action::Export),
            (k('i'), Action::Import),
            (k('n'), Action::Similar),
            (k('M'), Action::Remap),
            (k('t'), Action::StartTraining),
            (k('p'), Action::PauseResume),
            (k('c'), Action::CancelTraining),
            (k('m'), Action::CycleMode),
            (k('+'), Action::MoreEpochs),
            (k('-'), Action::FewerEpochs),
            (k('L'), Action::Lock),
            // h and l (and the side arrows) move between tabs: the hjkl habit.
            (k('h'), Action::PrevTab),
            (code(KeyCode::Left), Action::PrevTab),
            (k('l'), Action::NextTab),
            (code(KeyCode::Right), Action::NextTab),
            (k('v'), Action::MoveOrder),
            (k('o'), Action::Reoptimise),
            (k('['), Action::ScrollUp),
            (k(']'), Action::ScrollDown),
            (k('R'), Action::ToggleRun),
            (k('f'), Action::RefitRun),
            (k('H'), Action::Messages),
        ];
        for (key, a) in pairs {
            map.insert(key, a);
        }
        for i in 0..5 {
            map.insert(k(char::from(b'1' + i as u8)), Action::GoTab(i));
        }
        Keymap { map }
    }
}

impl Keymap {
    /// The defaults with `overrides` (action name -> key) applied. A key
    /// bound to two actions, an unknown action or key is an error naming it.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Keymap, String> {
        let mut km = Keymap::default();
        let mut taken: HashMap<Key, &str> = HashMap::new();
        for (name, text) in overrides {
            let action = Action::BINDABLE
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, a)| *a)
                .ok_or_else(|| {
                    let names: Vec<&str> = Action::BINDABLE.iter().map(|(n, _)| *n).collect();
                    format!("[keys] {name}: no such action; expected one of {}", names.join(", "))
                })?;
            let key = Key::parse(text).map_err(|e| format!("[keys] {name}: {e}"))?;
            if let Some(other) = taken.insert(key, name) {
                return Err(format!("[keys] {name} and {other} are both bound to {text:?}"));
            }
            // The new key replaces the action's letter; its arrow, Enter,
            // Esc or Ctrl key stays (rebinding quit took Ctrl-C away, and
            // rebinding down the Down arrow).
            km.map
                .retain(|k, a| *a != action || !matches!(k.code, KeyCode::Char(_)) || k.ctrl);
            km.map.insert(key, action);
        }
        // A new key must not silently take another action's default key.
        let defaults = Keymap::default();
        for (key, name) in &taken {
            if let Some(prev) = defaults.map.get(key)
                && km.map.get(key) != Some(prev)
                && !overrides
                    .keys()
                    .any(|n| Action::BINDABLE.iter().any(|(b, a)| b == n && a == prev))
            {
                let prev_name = Action::BINDABLE
                    .iter()
                    .find(|(_, a)| a == prev)
                    .map_or_else(|| format!("{prev:?}"), |(n, _)| n.to_string());
                return Err(format!(
                    "[keys] {name} takes the key of {prev_name}; bind {prev_name} to another key too"
                ));
            }
        }
        Ok(km)
    }

    /// For the footers and the help: each default letter an override moved,
    /// with the key that replaces it (`a` -> `y`).
    pub fn relabels(overrides: &BTreeMap<String, String>) -> Vec<(String, String)> {
        let defaults = Keymap::default();
        let mut out = Vec::new();
        for (name, text) in overrides {
            let Some(action) = Action::BINDABLE.iter().find(|(n, _)| n == name).map(|(_, a)| *a) else {
                continue;
            };
            for (key, a) in &defaults.map {
                if *a == action
                    && !key.ctrl
                    && let KeyCode::Char(c) = key.code
                {
                    out.push((c.to_string(), text.clone()));
                }
            }
        }
        out
    }

    /// The action of a key in normal mode.
    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::from_event(e)).copied()
    }

    /// In a prompt every printable key is text.
    pub fn prompt_action(e: &KeyEvent) -> Option<Action> {
        match e.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Tab => Some(Action::Complete),
            KeyCode::Char('c') if e.modifiers.contains(KeyModifiers::CONTROL) => Some(Action::Back),
            // Other control chords are not text.
            KeyCode::Char(_) if e.modifiers.contains(KeyModifiers::CONTROL) => None,
            KeyCode::Char(c) => Some(Action::Char(c)),
            _ => None,
        }
    }

    pub fn confirm_action(e: &KeyEvent) -> Action {
        match e.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Action::Yes,
            _ => Action::Back,
        }
    }
}

/// `text` (a footer, or a help line's keys) with each key a `[keys]`
/// override moved shown as the key that does it now. Keys are the runs
/// between `/`, `,` and spaces: a footer's segments ("a/r approve/reject")
/// have theirs first, before the first space.
pub fn relabel(text: &str, relabels: &[(String, String)], footer: bool) -> String {
    if relabels.is_empty() {
        return text.to_string();
    }
    let swap = |keys: &str| -> String {
        let mut out = String::new();
        let mut run = String::new();
        let flush = |run: &mut String, out: &mut String| {
            let new = relabels.iter().find(|(old, _)| old == run).map(|(_, n)| n.as_str());
            out.push_str(new.unwrap_or(run));
            run.clear();
        };
        for c in keys.chars() {
            if matches!(c, '/' | ',' | ' ') && !run.is_empty() {
                flush(&mut run, &mut out);
                out.push(c);
            } else if matches!(c, '/' | ',' | ' ') {
                out.push(c);
            } else {
                run.push(c);
            }
        }
        flush(&mut run, &mut out);
        out
    };
    if !footer {
        return swap(text);
    }
    text.split("  ")
        .map(|seg| match seg.split_once(' ') {
            Some((keys, what)) => format!("{} {what}", swap(keys)),
            None => swap(seg),
        })
        .collect::<Vec<_>>()
        .join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn defaults_and_overrides() {
        let km = Keymap::default();
        assert_eq!(km.action(&ev('a')), Some(Action::Approve));
        assert_eq!(km.action(&ev('3')), Some(Action::GoTab(2)));
        assert_eq!(km.action(&ev('5')), Some(Action::GoTab(4)));
        // hjkl: j/k move in a table, h/l between tabs.
        assert_eq!(km.action(&ev('h')), Some(Action::PrevTab));
        assert_eq!(km.action(&ev('l')), Some(Action::NextTab));
        assert_eq!(km.action(&ev('j')), Some(Action::Down));
        assert_eq!(km.action(&ev('L')), Some(Action::Lock));
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), "y".to_string());
        let km = Keymap::with_overrides(&o).unwrap();
        assert_eq!(km.action(&ev('y')), Some(Action::Approve));
        assert_eq!(km.action(&ev('a')), None, "the old key is freed");
        // Rebinding quit and down keeps Ctrl-C and the Down arrow.
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), "Q".to_string());
        o.insert("down".to_string(), "J".to_string());
        let km = Keymap::with_overrides(&o).unwrap();
        assert_eq!(km.action(&ev('Q')), Some(Action::Quit));
        assert_eq!(km.action(&ev('q')), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(km.action(&ctrl_c), Some(Action::Quit));
        assert_eq!(
            km.action(&KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(km.action(&ev('J')), Some(Action::Down));
        assert_eq!(km.action(&ev('j')), None);
    }

    /// Footers and help name the keys the config moved.
    #[test]
    fn moved_keys_are_shown_where_keys_are_named() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), "y".to_string());
        o.insert("quit".to_string(), "Q".to_string());
        let r = Keymap::relabels(&o);
        assert_eq!(
            relabel("a/r approve/reject  A all  ? help  q quit", &r, true),
            "y/r approve/reject  A all  ? help  Q quit"
        );
        assert_eq!(relabel("a / r / A", &r, false), "y / r / A");
        assert_eq!(relabel("? / H / q", &r, false), "? / H / Q");
        // Words in a label stay as they are.
        assert_eq!(relabel("i import  a approve", &r, true), "i import  y approve");
        assert_eq!(relabel("a/r approve/reject", &[], true), "a/r approve/reject");
    }

    #[test]
    fn conflicts_and_unknowns_are_reported() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), "z".to_string());
        o.insert("reject".to_string(), "z".to_string());
        let e = Keymap::with_overrides(&o).err().unwrap();
        assert!(e.contains("are both bound to \"z\""), "{e}");
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), "r".to_string());
        let e = Keymap::with_overrides(&o).err().unwrap();
        assert!(e.contains("takes the key of reject"), "{e}");
        o.insert("reject".to_string(), "Z".to_string());
        let km = Keymap::with_overrides(&o).unwrap();
        assert_eq!(km.action(&ev('r')), Some(Action::Approve));
        assert_eq!(km.action(&ev('Z')), Some(Action::Reject));
        let mut o = BTreeMap::new();
        o.insert("launch".to_string(), "z".to_string());
        let e = Keymap::with_overrides(&o).err().unwrap();
        assert!(
            e.contains("no such action; expected one of") && e.contains("approve"),
            "{e}"
        );
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), "ctrl-".to_string());
        assert!(Keymap::with_overrides(&o).is_err());
    }
}
