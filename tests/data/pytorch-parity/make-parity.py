"""Writes the PyTorch side of tests/unit/PyTorchParityTest.cpp (run in the bench
virtualenv, which has torch and safetensors; the outputs are committed).

Three small models, in float64, each trained 5 Adam steps (lr 1e-2) on one
batch. For each, MODEL.safetensors holds, with PyTorch's names and layouts:
  x, labels          the batch (labels as float64)
  init/NAME          the state_dict before training
  grad/NAME          the gradient of the first step's loss
  final/NAME         the state_dict after 5 steps
  loss               the loss before each of the 5 steps
"""
import os

import safetensors.torch
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(12, 16)
        self.fc2 = torch.nn.Linear(16, 5)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Cnn(torch.nn.Module):
    """A strided, padded conv and average pooling that counts the padding."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3, stride=2, padding=1)
        self.pool = torch.nn.AvgPool2d(3, stride=1, padding=1)
        self.fc = torch.nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))


class Lstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 6, batch_first=True)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[0])


def record(name, model, x, labels):
    out = {"x": x, "labels": labels.double()}
    out |= {f"init/{k}": v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(5):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        if step == 0:
            out |= {f"grad/{k}": p.grad.clone() for k, p in model.named_parameters()}
        losses.append(loss.item())
        opt.step()
    out |= {f"final/{k}": v.clone() for k, v in model.state_dict().items()}
    out["loss"] = torch.tensor(losses)
    out = {k: v.contiguous() for k, v in out.items()}
    safetensors.torch.save_file(out, os.path.join(here, f"{name}.safetensors"),
                                metadata={"torch": torch.__version__})
    print(name, ["%.6f" % l for l in losses])


record("mlp", Mlp(), torch.rand(8, 12), torch.randint(0, 5, (8,)))
record("cnn", Cnn(), torch.rand(4, 2, 8, 8), torch.randint(0, 5, (4,)))
record("lstm", Lstm(), torch.rand(4, 5, 3), torch.randint(0, 5, (4,)))
