"""LoRA training steps in PyTorch, the reference for `vkft train` with `lora.init_adapter`.

    lora_train.py MODEL_DIR ADAPTER_DIR DATA.jsonl --seq-len T --steps N --batch B --lr LR
                  [--betas B1 B2] [--eps E] [--weight-decay WD] [--grad-clip C]
                  [--grad-accum A] [--dropout P --seed S]

Loads the base checkpoint and a PEFT adapter (adapter_config.json + adapter_model.safetensors), then runs
N AdamW steps (torch.optim.AdamW, torch's clip_grad_norm_) on pre-tokenized {"input_ids": [...]} lines taken
in file order, one window per line cut at T tokens (vkft's data.packing false, data.shuffle false), B
windows per step, and prints the loss of every step (computed before its update) as a JSON list.
LoRA adds scale * B A to each adapted weight (scale = lora_alpha / r), which is what PEFT's
x W^T + scale (x A^T) B^T computes. With --grad-accum A, a step is A micro-batches of B windows whose
gradients are averaged (the printed loss is their mean).

With --dropout P, each adapted layer computes PEFT's x W^T + scale (dropout(x) A^T) B^T, with vkft's masks
reproduced here from its definition (shaders/dropout.comp, tests/ref/dropout_ref.c): element i of the
layer's input [B*T, in] is kept when the top 24 bits of word i % 4 of Philox4x32-10(counter (i / 4, site,
step, micro), key (seed low 32 bits, seed high 32 bits)), over 2^24, are >= P (in float32), and scaled by
1 / (1 - P); step is 1-based, micro the micro-batch within the step, site = layer * 16 + the module's slot
(Llama q k v o gate up down: 0..6; GPT-2 c_attn 0, attn.c_proj 3, c_fc 4, mlp.c_proj 5).
Everything runs in float64."""
import argparse
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import tiny_models  # noqa: E402


def read_safetensors(path):
    return safetensors_io.read(path)[0]


PHILOX_M = (0xD2511F53, 0xCD9E8D57)
PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def philox4x32_10(c, key):
    """c: 4 uint32 arrays (the counters of many calls); key: 2 ints. Returns the 4 output words."""
    c = [np.asarray(x, dtype=np.uint64) & 0xFFFFFFFF for x in c]
    k0, k1 = key[0] & 0xFFFFFFFF, key[1] & 0xFFFFFFFF
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + PHILOX_W[0]) & 0xFFFFFFFF, (k1 + PHILOX_W[1]) & 0xFFFFFFFF
        p0, p1 = np.uint64(PHILOX_M[0]) * c[0], np.uint64(PHILOX_M[1]) * c[2]
        hi0, lo0, hi1, lo1 = p0 >> np.uint64(32), p0 & np.uint64(0xFFFFFFFF), p1 >> np.uint64(32), p1 & np.uint64(0xFFFFFFFF)
        c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
    return c


