//! Invoices across transaction files: an invoice is issued once, so one
//! found in two files is the same sale twice.

use std::collections::HashMap;

use crate::data::mapping::Field;
use crate::data::problems::Problems;
use crate::data::read::Table;

/// An error where a transaction file repeats invoices an earlier one had
/// (`seen`: invoice -> index into `files`, the demand files read so far):
/// its sales would be counted twice. Names the first such row, how many
/// invoices the two share, and what to do.
pub(super) fn invoices_in_one_file(
    t: &Table,
    problems: &mut Problems,
    (seen, files): (&mut HashMap<String, usize>, &[String]),
) {
    let Some(invoices) = t.text_column(Field::Invoice) else {
        return;
    };
    let file = files.len();
    let mut first: Option<(usize, String, usize)> = None;
    let mut shared: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (i, v) in invoices.iter().enumerate() {
        let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        match seen.get(v) {
            Some(&other) if other != file => {
                if first.is_none() {
                    first = Some((i, v.to_string(), other));
                }
                shared.insert(v);
            }
            Some(_) => {}
            None => {
                seen.insert(v.to_string(), file);
            }
        }
    }
    if let Some((i, invoice, other)) = first {
        let other = files.get(other).cloned().unwrap_or_default();
        problems.error(
            &t.label,
            Some(t.row(i)),
            t.col(Field::Invoice),
            Some(&invoice),
            format!(
                "invoice {invoice} is also in {other} ({} in both files): their sales would be counted twice; \
                 import one of the two files, or take the repeated invoices out of one",
                match shared.len() {
                    1 => "1 invoice".to_string(),
                    n => format!("{n} invoices"),
                }
            ),
        );
    }
}
