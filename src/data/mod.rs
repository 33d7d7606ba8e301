//! Files in: the importer, column mapping, problems and the import report,
//! sample data.
//!
//! The importer by job: `read` (files as text; workbooks in `sheets`), `detect` (date formats),
//! `mapping` (which column is which field, by the names in `aliases`),
//! `numbers` (decimal commas and thousands marks), `validate` (cells and the
//! small tables), `invoices` (one transaction line in two files),
//! `wide` (a column per date to a row per date), `aggregate` (sales and
//! transactions to daily demand, grouped into series in `day_rows`), with `import` on top running them over
//! every file.

mod aggregate;
mod aliases;
mod day_rows;
mod detect;
mod flags;
pub mod import;
mod invoices;
pub mod mapping;
mod numbers;
mod partial;
pub mod problems;
mod read;
pub mod sample;
mod sheets;
mod validate;
mod wide;

pub use import::{ImportFailed, ImportOptions, ImportReport, Imported, Summary, import_paths};
pub use mapping::{ColumnMap, Field, FileKind};
pub use problems::{Problem, Severity};
pub mod report;
