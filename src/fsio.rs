//! Atomic file writing, the one way anything skuplan saves reaches the disk:
//! a temp file in the same folder, fsync, rename over the target, fsync of
//! the folder. A crash leaves either the old file or the new one, never half
//! of one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Write `bytes` to `path` atomically. A symbolic link is written through
/// (its target replaced atomically, the link kept); a path that is not a
/// regular file (`/dev/null`, a pipe) is written as it is, since renaming
/// over it would replace the device with a file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    // What the path is, links followed by the kernel: `/dev/stdout` and
    // `/proc/self/fd/N` are links whose text (`pipe:[N]`) names no file.
    if let Ok(m) = fs::metadata(path)
        && !m.is_file()
    {
        if m.is_dir() {
            anyhow::bail!("{} is a folder, not a file", path.display());
        }
        let mut f = OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        return f
            .write_all(bytes)
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let target;
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            target = resolve_link(path)?;
            target.as_path()
        }
        _ => path,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_dir_durably(&dir)?;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy()
        .to_string();
    let tmp = temp_path(&dir, &name);
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
        sweep_stale_temps(&dir, &name);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Where a symbolic link points, following links to links (the target
/// need not exist yet; a link to nowhere is written as its target).
fn resolve_link(link: &Path) -> Result<PathBuf> {
    let mut at = link.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&at).with_context(|| format!("cannot read the link {}", at.display()))?;
                at = match at.parent() {
                    Some(p) if to.is_relative() => p.join(to),
                    _ => to,
                };
            }
            _ => return Ok(at),
        }
    }
    anyhow::bail!("{}: too many levels of symbolic links", link.display())
}

/// Create `dir` and the folders above it that are missing, each synced
/// into its parent: a file saved in a folder made just now (`plans/` on
/// first use) is durable only once the folder's own entry is.
pub fn create_dir_durably(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d.to_path_buf());
        at = d.parent();
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    for d in missing {
        // A relative folder's parent may be "": the current folder.
        let parent = match d.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Ok(p) = File::open(parent) {
            let _ = p.sync_all();
        }
    }
    Ok(())
}

/// The temp file a write of `name` in `dir` goes through before its rename:
/// `.NAME.N.tmp-PID`, the name `sweep_stale_temps` knows a left-over by.
/// `N` counts the process's writes, so two threads writing the same file
/// (two loads saving one cache) never share a temp file.
pub fn temp_path(dir: &Path, name: &str) -> PathBuf {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!(".{name}.{n}.tmp-{}", std::process::id()))
}

/// Remove the temp files of writes that never finished (the process was
/// killed mid-save) of names starting with `prefix` in `dir`: once the
/// process that wrote one is gone, where `/proc` tells; elsewhere after an
/// hour. A live writer's temp file is left alone, even one suspended for
/// long (the workspace's lock already keeps it to one machine).
pub fn sweep_stale_temps(dir: &Path, prefix: &str) {
    let me = std::process::id();
    let proc_fs = Path::new("/proc/self").exists();
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((base, pid)) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-")) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if !base.starts_with(prefix) || pid == me {
            continue;
        }
        let gone = proc_fs && !Path::new(&format!("/proc/{pid}")).exists();
        let old = !proc_fs
            && e.metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
        if gone || old {
            let _ = fs::remove_file(e.path());
        }
    }
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
    sweep_stale_temps(dir, prefix);
    let path = dir.join(format!("{prefix}{key}.msgpack"));
    let bytes = fs::read(&path).ok()?;
    rmp_serde::from_slice(&bytes)
        .map_err(|e| tracing::warn!(path = %path.display(), "unreadable cache file, recomputing: {e}"))
        .ok()
}

/// Save `value` as the cache file of `key` (atomically), and drop the files
/// of other keys with the same prefix: one is kept per prefix.
pub fn save_keyed<T: serde::Serialize>(dir: &Path, prefix: &str, key: &str, value: &T) -> Result<()> {
    save_keyed_keeping(dir, prefix, key, value, 1)
}

/// The same, keeping the `keep` most recently written or used files of the
/// prefix (this one among them; see [`touch`]).
pub fn save_keyed_keeping<T: serde::Serialize>(
    dir: &Path,
    prefix: &str,
    key: &str,
    value: &T,
    keep: usize,
) -> Result<()> {
    let name = format!("{prefix}{key}.msgpack");
    let bytes = rmp_serde::to_vec(value).with_context(|| format!("encoding {name}"))?;
    atomic_write(&dir.join(&name), &bytes)?;
    let mut others: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(prefix) && n != name
        })
        .map(|e| {
            let t = e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
            (t, e.path())
        })
        .collect();
    others.sort_by_key(|o| std::cmp::Reverse(o.0));
    for (_, path) in others.into_iter().skip(keep.saturating_sub(1)) {
        let _ = fs::remove_file(path);
    }
    sweep_stale_temps(dir, prefix);
    Ok(())
}

