#!/usr/bin/env bash
# Build skuplan with candle's CUDA backend on a machine without a GPU
# (issue 18), from nothing but this clone, PyPI and crates.io:
#
#   1. NVIDIA's CUDA 13.0 compiler and libraries as pinned PyPI wheels,
#      installed into a cache outside the clone (they all land in
#      wheels/nvidia/cu13, which serves as CUDA_HOME);
#   2. the unversioned .so links the linker wants, and a stub of the
#      driver's libcuda.so (no wheel ships it) generated from cudarc's
#      driver bindings: every cu* function returns 34,
#      CUDA_ERROR_STUB_LIBRARY;
#   3. cargo build --profile cuda-release --locked --features cuda into a target
#      folder of its own, for compute capability 9.0 (H100/H200: no GPU
#      is here to ask);
#   4. a check that the binary starts and refuses cleanly without a driver;
#   5. strip, compress, and the size against the 64 MiB a GPU machine
#      receives (the working tree plus carried files).
#
# Usage: tools/cuda/build.sh [--dry-run] [--prepare] [--pack-data] [--out FILE]
#   --dry-run    check the pins and the tools, print every step; downloads
#                and builds nothing (what CI runs)
#   --prepare    steps 1-2 only (wheels, links, stub), then stop
#   --check      steps 1-2, then `cargo check --features cuda --all-targets`
#                (nvcc still compiles candle's kernels): that the CUDA build
#                compiles, without building the binary
#   --pack-data  only write a small copy of the shared benchmark data into
#                target-cuda/data/ for tools/cuda/measure.sh (../shared does
#                not travel to a GPU machine), then stop
#   --out FILE   the compressed binary (default target-cuda/skuplan-cuda.xz,
#                or $SKUPLAN_CUDA_OUT); .zst instead when zstd packs smaller
# Environment: SKUPLAN_CUDA_CACHE (default ~/.cache/skuplan-cuda),
#   SKUPLAN_CUDA_TARGET (default ~/.cache/skuplan-cuda-target),
#   CUDA_COMPUTE_CAP (default 90).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# ---- the pins ---------------------------------------------------------------
# Stay on CUDA 13.0.x: a lent H200 has driver 580 (CUDA 13.0), and PTX from a
# newer nvcc may carry an ISA version that driver cannot load.
CUDA_RELEASE=13.0
PINS=(
  nvidia-cuda-nvcc==13.0.88
  nvidia-cuda-crt==13.0.88
  nvidia-nvvm==13.0.88
  nvidia-cuda-runtime==13.0.96
  nvidia-cuda-cccl==13.0.85
  nvidia-cuda-nvrtc==13.0.88
  nvidia-cublas==13.1.0.3
  nvidia-curand==10.4.0.35
)
# The libraries the link step asks for by unversioned name (cudarc's
# dynamic-linking and candle-kernels' -lcudart), with the soname each
# wheel ships.
LINKED_LIBS=(libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13 libcurand.so.10)
CUDARC_SERIES=0.19
CANDLE_SERIES=0.11
BUDGET_MIB=64

CACHE="${SKUPLAN_CUDA_CACHE:-$HOME/.cache/skuplan-cuda}"
TARGET_DIR="${SKUPLAN_CUDA_TARGET:-$HOME/.cache/skuplan-cuda-target}"
COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
WHEELS="$CACHE/wheels"
CUDA_HOME_DIR="$WHEELS/nvidia/cu13"
STAMP="$WHEELS/.skuplan-pins"
OUT_FILE="${SKUPLAN_CUDA_OUT:-$ROOT/target-cuda/skuplan-cuda.xz}"
DATA_PACK="$ROOT/target-cuda/data"

