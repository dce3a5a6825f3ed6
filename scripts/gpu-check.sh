#!/bin/bash
# The one prepared check of the CUDA backend on a GPU machine (which has a
# driver and PyTorch but no MLIR or oneDNN). Unpacks build/gpu-bundle.tar.xz
# (made here by scripts/gpu-bundle.sh and carried over) and runs, against
# references computed by the CPU backend:
#   0. every op case of the compiled-code tests (one generated kernel,
#      cuBLASLt or cuDNN call each) against the interpreter's results, with
#      every device block NaN before it is used (TGRT_CUDA_POISON=1);
#   1. 5 train steps of the MLP, the MLP data-parallel (NCCL, one rank), the
#      CNN and the char LSTM: losses and parameters within rtol 1e-3 (the
#      LSTM: losses and parameter changes in relative norm 1e-3), with
#      every device block the allocator hands out filled with NaN first
#      (TGRT_CUDA_POISON=1), so an output a kernel leaves unwritten shows;
#   2. one SGD step of the MLP and CNN: loss, and each parameter's change
#      (-lr times its gradient) within 1e-4 in relative norm;
#   3. 20 steps of the MLP and CNN: losses within 1e-3;
#   4. the MLP with the PTX JIT-compiled by the driver (CUDA_FORCE_PTX_JIT=1);
#   5. CUDA graph replays bitwise equal to plain launches (TGRT_CUDA_GRAPHS=0);
#   6. compute-sanitizer on two MLP and CNN steps, when it is installed;
#   7. median train step of the MLP (batch 128 and 4096) and CNN against
#      PyTorch CUDA eager and torch.compile, TF32 off.
# Output (and $OUT/gpu-check.txt when $OUT is set) is what goes into the
# issue note. Exit 0 passed, 1 failed, 77 skipped (no GPU or driver).
#   scripts/gpu-check.sh [BUNDLE.tar.xz]
set -uo pipefail
bundle=${1:-build/gpu-bundle.tar.xz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$bundle" -C "$work" || { echo "gpu-check: cannot unpack $bundle"; exit 1; }
b=$work/gpu-bundle m=$work/gpu-bundle/models
# cuBLASLt, cuDNN and NCCL are dlopened: from a toolkit if there is one, else
# from PyTorch's nvidia-* wheels (the GPU machines have PyTorch).
extra=$(python3 -c 'import nvidia, os, glob; print(":".join(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], "*", "lib")))))' 2>/dev/null || true)
export LD_LIBRARY_PATH=$b/lib${extra:+:$extra}:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
log=${OUT:-$work}/gpu-check.txt
[[ -n ${OUT:-} ]] || log=/dev/null
check=$b/bin/tg-step-check
failed=()

# run LABEL CMD...: runs one check, prints its output, exit code and time.
run() {
  local label=$1 start rc
  shift
  echo "-- $label"
  start=$(date +%s.%N)
  "$@"
  rc=$?
  echo "   exit $rc, $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
  [[ $rc == 0 ]] || failed+=("$label")
  return $rc
}

{
  echo "== $(date -u +%FT%TZ) $(uname -srm)"
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv 2>&1 || echo "no nvidia-smi"
  "$check" "$m/mlp-cuda.tgx" --compare "$m/ref-mlp" --steps 1 --loss-only --rtol 1 >"$work/probe.txt" 2>&1
  if [[ $? == 77 ]]; then
    cat "$work/probe.txt"
    echo "== gpu-check: SKIPPED (nothing could run here: no GPU or driver)"
    exit 77
  fi

  echo "== 0. every op case of the compiled-code tests against the interpreter, results NaN first"
  TGRT_CUDA_POISON=1 run "op cases" "$b/bin/tg-op-check" "$m/ops-cuda.tgx" "$m/ops"

  echo "== 1. five train steps against the CPU backend, new device blocks NaN"
  for spec in "mlp 10 mlp" "mlp-dp 10 mlp" "cnn 10 cnn"; do
    read -r name classes ref <<<"$spec"
    TGRT_CUDA_POISON=1 run "$name" "$check" "$m/$name-cuda.tgx" --compare "$m/ref-$ref" \
      --classes "$classes" --steps 5 --rtol 1e-3 --atol 1e-5
  done
  # RMSProp scales each gradient by its own size, so the LSTM's smallest ones
  # move by lr whatever their rounding: losses and whole parameters' changes
  # (relative norm) instead of single elements.
  TGRT_CUDA_POISON=1 run "lstm" "$check" "$m/lstm-cuda.tgx" --compare "$m/ref-lstm" \
    --classes 77 --steps 5 --norm 1e-3

  echo "== 2. gradients: one SGD step, relative norm 1e-4"
  for name in mlp-sgd cnn-sgd; do
    TGRT_CUDA_POISON=1 run "$name" "$check" "$m/$name-cuda.tgx" --compare "$m/ref-$name" \
      --steps 1 --norm 1e-4
  done

  echo "== 3. losses over 20 steps, rtol 1e-3"
  for name in mlp cnn; do
    run "$name" "$check" "$m/$name-cuda.tgx" --compare "$m/ref-$name-20" --steps 20 \
      --loss-only --rtol 1e-3 --atol 0
  done

  echo "== 4. the PTX JIT-compiled by the driver (no SASS used)"
  CUDA_FORCE_PTX_JIT=1 run "mlp, forced PTX JIT" "$check" "$m/mlp-cuda.tgx" \
    --compare "$m/ref-mlp" --steps 5

  echo "== 5. CUDA graph replays bitwise equal to plain launches"
  for name in mlp cnn; do
    mkdir -p "$work/plain-$name"
    TGRT_CUDA_GRAPHS=0 "$check" "$m/$name-cuda.tgx" --out "$work/plain-$name" --steps 5 >/dev/null
    run "$name, graphs on vs off" "$check" "$m/$name-cuda.tgx" --compare "$work/plain-$name" \
      --steps 5 --rtol 0 --atol 0
  done

  echo "== 6. compute-sanitizer"
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
  if [[ -z $sanitizer ]]; then
    echo "-- not installed here: not run"
  else
    for name in mlp cnn; do
      run "$name, memcheck" "$sanitizer" --tool memcheck --error-exitcode 1 \
        "$check" "$m/$name-cuda.tgx" --compare "$m/ref-$name" --steps 2 --loss-only
    done
  fi

  echo "== 7. median train step (ms): tgc against PyTorch CUDA, TF32 off"
  for spec in "mlp 128" "mlp4096 4096" "cnn 64"; do
    read -r name batch <<<"$spec"
    model=${name%4096}
    tg=$("$check" "$m/$name-cuda.tgx" --out "$work" --steps 1 --time 100 | awk '/^time/ { print $(NF-4) }')
    torch=$(timeout 150 python3 "$b/bin/models_torch.py" "$model" --device cuda --batch "$batch" \
      --steps 100 --warmup 10 2>&1)
    eager=$(awk '/^pytorch-eager/ { for (i = 1; i <= NF; ++i) if ($i == "median") print $(i + 1) }' <<<"$torch")
    compiled=$(awk '/^torch.compile/ { for (i = 1; i <= NF; ++i) if ($i == "median") print $(i + 1) }' <<<"$torch")
    grep '^#' <<<"$torch" | head -1
    [[ -n $eager ]] || echo "   PyTorch did not run: $(tail -1 <<<"$torch")"
    awk -v n="$model batch $batch" -v t="${tg:-nan}" -v e="${eager:-nan}" -v c="${compiled:-nan}" \
      'BEGIN { printf "%-18s tgc %8s  eager %8s (%.2fx)  torch.compile %8s (%.2fx)\n", n, t, e, e / t, c, c / t }'
    [[ -n $tg ]] || failed+=("timing $name")
  done

  if ((${#failed[@]})); then
    echo "== gpu-check: FAILED (${failed[*]})"
    exit 1
  fi
  echo "== gpu-check: passed"
  exit 0
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
