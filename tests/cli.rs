//! The binary as a planner or a script meets it: exit codes and output.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn skuplan(home: &Path) -> Command {
    let mut c = Command::cargo_bin("skuplan").unwrap();
    c.env("SKUPLAN_HOME", home)
        .env_remove("SKUPLAN_CONFIG")
        .env_remove("SKUPLAN_LOG");
    c
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn version_says_where_files_live() {
    let home = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("config:").and(predicate::str::contains("config.toml")))
        .stdout(predicate::str::contains("data:").and(predicate::str::contains("logs:")))
        .stdout(predicate::str::contains(home.path().to_string_lossy().as_ref()));
}

/// A log that cannot be written (a read-only home; here its file is a
/// folder) is said once, and the command runs: tracing-appender's start
/// panicked there, for every command, even reading ones.
#[test]
fn a_log_that_cannot_be_written_does_not_stop_a_command() {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir_all(home.path().join("logs/skuplan.log")).unwrap();
    let out = skuplan(home.path())
        .args(["scenario", "list"])
        .assert()
        .success()
        .stderr(predicate::str::contains("panicked").not())
        .get_output()
        .stderr
        .clone();
    let said = String::from_utf8_lossy(&out);
    assert_eq!(
        said.matches("running without a log: cannot write the log").count(),
        1,
        "{said}"
    );
}

/// `evaluate` on series it cannot score every way (one never sold, one
/// that never varies) writes empty cells, not `NaN`, and a window a late
/// `--origin` cuts at the data's end says how much of it is scored.
#[test]
fn evaluate_writes_no_nan_and_says_when_a_window_is_cut() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut sales = String::from("date,sku,warehouse,quantity\n");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for i in 0..200u64 {
        let d = start + chrono::Days::new(i);
        sales.push_str(&format!("{d},ZERO,W,0\n{d},FLAT,W,4\n{d},MOVES,W,{}\n", 3 + i % 5));
    }
    fs::write(data.path().join("sales.csv"), sales).unwrap();
    let last = start + chrono::Days::new(199);
    let origin = last - chrono::Days::new(7);
    skuplan(home.path())
        .args(["evaluate", "--windows", "1", "--origin", &origin.to_string(), "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "note: from --origin {origin} the data ends after 7 days ({last}): the latest window scores 7 of its 28"
        )));
    let csv = fs::read_to_string(out.path().join("metrics_by_series.csv")).unwrap();
    assert!(!csv.to_lowercase().contains("nan"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("ZERO,W,")), "{csv}");
}

/// Exit codes: 2 for a command asked for wrongly (as clap's own
/// refusals), 1 for anything else that fails (no plan yet, a file, the
/// data). Every error exited 2, so scripts could not tell a typo from a
/// missing plan.
#[test]
fn usage_errors_exit_two_and_other_failures_one() {
    let home = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["approve", "restock"], "say which lines"),
        (vec!["approve", "deliveries"], "say which routes"),
        (
            vec!["plan", "restock", "--budget", "nowhere"],
            "expected WAREHOUSE=AMOUNT",
        ),
        (
            vec![
                "scenario",
                "set",
                "x",
                "--from",
                "2026-01-02",
                "--to",
                "2026-01-01",
                "--pct",
                "5",
                "--reason",
                "r",
            ],
            "is before --from",
        ),
        (vec!["export", "restock", "--out", "."], "is a folder"),
    ] {
        skuplan(home.path())
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    for (args, says) in [
        (vec!["export", "restock", "--out", "x.csv"], "no restock plan yet"),
        (vec!["approve", "restock", "--all"], "no restock plan yet"),
        (vec!["scenario", "compare", "nope"], "no scenario called"),
    ] {
        skuplan(home.path())
            .current_dir(home.path())
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(says));
    }
}

/// A key binding the workstation cannot take is refused naming the config
/// file and the actions there are, before any screen opens.
#[test]
fn a_bad_key_binding_names_the_config_file() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), "[keys]\napprovee = \"y\"\n").unwrap();
    skuplan(home.path())
        .arg("tui")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "config.toml: [keys] approvee: no such action; expected one of",
        ));
    // A config given by SKUPLAN_CONFIG is the one named (the default
    // file, which did not exist, was).
    let other = home.path().join("elsewhere.toml");
    std::fs::write(&other, "[keys]\napprove = \"q\"\n").unwrap();
    skuplan(home.path())
        .env("SKUPLAN_CONFIG", &other)
        .arg("tui")
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "config {}: [keys] approve takes the key of quit",
            other.display()
        )));
}

