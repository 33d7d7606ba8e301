//! The engine's commands as a planner or a script meets them: model import,
//! train, forecast, evaluate --run, similar; and their errors.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use skuplan::engine::bert::BertConfig;
use skuplan::engine::encoder::write_random_model;

fn skuplan(home: &Path) -> Command {
    let mut c = Command::cargo_bin("skuplan").unwrap();
    c.env("SKUPLAN_HOME", home)
        .env_remove("SKUPLAN_CONFIG")
        .env_remove("SKUPLAN_LOG");
    c
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

fn tiny(dir: &Path) -> PathBuf {
    let p = dir.join("tiny");
    write_random_model(&p, &BertConfig::tiny(0), 5).unwrap();
    p
}

#[test]
fn train_forecast_evaluate_on_the_sample_data() {
    let home = tempfile::tempdir().unwrap();
    let model = tiny(home.path());
    let run = home.path().join("run");
    skuplan(home.path())
        .args([
            "train",
            "--epochs",
            "2",
            "--horizon",
            "7",
            "--max-samples",
            "600",
            "--device",
            "cpu",
        ])
        .arg("--data")
        .arg(sample())
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&run)
        .assert()
        .success()
        .stdout(predicate::str::contains("validation: pinball"))
        .stderr(predicate::str::contains("device: CPU"));
    let metrics = fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(metrics.starts_with("step,epoch,train_loss,val_mse,val_mae,samples_per_sec\n"));
    assert!(metrics.lines().count() > 2);
    let meta: serde_json::Value = serde_json::from_str(&fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        meta["train_end"], "2026-11-20",
        "by default the last horizon (7 days) is held out to judge the run"
    );
    assert!(meta["sources"]["paths"][0].as_str().unwrap().ends_with("sample-data"));
    // ... and it is refit on all the data with its best epoch count.
    assert_eq!(meta["refit"]["train_end"], "2026-11-27");
    assert_eq!(
        meta["refit"]["judged_on"],
        serde_json::json!(["2026-11-21", "2026-11-27"])
    );
    assert!(
        meta["refit"]["protocol"]
            .as_str()
            .unwrap()
            .contains("refit on all data")
    );
    let refit: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("refit").join("run.json")).unwrap()).unwrap();
    assert_eq!(refit["train_end"], "2026-11-27");
    assert_eq!(refit["train"]["epochs"], meta["best_epoch"]);

    let out = home.path().join("fc.csv");
    skuplan(home.path())
        .args(["forecast", "--run"])
        .arg(&run)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("x 7 days").and(predicate::str::contains(
            "from 2026-11-27, the data's last day (refit up to 2026-11-27",
        )));
    let text = fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("sku,warehouse,date,p10,p50,p90,model"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len() % 7, 0);
    assert!(rows.len() >= 600 * 7 / 2);
    assert_eq!(
        rows[0][2], "2026-11-28",
        "by default forecasts start the day after the data's last day, from the refit"
    );
    for r in &rows {
        let q: Vec<f64> = r[3..6].iter().map(|v| v.parse().unwrap()).collect();
        assert!(0.0 <= q[0] && q[0] <= q[1] && q[1] <= q[2], "{r:?}");
        assert_eq!(r[6], "finetuned");
    }
    // From a day asked for, with the run's own weights.
    skuplan(home.path())
        .args(["forecast", "--origin", "2026-11-20", "--run"])
        .arg(&run)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("from 2026-11-20, the run's own weights"));
    let text = fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().nth(1).unwrap().split(',').nth(2), Some("2026-11-21"));

    // Judged beside the baselines: trained to an earlier day, scored after.
    let run2 = home.path().join("run2");
    skuplan(home.path())
        .args([
            "train",
            "--epochs",
            "1",
            "--horizon",
            "7",
            "--max-samples",
            "300",
            "--train-end",
            "2026-11-01",
        ])
        .arg("--data")
        .arg(sample())
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&run2)
        .assert()
        .success();
    skuplan(home.path())
        .args(["evaluate", "--windows", "1", "--methods", "snaive7,ets", "--run"])
        .arg(&run2)
        .arg("--data")
        .arg(sample())
        .assert()
        .success()
        .stdout(predicate::str::contains("finetuned"))
        .stdout(predicate::str::contains("origins 2026-11-01"))
        .stdout(predicate::str::contains("the days after the run's train end"))
        .stdout(predicate::str::contains("use --windows 2").not());
    // More windows cannot be had with a run: said, not ignored.
    skuplan(home.path())
        .args(["evaluate", "--windows", "2", "--methods", "snaive7", "--run"])
        .arg(&run2)
        .arg("--data")
        .arg(sample())
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--windows 2: with --run every method is scored on one window",
        ));
    // With --out, the champion forecasts use the model where it won.
    let out_dir = home.path().join("eval");
    skuplan(home.path())
        .args(["evaluate", "--windows", "1", "--methods", "snaive7", "--run"])
        .arg(&run2)
        .arg("--data")
        .arg(sample())
        .arg("--out")
        .arg(&out_dir)
        .assert()
        .success();
    let champ = fs::read_to_string(out_dir.join("champion_forecast.csv")).unwrap();
    let metrics = fs::read_to_string(out_dir.join("metrics_by_series.csv")).unwrap();
    // The series the model is champion of, from the metrics' champion
    // column, and the series whose champion forecast the model made: every
    // series it won uses its forecast, and no series where another method
    // scored better does (a series with no score, such as one without
    // actuals in the window, may fall back to it).
    let mut won = std::collections::BTreeSet::new();
    let mut scored_series = std::collections::BTreeSet::new();
    let mut scored = 0;
    let mut r = csv::Reader::from_reader(metrics.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (sku, wh, method, champion) = (col("sku"), col("warehouse"), col("method"), col("champion"));
    for row in r.records() {
        let row = row.unwrap();
        if &row[method] == "finetuned" {
            scored += 1;
            scored_series.insert((row[sku].to_string(), row[wh].to_string()));
            if &row[champion] == "true" {
                won.insert((row[sku].to_string(), row[wh].to_string()));
            }
        }
    }
    let mut used = std::collections::BTreeSet::new();
    let mut r = csv::Reader::from_reader(champ.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (sku, wh, model) = (col("sku"), col("warehouse"), col("model"));
    for row in r.records() {
        let row = row.unwrap();
        if &row[model] == "finetuned" {
            used.insert((row[sku].to_string(), row[wh].to_string()));
        }
    }
    assert!(scored > 0, "the run was not scored: {metrics}");
    assert!(!won.is_empty(), "the model is champion nowhere: {metrics}");
    let missing: Vec<_> = won.difference(&used).collect();
    assert!(
        missing.is_empty(),
        "won by the model but forecast by another method: {missing:?}"
    );
    let lost: Vec<_> = used.difference(&won).filter(|s| scored_series.contains(*s)).collect();
    assert!(
        lost.is_empty(),
        "forecast by the model where another method scored better: {lost:?}"
    );
    skuplan(home.path())
        .args(["evaluate", "--origin", "2026-10-01", "--run"])
        .arg(&run2)
        .arg("--data")
        .arg(sample())
        .assert()
        .failure()
        .stderr(predicate::str::contains("learnt up to 2026-11-01"));

    // Plans: the run among the champions, every line naming its method;
    // the run becomes the workspace's active run and the default.
    let plan_csv = home.path().join("plan.csv");
    skuplan(home.path())
        .args(["plan", "restock", "--run"])
        .arg(&run)
        .arg("--data")
        .arg(sample())
        .arg("--out")
        .arg(&plan_csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("run run: champion of"))
        .stdout(predicate::str::contains("refit up to 2026-11-27"));
    let text = fs::read_to_string(&plan_csv).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let method = h.iter().position(|c| c == "method").expect("a method column");
    let methods: std::collections::BTreeSet<String> = r.records().map(|row| row.unwrap()[method].to_string()).collect();
    let known = [
        "finetuned",
        "snaive7",
        "snaive364",
        "ma28",
        "ets",
        "theta",
        "croston",
        "tsb",
        "zero",
    ];
    assert!(!methods.is_empty());
    for m in &methods {
        assert!(known.contains(&m.as_str()), "unknown method {m} in {methods:?}");
    }
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(sample())
        .assert()
        .success()
        .stdout(predicate::str::contains("run run: champion of"));
    // The plan without the run beside the plan with it.
    skuplan(home.path())
        .args(["scenario", "compare", "--model", "--data"])
        .arg(sample())
        .assert()
        .success()
        .stdout(predicate::str::contains("without and with run "))
        .stdout(predicate::str::contains("baselines"))
        .stdout(predicate::str::contains("with model"))
        .stdout(predicate::str::contains("order cost"));
    skuplan(home.path())
        .args(["plan", "restock", "--no-run", "--data"])
        .arg(sample())
        .assert()
        .success()
        .stdout(predicate::str::contains("champion of").not());
    // A run trained on other data is refused by plan, forecast and
    // evaluate, and the message says why.
    let other = home.path().join("other");
    skuplan(home.path())
        .args(["sample-data", "--skus", "20", "--days", "200", "--seed", "7", "--out"])
        .arg(&other)
        .assert()
        .success();
    for args in [
        vec!["plan", "restock", "--run"],
        vec!["evaluate", "--run"],
        vec!["forecast", "--out", "f.csv", "--run"],
    ] {
        skuplan(home.path())
            .args(&args)
            .arg(&run)
            .arg("--data")
            .arg(&other)
            .assert()
            .failure()
            .stderr(predicate::str::contains("trained on other data"));
    }
    // The refused run did not become the active run: it was switched off
    // above, and it is still off, so plans without --run still work.
    let active: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(home.path().join("data/workspace/active_run.json")).unwrap()).unwrap();
    assert_eq!(active["on"], false, "{active}");
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(&other)
        .assert()
        .success();
    // Switched on, the active run that cannot join this data is left out
    // of a plain plan, which says why, rather than failing it.
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(sample())
        .arg("--run")
        .arg(&run)
        .assert()
        .success();
    skuplan(home.path())
        .args(["plan", "restock", "--data"])
        .arg(&other)
        .assert()
        .success()
        .stdout(predicate::str::contains("the active run is not used"))
        .stdout(predicate::str::contains("trained on other data"));
    // A replay over days the run learnt from is refused, and says so.
    skuplan(home.path())
        .args(["simulate", "--days", "28", "--data"])
        .arg(sample())
        .arg("--run")
        .arg(&run)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "learnt up to 2026-11-20, into the replayed days (from 2026-10-31)",
        ))
        .stderr(predicate::str::contains(
            "train one that learnt only up to 2026-10-02 (`skuplan train --train-end 2026-10-02`), or give --train",
        ));
    // A run in the workspace's runs/ folder (where the workstation trains)
    // is named by its folder's name alone.
    let runs = home.path().join("data").join("workspace").join("runs");
    fs::create_dir_all(&runs).unwrap();
    fs::rename(&run2, runs.join("older")).unwrap();
    skuplan(home.path())
        .current_dir(home.path())
        .args([
            "evaluate",
            "--windows",
            "1",
            "--methods",
            "snaive7",
            "--run",
            "older",
            "--data",
        ])
        .arg(sample())
        .assert()
        .success()
        .stdout(predicate::str::contains("finetuned"));
}

