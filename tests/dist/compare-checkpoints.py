#!/usr/bin/env python3
"""Compares the tensors of two tgc checkpoints (safetensors), ignoring metadata.

usage: compare-checkpoints.py A B [--rtol R] [--only PREFIX]
  Without --rtol: every tensor must be bitwise equal. With it: every tensor
  within R relative in the 2-norm, ||a - b|| <= R * ||b|| (the largest
  elementwise difference is reported too). Exit 0 when they agree, 1 with the
  first differing tensor otherwise.
"""
import argparse
import array
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[base + begin:base + end])
    return tensors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float)
    args = p.parse_args()
    a, b = read(args.a), read(args.b)
    if sorted(a) != sorted(b):
        print(f"different tensors: {sorted(set(a) ^ set(b))}")
        return 1
    worst = 0.0
    for name in sorted(a):
        da, sa, ba = a[name]
        db, sb, bb = b[name]
        if (da, sa) != (db, sb):
            print(f"{name}: {da}{sa} vs {db}{sb}")
            return 1
        if args.rtol is None:
            if ba != bb:
                print(f"{name}: not bitwise equal")
                return 1
            continue
        if da not in ("F32", "F64"):
            if ba != bb:
                print(f"{name}: {da} values differ")
                return 1
            continue
        code = "f" if da == "F32" else "d"
        xa, xb = array.array(code, ba), array.array(code, bb)
        diff = sum((x - y) ** 2 for x, y in zip(xa, xb)) ** 0.5
        norm = sum(y * y for y in xb) ** 0.5
        rel = diff / norm if norm > 0 else diff
        elementwise = max((abs(x - y) for x, y in zip(xa, xb)), default=0.0)
        worst = max(worst, rel)
        if rel > args.rtol:
            print(f"{name}: relative difference {rel:.3g} > {args.rtol} "
                  f"(largest elementwise difference {elementwise:.3g})")
            return 1
    print("bitwise equal" if args.rtol is None else f"equal within {args.rtol} (worst {worst:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
