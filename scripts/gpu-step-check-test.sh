#!/bin/sh
# ctest gpu.step-check.MODE: 5 train steps of the Fashion MLP and a small char
# LSTM on the CPU backend (the reference), then the same artifact compiled
# with --target=cuda: `emulated` (kernels as CPU loops) must match; `cuda`
# runs on a GPU and exits 77 (skipped) without one. Then the MLP compiled
# data-parallel, as one rank.
set -eu
build=$1 mode=$2
tgc=$build/tools/tgc example=$build/examples/tg-example check=$build/tests/gpu/tg-step-check
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
$example fashion-mlp --batch 32 -o mlp.tg.mlir
# RMSProp at its default 0.1 diverges in a few steps, which turns rounding
# differences (another summation order) into large ones: lr 0.01 here.
$example char-lstm --batch 4 --steps 8 --hidden 32 --lr 0.01 -o lstm.tg.mlir
for m in mlp lstm; do
  classes=10
  [ $m = lstm ] && classes=77
  $tgc compile $m.tg.mlir -o $m-cpu.tgx 2>/dev/null
  mkdir -p ref-$m
  $check $m-cpu.tgx --out ref-$m --classes $classes
  if [ "$mode" = emulated ]; then
    $tgc compile $m.tg.mlir --target=cuda --cuda-emulate -o $m-test.tgx
  elif ! $tgc compile $m.tg.mlir --target=cuda -o $m-test.tgx 2>compile.log; then
    cat compile.log
    grep -q "no CUDA toolkit" compile.log && exit 77 # skipped: nothing to run
    exit 1
  fi
  $check $m-test.tgx --compare ref-$m --classes $classes --rtol 1e-3 --atol 1e-5
done
# The MLP compiled data-parallel, run as one rank (a single-process
# communicator; on a GPU: NCCL with one rank) gives the plain model's steps.
if [ "$mode" = emulated ]; then
  $tgc compile mlp.tg.mlir --target=cuda --cuda-emulate --data-parallel=allreduce -o mlp-dp.tgx
else
  $tgc compile mlp.tg.mlir --target=cuda --data-parallel=allreduce -o mlp-dp.tgx
fi
$check mlp-dp.tgx --compare ref-mlp --classes 10 --rtol 1e-3 --atol 1e-5
