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
        // A leading zero groups nothing: `0,250` is a decimal comma.
        [first, rest @ ..] => {
            digits(first)
                && first.len() <= 3
                && !first.starts_with(b"0")
                && rest.iter().all(|g| digits(g) && g.len() == 3)
        }
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

/// How a number column is read.
#[derive(Debug)]
pub(super) enum Reading {
    /// As it is written (plain numbers, or values that read no one way,
    /// reported row by row).
    AsIs,
    /// In plain digits.
    Rewritten(StringChunked),
    /// A `;` file's column with dots between digit groups of three and no
    /// comma anywhere: `1.200` is 1200 to a European spreadsheet and 1.2 to
    /// a program. Not guessed at: the first such value, by row index.
    Ambiguous(usize, String),
}

/// How to read a number column: rewritten in plain digits when every value
/// reads in `decimal`'s convention and one holds a comma.
pub(super) fn reading(ca: &StringChunked, decimal: Decimal) -> Reading {
    let mut comma = false;
    // Two marks in one number: a decimal point cannot come twice.
    let mut grouped = false;
    let mut dotted = None;
    for (i, v) in ca.iter().enumerate() {
        let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        if !written_in(s, decimal) {
            // A word among the numbers (`abc`, `12kg`) is its own row's
            // error, whichever way the column reads: it no longer turned
            // every `3,5` of a `;` file into one too. Digits and marks in
            // another convention leave the column as written.
            if s.bytes().all(|c| c.is_ascii_digit() || b"+-.,".contains(&c)) {
                return Reading::AsIs;
            }
            continue;
        }
        comma |= s.contains(',');
        grouped |= s.matches('.').count() > 1;
        if dotted.is_none() && s.contains('.') {
            dotted = Some((i, s.to_string()));
        }
    }
    match (comma || grouped, dotted, decimal) {
        (true, _, _) => Reading::Rewritten(rewritten(ca, decimal)),
        (false, Some((i, s)), Decimal::Comma) => Reading::Ambiguous(i, s),
        _ => Reading::AsIs,
    }
}

/// What to say of an ambiguous value.
pub(super) fn ambiguous_message(s: &str) -> String {
    let digits: String = s.chars().filter(|c| *c != '.').collect();
    let point = s.replacen('.', ",", 1);
    format!(
        "'{s}' could be {digits} (a dot between thousands, as a spreadsheet separated by ';' writes it) or a \
         decimal point; expected {digits} or {point} (no other value in the column tells which)"
    )
}

/// The column in plain digits.
fn rewritten(ca: &StringChunked, decimal: Decimal) -> StringChunked {
    {
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
    }
}

/// A value whose reading is not guessed at: (row index, column, value).
pub(super) type Unclear = (usize, String, String);

/// Rewrite the number columns of `df` (named in `columns`) in plain digits
/// where they are written in `decimal`'s convention; the columns that
/// cannot be read one way or the other, by their first unclear value.
pub(super) fn plain_numbers(
    df: &mut DataFrame,
    columns: &std::collections::BTreeMap<Field, String>,
    decimal: Decimal,
    skip: Option<Field>,
) -> PolarsResult<Vec<Unclear>> {
    let mut unclear = Vec::new();
    for f in NUMBER_FIELDS.into_iter().filter(|f| Some(*f) != skip) {
        let Some(name) = columns.get(&f) else { continue };
        let Some(ca) = df.column(name).ok().and_then(|c| c.str().ok()) else {
            continue;
        };
        match reading(ca, decimal) {
            Reading::AsIs => {}
            Reading::Rewritten(fixed) => {
                df.with_column(fixed.into_column())?;
            }
            Reading::Ambiguous(i, s) => unclear.push((i, name.clone(), s)),
        }
    }
    Ok(unclear)
}

/// A hint for a number that did not read, when its marks suggest why.
pub(super) fn hint(s: &str) -> &'static str {
    if written_in(s.trim(), Decimal::Comma) && s.contains(',') {
        "; a decimal comma is read only in CSV files separated by ';' (as a European spreadsheet saves \
         them), when every value of the column is written that way"
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
        for s in [
            "3,5", "12,34", "1,2345", "1.2.3", "1,234.", "-", "0,250", "-0,500", "01,234",
        ] {
            assert!(!written_in(s, Decimal::Point), "{s}");
        }
        assert_eq!(plain("1.234,5", Decimal::Comma), "1234.5");
        assert_eq!(plain(" -0,25 ", Decimal::Comma), "-0.25");
        assert_eq!(plain("1,234,567.5", Decimal::Point), "1234567.5");
    }

    fn rewritten(ca: &StringChunked, decimal: Decimal) -> Option<StringChunked> {
        match reading(ca, decimal) {
            Reading::Rewritten(c) => Some(c),
            _ => None,
        }
    }

    #[test]
    fn a_column_is_rewritten_only_when_all_of_it_reads() {
        let ca = column(&[Some("3,5"), Some("12"), None, Some(" "), Some("1.000,25")]);
        let fixed = rewritten(&ca, Decimal::Comma).expect("rewritten");
        let got: Vec<Option<&str>> = fixed.iter().collect();
        assert_eq!(got, vec![Some("3.5"), Some("12"), None, Some(" "), Some("1000.25")]);
        // One number written otherwise: left alone, to be reported as written.
        assert!(rewritten(&column(&[Some("3,5"), Some("1,234.5")]), Decimal::Comma).is_none());
        // A word is its own row's error: the rest still read (every `3,5`
        // was reported beside it).
        let fixed = rewritten(&column(&[Some("3,5"), Some("lots")]), Decimal::Comma).expect("rewritten");
        assert_eq!((fixed.get(0), fixed.get(1)), (Some("3.5"), Some("lots")));
        // Nothing to rewrite.
        assert!(matches!(
            reading(&column(&[Some("3"), Some("4")]), Decimal::Comma),
            Reading::AsIs
        ));
        // No comma to say whether the dots group thousands: not guessed.
        let r = reading(&column(&[Some("15"), Some("-1.200"), Some("300")]), Decimal::Comma);
        assert!(matches!(&r, Reading::Ambiguous(1, s) if s == "-1.200"), "{r:?}");
        assert!(ambiguous_message("1.200").contains("expected 1200 or 1,200"));
        // Two dots group thousands, in that value and its column.
        let fixed = rewritten(&column(&[Some("1.200.000"), Some("1.200")]), Decimal::Comma).expect("rewritten");
        assert_eq!((fixed.get(0), fixed.get(1)), (Some("1200000"), Some("1200")));
        // A dot that groups nothing is a program's decimal point.
        assert!(matches!(
            reading(&column(&[Some("1.250"), Some("2.5")]), Decimal::Comma),
            Reading::AsIs
        ));
        assert!(matches!(
            reading(&column(&[Some("0.125")]), Decimal::Comma),
            Reading::AsIs
        ));
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
        plain_numbers(&mut df, &columns, Decimal::Comma, None).unwrap();
        assert_eq!(df.column("qty").unwrap().str().unwrap().get(0), Some("3.5"));
        assert_eq!(df.column("title").unwrap().str().unwrap().get(0), Some("1,5"));
    }
}
