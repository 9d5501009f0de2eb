"""PyTorch on the kernel benchmark's shapes: the peer of `vkft bench matmul` and `vkft bench attention`
(issue 4), meant for the GPU test machine (`--device cuda`) and runnable on the CPU.

    kernels_torch_peer.py matmul [--device cuda|cpu] [--dtype f32|f16|bf16] [--shapes all|small|MxNxK,...]
    kernels_torch_peer.py attention [--device cuda|cpu] [--dtype f32|f16|bf16] [--small]

Prints one line per case in the same layout as vkft's benchmarks (ms, GFLOP/s), so bench/kernels_vs_torch.sh
can pair them. matmul: torch.matmul on the three forms (A.B, A.B^T, A^T.B as transposed views, the way
autograd calls it); fp32 with TF32 off. attention: scaled_dot_product_attention when this torch has it (else
explicit softmax attention), causal, forward and forward+backward (reported as backward = total - forward),
B=1, D=64, with the same FLOP counts as vkft (forward 4*D, backward 10*D per visible pair and head)."""
import argparse
import time

import torch

SHAPES_ALL = [(4096, 576, 576), (4096, 1536, 576), (4096, 576, 1536), (4096, 2048, 2048), (4096, 5632, 2048),
              (1024, 1024, 1024)]
SHAPES_SMALL = [(1024, 576, 576), (1024, 1024, 1024), (4096, 576, 576)]  # vkft bench matmul --shapes small
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, iters):
    fn()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / iters


def bench_matmul(a):
    shapes = SHAPES_ALL if a.shapes == "all" else SHAPES_SMALL if a.shapes == "small" else [
        tuple(int(x) for x in s.split("x")) for s in a.shapes.split(",")]
    dt = DTYPES[a.dtype]
    print("# torch %s matmul on %s, %s%s (ms per product, 2*M*N*K flops)" % (
        torch.__version__, a.device, a.dtype, ", TF32 off" if a.dtype == "f32" and a.device == "cuda" else ""))
    for M, N, K in shapes:
        for form in ("NN", "NT", "TN"):
            if form == "NN":
                x, y = torch.randn(M, K, device=a.device, dtype=dt), torch.randn(K, N, device=a.device, dtype=dt)
                f = lambda: torch.matmul(x, y)  # noqa: E731
            elif form == "NT":
                x, y = torch.randn(M, K, device=a.device, dtype=dt), torch.randn(N, K, device=a.device, dtype=dt)
                f = lambda: torch.matmul(x, y.t())  # noqa: E731
            else:
                x, y = torch.randn(K, M, device=a.device, dtype=dt), torch.randn(K, N, device=a.device, dtype=dt)
                f = lambda: torch.matmul(x.t(), y)  # noqa: E731
            s = timed(f, a.device, a.iters)
            print("matmul %s %5d %5d %5d %11.3f ms %9.1f GFLOP/s" % (form, M, N, K, s * 1e3, 2.0 * M * N * K / s / 1e9))


def attention(q, k, v):
    if hasattr(torch.nn.functional, "scaled_dot_product_attention"):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    T = q.shape[-2]
    s = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    s = s.masked_fill(torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def bench_attention(a):
    cases = [(128, 9), (256, 9)] if a.small else [(512, 9), (2048, 9), (512, 32), (2048, 32)]
    dt, D = DTYPES[a.dtype], 64
    print("# torch %s attention on %s, %s, B=1 D=%d causal (%s)" % (
        torch.__version__, a.device, a.dtype, D,
        "scaled_dot_product_attention" if hasattr(torch.nn.functional, "scaled_dot_product_attention")
        else "explicit softmax"))
    for T, H in cases:
        q, k, v = (torch.randn(1, H, T, D, device=a.device, dtype=dt, requires_grad=True) for _ in range(3))
        go = torch.randn(1, H, T, D, device=a.device, dtype=dt)
        pairs = T * (T + 1) / 2 * H

        def fwd():
            with torch.no_grad():
                attention(q, k, v)

        def fwd_bwd():
            out = attention(q, k, v)
            torch.autograd.grad(out, (q, k, v), go)

        f = timed(fwd, a.device, a.iters)
        fb = timed(fwd_bwd, a.device, a.iters)
        b = max(fb - f, 1e-9)
        print("attention T=%-5d H=%-3d forward %9.2f ms %8.1f GFLOP/s   backward %9.2f ms %8.1f GFLOP/s" % (
            T, H, f * 1e3, pairs * 4 * D / f / 1e9, b * 1e3, pairs * 10 * D / b / 1e9))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["matmul", "attention"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="f32", choices=list(DTYPES))
    ap.add_argument("--shapes", default="all")
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    (bench_matmul if a.what == "matmul" else bench_attention)(a)


if __name__ == "__main__":
    main()
