//! The workspace's kept imports: the cache key of importing some files,
//! the import that reads it back while the files are unchanged, and the
//! last import of them that worked.

use std::fs;
use std::path::PathBuf;

use super::Workspace;

/// File names of imports' results in the cache start so.
const IMPORT_PREFIX: &str = "import-";
/// Imports kept: the workspace's own data, and a command's `--data` or two
/// beside it, without one pushing the other out.
const IMPORTS_KEPT: usize = 3;

/// The data's own key: the import options that shape the data and every
/// file the import would read, by file name and by content (not by folder:
/// the shipped sample is `./sample-data` or the build tree's copy; not by
/// date: a file copied back keeps its date). The same on every build and
/// machine (FNV-1a), so a saved plan records it and a later build can tell
/// whether the data changed since. `None` when a path cannot be read; the
/// import then says why.
pub fn data_key(paths: &[PathBuf], opts: &crate::data::ImportOptions) -> Option<String> {
    use std::io::Read;
    let files = crate::data::import::source_files(paths)?;
    let mut h = crate::fsio::Fnv1a::default();
    h.eat(b"data-1");
    // Only what the data depends on: a field added to the options (or the
    // report's own settings) does not make every saved plan read as stale.
    let shaping = (
        &opts.map,
        &opts.date_format,
        &opts.product_defaults,
        &opts.default_warehouse,
        &opts.period,
        opts.strict,
        &opts.exclude_skus,
    );
    h.eat(&serde_json::to_vec(&shaping).ok()?);
    let mut buf = vec![0u8; 1 << 20];
    for path in &files {
        h.eat(path.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        h.eat(&[0]);
        let mut file = fs::File::open(path).ok()?;
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            h.eat(&buf[..n]);
            len += n as u64;
        }
        h.eat(&len.to_le_bytes());
    }
    Some(h.hex())
}

/// The cache key of importing `paths` with `opts`: their [`data_key`] and
/// the build (another build may read the same files otherwise).
pub fn import_key(paths: &[PathBuf], opts: &crate::data::ImportOptions) -> Option<String> {
    data_key(paths, opts).map(|d| cache_key(&d))
}

fn cache_key(data_key: &str) -> String {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    h.write(b"import-2");
    crate::plan::base::hash_build(&mut h);
    h.write(data_key.as_bytes());
    format!("{:016x}", h.finish())
}

/// Where the last import of some sources that worked is: the cache key of
/// its result, and when it was first made.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct LastGood {
    key: String,
    at: String,
    /// Its [`data_key`] (absent in a note of an earlier build).
    #[serde(default)]
    data: Option<String>,
}

const LAST_GOOD_PREFIX: &str = "last-import-";

/// The key of importing `paths` with `opts`, whatever the files hold.
fn sources_key(paths: &[PathBuf], opts: &crate::data::ImportOptions) -> Option<String> {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    h.write(b"sources-1");
    h.write(&serde_json::to_vec(opts).ok()?);
    for path in paths {
        h.write(path.as_os_str().as_encoded_bytes());
        h.write_u8(0);
    }
    Some(format!("{:016x}", h.finish()))
}

impl Workspace {
    /// The last import of `paths` with `opts` that worked, while its result
    /// is still in the cache (the last three imports are kept), when it
    /// was made, and its [`data_key`]: what a start can show when the files
    /// no longer import.
    pub fn last_good_import(
        &self,
        paths: &[PathBuf],
        opts: &crate::data::ImportOptions,
    ) -> Option<(crate::data::Imported, String, Option<String>)> {
        let dir = self.cache_dir();
        let last: LastGood = crate::fsio::load_keyed(&dir, LAST_GOOD_PREFIX, &sources_key(paths, opts)?)?;
        let imported = crate::fsio::load_keyed(&dir, IMPORT_PREFIX, &last.key)?;
        Some((imported, last.at, last.data))
    }

    /// Remember the import under cache `key` (of data `data`) as the last
    /// of `paths` with `opts` that worked.
    fn note_good_import(&self, paths: &[PathBuf], opts: &crate::data::ImportOptions, (key, data): (&str, &str)) {
        let Some(sources) = sources_key(paths, opts) else {
            return;
        };
        let dir = self.cache_dir();
        let known: Option<LastGood> = crate::fsio::load_keyed(&dir, LAST_GOOD_PREFIX, &sources);
        if known.is_some_and(|k| k.key == key) {
            // Used again: the last to be dropped from the cache.
            crate::fsio::touch(&dir.join(format!("{LAST_GOOD_PREFIX}{sources}.msgpack")));
            return;
        }
        let last = LastGood {
            key: key.to_string(),
            at: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
            data: Some(data.to_string()),
        };
        if let Err(e) = crate::fsio::save_keyed_keeping(&dir, LAST_GOOD_PREFIX, &sources, &last, IMPORTS_KEPT) {
            tracing::warn!("could not note the last good import: {e:#}");
        }
    }