/// Mark a cache file as just used, so that it is kept over older ones.
pub fn touch(path: &Path) {
    if let Ok(f) = OpenOptions::new().write(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
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

    /// An export aimed at a link writes its target and keeps the link; one
    /// aimed at a device writes to the device (`--out /dev/null` turned
    /// /dev/null into a plain file).
    #[cfg(unix)]
    #[test]
    fn links_are_written_through_and_devices_written_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("shared").join("plan.csv");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        let link = dir.path().join("plan.csv");
        std::os::unix::fs::symlink("shared/plan.csv", &link).unwrap();
        atomic_write(&link, b"one").unwrap();
        atomic_write(&link, b"two").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"two");
        if Path::new("/dev/null").exists() {
            atomic_write(Path::new("/dev/null"), b"gone").unwrap();
            let m = fs::metadata("/dev/null").unwrap();
            assert!(!m.is_file(), "/dev/null is still a device");
            // A link to the device (as /dev/stdout is to a pipe's fd).
            let dev = dir.path().join("out");
            std::os::unix::fs::symlink("/dev/null", &dev).unwrap();
            atomic_write(&dev, b"gone").unwrap();
            assert!(fs::symlink_metadata(&dev).unwrap().file_type().is_symlink());
        }
        // A link to a file not there yet is written as that file.
        let dangling = dir.path().join("later.csv");
        std::os::unix::fs::symlink("shared/later.csv", &dangling).unwrap();
        atomic_write(&dangling, b"new").unwrap();
        assert_eq!(fs::read(dir.path().join("shared/later.csv")).unwrap(), b"new");
        assert!(atomic_write(dir.path(), b"x").is_err(), "a folder is refused");
    }

    #[test]
    fn a_write_killed_midway_leaves_a_temp_file_the_next_write_removes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan.json");
        // No process has this id (Linux allows up to 2^22).
        let dead = dir.path().join(".plan.json.3.tmp-999999999");
        // Process 1 lives as long as the system does.
        let live = dir.path().join(".plan.json.0.tmp-1");
        let other = dir.path().join(".scenario.json.tmp-999999999");
        for f in [&dead, &live, &other] {
            fs::write(f, b"half").unwrap();
        }
        // Two writes of one file (two threads) go through two temp files.
        assert_ne!(temp_path(dir.path(), "plan.json"), temp_path(dir.path(), "plan.json"));
        atomic_write(&p, b"whole").unwrap();
        assert!(!dead.exists() || !Path::new("/proc/self").exists());
        assert!(other.exists(), "another file's temp is its own write's to sweep");
        assert!(live.exists(), "a live writer's temp is left alone");
        assert_eq!(fs::read(&p).unwrap(), b"whole");
        // A cache's temp goes at the next save or load of its prefix.
        let cached = dir.path().join(".import-abc.msgpack.tmp-999999999");
        fs::write(&cached, b"half").unwrap();
        let _: Option<u8> = load_keyed(dir.path(), "import-", "abc");
        assert!(!cached.exists() || !Path::new("/proc/self").exists());
    }

    #[test]
    fn a_write_into_new_folders_creates_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/c/plan.json");
        atomic_write(&p, b"x").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"x");
        create_dir_durably(&dir.path().join("a/b")).unwrap();
        assert!(create_dir_durably(&p).is_err(), "a file is no folder");
    }

    #[test]
    fn keyed_files_keep_the_most_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (i, key) in ["a", "b", "c"].iter().enumerate() {
            save_keyed_keeping(d, "x-", key, &(i as u8), 2).unwrap();
            // File times are coarse on some file systems.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(load_keyed::<u8>(d, "x-", "a"), None);
        assert_eq!(load_keyed::<u8>(d, "x-", "b"), Some(1));
        touch(&d.join("x-b.msgpack"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        save_keyed_keeping(d, "x-", "d", &3u8, 2).unwrap();
        assert_eq!(load_keyed::<u8>(d, "x-", "b"), Some(1), "used since: kept");
        assert_eq!(load_keyed::<u8>(d, "x-", "c"), None);
        save_keyed(d, "x-", "e", &4u8).unwrap();
        assert_eq!(fs::read_dir(d).unwrap().count(), 1);
    }
}

/// FNV-1a over bytes: a fingerprint that is the same in every build and on
/// every machine (std's hasher may change between releases), for what is
/// saved and compared later (a run's data, an approved route's orders).
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    pub fn eat(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}
