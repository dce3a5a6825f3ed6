#!/bin/sh
# The char GPT's train step (tg-example char-gpt's model: batch 16, block 64,
# d 128, 4 heads, 2 layers, AdamW, f32): tgc against PyTorch eager
# (nn.MultiheadAttention), eager with scaled_dot_product_attention, and
# torch.compile, and JAX (bench/models_jax.py gpt: one jax.jit step), in one
# run on the same THREADS (default 2), pinned as bench/run_models.sh pins
# them. The peers need torch and jax (.venv-bench or TG_BENCH_PYTHON).
# Usage: bench/run_gpt.sh [THREADS]
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
scripts/build.sh tg-bench-models >/dev/null
export OMP_NUM_THREADS=$THREADS
PIN="taskset -c 0-$((THREADS - 1))"
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=.venv-bench/bin/python; else PY=python3; fi
fi
echo "# $(date -u +%F) on $(nproc) cores, $THREADS threads"
TG=$($PIN build/bench/tg-bench-models gpt --steps 100 --warmup 10)
echo "$TG"
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "# no PyTorch for $PY: python3 -m venv .venv-bench && .venv-bench/bin/pip install torch"
  exit 0
fi
PT=$(TORCHINDUCTOR_FORCE_DISABLE_CACHES=1 $PIN "$PY" bench/gpt_torch.py --threads "$THREADS" 2>/dev/null)
echo "$PT"
if "$PY" -c "import jax" 2>/dev/null; then
  JX=$($PIN "$PY" bench/models_jax.py gpt --steps 100 --warmup 10 2>/dev/null | grep '^jax gpt')
  echo "$JX"
  PT="$PT
$JX"
fi
median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' | head -1; }
T=$(echo "$TG" | median)
echo
echo "| tgc ms | form | ms | form / tgc |"
echo "|---:|---|---:|---:|"
for F in pytorch-eager pytorch-eager-sdpa torch.compile jax; do
  M=$(echo "$PT" | grep "^$F gpt" | median)
  [ -n "$M" ] && printf '| %s | %s | %s | %.2f |\n' "$T" "$F" "$M" "$(echo "$M / $T" | bc -l)"
done
