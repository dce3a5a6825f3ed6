#!/usr/bin/env bash
# Data-parallel training through `tgc train`, under mpirun and emulated:
#   train.sh CASE BUILD_DIR WORK_DIR
# CASE: mlp | cnn | lstm | average | resume | packed | faults | accuracy | compress | shard |
# pipeline | pipeline-memory. Every mpirun
# has a timeout, so a hang fails the test instead of stalling the suite.
set -euo pipefail
case_=$1
build=$(cd "$2" && pwd)
work=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
tgc=$build/tools/tgc
example=$build/examples/tg-example
compare="python3 $src/tests/dist/compare-checkpoints.py"
data=${TG_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
mpi="timeout 300 mpirun --oversubscribe --bind-to none"

rm -rf "$work" && mkdir -p "$work" && cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Runs `tgc train ARTIFACT` with common flags; extra flags follow.
train() { "$tgc" train "$@" --progress=none; }
compile() { # compile MODEL-ARGS... -- TGC-COMPILE-ARGS...
  local out=$1; shift
  local args=()
  while [[ $1 != -- ]]; do args+=("$1"); shift; done
  shift
  "$example" "${args[@]}" -o "$out.tg.mlir"
  "$tgc" compile "$out.tg.mlir" -o "$out.tgx" "$@" >/dev/null
}
# np=N and --emulate-world-size N give the same bits.
same_as_emulated() { # N ARTIFACT DATA STEPS [extra train args]
  local n=$1 artifact=$2 d=$3 steps=$4; shift 4
  $mpi -np "$n" "$@" "$tgc" train "$artifact" --data "$d" --steps "$steps" --progress=none \
    --checkpoint-dir "mpi$n-$artifact" >/dev/null
  train "$artifact" --data "$d" --steps "$steps" --emulate-world-size "$n" \
    --checkpoint-dir "emu$n-$artifact" >/dev/null
  $compare "mpi$n-$artifact/ckpt-$(printf %010d "$steps").safetensors" \
    "emu$n-$artifact/ckpt-$(printf %010d "$steps").safetensors" ||
    fail "$artifact: mpirun -np $n and --emulate-world-size $n differ"
  echo "ok: $artifact np=$n equals --emulate-world-size $n bitwise ($steps steps)"
}
ckpt() { echo "$1/ckpt-$(printf %010d "$2").safetensors"; }

case $case_ in
mlp)
  compile mlp32 fashion-mlp --batch 32 -- --data-parallel=allreduce
  compile mlp64 fashion-mlp --batch 64 -- --data-parallel=allreduce
  compile plain32 fashion-mlp --batch 32 --
  # A distributed artifact with one rank is the plain artifact.
  train plain32.tgx --data "$data" --steps 40 --checkpoint-dir plain >/dev/null
  train mlp32.tgx --data "$data" --steps 40 --checkpoint-dir one >/dev/null
  $compare "$(ckpt plain 40)" "$(ckpt one 40)" || fail "1 rank differs from the plain artifact"
  echo "ok: one rank equals the plain artifact bitwise"
  same_as_emulated 2 mlp32.tgx "$data" 100
  same_as_emulated 3 mlp32.tgx "$data" 30 --mca btl self,tcp
  # A progress thread moves the started allreduces (two-phase at 3 ranks):
  # the same bits.
  $mpi -np 3 --mca btl self,tcp "$tgc" train mlp32.tgx --data "$data" --steps 30 --progress=none \
    --progress-thread --checkpoint-dir pt3 >/dev/null
  $compare "$(ckpt pt3 30)" "$(ckpt emu3-mlp32.tgx 30)" || fail "--progress-thread changed the bits"
  echo "ok: --progress-thread at np=3 gives the bits of --emulate-world-size 3"
  # np=2 x 32 against np=1 x 64: the same examples per step, other rounding.
  train mlp64.tgx --data "$data" --steps 100 --checkpoint-dir np1 >/dev/null
  $compare "$(ckpt np1 100)" "$(ckpt mpi2-mlp32.tgx 100)" --rtol 1e-4 ||
    fail "np=2 x 32 and np=1 x 64 differ by more than 1e-4 after 100 steps"
  echo "ok: np=2 x 32 within 1e-4 of np=1 x 64 after 100 steps"
  ;;
cnn)
  compile cnn8 fashion-cnn --batch 8 -- --data-parallel=allreduce --bucket-mb=0.05
  "$tgc" inspect cnn8.tgx >inspect.txt
  grep -q "bucket 2 of train_step" inspect.txt || fail "expected several buckets: $(cat inspect.txt)"
  same_as_emulated 2 cnn8.tgx "$data" 12
  ;;
