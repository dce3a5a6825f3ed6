#!/bin/sh
# MLP 784-512-512-10, batch 128, RMSProp train step: tgc (fused and unfused)
# and PyTorch measured side by side in one run on the same threads, then a
# profile of the compiled step. Usage: bench/run_mlp.sh [THREADS]
set -eu
cd "$(dirname "$0")/.."
THREADS=${1:-2}
scripts/build.sh >/dev/null
BIN=build/bench/tg-bench-mlp
# The peer: the bench virtualenv (PyTorch 2 from PyPI) when it exists, else
# Debian's PyTorch 1.13.
PY=${TG_BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv-bench/bin/python ]; then PY=.venv-bench/bin/python; else PY=/usr/bin/python3; fi
fi
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "run_mlp.sh: no PyTorch for $PY; install the peer first (bench only):" >&2
  echo "  python3 -m venv .venv-bench && .venv-bench/bin/pip install torch   (PyTorch 2, PyPI)" >&2
  echo "  or: apt-get install python3-torch libopenblas0-pthread   (PyTorch 1.13, OpenBLAS)" >&2
  exit 1
fi
export OMP_NUM_THREADS=$THREADS
echo "# $(date -u +%F) on $(nproc) cores, $THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
TG=$("$BIN" --steps 300 --warmup 30)
echo "$TG"
TGU=$("$BIN" --steps 300 --warmup 30 --no-fusion)
echo "$TGU"
# OpenBLAS: unset the variables that pin a slow kernel (see ../shared/DESIGN.md).
PT=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$THREADS "$PY" bench/mlp_torch.py --steps 300 --warmup 30 --threads "$THREADS" 2>/dev/null)
echo "$PT"
median() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' | head -1; }
T=$(echo "$TG" | median)
U=$(echo "$TGU" | median)
E=$(echo "$PT" | grep eager | median)
C=$(echo "$PT" | grep torch.compile | median)
echo "ratio pytorch-eager / tgc: $(echo "$E / $T" | bc -l | cut -c1-5)  (above 1: tgc is faster)"
if [ -n "$C" ]; then
  echo "ratio torch.compile / tgc: $(echo "$C / $T" | bc -l | cut -c1-5)"
fi
echo "ratio tgc-unfused / tgc:   $(echo "$U / $T" | bc -l | cut -c1-5)"
if command -v perf >/dev/null 2>&1; then
  echo "# profile of 1500 compiled train steps (perf, cpu-clock), by library;"
  echo "# [JIT] is oneDNN's generated GEMM code, libomp the OpenMP threads, the artifact our code:"
  perf record -q -F 2000 -o /tmp/tg-bench.perf.data "$BIN" --steps 1500 --warmup 0 >/dev/null 2>&1 || true
  perf report -q -i /tmp/tg-bench.perf.data --sort dso --stdio 2>/dev/null | grep -v '^$' | head -8 |
    sed 's/  */ /g; s/tid [0-9]*//; s/tg-compile-[a-z0-9]*\.tgx/artifact (.tgx)/'
fi
