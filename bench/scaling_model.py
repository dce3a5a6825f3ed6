#!/usr/bin/env python3
"""A data-parallel scaling model for tgc artifacts (issue 27, item 5).

Predicts a training step's time at N ranks from the artifact's bucket plan,
one rank's step time without communication, a link's per-message latency and
bandwidth, and this machine's costs per element of the gradient encodings:

  step(N) = compute + sum over buckets of allreduce(bucket, N)

(no overlap term: Open MPI 4.1 has no asynchronous progress, and overlap
measured within noise; the `ideal` projection hides communication behind
2/3 of the step, which is what asynchronous progress could give).

One bucket of E floats (B = 4E bytes; alpha: a message's latency; beta: the
link's bytes/s; every constant below is fitted or measured, none assumed):
  f32, 2 ranks   under 8192 floats MPI's allreduce: alpha + B/beta; from
                 8192 the two phases below (a started MPI_Iallreduce
                 reduces to one rank, then broadcasts: slower)
  f32, N > 2     tgc's rank-ordered reduction (an alltoall, the sum in rank
                 order, an allgather), or a ring (--reduction=mpi): the same
                 count, 2(N-1) alpha + 2(N-1)/N B/beta + sum E
  bf16           rank-ordered with half the bytes, plus the conversions:
                 2(N-1) alpha + (N-1)/N B/beta + bf16 E
  threshold      every rank's message to every rank (lengths, then an
                 allgather): (N-1)(2 alpha + M/beta), M = 4pE bytes (indices:
                 p the fraction of elements sent) or E (a byte an element,
                 when shorter); encoding E elements and decoding all N
                 messages: encode E + decode_idx pEN or decode_byte EN.
alpha, beta and the codec constants are fitted to the communicator alone
(tg-bench-comm --elements, 2 ranks) over the unshaped link between the
namespace "hosts": that is the software's cost (TCP over a veth, copies, the
encodings). A link of RATE bytes/s then carries a step's D bytes in each
direction in max(software, D/RATE): the two stream through each other. The
shaped links here are token buckets (netns-cluster.sh's tbf: bursts of 2 ms
at the rate, refilled while the ranks compute), so their first `tokens` =
min(burst, RATE x compute) bytes go at the software's speed and the rest at
RATE: max(software, software x tokens/D + (D - tokens)/RATE). `compute` is one
rank's step measured while as many copies run on the machine as the
distributed run has ranks here (they share its cores). Every training row is
a prediction; `calibrate` prints each against its measurement. The
projection's links are plain (no burst) with this machine's software costs.

Usage (measurements from bench/run_scaling.sh, all of one run):
  bench/scaling_model.py calibrate [FILE]  fitted constants, then predicted
                                           against measured, per row
  bench/scaling_model.py project [FILE]    8..1024 ranks on 10 and 100 Gbit/s
"""
import argparse
import math
import sys

RATES = {"1gbit": 1e9 / 8, "10gbit": 10e9 / 8}  # bytes/s of a shaped link
BURST_SECONDS = 2e-3  # netns-cluster.sh's tbf holds 2 ms at the rate


def read(path):
    m = {"comm": {}, "train": {}, "buckets": {}, "batch": {}, "compute": {}, "ranks": 2}
    for line in open(path):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "ranks":
            m["ranks"] = int(f[1])
        elif f[0] == "batch":
            m["batch"][f[1]] = int(f[2])
        elif f[0] == "compute":  # compute MODEL MS [LINK: measured before that link's rows]
            m["compute"][(f[1], f[3]) if len(f) > 3 else f[1]] = float(f[2]) / 1e3
        elif f[0] == "buckets":
            m["buckets"][f[1]] = [(int(e), k) for e, k in (x.split(":") for x in f[2].split(","))]
        elif f[0] == "comm":  # comm LINK MODE ELEMENTS MS
            m["comm"].setdefault((f[1], f[2]), []).append((int(f[3]), float(f[4]) / 1e3))
        elif f[0] == "train" and len(f) >= 7:  # train LINK MODEL MODE MS MIB STEPS
            m["train"][(f[1], f[2], f[3])] = (float(f[4]) / 1e3, float(f[5]) * 2**20 / int(f[6]))
    return m


