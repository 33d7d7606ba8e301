//! Plans, decisions and exports through the binary, as a planner (or a
//! script) uses them; and the audit log surviving a killed process.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt as _;
use skuplan::plan::approval::AuditLog;
use skuplan::plan::export::RestockExportRow;

fn skuplan(home: &Path) -> Command {
    let mut c = Command::cargo_bin("skuplan").unwrap();
    c.env("SKUPLAN_HOME", home)
        .env("USER", "alice")
        .env_remove("SKUPLAN_CONFIG");
    c
}

fn sample(home: &Path, dir: &Path) {
    skuplan(home)
        .args([
            "sample-data",
            "--skus",
            "10",
            "--warehouses",
            "2",
            "--days",
            "200",
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
}

/// `export restock --all` into the workspace: the file and its rows.
fn export_all(home: &Path) -> (std::path::PathBuf, Vec<RestockExportRow>) {
    let all = home.join("all.csv");
    skuplan(home)
        .args(["export", "restock", "--all", "--out"])
        .arg(&all)
        .assert()
        .success();
    let rows = read_rows(&all);
    (all, rows)
}

fn read_rows(p: &Path) -> Vec<RestockExportRow> {
    let mut r = csv::Reader::from_path(p).unwrap();
    r.deserialize().map(|x| x.unwrap()).collect()
}

/// A workspace with sample data and a saved restock plan.
fn planned_workspace() -> (tempfile::TempDir, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    sample(home.path(), data.path());
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(data.path())
        .assert()
        .success();
    (home, data)
}

/// The workspace's saved restock plan.
fn saved_plan(home: &Path) -> skuplan::plan::RestockPlan {
    let ws = skuplan::workspace::Workspace::open(home.join("data/workspace")).unwrap();
    ws.load_restock().unwrap().expect("a saved plan")
}

/// The saved plan's line for `sku` at `warehouse`.
fn saved_line(home: &Path, sku: &str, warehouse: &str) -> skuplan::plan::restock::RestockLine {
    saved_plan(home)
        .lines
        .into_iter()
        .find(|l| l.sku == sku && l.warehouse == warehouse)
        .expect("the line")
}

/// The saved plan's first line that orders something.
fn ordering_line(home: &Path) -> skuplan::plan::restock::RestockLine {
    saved_plan(home)
        .lines
        .into_iter()
        .find(|l| l.order_qty > 0)
        .expect("a line that orders")
}

/// A quantity the planner sets is ordered as plan quantities are: raised
/// to the MOQ and whole packs, and said (it was kept as typed, so an
/// export could order 3 of a product sold in packs of 4). 0 orders none.
/// A quantity with a rejection, and --all with a selection, are usage
/// errors.
#[test]
fn a_quantity_the_planner_sets_is_raised_to_the_moq_and_whole_packs() {
    let (home, _data) = planned_workspace();
    let ws = skuplan::workspace::Workspace::open(home.path().join("data/workspace")).unwrap();
    let plan = ws.load_restock().unwrap().expect("a saved plan");
    let l = plan
        .lines
        .iter()
        .filter(|l| l.pack_size > 1)
        .max_by_key(|l| (l.moq, l.pack_size))
        .expect("the sample has products sold in packs");
    let asked = l.pack_size + 1;
    let want = skuplan::plan::restock::round_order(f64::from(asked), l.moq, l.pack_size);
    assert!(
        want > asked && want.is_multiple_of(l.pack_size) && want >= l.moq,
        "{want}"
    );
    skuplan(home.path())
        .args(["approve", "restock", "--sku", &l.sku, "--warehouse", &l.warehouse])
        .args(["--qty", &asked.to_string()])
        .assert()
        .success()
        .stdout(predicates::str::contains(format!("{asked} rounded up to {want} (")));
    let (_, rows) = export_all(home.path());
    let row = rows
        .iter()
        .find(|r| r.sku == l.sku && r.warehouse == l.warehouse)
        .unwrap();
    assert_eq!((row.order_qty, row.state.as_str()), (want, "approved"));

    skuplan(home.path())
        .args(["approve", "restock", "--sku", &l.sku, "--warehouse", &l.warehouse])
        .args(["--qty", "0"])
        .assert()
        .success()
        .stdout(predicates::str::contains("rounded").not());
    let (_, rows) = export_all(home.path());
    let row = rows
        .iter()
        .find(|r| r.sku == l.sku && r.warehouse == l.warehouse)
        .unwrap();
    assert_eq!(row.order_qty, 0);

    for bad in [
        vec!["--sku", l.sku.as_str(), "--reject", "--qty", "5"],
        vec!["--sku", l.sku.as_str(), "--all"],
    ] {
        skuplan(home.path())
            .args(["approve", "restock"])
            .args(&bad)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("cannot be used with"));
    }
}

/// While a workstation holds the workspace, a command that would write
/// what it shows (a plan, a scenario, the data) is refused with who holds
/// it: the workstation saved over such changes. Decisions, exports and
/// reading commands go on, and the lock's end lets the change through.
#[test]
fn commands_that_write_what_a_workstation_shows_wait_for_it_to_close() {
    let (home, data) = planned_workspace();
    let ws = skuplan::workspace::Workspace::open(home.path().join("data/workspace")).unwrap();
    let held = ws.lock().unwrap();
    let pid = std::process::id().to_string();
    let refused = |args: &[&str]| {
        skuplan(home.path())
            .args(args)
            .assert()
            .failure()
            .stderr(predicates::str::contains(format!(
                "another skuplan (pid {pid}) has the workspace"
            )))
            .stderr(predicates::str::contains("Make the change there, or close it first"));
    };
    refused(&["scenario", "new", "surge"]);
    refused(&["plan", "restock"]);
    refused(&["deliveries", "reoptimise"]);
    skuplan(home.path())
        .args(["import"])
        .arg(data.path())
        .assert()
        .failure();
    skuplan(home.path())
        .args(["approve", "restock", "--all"])
        .assert()
        .success();
    export_all(home.path());
    skuplan(home.path()).args(["scenario", "list"]).assert().success();
    skuplan(home.path())
        .args(["import", "--check"])
        .arg(data.path())
        .assert()
        .success();
    assert!(
        !skuplan::workspace::Workspace::open(home.path().join("data/workspace"))
            .unwrap()
            .list_scenarios()
            .unwrap()
            .contains(&"surge".to_string())
    );
    drop(held);
    skuplan(home.path())
        .args(["scenario", "new", "surge"])
        .assert()
        .success();
}

/// A what-if that cannot mean anything is refused and nothing recorded:
/// -150 % was kept (as -100 %), and 10^12 a day ran orders into the u32
/// ceiling (4294967295 units).
#[test]
fn a_what_if_that_cannot_mean_anything_is_refused() {
    let (home, _data) = planned_workspace();
    skuplan(home.path()).args(["scenario", "new", "x"]).assert().success();
    for (change, says) in [
        (["--pct", "-150"], "a change runs from -100% (no demand) to +10000%"),
        (["--qty", "999999999999"], "a quantity runs from 0 to 1000000 a day"),
    ] {
        skuplan(home.path())
            .args(["scenario", "set", "x", "--from", "2030-01-01"])
            .args(change)
            .args(["--reason", "r"])
            .assert()
            .failure()
            .stderr(predicates::str::contains(says))
            .stderr(predicates::str::contains("nothing recorded"));
    }
    let ws = skuplan::workspace::Workspace::open(home.path().join("data/workspace")).unwrap();
    assert!(ws.load_scenario("x").unwrap().overrides.is_empty());
}

/// A SKU or warehouse the saved plan does not know is named as such (it
/// read "no plan line orders anything"), and nothing is recorded.
#[test]
fn approving_an_unknown_sku_or_warehouse_says_so() {
    let (home, _data) = planned_workspace();
    let log = home.path().join("data/workspace/audit.log");
    skuplan(home.path())
        .args(["approve", "restock", "--sku", "NOPE-1"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "the saved plan has no line for SKU NOPE-1; nothing recorded",
        ));
    skuplan(home.path())
        .args(["approve", "restock", "--warehouse", "WH-NOPE"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no line at warehouse WH-NOPE"));
    assert!(!log.exists() || fs::read_to_string(&log).unwrap().is_empty());
}

#[test]
fn plan_approve_export_round_trip() {
    let (home, data) = planned_workspace();
    let (_, rows) = export_all(home.path());
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.state == "proposed" && r.approver.is_empty()));
    let first = rows[0].clone();

    // Nothing approved yet: the export is an empty table with its header,
    // the same columns a full one has.
    let empty = home.path().join("none.csv");
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&empty)
        .assert()
        .success()
        .stdout(predicates::str::contains("wrote 0 approved lines"));
    let header = std::fs::read_to_string(&empty).unwrap();
    let all_header = std::fs::read_to_string(home.path().join("all.csv")).unwrap();
    assert_eq!(header.lines().count(), 1, "{header}");
    assert_eq!(header.lines().next(), all_header.lines().next());
    assert!(header.starts_with("sku,warehouse,"), "{header}");
    assert!(read_rows(&empty).is_empty());

    skuplan(home.path())
        .args([
            "approve",
            "restock",
            "--sku",
            &first.sku,
            "--warehouse",
            &first.warehouse,
        ])
        .args(["--qty", "7", "--comment", "rounded, \"quoted\""])
        .assert()
        .success();
    let out = home.path().join("approved.csv");
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&out)
        .assert()
        .success();
    let approved = read_rows(&out);
    assert_eq!(approved.len(), 1);
    let a = &approved[0];
    assert_eq!(
        (a.sku.as_str(), a.warehouse.as_str()),
        (first.sku.as_str(), first.warehouse.as_str())
    );
    assert_eq!(a.state, "approved");
    assert_eq!(a.approver, "alice");
    // 7 as the line's MOQ and packs allow.
    let line = saved_line(home.path(), &first.sku, &first.warehouse);
    let seven = skuplan::plan::restock::round_order(7.0, line.moq, line.pack_size);
    assert_eq!(a.order_qty, seven);
    // The comment given with the decision travels with it, quoted as CSV.
    assert_eq!(a.comment, "rounded, \"quoted\"");
    let (unit, line) = (
        a.unit_cost.expect("the fixture has costs"),
        a.line_cost.expect("and so a line cost"),
    );
    assert!((line - f64::from(seven) * unit).abs() < 0.01);
    assert!(!a.approved_at.is_empty());

    // An approved order of nothing is a decision, not a line for the
    // supplier: only --all lists it.
    if let Some(second) = rows.get(1) {
        skuplan(home.path())
            .args([
                "approve",
                "restock",
                "--sku",
                &second.sku,
                "--warehouse",
                &second.warehouse,
            ])
            .args(["--qty", "0"])
            .assert()
            .success();
        let zero = home.path().join("zero.csv");
        skuplan(home.path())
            .args(["export", "restock", "--out"])
            .arg(&zero)
            .assert()
            .success();
        let got = read_rows(&zero);
        assert!(got.iter().all(|r| r.order_qty > 0), "{got:?}");
        assert_eq!(got.len(), 1);
        let (_, all) = export_all(home.path());
        assert!(
            all.iter()
                .any(|r| r.sku == second.sku && r.warehouse == second.warehouse && r.order_qty == 0)
        );
        skuplan(home.path())
            .args([
                "approve",
                "restock",
                "--sku",
                &second.sku,
                "--warehouse",
                &second.warehouse,
                "--reject",
            ])
            .assert()
            .success();
    }

    // Recomputing the same plan keeps the decision.
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(data.path())
        .assert()
        .success();
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(read_rows(&out).len(), 1);

    // A what-if that changes that line sends it back for review.
    skuplan(home.path())
        .args(["scenario", "new", "surge"])
        .assert()
        .success();
    skuplan(home.path())
        .args([
            "scenario",
            "set",
            "surge",
            "--sku",
            &first.sku,
            "--from",
            "2020-01-01",
            "--to",
            "2030-01-01",
        ])
        .args(["--pct", "300", "--reason", "viral video"])
        .assert()
        .success()
        .stdout(predicates::str::contains("note:").not());
    // One the plan cannot feel is kept, and said so: a SKU it has no line
    // for, days before its first.
    skuplan(home.path())
        .args(["scenario", "new", "typo"])
        .assert()
        .success();
    skuplan(home.path())
        .args(["scenario", "set", "typo", "--sku", "NOPE-1", "--from", "2020-01-01"])
        .args(["--pct", "50", "--reason", "typo"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "note: NOPE-1 has no line in the workspace's plan; nothing changes for it",
        ))
        .stdout(predicates::str::contains("ends before the plan's first day"));
    skuplan(home.path())
        .args(["scenario", "set", "typo", "--from", "2099-01-01", "--to", "2099-01-31"])
        .args(["--pct", "50", "--reason", "far off"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "note: 2099-01-01..2099-01-31 starts after the plan's last day (",
        ));
    skuplan(home.path())
        .args(["plan", "restock", "--scenario", "surge", "--data"])
        .arg(data.path())
        .assert()
        .success();
    let (_, rows) = export_all(home.path());
    let line = rows
        .iter()
        .find(|r| r.sku == first.sku && r.warehouse == first.warehouse)
        .unwrap();
    assert_eq!(line.state, "review");
    assert!(line.reason.contains("viral video"), "{}", line.reason);
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(read_rows(&out).is_empty());

    let cmp = skuplan(home.path())
        .args(["scenario", "compare", "surge", "--data"])
        .arg(data.path())
        .assert()
        .success();
    let text = String::from_utf8_lossy(&cmp.get_output().stdout).to_string();
    assert!(text.contains("units ordered") && text.contains(&first.sku), "{text}");
    skuplan(home.path())
        .args(["scenario", "discard", "surge"])
        .assert()
        .success();
    // A scenario that is not there is the workspace's state, not a usage
    // error: 1.
    skuplan(home.path())
        .args(["scenario", "compare", "surge"])
        .assert()
        .code(1);
}

