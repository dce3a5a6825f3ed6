#!/bin/bash
# The one prepared check of the CUDA backend on a GPU machine (which has a
# driver but no MLIR or oneDNN). Unpacks build/gpu-bundle.tar.xz (made here by
# scripts/gpu-bundle.sh and carried over), shows the GPU, then runs 5 train
# steps of each example model's CUDA artifact (and of the MLP compiled
# data-parallel, through NCCL as one rank) and compares losses and final
# parameters with the CPU backend's. Output (and $OUT/gpu-check.txt when $OUT
# is set) is what goes into the issue note.
#   scripts/gpu-check.sh [BUNDLE.tar.xz]
set -uo pipefail
bundle=${1:-build/gpu-bundle.tar.xz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$bundle" -C "$work" || { echo "gpu-check: cannot unpack $bundle"; exit 1; }
b=$work/gpu-bundle
# cuBLASLt, cuDNN and NCCL are dlopened: from a toolkit if there is one, else
# from PyTorch's nvidia-* wheels (the GPU machines have PyTorch).
extra=$(python3 -c 'import nvidia, os, glob; print(":".join(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], "*", "lib")))))' 2>/dev/null || true)
export LD_LIBRARY_PATH=$b/lib${extra:+:$extra}:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
log=${OUT:-$work}/gpu-check.txt
[[ -n ${OUT:-} ]] || log=/dev/null
{
  echo "== $(date -u +%FT%TZ) $(uname -srm)"
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv 2>&1 || echo "no nvidia-smi"
  status=0 ran=0
  while read -r name classes ref; do
    echo "== $name"
    start=$(date +%s.%N)
    "$b/bin/tg-step-check" "$b/models/$name-cuda.tgx" --compare "$b/models/ref-$ref" \
      --classes "$classes" --steps 5 --rtol 1e-3 --atol 1e-5
    rc=$?
    echo "exit $rc, $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
    [[ $rc == 77 ]] || ran=1
    [[ $rc == 0 || $rc == 77 ]] || status=1
  done <"$b/models/list.txt"
  if [[ $ran == 0 ]]; then
    echo "== gpu-check: SKIPPED (nothing could run here: no GPU or driver)"
    exit 77
  fi
  echo "== gpu-check: $([[ $status == 0 ]] && echo passed || echo FAILED)"
  exit $status
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