DRY=0
PREPARE_ONLY=0
CHECK_ONLY=0
PACK_DATA=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --prepare) PREPARE_ONLY=1 ;;
    --check) CHECK_ONLY=1 ;;
    --pack-data) PACK_DATA=1 ;;
    --out) shift; OUT_FILE="${1:?--out needs a file}" ;;
    --out=*) OUT_FILE="${1#--out=}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$OUT_FILE" in /*) ;; *) OUT_FILE="$ROOT/$OUT_FILE" ;; esac

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
# Print a command, and run it unless this is a dry run.
run() {
  printf '+ %s\n' "$*"
  if [ "$DRY" = 0 ]; then "$@"; fi
}
# The same, with the command's output into a file.
run_to() {
  local file="$1"; shift
  printf '+ %s > %s\n' "$*" "$file"
  if [ "$DRY" = 0 ]; then "$@" >"$file"; fi
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# ---- checks that cost nothing (dry run and real run alike) -----------------
check_pins() {
  local seen="" p name ver
  for p in "${PINS[@]}"; do
    [[ "$p" =~ ^([a-z0-9-]+)==([0-9][0-9.]*)$ ]] || die "pin '$p' is not NAME==VERSION"
    name="${BASH_REMATCH[1]}"; ver="${BASH_REMATCH[2]}"
    case " $seen " in *" $name "*) die "$name is pinned twice" ;; esac
    seen="$seen $name"
    case "$name" in
      nvidia-cuda-nvcc|nvidia-cuda-crt|nvidia-nvvm|nvidia-cuda-runtime|nvidia-cuda-cccl|nvidia-cuda-nvrtc)
        [[ "$ver" == "$CUDA_RELEASE".* ]] || die "$name==$ver is not CUDA $CUDA_RELEASE.x (driver 580 must load what it makes)" ;;
      nvidia-cublas) [[ "$ver" == 13.* ]] || die "$name==$ver: the binary wants libcublas.so.13" ;;
      nvidia-curand) [[ "$ver" == 10.* ]] || die "$name==$ver: the binary wants libcurand.so.10" ;;
      *) die "unexpected pin $p" ;;
    esac
  done
  local nvcc_ver crt_ver nvvm_ver
  nvcc_ver="$(pin_version nvidia-cuda-nvcc)"; crt_ver="$(pin_version nvidia-cuda-crt)"; nvvm_ver="$(pin_version nvidia-nvvm)"
  [ "$nvcc_ver" = "$crt_ver" ] && [ "$nvcc_ver" = "$nvvm_ver" ] ||
    die "nvcc ($nvcc_ver), crt ($crt_ver) and nvvm ($nvvm_ver) must be the same release"
  say "pins: ${#PINS[@]} wheels, compiler $nvcc_ver (CUDA $CUDA_RELEASE), cuBLAS $(pin_version nvidia-cublas), cuRAND $(pin_version nvidia-curand)"
}
pin_version() { local p; for p in "${PINS[@]}"; do [ "${p%%==*}" = "$1" ] && { echo "${p#*==}"; return; }; done; die "no pin for $1"; }

# The version Cargo.lock resolves for a crate (empty when absent).
lock_version() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock; }

CUDARC_VERSION=""
check_lock() {
  [ -f Cargo.lock ] || die "no Cargo.lock in $ROOT"
  CUDARC_VERSION="$(lock_version cudarc)"
  local candle; candle="$(lock_version candle-core)"
  [ -n "$CUDARC_VERSION" ] || die "Cargo.lock has no cudarc: is the cuda feature still candle's?"
  [[ "$CUDARC_VERSION" == "$CUDARC_SERIES".* ]] ||
    die "Cargo.lock has cudarc $CUDARC_VERSION, this script knows $CUDARC_SERIES.x (its CUDA $CUDA_RELEASE support and driver bindings); check both, then update CUDARC_SERIES"
  [[ "$candle" == "$CANDLE_SERIES".* ]] ||
    die "Cargo.lock has candle-core $candle, this script knows $CANDLE_SERIES.x (which links cudarc dynamically); check, then update CANDLE_SERIES"
  say "Cargo.lock: cudarc $CUDARC_VERSION, candle-core $candle"
  local src; src="$(cudarc_src)"
  if [ -n "$src" ]; then
    grep -q '((13, 0), cfg!(feature = "cuda-13000"))' "$src/build.rs" ||
      die "cudarc $CUDARC_VERSION ($src) does not list CUDA 13.0 as supported"
    say "cudarc $CUDARC_VERSION source: $src (lists CUDA 13.0)"
  else
    say "cudarc $CUDARC_VERSION source: not fetched yet (cargo fetch --locked gets it)"
  fi
}
cudarc_src() {
  local d
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-"$CUDARC_VERSION"; do
    [ -f "$d/src/driver/sys/mod.rs" ] && { echo "$d"; return; }
  done
  return 0
}

check_tools() {
  local missing="" t
  for t in cc xz strip git awk; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
  python3 -m pip --version >/dev/null 2>&1 || missing="$missing python3-pip"
  command -v cargo >/dev/null 2>&1 || missing="$missing cargo"
  [ -z "$missing" ] || die "missing tools:$missing"
  say "tools: python3 -m pip, cc, xz, strip, cargo ($(cargo --version 2>/dev/null | cut -d' ' -f2))$(command -v zstd >/dev/null && echo ', zstd')"
}

wheels_current() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(printf '%s\n' "${PINS[@]}")" ] && [ -x "$CUDA_HOME_DIR/bin/nvcc" ]; }

# Bytes of what travels to a GPU machine besides carried files: the tracked
# files and the untracked ones git does not ignore.
tree_bytes() {
  { git ls-files -z; git ls-files -z --others --exclude-standard; } |
    { xargs -0 -r stat -c '%s' -- 2>/dev/null || true; } | awk '{ s += $1 } END { print s + 0 }'
}
dir_bytes() { if [ -e "$1" ]; then find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; else echo 0; fi; }

budget() {
  local bin_bytes="$1" tree data total limit
  tree="$(tree_bytes)"; data="$(dir_bytes "$DATA_PACK")"
  limit=$((BUDGET_MIB * 1048576))
  total=$((tree + bin_bytes + data))
  say "carry budget (a GPU machine receives the working tree plus carried files, $BUDGET_MIB MiB together):"
  printf '  %-44s %12s\n' "working tree (tracked + untracked, not ignored)" "$(mib "$tree")"
  if [ "$bin_bytes" -gt 0 ]; then
    printf '  %-44s %12s\n' "compressed binary" "$(mib "$bin_bytes")"
  else
    printf '  %-44s %12s\n' "compressed binary" "not built"
  fi
  if [ "$data" -gt 0 ]; then printf '  %-44s %12s\n' "target-cuda/data (carried benchmark data)" "$(mib "$data")"; fi
  printf '  %-44s %12s\n' "together" "$(mib "$total")"
  if [ "$bin_bytes" -eq 0 ]; then
    say "  left for the binary and what it carries: $(mib $((limit - total)))"
  elif [ "$total" -le "$limit" ]; then
    say "  FITS: $(mib $((limit - total))) to spare"
  else
    say "  DOES NOT FIT: $(mib $((total - limit))) over the $BUDGET_MIB MiB"
  fi
}

# ---- steps -------------------------------------------------------------------
install_wheels() {
  step "1. CUDA $CUDA_RELEASE wheels into $WHEELS"
  if wheels_current; then
    say "already installed at the pinned versions ($STAMP)"
    return
  fi
  [ -f "$STAMP" ] && say "installed pins differ from the script's: reinstalling"
  run rm -rf "$WHEELS.partial"
  run python3 -m pip install --quiet --no-deps --no-compile --disable-pip-version-check \
    --target "$WHEELS.partial" "${PINS[@]}"
  run rm -rf "$WHEELS"
  run mv "$WHEELS.partial" "$WHEELS"
  if [ "$DRY" = 0 ]; then
    printf '%s\n' "${PINS[@]}" >"$STAMP"
    [ -x "$CUDA_HOME_DIR/bin/nvcc" ] || die "the wheels did not put nvcc in $CUDA_HOME_DIR/bin"
  else
    say "+ write the pins to $STAMP"
  fi
}

link_libs() {
  step "2a. unversioned library links in $CUDA_HOME_DIR/lib"
  local lib
  for lib in "${LINKED_LIBS[@]}"; do
    if [ "$DRY" = 0 ] && [ ! -e "$CUDA_HOME_DIR/lib/$lib" ]; then
      die "$CUDA_HOME_DIR/lib/$lib is missing: the wheels changed their layout"
    fi
    run ln -sfn "$lib" "$CUDA_HOME_DIR/lib/${lib%%.so.*}.so"
  done
}

make_stub() {
  step "2b. stub libcuda.so (every cu* returns 34, CUDA_ERROR_STUB_LIBRARY) in $CUDA_HOME_DIR/lib/stubs"
  local src; src="$(cudarc_src)"
  if [ -z "$src" ]; then
    run cargo fetch --locked
    [ "$DRY" = 1 ] || src="$(cudarc_src)"
    [ "$DRY" = 1 ] || [ -n "$src" ] || die "cargo fetch did not bring cudarc $CUDARC_VERSION"
  fi
  local bindings="${src:-\$CARGO_HOME/registry/src/*/cudarc-$CUDARC_VERSION}/src/driver/sys/mod.rs"
  local c="$CACHE/stub/libcuda-stub-cudarc-$CUDARC_VERSION.c"
  say "+ generate $c from the cu* functions in $bindings"
  run mkdir -p "$CACHE/stub" "$CUDA_HOME_DIR/lib/stubs"
  if [ "$DRY" = 0 ]; then
    local names n
    names="$(grep -oE '^pub unsafe fn cu[A-Za-z0-9_]+' "$bindings" | awk '{ print $4 }' | grep -vx culib | sort -u)"
    n="$(printf '%s\n' "$names" | grep -c .)"
    [ "$n" -ge 400 ] && printf '%s\n' "$names" | grep -qx cuInit ||
      die "found only $n cu* functions in $bindings: its layout changed"
    {
      echo "/* Generated by tools/cuda/build.sh from $bindings ($n functions)."
      echo "   A link-time stand-in for the driver's libcuda.so.1: every entry point"
      echo "   returns CUDA_ERROR_STUB_LIBRARY. */"
      echo "#define STUB(f) int f(void) { return 34; }"
      printf 'STUB(%s)\n' $names
    } >"$c.new"
    if cmp -s "$c.new" "$c" && [ -f "$CUDA_HOME_DIR/lib/stubs/libcuda.so" ]; then
      rm -f "$c.new"
      say "unchanged ($n functions)"
      return
    fi
    mv "$c.new" "$c"
    say "$n functions"
  fi
  run cc -shared -fPIC -O1 -Wl,-soname,libcuda.so.1 -o "$CUDA_HOME_DIR/lib/stubs/libcuda.so" "$c"
  run ln -sfn libcuda.so "$CUDA_HOME_DIR/lib/stubs/libcuda.so.1"
}