def linfit(points):
    """Least squares t = a + b x, weighted by 1/t (relative errors)."""
    sw = sx = sy = sxx = sxy = 0.0
    for x, t in points:
        w = 1.0 / (t * t)
        sw += w; sx += w * x; sy += w * t; sxx += w * x * x; sxy += w * x * t
    b = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
    return (sy - b * sx) / sw, b


class Model:
    def __init__(self, m):
        self.m = m
        # f32 at 2 ranks over the unshaped link, from 8192 floats the two
        # phases: 2 alpha + 4E/beta.
        a, b = linfit([x for x in m["comm"][("none", "none")] if x[0] >= 8192])
        self.alpha, self.beta_none = max(a / 2, 1e-6), 4 / b
        # bf16 at 2 ranks: 2 alpha + 2E/beta + c E; the slope's rest is c.
        a, b = linfit(m["comm"][("none", "bf16")])
        self.bf16 = max(b - 2 / self.beta_none, 0)
        # threshold at 2 ranks: 2 alpha + M/beta + encode E + decode units N.
        # Index form at two densities p: slope = 4p/beta + encode + 2 p decode_idx.
        (p1, s1), (p2, s2) = [(p, linfit(m["comm"][("none", f"thr@{p}")])[1] - 4 * p / self.beta_none)
                              for p in (0.01, 0.04)]
        self.decode_idx = max((s2 - s1) / (2 * (p2 - p1)), 0)
        self.encode = max(s1 - 2 * p1 * self.decode_idx, 0)
        # Byte form (p = 0.5): slope = 1/beta + encode + 2 decode_byte.
        s = linfit(m["comm"][("none", "thr@0.5")])[1] - 1 / self.beta_none
        self.decode_byte = max((s - self.encode) / 2, 0)
        # The sum in rank order: part of the f32 two-phase slope fitted
        # above (beta_none), not separated from the wire.
        self.sum = 0.0

    def allreduce(self, e, n, mode, p=0.0):
        """(software seconds, bytes each way on a link) for one bucket of e
        floats at n ranks; p: threshold's fraction of elements sent."""
        if n == 1:
            return 0.0, 0.0
        a, beta = self.alpha, self.beta_none
        if mode == "f32":
            if n == 2 and e < 8192:  # MPI's allreduce: reduce, then broadcast
                return a + 4 * e / beta, 8 * e
            d = 2 * (n - 1) / n * 4 * e
            return 2 * (n - 1) * a + d / beta + self.sum * e, d
        if mode == "bf16":
            d = 2 * (n - 1) / n * 2 * e
            return 2 * (n - 1) * a + d / beta + self.bf16 * e, d
        if 4 * p < 1:  # threshold, indices
            d = (n - 1) * 4 * p * e
            return 2 * (n - 1) * a + d / beta + self.encode * e + self.decode_idx * p * e * n, d
        d = (n - 1) * e  # threshold, a byte an element
        return 2 * (n - 1) * a + d / beta + self.encode * e + self.decode_byte * e * n, d

    def compute(self, model, link=None):
        c = self.m["compute"]
        return c.get((model, link)) or c.get(model) or c[(model, "none")]

    def step(self, model, n, mode, rate=None, burst=0.0, p=0.0, link=None):
        """Seconds a step at n ranks over a link of `rate` bytes/s (None: the
        unshaped one) whose token bucket holds `burst` bytes; `link` picks the
        compute time measured beside that link's rows."""
        c = self.compute(model, link)
        soft = wire = 0.0
        for e, kind in self.m["buckets"][model]:
            t, d = self.allreduce(e, n, mode if kind == "g" else "f32", p)
            soft += t
            wire += d
        if rate is None or wire == 0:
            return c + soft
        tokens = min(burst, rate * c, wire)
        return c + max(soft, soft * tokens / wire + (wire - tokens) / rate)


def fraction(m, link, model, mode):
    """Threshold's fraction of elements sent, from the run's bytes: rank 0's
    bytes a step over f32's (4 bytes an element) on the same link."""
    if not mode.startswith("thr"):
        return 0.0
    f32 = m["train"].get((link, model, "f32"))
    row = m["train"].get((link, model, mode))
    if not f32 or not row or f32[1] == 0:
        return 0.0
    return row[1] / f32[1]