lstm)
  # The docs hold more distinct bytes than the default 77 classes (an error).
  compile lstm4 char-lstm --batch 4 --steps 8 --hidden 16 --vocab 128 -- --data-parallel=allreduce
  cat "$src/README.md" "$src/docs/ARCHITECTURE.md" >text.txt
  same_as_emulated 2 lstm4.tgx text.txt 20
  # Each rank's recurrent state is in rank 0's checkpoint: a mid-epoch resume
  # at np=2 continues exactly.
  $mpi -np 2 "$tgc" train lstm4.tgx --data text.txt --steps 10 --progress=none \
    --checkpoint-dir part >/dev/null 2>&1
  $mpi -np 2 "$tgc" train lstm4.tgx --data text.txt --steps 20 --progress=none \
    --checkpoint-dir part --resume >/dev/null 2>log.txt || { cat log.txt; fail "resume"; }
  $compare "$(ckpt part 20)" "$(ckpt mpi2-lstm4.tgx 20)" ||
    fail "np=2 resumed mid-epoch differs from the unbroken run"
  echo "ok: np=2 resumed mid-epoch (each rank's h and c restored) equals the unbroken run"
  ;;
average)
  compile avg32 fashion-mlp --batch 32 -- --data-parallel=average:4
  same_as_emulated 2 avg32.tgx "$data" 30
  # Params only: each rank keeps its own Adam state; checkpoints still pass
  # the replica check (params and step) and resume.
  compile own32 fashion-mlp --batch 32 -- --data-parallel=average:4 --no-average-state
  $mpi -np 2 "$tgc" train own32.tgx --data "$data" --steps 30 --progress=none \
    --checkpoint-dir own --checkpoint-every 10 >/dev/null 2>log.txt || { cat log.txt; fail "params only"; }
  $mpi -np 2 "$tgc" train own32.tgx --data "$data" --steps 40 --progress=none \
    --checkpoint-dir own --resume >/dev/null 2>log.txt || { cat log.txt; fail "params only, resumed"; }
  echo "ok: average:4 without optimizer state trains, checkpoints and resumes"
  ;;
resume)
  # A checkpoint of one rank continues at two (the data position re-split).
  compile mlp32 fashion-mlp --batch 32 -- --data-parallel=allreduce
  train mlp32.tgx --data "$data" --steps 40 --checkpoint-dir run >/dev/null
  cp -r run run-emu
  $mpi -np 2 "$tgc" train mlp32.tgx --data "$data" --steps 80 --progress=none \
    --checkpoint-dir run --resume 2>log.txt >/dev/null || { cat log.txt; fail "resume at np=2"; }
  grep -q "continues at batch 20 of 937" log.txt || { cat log.txt; fail "no re-split note"; }
  train mlp32.tgx --data "$data" --steps 80 --emulate-world-size 2 --checkpoint-dir run-emu \
    --resume 2>/dev/null >/dev/null
  $compare "$(ckpt run 80)" "$(ckpt run-emu 80)" || fail "resumed np=2 differs from emulated"
  echo "ok: an np=1 checkpoint resumes at np=2 (re-split), the same bits as emulated"
  ;;
packed)
  # A packed data set: each rank reads about half of the shards; np=2 equals
  # its emulation bitwise; a mid-epoch resume continues exactly.
  compile mlp32 fashion-mlp --batch 32 -- --data-parallel=allreduce
  "$tgc" data pack --from "$data" -o packed --shard-mb 2 >/dev/null 2>&1 || fail "pack"
  shards=$(python3 -c "import json; print(len(json.load(open('packed/index.json'))['shards']))")
  $mpi -np 2 "$tgc" train mlp32.tgx --data packed --epochs 1 --progress=none \
    --checkpoint-dir epoch 2>log.txt >/dev/null || { cat log.txt; fail "np=2 on packed data"; }
  for r in 0 1; do
    read_=$(sed -n "s/^data: rank $r read \([0-9]*\) of $shards shards.*/\1/p" log.txt)
    [[ -n $read_ ]] || { cat log.txt; fail "rank $r did not report its shards"; }
    # Half of the shards, plus the one a rank's range starts or ends inside.
    (( read_ <= shards / 2 + 1 )) || fail "rank $r read $read_ of $shards shards in an epoch"
    echo "ok: rank $r read $read_ of $shards shards in an epoch"
  done
  same_as_emulated 2 mlp32.tgx packed 100
  train mlp32.tgx --data packed --steps 120 --checkpoint-dir straight >/dev/null 2>&1
  train mlp32.tgx --data packed --steps 50 --checkpoint-dir part >/dev/null 2>&1
  train mlp32.tgx --data packed --steps 120 --checkpoint-dir part --resume >/dev/null 2>&1
  $compare "$(ckpt straight 120)" "$(ckpt part 120)" || fail "a resumed packed run differs"
  echo "ok: a packed run resumed mid-epoch ends bitwise equal to an unbroken one"
  train mlp32.tgx --data packed --steps 120 --data-threads 3 --checkpoint-dir threads \
    >/dev/null 2>&1
  $compare "$(ckpt straight 120)" "$(ckpt threads 120)" || fail "--data-threads 3 differs"
  echo "ok: three threads assembling the batches train to the same bits as one"
  ;;
