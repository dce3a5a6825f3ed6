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
# Under mpirun, leak checking stays on: Open MPI dlcloses its components at
# MPI_Finalize, so nodlclose.so (preloaded; the uninstrumented mpirun and
# tools ignore it) keeps them mapped and lsan-mpi.supp names what they leave.
# The slow unwinder follows glibc frames (vasprintf) back into them.
cc -shared -fPIC -O2 "$root/scripts/nodlclose.c" -o "$build/nodlclose.so"
LD_PRELOAD=$build/nodlclose.so \
  ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0:fast_unwind_on_malloc=0 \
  LSAN_OPTIONS=suppressions=$root/scripts/lsan-mpi.supp \
  ctest --output-on-failure --timeout 900 -j "${TG_JOBS:-$(nproc)}" -L dist "$@" || status=1
exit $status
