//! The real binary in tmux, as a planner over SSH meets it: every tab, a
//! training run started and cancelled, a line approved and exported, quit,
//! and the terminal given back. Skipped (with a message) without tmux; CI
//! installs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use skuplan::engine::bert::BertConfig;
use skuplan::engine::encoder::write_random_model;

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

fn wait_for(session: &str, what: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = screen(session);
        if s.contains(what) {
            return s;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what:?}; the screen:\n{s}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn send(session: &str, keys: &str) {
    tmux(&["send-keys", "-t", session, keys]);
    std::thread::sleep(Duration::from_millis(300));
}

fn find_export(dir: &Path) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find_export(&p) {
                return Some(f);
            }
        } else if p.file_name()?.to_string_lossy().starts_with("restock-approved-") {
            return Some(p);
        }
    }
    None
}

struct Session(String);
impl Drop for Session {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.0]);
    }
}

/// The workstation on the sample data with a tiny random encoder, in a
/// tmux session `name` of `size` (columns, rows), run by `sh -c` with
/// `after` following it; `None` without tmux.
fn start(home: &Path, name: &str, size: (&str, &str), after: &str) -> Option<Session> {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux is not installed: skipping the end-to-end test");
        return None;
    }
    let model = home.join("tiny");
    write_random_model(&model, &BertConfig::tiny(0), 1).unwrap();
    let bin = env!("CARGO_BIN_EXE_skuplan");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let session = Session(format!("skuplan-{name}-{}", std::process::id()));
    let cmd = format!(
        "env SKUPLAN_HOME='{}' '{bin}' tui --data '{}' --model '{}'{after}",
        home.display(),
        sample.display(),
        model.display(),
    );
    tmux(&["new-session", "-d", "-s", &session.0, "-x", size.0, "-y", size.1, &cmd]);
    wait_for(&session.0, "plan of", 120);
    Some(session)
}

#[test]
fn a_planner_session_in_tmux() {
    let home = tempfile::tempdir().unwrap();
    let exit_file = home.path().join("exit");
    let after = format!("; echo \"EXIT=$?\" > '{}'; sleep 60", exit_file.display());
    let Some(session) = start(home.path(), "e2e", ("100", "30"), &after) else {
        return;
    };
    // The first start shows a provisional plan, then the final one.
    let deadline = Instant::now() + Duration::from_secs(300);
    while screen(&session.0).contains("provisional") {
        assert!(
            Instant::now() < deadline,
            "the plan stayed provisional:\n{}",
            screen(&session.0)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        tmux(&["display", "-p", "-t", &session.0, "#{alternate_on}"]).trim(),
        "1"
    );

    send(&session.0, "1");
    wait_for(&session.0, "sample-data", 5);
    send(&session.0, "3");
    wait_for(&session.0, "champion", 5);
    send(&session.0, "4");
    wait_for(&session.0, "plan of", 5);

    // Training: start, see progress, cancel.
    send(&session.0, "2");
    send(&session.0, "t");
    wait_for(&session.0, "step ", 300);
    send(&session.0, "c");
    wait_for(&session.0, "Cancelled", 120);

    // Approve the first restock line and export it.
    send(&session.0, "4");
    send(&session.0, "a");
    wait_for(&session.0, "approved SKU", 5);
    send(&session.0, "x");
    wait_for(&session.0, "export approved lines to", 5);
    send(&session.0, "Enter");
    wait_for(&session.0, "exported 1 approved line to", 5);

    // Deliveries: the day's routes, one approved and exported.
    send(&session.0, "5");
    wait_for(&session.0, "routes for", 60);
    send(&session.0, "a");
    wait_for(&session.0, "approved the route of", 5);
    send(&session.0, "x");
    wait_for(&session.0, "export approved routes to", 5);
    send(&session.0, "Enter");
    wait_for(&session.0, "approved stops to", 5);

    send(&session.0, "q");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !exit_file.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(std::fs::read_to_string(&exit_file).unwrap().trim(), "EXIT=0");
    assert_eq!(
        tmux(&["display", "-p", "-t", &session.0, "#{alternate_on}"]).trim(),
        "0",
        "the terminal left the alternate screen"
    );
    let csv = std::fs::read_to_string(find_export(home.path()).expect("an export file")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().next().unwrap().starts_with("sku,warehouse"));
}

/// The SSH connection drops while the engine trains: the workstation
/// closes within seconds (it does not wait on the engine), gives the
/// workspace back (its lock is gone) and writes nothing to a terminal that
/// is not there (no panic in the log).
#[test]
fn a_dropped_connection_closes_the_workstation() {
    let home = tempfile::tempdir().unwrap();
    let Some(session) = start(home.path(), "hup", ("80", "24"), "") else {
        return;
    };
    let lock = home.path().join("data/workspace/skuplan.lock");
    assert!(lock.exists());
    send(&session.0, "2");
    send(&session.0, "t");
    wait_for(&session.0, "step ", 300);
    let clock = Instant::now();
    tmux(&["kill-session", "-t", &session.0]);
    while lock.exists() && clock.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!lock.exists(), "still running {:?} after the hang-up", clock.elapsed());
    let log = std::fs::read_to_string(home.path().join("logs/skuplan.log")).unwrap();
    // The hang-up signal, or a draw on the terminal that went with it,
    // whichever the loop met first.
    assert!(
        log.contains("hang-up: closing") || log.contains("cannot be drawn on") || log.contains("reading the terminal"),
        "{log}"
    );
    assert!(!log.contains("panic"), "{log}");
}