pipeline)
  # tgc compile --pipeline-stages: S ranks (mpirun, over shared memory and
  # TCP, and as threads) train to the same losses, step by step, as one
  # process running the artifact compiled with the same --microbatches.
  losses() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    j = json.loads(l)
    print(j["step"], j["loss"], j.get("accuracy"))' "$1"; }
  compile micro fashion-mlp --batch 16 -- --microbatches=4
  compile pipe2 fashion-mlp --batch 16 -- --pipeline-stages=2 --microbatches=4
  compile pipe3 fashion-mlp --batch 16 -- --pipeline-stages=3 --microbatches=4 --schedule=gpipe
  run() { train "$@" --data "$data" --steps 60 --log-every 5 >/dev/null; }
  run micro.tgx --metrics micro.jsonl
  $mpi -np 2 "$tgc" train pipe2.tgx --data "$data" --steps 60 --log-every 5 --progress=none \
    --metrics mpi2.jsonl >/dev/null
  $mpi -np 3 --mca btl self,tcp "$tgc" train pipe3.tgx --data "$data" --steps 60 --log-every 5 \
    --progress=none --metrics mpi3.jsonl >/dev/null
  run pipe2.tgx --emulate-world-size 2 --metrics emu2.jsonl
  [[ $(losses micro.jsonl | wc -l) == 12 ]] || fail "the reference logged no losses"
  for m in mpi2 mpi3 emu2; do
    diff <(losses micro.jsonl) <(losses $m.jsonl) >/dev/null ||
      fail "$m: the pipeline's losses differ from the micro-batched process's"
  done
  echo "ok: 2 and 3 pipeline stages (mpirun shm and TCP, threads) give the micro-batched losses"
  # The char GPT over 2 stages: its tied embedding travels with the activations.
  text=/usr/share/common-licenses/GPL-3
  compile gmicro char-gpt --batch 4 --layers 2 --dim 32 --heads 2 --steps 16 -- --microbatches=2
  compile gpipe char-gpt --batch 4 --layers 2 --dim 32 --heads 2 --steps 16 -- \
    --pipeline-stages=2 --microbatches=2
  train gmicro.tgx --data "$text" --steps 20 --log-every 5 --metrics gmicro.jsonl >/dev/null
  $mpi -np 2 "$tgc" train gpipe.tgx --data "$text" --steps 20 --log-every 5 --progress=none \
    --metrics gpipe.jsonl >/dev/null
  [[ $(losses gmicro.jsonl | wc -l) == 4 ]] || fail "the char GPT reference logged no losses"
  diff <(losses gmicro.jsonl) <(losses gpipe.jsonl) >/dev/null ||
    fail "char GPT: the pipeline's losses differ from the micro-batched process's"
  echo "ok: the char GPT over 2 stages gives the micro-batched losses"
  # Bad runs: the wrong number of ranks and a single process are errors.
  out=$($mpi -np 3 "$tgc" train pipe2.tgx --data "$data" --steps 2 2>&1) &&
    fail "3 ranks ran a 2-stage pipeline"
  grep -q "is a pipeline of 2 stages" <<<"$out" || fail "no error naming the stages: $out"
  out=$("$tgc" train pipe2.tgx --data "$data" --steps 2 2>&1) && fail "one process ran a pipeline"
  grep -q "runs with a rank per stage" <<<"$out" || fail "no error for one process: $out"
  echo "ok: wrong world sizes are errors naming why"
  # One checkpoint in the one-process format (rank 0 gathers the stages):
  # bitwise the micro-batched process's, and each resumes the other's.
  train micro.tgx --data "$data" --steps 40 --checkpoint-dir ck-micro --checkpoint-every 20 >/dev/null
  $mpi -np 3 "$tgc" train pipe3.tgx --data "$data" --steps 20 --checkpoint-dir ck-pipe \
    --progress=none >/dev/null
  $mpi -np 3 "$tgc" train pipe3.tgx --data "$data" --steps 40 --checkpoint-dir ck-pipe \
    --checkpoint-every 20 --progress=none --resume >/dev/null
  $compare "$(ckpt ck-micro 40)" "$(ckpt ck-pipe 40)" ||
    fail "the resumed pipeline's checkpoint differs from the micro-batched process's"
  cp -r ck-micro ck-cross
  $mpi -np 2 "$tgc" train pipe2.tgx --data "$data" --steps 60 --checkpoint-dir ck-cross \
    --checkpoint-every 20 --progress=none --resume >/dev/null
  train micro.tgx --data "$data" --steps 60 --checkpoint-dir ck-pipe --checkpoint-every 20 \
    --resume >/dev/null
  train micro.tgx --data "$data" --steps 60 --checkpoint-dir ck-micro --checkpoint-every 20 \
    --resume >/dev/null
  $compare "$(ckpt ck-micro 60)" "$(ckpt ck-cross 60)" ||
    fail "a pipeline resuming the process's checkpoint differs"
  $compare "$(ckpt ck-micro 60)" "$(ckpt ck-pipe 60)" ||
    fail "the process resuming the pipeline's checkpoint differs"
  echo "ok: pipeline checkpoints are the process's, bitwise, and resume across both ways"
  # S x D: 2 stages x 2 data-parallel replicas (4 ranks) under mpirun equal
  # their emulation and the 2-replica data-parallel run of the same
  # micro-batches (a 2-rank allreduce adds x0 + x1 whatever the buckets).
  compile dp2 fashion-mlp --batch 16 -- --microbatches=4 --data-parallel=allreduce
  compile pd fashion-mlp --batch 16 -- --pipeline-stages=2 --microbatches=4 \
    --data-parallel=allreduce
  train dp2.tgx --data "$data" --steps 30 --emulate-world-size 2 --checkpoint-dir ck-dp2 >/dev/null
  $mpi -np 4 "$tgc" train pd.tgx --data "$data" --steps 30 --progress=none \
    --checkpoint-dir ck-pd-mpi >/dev/null
  train pd.tgx --data "$data" --steps 30 --emulate-world-size 4 --checkpoint-dir ck-pd-emu >/dev/null
  $compare "$(ckpt ck-dp2 30)" "$(ckpt ck-pd-mpi 30)" ||
    fail "2 stages x 2 replicas under mpirun differ from 2 data-parallel replicas"
  $compare "$(ckpt ck-pd-emu 30)" "$(ckpt ck-pd-mpi 30)" ||
    fail "2 stages x 2 replicas: mpirun and emulation differ"
  # One replica of a data-parallel pipeline artifact: its allreduces stay
  # within each stage (a group of one), never across stages.
  $mpi -np 2 "$tgc" train pd.tgx --data "$data" --steps 60 --log-every 5 --progress=none \
    --metrics pd1.jsonl >/dev/null
  diff <(losses micro.jsonl) <(losses pd1.jsonl) >/dev/null ||
    fail "one replica of the data-parallel pipeline differs from the micro-batched process"
  # S x D resumes the process's checkpoint (the same model before micro-batching).
  cp -r ck-micro ck-sxd
  out=$($mpi -np 4 "$tgc" train pd.tgx --data "$data" --steps 70 --checkpoint-dir ck-sxd \
    --progress=none --resume 2>&1) || fail "2 x 2 did not resume the process's checkpoint: $out"
  grep -q "same params and optimizer state" <<<"$out" || fail "no cross-artifact resume: $out"
  out=$("$tgc" train pd.tgx --data "$data" --steps 2 --emulate-world-size 3 2>&1) &&
    fail "3 ranks ran 2 stages x replicas"
  grep -q "runs with a multiple of 2 ranks" <<<"$out" || fail "no error for 3 ranks: $out"
  echo "ok: 2 stages x 2 replicas (mpirun, threads) equal 2 data-parallel replicas bitwise"
  # Ctrl-C: every stage stops after the same step and rank 0 saves; the
  # pipeline and the process continue from that checkpoint to the same bits.
  "$tgc" train pipe2.tgx --data "$data" --steps 100000 --emulate-world-size 2 \
    --checkpoint-dir ck-int --checkpoint-every 100000 --progress=none >int.out 2>&1 &
  pid=$!
  sleep 2
  kill -INT $pid
  rc=0
  wait $pid || rc=$?
  [[ $rc == 130 ]] || fail "an interrupted pipeline exited $rc: $(cat int.out)"
  at=$(sed -n 's/.*interrupted at step \([0-9]*\);.*/\1/p' int.out)
  [[ -n $at && -f $(ckpt ck-int "$at") ]] || fail "no checkpoint at the interrupt: $(cat int.out)"
  cp -r ck-int ck-int-micro
  train pipe2.tgx --data "$data" --steps $((at + 20)) --emulate-world-size 2 --checkpoint-dir ck-int \
    --resume >/dev/null
  train micro.tgx --data "$data" --steps $((at + 20)) --checkpoint-dir ck-int-micro --resume >/dev/null
  $compare "$(ckpt ck-int $((at + 20)))" "$(ckpt ck-int-micro $((at + 20)))" ||
    fail "after the interrupt at step $at the pipeline and the process differ"
  echo "ok: Ctrl-C stops every stage at step $at with one checkpoint; both artifacts resume it alike"
  ;;
