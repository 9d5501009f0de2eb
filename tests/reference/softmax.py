"""PyTorch reference for shaders/softmax.comp.

usage: softmax.py DIR ROWS COLS SCALE CAUSAL Q_LEN
reads DIR/x.f32 and DIR/dy.f32 ([ROWS, COLS] fp32), writes DIR/y_torch.f32 and DIR/dx_torch.f32."""
import sys

import numpy as np
import torch

d, rows, cols, scale, causal, q_len = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), \
    int(sys.argv[5]), int(sys.argv[6])
x = torch.from_numpy(np.fromfile(f"{d}/x.f32", dtype=np.float32).reshape(rows, cols)).double().requires_grad_()
dy = torch.from_numpy(np.fromfile(f"{d}/dy.f32", dtype=np.float32).reshape(rows, cols)).double()
s = x * scale
if causal:
    i = torch.arange(rows).remainder(q_len).unsqueeze(1)
    j = torch.arange(cols).unsqueeze(0)
    s = s.masked_fill(j > i + cols - q_len, float("-inf"))
y = torch.softmax(s, dim=-1)
y.backward(dy)
y.detach().float().numpy().tofile(f"{d}/y_torch.f32")
x.grad.float().numpy().tofile(f"{d}/dx_torch.f32")
