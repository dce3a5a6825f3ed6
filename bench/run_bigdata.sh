#!/bin/bash
# Data bigger than memory, for real (issue 26): generates GB gigabytes of
# Fashion-like records (u8 [784] images, u8 labels; random), packs them inside
# a memory cgroup of LIMIT_MB, and trains the Fashion MLP for one whole epoch
# in the same cgroup, reporting peak RSS, the cgroup's peak usage, the time
# and examples/s. Needs root (a cgroup); cgroup v1 (memory.limit_in_bytes,
# these machines) or v2 (memory.max). Usage: bench/run_bigdata.sh [GB] [LIMIT_MB]
# (default 4 and 1024). Disk: about 2 x GB under build/bench-bigdata.
set -euo pipefail
cd "$(dirname "$0")/.."
GB=${1:-4}
LIMIT_MB=${2:-1024}
[[ $(id -u) -eq 0 ]] || { echo "run_bigdata.sh: needs root for a memory cgroup" >&2; exit 1; }
scripts/build.sh tgc tg-example >/dev/null
WORK=$PWD/build/bench-bigdata
rm -rf "$WORK" && mkdir -p "$WORK/parts"
export OMP_NUM_THREADS=2

# The cgroup: v1's memory controller, else v2's unified tree.
if [[ -d /sys/fs/cgroup/memory ]]; then
  CG=/sys/fs/cgroup/memory/tgc-bigdata
  mkdir -p "$CG"
  echo $((LIMIT_MB << 20)) >"$CG/memory.limit_in_bytes"
  PEAK_FILE=$CG/memory.max_usage_in_bytes
  echo 0 >"$PEAK_FILE" 2>/dev/null || true
else
  CG=/sys/fs/cgroup/tgc-bigdata
  mkdir -p "$CG"
  echo $((LIMIT_MB << 20)) >"$CG/memory.max"
  PEAK_FILE=$CG/memory.peak
fi
trap 'rmdir "$CG" 2>/dev/null || true' EXIT
# Runs a command inside the cgroup.
in_cgroup() { bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

echo "== generating $GB GB of records in 256 MB parts"
python3 - "$WORK/parts" "$GB" <<'PY'
import os, random, sys
out, gb = sys.argv[1], float(sys.argv[2])
per = (256 << 20) // 785
parts = max(1, int(gb * (1 << 30) / (per * 785)))
rng = random.Random(1)
def header(descr, shape):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h.encode()
for i in range(parts):
    with open(f"{out}/x-{i:04d}.npy", "wb") as f:
        f.write(header("|u1", [per, 784]))
        f.write(os.urandom(per * 784))
    with open(f"{out}/y-{i:04d}.npy", "wb") as f:
        f.write(header("|u1", [per]))
        f.write(bytes(rng.randrange(10) for _ in range(per)))
print(f"{parts} parts of {per} records: {parts * per} records, {parts * per * 785 / 1e9:.2f} GB")
PY

echo "== packing inside the cgroup (limit $LIMIT_MB MiB)"
in_cgroup /usr/bin/time -f "pack: peak RSS %M KiB, %e s" build/tools/tgc data pack \
  --from "image=$WORK/parts/x-*.npy" --from "label=$WORK/parts/y-*.npy" -o "$WORK/packed" 2>&1 |
  grep -v '^pack: field' || true
rm -rf "$WORK/parts"
build/tools/tgc data inspect "$WORK/packed" | head -1

echo "== one epoch of the Fashion MLP inside the cgroup"
build/examples/tg-example fashion-mlp -o "$WORK/mlp.tg.mlir"
build/tools/tgc compile "$WORK/mlp.tg.mlir" -o "$WORK/mlp.tgx" >/dev/null
echo 0 >"$PEAK_FILE" 2>/dev/null || true
in_cgroup /usr/bin/time -f "train: peak RSS %M KiB, %e s" build/tools/tgc train "$WORK/mlp.tgx" \
  --data "$WORK/packed" --epochs 1 --progress=none 2>&1 | grep -E 'trained|data:|peak RSS|error'
echo "cgroup peak usage (RSS + page cache charged to it): $(($(cat "$PEAK_FILE") >> 20)) MiB of $LIMIT_MB"
du -sh "$WORK/packed" | sed 's/^/data set on disk: /'
