"""PyTorch peer of tg-bench-models: the three example models, eager and torch.compile.

usage: models_torch.py mlp|cnn|lstm [--steps N] [--warmup N] [--threads N] [--window T] [--hidden H]
                       [--batch B] [--device cpu|cuda] [--memory]

The models are written to compute what examples/Models.cpp builds (shapes,
initializers, optimizer and hyperparameters); one full train step (forward,
backward, update) on one fixed random batch per iteration. Prints lines in the
format of tg-bench-models. On --device cuda (scripts/gpu-check.sh) TF32 is off,
as tg's cuBLASLt/cuDNN calls compute in full FP32, and each step is timed up to
torch.cuda.synchronize().
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def glorot(*shape, fan_in, fan_out):
    # tg's glorot_uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
    a = (6.0 / (fan_in + fan_out)) ** 0.5
    return torch.nn.Parameter(torch.empty(*shape).uniform_(-a, a))


def zeros(*shape):
    return torch.nn.Parameter(torch.zeros(*shape))


class Dense(torch.nn.Module):
    # tg's Dense: x @ kernel [in, out] + bias, kernel glorot, bias zeros.
    def __init__(self, n_in, n_out):
        super().__init__()
        self.kernel = glorot(n_in, n_out, fan_in=n_in, fan_out=n_out)
        self.bias = zeros(n_out)

    def forward(self, x):
        return torch.addmm(self.bias, x, self.kernel)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.ModuleList([Dense(784, 256), Dense(256, 128), Dense(128, 10)])

    def forward(self, x):
        x = F.relu(self.fc[0](x))
        x = F.relu(self.fc[1](x))
        return self.fc[2](x)


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # tg's conv kernel is [F, C, kh, kw] (OIHW), glorot with receptive-field fans.
        self.w1 = glorot(32, 1, 3, 3, fan_in=1 * 9, fan_out=32 * 9)
        self.b1 = zeros(32)
        self.w2 = glorot(64, 32, 3, 3, fan_in=32 * 9, fan_out=64 * 9)
        self.b2 = zeros(64)
        self.fc1 = Dense(64 * 7 * 7, 128)
        self.fc2 = Dense(128, 10)

    def forward(self, x):
        # 'same' with an odd 3x3 kernel at stride 1 is symmetric padding 1.
        x = F.max_pool2d(F.relu(F.conv2d(x, self.w1, self.b1, padding=1)), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, self.w2, self.b2, padding=1)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class GravesLstm(torch.nn.Module):
    """tg's layers::LSTM with peepholes (torch.nn.LSTM has none), gates i, f, g, o:
    z = x W + h U + b; i = sig(z_i + p_i c); f = sig(z_f + p_f c + 1);
    c' = f c + i tanh(z_g); h' = sig(z_o + p_o c') tanh(c')."""

    def __init__(self, n_in, h):
        super().__init__()
        self.h = h
        self.W = glorot(n_in, 4 * h, fan_in=n_in, fan_out=4 * h)
        self.U = glorot(h, 4 * h, fan_in=h, fan_out=4 * h)
        self.b = zeros(4 * h)
        self.p_i, self.p_f, self.p_o = zeros(h), zeros(h), zeros(h)

    def forward(self, x, h, c):
        B, T, D = x.shape
        # All input projections in one matmul, as tg does.
        xw = torch.addmm(self.b, x.reshape(B * T, D), self.W).view(B, T, 4 * self.h)
        out = []
        for t in range(T):
            zi, zf, zg, zo = (xw[:, t] + h @ self.U).chunk(4, 1)
            i = torch.sigmoid(zi + self.p_i * c)
            f = torch.sigmoid(zf + self.p_f * c + 1.0)  # DL4J's forget bias 1
            c = f * c + i * torch.tanh(zg)
            h = torch.sigmoid(zo + self.p_o * c) * torch.tanh(c)
            out.append(h)
        return torch.stack(out, 1), h, c


class CharLstm(torch.nn.Module):
    def __init__(self, vocab=77, hidden=128):
        super().__init__()
        self.vocab = vocab
        self.l1 = GravesLstm(vocab, hidden)
        self.l2 = GravesLstm(hidden, hidden)
        self.out = Dense(hidden, vocab)

    def forward(self, chars, h1, c1, h2, c2):
        x = F.one_hot(chars, self.vocab).float()
        s, h1, c1 = self.l1(x, h1, c1)
        s, h2, c2 = self.l2(s, h2, c2)
        return self.out(s.reshape(-1, s.shape[-1])), (h1, c1, h2, c2)


def make(model, window=25, hidden=128, batch=0, device="cpu"):
    """Returns step(state) -> (loss, state) and the initial state ((): no state)."""
    if model in ("mlp", "cnn"):
        net = (Mlp() if model == "mlp" else Cnn()).to(device)
        B = batch or (128 if model == "mlp" else 64)
        x = torch.rand(B, 784) if model == "mlp" else torch.rand(B, 1, 28, 28)
        x = x.to(device)
        y = torch.randint(0, 10, (B,)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

        def step(state):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss, state

        return step, ()
    B, T, V, H = batch or 32, window, 77, hidden
    net = CharLstm(V, H).to(device)
    chars = torch.randint(0, V, (B, T)).to(device)
    targets = torch.randint(0, V, (B, T)).to(device)
    # tg: RMSProp(0.1) with rho 0.95 (DL4J's rmsDecay), eps 1e-8 added outside the
    # square root, l2 1e-3 added to the gradient of every parameter; torch's
    # RMSprop (alpha = rho, coupled weight_decay, no momentum, not centered) is
    # the same rule.
    opt = torch.optim.RMSprop(net.parameters(), lr=0.1, alpha=0.95, eps=1e-8, weight_decay=1e-3)

    def step(state):
        opt.zero_grad(set_to_none=True)
        logits, state = net(chars, *state)
        loss = F.cross_entropy(logits, targets.reshape(-1))
        loss.backward()
        opt.step()
        # Truncated BPTT: the final states seed the next window, without gradient.
        return loss, tuple(s.detach() for s in state)

    return step, tuple(torch.zeros(B, H, device=device) for _ in range(4))


def rss_kib(field):
    """VmRSS or VmHWM (the peak since the last reset) of this process, KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    """Sets VmHWM to the current RSS (Linux: clear_refs 5), so the peak counts from here."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def bench(name, step, state, steps, warmup, device="cpu"):
    times = []
    first = None
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for s in range(warmup + steps):
        sync()
        t = time.perf_counter()
        loss, state = step(state)
        sync()
        dt = time.perf_counter() - t
        if s == 0:
            first = dt  # for torch.compile: tracing and compiling
        if s >= warmup:
            times.append(dt * 1e3)
    times.sort()
    print(f"{name}: first step {first:.2f} s, train step median {statistics.median(times):.3f} ms "
          f"(p10 {times[len(times) // 10]:.3f}, p90 {times[len(times) * 9 // 10]:.3f}) "
          f"over {steps} steps, final loss {loss.item():.4f}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["mlp", "cnn", "lstm"])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--window", type=int, default=25, help="the LSTM's window")
    p.add_argument("--hidden", type=int, default=128, help="the LSTM's units")
    p.add_argument("--batch", type=int, default=0, help="batch size (default: the model's)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--memory", action="store_true",
                   help="eager only: the peak RSS that building the model and its steps add")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        print(f"# torch {torch.__version__}, {torch.cuda.get_device_name()}, TF32 off", flush=True)
    else:
        print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    torch.manual_seed(0)
    name = f"{a.model} {a.window}x{a.hidden}" if a.model == "lstm" else a.model
    if a.batch:
        name += f" batch {a.batch}"
    if a.memory:  # from here: the model, its optimizer state, the batch and the steps
        base = rss_kib("VmRSS")
        reset_peak()
    step, state = make(a.model, a.window, a.hidden, a.batch, a.device)
    bench(f"pytorch-eager {name}", step, state, a.steps, a.warmup, a.device)
    if a.memory:
        peak = (rss_kib("VmHWM") - base) / 1024
        print(f"memory pytorch-eager {name}: peak {peak:.1f} MiB above the loaded framework", flush=True)
        return
    if a.no_compile:
        return
    if not hasattr(torch, "compile"):
        print(f"# torch.compile: not in torch {torch.__version__} (needs PyTorch 2)")
        return
    # Fresh model and optimizer, so the compiled run starts from the same point.
    torch.manual_seed(0)
    step, state = make(a.model, a.window, a.hidden, a.batch, a.device)
    bench(f"torch.compile {name}", torch.compile(step), state, a.steps, a.warmup, a.device)


if __name__ == "__main__":
    main()