/// Sales alone carry no unit cost: the export leaves the cost columns
/// empty rather than writing a cost of 0 a spreadsheet would sum.
#[test]
fn an_export_without_unit_costs_leaves_them_empty() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut sales = String::from("date,sku,quantity\n");
    for d in 0..120 {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(d);
        sales.push_str(&format!("{day},A,{}\n", 5 + d % 3));
    }
    fs::write(data.path().join("sales.csv"), sales).unwrap();
    let out = skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("units, no unit costs in the data"))
        .get_output()
        .stdout
        .clone();
    // The warehouse's total is in units, as many as the plan orders.
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines().skip_while(|l| l.trim() != "by warehouse:").skip(1);
    let total = lines.next().unwrap_or_default().to_string();
    assert!(total.trim_start().starts_with("main "), "{text}");
    let (all, rows) = export_all(home.path());
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].order_qty > 0);
    assert!(total.ends_with(&format!(" {} units", rows[0].order_qty)), "{total}");
    assert_eq!((rows[0].unit_cost, rows[0].line_cost), (None, None));
    let text = fs::read_to_string(&all).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert!(line.contains(",,,"), "supplier, unit cost and line cost empty: {line}");
}

#[test]
fn audit_log_survives_a_killed_process() {
    let (home, _data) = planned_workspace();
    let bin = assert_cmd::cargo::cargo_bin("skuplan");
    let acks = home.path().join("acks.txt");
    // Approve and reject everything, over and over, until killed.
    let script = format!(
        "while true; do '{b}' approve restock --all >> '{a}'; '{b}' approve restock --all --reject >> '{a}'; done",
        b = bin.display(),
        a = acks.display()
    );
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("SKUPLAN_HOME", home.path())
        .env("USER", "bob")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let pgid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-9", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    let _ = child.wait();

    let acked: usize = fs::read_to_string(&acks)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("recorded "))
        .filter_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .sum();
    assert!(acked > 0, "the loop never got going");
    let log = AuditLog::open(home.path().join("data/workspace/audit.log"));
    let loaded = log.load().expect("the log must load after a crash");
    assert!(
        loaded.records.len() >= acked,
        "{} records in the log, {acked} acknowledged",
        loaded.records.len()
    );
    assert!(loaded.records.iter().all(|r| r.user == "bob"));
    // And the workspace keeps working: another decision appends cleanly
    // (with a comment of its own, so the lines approved already take it).
    skuplan(home.path())
        .args(["approve", "restock", "--all", "--comment", "after the crash"])
        .assert()
        .success();
    assert!(log.load().unwrap().records.len() > loaded.records.len());
    assert!(!log.load().unwrap().torn_tail);
}

