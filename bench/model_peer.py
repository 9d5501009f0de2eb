#!/usr/bin/python3
"""The PyTorch peer of `vkft bench model`: forward and forward+backward tokens/s of a Hugging Face model
folder (config.json + model.safetensors, F32) in plain PyTorch on the CPU.

Usage
    /usr/bin/python3 bench/model_peer.py --model DIR [--batch B] [--seq T] [--iters N] [--warmup N]
                                         [--threads N] [--device cpu|cuda] [--autocast bf16] [--json]

The model is tests/reference/tiny_models.py's forward (GPT-2, Llama family, BERT re-implemented line by
line after transformers' eager modeling code; Debian's torch 1.13 has no transformers package), run in
float32 with every parameter requiring grad. Per step, like vkft bench model:
    forward            torch.no_grad(): logits [B, T, V] and the mean cross-entropy loss
    forward+backward   gradients set to None (set_to_none, as optimizer.zero_grad() does), the same forward
                       with autograd, loss.backward() into every parameter
The batch is B sequences of T random ids (no padding); causal LMs predict the next token (labels =
input_ids, shifted inside the forward), BERT predicts every position. Tokens/s counts B*T tokens per step.
Timing: --warmup untimed steps, then --iters timed steps, wall clock (time.perf_counter) and this process's
CPU time. torch.set_num_threads(--threads, default 2).
--device cuda and --autocast bf16 are for the GPU machine (PyTorch as users run it there: weights fp32,
matmuls under torch.autocast bf16); timing then synchronizes the device after each step. Not run here (no
GPU and a CPU-only torch on this machine).
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import tiny_models as tm  # noqa: E402

NP_DTYPE = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    """{name: float32 tensor}; F32 tensors are memory-mapped views (copied once by .clone())."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    base = 8 + n
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        b, e = h["data_offsets"]
        raw = mm[base + b: base + e]
        if h["dtype"] == "BF16":
            t = torch.from_numpy(np.array(raw.view(np.int16))).view(torch.bfloat16)
        elif h["dtype"] in NP_DTYPE:
            t = torch.from_numpy(np.array(raw.view(NP_DTYPE[h["dtype"]])))
        else:
            raise SystemExit("%s: tensor %s has dtype %s (F32/F16/BF16 only)" % (path, name, h["dtype"]))
        out[name] = t.reshape(h["shape"]).to(torch.float32)
    return out


def make_batch(cfg, B, T, seed=0, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, cfg["vocab_size"], (B, T), generator=gen)
    batch = {"input_ids": ids, "attention_mask": torch.ones(B, T, dtype=torch.long), "labels": ids.clone()}
    if cfg["model_type"] == "bert":
        batch["token_type_ids"] = torch.zeros(B, T, dtype=torch.long)
    return {k: v.to(device) for k, v in batch.items()}


def time_steps(step, warmup, iters, sync=lambda: None):
    for _ in range(warmup):
        step()
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        step()
    sync()
    return (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters


def run(model_dir, B, T, iters, warmup, threads, device="cpu", autocast=None):
    torch.set_num_threads(threads)
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    stored = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    P = {n: t.to(device).requires_grad_(True) for n, t in stored.items() if not tm.is_buffer(n)}
    nparams = sum(t.numel() for t in P.values())
    batch = make_batch(cfg, B, T, device=device)
    losses = []
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def forward():
        if autocast:
            with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16):
                return tm.forward(cfg, P, batch)["loss"]
        return tm.forward(cfg, P, batch)["loss"]

    def fwd():
        with torch.no_grad():
            losses.append(forward().detach())

    def fwd_bwd():
        for t in P.values():
            t.grad = None
        loss = forward()
        loss.backward()
        losses.append(loss.detach())

    f_s, f_cpu = time_steps(fwd, warmup, iters, sync)
    fb_s, fb_cpu = time_steps(fwd_bwd, warmup, iters, sync)
    tokens = B * T
    where = "CPU" if device == "cpu" else device
    return {
        "peer": "pytorch %s (tiny_models.py eager forward, %s, %s)" % (
            torch.__version__, "bf16 autocast" if autocast else "fp32", where),
        "model": model_dir, "model_type": cfg["model_type"], "parameters": nparams,
        "batch": B, "seq": T, "iters": iters, "warmup": warmup, "threads": torch.get_num_threads(),
        "forward_ms": f_s * 1e3, "forward_cpu_ms": f_cpu * 1e3, "forward_tokens_per_s": tokens / f_s,
        "train_ms": fb_s * 1e3, "train_cpu_ms": fb_cpu * 1e3, "train_tokens_per_s": tokens / fb_s,
        "loss": float(losses[-1]),
    }


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--autocast", choices=["bf16"], default=None, help="run under torch.autocast bf16")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.batch < 1 or a.seq < 2 or a.iters < 1 or a.warmup < 0 or a.threads < 1:
        ap.error("--batch >= 1, --seq >= 2, --iters >= 1, --warmup >= 0, --threads >= 1")
    r = run(a.model, a.batch, a.seq, a.iters, a.warmup, a.threads, a.device, a.autocast)
    if a.json:
        print(json.dumps(r))
    else:
        print("%s on %s: %s, %.1fM parameters, batch %d x %d, %d threads (%d warm-up + %d timed steps)"
              % (r["peer"], a.model, r["model_type"], r["parameters"] / 1e6, a.batch, a.seq, r["threads"],
                 a.warmup, a.iters))
        print("  forward           %10.1f ms/step  %10.1f tokens/s  (%.1f cpu-ms)"
              % (r["forward_ms"], r["forward_tokens_per_s"], r["forward_cpu_ms"]))
        print("  forward+backward  %10.1f ms/step  %10.1f tokens/s  (%.1f cpu-ms)"
              % (r["train_ms"], r["train_tokens_per_s"], r["train_cpu_ms"]))
        print("  loss %.4f" % r["loss"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
