//! Transaction lines across files: a line of an invoice found in two files
//! is the same sale twice (a sample exported beside the whole, say).
//!
//! Lines are compared whole (invoice, SKU, date and quantity), so an
//! invoice cut in two by an export in parts, or invoice numbers that
//! restart in each store's file, read as they should. Inside one file,
//! identical lines are an item entered twice on an invoice, and count.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::data::mapping::Field;
use crate::data::problems::Problems;
use crate::data::read::Table;

/// The transaction lines read so far: a hash of each line, with the file it
/// was first read in.
#[derive(Default)]
pub(super) struct SeenLines {
    lines: HashMap<u64, u32>,
    files: Vec<String>,
}

/// An error where transaction file `t` repeats lines an earlier file had:
/// their sales would be counted twice. Names the first such row, how many
/// of its lines that file had, and what to do.
pub(super) fn lines_in_one_file(t: &Table, problems: &mut Problems, seen: &mut SeenLines) {
    let (Some(invoices), Some(skus), Some(dates), Some(qtys)) = (
        t.text_column(Field::Invoice),
        t.text_column(Field::Sku),
        t.text_column(Field::Date),
        t.text_column(Field::Quantity),
    ) else {
        return;
    };
    let file = seen.files.len() as u32;
    seen.files.push(t.label.clone());
    let mut first: Option<(usize, String, u32)> = None;
    let mut repeated = 0usize;
    let cells = invoices.iter().zip(skus.iter()).zip(dates.iter()).zip(qtys.iter());
    for (i, (((inv, sku), date), qty)) in cells.enumerate() {
        let Some(inv) = inv.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        let mut h = DefaultHasher::new();
        (inv, sku.map(str::trim), date.map(str::trim), qty.map(str::trim)).hash(&mut h);
        let line = h.finish();
        match seen.lines.get(&line) {
            Some(&other) if other != file => {
                repeated += 1;
                if first.is_none() {
                    first = Some((i, inv.to_string(), other));
                }
            }
            Some(_) => {}
            None => {
                seen.lines.insert(line, file);
            }
        }
    }
    if let Some((i, invoice, other)) = first {
        let other = seen.files.get(other as usize).cloned().unwrap_or_default();
        problems.error(
            &t.label,
            Some(t.row(i)),
            t.col(Field::Invoice),
            Some(&invoice),
            format!(
                "this line of invoice {invoice} is also in {other} ({}, with SKU, date and quantity alike): \
                 their sales would be counted twice; import one of the two files, or take the repeated lines \
                 out of one",
                match repeated {
                    1 => "1 line like it".to_string(),
                    n => format!("{n} lines like it"),
                }
            ),
        );
    }
}