    /// Import `paths` with `opts`. The same build reading the same files
    /// with the same options imports the same, so the last few imports'
    /// results are kept in the cache and taken from there while nothing
    /// changed: a start on M5's 59 million cells reads a file instead of
    /// parsing them.
    /// A failed import is not kept; a cache that cannot be written or read
    /// is only logged.
    pub fn import(
        &self,
        paths: &[PathBuf],
        opts: &crate::data::ImportOptions,
    ) -> Result<crate::data::Imported, crate::data::ImportFailed> {
        self.import_keyed(paths, opts).map(|(i, _)| i)
    }

    /// The same, with the files' [`data_key`] as they were read (`None`
    /// when one changed while it was read): what a plan records, so that
    /// an export can tell that the data changed since.
    pub fn import_keyed(
        &self,
        paths: &[PathBuf],
        opts: &crate::data::ImportOptions,
    ) -> Result<(crate::data::Imported, Option<String>), crate::data::ImportFailed> {
        let clock = std::time::Instant::now();
        let data = data_key(paths, opts);
        let key = data.as_deref().map(cache_key);
        if let Some(hit) = key
            .as_deref()
            .and_then(|k| crate::fsio::load_keyed::<crate::data::Imported>(&self.cache_dir(), IMPORT_PREFIX, k))
        {
            if let (Some(k), Some(d)) = (&key, &data) {
                crate::fsio::touch(&self.cache_dir().join(format!("{IMPORT_PREFIX}{k}.msgpack")));
                self.note_good_import(paths, opts, (k, d));
            }
            tracing::info!(ms = clock.elapsed().as_millis(), "data from the workspace cache");
            return Ok((hit, data));
        }
        let imported = crate::data::import_paths(paths, opts)?;
        // A file written while it was read is kept under neither content.
        let data = data.filter(|d| data_key(paths, opts).as_deref() == Some(d.as_str()));
        match (&key, &data) {
            (Some(k), Some(d)) => {
                let dir = self.cache_dir();
                match crate::fsio::save_keyed_keeping(&dir, IMPORT_PREFIX, k, &imported, IMPORTS_KEPT) {
                    Ok(()) => self.note_good_import(paths, opts, (k, d)),
                    Err(e) => tracing::warn!("could not keep the import in the cache: {e:#}"),
                }
            }
            _ => tracing::info!("a source file changed while it was read: the import is not kept"),
        }
        tracing::info!(ms = clock.elapsed().as_millis(), "data imported");
        Ok((imported, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import_files(ws: &Workspace) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(ws.cache_dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(IMPORT_PREFIX))
            })
            .collect();
        v.sort();
        v
    }