pipeline-memory)
  # A model whose params and Adam state (3 x 281 MB = 804 MiB) exceed a
  # rank's memory limit (a cgroup v1 memory.limit_in_bytes of 700 MiB): one
  # process is killed at that limit, 4 pipeline stages (each rank in its own
  # cgroup with that limit) train it.
  mem=/sys/fs/cgroup/memory
  if [[ $(id -u) != 0 || ! -w $mem ]]; then
    echo "skipped: needs root and the cgroup v1 memory controller ($mem)"
    exit 77
  fi
  limit=$((700 * 1024 * 1024))
  params=$(( (784 * 4096 + 4 * 4096 * 4096 + 4096 * 10) * 4 ))
  (( 3 * params > limit )) || fail "the model's params and Adam state fit the limit"
  cg=$mem/tgc-pipeline-$$
  cleanup() { for d in "$cg"-*; do [[ -d $d ]] && rmdir "$d" 2>/dev/null; done; true; }
  trap cleanup EXIT
  for g in single 0 1 2 3; do
    mkdir -p "$cg-$g"
    echo "$limit" >"$cg-$g/memory.limit_in_bytes"
  done
  python3 "$src/tests/dist/deep_mlp.py" 8 4096 4 >big.tg.mlir
  "$tgc" compile big.tg.mlir -o big-m2.tgx --microbatches=2 >/dev/null
  "$tgc" compile big.tg.mlir -o big-p4.tgx --pipeline-stages=4 --microbatches=2 >/dev/null
  "$tgc" inspect big-p4.tgx | grep "^  stage"
  if (echo $BASHPID >"$cg-single/cgroup.procs" && exec "$tgc" train big-m2.tgx --data "$data" \
      --steps 3 --progress=none) >single.out 2>&1; then
    fail "one process trained within $((limit >> 20)) MiB"
  fi
  oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$1/memory.oom_control"; }
  [[ $(oom_kills "$cg-single") -gt 0 ]] || fail "one process failed, but not by the OOM killer"
  echo "ok: one process fails at the $((limit >> 20)) MiB limit (peak $(( $(cat "$cg-single/memory.max_usage_in_bytes") >> 20 )) MiB)"
  # With a checkpoint every 2 steps, then resumed: rank 0 writes and reads
  # the whole model's checkpoint (804 MiB) a tensor at a time.
  stages() {
    $mpi -np 4 -x OMP_NUM_THREADS=1 bash -c \
      "echo \$\$ > $cg-\$OMPI_COMM_WORLD_RANK/cgroup.procs && exec $tgc train big-p4.tgx \
       --data $data --progress=none --checkpoint-dir ck --checkpoint-every 2 $*" >pipe.out 2>&1 ||
      { cat pipe.out; fail "4 stages did not train within the limit ($*)"; }
  }
  stages --steps 2
  stages --steps 3 --resume
  grep -q "^trained 3 steps" pipe.out || fail "no summary: $(cat pipe.out)"
  grep -q "^resuming from ck/ckpt-0000000002" pipe.out || fail "no resume: $(cat pipe.out)"
  [[ -f ck/ckpt-0000000003.safetensors ]] || fail "no checkpoint at step 3"
  # (The page cache of the data and the checkpoint files counts too and is
  # reclaimed at the limit: no OOM kill is what matters.)
  for r in 0 1 2 3; do
    [[ $(oom_kills "$cg-$r") == 0 ]] || fail "rank $r was killed at the limit"
    echo "rank $r: peak $(( $(cat "$cg-$r/memory.max_usage_in_bytes") >> 20 )) MiB of $((limit >> 20)) (page cache included)"
  done
  echo "ok: 4 pipeline stages train the model, each rank within $((limit >> 20)) MiB"
  ;;
