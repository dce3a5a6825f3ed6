#!/bin/bash
# Fuzzes every reader of user files with libFuzzer under ASan + UBSan:
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, all)
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
[[ ${#targets[@]} -gt 0 ]] || targets=(npy idx text safetensors manifest tgx mlir)
"$root/scripts/setup.sh" clang-19 libclang-rt-19-dev
build=$root/build-fuzz
if [[ ! -f $build/build.ninja ]]; then
  CC=clang-19 CXX=clang++-19 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTG_FUZZ=ON -DTG_SANITIZE=address,undefined -DTG_ENABLE_CUDA=OFF \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-19/build/utils/lit/lit.py >/dev/null
fi
ninja -C "$build" -j"$(nproc)" "${targets[@]/#/tg-fuzz-}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t artifacts=$build/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz $t for $seconds s"
  if ! (cd "$build" && "./tests/fuzz/tg-fuzz-$t" "$corpus" "$root/tests/fuzz/corpus/$t" \
          -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
          -artifact_prefix="$artifacts/" -print_final_stats=1 2>"$build/fuzz-$t.log"); then
    status=1
    mkdir -p "$root/tests/fuzz/crashes/$t"
    cp "$artifacts"/* "$root/tests/fuzz/crashes/$t/" 2>/dev/null || true
    grep -E "ERROR|SUMMARY|runtime error" "$build/fuzz-$t.log" | head -5
    echo "   crash input(s) in tests/fuzz/crashes/$t (log: $build/fuzz-$t.log)"
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/fuzz-$t.log" | tr '\n' ' '
  echo
done
exit $status
