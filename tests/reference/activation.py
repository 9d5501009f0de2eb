"""PyTorch reference for shaders/activation.comp.

usage: activation.py DIR N
reads DIR/x.f32, DIR/u.f32, DIR/dy.f32 (N fp32 each); for OP in relu gelu_tanh gelu_erf silu swiglu writes
DIR/y_OP.f32 and DIR/dx_OP.f32 (for swiglu x is the gate g, and DIR/du_swiglu.f32 is written too)."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

d, n = sys.argv[1], int(sys.argv[2])


def load(name):
    return torch.from_numpy(np.fromfile(f"{d}/{name}.f32", dtype=np.float32)).double()


x0, u0, dy = load("x"), load("u"), load("dy")
ops = {
    "relu": lambda x, u: F.relu(x),
    "gelu_tanh": lambda x, u: F.gelu(x, approximate="tanh"),
    "gelu_erf": lambda x, u: F.gelu(x),
    "silu": lambda x, u: F.silu(x),
    "swiglu": lambda x, u: F.silu(x) * u,
}
for name, f in ops.items():
    x = x0.clone().requires_grad_()
    u = u0.clone().requires_grad_()
    y = f(x, u)
    y.backward(dy)
    y.detach().float().numpy().tofile(f"{d}/y_{name}.f32")
    x.grad.float().numpy().tofile(f"{d}/dx_{name}.f32")
    if name == "swiglu":
        u.grad.float().numpy().tofile(f"{d}/du_swiglu.f32")
