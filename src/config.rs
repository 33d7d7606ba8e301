//! Configuration: a TOML file in the config directory, every value with a
//! built-in default, so skuplan runs with no file at all.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use directories::ProjectDirs;
use serde::{Deserialize, Serialize};

use crate::data::ColumnMap;
use crate::domain::ProductDefaults;

/// Where skuplan keeps its files.
#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl Paths {
    /// The platform's directories (XDG on Linux), or all under
    /// `$SKUPLAN_HOME` when that is set (tests and portable installs).
    pub fn discover() -> Result<Paths> {
        if let Some(home) = std::env::var_os("SKUPLAN_HOME").filter(|h| !h.is_empty()) {
            return Ok(Paths::under(Path::new(&home)));
        }
        let dirs = ProjectDirs::from("", "", "skuplan")
            .context("cannot find a home directory for skuplan's files; set SKUPLAN_HOME")?;
        Ok(Paths {
            config_file: dirs.config_dir().join("config.toml"),
            data_dir: dirs.data_dir().to_path_buf(),
            log_dir: dirs.data_dir().join("logs"),
        })
    }

    pub fn under(home: &Path) -> Paths {
        Paths {
            config_file: home.join("config.toml"),
            data_dir: home.join("data"),
            log_dir: home.join("logs"),
        }
    }

    pub fn workspace_dir(&self) -> PathBuf {
        self.data_dir.join("workspace")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportConfig {
    /// Column mapping applied to every import, e.g. "sku=item,warehouse=store".
    pub map: ColumnMap,
    pub date_format: Option<String>,
    /// Warehouse of sales files that name none.
    pub default_warehouse: String,
    /// SKUs that are no stock (postage, fees, manual adjustments): left out
    /// of every import, so that nothing forecasts or orders them.
    pub exclude_skus: Vec<String>,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            map: ColumnMap::default(),
            date_format: None,
            default_warehouse: "main".into(),
            exclude_skus: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub import: ImportConfig,
    /// Pack size, MOQ and lead time for products whose file leaves them out.
    pub products: ProductDefaults,
    pub log: LogConfig,
    /// Key bindings of the workstation: action name -> key, e.g.
    /// `approve = "y"` (see `?` in the UI for the actions).
    pub keys: std::collections::BTreeMap<String, String>,
    pub ui: UiConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Clicks pick tabs and rows, the wheel scrolls. Off gives the
    /// terminal's own text selection back (most terminals also allow it
    /// with Shift held while mouse capture is on).
    pub mouse: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig { mouse: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as "info" or "skuplan=debug".
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into() }
    }
}

impl Config {
    /// Read the file if it exists; defaults otherwise. A file that exists but
    /// does not parse is an error naming the file and the place.
    pub fn load(path: &Path) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => bail!("cannot read config {}: {e}", path.display()),
        };
        let c: Config =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {} is not valid: {e}", path.display()))?;
        let name = path.display();
        if c.import.default_warehouse.trim().is_empty() {
            bail!(
                "config {name}: [import] default_warehouse is empty: expected a warehouse name (\"main\" if left out)"
            );
        }
        // A filter part is a level, or target=level: "verbose" passed as a
        // target name and nothing was logged.
        let levels = ["error", "warn", "info", "debug", "trace", "off"];
        for part in c.log.level.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let level = part.rsplit('=').next().unwrap_or(part).trim().to_lowercase();
            if !levels.contains(&level.as_str()) {
                bail!(
                    "config {name}: [log] level = {:?}: expected a level ({}) or target=level, e.g. skuplan=debug",
                    c.log.level,
                    levels.join(", ")
                );
            }
        }
        // As a products file's pack size: 0 packs nothing.
        if c.products.pack_size == 0 {
            bail!("config {name}: [products] pack_size = 0: expected 1 or more");
        }
        // A format chrono cannot read ("%Q") failed every date later, the
        // message naming --date-format.
        if let Some(f) = &c.import.date_format {
            let broken = chrono::format::StrftimeItems::new(f).any(|i| matches!(i, chrono::format::Item::Error));
            if broken || f.trim().is_empty() {
                bail!(
                    "config {name}: [import] date_format = {f:?}: expected a date format such as \"%d/%m/%Y\" \
                     (chrono's strftime syntax)"
                );
            }
        }
        let max = crate::domain::MAX_LEAD_DAYS;
        if c.products.lead_time_days > max {
            bail!(
                "config {}: [products] lead_time_days = {}: expected at most {max} days",
                path.display(),
                c.products.lead_time_days
            );
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_and_bad_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        assert_eq!(Config::load(&p).unwrap(), Config::default());
        std::fs::write(
            &p,
            "[import]\nmap = { sku = \"item\" }\n[products]\nlead_time_days = 14\npack_size = 1\nmoq = 0\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.import.map.get(crate::data::Field::Sku), Some("item"));
        assert_eq!(c.products.lead_time_days, 14);
        // One product default alone: the others keep theirs.
        std::fs::write(&p, "[products]\nlead_time_days = 14\n").unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(
            (c.products.lead_time_days, c.products.pack_size, c.products.moq),
            (14, 1, 0)
        );
        std::fs::write(&p, "[products]\nlead_time_days = 100000\n").unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("expected at most 730 days"), "{err}");
        for (bad, said) in [
            ("[log]\nlevel = \"verbose\"\n", "expected a level"),
            ("[log]\nlevel = \"skuplan=loud\"\n", "expected a level"),
            ("[import]\ndefault_warehouse = \"\"\n", "default_warehouse is empty"),
            ("[products]\npack_size = 0\n", "pack_size = 0: expected 1 or more"),
            ("[import]\ndate_format = \"%Q/%m\"\n", "expected a date format"),
        ] {
            std::fs::write(&p, bad).unwrap();
            let err = Config::load(&p).unwrap_err().to_string();
            assert!(err.contains("config.toml") && err.contains(said), "{err}");
        }
        std::fs::write(&p, "[log]\nlevel = \"warn,skuplan=debug\"\n").unwrap();
        assert!(Config::load(&p).is_ok());
        std::fs::write(&p, "[import]\nmapp = 3\n").unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("config.toml") && err.contains("mapp"), "{err}");
    }
}