build_env() {
  export CUDA_HOME="$CUDA_HOME_DIR"
  export PATH="$CUDA_HOME_DIR/bin:$PATH"
  export NVCC="$CUDA_HOME_DIR/bin/nvcc"
  export CUDA_COMPUTE_CAP="$COMPUTE_CAP"
  export LIBRARY_PATH="$CUDA_HOME_DIR/lib:$CUDA_HOME_DIR/lib/stubs${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export CARGO_TARGET_DIR="$TARGET_DIR"
}

BIN="$TARGET_DIR/cuda-release/skuplan"
cargo_build() {
  step "3. cargo build --features cuda (sm_$COMPUTE_CAP) into $TARGET_DIR"
  say "+ export CUDA_HOME=$CUDA_HOME_DIR PATH=\$CUDA_HOME/bin:\$PATH NVCC=\$CUDA_HOME/bin/nvcc CUDA_COMPUTE_CAP=$COMPUTE_CAP"
  say "+ export LIBRARY_PATH=\$CUDA_HOME/lib:\$CUDA_HOME/lib/stubs CARGO_TARGET_DIR=$TARGET_DIR"
  if [ "$DRY" = 0 ]; then
    build_env
    "$NVCC" --version | grep -q "release $CUDA_RELEASE," || die "nvcc is not release $CUDA_RELEASE: $("$NVCC" --version | tail -2 | head -1)"
  fi
  local started=$SECONDS
  run cargo build --profile cuda-release --locked --features cuda -p skuplan --bin skuplan
  [ "$DRY" = 1 ] || say "built in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s: $BIN"
}

