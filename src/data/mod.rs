//! Files in: the importer (read, detect and map, validate, aggregate),
//! problems and the import report, sample data.

pub mod import;
pub mod mapping;
pub mod problems;
pub mod sample;

pub use import::{ImportFailed, ImportOptions, ImportReport, Imported, Summary, import_paths};
pub use mapping::{ColumnMap, Field, FileKind};
pub use problems::{Problem, Severity};
pub mod report;
