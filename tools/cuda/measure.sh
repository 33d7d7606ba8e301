#!/usr/bin/env bash
# The GPU measurement of issue 18, for a machine with an NVIDIA GPU (an H200
# with driver 580 and CUDA 13 libraries, 16 cores, no network, no Rust): it
# receives this working tree plus the binary tools/cuda/build.sh made
# (target-cuda/skuplan-cuda.xz) and, where ../shared does not travel, the
# data from build.sh --pack-data (target-cuda/data). In one run of under 8
# minutes it
#   1. unpacks the binary, finds the CUDA libraries it links, checks that the
#      driver answers (nvidia-smi, then the binary's own --device cuda);
#   2. measures the card's own f32/tf32/bf16 matmul rates with PyTorch where
#      the machine has it (skuplan bench train reports only candle's f32 rate);
#   3. runs bench train --device cuda (head, top-k, full) at batch 256 and 32,
#      sequence 32, 64 and 128;
#   4. trains the same short full fine-tuning run on the GPU and on the CPU
#      (same seed and flags) on store-item and on online-retail-2010, forecasts
#      with each, and compares losses and forecasts within a tolerance: the
#      CPU-only paths (fused kernels, in-place AdamW) fall back to candle's ops
#      on CUDA, and this shows that they still train correctly;
# and writes summary.txt, steps.log, gpu.txt, bench.txt, compare.txt and
# runs.tar.gz into $OUT (default ./cuda-results). Every step has its own time
# limit inside an overall budget, and a failed step does not stop the rest.
#
# Usage: tools/cuda/measure.sh [--dry-run]
#   --dry-run  print the plan (what was found, every command), check the
#              comparison code on made-up runs, exit 0; needs no GPU. With
#              SKUPLAN_CHECK_BIN (any skuplan build, e.g. the CPU one), every
#              skuplan command of the plan is also parsed by it (its
#              arguments followed by --help), and a flag it does not know
#              fails the dry run: the script cannot drift from the CLI
#              unseen until the day a GPU is lent.
# Environment: OUT; SKUPLAN_CUDA_BIN (the archive, or an unpacked binary);
#   SKUPLAN_MEASURE_DATA (a folder like ../shared/data); SKUPLAN_MEASURE_BUDGET
#   (seconds, default 450); SKUPLAN_TOL_LOSS (default 0.03: relative gap in
#   validation loss); SKUPLAN_TOL_FORECAST (default 0.05: sum of |p50 gaps|
#   over the sum of the CPU's p50); SKUPLAN_MEASURE_WORK (scratch folder).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# A relative SKUPLAN_CHECK_BIN is relative to where the script was started.
if [ -n "${SKUPLAN_CHECK_BIN:-}" ]; then SKUPLAN_CHECK_BIN="$(realpath -m -- "$SKUPLAN_CHECK_BIN")"; fi
cd "$ROOT"
HERE="$ROOT/tools/cuda"

DRY=0
case "${1:-}" in
  --dry-run) DRY=1 ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "measure.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

OUT_DIR="${OUT:-$ROOT/cuda-results}"
WORK="${SKUPLAN_MEASURE_WORK:-${TMPDIR:-/tmp}/skuplan-measure}"
BUDGET="${SKUPLAN_MEASURE_BUDGET:-450}"
RESERVE=15
TOL_LOSS="${SKUPLAN_TOL_LOSS:-0.03}"
TOL_FC="${SKUPLAN_TOL_FORECAST:-0.05}"
MODEL="assets/models/all-MiniLM-L6-v2"
BIN="$WORK/skuplan"
# The short fine-tuning run, the same on both devices: 2 epochs of 40 steps,
# a training-loss row every 20 steps.
TRAIN_FLAGS=(--mode full --epochs 2 --batch-size 64 --max-samples 2560 --seed 7 --patience 5 --model "$MODEL")
SI_MAP="sku=item,warehouse=store,quantity=sales"

