#!/bin/bash
# Packs what a GPU machine (driver, no MLIR/oneDNN) needs to check the CUDA
# backend: tg-step-check, libtgrt + libtgrt_cuda and the shared libraries they
# use (not glibc's), CUDA artifacts of the example models and their reference
# steps computed here by the CPU artifacts of the same models. Writes
# build/gpu-bundle.tar.xz (for the device tool's `carry`); scripts/gpu-check.sh
# runs it there.
#   scripts/gpu-bundle.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=$build/gpu-bundle
rm -rf "$out" && mkdir -p "$out/bin" "$out/lib" "$out/models"
tgc=$build/tools/tgc example=$build/examples/tg-example check=$build/tests/gpu/tg-step-check
for f in "$check" "$build/runtime/libtgrt.so" "$build/runtime/libtgrt_cuda.so"; do
  [[ -e $f ]] || { echo "gpu-bundle: missing $f (build with TG_ENABLE_CUDA=ON first)" >&2; exit 1; }
done
cp "$check" "$out/bin/"
cp "$build/runtime/libtgrt.so" "$build/runtime/libtgrt_cuda.so" "$out/lib/"
ldd "$check" "$build/runtime/libtgrt.so" | awk '/=> \// {print $3}' | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libgcc_s.so*|libtgrt*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
cp "$root/scripts/gpu-check.sh" "$out/"
cd "$out/models"
# name, classes, tg-example arguments
models=("mlp 10 fashion-mlp --batch 128"
        "lstm 77 char-lstm --batch 32 --steps 50 --hidden 200 --lr 0.01"
        "cnn 10 fashion-cnn --batch 64")
for spec in "${models[@]}"; do
  read -r name classes args <<<"$spec"
  # shellcheck disable=SC2086
  "$example" $args -o $name.tg.mlir
  "$tgc" compile $name.tg.mlir -o $name-cpu.tgx
  "$tgc" compile $name.tg.mlir --target=cuda -o $name-cuda.tgx 2>/dev/null
  mkdir -p ref-$name
  "$check" $name-cpu.tgx --out ref-$name --classes "$classes" --steps 5 >/dev/null
  echo "$name $classes $name" >>list.txt
  if [[ $name == mlp ]]; then
    # Data parallel as one rank: its buckets go through NCCL on the GPU and
    # must give the plain model's steps.
    "$tgc" compile $name.tg.mlir --target=cuda --data-parallel=allreduce -o $name-dp-cuda.tgx
    echo "$name-dp $classes $name" >>list.txt
  fi
  rm -f $name-cpu.tgx $name.tg.mlir
done
cd "$build"
tar -cJf gpu-bundle.tar.xz gpu-bundle
echo "gpu-bundle: wrote $build/gpu-bundle.tar.xz ($(du -h gpu-bundle.tar.xz | cut -f1)); on the GPU machine: scripts/gpu-check.sh"
