#!/usr/bin/env bash
# README command 1, the main job: install, build, then build the Fashion-MNIST
# MLP with the frontend, print it as tg MLIR and evaluate one real test batch
# with the reference interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh fashion-mnist-eval
exec build/examples/fashion-mnist-eval "$@"
