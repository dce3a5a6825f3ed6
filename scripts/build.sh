#!/usr/bin/env bash
# Configures (once) and builds tgc in build/. Incremental: a second run only
# rebuilds what changed (and ccache keeps objects across clean builds).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${TG_BUILD_DIR:-build}
JOBS=${TG_JOBS:-$(nproc)}
# TG_WERROR=1 (scripts/test.sh): warnings are errors from then on. Without it
# the setting is left as it is, so alternating the README's two commands
# never reconfigures (and rebuilds) the tree.
WERROR=()
if [[ ${TG_WERROR:-0} == 1 ]] &&
   ! grep -q '^TG_WERROR:BOOL=ON$' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  WERROR=(-DTG_WERROR=ON)
fi
if [[ ! -f "$BUILD_DIR/build.ninja" || ${#WERROR[@]} -gt 0 ]]; then
  mkdir -p "$BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${WERROR[@]}" \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-19/build/utils/lit/lit.py >"$BUILD_DIR/configure.log" 2>&1 \
    || { cat "$BUILD_DIR/configure.log"; exit 1; }
fi
ninja -C "$BUILD_DIR" -j "$JOBS" "$@"
