#!/bin/sh
# Fault injection on checkpoint saves (issue 14, item 5): KILLS times, start
# `tgc train --resume` on the same directory (the MLP on Fashion-MNIST's t10k
# split, a checkpoint every 3 steps, the newest 8 kept) and SIGKILL it after a
# random 0.2-0.8 s, mostly while it writes a checkpoint (writing is most of
# what it does). After every kill:
#   - every complete checkpoint in the directory parses, its byte ranges
#     match its header, and it is byte-for-byte what it was when first seen
#     (no older checkpoint is ever damaged);
#   - the next run resumes from the newest one (tgc checks hash, names,
#     shapes and sizes before it trains a step).
# Usage: scripts/fault-checkpoints.sh [KILLS] (default 200; ctest runs 25).
set -eu
cd "$(dirname "$0")/.."
KILLS=${1:-200}
BIN=${TG_BUILD_DIR:-build}
DATA=/usr/share/datasets/fashion-mnist
[ -d "$DATA" ] || { echo "fault-checkpoints: no $DATA"; exit 77; }
W=$(mktemp -d /tmp/tg-fault-ckpt.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$BIN/examples/tg-example" fashion-mlp --batch 64 -o "$W/mlp.tg.mlir"
"$BIN/tools/tgc" compile "$W/mlp.tg.mlir" -o "$W/mlp.tgx" >/dev/null 2>&1
CK="$W/ckpt"
check() { # $1: round; fails on a broken or changed checkpoint
  python3 - "$CK" "$W/seen.json" "$1" <<'EOF'
import hashlib, json, os, struct, sys
ck, seen_path, rnd = sys.argv[1], sys.argv[2], sys.argv[3]
seen = json.load(open(seen_path)) if os.path.exists(seen_path) else {}
names = sorted(n for n in (os.listdir(ck) if os.path.isdir(ck) else []) if n.startswith("ckpt-") and n.endswith(".safetensors"))
for n in names:
    data = open(os.path.join(ck, n), "rb").read()
    (hl,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hl])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    if 8 + hl + end != len(data):
        sys.exit(f"round {rnd}: {n} is {len(data)} bytes, its header describes {8 + hl + end}")
    digest = hashlib.sha256(data).hexdigest()
    if seen.get(n, digest) != digest:
        sys.exit(f"round {rnd}: {n} changed after it was complete")
    seen[n] = digest
json.dump(seen, open(seen_path, "w"))
EOF
}
i=0
while [ "$i" -lt "$KILLS" ]; do
  i=$((i + 1))
  RESUME=""
  [ -d "$CK" ] && ls "$CK"/ckpt-*.safetensors >/dev/null 2>&1 && RESUME=--resume
  OMP_NUM_THREADS=1 "$BIN/tools/tgc" train "$W/mlp.tgx" --data image="$DATA/t10k-images-idx3-ubyte.gz" \
    --data label="$DATA/t10k-labels-idx1-ubyte.gz" --steps 100000000 \
    --checkpoint-dir "$CK" --checkpoint-every 3 --keep 8 --progress=none $RESUME \
    >"$W/log" 2>&1 &
  PID=$!
  sleep "$(awk -v s="$i" 'BEGIN { srand(s); printf "%.3f", 0.2 + rand() * 0.6 }')"
  kill -9 "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  if grep -q "error" "$W/log"; then
    echo "fault-checkpoints: round $i: tgc train failed:"; cat "$W/log"; exit 1
  fi
  check "$i"
done
N=$(ls "$CK"/ckpt-*.safetensors 2>/dev/null | wc -l)
echo "fault-checkpoints: $KILLS kills, $N checkpoints, all complete and unchanged; every run resumed"