ARCHIVE="${SKUPLAN_CUDA_BIN:-}"
if [ -z "$ARCHIVE" ]; then
  for f in target-cuda/skuplan-cuda.xz target-cuda/skuplan-cuda.zst; do
    [ -f "$f" ] && { ARCHIVE="$f"; break; }
  done
  ARCHIVE="${ARCHIVE:-target-cuda/skuplan-cuda.xz}"
fi

# ---- where the data is -------------------------------------------------------
DATA_DIRS=()
if [ -n "${SKUPLAN_MEASURE_DATA:-}" ]; then DATA_DIRS+=("$SKUPLAN_MEASURE_DATA"); fi
DATA_DIRS+=(shared/data ../shared/data target-cuda/data)
find_data() { # relative path under a data folder -> first match (also .xz)
  local d
  for d in "${DATA_DIRS[@]}"; do
    [ -f "$d/$1" ] && { echo "$d/$1"; return; }
    [ -f "$d/$1.xz" ] && { echo "$d/$1.xz"; return; }
  done
  return 0
}
SI_SRC="$(find_data store-item-demand/train.csv)"
OR_SRC="$(find_data online-retail-2010/transactions.parquet)"

# ---- bookkeeping -------------------------------------------------------------
START=$SECONDS
STEPS=()     # "name|status|seconds"
say() { printf '%s\n' "$*"; }
elapsed() { echo $((SECONDS - START)); }
left() { echo $((BUDGET - (SECONDS - START) - RESERVE)); }

# step NAME CAP CMD...: run CMD (a program, or one of the functions below)
# with a limit of CAP seconds, less when the budget is short; its output goes
# into $WORK/logs/NAME.log and steps.log. Fails when CMD fails, times out or
# panics.
CHECK_BIN="${SKUPLAN_CHECK_BIN:-}"
CHECK_FAILED=0
DRY_ERR=""
if [ -n "$CHECK_BIN" ]; then
  if [ "$DRY" != 1 ]; then
    CHECK_BIN=""
  elif [ ! -x "$CHECK_BIN" ]; then
    echo "measure.sh: SKUPLAN_CHECK_BIN '$CHECK_BIN' is not an executable skuplan build" >&2
    exit 2
  else
    DRY_ERR="$(mktemp)"
    trap 'rm -f "$DRY_ERR"' EXIT
  fi
fi
step() {
  local name="$1" cap="$2"; shift 2
  if [ "$DRY" = 1 ]; then
    printf '  %-26s limit %3s s: %s\n' "$name" "$cap" "$*"
    # clap stops at the first argument it does not know, before --help.
    if [ -n "$CHECK_BIN" ] && [ "$1" = "$BIN" ]; then
      shift
      if ! "$CHECK_BIN" "$@" --help >/dev/null 2>"$DRY_ERR"; then
        printf '  %-26s ^ REFUSED by %s: %s\n' "" "$CHECK_BIN" "$(head -c 300 "$DRY_ERR" | tr '\n' ' ')"
        CHECK_FAILED=1
      fi
    fi
    return 0
  fi
  local limit; limit="$(left)"
  [ "$limit" -lt "$cap" ] || limit="$cap"
  if [ "$limit" -lt 10 ]; then
    skip "$name" "the $BUDGET s budget is spent"
    return 1
  fi
  local t0=$SECONDS rc=0
  printf '\n== %s (limit %s s, at %s s)\n$ %s\n' "$name" "$limit" "$(elapsed)" "$*" | tee -a "$OUT_DIR/steps.log"
  timeout --kill-after=5 "$limit" bash -c 'set -euo pipefail; "$@"' _ "$@" >"$WORK/logs/$name.log" 2>&1 || rc=$?
  cat "$WORK/logs/$name.log" >>"$OUT_DIR/steps.log"
  local took=$((SECONDS - t0)) status=ok
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status="TIMEOUT after $limit s"
  elif [ "$rc" != 0 ]; then status="FAILED (exit $rc)"; fi
  if grep -qi 'panicked' "$WORK/logs/$name.log"; then status="$status, PANIC"; fi
  STEPS+=("$name|$status|$took")
  printf -- '-> %s in %s s\n' "$status" "$took" | tee -a "$OUT_DIR/steps.log"
  [ "$status" = ok ]
}
skip() {
  [ "$DRY" = 1 ] && { printf '  %-26s (skipped: %s)\n' "$1" "$2"; return 0; }
  STEPS+=("$1|skipped: $2|0")
  printf '\n== %s: skipped (%s)\n' "$1" "$2" | tee -a "$OUT_DIR/steps.log"
}

