"""PyTorch reference for the attention kernels (model/ops_attention.c), on inputs the C test writes.

usage: attention.py DIR B T H Hkv D CAUSAL SCALE HAS_LENGTHS
Reads DIR/{q,k,v,dout}.f32 (raw little-endian fp32; q, dout [B,T,H,D], k, v [B,T,Hkv,D]) and, when
HAS_LENGTHS is 1, DIR/lengths.f32 (B values). Computes in float64 with autograd (PyTorch 1.13 has no
scaled_dot_product_attention, so the scores, mask and softmax are explicit) and writes
DIR/{out,lse,dq,dk,dv}.torch.f32. lse is [B,H,T], -inf for rows that see no key.
"""
import sys

import numpy as np
import torch


def main():
    d = sys.argv[1]
    B, T, H, Hkv, D, causal = (int(x) for x in sys.argv[2:8])
    scale = float(sys.argv[8])
    has_lengths = int(sys.argv[9])

    def load(name, shape):
        return torch.from_numpy(np.fromfile(f"{d}/{name}.f32", dtype="<f4").reshape(shape)).double()

    q = load("q", (B, T, H, D)).requires_grad_()
    k = load("k", (B, T, Hkv, D)).requires_grad_()
    v = load("v", (B, T, Hkv, D)).requires_grad_()
    dout = load("dout", (B, T, H, D))
    lengths = load("lengths", (B,)).long() if has_lengths else torch.full((B,), T, dtype=torch.long)
    lengths = lengths.clamp(max=T)

    rep = H // Hkv
    qh = q.permute(0, 2, 1, 3)                                    # [B,H,T,D]
    kh = k.repeat_interleave(rep, dim=2).permute(0, 2, 1, 3)      # query head h reads kv head h // rep
    vh = v.repeat_interleave(rep, dim=2).permute(0, 2, 1, 3)
    s = scale * torch.matmul(qh, kh.transpose(-1, -2))            # [B,H,T,T]

    i = torch.arange(T).view(1, 1, T, 1)
    j = torch.arange(T).view(1, 1, 1, T)
    ln = lengths.view(B, 1, 1, 1)
    visible = (j < ln) & (i < ln)
    if causal:
        visible = visible & (j <= i)
    s = s.masked_fill(~visible, -1e30)                            # finite: no NaN in fully masked rows
    lse = torch.logsumexp(s, dim=-1)
    p = torch.where(visible, torch.exp(s - lse.unsqueeze(-1)), torch.zeros_like(s))
    out = torch.matmul(p, vh).permute(0, 2, 1, 3).contiguous()   # [B,T,H,D]
    (out * dout).sum().backward()

    lse = torch.where(visible.any(dim=-1), lse, torch.full_like(lse, float("-inf")))

    def save(name, x):
        x.detach().to(torch.float32).contiguous().numpy().astype("<f4").tofile(f"{d}/{name}.torch.f32")

    save("out", out)
    save("lse", lse)
    save("dq", q.grad)
    save("dk", k.grad)
    save("dv", v.grad)


if __name__ == "__main__":
    main()