/// A batch the disk cannot take whole is not kept in part: a full disk
/// took the first lines of an "approve all", the command said "not
/// saved", and a restart read those lines as decisions (and exported
/// them). Run with a file-size limit, the batch's write fails midway.
#[test]
fn a_batch_the_disk_cannot_take_whole_leaves_nothing_of_it() {
    let (home, _data) = planned_workspace();
    let line = ordering_line(home.path());
    skuplan(home.path())
        .args(["approve", "restock", "--sku", &line.sku, "--warehouse", &line.warehouse])
        .assert()
        .success();
    let path = home.path().join("data/workspace/audit.log");
    let before = fs::read(&path).unwrap();
    assert!(before.len() < 2_000, "one record: {} bytes", before.len());
    let bin = assert_cmd::cargo::cargo_bin("skuplan");
    // In 512-byte blocks (dash, and bash as sh; bash itself counts 1024):
    // either way under the batch, about 10 records of 175 bytes (the line
    // approved already is not recorded again).
    let blocks = (before.len() + 300).div_ceil(1024);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec '{}' approve restock --all",
            bin.display()
        ))
        .env("SKUPLAN_HOME", home.path())
        .env("USER", "carol")
        .env_remove("SKUPLAN_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("decisions not recorded, none of them was kept"),
        "{stderr}"
    );
    assert_eq!(fs::read(&path).unwrap(), before, "the log as it was");
    let loaded = AuditLog::open(&path).load().unwrap();
    assert_eq!(loaded.records.len(), 1);
    assert!(!loaded.torn_tail);
}

