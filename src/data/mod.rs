//! Files in and out: the importer, column mapping, problems, sample data.

pub mod export;
pub mod import;
pub mod mapping;
pub mod problems;
pub mod sample;

pub use import::{ImportFailed, ImportOptions, ImportReport, Imported, Summary, import_paths};
pub use mapping::{ColumnMap, Field, FileKind};
pub use problems::{Problem, Severity};
pub mod report;