smoke_test() {
  step "4. the binary without a driver (the stub on LD_LIBRARY_PATH): starts, and refuses --device cuda cleanly"
  local ldpath="$CUDA_HOME_DIR/lib:$CUDA_HOME_DIR/lib/stubs"
  say "+ ldd $BIN (the CUDA libraries it loads at start)"
  say "+ LD_LIBRARY_PATH=$ldpath $BIN --version"
  say "+ LD_LIBRARY_PATH=... $BIN bench train --device cuda --steps 1  (must fail with 'did not answer', no panic)"
  say "+ LD_LIBRARY_PATH=... $BIN bench train --device auto --batch 2 --seq 8 --steps 1 --series 10  (must fall back to the CPU)"
  [ "$DRY" = 0 ] || return 0
  local home; home="$(mktemp -d)"
  ldd "$BIN" | grep -E 'cuda|cublas|curand|nvrtc|cudart|not found' | sed 's/^/  /' || true
  say "  highest glibc symbol version: $(objdump -T "$BIN" 2>/dev/null | grep -oE 'GLIBC_[0-9.]+' | sort -Vu | tail -1)"
  LD_LIBRARY_PATH="$ldpath" SKUPLAN_HOME="$home" "$BIN" --version | head -1
  local out rc=0
  out="$(LD_LIBRARY_PATH="$ldpath" SKUPLAN_HOME="$home" "$BIN" bench train --device cuda --steps 1 2>&1)" || rc=$?
  printf '%s\n' "$out" | tail -3 | sed 's/^/  /'
  [ "$rc" != 0 ] && grep -q 'did not answer' <<<"$out" && ! grep -qi 'panicked' <<<"$out" ||
    die "--device cuda without a driver did not give the clean refusal (exit $rc)"
  out="$(LD_LIBRARY_PATH="$ldpath" SKUPLAN_HOME="$home" "$BIN" bench train --device auto --batch 2 --seq 8 --steps 1 --series 10 2>&1)" ||
    die "--device auto without a driver failed: $out"
  grep -q 'no GPU answered' <<<"$out" || die "--device auto did not say why it fell back: $out"
  say "  auto: $(grep -m1 -o 'on CPU.*' <<<"$out")"
  rm -rf "$home"
}

