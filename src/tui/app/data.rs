//! The Data tab's state changes: importing a file or folder (the path
//! prompt, with Tab completion) and re-importing with a new column mapping.

use std::path::PathBuf;

use super::{App, Effect, Prompt, Tab};
use crate::workspace::{DataSources, shipped_sample};

impl App {
    pub(super) fn ask_import(&mut self) {
        if self.import_running() {
            return;
        }
        self.prompt = Some((Prompt::ImportPath, String::new()));
    }

    /// The import prompt's path, imported off the UI thread:
    /// - a folder is a whole data set, and replaces the data loaded (the
    ///   same files twice would only fail as duplicates);
    /// - a file already among the data (or inside one of its folders), say
    ///   one just corrected, imports the data again;
    /// - another file joins the data loaded (an events calendar, say).
    ///
    /// The shipped sample is only a stand-in until the planner imports data
    /// of their own: a file imported over it replaces it too.
    pub(super) fn import(&mut self, input: &str) -> Vec<Effect> {
        if self.import_running() {
            return Vec::new();
        }
        let path = typed_path(input);
        if input.trim().is_empty() {
            self.error = Some("type the path of a file or folder to import".into());
            return Vec::new();
        }
        if !path.exists() {
            self.error = Some(format!("{}: no such file or folder", path.display()));
            return Vec::new();
        }
        let mut sources = self.loaded_sources();
        if is_shipped_sample(&sources) {
            // Nothing of the sample's reading carries over.
            sources = DataSources::default();
        }
        let abs = std::path::absolute(&path).unwrap_or(path);
        let what = if abs.is_dir() || sources.paths.is_empty() {
            sources.paths = vec![abs.clone()];
            format!("importing {} in place of the data loaded", abs.display())
        } else if sources.paths.iter().any(|p| same_or_inside(&abs, p)) {
            format!("importing the data again ({} is part of it)", abs.display())
        } else {
            sources.paths.push(abs.clone());
            format!("adding {} to the data loaded", abs.display())
        };
        self.loading = Some(what);
        self.attempted = Some(sources.clone());
        vec![Effect::Load(sources)]
    }

    /// Whether an import is still running; says so. One at a time: two
    /// loads ran side by side, and the one that ended last was kept, an
    /// older choice over a newer one.
    fn import_running(&mut self) -> bool {
        if let Some(what) = &self.loading {
            self.error = Some(format!("an import is running ({what}): import again when it is in"));
        }
        self.loading.is_some()
    }

    /// What `M` maps: the files of the import that just failed (most often
    /// for want of a mapping), else the data loaded.
    fn to_map(&self) -> DataSources {
        match (&self.load_problems, &self.attempted) {
            (Some(_), Some(tried)) => tried.clone(),
            _ => self.loaded_sources(),
        }
    }

    /// `M`: the mapping in force offered selected, as other suggestions
    /// are (typing replaces it; it was appended to).
    pub(super) fn ask_mapping(&mut self) {
        let current = self.to_map().map.to_string();
        self.suggest(Prompt::Mapping, current);
    }

