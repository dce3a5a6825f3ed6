#!/bin/bash
# tgc sample on both kinds of character model: a tiny char GPT (windowed)
# and char LSTM (recurrent), each trained a few steps by tgc train, then its
# batch-1 sampler compiled: greedy sampling (--top-k 1) is deterministic and
# writes --length characters of the vocabulary, --score gives a loss near
# the training loss, and a sampler of another shape is an error naming it.
# The GPT's training artifact samples like its batch-1 sampler; a
# byte-level GPT (256 classes) samples too.
# Usage: sample.sh BUILD_DIR
set -euo pipefail
B=$1
TEXT=/usr/share/common-licenses/GPL-3
[[ -r $TEXT ]] || { echo "no $TEXT: skipped"; exit 77; }
W=$(mktemp -d /tmp/tg-sample.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

check_model() { # NAME TRAIN_ARGS... -- SAMPLER_ARGS...
  local name=$1
  shift
  local train=() sampler=()
  while [[ $1 != -- ]]; do train+=("$1"); shift; done
  shift
  sampler=("$@")
  "$B/examples/tg-example" "$name" "${train[@]}" -o "$W/$name.tg.mlir"
  "$B/tools/tgc" compile "$W/$name.tg.mlir" -o "$W/$name.tgx" >/dev/null 2>&1
  "$B/tools/tgc" train "$W/$name.tgx" --data "$TEXT" --steps 40 --progress=none \
    --checkpoint-dir "$W/$name-runs" >"$W/$name.train" 2>&1 || { cat "$W/$name.train"; fail "$name: training"; }
  local ck
  ck=$(ls "$W/$name-runs"/ckpt-*.safetensors | tail -1)
  "$B/examples/tg-example" "$name" "${sampler[@]}" -o "$W/$name-s.tg.mlir"
  "$B/tools/tgc" compile "$W/$name-s.tg.mlir" -o "$W/$name-s.tgx" >/dev/null 2>&1
  local a b
  a=$("$B/tools/tgc" sample "$W/$name-s.tgx" "$ck" --length 80 --top-k 1 --prime "The ")
  b=$("$B/tools/tgc" sample "$W/$name-s.tgx" "$ck" --length 80 --top-k 1 --prime "The " --seed 9)
  [[ $a == "$b" ]] || fail "$name: greedy sampling differs between seeds"
  # "The " + 80 characters (a newline may be among them)
  local n
  n=$(printf '%s' "$a" | wc -c)
  [[ $n -ge 84 ]] || fail "$name: $n characters sampled, expected 84: '$a'"
  "$B/tools/tgc" sample "$W/$name-s.tgx" "$ck" --length 60 --temperature 1.0 --top-k 5 >/dev/null ||
    fail "$name: top-k sampling"
  local score
  score=$("$B/tools/tgc" sample "$W/$name-s.tgx" "$ck" --score "$TEXT" --length 300)
  [[ $score =~ ^([0-9.]+)\ nats\ per\ character ]] || fail "$name: score output '$score'"
  awk -v s="${BASH_REMATCH[1]}" 'BEGIN { exit !(s > 0.5 && s < 4.3) }' ||
    fail "$name: score ${BASH_REMATCH[1]} is not between 0.5 and ln 77"
  echo "ok $name: greedy '${a:0:40}...', score $score"
}

check_model char-gpt --batch 4 --steps 16 --dim 32 --heads 2 --layers 1 -- \
  --batch 1 --steps 16 --dim 32 --heads 2 --layers 1
check_model char-lstm --batch 4 --steps 16 --hidden 32 --lr 0.003 -- \
  --batch 1 --steps 1 --hidden 32

# A sampler of another width than the checkpoint: an error naming the param.
"$B/examples/tg-example" char-gpt --batch 1 --steps 16 --dim 16 --heads 2 --layers 1 -o "$W/wrong.tg.mlir"
"$B/tools/tgc" compile "$W/wrong.tg.mlir" -o "$W/wrong.tgx" >/dev/null 2>&1
ck=$(ls "$W/char-gpt-runs"/ckpt-*.safetensors | tail -1)
if out=$("$B/tools/tgc" sample "$W/wrong.tgx" "$ck" 2>&1); then fail "a wrong sampler ran: $out"; fi
[[ $out == *"'wpe' is f32 [16, 32], the artifact's is f32 [16, 16] (compile the sampler with the trained model's --hidden and --vocab)"* ]] ||
  fail "wrong sampler: '$out'"
# The causal model's training artifact (batch 4) samples as its batch-1
# compile does (row 0 of the batch; a causal model ignores the others).
a=$("$B/tools/tgc" sample "$W/char-gpt-s.tgx" "$ck" --length 40 --top-k 1 --prime "The ")
b=$("$B/tools/tgc" sample "$W/char-gpt.tgx" "$ck" --length 40 --top-k 1 --prime "The ")
[[ $a == "$b" ]] || fail "the training artifact samples '$b', the batch-1 sampler '$a'"
# A recurrent model at batch 4 is not a sampler.
ck=$(ls "$W/char-lstm-runs"/ckpt-*.safetensors | tail -1)
if out=$("$B/tools/tgc" sample "$W/char-lstm.tgx" "$ck" 2>&1); then fail "a batch-4 LSTM sampled"; fi
[[ $out == *"carries recurrent state: compile it with --batch 1 --steps 1"* ]] ||
  fail "batch-4 LSTM sampler: '$out'"
# Byte-level (256 classes): bytes are ids.
"$B/examples/tg-example" char-gpt --batch 4 --steps 16 --dim 32 --heads 2 --layers 1 --vocab 256 \
  -o "$W/bytes.tg.mlir"
"$B/tools/tgc" compile "$W/bytes.tg.mlir" -o "$W/bytes.tgx" >/dev/null 2>&1
"$B/tools/tgc" train "$W/bytes.tgx" --data "$TEXT" --steps 40 --progress=none \
  --checkpoint-dir "$W/bytes-runs" >/dev/null 2>&1 || fail "byte-level: training"
ck=$(ls "$W/bytes-runs"/ckpt-*.safetensors | tail -1)
a=$("$B/tools/tgc" sample "$W/bytes.tgx" "$ck" --length 40 --top-k 1 --prime "The ") ||
  fail "byte-level sampling: '$a'"
[[ ${#a} -ge 44 ]] || fail "byte-level: '$a'"
# A byte-level checkpoint does not fit a model of 77 classes.
if out=$("$B/tools/tgc" sample "$W/char-gpt.tgx" "$ck" 2>&1); then fail "a 77-class model took a byte checkpoint"; fi
[[ $out == *"'wte.table' is f32 [256, 32], the artifact's is f32 [77, 32]"* ]] ||
  fail "byte checkpoint, 77 classes: '$out'"
echo "ok bytes: greedy '${a:0:40}...'"
# Bad flags are errors naming them.
if out=$("$B/tools/tgc" sample "$W/bytes.tgx" "$ck" --temperature hot 2>&1); then fail "--temperature hot ran"; fi
[[ $out == *"sample: --temperature needs a number, got 'hot'"* ]] || fail "bad flag: '$out'"
if out=$("$B/tools/tgc" sample "$W/bytes.tgx" 2>&1); then fail "no checkpoint ran"; fi
[[ $out == *"needs MODEL.tgx and CHECKPOINT.safetensors"* ]] || fail "one argument: '$out'"
echo "tgc sample: all checks passed"
