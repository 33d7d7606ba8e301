#!/usr/bin/env python3
"""The judgements behind tools/cuda/measure.sh, with the standard library alone
(the GPU machine has python3 but nothing is installed for this):

    compare.py runs NAME CPU_RUN GPU_RUN CPU_FORECAST GPU_FORECAST [--tol-loss R] [--tol-forecast R]
        Did each run's training loss fall, and do the CUDA run's validation
        loss (run.json) and forecasts (forecast CSV) match the CPU run's
        within tolerance? Exit 0 when all hold, 1 when one does not.
    compare.py bench BENCH_TXT [--card RATES_JSON]
        Full, top-k and head rows of `skuplan bench train` output (one or
        more runs in one file), with full fine-tuning's rate over candle's
        f32 matmul reference and over the card's own rates (RATES_JSON from
        measure.sh's PyTorch probe, when there is one).
    compare.py self-test
        Checks the two above on made-up runs; what measure.sh --dry-run (and
        so CI) runs.
"""
import csv
import json
import math
import re
import sys
import tempfile
from pathlib import Path


def read_metrics(run):
    with open(Path(run) / "metrics.csv", newline="") as f:
        return [r for r in csv.DictReader(f)]


def read_meta(run):
    return json.loads((Path(run) / "run.json").read_text())


