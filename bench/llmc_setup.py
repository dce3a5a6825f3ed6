#!/usr/bin/env python3
"""Inputs for llm.c's CPU trainer (train_gpt2.c) at the shape of
`tg-bench-models gpt --gpt2-small`: a random-init model file in llm.c's format
(header magic 20240326 version 3; maxT 256, vocab 256 = padded vocab, 12
layers, 12 heads, 768 channels; weights N(0, 0.02), biases 0, LayerNorm scales
1, in llm.c's parameter order) and a token file (magic 20240520 version 1) of
a text's bytes as uint16 tokens, train and val.
usage: llmc_setup.py DIR TEXT"""
import sys

import numpy as np

T, V, L, NH, C = 256, 256, 12, 12, 768


def main():
    out, text = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    header = np.zeros(256, np.int32)
    header[:8] = [20240326, 3, T, V, L, NH, C, V]
    normal = lambda n: rng.normal(0, 0.02, n).astype(np.float32)
    zeros = lambda n: np.zeros(n, np.float32)
    ones = lambda n: np.ones(n, np.float32)
    params = [normal(V * C), normal(T * C), ones(L * C), zeros(L * C),  # wte wpe ln1w ln1b
              normal(L * 3 * C * C), zeros(L * 3 * C),                 # qkvw qkvb
              normal(L * C * C), zeros(L * C),                         # attprojw attprojb
              ones(L * C), zeros(L * C),                               # ln2w ln2b
              normal(L * 4 * C * C), zeros(L * 4 * C),                 # fcw fcb
              normal(L * C * 4 * C), zeros(L * C),                     # fcprojw fcprojb
              ones(C), zeros(C)]                                       # lnfw lnfb
    with open(f"{out}/gpt2_124M.bin", "wb") as f:
        header.tofile(f)
        for p in params:
            p.tofile(f)
    tokens = np.frombuffer(open(text, "rb").read(), np.uint8).astype(np.uint16)
    for name, part in (("train", tokens), ("val", tokens[: len(tokens) // 10])):
        h = np.zeros(256, np.int32)
        h[:3] = [20240520, 1, len(part)]
        with open(f"{out}/dev/data/tinyshakespeare/tiny_shakespeare_{name}.bin", "wb") as f:
            h.tofile(f)
            part.tofile(f)


if __name__ == "__main__":
    main()
