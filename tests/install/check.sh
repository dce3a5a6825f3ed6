#!/bin/bash
# ctest install.external-project: installs the build into a temporary prefix,
# moves the installed tree (it must not depend on where it was installed or
# on the build tree), then builds tests/install/app against it twice, with
# CMake (find_package(tgc) + tgc::frontend) and with pkg-config, runs both,
# and compiles, inspects and runs the app's graph with the installed tgc; the
# CMake build also gets `trainer` (tg::train, checkpoints, resume, sampling),
# which runs, and the pkg-config one links it.
#   tests/install/check.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
app=$(cd "$(dirname "$0")/app" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/staged" >/dev/null
mv "$work/staged" "$work/tgc"
prefix=$work/tgc
for f in "$prefix/bin/tgc" "$prefix/lib/libtgrt.so"; do
  if readelf -d "$f" | grep -E "R(UN)?PATH" | grep -qF "$build"; then
    echo "FAIL: $f has a run path into the build tree:"; readelf -d "$f" | grep -E "R(UN)?PATH"
    exit 1
  fi
done
echo "== CMake: find_package(tgc) + tgc::frontend"
cmake -S "$app" -B "$work/app-cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
# A consumer's configure says nothing that reads like an error.
if grep -iE "error|warning|could not|not found" "$work/configure.log"; then
  echo "FAIL: configuring against the installed tgc printed the lines above"; exit 1
fi
cmake --build "$work/app-cmake" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/app-cmake/app" "$work/app.tg.mlir"
mkdir -p "$work/trainer"
"$work/app-cmake/trainer" "$work/trainer"
echo "== pkg-config tgc"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
c++ -O1 "$app/main.cpp" -o "$work/app-pc" $(pkg-config --cflags --libs tgc)
"$work/app-pc" "$work/app2.tg.mlir"
c++ -O1 "$app/trainer.cpp" -o "$work/trainer-pc" $(pkg-config --cflags --libs tgc)
echo "== installed tgc"
"$prefix/bin/tgc" compile "$work/app.tg.mlir" -o "$work/app.tgx"
"$prefix/bin/tgc" inspect "$work/app.tgx" >"$work/inspect.txt"
grep -q "entry train_step" "$work/inspect.txt" || {
  echo "FAIL: tgc inspect shows no train_step"; exit 1; }
"$prefix/bin/tgc" run "$work/app.tgx" --fn predict >"$work/run.txt"
grep -q "ran predict 1 time" "$work/run.txt" || { echo "FAIL: tgc run:"; cat "$work/run.txt"; exit 1; }
echo "install: passed ($prefix, moved after installing)"