def read_forecast(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows[(r["sku"], r["warehouse"], r["date"])] = tuple(float(r[q]) for q in ("p10", "p50", "p90"))
    return rows


def loss_falls(metrics):
    """First logged training loss, last, and whether it fell."""
    losses = [float(r["train_loss"]) for r in metrics if r.get("train_loss")]
    if len(losses) < 2:
        return None, None, False
    return losses[0], losses[-1], losses[-1] < losses[0]


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def compare_runs(name, cpu_run, gpu_run, cpu_fc, gpu_fc, tol_loss, tol_fc, out=print):
    ok = True

    def verdict(good, text):
        nonlocal ok
        ok = ok and good
        out(f"  [{'ok' if good else 'FAIL'}] {text}")

    out(f"{name}: CUDA run against the CPU run (tolerances: validation loss {tol_loss:.1%}, forecast {tol_fc:.1%})")
    metas = {}
    for label, run in (("cpu", cpu_run), ("cuda", gpu_run)):
        try:
            metrics = read_metrics(run)
            metas[label] = read_meta(run)
        except (OSError, ValueError) as e:
            verdict(False, f"{label} run unreadable: {e}")
            continue
        first, last, fell = loss_falls(metrics)
        if first is None:
            verdict(False, f"{label}: fewer than two training-loss rows in metrics.csv")
        else:
            verdict(fell, f"{label}: training loss {first:.4f} -> {last:.4f} ({'falls' if fell else 'does not fall'})")
        sps = [float(r["samples_per_sec"]) for r in metrics if r.get("samples_per_sec")]
        m = metas[label]
        out(
            f"         {label}: device {m.get('device')}, {m.get('epochs_done')} epochs, "
            f"{m.get('train_seconds', float('nan')):.1f} s in all, {sps[-1] if sps else float('nan'):.0f} samples/s while training"
        )
    if len(metas) == 2:
        c, g = metas["cpu"], metas["cuda"]
        for key in ("seed", "mode", "epochs", "batch_size", "max_train_samples"):
            if c["train"].get(key) != g["train"].get(key):
                verdict(False, f"the runs differ in {key}: {c['train'].get(key)} and {g['train'].get(key)}")
        if c.get("samples") != g.get("samples"):
            verdict(False, f"the runs saw different windows: {c.get('samples')} and {g.get('samples')}")
        lc, lg = c["validation"]["loss"], g["validation"]["loss"]
        verdict(rel(lg, lc) <= tol_loss, f"validation pinball: cpu {lc:.5f}, cuda {lg:.5f} ({rel(lg, lc):.2%} apart)")
        cc, cg = c["calibration"].get("correction"), g["calibration"].get("correction")
        same = cc == cg
        out(f"  [{'ok' if same else 'note'}] correction share kept: cpu {cc}, cuda {cg}"
            + ("" if same else " (a different choice moves the forecasts by more than rounding)"))
        ts_c, ts_g = c.get("train_seconds") or 0, g.get("train_seconds") or 0
        if ts_c > 0 and ts_g > 0:
            out(f"         run time: cpu {ts_c:.1f} s, cuda {ts_g:.1f} s: {ts_c / ts_g:.1f}x")
    try:
        fc, fg = read_forecast(cpu_fc), read_forecast(gpu_fc)
    except (OSError, KeyError, ValueError) as e:
        verdict(False, f"forecasts unreadable: {e}")
        return ok
    if set(fc) != set(fg):
        verdict(False, f"the forecasts cover different rows: {len(fc)} and {len(fg)}, {len(set(fc) ^ set(fg))} not in both")
    keys = sorted(set(fc) & set(fg))
    if not keys:
        verdict(False, "no forecast rows in common")
        return ok
    for i, q in enumerate(("p10", "p50", "p90")):
        diff = sum(abs(fg[k][i] - fc[k][i]) for k in keys)
        base = sum(abs(fc[k][i]) for k in keys)
        worst = max(abs(fg[k][i] - fc[k][i]) for k in keys)
        r = diff / max(base, 1e-12)
        text = f"forecast {q}: sum|cuda-cpu| / sum|cpu| = {r:.3%} over {len(keys)} rows (largest gap {worst:.4f})"
        if q == "p50":
            verdict(r <= tol_fc, text)
        else:
            out(f"  [{'ok' if r <= tol_fc else 'note'}] {text}")
    return ok


ROW = re.compile(r"^(\d+)\s+(head|top-k|full)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s+([\d.]+)\s+(\S+)\s+(\S+)\s*$")


def parse_bench(text):
    """(batch, seq, mode) -> dict of the row, from one or more bench outputs."""
    rows, batch, device = {}, None, None
    for line in text.splitlines():
        m = re.match(r"bench train: .*, batch (\d+), on (.*)$", line)
        if m:
            batch, device = int(m.group(1)), m.group(2)
            continue
        m = ROW.match(line)
        if m and batch is not None:
            seq, mode = int(m.group(1)), m.group(2)
            num = lambda s: float(s) if s not in ("-", "") else None
            rows[(batch, seq, mode)] = {
                "ms": float(m.group(3)),
                "sps": float(m.group(4)),
                "gflops": num(m.group(5)),
                "matmul": float(m.group(6)),
                "ratio": num(m.group(7)),
                "device": device,
            }
    return rows


def bench_report(text, card=None, out=print):
    rows = parse_bench(text)
    if not rows:
        out("bench: no result rows found")
        return False
    card = card or {}
    refs = [(k, card[k]) for k in ("f32", "tf32", "bf16") if card.get(k)]
    head = f"{'batch':>5} {'seq':>4} {'mode':<6} {'ms/step':>8} {'samples/s':>10} {'GFLOP/s':>9} {'candle f32':>11} {'x candle':>8}"
    head += "".join(f" {'x card ' + k:>12}" for k, _ in refs)
    out(head)
    order = {"head": 0, "top-k": 1, "full": 2}
    for (batch, seq, mode), r in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]])):
        line = f"{batch:>5} {seq:>4} {mode:<6} {r['ms']:>8.1f} {r['sps']:>10.1f} "
        line += f"{r['gflops'] if r['gflops'] is not None else '-':>9} {r['matmul']:>11.1f} "
        line += f"{r['ratio'] if r['ratio'] is not None else '-':>8}"
        for _, tf in refs:
            line += f" {r['gflops'] / (tf * 1e3):>12.3f}" if r["gflops"] else f" {'-':>12}"
        out(line)
    goal = rows.get((256, 64, "full"))
    if goal and goal["gflops"]:
        parts = [f"{goal['ratio']:.2f} of candle's f32 matmul rate measured beside it"]
        parts += [f"{goal['gflops'] / (tf * 1e3):.3f} of the card's {k} rate ({tf:.0f} TFLOP/s)" for k, tf in refs]
        out(f"goal (full fine-tuning at batch 256, seq 64, >= 0.30 of the card's matmul rate): {goal['gflops']:.0f} GFLOP/s = "
            + "; ".join(parts))
    else:
        out("goal (full fine-tuning at batch 256, seq 64): no such row")
    return True


def self_test():
    with tempfile.TemporaryDirectory(prefix="compare-self-test-") as d:
        return _self_test(Path(d))


