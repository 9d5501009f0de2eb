"""LoRA training steps in PyTorch, the reference for `vkft train` with `lora.init_adapter`.

    lora_train.py MODEL_DIR ADAPTER_DIR DATA.jsonl --seq-len T --steps N --batch B --lr LR
                  [--betas B1 B2] [--eps E] [--weight-decay WD] [--grad-clip C]

Loads the base checkpoint and a PEFT adapter (adapter_config.json + adapter_model.safetensors), then runs
N AdamW steps (torch.optim.AdamW, torch's clip_grad_norm_) on pre-tokenized {"input_ids": [...]} lines taken
in file order, one window per line cut at T tokens (vkft's data.packing false, data.shuffle false), B
windows per step, and prints the loss of every step (computed before its update) as a JSON list.
LoRA adds scale * B A to each adapted weight (scale = lora_alpha / r), which is what PEFT's
x W^T + scale (x A^T) B^T computes. Everything runs in float64."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import tiny_models  # noqa: E402


def read_safetensors(path):
    return safetensors_io.read(path)[0]


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
    a = ap.parse_args()

    cfg = json.load(open(os.path.join(a.model, "config.json")))
    base = {n: t.to(torch.float64) for n, t in read_safetensors(os.path.join(a.model, "model.safetensors")).items()
            if not tiny_models.is_buffer(n)}
    acfg = json.load(open(os.path.join(a.adapter, "adapter_config.json")))
    scale = acfg["lora_alpha"] / (acfg["r"] ** 0.5 if acfg.get("use_rslora") else acfg["r"])
    lora = {n: t.to(torch.float64).requires_grad_(True)
            for n, t in read_safetensors(os.path.join(a.adapter, "adapter_model.safetensors")).items()}
    pairs = []  # (base weight name, A, B)
    for n in lora:
        if n.endswith(".lora_A.weight"):
            module = n[len("base_model.model."):-len(".lora_A.weight")]
            pairs.append((module + ".weight", lora[n], lora[n.replace("lora_A", "lora_B")]))
    opt = torch.optim.AdamW(list(lora.values()), lr=a.lr, betas=tuple(a.betas), eps=a.eps, weight_decay=a.weight_decay)

    windows = []
    for line in open(a.data):
        ids = json.loads(line)["input_ids"][:a.seq_len]
        if len(ids) >= 2:
            windows.append(ids)
    assert len({len(w) for w in windows}) == 1, "the reference takes windows of one length (no padding)"
    losses = []
    for step in range(a.steps):
        rows = [windows[(step * a.batch + b) % len(windows)] for b in range(a.batch)]
        ids = torch.tensor(rows)
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}
        P = dict(base)
        for wname, A, B in pairs:
            delta = scale * (B @ A)  # [out, in]
            # GPT-2's Conv1D weights are [in, out] (PEFT's fan_in_fan_out): the update is transposed
            P[wname] = base[wname] + (delta.t() if cfg["model_type"] == "gpt2" else delta)
        loss = tiny_models.forward(cfg, P, batch)["loss"]
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(list(lora.values()), a.grad_clip)
        opt.step()
    print(json.dumps(losses))


if __name__ == "__main__":
    main()
