"""PyTorch reference for shaders/norm.comp.

usage: norm.py DIR KIND ROWS C EPS      (KIND: layernorm | rmsnorm)
reads DIR/x.f32 [ROWS, C], DIR/w.f32 [C], DIR/b.f32 [C] (layernorm), DIR/dy.f32 [ROWS, C];
writes DIR/y_torch.f32, DIR/dx_torch.f32, DIR/dw_torch.f32 and (layernorm) DIR/db_torch.f32."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

d, kind, rows, C, eps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])


def load(name, shape):
    return torch.from_numpy(np.fromfile(f"{d}/{name}.f32", dtype=np.float32).reshape(shape)).double()


x = load("x", (rows, C)).requires_grad_()
w = load("w", (C,)).requires_grad_()
dy = load("dy", (rows, C))
if kind == "layernorm":
    b = load("b", (C,)).requires_grad_()
    y = F.layer_norm(x, (C,), w, b, eps)
else:  # Llama's RMSNorm (transformers' LlamaRMSNorm)
    y = w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
y.backward(dy)
y.detach().float().numpy().tofile(f"{d}/y_torch.f32")
x.grad.float().numpy().tofile(f"{d}/dx_torch.f32")
w.grad.float().numpy().tofile(f"{d}/dw_torch.f32")
if kind == "layernorm":
    b.grad.float().numpy().tofile(f"{d}/db_torch.f32")
