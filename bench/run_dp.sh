#!/bin/sh
# Data-parallel training throughput on this machine's 2 cores: tgc under
# mpirun against one process, and against PyTorch DDP (gloo) on the same 2
# processes, side by side in one run. Usage: bench/run_dp.sh [RUNS] (default 5)
#
# Per-rank batch fixed (MLP 128, CNN 64), real Fashion-MNIST data through each
# tool's own pipeline; every number is the median of RUNS runs of global
# examples/s. One rank per core (mpirun --bind-to core), 1 thread per rank
# unless stated. The overlap rows run the MLP/CNN with small buckets (0.25 MiB)
# once normally and once with TG_COLLECTIVES_NO_OVERLAP=1, which completes
# every bucket's allreduce at its start (no overlap with backward).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
scripts/build.sh tgc tg-example >/dev/null
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=$(pwd)/.venv-bench/bin/python; else PY=python3; fi
fi
HAVE_TORCH=1
"$PY" -c "import torch.distributed as d; assert d.is_gloo_available()" 2>/dev/null || {
  HAVE_TORCH=0
  echo "# no PyTorch with gloo for $PY: DDP skipped (python3 -m venv .venv-bench && .venv-bench/bin/pip install torch)"
}
DATA=${TG_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
W=$(mktemp -d /tmp/tg-bench-dp.XXXXXX)
trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI="mpirun -np 2 --bind-to core --map-by core"
echo "# $(date -u +%F) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), median of $RUNS runs"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# tgc: global examples/s from "trained S steps (...) in T s".
tgc_rate() { # WORLD BATCH COMMAND...
  world=$1 batch=$2
  shift 2
  for _ in $(seq "$RUNS"); do
    "$@" 2>/dev/null | sed -n 's/^trained \([0-9]*\) steps .* in \([0-9.]*\) s.*/\1 \2/p' |
      awk -v w="$world" -v b="$batch" '{ printf "%.0f\n", $1 * b * w / $2 }'
  done | median
}
ddp_rate() {
  for _ in $(seq "$RUNS"); do
    "$@" 2>/dev/null | sed -n 's/^examples\/s \([0-9]*\).*/\1/p'
  done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }

printf "\n| model | tgc 1x1 | tgc 1x2 threads | tgc 2x1 | 2x1 / 1x1 | 2x1 / 1x2 | DDP 1x1 | DDP 2x1 | tgc 2x1 / DDP 2x1 | overlap on | overlap off | on / off |\n"
printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
for model in mlp cnn; do
  if [ $model = mlp ]; then B=128 STEPS=1500; else B=64 STEPS=100; fi
  build/examples/tg-example fashion-$model --batch $B -o "$W/$model.tg.mlir"
  build/tools/tgc compile "$W/$model.tg.mlir" -o "$W/$model.tgx" --data-parallel=allreduce >/dev/null 2>&1
  build/tools/tgc compile "$W/$model.tg.mlir" -o "$W/$model-small.tgx" --data-parallel=allreduce \
    --bucket-mb=0.25 >/dev/null 2>&1
  # Named files, not the directory: no evaluation at epoch ends in the timing.
  FILES="--data image=$DATA/train-images-idx3-ubyte.gz --data label=$DATA/train-labels-idx1-ubyte.gz"
  T="build/tools/tgc train $W/$model.tgx $FILES --steps $STEPS --progress=none"
  one=$(tgc_rate 1 $B env OMP_NUM_THREADS=1 taskset -c 0 $T)
  two_threads=$(tgc_rate 1 $B env OMP_NUM_THREADS=2 taskset -c 0-1 $T)
  two=$(tgc_rate 2 $B $MPI -x OMP_NUM_THREADS=1 $T)
  S="build/tools/tgc train $W/$model-small.tgx $FILES --steps $STEPS --progress=none"
  on=$(tgc_rate 2 $B $MPI -x OMP_NUM_THREADS=1 $S)
  off=$(tgc_rate 2 $B $MPI -x OMP_NUM_THREADS=1 -x TG_COLLECTIVES_NO_OVERLAP=1 $S)
  ddp1="" ddp2=""
  if [ $HAVE_TORCH = 1 ]; then
    P="$PY dp_torch.py $model --batch $B --steps $STEPS --data $DATA"
    ddp1=$(cd bench && ddp_rate env OMP_NUM_THREADS=1 taskset -c 0 $P)
    ddp2=$(cd bench && ddp_rate $MPI -x OMP_NUM_THREADS=1 $P)
  fi
  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" $model "$one" "$two_threads" \
    "$two" "$(ratio "$two" "$one")" "$(ratio "$two" "$two_threads")" "${ddp1:--}" "${ddp2:--}" \
    "$(ratio "$two" "$ddp2")" "$on" "$off" "$(ratio "$on" "$off")"
done
echo
echo "examples/s, global (ranks x per-rank batch per step); 2x1 = mpirun -np 2, 1 thread each"
