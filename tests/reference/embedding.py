"""PyTorch reference for shaders/embedding.comp.

usage: embedding.py DIR N V C
reads DIR/ids.i32 [N] (all valid), DIR/table.f32 [V, C], DIR/dout.f32 [N, C];
writes DIR/out_torch.f32 [N, C] and DIR/dtable_torch.f32 [V, C]."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

d, N, V, C = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ids = torch.from_numpy(np.fromfile(f"{d}/ids.i32", dtype=np.int32).astype(np.int64))
table = torch.from_numpy(np.fromfile(f"{d}/table.f32", dtype=np.float32).reshape(V, C)).double().requires_grad_()
dout = torch.from_numpy(np.fromfile(f"{d}/dout.f32", dtype=np.float32).reshape(N, C)).double()
out = F.embedding(ids, table)
out.backward(dout)
out.detach().float().numpy().tofile(f"{d}/out_torch.f32")
table.grad.float().numpy().tofile(f"{d}/dtable_torch.f32")
