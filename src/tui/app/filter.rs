//! The `/` filter: a word any shown field contains (case ignored), or one
//! field exactly, `wh:10`, `sku:10`, `supplier:Acme` (a warehouse called
//! 10 is otherwise also every SKU and date with a 10 in it, and `A` then
//! approves them all).

/// The fields a row can be filtered on exactly.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fields<'a> {
    pub sku: &'a str,
    pub warehouse: &'a str,
    pub supplier: &'a str,
}

/// `filter` against a row: `field:value` compares that field whole (case
/// ignored); anything else is a word that any of the fields or `text`
/// contains. An empty filter matches everything.
pub(crate) fn matches_row(filter: &str, fields: &Fields, text: &[&str]) -> bool {
    if let Some((key, want)) = filter.split_once(':') {
        let field = match key.trim().to_lowercase().as_str() {
            "wh" | "warehouse" => Some(fields.warehouse),
            "sku" => Some(fields.sku),
            "supplier" => Some(fields.supplier),
            _ => None,
        };
        // Whole, or else as typed anywhere (an id that holds the colon).
        if let Some(v) = field
            && v.trim().to_lowercase() == want.trim().to_lowercase()
        {
            return true;
        }
        if field.is_some() {
            return matches_filter(filter, &[fields.sku, fields.warehouse, fields.supplier]);
        }
    }
    matches_filter(filter, &[fields.sku, fields.warehouse, fields.supplier]) || matches_filter(filter, text)
}

/// Whether any of `text` contains `filter`, ignoring case (an empty filter
/// matches everything).
pub(crate) fn matches_filter(filter: &str, text: &[&str]) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    text.iter().any(|t| t.to_lowercase().contains(&f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_named_is_compared_whole() {
        let row = |sku, warehouse| Fields {
            sku,
            warehouse,
            supplier: "Acme Ltd",
        };
        let reason = ["what-if 2018-01-10"];
        assert!(matches_row("wh:10", &row("3", "10"), &reason));
        assert!(
            !matches_row("wh:10", &row("10", "1"), &reason),
            "SKU 10 is not warehouse 10"
        );
        assert!(
            !matches_row("wh:10", &row("3", "2"), &reason),
            "nor a date with 10 in it"
        );
        assert!(
            matches_row("10", &row("3", "2"), &reason),
            "a plain word still matches anywhere"
        );
        assert!(matches_row("SKU: 21 ", &row("21", "1"), &[]));
        assert!(matches_row("supplier:acme ltd", &row("1", "1"), &[]));
        assert!(!matches_row("supplier:acme", &row("1", "1"), &[]));
        // Not a field: the colon is part of the word.
        assert!(matches_row("note:x", &row("1", "1"), &["a note:x here"]));
        assert!(
            matches_row("sku:a", &row("SKU:A-1", "1"), &[]),
            "an id holding the colon"
        );
        assert!(matches_row("", &row("1", "1"), &[]));
    }
}