def _self_test(tmp):

    def make_run(name, device, val_loss, losses, correction=0.5):
        d = tmp / name
        d.mkdir()
        (d / "run.json").write_text(json.dumps({
            "device": device, "epochs_done": 2, "train_seconds": 10.0 if device == "cpu" else 1.0,
            "samples": [1600, 400, 100],
            "train": {"seed": 7, "mode": "full", "epochs": 2, "batch_size": 32, "max_train_samples": 1600},
            "validation": {"loss": val_loss, "mse": 1, "mae": 1, "coverage": 0.8, "n": 400},
            "calibration": {"lower": 1, "upper": 1, "correction": correction},
        }))
        with open(d / "metrics.csv", "w") as f:
            f.write("step,epoch,train_loss,val_mse,val_mae,samples_per_sec\n")
            for i, l in enumerate(losses):
                f.write(f"{20 * (i + 1)},1,{l},,,{100.0}\n")
        return d

    def make_fc(name, scale):
        p = tmp / name
        with open(p, "w") as f:
            f.write("sku,warehouse,date,p10,p50,p90,model\n")
            for s in range(3):
                for day in range(1, 8):
                    v = (s + 1) * day * scale
                    f.write(f"S{s},W1,2026-01-0{day},{0.5 * v:.4f},{v:.4f},{1.5 * v:.4f},finetuned\n")
        return p

    cpu = make_run("cpu", "cpu", 0.2000, [0.5, 0.4, 0.3])
    gpu = make_run("gpu", "cuda:0", 0.2010, [0.5, 0.41, 0.3])
    bad = make_run("bad", "cuda:0", 0.3000, [0.5, 0.6, 0.7])
    fc_cpu, fc_gpu, fc_far = make_fc("cpu.csv", 1.0), make_fc("gpu.csv", 1.01), make_fc("far.csv", 1.3)
    quiet = lambda *_: None
    assert compare_runs("t", cpu, gpu, fc_cpu, fc_gpu, 0.03, 0.05, out=quiet), "close runs must pass"
    assert not compare_runs("t", cpu, bad, fc_cpu, fc_gpu, 0.03, 0.05, out=quiet), "a rising loss must fail"
    assert not compare_runs("t", cpu, gpu, fc_cpu, fc_far, 0.03, 0.05, out=quiet), "30 % apart must fail"
    assert not compare_runs("t", cpu, tmp / "missing", fc_cpu, fc_gpu, 0.03, 0.05, out=quiet), "a missing run must fail"
    bench = (
        "bench train: m (6 layers, hidden 384), batch 256, on CUDA GPU 0 (asked for CUDA)\n"
        "reference: candle's f32 matmul rate, measured between the steps of each case\n"
        "seq    mode      ms/step  samples/s      GFLOP/s  matmul GF/s x matmul  peak RSS MB\n"
        "64     head          1.0    25600.0            -      20000.0        -          900\n"
        "64     full        100.0     2560.0      10000.0      20000.0     0.50          900\n"
    )
    rows = parse_bench(bench)
    assert rows[(256, 64, "full")]["ratio"] == 0.5 and rows[(256, 64, "head")]["gflops"] is None, rows
    lines = []
    assert bench_report(bench, {"f32": 50.0, "bf16": 800.0}, out=lines.append)
    assert any("0.200 of the card's f32" in l for l in lines), lines
    print("compare.py self-test: ok (close runs pass; a rising loss, a 30 % forecast gap and a missing run fail; bench rows parse)")
    return True


def main(argv):
    if len(argv) >= 1 and argv[0] == "self-test":
        return 0 if self_test() else 1
    if len(argv) >= 6 and argv[0] == "runs":
        opts = {"--tol-loss": 0.03, "--tol-forecast": 0.05}
        rest = argv[6:]
        while rest:
            k, v, rest = rest[0], rest[1], rest[2:]
            opts[k] = float(v)
        ok = compare_runs(*argv[1:6], opts["--tol-loss"], opts["--tol-forecast"])
        return 0 if ok else 1
    if len(argv) >= 2 and argv[0] == "bench":
        card = None
        if "--card" in argv:
            p = Path(argv[argv.index("--card") + 1])
            if p.is_file():
                card = json.loads(p.read_text())
        return 0 if bench_report(Path(argv[1]).read_text(), card) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