/// An export never lands on the data: not on a data file (an export to
/// the sales file replaced the sales history), not inside a data folder
/// (the next import would read it as data), not on a folder; and `plan
/// restock --out` checks its path before it saves the workspace's plan
/// (it saved it, then failed).
#[test]
fn exports_never_replace_the_data_and_bad_paths_change_nothing() {
    let (home, data) = planned_workspace();
    // The workspace's data, as `import` records it.
    skuplan(home.path()).arg("import").arg(data.path()).assert().success();
    let sales = data.path().join("sales.csv");
    let history = fs::read(&sales).unwrap();
    let plan_file = home.path().join("data/workspace/plans/restock.json");
    let plan_before = fs::read(&plan_file).unwrap();
    skuplan(home.path())
        .args(["plan", "restock", "--review-days", "14", "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(&sales)
        .assert()
        .failure()
        .stderr(predicates::str::contains("a folder skuplan reads"));
    skuplan(home.path())
        .args(["plan", "restock", "--review-days", "14", "--out"])
        .arg(home.path())
        .assert()
        .failure()
        .stderr(predicates::str::contains("is a folder, not a file"));
    assert_eq!(fs::read(&plan_file).unwrap(), plan_before, "the plan was not replaced");
    for args in [
        vec!["export", "restock", "--out"],
        vec!["export", "deliveries", "--all", "--out"],
    ] {
        skuplan(home.path()).args(&args).arg(&sales).assert().failure().stderr(
            predicates::str::contains("a file skuplan reads").or(predicates::str::contains("a folder skuplan reads")),
        );
    }
    assert_eq!(fs::read(&sales).unwrap(), history, "the sales history is whole");
    // Elsewhere, it is written.
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(home.path().join("out.csv"))
        .assert()
        .success();
}

/// `plan restock` plans with the workspace's what-ifs, as the workstation
/// does, and says so; `--no-what-ifs` leaves them out. It planned without
/// them, and the lines they changed lost their approvals unsaid.
#[test]
fn plan_restock_keeps_the_workspace_what_ifs() {
    let (home, data) = planned_workspace();
    let base = saved_line(home.path(), "SKU-00001", "WH-LON");
    let to = base.order_date + chrono::Days::new(60);
    // The workstation's what-ifs are the scenario called what-if.
    skuplan(home.path())
        .args(["scenario", "new", "what-if"])
        .assert()
        .success();
    skuplan(home.path())
        .args([
            "scenario",
            "set",
            "what-if",
            "--sku",
            "SKU-00001",
            "--pct",
            "300",
            "--reason",
            "promo",
        ])
        .args(["--from", &base.order_date.to_string(), "--to", &to.to_string()])
        .assert()
        .success();
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("with the workspace's 1 what-if"));
    let with = saved_line(home.path(), "SKU-00001", "WH-LON");
    assert!(
        with.order_qty > base.order_qty,
        "{} against {}",
        with.order_qty,
        base.order_qty
    );
    skuplan(home.path())
        .args(["plan", "restock", "--no-what-ifs", "--data"])
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("what-if").not());
    assert_eq!(saved_line(home.path(), "SKU-00001", "WH-LON").order_qty, base.order_qty);
}

