//! Atomic file writing, the one way anything skuplan saves reaches the disk:
//! a temp file in the same folder, fsync, rename over the target, fsync of
//! the folder. A crash leaves either the old file or the new one, never half
//! of one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Write `bytes` to `path` atomically.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy()
        .to_string();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("cannot flush {} to disk", tmp.display()))?;
        drop(f);
        fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
        // The rename itself is durable only once the folder is synced.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A file's modification time in nanoseconds since 1970, for cache keys
/// (None where the file system keeps none).
pub fn modified_nanos(meta: &fs::Metadata) -> Option<u128> {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
}

/// A file's size and modification time: what changes when anything, in this
/// process or another, writes it. None when it cannot be read.
pub fn stamp(path: &Path) -> Option<(u64, u128)> {
    let m = fs::metadata(path).ok()?;
    Some((m.len(), modified_nanos(&m).unwrap_or(0)))
}

/// A cache file `dir/{prefix}{key}.msgpack`, when there is one that reads
/// (an unreadable one is logged and ignored: it is then recomputed, never
/// trusted half-read).
pub fn load_keyed<T: serde::de::DeserializeOwned>(dir: &Path, prefix: &str, key: &str) -> Option<T> {
    let path = dir.join(format!("{prefix}{key}.msgpack"));
    let bytes = fs::read(&path).ok()?;
    rmp_serde::from_slice(&bytes)
        .map_err(|e| tracing::warn!(path = %path.display(), "unreadable cache file, recomputing: {e}"))
        .ok()
}

/// Save `value` as the cache file of `key` (atomically), and drop the files
/// of other keys with the same prefix: one is kept per prefix.
pub fn save_keyed<T: serde::Serialize>(dir: &Path, prefix: &str, key: &str, value: &T) -> Result<()> {
    let name = format!("{prefix}{key}.msgpack");
    let bytes = rmp_serde::to_vec(value).with_context(|| format!("encoding {name}"))?;
    atomic_write(&dir.join(&name), &bytes)?;
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(prefix) && n != name {
            let _ = fs::remove_file(e.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        atomic_write(&p, b"first").unwrap();
        atomic_write(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
