"""PyTorch reference for shaders/softmax_xent.comp.

usage: xent.py DIR N V IGNORE_INDEX LABEL_SMOOTHING HAS_WEIGHT
reads DIR/logits.f32 [N, V], DIR/targets.i32 [N], DIR/weight.f32 [V] (if HAS_WEIGHT);
writes DIR/loss_torch.f32 (1 value) and DIR/dlogits_torch.f32 [N, V] (the gradient of the mean loss)."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

d, N, V, ii, eps, has_w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), \
    int(sys.argv[6])
z = torch.from_numpy(np.fromfile(f"{d}/logits.f32", dtype=np.float32).reshape(N, V)).double().requires_grad_()
t = torch.from_numpy(np.fromfile(f"{d}/targets.i32", dtype=np.int32).astype(np.int64))
w = torch.from_numpy(np.fromfile(f"{d}/weight.f32", dtype=np.float32)).double() if has_w else None
loss = F.cross_entropy(z, t, weight=w, ignore_index=ii, label_smoothing=eps, reduction="mean")
loss.backward()
np.array([loss.item()], dtype=np.float32).tofile(f"{d}/loss_torch.f32")
z.grad.float().numpy().tofile(f"{d}/dlogits_torch.f32")