#[test]
fn check_of_good_data_exits_zero_with_a_summary() {
    let home = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args(["import", "--check"])
        .arg(fixtures().join("good"))
        .assert()
        .success()
        .stdout(predicate::str::contains("4 (3 SKUs x 2 warehouses)"))
        .stdout(predicate::str::contains("2024-01-01 to 2024-01-05"))
        .stdout(predicate::str::contains("the data is usable"));
    // --check changes nothing.
    assert!(!home.path().join("data/workspace/sources.json").exists());
}

#[test]
fn bad_data_exits_one_and_names_the_place() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sales.csv");
    fs::write(
        &p,
        "date,sku,warehouse,quantity\n2024-01-01,A,W,5\n2024-01-02,A,W,five\n",
    )
    .unwrap();
    skuplan(home.path())
        .args(["import", "--check"])
        .arg(&p)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("row 3, column 'quantity', value 'five'"))
        .stdout(predicate::str::contains("NOT usable"));
    skuplan(home.path())
        .args(["import", "--check", "/no/such/dir"])
        .assert()
        .code(1);
}

#[test]
fn a_bad_map_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args(["import", "--check", "--map", "sku"])
        .arg(fixtures().join("good"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("field=column"));
}

/// A generated data set nothing could be planned on, and a routing bench
/// with no instance, are refused (both exited 0: the first wrote data
/// `import` then refused, the second printed an empty table).
#[test]
fn empty_requests_are_refused() {
    let home = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["--skus", "0"], "0 is not in 1.."),
        (vec!["--warehouses", "0"], "0 is not in 1.."),
        (vec!["--days", "7"], "7 is not in 28.."),
    ] {
        skuplan(home.path())
            .arg("sample-data")
            .args(&args)
            .arg("--out")
            .arg(home.path().join("s"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    assert!(!home.path().join("s").exists());
    let empty = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args(["bench", "vrp", "--solomon"])
        .arg(empty.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("no Solomon instance (a .txt file) in"));
}

#[test]
fn import_without_check_remembers_the_data() {
    let home = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args(["import", "--map", "quantity=quantity"])
        .arg(fixtures().join("good"))
        .assert()
        .success();
    let saved = fs::read_to_string(home.path().join("data/workspace/sources.json")).unwrap();
    assert!(saved.contains("fixtures/good"), "{saved}");
    assert!(saved.contains("\"quantity\": \"quantity\""), "{saved}");
    // Logs went to the log file, not the terminal.
    assert!(home.path().join("logs/skuplan.log").exists());
}

/// An import from a relative path is kept under the files' full names, so
/// the next command on the workspace's data finds it from anywhere; a
/// check keeps nothing.
#[test]
fn an_import_is_kept_for_the_commands_after_it() {
    let home = tempfile::tempdir().unwrap();
    let here = tempfile::tempdir().unwrap();
    let data = here.path().join("shop");
    fs::create_dir_all(&data).unwrap();
    for f in ["sales.csv", "products.csv"] {
        fs::copy(fixtures().join("good").join(f), data.join(f)).unwrap();
    }
    let kept = || -> Vec<String> {
        fs::read_dir(home.path().join("data/workspace/cache"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("import-"))
                    .collect()
            })
            .unwrap_or_default()
    };
    skuplan(home.path())
        .current_dir(here.path())
        .args(["import", "--check", "shop"])
        .assert()
        .success();
    assert!(kept().is_empty(), "a check keeps nothing");
    skuplan(home.path())
        .current_dir(here.path())
        .args(["import", "shop"])
        .assert()
        .success();
    let first = kept();
    assert_eq!(first.len(), 1);
    skuplan(home.path())
        .env("SKUPLAN_LOG", "info")
        .args(["plan", "restock"])
        .assert()
        .success();
    assert_eq!(kept(), first, "the plan read the kept import");
    let log = fs::read_to_string(home.path().join("logs/skuplan.log")).unwrap();
    assert!(log.contains("data from the workspace cache"), "{log}");
}

#[test]
fn sample_data_is_deterministic_and_imports_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [a.path(), b.path()] {
        skuplan(home.path())
            .args([
                "sample-data",
                "--skus",
                "12",
                "--warehouses",
                "2",
                "--days",
                "60",
                "--seed",
                "9",
                "--out",
            ])
            .arg(dir)
            .assert()
            .success();
    }
    for f in [
        "sales.csv",
        "products.csv",
        "inventory.csv",
        "warehouses.csv",
        "orders.csv",
        "fleet.csv",
    ] {
        assert_eq!(
            fs::read(a.path().join(f)).unwrap(),
            fs::read(b.path().join(f)).unwrap(),
            "{f} differs"
        );
    }
    skuplan(home.path())
        .args(["import", "--check"])
        .arg(a.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("0 errors"));
}

