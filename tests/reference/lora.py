#!/usr/bin/python3
"""PyTorch reference for tests/test_kernels_lora.c: a LoRA linear layer, forward and backward.

usage: lora.py DIR T IN OUT R SCALE
reads DIR/{x [T,IN], w [OUT,IN], bias [OUT], a [R,IN], b [OUT,R], dy [T,OUT]}.f32 (raw fp32) and writes
DIR/out_y.f32 = x w^T + bias + SCALE (x a^T) b^T and the gradients of sum(dy * y): out_dx, out_da,
out_db (W and bias frozen). Computed in fp64 through autograd, stored as fp32."""
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
    for t in (x, a, b):
        t.requires_grad_(True)
    # the PEFT LoRA layer: base(x) + lora_B(lora_A(x)) * scaling
    y = torch.nn.functional.linear(x, w, bias) + torch.nn.functional.linear(
        torch.nn.functional.linear(x, a), b) * scale
    y.backward(dy)
    for name, t in (("y", y), ("dx", x.grad), ("da", a.grad), ("db", b.grad)):
        t.detach().float().numpy().astype("<f4").tofile(f"{d}/out_{name}.f32")


if __name__ == "__main__":
    main()
