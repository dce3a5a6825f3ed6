#!/usr/bin/env python3
"""Writes a deep MLP as tg MLIR: image [B, 784] -> fc0 (784 x H) -> L layers
(H x H, tanh) -> out (H x 10), softmax cross-entropy, Adam. Its params and Adam
state (3 x 4 bytes a param) are what the memory-limited pipeline test sizes its
cgroup limit against. Usage: deep_mlp.py BATCH HIDDEN LAYERS > model.tg.mlir"""
import sys

batch, hidden, layers = (int(a) for a in sys.argv[1:4])
args = [f'%x: tensor<{batch}x784xf32> {{tg.name = "image", tg.role = "data"}}',
        f'%y: tensor<{batch}xi32> {{tg.name = "label", tg.role = "label"}}']
body = []
dims = [784] + [hidden] * (layers + 1) + [10]
h = "%x"
for i in range(len(dims) - 1):
    n, m = dims[i], dims[i + 1]
    args.append(f'%w{i}: tensor<{n}x{m}xf32> {{tg.init = {{kind = "glorot_uniform"}}, '
                f'tg.name = "fc{i}.kernel", tg.role = "param"}}')
    body.append(f'  %m{i} = tg.matmul {h}, %w{i} : (tensor<{batch}x{n}xf32>, tensor<{n}x{m}xf32>)'
                f' -> tensor<{batch}x{m}xf32>')
    h = f"%m{i}"
    if i + 2 < len(dims):
        body.append(f'  %t{i} = tg.tanh {h} : tensor<{batch}x{m}xf32>')
        h = f"%t{i}"
body.append(f'  %loss = tg.softmax_cross_entropy {h}, %y : (tensor<{batch}x10xf32>, '
            f'tensor<{batch}xi32>) -> tensor<f32>')
print('module attributes {tg.train = {loss = "loss", optimizer = {kind = "adam", '
      'lr = 1.0e-3 : f64}}} {')
print('func.func @deep_mlp(' + ',\n    '.join(args) + ') -> (tensor<f32> {tg.name = "loss"}) {')
print('\n'.join(body))
print('  return %loss : tensor<f32>\n}\n}')
