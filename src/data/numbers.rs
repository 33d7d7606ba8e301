//! Numbers written the way spreadsheets write them. A file separated by
//! `;` is what a European spreadsheet saves, and its numbers carry a
//! decimal comma (`3,5`, `1.234,50`). A file separated by `,` or tabs may
//! group thousands with commas (`"1,234.50"`). Each number column of such a
//! file is rewritten in plain digits before it is read, when every value in
//! it reads one of those ways. A column with a value that reads neither way
//! is left alone, so its bad values are reported row by row, as written.

use polars::prelude::*;

use crate::data::mapping::Field;

/// The fields whose columns hold plain numbers (times of day are read apart).
const NUMBER_FIELDS: [Field; 16] = [
    Field::Quantity,
    Field::Price,
    Field::UnitCost,
    Field::PackSize,
    Field::Moq,
    Field::LeadTime,
    Field::OnHand,
    Field::OnOrder,
    Field::Lat,
    Field::Lon,
    Field::X,
    Field::Y,
    Field::Service,
    Field::Capacity,
    Field::Speed,
    Field::CostPerKm,
];

/// How a file writes its numbers' decimal point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decimal {
    /// `1,234.5` or `1234.5` (a `,` or tab separated file).
    Point,
    /// `1.234,5` or `1234,5` (a `;` separated file).
    Comma,
}

impl Decimal {
    /// The convention of a CSV file separated by `sep`.
    pub(super) fn of_separator(sep: u8) -> Decimal {
        if sep == b';' { Decimal::Comma } else { Decimal::Point }
    }

    /// The separator that groups thousands, and the decimal mark.
    fn marks(self) -> (u8, u8) {
        match self {
            Decimal::Point => (b',', b'.'),
            Decimal::Comma => (b'.', b','),
        }
    }
}

/// True when `s` (trimmed) is a number in `decimal`'s convention: a sign,
/// digits grouped in threes by the thousands mark or not grouped at all,
/// and an optional decimal mark with digits after it.
fn written_in(s: &str, decimal: Decimal) -> bool {
    let (group, point) = decimal.marks();
    let b = s.as_bytes();
    let b = b.strip_prefix(b"-").or_else(|| b.strip_prefix(b"+")).unwrap_or(b);
    let (int, frac) = match b.iter().position(|c| *c == point) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.iter().all(u8::is_ascii_digit)) {
        return false;
    }
    let groups: Vec<&[u8]> = int.split(|c| *c == group).collect();
    let digits = |g: &[u8]| !g.is_empty() && g.iter().all(u8::is_ascii_digit);
    match groups.as_slice() {
        [] => false,
        [one] => digits(one),
        [first, rest @ ..] => digits(first) && first.len() <= 3 && rest.iter().all(|g| digits(g) && g.len() == 3),
    }
}

/// `s` in plain digits: the thousands marks dropped, the decimal mark a point.
fn plain(s: &str, decimal: Decimal) -> String {
    let (group, point) = decimal.marks();
    s.trim()
        .bytes()
        .filter(|c| *c != group)
        .map(|c| if c == point { '.' } else { char::from(c) })
        .collect()
}

/// The column in plain digits when every value in it reads in `decimal`'s
/// convention and at least one holds a comma; `None` otherwise.
pub(super) fn rewritten(ca: &StringChunked, decimal: Decimal) -> Option<StringChunked> {
    // Only a comma tells: a column of `1.250` in a `;` file may be a
    // program's decimal point, and is read as it is.
    let mut needed = false;
    for s in ca.iter().flatten().map(str::trim).filter(|s| !s.is_empty()) {
        if !written_in(s, decimal) {
            return None;
        }
        needed |= s.contains(',');
    }
    needed.then(|| {
        ca.iter()
            .map(|v| {
                v.map(|s| {
                    if s.trim().is_empty() {
                        s.to_string()
                    } else {
                        plain(s, decimal)
                    }
                })
            })
            .collect::<StringChunked>()
            .with_name(ca.name().clone())
    })
}

