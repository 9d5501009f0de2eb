#!/usr/bin/python3
"""The PyTorch peer of `vkft train` for bench/train_vs_torch.sh: training steps (AdamW) of a Hugging Face
model folder, LoRA or full fine-tuning, in plain PyTorch.

    train_peer.py --model DIR --method lora|full [--r 16] [--alpha 32] [--batch B] [--seq T] [--steps N]
                  [--warmup N] [--threads N] [--device cpu|cuda] [--autocast bf16] [--json]

The model is tests/reference/tiny_models.py's forward (HF's eager modeling code re-implemented; Debian's torch
1.13 has no transformers/peft), fp32 weights. LoRA: every linear layer of the blocks gets A [r, in] and
B [out, r] (PEFT's all-linear; A Kaiming-uniform, B = 0 as PEFT starts) and computes what PEFT's
lora.Linear does, x W^T + (alpha/r) (x A^T) B^T, through a stand-in for the weight that tiny_models' forward
multiplies by, so that autograd never forms the dense gradient of W (a merged W + (alpha/r) B A would cost
one more full-size product per layer in the backward); only A and B train. A step: zero_grad, forward, cross-entropy, backward,
clip_grad_norm_(1.0), AdamW(lr 1e-4). Batches are B x T random ids. Prints tokens/s (wall and per CPU-second)
and the peak resident memory of the process (or the GPU's peak allocation with --device cuda)."""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import model_peer  # noqa: E402  (its safetensors reader)
import tiny_models as tm  # noqa: E402

LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "c_attn", "c_proj", "c_fc",
          "query", "key", "value", "dense")


class LoraWeight:
    """Stands for a frozen weight W in `x @ W` (GPT-2's Conv1D, [in, out]) or `x @ W.t()` (nn.Linear,
    [out, in]) and computes x W' + scale (x A^T) B^T, as PEFT's LoRA layer does."""

    def __init__(self, W, A, B, scale, in_out):
        self.W, self.A, self.B, self.scale, self.in_out = W, A, B, scale, in_out

    def t(self):
        return LoraWeight(self.W.t(), self.A, self.B, self.scale, not self.in_out)

    def __rmatmul__(self, x):
        if not self.in_out:
            raise TypeError("LoraWeight used as [out, in]")
        return x @ self.W + self.scale * ((x @ self.A.t()) @ self.B.t())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--method", choices=["lora", "full"], required=True)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--autocast", default="")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    P = {n: t.to(a.device) for n, t in model_peer.read_safetensors(os.path.join(a.model, "model.safetensors")).items()
         if not tm.is_buffer(n)}
    conv1d = cfg["model_type"] == "gpt2"
    lora = {}
    if a.method == "lora":
        for n, w in P.items():
            parts = n.split(".")
            if len(parts) >= 2 and parts[-1] == "weight" and parts[-2] in LINEAR and w.dim() == 2:
                out_f, in_f = (w.shape[1], w.shape[0]) if conv1d else (w.shape[0], w.shape[1])
                A = torch.empty(a.r, in_f, device=a.device).uniform_(-1 / in_f ** 0.5, 1 / in_f ** 0.5)
                lora[n] = (A.requires_grad_(True), torch.zeros(out_f, a.r, device=a.device, requires_grad=True))
        params = [t for pair in lora.values() for t in pair]
    else:
        for t in P.values():
            t.requires_grad_(True)
        params = list(P.values())
    scale = a.alpha / a.r
    opt = torch.optim.AdamW(params, lr=1e-4)
    V = cfg["vocab_size"]
    ids = torch.randint(0, V, (a.batch, a.seq), device=a.device)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}

    def weights():
        if a.method != "lora":
            return P
        Q = dict(P)
        for n, (A, B) in lora.items():
            Q[n] = LoraWeight(P[n], A, B, scale, in_out=conv1d)
        return Q

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(a.device, dtype=torch.bfloat16, enabled=a.autocast == "bf16"):
            loss = tm.forward(cfg, weights(), batch)["loss"]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if a.device == "cuda":
            torch.cuda.synchronize()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        step()
    wall, cpu = (time.perf_counter() - t0) / a.steps, (time.process_time() - c0) / a.steps
    tokens = a.batch * a.seq
    peak = (torch.cuda.max_memory_allocated() if a.device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    trainable = sum(t.numel() for t in params)
    res = {"method": a.method, "tokens_per_s": tokens / wall, "tokens_per_cpu_s": tokens / cpu, "step_ms": wall * 1e3,
           "peak_bytes": peak, "trainable": trainable}
    if a.json:
        print(json.dumps(res))
    else:
        print("torch %s %s: %.1f tokens/s (%.1f per CPU-second), %.0f ms per step, peak %.0f MiB, %d trainable" % (
            a.device, a.method, res["tokens_per_s"], res["tokens_per_cpu_s"], res["step_ms"], peak / 2 ** 20,
            trainable))


if __name__ == "__main__":
    main()
