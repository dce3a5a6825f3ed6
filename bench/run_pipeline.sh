#!/bin/bash
# Pipeline stages (tgc compile --pipeline-stages, issue 29): throughput and
# the bubble, against one process and against data parallelism, side by
# side in one run. The char GPT (4 blocks, d 128, 4 heads, windows of 64,
# micro-batch 8) on the GPL text, M micro-batches a step (the global batch
# is 8 M in every row):
#   one       one process, 1 thread, --microbatches=M
#   pipe 2x1  2 stages (mpirun -np 2, 1 thread each), --microbatches=M
#   dp 1x2    2 data-parallel replicas, --microbatches=M/2 each
# The bubble: each stage's share of the run spent waiting for its peer
# (tgc train's report, their mean) against the schedule's ideal
# (S-1)/(M+S-1). With root, the same over two "hosts" (network namespaces,
# TCP) with the link shaped to 1 Gbit/s, 100 us. Global examples/s, median
# of RUNS runs (default 3). Usage: bench/run_pipeline.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
scripts/build.sh tgc tg-example >/dev/null
TEXT=/usr/share/common-licenses/GPL-3
W=$(mktemp -d /tmp/tg-bench-pipeline.XXXXXX)
CLUSTER=scripts/netns-cluster.sh
NETNS=0
[[ $(id -u) == 0 ]] && NETNS=1
trap '[[ $NETNS == 1 ]] && "$CLUSTER" down; rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI="mpirun -np 2 --bind-to core --map-by core -x OMP_NUM_THREADS=1"
STEPS=40
B=8
echo "# $(date -u +%F) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), median of $RUNS runs, $STEPS steps"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "") }'; }
# Global examples/s of a run's "trained S steps ... in T s" (EXAMPLES a step),
# and its stages' mean wait ("waited for their peers A%, B% of the run").
rate() { # EXAMPLES COMMAND...
  local n=$1
  shift
  for _ in $(seq "$RUNS"); do
    "$@" 2>&1 | sed -n 's/^trained \([0-9]*\) steps .* in \([0-9.]*\) s.*/\1 \2/p' |
      awk -v n="$n" '{ printf "%.0f\n", $1 * n / $2 }'
  done | median
}
waited() {
  for _ in $(seq "$RUNS"); do
    "$@" 2>&1 | sed -n 's/^pipeline: stages .* waited for their peers \(.*\) of the run.*/\1/p' |
      tr -d '%' | awk -F', ' '{ s = 0; for (i = 1; i <= NF; ++i) s += $i; printf "%.1f\n", s / NF }'
  done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }

build/examples/tg-example char-gpt --layers 4 --dim 128 --heads 4 --steps 64 --batch $B \
  -o "$W/gpt.tg.mlir"
for M in 2 4 8 16; do
  build/tools/tgc compile "$W/gpt.tg.mlir" -o "$W/one$M.tgx" --microbatches=$M >/dev/null
  build/tools/tgc compile "$W/gpt.tg.mlir" -o "$W/pipe$M.tgx" --microbatches=$M \
    --pipeline-stages=2 >/dev/null 2>&1
  build/tools/tgc compile "$W/gpt.tg.mlir" -o "$W/dp$M.tgx" --microbatches=$((M / 2)) \
    --data-parallel=allreduce >/dev/null
done
build/tools/tgc inspect "$W/pipe8.tgx" | grep -E "^pipeline|^  stage"
T="--data $TEXT --steps $STEPS --progress=none"

printf "\n| M | one 1x1 | pipe 2x1 | pipe / one | dp 1x2 | pipe / dp | bubble measured | ideal (S-1)/(M+S-1) |\n"
printf "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
for M in 2 4 8 16; do
  n=$((M * B))
  one=$(rate $n env OMP_NUM_THREADS=1 taskset -c 0 build/tools/tgc train "$W/one$M.tgx" $T)
  pipe=$(rate $n $MPI build/tools/tgc train "$W/pipe$M.tgx" $T)
  dp=$(rate $n $MPI build/tools/tgc train "$W/dp$M.tgx" $T)
  bubble=$(waited $MPI build/tools/tgc train "$W/pipe$M.tgx" $T)
  ideal=$(awk -v m=$M 'BEGIN { printf "%.1f", 100 / (m + 1) }')
  printf "| %s | %s | %s | %s | %s | %s | %s%% | %s%% |\n" $M "$one" "$pipe" "$(ratio "$pipe" "$one")" \
    "$dp" "$(ratio "$pipe" "$dp")" "$bubble" "$ideal"
done
echo
echo "examples/s, global; 2x1 = mpirun -np 2 (shared memory), 1 thread a rank"

if [[ $NETNS == 1 ]]; then
  "$CLUSTER" up
  "$CLUSTER" shape 1gbit 100us
  printf "\n| link | M | pipe 2 hosts | dp 2 hosts | pipe / dp | bubble measured |\n"
  printf "|---|---:|---:|---:|---:|---:|\n"
  for M in 8 16; do
    n=$((M * B))
    cl() { timeout 600 "$CLUSTER" mpirun -x OMP_NUM_THREADS=1 build/tools/tgc train "$@" $T; }
    pipe=$(rate $n cl "$W/pipe$M.tgx")
    dp=$(rate $n cl "$W/dp$M.tgx")
    bubble=$(waited cl "$W/pipe$M.tgx")
    printf "| 1 Gbit/s, 100 us | %s | %s | %s | %s | %s%% |\n" $M "$pipe" "$dp" "$(ratio "$pipe" "$dp")" "$bubble"
  done
fi
