#!/usr/bin/python3
"""PyTorch reference for tests/test_kernels_lora.c: a LoRA linear layer, forward and backward.

usage: lora.py DIR T IN OUT R SCALE [dora]
reads DIR/{x [T,IN], w [OUT,IN], bias [OUT], a [R,IN], b [OUT,R], dy [T,OUT]}.f32 (raw fp32) and writes
DIR/out_y.f32 = x w^T + bias + SCALE (x a^T) b^T and the gradients of sum(dy * y): out_dx, out_da,
out_db (W and bias frozen). Computed in fp64 through autograd, stored as fp32.
With "dora" it also reads DIR/m.f32 [OUT] and computes PEFT's DoRA layer instead (peft/tuners/lora/dora.py):
weight_norm = ||w + SCALE b a|| over dim 1 (each output row), detached; y = base(x) + (m/norm - 1) x w^T
+ (m/norm) SCALE (x a^T) b^T, i.e. (m/norm) (x w^T + SCALE x a^T b^T) + bias; plus out_dm."""
import sys

import numpy as np
import torch


def load(d, name, *shape):
    return torch.from_numpy(np.fromfile(f"{d}/{name}.f32", dtype="<f4").reshape(*shape)).double()


def main():
    d = sys.argv[1]
    T, n_in, n_out, r = (int(v) for v in sys.argv[2:6])
    scale = float(sys.argv[6])
    x, w, bias = load(d, "x", T, n_in), load(d, "w", n_out, n_in), load(d, "bias", n_out)
    a, b, dy = load(d, "a", r, n_in), load(d, "b", n_out, r), load(d, "dy", T, n_out)
    dora = len(sys.argv) > 7 and sys.argv[7] == "dora"
    for t in (x, a, b):
        t.requires_grad_(True)
    F = torch.nn.functional
    lora_result = F.linear(F.linear(x, a), b)
    outs = []
    if dora:
        m = load(d, "m", n_out).requires_grad_(True)
        weight_norm = torch.linalg.norm(w + scale * (b @ a), dim=1).detach()
        mag_norm_scale = (m / weight_norm).view(1, -1)
        base_result = F.linear(x, w)
        result_dora = (mag_norm_scale - 1) * base_result + mag_norm_scale * lora_result * scale
        y = F.linear(x, w, bias) + result_dora
        outs = [("dm", m)]
    else:
        # the PEFT LoRA layer: base(x) + lora_B(lora_A(x)) * scaling
        y = F.linear(x, w, bias) + lora_result * scale
    y.backward(dy)
    outs = [("y", y), ("dx", x), ("da", a), ("db", b)] + outs
    for name, t in outs:
        v = t if name == "y" else t.grad
        v.detach().float().numpy().astype("<f4").tofile(f"{d}/out_{name}.f32")


if __name__ == "__main__":
    main()
