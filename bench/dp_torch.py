"""PyTorch DDP peer of bench/run_dp.sh: the MLP or CNN of examples/Models.cpp
trained data-parallel with DistributedDataParallel (gloo, CPU) on Fashion-MNIST.

usage: mpirun -np N python dp_torch.py mlp|cnn --batch B --steps S [--warmup W]
       (or one process without mpirun)

Ranks come from Open MPI's environment; each rank takes its slice of every
global batch of a shuffled epoch (DistributedSampler semantics), like tgc
train. Prints "examples/s X" (global examples per second over the timed steps)
on rank 0.
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from models_torch import Cnn, Mlp


def images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, rows, cols = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols).astype(np.float32) / 255


def labels(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, np.uint8, offset=8).astype(np.int64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["mlp", "cnn"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    # Hosts in network namespaces (bench/run_links.sh): gloo binds to the
    # interface whose name starts with this prefix (each host's differs).
    prefix = os.environ.get("TG_DDP_IFACE_PREFIX")
    if prefix:
        os.environ["GLOO_SOCKET_IFNAME"] = next(
            n for n in sorted(os.listdir("/sys/class/net")) if n.startswith(prefix))
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", 0))
    world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1))
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 1)))
    torch.manual_seed(0)
    if world > 1:
        dist.init_process_group("gloo", init_method="tcp://%s:29517" % os.environ.get("TG_DDP_MASTER", "127.0.0.1"), rank=rank,
                                world_size=world)
    x = torch.from_numpy(images(f"{args.data}/train-images-idx3-ubyte.gz"))
    y = torch.from_numpy(labels(f"{args.data}/train-labels-idx1-ubyte.gz"))
    if args.model == "cnn":
        x = x.reshape(-1, 1, 28, 28)
    net = Mlp() if args.model == "mlp" else Cnn()
    model = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    per_epoch = len(x) // (args.batch * world)
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(len(x), generator=gen)
    start = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            if world > 1:
                dist.barrier()
            start = time.perf_counter()
        k = step % per_epoch
        if k == 0 and step:
            order = torch.randperm(len(x), generator=gen)
        first = (k * world + rank) * args.batch
        idx = order[first:first + args.batch]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        print(f"examples/s {args.steps * args.batch * world / seconds:.0f}  loss {loss.item():.4f}")
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