/// An exported line a planner's quantity changed says so beside the
/// plan's reason (an order of 12 went out as "stock covers lead time and
/// review period"), and a comment that starts like a formula is exported
/// as text (`=HYPERLINK(...)` ran when the file was opened).
#[test]
fn an_export_says_the_planner_set_the_quantity_and_keeps_comments_as_text() {
    let (home, _data) = planned_workspace();
    let line = ordering_line(home.path());
    let asked = line.order_qty + 10 * line.pack_size.max(1);
    skuplan(home.path())
        .args(["approve", "restock", "--sku", &line.sku, "--warehouse", &line.warehouse])
        .args(["--qty", &asked.to_string(), "--comment", "=HYPERLINK(\"http://x\")"])
        .assert()
        .success();
    let (_, rows) = export_all(home.path());
    let row = rows
        .iter()
        .find(|r| r.sku == line.sku && r.warehouse == line.warehouse)
        .unwrap();
    assert_eq!(row.order_qty, asked);
    assert!(
        row.reason.starts_with(&format!(
            "the planner's quantity {asked} (the plan's {}: ",
            line.order_qty
        )),
        "{}",
        row.reason
    );
    assert_eq!(row.comment, "'=HYPERLINK(\"http://x\")");
}

/// With under a year of history the plan's levels are fitted on the days
/// just before it, and the summary says so (it claimed last year's weeks).
#[test]
fn the_summary_says_what_the_levels_were_fitted_on() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    skuplan(home.path())
        .args([
            "sample-data",
            "--skus",
            "10",
            "--warehouses",
            "1",
            "--days",
            "330",
            "--out",
        ])
        .arg(data.path())
        .assert()
        .success();
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(data.path())
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "fitted on a replay of the 182 days just before the plan: under a year of history",
        ))
        .stdout(predicates::str::contains("same weeks last year").not());
}

