#!/bin/sh
# The Fashion CNN's train step at batch 64 and 256: tgc (f32 and
# --precision=bf16-mixed), PyTorch eager and torch.compile and JAX side by side
# in one run on the same threads (as bench/run_models.sh), then the peak memory
# a training process adds for it:
#   tgc      a compiled artifact's session and its steps (tg-step-check
#            --memory: VmHWM above the RSS once the artifact is loaded);
#   PyTorch  eager: the model, its optimizer and its steps (models_torch.py
#            --memory: VmHWM above the RSS once torch is imported).
# Both count parameters, gradients, optimizer state, activations and the
# libraries' caches and scratch; neither counts its framework's code.
# Usage: bench/run_cnn.sh [THREADS] (TG_BENCH_BATCHES, default "64 256").
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
scripts/build.sh tg-bench-models tgc tg-example tg-step-check >/dev/null
BIN=build/bench/tg-bench-models
export OMP_NUM_THREADS=$THREADS
PIN="taskset -c 0-$((THREADS - 1))"
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=.venv-bench/bin/python; else PY=python3; fi
fi
HAVE_TORCH=1 HAVE_JAX=1
"$PY" -c "import torch" 2>/dev/null || { HAVE_TORCH=0; echo "# no PyTorch for $PY, skipped"; }
"$PY" -c "import jax" 2>/dev/null || { HAVE_JAX=0; echo "# no JAX for $PY, skipped"; }
LOG=$(mktemp /tmp/tg-bench-cnn.XXXXXX.log)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "# $(date -u +%F) on $(nproc) cores, $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' | head -1; }
mib() { sed -n 's/.*peak \([0-9.]*\) MiB.*/\1/p' | head -1; }
cell() { if [ -z "$1" ]; then echo "-"; else printf '%s (%.2f)' "$1" "$(echo "$1 / $2" | bc -l)"; fi; }
ROWS="" MROWS=""
for B in ${TG_BENCH_BATCHES:-64 256}; do
  N="--steps 100 --warmup 10 --batch $B"
  TG=$($PIN "$BIN" cnn $N) && echo "$TG"
  TB=$($PIN "$BIN" cnn $N --bf16 2>>"$LOG" | sed 's/^tgc /tgc-bf16 /') || TB=""
  [ -n "$TB" ] && echo "$TB"
  PT="" JX="" PM=""
  if [ "$HAVE_TORCH" = 1 ]; then
    PT=$(TORCHINDUCTOR_FORCE_DISABLE_CACHES=1 $PIN "$PY" bench/models_torch.py cnn $N --threads "$THREADS" 2>>"$LOG") ||
      echo "# models_torch.py failed; see $LOG"
    echo "$PT"
    PM=$($PIN "$PY" bench/models_torch.py cnn $N --threads "$THREADS" --memory 2>>"$LOG" | grep '^memory') || PM=""
    echo "$PM"
  fi
  if [ "$HAVE_JAX" = 1 ]; then
    JX=$($PIN "$PY" bench/models_jax.py cnn $N 2>>"$LOG") || echo "# models_jax.py failed; see $LOG"
    echo "$JX"
  fi
  # Memory of compiled artifacts (f32; bf16-mixed when the CPU has AVX512_BF16).
  build/examples/tg-example fashion-cnn --batch "$B" -o "$WORK/cnn.tg.mlir"
  build/tools/tgc compile "$WORK/cnn.tg.mlir" -o "$WORK/cnn.tgx" 2>/dev/null
  mkdir -p "$WORK/out"
  TM=$($PIN build/tests/gpu/tg-step-check "$WORK/cnn.tgx" --out "$WORK/out" --steps 5 --time 20 --memory | grep '^memory') && echo "$TM"
  BM=""
  if build/tools/tgc compile "$WORK/cnn.tg.mlir" --precision=bf16-mixed -o "$WORK/cnn-bf16.tgx" 2>/dev/null; then
    BM=$($PIN build/tests/gpu/tg-step-check "$WORK/cnn-bf16.tgx" --out "$WORK/out" --steps 5 --time 20 --memory | grep '^memory') && echo "$BM"
  fi
  T=$(echo "$TG" | median)
  ROWS="$ROWS| cnn batch $B | $T | $(cell "$(echo "$PT" | grep '^pytorch-eager' | median)" "$T") | $(cell "$(echo "$PT" | grep '^torch.compile' | median)" "$T") | $(cell "$(echo "$JX" | grep '^jax' | median)" "$T") | $(cell "$(echo "$TB" | median)" "$T") |
"
  M=$(echo "$TM" | mib)
  MROWS="$MROWS| cnn batch $B | $M | $(cell "$(echo "$BM" | mib)" "$M") | $(cell "$(echo "$PM" | mib)" "$M") |
"
done
echo
echo "train step median, ms (ratio peer / tgc; above 1: tgc is faster; tgc bf16-mixed: ratio bf16 / f32)"
echo "| model | tgc | pytorch-eager | torch.compile | jax | tgc bf16-mixed |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s' "$ROWS"
echo
echo "peak memory a training process adds, MiB (ratio / tgc f32)"
echo "| model | tgc f32 | tgc bf16-mixed | pytorch-eager |"
echo "|---|---:|---:|---:|"
printf '%s' "$MROWS"
echo "# the peers' stderr (warnings): $LOG"