#[test]
fn similar_lists_neighbours_and_model_import_converts() {
    let home = tempfile::tempdir().unwrap();
    let model = tiny(home.path());
    let half = home.path().join("half");
    skuplan(home.path())
        .args(["model", "import", "--dtype", "f16", "--out"])
        .arg(&half)
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("F16"));
    let products = fs::read_to_string(sample().join("products.csv")).unwrap();
    let first_sku = products.lines().nth(1).unwrap().split(',').next().unwrap().to_string();
    let out = skuplan(home.path())
        .args(["similar", &first_sku, "--top", "3", "--model"])
        .arg(&half)
        .arg("--data")
        .arg(sample())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    // A header, then three other products of the data, nearest first, each
    // with a cosine in [-1, 1] and the text it was compared by.
    let out = String::from_utf8(out).unwrap();
    let mut lines = out.lines();
    assert!(lines.next().unwrap().starts_with("cosine"), "{out}");
    let skus: std::collections::HashSet<&str> = products.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    let mut last = f64::INFINITY;
    let mut n = 0;
    for line in lines {
        let mut f = line.split_whitespace();
        let cos: f64 = f.next().unwrap().parse().unwrap();
        let sku = f.next().unwrap();
        assert!((-1.0..=1.0).contains(&cos), "{line}");
        assert!(cos <= last + 1e-9, "not nearest first: {out}");
        assert_ne!(sku, first_sku, "a product is not its own neighbour: {out}");
        assert!(skus.contains(sku), "{sku} is not a product of the data: {out}");
        assert!(f.next().is_some(), "no product text: {line}");
        last = cos;
        n += 1;
    }
    assert_eq!(n, 3, "{out}");
    skuplan(home.path())
        .args(["similar", "NO-SUCH-SKU", "--model"])
        .arg(&half)
        .arg("--data")
        .arg(sample())
        .assert()
        .failure()
        .stderr(predicate::str::contains("\"NO-SUCH-SKU\" is not in the data"));
}