compress() {
  step "5. strip and compress into $OUT_FILE"
  local stripped="$CACHE/skuplan-cuda.stripped"
  run strip -o "$stripped" "$BIN"
  run mkdir -p "$(dirname "$OUT_FILE")"
  # xz with the x86 branch filter first; zstd only where it packs smaller.
  run_to "$OUT_FILE.tmp" xz --x86 --lzma2=preset=9e -T1 -c "$stripped"
  if [ "$DRY" = 1 ]; then
    command -v zstd >/dev/null && say "+ zstd --ultra -22 --long=27 (kept instead only if smaller)"
    return
  fi
  local xz_bytes zst="${OUT_FILE%.xz}.zst"
  xz_bytes="$(stat -c %s "$OUT_FILE.tmp")"
  say "stripped $(mib "$(stat -c %s "$stripped")"), xz $(mib "$xz_bytes")"
  if command -v zstd >/dev/null; then
    zstd -q --ultra -22 --long=27 -f -o "$zst.tmp" "$stripped"
    local zst_bytes; zst_bytes="$(stat -c %s "$zst.tmp")"
    say "zstd -22 --long=27: $(mib "$zst_bytes")"
    if [ "$zst_bytes" -lt "$xz_bytes" ]; then
      mv "$zst.tmp" "$zst"; rm -f "$OUT_FILE.tmp" "$OUT_FILE"; OUT_FILE="$zst"
    else
      rm -f "$zst.tmp" "$zst"
    fi
  fi
  [ -f "$OUT_FILE.tmp" ] && mv "$OUT_FILE.tmp" "$OUT_FILE"
  rm -f "$stripped"
  say "wrote $OUT_FILE ($(mib "$(stat -c %s "$OUT_FILE")"))"
}

