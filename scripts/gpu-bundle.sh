#!/bin/bash
# Packs what a GPU machine (driver, no MLIR/oneDNN) needs to check the CUDA
# backend: tg-step-check, libtgrt + libtgrt_cuda and the shared libraries they
# use (not glibc's), CUDA artifacts of the example models, their reference
# steps computed here by the CPU artifacts of the same models (which the test
# suite checks against the interpreter), and the PyTorch peer for timings. Writes
# build/gpu-bundle.tar.xz (for the device tool's `carry`); scripts/gpu-check.sh
# runs it there.
#   scripts/gpu-bundle.sh [--emulate] [BUILD_DIR]
# --emulate compiles the "CUDA" artifacts with --cuda-emulate (kernels as CPU
# loops), into build/gpu-bundle-emulated.tar.xz: a dry run of gpu-check.sh on a
# machine without a GPU (ctest gpu.check-script.emulated).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cudaflags=(--target=cuda) suffix=
if [[ ${1:-} == --emulate ]]; then
  cudaflags=(--target=cuda --cuda-emulate) suffix=-emulated
  shift
fi
build=$(cd "${1:-$root/build}" && pwd)
stage=$build/gpu-bundle$suffix out=$stage/gpu-bundle
rm -rf "$stage" && mkdir -p "$out/bin" "$out/lib" "$out/models"
tgc=$build/tools/tgc example=$build/examples/tg-example check=$build/tests/gpu/tg-step-check
opcheck=$build/tests/gpu/tg-op-check opcases=$build/tests/gpu/tg-op-cases
libs=("$build/runtime/libtgrt.so")
[[ -n $suffix ]] || libs+=("$build/runtime/libtgrt_cuda.so") # emulated artifacts need none
for f in "$check" "$opcheck" "$opcases" "${libs[@]}"; do
  [[ -e $f ]] || { echo "gpu-bundle: missing $f (build with TG_ENABLE_CUDA=ON first)" >&2; exit 1; }
done
cp "$check" "$opcheck" "$out/bin/"
cp "${libs[@]}" "$out/lib/"
ldd "$check" "$build/runtime/libtgrt.so" | awk '/=> \// {print $3}' | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*|libtgrt*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
cp "$root/scripts/gpu-check.sh" "$out/"
cp "$root/bench/models_torch.py" "$out/bin/"
cd "$out/models"
# Every op case of the compiled-code tests (each generated kernel, cuBLASLt
# and cuDNN call on its own), with the interpreter's results.
mkdir ops
"$opcases" ops >/dev/null
"$tgc" compile ops/ops.tg.mlir "${cudaflags[@]}" -o ops-cuda.tgx 2>/dev/null
rm ops/ops.tg.mlir
# name, classes, steps of the reference (0: none, timing only), tg-example arguments.
# The *-sgd models take one plain SGD step: what it changes is -lr times the
# gradient, compared in relative norm; the -20 references are 20 steps' losses.
models=("mlp 10 5 fashion-mlp --batch 128"
        "mlp-20 10 20 fashion-mlp --batch 128"
        "mlp-sgd 10 1 fashion-mlp --batch 128 --optimizer sgd --lr 0.1"
        "mlp4096 10 0 fashion-mlp --batch 4096"
        "cnn 10 5 fashion-cnn --batch 64"
        "cnn-20 10 20 fashion-cnn --batch 64"
        "cnn-sgd 10 1 fashion-cnn --batch 64 --optimizer sgd --lr 0.1"
        "lstm 77 5 char-lstm --batch 32 --steps 50 --hidden 200 --lr 0.01")
for spec in "${models[@]}"; do
  read -r name classes steps args <<<"$spec"
  # shellcheck disable=SC2086
  "$example" $args -o $name.tg.mlir
  if [[ $name != *-20 ]]; then # the -20 references reuse their model's artifact
    "$tgc" compile $name.tg.mlir "${cudaflags[@]}" -o $name-cuda.tgx 2>/dev/null
  fi
  if [[ $steps != 0 ]]; then
    "$tgc" compile $name.tg.mlir -o $name-cpu.tgx
    mkdir -p ref-$name
    "$check" $name-cpu.tgx --out ref-$name --classes "$classes" --steps "$steps" >/dev/null
  fi
  if [[ $name == mlp ]]; then
    # Data parallel as one rank: its buckets go through NCCL on the GPU and
    # must give the plain model's steps.
    "$tgc" compile $name.tg.mlir "${cudaflags[@]}" --data-parallel=allreduce -o $name-dp-cuda.tgx
  fi
  rm -f $name-cpu.tgx $name.tg.mlir
done
cd "$stage"
tar -cJf "$build/gpu-bundle$suffix.tar.xz" gpu-bundle
cd "$build"
echo "gpu-bundle: wrote $build/gpu-bundle$suffix.tar.xz ($(du -h gpu-bundle$suffix.tar.xz | cut -f1)); on the GPU machine: scripts/gpu-check.sh"
