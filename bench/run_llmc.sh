#!/bin/sh
# llm.c's hand-written CPU trainer (train_gpt2.c, its Makefile's flags:
# -Ofast -march=native -fopenmp) as the anchor of bench/run_gpt2.sh: the same
# GPT-2-small shape (block 256, batch 4, byte-level vocabulary 256; its
# random-init weights written in its model format by bench/llmc_setup.py, the
# tokens a text's bytes), STEPS training steps (default 6) on THREADS
# (default 2), median of the steps after the first. llm.c is not on PyPI or
# Debian: LLMC_DIR is a checkout of github.com/karpathy/llm.c (git clone
# https://github.com/karpathy/llm.c). Usage: LLMC_DIR=... bench/run_llmc.sh [THREADS] [STEPS]
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
STEPS=${2:-6}
[ -n "${LLMC_DIR:-}" ] && [ -f "$LLMC_DIR/train_gpt2.c" ] ||
  { echo "run_llmc.sh: set LLMC_DIR to a checkout of github.com/karpathy/llm.c"; exit 1; }
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=.venv-bench/bin/python; else PY=python3; fi
fi
W=$(mktemp -d /tmp/tg-llmc.XXXXXX)
trap 'rm -rf "$W"' EXIT
cp -r "$LLMC_DIR/train_gpt2.c" "$LLMC_DIR/llmc" "$W/"
mkdir -p "$W/dev/data/tinyshakespeare"
# The shape (T 256) and the number of steps; no sampling (step 20) is reached.
sed -i 's/int T = 64;/int T = 256;/; s/step <= 40;/step < '"$STEPS"';/' "$W/train_gpt2.c"
grep -q 'int T = 256;' "$W/train_gpt2.c" || { echo "run_llmc.sh: train_gpt2.c changed (T)"; exit 1; }
cc -Ofast -Wno-unused-result -march=native -fopenmp -DOMP "$W/train_gpt2.c" -lm -lgomp \
  -o "$W/train_gpt2"
"$PY" bench/llmc_setup.py "$W" /usr/share/common-licenses/GPL-3
echo "# $(date -u +%F) llm.c $(git -C "$LLMC_DIR" rev-parse --short HEAD 2>/dev/null || echo '?'), $THREADS threads"
OUT=$(cd "$W" && OMP_NUM_THREADS=$THREADS /usr/bin/time -f "peak RSS %M KiB" \
  taskset -c 0-$((THREADS - 1)) ./train_gpt2 2>&1)
echo "$OUT" | grep -E "^step|peak RSS|num_parameters"
echo "$OUT" | sed -n 's/.*took \([0-9.]*\) ms.*/\1/p' | tail -n +2 | sort -n |
  awk '{ a[NR] = $1 } END { printf "llm.c gpt2-small: train step median %.1f ms over %d steps\n", a[int((NR + 1) / 2)], NR }'
