"""Writes the PyTorch side of examples/pytorch-import.cpp (run in the bench
virtualenv, which has torch and safetensors; the outputs are committed):
  torch-mlp.safetensors  a small nn.Sequential MLP's state_dict, as PyTorch saves it
  torch-mlp-input.npy    a batch of inputs
  torch-mlp-logits.npy   PyTorch's logits for them
"""
import os

import numpy as np
import safetensors.torch
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(12, 16)
        self.fc2 = torch.nn.Linear(16, 5)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


model = Mlp().eval()
x = torch.rand(4, 12)
with torch.no_grad():
    logits = model(x)
safetensors.torch.save_file(model.state_dict(), os.path.join(here, "torch-mlp.safetensors"))
np.save(os.path.join(here, "torch-mlp-input.npy"), x.numpy())
np.save(os.path.join(here, "torch-mlp-logits.npy"), logits.numpy())