    /// "field=column,...": the same sources imported with this mapping.
    pub(super) fn remap(&mut self, input: &str) -> Vec<Effect> {
        if self.import_running() {
            return Vec::new();
        }
        match input.trim().parse::<crate::data::ColumnMap>() {
            Ok(map) => {
                let mut sources = self.to_map();
                sources.map = map;
                self.loading = Some("importing with the new mapping".into());
                self.attempted = Some(sources.clone());
                return vec![Effect::Load(sources)];
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        Vec::new()
    }

    /// An import failed while data is on screen, and the loader offers an
    /// older import of its files: nothing changes (true), as for any failed
    /// import. Only a start with nothing shown falls back on it.
    pub(super) fn import_failed_over_data(&mut self, loaded: &super::Loaded) -> bool {
        match (&loaded.stale, &self.loaded) {
            (Some(stale), Some(_)) => {
                self.on_load_failed(stale.failure.clone());
                true
            }
            _ => false,
        }
    }

    /// The data loaded is the last good import of files that no longer
    /// import: the Data tab opens on why, and the error line says so.
    pub(super) fn say_if_stale(&mut self) {
        if let Some(stale) = self.stale().cloned() {
            let lead = format!(
                "the files no longer import; showing their last good import, of {}",
                stale.at
            );
            self.show_failure(&stale.failure, &lead);
        }
    }

    /// Why the data on screen is not what its files hold now, if it is not.
    pub fn stale(&self) -> Option<&super::Stale> {
        self.loaded.as_ref().and_then(|l| l.stale.as_ref())
    }

    /// The import failed: nothing changes (the data already loaded stays),
    /// and the Data tab shows every problem with its file, row and column.
    pub fn on_load_failed(&mut self, message: String) {
        // The import's messages name the command line's --map; here the
        // mapping is `M`.
        let message = message.replace("--map", "M (the mapping)");
        self.show_failure(&message, "the import failed, nothing was changed");
        // The error line goes with the next key; the status line keeps
        // saying what happened (it said what the import replaced).
        self.status = "the import failed, nothing was changed: the Data tab lists its problems".into();
        self.load_problems = Some(message);
    }

    /// An import's problems on the error line after `lead`, and the Data
    /// tab opened on them.
    fn show_failure(&mut self, message: &str, lead: &str) {
        self.loading = None;
        // The first error and how many there are (the report opens with
        // the files it read); a failure that is no import report as it is.
        let errors: Vec<&str> = message.lines().filter_map(|l| l.strip_prefix("error: ")).collect();
        let first = message
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("see the Data tab");
        self.error = Some(match errors.as_slice() {
            [] => format!("{lead}: {first}"),
            [one] => format!("{lead}: {one}"),
            [one, ..] => format!("{lead}: {} errors (Data tab), the first: {one}", errors.len()),
        });
        self.tab = Tab::Data;
        self.selected[Tab::Data.index()] = 0;
    }
}

/// Whether `path` is `source` or lies inside it, following `..` and links
/// (`../data/sales.csv` is the loaded `data/sales.csv`).
fn same_or_inside(path: &std::path::Path, source: &std::path::Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(source)) {
        (Ok(p), Ok(s)) => p.starts_with(s),
        _ => path.starts_with(source),
    }
}

/// The sources are the sample data shipped with skuplan and nothing else.
pub fn is_shipped_sample(sources: &DataSources) -> bool {
    let Some(sample) = shipped_sample() else { return false };
    let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    matches!(sources.paths.as_slice(), [only] if abs(only) == abs(&sample))
}

/// Complete a path prefix with the longest common prefix of the matches.
/// A path typed at a prompt, `~/` read as the home folder as a shell
/// would (`~/x.csv` was written to a folder called `~`).
pub fn typed_path(input: &str) -> PathBuf {
    let t = input.trim();
    match (t.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if t == "~" => std::env::var_os("HOME").map_or_else(|| PathBuf::from(t), PathBuf::from),
        _ => PathBuf::from(t),
    }
}

pub fn complete_path(input: &str) -> String {
    let p = std::path::Path::new(input);
    let (dir, prefix) = if input.ends_with('/') {
        (p.to_path_buf(), String::new())
    } else {
        (
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), |d| d.to_path_buf()),
            p.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return input.to_string();
    };
    let mut names: Vec<(String, bool)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().is_dir()))
        .filter(|(n, _)| n.starts_with(&prefix))
        .collect();
    names.sort();
    let Some(first) = names.first() else {
        return input.to_string();
    };
    let mut common = first.0.clone();
    for (n, _) in &names[1..] {
        while !n.starts_with(&common) {
            common.pop();
        }
    }
    let base = input.strip_suffix(&prefix).unwrap_or(input);
    let mut out = format!("{base}{common}");
    if names.len() == 1 && first.1 {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_home_folder_is_the_home_folder() {
        let Some(home) = std::env::var_os("HOME") else { return };
        assert_eq!(
            typed_path(" ~/exports/x.csv "),
            PathBuf::from(&home).join("exports/x.csv")
        );
        assert_eq!(typed_path("~"), PathBuf::from(&home));
        assert_eq!(typed_path("a/~/b.csv"), PathBuf::from("a/~/b.csv"));
        assert_eq!(
            typed_path("~other/x"),
            PathBuf::from("~other/x"),
            "another user's is left as typed"
        );
    }
}
