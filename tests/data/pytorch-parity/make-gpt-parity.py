"""Writes the PyTorch side of the char GPT case of tests/e2e/PyTorchParityTest.cpp
(run with torch and safetensors installed, e.g. in the bench virtualenv; the
output, gpt.safetensors, is committed).

tg-example char-gpt's model at a small size, in float64: token embedding
wte and learned positions wpe, 2 pre-LayerNorm blocks of causal
nn.MultiheadAttention (batch_first) and a tanh-GELU MLP, a final LayerNorm,
the output layer tied to wte. Every param drawn N(0, 0.2) (biases and
LayerNorm gains not at their defaults), then 20 AdamW steps (lr 1e-2, weight
decay 0.1 on the matrices only, eps 1e-6: the key projection's bias has a
zero gradient that rounding makes +-1e-17, which eps 1e-8 would blow up to
whole steps) on one batch. gpt.safetensors holds, with PyTorch's names:
  x, labels          the batch [B, T] (as float64)
  init/NAME          the state_dict before training
  grad/NAME          the gradient of the first step's loss
  final/NAME         the state_dict after 20 steps
  loss               the loss before each of the 20 steps
"""
import os

import safetensors.torch
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
B, T, V, D, H, L, STEPS = 2, 8, 11, 16, 2, 2, 20


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(D)
        self.attn = torch.nn.MultiheadAttention(D, H, batch_first=True)
        self.ln_2 = torch.nn.LayerNorm(D)
        self.fc = torch.nn.Linear(D, 4 * D)
        self.proj = torch.nn.Linear(4 * D, D)

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.proj(torch.nn.functional.gelu(self.fc(self.ln_2(x)), approximate="tanh"))


class Gpt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(V, D)
        self.wpe = torch.nn.Parameter(torch.zeros(T, D))
        self.h = torch.nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = torch.nn.LayerNorm(D)

    def forward(self, ids):
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)  # True: not attended
        x = self.wte(ids) + self.wpe
        for b in self.h:
            x = b(x, mask)
        return self.ln_f(x) @ self.wte.weight.T


model = Gpt()
with torch.no_grad():
    for p in model.parameters():
        p.normal_(0, 0.2)
x = torch.randint(0, V, (B, T))
labels = torch.randint(0, V, (B, T))
decay = [p for n, p in model.named_parameters()
         if n.endswith(("in_proj_weight", "out_proj.weight", "fc.weight", "proj.weight"))]
rest = [p for n, p in model.named_parameters() if all(p is not q for q in decay)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                         {"params": rest, "weight_decay": 0.0}], lr=1e-2, eps=1e-6)
out = {"x": x.double(), "labels": labels.double()}
out |= {f"init/{k}": v.clone() for k, v in model.state_dict().items()}
losses = []
for step in range(STEPS):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, V), labels.reshape(-1))
    loss.backward()
    if step == 0:
        out |= {f"grad/{k}": p.grad.clone() for k, p in model.named_parameters()}
    losses.append(loss.item())
    opt.step()
out |= {f"final/{k}": v.clone() for k, v in model.state_dict().items()}
out["loss"] = torch.tensor(losses)
out = {k: v.contiguous() for k, v in out.items()}
safetensors.torch.save_file(out, os.path.join(here, "gpt.safetensors"),
                            metadata={"torch": torch.__version__})
print("gpt", ["%.6f" % l for l in losses])