faults)
  compile mlp32 fashion-mlp --batch 32 -- --data-parallel=allreduce
  compile avg32 fashion-mlp --batch 32 -- --data-parallel=average:2
  # Ranks that disagree fail at start, on every rank, naming the difference.
  start=$(now)
  if $mpi -np 1 "$tgc" train mlp32.tgx --data "$data" --steps 5 --progress=none --seed 1 : \
    -np 1 "$tgc" train mlp32.tgx --data "$data" --steps 5 --progress=none --seed 2 2>log.txt; then
    fail "different seeds were accepted"
  fi
  grep -q -- "--seed differs across ranks (rank 0: 1, rank 1: 2)" log.txt || { cat log.txt; fail "seed"; }
  echo "ok: a --seed mismatch fails in $(elapsed "$start") s"
  if $mpi -np 1 "$tgc" train mlp32.tgx --data "$data" --steps 5 --progress=none : \
    -np 1 "$tgc" train avg32.tgx --data "$data" --steps 5 --progress=none 2>log.txt; then
    fail "different artifacts were accepted"
  fi
  grep -q "the artifact (hash of its file) differs across ranks" log.txt || { cat log.txt; fail "hash"; }
  echo "ok: different artifacts fail at start"
  # A global batch the ranks cannot make; srun without MPI.
  if $mpi -np 2 "$tgc" train mlp32.tgx --data "$data" --steps 5 --progress=none \
    --global-batch 100 2>log.txt; then
    fail "--global-batch 100 with 2 x 32 was accepted"
  fi
  grep -q "has a batch of 32 per rank, so 2 ranks make 64" log.txt || { cat log.txt; fail "global batch"; }
  if $mpi -np 3 "$tgc" train mlp32.tgx --data "$data" --steps 5 --progress=none \
    --global-batch 100 2>log.txt; then
    fail "--global-batch 100 with 3 ranks was accepted"
  fi
  grep -q -- "--global-batch 100 is not divisible by the 3 ranks" log.txt || { cat log.txt; fail "divisible"; }
  if SLURM_STEP_NUM_TASKS=4 train mlp32.tgx --data "$data" --steps 5 2>log.txt; then
    fail "srun without MPI was accepted"
  fi
  grep -q "run it with srun --mpi=pmix" log.txt || { cat log.txt; fail "srun"; }
  echo "ok: --global-batch and srun without MPI are errors"
  # A killed rank ends the job within seconds; the last checkpoint resumes.
  (set +e; $mpi -np 2 "$tgc" train mlp32.tgx --data "$data" --epochs 100 --progress=none \
    --checkpoint-dir killed --checkpoint-every 100 >/dev/null 2>killed.log; echo $? >killed.rc) &
  for _ in $(seq 100); do [[ -e $(ckpt killed 200) ]] && break; sleep 0.2; done
  victim=$(pgrep -f "^$tgc train mlp32.tgx .*killed" | sort -n | tail -1)
  [[ -n $victim ]] || fail "no rank to kill"
  start=$(now)
  kill -KILL "$victim"
  wait
  took=$(elapsed "$start")
  [[ $(cat killed.rc) != 0 ]] || fail "the job survived a killed rank"
  awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "the job took $took s to end after a kill"
  echo "ok: a killed rank ends the job in $took s (exit $(cat killed.rc))"
  last=$(ls killed/ckpt-*.safetensors | tail -1)
  step=$((10#$(basename "$last" .safetensors | sed 's/ckpt-//')))
  $mpi -np 2 "$tgc" train mlp32.tgx --data "$data" --steps $((step + 20)) --progress=none \
    --checkpoint-dir killed --resume >/dev/null 2>log.txt || { cat log.txt; fail "resume"; }
  [[ -e $(ckpt killed $((step + 20))) ]] || fail "no checkpoint after resuming"
  echo "ok: resumed from $(basename "$last") after the kill"
  # A hung rank: the others' watchdog aborts the job, naming bucket, step, rank.
  (set +e; $mpi -np 2 "$tgc" train mlp32.tgx --data "$data" --epochs 100 --progress=none \
    --checkpoint-dir hung --checkpoint-every 100 --collective-timeout 3 >/dev/null 2>hung.log
   echo $? >hung.rc) &
  for _ in $(seq 100); do [[ -e $(ckpt hung 200) ]] && break; sleep 0.2; done
  victim=$(pgrep -f "^$tgc train mlp32.tgx .*hung" | sort -n | tail -1)
  start=$(now)
  kill -STOP "$victim"
  wait
  took=$(elapsed "$start")
  [[ $(cat hung.rc) != 0 ]] || fail "the job survived a hung rank"
  # Stopped in backward, the others wait for a bucket; elsewhere for the
  # step's stop flags or the metrics' allgather: either way the message names
  # the collective and step.
  grep -Eq "tgc: rank [01] of 2: step [0-9]+ .*(bucket [0-9]+ of train_step|the stop flags of step [0-9]+|an allgather) did not complete within 3 s" hung.log ||
    { cat hung.log; fail "watchdog"; }
  awk -v t="$took" 'BEGIN { exit !(t < 15) }' || fail "the watchdog took $took s"
  echo "ok: a hung rank is caught by the watchdog in $took s: $(grep -o 'tgc: rank . of 2: [^;]*' hung.log | head -1)"
  ;;
accuracy)
  # Fashion-MNIST MLP, 5 epochs: np=2 x 64 reaches np=1 x 128's test accuracy.
  compile one fashion-mlp --batch 128 --
  compile two fashion-mlp --batch 64 -- --data-parallel=allreduce
  train one.tgx --data "$data" --epochs 5 >one.txt 2>/dev/null
  $mpi -np 2 "$tgc" train two.tgx --data "$data" --epochs 5 --progress=none >two.txt 2>/dev/null
  a=$(sed -n 's/^test .*accuracy \([0-9.]*\).*/\1/p' one.txt)
  b=$(sed -n 's/^test .*accuracy \([0-9.]*\).*/\1/p' two.txt)
  [[ -n $a && -n $b ]] || fail "no test accuracy: $(cat one.txt two.txt)"
  awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.005 && b > 0.85) }' ||
    fail "test accuracy np=1 $a, np=2 $b"
  echo "ok: test accuracy np=1 $a, np=2 $b"
  ;;
