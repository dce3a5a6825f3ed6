#!/usr/bin/env python3
"""PyTorch's DataLoader on a packed directory's shards, the way PyTorch users
read .npy data: np.load(mmap_mode="r") per shard, a map-style Dataset that
converts one example (u8 pixels to f32 / 255, the label to int64), shuffled,
batch B, num_workers W. Usage: reader_torch.py DIR [--batch B] [--epochs E]
[--workers W]. Prints examples/s like tg-bench-reader."""
import argparse
import bisect
import json
import os
import time

import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--batch", type=int, default=128)
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--workers", type=int, default=0)
args = ap.parse_args()
index = json.load(open(os.path.join(args.dir, "index.json")))
scale = next(f["scale"] for f in index["fields"] if f["name"] == "images")


class Shards(torch.utils.data.Dataset):
    def __init__(self):
        self.starts, total = [], 0
        for s in index["shards"]:
            self.starts.append(total)
            total += s["records"]
        self.total = total
        self.maps = None  # opened in each worker

    def _open(self):
        self.maps = [(np.load(os.path.join(args.dir, s["files"]["images"]["path"]), mmap_mode="r"),
                      np.load(os.path.join(args.dir, s["files"]["labels"]["path"]), mmap_mode="r"))
                     for s in index["shards"]]

    def __len__(self):
        return self.total

    def __getitem__(self, i):
        if self.maps is None:
            self._open()
        s = bisect.bisect_right(self.starts, i) - 1
        x, y = self.maps[s]
        r = i - self.starts[s]
        return (torch.from_numpy(x[r].astype(np.float32) * np.float32(scale)),
                torch.tensor(int(y[r]), dtype=torch.int64))


torch.set_num_threads(1)
loader = torch.utils.data.DataLoader(Shards(), batch_size=args.batch, shuffle=True,
                                     num_workers=args.workers, drop_last=True,
                                     persistent_workers=args.workers > 0)
examples, checksum = 0, 0.0
start = time.perf_counter()
for _ in range(args.epochs):
    for x, y in loader:
        checksum += float(x.reshape(-1)[0])
        examples += x.shape[0]
s = time.perf_counter() - start
print(f"torch DataLoader (num_workers={args.workers}): {examples} examples in {s:.3f} s: "
      f"{examples / s:.0f} examples/s (torch {torch.__version__})")
