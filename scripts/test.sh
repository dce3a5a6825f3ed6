#!/usr/bin/env bash
# README command 2: install, build, run the whole suite (GoogleTest + lit)
# through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
TG_WERROR=1 scripts/build.sh
cd build
ctest --output-on-failure -j "${TG_JOBS:-$(nproc)}" "$@"
