#!/usr/bin/env bash
# README command 1, the main job: install what is missing, build, compile the
# Fashion-MNIST MLP ahead of time into an artifact and train it for one epoch
# on one CPU process, printing the test accuracy. Extra arguments go to
# `tgc train` (e.g. --epochs 5, --checkpoint-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh tgc tg-example
OUT=build/main
DATA=/usr/share/datasets/fashion-mnist
mkdir -p "$OUT"
build/examples/tg-example fashion-mlp -o "$OUT/fashion-mlp.tg.mlir"
build/tools/tgc compile "$OUT/fashion-mlp.tg.mlir" -o "$OUT/fashion-mlp.tgx"
exec build/tools/tgc train "$OUT/fashion-mlp.tgx" --data "$DATA" --epochs 1 \
  --metrics "$OUT/metrics.jsonl" "$@"