compress)
  # --compress=bf16: mpirun equals the emulation bitwise, half the bytes travel,
  # and 5 epochs reach the uncompressed test accuracy.
  compile f32 fashion-mlp --batch 64 -- --data-parallel=allreduce
  compile bf16 fashion-mlp --batch 64 -- --data-parallel=allreduce --compress=bf16
  [[ $("$tgc" inspect bf16.tgx) == *"gradients as bf16 on the wire"* ]] || fail "inspect: no compression"
  same_as_emulated 2 bf16.tgx "$data" 100
  same_as_emulated 3 bf16.tgx "$data" 30 --mca btl self,tcp
  train f32.tgx --data "$data" --steps 100 --emulate-world-size 2 --checkpoint-dir f32 >/dev/null
  $compare "$(ckpt f32 100)" "$(ckpt emu2-bf16.tgx 100)" >/dev/null 2>&1 &&
    fail "bf16 on the wire gave the f32 bits"
  for c in f32 bf16; do
    $mpi -np 2 "$tgc" train $c.tgx --data "$data" --epochs 5 --progress=none >$c.txt 2>$c.err ||
      fail "$c: $(cat $c.err)"
  done
  grep -q "bf16 on the wire" bf16.err || fail "the run does not say how gradients travel"
  mib() { sed -n 's/^data parallel: rank 0 sent \([0-9.]*\) MiB.*/\1/p' "$1"; }
  ma=$(mib f32.err) mb=$(mib bf16.err)
  awk -v a="$ma" -v b="$mb" 'BEGIN { exit !(a > 0 && b > 0.49 * a && b < 0.51 * a) }' ||
    fail "bytes sent: f32 $ma MiB, bf16 $mb MiB"
  a=$(sed -n 's/^test .*accuracy \([0-9.]*\).*/\1/p' f32.txt)
  b=$(sed -n 's/^test .*accuracy \([0-9.]*\).*/\1/p' bf16.txt)
  awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.005 && b > 0.85) }' ||
    fail "test accuracy f32 $a, bf16 $b"
  echo "ok: 5 epochs, np=2: rank 0 sent $ma MiB (f32) -> $mb MiB (bf16); test accuracy f32 $a, bf16 $b"

  # --compress=threshold:T: bitwise the emulation (the residual carries over
  # steps on each rank), a quarter of the bytes or less, and over three
  # seeds (0, the default, 2, 3) a mean test accuracy within 0.5% of f32's.
  compile thr fashion-mlp --batch 64 -- --data-parallel=allreduce --compress=threshold:1e-4
  [[ $("$tgc" inspect thr.tgx) == *"gradients as threshold:1e-4 on the wire"* ]] ||
    fail "inspect: no threshold compression"
  same_as_emulated 2 thr.tgx "$data" 100
  same_as_emulated 3 thr.tgx "$data" 30 --mca btl self,tcp
  $compare "$(ckpt f32 100)" "$(ckpt emu2-thr.tgx 100)" >/dev/null 2>&1 &&
    fail "threshold encoding gave the f32 bits"
  acc() { sed -n 's/^test .*accuracy \([0-9.]*\).*/\1/p' "$1"; }
  for seed in 2 3; do
    $mpi -np 2 "$tgc" train f32.tgx --data "$data" --epochs 5 --seed $seed --progress=none \
      >f32-$seed.txt 2>/dev/null || fail "f32 seed $seed"
  done
  for seed in 0 2 3; do
    $mpi -np 2 "$tgc" train thr.tgx --data "$data" --epochs 5 --seed $seed --progress=none \
      >thr-$seed.txt 2>thr-$seed.err || fail "threshold seed $seed: $(cat thr-$seed.err)"
  done
  grep -q "threshold:1e-4 on the wire" thr-0.err || fail "the run does not say how gradients travel"
  mt=$(mib thr-0.err)
  awk -v a="$ma" -v b="$mt" 'BEGIN { exit !(b > 0 && b <= 0.26 * a) }' ||
    fail "bytes sent: f32 $ma MiB, threshold $mt MiB"
  fa="$a $(acc f32-2.txt) $(acc f32-3.txt)" ta="$(acc thr-0.txt) $(acc thr-2.txt) $(acc thr-3.txt)"
  awk -v f="$fa" -v t="$ta" 'BEGIN { n = split(f, x); split(t, y); for (i = 1; i <= n; i++) { mf += x[i] / n; mt += y[i] / n }
    d = mf - mt; if (d < 0) d = -d; exit !(n == 3 && d <= 0.005) }' ||
    fail "test accuracy over seeds 0, 2, 3: f32 $fa, threshold $ta"
  echo "ok: 5 epochs, np=2: rank 0 sent $ma MiB (f32) -> $mt MiB (threshold:1e-4); test accuracy f32 $fa, threshold $ta"
  ;;
