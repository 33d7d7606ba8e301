//! Problems found in input files, phrased so a planner can act on them:
//! which file, which row, which column, what value, what was expected.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The data cannot be used until this is fixed.
    Error,
    /// The data can be used; the planner should know.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub severity: Severity,
    pub file: String,
    /// Row as a spreadsheet shows it: the header is row 1, so the first data
    /// row of a CSV file is row 2. For Parquet files, the record number from 1.
    pub row: Option<usize>,
    pub column: Option<String>,
    pub value: Option<String>,
    /// What is wrong and what was expected instead.
    pub message: String,
}

impl Problem {
    pub fn new(
        severity: Severity,
        file: &str,
        row: Option<usize>,
        column: Option<&str>,
        value: Option<&str>,
        message: String,
    ) -> Self {
        Problem {
            severity,
            file: file.to_string(),
            row,
            column: column.map(str::to_string),
            value: value.map(str::to_string),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{tag}: {}", self.file)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column '{col}'")?;
        }
        if let Some(v) = &self.value {
            write!(f, ", value '{}'", shorten(v, 40))?;
        }
        write!(f, ": {}", self.message)
    }
}

/// `s` cut to `max` characters, control characters written as escapes: a
/// file with binary junk put raw NUL bytes into the message (and onto the
/// terminal).
fn shorten(s: &str, max: usize) -> String {
    let shown = |c: char| -> String {
        if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        }
    };
    if s.chars().count() <= max {
        s.chars().map(shown).collect()
    } else {
        let cut: String = s.chars().take(max).map(shown).collect();
        format!("{cut}...")
    }
}

/// How a problem that follows from another, reported there, ends.
pub const KNOCK_ON: &str = "reported there";

/// The sort of a problem: its message, or the words before a colon that
/// name it ("duplicate row: sku A, 2024-01-03 is already on row 2"), so
/// that a million duplicates are one sort, not a million.
fn sort_of(message: &str) -> &str {
    match message.split_once(": ") {
        Some((sort, _)) if sort.len() <= 40 => sort,
        _ => message,
    }
}

/// Collects problems, keeping at most `cap` of one sort (same file, column
/// and message) in full and counting the rest, so a file with a million bad
/// rows gives a readable report.
#[derive(Debug)]
pub struct Problems {
    list: Vec<Problem>,
    seen: HashMap<(String, Option<String>, String), usize>,
    cap: usize,
}

impl Problems {
    pub fn new(cap: usize) -> Self {
        Problems {
            list: Vec::new(),
            seen: HashMap::new(),
            cap: cap.max(1),
        }
    }

    /// A problem already listed (the same file, row, column, value and
    /// message: a pivot's row read once per date) is not listed again.
    pub fn push(&mut self, p: Problem) {
        let key = (p.file.clone(), p.column.clone(), sort_of(&p.message).to_string());
        if self.seen.get(&key).is_some_and(|n| *n <= self.cap) && self.list.contains(&p) {
            return;
        }
        let n = self.seen.entry(key).or_insert(0);
        *n += 1;
        if *n <= self.cap {
            self.list.push(p);
        }
    }

    pub fn error(
        &mut self,
        file: &str,
        row: Option<usize>,
        column: Option<&str>,
        value: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Problem::new(Severity::Error, file, row, column, value, message.into()));
    }

    pub fn warning(
        &mut self,
        file: &str,
        row: Option<usize>,
        column: Option<&str>,
        value: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Problem::new(
            Severity::Warning,
            file,
            row,
            column,
            value,
            message.into(),
        ));
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|p| p.severity == Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.list.iter().filter(|p| p.severity == Severity::Warning).count()
    }

    /// The problems, with one summary line for each sort that was cut short.
    pub fn finish(self) -> Vec<Problem> {
        let mut out = self.list;
        let mut extra: Vec<_> = self.seen.into_iter().filter(|(_, n)| *n > self.cap).collect();
        extra.sort();
        for ((file, column, message), n) in extra {
            let severity = out
                .iter()
                .find(|p| p.file == file && p.column == column && sort_of(&p.message) == message)
                .map_or(Severity::Error, |p| p.severity);
            out.push(Problem {
                severity,
                file,
                row: None,
                column,
                value: None,
                message: format!("{} more rows like this: {message}", n - self.cap),
            });
        }
        // Errors that follow from another (a row naming a warehouse whose
        // own row is broken) come after the causes: 29 of them put the
        // broken warehouse row last.
        let knock_on = |p: &Problem| p.message.ends_with(KNOCK_ON);
        out.sort_by(|a, b| {
            (a.severity, knock_on(a), &a.file, a.row.is_none(), a.row, &a.column).cmp(&(
                b.severity,
                knock_on(b),
                &b.file,
                b.row.is_none(),
                b.row,
                &b.column,
            ))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_repeats_and_counts_the_rest() {
        let mut p = Problems::new(2);
        for row in 2..7 {
            p.error("s.csv", Some(row), Some("qty"), Some("x"), "expected a number");
        }
        p.warning("s.csv", None, None, None, "something to know");
        assert!(p.has_errors());
        let list = p.finish();
        assert_eq!(list.len(), 4);
        assert_eq!(list[0].row, Some(2));
        assert_eq!(list[1].row, Some(3));
        assert_eq!(list[2].message, "3 more rows like this: expected a number");
        assert_eq!(list[3].severity, Severity::Warning);
        // Messages that name their sort before a colon are capped by it.
        let mut p2 = Problems::new(2);
        for row in 2..7 {
            p2.error(
                "s.csv",
                Some(row),
                None,
                None,
                format!("duplicate row: sku A, day {row}"),
            );
        }
        let sorted = p2.finish();
        assert_eq!(sorted.len(), 3);
        assert_eq!(sorted[2].message, "3 more rows like this: duplicate row");
        assert_eq!(
            list[0].to_string(),
            "error: s.csv, row 2, column 'qty', value 'x': expected a number"
        );
        // Control characters in a value are written as escapes.
        let mut p3 = Problems::new(2);
        p3.error("s.csv", Some(9), Some("qty"), Some("1\u{0}\u{0}x"), "expected a number");
        assert_eq!(
            p3.finish()[0].to_string(),
            "error: s.csv, row 9, column 'qty', value '1\\u{0}\\u{0}x': expected a number"
        );
    }
}