#[test]
fn import_with_no_path_opens_the_shipped_sample_data() {
    let home = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args(["import", "--check"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .success()
        .stdout(predicate::str::contains("sample-data/sales.parquet"))
        .stdout(predicate::str::contains("(200 SKUs x 3 warehouses)"));
}

#[test]
fn evaluate_prints_every_method_and_writes_per_series_csv() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args([
            "sample-data",
            "--skus",
            "8",
            "--warehouses",
            "2",
            "--days",
            "200",
            "--out",
        ])
        .arg(data.path())
        .assert()
        .success();
    let assert = skuplan(home.path())
        .args(["evaluate", "--horizon", "14", "--windows", "3", "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for m in [
        "snaive7",
        "snaive364",
        "ma28",
        "ets",
        "theta",
        "croston",
        "tsb",
        "champion",
        "MASE by class",
    ] {
        assert!(stdout.contains(m), "{m} missing from:\n{stdout}");
    }
    let csv = fs::read_to_string(out.path().join("metrics_by_series.csv")).unwrap();
    assert!(
        csv.starts_with("sku,warehouse,class,method,champion,points,smape,mase"),
        "{csv}"
    );
    let fc = fs::read_to_string(out.path().join("champion_forecast.csv")).unwrap();
    assert!(fc.starts_with("sku,warehouse,date,p10,p50,p90,model"), "{fc}");
    skuplan(home.path())
        .args(["evaluate", "--methods", "nope", "--data"])
        .arg(data.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown method 'nope'"));
}

/// Without a solomon_bks.csv beside the instances, `bench vrp` still
/// solves and checks them, and prints dashes where the gaps would be.
#[test]
fn bench_vrp_runs_without_best_known_solutions() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("solomon");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("T01.txt"),
        "T01\n\nVEHICLE\nNUMBER     CAPACITY\n  2         10\n\nCUSTOMER\n\
         CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\n\n\
             0      0          0          0          0        100          0\n\
             1      3          4          4          0         50          5\n\
             2      6          8          5          0         60          5\n",
    )
    .unwrap();
    let out = skuplan(home.path())
        .args(["bench", "vrp", "--iterations", "200", "--solomon"])
        .arg(&dir)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("solomon_bks.csv here"), "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("T01"))
        .unwrap_or_else(|| panic!("no T01 row: {out}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    // inst, vehicles, bks, veh%, distance, bks, dist%, s, iterations, feasible
    assert_eq!(cols[1], "1", "{row}");
    assert_eq!((cols[2], cols[3], cols[5], cols[6]), ("-", "-", "-", "-"), "{row}");
    assert_eq!(cols[4], "20.00", "{row}");
    assert_eq!(cols[9], "yes", "{row}");
    assert!(out.contains("infeasible or incomplete: 0"), "{out}");
}

/// `simulate --rejudge-every` needs a run to re-judge and a whole number of
/// days from 1: usage errors (exit 2) that say so, before any data is read.
#[test]
fn simulate_rejudge_every_needs_a_run_and_at_least_a_day() {
    let home = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args(["simulate", "--rejudge-every", "28"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--run"));
    skuplan(home.path())
        .args(["simulate", "--run", "nowhere", "--rejudge-every", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("0 is not in 1.."));
}

/// Generated data (`skuplan sample-data`) under `home/data`.
fn sample_data(home: &Path, skus: u32, warehouses: u32, days: u32) -> std::path::PathBuf {
    let data = home.join("data");
    skuplan(home)
        .args([
            "sample-data",
            "--skus",
            &skus.to_string(),
            "--warehouses",
            &warehouses.to_string(),
        ])
        .args(["--days", &days.to_string(), "--out"])
        .arg(&data)
        .assert()
        .success();
    data
}

/// Arguments that could only give an empty or made-up result are refused
/// with what the data allows: an origin outside the data (it printed a
/// table of zeros), a replay longer than the history (it printed 100 %
/// fill of nothing) or shorter than four weeks (it ran 28 days unasked),
/// zero periods.
#[test]
fn evaluate_and_simulate_refuse_what_the_data_cannot_give() {
    let home = tempfile::tempdir().unwrap();
    let data = sample_data(home.path(), 8, 1, 120);
    let run = |args: &[&str], says: &str| {
        skuplan(home.path())
            .args(args)
            .arg("--data")
            .arg(&data)
            .assert()
            .failure()
            .stderr(predicate::str::contains(says));
    };
    run(
        &["evaluate", "--origin", "2020-01-01"],
        "--origin 2020-01-01 is outside the data: it runs from 2026-07-31 to 2026-11-27",
    );
    run(&["evaluate", "--origin", "2026-11-27"], "is outside the data");
    run(&["evaluate", "--horizon", "0"], "each must be 1 or more");
    run(&["evaluate", "--windows", "0"], "each must be 1 or more");
    run(&["evaluate", "--mase-lag", "0"], "each must be 1 or more");
    run(
        &["evaluate", "--horizon", "100000"],
        "--horizon 100000: the data has 120 days (2026-07-31 to 2026-11-27)",
    );
    // Windows that reach back before the data are left out, and said.
    skuplan(home.path())
        .args(["evaluate", "--windows", "1000", "--data"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "note: 1000 windows 28 days apart reach back before the data (2026-07-31); scoring the 4 that fit",
        ))
        .stdout(predicate::str::contains("4 windows of 28 days"));
    // From an origin days after the data starts, the windows before it are
    // left out too (they scored a champion of 0.000).
    skuplan(home.path())
        .args(["evaluate", "--origin", "2026-08-04", "--data"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "note: 4 windows 28 days apart from --origin 2026-08-04 reach back before the data (2026-07-31); scoring \
             the 1 that fit",
        ));
    run(
        &["simulate", "--days", "99999"],
        "this data has 120 days (2026-07-31 to 2026-11-27)",
    );
    run(&["simulate", "--days", "120"], "this data has 120 days");
    // One day of history before the replay replayed nothing (a 100 % fill).
    run(&["simulate", "--days", "119"], "so --days can be 28 to 92");
    run(&["simulate", "--review-days", "100000"], "100000 is not in 1..=365");
    run(&["plan", "restock", "--review-days", "400"], "400 is not in 1..=365");
    run(&["simulate", "--days", "0"], "the replay needs at least 28 days");
    run(&["simulate", "--review-days", "0"], "0 is not in 1..");
    run(&["plan", "restock", "--review-days", "0"], "0 is not in 1..");
    // Inside those bounds it runs.
    skuplan(home.path())
        .args(["simulate", "--days", "28", "--data"])
        .arg(&data)
        .assert()
        .success();
}

/// `plan restock --budget`: an unknown warehouse or a negative amount is
/// refused (a misspelt warehouse was ignored without a word); the plan says
/// what each budget did, and `--out` lists the lines it cut to nothing,
/// which order nothing and so had vanished from the file.
#[test]
fn a_budget_says_what_it_cut_and_refuses_unknown_warehouses() {
    let home = tempfile::tempdir().unwrap();
    let data = sample_data(home.path(), 30, 2, 200);
    skuplan(home.path())
        .args(["plan", "restock", "--budget", "WH-NOPE=100", "--data"])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--budget WH-NOPE=100: no warehouse WH-NOPE in the data; its warehouses: WH-LON, WH-MAN",
        ));
    skuplan(home.path())
        .args(["plan", "restock", "--budget", "WH-LON=-1", "--data"])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains("the amount must be 0 or more"));
    let out = home.path().join("plan.csv");
    let text = skuplan(home.path())
        .args(["plan", "restock", "--budget", "WH-LON=0", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("budget WH-LON 0.00: 0.00 spent on 0 lines in full and 0 cut down; "))
        .unwrap_or_else(|| panic!("{text}"));
    let zero: usize = line
        .split("; ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(zero > 0, "{line}");
    let csv = std::fs::read_to_string(&out).unwrap();
    let cut: Vec<&str> = csv.lines().filter(|l| l.contains("budget cap cut it from")).collect();
    assert_eq!(cut.len(), zero, "{csv}");
    assert!(
        cut.iter().all(|l| l.contains(",WH-LON,") && l.contains(",0,")),
        "{cut:?}"
    );
}
