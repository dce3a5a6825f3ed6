#!/usr/bin/env bash
# tgc train on a real Slurm cluster (scripts/slurm-cluster.sh: slurmctld and
# two slurmd "nodes" in network namespaces): srun and sbatch+mpirun give the
# bits of --emulate-world-size, a stopped or killed task ends the job within
# --collective-timeout + 5 s with the last checkpoint intact, and the
# resubmitted job resumes to the bits of an unbroken run.
# Usage: tests/dist/slurm.sh CLUSTER_SCRIPT BUILD_DIR (exit 77: cannot run here)
set -euo pipefail
cluster=$1
build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [[ $(id -u) != 0 ]] || ! ip netns add tgcsl-probe 2>/dev/null; then
  echo "SKIP: a Slurm cluster in network namespaces needs root (ip netns, slurmd)"
  exit 77
fi
ip netns del tgcsl-probe
if ! "$cluster" up >cluster.log 2>&1; then
  if ! command -v slurmd >/dev/null; then
    cat cluster.log
    echo "SKIP: Slurm (Debian's slurmd, slurmctld, munge) could not be installed"
    exit 77
  fi
  cat cluster.log
  echo "FAIL: the Slurm cluster did not start"
  exit 1
fi
work=$(mktemp -d /tmp/tgc-slurm-test.XXXXXX)
trap '"$cluster" down; rm -rf "$work"' EXIT
eval "$("$cluster" env)"
export OMP_NUM_THREADS=1 # Slurm leaves it unset, even with -c
cd "$work"
tgc=$build/tools/tgc
data=${TG_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
fail() { echo "FAIL: $*"; exit 1; }
same() { python3 "$here/compare-checkpoints.py" "$1" "$2" >/dev/null || fail "$3: $1 and $2 differ"; }
"$build/examples/tg-example" fashion-mlp --batch 64 -o mlp.tg.mlir
"$tgc" compile mlp.tg.mlir -o mlp.tgx --data-parallel=allreduce >/dev/null
train() { "$tgc" train "$work/mlp.tgx" --data "$data" --progress=none "$@"; }
for n in 2 4; do
  train --steps 200 --emulate-world-size $n --checkpoint-dir "emulated$n" >/dev/null 2>&1
done

# 1. srun, one task per node and two per node.
for n in 2 4; do
  timeout 120 srun --mpi=pmix -N 2 -n $n "$tgc" train "$work/mlp.tgx" --data "$data" \
    --progress=none --steps 200 --checkpoint-dir "$work/srun$n" >/dev/null 2>srun$n.log ||
    { cat srun$n.log; fail "srun -N 2 -n $n"; }
  grep -q "$n rank(s) (mpi)" srun$n.log || { cat srun$n.log; fail "srun -n $n: not $n MPI ranks"; }
  same srun$n/ckpt-0000000200.safetensors emulated$n/ckpt-0000000200.safetensors "srun -n $n"
  echo "ok: srun --mpi=pmix -N 2 -n $n = --emulate-world-size $n, bitwise"
done

# 2. sbatch, mpirun inside the allocation.
cat >job.sh <<EOF
#!/bin/sh
#SBATCH -N 2
#SBATCH -n 2
#SBATCH -o $work/sbatch.log
exec mpirun --bind-to none "$tgc" train "$work/mlp.tgx" --data "$data" --progress=none \
  --steps 200 --checkpoint-dir "$work/sbatch" "\$@"
EOF
timeout 120 sbatch --wait job.sh >/dev/null || { cat sbatch.log; fail "sbatch + mpirun"; }
same sbatch/ckpt-0000000200.safetensors emulated2/ckpt-0000000200.safetensors "sbatch + mpirun"
echo "ok: sbatch + mpirun = --emulate-world-size 2, bitwise"

# 3. A task stopped or killed mid-run: the job ends within the collective
# timeout + 5 s, the checkpoints are intact, a resubmitted job resumes.
timeout=5
train --steps 600 --emulate-world-size 2 --checkpoint-dir unbroken --checkpoint-every 100 \
  >/dev/null 2>&1
fault() { # NAME SIGNAL LAUNCH...: run, hit the last tgc started with SIGNAL, time the end
  local name=$1 sig=$2
  shift 2
  rm -rf "$name"
  (set +e; "$@" "$tgc" train "$work/mlp.tgx" --data "$data" --progress=none --epochs 100 \
    --checkpoint-dir "$work/$name" --checkpoint-every 100 --collective-timeout $timeout \
    >/dev/null 2>"$name.log" </dev/null; echo $? >"$name.rc") &
  local job=$!
  for _ in $(seq 600); do [[ -e $name/ckpt-0000000200.safetensors ]] && break; sleep 0.1; done
  [[ -e $name/ckpt-0000000200.safetensors ]] || { cat "$name.log"; fail "$name: no checkpoint at step 200"; }
  local victim start end took
  victim=$(pgrep -x tgc | sort -n | tail -1)
  start=$(date +%s.%N)
  kill -"$sig" "$victim"
  wait $job || true
  end=$(date +%s.%N)
  [[ -s $name.rc ]] || { cat "$name.log"; fail "$name: the launcher's exit status is missing"; }
  took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  [[ $(cat "$name.rc") != 0 ]] || fail "$name: the job survived SIG$sig of a task"
  awk -v t="$took" -v limit=$((timeout + 5)) 'BEGIN { exit !(t <= limit) }' ||
    { cat "$name.log"; fail "$name: $took s to end the job after SIG$sig (limit $((timeout + 5)) s)"; }
  # Slurm kills what is left of a finished job's steps (KillWait: 5 s here).
  for _ in $(seq 100); do pgrep -x tgc >/dev/null || break; sleep 0.1; done
  pkill -KILL -x tgc 2>/dev/null && fail "$name: a task outlived the job by 10 s"
  for f in "$name"/ckpt-*.safetensors; do
    python3 "$here/compare-checkpoints.py" "$f" "$f" >/dev/null || fail "$name: $f is damaged"
  done
  # Resubmitted (as a requeued job would be): resumes to an unbroken run's bits.
  timeout 120 srun --mpi=pmix -N 2 -n 2 "$tgc" train "$work/mlp.tgx" --data "$data" \
    --progress=none --steps 600 --checkpoint-dir "$work/$name" --checkpoint-every 100 \
    --resume=required >/dev/null 2>"$name.resume.log" || { cat "$name.resume.log"; fail "$name: resume"; }
  grep -q "^resuming from" "$name.resume.log" || { cat "$name.resume.log"; fail "$name: did not resume"; }
  same "$name/ckpt-0000000600.safetensors" unbroken/ckpt-0000000600.safetensors "$name: resumed"
  echo "ok: $name: the job ended $took s after SIG$sig of a task; resumed to the unbroken bits"
}
fault srun-stopped STOP timeout 120 srun --mpi=pmix -N 2 -n 2
fault srun-killed KILL timeout 120 srun --mpi=pmix -N 2 -n 2
fault srun-K-killed KILL timeout 120 srun -K --mpi=pmix -N 2 -n 2
fault srun-K-stopped STOP timeout 120 srun -K --mpi=pmix -N 2 -n 2
printf '#!/bin/sh\nexec mpirun --bind-to none "$@"\n' >mpirun-job.sh
fault sbatch-stopped STOP timeout 120 sbatch --wait -N 2 -n 2 -o "$work/sbatch-stopped.out" \
  mpirun-job.sh
fault sbatch-killed KILL timeout 120 sbatch --wait -N 2 -n 2 -o "$work/sbatch-killed.out" \
  mpirun-job.sh

# 4. --resume with nothing to resume: said on the first line, or an error.
timeout 60 srun --mpi=pmix -N 2 -n 2 "$tgc" train "$work/mlp.tgx" --data "$data" --progress=none \
  --steps 5 --checkpoint-dir "$work/fresh" --resume >/dev/null 2>fresh.log || { cat fresh.log; fail "--resume, none"; }
head -1 fresh.log | grep -q "no checkpoint in .* starting from step 0" || { cat fresh.log; fail "--resume with no checkpoint is not said first"; }
start=$(date +%s)
if timeout 60 srun --mpi=pmix -N 2 -n 2 "$tgc" train "$work/mlp.tgx" --data "$data" --progress=none \
  --steps 5 --checkpoint-dir "$work/none" --resume=required >/dev/null 2>none.log; then
  fail "--resume=required without a checkpoint succeeded"
fi
grep -q "resume=required: no checkpoint" none.log || { cat none.log; fail "--resume=required: no clear error"; }
(( $(date +%s) - start < 30 )) || fail "--resume=required: the job took $(( $(date +%s) - start )) s to fail"
echo "ok: --resume without a checkpoint says so first; --resume=required fails the job"

# 5. A misrouted network (the ranks pick the loopback interface, so each
# node's connections reach itself): named at start-up within the timeout.
start=$(date +%s)
if OMPI_MCA_btl_tcp_if_include=lo timeout 60 srun --mpi=pmix -N 2 -n 2 "$tgc" train \
  "$work/mlp.tgx" --data "$data" --progress=none --steps 5 --collective-timeout $timeout \
  >/dev/null 2>misrouted.log; then
  fail "training over a misrouted network succeeded"
fi
took=$(( $(date +%s) - start ))
grep -q "did not answer within $timeout s at start-up" misrouted.log ||
  { cat misrouted.log; fail "a misrouted network: no start-up error naming the ranks"; }
(( took <= timeout + 5 )) || fail "a misrouted network: $took s to end the job"
echo "ok: a misrouted network ends the job in $took s: $(grep -o 'rank [0-9]* of 2 ([^)]*): [^(]*' misrouted.log | head -1)"