def dropout_mask(n, p, seed, step, micro, site):
    """vkft's keep mask of n elements (bool array)."""
    q = np.arange((n + 3) // 4, dtype=np.uint64)
    words = philox4x32_10([q, np.full_like(q, site), np.full_like(q, step), np.full_like(q, micro)],
                          (seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF))
    u = np.stack(words, axis=1).reshape(-1)[:n] >> np.uint64(8)  # word i % 4 of call i / 4
    return u.astype(np.float64) / 16777216.0 >= float(np.float32(p))


def check_philox():
    """Random123's known-answer vectors (as tests/test_kernels_dropout.c checks the C reference)."""
    got = philox4x32_10([[0x243f6a88], [0x85a308d3], [0x13198a2e], [0x03707344]], (0xa4093822, 0x299f31d0))
    assert [int(w[0]) for w in got] == [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1], got


SLOTS = {"q_proj": 0, "k_proj": 1, "v_proj": 2, "o_proj": 3, "gate_proj": 4, "up_proj": 5, "down_proj": 6,
         "attn.c_attn": 0, "attn.c_proj": 3, "mlp.c_fc": 4, "mlp.c_proj": 5}


def dropout_site(module):
    m = re.search(r"(?:layers|h)\.(\d+)\.(.+)$", module)  # Llama's "self_attn.q_proj": its last part
    rest = m.group(2)
    return int(m.group(1)) * 16 + SLOTS[rest if rest in SLOTS else rest.split(".")[-1]]


class LoraDropoutLinear:
    """Stands for an adapted weight in tiny_models' forward (x @ W, or x @ W.t() for nn.Linear weights):
    x @ it = x @ base + scale (dropout(x) A^T) B^T with the step's mask for this module."""

    def __init__(self, base, A, B, scale, keep, p):
        self.base, self.A, self.B, self.scale, self.keep, self.p = base, A, B, scale, keep, p

    def t(self):
        return LoraDropoutLinear(self.base.t(), self.A, self.B, self.scale, self.keep, self.p)

    def __rmatmul__(self, x):
        keep = torch.from_numpy(self.keep(x.numel())).reshape(x.shape)
        xd = torch.where(keep, x / (1 - float(np.float32(self.p))), torch.zeros_like(x))
        return x @ self.base + self.scale * ((xd @ self.A.t()) @ self.B.t())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("adapter")
    ap.add_argument("data")
    ap.add_argument("--seq-len", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--betas", type=float, nargs=2, default=[0.9, 0.999])
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--grad-accum", type=int, default=1)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    check_philox()

    cfg = json.load(open(os.path.join(a.model, "config.json")))
    base = {n: t.to(torch.float64) for n, t in read_safetensors(os.path.join(a.model, "model.safetensors")).items()
            if not tiny_models.is_buffer(n)}
    acfg = json.load(open(os.path.join(a.adapter, "adapter_config.json")))
    scale = acfg["lora_alpha"] / (acfg["r"] ** 0.5 if acfg.get("use_rslora") else acfg["r"])
    lora = {n: t.to(torch.float64).requires_grad_(True)
            for n, t in read_safetensors(os.path.join(a.adapter, "adapter_model.safetensors")).items()}
    pairs = []  # (base weight name, A, B, dropout site)
    for n in lora:
        if n.endswith(".lora_A.weight"):
            module = n[len("base_model.model."):-len(".lora_A.weight")]
            pairs.append((module + ".weight", lora[n], lora[n.replace("lora_A", "lora_B")], dropout_site(module)))
    opt = torch.optim.AdamW(list(lora.values()), lr=a.lr, betas=tuple(a.betas), eps=a.eps, weight_decay=a.weight_decay)

    windows = []
    for line in open(a.data):
        ids = json.loads(line)["input_ids"][:a.seq_len]
        if len(ids) >= 2:
            windows.append(ids)
    assert len({len(w) for w in windows}) == 1, "the reference takes windows of one length (no padding)"
    losses = []
    for step in range(a.steps):
        opt.zero_grad()
        total = 0.0
        for micro in range(a.grad_accum):
            first = (step * a.grad_accum + micro) * a.batch
            rows = [windows[(first + b) % len(windows)] for b in range(a.batch)]
            ids = torch.tensor(rows)
            batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}
            P = dict(base)
            for wname, A, B, site in pairs:
                if a.dropout > 0:
                    def keep(n, site=site, micro=micro):
                        return dropout_mask(n, a.dropout, a.seed, step + 1, micro, site)
                    P[wname] = LoraDropoutLinear(base[wname], A, B, scale, keep, a.dropout)
                    continue
                delta = scale * (B @ A)  # [out, in]
                # GPT-2's Conv1D weights are [in, out] (PEFT's fan_in_fan_out): the update is transposed
                P[wname] = base[wname] + (delta.t() if cfg["model_type"] == "gpt2" else delta)
            loss = tiny_models.forward(cfg, P, batch)["loss"]
            total += loss.item()
            (loss / a.grad_accum).backward()
        losses.append(total / a.grad_accum)
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(list(lora.values()), a.grad_clip)
        opt.step()
    print(json.dumps(losses))


if __name__ == "__main__":
    main()