# ---- the steps that are more than one command -----------------------------------
unpack() {
  case "$ARCHIVE" in
    *.xz)
      if command -v xz >/dev/null; then xz -dc "$ARCHIVE" >"$BIN"
      else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$ARCHIVE" "$BIN"; fi ;;
    *.zst) zstd -q -d --long=27 -f -o "$BIN" "$ARCHIVE" ;;
    *) cp "$ARCHIVE" "$BIN" ;;
  esac
  chmod +x "$BIN"
  ls -l "$BIN"
  sha256sum "$ARCHIVE"
}

# Folders that may hold the CUDA 13 libraries the binary links.
lib_candidates() {
  if [ -n "${SKUPLAN_CUDA_LIBS:-}" ]; then tr ':' '\n' <<<"$SKUPLAN_CUDA_LIBS"; fi
  echo "$ROOT/target-cuda/lib"
  ls -d /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/targets/x86_64-linux/lib 2>/dev/null || true
  { python3 -c 'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null || true
    ls -d /opt/*/.venv/lib/python3*/site-packages /usr/local/lib/python3*/dist-packages 2>/dev/null || true; } |
    while read -r sp; do ls -d "$sp"/nvidia/cu13/lib "$sp"/nvidia/*/lib 2>/dev/null || true; done
}
# The libraries ldd cannot find, looked for in those folders (then anywhere);
# the folders that had them go into $WORK/ld_extra for LD_LIBRARY_PATH.
find_libs() {
  echo "libraries the binary links (ldd):"
  ldd "$BIN" | grep -E 'cuda|cublas|curand|nvrtc|cudart|not found' || true
  local lib d found extra=""
  for lib in $(ldd "$BIN" | awk '/not found/ { print $1 }'); do
    found=""
    for d in $(lib_candidates); do
      if [ -e "$d/$lib" ]; then found="$d"; break; fi
    done
    if [ -z "$found" ]; then
      found="$(timeout 30 find / \( -path /proc -o -path /sys \) -prune -o -name "$lib" -print 2>/dev/null | head -1 || true)"
      found="${found%/*}"
    fi
    if [ -n "$found" ]; then
      echo "$lib: found in $found"
      case ":$extra:" in *":$found:"*) ;; *) extra="$extra:$found" ;; esac
    else
      echo "$lib: NOT FOUND anywhere"
    fi
  done
  extra="${extra#:}"
  echo "$extra" >"$WORK/ld_extra"
  if [ -n "$extra" ]; then
    echo "with LD_LIBRARY_PATH=$extra:"
    LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$BIN" | grep -E 'cuda|cublas|curand|nvrtc|cudart|not found' || true
  fi
  ! LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$BIN" | grep -q 'not found'
}

driver() {
  nvidia-smi
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm,power.limit --format=csv
  nvidia-smi -q | sed -n '1,60p'
}

# The card's own matmul rates, with PyTorch where the machine has it.
card_rates() {
  python3 - "$WORK/card.json" <<'PY'
import json, sys
try:
    import torch
except ImportError as e:
    sys.exit(f"no PyTorch here ({e}): the card's own rates are missing")
assert torch.cuda.is_available(), "PyTorch sees no GPU"
dev = torch.device("cuda")


def rate(dtype, tf32, m, k, n, reps):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(m, k, device=dev, dtype=dtype)
    b = torch.randn(k, n, device=dev, dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(reps):
        a @ b
    e.record()
    torch.cuda.synchronize()
    return 2 * m * k * n * reps / (s.elapsed_time(e) / 1e3) / 1e12


r = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
r["f32"] = rate(torch.float32, False, 8192, 8192, 8192, 5)
r["tf32"] = rate(torch.float32, True, 8192, 8192, 8192, 10)
r["bf16"] = rate(torch.bfloat16, False, 8192, 8192, 8192, 10)
# The encoder's feed-forward shape at batch 256 x seq 64 tokens, plain f32.
r["f32_encoder_shape"] = rate(torch.float32, False, 16384, 384, 1536, 50)
json.dump(r, open(sys.argv[1], "w"))
print(f"{r['device']}, torch {r['torch']}: f32 {r['f32']:.1f}, tf32 {r['tf32']:.1f}, bf16 {r['bf16']:.1f} TFLOP/s "
      f"(8192^3, CUDA events); f32 at 16384x384x1536: {r['f32_encoder_shape']:.1f} TFLOP/s")
PY
}

# NAME DATA [MAP]: a short full fine-tuning run on the GPU and on the CPU,
# a forecast with each, and the comparison.
pair() {
  local name="$1" data="$2" map="${3:-}" dev
  for dev in cuda cpu; do
    if [ "$dev" = cuda ] && [ "$GPU_OK" != 1 ]; then
      skip "$name-train-cuda" "the GPU did not answer"
      continue
    fi
    step "$name-train-$dev" "$([ "$dev" = cuda ] && echo 120 || echo 150)" \
      "$BIN" train --data "$data" ${map:+--map "$map"} "${TRAIN_FLAGS[@]}" --device "$dev" --out "$WORK/runs/$name-$dev" &&
      step "$name-forecast-$dev" 60 \
        "$BIN" forecast --run "$WORK/runs/$name-$dev" --device "$dev" --out "$WORK/runs/$name-$dev/forecast.csv" || true
  done
  step "$name-compare" 20 python3 "$HERE/compare.py" runs "$name" "$WORK/runs/$name-cpu" "$WORK/runs/$name-cuda" \
    "$WORK/runs/$name-cpu/forecast.csv" "$WORK/runs/$name-cuda/forecast.csv" \
    --tol-loss "$TOL_LOSS" --tol-forecast "$TOL_FC" || true
  if [ "$DRY" = 0 ] && [ -f "$WORK/logs/$name-compare.log" ]; then cat "$WORK/logs/$name-compare.log" >>"$OUT_DIR/compare.txt"; fi
}

bench() { # BATCH LIMIT
  step "bench-b$1" "$2" "$BIN" bench train --device cuda --model "$MODEL" --batch "$1" --seq 32,64,128 --steps 5 --series 2000 || true
  if [ "$DRY" = 0 ] && [ -f "$WORK/logs/bench-b$1.log" ]; then cat "$WORK/logs/bench-b$1.log" >>"$OUT_DIR/bench.txt"; fi
}

export -f unpack lib_candidates find_libs driver card_rates
export ARCHIVE BIN WORK ROOT

# ---- the plan ------------------------------------------------------------------
say "measure.sh$([ "$DRY" = 1 ] && echo ' --dry-run: the plan; nothing is measured' || echo ": results into $OUT_DIR")"
say "binary: $ARCHIVE ($([ -f "$ARCHIVE" ] && stat -c %s "$ARCHIVE" | awk '{ printf "%.1f MiB", $1 / 1048576 }' || echo 'not here'))"
say "model: $MODEL ($([ -f "$MODEL/config.json" ] && echo here || echo 'NOT HERE'))"
say "store-item: ${SI_SRC:-not here: a generated data set (skuplan sample-data, 60 SKUs x 2 warehouses) stands in}"
say "online-retail-2010: ${OR_SRC:-not here: the shipped sample-data/ stands in}"
say "budget: $BUDGET s in all; tolerances: validation loss $TOL_LOSS, p50 forecasts $TOL_FC (relative)"
say "train flags (both devices): ${TRAIN_FLAGS[*]}"
if [ "$DRY" = 1 ]; then
  say "tools: timeout $(command -v timeout >/dev/null && echo yes || echo NO), python3 $(command -v python3 >/dev/null && echo yes || echo NO), xz $(command -v xz >/dev/null && echo yes || echo 'no (python lzma instead)'), nvidia-smi $(command -v nvidia-smi >/dev/null && echo yes || echo 'no (fine for a dry run)')"
  say "steps, in this order (each with its own limit inside the budget; a failed one does not stop the rest):"
else
  rm -rf "$WORK"
  mkdir -p "$WORK/logs" "$WORK/runs" "$WORK/data" "$OUT_DIR"
  rm -f "$OUT_DIR"/{summary.txt,steps.log,gpu.txt,bench.txt,compare.txt,runs.tar.gz}
  : >"$OUT_DIR/steps.log"
fi
export SKUPLAN_HOME="$WORK/home"   # a workspace and config of its own

GPU_OK=0
[ "$DRY" = 1 ] && GPU_OK=1
extra=""
if step unpack 60 unpack; then
  step libraries 60 find_libs || true
  extra="$(cat "$WORK/ld_extra" 2>/dev/null || true)"
  if [ -n "$extra" ]; then export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
  step version 20 "$BIN" --version || true
  step driver 30 driver || true
  # The binary's own answer; the first CUDA run also JIT-compiles candle's PTX.
  if step smoke-cuda 180 "$BIN" bench train --device cuda --model "$MODEL" --batch 8 --seq 16 --steps 1 --series 100 &&
    { [ "$DRY" = 1 ] || grep -q 'on CUDA GPU' "$WORK/logs/smoke-cuda.log"; }; then
    [ "$DRY" = 1 ] || GPU_OK=1
  fi
  step card-rates 90 card_rates || true
  if [ "$DRY" = 0 ]; then
    cat "$WORK/logs/libraries.log" "$WORK/logs/driver.log" "$WORK/logs/card-rates.log" >"$OUT_DIR/gpu.txt" 2>/dev/null || true
  fi
  if [ "$GPU_OK" = 1 ]; then bench 256 180; else skip bench-b256 "the GPU did not answer"; fi

  # The data: the store-item subset comes compressed; without it, generated data.
  SI_MAPPING="$SI_MAP"
  case "$SI_SRC" in
    *.xz) SI="$WORK/data/store-item.csv"
          [ "$DRY" = 1 ] && say "  (unpack $SI_SRC into $SI)" || xz -dc "$SI_SRC" >"$SI" 2>/dev/null ||
            python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$SI_SRC" "$SI" ;;
    "") SI="$WORK/data/generated"; SI_MAPPING=""
        step generate-data 60 "$BIN" sample-data --out "$SI" --skus 60 --warehouses 2 --days 730 --seed 42 || true ;;
    *) SI="$SI_SRC" ;;
  esac
  OR="${OR_SRC:-sample-data}"
  pair store-item "$SI" "$SI_MAPPING"
  pair online-retail "$OR"
  if [ "$GPU_OK" = 1 ]; then bench 32 120; else skip bench-b32 "the GPU did not answer"; fi
fi

if [ "$DRY" = 1 ]; then
  say "  then summary.txt: steps, GPU, the card's rates, the bench table with the batch 256 / seq 64 goal, comparisons, speed-ups"
  say "files into \$OUT: summary.txt steps.log gpu.txt bench.txt compare.txt runs.tar.gz"
  say ""
  python3 "$HERE/compare.py" self-test
  if [ -n "$CHECK_BIN" ]; then
    if [ "$CHECK_FAILED" = 1 ]; then
      say "measure.sh --dry-run: FAILED: $CHECK_BIN refused a command of the plan (above)"
      exit 1
    fi
    say "every skuplan command of the plan parses with $CHECK_BIN"
  fi
  say "measure.sh --dry-run: ok"
  exit 0
fi

# ---- summary -------------------------------------------------------------------
run_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/runs/$1/run.json" "$2" 2>/dev/null || echo "-"; }
{
  say "skuplan GPU measurement (issue 18), $(date -u '+%Y-%m-%d %H:%M UTC'), $(elapsed) s of a $BUDGET s budget"
  say "binary: $ARCHIVE, sha256 $(sha256sum "$ARCHIVE" 2>/dev/null | cut -c1-16)"
  say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null || echo 'nvidia-smi did not answer')"
  say "libraries added to LD_LIBRARY_PATH: ${extra:-none}"
  say ""
  say "steps:"
  for s in "${STEPS[@]}"; do IFS='|' read -r n st t <<<"$s"; printf '  %-26s %-34s %4s s\n' "$n" "$st" "$t"; done
  say ""
  say "the card's own matmul rates (PyTorch, in this run, before the benches):"
  if [ -f "$WORK/card.json" ]; then sed 's/^/  /' "$WORK/logs/card-rates.log"
  else say "  missing: $(tail -1 "$WORK/logs/card-rates.log" 2>/dev/null || echo 'not measured')"; fi
  say "  what is missing in skuplan: bench train reports only candle's f32 matmul rate, measured between"
  say "  its steps on encoder-sized products (a host sync each), and no bf16/tf32 rate. candle's f32 GEMMs"
  say "  on CUDA run without TF32 unless code calls candle_core::cuda::set_gemm_reduced_precision_f32(true)."
  say ""
  say "bench train --device cuda (x card: GFLOP/s over the card's rate above):"
  if [ -s "$OUT_DIR/bench.txt" ]; then
    python3 "$HERE/compare.py" bench "$OUT_DIR/bench.txt" --card "$WORK/card.json" 2>&1 | sed 's/^/  /'
  else say "  no bench output"; fi
  say ""
  say "short full fine-tuning, CUDA against CPU (same seed and flags):"
  say "  store-item data: ${SI:-?}${SI_MAPPING:+ (--map $SI_MAPPING)}; online-retail data: ${OR:-?}"
  if [ -s "$OUT_DIR/compare.txt" ]; then sed 's/^/  /' "$OUT_DIR/compare.txt"; else say "  no comparison ran"; fi
  for n in store-item online-retail; do
    c="$(run_field "$n-cpu" train_seconds)"; g="$(run_field "$n-cuda" train_seconds)"
    if [ "$c" != "-" ] && [ "$g" != "-" ]; then
      say "  $n: whole run on this machine's $(nproc) CPU cores $(printf '%.1f' "$c") s, on the GPU $(printf '%.1f' "$g") s: $(awk -v c="$c" -v g="$g" 'BEGIN { printf "%.1fx", c / g }')"
    fi
  done
  say "  (the issue's goal compares a full store-item run with the 2-core development machine: time the"
  say "   same train command there with --device cpu; these runs are short, so start-up and validation weigh more)"
  say ""
  if grep -lqi 'panicked' "$WORK"/logs/*.log 2>/dev/null; then
    say "PANICS in: $(grep -li 'panicked' "$WORK"/logs/*.log | xargs -n1 basename | tr '\n' ' ')"
  else
    say "no panic in any step"
  fi
} >"$OUT_DIR/summary.txt"

# The run folders without weights or forecasts (run.json, metrics.csv) and every step's log.
(cd "$WORK" && tar -czf "$OUT_DIR/runs.tar.gz" --exclude='checkpoint' --exclude='*.safetensors' \
  --exclude='forecast.csv' --exclude='texts.json' runs logs) 2>/dev/null || true
cat "$OUT_DIR/summary.txt"
say ""
say "results in $OUT_DIR: $(ls "$OUT_DIR" | tr '\n' ' ')($(elapsed) s)"
