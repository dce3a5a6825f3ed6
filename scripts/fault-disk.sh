#!/bin/sh
# Fault injection on the disk under `tgc train` (issue 14, item 5): the
# checkpoint directory on a small tmpfs that
#   1. fills up after the first checkpoint: the next save fails with a clear
#      error (no space), the run stops non-zero, the first checkpoint is intact
#      and no temporary file is left behind; training resumes from it;
#   2. becomes read-only in the middle of training (a read-only bind mount
#      over it: as root, permission bits do not stop writes): the same.
# Needs root (mount); exits 77 (skipped) otherwise. Usage: scripts/fault-disk.sh
set -eu
cd "$(dirname "$0")/.."
BIN=${TG_BUILD_DIR:-build}
DATA=/usr/share/datasets/fashion-mnist
[ -d "$DATA" ] || { echo "fault-disk: no $DATA"; exit 77; }
W=$(mktemp -d /tmp/tg-fault-disk.XXXXXX)
M="$W/mnt" R="$W/ro-mnt"
mkdir -p "$M" "$R"
pid=
cleanup() {
  # Wait for a killed trainer: its open files keep the mounts busy.
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  umount "$R/ro" 2>/dev/null || true
  umount "$M" 2>/dev/null || true
  umount "$R" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
mount -t tmpfs -o size=4m tmpfs "$M" 2>/dev/null || { echo "fault-disk: cannot mount a tmpfs (not root?)"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
"$BIN/examples/tg-example" fashion-mlp --batch 64 -o "$W/mlp.tg.mlir"
"$BIN/tools/tgc" compile "$W/mlp.tg.mlir" -o "$W/mlp.tgx" >/dev/null 2>&1
train() { # $1: dir, rest: more flags
  dir=$1; shift
  "$BIN/tools/tgc" train "$W/mlp.tgx" --data "$DATA" --progress=none --seed 3 \
    --checkpoint-dir "$dir" "$@"
}
intact() { # $1: checkpoint; its header describes exactly its bytes
  python3 - "$1" <<'PY' || fail "$1 is damaged"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(hl,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + hl])
end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
assert 8 + hl + end == len(data)
PY
}

# 1. Full: one MLP checkpoint (params + Adam moments) is ~2.8 MB of 4 MB.
if train "$M/full" --steps 200 --checkpoint-every 50 >"$W/full.out" 2>"$W/full.err"; then
  fail "training on a full disk succeeded"
fi
grep -q "No space left on device" "$W/full.err" || { cat "$W/full.err"; fail "no clear full-disk error"; }
ls "$M/full" | grep -q '\.tmp' && fail "a temporary file was left on the full disk: $(ls "$M/full")"
intact "$M/full/ckpt-0000000050.safetensors"
mkdir -p "$W/resume" && cp "$M/full/ckpt-0000000050.safetensors" "$W/resume/"
train "$W/resume" --steps 100 --checkpoint-every 50 --resume >/dev/null 2>"$W/resume.err" ||
  { cat "$W/resume.err"; fail "cannot resume from the checkpoint saved before the disk filled"; }
[ -e "$W/resume/ckpt-0000000100.safetensors" ] || fail "the resumed run wrote no checkpoint"
echo "ok: full disk: $(grep -o 'tgc: error: .*' "$W/full.err" | head -1 | cut -c1-160)"

# 2. Read-only in the middle of training.
mount -t tmpfs -o size=64m tmpfs "$R"
train "$R/ro" --steps 20000 --checkpoint-every 20 >"$W/ro.out" 2>"$W/ro.err" &
pid=$!
# Up to 2 minutes: a sanitizer build on a busy machine starts slowly.
for _ in $(seq 2400); do [ -e "$R/ro/ckpt-0000000040.safetensors" ] && break; sleep 0.05; done
[ -e "$R/ro/ckpt-0000000040.safetensors" ] || { cat "$W/ro.err"; fail "no checkpoint at step 40 after 2 minutes"; }
# New files in the directory now go through a read-only mount (the run's open
# files stay writable, as after a permission change).
# The remount is refused (EBUSY) while the trainer has a file open for writing
# through the new bind mount (a checkpoint opened between the two commands):
# retry until it lands between two checkpoints.
mount --bind "$R/ro" "$R/ro"
ro=
for _ in $(seq 400); do
  mount -o remount,ro,bind "$R/ro" 2>"$W/remount.err" && { ro=1; break; }
  sleep 0.01
done
[ -n "$ro" ] || { cat "$W/remount.err"; fail "could not make the directory read-only in 400 tries"; }
if wait $pid; then pid=; fail "training on a read-only directory succeeded"; fi
pid=
grep -q "Read-only file system" "$W/ro.err" || { cat "$W/ro.err"; fail "no clear read-only error"; }
umount "$R/ro"
for f in "$R"/ro/ckpt-*.safetensors; do intact "$f"; done
# A checkpoint whose temp file was opened before the remount writes through
# its open descriptor and fails at the rename, and then nothing can unlink it
# on a read-only directory: the error must say so, and the next run removes it.
if ls -a "$R/ro" | grep -q '\.tmp'; then
  grep -q "the temporary file stays" "$W/ro.err" ||
    { cat "$W/ro.err"; fail "a temporary file was left unannounced: $(ls -a "$R/ro")"; }
fi
# Also a temp file of a writer that is gone (what a killed run leaves).
dead=$(sh -c 'echo $$')
: >"$R/ro/.ckpt-0000000001.safetensors.tmp-$dead"
last=$(ls "$R/ro" | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.safetensors$/\1/p' | sort -n | tail -1)
train "$R/ro" --steps $((last + 20)) --checkpoint-every 20 --resume >/dev/null 2>"$W/ro2.err" ||
  { cat "$W/ro2.err"; fail "cannot resume after the directory became writable again"; }
ls -a "$R/ro" | grep -q '\.tmp' && fail "a temporary file was left after the next run: $(ls -a "$R/ro")"
echo "ok: read-only mid-training: $(grep -o 'tgc: error: .*' "$W/ro.err" | head -1 | cut -c1-160)"
