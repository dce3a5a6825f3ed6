#!/bin/bash
# Measurements for the scaling model (issue 27, item 5), all in one run so the
# machine's speed is the same for every number: one rank's step time per model
# (no communication), then per link of the two-"host" namespace cluster
# (scripts/netns-cluster.sh): the communicator's GradientMean allreduce at
# several sizes for f32, bf16 and threshold encoding (tg-bench-comm
# --elements: the model's link and codec constants are fitted to these only),
# and `tgc train` of the MLP and the CNN with each gradient encoding (the rows
# the model must predict). Writes `key value` lines to OUT (default
# bench/scaling-measurements.txt) for `bench/scaling_model.py calibrate`.
# RANKS: 2 (one per host) or 4 (two per host, oversubscribing this machine's
# cores). TG_BENCH_LINKS as in run_links.sh. Root only.
# Usage: bench/run_scaling.sh [RUNS] [RANKS] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
RANKS=${2:-2}
OUT=$(realpath -m "${3:-bench/scaling-measurements.txt}")
[[ $RANKS == 2 || $RANKS == 4 ]] || { echo "run_scaling.sh: RANKS is 2 or 4" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run_scaling.sh: needs root (network namespaces, tc)" >&2; exit 1; }
export TG_NETNS_RANKS_PER_HOST=$((RANKS / 2))
[[ $RANKS == 4 ]] && export OMPI_MCA_mpi_yield_when_idle=1 # see run_links.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
scripts/build.sh tgc tg-example tg-bench-comm >/dev/null
DATA=${TG_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
FILES="--data image=$DATA/train-images-idx3-ubyte.gz --data label=$DATA/train-labels-idx1-ubyte.gz"
W=$(mktemp -d /tmp/tg-bench-scaling.XXXXXX)
CLUSTER=scripts/netns-cluster.sh
trap '"$CLUSTER" down; rm -rf "$W"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "") }'; }
: >"$OUT"
put() { echo "$*" | tee -a "$OUT"; }
put "# $(date -u +%FT%TZ) $(nproc) cores, $RANKS ranks, median of $RUNS runs"
put "ranks $RANKS"

MODES="f32 bf16 thr1e-4 thr1e-2"
flag() { case $1 in f32) ;; bf16) echo --compress=bf16 ;; thr*) echo "--compress=threshold:${1#thr}" ;; esac; }
for model in mlp cnn; do
  if [[ $model == mlp ]]; then B=128; else B=64; fi
  build/examples/tg-example fashion-$model --batch $B -o "$W/$model.tg.mlir"
  for mode in $MODES; do
    # shellcheck disable=SC2046
    build/tools/tgc compile "$W/$model.tg.mlir" -o "$W/$model-$mode.tgx" --data-parallel=allreduce \
      --bucket-mb=0.25 $(flag $mode) >/dev/null
  done
  put "batch $model $B"
  # g: gradients (compressed), m: the loss and metrics (always f32)
  put "buckets $model $(build/tools/tgc inspect "$W/$model-f32.tgx" --json | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(",".join("%d:%s" % (b["elements"], "m" if m["train"]["loss"] in b["buffers"] else "g")
               for b in m["data_parallel"]["buckets"]))')"
done
steps() { if [[ $1 == mlp ]]; then echo 600; else echo 60; fi; }
# ms a step from `trained N steps ... in S s`
step_ms() { sed -n 's/^trained \([0-9]*\) steps .* in \([0-9.]*\) s.*/\1 \2/p' | awk '{ printf "%.4f\n", 1e3 * $2 / $1 }'; }

# The step without communication: RANKS copies of one rank's run at once on
# this machine (the ranks share its cores, caches and memory as in the
# distributed runs), 1 thread each; the slowest copy's ms a step. Measured
# again before each link's rows: this machine's speed drifts by 10-20% over
# minutes.
compute() { # MODEL LINK
  local ms
  ms=$(for _ in $(seq "$RUNS"); do
    for r in $(seq "$RANKS"); do
      OMP_NUM_THREADS=1 taskset -c $(((r - 1) % $(nproc))) build/tools/tgc train "$W/$1-f32.tgx" \
        --steps "$(steps $1)" --progress=none $FILES 2>/dev/null | step_ms >"$W/compute.$r" &
    done
    wait
    cat "$W"/compute.* | sort -n | tail -1
  done | median)
  put "compute $1 $ms $2"
}

"$CLUSTER" up
IFS=, read -r -a LINKS <<<"${TG_BENCH_LINKS:-none,10gbit 50us,1gbit 100us}"
SIZES=4096,32768,131072,262144,1048576
for link in "${LINKS[@]}"; do
  # shellcheck disable=SC2086
  "$CLUSTER" shape $link
  name=${link%% *}
  # The communicator alone; threshold at two index-form densities and a
  # byte-form one (a message is the shorter of the two).
  for c in none bf16 "threshold:1e-2 0.01" "threshold:1e-2 0.04" "threshold:1e-2 0.5"; do
    read -r comp dens <<<"$c"
    key=${comp/threshold:1e-2/thr}${dens:+@$dens}
    ok=0
    for try in 1 2; do # a failed start (a port taken) is retried once
      if timeout 300 "$CLUSTER" mpirun build/bench/tg-bench-comm --elements=$SIZES \
        --compress="$comp" --density="${dens:-0.5}" --reps=20 >"$W/comm" 2>"$W/err"; then
        ok=1
        break
      fi
      echo "run_scaling.sh: tg-bench-comm $comp on $name failed (try $try): $(tail -3 "$W/err")" >&2
    done
    [[ $ok == 1 ]] || { echo "run_scaling.sh: giving up on $name" >&2; exit 1; }
    while read -r _ e _ ms; do put "comm $name $key $e $ms"; done <"$W/comm"
  done
  for model in mlp cnn; do
    compute $model "$name"
    for mode in $MODES; do
      for _ in $(seq "$RUNS"); do
        if ! timeout 600 "$CLUSTER" mpirun build/tools/tgc train "$W/$model-$mode.tgx" \
          --steps "$(steps $model)" --progress=none $FILES >"$W/out" 2>"$W/err"; then
          echo "run_scaling.sh: $model $mode on $name failed: $(tail -2 "$W/err")" >&2
          continue # a failed run is left out of the median
        fi
        echo "$(step_ms <"$W/out") $(sed -n 's/^data parallel: rank 0 sent \([0-9.]*\) MiB.*/\1/p' "$W/err")"
      done | sort -n | awk '{ v[NR] = $0 } END { if (NR) print v[int((NR + 1) / 2)] }' |
        while read -r ms mib; do put "train $name $model $mode $ms ${mib:-0} $(steps $model)"; done
    done
  done
done
echo "wrote $OUT"