/// A plan made with `--data` and no `import` still keeps its exports off
/// that data, and no export lands on the workspace's own files (one over
/// `audit.log` lost every decision).
#[test]
fn exports_keep_off_a_plans_data_and_the_workspace() {
    let (home, data) = planned_workspace();
    let sales = data.path().join("sales.csv");
    let history = fs::read(&sales).unwrap();
    let log = home.path().join("data/workspace/audit.log");
    skuplan(home.path())
        .args(["approve", "restock", "--all"])
        .assert()
        .success();
    let decisions = fs::read(&log).unwrap();
    for out in [
        sales.clone(),
        log.clone(),
        home.path().join("data/workspace/plans/new.csv"),
    ] {
        skuplan(home.path())
            .args(["export", "restock", "--out"])
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("skuplan reads"));
    }
    assert_eq!(fs::read(&sales).unwrap(), history);
    assert_eq!(fs::read(&log).unwrap(), decisions);
    // The workspace's exports folder is where the workstation writes them.
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(home.path().join("data/workspace/exports/today.csv"))
        .assert()
        .success();
}

use std::os::unix::process::CommandExt as _;

/// `plan restock` shares the workstation's cache of the plan's slow half
/// (baseline backtest, champions, calibration): a second plan of the same
/// data reads it, not rewrites it, and plans the same lines.
#[test]
fn a_second_plan_reads_the_cached_baselines_and_plans_the_same() {
    let (home, data) = planned_workspace();
    let cache = home.path().join("data/workspace/cache");
    let cached: Vec<std::path::PathBuf> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("planbase-"))
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    let written = fs::metadata(&cached[0]).unwrap().modified().unwrap();
    let (_, first) = export_all(home.path());
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(data.path())
        .assert()
        .success();
    assert_eq!(fs::metadata(&cached[0]).unwrap().modified().unwrap(), written);
    let (_, second) = export_all(home.path());
    assert_eq!(first, second);
    // A plan with other settings keeps its own file beside the defaults'
    // (the workstation's), and reads it the next time.
    let fortnightly = || {
        skuplan(home.path())
            .args(["plan", "restock", "--review-days", "14", "--data"])
            .arg(data.path())
            .assert()
            .success();
    };
    fortnightly();
    let names = || -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("planbase-"))
            .collect();
        v.sort();
        v
    };
    let both = names();
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(cached[0].exists(), "the defaults' file is kept");
    assert_eq!(fs::metadata(&cached[0]).unwrap().modified().unwrap(), written);
    let other = cache.join(both.iter().find(|n| n.starts_with("settings-")).unwrap());
    let other_written = fs::metadata(&other).unwrap().modified().unwrap();
    fortnightly();
    assert_eq!(names(), both);
    assert_eq!(fs::metadata(&other).unwrap().modified().unwrap(), other_written);
}

