#!/usr/bin/env python3
"""The char GPT's train step in PyTorch, the peer of `tg-bench-models gpt`
(bench/run_gpt.sh runs both): tg-example char-gpt's model (batch 16, block
64, vocab 77, d_model 128, 4 heads, 2 pre-LayerNorm blocks, tanh-GELU MLP,
tied output layer), AdamW 1e-3 with weight decay 0.1 on the matrices only,
f32, one fixed random batch. Three forms:
  pytorch-eager       nn.MultiheadAttention with a causal mask
  pytorch-eager-sdpa  F.scaled_dot_product_attention(is_causal=True)
  torch.compile       the SDPA form through torch.compile (inductor)
Prints per form: first step (s, the compile for torch.compile) and the
median step in ms. --config gpt2-small: 12 blocks, d 768, 12 heads, block
256, batch 4, byte-level vocabulary (256), as `tg-bench-models gpt
--gpt2-small`."""
import argparse
import time

import torch
import torch.nn.functional as F

CONFIGS = {"char": (16, 64, 77, 128, 4, 2), "gpt2-small": (4, 256, 256, 768, 12, 12)}
B, T, V, D, H, L = CONFIGS["char"]


class Block(torch.nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.sdpa = sdpa
        self.ln_1 = torch.nn.LayerNorm(D)
        self.attn = torch.nn.MultiheadAttention(D, H, batch_first=True)
        self.ln_2 = torch.nn.LayerNorm(D)
        self.fc = torch.nn.Linear(D, 4 * D)
        self.proj = torch.nn.Linear(4 * D, D)

    def attention(self, x, mask):
        if not self.sdpa:
            return self.attn(x, x, x, attn_mask=mask, need_weights=False)[0]
        q, k, v = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias).split(D, dim=2)
        heads = lambda t: t.view(B, T, H, D // H).transpose(1, 2)
        o = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
        return self.attn.out_proj(o.transpose(1, 2).reshape(B, T, D))

    def forward(self, x, mask):
        x = x + self.attention(self.ln_1(x), mask)
        return x + self.proj(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))


class Gpt(torch.nn.Module):
    def __init__(self, sdpa):
        super().__init__()
        self.wte = torch.nn.Embedding(V, D)
        self.wpe = torch.nn.Parameter(torch.randn(T, D) * 0.02)
        self.h = torch.nn.ModuleList([Block(sdpa) for _ in range(L)])
        self.ln_f = torch.nn.LayerNorm(D)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def forward(self, ids):
        x = self.wte(ids) + self.wpe
        for b in self.h:
            x = b(x, self.mask)
        return self.ln_f(x) @ self.wte.weight.T


def make(form):
    model = Gpt(sdpa=form != "pytorch-eager")
    decay = [p for n, p in model.named_parameters()
             if n.endswith(("in_proj_weight", "out_proj.weight", "fc.weight", "proj.weight"))]
    rest = [p for n, p in model.named_parameters() if all(p is not q for q in decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, V, (B, T), generator=gen)
    y = torch.randint(0, V, (B, T), generator=gen)

    def loss_fn():
        return F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))

    fwd_bwd = loss_fn
    if form == "torch.compile":
        compiled = torch.compile(loss_fn)
        fwd_bwd = compiled

    def step():
        opt.zero_grad(set_to_none=True)
        loss = fwd_bwd()
        loss.backward()
        opt.step()
        return loss

    return step


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--forms", default="pytorch-eager,pytorch-eager-sdpa,torch.compile")
    p.add_argument("--config", choices=sorted(CONFIGS), default="char")
    a = p.parse_args()
    global B, T, V, D, H, L
    B, T, V, D, H, L = CONFIGS[a.config]
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for form in a.forms.split(","):
        step = make(form)
        t0 = time.perf_counter()
        step()
        first = time.perf_counter() - t0
        for _ in range(a.warmup):
            step()
        times = []
        for _ in range(a.steps):
            t = time.perf_counter()
            loss = step()
            times.append((time.perf_counter() - t) * 1e3)
        times.sort()
        print(f"{form} {'gpt' if a.config == 'char' else a.config}: first step {first:.2f} s, train step median {times[len(times) // 2]:.3f} ms "
              f"(p10 {times[len(times) // 10]:.3f}, p90 {times[len(times) * 9 // 10]:.3f}) over "
              f"{a.steps} steps, final loss {loss.item():.4f}", flush=True)


if __name__ == "__main__":
    main()
