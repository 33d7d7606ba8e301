//! Helpers shared by the integration tests.

use std::io::Write as _;
use std::path::PathBuf;

/// A file under the project's shared data folder (`../shared/data/` beside
/// the clone), or `None` when it is not there. A skip is printed where the
/// test harness cannot swallow it, and with `SKUPLAN_REQUIRE_SHARED` set
/// (`.ci/run` sets it when ../shared exists) a missing file fails the test
/// instead of skipping it.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    // The checkout being tested (cargo sets this when it runs the test),
    // else the one compiled in.
    let root =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let path = root.join("../shared/data").join(rel);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("SKUPLAN_REQUIRE_SHARED").is_some_and(|v| !v.is_empty() && v != "0") {
        panic!(
            "{} is required (SKUPLAN_REQUIRE_SHARED) but is not there",
            path.display()
        );
    }
    // Straight to the process's stderr: libtest captures only the print
    // macros, and a silent skip is what this helper exists to prevent.
    let _ = writeln!(std::io::stderr(), "SKIPPED (no shared data): {}", path.display());
    None
}