/// The workstation saves the plan it shows, so `skuplan approve` and
/// `skuplan export` act on the same lines (they said "no restock plan yet"),
/// and it reads decisions another process appends to the log, so the screen
/// does not go stale.
#[test]
fn the_workstation_and_the_cli_share_the_plan_and_the_log() {
    use skuplan::tui::app::App;
    use skuplan::workspace::{DataSources, Workspace};
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    sample(home.path(), data.path());
    let ws = Workspace::open(home.path().join("data/workspace")).unwrap();
    let sources = DataSources {
        paths: vec![data.path().to_path_buf()],
        ..DataSources::default()
    };
    let loaded = skuplan::tui::load(&sources, &skuplan::data::ImportOptions::default()).unwrap();
    let mut app = App::new(ws.clone(), None);
    app.on_loaded(loaded);
    let shown = app.plan.clone().unwrap();
    let fingerprints = |p: &skuplan::plan::RestockPlan| -> Vec<(String, String, String)> {
        p.lines
            .iter()
            .map(|l| {
                (
                    l.sku.clone(),
                    l.warehouse.clone(),
                    skuplan::plan::export::restock_fingerprint(l),
                )
            })
            .collect()
    };
    let saved = ws.load_restock().unwrap().expect("the workstation saved its plan");
    assert_eq!(fingerprints(&saved), fingerprints(&shown));
    assert!(!app.poll_audit_log(), "nothing changed");
    // Another shell approves a line of it.
    let line = shown.lines.iter().find(|l| l.order_qty > 0).unwrap().clone();
    skuplan(home.path())
        .args(["approve", "restock", "--sku", &line.sku, "--warehouse", &line.warehouse])
        .assert()
        .success();
    assert!(app.poll_audit_log());
    assert!(app.status.contains("changed outside the workstation"), "{}", app.status);
    assert_eq!(app.state_of(&line).0, skuplan::plan::approval::State::Approved);
    assert!(!app.poll_audit_log(), "read once");
    // And the CLI exports what the workstation shows as approved.
    let (_, rows) = export_all(home.path());
    let row = rows
        .iter()
        .find(|r| r.sku == line.sku && r.warehouse == line.warehouse)
        .unwrap();
    assert_eq!(row.state, "approved");
    // A plan written by another process meanwhile is replaced at the next
    // recompute, and the workstation says so.
    skuplan(home.path())
        .args(["plan", "restock", "--review-days", "14"])
        .assert()
        .success();
    app.recompute();
    let e = app.error.clone().unwrap_or_default();
    assert!(
        e.contains("another process (skuplan plan restock?) had written the workspace's plan"),
        "{e}"
    );
    assert_eq!(
        fingerprints(&ws.load_restock().unwrap().unwrap()),
        fingerprints(app.plan.as_ref().unwrap())
    );
    app.error = None;
    app.recompute();
    assert!(app.error.is_none(), "{:?}", app.error);
}

