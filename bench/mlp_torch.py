"""PyTorch peer of tg-bench-mlp: MLP 784-512-512-10, batch 128, RMSProp.

Eager mode always; torch.compile when this PyTorch has it (2.x). Prints the
median train-step time in the same format as tg-bench-mlp.
"""
import argparse
import statistics
import time

import torch


def step_fn(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def bench(name, fn, steps, warmup):
    times = []
    for s in range(warmup + steps):
        t = time.perf_counter()
        loss = fn()
        dt = (time.perf_counter() - t) * 1e3
        if s >= warmup:
            times.append(dt)
    times.sort()
    print(f"{name}: train step median {statistics.median(times):.3f} ms "
          f"(p10 {times[len(times) // 10]:.3f}, p90 {times[len(times) * 9 // 10]:.3f}) "
          f"over {steps} steps, final loss {loss.item():.4f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.99, eps=1e-8)
    x = torch.rand(128, 784)
    y = torch.arange(128) % 10
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench(f"pytorch {torch.__version__} eager", lambda: step_fn(model, opt, x, y), a.steps, a.warmup)
    if hasattr(torch, "compile"):
        compiled = torch.compile(lambda: step_fn(model, opt, x, y))
        bench(f"pytorch {torch.__version__} torch.compile", compiled, a.steps, a.warmup)
    else:
        print(f"# torch.compile: not in torch {torch.__version__} (needs PyTorch 2)")


if __name__ == "__main__":
    main()