/// Rewrite the number columns of `df` (named in `columns`) in plain digits
/// where they are written in `decimal`'s convention.
pub(super) fn plain_numbers(
    df: &mut DataFrame,
    columns: &std::collections::BTreeMap<Field, String>,
    decimal: Decimal,
) -> PolarsResult<()> {
    for f in NUMBER_FIELDS {
        let Some(name) = columns.get(&f) else { continue };
        let Some(fixed) = df
            .column(name)
            .ok()
            .and_then(|c| c.str().ok())
            .and_then(|ca| rewritten(ca, decimal))
        else {
            continue;
        };
        df.with_column(fixed.into_column())?;
    }
    Ok(())
}

/// A hint for a number that did not read, when its marks suggest why.
pub(super) fn hint(s: &str) -> &'static str {
    if written_in(s.trim(), Decimal::Comma) && s.contains(',') {
        "; a decimal comma is read in files separated by ';' (as a European spreadsheet saves them), when \
         every value of the column is written that way"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[Option<&str>]) -> StringChunked {
        values.iter().copied().collect::<StringChunked>().with_name("q".into())
    }

    #[test]
    fn numbers_in_either_convention() {
        for s in ["3", "-3", "3,5", "1.234,5", "1.234.567", "0,25", "+12"] {
            assert!(written_in(s, Decimal::Comma), "{s}");
        }
        for s in ["3.5", "1.23,4", "12.34", "1,2,3", ",5", "3,", "a,5", ""] {
            assert!(!written_in(s, Decimal::Comma), "{s}");
        }
        for s in ["3.5", "1,234.5", "1,234,567", "-1,000", "12"] {
            assert!(written_in(s, Decimal::Point), "{s}");
        }
        for s in ["3,5", "12,34", "1,2345", "1.2.3", "1,234.", "-"] {
            assert!(!written_in(s, Decimal::Point), "{s}");
        }
        assert_eq!(plain("1.234,5", Decimal::Comma), "1234.5");
        assert_eq!(plain(" -0,25 ", Decimal::Comma), "-0.25");
        assert_eq!(plain("1,234,567.5", Decimal::Point), "1234567.5");
    }

    #[test]
    fn a_column_is_rewritten_only_when_all_of_it_reads() {
        let ca = column(&[Some("3,5"), Some("12"), None, Some(" "), Some("1.000,25")]);
        let fixed = rewritten(&ca, Decimal::Comma).expect("rewritten");
        let got: Vec<Option<&str>> = fixed.iter().collect();
        assert_eq!(got, vec![Some("3.5"), Some("12"), None, Some(" "), Some("1000.25")]);
        // One value written otherwise: left alone, to be reported as written.
        assert!(rewritten(&column(&[Some("3,5"), Some("lots")]), Decimal::Comma).is_none());
        // Nothing to rewrite, and no comma to say the dots group thousands.
        assert!(rewritten(&column(&[Some("3"), Some("4")]), Decimal::Comma).is_none());
        assert!(rewritten(&column(&[Some("1.250"), Some("0.125")]), Decimal::Comma).is_none());
        assert!(rewritten(&column(&[Some("3.5")]), Decimal::Point).is_none());
        // Thousands in a comma-separated file.
        let fixed = rewritten(&column(&[Some("1,234.50"), Some("7")]), Decimal::Point).expect("rewritten");
        assert_eq!(fixed.get(0), Some("1234.50"));
        // "3,5" is not a thousands grouping: a comma file's column stays.
        assert!(rewritten(&column(&[Some("3,5")]), Decimal::Point).is_none());
    }

    #[test]
    fn only_number_columns_change() {
        let mut df = DataFrame::new_infer_height(vec![
            column(&[Some("3,5")]).with_name("qty".into()).into_column(),
            column(&[Some("1,5")]).with_name("title".into()).into_column(),
        ])
        .unwrap();
        let columns = [
            (Field::Quantity, "qty".to_string()),
            (Field::Title, "title".to_string()),
        ]
        .into_iter()
        .collect();
        plain_numbers(&mut df, &columns, Decimal::Comma).unwrap();
        assert_eq!(df.column("qty").unwrap().str().unwrap().get(0), Some("3.5"));
        assert_eq!(df.column("title").unwrap().str().unwrap().get(0), Some("1,5"));
    }
}