/// The saved plan records the data it was planned from. After the files
/// change (imported again but not planned, or a workstation killed between
/// taking new files and saving their plan), deciding on its lines and
/// exporting them are refused, saying why, until it is planned again.
#[test]
fn a_plan_of_data_changed_since_is_neither_decided_nor_exported_unsaid() {
    use predicates::str::contains;
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    sample(home.path(), data.path());
    skuplan(home.path()).arg("import").arg(data.path()).assert().success();
    skuplan(home.path()).args(["plan", "restock"]).assert().success();
    let (_, rows) = export_all(home.path());
    assert!(!rows.is_empty());
    // A decision already in force is not recorded again (an undo took the
    // copy back, the lines staying approved).
    skuplan(home.path())
        .args(["approve", "restock", "--all"])
        .assert()
        .success()
        .stdout(contains("recorded"));
    let logged = fs::read(home.path().join("data/workspace/audit.log")).unwrap();
    skuplan(home.path())
        .args(["approve", "restock", "--all"])
        .assert()
        .success()
        .stdout(contains("approved already: nothing recorded").and(contains("recorded 1").not()));
    assert_eq!(fs::read(home.path().join("data/workspace/audit.log")).unwrap(), logged);
    // The stock count changes under the plan.
    let inventory = data.path().join("inventory.csv");
    let text = fs::read_to_string(&inventory).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[2] = (cells[2].parse::<u32>().unwrap() + 500).to_string();
    lines[1] = cells.join(",");
    fs::write(&inventory, lines.join("\n") + "\n").unwrap();

    let out = home.path().join("approved.csv");
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(contains("was made from other data").and(contains("skuplan plan restock")));
    assert!(!out.exists(), "nothing written");
    let log = home.path().join("data/workspace/audit.log");
    let logged = fs::read(&log).unwrap_or_default();
    skuplan(home.path())
        .args(["approve", "restock", "--all"])
        .assert()
        .code(1)
        .stderr(contains("changed since").and(contains("--stale-ok")));
    assert_eq!(fs::read(&log).unwrap_or_default(), logged, "nothing recorded");
    // Asked for, the plan as it is.
    skuplan(home.path())
        .args(["export", "restock", "--stale-ok", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("may be out of date"));
    // Planned again, it is the data's plan.
    skuplan(home.path()).args(["plan", "restock"]).assert().success();
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("may be out of date").not());
    // A plan read with options of its own (not kept) is not checked.
    skuplan(home.path())
        .args(["plan", "restock", "--period", "day"])
        .assert()
        .success();
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("out of date").not());
    skuplan(home.path()).args(["plan", "restock"]).assert().success();
    // Files that no longer import cannot be planned again: the plan of
    // their last import that did is the one to act on, and that is said.
    cells[2] = "abc".to_string();
    lines[1] = cells.join(",");
    fs::write(&inventory, lines.join("\n") + "\n").unwrap();
    skuplan(home.path())
        .args(["export", "restock", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("do not import now").and(contains("last import that did")));
}