#[test]
fn engine_errors_say_what_is_wrong() {
    let home = tempfile::tempdir().unwrap();
    let model = tiny(home.path());
    skuplan(home.path())
        .args(["forecast", "--out", "x.csv", "--run"])
        .arg(home.path().join("nothing"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("nothing: no such training run"))
        .stderr(predicate::str::contains("workspace/runs"));
    // A folder that is there but holds no run.
    skuplan(home.path())
        .args(["forecast", "--out", "x.csv", "--run"])
        .arg(home.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a training run"));
    skuplan(home.path())
        .args(["model", "import"])
        .arg(home.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("config.json"));
    skuplan(home.path())
        .args(["train", "--device", "tpu", "--out", "r"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("expected auto, cpu or cuda"));
    if !cfg!(feature = "cuda") {
        skuplan(home.path())
            .args(["train", "--device", "cuda", "--out"])
            .arg(home.path().join("r"))
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(sample())
            .assert()
            .failure()
            .stderr(predicate::str::contains("built without CUDA"));
    }
    skuplan(home.path())
        .args(["train", "--horizon", "300", "--out"])
        .arg(home.path().join("r"))
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(sample())
        .assert()
        .failure()
        .stderr(predicate::str::contains("not enough history"));
}

/// `bench train` names the device it measured on, prints a row per mode
/// with the matmul reference beside it, and refuses a GPU a CPU build
/// does not have.
#[test]
fn bench_train_reports_each_mode_on_the_chosen_device() {
    let home = tempfile::tempdir().unwrap();
    let model = tiny(home.path());
    let out = skuplan(home.path())
        .args([
            "bench", "train", "--seq", "8", "--steps", "1", "--series", "20", "--device", "cpu",
        ])
        .arg("--model")
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("on CPU ("), "{text}");
    for mode in ["head", "top-k", "full"] {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(mode))
            .unwrap_or_else(|| panic!("no {mode} row in {text}"));
        // seq, mode, ms/step, samples/s, GFLOP/s, matmul GF/s, x matmul, peak
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols.len(), 8, "{row}");
        assert_eq!(cols[0], "8", "{row}");
        let num = |i: usize| -> f64 { cols[i].parse().unwrap_or_else(|_| panic!("column {i} of {row}")) };
        let (ms, per_sec, matmul) = (num(2), num(3), num(5));
        assert!(ms > 0.0 && matmul > 0.0, "{row}");
        // Batch 32 (the default): samples/s and ms/step are one figure.
        assert!((per_sec * ms / 1e3 - 32.0).abs() < 0.05 * 32.0, "{row}");
        if mode == "head" {
            // The encoder does not train: no FLOPs of its own, no ratio.
            assert_eq!((cols[4], cols[6]), ("-", "-"), "{row}");
        } else {
            let (gf, ratio) = (num(4), num(6));
            // Rates this small print as 0.0 and 0.00: the other tests of this
            // file train beside it, and can slow its step that much.
            assert!(gf >= 0.0 && ratio >= 0.0, "{row}");
            // The ratio is the step's rate over the matmul rate measured
            // beside it, within what printing the three figures (one, one
            // and two decimals) loses: on a busy machine the rates are
            // small, and 0.05 of each is a large share of them.
            let printing = 0.006 + ratio * (0.051 / gf + 0.051 / matmul);
            assert!((ratio - gf / matmul).abs() <= printing + 0.02 * ratio, "{row}");
        }
    }
    assert!(text.contains("forecast with cached embeddings: 20 series"), "{text}");
    if !skuplan::engine::device::cuda_compiled() {
        skuplan(home.path())
            .args(["bench", "train", "--steps", "1", "--device", "cuda"])
            .arg("--model")
            .arg(&model)
            .assert()
            .failure()
            .stderr(predicate::str::contains("cuda"));
    }
}

/// `bench text --minutes 0` measures the launches alone: it reports where
/// the launch days fell against their band, and says the run goals were
/// not measured rather than scoring two copies of the baseline as a miss.
#[test]
fn bench_text_without_runs_measures_the_launches_alone() {
    let home = tempfile::tempdir().unwrap();
    let model = tiny(home.path());
    skuplan(home.path())
        .args(["bench", "text", "--minutes", "0"])
        .arg("--data")
        .arg(sample())
        .arg("--model")
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("launch-total error"))
        .stdout(predicate::str::is_match(r"launch days: \d+, [0-9.]+ % without sales; below p10 on [0-9.]+ %").unwrap())
        .stdout(predicate::str::contains("not measured (--minutes 0 trains no run)"))
        .stdout(predicate::str::contains("text vs no text, new products wQL").not());
}