shard)
  # --shard-optimizer-state=N (ZeRO stage 1): the bits of plain allreduce,
  # emulated and under mpirun, at N = 2 and 3; each rank holds 1/N of the
  # optimizer state; checkpoints hold it whole, as an unsharded run writes
  # them, and resume across sharding and world sizes.
  compile plain fashion-mlp --batch 64 -- --data-parallel=allreduce
  compile z2 fashion-mlp --batch 64 -- --data-parallel=allreduce --shard-optimizer-state=2
  compile z3 fashion-mlp --batch 64 -- --data-parallel=allreduce --shard-optimizer-state=3
  "$tgc" inspect z2.tgx >z2.txt
  grep -q "optimizer state sharded over 2 ranks (runs at exactly 2): shard.m, shard.v, 117573 floats" z2.txt ||
    { cat z2.txt; fail "inspect: no shard plan"; }
  grep -q "fc1.kernel.m" z2.txt && fail "z2.tgx still has per-param slots"
  train plain.tgx --data "$data" --steps 60 --emulate-world-size 2 --checkpoint-dir p2 >/dev/null
  train z2.tgx --data "$data" --steps 60 --emulate-world-size 2 --checkpoint-dir e2 >/dev/null
  $compare "$(ckpt p2 60)" "$(ckpt e2 60)" || fail "sharded (emulated 2) differs from plain allreduce"
  $mpi -np 2 "$tgc" train z2.tgx --data "$data" --steps 60 --progress=none --checkpoint-dir m2 >/dev/null
  $compare "$(ckpt p2 60)" "$(ckpt m2 60)" || fail "sharded (mpirun -np 2) differs from plain allreduce"
  train plain.tgx --data "$data" --steps 30 --emulate-world-size 3 --checkpoint-dir p3 >/dev/null
  $mpi -np 3 --mca btl self,tcp "$tgc" train z3.tgx --data "$data" --steps 30 --progress=none \
    --checkpoint-dir m3 >/dev/null
  $compare "$(ckpt p3 30)" "$(ckpt m3 30)" || fail "sharded (mpirun -np 3) differs from plain allreduce"
  echo "ok: --shard-optimizer-state=2 and 3 equal plain allreduce bitwise (emulated, mpirun)"
  # Resumed: sharded to sharded, and a sharded checkpoint by the plain artifact.
  $mpi -np 2 "$tgc" train z2.tgx --data "$data" --steps 30 --progress=none --checkpoint-dir r1 >/dev/null
  cp -r r1 r2
  $mpi -np 2 "$tgc" train z2.tgx --data "$data" --steps 60 --progress=none --checkpoint-dir r1 \
    --resume >/dev/null 2>&1
  $compare "$(ckpt p2 60)" "$(ckpt r1 60)" || fail "a resumed sharded run differs from an unbroken one"
  train plain.tgx --data "$data" --steps 60 --emulate-world-size 2 --checkpoint-dir r2 --resume \
    2>r2.err >/dev/null
  grep -q "written by another artifact ('z2.tgx') with the same params and optimizer state" r2.err ||
    { cat r2.err; fail "no note on resuming another artifact's checkpoint"; }
  $compare "$(ckpt p2 60)" "$(ckpt r2 60)" || fail "the plain artifact resumed a sharded checkpoint to other bits"
  # ... and at another world size (3 ranks, sharded over 3).
  $mpi -np 3 --mca btl self,tcp "$tgc" train z3.tgx --data "$data" --steps 70 --progress=none \
    --checkpoint-dir r2 --resume >/dev/null 2>&1 || fail "z3.tgx did not resume z2's checkpoint"
  [[ -f $(ckpt r2 70) ]] || fail "no checkpoint at step 70"
  echo "ok: sharded checkpoints resume sharded, unsharded and at another world size"
  # The wrong world size, and a model it cannot shard.
  if $mpi -np 2 "$tgc" train z3.tgx --data "$data" --steps 5 --progress=none 2>w.err >/dev/null; then
    fail "z3.tgx ran at 2 ranks"
  fi
  grep -q "was compiled with --shard-optimizer-state=3 and runs at exactly 3 ranks, not 2" w.err ||
    { cat w.err; fail "wrong world size message"; }
  "$example" fashion-mlp --batch 64 -o clip.tg.mlir
  sed -i 's/kind = "adam"/clip_norm = 1.000000e+00 : f64, kind = "adam"/' clip.tg.mlir
  if "$tgc" compile clip.tg.mlir --data-parallel=allreduce --shard-optimizer-state=2 -o clip.tgx 2>clip.err; then
    fail "a clipped update was sharded"
  fi
  grep -q "is not elementwise\|another shape" clip.err || { cat clip.err; fail "clip message"; }
  echo "ok: the wrong world size and a global-norm clip are clear errors"
  ;;
*)
  fail "unknown case $case_"
  ;;
esac