    /// The key a plan records: the same files by name and content in any
    /// folder (the shipped sample is found in the current folder or the
    /// build tree), other content or other options another key; the
    /// report's own settings are not the data's.
    #[test]
    fn the_data_key_follows_names_content_and_shaping_options() {
        use crate::data::ImportOptions;
        let dir = tempfile::tempdir().unwrap();
        let write = |folder: &str, text: &str| {
            let d = dir.path().join(folder);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("sales.csv"), text).unwrap();
            vec![d]
        };
        let text = "date,sku,quantity\n2024-01-01,A,3\n";
        let opts = ImportOptions::default();
        let a = data_key(&write("a", text), &opts);
        assert!(a.is_some());
        assert_eq!(a, data_key(&write("b", text), &opts));
        assert_ne!(a, data_key(&write("c", "date,sku,quantity\n2024-01-01,A,4\n"), &opts));
        let strict = ImportOptions {
            strict: true,
            ..ImportOptions::default()
        };
        assert_ne!(a, data_key(&write("a", text), &strict));
        let chattier = ImportOptions {
            max_problems_per_sort: 99,
            ..ImportOptions::default()
        };
        assert_eq!(a, data_key(&write("a", text), &chattier));
        // Renamed, a file may read as another kind: another key.
        let d = dir.path().join("d");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("orders.csv"), text).unwrap();
        assert_ne!(a, data_key(&[d], &opts));
    }

    #[test]
    fn an_import_is_kept_and_taken_back_while_its_files_are_the_same() {
        use crate::data::{ImportOptions, import_paths};
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let sales = data.join("sales.csv");
        fs::write(
            &sales,
            "date,sku,quantity\n2024-01-01,A,3\n2024-01-02,A,4.5\n2024-01-02,B,1\n",
        )
        .unwrap();
        let paths = vec![data.clone()];
        let opts = ImportOptions::default();

        let first = ws.import(&paths, &opts).unwrap();
        assert_eq!(first.dataset, import_paths(&paths, &opts).unwrap().dataset);
        let kept = import_files(&ws);
        assert_eq!(kept.len(), 1, "{kept:?}");
        let again = ws.import(&paths, &opts).unwrap();
        assert_eq!(again.dataset, first.dataset);
        assert_eq!(again.report, first.report);

        // What is kept is what is taken back: a kept result stands for the
        // files until they change.
        let key = import_key(&paths, &opts).unwrap();
        let mut altered = first.clone();
        altered.dataset.demand[0].values[0] = 99.0;
        crate::fsio::save_keyed(&ws.cache_dir(), IMPORT_PREFIX, &key, &altered).unwrap();
        assert_eq!(ws.import(&paths, &opts).unwrap().dataset, altered.dataset);

        // The same size and the same date, another content: imported afresh.
        let modified = fs::metadata(&sales).unwrap().modified().unwrap();
        fs::write(
            &sales,
            "date,sku,quantity\n2024-01-01,A,7\n2024-01-02,A,4.5\n2024-01-02,B,1\n",
        )
        .unwrap();
        fs::File::options()
            .write(true)
            .open(&sales)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let fresh = ws.import(&paths, &opts).unwrap();
        let a = fresh.dataset.demand.iter().find(|s| s.sku == "A").unwrap();
        assert_eq!(a.values, vec![7.0, 4.5]);
        assert_eq!(import_files(&ws).len(), 2, "the last imports are kept");

        // Other options, another import.
        let weekly = ImportOptions {
            period: Some(crate::domain::PeriodKind::Week),
            ..ImportOptions::default()
        };
        assert_ne!(import_key(&paths, &weekly), import_key(&paths, &opts));

        // A damaged cache file is imported over, not trusted.
        let now = ws
            .cache_dir()
            .join(format!("{IMPORT_PREFIX}{}.msgpack", import_key(&paths, &opts).unwrap()));
        fs::write(&now, b"\x93\x01").unwrap();
        assert_eq!(ws.import(&paths, &opts).unwrap().dataset, fresh.dataset);

        // A file added to the folder is read; the oldest import goes once
        // more are kept than IMPORTS_KEPT.
        fs::write(data.join("more.csv"), "date,sku,quantity\n2024-01-02,C,2\n").unwrap();
        assert_eq!(ws.import(&paths, &opts).unwrap().dataset.demand.len(), 3);
        assert_eq!(import_files(&ws).len(), 3);
        fs::write(data.join("more.csv"), "date,sku,quantity\n2024-01-02,C,5\n").unwrap();
        ws.import(&paths, &opts).unwrap();
        let files = import_files(&ws);
        assert_eq!(files.len(), IMPORTS_KEPT);
        assert!(files.contains(&now), "the import used last is kept: {files:?}");
    }

    #[test]
    fn a_failed_import_is_not_kept() {
        use crate::data::ImportOptions;
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let sales = dir.path().join("sales.csv");
        fs::write(&sales, "date,sku,quantity\n2024-01-01,A,three\n").unwrap();
        let failed = ws
            .import(std::slice::from_ref(&sales), &ImportOptions::default())
            .unwrap_err();
        assert!(failed.to_string().contains("expected a number"), "{failed}");
        assert!(import_files(&ws).is_empty());
        let missing = ws.import(&[dir.path().join("nothing.csv")], &ImportOptions::default());
        assert!(missing.unwrap_err().to_string().contains("no such file"));
    }

    #[test]
    fn the_last_good_import_outlives_a_broken_file() {
        use crate::data::ImportOptions;
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let sales = dir.path().join("sales.csv");
        let paths = std::slice::from_ref(&sales);
        let opts = ImportOptions::default();
        assert!(ws.last_good_import(paths, &opts).is_none(), "nothing imported yet");
        fs::write(&sales, "date,sku,quantity\n2024-01-01,A,3\n2024-01-02,A,4\n").unwrap();
        ws.import(paths, &opts).unwrap();
        fs::write(
            &sales,
            "date,sku,quantity\n2024-01-01,A,3\n2024-01-02,A,5\n2024-01-03,A,6\n",
        )
        .unwrap();
        ws.import(paths, &opts).unwrap();
        fs::write(&sales, "date,sku,quantity\n2024-01-01,A,three\n").unwrap();
        assert!(ws.import(paths, &opts).is_err());
        // The newest import that worked, not the first.
        let (last, at, _) = ws.last_good_import(paths, &opts).expect("the last good import");
        assert_eq!(last.dataset.demand[0].values, vec![3.0, 5.0, 6.0]);
        assert!(
            chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M").is_ok(),
            "{at}"
        );
        // Other files, or other options, have none.
        assert!(ws.last_good_import(&[dir.path().join("other.csv")], &opts).is_none());
        let strict = ImportOptions {
            strict: true,
            ..ImportOptions::default()
        };
        assert!(ws.last_good_import(paths, &strict).is_none());
    }
}
