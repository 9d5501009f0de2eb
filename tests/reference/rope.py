"""PyTorch reference for shaders/rope.comp, written the way Hugging Face transformers applies RoPE
(LlamaRotaryEmbedding + apply_rotary_pos_emb, with linear scaling of the positions).

usage: rope.py DIR B T H D ROT_DIM THETA FACTOR
reads DIR/x.f32 [B, T, H, D], DIR/pos.i32 [B, T], DIR/dy.f32 [B, T, H, D];
writes DIR/y_torch.f32, DIR/dx_torch.f32 (the gradient of sum(y * dy) with respect to x) and
DIR/inv_freq_torch.f32 [ROT_DIM / 2]."""
import sys

import numpy as np
import torch

d = sys.argv[1]
B, T, H, D, R = (int(v) for v in sys.argv[2:7])
theta, factor = float(sys.argv[7]), float(sys.argv[8])
x = torch.from_numpy(np.fromfile(f"{d}/x.f32", dtype=np.float32).reshape(B, T, H, D)).requires_grad_()
pos = torch.from_numpy(np.fromfile(f"{d}/pos.i32", dtype=np.int32).astype(np.int64).reshape(B, T))
dy = torch.from_numpy(np.fromfile(f"{d}/dy.f32", dtype=np.float32).reshape(B, T, H, D))

inv_freq = 1.0 / (theta ** (torch.arange(0, R, 2, dtype=torch.int64).float() / R))
inv_freq.numpy().tofile(f"{d}/inv_freq_torch.f32")
t = pos.float() / factor
freqs = t[..., None] * inv_freq  # [B, T, R/2], fp32 as in transformers
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos()[:, :, None, :], emb.sin()[:, :, None, :]  # broadcast over heads


def rotate_half(v):
    return torch.cat((-v[..., R // 2:], v[..., : R // 2]), dim=-1)


xr, xp = x[..., :R], x[..., R:]
y = torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)
y.backward(dy)
y.detach().numpy().tofile(f"{d}/y_torch.f32")
x.grad.numpy().tofile(f"{d}/dx_torch.f32")
