#!/bin/sh
# Train-step throughput of the three example models (mlp, cnn, lstm): tgc,
# PyTorch 2 (eager and torch.compile) and JAX (XLA:CPU) side by side in one
# run on the same threads, then a table of ratios. Usage: bench/run_models.sh [THREADS]
#
# Threads: every process runs under `taskset -c 0-(THREADS-1)` and with
# OMP_NUM_THREADS=THREADS (tgc's OpenMP, PyTorch's); PyTorch also gets
# torch.set_num_threads. XLA:CPU has no thread-count flag (the often quoted
# `intra_op_parallelism_threads` is a TensorFlow option, and XLA_FLAGS ignores
# it) but sizes its pool from the CPU affinity, so taskset is what pins JAX.
#
# TG_BENCH_MODELS picks models (default "mlp cnn lstm"); the LSTM runs at each
# WINDOWxUNITS of TG_BENCH_LSTM (default "25x128 50x200"; the source
# document's model is 50x200).
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
if [ "$THREADS" -lt 1 ] || [ "$THREADS" -gt "$(nproc)" ]; then
  echo "run_models.sh: THREADS must be in 1..$(nproc)" >&2
  exit 1
fi
scripts/build.sh tg-bench-models >/dev/null
BIN=build/bench/tg-bench-models
export OMP_NUM_THREADS=$THREADS
PIN="taskset -c 0-$((THREADS - 1))"
# The peers: the bench virtualenv when it exists, else the system python3.
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=.venv-bench/bin/python; else PY=python3; fi
fi
HINT="python3 -m venv .venv-bench && .venv-bench/bin/pip install torch jax   (bench only)"
HAVE_TORCH=1 HAVE_JAX=1
"$PY" -c "import torch" 2>/dev/null || { HAVE_TORCH=0; echo "# no PyTorch for $PY, skipped; install: $HINT"; }
"$PY" -c "import jax" 2>/dev/null || { HAVE_JAX=0; echo "# no JAX for $PY, skipped; install: $HINT"; }
LOG=$(mktemp /tmp/tg-bench-models.XXXXXX.log) # the peers' stderr (warnings, errors)

echo "# $(date -u +%F) on $(nproc) cores, $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' | head -1; }
# The compile time: tgc's and JAX's "compile X s", torch.compile's first step.
setup() { S=$(sed -n 's/.*\(compile\|first step\) \([0-9.]*\) s,.*/\2/p' | head -1); echo "${S:--}"; }
cell() { # "median ms (peer / tgc)", or "-" when the peer did not run
  if [ -z "$1" ]; then echo "-"; else printf '%s (%.2f)' "$1" "$(echo "$1 / $2" | bc -l)"; fi
}
ROWS="" CROWS=""
CONFIGS=""
for M in ${TG_BENCH_MODELS:-mlp cnn lstm}; do
  if [ "$M" = lstm ]; then
    for L in ${TG_BENCH_LSTM:-25x128 50x200}; do CONFIGS="$CONFIGS lstm:$L"; done
  else
    CONFIGS="$CONFIGS $M"
  fi
done
for CONFIG in $CONFIGS; do
  MODEL=${CONFIG%%:*}
  if [ "$MODEL" = mlp ]; then N="--steps 300 --warmup 30"; else N="--steps 100 --warmup 10"; fi
  if [ "$MODEL" = lstm ]; then
    L=${CONFIG#lstm:}
    N="$N --window ${L%x*} --hidden ${L#*x}"
    MODEL="lstm $L"
  fi
  TG=$($PIN "$BIN" ${CONFIG%%:*} $N)
  echo "$TG"
  # --precision=bf16-mixed (mlp, cnn; needs AVX512_BF16, else "-").
  TB=""
  if [ "$MODEL" != "${MODEL#lstm}" ]; then :; else
    TB=$($PIN "$BIN" ${CONFIG%%:*} $N --bf16 2>>"$LOG" | sed 's/^tgc /tgc-bf16 /') || TB=""
    [ -n "$TB" ] && echo "$TB"
  fi
  PT="" JX=""
  if [ "$HAVE_TORCH" = 1 ]; then
    # Inductor's on-disk caches off: torch.compile's first step is then a cold
    # compile, as tgc's and JAX's are.
    PT=$(TORCHINDUCTOR_FORCE_DISABLE_CACHES=1 $PIN "$PY" bench/models_torch.py ${CONFIG%%:*} $N --threads "$THREADS" 2>>"$LOG") ||
      echo "# models_torch.py $MODEL failed; see $LOG"
    echo "$PT"
  fi
  if [ "$HAVE_JAX" = 1 ]; then
    JX=$($PIN "$PY" bench/models_jax.py ${CONFIG%%:*} $N 2>>"$LOG") ||
      echo "# models_jax.py $MODEL failed; see $LOG"
    echo "$JX"
  fi
  T=$(echo "$TG" | median)
  B=$(echo "$TB" | median)
  E=$(echo "$PT" | grep '^pytorch-eager' | median)
  C=$(echo "$PT" | grep '^torch.compile' | median)
  J=$(echo "$JX" | grep '^jax' | median)
  ROWS="$ROWS| $MODEL | $T | $(cell "$E" "$T") | $(cell "$C" "$T") | $(cell "$J" "$T") | $(cell "$B" "$T") |
"
  CROWS="$CROWS| $MODEL | $(echo "$TG" | setup) | $(echo "$PT" | grep '^torch.compile' | setup) | $(echo "$JX" | grep '^jax' | setup) |
"
done
echo
echo "train step median, ms (ratio peer / tgc; above 1: tgc is faster; tgc bf16-mixed: ratio bf16 / f32)"
echo "| model | tgc | pytorch-eager | torch.compile | jax | tgc bf16-mixed |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s' "$ROWS"
echo
echo "compile time, s (tgc: tg::compile; torch.compile: first step, cold caches; jax: lower + compile)"
echo "| model | tgc | torch.compile | jax |"
echo "|---|---:|---:|---:|"
printf '%s' "$CROWS"
echo "# the peers' stderr (warnings): $LOG"
