#!/bin/sh
# A GPT-2-small-shaped model's train step (12 pre-LayerNorm blocks, d 768,
# 12 heads, block 256, batch 4, byte-level vocabulary 256, AdamW, f32): tgc
# (tg-bench-models gpt --gpt2-small) against PyTorch eager, eager + SDPA and
# torch.compile (bench/gpt_torch.py --config gpt2-small) and JAX
# (bench/models_jax.py gpt --gpt2-small), one process each,
# on THREADS (default 2), with each process's peak RSS (/usr/bin/time -f %M).
# A step takes seconds on 2 cores: STEPS (default 5) after 2 warm-up steps.
# Usage: bench/run_gpt2.sh [THREADS] [STEPS]
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
STEPS=${2:-5}
scripts/build.sh tg-bench-models >/dev/null
export OMP_NUM_THREADS=$THREADS
PIN="taskset -c 0-$((THREADS - 1))"
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=.venv-bench/bin/python; else PY=python3; fi
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "# $(date -u +%F) on $(nproc) cores, $THREADS threads, $STEPS steps"
row() { # $1: name, $2: output file, $3: time file
  ms=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$2" | head -1)
  first=$(sed -n 's/.*\(compile\|first step\) \([0-9.]*\) s.*/\2/p' "$2" | head -1)
  printf '| %s | %s | %s | %s |\n' "$1" "$ms" "$first" "$(($(tail -1 "$3") / 1024))"
}
/usr/bin/time -f %M -o "$OUT/tg.time" $PIN build/bench/tg-bench-models gpt --gpt2-small \
  --steps "$STEPS" --warmup 2 >"$OUT/tg.out"
cat "$OUT/tg.out"
ROWS=$(row tgc "$OUT/tg.out" "$OUT/tg.time")
if "$PY" -c "import torch" 2>/dev/null; then
  for F in pytorch-eager pytorch-eager-sdpa torch.compile; do
    TORCHINDUCTOR_FORCE_DISABLE_CACHES=1 /usr/bin/time -f %M -o "$OUT/$F.time" $PIN "$PY" \
      bench/gpt_torch.py --config gpt2-small --threads "$THREADS" --steps "$STEPS" --warmup 2 \
      --forms "$F" >"$OUT/$F.out" 2>/dev/null
    cat "$OUT/$F.out"
    ROWS="$ROWS
$(row "$F" "$OUT/$F.out" "$OUT/$F.time")"
  done
else
  echo "# no PyTorch for $PY: python3 -m venv .venv-bench && .venv-bench/bin/pip install torch"
fi
if "$PY" -c "import jax" 2>/dev/null; then
  /usr/bin/time -f %M -o "$OUT/jax.time" $PIN "$PY" bench/models_jax.py gpt --gpt2-small \
    --steps "$STEPS" --warmup 2 2>/dev/null | grep '^jax' >"$OUT/jax.out"
  cat "$OUT/jax.out"
  ROWS="$ROWS
$(row jax "$OUT/jax.out" "$OUT/jax.time")"
fi
echo
echo "| form | step ms | compile / first step s | peak RSS MiB |"
echo "|---|---:|---:|---:|"
echo "$ROWS"
