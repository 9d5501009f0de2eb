#!/usr/bin/python3
"""PyTorch reference for tests/test_kernels_matmul.c: the three matmul forms of a linear layer.

usage: matmul.py DIR M N K
reads DIR/x.f32 [M,K], DIR/w.f32 [N,K], DIR/g.f32 [M,N] (raw little-endian fp32) and writes
DIR/y.f32 = x @ w.T, DIR/dx.f32 = g @ w, DIR/dw.f32 = g.T @ x (computed in fp64, stored as fp32)."""
import sys

import numpy as np
import torch


def load(path, *shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(*shape)).double()


def main():
    d, M, N, K = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    x, w, g = load(f"{d}/x.f32", M, K), load(f"{d}/w.f32", N, K), load(f"{d}/g.f32", M, N)
    # the same products through autograd, as a linear layer sees them
    x.requires_grad_(True)
    w.requires_grad_(True)
    y = torch.nn.functional.linear(x, w)
    y.backward(g)
    for name, t in (("y", y), ("dx", x.grad), ("dw", w.grad)):
        t.detach().float().numpy().astype("<f4").tofile(f"{d}/{name}.f32")


if __name__ == "__main__":
    main()
