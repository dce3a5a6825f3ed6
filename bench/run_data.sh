#!/bin/sh
# The input pipeline (issue 26), side by side in one run:
#  1. the packed-data reader alone (tg-bench-reader: batches of Fashion-MNIST,
#     u8 -> f32, shuffled) against PyTorch's DataLoader (num_workers 0, 1, 2)
#     on the same shards (numpy memmap), examples/s and ratios;
#  2. the Fashion MLP's training from memory (the IDX files) against training
#     from the packed directory: the same steps, alternating, RUNS runs each
#     (default 9; medians: this machine's run-to-run noise is larger than the
#     effect).
# Usage: bench/run_data.sh [THREADS] (default 2). Peers: .venv-bench, else
# Debian's python3-torch (apt install python3-torch python3-numpy).
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
scripts/build.sh tgc tg-example tg-bench-reader >/dev/null
PIN="taskset -c 0-$((THREADS - 1))"
export OMP_NUM_THREADS=$THREADS
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=.venv-bench/bin/python
  elif python3 -c "import torch, numpy" 2>/dev/null; then PY=python3
  else PY=/usr/bin/python3; fi
fi
DATA=${TG_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
WORK=build/bench-data
rm -rf "$WORK" && mkdir -p "$WORK"
build/tools/tgc data pack --from "$DATA" -o "$WORK/fm" --shard-mb 8 2>/dev/null
build/tools/tgc data pack --from "$DATA" -o "$WORK/fm64" 2>/dev/null # the default: 1 shard
echo "== reader alone: 3 epochs of 60000 examples, batch 128, taskset $THREADS cores"
$PIN build/bench/tg-bench-reader "$WORK/fm" --epochs 3 --memory
$PIN build/bench/tg-bench-reader "$WORK/fm" --epochs 3 | tee "$WORK/reader.txt"
$PIN build/bench/tg-bench-reader "$WORK/fm" --epochs 3 --threads 2 --prefetch 4
for w in 0 1 2; do
  $PIN "$PY" bench/reader_torch.py "$WORK/fm" --epochs 3 --workers $w | tee -a "$WORK/reader.txt"
done
awk '/^tgc reader, 1 / { t = $10 } /^torch/ { printf "  tgc / DataLoader %s %.1fx\n", $3, t / $9 }' \
  "$WORK/reader.txt"
RUNS=${RUNS:-9}
echo "== the Fashion MLP, 2000 steps: from memory vs packed (64 MiB shards: 1; 8 MiB: 6), $RUNS runs each"
build/examples/tg-example fashion-mlp -o "$WORK/mlp.tg.mlir"
build/tools/tgc compile "$WORK/mlp.tg.mlir" -o "$WORK/mlp.tgx" >/dev/null
for run in $(seq "$RUNS"); do
  for src in "$DATA" "$WORK/fm64" "$WORK/fm"; do
    $PIN build/tools/tgc train "$WORK/mlp.tgx" --data "$src" --eval-data "$DATA" --steps 2000 \
      --progress=none 2>/dev/null | sed -n "s|^trained .* in \([0-9.]*\) s.*|$src \1|p"
  done
done | tee "$WORK/train.txt"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m=$(awk -v mem="$DATA" '$1 == mem { print $2 }' "$WORK/train.txt" | median)
for src in "$WORK/fm64" "$WORK/fm"; do
  p=$(awk -v s="$src" '$1 == s { print $2 }' "$WORK/train.txt" | median)
  # Each packed run against the memory run of its round (the machine's speed
  # drifts between rounds more than within one).
  r=$(awk -v mem="$DATA" -v s="$src" '$1 == mem { m = $2 } $1 == s { print $2 / m }' "$WORK/train.txt" | median)
  awk -v m="$m" -v p="$p" -v r="$r" -v s="$src" 'BEGIN { printf "  %s: median %.3f s from memory, %.3f s packed: packed/memory = %.3f (median of the paired runs: %.3f)\n", s, m, p, p / m, r }'
done
