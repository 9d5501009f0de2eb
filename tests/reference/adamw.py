"""PyTorch reference for shaders/adamw.comp: STEPS steps of clip_grad_norm_ + torch.optim.AdamW (fp32).

usage: adamw.py DIR N STEPS LR BETA1 BETA2 EPS WEIGHT_DECAY MAX_NORM
reads DIR/p0.f32 [N] and DIR/g1.f32 .. DIR/gSTEPS.f32 [N]; writes DIR/p_torch.f32, DIR/m_torch.f32,
DIR/v_torch.f32 (after the last step) and DIR/norms_torch.f32 [STEPS] (the norm before clipping).
MAX_NORM <= 0: no clipping."""
import sys

import numpy as np
import torch

d, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lr, b1, b2, eps, wd, max_norm = (float(v) for v in sys.argv[4:10])
p = torch.nn.Parameter(torch.from_numpy(np.fromfile(f"{d}/p0.f32", dtype=np.float32)))
opt = torch.optim.AdamW([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, foreach=False)
norms = []
for s in range(1, steps + 1):
    p.grad = torch.from_numpy(np.fromfile(f"{d}/g{s}.f32", dtype=np.float32))
    if max_norm > 0:
        norms.append(float(torch.nn.utils.clip_grad_norm_([p], max_norm)))
    else:  # vkft: max_norm <= 0 means no clipping (the norm is still computed)
        norms.append(float(p.grad.norm()))
    opt.step()
st = opt.state[p]
p.detach().numpy().tofile(f"{d}/p_torch.f32")
st["exp_avg"].numpy().tofile(f"{d}/m_torch.f32")
st["exp_avg_sq"].numpy().tofile(f"{d}/v_torch.f32")
np.array(norms, dtype=np.float32).tofile(f"{d}/norms_torch.f32")
