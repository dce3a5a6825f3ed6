#!/bin/bash
# Data-parallel training over shaped links (issue 27, item 2): two "hosts"
# (scripts/netns-cluster.sh: network namespaces, Open MPI over TCP), the link
# between them unshaped, 10 Gbit/s with 50 us each way, and 1 Gbit/s with
# 100 us (tc netem; a kernel without netem gets the rates alone, from tbf).
# Per link and model: tgc 2 ranks with small buckets
# (0.25 MiB) and overlap on, overlap off (TG_COLLECTIVES_NO_OVERLAP=1: every
# bucket completes at its start), bf16 on the wire (--compress=bf16),
# threshold-encoded (--compress=threshold:1e-4 and threshold:1e-2), and
# PyTorch DDP (gloo) over the same link, side by side in one run. Global
# examples/s, median of RUNS runs (default 3). RANKS (default 2): 2 or 4
# (4: two ranks per host, oversubscribing this machine's cores).
# TG_BENCH_LINKS picks links (default "none,10gbit 50us,1gbit 100us"). Root only.
# Usage: bench/run_links.sh [RUNS] [RANKS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
RANKS=${2:-2}
[[ $RANKS == 2 || $RANKS == 4 ]] || { echo "run_links.sh: RANKS is 2 or 4" >&2; exit 2; }
export TG_NETNS_RANKS_PER_HOST=$((RANKS / 2))
# 4 ranks oversubscribe the 2 cores, which mpirun cannot see (each "host"
# has 2 slots): without yielding, ranks waiting in MPI spin on the cores the
# others need (300 MLP steps: 16.3 s against 2.0-2.25 s with it).
[[ $RANKS == 4 ]] && export OMPI_MCA_mpi_yield_when_idle=1
[[ $(id -u) == 0 ]] || { echo "run_links.sh: needs root (network namespaces, tc)" >&2; exit 1; }
scripts/build.sh tgc tg-example >/dev/null
PY=${TG_BENCH_PYTHON:-}
if [[ -z $PY ]]; then
  if [[ -x .venv-bench/bin/python ]]; then PY=$PWD/.venv-bench/bin/python
  elif python3 -c "import torch" 2>/dev/null; then PY=$(command -v python3)
  else PY=/usr/bin/python3; fi
fi
HAVE_TORCH=1
"$PY" -c "import torch.distributed as d; assert d.is_gloo_available()" 2>/dev/null || HAVE_TORCH=0
DATA=${TG_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
W=$(mktemp -d /tmp/tg-bench-links.XXXXXX)
CLUSTER=scripts/netns-cluster.sh
trap '"$CLUSTER" down; rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$CLUSTER" up
echo "# $(date -u +%F) on $(nproc) cores, 2 hosts (network namespaces), $RANKS ranks of 1 thread, median of $RUNS runs"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "") }'; }
tgc_rate() { # BATCH ARGS... (after mpirun's)
  local b=$1
  shift
  for _ in $(seq "$RUNS"); do
    timeout 600 "$CLUSTER" mpirun "$@" 2>/dev/null |
      sed -n 's/^trained \([0-9]*\) steps .* in \([0-9.]*\) s.*/\1 \2/p' |
      awk -v b="$b" -v n="$RANKS" '{ printf "%.0f\n", $1 * b * n / $2 }'
  done | median
}
ddp_rate() {
  for _ in $(seq "$RUNS"); do
    (cd bench && timeout 600 "../$CLUSTER" mpirun -x TG_DDP_MASTER=10.213.77.1 -x TG_DDP_IFACE_PREFIX=tgc-veth "$@" 2>/dev/null) |
      sed -n 's/^examples\/s \([0-9]*\).*/\1/p'
  done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }

printf "\n| link | model | overlap on | overlap off | on / off | bf16 on the wire | bf16 / f32 | threshold:1e-4 | / f32 | threshold:1e-2 | / f32 | DDP (gloo) | tgc / DDP |\n"
printf "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
for model in mlp cnn; do
  if [[ $model == mlp ]]; then B=128 STEPS=600; else B=64 STEPS=60; fi
  "build/examples/tg-example" fashion-$model --batch $B -o "$W/$model.tg.mlir"
  build/tools/tgc compile "$W/$model.tg.mlir" -o "$W/$model.tgx" --data-parallel=allreduce \
    --bucket-mb=0.25 >/dev/null
  build/tools/tgc compile "$W/$model.tg.mlir" -o "$W/$model-bf16.tgx" --data-parallel=allreduce \
    --bucket-mb=0.25 --compress=bf16 >/dev/null
  for t in 1e-4 1e-2; do
    build/tools/tgc compile "$W/$model.tg.mlir" -o "$W/$model-t$t.tgx" --data-parallel=allreduce \
      --bucket-mb=0.25 --compress=threshold:$t >/dev/null
  done
done
FILES="--data image=$DATA/train-images-idx3-ubyte.gz --data label=$DATA/train-labels-idx1-ubyte.gz"
IFS=, read -r -a LINKS <<<"${TG_BENCH_LINKS:-none,10gbit 50us,1gbit 100us}"
for link in "${LINKS[@]}"; do
  # shellcheck disable=SC2086
  "$CLUSTER" shape $link
  for model in mlp cnn; do
    if [[ $model == mlp ]]; then B=128 STEPS=600; else B=64 STEPS=60; fi
    T="--steps $STEPS --progress=none $FILES"
    on=$(tgc_rate $B build/tools/tgc train "$W/$model.tgx" $T)
    off=$(tgc_rate $B -x TG_COLLECTIVES_NO_OVERLAP=1 build/tools/tgc train "$W/$model.tgx" $T)
    bf=$(tgc_rate $B build/tools/tgc train "$W/$model-bf16.tgx" $T)
    t4=$(tgc_rate $B build/tools/tgc train "$W/$model-t1e-4.tgx" $T)
    t2=$(tgc_rate $B build/tools/tgc train "$W/$model-t1e-2.tgx" $T)
    ddp=""
    [[ $HAVE_TORCH == 1 ]] && ddp=$(ddp_rate "$PY" dp_torch.py $model --batch $B --steps $STEPS --data "$DATA")
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "${link/ /, }" \
      $model "$on" "$off" "$(ratio "$on" "$off")" "$bf" "$(ratio "$bf" "$on")" "$t4" \
      "$(ratio "$t4" "$on")" "$t2" "$(ratio "$t2" "$on")" "${ddp:--}" "$(ratio "$on" "$ddp")"
  done
done
echo
echo "examples/s, global ($RANKS ranks x per-rank batch: MLP 128, CNN 64); buckets of 0.25 MiB"