pack_data() {
  step "benchmark data for the GPU machine in $DATA_PACK"
  local shared="$ROOT/../shared/data"
  [ "$DRY" = 1 ] || [ -d "$shared" ] || die "$shared is not here"
  run mkdir -p "$DATA_PACK/store-item-demand" "$DATA_PACK/online-retail-2010"
  # Stores 1-2 (all 50 items) from 2016 on: 100 series, two years, ~150 KB.
  say "+ awk (stores 1-2, from 2016-01-01) < $shared/store-item-demand/train.csv | xz -9 > $DATA_PACK/store-item-demand/train.csv.xz"
  if [ "$DRY" = 0 ]; then
    awk -F, 'NR == 1 || ($1 >= "2016-01-01" && $2 <= 2)' "$shared/store-item-demand/train.csv" |
      xz -9 -T1 >"$DATA_PACK/store-item-demand/train.csv.xz"
  fi
  run install -m 0644 "$shared/online-retail-2010/transactions.parquet" "$DATA_PACK/online-retail-2010/"
}

# ---- main --------------------------------------------------------------------
STARTED=$SECONDS
[ "$DRY" = 1 ] && say "build.sh --dry-run: checks and the steps it would run; nothing is downloaded or built"
step "0. checks"
check_pins
check_lock
check_tools
say "cache: $CACHE ($(wheels_current && echo 'wheels installed at the pins' || echo 'wheels to install'))"
say "target: $TARGET_DIR"
say "output: $OUT_FILE"

existing_binary_budget() {
  local f
  for f in "$OUT_FILE" "${OUT_FILE%.xz}.zst"; do
    if [ -f "$f" ]; then say "(with the binary already at $f)"; budget "$(stat -c %s "$f")"; return; fi
  done
  say "(no binary built yet: the tree alone; the rest is what the binary and its data may take)"
  budget 0
}

if [ "$PACK_DATA" = 1 ]; then
  pack_data
  step "carry budget"
  existing_binary_budget
  exit 0
fi

install_wheels
link_libs
make_stub
if [ "$PREPARE_ONLY" = 1 ]; then
  step "prepared (--prepare): CUDA_HOME=$CUDA_HOME_DIR"
  exit 0
fi
if [ "$CHECK_ONLY" = 1 ]; then
  step "3. cargo check --features cuda (sm_$COMPUTE_CAP) into $TARGET_DIR"
  [ "$DRY" = 1 ] || build_env
  started=$SECONDS
  run cargo check --locked --features cuda --all-targets
  [ "$DRY" = 1 ] || say "checked in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
  exit 0
fi
cargo_build
smoke_test
compress

step "carry budget"
if [ "$DRY" = 1 ]; then
  existing_binary_budget
else
  budget "$(stat -c %s "$OUT_FILE")"
  say ""
  say "carry: $(realpath --relative-to="$ROOT" "$OUT_FILE")$([ -d "$DATA_PACK" ] && echo " and target-cuda/data")"
  say "then on the GPU machine: bash tools/cuda/measure.sh"
  say "build.sh took $(( (SECONDS - STARTED) / 60 )) min $(( (SECONDS - STARTED) % 60 )) s"
fi
