//! Yes/no columns (a promotion, an event flag) read as the words they hold,
//! and prices that read as none.

use crate::data::mapping::{Field, NO, YES};
use crate::data::problems::Problems;
use crate::data::read::Table;

/// A promotion or event flag that reads as neither yes nor no is read as
/// no: said once per column, with its first such row and how many more
/// (a promo column holding "abc", or a discount, was dropped unsaid).
pub(super) fn warn_unread_flags(t: &Table, problems: &mut Problems) {
    let reads = |v: &str| v.is_empty() || YES.iter().chain(NO.iter()).any(|w| v.eq_ignore_ascii_case(w));
    for field in [Field::Promo, Field::Flag] {
        warn_first(
            t,
            field,
            reads,
            "expected a yes/no flag (1/0, yes/no, true/false); read as no",
            problems,
        );
    }
}

/// A price that is no number of 0 or more (`abc`, `-71.45`, `NaN`) is left
/// out of the SKU's price: said once, with its first such row and how many
/// more (it was dropped unsaid).
pub(super) fn warn_unread_prices(t: &Table, problems: &mut Problems) {
    let reads = |v: &str| v.is_empty() || v.parse::<f64>().is_ok_and(|p| p.is_finite() && p >= 0.0);
    warn_first(
        t,
        Field::Price,
        reads,
        "expected a price of 0 or more; left out of the SKU's price",
        problems,
    );
}

/// The first value of `field`'s column that `reads` does not take (trimmed),
/// as a warning saying `what`, with how many more rows are like it.
fn warn_first(t: &Table, field: Field, reads: impl Fn(&str) -> bool, what: &str, problems: &mut Problems) {
    let Some(col) = t.text_column(field) else { return };
    let mut odd = col
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_some_and(|v| !reads(v.trim())));
    if let Some((i, v)) = odd.next() {
        let more = odd.count();
        problems.warning(
            &t.label,
            Some(t.row(i)),
            t.col(field),
            v,
            format!(
                "{what}{}",
                match more {
                    0 => String::new(),
                    n => format!(" ({n} more rows like it)"),
                }
            ),
        );
    }
}
