#!/bin/bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer:
#   scripts/sanitize.sh [CTEST_ARGS...]
# Builds build-asan/ (-DTG_SANITIZE=address,undefined, every tgc library,
# tool and test instrumented; errors abort, so a test that trips one fails)
# and runs ctest there. TG_JOBS sets the build's parallelism. Generated
# artifacts (.tgx) are compiled by tgc's own LLVM and not instrumented; the
# runtime that calls them is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build=$root/build-asan
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTG_SANITIZE=address,undefined \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-19/build/utils/lit/lit.py >/dev/null
fi
ninja -C "$build" -j "${TG_JOBS:-$(nproc)}"
# allocator_may_return_null: a huge allocation fails as in a normal build
# (null / std::bad_alloc), which the out-of-memory tests check.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:suppressions=$root/scripts/asan.supp
export LSAN_OPTIONS=suppressions=$root/scripts/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-19/bin/llvm-symbolizer
cd "$build"
status=0
ctest --output-on-failure --timeout 900 -j "${TG_JOBS:-$(nproc)}" -LE dist "$@" || status=1
# Under mpirun, leak checking is off: Open MPI dlcloses its components at
# MPI_Finalize, so what they allocated at start-up is reported from an
# unknown module and cannot be told apart or suppressed. ASan's memory
# errors and UBSan stay on.
ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} \
  ctest --output-on-failure --timeout 900 -j "${TG_JOBS:-$(nproc)}" -L dist "$@" || status=1
exit $status
