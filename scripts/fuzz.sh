#!/bin/bash
# Fuzzes every reader of user files with libFuzzer under ASan + UBSan:
#   scripts/fuzz.sh [CPU_SECONDS_PER_TARGET] [TARGET...]     (default 60 s, all)
# Builds build-fuzz/ with clang-19 (-DTG_FUZZ=ON -DTG_SANITIZE=address,undefined),
# starts each target from tests/fuzz/corpus/<target> (new inputs go to
# build-fuzz/corpus/<target>, the committed corpus is not touched) and
# copies crash/timeout/leak inputs to tests/fuzz/crashes/<target>/, which
# the normal suite replays (ctest -L fuzz). Exit 1 if any target crashed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(npy idx text safetensors manifest tgx mlir shards images cli)
"$root/scripts/setup.sh" clang-19 libclang-rt-19-dev
build=$root/build-fuzz
if [[ ! -f $build/build.ninja ]]; then
  CC=clang-19 CXX=clang++-19 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTG_FUZZ=ON -DTG_SANITIZE=address,undefined -DTG_ENABLE_CUDA=OFF \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-19/build/utils/lit/lit.py >/dev/null
fi
ninja -C "$build" -j"$(nproc)" "${targets[@]/#/tg-fuzz-}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
# The readers take files: each input is written to $TMPDIR first. On a disk
# that makes the I/O-bound targets (text, idx, npy) wait for writeback.
if [[ -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]]; then
  export TMPDIR=/dev/shm
fi
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# User + system seconds of this script's finished children (the fuzzers) into
# $cpu. `times` must run in this shell: in a $(...) subshell it reports that one.
cpu_now() { times >"$build/.times"; cpu=$(awk 'NR == 2 { split($1, u, "m"); split($2, s, "m");
  printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$build/.times"); }
status=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t artifacts=$build/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz $t for $seconds CPU seconds"
  # cli: a command line runs the compiler or trainer (seconds under ASan), and
  # tgc's own output is noise (sanitizer reports still reach the log).
  extra=()
  [[ $t == cli ]] && extra=(-timeout=60 -close_fd_mask=3) || extra=(-timeout=10)
  # The budget is CPU time: on a busy machine a run gets less than its wall
  # time, so runs repeat (continuing from the grown corpus) until it is spent.
  left=$seconds total=0 runs=0 crashed=0
  while ((left >= 10 && crashed == 0)); do
    cpu_now; start_cpu=$cpu
    if ! (cd "$build" && "./tests/fuzz/tg-fuzz-$t" "$corpus" "$root/tests/fuzz/corpus/$t" \
            -max_total_time="$left" "${extra[@]}" -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$artifacts/" -print_final_stats=1 2>"$build/fuzz-$t.log"); then
      crashed=1 status=1
      mkdir -p "$root/tests/fuzz/crashes/$t"
      cp "$artifacts"/* "$root/tests/fuzz/crashes/$t/" 2>/dev/null || true
      grep -E "ERROR|SUMMARY|runtime error" "$build/fuzz-$t.log" | head -5
      echo "   crash input(s) in tests/fuzz/crashes/$t (log: $build/fuzz-$t.log)"
    fi
    cpu_now; used=$((cpu - start_cpu))
    total=$((total + used)) left=$((left - used)) runs=$((runs + 1))
    echo "$(date -u +%FT%TZ) $t cpu_seconds=$used crashed=$crashed $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz-$t.log")" >>"$build/fuzz-budget.log"
  done
  echo "   $t: $total CPU seconds in $runs run(s)$( ((crashed)) && echo ", CRASHED")"
done
exit $status