def calibrate(mo):
    m = mo.m
    print(f"codec constants, fitted on the unshaped link at 2 ranks: bf16 {mo.bf16 * 1e9:.2f} ns "
          f"an element; threshold encode {mo.encode * 1e9:.2f} ns an element, decode "
          f"{mo.decode_idx * 1e9:.2f} ns a sent index, {mo.decode_byte * 1e9:.2f} ns a byte-form "
          "element, per rank\n")
    print("The communicator alone over the unshaped link (tg-bench-comm --elements, 2 ranks): "
          "the fit's residuals\n")
    print("| link | encoding | elements | measured ms | model ms | error |")
    print("|---|---|---:|---:|---:|---:|")
    for (link, key), pts in sorted(m["comm"].items()):
        if link != "none":
            continue
        mode = {"none": "f32", "bf16": "bf16"}.get(key, "thr")
        p = float(key.split("@")[1]) if "@" in key else 0.0
        for e, t in pts:
            pred = mo.allreduce(e, 2, mode, p)[0]
            print(f"| {link} | {key} | {e} | {t * 1e3:.3f} | {pred * 1e3:.3f} | "
                  f"{(pred / t - 1) * 100:+.1f}% |")
    n = m["ranks"]
    print(f"\nTraining at {n} ranks: predicted against measured (one rank's step without "
          "communication, with the run's other ranks computing beside it, measured before each "
          "link's rows: " + ", ".join(f"{' '.join(k) if isinstance(k, tuple) else k} "
                                      f"{v * 1e3:.3f} ms" for k, v in m["compute"].items()) + ")\n")
    print("| link | model | gradients | sent (of f32) | measured ms/step | predicted | error |")
    print("|---|---|---|---:|---:|---:|---:|")
    errs = []
    for (link, model, mode), (t, _) in sorted(m["train"].items()):
        p = fraction(m, link, model, mode)
        pred = mo.step(model, n, mode, RATES.get(link), BURST_SECONDS * RATES.get(link, 0), p, link)
        err = pred / t - 1
        errs.append((link, model, mode, err))
        sent = f"{p:.3f}" if mode.startswith("thr") else "-"
        print(f"| {link} | {model} | {mode} | {sent} | {t * 1e3:.3f} | {pred * 1e3:.3f} | "
              f"{err * 100:+.1f}% |")
    worst = max(errs, key=lambda x: abs(x[-1]))
    over = sum(1 for x in errs if abs(x[-1]) > 0.15)
    print(f"\ntraining rows: {len(errs)}; worst {worst[-1] * 100:+.1f}% ({' '.join(worst[:-1])}); "
          f"{over} beyond 15%")
    return over


def project(mo):
    m = mo.m
    print(f"Projected scaling efficiency: N ranks' examples/s over N times one rank's "
          f"(this machine's compute per step: "
          + ", ".join(f"{k} {mo.compute(k) * 1e3:.2f} ms" for k in ("mlp", "cnn"))
          + f"; alpha {mo.alpha * 1e6:.0f} us a message, fitted here). `ideal`: communication "
          "hidden behind 2/3 of the step.\n")
    sizes = (8, 32, 128, 512, 1024)
    print("| link | model | gradients | " + " | ".join(str(s) for s in sizes) + " | ideal at 1024 |")
    print("|---|---|---|" + "---:|" * (len(sizes) + 1))
    for gbit in (10, 100):
        rate = gbit * 1e9 / 8
        for model in ("mlp", "cnn"):
            for mode, p in (("f32", 0), ("bf16", 0), ("thr1e-4", 0.25), ("thr1e-2", 0.05)):
                c = mo.compute(model)
                cells = [f"{c / mo.step(model, n, mode, rate, 0.0, p):.2f}" for n in sizes]
                comm = mo.step(model, 1024, mode, rate, 0.0, p) - c
                ideal = c / (c / 3 + max(2 * c / 3, comm))
                print(f"| {gbit} Gbit/s | {model} | {mode} | " + " | ".join(cells) + f" | {ideal:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["calibrate", "project"])
    ap.add_argument("file", nargs="?", default="bench/scaling-measurements.txt",
                    help="bench/run_scaling.sh's output")
    a = ap.parse_args()
    try:
        mo = Model(read(a.file))
    except (OSError, KeyError, ValueError, IndexError, ZeroDivisionError) as e:
        print(f"scaling_model.py: {a.file}: cannot fit the model ({type(e).__name__}: {e}); "
              "run bench/run_scaling.sh first", file=sys.stderr)
        return 1
    if a.what == "calibrate":
        calibrate(mo)
    else:
        project(mo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
